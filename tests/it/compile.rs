//! Compiling policies: complete settings, portability, the rule recipe, and hashes that change when,
//! and only when, the environment changes.

use dfpolicy::compile::{compile, plan_shape_keys};
use dfpolicy::policy::PolicyOptions;
use dfpolicy::registry::registry;
use dfpolicy::registry::{SettingClass, classify};
use dfpolicy::validate::validate_paths;
use dfpolicy::{CompiledPolicy, Policy};

use crate::repo;

/// A policy from TOML text, validated like a file.
pub fn policy_from(text: &str) -> CompiledPolicy {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.toml");
    std::fs::write(&path, text).unwrap();
    let policy = Policy::loader()
        .root(dir.path())
        .load(&path)
        .unwrap_or_else(|e| panic!("{e}"));
    policy.compiled
}

const PINNED: &str =
    "[policy]\nname = \"p\"\n[execution]\ntarget_partitions = 4\nplanning_concurrency = 4\n";

#[test]
fn compiled_settings_are_complete_and_sorted() {
    let compiled = policy_from(PINNED);
    let keys: Vec<&String> = compiled.settings.keys().collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
    assert_eq!(
        compiled.settings.len(),
        registry().options().filter(|o| !o.runtime).count()
    );
    assert_eq!(
        compiled.settings["datafusion.execution.target_partitions"].as_deref(),
        Some("4")
    );
    assert_eq!(compiled.settings["datafusion.execution.time_zone"], None);
    assert_eq!(
        compiled.settings["datafusion.catalog.information_schema"].as_deref(),
        Some("true")
    );
    assert!(compiled.portable);
}

#[test]
fn unpinned_policies_are_not_portable_and_resolve_the_machine_value() {
    let compiled = policy_from("[policy]\nname = \"p\"\n");
    assert!(!compiled.portable);
    // The compiled environment says "one per CPU" in DataFusion's spelling, the same on every
    // machine; the session resolves it to this machine's CPU count.
    assert_eq!(
        compiled.settings["datafusion.execution.target_partitions"].as_deref(),
        Some("0")
    );
    let cpus = std::thread::available_parallelism().unwrap().get();
    let factory = dfpolicy::SessionFactory::new(compiled).unwrap();
    let state = factory.state().unwrap();
    assert_eq!(state.config().options().execution.target_partitions, cpus);
    assert_eq!(
        state.config().options().execution.planning_concurrency,
        cpus
    );
}

#[test]
fn disabled_rules_leave_the_recipe() {
    let compiled = policy_from(&format!(
        "{PINNED}[optimizer]\ndisabled_rules = [\"push_down_filter\", \"join_selection\", \"type_coercion\"]\n"
    ));
    assert!(
        !compiled
            .rules
            .logical
            .iter()
            .any(|r| r == "push_down_filter")
    );
    assert!(
        !compiled
            .rules
            .physical
            .iter()
            .any(|r| r == "join_selection")
    );
    assert!(!compiled.rules.analyzer.iter().any(|r| r == "type_coercion"));
    assert!(
        compiled
            .rules
            .logical
            .iter()
            .any(|r| r == "push_down_limit")
    );
}

#[test]
fn the_umbrella_is_applied_before_its_sub_flags() {
    let compiled = policy_from(&format!(
        "{PINNED}[settings]\n\"datafusion.optimizer.enable_dynamic_filter_pushdown\" = false\n"
    ));
    for flag in ["topk", "join", "aggregate"] {
        let key = format!("datafusion.optimizer.enable_{flag}_dynamic_filter_pushdown");
        assert_eq!(compiled.settings[&key].as_deref(), Some("false"), "{key}");
    }
}

#[test]
fn hashes_are_versioned() {
    let compiled = policy_from(PINNED);
    for hash in [
        &compiled.hashes.policy_hash,
        &compiled.hashes.settings_hash,
        &compiled.hashes.plan_environment_hash,
    ] {
        assert!(hash.starts_with("v1:") && hash.len() == 3 + 64, "{hash}");
    }
}

