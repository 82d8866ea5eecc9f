//! The scans of a plan, found once for the analyses: the physical plan's leaves with the workload
//! table each reads and the operators above it, and the logical plan's table scans with the filter
//! directly above each.

use std::sync::Arc;

use datafusion::common::TableReference;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::datasource::physical_plan::FileScanConfig;
use datafusion::datasource::source::DataSourceExec;
use datafusion::logical_expr::{Expr, Filter, LogicalPlan, TableScan};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::aggregates::AggregateExec;
use datafusion::physical_plan::joins::HashJoinExec;
use datafusion::physical_plan::repartition::RepartitionExec;
use deltalake::delta_datafusion::DeltaScanExec;

use crate::workload::{Location, RegisteredDelta, ScanCandidates, ScanOwners, Table, TableFormat};

/// Finds the workload table a physical scan reads, from the files it reads.
#[derive(Debug, Clone, Default)]
pub(super) struct TableLocator {
    /// Object store path of each table's file or folder (a folder ends in `/`), with the table's
    /// declared name; longest first, so nested locations find the inner table.
    prefixes: Vec<(String, String)>,
    /// delta-rs registers remote stores under URLs of its own: those URLs, by table.
    stores: Vec<(String, String)>,
}

impl TableLocator {
    pub(super) fn new(tables: &[Table], deltas: &[RegisteredDelta]) -> TableLocator {
        let mut prefixes: Vec<(String, String)> = tables
            .iter()
            .filter_map(|table| {
                let prefix = match &table.location {
                    Location::Local(path) => {
                        let text = path.to_string_lossy().trim_start_matches('/').to_string();
                        if table.served_from.is_dir(path) {
                            format!("{}/", text.trim_end_matches('/'))
                        } else {
                            text
                        }
                    }
                    Location::Remote(remote) => {
                        // The object path below the bucket; a folder's with its `/`, so that
                        // `lake/events` does not take `lake/events_v2`'s files.
                        let path = remote.object_path().as_ref().to_string();
                        if remote.url.path().ends_with('/') || table.format == TableFormat::Delta {
                            format!("{path}/")
                        } else {
                            path
                        }
                    }
                };
                (!prefix.is_empty()).then(|| (prefix, table.name.clone()))
            })
            .collect();
        prefixes.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));
        let stores = deltas
            .iter()
            .map(|d| (d.object_store_url.clone(), d.name.clone()))
            .collect();
        TableLocator { prefixes, stores }
    }

    /// The tables at a file scan's location (several when one location is declared twice, as a
    /// Delta table at two versions), with the files it reads relative to that location.
    fn candidates(&self, config: &FileScanConfig) -> ScanCandidates {
        let store = config.object_store_url.to_string();
        let files: Vec<&str> = config
            .file_groups
            .iter()
            .flat_map(|g| g.files())
            .map(|f| f.object_meta.location.as_ref())
            .collect();
        let by_store: Vec<String> = self
            .stores
            .iter()
            .filter(|(url, _)| *url == store)
            .map(|(_, name)| name.clone())
            .collect();
        if !by_store.is_empty() {
            return ScanCandidates {
                tables: by_store,
                files: Vec::new(),
            };
        }
        let none = ScanCandidates {
            tables: Vec::new(),
            files: Vec::new(),
        };
        let Some(first) = files.first() else {
            return none;
        };
        let matches = |prefix: &str| {
            if prefix.ends_with('/') {
                first.starts_with(prefix)
            } else {
                *first == prefix
            }
        };
        let Some((longest, _)) = self.prefixes.iter().find(|(prefix, _)| matches(prefix)) else {
            return none;
        };
        let candidates: Vec<String> = self
            .prefixes
            .iter()
            .filter(|(prefix, _)| prefix == longest)
            .map(|(_, name)| name.clone())
            .collect();
        let relative: Vec<String> = files
            .iter()
            .map(|f| f.strip_prefix(longest.as_str()).unwrap_or(f).to_string())
            .collect();
        ScanCandidates {
            tables: candidates,
            files: relative,
        }
    }
}

/// A leaf of the physical plan (or a `DeltaScanExec`, with the Parquet scan below it).
pub(super) struct PhysicalScan {
    pub node: Arc<dyn ExecutionPlan>,
    /// The operators from the root down to the scan's parent, each with the index of the child the
    /// path goes through.
    pub ancestors: Vec<(Arc<dyn ExecutionPlan>, usize)>,
    pub table: Option<String>,
    /// As [`operator_key`] names it.
    pub operator: String,
    /// The file scan that reads the files (the scan itself, or the one below a `DeltaScanExec`).
    pub file_scan: Option<Arc<dyn ExecutionPlan>>,
}

impl PhysicalScan {
    pub fn file_scan_config(&self) -> Option<&FileScanConfig> {
        self.file_scan
            .as_ref()?
            .downcast_ref::<DataSourceExec>()?
            .data_source()
            .downcast_ref::<FileScanConfig>()
    }
}

