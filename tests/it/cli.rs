//! The `dfpolicy` binary: output formats and exit codes (0 ok, 1 findings, 2 usage or internal error).

use std::path::Path;
use std::process::Output;

use crate::repo;

pub fn dfpolicy(args: &[&str]) -> Output {
    crate::dfpolicy(args, &repo())
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

#[test]
fn validate_exits_0_on_clean_policies_even_under_strict() {
    let output = dfpolicy(&["validate", "--strict", "policies/"]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    assert!(stdout(&output).contains("0 errors, 0 warnings"));
}

#[test]
fn validate_exits_1_on_errors() {
    let output = dfpolicy(&["validate", "tests/fixtures/invalid/batch_size_zero.toml"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stdout(&output).contains("tests/fixtures/invalid/batch_size_zero.toml:6:14"));
}

#[test]
fn warnings_fail_only_under_strict() {
    let file = "tests/fixtures/invalid/unpinned_and_redundant.toml";
    assert_eq!(dfpolicy(&["validate", file]).status.code(), Some(0));
    assert_eq!(
        dfpolicy(&["validate", "--strict", file]).status.code(),
        Some(1)
    );
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(dfpolicy(&["validate"]).status.code(), Some(2));
    assert_eq!(dfpolicy(&["frobnicate"]).status.code(), Some(2));
    assert_eq!(
        dfpolicy(&["validate", "--format", "xml", "policies"])
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn json_output_is_an_array_of_findings() {
    let output = dfpolicy(&[
        "validate",
        "--format",
        "json",
        "tests/fixtures/invalid/unknown_setting.toml",
    ]);
    assert_eq!(output.status.code(), Some(1));
    let rows: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(rows[0]["code"], "unknown-setting");
    assert_eq!(rows[0]["line"], 7);
    assert_eq!(
        rows[0]["help"],
        "did you mean `datafusion.execution.parquet.pruning`?"
    );
}

#[test]
fn github_output_is_workflow_annotations() {
    let output = dfpolicy(&[
        "validate",
        "--format",
        "github",
        "tests/fixtures/invalid/unknown_key.toml",
    ]);
    let text = stdout(&output);
    assert!(
        text.starts_with(
            "::error file=tests/fixtures/invalid/unknown_key.toml,line=6,col=1,title=unknown-key::"
        ),
        "{text}"
    );
}

#[test]
fn schema_check_passes_on_the_checked_in_schema() {
    let output = dfpolicy(&["schema", "--check"]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
}

#[test]
fn schema_check_fails_on_a_stale_schema() {
    let dir = tempfile::tempdir().unwrap();
    let stale = dir.path().join("schema.json");
    std::fs::write(&stale, "{}\n").unwrap();
    let output = dfpolicy(&["schema", "--check", "--path", stale.to_str().unwrap()]);
    assert_eq!(
        output.status.code(),
        Some(2),
        "--path names one schema: it needs the kind"
    );
    for kind in ["policy", "workload", "bundle", "settings"] {
        let output = dfpolicy(&["schema", kind, "--check", "--path", stale.to_str().unwrap()]);
        assert_eq!(output.status.code(), Some(1));
        assert!(stdout(&output).contains(&format!("dfpolicy schema {kind} >")));
    }
    let output = dfpolicy(&["schema", "--check"]);
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(
        stdout(&output),
        "schema/policy.schema.json is up to date\nschema/workload.schema.json is up to date\nschema/bundle.schema.json is up to date\ndocs/settings.md is up to date\n"
    );
}

#[test]
fn resolve_prints_the_merged_policy() {
    let output = dfpolicy(&["resolve", "policies/low-memory-smj.toml"]);
    assert_eq!(output.status.code(), Some(0));
    let text = stdout(&output);
    assert!(
        text.starts_with(
            "# resolved from: policies/low-memory-smj.toml → policies/baseline.toml\n"
        )
    );
    assert!(text.contains("target_partitions = 4"));
    assert!(text.contains("memory_limit = \"2GiB\""));
    let json = dfpolicy(&[
        "resolve",
        "--format",
        "json",
        "policies/low-memory-smj.toml",
    ]);
    let value: serde_json::Value = serde_json::from_str(&stdout(&json)).unwrap();
    assert_eq!(value["joins"]["prefer_hash_join"], false);
}

#[test]
fn resolve_of_an_invalid_policy_exits_1_with_diagnostics() {
    let output = dfpolicy(&["resolve", "tests/fixtures/invalid/extends_missing.toml"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("extends-missing"));
}

#[test]
fn settings_lists_every_option_with_its_policy_field() {
    let output = dfpolicy(&["settings", "--format", "json"]);
    assert_eq!(output.status.code(), Some(0));
    let rows: Vec<serde_json::Value> = serde_json::from_str(&stdout(&output)).unwrap();
    // One row per option, in key order: the `ConfigOptions` entries and the runtime keys, then
    // Ballista's options.
    let expected = dfpolicy::datafusion::config::ConfigOptions::new()
        .entries()
        .len()
        + dfpolicy::datafusion::execution::runtime_env::RuntimeEnvBuilder::new()
            .entries()
            .len()
        + dfpolicy::registry::ballista::catalog().options.len();
    assert_eq!(rows.len(), expected);
    let keys: Vec<&str> = rows.iter().map(|r| r["key"].as_str().unwrap()).collect();
    let (datafusion, ballista): (Vec<&str>, Vec<&str>) =
        keys.iter().partition(|k| k.starts_with("datafusion."));
    assert_eq!([datafusion.as_slice(), ballista.as_slice()].concat(), keys);
    assert!(
        datafusion.windows(2).all(|pair| pair[0] < pair[1]),
        "not sorted"
    );
    assert!(
        ballista.windows(2).all(|pair| pair[0] < pair[1]),
        "not sorted"
    );
    let batch = rows
        .iter()
        .find(|r| r["key"] == "datafusion.execution.batch_size")
        .unwrap();
    assert_eq!(batch["policy_field"], "execution.batch_size");
    assert_eq!(batch["default"], "8192");
    let text = stdout(&dfpolicy(&["settings"]));
    assert!(text.contains("datafusion.optimizer.prefer_hash_join\n  type: boolean; default: true; policy field: joins.prefer_hash_join"));
    assert!(text.contains("ballista.planner.adaptive.enabled\n  type: boolean; default: true; policy field: ballista.adaptive\n  class: plan-shape"), "{text}");
    assert!(text.contains("ballista.standalone.parallelism\n  type: unsigned integer, min 1, max 65535; default: <CPU count>; policy field: ballista.standalone_parallelism"), "{text}");
    let rules = stdout(&dfpolicy(&["settings", "--rules"]));
    assert!(rules.contains("logical   push_down_filter"));
}

#[test]
fn compile_prints_toml_and_json() {
    let toml_out = dfpolicy(&["compile", "policies/baseline.toml"]);
    assert_eq!(toml_out.status.code(), Some(0));
    let text = stdout(&toml_out);
    assert!(text.contains("\"datafusion.execution.target_partitions\" = 4\n"));
    assert!(text.contains("\"datafusion.execution.time_zone\" = \"+00:00\"\n"));
    let json_out = dfpolicy(&["compile", "--format", "json", "policies/baseline.toml"]);
    let value: serde_json::Value = serde_json::from_str(&stdout(&json_out)).unwrap();
    assert_eq!(value["policy"], "baseline");
    assert_eq!(value["portable"], true);
    // The JSON is the compiled policy itself: it reads back into the same value.
    let read_back = dfpolicy::CompiledPolicy::from_json(&stdout(&json_out)).unwrap();
    let loaded = dfpolicy::Policy::load(crate::repo().join("policies/baseline.toml"))
        .unwrap()
        .compiled;
    assert_eq!(read_back, loaded);
    // Byte-identical across processes.
    assert_eq!(
        stdout(&json_out),
        stdout(&dfpolicy(&[
            "compile",
            "--format",
            "json",
            "policies/baseline.toml"
        ]))
    );
}

#[test]
fn diff_exits_1_when_plans_can_differ_and_marks_plan_shape_settings() {
    let output = dfpolicy(&[
        "diff",
        "policies/baseline.toml",
        "policies/selective-scan.toml",
    ]);
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    assert!(
        text.contains(
            "datafusion.execution.parquet.pushdown_filters [plan-shape]\n  - false\n  + true\n"
        ),
        "{text}"
    );
    assert!(text.contains("plan environments differ"));
}

#[test]
fn diff_exits_0_for_plan_equivalent_policies() {
    let dir = tempfile::tempdir().unwrap();
    let base =
        "[policy]\nname = \"a\"\n[execution]\ntarget_partitions = 4\nplanning_concurrency = 4\n";
    std::fs::write(dir.path().join("a.toml"), base).unwrap();
    std::fs::write(
        dir.path().join("b.toml"),
        format!("{}[settings]\n\"datafusion.format.null\" = \"NULL\"\n[runtime]\nmemory_limit = \"1GiB\"\n[namespace]\nrequire_qualified_references = true\n[explain]\nformats = [\"indent\", \"tree\"]\n", base.replace("\"a\"", "\"b\"")),
    )
    .unwrap();
    let a = dir.path().join("a.toml");
    let b = dir.path().join("b.toml");
    let root = dir.path().to_str().unwrap();
    let output = dfpolicy(&[
        "diff",
        "--root",
        root,
        a.to_str().unwrap(),
        b.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    let text = stdout(&output);
    assert!(text.contains("datafusion.format.null [display]"));
    assert!(text.contains("runtime.memory_limit [execution-only]"));
    // What dfpolicy alone reads is listed too, and never makes plans differ.
    assert!(
        text.contains(
            "namespace.require_qualified_references [dfpolicy-only]\n  - false\n  + true\n"
        )
    );
    assert!(text.contains("explain.formats [dfpolicy-only]"));
    assert!(text.contains("plan-equivalent"));
}

#[test]
fn namespace_reports_unqualified_tables_in_sql_files() {
    let dir = tempfile::tempdir().unwrap();
    let sql = dir.path().join("q.sql");
    std::fs::write(&sql, "select count(*)\nfrom warehouse.tpch.orders o\njoin customer c on c_custkey = o_custkey;\n").unwrap();
    let output = dfpolicy(&[
        "namespace",
        "policies/analytics-namespace.toml",
        sql.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    assert!(text.starts_with("error[unqualified-table]: `customer` is not written as catalog.schema.table, which policy `analytics-namespace` requires\n"), "{text}");
    assert!(text.contains("q.sql:3:6\n"), "{text}");
    assert!(
        text.ends_with("1 query file checked: 1 error, 0 warnings\n"),
        "{text}"
    );
    // The same renderers as `validate`: one finding in JSON, one annotation for GitHub.
    let json = dfpolicy(&[
        "namespace",
        "--format",
        "json",
        "policies/analytics-namespace.toml",
        sql.to_str().unwrap(),
    ]);
    let findings: serde_json::Value = serde_json::from_str(&stdout(&json)).unwrap();
    assert_eq!(findings.as_array().unwrap().len(), 1);
    assert_eq!(
        (
            &findings[0]["line"],
            &findings[0]["column"],
            &findings[0]["code"]
        ),
        (&3.into(), &6.into(), &"unqualified-table".into())
    );
    let github = dfpolicy(&[
        "namespace",
        "--format",
        "github",
        "policies/analytics-namespace.toml",
        sql.to_str().unwrap(),
    ]);
    assert!(stdout(&github).starts_with("::error file="));
    assert!(stdout(&github).contains(",line=3,col=6,title=unqualified-table::"));
    // A policy that does not require qualified names has nothing to say.
    let lax = dfpolicy(&["namespace", "policies/baseline.toml", sql.to_str().unwrap()]);
    assert_eq!(lax.status.code(), Some(0));
    assert_eq!(stdout(&lax), "1 query file checked: 0 errors, 0 warnings\n");
}

#[test]
fn workload_validate_reports_in_every_format_with_exit_codes() {
    let clean = dfpolicy(&[
        "workload",
        "validate",
        "workloads/sales/sales.toml",
        "tpch",
        "tpch-delta",
    ]);
    assert_eq!(clean.status.code(), Some(0), "{}", stdout(&clean));
    assert!(
        stdout(&clean).contains("3 workloads checked"),
        "{}",
        stdout(&clean)
    );
    let bad = "tests/fixtures/workloads/invalid/location-not-found.toml";
    let human = dfpolicy(&["workload", "validate", bad]);
    assert_eq!(human.status.code(), Some(1));
    assert!(
        stdout(&human).contains(&format!("{bad}:7:12")),
        "{}",
        stdout(&human)
    );
    let github = dfpolicy(&["workload", "validate", "--format", "github", bad]);
    assert!(stdout(&github).starts_with(&format!(
        "::error file={bad},line=7,col=12,title=location-not-found::"
    )));
    let json = dfpolicy(&["workload", "validate", "--format", "json", bad]);
    let parsed: serde_json::Value = serde_json::from_str(&stdout(&json)).unwrap();
    assert_eq!(parsed[0]["code"], "location-not-found");
}

#[test]
fn workload_show_of_an_invalid_workload_exits_1_with_its_findings() {
    let output = dfpolicy(&[
        "workload",
        "show",
        "tests/fixtures/workloads/invalid/duplicate-table.toml",
    ]);
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("error[duplicate-table]"));
}

#[test]
fn data_tpch_generates_both_forms_once() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_str().unwrap();
    let first = dfpolicy(&["data", "tpch", "--dir", root]);
    assert_eq!(
        first.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let sf = dir.path().join("tpch/sf0.01");
    assert!(sf.join("parquet/lineitem.parquet").is_file());
    assert!(
        sf.join("delta/lineitem/_delta_log/00000000000000000001.json")
            .is_file()
    );
    let modified = std::fs::metadata(sf.join("parquet/lineitem.parquet"))
        .unwrap()
        .modified()
        .unwrap();
    let again = dfpolicy(&["data", "tpch", "--dir", root]);
    assert_eq!(again.status.code(), Some(0));
    let after = std::fs::metadata(sf.join("parquet/lineitem.parquet"))
        .unwrap()
        .modified()
        .unwrap();
    assert_eq!(modified, after, "existing data is reused");
    let bad = dfpolicy(&["data", "tpch", "--sf", "0", "--dir", root]);
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn bundle_prints_one_bundle_and_exits_by_its_warnings() {
    let sales = [
        "--policy",
        "policies/baseline.toml",
        "--workload",
        "workloads/sales/sales.toml",
    ];
    let run = |query: &str, more: &[&str]| {
        let mut args = vec!["bundle"];
        args.extend(sales);
        args.extend(["--query", query]);
        args.extend(more);
        dfpolicy(&args)
    };
    // JSON by default, a workload query by file or by name; the same bundle either way. CSV tables
    // have no row counts, which the baseline's `[statistics] minimum_quality` reports: exit 1.
    let by_file = run("workloads/sales/queries/orders_by_country.sql", &[]);
    assert_eq!(
        by_file.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&by_file.stderr)
    );
    assert!(String::from_utf8_lossy(&by_file.stderr).starts_with(
        "finding: statistics-below-minimum: DataSourceExec file_type=csv of `orders`"
    ));
    let bundle = dfpolicy::PlanBundle::from_json(&stdout(&by_file)).unwrap();
    assert_eq!(bundle.query.name, "orders_by_country");
    assert_eq!(stdout(&run("orders_by_country", &[])), stdout(&by_file));

    // Parquet with footer statistics meets it: exit 0.
    let tpch = crate::dfpolicy_command(
        &[
            "bundle",
            "--policy",
            "policies/baseline.toml",
            "--workload",
            "tpch",
            "--query",
            "q06",
        ],
        &repo(),
    )
    .env(
        "DFPOLICY_DATA_DIR",
        Path::new(env!("CARGO_TARGET_TMPDIR")).join("dfpolicy-data"),
    )
    .current_dir(repo())
    .output()
    .unwrap();
    assert_eq!(
        tpch.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&tpch.stderr)
    );

    // A file outside the workload that cannot be planned: the bundle names the step, exit 1.
    let dir = tempfile::tempdir().unwrap();
    let lost = dir.path().join("lost.sql");
    std::fs::write(&lost, "SELECT * FROM nowhere").unwrap();
    let output = run(lost.to_str().unwrap(), &["--format", "text"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stdout(&output).contains(
            "initial_logical: Error during planning: table 'datafusion.public.nowhere' not found"
        ),
        "{}",
        stdout(&output)
    );
    assert!(
        String::from_utf8_lossy(&output.stderr)
            .starts_with("warning (failed step): initial_logical:")
    );

    // Not a query, an unknown parameter set, a query with placeholders and no set chosen: exit 2.
    for (query, more, message) in [
        (
            "q99",
            &[][..],
            "`q99` is neither a file nor a query of workload `sales`",
        ),
        (
            "orders_since",
            &["--params", "nl"][..],
            "query `orders_since` has no parameter set `nl` (it has: us-november, uk-all)",
        ),
        (
            "orders_since",
            &[][..],
            "choose one of its parameter sets (us-november, uk-all)",
        ),
    ] {
        let output = run(query, more);
        assert_eq!(output.status.code(), Some(2), "{query} {more:?}");
        assert!(
            String::from_utf8_lossy(&output.stderr).contains(message),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

#[test]
fn workload_snapshot_writes_the_snapshot_and_says_what_it_kept() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("tpch-snapshot");
    let take_snapshot = |policies: &str| {
        dfpolicy(&[
            "workload",
            "snapshot",
            "tpch",
            "--out",
            out.to_str().unwrap(),
            "--policies",
            policies,
        ])
    };
    let output = take_snapshot("policies/baseline.toml");
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let text = stdout(&output);
    assert!(
        text.starts_with("snapshot of workload `tpch` planned under 1 policy\ntable "),
        "{text}"
    );
    assert!(text.contains("\nlineitem  parquet      1 "), "{text}");
    assert!(text.contains(" files in 8 tables\n"), "{text}");
    for file in ["snapshot.json", "snapshot.bin"] {
        assert!(out.join(file).is_file(), "{file}");
    }
    let snapshot = dfpolicy::workload::snapshot::Snapshot::read(&out).unwrap();
    assert_eq!(snapshot.manifest.workload, "tpch");
    assert!(text.contains(&format!(
        "kept {} of {} bytes",
        snapshot.captured_bytes(),
        snapshot.data_bytes()
    )));

    // A policy folder that cannot be read is a usage error.
    let missing = take_snapshot("no-such-folder");
    assert_eq!(missing.status.code(), Some(2));
}

/// A policy that asks nothing of statistics: CSV joins give only advisory warnings.
fn lenient_policy(dir: &Path) -> std::path::PathBuf {
    let policy = dir.join("lenient.toml");
    std::fs::write(
        &policy,
        "[policy]\nname = \"lenient\"\n[execution]\ntarget_partitions = 2\n\
         planning_concurrency = 2\ntime_zone = \"+00:00\"\n",
    )
    .unwrap();
    policy
}

#[test]
fn advisory_warnings_exit_0_unless_denied_and_failed_steps_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let policy = lenient_policy(dir.path());
    let policy = policy.to_str().unwrap();
    let sales = "workloads/sales/sales.toml";
    let bundle = |more: &[&str]| {
        let mut args = vec![
            "bundle",
            "--policy",
            policy,
            "--workload",
            sales,
            "--query",
            "orders_by_country",
            "--root",
            "/",
        ];
        args.extend(more);
        dfpolicy(&args)
    };
    // The join over CSV tables is planned on guesses: the bundle says so, and exits 0.
    let output = bundle(&[]);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.starts_with("warning (advisory): statistics: 1 join(s) (HashJoinExec) planned over unknown row counts"),
        "{stderr}"
    );
    let json = dfpolicy::PlanBundle::from_json(&stdout(&output)).unwrap();
    assert!(json.warnings.iter().all(|w| w.advisory));
    assert_eq!(bundle(&["--deny-warnings"]).status.code(), Some(1));

    // `harness` agrees.
    let harness = |more: &[&str]| {
        let mut args = vec![
            "harness",
            "--quiet",
            "--policies",
            policy,
            "--workload",
            sales,
            "--root",
            "/",
        ];
        args.extend(more);
        dfpolicy(&args)
    };
    let output = harness(&[]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        String::from_utf8_lossy(&output.stderr)
            .contains("warning: lenient/orders_by_country: statistics: ")
    );
    assert_eq!(harness(&["--deny-warnings"]).status.code(), Some(1));
}

#[test]
fn the_working_directory_is_named_dot_and_matrix_commands_take_a_root() {
    // `pol/child.toml` extends `../base.toml`, outside the folder given to `--policies`.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("base.toml"),
        "[policy]\nname = \"base\"\n[execution]\ntarget_partitions = 2\n\
         planning_concurrency = 2\ntime_zone = \"+00:00\"\n",
    )
    .unwrap();
    let folder = dir.path().join("pol");
    std::fs::create_dir(&folder).unwrap();
    std::fs::write(
        folder.join("child.toml"),
        "[policy]\nname = \"child\"\nextends = \"../base.toml\"\n",
    )
    .unwrap();
    let run = |args: &[&str]| crate::dfpolicy(args, &folder);
    let matrix = [
        "harness",
        "--quiet",
        "--policies",
        ".",
        "--workload",
        "tpch-sf10",
    ];
    let confined = run(&matrix);
    let stderr = String::from_utf8_lossy(&confined.stderr);
    assert!(
        stderr.contains("parent policy `../base.toml` is outside the policy tree `.`"),
        "{stderr}"
    );
    assert_eq!(confined.status.code(), Some(1), "its cells fail");
    let widened = run(&[&matrix[..], &["--root", ".."]].concat());
    assert_eq!(
        widened.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&widened.stderr)
    );
    assert!(String::from_utf8_lossy(&widened.stdout).contains("child"));

    // A directory given as a query file is named, even when it is the working directory.
    let output = run(&["namespace", "child.toml", ".", "--root", ".."]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stdout(&output).contains("--> .\n"), "{}", stdout(&output));
}

/// Without the `cloud` feature an object-storage location is a finding at the location that names
/// the feature, and an object-storage store an error that does: never a crash, never a request.
#[cfg(not(feature = "cloud"))]
#[test]
fn object_storage_without_the_cloud_feature_names_the_feature() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("queries")).unwrap();
    std::fs::write(dir.path().join("queries/q.sql"), "select 1").unwrap();
    let workload = dir.path().join("workload.toml");
    std::fs::write(
        &workload,
        "[workload]\nname = \"lake\"\n\n[[tables]]\nname = \"orders\"\nformat = \"parquet\"\n\
         location = \"s3://lake/orders/\"\nstorage_options = { region = \"eu-west-1\" }\n\n\
         [[tables]]\nname = \"events\"\nformat = \"delta\"\nlocation = \"az://lake/events\"\n\n\
         [queries]\npaths = [\"queries/*.sql\"]\n",
    )
    .unwrap();
    let output = dfpolicy(&["workload", "validate", workload.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    let said = stdout(&output);
    assert!(
        said.contains(
            "`s3://lake/orders/`: S3 locations need dfpolicy built with the `cloud` feature"
        ),
        "{said}"
    );
    assert!(said.contains("workload.toml:7:12"), "{said}");
    assert!(
        said.contains(
            "`az://lake/events`: Azure locations need dfpolicy built with the `cloud` feature"
        ),
        "{said}"
    );
    let output = dfpolicy(&["store", "runs", "--store", "gs://bucket/store"]);
    assert_eq!(output.status.code(), Some(2));
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(
        said.contains("GCS locations need dfpolicy built with the `cloud` feature"),
        "{said}"
    );
}
