//! Plan bundles: how one query was planned under one policy, faithful to DataFusion's `EXPLAIN`,
//! traced rule by rule in the same planning pass, and the same bytes on every run, in every process
//! and on any number of cores.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use datafusion::arrow::array::{Array, StringArray};
use datafusion::arrow::util::pretty::pretty_format_batches;
use datafusion::prelude::SessionContext;
use dfpolicy::bundle::{
    BundleError, Bundler, CaptureStep, Phase, PlanBundle, PlanKind, bundle_schema,
};
use dfpolicy::policy::options::ExplainFormat;
use dfpolicy::{Policy, SessionFactory, Workload};

use crate::copy_dir;
use crate::repo;
use crate::workload::{builtin, tpch_data};

pub(crate) fn factory(policy: &str) -> SessionFactory {
    let compiled = Policy::load(repo().join("policies").join(policy))
        .unwrap()
        .compiled;
    SessionFactory::new(compiled).unwrap()
}

/// A policy extending the bundled baseline with an `[explain]` section, written under `dir`.
fn baseline_with(dir: &Path, name: &str, explain: &str) -> SessionFactory {
    baseline_plus(dir, name, &format!("[explain]\n{explain}"))
}

/// A policy extending the bundled baseline with more sections (TOML text), written under `dir`.
pub(crate) fn baseline_plus(dir: &Path, name: &str, sections: &str) -> SessionFactory {
    let path = dir.join(format!("{name}.toml"));
    let baseline = repo().join("policies/baseline.toml");
    let text = format!(
        "[policy]\nname = {name:?}\nextends = {:?}\n\n{sections}\n",
        baseline.display().to_string()
    );
    std::fs::write(&path, text).unwrap();
    let compiled = Policy::loader().root("/").load(&path).unwrap().compiled;
    SessionFactory::new(compiled).unwrap()
}

/// Every bundled policy, by file name.
fn bundled_policies() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(repo().join("policies"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".toml"))
        .collect();
    names.sort();
    names
}

/// `EXPLAIN …` through SQL: rows of (plan_type, plan).
async fn explain_rows(ctx: &SessionContext, sql: &str) -> Vec<(String, String)> {
    let batches = ctx.sql(sql).await.unwrap().collect().await.unwrap();
    let mut rows = Vec::new();
    for batch in batches {
        let column = |i: usize| {
            batch
                .column(i)
                .as_any()
                .downcast_ref::<StringArray>()
                .map(|a| {
                    (0..a.len())
                        .map(|r| a.value(r).to_string())
                        .collect::<Vec<_>>()
                })
                .unwrap_or_else(|| {
                    panic!(
                        "{}",
                        pretty_format_batches(std::slice::from_ref(&batch)).unwrap()
                    )
                })
        };
        rows.extend(column(0).into_iter().zip(column(1)));
    }
    rows
}

/// A plain `SessionContext` configured like the policy's sessions: the same config, the rules the
/// policy disables removed, the workload's tables registered the same way.
async fn plain_context(factory: &SessionFactory, workload: &Workload) -> SessionContext {
    let ctx = SessionContext::new_with_config(factory.session_config().clone());
    let compiled = factory.compiled();
    for rule in datafusion::optimizer::Optimizer::new().rules {
        if !compiled.rules.logical.iter().any(|r| r == rule.name()) {
            assert!(ctx.remove_optimizer_rule(rule.name()));
        }
    }
    workload.register_tables(&ctx).await.unwrap();
    ctx
}

