//! The bundled policies are realistic and clean: they validate under `--strict` and resolve.

use dfpolicy::Policy;
use dfpolicy::report::render;
use dfpolicy::validate::validate_paths;

use crate::repo;

#[test]
fn bundled_policies_validate_clean_under_strict() {
    let report = validate_paths(&[repo().join("policies")], Some(&repo()));
    assert!(
        report.files.len() >= 5,
        "expected at least 5 policies, found {:?}",
        report.files
    );
    assert!(
        report.diagnostics.is_empty(),
        "bundled policies have findings:\n{}",
        render::human_report(&report)
    );
}

#[test]
fn a_child_policy_resolves_over_its_parents() {
    let policy = Policy::load(repo().join("policies/deterministic-trace.toml")).unwrap();
    let options = &policy.resolved.options;
    // From baseline, two levels up.
    assert_eq!(
        options.execution.as_ref().unwrap().target_partitions,
        Some(4)
    );
    // From selective-scan, one level up.
    assert_eq!(
        options.parquet.as_ref().unwrap().pushdown_filters,
        Some(true)
    );
    // Its own.
    assert_eq!(
        options
            .optimizer
            .as_ref()
            .unwrap()
            .enable_dynamic_filter_pushdown,
        Some(false)
    );
    // Tables merge key by key: selective-scan's selectivity survives next to the child's optimizer keys.
    assert_eq!(
        options
            .optimizer
            .as_ref()
            .unwrap()
            .default_filter_selectivity,
        Some(5)
    );
    // Lists replace, except disabled_rules.
    assert_eq!(
        options
            .explain
            .as_ref()
            .unwrap()
            .formats
            .as_ref()
            .unwrap()
            .len(),
        3
    );
    assert!(
        options.policy.extends.is_none(),
        "a resolved policy has no extends"
    );
    insta::assert_snapshot!(policy.resolved.to_toml());
}

#[test]
fn policies_start_with_the_schema_directive() {
    for entry in std::fs::read_dir(repo().join("policies")).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.starts_with("#:schema ../schema/policy.schema.json\n"),
            "{} does not start with the schema directive",
            path.display()
        );
    }
}
