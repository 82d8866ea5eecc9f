//! The optimized logical plan as Substrait (cargo feature `substrait`): the protobuf bytes in
//! base64, made deterministic, and a round trip back to a DataFusion plan.

use base64::Engine as _;
use datafusion::common::{DFSchema, Result};
use datafusion::execution::context::SessionState;
use datafusion::logical_expr::LogicalPlan;
use datafusion_substrait::logical_plan::consumer::from_substrait_plan;
use datafusion_substrait::logical_plan::producer::to_substrait_plan;
use prost::Message as _;

use super::model::{PlanLineDifference, SubstraitReadBack};
use super::paths::PathNormalizer;

/// The optimized plan as Substrait, and what reading it back gave.
pub(super) struct SubstraitPlan {
    /// Base64 of the protobuf bytes.
    pub encoded: String,
    /// The comparison of the plan read back with the optimized plan, or why it does not read back.
    pub read_back: Result<SubstraitReadBack>,
}

/// `optimized` as a Substrait plan, read back and optimized again, and compared with
/// `optimized_text` (its text as the bundle holds it: normalized by `normalizer`, which is applied
/// to the plan read back as well). An error means DataFusion cannot write the plan as Substrait.
pub(super) async fn substrait(
    optimized: &LogicalPlan,
    optimized_text: &str,
    normalizer: &PathNormalizer,
    state: &SessionState,
) -> Result<SubstraitPlan> {
    let mut plan = to_substrait_plan(optimized, state)?;
    // The producer keeps extension declarations in hash maps seeded per map, so their order changes
    // from run to run; anchors are given in first-use order and stay. Any total order will do.
    plan.extensions
        .sort_by_cached_key(|declaration| format!("{:?}", declaration.mapping_type));
    let encoded = base64::engine::general_purpose::STANDARD.encode(plan.encode_to_vec());
    let read_back = async {
        let read_back = from_substrait_plan(state, &plan).await?;
        let optimized_again = state.optimize(&read_back)?;
        Ok(SubstraitReadBack {
            output_differences: output_differences(optimized.schema(), optimized_again.schema()),
            first_difference: first_differing_line(
                optimized_text,
                &normalizer.normalize(&optimized_again.display_indent().to_string()),
            ),
        })
    }
    .await;
    Ok(SubstraitPlan { encoded, read_back })
}

/// Column by column, how `read_back`'s output differs from `expected`'s: names, data types and
/// nullability. Qualifiers are left out: they name the relation a column came from, which a
/// consumer of the results does not see.
fn output_differences(expected: &DFSchema, read_back: &DFSchema) -> Vec<String> {
    let (expected, read_back) = (expected.fields(), read_back.fields());
    let mut differences = Vec::new();
    if expected.len() != read_back.len() {
        differences.push(format!(
            "{} output columns became {}",
            expected.len(),
            read_back.len()
        ));
    }
    for (position, (before, after)) in expected.iter().zip(read_back.iter()).enumerate() {
        let column = position + 1;
        if before.name() != after.name() {
            differences.push(format!(
                "column {column}: name `{}` became `{}`",
                before.name(),
                after.name()
            ));
        }
        if before.data_type() != after.data_type() {
            differences.push(format!(
                "column {column} `{}`: type {} became {}",
                before.name(),
                before.data_type(),
                after.data_type()
            ));
        }
        if before.is_nullable() != after.is_nullable() {
            let nullability = |nullable: bool| if nullable { "nullable" } else { "not null" };
            differences.push(format!(
                "column {column} `{}`: {} became {}",
                before.name(),
                nullability(before.is_nullable()),
                nullability(after.is_nullable())
            ));
        }
    }
    differences
}

/// The first line (from 1) where two texts differ; a missing line counts as empty.
fn first_differing_line(expected: &str, read_back: &str) -> Option<PlanLineDifference> {
    let (mut expected_lines, mut read_back_lines) = (expected.lines(), read_back.lines());
    let mut line = 0;
    loop {
        line += 1;
        match (expected_lines.next(), read_back_lines.next()) {
            (None, None) => return None,
            (before, after) if before == after => continue,
            (before, after) => {
                return Some(PlanLineDifference {
                    line,
                    expected: before.unwrap_or_default().to_string(),
                    read_back: after.unwrap_or_default().to_string(),
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::datatypes::{DataType, Field, Schema};

    use super::*;

    #[test]
    fn the_first_differing_line_counts_from_one_and_sees_a_missing_line() {
        assert_eq!(first_differing_line("a\nb", "a\nb"), None);
        assert_eq!(
            first_differing_line("a\nb\nc", "a\nB\nc"),
            Some(PlanLineDifference {
                line: 2,
                expected: "b".into(),
                read_back: "B".into()
            })
        );
        assert_eq!(
            first_differing_line("a", "a\nb"),
            Some(PlanLineDifference {
                line: 2,
                expected: String::new(),
                read_back: "b".into()
            })
        );
    }

    #[test]
    fn output_differences_name_each_column_that_changed() {
        let schema =
            |fields: Vec<Field>| DFSchema::try_from(Arc::new(Schema::new(fields))).unwrap();
        let expected = schema(vec![
            Field::new("a", DataType::Int64, false),
            Field::new("b", DataType::Utf8View, true),
        ]);
        assert!(output_differences(&expected, &expected).is_empty());
        let read_back = schema(vec![
            Field::new("a", DataType::Int64, true),
            Field::new("c", DataType::Utf8, true),
        ]);
        assert_eq!(
            output_differences(&expected, &read_back),
            [
                "column 1 `a`: not null became nullable",
                "column 2: name `b` became `c`",
                "column 2 `b`: type Utf8View became Utf8",
            ]
        );
    }
}
