//! Fingerprints: of a query's SQL template, of everything a plan is a function of, and of a physical
//! plan's shape.

use std::collections::BTreeMap;
use std::sync::Arc;

use datafusion::physical_plan::aggregates::AggregateExec;
use datafusion::physical_plan::joins::{HashJoinExec, NestedLoopJoinExec, SortMergeJoinExec};
use datafusion::physical_plan::{ExecutionPlan, Partitioning};

use datafusion::sql::sqlparser::dialect::{GenericDialect, dialect_from_str};
use datafusion::sql::sqlparser::keywords::Keyword;
use datafusion::sql::sqlparser::tokenizer::{Token, Tokenizer};
use serde_json::Value;

use super::model::{BoundParameters, TablePin};
use crate::compile::hash::digest;

/// The normalized SQL template of statements: tokens separated by one space, comments and whitespace
/// dropped, keywords upper-case, unquoted identifiers lower-case (DataFusion folds them so), quoted
/// identifiers as written, every literal and placeholder `?`; statements joined by `;`. Text the
/// tokenizer rejects is kept as written, whitespace collapsed.
pub fn normalized_template(statements: &[&str], dialect: &str) -> String {
    let dialect = dialect_from_str(dialect).unwrap_or_else(|| Box::new(GenericDialect {}));
    let mut out = Vec::new();
    for statement in statements {
        let tokens = match Tokenizer::new(dialect.as_ref(), statement).tokenize() {
            Ok(tokens) => tokens,
            Err(_) => {
                out.push(statement.split_whitespace().collect::<Vec<_>>().join(" "));
                continue;
            }
        };
        let mut words = Vec::new();
        for token in tokens {
            let word = match token {
                Token::Whitespace(_) | Token::EOF => continue,
                Token::Word(word) if word.quote_style.is_some() => word.to_string(),
                Token::Word(word) if word.keyword != Keyword::NoKeyword => {
                    word.value.to_uppercase()
                }
                Token::Word(word) => word.value.to_lowercase(),
                Token::Number(..)
                | Token::SingleQuotedString(_)
                | Token::DoubleQuotedString(_)
                | Token::TripleSingleQuotedString(_)
                | Token::TripleDoubleQuotedString(_)
                | Token::DollarQuotedString(_)
                | Token::SingleQuotedByteStringLiteral(_)
                | Token::DoubleQuotedByteStringLiteral(_)
                | Token::TripleSingleQuotedByteStringLiteral(_)
                | Token::TripleDoubleQuotedByteStringLiteral(_)
                | Token::SingleQuotedRawStringLiteral(_)
                | Token::DoubleQuotedRawStringLiteral(_)
                | Token::TripleSingleQuotedRawStringLiteral(_)
                | Token::TripleDoubleQuotedRawStringLiteral(_)
                | Token::NationalStringLiteral(_)
                | Token::QuoteDelimitedStringLiteral(_)
                | Token::NationalQuoteDelimitedStringLiteral(_)
                | Token::EscapedStringLiteral(_)
                | Token::UnicodeStringLiteral(_)
                | Token::HexStringLiteral(_)
                | Token::Placeholder(_) => "?".to_string(),
                other => other.to_string(),
            };
            words.push(word);
        }
        out.push(words.join(" "));
    }
    out.join(" ; ")
}

/// `v1:` SHA-256 of [`normalized_template`].
pub fn query_fingerprint(statements: &[&str], dialect: &str) -> String {
    let mut lines = BTreeMap::new();
    lines.insert(
        "template".to_string(),
        Value::from(normalized_template(statements, dialect)),
    );
    digest("query", lines)
}

