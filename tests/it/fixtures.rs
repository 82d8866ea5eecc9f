//! Every kind of finding has an invalid policy under `tests/fixtures/invalid/` whose full report is
//! snapshotted: the message, the `file:line:column`, the caret under the offending key or value, help.

use std::path::PathBuf;

use dfpolicy::Code;
use dfpolicy::report::render;
use dfpolicy::validate::validate_paths;

use crate::{fixtures, relative};

fn report_for(path: &std::path::Path) -> dfpolicy::report::Report {
    let root = fixtures().join("invalid");
    validate_paths(&[relative(path)], Some(&root))
}

#[test]
fn every_invalid_fixture_has_a_reviewed_report() {
    insta::glob!("../fixtures/invalid", "*.toml", |path| {
        let report = report_for(path);
        assert!(
            !report.diagnostics.is_empty(),
            "{} produced no finding",
            path.display()
        );
        insta::assert_snapshot!(render::human_report(&report));
    });
}

#[test]
fn every_reviewed_report_belongs_to_a_fixture_and_every_fixture_has_one() {
    let names = |dir: PathBuf, prefix: &str, suffix: &str| -> std::collections::BTreeSet<String> {
        std::fs::read_dir(dir)
            .unwrap()
            .filter_map(|e| {
                let name = e.unwrap().file_name().to_string_lossy().into_owned();
                Some(name.strip_prefix(prefix)?.strip_suffix(suffix)?.to_string())
            })
            .collect()
    };
    let fixtures = names(fixtures().join("invalid"), "", "");
    let snapshots = names(
        crate::repo().join("tests/it/snapshots"),
        "it__fixtures__every_invalid_fixture_has_a_reviewed_report@",
        ".snap",
    );
    // A snapshot without its fixture would never be checked again; a fixture without a snapshot was
    // never reviewed.
    assert_eq!(fixtures, snapshots);
}

#[test]
fn every_error_code_is_exercised_by_a_fixture() {
    let mut seen = std::collections::BTreeSet::new();
    for entry in std::fs::read_dir(fixtures().join("invalid")).unwrap() {
        let path: PathBuf = entry.unwrap().path();
        for d in report_for(&path).diagnostics {
            seen.insert(d.code);
        }
    }
    // Reading a missing path and the guards on huge inputs are covered in `robustness`; the SQL
    // findings of the namespace check in `hardening` and `cli`.
    let elsewhere = [
        Code::UnreadableFile,
        Code::FileTooLarge,
        Code::ExtendsTooDeep,
        Code::UnqualifiedTable,
        Code::InvalidSql,
    ];
    // The workload codes have fixtures of their own (`workload::every_workload_code_is_exercised…`).
    let missing: Vec<&str> = Code::ALL
        .iter()
        .filter(|c| {
            !seen.contains(c)
                && !elsewhere.contains(c)
                && !dfpolicy::workload::WORKLOAD_CODES.contains(c)
        })
        .map(|c| <&str>::from(*c))
        .collect();
    assert!(missing.is_empty(), "codes without a fixture: {missing:?}");
}

#[test]
fn json_and_github_formats_carry_the_same_findings() {
    let path = relative(&fixtures().join("invalid/settings_conflict.toml"));
    let report = validate_paths(&[path], Some(&fixtures().join("invalid")));
    insta::assert_snapshot!("settings_conflict_json", render::json(&report.diagnostics));
    insta::assert_snapshot!(
        "settings_conflict_github",
        render::github(&report.diagnostics)
    );
    let parsed: serde_json::Value =
        serde_json::from_str(&render::json(&report.diagnostics)).unwrap();
    let first = &parsed[0];
    for field in [
        "file", "line", "column", "severity", "code", "message", "help",
    ] {
        assert!(first.get(field).is_some(), "missing {field} in {first}");
    }
}
