//! Settings sensitivity is honest by construction: what a sweep reports a value moves is exactly what
//! the ordinary harness sees change when that value is written into a policy; and the classes of the
//! registry hold on two scales.

use std::collections::BTreeSet;

use dfpolicy::harness::{CellKey, Harness, PolicySet, Progress};
use dfpolicy::registry::SettingClass;
use dfpolicy::sensitivity::{SweepOptions, sweep};
use dfpolicy::{Policy, Workload};

use crate::repo;

/// Samples (key, value) pairs of a sweep over `tpch` — some that move plans, some that do not —
/// writes each as a policy extending the base, builds both through the harness, and checks that
/// exactly the reported cells change.
#[test]
fn what_a_sweep_reports_is_what_the_harness_sees() {
    let workload = Workload::load("tpch").unwrap();
    let base = Policy::load(repo().join("policies/baseline.toml")).unwrap();
    let options = SweepOptions {
        keys: Some(glob::Pattern::new("datafusion.optimizer.*").unwrap()),
        jobs: 2,
        bisect: false,
        ..SweepOptions::default()
    };
    let sensitivity = sweep(&base.compiled, &workload, &options).unwrap();
    assert_eq!(sensitivity.cells, 22);
    let mut moving = Vec::new();
    let mut still = Vec::new();
    for key in &sensitivity.keys {
        for value in key.values.iter().filter(|v| v.rejected.is_none()) {
            let sample = (key.key.clone(), value.clone());
            if value.changed.is_empty() {
                still.push(sample);
            } else {
                moving.push(sample);
            }
        }
    }
    assert!(moving.len() > 10, "{} values move plans", moving.len());
    // A spread of both kinds: every seventh moving value, and a few that move nothing.
    let samples: Vec<_> = moving
        .iter()
        .step_by(7)
        .chain(still.iter().step_by(still.len().max(4) / 4))
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let policies = dir.path().join("policies");
    std::fs::create_dir_all(&policies).unwrap();
    std::fs::copy(
        repo().join("policies/baseline.toml"),
        policies.join("baseline.toml"),
    )
    .unwrap();
    for (index, (key, value)) in samples.iter().enumerate() {
        std::fs::write(
            policies.join(format!("variant-{index:02}.toml")),
            format!(
                "[policy]\nname = \"variant-{index:02}\"\nextends = \"baseline.toml\"\n\n[settings]\n{key:?} = {}\n",
                value.toml
            ),
        )
        .unwrap();
    }
    let set = PolicySet::load(&policies).unwrap();
    let run = Harness::new(&set, &workload)
        .jobs(2)
        .progress(Progress::Hidden)
        .run()
        .unwrap();
    for (index, (key, value)) in samples.iter().enumerate() {
        let variant = format!("variant-{index:02}");
        let mut changed = BTreeSet::new();
        for query in workload.queries() {
            let cell = |policy: &str| &run.cells[&CellKey::new(policy, query.name.clone())];
            let base = cell("baseline").bundle().unwrap();
            let other = cell(&variant).bundle();
            let moved = other.is_none_or(|other| {
                other.plans.initial_logical != base.plans.initial_logical
                    || other.plans.optimized_logical != base.plans.optimized_logical
                    || other.plans.physical != base.plans.physical
                    || other.plans.renderings != base.plans.renderings
            });
            if moved {
                changed.insert(query.name.clone());
            }
        }
        let reported: BTreeSet<String> = value.changed.iter().cloned().collect();
        assert_eq!(changed, reported, "{key} = {}", value.toml);
    }
}

/// The classification audit: over `tpch` (SF 0.01 data) and the `tpch-sf100` snapshot, no
/// execution-only or writer key moves a plan or a rendering, and display keys move renderings only.
#[test]
fn execution_only_writer_and_display_keys_keep_their_class_on_two_scales() {
    let base = Policy::load(repo().join("policies/baseline.toml")).unwrap();
    let options = SweepOptions {
        classes: vec![
            SettingClass::ExecutionOnly,
            SettingClass::Writer,
            SettingClass::Display,
        ],
        jobs: 2,
        bisect: false,
        ..SweepOptions::default()
    };
    for name in ["tpch", "tpch-sf100"] {
        let workload = Workload::load(name).unwrap();
        let sensitivity = sweep(&base.compiled, &workload, &options).unwrap();
        assert!(
            sensitivity.keys.len() > 50,
            "{name}: {}",
            sensitivity.keys.len()
        );
        let planned: usize = sensitivity
            .keys
            .iter()
            .map(|k| k.values.iter().filter(|v| v.rejected.is_none()).count())
            .sum();
        assert!(planned > 100, "{name}: {planned} candidates planned");
        for key in &sensitivity.keys {
            let broken = key.breaks_class();
            assert!(
                broken.is_empty(),
                "{name}: `{}` is {} but moves {broken:?}",
                key.key,
                key.class
            );
        }
        // Display keys are not idle: some move the renderings.
        assert!(
            sensitivity
                .keys
                .iter()
                .any(|k| k.class == SettingClass::Display && !k.moved().is_empty()),
            "{name}: no display key moved a rendering"
        );
    }
}

/// `check` says whether a setting that changed a plan is known to move that query: the sweep kept
/// beside the baseline (`sensitivity.json`) is read.
#[test]
fn check_says_whether_a_changed_setting_was_expected_to_move_the_query() {
    let dir = tempfile::tempdir().unwrap();
    let baseline = dir.path().join("baseline");
    crate::copy_dir(&repo().join("baselines/tpch"), &baseline);
    let sweep = dfpolicy::sensitivity::read_beside(&baseline).expect("a committed sweep");
    let key = "datafusion.optimizer.prefer_hash_join";
    let moved = &sweep.key(key).unwrap().values[0].changed;
    assert!(!moved.is_empty(), "{key} moves plans of tpch");
    let policies = dir.path().join("policies");
    std::fs::create_dir_all(&policies).unwrap();
    let text = std::fs::read_to_string(repo().join("policies/baseline.toml")).unwrap();
    std::fs::write(
        policies.join("baseline.toml"),
        format!("{text}\n[settings]\n{key:?} = false\n"),
    )
    .unwrap();
    let output = crate::dfpolicy(
        &[
            "check",
            "--workload",
            "tpch",
            "--policies",
            policies.to_str().unwrap(),
            "--baseline",
            baseline.to_str().unwrap(),
        ],
        &repo(),
    );
    let report = String::from_utf8(output.stdout).unwrap();
    assert_eq!(output.status.code(), Some(1), "{report}");
    assert!(
        report.contains(&format!(
            "sensitivity: `{key}` is known to move `{}` over `tpch` (1 of the 1 values swept do: false)",
            moved[0]
        )),
        "{report}"
    );
}
