//! What DataFusion 55 itself knows, split by job:
//!
//! - [`catalog`]: every option key with its kind, default and description, and the rule names of a
//!   default session — discovered from the embedded DataFusion, never copied by hand;
//! - [`exceptions`]: the hand-written exceptions to what DataFusion reports about itself, each a named
//!   table citing the DataFusion source it mirrors (with [`parquet_writer`]'s writer constraints);
//! - [`values`]: checking one value for one option, with typed errors;
//! - [`engine`]: your own engine's extensions ([`Extensions`]), installed once per process;
//! - [`ballista`]: Ballista 55's `ballista.*` options and the DataFusion settings it forces;
//! - [`apply`]: applying settings to `ConfigOptions` and reading back DataFusion's rendering;
//! - [`classify`]: which options can change a plan.

pub(crate) mod apply;
pub mod ballista;
pub(crate) mod catalog;
pub mod classify;
pub(crate) mod engine;
pub(crate) mod exceptions;
pub(crate) mod panic_guard;
pub mod parquet_writer;
mod setting_class;
pub(crate) mod values;

pub use apply::{SettingRejected, apply_settings, engine_message, entries, render, render_within};
pub use catalog::{
    DATAFUSION_VERSION, EngineOption, RUNTIME_PREFIX, Registry, RuleStage, config_options,
    registry, unknown_key_message,
};
pub use classify::{SettingClass, classify};
pub use engine::{EngineError, EngineIdentity, Extensions, RegisterFunctions, RulePosition};
pub use exceptions::{
    CATALOG_LOCATION, DYNAMIC_FILTER_SUB_FLAGS, DYNAMIC_FILTER_UMBRELLA, FORCED_SETTINGS,
    MACHINE_DEPENDENT_KEYS, MEMORY_LIMIT, UPPER_BOUNDS, UpperBound,
};
pub use parquet_writer::check_parquet_writer_options;
pub use values::{
    CanonicalValue, RejectedBy, ValueError, ValueKind, ValueProblem, parse_capacity,
    parse_duration, render_duration, toml_literal,
};

#[cfg(test)]
mod tests {
    use datafusion::config::ConfigOptions;

    use super::*;

    #[test]
    fn probes_find_the_kinds_datafusion_uses() {
        let r = registry();
        let kind = |k: &str| r.option(k).unwrap().kind;
        assert_eq!(
            kind("datafusion.execution.batch_size"),
            ValueKind::UnsignedInteger
        );
        assert_eq!(
            r.option("datafusion.execution.batch_size").unwrap().minimum,
            Some(1)
        );
        assert_eq!(
            kind("datafusion.optimizer.prefer_hash_join"),
            ValueKind::Boolean
        );
        assert_eq!(kind("datafusion.explain.format"), ValueKind::Choice);
        assert_eq!(kind("datafusion.catalog.default_catalog"), ValueKind::Text);
        assert_eq!(
            kind("datafusion.execution.perfect_hash_join_min_key_density"),
            ValueKind::Float
        );
        assert_eq!(kind("datafusion.runtime.memory_limit"), ValueKind::Capacity);
        assert!(
            r.option("datafusion.execution.target_partitions")
                .unwrap()
                .machine_dependent
        );
    }

    #[test]
    fn check_value_canonicalizes_and_rejects() {
        let r = registry();
        assert_eq!(
            r.check_value("datafusion.optimizer.prefer_hash_join", "TRUE")
                .unwrap()
                .0,
            "true"
        );
        assert!(
            r.check_value("datafusion.execution.batch_size", "0")
                .is_err()
        );
        assert!(
            r.check_value("datafusion.optimizer.default_filter_selectivity", "x")
                .is_err()
        );
        assert!(
            r.check_value("datafusion.optimizer.default_filter_selectivity", "101")
                .is_err()
        );
        assert!(
            r.check_value("datafusion.execution.parquet.compression", "zstd(99)")
                .is_err()
        );
        assert!(
            r.check_value("datafusion.execution.time_zone", "Mars/Olympus")
                .is_err()
        );
        assert_eq!(
            r.check_value("datafusion.runtime.memory_limit", "1G")
                .unwrap()
                .0,
            "1073741824"
        );
        assert_eq!(
            r.check_value("datafusion.runtime.list_files_cache_ttl", "90s")
                .unwrap()
                .0,
            "1m30s"
        );
    }

