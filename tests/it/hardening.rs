//! Hostile input: every class of input that once crashed, hung, took minutes, leaked a secret or
//! slipped through validation has a regression test here. Value checks (writer options, datetimes,
//! floats for integers, capacities) are fixtures under `tests/fixtures/invalid/`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::mpsc;
use std::time::Duration;

use dfpolicy::report::{Report, render};
use dfpolicy::validate::validate_paths;
use dfpolicy::{Code, Policy};

use crate::repo;

/// Runs `work` on another thread and fails the test if it does not finish in time, so that a
/// regression to blocking shows as a failure rather than a hung test run.
fn within<T: Send + 'static>(seconds: u64, work: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(work());
    });
    rx.recv_timeout(Duration::from_secs(seconds))
        .expect("finished in time")
}

const PINNED: &str = "[execution]\ntarget_partitions = 2\nplanning_concurrency = 2\n";

fn policy_with_extends(dir: &Path, extends: &str) -> PathBuf {
    let path = dir.join("child.toml");
    std::fs::write(
        &path,
        format!("[policy]\nname = \"child\"\nextends = {extends}\n{PINNED}"),
    )
    .unwrap();
    path
}

fn validate(dir: &Path, path: PathBuf) -> Report {
    let dir = dir.to_path_buf();
    within(20, move || validate_paths(&[path], Some(&dir)))
}

#[cfg(unix)]
#[test]
fn parents_that_are_not_policy_files_are_reported_at_the_extends_value() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo.toml");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    std::fs::write(dir.path().join("big.toml"), vec![b'#'; (1 << 20) + 10]).unwrap();
    std::fs::create_dir(dir.path().join("folder.toml")).unwrap();
    for (extends, says) in [
        ("\".\"", "directory"),
        ("\"\"", "directory"),
        ("\"folder.toml\"", "directory"),
        ("\"fifo.toml\"", "FIFO"),
        ("\"/dev/zero\"", "device"),
        ("\"big.toml\"", "larger than"),
    ] {
        let path = policy_with_extends(dir.path(), extends);
        // The root is `/`, so that `/dev/zero` is inside the policy tree.
        let report = validate(Path::new("/"), path);
        let finding = report
            .diagnostics
            .iter()
            .find(|d| d.message.contains("cannot be used"))
            .unwrap_or_else(|| panic!("{extends}: {:?}", report.diagnostics));
        assert!(
            finding.message.contains(says),
            "{extends}: {}",
            finding.message
        );
        // At the value of `extends`, line 3, with the chain.
        assert_eq!(finding.line_column().0, 3, "{extends}");
        assert!(finding.file().ends_with("child.toml"));
        assert!(
            finding
                .notes
                .iter()
                .any(|n| n.message.starts_with("chain: "))
        );
    }
}

#[cfg(target_os = "linux")]
#[test]
fn files_are_read_up_to_the_limit_whatever_size_they_claim() {
    // `/proc/self/pagemap` reports a size of 0 and reads gigabytes.
    let report = within(20, || {
        validate_paths(&[PathBuf::from("/proc/self/pagemap")], Some(Path::new("/")))
    });
    assert_eq!(
        report.diagnostics[0].code,
        Code::FileTooLarge,
        "{:?}",
        report.diagnostics
    );
}

#[cfg(unix)]
#[test]
fn a_dangling_policy_link_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(dir.path().join("gone.toml"), dir.path().join("x.toml")).unwrap();
    let report = validate_paths(&[dir.path().to_path_buf()], Some(dir.path()));
    assert_eq!(report.diagnostics.len(), 1, "{:?}", report.diagnostics);
    assert_eq!(report.diagnostics[0].code, Code::UnreadableFile);
    assert!(report.diagnostics[0].message.contains("does not exist"));
}

