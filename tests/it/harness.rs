//! The harness and `dfpolicy check`: every policy × every query as bundles, written as a reviewable
//! baseline folder, compared with it, and every change attributed to its cause — the query, a
//! policy key, the DataFusion version, a table, or non-determinism — with the first optimizer rule
//! whose output differs.

use std::path::{Path, PathBuf};
use std::process::Output;

use dfpolicy::Workload;
use dfpolicy::bundle::Phase;
use dfpolicy::harness::baseline::{self, from_bundle_file, to_bundle_file};
use dfpolicy::harness::{
    Cause, Cell, CellKey, CellStatus, Harness, HarnessRun, PolicySet, Progress, compare, report,
};

use crate::repo;
use crate::workload::{builtin, tpch_data};

/// The built-in TPC-H workload over the tests' data (generated once per process).
fn tpch() -> Workload {
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(builtin(false))
}

/// A policy folder: the bundled baseline policy, and `traced` extending it with the optimizer
/// trace on and `extra` (TOML sections) added.
fn policy_folder(extra: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        repo().join("policies/baseline.toml"),
        dir.path().join("baseline.toml"),
    )
    .unwrap();
    write_traced(dir.path(), extra);
    dir
}

fn write_traced(folder: &Path, extra: &str) {
    std::fs::write(
        folder.join("traced.toml"),
        format!(
            "[policy]\nname = \"traced\"\nextends = \"baseline.toml\"\n\n[explain]\noptimizer_trace = true\n\n{extra}\n"
        ),
    )
    .unwrap();
}

/// A workload file `w.toml` in `dir` with one Parquet table `lineitem` at `location` and every
/// `*.sql` beside it as a query.
pub(crate) fn write_lineitem_workload(dir: &Path, location: &str) {
    std::fs::write(
        dir.join("w.toml"),
        format!(
            "[workload]\nname = \"w\"\n\n[[tables]]\nname = \"lineitem\"\nformat = \"parquet\"\nlocation = {location:?}\n\n[queries]\npaths = [\"*.sql\"]\n"
        ),
    )
    .unwrap();
}

fn run(policies: &Path, workload: &Workload, jobs: usize) -> HarnessRun {
    let set = PolicySet::load(policies).unwrap();
    Harness::new(&set, workload)
        .jobs(jobs)
        .progress(Progress::Hidden)
        .run()
        .unwrap()
}

/// Every file below a folder with its bytes, sorted by path.
fn files(folder: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    crate::files_below(folder)
        .into_iter()
        .map(|path| {
            let bytes = std::fs::read(folder.join(&path)).unwrap();
            (path, bytes)
        })
        .collect()
}

#[test]
fn the_matrix_is_every_policy_times_every_query_and_the_same_for_any_number_of_jobs() {
    let policies = policy_folder("");
    let workload = tpch();
    let one = run(policies.path(), &workload, 1);
    let two = run(policies.path(), &workload, 2);
    assert_eq!(one.cells.len(), 2 * 22);
    assert!(one.cells.values().all(|c| c.bundle().is_some()));
    assert_eq!(
        one.cells.keys().next().unwrap(),
        &CellKey::new("baseline", "q01")
    );

    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    baseline::write(&one, a.path()).unwrap();
    baseline::write(&two, b.path()).unwrap();
    let (written_a, written_b) = (files(a.path()), files(b.path()));
    assert_eq!(
        written_a.len(),
        1 + 2 + 44,
        "index, 2 environments, 44 bundles"
    );
    assert!(
        written_a == written_b,
        "--jobs 1 and --jobs 2 write the same bytes"
    );

    // The baseline reads back to the same bundles, and compares as unchanged.
    let read = baseline::read(a.path()).unwrap();
    assert_eq!(read.bundles.len(), 44);
    for (key, cell) in &one.cells {
        assert_eq!(Some(&read.bundles[key]), cell.bundle(), "{key}");
    }
    let comparison = compare(Some(&read), &two);
    assert!(!comparison.fails());
    assert_eq!(comparison.counts[&CellStatus::Unchanged], 44);
}

