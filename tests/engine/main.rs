//! Your own engine, end to end: the test engine Acme (`acme.rs`: datafusion-functions-json, a
//! function, a format, a rule and configuration keys of its own) through its own dfpolicy
//! (`dfpolicy-acme`, built with `dfpolicy::cli::main_with`), and the same files through the plain
//! `dfpolicy`, which has none of it.
//!
//! Built with the `test-engine` feature only (`.ci/run`'s feature build).

mod acme;

use std::path::{Path, PathBuf};
use std::process::Command;

/// What a command printed and how it exited.
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn output(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

fn engine_folder() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/engine")
}

/// Runs a binary in `cwd` as CI would (no progress bars).
fn run(binary: &str, args: &[&str], cwd: &Path, env: &[(&str, &str)]) -> Run {
    let output = Command::new(binary)
        .args(args)
        .current_dir(cwd)
        .env("CI", "true")
        .env_remove("ACME_ENGINE_VERSION")
        .envs(env.iter().copied())
        .output()
        .expect("the binary runs");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Acme's own dfpolicy.
fn acme(args: &[&str], cwd: &Path) -> Run {
    run(env!("CARGO_BIN_EXE_dfpolicy-acme"), args, cwd, &[])
}

/// The plain dfpolicy: vanilla DataFusion.
fn vanilla(args: &[&str], cwd: &Path) -> Run {
    run(env!("CARGO_BIN_EXE_dfpolicy"), args, cwd, &[])
}

/// Acme's bundle (JSON) of one query of a workload under a policy, paths relative to `cwd`.
fn acme_bundle(policy: &str, workload: &str, query: &str, cwd: &Path) -> Run {
    acme(
        &[
            "bundle",
            "--policy",
            policy,
            "--workload",
            workload,
            "--query",
            query,
        ],
        cwd,
    )
}

/// A copy of the engine's workload and policies, to edit and bless in.
fn scratch_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for folder in ["workload", "workload/data", "workload/queries", "policies"] {
        std::fs::create_dir_all(dir.path().join(folder)).unwrap();
        for entry in std::fs::read_dir(engine_folder().join(folder)).unwrap() {
            let path = entry.unwrap().path();
            if path.is_file() {
                std::fs::copy(
                    &path,
                    dir.path().join(folder).join(path.file_name().unwrap()),
                )
                .unwrap();
            }
        }
    }
    dir
}

#[test]
fn the_engines_keys_are_validated_at_their_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("typos.toml"),
        r#"[policy]
name = "typos"

[settings]
"acme.max_row" = 3
"acme.scan_threads" = "many"
"acme.banner" = "perhaps"
"acme.output_compression" = "lz4"
"acme.max_rows" = -1
"#,
    )
    .unwrap();
    let run = acme(&["validate", "typos.toml"], dir.path());
    assert_eq!(run.code, 1, "{}", run.output());
    insta::assert_snapshot!("validate_acme_keys", run.stdout);
}

#[test]
fn without_the_engine_its_namespace_is_unknown_with_how_to_add_it() {
    let run = vanilla(&["validate", "policies/acme-capped.toml"], &engine_folder());
    assert_eq!(run.code, 1, "{}", run.output());
    insta::assert_snapshot!("validate_without_engine", run.stdout);
}

