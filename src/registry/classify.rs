//! Which DataFusion options can change a plan. Every key of the registry gets a class and a reason;
//! `tests/it/classification.rs` flips every key that is not plan-shaping and checks that the logical
//! and physical plans of all 22 TPC-H queries stay the same.

use super::catalog::EngineOption;
pub use super::setting_class::SettingClass;

/// Options that look execution-only but are read while planning, with where.
pub const PLAN_SHAPE_REASONS: &[(&str, &str)] = &[
    (
        "datafusion.execution.batch_size",
        "EnforceDistribution adds round-robin repartitioning only above inputs with more rows than one \
         batch (datafusion-physical-optimizer 55.2 ensure_requirements/enforce_distribution.rs:984)",
    ),
    (
        "datafusion.sql_parser.recursion_limit",
        "the SQL parser reads it while planning: below a query's nesting depth the query does not \
         plan at all (measured by `dfpolicy sensitivity`: the TPC-H queries need 7 to 12)",
    ),
];

/// Options read only at execution time, with the reason they cannot change a plan.
pub const EXECUTION_ONLY: &[(&str, &str)] = &[
    (
        "datafusion.execution.coalesce_batches",
        "batch coalescing happens inside operators at run time",
    ),
    (
        "datafusion.execution.perfect_hash_join_small_build_threshold",
        "a hash join picks its hash table layout after building it",
    ),
    (
        "datafusion.execution.perfect_hash_join_min_key_density",
        "a hash join picks its hash table layout after building it",
    ),
    (
        "datafusion.execution.skip_physical_aggregate_schema_check",
        "a planning sanity check: it passes or fails, it never rewrites the plan",
    ),
    (
        "datafusion.execution.enable_migration_aggregate",
        "selects the aggregate stream implementation when the operator runs",
    ),
    (
        "datafusion.execution.spill_compression",
        "codec of spill files written at run time",
    ),
    (
        "datafusion.execution.sort_spill_reservation_bytes",
        "memory reserved by sorts when they spill",
    ),
    (
        "datafusion.execution.sort_in_place_threshold_bytes",
        "how a sort merges its batches at run time",
    ),
    (
        "datafusion.execution.sort_pushdown_buffer_capacity",
        "buffer size of an operator that is planned either way",
    ),
    (
        "datafusion.execution.max_spill_file_size_bytes",
        "spill file rotation at run time",
    ),
    (
        "datafusion.execution.meta_fetch_concurrency",
        "parallelism of metadata reads when tables are registered",
    ),
    (
        "datafusion.execution.enable_file_stream_work_stealing",
        "rebalances files between partitions while scanning",
    ),
    (
        "datafusion.execution.skip_partial_aggregation_probe_ratio_threshold",
        "partial aggregation decides to skip itself while running",
    ),
    (
        "datafusion.execution.skip_partial_aggregation_probe_rows_threshold",
        "partial aggregation decides to skip itself while running",
    ),
    (
        "datafusion.execution.enforce_batch_size_in_joins",
        "output batch sizes of joins at run time",
    ),
    (
        "datafusion.execution.enable_ansi_mode",
        "how Spark-compatible functions evaluate, not which plan runs them",
    ),
    (
        "datafusion.execution.parquet.enable_page_index",
        "the Parquet reader consults the page index while scanning",
    ),
    (
        "datafusion.execution.parquet.bloom_filter_on_read",
        "the Parquet reader consults bloom filters while scanning",
    ),
    (
        "datafusion.execution.parquet.metadata_size_hint",
        "size of the footer read, an I/O detail",
    ),
    (
        "datafusion.execution.parquet.reorder_filters",
        "order of row filters inside the Parquet reader",
    ),
    (
        "datafusion.execution.parquet.force_filter_selections",
        "row-selection representation inside the Parquet reader",
    ),
    (
        "datafusion.execution.parquet.max_predicate_cache_size",
        "cache size inside the Parquet reader",
    ),
    (
        "datafusion.optimizer.hash_join_inlist_pushdown_max_size",
        "shapes the dynamic filter's contents, filled in at run time",
    ),
    (
        "datafusion.optimizer.hash_join_inlist_pushdown_max_distinct_values",
        "shapes the dynamic filter's contents, filled in at run time",
    ),
    (
        "datafusion.sql_parser.enable_options_value_normalization",
        "ignored by DataFusion 55",
    ),
    (
        "datafusion.sql_parser.collect_spans",
        "records source positions for error messages only",
    ),
    (
        "datafusion.spark.map_key_dedup_policy",
        "how Spark map functions treat duplicate keys at run time",
    ),
];

/// Execution keys that only matter when writing files.
pub const WRITER_EXECUTION_KEYS: &[&str] = &[
    "datafusion.execution.minimum_parallel_output_files",
    "datafusion.execution.soft_max_rows_per_output_file",
    "datafusion.execution.max_buffered_batches_per_output_file",
    "datafusion.execution.keep_partition_by_columns",
    "datafusion.execution.objectstore_writer_buffer_size",
];

/// The class of an option and a one-line reason.
pub fn classify(option: &EngineOption) -> (SettingClass, &'static str) {
    let key = option.key.as_str();
    if option.engine {
        return match super::engine::installed().declared_class(key) {
            Some(class) => (
                class,
                "declared by the engine with `Extensions::with_setting_class`",
            ),
            None => (
                SettingClass::PlanShape,
                "an engine option without a declared class: counted as plan-shaping, the safe side",
            ),
        };
    }
    if key.starts_with(super::ballista::BALLISTA_PREFIX) {
        return match super::ballista::plan_shape_reason(key) {
            Some(reason) => (SettingClass::PlanShape, reason),
            None => (
                SettingClass::ExecutionOnly,
                "read by Ballista's clients, shuffles, scheduler or executors on a plan already made",
            ),
        };
    }
    if option.runtime {
        return (
            SettingClass::ExecutionOnly,
            "a runtime-environment budget enforced while executing",
        );
    }
    if let Some((_, reason)) = EXECUTION_ONLY.iter().find(|(k, _)| *k == key) {
        return (SettingClass::ExecutionOnly, reason);
    }
    if option.description.starts_with("(writing)")
        || key.starts_with("datafusion.execution.parquet.content_defined_chunking.")
        || WRITER_EXECUTION_KEYS.contains(&key)
    {
        return (SettingClass::Writer, "read only when writing files");
    }
    if key.starts_with("datafusion.format.") {
        return (
            SettingClass::Display,
            "formats values when results are printed",
        );
    }
    if key.starts_with("datafusion.explain.") {
        return (
            SettingClass::Display,
            "changes how EXPLAIN prints plans, not the plans",
        );
    }
    if let Some((_, reason)) = PLAN_SHAPE_REASONS.iter().find(|(k, _)| *k == key) {
        return (SettingClass::PlanShape, reason);
    }
    let reason = if key.starts_with("datafusion.optimizer.") {
        "an optimizer switch"
    } else if key.starts_with("datafusion.catalog.") {
        "decides which tables names resolve to"
    } else if key.starts_with("datafusion.sql_parser.") {
        "changes how SQL is parsed into the logical plan"
    } else if key.starts_with("datafusion.execution.parquet.") {
        "changes the scan's schema, predicate or pruning in the plan"
    } else if option.machine_dependent {
        "sets partition counts throughout the physical plan"
    } else {
        "read by the planner or optimizer"
    };
    (SettingClass::PlanShape, reason)
}