#[test]
fn a_bundle_file_reads_like_explain_and_back_into_the_same_bundle() {
    let policies = policy_folder("");
    let workload = tpch();
    let run = run(policies.path(), &workload, 2);
    let key = CellKey::new("traced", "q03");
    let bundle = run.cells[&key].bundle().unwrap();
    let text = to_bundle_file(&key, bundle);
    // The physical plan is a section of plain lines, exactly as EXPLAIN prints it.
    let physical = bundle.plans.physical.as_deref().unwrap();
    assert!(text.contains(&format!("=== /plans/physical\n{physical}\n")));
    assert!(physical.lines().count() > 5);
    // Trace steps are sections too; the JSON holds the rest.
    assert!(text.contains("=== /optimizer_trace/steps/"));
    assert!(text.contains("\n=== json\n{"));
    assert!(text.contains("\"physical\": \"(section)\""));
    assert_eq!(&from_bundle_file(&text).unwrap(), bundle);
    // No plan is one long JSON line: the JSON part holds no line breaks escaped as `\n`.
    let json = &text[text.find("\n=== json\n").unwrap()..];
    assert!(!json.contains("\\n"), "{json}");
}

#[test]
fn a_plan_shape_setting_change_is_attributed_to_its_key_with_the_first_differing_rule() {
    let policies = policy_folder("");
    let workload = tpch();
    let before = run(policies.path(), &workload, 2);
    let folder = tempfile::tempdir().unwrap();
    baseline::write(&before, folder.path()).unwrap();

    // No join is small enough to be collected to a single partition any more: JoinSelection
    // plans partitioned hash joins instead.
    write_traced(
        policies.path(),
        "[settings]\n\"datafusion.optimizer.hash_join_single_partition_threshold\" = 0\n\"datafusion.optimizer.hash_join_single_partition_threshold_rows\" = 0",
    );
    let after = run(policies.path(), &workload, 2);
    let comparison = compare(Some(&baseline::read(folder.path()).unwrap()), &after);
    assert!(comparison.fails());
    let q03 = comparison.cell("traced", "q03").unwrap();
    assert_eq!(q03.status, CellStatus::Changed, "{q03:#?}");
    let keys: Vec<&str> = q03
        .causes
        .iter()
        .map(|c| match c {
            Cause::PolicySetting {
                key, plan_shape, ..
            } => {
                assert!(plan_shape);
                key.as_str()
            }
            other => panic!("unexpected cause {other:?}"),
        })
        .collect();
    assert_eq!(
        keys,
        [
            "datafusion.optimizer.hash_join_single_partition_threshold",
            "datafusion.optimizer.hash_join_single_partition_threshold_rows"
        ]
    );
    let first = q03.first_difference.as_ref().unwrap();
    let rule = first.rule.as_ref().unwrap();
    assert_eq!(
        (rule.phase, rule.rule.as_str()),
        (Phase::Physical, "join_selection")
    );
    assert!(first.diff.contains("-") && first.diff.contains("HashJoinExec"));
    assert!(first.diff.starts_with("--- baseline\n+++ now\n"));
    // The other policy's cells did not move.
    assert!(comparison.policy_unchanged("baseline"));
}

#[test]
fn an_execution_only_change_leaves_the_plans_and_passes_and_batch_size_is_not_one() {
    let policies = policy_folder("");
    let workload = tpch();
    let folder = tempfile::tempdir().unwrap();
    baseline::write(&run(policies.path(), &workload, 2), folder.path()).unwrap();
    let compare_with = |sections: &str| {
        write_traced(policies.path(), sections);
        compare(
            Some(&baseline::read(folder.path()).unwrap()),
            &run(policies.path(), &workload, 2),
        )
    };
    let comparison = compare_with("[execution]\nspill_compression = \"lz4_frame\"");
    assert!(!comparison.fails(), "{}", report::human(&comparison));
    let stale = comparison.cell("traced", "q01").unwrap();
    assert_eq!(stale.status, CellStatus::InputsChanged);
    assert!(matches!(
        &stale.causes[..],
        [Cause::PolicySetting { key, plan_shape: false, .. }] if key == "datafusion.execution.spill_compression"
    ));

    // The batch size reads like a run-time knob, but EnforceDistribution compares row counts with
    // it: the harness found that (the classification test's tables are empty), and it is plan-shape.
    let comparison = compare_with("[execution]\nbatch_size = 4096");
    let q02 = comparison.cell("traced", "q02").unwrap();
    assert_eq!(q02.status, CellStatus::Changed);
    assert!(matches!(
        &q02.causes[..],
        [Cause::PolicySetting { key, plan_shape: true, .. }] if key == "datafusion.execution.batch_size"
    ));
    let rule = q02
        .first_difference
        .as_ref()
        .unwrap()
        .rule
        .as_ref()
        .unwrap();
    assert_eq!(rule.rule, "EnsureRequirements");
}

