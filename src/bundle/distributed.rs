//! The static stage plan of a Ballista policy's physical plan: Ballista's own distributed planner
//! (`DefaultDistributedPlanner`, the one its scheduler runs when adaptive execution is off and for
//! `EXPLAIN`) cuts P2 into stages at its shuffles. Each stage is then encoded with Ballista's
//! physical codec, as the scheduler does before sending a task to an executor: a plan that cannot be
//! encoded (a Delta scan: Ballista 55 has no codec for delta-rs' `DeltaScan`) cannot run on a
//! cluster, which is a finding of the bundle rather than a failed job later. Before that, the client
//! sends the optimized logical plan to the scheduler, encoded with the session's logical codec: a
//! table only the client has (a Delta table, an engine's own table provider) cannot be sent either.

use std::collections::BTreeMap;
use std::sync::Arc;

use ballista_core::JobId;
use ballista_core::execution_plans::UnresolvedShuffleExec;
use ballista_core::extension::SessionConfigExt;
use ballista_scheduler::planner::{DefaultDistributedPlanner, DistributedPlanner};
use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
use datafusion::logical_expr::LogicalPlan;
use datafusion::physical_plan::{ExecutionPlan, displayable};
use datafusion::prelude::SessionConfig;
use datafusion_proto::logical_plan::AsLogicalPlan;
use datafusion_proto::physical_plan::AsExecutionPlan;
use datafusion_proto::protobuf::{LogicalPlanNode, PhysicalPlanNode};

use super::fingerprint::physical_topology_hash;
use super::model::{BundleFinding, DistributedStage, DistributedStages};
use super::paths::PathNormalizer;
use crate::compile::hash::digest;

/// The finding code of a plan that Ballista cannot send to its executors.
pub const NOT_DISTRIBUTABLE: &str = "not-distributable";

/// The stages of `physical`, and a finding per stage Ballista cannot encode for its executors.
/// `Err` when the distributed planner itself fails.
pub fn distributed_stages(
    physical: &Arc<dyn ExecutionPlan>,
    config: &SessionConfig,
    adaptive: bool,
    normalizer: &PathNormalizer,
) -> Result<(DistributedStages, Vec<BundleFinding>), ballista_core::error::BallistaError> {
    // The job id names no file and appears in no plan text: a constant keeps bundles reproducible.
    let job_id = JobId::new("dfpolicy");
    let writers = DefaultDistributedPlanner::new().plan_query_stages(
        &job_id,
        Arc::clone(physical),
        config.options(),
    )?;
    let codec = config.ballista_physical_extension_codec();
    let mut stages = Vec::new();
    let mut findings = Vec::new();
    let mut lines = BTreeMap::new();
    for writer in &writers {
        let plan: Arc<dyn ExecutionPlan> = writer.clone();
        let (reads_stages, broadcast_reads) = shuffle_inputs(&plan);
        let text = displayable(plan.as_ref()).indent(true).to_string();
        let stage = DistributedStage {
            stage_id: writer.stage_id(),
            plan: normalizer.normalize(text.trim_end()),
            output_partitioning: writer
                .shuffle_output_partitioning()
                .map(|p| normalizer.normalize(&p.to_string())),
            partitions: plan.properties().output_partitioning().partition_count(),
            reads_stages,
            broadcast_reads,
        };
        if let Err(error) =
            PhysicalPlanNode::try_from_physical_plan(Arc::clone(&plan), codec.as_ref())
        {
            findings.push(BundleFinding {
                code: NOT_DISTRIBUTABLE.to_string(),
                message: normalizer.normalize(&format!(
                    "stage {} cannot be sent to a Ballista {} executor: {error}",
                    stage.stage_id,
                    crate::registry::ballista::BALLISTA_VERSION
                )),
            });
        }
        let prefix = format!("stage.{:04}", stage.stage_id);
        lines.insert(
            format!("{prefix}.topology"),
            physical_topology_hash(&plan).into(),
        );
        lines.insert(
            format!("{prefix}.reads"),
            serde_json::json!(stage.reads_stages),
        );
        lines.insert(
            format!("{prefix}.broadcast"),
            serde_json::json!(stage.broadcast_reads),
        );
        lines.insert(
            format!("{prefix}.partitioning"),
            serde_json::json!(stage.output_partitioning),
        );
        stages.push(stage);
    }
    Ok((
        DistributedStages {
            layout: "static".to_string(),
            adaptive,
            stages,
            stage_topology_hash: digest("stage-topology", lines),
        },
        findings,
    ))
}

/// A finding when the client cannot send the query to the scheduler: Ballista's
/// `DistributedQueryExec` encodes the optimized logical plan with the session's logical codec before
/// it submits the job, and a table provider the codec does not know (Delta's, an engine's own)
/// cannot be encoded.
pub fn job_submission_finding(
    optimized: &LogicalPlan,
    config: &SessionConfig,
    normalizer: &PathNormalizer,
) -> Option<BundleFinding> {
    let codec = config.ballista_logical_extension_codec();
    let error = LogicalPlanNode::try_from_logical_plan(optimized, codec.as_ref()).err()?;
    Some(BundleFinding {
        code: NOT_DISTRIBUTABLE.to_string(),
        message: normalizer.normalize(&format!(
            "the query cannot be sent to a Ballista {} scheduler: {error}",
            crate::registry::ballista::BALLISTA_VERSION
        )),
    })
}

/// The stages a stage's plan reads, and which of them it reads whole (broadcast), in plan order.
fn shuffle_inputs(plan: &Arc<dyn ExecutionPlan>) -> (Vec<usize>, Vec<usize>) {
    let mut reads = Vec::new();
    let mut broadcast = Vec::new();
    plan.apply(|node| {
        if let Some(shuffle) = node.downcast_ref::<UnresolvedShuffleExec>() {
            reads.push(shuffle.stage_id);
            if shuffle.broadcast {
                broadcast.push(shuffle.stage_id);
            }
        }
        Ok(TreeNodeRecursion::Continue)
    })
    .expect("visiting a plan does not fail");
    (reads, broadcast)
}
