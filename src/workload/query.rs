//! Query files: split into statements as written, each classified. Statements that shape the
//! namespace (`CREATE EXTERNAL TABLE`, `CREATE VIEW`, `CREATE SCHEMA`, `DROP …`) run in order in the
//! session; the one query statement is the one later stages plan (a second query is a finding, not
//! a statement silently left unplanned).

use std::sync::Arc;

use datafusion::sql::parser::{ResetStatement, Statement as DFStatement};
use datafusion::sql::sqlparser::ast::{ObjectType, Set, Statement};
use datafusion::sql::sqlparser::dialect::dialect_from_str;
use datafusion::sql::sqlparser::tokenizer::{Token, Tokenizer};
use serde::Serialize;

use std::collections::BTreeSet;
use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{Expr, Value, visit_expressions};

use super::file::ParameterValue;
use crate::report::{Code, Diagnostic, SourceFile, Span};
use crate::session::{SqlError, SqlParsing, parse_statements};

/// One query of a workload: a SQL file's last query statement, and the statements before it that
/// prepare the session.
#[derive(Debug, Clone)]
pub struct Query {
    /// The file stem (`q01`).
    pub name: String,
    /// The file, as shown to users.
    pub file: String,
    /// Statements that run in the session before the query, in order, as written.
    pub preparation: Vec<WrittenStatement>,
    /// The query statement, as written (without its `;`).
    pub statement: WrittenStatement,
    /// The query file, for locating findings about the query in it.
    pub source: Arc<SourceFile>,
    /// The query statement's placeholders (`$1`, `$start`), sorted, each once.
    pub placeholders: Vec<String>,
    /// The parameter sets the workload file declares for the query, in the file's order.
    pub parameter_sets: Vec<ParameterSet>,
}

/// A query file that did not load (unreadable, a statement that does not parse, a second query,
/// placeholders without values): still a cell of every policy, failed with its findings, so that
/// nothing the user wrote disappears from a run.
#[derive(Debug, Clone)]
pub struct UnplannedQuery {
    /// The file stem (`q72`), as a loaded query would be named.
    pub name: String,
    /// The file, as shown to users.
    pub file: String,
    /// The file on disk.
    pub path: std::path::PathBuf,
    /// Why it did not load, located in the file.
    pub findings: Vec<Diagnostic>,
}