#[test]
fn a_plan_that_changed_with_no_input_changed_is_reported_as_nondeterminism() {
    let policies = policy_folder("");
    let workload = tpch();
    let folder = tempfile::tempdir().unwrap();
    baseline::write(&run(policies.path(), &workload, 2), folder.path()).unwrap();
    // Someone's planner (here: an edited baseline file) made another plan from equal inputs.
    let file = folder.path().join("bundles/baseline/q06.bundle");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, text.replacen("FilterExec", "FilterExec ", 1)).unwrap();
    let comparison = compare(
        Some(&baseline::read(folder.path()).unwrap()),
        &run(policies.path(), &workload, 2),
    );
    let q06 = comparison
        .cells
        .iter()
        .find(|c| c.status != CellStatus::Unchanged)
        .unwrap();
    assert_eq!(q06.key(), CellKey::new("baseline", "q06"));
    assert_eq!(q06.causes, [Cause::Nondeterminism]);
    assert_eq!(q06.first_difference.as_ref().unwrap().plan, "physical");
}

#[test]
fn query_and_table_changes_are_attributed_to_them() {
    let dir = tempfile::tempdir().unwrap();
    let policies = policy_folder("");
    let lineitem = tpch_data().parquet_file("lineitem");
    let data = dir.path().join("lineitem");
    std::fs::create_dir(&data).unwrap();
    std::fs::copy(&lineitem, data.join("part-0.parquet")).unwrap();
    write_lineitem_workload(dir.path(), "lineitem/");
    let query = dir.path().join("q.sql");
    std::fs::write(
        &query,
        "SELECT count(*) FROM lineitem WHERE l_quantity > 10",
    )
    .unwrap();
    let load = || Workload::load(dir.path().join("w.toml")).unwrap();
    let folder = tempfile::tempdir().unwrap();
    baseline::write(&run(policies.path(), &load(), 1), folder.path()).unwrap();
    let compare_now = || {
        compare(
            Some(&baseline::read(folder.path()).unwrap()),
            &run(policies.path(), &load(), 1),
        )
    };
    let causes = |comparison: &dfpolicy::harness::Comparison| {
        let cell = comparison.cell("baseline", "q").unwrap().clone();
        (cell.status, cell.causes)
    };

    // Another constant: same template.
    std::fs::write(
        &query,
        "SELECT count(*) FROM lineitem WHERE l_quantity > 20",
    )
    .unwrap();
    let (status, found) = causes(&compare_now());
    assert_eq!(status, CellStatus::Changed);
    assert_eq!(found, [Cause::QueryText]);

    // Another query.
    std::fs::write(
        &query,
        "SELECT count(*) FROM lineitem WHERE l_discount > 0.05",
    )
    .unwrap();
    let (_, found) = causes(&compare_now());
    assert!(
        matches!(&found[..], [Cause::QueryTemplate { .. }]),
        "{found:?}"
    );

    // The same query over one more file.
    std::fs::write(
        &query,
        "SELECT count(*) FROM lineitem WHERE l_quantity > 10",
    )
    .unwrap();
    std::fs::copy(&lineitem, data.join("part-1.parquet")).unwrap();
    let (status, found) = causes(&compare_now());
    assert_eq!(status, CellStatus::Changed);
    // The pin, and with it what the planner knows of the table's rows.
    assert!(
        matches!(&found[..], [
            Cause::TablePin { table, baseline: Some(old), now: Some(new) },
            Cause::Statistics { baseline: Some(rows), now: Some(doubled), .. },
        ] if table == "lineitem" && old.files == 1 && new.files == 2 && *doubled == 2 * rows),
        "{found:?}"
    );
}