#[test]
fn hashes_ignore_order_comments_units_extends_and_spelling() {
    let flat = policy_from(
        "[policy]\nname = \"p\"\n[execution]\ntarget_partitions = 4\nplanning_concurrency = 4\n[parquet]\nmetadata_size_hint = 1048576\npushdown_filters = true\n",
    );
    let reordered = policy_from(
        "# a comment\n[parquet]\npushdown_filters   = true # on\nmetadata_size_hint = \"1MiB\"\n\n[policy]\nname = \"p\"\n[execution]\nplanning_concurrency = 4\ntarget_partitions = 4\n",
    );
    let via_settings = policy_from(
        "[policy]\nname = \"p\"\n[execution]\ntarget_partitions = 4\nplanning_concurrency = 4\n[settings]\n\"datafusion.execution.parquet.metadata_size_hint\" = 1048576\n\"datafusion.execution.parquet.pushdown_filters\" = true\n",
    );
    assert_eq!(flat.hashes, reordered.hashes);
    assert_eq!(flat.hashes, via_settings.hashes);

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("base.toml"), "[policy]\nname = \"base\"\n[execution]\ntarget_partitions = 4\nplanning_concurrency = 4\n[parquet]\npushdown_filters = true\n").unwrap();
    std::fs::write(dir.path().join("p.toml"), "[policy]\nname = \"p\"\nextends = \"base.toml\"\n[parquet]\nmetadata_size_hint = \"1MiB\"\n").unwrap();
    let split = Policy::loader()
        .root(dir.path())
        .load(dir.path().join("p.toml"))
        .unwrap()
        .compiled;
    assert_eq!(flat.hashes, split.hashes);
}

#[test]
fn plan_shape_settings_change_the_plan_environment_hash() {
    let base = policy_from(PINNED);
    let changed = policy_from(&format!("{PINNED}[joins]\nprefer_hash_join = false\n"));
    assert_ne!(
        base.hashes.plan_environment_hash,
        changed.hashes.plan_environment_hash
    );
    assert_ne!(base.hashes.settings_hash, changed.hashes.settings_hash);
    let rules = policy_from(&format!(
        "{PINNED}[optimizer]\ndisabled_rules = [\"push_down_limit\"]\n"
    ));
    assert_ne!(
        base.hashes.plan_environment_hash,
        rules.hashes.plan_environment_hash
    );
}

#[test]
fn display_and_writer_settings_change_the_settings_hash_only() {
    let base = policy_from(PINNED);
    for extra in [
        "[settings]\n\"datafusion.format.null\" = \"NULL\"\n",
        "[parquet]\ncompression = \"snappy\"\n",
        "[explain]\nshow_statistics = true\n",
        "[runtime]\nmemory_limit = \"1GiB\"\n",
    ] {
        let changed = policy_from(&format!("{PINNED}{extra}"));
        assert_eq!(
            base.hashes.plan_environment_hash, changed.hashes.plan_environment_hash,
            "{extra}"
        );
        assert_ne!(
            base.hashes.settings_hash, changed.hashes.settings_hash,
            "{extra}"
        );
    }
}

#[test]
fn the_classification_tables_name_real_options_and_writers_are_never_plan_shape() {
    // A key misspelled or removed in a DataFusion release would silently fall back to plan-shape.
    for key in dfpolicy::registry::classify::EXECUTION_ONLY
        .iter()
        .map(|(key, _)| *key)
        .chain(
            dfpolicy::registry::classify::WRITER_EXECUTION_KEYS
                .iter()
                .copied(),
        )
    {
        assert!(registry().option(key).is_some(), "{key} is not an option");
    }
    for option in registry().options() {
        if option.description.starts_with("(writing)") {
            assert_eq!(classify(option).0, SettingClass::Writer, "{}", option.key);
        }
    }
    let plan_shape = plan_shape_keys();
    assert!(plan_shape.contains(&"datafusion.execution.target_partitions"));
    assert!(plan_shape.contains(&"datafusion.optimizer.prefer_hash_join"));
    assert!(!plan_shape.contains(&"datafusion.format.null"));
    assert_eq!(
        classify(
            registry()
                .option("datafusion.execution.parquet.compression")
                .unwrap()
        )
        .0,
        SettingClass::Writer
    );
}

