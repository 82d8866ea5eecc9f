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

/// The built-in SF 10 and SF 100 lakes keep each file's last `TAIL_WINDOW` bytes before its footer:
/// a policy whose `metadata_size_hint` reads further back than half of that would plan over bytes
/// the snapshot does not hold.
#[test]
fn the_tail_window_covers_every_bundled_metadata_size_hint() {
    use dfpolicy::workload::tpch::metadata::TAIL_WINDOW;
    let mut largest = (0u64, String::new());
    for entry in std::fs::read_dir(repo().join("policies")).unwrap() {
        let path = entry.unwrap().path();
        let policy = Policy::load(&path).unwrap();
        let hint = policy
            .compiled
            .settings
            .get("datafusion.execution.parquet.metadata_size_hint")
            .cloned()
            .flatten()
            .map_or(0, |hint| hint.parse::<u64>().unwrap());
        if hint > largest.0 {
            largest = (hint, path.display().to_string());
        }
    }
    assert!(largest.0 > 0, "no bundled policy sets a metadata_size_hint");
    assert!(
        2 * largest.0 <= TAIL_WINDOW as u64,
        "{} sets metadata_size_hint = {} bytes: TAIL_WINDOW ({TAIL_WINDOW}) must be at least twice that",
        largest.1,
        largest.0
    );
}

/// Every value the committed sweep shows moving a plan pastes into `[settings]` of a child of any
/// bundled policy: a child overrides what its parents set, typed or raw, and the compiled policy
/// takes the child's value.
#[test]
fn every_moving_sweep_value_pastes_into_a_child_of_every_bundled_policy() {
    let sweep = dfpolicy::sensitivity::read_beside(&repo().join("baselines/tpch"))
        .expect("a committed sweep");
    let pastes: Vec<(&str, &str, &str)> = sweep
        .keys
        .iter()
        .filter(|key| !key.key.starts_with("datafusion.runtime."))
        .filter_map(|key| {
            let value = key.values.iter().find(|v| !v.changed.is_empty())?;
            Some((key.key.as_str(), value.toml.as_str(), value.value.as_str()))
        })
        .collect();
    assert!(
        pastes.len() >= 10,
        "the sweep moves only {} keys",
        pastes.len()
    );
    let folder = tempfile::tempdir().unwrap();
    crate::copy_dir(&repo().join("policies"), folder.path());
    let mut parents: Vec<String> = std::fs::read_dir(folder.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    parents.sort();
    let registry = dfpolicy::registry::registry();
    for parent in &parents {
        for (key, toml, value) in &pastes {
            let child = folder.path().join("child.toml");
            std::fs::write(
                &child,
                format!(
                    "[policy]\nname = \"child\"\nextends = \"{parent}\"\n\n[settings]\n\"{key}\" = {toml}\n"
                ),
            )
            .unwrap();
            let policy = Policy::load(&child).unwrap_or_else(|error| {
                panic!(
                    "`\"{key}\" = {toml}` in a child of {parent}: {}",
                    dfpolicy::report::causes::one_line(&error)
                )
            });
            let expected = registry.check_value(key, value).unwrap().0;
            assert_eq!(
                policy.compiled.settings.get(*key).cloned().flatten(),
                Some(expected),
                "`{key}` in a child of {parent}: the child's value is not the one compiled"
            );
        }
    }
}
