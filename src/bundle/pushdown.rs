//! Filter pushdown: each conjunct of the filters on a table scan, classified from the optimized
//! logical plan (what the table provider accepted) and confirmed in the physical plan (whether the
//! scan's `predicate` has it, and whether a `FilterExec` above still applies it).

use std::collections::{BTreeMap, BTreeSet};

use datafusion::common::DFSchema;
use datafusion::datasource::physical_plan::ParquetSource;
use datafusion::execution::context::SessionState;
use datafusion::logical_expr::utils::split_conjunction;
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown};
use datafusion::physical_expr::split_conjunction as split_physical_conjunction;
use datafusion::physical_plan::filter::FilterExec;

use super::model::{DynamicFilter, FilterPushdown, PushdownClass, PushedConjunct, ScanPushdown};
use super::scans::{LogicalScan, PhysicalScan};

/// Operators a filter can sit above without changing which rows reach it.
const PASS_THROUGH: &[&str] = &[
    "RepartitionExec",
    "CoalescePartitionsExec",
    "CoalesceBatchesExec",
    "CooperativeExec",
    "DeltaScanExec",
];

/// What the physical plan does around one scan: the conjuncts of the scan's predicate and of the
/// filter above it, as texts without column indices.
struct PhysicalFilters {
    table: Option<String>,
    in_scan: BTreeSet<String>,
    above: BTreeSet<String>,
    row_level: bool,
}

pub(super) fn analyze(
    logical: &[LogicalScan],
    physical: &[PhysicalScan],
    state: &SessionState,
) -> FilterPushdown {
    let mut dynamic_filters = Vec::new();
    let mut physical_filters: Vec<Option<PhysicalFilters>> = physical
        .iter()
        .map(|scan| Some(physical_filters(scan, &mut dynamic_filters)))
        .collect();

    let mut scans = Vec::new();
    let mut counts: BTreeMap<PushdownClass, u64> = [
        (PushdownClass::Exact, 0),
        (PushdownClass::Inexact, 0),
        (PushdownClass::Unsupported, 0),
    ]
    .into();
    for scan in logical {
        let conjuncts = logical_conjuncts(scan);
        if conjuncts.is_empty() {
            continue;
        }
        let keys = physical_keys(&conjuncts, scan, state);
        // The physical scan of the same table that shows most of these conjuncts (a table can be
        // scanned more than once, and joins reorder scans).
        let matched = physical_filters
            .iter()
            .enumerate()
            .filter_map(|(at, f)| f.as_ref().map(|f| (at, f)))
            .filter(|(_, f)| f.table.as_deref() == Some(scan.table.as_str()))
            .max_by_key(|(at, f)| {
                let shown = keys
                    .iter()
                    .flatten()
                    .filter(|k| f.in_scan.contains(*k) || f.above.contains(*k))
                    .count();
                (shown, std::cmp::Reverse(*at))
            })
            .map(|(at, _)| at);
        let filters = matched.and_then(|at| physical_filters[at].take());
        let mut classified = Vec::new();
        for ((expr, logical_class), key) in conjuncts.iter().zip(&keys) {
            let (in_scan, above) = match (&filters, key) {
                (Some(f), Some(key)) => (f.in_scan.contains(key), f.above.contains(key)),
                _ => (false, false),
            };
            let class = match (in_scan, above) {
                (true, false) => PushdownClass::Exact,
                (true, true) => PushdownClass::Inexact,
                (false, true) => PushdownClass::Unsupported,
                // Applied before the file scan (partition pruning), or written differently in the
                // physical plan: the provider's answer stands.
                (false, false) => *logical_class,
            };
            *counts.entry(class).or_insert(0) += 1;
            classified.push(PushedConjunct {
                predicate: expr.to_string(),
                class,
                logical: *logical_class,
                in_scan_predicate: in_scan,
                in_filter_above: above,
            });
        }
        scans.push(ScanPushdown {
            table: scan.table.clone(),
            row_level: filters.as_ref().is_some_and(|f| f.row_level),
            conjuncts: classified,
        });
    }
    FilterPushdown {
        counts,
        scans,
        dynamic_filters,
    }
}

