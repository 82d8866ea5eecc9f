//! `EXPLAIN ANALYZE`, reduced to what is the same in every run: each operator's output rows
//! (DataFusion's `rows` metric category). Times, memory and bytes are never recorded.

use std::sync::Arc;

use datafusion::common::Result;
use datafusion::execution::context::SessionState;
use datafusion::physical_plan::{ExecutionPlan, collect};

use super::model::OperatorRows;

/// Runs the plan to completion, then reads every operator's output row count, depth first.
pub(super) async fn output_rows(
    plan: &Arc<dyn ExecutionPlan>,
    state: &SessionState,
) -> Result<Vec<OperatorRows>> {
    collect(Arc::clone(plan), state.task_ctx()).await?;
    let mut rows = Vec::new();
    walk(plan.as_ref(), 0, &mut rows);
    Ok(rows)
}

fn walk(plan: &dyn ExecutionPlan, depth: u32, rows: &mut Vec<OperatorRows>) {
    rows.push(OperatorRows {
        depth,
        operator: plan.name().to_string(),
        output_rows: plan
            .metrics()
            .and_then(|metrics| metrics.output_rows())
            .map(|n| n as u64),
    });
    for child in plan.children() {
        walk(child.as_ref(), depth + 1, rows);
    }
}
