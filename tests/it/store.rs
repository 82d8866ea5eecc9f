//! The artifact store: one row per bundle of every run in an append-only Delta table that any Delta
//! reader can read; concurrent writers lose and duplicate nothing; credentials never reach it; runs
//! compare with `check`'s attribution; equal inputs with different plans are found.

use std::path::Path;
use std::sync::Arc;

use datafusion::arrow::array::{Array, AsArray};
use datafusion::prelude::SessionContext;
use dfpolicy::Workload;
use dfpolicy::harness::{
    Cause, Cell, CellKey, CellStatus, Harness, HarnessRun, PolicySet, Progress,
};
use dfpolicy::store::{ArtifactStore, RunContext, store_schema};

use crate::repo;
use crate::workload::tpch_data;

/// A workload over the TPC-H `lineitem` file with two queries, and a policy folder with the bundled
/// baseline and `extra` (a policy file's text) as `second.toml`.
struct Setup {
    _dir: tempfile::TempDir,
    workload: Workload,
    policies: std::path::PathBuf,
}

fn setup(extra: &str) -> Setup {
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(crate::workload::builtin(false));
    let dir = tempfile::tempdir().unwrap();
    let lineitem = tpch_data().parquet_file("lineitem");
    crate::harness::write_lineitem_workload(dir.path(), lineitem.to_str().unwrap());
    std::fs::write(
        dir.path().join("counts.sql"),
        "SELECT l_returnflag, count(*) FROM lineitem GROUP BY l_returnflag",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("filtered.sql"),
        "SELECT sum(l_extendedprice) FROM lineitem WHERE l_quantity < 5",
    )
    .unwrap();
    let policies = dir.path().join("policies");
    std::fs::create_dir(&policies).unwrap();
    std::fs::copy(
        repo().join("policies/baseline.toml"),
        policies.join("baseline.toml"),
    )
    .unwrap();
    write_second(&policies, extra);
    let workload = Workload::load(dir.path().join("w.toml")).unwrap();
    Setup {
        _dir: dir,
        workload,
        policies,
    }
}

fn write_second(policies: &Path, sections: &str) {
    std::fs::write(
        policies.join("second.toml"),
        format!("[policy]\nname = \"second\"\nextends = \"baseline.toml\"\n\n{sections}\n"),
    )
    .unwrap();
}

fn harness_run(setup: &Setup) -> HarnessRun {
    let set = PolicySet::load(&setup.policies).unwrap();
    Harness::new(&set, &setup.workload)
        .jobs(2)
        .progress(Progress::Hidden)
        .run()
        .unwrap()
}

fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Runtime::new().unwrap().block_on(future)
}

/// Every row of the table, read with delta-rs and DataFusion directly (not through dfpolicy).
async fn read_with_datafusion(
    location: &Path,
    sql: &str,
) -> Vec<datafusion::arrow::array::RecordBatch> {
    let url = deltalake::ensure_table_uri(location.to_str().unwrap()).unwrap();
    let table = deltalake::open_table(url).await.unwrap();
    let ctx = SessionContext::new();
    let provider = table
        .table_provider()
        .with_session(Arc::new(ctx.state()))
        .await
        .unwrap();
    ctx.register_table("artifacts", provider).unwrap();
    ctx.sql(sql).await.unwrap().collect().await.unwrap()
}

fn single_i64(batches: &[datafusion::arrow::array::RecordBatch]) -> i64 {
    batches[0]
        .column(0)
        .as_primitive::<datafusion::arrow::datatypes::Int64Type>()
        .value(0)
}

