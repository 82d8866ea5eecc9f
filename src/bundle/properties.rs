//! Physical properties: the root's partitioning, operators by kind, file groups per scan, and the
//! pipeline breaker above each scan.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
use datafusion::physical_plan::execution_plan::EmissionType;
use datafusion::physical_plan::{ExecutionPlan, ExecutionPlanProperties};

use super::model::{PhysicalProperties, PipelineBreaker, ScanProperties};
use super::scans::{PhysicalScan, operator_key, partitioning_kind};

pub(super) fn analyze(plan: &Arc<dyn ExecutionPlan>, scans: &[PhysicalScan]) -> PhysicalProperties {
    let partitioning = plan.output_partitioning();
    let mut operators = BTreeMap::new();
    let _ = plan.apply(|node| {
        // Inside a `DeltaScanExec` too: delta-rs plans a Parquet scan below it.
        *operators.entry(operator_key(node.as_ref())).or_insert(0) += 1;
        Ok(TreeNodeRecursion::Continue)
    });
    PhysicalProperties {
        output_partitioning: partitioning_kind(&partitioning.to_string()).to_string(),
        output_partitions: partitioning.partition_count() as u64,
        operators,
        scans: scans.iter().map(scan_properties).collect(),
    }
}

fn scan_properties(scan: &PhysicalScan) -> ScanProperties {
    let config = scan.file_scan_config();
    ScanProperties {
        table: scan.table.clone(),
        operator: scan.operator.clone(),
        file_groups: config.map(|c| c.file_groups.len() as u64),
        files: config.map(|c| {
            c.file_groups
                .iter()
                .flat_map(|g| g.files())
                .map(|f| f.object_meta.location.as_ref())
                .collect::<BTreeSet<_>>()
                .len() as u64
        }),
        pipeline_breaker: scan.ancestors.iter().enumerate().rev().find_map(
            |(depth, (node, child))| {
                breaker(node.as_ref(), *child).map(|operator| PipelineBreaker {
                    operator,
                    depth: depth as u32,
                })
            },
        ),
    }
}

/// Whether `node` holds back the input it reads through child `child`: operators that emit only
/// after their input ends (sorts, final aggregates), and the build side of joins.
fn breaker(node: &dyn ExecutionPlan, child: usize) -> Option<String> {
    let name = node.name();
    let builds_left = matches!(
        name,
        "HashJoinExec" | "NestedLoopJoinExec" | "CrossJoinExec" | "PiecewiseMergeJoinExec"
    );
    if builds_left && child == 0 {
        return Some(format!("{} (build side)", operator_key(node)));
    }
    (node.properties().emission_type == EmissionType::Final).then(|| operator_key(node))
}
