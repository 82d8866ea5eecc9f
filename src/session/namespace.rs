//! The namespace check: with `require_qualified_references`, every table a query names must be
//! written `catalog.schema.table`.
//!
//! The check only parses: it builds no session and no runtime, so it has no side effects (no spill
//! directory is created) and works on a machine that could not run the policy's sessions.

use std::collections::{HashMap, HashSet};
use std::ops::ControlFlow;

use datafusion::config::SqlParserOptions;
use datafusion::sql::parser::{CopyToSource, DFParserBuilder, Statement as DFStatement};
use datafusion::sql::sqlparser::ast::{
    Expr, Ident, ObjectName, Query, SetExpr, Spanned, TableFactor, Visit, Visitor,
};
use datafusion::sql::sqlparser::dialect::dialect_from_str;
use datafusion::sql::sqlparser::tokenizer::Location;
use serde::{Deserialize, Serialize};

/// Deepest expression (or longest chain of `UNION`/`INTERSECT`/`EXCEPT`) accepted.
///
/// The SQL parser's `recursion_limit` bounds nesting through parentheses and subqueries, but a chain
/// of infix operators (`1 + 1 + … + 1`) is parsed in a loop into a left-deep tree that no limit
/// bounds; freeing such a tree recurses once per level and overflows the stack. Queries deeper than
/// this are refused with an error at the expression; their syntax tree is deliberately not freed
/// (its size is bounded by the query text, which the caller reads with a size limit).
pub const MAX_EXPRESSION_DEPTH: usize = 2_000;

/// Largest SQL file the namespace check reads: far above any hand-written query, and a bound on the
/// syntax tree that a too-deep query leaves unfreed (see [`MAX_EXPRESSION_DEPTH`]).
pub const MAX_QUERY_BYTES: usize = 4 << 20;

/// How a policy parses SQL: the `datafusion.sql_parser.*` settings the namespace check needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SqlParsing {
    /// A `datafusion.sql_parser.dialect` value.
    pub dialect: String,
    /// `datafusion.sql_parser.enable_ident_normalization`.
    pub normalize_identifiers: bool,
    /// `datafusion.sql_parser.recursion_limit`.
    pub recursion_limit: usize,
}

impl Default for SqlParsing {
    /// DataFusion's defaults.
    fn default() -> Self {
        SqlParsing::from(&SqlParserOptions::default())
    }
}

impl From<&SqlParserOptions> for SqlParsing {
    fn from(options: &SqlParserOptions) -> Self {
        SqlParsing {
            dialect: options.dialect.to_string(),
            normalize_identifiers: options.enable_ident_normalization,
            recursion_limit: options.recursion_limit.get(),
        }
    }
}

/// A table named without its catalog and schema.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnqualifiedReference {
    /// The name as written (`lineitem`, `tpch.lineitem`).
    pub table: String,
    /// 1-based line of the name in the SQL text.
    pub line: u64,
    /// 1-based column of the name in its line.
    pub column: u64,
}

/// Why a query could not be checked: it does not parse, nests deeper than the limits, or the dialect
/// is unknown. `line` and `column` are 1-based, 0 when unknown.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct SqlError {
    /// The parser's message, or which limit the query passes.
    pub message: String,
    /// 1-based line, 0 when unknown.
    pub line: u64,
    /// 1-based column, 0 when unknown.
    pub column: u64,
}

struct References {
    found: Vec<UnqualifiedReference>,
    normalize: bool,
    /// The CTE names visible in each query being visited, innermost last.
    scopes: Vec<Vec<String>>,
    /// The names a CTE's own body may refer to, by the address of that body (set when the query
    /// declaring it is entered): the earlier CTEs of its `WITH`, and itself under `WITH RECURSIVE`.
    cte_bodies: HashMap<*const Query, Vec<String>>,
    /// Names of table functions (`generate_series(1, 3)`), which are not tables.
    table_functions: HashSet<*const ObjectName>,
    depth: usize,
    too_deep: Option<SqlError>,
}