#[test]
fn a_run_appends_one_row_per_bundle_that_any_delta_reader_reads() {
    let setup = setup("");
    let run = harness_run(&setup);
    let dir = tempfile::tempdir().unwrap();
    let location = dir.path().join("store");
    let store = ArtifactStore::new(location.to_str().unwrap()).unwrap();
    let context = RunContext::starting_now(Some("0123456789abcdef".into()));
    let appended = block_on(store.append(&run, &context)).unwrap();
    assert_eq!(appended.rows, 4, "2 policies × 2 queries");
    assert_eq!(appended.version, 0);

    let batches = block_on(read_with_datafusion(
        &location,
        "SELECT run_id, policy, query, status, git_commit, physical_plan, plans_digest, bundle \
         FROM artifacts ORDER BY policy, query",
    ));
    let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
    assert_eq!(rows, 4);
    let batch = &batches[0];
    let text = |column: usize, row: usize| {
        let column = datafusion::arrow::compute::cast(
            batch.column(column),
            &datafusion::arrow::datatypes::DataType::Utf8,
        )
        .unwrap();
        column.as_string::<i32>().value(row).to_string()
    };
    assert_eq!(text(0, 0), context.run_id);
    assert_eq!(
        (text(1, 0), text(2, 0)),
        ("baseline".into(), "counts".into())
    );
    assert_eq!(text(3, 0), "built");
    assert_eq!(text(4, 0), "0123456789abcdef");
    let bundle = dfpolicy::PlanBundle::from_json(&text(7, 0)).unwrap();
    assert_eq!(Some(text(5, 0)), bundle.plans.physical);
    assert_eq!(text(6, 0), dfpolicy::harness::plan_content_digest(&bundle));
    // The table's schema is the documented one: the columns of `store_schema()`, in its order,
    // with its nullability, and the columns the README's table of the store lists, in its order.
    let everything = block_on(read_with_datafusion(&location, "SELECT * FROM artifacts"));
    let schema = everything[0].schema();
    let columns = |fields: &datafusion::arrow::datatypes::Fields| -> Vec<(String, bool)> {
        fields
            .iter()
            .map(|f| (f.name().clone(), f.is_nullable()))
            .collect()
    };
    assert_eq!(columns(schema.fields()), columns(store_schema().fields()));
    for field in schema.fields() {
        let text = matches!(
            field.data_type(),
            datafusion::arrow::datatypes::DataType::Utf8
                | datafusion::arrow::datatypes::DataType::LargeUtf8
                | datafusion::arrow::datatypes::DataType::Utf8View
        );
        let timestamp = matches!(
            field.data_type(),
            datafusion::arrow::datatypes::DataType::Timestamp(_, Some(zone)) if zone.as_ref() == "UTC"
        );
        assert!(
            text != (field.name() == "run_started") && timestamp == (field.name() == "run_started"),
            "{}: {}",
            field.name(),
            field.data_type()
        );
    }
    let names: Vec<String> = columns(schema.fields())
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert_eq!(names, readme_store_columns());

    let runs = block_on(store.runs()).unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!((runs[0].cells, runs[0].failed), (4, 0));
    assert!(runs[0].started.ends_with('Z'), "{}", runs[0].started);
}

#[test]
fn four_concurrent_writers_lose_and_duplicate_no_rows() {
    let setup = setup("");
    let run = harness_run(&setup);
    let dir = tempfile::tempdir().unwrap();
    let location = dir.path().join("store");
    let location = location.to_str().unwrap().to_string();
    // Four processes' worth of writers, racing from an empty folder: one creates the table.
    std::thread::scope(|scope| {
        for _ in 0..4 {
            let (run, location) = (&run, &location);
            scope.spawn(move || {
                let store = ArtifactStore::new(location.clone()).unwrap();
                block_on(store.append(run, &RunContext::starting_now(None))).unwrap();
            });
        }
    });
    let store = ArtifactStore::new(location.clone()).unwrap();
    let runs = block_on(store.runs()).unwrap();
    assert_eq!(runs.len(), 4, "{runs:?}");
    assert!(runs.iter().all(|r| r.cells == 4));
    let total = block_on(read_with_datafusion(
        Path::new(&location),
        "SELECT count(*) FROM artifacts",
    ));
    let distinct = block_on(read_with_datafusion(
        Path::new(&location),
        "SELECT count(*) FROM (SELECT DISTINCT run_id, policy, query FROM artifacts)",
    ));
    assert_eq!((single_i64(&total), single_i64(&distinct)), (16, 16));
}

#[test]
fn credentials_in_policy_values_never_reach_the_store() {
    let setup = setup(
        "[settings]\n\"datafusion.catalog.location\" = \"s3://AKIAEXAMPLE:wJalrXUtnFEMIsecret@bucket/warehouse?sig=signaturevalue\"",
    );
    let run = harness_run(&setup);
    let dir = tempfile::tempdir().unwrap();
    let location = dir.path().join("store");
    let store = ArtifactStore::new(location.to_str().unwrap()).unwrap();
    block_on(store.append(&run, &RunContext::starting_now(None))).unwrap();
    let batches = block_on(read_with_datafusion(&location, "SELECT * FROM artifacts"));
    let mut settings_seen = false;
    for batch in &batches {
        for (field, column) in batch.schema().fields().iter().zip(batch.columns()) {
            let column = datafusion::arrow::compute::cast(
                column,
                &datafusion::arrow::datatypes::DataType::Utf8,
            )
            .unwrap();
            let strings = column.as_string::<i32>();
            for i in 0..strings.len() {
                if strings.is_null(i) {
                    continue;
                }
                let value = strings.value(i);
                for secret in ["AKIAEXAMPLE", "wJalrXUtnFEMIsecret", "signaturevalue"] {
                    assert!(!value.contains(secret), "{} holds `{secret}`", field.name());
                }
                settings_seen |= field.name() == "settings" && value.contains("s3://***@bucket");
            }
        }
    }
    assert!(
        settings_seen,
        "the redacted location is in the settings snapshot"
    );
}