/// `v1:` SHA-256 over what a plan is a function of: the query fingerprint, the bound parameter
/// values, the policy's plan environment hash and the pins of the tables the query reads.
pub fn plan_fingerprint(
    query_fingerprint: &str,
    parameters: Option<&BoundParameters>,
    plan_environment_hash: &str,
    tables: &BTreeMap<String, TablePin>,
) -> String {
    let mut lines = BTreeMap::new();
    lines.insert("query".to_string(), Value::from(query_fingerprint));
    lines.insert(
        "plan_environment".to_string(),
        Value::from(plan_environment_hash),
    );
    if let Some(parameters) = parameters {
        for (name, value) in &parameters.values {
            lines.insert(format!("parameter.{name}"), Value::from(value.as_str()));
        }
    }
    for (name, pin) in tables {
        lines.insert(
            format!("table.{name}"),
            serde_json::to_value(pin).expect("pins serialize"),
        );
    }
    digest("plan", lines)
}

/// `v1:` SHA-256 over the physical plan's shape, one line per operator, depth first: its depth, its
/// name, its output partitioning (kind, hash keys, partition count), its output ordering, and for joins
/// and aggregates their mode and join type. Not covered: expressions other than partitioning and
/// ordering keys (so literal values and parameter values), file paths, file names, byte ranges,
/// statistics, projections. Two parameter sets that plan the same shape share it; another join
/// strategy or partitioning changes it; a re-created table with the same layout does not.
pub fn physical_topology_hash(plan: &Arc<dyn ExecutionPlan>) -> String {
    let mut lines = BTreeMap::new();
    let mut index = 0usize;
    topology_lines(plan, 0, &mut index, &mut lines);
    digest("physical-topology", lines)
}

fn topology_lines(
    plan: &Arc<dyn ExecutionPlan>,
    depth: usize,
    index: &mut usize,
    lines: &mut BTreeMap<String, Value>,
) {
    let properties = plan.properties();
    let partitioning = match properties.output_partitioning() {
        Partitioning::RoundRobinBatch(n) => format!("round_robin({n})"),
        Partitioning::Hash(keys, n) => {
            let keys: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
            format!("hash([{}], {n})", keys.join(", "))
        }
        other => other.to_string(),
    };
    let ordering = properties
        .output_ordering()
        .map(|o| o.to_string())
        .unwrap_or_default();
    let mut mode = String::new();
    if let Some(join) = plan.downcast_ref::<HashJoinExec>() {
        mode = format!("{:?} {}", join.mode, join.join_type());
    } else if let Some(join) = plan.downcast_ref::<SortMergeJoinExec>() {
        mode = join.join_type().to_string();
    } else if let Some(join) = plan.downcast_ref::<NestedLoopJoinExec>() {
        mode = join.join_type().to_string();
    } else if let Some(aggregate) = plan.downcast_ref::<AggregateExec>() {
        mode = format!("{:?}", aggregate.mode());
    }
    lines.insert(
        format!("{:06}", *index),
        Value::from(format!(
            "{depth}\t{}\t{partitioning}\t{ordering}\t{mode}",
            plan.name()
        )),
    );
    *index += 1;
    for child in plan.children() {
        topology_lines(child, depth + 1, index, lines);
    }
}

#[cfg(test)]
mod tests {
    use super::normalized_template;

    #[test]
    fn literals_case_whitespace_and_comments_do_not_matter() {
        let a = normalized_template(
            &[
                "select L_QTY, count(*)  from lineitem -- note\n where l_x > 5 and d = date '1994-01-01'",
            ],
            "generic",
        );
        let b = normalized_template(
            &["SELECT l_qty, COUNT(*) FROM LineItem WHERE l_x > $1 AND d = DATE '1995-01-01'"],
            "generic",
        );
        assert_eq!(a, b);
        assert_eq!(
            a,
            "SELECT l_qty , COUNT ( * ) FROM lineitem WHERE l_x > ? AND d = DATE ?"
        );
    }

    #[test]
    fn quoted_identifiers_and_structure_do_matter() {
        let plain = normalized_template(&["select a from t"], "generic");
        assert_ne!(
            plain,
            normalized_template(&["select \"A\" from t"], "generic")
        );
        assert_ne!(plain, normalized_template(&["select a from t2"], "generic"));
        assert_ne!(
            plain,
            normalized_template(&["select a, b from t"], "generic")
        );
    }
}
