//! The classification is backed by plans: every option that is not classified plan-shape is flipped
//! to a non-default value, and the logical and physical plans of all 22 TPC-H queries over real
//! (empty) Parquet tables must stay the same.

use dfpolicy::datafusion::physical_plan::displayable;
use dfpolicy::datafusion::prelude::SessionContext;
use dfpolicy::policy::PolicyOptions;
use dfpolicy::registry::toml_literal;
use dfpolicy::registry::{EngineOption, ValueKind, registry};
use dfpolicy::registry::{SettingClass, classify};
use dfpolicy::workload::tpch;
use dfpolicy::{SessionFactory, compile};

const PINNED: &str =
    "[policy]\nname = \"p\"\n[execution]\ntarget_partitions = 4\nplanning_concurrency = 4\n";

/// Candidate values tried, in order, until the registry accepts one that differs from the default.
const TEXT_CANDIDATES: &[&str] = &[
    "tree",
    "summary",
    "rows",
    "snappy",
    "chunk",
    "plain",
    "2.0",
    "ISO8601",
    "zstd",
    "LAST_WIN",
    "%Y",
    "NULL",
    "x",
    "/tmp/dfpolicy-spill",
];

/// A value the registry accepts for `option` that differs from its default, if there is one.
pub fn alternative_value(option: &EngineOption) -> Option<String> {
    let registry = registry();
    let default = option
        .default
        .as_deref()
        .and_then(|d| registry.check_value(&option.key, d).ok())
        .map(|c| c.0);
    let numeric = option
        .default
        .as_deref()
        .and_then(|d| d.parse::<u64>().ok())
        .unwrap_or(1);
    let candidates: Vec<String> = match option.kind {
        ValueKind::Boolean => vec!["true".into(), "false".into()],
        ValueKind::UnsignedInteger | ValueKind::SignedInteger => {
            vec![(numeric * 2 + 3).to_string(), "7".into(), "3".into()]
        }
        ValueKind::Float => vec!["0.5".into(), "0.25".into()],
        ValueKind::Capacity => vec!["7M".into(), "3M".into()],
        ValueKind::Duration => vec!["1m".into()],
        ValueKind::Text | ValueKind::Choice => {
            TEXT_CANDIDATES.iter().map(|s| s.to_string()).collect()
        }
    };
    candidates.into_iter().find(|candidate| {
        registry
            .check_value(&option.key, candidate)
            .is_ok_and(|c| Some(&c.0) != default.as_ref())
    })
}

async fn plans(ctx: &SessionContext) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for query in tpch::QUERIES {
        let state = ctx.state();
        let logical = state.create_logical_plan(query.sql).await.unwrap();
        let optimized = state.optimize(&logical).unwrap();
        // The query planner takes the optimized plan as it is (`SessionState::create_physical_plan`
        // would optimize it a second time).
        let physical = state
            .query_planner()
            .create_physical_plan(&optimized, &state)
            .await
            .unwrap();
        out.push((
            query.name.to_string(),
            optimized.display_indent_schema().to_string(),
            displayable(physical.as_ref()).indent(true).to_string(),
        ));
    }
    out
}

async fn context_for(text: &str, tables: &std::path::Path) -> SessionContext {
    let options: PolicyOptions = toml::from_str(text).unwrap();
    let ctx = SessionFactory::new(compile(&options).unwrap())
        .unwrap()
        .context()
        .unwrap();
    tpch::register_tables(&ctx, tables).await.unwrap();
    ctx
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn options_that_are_not_plan_shape_leave_all_tpch_plans_unchanged() {
    let tables = tempfile::tempdir().unwrap();
    tpch::write_empty_tables(tables.path()).unwrap();
    let baseline = plans(&context_for(PINNED, tables.path()).await).await;
    assert_eq!(baseline.len(), 22);

    let mut flipped = 0;
    let mut failures = Vec::new();
    for option in registry().options() {
        if classify(option).0 == SettingClass::PlanShape {
            continue;
        }
        let Some(value) = alternative_value(option) else {
            failures.push(format!(
                "{}: no non-default value found to flip to",
                option.key
            ));
            continue;
        };
        let text = format!(
            "{PINNED}[settings]\n{:?} = {}\n",
            option.key,
            toml_literal(option.kind, &value)
        );
        let changed = plans(&context_for(&text, tables.path()).await).await;
        for ((query, logical, physical), (_, logical2, physical2)) in baseline.iter().zip(&changed)
        {
            if logical != logical2 {
                failures.push(format!(
                    "{} = {value} changes the logical plan of {query}",
                    option.key
                ));
            }
            if physical != physical2 {
                failures.push(format!("{} = {value} changes the physical plan of {query}:\n{physical}\n---\n{physical2}", option.key));
            }
        }
        flipped += 1;
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(flipped > 60, "only {flipped} options flipped");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plan_shape_option_does_change_some_plan() {
    // The check above can fail: flipping a plan-shape option is visible in the same comparison.
    let tables = tempfile::tempdir().unwrap();
    tpch::write_empty_tables(tables.path()).unwrap();
    let baseline = plans(&context_for(PINNED, tables.path()).await).await;
    let changed = plans(
        &context_for(
            &format!("{PINNED}[joins]\nprefer_hash_join = false\n"),
            tables.path(),
        )
        .await,
    )
    .await;
    assert!(baseline.iter().zip(&changed).any(|(a, b)| a.2 != b.2));
}