#[test]
fn two_runs_compare_with_checks_attribution_and_nondeterminism_is_found() {
    let setup = setup("");
    let first = harness_run(&setup);
    write_second(
        &setup.policies,
        "[joins]\nprefer_hash_join = false\n\n[settings]\n\"datafusion.optimizer.repartition_aggregations\" = false",
    );
    let second = harness_run(&setup);
    let dir = tempfile::tempdir().unwrap();
    let store = ArtifactStore::new(dir.path().join("store").to_str().unwrap()).unwrap();
    let (a, b) = (
        RunContext::starting_now(None),
        RunContext::starting_now(None),
    );
    block_on(store.append(&first, &a)).unwrap();
    block_on(store.append(&second, &b)).unwrap();

    let comparison = block_on(store.diff(&a.run_id, &b.run_id)).unwrap();
    let counts = comparison.cell("second", "counts").unwrap();
    assert_eq!(counts.status, CellStatus::Changed);
    assert!(counts.causes.iter().any(|c| matches!(c,
        Cause::PolicySetting { key, plan_shape: true, .. } if key == "datafusion.optimizer.repartition_aggregations")));
    assert!(comparison.policy_unchanged("baseline"));
    assert!(block_on(store.determinism()).unwrap().is_empty());

    // A third run with the first run's inputs but another plan for one cell (as a planner bug
    // would make): the store finds it.
    let mut odd = first.clone();
    let key = CellKey::new("baseline", "filtered");
    if let Some(Cell::Built { bundle, .. }) = odd.cells.get_mut(&key) {
        bundle.plans.physical = Some("ProjectionExec: odd\n".into());
    }
    let c = RunContext::starting_now(None);
    block_on(store.append(&odd, &c)).unwrap();
    let findings = block_on(store.determinism()).unwrap();
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert_eq!(
        (findings[0].policy.as_str(), findings[0].query.as_str()),
        ("baseline", "filtered")
    );
    let runs: Vec<&Vec<String>> = findings[0].variants.values().collect();
    assert!(runs.contains(&&vec![c.run_id.clone()]));
}

#[test]
fn check_with_store_appends_and_store_runs_lists_it() {
    let setup = setup("");
    let dir = tempfile::tempdir().unwrap();
    let (store, baseline) = (dir.path().join("store"), dir.path().join("baseline"));
    let workload_file = setup.policies.parent().unwrap().join("w.toml");
    let dfpolicy = |args: &[&str]| crate::dfpolicy(args, dir.path());
    let check = dfpolicy(&[
        "check",
        "--policies",
        setup.policies.to_str().unwrap(),
        "--workload",
        workload_file.to_str().unwrap(),
        "--baseline",
        baseline.to_str().unwrap(),
        "--bless",
        "--store",
        store.to_str().unwrap(),
    ]);
    assert_eq!(
        check.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    assert!(String::from_utf8_lossy(&check.stderr).contains("stored run "));
    let runs = dfpolicy(&["store", "runs", "--store", store.to_str().unwrap()]);
    let text = String::from_utf8(runs.stdout).unwrap();
    assert_eq!(runs.status.code(), Some(0));
    assert!(text.ends_with("4 cells, 0 failed\n1 run\n"), "{text}");
    let determinism = dfpolicy(&["store", "determinism", "--store", store.to_str().unwrap()]);
    assert_eq!(determinism.status.code(), Some(0));
    assert_eq!(
        String::from_utf8(determinism.stdout).unwrap(),
        "0 non-deterministic bundles\n"
    );
}

/// The columns the table under "The artifact store" in `docs/check.md` lists, in order (a row may
/// name several: `` `policy_hash`, `settings_hash` ``).
fn readme_store_columns() -> Vec<String> {
    let page = std::fs::read_to_string(repo().join("docs/check.md")).unwrap();
    let section = page
        .split("## The artifact store")
        .nth(1)
        .expect("docs/check.md has a section on the artifact store");
    let table = section
        .lines()
        .skip_while(|line| !line.starts_with("| column |"))
        .skip(2)
        .take_while(|line| line.starts_with('|'));
    table
        .flat_map(|row| {
            let first = row.split('|').nth(1).unwrap_or_default();
            first
                .split(',')
                .map(|name| name.trim().trim_matches('`').to_string())
                .collect::<Vec<_>>()
        })
        .collect()
}