#[test]
fn a_failing_query_or_policy_is_a_failed_cell_and_the_rest_go_on() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("good.sql"), "SELECT 1").unwrap();
    std::fs::write(dir.path().join("bad.sql"), "SELECT * FROM nowhere").unwrap();
    std::fs::write(
        dir.path().join("w.toml"),
        "[workload]\nname = \"w\"\n\n[queries]\npaths = [\"*.sql\"]\n",
    )
    .unwrap();
    let policies = policy_folder("");
    std::fs::write(
        policies.path().join("broken.toml"),
        "[policy]\nname = \"broken\"\n\n[execution]\nbatch_size = 0\n",
    )
    .unwrap();
    let workload = Workload::load(dir.path().join("w.toml")).unwrap();
    let run = run(policies.path(), &workload, 2);
    assert_eq!(run.cells.len(), 3 * 2);
    let failed = |policy: &str, query: &str| match &run.cells[&CellKey::new(policy, query)] {
        Cell::Failed { error } => error.clone(),
        Cell::Built { .. } => String::new(),
    };
    assert!(
        failed("baseline", "bad").contains("nowhere"),
        "{}",
        failed("baseline", "bad")
    );
    assert_eq!(failed("baseline", "good"), "");
    assert!(failed("broken", "good").starts_with("the policy does not load"));
    let comparison = compare(None, &run);
    // `bad` under both loading policies, and both queries under the broken one.
    assert_eq!(comparison.counts[&CellStatus::Failed], 4);
}

/// `dfpolicy ARGS` in `cwd`, the built-in data in the tests' own folder.
fn dfpolicy(args: &[&str], cwd: &Path) -> Output {
    crate::dfpolicy_command(args, cwd)
        .env(
            "DFPOLICY_DATA_DIR",
            Path::new(env!("CARGO_TARGET_TMPDIR")).join("dfpolicy-data"),
        )
        .output()
        .unwrap()
}

#[test]
fn check_exits_0_when_nothing_changed_1_on_changes_and_2_without_a_baseline() {
    tpch();
    let policies = policy_folder("");
    let work = tempfile::tempdir().unwrap();
    let folder = work.path().join("baseline");
    let (p, b) = (policies.path().to_str().unwrap(), folder.to_str().unwrap());
    let check = |extra: &[&str]| {
        let mut args = vec!["check", "--policies", p, "--baseline", b, "--jobs", "2"];
        args.extend_from_slice(extra);
        dfpolicy(&args, work.path())
    };
    let missing = check(&[]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("--bless"));

    let blessed = check(&["--bless"]);
    assert_eq!(
        blessed.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&blessed.stderr)
    );
    // Blessing keeps a sensitivity sweep of the policies' reference beside the baseline.
    let sweep = dfpolicy::sensitivity::read_beside(&folder).expect("a sweep is kept");
    assert_eq!((sweep.workload.as_str(), sweep.cells), ("tpch", 22));
    let clean = check(&["--repeat", "2"]);
    let text = String::from_utf8(clean.stdout).unwrap();
    assert_eq!(clean.status.code(), Some(0), "{text}");
    assert!(
        text.starts_with("query  baseline  traced\nq01    ok        ok\n"),
        "{text}"
    );
    assert!(text.ends_with("44 cells: 44 unchanged\n"), "{text}");

    write_traced(policies.path(), "[joins]\nprefer_hash_join = false");
    let changed = check(&[]);
    let text = String::from_utf8(changed.stdout).unwrap();
    assert_eq!(changed.status.code(), Some(1), "{text}");
    assert!(text.contains("changed: traced/q03\n  because: policy setting `datafusion.optimizer.prefer_hash_join`: true → false (plan-shape)\n"), "{text}");
    assert!(text.contains("SortMergeJoin"), "{text}");

    // GitHub annotations point at the line of the policy that set the key.
    let github = check(&["--format", "github"]);
    let text = String::from_utf8(github.stdout).unwrap();
    let traced = policies.path().join("traced.toml");
    let line = std::fs::read_to_string(&traced)
        .unwrap()
        .lines()
        .position(|l| l.starts_with("prefer_hash_join"))
        .unwrap()
        + 1;
    assert!(
        text.lines().any(|l| l.starts_with("::error file=")
            && l.contains(&format!(
                "traced.toml,line={line},title=traced/q03 changed::"
            ))),
        "{text}"
    );

    // JSON for machines.
    let json = check(&["--format", "json"]);
    let value: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert!(value["counts"]["changed"].as_u64().unwrap() > 0);
}

#[test]
fn validate_walks_past_a_baseline_kept_in_the_policy_folder() {
    let policies = policy_folder("");
    let run = run(policies.path(), &tpch(), 2);
    baseline::write(&run, &policies.path().join("baseline-tpch")).unwrap();
    let output = dfpolicy(
        &["validate", "--strict", policies.path().to_str().unwrap()],
        &repo(),
    );
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
}