/// Every scan of a physical plan, depth first, each with the table `owners` gives it.
pub(super) fn physical_scans(
    plan: &Arc<dyn ExecutionPlan>,
    locator: &TableLocator,
    owners: ScanOwners<'_>,
) -> Vec<PhysicalScan> {
    let mut scans = Vec::new();
    let mut path = Vec::new();
    walk(plan, &mut path, &mut scans);
    let candidates: Vec<ScanCandidates> = scans
        .iter()
        .map(|scan| match scan.file_scan_config() {
            Some(config) => locator.candidates(config),
            None => ScanCandidates {
                tables: Vec::new(),
                files: Vec::new(),
            },
        })
        .collect();
    for (scan, owner) in scans.iter_mut().zip(owners.owners(&candidates)) {
        scan.table = owner;
    }
    scans
}

fn walk(
    node: &Arc<dyn ExecutionPlan>,
    path: &mut Vec<(Arc<dyn ExecutionPlan>, usize)>,
    scans: &mut Vec<PhysicalScan>,
) {
    let children = node.children();
    if is_delta_scan(node.as_ref()) || children.is_empty() {
        scans.push(PhysicalScan {
            node: Arc::clone(node),
            ancestors: path.clone(),
            table: None,
            operator: operator_key(node.as_ref()),
            file_scan: file_scan_below(node),
        });
        return;
    }
    for (index, child) in children.into_iter().enumerate() {
        path.push((Arc::clone(node), index));
        walk(child, path, scans);
        path.pop();
    }
}

/// delta-rs's scan, which plans a Parquet scan of the selected files below it.
pub(super) fn is_delta_scan(node: &dyn ExecutionPlan) -> bool {
    node.downcast_ref::<DeltaScanExec>().is_some()
}

/// The file scan at or below `node` (the first, depth first).
fn file_scan_below(node: &Arc<dyn ExecutionPlan>) -> Option<Arc<dyn ExecutionPlan>> {
    use datafusion::common::tree_node::TreeNode;
    let mut found = None;
    let _ = node.apply(|n| {
        if let Some(source) = n.downcast_ref::<DataSourceExec>()
            && source
                .data_source()
                .downcast_ref::<FileScanConfig>()
                .is_some()
        {
            found = Some(Arc::clone(n));
            return Ok(TreeNodeRecursion::Stop);
        }
        Ok(TreeNodeRecursion::Continue)
    });
    found
}

/// An operator's kind: DataFusion's name, and the mode that changes what it does, written as
/// DataFusion prints it.
pub(super) fn operator_key(node: &dyn ExecutionPlan) -> String {
    let name = node.name();
    if let Some(join) = node.downcast_ref::<HashJoinExec>() {
        return format!("{name} mode={:?}", join.partition_mode());
    }
    if let Some(aggregate) = node.downcast_ref::<AggregateExec>() {
        return format!("{name} mode={:?}", aggregate.mode());
    }
    if let Some(repartition) = node.downcast_ref::<RepartitionExec>() {
        return format!(
            "{name} partitioning={}",
            partitioning_kind(&repartition.partitioning().to_string())
        );
    }
    // A sort with a limit already says so: `SortExec(TopK)`.
    if let Some(source) = node.downcast_ref::<DataSourceExec>()
        && let Some(config) = source.data_source().downcast_ref::<FileScanConfig>()
    {
        return format!("{name} file_type={}", config.file_source.file_type());
    }
    name.to_string()
}

/// `Hash([a@0], 4)` → `Hash`.
pub(super) fn partitioning_kind(display: &str) -> &str {
    display.split('(').next().unwrap_or(display)
}

/// A table scan of the logical plan and the `Filter` directly above it (copies: the plan's
/// subqueries are reached through a visitor that lends each node only for the visit).
pub(super) struct LogicalScan {
    pub scan: TableScan,
    /// The workload's name for the table, else the name as the plan writes it.
    pub table: String,
    pub filter_above: Option<Expr>,
}

/// Every table scan of a logical plan (subqueries included), in plan order; `name_of` gives the
/// workload's name for a table reference.
pub(super) fn logical_scans(
    plan: &LogicalPlan,
    name_of: &dyn Fn(&TableReference) -> Option<String>,
) -> Vec<LogicalScan> {
    let mut scans = Vec::new();
    // Filters over a scan, by the scan node's address (a node is visited before its inputs).
    let mut filters: Vec<(*const LogicalPlan, Expr)> = Vec::new();
    let _ = plan.apply_with_subqueries(|node| {
        match node {
            LogicalPlan::Filter(Filter {
                predicate, input, ..
            }) if matches!(input.as_ref(), LogicalPlan::TableScan(_)) => {
                filters.push((Arc::as_ptr(input), predicate.clone()));
            }
            LogicalPlan::TableScan(scan) => {
                let address = node as *const LogicalPlan;
                let filter_above = filters
                    .iter()
                    .position(|(scan, _)| *scan == address)
                    .map(|at| filters.swap_remove(at).1);
                scans.push(LogicalScan {
                    scan: scan.clone(),
                    table: name_of(&scan.table_name).unwrap_or_else(|| scan.table_name.to_string()),
                    filter_above,
                });
            }
            _ => {}
        }
        Ok(TreeNodeRecursion::Continue)
    });
    scans
}