#[test]
fn compile_settings_and_diff_show_the_engines_keys_with_their_classes() {
    let folder = engine_folder();
    let compiled = acme(&["compile", "policies/acme-capped.toml"], &folder);
    assert_eq!(compiled.code, 0, "{}", compiled.output());
    for line in [
        "\"acme.max_rows\" = 3",
        "\"acme.scan_threads\" = 2",
        "\"acme.output_compression\" = \"zstd\"",
        "[engine.extensions]",
        "name = \"acme\"",
        "version = \"1.0.0\"",
        "\"mask_pii\"",
        "\"json_get_str\"",
        "\"logical:acme_row_cap\"",
        "\"ACMELOG\"",
    ] {
        assert!(
            compiled.stdout.contains(line),
            "{line} in:\n{}",
            compiled.stdout
        );
    }

    let settings = acme(&["settings"], &folder);
    assert_eq!(settings.code, 0, "{}", settings.output());
    let row = |key: &str| {
        settings
            .stdout
            .lines()
            .skip_while(|l| !l.starts_with(key))
            .take(4)
            .collect::<Vec<_>>()
            .join("\n")
    };
    insta::assert_snapshot!(
        "settings_acme_keys",
        [
            "acme.banner",
            "acme.max_rows",
            "acme.output_compression",
            "acme.scan_threads"
        ]
        .map(row)
        .join("\n\n")
    );

    let diff = acme(
        &["diff", "policies/acme.toml", "policies/acme-capped.toml"],
        &folder,
    );
    assert_eq!(diff.code, 1, "a plan-shape key differs: {}", diff.output());
    insta::assert_snapshot!("diff_acme_capped", diff.stdout);
}

#[test]
fn disabled_rules_knows_the_engines_rules() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("typo.toml"),
        "[policy]\nname = \"typo\"\n\n[optimizer]\ndisabled_rules = [\"acme_row_caps\"]\n",
    )
    .unwrap();
    let run = acme(&["validate", "typo.toml"], dir.path());
    assert_eq!(run.code, 1, "{}", run.output());
    assert!(
        run.stdout.contains("did you mean `acme_row_cap`"),
        "{}",
        run.stdout
    );
    let accepted = acme(
        &["validate", "policies/acme-uncapped.toml"],
        &engine_folder(),
    );
    assert_eq!(accepted.code, 0, "{}", accepted.output());
}