    #[test]
    fn render_matches_entries() {
        let mut options = ConfigOptions::new();
        options
            .set("datafusion.execution.batch_size", "1024")
            .unwrap();
        for entry in options.entries() {
            assert_eq!(render(&options, &entry.key), entry.value, "{}", entry.key);
        }
    }

    #[test]
    fn canonical_defaults_are_what_check_value_returns() {
        let r = registry();
        for option in r.options() {
            if let Some(default) = &option.default
                && !option.machine_dependent
            {
                let checked = r.check_value(&option.key, default).unwrap();
                assert_eq!(
                    option.canonical_default.as_deref(),
                    Some(checked.0.as_str()),
                    "{}",
                    option.key
                );
            }
        }
    }

    #[test]
    fn default_rules_are_known_in_stage_order() {
        let rules = registry().rules();
        let stage_of = |name: &str| rules.iter().find(|(_, n)| n == name).map(|(s, _)| *s);
        assert_eq!(stage_of("type_coercion"), Some(RuleStage::Analyzer));
        assert_eq!(stage_of("push_down_filter"), Some(RuleStage::Logical));
        assert_eq!(stage_of("join_selection"), Some(RuleStage::Physical));
        // Analyzer rules first, then logical, then physical, as a query passes them.
        assert!(rules.windows(2).all(|pair| pair[0].0 <= pair[1].0));
    }

    #[test]
    fn rejections_say_what_is_wrong_and_who_refuses() {
        let r = registry();
        let error = |k: &str, v: &str| r.check_value(k, v).unwrap_err();
        let zero = error("datafusion.execution.batch_size", "0");
        assert_eq!(
            (zero.problem, zero.rejected_by),
            (ValueProblem::OutOfRange, RejectedBy::DataFusion)
        );
        let bound = error("datafusion.execution.target_partitions", "5000");
        assert_eq!(
            (bound.problem, bound.rejected_by),
            (ValueProblem::OutOfRange, RejectedBy::Dfpolicy)
        );
        let word = error("datafusion.explain.format", "yaml");
        assert_eq!(
            (word.problem, word.rejected_by),
            (ValueProblem::Invalid, RejectedBy::DataFusion)
        );
        let unknown = error("datafusion.execution.no_such_option", "1");
        assert_eq!(unknown.problem, ValueProblem::UnknownKey);
        let nan = error("datafusion.runtime.memory_limit", "NaNG");
        assert_eq!(
            (nan.problem, nan.rejected_by),
            (ValueProblem::Invalid, RejectedBy::Dfpolicy)
        );
    }

    #[test]
    fn durations_round_trip_through_their_rendering() {
        for text in ["5m", "90s", "1m30s", "0m1s"] {
            let duration = parse_duration(text).unwrap();
            assert_eq!(
                parse_duration(&render_duration(duration)).unwrap(),
                duration
            );
        }
        assert_eq!(render_duration(parse_duration("90s").unwrap()), "1m30s");
        assert!(parse_duration("0s").is_err());
    }

    /// DataFusion registers a factory for `STORED AS AVRO` and `NDJSON`, but a session of this build
    /// cannot create such a table: the registry lists only the formats a table can be made of.
    #[tokio::test]
    async fn formats_are_those_a_session_can_create_tables_of() {
        let folder = std::env::temp_dir().join(format!("dfpolicy-formats-{}", std::process::id()));
        std::fs::create_dir_all(&folder).unwrap();
        let file = folder.join("lines.json");
        std::fs::write(&file, "{\"a\": 1}\n").unwrap();
        let ctx = datafusion::prelude::SessionContext::new();
        for format in ["PARQUET", "CSV", "JSON", "ARROW", "AVRO", "NDJSON"] {
            let created = ctx
                .sql(&format!(
                    "CREATE EXTERNAL TABLE t_{format} STORED AS {format} LOCATION '{}'",
                    file.display()
                ))
                .await;
            // Parquet and Arrow fail on this file's bytes, not for want of a reader.
            let readable = match &created {
                Ok(_) => true,
                Err(error) => !error.to_string().contains("Could not find FileFormat"),
            };
            assert_eq!(
                registry().has_format(format),
                readable,
                "{format}: {:?}",
                created.err()
            );
        }
        assert!(registry().has_format("json") && !registry().has_format("ndjson"));
        std::fs::remove_dir_all(&folder).unwrap();
    }
}
