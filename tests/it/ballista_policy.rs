//! Ballista policies without Ballista: every `ballista.*` key is validated against Ballista 55's
//! registry (carried as data, see `dfpolicy::registry::ballista`), the DataFusion settings Ballista
//! forces are compiled in, shown and flagged, and the hashes cover what changes Ballista's plans. All
//! of this works in the plain build; `tests/it/ballista.rs` (feature `ballista`) checks the registry
//! against the crates and runs the sessions.

use dfpolicy::Code;
use dfpolicy::compile::{diff, setting_listing};
use dfpolicy::registry::ballista::{BALLISTA_VERSION, catalog};
use dfpolicy::registry::{RejectedBy, SettingClass, ValueKind, classify, registry};
use dfpolicy::report::Diagnostic;
use dfpolicy::validate::validate_chain;

use crate::compile::policy_from;
use crate::registry_coverage::chain_of;
use dfpolicy::registry::toml_literal;

const PINNED: &str = "[policy]\nname = \"distributed\"\n[execution]\ntarget_partitions = 4\nplanning_concurrency = 4\n";

fn findings(extra: &str) -> Vec<Diagnostic> {
    validate_chain(&chain_of(&format!("{PINNED}{extra}")))
}

fn codes(extra: &str) -> Vec<Code> {
    findings(extra).iter().map(|d| d.code).collect()
}

#[test]
fn the_registry_is_ballistas_with_the_forced_settings() {
    let catalog = catalog();
    assert_eq!(catalog.ballista, BALLISTA_VERSION);
    assert!(catalog.options.len() >= 40, "{}", catalog.options.len());
    assert!(catalog.options.windows(2).all(|w| w[0].key < w[1].key));
    assert_eq!(
        catalog.forced_value("datafusion.optimizer.prefer_hash_join"),
        Some("false")
    );
    assert_eq!(
        catalog.forced_value("datafusion.optimizer.enable_dynamic_filter_pushdown"),
        Some("false")
    );
    // Every key Ballista forces is a DataFusion option.
    for forced in &catalog.forced {
        assert!(registry().option(&forced.key).is_some(), "{}", forced.key);
        assert!(!forced.key.starts_with("ballista."));
    }
    // Ballista's keys are apart from DataFusion's: a DataFusion policy's environment lists none.
    assert!(
        registry()
            .options()
            .all(|o| !o.key.starts_with("ballista."))
    );
    assert_eq!(registry().ballista_options().count(), catalog.options.len());
}

#[test]
fn a_valid_ballista_policy_is_clean_and_a_plain_section_is_enough() {
    let errors = |extra: &str| -> Vec<String> {
        findings(extra)
            .iter()
            .filter(|d| d.severity == dfpolicy::Severity::Error)
            .map(|d| d.to_string())
            .collect()
    };
    assert_eq!(
        errors(
            "[ballista]\njob_name = \"nightly\"\nstandalone_parallelism = 4\nadaptive = false\nshuffle_compression = \"zstd\"\nbroadcast_join_threshold_bytes = \"8MiB\"\n[settings]\n\"ballista.shuffle.max_concurrent_read_requests\" = 32\n"
        ),
        Vec::<String>::new()
    );
    assert_eq!(codes("[ballista]\nstandalone_parallelism = 4\n"), []);
}

#[test]
fn unknown_ballista_keys_are_located_errors_with_a_suggestion() {
    let found = findings(
        "[ballista]\nstandalone_parallelism = 4\n[settings]\n\"ballista.shuffle.max_concurent_read_requests\" = 32\n",
    );
    let unknown: Vec<&Diagnostic> = found
        .iter()
        .filter(|d| d.code == Code::UnknownSetting)
        .collect();
    assert_eq!(unknown.len(), 1, "{found:?}");
    let text = unknown[0].to_string();
    assert!(text.contains("is not a Ballista 55.0.0 option"), "{text}");
    assert_eq!(
        unknown[0].help.as_deref(),
        Some("did you mean `ballista.shuffle.max_concurrent_read_requests`?")
    );
    assert!(unknown[0].location.is_some());
    // A misspelled typed field too: the schema layer knows `[ballista]`'s fields.
    let found = findings("[ballista]\nstandalone_paralelism = 4\n");
    assert!(
        found.iter().any(|d| d.code == Code::UnknownKey
            && d.help
                .as_deref()
                .is_some_and(|h| h.contains("standalone_parallelism"))),
        "{found:?}"
    );
}