#[test]
fn the_workload_of_json_and_own_functions_validates_and_bundles() {
    let folder = engine_folder().join("workload");
    let run = acme(&["workload", "validate", "--strict", "acme.toml"], &folder);
    assert_eq!(run.code, 0, "{}", run.output());
    for query in ["by_country", "masked", "slow_paths"] {
        let bundle = acme(
            &[
                "bundle",
                "--policy",
                "../policies/acme.toml",
                "--workload",
                "acme.toml",
                "--query",
                query,
                "--format",
                "text",
            ],
            &folder,
        );
        assert_eq!(bundle.code, 0, "{query}: {}", bundle.output());
    }
    // The workload schema of Acme's dfpolicy offers its format to editors; the plain one does not.
    let format_names = |run: Run| -> Vec<String> {
        assert_eq!(run.code, 0, "{}", run.output());
        let schema: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
        schema["properties"]["tables"]["items"]["properties"]["format"]["enum"]
            .as_array()
            .expect("the formats are listed")
            .iter()
            .map(|name| name.as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        format_names(acme(&["schema", "workload"], &folder)),
        ["parquet", "csv", "delta", "acmelog", "arrow", "json"]
    );
    assert_eq!(
        format_names(vanilla(&["schema", "workload"], &folder)),
        ["parquet", "csv", "delta", "arrow", "json"]
    );
    // The Acme log's table provider reports exact statistics: the planner sees its 4 rows.
    let bundle = acme_bundle("../policies/acme.toml", "acme.toml", "slow_paths", &folder);
    assert_eq!(bundle.code, 0, "{}", bundle.output());
    let bundle: serde_json::Value = serde_json::from_str(&bundle.stdout).unwrap();
    let scans = bundle["statistics"]["scans"]
        .as_array()
        .expect("statistics");
    assert!(scans.iter().any(|scan| scan["row_count"] == 4), "{scans:?}");
}

#[test]
fn without_the_engine_the_workload_is_located_findings_not_planning_errors() {
    let folder = engine_folder().join("workload");
    let run = vanilla(&["workload", "validate", "acme.toml"], &folder);
    assert_eq!(run.code, 1, "{}", run.output());
    insta::assert_snapshot!("workload_without_engine", run.stdout);
}

/// The physical plan and the names of the trace's logical steps of one query under one policy.
fn plan_and_trace(policy: &str, query: &str) -> (String, Vec<String>) {
    let folder = engine_folder().join("workload");
    let run = acme_bundle(policy, "acme.toml", query, &folder);
    assert_eq!(run.code, 0, "{}", run.output());
    let bundle: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let physical = bundle["plans"]["physical"].as_str().unwrap().to_string();
    let steps = bundle["optimizer_trace"]["steps"]
        .as_array()
        .expect("the policy asks for the trace")
        .iter()
        .filter(|step| step["phase"] == "logical" && step["changed"].as_bool() == Some(true))
        .map(|step| step["rule"].as_str().unwrap().to_string())
        .collect();
    (physical, steps)
}

#[test]
fn the_engines_rule_moves_the_plan_and_disabled_rules_turns_it_off() {
    let (capped, capped_steps) = plan_and_trace("../policies/acme-capped.toml", "masked");
    let (plain, plain_steps) = plan_and_trace("../policies/acme.toml", "masked");
    let (uncapped, uncapped_steps) = plan_and_trace("../policies/acme-uncapped.toml", "masked");
    assert!(capped.contains("fetch=3"), "{capped}");
    assert!(!plain.contains("fetch="), "{plain}");
    assert_eq!(
        uncapped, plain,
        "the rule disabled plans as without the cap"
    );
    assert!(
        capped_steps.contains(&"acme_row_cap".to_string()),
        "{capped_steps:?}"
    );
    assert!(!uncapped_steps.contains(&"acme_row_cap".to_string()));
    assert!(!plain_steps.contains(&"acme_row_cap".to_string()));
}

#[test]
fn check_attributes_the_engines_key_and_version() {
    let dir = scratch_copy();
    let workload = dir.path().join("workload");
    let check = |env: &[(&str, &str)], extra: &[&str]| {
        let mut args = vec![
            "check",
            "--policies",
            "../policies",
            "--workload",
            "acme.toml",
            "--baseline",
            "../baseline",
        ];
        args.extend_from_slice(extra);
        run(env!("CARGO_BIN_EXE_dfpolicy-acme"), &args, &workload, env)
    };
    let blessed = check(&[], &["--bless"]);
    assert_eq!(blessed.code, 0, "{}", blessed.output());
    let unchanged = check(&[], &[]);
    assert_eq!(unchanged.code, 0, "{}", unchanged.output());

    // The rule's key: a policy setting of class plan-shape.
    let capped = dir.path().join("policies/acme-capped.toml");
    let text = std::fs::read_to_string(&capped).unwrap();
    std::fs::write(
        &capped,
        text.replace("\"acme.max_rows\" = 3", "\"acme.max_rows\" = 2"),
    )
    .unwrap();
    let moved = check(&[], &["--format", "json"]);
    assert_eq!(moved.code, 1, "{}", moved.output());
    assert!(
        moved.stdout.contains("\"key\": \"acme.max_rows\""),
        "{}",
        moved.stdout
    );
    std::fs::write(&capped, text).unwrap();

    // A new engine version: a cause of its own, naming what changed. Acme's plans stay the same, so
    // the cells are `inputs-changed` (exit 0), each with the engine as its cause.
    let bumped = check(
        &[("ACME_ENGINE_VERSION", "1.1.0")],
        &["--format", "json", "--html", "../review.html"],
    );
    assert_eq!(bumped.code, 0, "{}", bumped.output());
    let page = std::fs::read_to_string(dir.path().join("review.html")).unwrap();
    assert!(
        page.contains("engine acme 1.0.0 → acme 1.1.0: version 1.0.0 → 1.1.0"),
        "the review page names the engine's change"
    );
    let report: serde_json::Value = serde_json::from_str(&bumped.stdout).unwrap();
    for cell in report["cells"].as_array().unwrap() {
        assert_eq!(cell["status"], "inputs-changed", "{cell}");
        assert_eq!(
            cell["causes"],
            serde_json::json!([{
                "kind": "engine",
                "baseline": "acme 1.0.0",
                "now": "acme 1.1.0",
                "changes": ["version 1.0.0 → 1.1.0"],
            }]),
            "{cell}"
        );
    }
}

#[test]
fn the_sweep_finds_the_rules_key_moves_plans_and_the_execution_key_none() {
    let folder = engine_folder().join("workload");
    let run = acme(
        &[
            "sensitivity",
            "--policy",
            "../policies/acme.toml",
            "--workload",
            "acme.toml",
            "--keys",
            "acme.*",
            "--format",
            "json",
        ],
        &folder,
    );
    assert_eq!(run.code, 0, "{}", run.output());
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let keys = report["keys"].as_array().expect("keys");
    let moved = |key: &str| -> bool {
        let entry = keys
            .iter()
            .find(|k| k["key"] == key)
            .unwrap_or_else(|| panic!("{key} swept: {}", run.stdout));
        entry["values"]
            .as_array()
            .unwrap()
            .iter()
            .any(|value| !value["changed"].as_array().unwrap().is_empty())
    };
    assert!(moved("acme.max_rows"));
    assert!(!moved("acme.scan_threads"));
}

/// One process, one engine: this test binary installs Acme once, as a team's `main` does, before
/// any test in it reads a policy.
fn install_acme() {
    static INSTALL: std::sync::Once = std::sync::Once::new();
    INSTALL.call_once(|| acme::acme().install().expect("installs first"));
}

#[test]
fn the_library_serves_the_installed_engine() {
    install_acme();
    let again = acme::acme().install().unwrap_err();
    assert!(again.to_string().contains("already installed"), "{again}");
    let policy = dfpolicy::Policy::load(engine_folder().join("policies/acme-capped.toml")).unwrap();
    assert_eq!(
        policy.compiled.settings["acme.max_rows"].as_deref(),
        Some("3")
    );
    let identity = policy
        .compiled
        .engine
        .extensions
        .clone()
        .expect("an engine");
    assert_eq!(identity.to_string(), "acme 1.0.0");
    let ctx = dfpolicy::SessionFactory::new(policy.compiled)
        .unwrap()
        .context()
        .unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let rows = runtime.block_on(async {
        ctx.sql("SELECT mask_pii('ada@example.com') AS who, json_get_int('{\"a\": 7}', 'a') AS a")
            .await?
            .collect()
            .await
    });
    let rows = rows.unwrap();
    let shown = dfpolicy::datafusion::arrow::util::pretty::pretty_format_batches(&rows)
        .unwrap()
        .to_string();
    assert!(shown.contains("***********.com"), "{shown}");
    assert!(shown.contains("| 7 "), "{shown}");
}

/// On a Ballista cluster (with the `ballista` feature too, as `.ci/run` builds): the session has
/// the engine's functions, a query calling them returns the rows it returns locally, and a query
/// reading a table only the client has (Acme's log, an in-memory provider no codec knows) is a
/// `not-distributable` finding of its bundle rather than a failed job.
#[cfg(feature = "ballista")]
#[test]
fn a_ballista_session_runs_the_engines_functions_and_a_bundle_says_what_cannot_be_sent() {
    use dfpolicy::bundle::Bundler;
    use dfpolicy::{BallistaCluster, Policy, SessionFactory, Workload};

    install_acme();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("acme-ballista.toml");
    std::fs::write(
        &path,
        "[policy]\nname = \"acme-ballista\"\n\n[execution]\ntarget_partitions = 2\n\
         planning_concurrency = 2\ntime_zone = \"+00:00\"\n\n[ballista]\n\
         standalone_parallelism = 2\nadaptive = false\n",
    )
    .unwrap();
    let factory = SessionFactory::new(Policy::load(&path).unwrap().compiled).unwrap();
    let workload = Workload::load(engine_folder().join("workload/acme.toml")).unwrap();
    let pretty = |rows: Vec<dfpolicy::datafusion::arrow::array::RecordBatch>| {
        dfpolicy::datafusion::arrow::util::pretty::pretty_format_batches(&rows)
            .unwrap()
            .to_string()
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let by_country = workload.query("by_country").unwrap();
        let local = workload.query_session(&factory, by_country).await.unwrap();
        let local = pretty(
            local
                .sql(by_country.sql())
                .await
                .unwrap()
                .collect()
                .await
                .unwrap(),
        );
        let cluster = factory
            .ballista_context(&BallistaCluster::Standalone)
            .await
            .unwrap();
        workload.register_tables(&cluster).await.unwrap();
        let distributed = cluster.sql(by_country.sql()).await.unwrap();
        let distributed = pretty(distributed.collect().await.unwrap());
        assert_eq!(distributed, local);
        assert!(distributed.contains("| country"), "{distributed}");

        let bundler = Bundler::new(&factory, &workload).await.unwrap();
        let sendable = bundler.bundle(by_country).await.unwrap();
        assert!(sendable.distributed_stages.is_some());
        assert!(sendable.findings.is_empty(), "{:?}", sendable.findings);
        let log = bundler
            .bundle(workload.query("slow_paths").unwrap())
            .await
            .unwrap();
        assert!(
            log.findings.iter().any(|f| f.code == "not-distributable"
                && f.message
                    .starts_with("the query cannot be sent to a Ballista 55.0.0 scheduler")),
            "{:?}",
            log.findings
        );
        // The client indeed cannot submit it: the job fails where the finding said.
        let submitted = match cluster.sql(&log.query.statement).await {
            Ok(frame) => frame.collect().await.err(),
            Err(error) => Some(error),
        };
        assert!(submitted.is_some(), "the Acme log query ran on the cluster");
    });
}

