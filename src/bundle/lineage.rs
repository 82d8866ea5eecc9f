//! Lineage: what the optimized logical plan reads (each table scan's columns and filters) and calls
//! (every function, DataFusion's own or the application's).

use std::collections::BTreeSet;
use std::sync::OnceLock;

use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
use datafusion::execution::SessionStateDefaults;
use datafusion::logical_expr::expr::WindowFunctionDefinition;
use datafusion::logical_expr::utils::split_conjunction;
use datafusion::logical_expr::{Expr, LogicalPlan};

use super::model::{FunctionCall, FunctionKind, Lineage, ScanLineage};
use super::scans::LogicalScan;

pub(super) fn analyze(plan: &LogicalPlan, scans: &[LogicalScan]) -> Lineage {
    let scans = scans
        .iter()
        .map(|scan| {
            let mut filters: Vec<&Expr> = scan.scan.filters.iter().collect();
            if let Some(filter) = &scan.filter_above {
                for conjunct in split_conjunction(filter) {
                    if !filters.contains(&conjunct) {
                        filters.push(conjunct);
                    }
                }
            }
            ScanLineage {
                table: scan.table.clone(),
                columns: scan
                    .scan
                    .projected_schema
                    .fields()
                    .iter()
                    .map(|f| f.name().clone())
                    .collect(),
                filters: filters.iter().map(|f| f.to_string()).collect(),
            }
        })
        .collect();

    let mut functions = BTreeSet::new();
    let _ = plan.apply_with_subqueries(|node| {
        node.apply_expressions(|expr| {
            expr.apply(|e| {
                let call = match e {
                    Expr::ScalarFunction(f) => Some((f.func.name(), FunctionKind::Scalar)),
                    Expr::AggregateFunction(f) => Some((f.func.name(), FunctionKind::Aggregate)),
                    Expr::WindowFunction(w) => Some(match &w.fun {
                        WindowFunctionDefinition::AggregateUDF(f) => {
                            (f.name(), FunctionKind::Aggregate)
                        }
                        WindowFunctionDefinition::WindowUDF(f) => (f.name(), FunctionKind::Window),
                    }),
                    _ => None,
                };
                if let Some((name, kind)) = call {
                    functions.insert(FunctionCall {
                        name: name.to_string(),
                        kind,
                        built_in: built_in(kind).contains(name),
                    });
                }
                Ok(TreeNodeRecursion::Continue)
            })
        })
    });
    Lineage {
        scans,
        functions: functions.into_iter().collect(),
    }
}

/// The names of DataFusion's own functions of a kind, with their aliases.
fn built_in(kind: FunctionKind) -> &'static BTreeSet<String> {
    static SCALAR: OnceLock<BTreeSet<String>> = OnceLock::new();
    static AGGREGATE: OnceLock<BTreeSet<String>> = OnceLock::new();
    static WINDOW: OnceLock<BTreeSet<String>> = OnceLock::new();
    match kind {
        FunctionKind::Scalar => SCALAR.get_or_init(|| {
            let functions = SessionStateDefaults::default_scalar_functions();
            names(functions.iter().map(|f| (f.name(), f.aliases())))
        }),
        FunctionKind::Aggregate => AGGREGATE.get_or_init(|| {
            let functions = SessionStateDefaults::default_aggregate_functions();
            names(functions.iter().map(|f| (f.name(), f.aliases())))
        }),
        FunctionKind::Window => WINDOW.get_or_init(|| {
            let functions = SessionStateDefaults::default_window_functions();
            names(functions.iter().map(|f| (f.name(), f.aliases())))
        }),
    }
}

fn names<'a>(functions: impl Iterator<Item = (&'a str, &'a [String])>) -> BTreeSet<String> {
    functions
        .flat_map(|(name, aliases)| {
            std::iter::once(name.to_string()).chain(aliases.iter().cloned())
        })
        .collect()
}