/// The summaries of every bundled policy × the 22 TPC-H queries, one snapshot per policy: a change
/// in DataFusion or in dfpolicy that moves any plan shows up in `cargo insta review`. Substrait is
/// left out so that the snapshots are the same with and without `--features substrait`.
#[test]
fn bundle_summaries_of_every_bundled_policy_times_tpch() {
    let set = PolicySet::load(repo().join("policies")).unwrap();
    assert!(set.all_loaded());
    let run = Harness::new(&set, &tpch())
        .progress(Progress::Hidden)
        .run()
        .unwrap();
    for policy in set.policies.keys() {
        let mut text = String::new();
        for (key, cell) in run.cells.iter().filter(|(k, _)| &k.policy == policy) {
            let mut bundle = cell
                .bundle()
                .unwrap_or_else(|| panic!("{key}: {cell:?}"))
                .clone();
            bundle.substrait = None;
            bundle.substrait_round_trip = None;
            bundle.substrait_read_back = None;
            bundle
                .warnings
                .retain(|w| w.step != dfpolicy::bundle::CaptureStep::Substrait);
            text.push_str(&format!("===== {key}\n{}\n", bundle.to_text()));
        }
        insta::assert_snapshot!(format!("tpch_summaries_{policy}"), text);
    }
}

#[test]
fn a_policy_finding_fails_check_even_right_after_bless() {
    // CSV files carry no statistics: the baseline policy asks for at least estimated row counts.
    let work = tempfile::tempdir().unwrap();
    let folder = work.path().join("baseline");
    let (policy, workload) = (
        repo().join("policies/baseline.toml"),
        repo().join("workloads/sales/sales.toml"),
    );
    let args = [
        "check",
        "--policies",
        policy.to_str().unwrap(),
        "--workload",
        workload.to_str().unwrap(),
        "--baseline",
        folder.to_str().unwrap(),
    ];
    let blessed = dfpolicy(&[&args[..], &["--bless"]].concat(), work.path());
    assert_eq!(blessed.status.code(), Some(1));
    let checked = dfpolicy(&args, work.path());
    let text = String::from_utf8(checked.stdout).unwrap();
    assert_eq!(checked.status.code(), Some(1), "{text}");
    assert!(
        text.contains("finding: baseline/orders_by_country: statistics-below-minimum: "),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.split_whitespace().eq(["orders_since@uk-all", "ok!"])),
        "{text}"
    );
}

#[test]
fn github_annotations_point_at_the_query_that_changed() {
    let dir = tempfile::tempdir().unwrap();
    let policies = policy_folder("");
    let lineitem = tpch_data().parquet_file("lineitem");
    write_lineitem_workload(dir.path(), lineitem.to_str().unwrap());
    let query = dir.path().join("q.sql");
    std::fs::write(
        &query,
        "-- revenue\nSELECT sum(l_extendedprice) FROM lineitem",
    )
    .unwrap();
    tpch();
    let folder = dir.path().join("baseline");
    let (p, w, b) = (
        policies.path().to_str().unwrap(),
        dir.path().join("w.toml"),
        folder.to_str().unwrap(),
    );
    let check = |extra: &[&str]| {
        let mut args = vec![
            "check",
            "--policies",
            p,
            "--workload",
            w.to_str().unwrap(),
            "--baseline",
            b,
        ];
        args.extend_from_slice(extra);
        dfpolicy(&args, dir.path())
    };
    assert_eq!(check(&["--bless"]).status.code(), Some(0));
    std::fs::write(
        &query,
        "-- revenue\nSELECT sum(l_extendedprice) FROM lineitem WHERE l_quantity < 5",
    )
    .unwrap();
    let github = check(&["--format", "github"]);
    let text = String::from_utf8(github.stdout).unwrap();
    assert_eq!(github.status.code(), Some(1), "{text}");
    // The statement starts on line 2, after the comment.
    assert!(
        text.lines().any(|l| l.starts_with("::error file=")
            && l.contains("q.sql,line=2,title=baseline/q changed::")
            && l.contains("the query changed")),
        "{text}"
    );
}