#[test]
fn wrong_types_and_bad_values_are_rejected_as_ballista_reads_them() {
    let check = |key: &str, value: &str| registry().check_value(key, value);
    // `BallistaConfig::set` takes these; the getters panic or fail the job later.
    for (key, value) in [
        ("ballista.shuffle.max_concurrent_read_requests", "many"),
        ("ballista.planner.adaptive.enabled", "TRUE"),
        ("ballista.planner.coalesce.small_partition_factor", "NaN"),
        ("ballista.shuffle.compression.codec", "gzip"),
        ("ballista.testing.chaos_execution.fault_type", "delay:soon"),
        ("ballista.testing.chaos_execution.seed", "abc"),
        ("ballista.testing.chaos_execution.probability", "1.5"),
    ] {
        let error = check(key, value).unwrap_err();
        assert_eq!(error.rejected_by, RejectedBy::Ballista, "{key} = {value}");
    }
    // Beyond the type Ballista declares: it parses a `usize` and truncates later.
    let error = check("ballista.standalone.parallelism", "70000").unwrap_err();
    assert_eq!(error.rejected_by, RejectedBy::Dfpolicy);
    assert!(check("ballista.standalone.parallelism", "0").is_err());
    // The canonical form is Ballista's reading: the codec lowercased and trimmed.
    assert_eq!(
        check("ballista.shuffle.compression.codec", " ZSTD")
            .unwrap()
            .0,
        "zstd"
    );

    let found = findings(
        "[ballista]\nstandalone_parallelism = 4\nshuffle_compression = \"gzip\"\n[settings]\n\"ballista.planner.adaptive.enabled\" = \"yes\"\n",
    );
    let messages: Vec<String> = found.iter().map(|d| d.to_string()).collect();
    assert!(
        messages.iter().any(
            |m| m.contains("Ballista rejects `ballista.shuffle_compression`")
                && m.contains("lz4, zstd and none")
        ),
        "{messages:?}"
    );
    assert!(
        found.iter().any(|d| d.code == Code::WrongType),
        "a string for a boolean is the schema's finding: {messages:?}"
    );
}

#[test]
fn settings_ballista_forces_are_flagged_with_what_it_uses_instead() {
    let found = findings(
        "[ballista]\nstandalone_parallelism = 4\n[joins]\nprefer_hash_join = true\n[optimizer]\nenable_round_robin_repartition = false\n",
    );
    let forced: Vec<String> = found
        .iter()
        .filter(|d| d.code == Code::BallistaForcedSetting)
        .map(|d| d.to_string())
        .collect();
    assert_eq!(forced.len(), 1, "{found:?}");
    // Round-robin off is what Ballista uses anyway: redundant, as a default would be. And `true` for
    // `prefer_hash_join` is not a redundant default in a Ballista policy, where the default is false.
    let codes_found: Vec<Code> = found.iter().map(|d| d.code).collect();
    assert_eq!(
        codes_found,
        [Code::BallistaForcedSetting, Code::RedundantDefault],
        "{found:?}"
    );
    assert!(found[1].to_string().contains(
        "`[optimizer].enable_round_robin_repartition` sets `datafusion.optimizer.enable_round_robin_repartition` to false, which Ballista forces on every distributed session"
    ));
    assert!(
        forced[0].contains(
            "`[joins].prefer_hash_join` sets `datafusion.optimizer.prefer_hash_join` to true, but Ballista 55.0.0 runs with false instead"
        ),
        "{}",
        forced[0]
    );
    assert!(forced[0].starts_with("inline.toml:9:20:"), "{}", forced[0]);
    // The same setting in a DataFusion policy is fine.
    assert_eq!(
        codes("[joins]\nprefer_hash_join = true\n"),
        [Code::RedundantDefault]
    );
}

#[test]
fn the_executor_parallelism_is_machine_dependent_like_target_partitions() {
    assert_eq!(codes("[ballista]\n"), [Code::UnpinnedMachineSetting]);
    let compiled = policy_from(&format!("{PINNED}[ballista]\n"));
    assert!(!compiled.portable);
    let ballista = compiled.ballista.as_ref().unwrap();
    assert_eq!(
        ballista.settings["ballista.standalone.parallelism"].as_deref(),
        Some("0")
    );
    let pinned = policy_from(&format!("{PINNED}[ballista]\nstandalone_parallelism = 2\n"));
    assert!(pinned.portable);
}

#[test]
fn compile_applies_and_lists_what_ballista_forces() {
    let datafusion = policy_from(PINNED);
    assert!(datafusion.ballista.is_none());
    let distributed = policy_from(&format!(
        "{PINNED}[ballista]\nstandalone_parallelism = 4\nadaptive = false\n"
    ));
    let ballista = distributed.ballista.as_ref().unwrap();
    assert_eq!(ballista.version, BALLISTA_VERSION);
    assert_eq!(
        ballista.settings["ballista.planner.adaptive.enabled"].as_deref(),
        Some("false")
    );
    // Every Ballista option is listed, defaults filled in.
    assert_eq!(ballista.settings.len(), catalog().options.len());
    assert_eq!(
        ballista.settings["ballista.shuffle.compression.codec"].as_deref(),
        Some("lz4")
    );
    for forced in &catalog().forced {
        assert_eq!(ballista.forced[&forced.key], forced.value);
        assert_eq!(
            distributed.settings[&forced.key].as_deref(),
            Some(forced.value.as_str()),
            "{}",
            forced.key
        );
    }
    let toml = distributed.to_toml();
    assert!(toml.contains("[ballista.forced]\n"), "{toml}");
    assert!(
        toml.contains("\"datafusion.optimizer.prefer_hash_join\" = false\n"),
        "{toml}"
    );
    assert!(toml.contains("\"ballista.planner.adaptive.enabled\" = false\n"));
    // JSON round trip, and a DataFusion policy's JSON has no `ballista` field at all.
    assert_eq!(
        dfpolicy::CompiledPolicy::from_json(&distributed.to_json()).unwrap(),
        distributed
    );
    assert!(!datafusion.to_json().contains("\"ballista\""));

    let difference = diff(&datafusion, &distributed);
    let text = difference.to_text();
    assert!(
        text.contains("datafusion.optimizer.prefer_hash_join [plan-shape] (forced by Ballista)\n  - true\n  + false"),
        "{text}"
    );
    assert!(
        text.contains("engine.ballista [plan-shape]\n  - NULL\n  + 55.0.0"),
        "{text}"
    );
    assert!(
        text.contains("ballista.planner.adaptive.enabled [plan-shape]"),
        "{text}"
    );
}