#[tokio::test(flavor = "multi_thread")]
async fn plans_are_what_explain_prints_for_the_same_query() {
    let workload = builtin(false).await;
    // The bundled policies ask for `tree` and `pgjson`; one more asks for `graphviz`.
    let dir = tempfile::tempdir().unwrap();
    let graphviz = "graphviz";
    for policy in [
        "baseline.toml",
        "deterministic-trace.toml",
        "low-memory-smj.toml",
        graphviz,
    ] {
        let factory = if policy == graphviz {
            baseline_with(dir.path(), graphviz, "formats = [\"graphviz\", \"indent\"]")
        } else {
            factory(policy)
        };
        let bundler = Bundler::new(&factory, &workload).await.unwrap();
        let ctx = plain_context(&factory, &workload).await;
        for name in ["q01", "q03", "q05", "q09", "q13", "q18", "q21", "q22"] {
            let query = workload.query(name).unwrap();
            let bundle = bundler.bundle(query).await.unwrap();
            assert!(bundle.warnings.is_empty(), "{:?}", bundle.warnings);
            let normalize = |text: &str| bundler.normalizer().normalize(text);
            let rows = explain_rows(&ctx, &format!("EXPLAIN {}", query.sql())).await;
            let row = |kind: &str| {
                rows.iter()
                    .find(|(t, _)| t == kind)
                    .map(|(_, plan)| normalize(plan))
                    .unwrap_or_else(|| panic!("no {kind} row in {rows:?}"))
            };
            let plans = &bundle.plans;
            assert_eq!(
                plans.optimized_logical.as_deref(),
                Some(&*row("logical_plan")),
                "{policy} {name}"
            );
            assert_eq!(
                plans.physical.as_deref(),
                Some(&*row("physical_plan")),
                "{policy} {name}"
            );
            let formats: Vec<ExplainFormat> = plans.renderings.iter().map(|r| r.format).collect();
            let expected = match policy {
                "deterministic-trace.toml" => vec![ExplainFormat::Tree, ExplainFormat::Pgjson],
                _ if policy == graphviz => vec![ExplainFormat::Graphviz],
                _ => vec![ExplainFormat::Tree],
            };
            assert_eq!(formats, expected, "{policy}");
            for rendering in &plans.renderings {
                let (format, kind) = match (rendering.format, rendering.plan) {
                    (ExplainFormat::Tree, PlanKind::Physical) => ("tree", "physical_plan"),
                    (ExplainFormat::Pgjson, PlanKind::OptimizedLogical) => {
                        ("pgjson", "logical_plan")
                    }
                    (ExplainFormat::Graphviz, PlanKind::OptimizedLogical) => {
                        ("graphviz", "logical_plan")
                    }
                    other => panic!("unexpected rendering {other:?}"),
                };
                let rows =
                    explain_rows(&ctx, &format!("EXPLAIN FORMAT {format} {}", query.sql())).await;
                let expected = rows
                    .iter()
                    .find(|(t, _)| t == kind)
                    .map(|(_, p)| normalize(p));
                assert_eq!(
                    Some(&rendering.text),
                    expected.as_ref(),
                    "{policy} {name} {format}"
                );
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_trace_is_the_planning_pass_that_made_the_plans() {
    let workload = builtin(false).await;
    let factory = factory("deterministic-trace.toml");
    let bundler = Bundler::new(&factory, &workload).await.unwrap();
    let ctx = plain_context(&factory, &workload).await;
    for query in workload.queries() {
        let bundle = bundler.bundle(query).await.unwrap();
        let trace = bundle
            .optimizer_trace
            .as_ref()
            .expect("the policy asks for a trace");
        let last_plan = |phases: &[Phase]| {
            trace
                .steps
                .iter()
                .rfind(|s| phases.contains(&s.phase) && s.changed)
                .and_then(|s| s.plan.clone())
        };
        // The last logical plan of the trace is P1 (or P0 when no rule changed it), the last physical
        // plan is P2.
        let logical =
            last_plan(&[Phase::Analyzer, Phase::Logical]).or(bundle.plans.initial_logical.clone());
        assert_eq!(logical, bundle.plans.optimized_logical, "{}", query.name);
        let physical = last_plan(&[Phase::Physical]).or(trace.initial_physical.clone());
        assert_eq!(physical, bundle.plans.physical, "{}", query.name);

        // The rules, in order, are the rows of EXPLAIN VERBOSE; logical texts and "changed" agree
        // with its SAME TEXT AS ABOVE.
        let rows = explain_rows(&ctx, &format!("EXPLAIN VERBOSE {}", query.sql())).await;
        let normalize = |text: &str| bundler.normalizer().normalize(text);
        let verbose_initial = rows
            .iter()
            .find(|(t, _)| t == "initial_logical_plan")
            .unwrap();
        assert_eq!(
            Some(normalize(&verbose_initial.1)),
            bundle.plans.initial_logical
        );
        let after: Vec<&(String, String)> = rows
            .iter()
            .filter(|(t, _)| t.contains("_plan after "))
            .collect();
        let traced: Vec<String> = trace
            .steps
            .iter()
            .map(|s| format!("{} {}", s.phase.explain_prefix(), s.rule))
            .collect();
        let verbose: Vec<&str> = after.iter().map(|(t, _)| t.as_str()).collect();
        assert_eq!(traced, verbose, "{}", query.name);
        for (step, (_, text)) in trace.steps.iter().zip(&after) {
            if step.phase == Phase::Physical {
                continue; // EXPLAIN VERBOSE prints physical plans in their verbose form
            }
            assert_eq!(
                step.changed,
                text != "SAME TEXT AS ABOVE",
                "{} {}",
                query.name,
                step.rule
            );
            if step.changed {
                assert_eq!(step.plan.as_deref(), Some(&*normalize(text)));
            } else {
                assert_eq!(step.plan, None);
            }
        }
        // Physical steps are named by index: names repeat.
        let physical: Vec<(u32, &str)> = trace
            .steps
            .iter()
            .filter(|s| s.phase == Phase::Physical)
            .map(|s| (s.index, s.rule.as_str()))
            .collect();
        let rules: Vec<&str> = factory
            .compiled()
            .rules
            .physical
            .iter()
            .map(String::as_str)
            .collect();
        assert_eq!(
            physical,
            rules
                .iter()
                .enumerate()
                .map(|(i, r)| (i as u32, *r))
                .collect::<Vec<_>>()
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn bundles_are_the_same_bytes_on_every_build() {
    let workload = builtin(false).await;
    for policy in bundled_policies() {
        let factory = factory(&policy);
        let first = Bundler::new(&factory, &workload).await.unwrap();
        let second = Bundler::new(&factory, &workload).await.unwrap();
        assert_eq!(workload.queries().len(), 22);
        for query in workload.queries() {
            let a = first.bundle(query).await.unwrap().to_json();
            // Twice on one bundler (a state reused would number `__common_expr_N` on), once on another.
            let b = first.bundle(query).await.unwrap().to_json();
            let c = second.bundle(query).await.unwrap().to_json();
            assert_eq!(a, b, "{policy} {}", query.name);
            assert_eq!(a, c, "{policy} {}", query.name);
            assert!(
                !a.contains(env!("CARGO_TARGET_TMPDIR")),
                "{policy} {}: a path",
                query.name
            );
            // It reads back, and is valid against the checked-in schema.
            let bundle = PlanBundle::from_json(&a).unwrap();
            assert_eq!(bundle.to_json(), a);
            let value: serde_json::Value = serde_json::from_str(&a).unwrap();
            let validator = jsonschema::draft7::new(bundle_schema()).unwrap();
            assert!(validator.is_valid(&value), "{policy} {}", query.name);
        }
    }
}

/// `dfpolicy bundle` in a new process pinned to `cpus`, over the tests' TPC-H data.
fn bundle_in_process(cpus: &str, policy: &str, workload: &str, query: &str) -> String {
    let output = Command::new("taskset")
        .args(["-c", cpus, env!("CARGO_BIN_EXE_dfpolicy"), "bundle"])
        .args(["--policy", &format!("policies/{policy}")])
        .args(["--workload", workload, "--query", query])
        .env("DFPOLICY_DATA_DIR", tpch_data().root())
        .current_dir(repo())
        .output()
        .expect("taskset runs");
    // Exit 1 only for failed capture steps that are part of the bundle (with `--features substrait`,
    // plans with literals the Substrait producer does not support, such as Delta's
    // dictionary-encoded partition values); the bytes are compared by the caller.
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success()
            || (output.status.code() == Some(1)
                && stderr
                    .lines()
                    .all(|l| l.starts_with("warning (failed step): substrait:"))),
        "{stderr}"
    );
    String::from_utf8(output.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn bundles_are_the_same_bytes_in_other_processes_on_one_or_two_cores() {
    if Command::new("taskset").arg("-V").output().is_err() {
        panic!("taskset (util-linux) is needed to pin the CLI to one or two cores");
    }
    let parquet = builtin(false).await;
    let delta = builtin(true).await;
    for policy in bundled_policies() {
        let factory = factory(&policy);
        for (workload, name) in [(&parquet, "tpch"), (&delta, "tpch-delta")] {
            let bundler = Bundler::new(&factory, workload).await.unwrap();
            // Every query for Parquet; a few for Delta, whose file names are normalized too.
            let queries: Vec<_> = workload
                .queries()
                .iter()
                .filter(|q| name == "tpch" || ["q01", "q06", "q12"].contains(&q.name.as_str()))
                .collect();
            for query in queries {
                let here = bundler.bundle(query).await.unwrap().to_json();
                let one = bundle_in_process("0", &policy, name, &query.name);
                let two = bundle_in_process("0,1", &policy, name, &query.name);
                assert_eq!(here, one, "{policy} {name} {}: one core", query.name);
                assert_eq!(here, two, "{policy} {name} {}: two cores", query.name);
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn identity_pins_the_tables_and_fingerprints_the_template() {
    let workload = builtin(true).await;
    let factory = factory("baseline.toml");
    let bundler = Bundler::new(&factory, &workload).await.unwrap();
    let bundle = bundler
        .bundle(workload.query("q03").unwrap())
        .await
        .unwrap();
    let compiled = factory.compiled();
    assert_eq!(bundle.policy.name, "baseline");
    assert_eq!(
        bundle.policy.plan_environment_hash,
        compiled.hashes.plan_environment_hash
    );
    assert_eq!(bundle.datafusion_version, "55.2.0");
    assert_eq!(bundle.query.file, "tpch/q03.sql");
    let tables: Vec<(&str, &str, Option<u64>, u64)> = bundle
        .tables
        .iter()
        .map(|(n, p)| (n.as_str(), p.location.as_str(), p.delta_version, p.files))
        .collect();
    assert_eq!(
        tables,
        [
            (
                "customer",
                "$TPCH_DATA/tpch/sf0.01/delta/customer",
                Some(0),
                1
            ),
            (
                "lineitem",
                "$TPCH_DATA/tpch/sf0.01/delta/lineitem",
                Some(1),
                14
            ),
            ("orders", "$TPCH_DATA/tpch/sf0.01/delta/orders", Some(0), 1),
        ]
    );
    for hash in [&bundle.plan_fingerprint, &bundle.query.query_fingerprint] {
        assert!(hash.starts_with("v1:") && hash.len() == 3 + 64, "{hash}");
    }
    // Delta data files keep their place in the table's log, not their random names.
    let physical = bundle.plans.physical.as_deref().unwrap();
    assert!(
        physical.contains("l_shipmode=AIR/part-00000-<uuid#"),
        "{physical}"
    );

    // The plan fingerprint follows the policy's plan environment; the query fingerprint does not.
    let other = Bundler::new(&self::factory("low-memory-smj.toml"), &workload)
        .await
        .unwrap();
    let under_other = other.bundle(workload.query("q03").unwrap()).await.unwrap();
    assert_eq!(
        under_other.query.query_fingerprint,
        bundle.query.query_fingerprint
    );
    assert_ne!(under_other.plan_fingerprint, bundle.plan_fingerprint);
}

pub(crate) fn sales() -> Workload {
    Workload::load(repo().join("workloads/sales/sales.toml")).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn each_parameter_set_is_a_bundle_of_its_own_sharing_the_template() {
    let workload = sales();
    let factory = factory("baseline.toml");
    let bundler = Bundler::new(&factory, &workload).await.unwrap();
    let query = workload.query("orders_since").unwrap();
    assert_eq!(query.placeholders, ["$country", "$since"]);
    let us = bundler
        .bundle(query)
        .parameters("us-november")
        .await
        .unwrap();
    let uk = bundler.bundle(query).parameters("uk-all").await.unwrap();
    // CSV has no statistics: the only warning is the join planned over unknown row counts.
    assert!(
        us.warnings
            .iter()
            .all(|w| w.step == CaptureStep::Statistics),
        "{:?}",
        us.warnings
    );
    let values = |b: &PlanBundle| b.query.parameters.as_ref().unwrap().values.clone();
    assert_eq!(
        values(&us),
        BTreeMap::from([
            ("$country".to_string(), "US".to_string()),
            ("$since".to_string(), "2026-11-01".to_string())
        ])
    );
    assert_eq!(us.query.query_fingerprint, uk.query.query_fingerprint);
    assert_ne!(us.plan_fingerprint, uk.plan_fingerprint);
    // The string became a date: the type the query gives `$since`.
    let logical = us.plans.optimized_logical.as_deref().unwrap();
    assert!(
        logical.contains(r#"orders.ordered_on >= Date32("2026-11-01")"#),
        "{logical}"
    );
    assert!(!logical.contains('$'), "{logical}");
    assert_eq!(us.query.file, "queries/orders_since.sql");
    assert_eq!(us.tables["orders"].location, "data/orders");
    assert!(
        us.plans
            .physical
            .as_deref()
            .unwrap()
            .contains("[[data/orders/2026-10.csv]")
    );

    let error = bundler.bundle(query).await.unwrap_err();
    assert!(
        matches!(error, BundleError::ParameterSetRequired { .. }),
        "{error}"
    );
    let error = bundler.bundle(query).parameters("nl").await.unwrap_err();
    assert_eq!(
        error.to_string(),
        "query `orders_since` has no parameter set `nl` (it has: us-november, uk-all)"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_query_file_outside_the_workload_and_a_failing_step() {
    let workload = sales();
    let factory = factory("baseline.toml");
    let bundler = Bundler::new(&factory, &workload).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("missing_table.sql");
    std::fs::write(&file, "SELECT * FROM no_such_table").unwrap();
    let query = workload.query_file(&file).unwrap();
    let bundle = bundler.bundle(&query).await.unwrap();
    // The bundle is still made: the failed step is named and the plans are empty.
    assert_eq!(bundle.warnings.len(), 1);
    assert_eq!(bundle.warnings[0].step, CaptureStep::InitialLogical);
    assert!(bundle.warnings[0].message.contains("no_such_table"));
    assert_eq!(bundle.plans.initial_logical, None);
    assert_eq!(bundle.plans.physical, None);

    let placeholders = dir.path().join("by_amount.sql");
    std::fs::write(&placeholders, "SELECT * FROM orders WHERE amount > $1").unwrap();
    let query = workload.query_file(&placeholders).unwrap();
    let error = bundler.bundle(&query).await.unwrap_err();
    assert_eq!(
        error.to_string(),
        "query `by_amount` has placeholders ($1) and no parameter set: declare one with [[parameters]] in the workload file"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn analyze_records_output_rows_only() {
    let dir = tempfile::tempdir().unwrap();
    let factory = baseline_with(dir.path(), "analyze", "analyze = true");
    let workload = builtin(false).await;
    let bundler = Bundler::new(&factory, &workload).await.unwrap();
    let bundle = bundler
        .bundle(workload.query("q06").unwrap())
        .await
        .unwrap();
    let rows = bundle.analyze.as_ref().unwrap();
    // The root returns the one row of revenue; the scan's rows are all of lineitem's that survive pruning.
    assert_eq!(rows[0].depth, 0);
    assert_eq!(rows[0].output_rows, Some(1));
    let json = serde_json::to_string(&bundle.analyze).unwrap();
    for word in ["elapsed", "time", "bytes", "memory"] {
        assert!(!json.contains(&format!("\"{word}")), "{word} in {json}");
    }
    // Row counts repeat on another run.
    let again = bundler
        .bundle(workload.query("q06").unwrap())
        .await
        .unwrap();
    assert_eq!(again.analyze, bundle.analyze);
}

#[test]
fn bundle_json_reads_like_the_schema_says() {
    let schema = bundle_schema();
    let properties = schema["properties"].as_object().unwrap();
    let fields: Vec<&str> = properties.keys().map(String::as_str).collect();
    assert_eq!(
        fields,
        [
            "bundle_format",
            "policy",
            "datafusion_version",
            "workload",
            "query",
            "tables",
            "plan_fingerprint",
            "plans",
            "physical_topology_hash",
            "optimizer_trace",
            "analyze",
            "delta_scans",
            "statistics",
            "properties",
            "pushdown",
            "lineage",
            "substrait",
            "substrait_round_trip",
            "substrait_read_back",
            "distributed_stages",
            "findings",
            "warnings"
        ]
    );
    assert!(Path::new(&repo().join(dfpolicy::bundle::SCHEMA_PATH)).is_file());
}

#[tokio::test(flavor = "multi_thread")]
async fn delta_scans_count_the_files_that_partition_pruning_keeps() {
    let workload = builtin(true).await;
    let bundler = Bundler::new(&factory("baseline.toml"), &workload)
        .await
        .unwrap();
    // Q12 reads `l_shipmode in ('MAIL', 'SHIP')`: 2 of the 7 partitions, one file each per version.
    let q12 = bundler
        .bundle(workload.query("q12").unwrap())
        .await
        .unwrap();
    let scans: Vec<String> = q12
        .delta_scans
        .iter()
        .map(|s| {
            format!(
                "{} v{}: {} of {}",
                s.table.as_deref().unwrap_or("?"),
                s.version.unwrap_or_default(),
                s.files_selected,
                s.files_in_version.unwrap_or_default()
            )
        })
        .collect();
    assert_eq!(scans, ["lineitem v1: 4 of 14", "orders v0: 1 of 1"]);
    let lineitem = &q12.delta_scans[0];
    assert_eq!(lineitem.selected_ratio, Some(4.0 / 14.0));
    let partitions: Vec<&str> = lineitem
        .selected
        .iter()
        .map(|f| f.split('/').next().unwrap())
        .collect();
    assert_eq!(
        partitions,
        [
            "l_shipmode=MAIL",
            "l_shipmode=MAIL",
            "l_shipmode=SHIP",
            "l_shipmode=SHIP"
        ]
    );
    assert!(
        lineitem.selected.iter().all(|f| f.contains("<uuid#")),
        "{:?}",
        lineitem.selected
    );
    // The Parquet scan prunes with the rest of the predicate; the partition filter was the log's.
    let predicate = lineitem.pruning_predicate.as_deref().unwrap();
    assert!(predicate.contains("l_receiptdate"), "{predicate}");
    assert!(
        q12.to_text()
            .contains("lineitem version 1: 4 file(s) of 14")
    );

    // A Parquet workload has no Delta scans.
    let parquet = builtin(false).await;
    let bundler = Bundler::new(&factory("baseline.toml"), &parquet)
        .await
        .unwrap();
    let bundle = bundler.bundle(parquet.query("q12").unwrap()).await.unwrap();
    assert!(bundle.delta_scans.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn the_topology_hash_follows_the_shape_not_the_values() {
    let sales = sales();
    let bundler = Bundler::new(&factory("baseline.toml"), &sales)
        .await
        .unwrap();
    let query = sales.query("orders_since").unwrap();
    let us = bundler
        .bundle(query)
        .parameters("us-november")
        .await
        .unwrap();
    let uk = bundler.bundle(query).parameters("uk-all").await.unwrap();
    // Other values, other plans, one shape.
    assert_ne!(us.plans.physical, uk.plans.physical);
    assert_eq!(us.physical_topology_hash, uk.physical_topology_hash);
    let hash = us.physical_topology_hash.as_deref().unwrap();
    assert!(hash.starts_with("v1:") && hash.len() == 67, "{hash}");

    // Sort-merge joins instead of hash joins: another shape.
    let workload = builtin(false).await;
    let q03 = workload.query("q03").unwrap();
    let hash_joins = Bundler::new(&factory("baseline.toml"), &workload)
        .await
        .unwrap();
    let merge_joins = Bundler::new(&factory("low-memory-smj.toml"), &workload)
        .await
        .unwrap();
    let a = hash_joins.bundle(q03).await.unwrap();
    let b = merge_joins.bundle(q03).await.unwrap();
    assert!(
        b.plans
            .physical
            .as_deref()
            .unwrap()
            .contains("SortMergeJoin")
    );
    assert_ne!(a.physical_topology_hash, b.physical_topology_hash);

    // The same tables re-created elsewhere (other absolute paths, same layout): the same shape, and
    // the same bundle.
    let copy = tempfile::tempdir().unwrap();
    copy_dir(&repo().join("workloads/sales"), copy.path());
    let moved = Workload::load(copy.path().join("sales.toml")).unwrap();
    let bundler = Bundler::new(&factory("baseline.toml"), &moved)
        .await
        .unwrap();
    let moved_us = bundler
        .bundle(moved.query("orders_since").unwrap())
        .parameters("us-november")
        .await
        .unwrap();
    assert_eq!(moved_us.physical_topology_hash, us.physical_topology_hash);
    assert_eq!(moved_us.to_json(), us.to_json());
}