#[test]
fn golden_hashes_of_the_bundled_policies() {
    let mut golden = String::new();
    let mut paths: Vec<_> = std::fs::read_dir(repo().join("policies"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    paths.sort();
    for path in paths {
        let compiled = Policy::load(&path).unwrap().compiled;
        golden.push_str(&format!(
            "{}\n  policy_hash: {}\n  settings_hash: {}\n  plan_environment_hash: {}\n",
            compiled.policy,
            compiled.hashes.policy_hash,
            compiled.hashes.settings_hash,
            compiled.hashes.plan_environment_hash
        ));
    }
    insta::assert_snapshot!(golden);
}

#[test]
fn compiled_json_has_the_documented_shape() {
    let compiled = Policy::load(repo().join("policies/low-memory-smj.toml"))
        .unwrap()
        .compiled;
    let json: serde_json::Value = serde_json::from_str(&compiled.to_json()).unwrap();
    let keys: Vec<&str> = json
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "policy",
            "engine",
            "portable",
            "settings",
            "runtime",
            "rules",
            "namespace",
            "statistics",
            "explain",
            "hashes"
        ]
    );
    assert_eq!(
        json["engine"]["datafusion"],
        dfpolicy::registry::DATAFUSION_VERSION
    );
    assert_eq!(json["runtime"]["memory_limit"], 2u64 << 30);
    assert_eq!(json["runtime"]["memory_pool"], "fair");
    assert_eq!(
        json["settings"]["datafusion.optimizer.prefer_hash_join"],
        "false"
    );
    assert!(json["settings"]["datafusion.execution.time_zone"].is_string());
    assert!(json["settings"]["datafusion.execution.parquet.coerce_int96"].is_null());
    // The TOML form reads back as TOML.
    let toml_form: toml::Value = toml::from_str(&compiled.to_toml()).unwrap();
    assert_eq!(
        toml_form["hashes"]["plan_environment_hash"].as_str(),
        Some(compiled.hashes.plan_environment_hash.as_str())
    );
}

#[test]
fn a_policy_that_validates_always_compiles() {
    // Every option at a non-default value the registry accepts compiles and builds a session.
    for option in registry().options() {
        let Some(value) = crate::classification::alternative_value(option) else {
            continue;
        };
        let text = format!(
            "{PINNED}[settings]\n{:?} = {}\n",
            option.key,
            dfpolicy::registry::toml_literal(option.kind, &value)
        );
        let options: PolicyOptions = toml::from_str(&text).unwrap();
        let compiled = compile(&options).unwrap_or_else(|e| panic!("{}: {e}", option.key));
        dfpolicy::SessionFactory::new(compiled)
            .and_then(|f| f.state())
            .unwrap_or_else(|e| panic!("{}: {e}", option.key));
    }
}

#[test]
fn every_compiled_setting_line_pasted_into_a_policy_validates() {
    for entry in std::fs::read_dir(repo().join("policies")).unwrap() {
        let path = entry.unwrap().path();
        let compiled = Policy::load(&path).unwrap().compiled;
        let toml = compiled.to_toml();
        let section = toml
            .split("\n[settings]\n")
            .nth(1)
            .and_then(|rest| rest.split("\n\n").next())
            .unwrap();
        let lines: Vec<&str> = section.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(
            lines.len(),
            compiled.settings.values().filter(|v| v.is_some()).count()
        );
        for line in lines {
            let dir = tempfile::tempdir().unwrap();
            let file = dir.path().join("p.toml");
            std::fs::write(
                &file,
                format!("[policy]\nname = \"p\"\n[settings]\n{line}\n"),
            )
            .unwrap();
            let report = validate_paths(std::slice::from_ref(&file), Some(dir.path()));
            // Warnings (a repeated default, an unpinned CPU count) are fine: the line is accepted.
            assert_eq!(
                report.errors(),
                0,
                "{}: {line}\n{}",
                path.display(),
                dfpolicy::report::render::human_report(&report)
            );
        }
    }
}