#[test]
fn ballista_keys_that_change_stages_change_the_plan_environment_hash() {
    let base = format!("{PINNED}[ballista]\nstandalone_parallelism = 4\n");
    let hashes = |extra: &str| policy_from(&format!("{base}{extra}")).hashes;
    let plain = hashes("");
    // Targeting Ballista changes the environment of a DataFusion policy.
    assert_ne!(
        policy_from(PINNED).hashes.plan_environment_hash,
        plain.plan_environment_hash
    );
    let adaptive = hashes("adaptive = false\n");
    assert_ne!(adaptive.plan_environment_hash, plain.plan_environment_hash);
    let broadcast = hashes("broadcast_join_threshold_rows = 10\n");
    assert_ne!(broadcast.plan_environment_hash, plain.plan_environment_hash);
    // A job name or a gRPC timeout cannot change a plan.
    let named = hashes("job_name = \"nightly\"\n");
    assert_eq!(named.plan_environment_hash, plain.plan_environment_hash);
    assert_ne!(named.settings_hash, plain.settings_hash);
    assert_ne!(named.policy_hash, plain.policy_hash);
    let timeout = policy_from(&format!(
        "{base}[settings]\n\"ballista.client.grpc_timeout_seconds\" = 60\n"
    ))
    .hashes;
    assert_eq!(timeout.plan_environment_hash, plain.plan_environment_hash);
}

#[test]
fn every_ballista_option_is_listed_classified_and_in_the_schema() {
    let rows = setting_listing();
    let schema = dfpolicy::validate::schema::policy_schema();
    for option in registry().ballista_options() {
        let row = rows.iter().find(|r| r.key == option.key).unwrap();
        let (class, _) = classify(option);
        assert!(
            matches!(class, SettingClass::PlanShape | SettingClass::ExecutionOnly),
            "{}",
            option.key
        );
        assert_eq!(row.class, <&str>::from(class));
        let property = &schema["properties"]["settings"]["properties"][&option.key];
        assert!(property.is_object(), "{} is not in the schema", option.key);
        if option.kind == ValueKind::Boolean {
            assert_eq!(property["type"], "boolean");
        }
        // The typed `[ballista]` fields map to real Ballista keys.
    }
    for field in dfpolicy::policy::options::BallistaOptions::FIELDS {
        let key = field.key.unwrap();
        assert!(registry().option(key).is_some(), "{key}");
    }
    assert_eq!(
        classify(
            registry()
                .option("ballista.planner.adaptive.enabled")
                .unwrap()
        )
        .0,
        SettingClass::PlanShape
    );
    assert_eq!(
        classify(registry().option("ballista.job.name").unwrap()).0,
        SettingClass::ExecutionOnly
    );
}

#[test]
fn every_ballista_key_is_accepted_with_its_default_value() {
    for option in registry().ballista_options() {
        let Some(default) = option.default.as_deref() else {
            continue;
        };
        let literal = toml_literal(option.kind, default);
        let found = findings(&format!(
            "[ballista]\nstandalone_parallelism = 4\n[settings]\n\"{}\" = {literal}\n",
            option.key
        ));
        let errors: Vec<String> = found
            .iter()
            .filter(|d| d.severity == dfpolicy::Severity::Error)
            .map(|d| d.to_string())
            .collect();
        assert!(errors.is_empty(), "{} = {default}: {errors:?}", option.key);
        assert!(
            found.iter().any(|d| d.code == Code::RedundantDefault),
            "{} = {default} was not recognized as the default",
            option.key
        );
    }
}

#[test]
fn without_the_feature_a_ballista_policy_has_no_session() {
    let compiled = policy_from(&format!("{PINNED}[ballista]\nstandalone_parallelism = 4\n"));
    let result = dfpolicy::SessionFactory::new(compiled);
    if cfg!(feature = "ballista") {
        assert!(result.is_ok());
    } else {
        let message = result.unwrap_err().to_string();
        assert!(
            message.contains("need dfpolicy built with the `ballista` feature"),
            "{message}"
        );
    }
}