/// A metadata snapshot is taken with the engine's sessions: the queries over the CSV table plan
/// from the snapshot as from the data. Acme's log factory reads its file itself (not through the
/// session's object store), so the snapshot cannot serve it: its table fails to register there,
/// as docs/workloads.md says.
#[test]
fn a_snapshot_is_taken_with_the_engines_sessions() {
    let scratch = scratch_copy();
    let workload = scratch.path().join("workload");
    let taken = acme(
        &[
            "workload",
            "snapshot",
            "acme.toml",
            "--out",
            "snapshot",
            "--policies",
            "../policies",
        ],
        &workload,
    );
    assert_eq!(taken.code, 0, "{}", taken.output());
    assert!(
        taken.stdout.contains("events") && taken.stdout.contains("logs"),
        "{}",
        taken.stdout
    );
    let from_snapshot = |query: &str| {
        acme_bundle(
            "../../policies/acme.toml",
            "workload.toml",
            query,
            &workload.join("snapshot"),
        )
    };
    let from_data = acme_bundle(
        "../policies/acme.toml",
        "acme.toml",
        "by_country",
        &workload,
    );
    assert_eq!(from_data.code, 0, "{}", from_data.output());
    let plan = |run: &Run| -> serde_json::Value {
        let bundle: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
        bundle["plans"].clone()
    };
    // The snapshot cannot serve the Acme log, so no session of it registers its tables.
    let served = from_snapshot("by_country");
    assert_ne!(served.code, 0, "{}", served.output());
    assert!(
        served.output().contains("cannot read acme log"),
        "{}",
        served.output()
    );
    // Without the log, the rest of the workload plans from the snapshot as from the data.
    let declaration = workload.join("snapshot/workload.toml");
    let mut document: toml::Table = std::fs::read_to_string(&declaration)
        .unwrap()
        .parse()
        .unwrap();
    let tables = document["tables"].as_array_mut().unwrap();
    tables.retain(|table| table["format"].as_str() != Some("acmelog"));
    assert_eq!(tables.len(), 1);
    std::fs::write(&declaration, toml::to_string(&document).unwrap()).unwrap();
    let served = from_snapshot("by_country");
    assert_eq!(served.code, 0, "{}", served.output());
    assert_eq!(plan(&served)["physical"], plan(&from_data)["physical"]);
}