/// Nothing the user wrote disappears: a query file that does not parse, and one with a second query,
/// are failed cells of every policy carrying their located findings (exit 1), in `harness`, in
/// `check` (also right after a bless) and in a snapshot of the workload, whose validation reports
/// the same findings as its source's.
#[test]
fn every_query_file_is_a_cell_even_one_that_does_not_plan() {
    let dir = tempfile::tempdir().unwrap();
    crate::copy_dir(&repo().join("workloads/sales"), dir.path());
    let queries = dir.path().join("queries");
    // TPC-DS writes `+ 30 days`, which DataFusion 55's parser does not take.
    std::fs::write(
        queries.join("interval.sql"),
        "SELECT name\nFROM customers\nWHERE signup + 30 days > now()\n",
    )
    .unwrap();
    std::fs::write(
        queries.join("two.sql"),
        "SELECT count(*) FROM customers;\nSELECT count(*) FROM orders;\n",
    )
    .unwrap();
    let workload = Workload::load(dir.path().join("sales.toml")).unwrap();
    let unplanned: Vec<&str> = workload
        .unplanned_queries()
        .iter()
        .map(|q| q.name.as_str())
        .collect();
    assert_eq!(unplanned, ["interval", "two"]);
    let policies = PolicySet::load(repo().join("policies/baseline.toml")).unwrap();
    let run = Harness::new(&policies, &workload).jobs(2).run().unwrap();
    let error = |query: &str| match &run.cells[&CellKey::new("baseline", query)] {
        Cell::Failed { error } => error.clone(),
        Cell::Built { .. } => panic!("{query} was built"),
    };
    assert!(
        error("interval").starts_with("queries/interval.sql:3:")
            || error("interval").contains("interval.sql:3:"),
        "{}",
        error("interval")
    );
    assert!(
        error("interval").contains("invalid-sql"),
        "{}",
        error("interval")
    );
    assert!(
        error("two").contains("two.sql:1:1: unsupported-statement: a second query in one file"),
        "{}",
        error("two")
    );
    assert!(
        run.cells[&CellKey::new("baseline", "big_spenders")]
            .bundle()
            .is_some()
    );

    let policy = repo().join("policies/baseline.toml");
    let sales = dir.path().join("sales.toml");
    let harness = dfpolicy(
        &[
            "harness",
            "--policies",
            policy.to_str().unwrap(),
            "--workload",
            sales.to_str().unwrap(),
        ],
        dir.path(),
    );
    let table = String::from_utf8(harness.stdout).unwrap();
    assert_eq!(harness.status.code(), Some(1), "{table}");
    assert!(
        table.contains("interval") && table.contains("two"),
        "{table}"
    );

    let baseline = dir.path().join("baseline");
    let check = |extra: &[&str]| {
        let mut args = vec![
            "check",
            "--policies",
            policy.to_str().unwrap(),
            "--workload",
            sales.to_str().unwrap(),
            "--baseline",
            baseline.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        dfpolicy(&args, dir.path())
    };
    assert_eq!(check(&["--bless"]).status.code(), Some(1));
    let checked = check(&["--format", "json"]);
    let report: serde_json::Value = serde_json::from_slice(&checked.stdout).unwrap();
    assert_eq!(checked.status.code(), Some(1));
    let status = |query: &str| {
        report["cells"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["query"] == query)
            .map(|c| c["status"].as_str().unwrap().to_string())
    };
    assert_eq!(status("interval").as_deref(), Some("failed"));
    assert_eq!(status("two").as_deref(), Some("failed"));

    let snapshot = dir.path().join("snapshot");
    let taken = dfpolicy(
        &[
            "workload",
            "snapshot",
            sales.to_str().unwrap(),
            "--out",
            snapshot.to_str().unwrap(),
            "--policies",
            policy.to_str().unwrap(),
        ],
        dir.path(),
    );
    assert_eq!(
        taken.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&taken.stderr)
    );
    for file in ["queries/interval.sql", "queries/two.sql"] {
        assert_eq!(
            std::fs::read(snapshot.join(file)).unwrap(),
            std::fs::read(dir.path().join(file)).unwrap(),
            "{file} is not in the snapshot as written"
        );
    }
    let findings = |workload: &std::path::Path| {
        let output = dfpolicy(
            &[
                "workload",
                "validate",
                "--format",
                "json",
                workload.to_str().unwrap(),
            ],
            dir.path(),
        );
        assert_eq!(output.status.code(), Some(1));
        let found: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        found
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["code"].to_string(),
                    f["line"].to_string(),
                    f["column"].to_string(),
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(findings(&sales), findings(&snapshot.join("workload.toml")));
}