impl References {
    fn new(normalize: bool) -> Self {
        References {
            found: Vec::new(),
            normalize,
            scopes: Vec::new(),
            cte_bodies: HashMap::new(),
            table_functions: HashSet::new(),
            depth: 0,
            too_deep: None,
        }
    }

    fn name(&self, ident: &Ident) -> String {
        if self.normalize && ident.quote_style.is_none() {
            ident.value.to_lowercase()
        } else {
            ident.value.clone()
        }
    }

    fn refuse(&mut self, what: &str, depth: usize, at: Location) -> ControlFlow<()> {
        self.too_deep = Some(SqlError {
            message: format!(
                "{what} is nested {depth} levels deep; dfpolicy accepts at most {MAX_EXPRESSION_DEPTH} (rewrite long chains, e.g. `x = 1 OR x = 2 …` as `x IN (1, 2, …)`)"
            ),
            line: at.line,
            column: at.column,
        });
        ControlFlow::Break(())
    }
}

impl Visitor for References {
    type Break = ();

    fn pre_visit_table_factor(&mut self, factor: &TableFactor) -> ControlFlow<()> {
        if let TableFactor::Table {
            name,
            args: Some(_),
            ..
        } = factor
        {
            self.table_functions.insert(name as *const ObjectName);
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_relation(&mut self, relation: &ObjectName) -> ControlFlow<()> {
        if self
            .table_functions
            .contains(&(relation as *const ObjectName))
        {
            return ControlFlow::Continue(());
        }
        let parts: Vec<String> = relation
            .0
            .iter()
            .filter_map(|part| part.as_ident().map(|ident| self.name(ident)))
            .collect();
        let visible = self.scopes.last();
        let is_cte = parts.len() == 1 && visible.is_some_and(|names| names.contains(&parts[0]));
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
        let mut chain = 0;
        let mut body: &SetExpr = &query.body;
        while let SetExpr::SetOperation { left, .. } = body {
            chain += 1;
            body = left;
        }
        if chain > MAX_EXPRESSION_DEPTH {
            // `Query::span` recurses through the whole chain; its first `SELECT` has a token.
            let at = match body {
                SetExpr::Select(select) => select.select_token.0.span.start,
                _ => Location::empty(),
            };
            return self.refuse("a chain of set operations", chain, at);
        }
        let outer = match self.cte_bodies.remove(&(query as *const Query)) {
            Some(names) => names,
            None => self.scopes.last().cloned().unwrap_or_default(),
        };
        let mut visible = outer.clone();
        if let Some(with) = &query.with {
            for cte in &with.cte_tables {
                let name = self.name(&cte.alias.name);
                let mut own = visible.clone();
                if with.recursive {
                    own.push(name.clone());
                }
                self.cte_bodies.insert(&*cte.query as *const Query, own);
                visible.push(name);
            }
        }
        self.scopes.push(visible);
        ControlFlow::Continue(())
    }

    fn post_visit_query(&mut self, _query: &Query) -> ControlFlow<()> {
        self.scopes.pop();
        ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<()> {
        self.depth += 1;
        if self.depth > MAX_EXPRESSION_DEPTH {
            // `Expr::span` recurses through the whole subtree; the leftmost leaf has a span of its own.
            let mut leaf = FirstLeaf(None);
            let _ = expr.visit(&mut leaf);
            let depth = self.depth;
            return self.refuse("an expression", depth, leaf.0.unwrap_or(Location::empty()));
        }
        ControlFlow::Continue(())
    }

    fn post_visit_expr(&mut self, _expr: &Expr) -> ControlFlow<()> {
        self.depth -= 1;
        ControlFlow::Continue(())
    }
}

/// Finds where the leftmost leaf of an expression (a value or an identifier) was written. The visitor
/// is protected against deep recursion; `Spanned::span` is not.
struct FirstLeaf(Option<Location>);

impl Visitor for FirstLeaf {
    type Break = ();

    fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<()> {
        let at = match expr {
            Expr::Identifier(ident) => ident.span.start,
            Expr::CompoundIdentifier(parts) if !parts.is_empty() => parts[0].span.start,
            Expr::Value(value) => value.span.start,
            _ => return ControlFlow::Continue(()),
        };
        self.0 = Some(at);
        ControlFlow::Break(())
    }
}

/// Tables in `sql` named without catalog and schema, in the order written, parsed with DataFusion's
/// SQL parser in `dialect` (a `datafusion.sql_parser.dialect` value) and its default recursion limit.
/// CTE names are not tables where they are in scope; table functions are not tables.
pub fn unqualified_references(
    sql: &str,
    dialect: &str,
    normalize_identifiers: bool,
) -> Result<Vec<UnqualifiedReference>, SqlError> {
    unqualified_references_with(
        sql,
        &SqlParsing {
            dialect: dialect.to_string(),
            normalize_identifiers,
            ..SqlParsing::default()
        },
    )
}

/// [`unqualified_references`] with every parser setting of a policy.
pub fn unqualified_references_with(
    sql: &str,
    parsing: &SqlParsing,
) -> Result<Vec<UnqualifiedReference>, SqlError> {
    parse_and_visit(sql, parsing).map(|(_, references)| references.found)
}

/// Parses SQL text into statements with DataFusion's parser and a policy's parser settings, refusing
/// expressions nested deeper than [`MAX_EXPRESSION_DEPTH`] (their trees are too deep to free, see
/// there). Errors carry the 1-based position DataFusion reports.
pub fn parse_statements(sql: &str, parsing: &SqlParsing) -> Result<Vec<DFStatement>, SqlError> {
    parse_and_visit(sql, parsing).map(|(statements, _)| statements)
}

/// Parses, then visits every statement once: the visit both guards the depth and collects the tables
/// named without catalog and schema.
fn parse_and_visit(
    sql: &str,
    parsing: &SqlParsing,
) -> Result<(Vec<DFStatement>, References), SqlError> {
    let dialect = dialect_from_str(&parsing.dialect).ok_or_else(|| SqlError {
        message: format!("unsupported SQL dialect `{}`", parsing.dialect),
        line: 0,
        column: 0,
    })?;
    let statements = DFParserBuilder::new(sql)
        .with_dialect(dialect.as_ref())
        .with_recursion_limit(parsing.recursion_limit)
        .build()
        .and_then(|mut parser| parser.parse_statements())
        .map_err(|e| parse_error(&e, parsing.recursion_limit))?;
    let mut references = References::new(parsing.normalize_identifiers);
    for statement in &statements {
        if visit_statement(statement, &mut references).is_break() {
            break;
        }
    }
    if let Some(error) = references.too_deep.take() {
        // Freeing a tree this deep would overflow the stack (see MAX_EXPRESSION_DEPTH).
        std::mem::forget(statements);
        return Err(error);
    }
    Ok((statements.into(), references))
}

fn visit_statement(statement: &DFStatement, references: &mut References) -> ControlFlow<()> {
    match statement {
        DFStatement::Statement(inner) => inner.visit(references),
        DFStatement::Explain(explain) => visit_statement(&explain.statement, references),
        DFStatement::CopyTo(copy) => match &copy.source {
            CopyToSource::Relation(name) => references.pre_visit_relation(name),
            CopyToSource::Query(query) => query.visit(references),
        },
        _ => ControlFlow::Continue(()),
    }
}

/// DataFusion's parse error with its position (`at Line: 3, Column: 7`) lifted out.
fn parse_error(error: &datafusion::error::DataFusionError, limit: usize) -> SqlError {
    let text = crate::registry::engine_message(error);
    let number_after = |label: &str| -> u64 {
        text.rfind(label)
            .map(|at| &text[at + label.len()..])
            .map(|rest| {
                rest.chars()
                    .take_while(char::is_ascii_digit)
                    .collect::<String>()
            })
            .and_then(|digits| digits.parse().ok())
            .unwrap_or(0)
    };
    let message = if text.contains("recursion limit exceeded") {
        format!(
            "the query nests deeper than `datafusion.sql_parser.recursion_limit` ({limit}) allows: {text}"
        )
    } else {
        text.clone()
    };
    SqlError {
        message,
        line: number_after("Line: "),
        column: number_after("Column: "),
    }
}