/// The scan's conjuncts with the provider's classification: the scan's own filters (exact or
/// inexact, as the provider answers), then the conjuncts only the `Filter` above applies.
fn logical_conjuncts(scan: &LogicalScan) -> Vec<(Expr, PushdownClass)> {
    let table_scan = &scan.scan;
    let refs: Vec<&Expr> = table_scan.filters.iter().collect();
    let answers = table_scan
        .source
        .supports_filters_pushdown(&refs)
        .unwrap_or_else(|_| vec![TableProviderFilterPushDown::Inexact; refs.len()]);
    let mut conjuncts: Vec<(Expr, PushdownClass)> = table_scan
        .filters
        .iter()
        .zip(answers)
        .map(|(expr, answer)| {
            let class = match answer {
                TableProviderFilterPushDown::Exact => PushdownClass::Exact,
                TableProviderFilterPushDown::Inexact => PushdownClass::Inexact,
                TableProviderFilterPushDown::Unsupported => PushdownClass::Unsupported,
            };
            (expr.clone(), class)
        })
        .collect();
    if let Some(filter) = &scan.filter_above {
        for conjunct in split_conjunction(filter) {
            if !table_scan.filters.contains(conjunct) {
                conjuncts.push((conjunct.clone(), PushdownClass::Unsupported));
            }
        }
    }
    conjuncts
}

/// Each conjunct as the physical planner writes it, without column indices (`None` when it cannot
/// be written as a physical expression over the table).
fn physical_keys(
    conjuncts: &[(Expr, PushdownClass)],
    scan: &LogicalScan,
    state: &SessionState,
) -> Vec<Option<String>> {
    let table_scan = &scan.scan;
    let schema = DFSchema::try_from_qualified_schema(
        table_scan.table_name.clone(),
        &table_scan.source.schema(),
    );
    conjuncts
        .iter()
        .map(|(expr, _)| {
            let schema = schema.as_ref().ok()?;
            let physical = state.create_physical_expr(expr.clone(), schema).ok()?;
            Some(without_indices(&physical.to_string()))
        })
        .collect()
}

fn physical_filters(scan: &PhysicalScan, dynamic: &mut Vec<DynamicFilter>) -> PhysicalFilters {
    let mut in_scan = BTreeSet::new();
    let mut row_level = false;
    if let Some(config) = scan.file_scan_config() {
        if let Some(predicate) = config.file_source.filter() {
            for conjunct in split_physical_conjunction(&predicate) {
                let text = conjunct.to_string();
                if text.starts_with("DynamicFilter") {
                    dynamic.push(DynamicFilter {
                        table: scan.table.clone(),
                        filter: text,
                    });
                } else {
                    in_scan.insert(without_indices(&text));
                }
            }
        }
        row_level = config
            .file_source
            .downcast_ref::<ParquetSource>()
            .is_some_and(|parquet| parquet.table_parquet_options().global.pushdown_filters);
    }
    // The filter above: the first operator above the scan that is not a pass-through.
    let mut above = BTreeSet::new();
    if let Some(filter) = scan
        .ancestors
        .iter()
        .rev()
        .map(|(node, _)| node.as_ref())
        .find(|node: &&dyn datafusion::physical_plan::ExecutionPlan| {
            !PASS_THROUGH.contains(&node.name())
        })
        .and_then(|node| node.downcast_ref::<FilterExec>())
    {
        for conjunct in split_physical_conjunction(filter.predicate()) {
            above.insert(without_indices(&conjunct.to_string()));
        }
    }
    PhysicalFilters {
        table: scan.table.clone(),
        in_scan,
        above,
        row_level,
    }
}

/// `l_shipdate@10 < l_commitdate@11` → `l_shipdate < l_commitdate`: a column's index depends on the
/// schema of the operator's input, which differs between the scan and the filter above it.
fn without_indices(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '@' && chars.peek().is_some_and(char::is_ascii_digit) {
            while chars.peek().is_some_and(char::is_ascii_digit) {
                chars.next();
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::without_indices;

    #[test]
    fn column_indices_are_dropped_and_nothing_else() {
        assert_eq!(
            without_indices("l_shipdate@10 < l_commitdate@1 AND a = x@y"),
            "l_shipdate < l_commitdate AND a = x@y"
        );
    }
}
