//! The optimized logical plan as Substrait (cargo feature `substrait`): the protobuf bytes in
//! base64, made deterministic, and a round trip back to a DataFusion plan.

use base64::Engine as _;
use datafusion::common::Result;
use datafusion::execution::context::SessionState;
use datafusion::logical_expr::LogicalPlan;
use datafusion_substrait::logical_plan::consumer::from_substrait_plan;
use datafusion_substrait::logical_plan::producer::to_substrait_plan;
use prost::Message as _;

/// The Substrait plan as base64, and whether it reads back and optimizes to `optimized_text` (the
/// optimized plan's `display_indent`). An error means DataFusion cannot write the plan as
/// Substrait.
pub(super) async fn substrait(
    optimized: &LogicalPlan,
    optimized_text: &str,
    state: &SessionState,
) -> Result<(String, Result<bool>)> {
    let mut plan = to_substrait_plan(optimized, state)?;
    // The producer keeps extension declarations in hash maps seeded per map, so their order changes
    // from run to run; anchors are given in first-use order and stay. Any total order will do.
    plan.extensions
        .sort_by_cached_key(|declaration| format!("{:?}", declaration.mapping_type));
    let encoded = base64::engine::general_purpose::STANDARD.encode(plan.encode_to_vec());
    let round_trip = async {
        let read_back = from_substrait_plan(state, &plan).await?;
        let optimized_again = state.optimize(&read_back)?;
        Ok(optimized_again.display_indent().to_string() == optimized_text)
    }
    .await;
    Ok((encoded, round_trip))
}