#[test]
fn extends_that_is_not_a_string_stops_the_chain_and_is_a_wrong_type() {
    for value in ["inf", "1979-05-27", "12"] {
        let dir = tempfile::tempdir().unwrap();
        let path = policy_with_extends(dir.path(), value);
        let report = validate(dir.path(), path);
        let codes: Vec<Code> = report.diagnostics.iter().map(|d| d.code).collect();
        assert_eq!(
            codes,
            [Code::WrongType],
            "{value}: {:?}",
            report.diagnostics
        );
        assert_eq!(report.diagnostics[0].line_column(), (3, 11));
    }
}

#[test]
fn a_child_does_not_inherit_its_parents_description() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("parent.toml"),
        format!("[policy]\nname = \"parent\"\ndescription = \"the parent\"\n{PINNED}"),
    )
    .unwrap();
    let child = policy_with_extends(dir.path(), "\"parent.toml\"");
    let policy = Policy::loader().root(dir.path()).load(child).unwrap();
    assert_eq!(policy.resolved.options.policy.description, None);
}

#[test]
fn many_findings_of_one_kind_are_counted_not_listed() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = format!("[policy]\nname = \"p\"\n{PINNED}");
    for i in 0..20_000 {
        text.push_str(&format!("[unknown_{i}]\n"));
    }
    let rules: Vec<String> = (0..20_000).map(|i| format!("\"no_rule_{i}\"")).collect();
    text.push_str(&format!(
        "[optimizer]\ndisabled_rules = [{}]\n",
        rules.join(", ")
    ));
    let path = dir.path().join("many.toml");
    std::fs::write(&path, text).unwrap();
    let report = validate(dir.path(), path);
    assert_eq!(report.errors(), 40_000);
    for code in [Code::UnknownSection, Code::UnknownRule] {
        let of_code: Vec<_> = report
            .diagnostics
            .iter()
            .filter(|d| d.code == code)
            .collect();
        assert_eq!(of_code.len(), 51, "{code}");
        let last = of_code.last().unwrap();
        assert_eq!(
            last.message,
            format!("… and 19950 more `{code}` findings in this file")
        );
        // The first finding left out is where the count points.
        assert!(last.line_column().0 > of_code[49].line_column().0 || code == Code::UnknownRule);
    }
    // Every renderer handles the report.
    assert!(render::human_report(&report).contains("40000 errors"));
    assert!(render::json(&report.diagnostics).contains("19950 more"));
}

#[test]
fn columns_are_counted_in_characters_on_very_long_lines() {
    let dir = tempfile::tempdir().unwrap();
    let padding = "é".repeat(100_000);
    let text = format!(
        "[policy]\nname = \"p\"\ndescription = \"{padding}\" \n{PINNED}[optimizer]\ndisabled_rules = [\"{padding}\", \"nope\"]\n"
    );
    let path = dir.path().join("long.toml");
    std::fs::write(&path, text).unwrap();
    let report = validate(dir.path(), path);
    let rule = report
        .diagnostics
        .iter()
        .find(|d| d.message.contains("`nope`"))
        .unwrap();
    // `disabled_rules = [` is 18 characters, the quoted padding 100,002, then `, ` 2 more.
    assert_eq!(rule.line_column(), (8, 18 + 100_002 + 2 + 1));
}

#[test]
fn deeply_dotted_keys_do_not_overflow_the_stack() {
    let dir = tempfile::tempdir().unwrap();
    let key = vec!["a"; 50_000].join(".");
    let text = format!("[policy]\nname = \"p\"\n{PINNED}[settings]\n{key} = 1\n");
    let path = dir.path().join("dotted.toml");
    std::fs::write(&path, text).unwrap();
    let report = validate(dir.path(), path);
    // The TOML parser refuses the nesting (its recursion limit): one syntax finding, no crash.
    let found: Vec<(Code, &str)> = report
        .diagnostics
        .iter()
        .map(|d| (d.code, d.message.as_str()))
        .collect();
    assert_eq!(found, [(Code::TomlSyntax, "recursion limit")]);
}

fn sql_file(dir: &Path, sql: &str) -> PathBuf {
    let path = dir.join("q.sql");
    std::fs::write(&path, sql).unwrap();
    path
}