impl UnplannedQuery {
    /// The findings on one line each, `file:line:column: code: message`, joined by `; `: the error of
    /// the query's failed cells.
    pub fn summary(&self) -> String {
        self.findings
            .iter()
            .map(|finding| {
                let (line, column) = finding.line_column();
                format!(
                    "{}:{line}:{column}: {}: {}",
                    finding.file(),
                    finding.code,
                    finding.message
                )
            })
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// Values for a query's placeholders, named.
#[derive(Debug, Clone, PartialEq)]
pub struct ParameterSet {
    /// The set's name.
    pub name: String,
    /// By placeholder (`$1`), sorted.
    pub values: Vec<(String, ParameterValue)>,
}

/// A statement as written in its file, with where it starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WrittenStatement {
    /// The statement as written.
    pub text: String,
    /// 1-based line of its first character in the file.
    pub line: usize,
    /// 1-based column of its first character in its line.
    pub column: usize,
}

impl Query {
    /// The query statement's text.
    pub fn sql(&self) -> &str {
        &self.statement.text
    }
}

/// A statement's place in a file, as a byte range.
struct Piece {
    span: Span,
}

/// Splits SQL text into statements at top-level `;` (the tokenizer knows strings and comments), each
/// without surrounding whitespace and comments. A text the tokenizer rejects is an error.
fn split(text: &str, parsing: &SqlParsing, file: &SourceFile) -> Result<Vec<Piece>, SqlError> {
    let dialect = dialect_from_str(&parsing.dialect).ok_or_else(|| SqlError {
        message: format!("unsupported SQL dialect `{}`", parsing.dialect),
        line: 0,
        column: 0,
    })?;
    let tokens = Tokenizer::new(dialect.as_ref(), text)
        .tokenize_with_location()
        .map_err(|e| SqlError {
            message: e.message.clone(),
            line: e.location.line,
            column: e.location.column,
        })?;
    let offset = |location: datafusion::sql::sqlparser::tokenizer::Location| {
        file.offset_of(location.line as usize, location.column as usize)
    };
    let mut pieces = Vec::new();
    let mut current: Option<Span> = None;
    for token in &tokens {
        match &token.token {
            Token::SemiColon => {
                if let Some(span) = current.take() {
                    pieces.push(Piece { span });
                }
            }
            Token::Whitespace(_) | Token::EOF => {}
            _ => {
                let start = offset(token.span.start);
                let end = offset(token.span.end).max(start);
                match &mut current {
                    Some(span) => span.end = end,
                    None => current = Some(start..end),
                }
            }
        }
    }
    if let Some(span) = current {
        pieces.push(Piece { span });
    }
    Ok(pieces)
}

/// Reads one query file's statements. Every problem is a finding located in the file; the query is
/// `None` when there is any. With `engine`, a function or `STORED AS` format that engine's sessions
/// lack is a finding too (`unknown-function`, `unknown-format`); without, the planner decides (a file
/// planned on its own, on a session its caller may have extended).
pub fn parse_query_file(
    name: &str,
    file: &Arc<SourceFile>,
    parsing: &SqlParsing,
    engine: Option<&crate::registry::Registry>,
) -> (Option<Query>, Vec<Diagnostic>) {
    let at_error = |error: &SqlError, base: usize| {
        let (line, column) = file.line_column(base);
        // DataFusion reports positions within the statement; the first line starts at `column`.
        let line_in_file = line + (error.line as usize).saturating_sub(1);
        let column_in_file = if error.line <= 1 {
            column + (error.column as usize).saturating_sub(1)
        } else {
            error.column as usize
        };
        let start = if error.line == 0 {
            base
        } else {
            file.offset_of(line_in_file, column_in_file)
        };
        start..start
    };
    let pieces = match split(&file.text, parsing, file) {
        Ok(pieces) => pieces,
        Err(error) => {
            let span = at_error(&error, 0);
            return (
                None,
                vec![Diagnostic::new(Code::InvalidSql, error.message).at(file, span)],
            );
        }
    };
    let mut findings = Vec::new();
    let mut classified = Vec::new();
    for piece in pieces {
        let text = &file.text[piece.span.clone()];
        match parse_statements(text, parsing) {
            Ok(statements) => {
                // The splitter and the parser agree on statement boundaries: one statement a piece.
                for statement in statements {
                    let missing = engine
                        .map(|registry| super::functions::missing_names(&statement, registry))
                        .unwrap_or_default();
                    for missing in missing {
                        let (line, column) = missing.position.unwrap_or((0, 0));
                        let position = SqlError {
                            message: String::new(),
                            line,
                            column,
                        };
                        let mut span = at_error(&position, piece.span.start);
                        span.end = span.start + if line > 0 { missing.name.len() } else { 0 };
                        findings.push(
                            Diagnostic::new(missing.code(), missing.message())
                                .at(file, span)
                                .with_help(missing.help()),
                        );
                    }
                    classified.push((
                        piece.span.clone(),
                        kind_of(&statement),
                        placeholders_of(&statement),
                    ));
                }
            }
            Err(error) => findings.push(
                Diagnostic::new(Code::InvalidSql, error.message.clone())
                    .at(file, at_error(&error, piece.span.start)),
            ),
        }
    }
    let last_query = classified
        .iter()
        .rposition(|(_, kind, _)| matches!(kind, Kind::Query));
    let mut preparation = Vec::new();
    for (index, (span, kind, _)) in classified.iter().enumerate() {
        let after_query = last_query.is_some_and(|last| index > last);
        match kind {
            Kind::Query if Some(index) != last_query => findings.push(
                Diagnostic::new(
                    Code::UnsupportedStatement,
                    "a second query in one file: a query file plans one query, so this one would \
                     never be planned",
                )
                .at(file, span.clone())
                .with_help(
                    "move each query into a query file of its own (`q14a.sql`, `q14b.sql`); \
                     statements that prepare the session may stay before the query",
                ),
            ),
            Kind::Query => {}
            Kind::Preparation if after_query => findings.push(
                Diagnostic::new(
                    Code::UnsupportedStatement,
                    "a statement after the query would run after it is planned",
                )
                .at(file, span.clone())
                .with_help("move it before the query, or into a query file of its own"),
            ),
            Kind::Preparation => preparation.push(statement_at(file, span)),
            Kind::Setting(option) => findings.push(
                Diagnostic::new(
                    Code::SettingInQuery,
                    format!("query files cannot set `{option}`: options belong to the policy"),
                )
                .at(file, span.clone())
                .with_help("set it in the policy (a typed field or `[settings]`), then remove this statement"),
            ),
            Kind::Unsupported(what) => findings.push(
                Diagnostic::new(
                    Code::UnsupportedStatement,
                    format!("{what} is not allowed in a workload query file"),
                )
                .at(file, span.clone())
                .with_help(
                    "a query file holds CREATE EXTERNAL TABLE, CREATE VIEW, CREATE SCHEMA and DROP statements, then one query",
                ),
            ),
        }
    }
    let Some(last) = last_query else {
        if findings.iter().all(|d| d.code != Code::InvalidSql) {
            findings.push(
                Diagnostic::new(Code::NoQueryStatement, "the file has no query statement")
                    .at(file, 0..0)
                    .with_help(
                        "end the file with the query to plan (`SELECT …`, `WITH …`, `VALUES …`)",
                    ),
            );
        }
        return (None, findings);
    };
    if !findings.is_empty() {
        return (None, findings);
    }
    let query = Query {
        name: name.to_string(),
        file: file.display_path.clone(),
        preparation,
        statement: statement_at(file, &classified[last].0),
        source: Arc::clone(file),
        placeholders: classified[last].2.clone(),
        parameter_sets: Vec::new(),
    };
    (Some(query), findings)
}

fn statement_at(file: &SourceFile, span: &Span) -> WrittenStatement {
    let (line, column) = file.line_column(span.start);
    WrittenStatement {
        text: file.text[span.clone()].to_string(),
        line,
        column,
    }
}

/// The placeholders a statement has (`$1`, `$name`), sorted.
fn placeholders_of(statement: &DFStatement) -> Vec<String> {
    let DFStatement::Statement(inner) = statement else {
        return Vec::new();
    };
    let mut found = BTreeSet::new();
    let _ = visit_expressions(inner.as_ref(), |expr: &Expr| {
        if let Expr::Value(value) = expr
            && let Value::Placeholder(id) = &value.value
        {
            found.insert(id.clone());
        }
        ControlFlow::<()>::Continue(())
    });
    found.into_iter().collect()
}

enum Kind {
    Query,
    Preparation,
    /// A `SET` of the named option.
    Setting(String),
    /// Another statement, by what it is.
    Unsupported(String),
}

fn kind_of(statement: &DFStatement) -> Kind {
    match statement {
        DFStatement::CreateExternalTable(_) => Kind::Preparation,
        DFStatement::Statement(inner) => match inner.as_ref() {
            Statement::Query(_) => Kind::Query,
            Statement::CreateView(_) | Statement::CreateSchema { .. } => Kind::Preparation,
            Statement::Drop {
                object_type: ObjectType::View | ObjectType::Table | ObjectType::Schema,
                ..
            } => Kind::Preparation,
            Statement::Set(set) => Kind::Setting(match set {
                Set::SingleAssignment { variable, .. } => variable.to_string(),
                other => other.to_string(),
            }),
            other => Kind::Unsupported(format!("`{}`", first_words(&other.to_string()))),
        },
        DFStatement::Reset(ResetStatement::Variable(name)) => Kind::Setting(name.to_string()),
        DFStatement::Explain(_) => {
            Kind::Unsupported("`EXPLAIN` (dfpolicy makes the plans)".to_string())
        }
        DFStatement::CopyTo(_) => Kind::Unsupported("`COPY`".to_string()),
    }
}

/// The first two words of a statement (`INSERT INTO`, `CREATE FUNCTION`), for naming its kind.
fn first_words(text: &str) -> String {
    text.split_whitespace()
        .take(2)
        .collect::<Vec<_>>()
        .join(" ")
}
