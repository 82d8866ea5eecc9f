//! The functions and `STORED AS` formats a query file names that sessions of this dfpolicy's engine
//! do not have. Without this check such a query fails every cell with DataFusion's planning error
//! ("Invalid function 'json_get_str'. Did you mean 'digest'?"); with it, the file is one located
//! finding that names the function and says how an engine adds it.

use std::ops::ControlFlow;

use datafusion::sql::parser::Statement as DFStatement;
use datafusion::sql::sqlparser::ast::{Expr, ObjectName, TableFactor, Visit, Visitor};

use crate::registry::Registry;
use crate::report::Code;

/// Names DataFusion's SQL planner plans itself rather than looking them up among the session's
/// functions (datafusion-sql 55.2 `expr/function.rs`: `unnest` and `unnest_outer` at line 556,
/// `make_map` and `map` at line 289).
const PLANNED_BY_THE_SQL_PLANNER: &[&str] = &["unnest", "unnest_outer", "make_map", "map"];

/// One name a statement uses that the engine lacks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MissingName {
    pub what: Missing,
    /// As DataFusion looks it up (unquoted names lower case; formats upper case).
    pub name: String,
    /// 1-based line and column within the statement; `None` when the parser gives no position.
    pub position: Option<(u64, u64)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Missing {
    Function,
    TableFunction,
    Format,
}

impl MissingName {
    /// The finding's message.
    pub fn message(&self) -> String {
        match self.what {
            Missing::Function => format!(
                "function `{}` is not a function of this engine's sessions",
                self.name
            ),
            Missing::TableFunction => format!(
                "table function `{}` is not a table function of this engine's sessions",
                self.name
            ),
            Missing::Format => format!(
                "`STORED AS {}` is not a format of this engine's sessions",
                self.name
            ),
        }
    }

    /// The finding's code: `unknown-function` or `unknown-format`.
    pub fn code(&self) -> Code {
        match self.what {
            Missing::Function | Missing::TableFunction => Code::UnknownFunction,
            Missing::Format => Code::UnknownFormat,
        }
    }

    /// How to add it.
    pub fn help(&self) -> &'static str {
        match self.what {
            Missing::Function | Missing::TableFunction => {
                "an engine adds its functions with `Extensions::with_scalar_udf` (or \
                 `with_functions` for a package such as datafusion-functions-json): run a dfpolicy \
                 built with `dfpolicy::cli::main_with` (docs/engines.md)"
            }
            Missing::Format => FORMAT_HELP,
        }
    }
}

/// How an engine adds a format, for a format a query or a workload table names.
pub(crate) const FORMAT_HELP: &str = "an engine adds a format with \
    `Extensions::with_table_factory`: run a dfpolicy built with `dfpolicy::cli::main_with` \
    (docs/engines.md)";

/// The names `statement` uses that `registry`'s engine lacks, in the order written.
pub(crate) fn missing_names(statement: &DFStatement, registry: &Registry) -> Vec<MissingName> {
    match statement {
        DFStatement::CreateExternalTable(create) if !registry.has_format(&create.file_type) => {
            vec![MissingName {
                what: Missing::Format,
                name: create.file_type.to_uppercase(),
                position: None,
            }]
        }
        DFStatement::Statement(inner) => {
            let mut check = NameCheck {
                registry,
                missing: Vec::new(),
            };
            let _ = inner.visit(&mut check);
            check.missing
        }
        _ => Vec::new(),
    }
}

struct NameCheck<'a> {
    registry: &'a Registry,
    missing: Vec<MissingName>,
}

impl NameCheck<'_> {
    fn check(&mut self, name: &ObjectName, what: Missing) {
        // A qualified name (`schema.f`) is resolved by the planner in ways a name alone cannot tell.
        let [part] = name.0.as_slice() else {
            return;
        };
        let Some(ident) = part.as_ident() else {
            return;
        };
        let looked_up = if ident.quote_style.is_some() {
            ident.value.clone()
        } else {
            ident.value.to_lowercase()
        };
        if self.registry.has_function(&looked_up)
            || PLANNED_BY_THE_SQL_PLANNER.contains(&looked_up.as_str())
        {
            return;
        }
        let start = ident.span.start;
        self.missing.push(MissingName {
            what,
            name: looked_up,
            position: (start.line > 0).then_some((start.line, start.column)),
        });
    }
}

impl Visitor for NameCheck<'_> {
    type Break = ();

    fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<()> {
        if let Expr::Function(function) = expr {
            self.check(&function.name, Missing::Function);
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_table_factor(&mut self, factor: &TableFactor) -> ControlFlow<()> {
        if let TableFactor::Table {
            name,
            args: Some(_),
            ..
        } = factor
        {
            self.check(name, Missing::TableFunction);
        }
        ControlFlow::Continue(())
    }
}