#[test]
fn a_very_long_expression_is_a_finding_not_a_stack_overflow() {
    let dir = tempfile::tempdir().unwrap();
    let terms = vec!["1"; 200_000].join("+");
    for sql in [
        format!("SELECT {terms} FROM warehouse.tpch.t"),
        vec!["SELECT 1 FROM warehouse.tpch.t"; 50_000].join(" UNION ALL "),
        format!(
            "SELECT {}1{} FROM t",
            "(".repeat(10_000),
            ")".repeat(10_000)
        ),
    ] {
        let query = sql_file(dir.path(), &sql);
        let policy = repo().join("policies/analytics-namespace.toml");
        let output = crate::dfpolicy(
            &[
                "namespace",
                policy.to_str().unwrap(),
                query.to_str().unwrap(),
            ],
            &repo(),
        );
        let text = String::from_utf8_lossy(&output.stdout);
        assert_eq!(
            output.status.code(),
            Some(1),
            "{text}{}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(text.contains("error[invalid-sql]"), "{text}");
        assert!(text.contains(":1:"), "located: {text}");
    }
}

#[test]
fn the_namespace_check_only_parses() {
    let dir = tempfile::tempdir().unwrap();
    let spill = dir.path().join("missing/parent/spill");
    let policy = dir.path().join("p.toml");
    std::fs::write(
        &policy,
        format!(
            "[policy]\nname = \"p\"\n{PINNED}[namespace]\nrequire_qualified_references = true\n[runtime]\nspill_directory = \"{}\"\n",
            spill.display()
        ),
    )
    .unwrap();
    let query = sql_file(dir.path(), "select * from lineitem");
    let output = crate::dfpolicy(
        &["namespace", "p.toml", query.to_str().unwrap()],
        dir.path(),
    );
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(!dir.path().join("missing").exists());
}

#[test]
fn namespace_scopes_follow_sql() {
    use dfpolicy::session::unqualified_references;
    let tables = |sql: &str| -> Vec<String> {
        unqualified_references(sql, "generic", true)
            .unwrap()
            .into_iter()
            .map(|r| r.table)
            .collect()
    };
    // A CTE named like the table it reads: the body reads the table.
    assert_eq!(
        tables("WITH lineitem AS (SELECT * FROM lineitem) SELECT * FROM lineitem"),
        ["lineitem"]
    );
    // A CTE cannot see a later one: that name is a table.
    assert_eq!(
        tables("WITH a AS (SELECT * FROM b), b AS (SELECT 1) SELECT * FROM a, b"),
        ["b"]
    );
    // ...but it sees an earlier one, and under RECURSIVE itself.
    assert!(tables("WITH a AS (SELECT 1), b AS (SELECT * FROM a) SELECT * FROM b").is_empty());
    assert!(
        tables("WITH RECURSIVE r AS (SELECT 1 UNION ALL SELECT * FROM r) SELECT * FROM r")
            .is_empty()
    );
    // A subquery sees the CTEs of the query around it.
    assert!(
        tables("WITH a AS (SELECT 1) SELECT * FROM x.y.z WHERE 1 IN (SELECT * FROM a)").is_empty()
    );
    // COPY reads a table, from a query or by name.
    assert_eq!(
        tables("COPY (SELECT * FROM lineitem) TO '/tmp/x.parquet'"),
        ["lineitem"]
    );
    assert_eq!(tables("COPY lineitem TO '/tmp/x.parquet'"), ["lineitem"]);
    // A table function is not a table.
    assert!(tables("SELECT * FROM generate_series(1, 3)").is_empty());
}

/// All hashes and the whole compiled output of `policy` under `cores` available CPUs.
fn compiled_on(cores: &str, dir: &Path, policy: &Path) -> (String, serde_json::Value) {
    let output = Command::new("taskset")
        .args([
            "-c",
            cores,
            env!("CARGO_BIN_EXE_dfpolicy"),
            "compile",
            "--format",
            "json",
        ])
        .arg(policy)
        .current_dir(dir)
        .output()
        .expect("taskset runs");
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout).unwrap();
    let json = serde_json::from_str(&text).unwrap();
    (text, json)
}

