//! The namespace check: with `require_qualified_references`, every table a query names must be
//! written `catalog.schema.table`.

use std::ops::ControlFlow;

use datafusion::error::Result;
use datafusion::sql::parser::{DFParserBuilder, Statement as DFStatement};
use datafusion::sql::sqlparser::ast::{ObjectName, Query, Spanned, Visit, Visitor};
use datafusion::sql::sqlparser::dialect::dialect_from_str;
use serde::Serialize;

/// A table named without its catalog and schema.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnqualifiedReference {
    /// The name as written (`lineitem`, `tpch.lineitem`).
    pub table: String,
    /// 1-based position of the name in the SQL text.
    pub line: u64,
    pub column: u64,
}

struct References {
    found: Vec<UnqualifiedReference>,
    ctes_in_scope: Vec<String>,
    normalize: bool,
}

impl References {
    fn name(&self, ident: &datafusion::sql::sqlparser::ast::Ident) -> String {
        if self.normalize && ident.quote_style.is_none() {
            ident.value.to_lowercase()
        } else {
            ident.value.clone()
        }
    }
}

impl Visitor for References {
    type Break = ();

    fn pre_visit_relation(&mut self, relation: &ObjectName) -> ControlFlow<()> {
        let parts: Vec<String> = relation
            .0
            .iter()
            .filter_map(|part| part.as_ident().map(|ident| self.name(ident)))
            .collect();
        let is_cte = parts.len() == 1 && self.ctes_in_scope.contains(&parts[0]);
        if parts.len() < 3 && !is_cte {
            let start = relation.span().start;
            self.found.push(UnqualifiedReference {
                table: relation.to_string(),
                line: start.line,
                column: start.column,
            });
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_query(&mut self, query: &Query) -> ControlFlow<()> {
        if let Some(with) = &query.with {
            for cte in &with.cte_tables {
                let name = self.name(&cte.alias.name);
                self.ctes_in_scope.push(name);
            }
        }
        ControlFlow::Continue(())
    }

    fn post_visit_query(&mut self, query: &Query) -> ControlFlow<()> {
        if let Some(with) = &query.with {
            for _ in &with.cte_tables {
                self.ctes_in_scope.pop();
            }
        }
        ControlFlow::Continue(())
    }
}

/// Tables in `sql` named without catalog and schema, in the order written, parsed with DataFusion's
/// SQL parser in `dialect` (a `datafusion.sql_parser.dialect` value). CTE names are not tables.
pub fn unqualified_references(
    sql: &str,
    dialect: &str,
    normalize_identifiers: bool,
) -> Result<Vec<UnqualifiedReference>> {
    let dialect = dialect_from_str(dialect).ok_or_else(|| {
        datafusion::error::DataFusionError::Configuration(format!(
            "unsupported SQL dialect `{dialect}`"
        ))
    })?;
    let statements = DFParserBuilder::new(sql)
        .with_dialect(dialect.as_ref())
        .build()?
        .parse_statements()?;
    let mut references = References {
        found: Vec::new(),
        ctes_in_scope: Vec::new(),
        normalize: normalize_identifiers,
    };
    for statement in &statements {
        match statement {
            DFStatement::Statement(inner) => {
                let _ = inner.visit(&mut references);
            }
            DFStatement::Explain(explain) => {
                if let DFStatement::Statement(inner) = explain.statement.as_ref() {
                    let _ = inner.visit(&mut references);
                }
            }
            _ => {}
        }
    }
    Ok(references.found)
}
