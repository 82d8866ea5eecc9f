//! No input makes validation panic or hang: random bytes, deep nesting, huge files, link loops.

use std::path::Path;

use dfpolicy::report::render;
use dfpolicy::validate::validate_paths;
use dfpolicy::{Code, Severity};
use proptest::prelude::*;

/// Validates `bytes` as a policy file and renders the findings in every format, which must not panic
/// either.
fn validate_text(dir: &Path, bytes: &[u8]) -> dfpolicy::report::Report {
    let path = dir.join("policy.toml");
    std::fs::write(&path, bytes).unwrap();
    let report = validate_paths(&[path], Some(dir));
    let _ = render::human_report(&report);
    let _ = render::json(&report.diagnostics);
    let _ = render::github(&report.diagnostics);
    report
}

const KEYS: &[&str] = &[
    "[policy]",
    "name",
    "extends",
    "engine",
    "[execution]",
    "batch_size",
    "target_partitions",
    "[parquet]",
    "pruning",
    "metadata_size_hint",
    "[settings]",
    "\"datafusion.execution.batch_size\"",
    "[optimizer]",
    "disabled_rules",
    "default_filter_selectivity",
    "[runtime]",
    "memory_limit",
    "memory_pool",
    "[explain]",
    "formats",
    "\"datafusion.runtime.memory_limit\"",
    "[execution.deep]",
];
const VALUES: &[&str] = &[
    "0",
    "-1",
    "1",
    "101",
    "true",
    "\"yes\"",
    "\"4GiB\"",
    "\"1.5K\"",
    "[]",
    "[\"x\"]",
    "{ a = 1 }",
    "1979-05-27",
    "nan",
    "inf",
    "9223372036854775807",
    "\"../x.toml\"",
    "\"55\"",
    "\"fair\"",
    "\"\"",
    "3.5",
    "\"\\t\\u0000\\r\"",
    "\"é😀\"",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let dir = tempfile::tempdir().unwrap();
        let report = validate_text(dir.path(), &bytes);
        // Random bytes are never a policy (one needs `[policy]` with a `name`): the file is reported,
        // with at least one error, and bytes that are not UTF-8 are said to be so.
        prop_assert_eq!(report.files.len(), 1);
        prop_assert!(report.diagnostics.iter().any(|d| d.severity == Severity::Error));
        if std::str::from_utf8(&bytes).is_err() {
            prop_assert!(report.diagnostics.iter().any(|d| d.code == Code::NotUtf8));
        } else {
            let lines = bytes.split(|b| *b == b'\n').count();
            for d in &report.diagnostics {
                if d.location.is_some() {
                    let (line, column) = d.line_column();
                    prop_assert!(line >= 1 && line <= lines && column >= 1, "{:?}", d);
                }
            }
        }
    }

    #[test]
    fn arbitrary_policy_shaped_documents_never_panic(
        lines in proptest::collection::vec((0..KEYS.len(), 0..VALUES.len()), 0..24)
    ) {
        let mut text = String::from("[policy]\nname = \"p\"\n");
        for (k, v) in lines {
            let key = KEYS[k];
            if key.starts_with('[') { text.push_str(key); } else { text.push_str(&format!("{key} = {}", VALUES[v])); }
            text.push('\n');
        }
        let dir = tempfile::tempdir().unwrap();
        let report = validate_text(dir.path(), text.as_bytes());
        for d in &report.diagnostics {
            // Every finding points into the file.
            let (line, column) = d.line_column();
            prop_assert!(line >= 1 && column >= 1);
        }
    }
}

#[test]
fn deep_nesting_is_a_syntax_error_not_a_stack_overflow() {
    let dir = tempfile::tempdir().unwrap();
    let depth = 100_000;
    let text = format!(
        "[policy]\nname = \"p\"\nx = {}{}\n",
        "[".repeat(depth),
        "]".repeat(depth)
    );
    let report = validate_text(dir.path(), text.as_bytes());
    assert!(
        report
            .diagnostics
            .iter()
            .any(|d| d.code == Code::TomlSyntax)
    );
    let inline = format!(
        "[policy]\nname = \"p\"\nx = {}1{}\n",
        "{ a = ".repeat(depth),
        " }".repeat(depth)
    );
    let report = validate_text(dir.path(), inline.as_bytes());
    assert!(
        report
            .diagnostics
            .iter()
            .any(|d| d.code == Code::TomlSyntax)
    );
}

#[test]
fn huge_files_are_refused_before_parsing() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("[policy]\nname = \"p\"\n");
    text.push_str(&"# padding\n".repeat(200_000));
    let report = validate_text(dir.path(), text.as_bytes());
    assert_eq!(report.diagnostics.len(), 1);
    assert_eq!(report.diagnostics[0].code, Code::FileTooLarge);
}

#[cfg(unix)]
#[test]
fn directory_link_loops_do_not_hang() {
    let dir = tempfile::tempdir().unwrap();
    let nested = dir.path().join("a/b");
    std::fs::create_dir_all(&nested).unwrap();
    std::os::unix::fs::symlink(dir.path(), nested.join("loop")).unwrap();
    std::fs::write(
        nested.join("p.toml"),
        "[policy]\nname = \"p\"\n[execution]\ntarget_partitions = 2\nplanning_concurrency = 2\n",
    )
    .unwrap();
    let report = validate_paths(&[dir.path().to_path_buf()], Some(dir.path()));
    assert_eq!(report.files.len(), 1);
    assert!(report.diagnostics.is_empty(), "{:?}", report.diagnostics);
}

#[test]
fn a_missing_path_is_reported_not_fatal() {
    let report = validate_paths(&["no/such/policy.toml".into()], None);
    assert_eq!(report.diagnostics[0].code, Code::UnreadableFile);
}

#[test]
fn overlong_extends_chains_stop() {
    let dir = tempfile::tempdir().unwrap();
    for i in 0..40 {
        std::fs::write(
            dir.path().join(format!("p{i}.toml")),
            format!("[policy]\nname = \"p{i}\"\nextends = \"p{}.toml\"\n", i + 1),
        )
        .unwrap();
    }
    std::fs::write(dir.path().join("p40.toml"), "[policy]\nname = \"p40\"\n").unwrap();
    let report = validate_paths(&[dir.path().join("p0.toml")], Some(dir.path()));
    assert!(
        report
            .diagnostics
            .iter()
            .any(|d| d.code == Code::ExtendsTooDeep)
    );
}