#[cfg(target_os = "linux")]
#[test]
fn no_hash_depends_on_the_machines_cpu_count() {
    let count = |cores: &str| {
        let out = Command::new("taskset")
            .args(["-c", cores, "nproc"])
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    };
    assert_eq!(count("0"), "1");
    assert_eq!(
        count("0,1"),
        "2",
        "this test needs a machine with two cores"
    );

    let dir = tempfile::tempdir().unwrap();
    let mut policies: Vec<(PathBuf, bool)> = std::fs::read_dir(repo().join("policies"))
        .unwrap()
        .map(|e| (e.unwrap().path(), true))
        .collect();
    for (name, body) in [
        ("unpinned", String::new()),
        (
            "settings-zero",
            "[settings]\n\"datafusion.execution.target_partitions\" = 0\n\"datafusion.execution.planning_concurrency\" = 0\n".to_string(),
        ),
        ("half", "[execution]\ntarget_partitions = 3\n".to_string()),
    ] {
        let path = dir.path().join(format!("{name}.toml"));
        std::fs::write(&path, format!("[policy]\nname = \"{name}\"\n{body}")).unwrap();
        policies.push((path, false));
    }
    policies.sort();
    for (policy, portable) in policies {
        let (one, json) = compiled_on("0", &repo(), &policy);
        let (two, _) = compiled_on("0,1", &repo(), &policy);
        assert_eq!(one, two, "{}", policy.display());
        assert_eq!(json["portable"], portable, "{}", policy.display());
        if !portable {
            let settings = &json["settings"];
            assert!(
                settings["datafusion.execution.target_partitions"] == "0"
                    || settings["datafusion.execution.planning_concurrency"] == "0"
            );
        }
    }
}

#[test]
fn credentials_never_appear_in_any_output() {
    let dir = tempfile::tempdir().unwrap();
    let secret_location = "s3://AKIDKEY:SeCrEtVaLuE@bucket/path?X-Amz-Signature=SiGnAtUrE";
    std::fs::write(
        dir.path().join("p.toml"),
        format!(
            "[policy]\nname = \"p\"\n{PINNED}[namespace]\nrequire_qualified_references = true\n[settings]\n\"datafusion.catalog.location\" = \"{secret_location}\"\n"
        ),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("bad.toml"),
        format!("[policy]\nname = \"bad\"\n{PINNED}time_zone = \"{secret_location}\"\n"),
    )
    .unwrap();
    let query = sql_file(dir.path(), "select 1");
    let runs: Vec<Vec<&str>> = vec![
        vec!["validate", "p.toml", "bad.toml"],
        vec!["validate", "--format", "json", "bad.toml"],
        vec!["validate", "--format", "github", "bad.toml"],
        vec!["compile", "p.toml"],
        vec!["compile", "--format", "json", "p.toml"],
        vec!["resolve", "p.toml"],
        vec!["resolve", "--format", "json", "p.toml"],
        vec!["diff", "p.toml", "bad.toml"],
        vec!["diff", "--format", "json", "p.toml", "p.toml"],
        vec!["namespace", "p.toml", query.to_str().unwrap()],
    ];
    for args in runs {
        let output = crate::dfpolicy(&args, dir.path());
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        for secret in ["AKIDKEY", "SeCrEtVaLuE", "SiGnAtUrE"] {
            assert!(!all.contains(secret), "{args:?} shows {secret}:\n{all}");
        }
        assert_ne!(output.status.code(), Some(101), "{args:?} panicked:\n{all}");
    }
    let compiled = crate::dfpolicy(&["compile", "p.toml"], dir.path());
    assert!(
        String::from_utf8_lossy(&compiled.stdout)
            .contains("s3://***@bucket/path?X-Amz-Signature=***")
    );
}
