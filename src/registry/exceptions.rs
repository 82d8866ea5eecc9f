//! Every hand-written exception to what DataFusion reports about itself, each a named table with the
//! DataFusion 55.2 source it mirrors. Everything else in the registry is discovered at run time
//! (see [`super::catalog`]).

/// Keys whose DataFusion default is the number of CPUs of the machine running the query:
/// `default = get_available_parallelism()` in datafusion-common 55.2.0 `src/config.rs:853` and `:868`.
pub const MACHINE_DEPENDENT_KEYS: &[&str] = &[
    "datafusion.execution.target_partitions",
    "datafusion.execution.planning_concurrency",
];

/// Settings every dfpolicy session has whatever the policy says: `information_schema` is on so that a
/// session can report its settings (`capture_session_settings`), and the default catalog and schema
/// exist so that workload tables can be registered (datafusion-common 55.2.0 `src/config.rs:230` and
/// `:240` have them `true` and `false` by default). Validation reports a policy that sets them
/// otherwise, since the value would be ignored.
pub const FORCED_SETTINGS: &[(&str, &str)] = &[
    (
        "datafusion.catalog.create_default_catalog_and_schema",
        "true",
    ),
    ("datafusion.catalog.information_schema", "true"),
];

/// An upper bound on an integer option that `ConfigOptions::set` does not enforce.
#[derive(Debug, Clone, Copy)]
pub struct UpperBound {
    /// The full key.
    pub key: &'static str,
    /// The largest value the code that reads it accepts.
    pub maximum: u64,
    /// Why, and the code it mirrors.
    pub because: &'static str,
}

/// tokio's `batch_semaphore::MAX_PERMITS` (`usize::MAX >> 3`): a bounded channel with more capacity
/// panics when it is created.
const TOKIO_MAX_PERMITS: u64 = (usize::MAX >> 3) as u64;

/// Integer options DataFusion accepts up to `usize::MAX` but then uses to size allocations, partitions
/// or channels, so that a large value aborts the process (a failed allocation cannot be caught) or
/// panics. Found by `tests/it/fuzz.rs`, which tries every integer option at the extremes of its type.
pub const UPPER_BOUNDS: &[UpperBound] = &[
    UpperBound {
        key: "datafusion.optimizer.default_filter_selectivity",
        maximum: 100,
        because: "a percentage (DataFusion's documentation of the option)",
    },
    UpperBound {
        key: "datafusion.execution.target_partitions",
        maximum: 1024,
        because: "DataFusion allocates state per partition and repartitions with one channel per pair of partitions (datafusion-datasource `FileGroup::split_files` aborts on 2^32); 1024 is far above any core count",
    },
    UpperBound {
        key: "datafusion.execution.planning_concurrency",
        maximum: 1024,
        because: "a degree of parallelism like `target_partitions`, bounded alike",
    },
    UpperBound {
        key: "datafusion.execution.minimum_parallel_output_files",
        maximum: 1 << 20,
        because: "datafusion-datasource's write demultiplexer allocates one slot per file up front (aborts on 2^32)",
    },
    UpperBound {
        key: "datafusion.execution.max_buffered_batches_per_output_file",
        maximum: TOKIO_MAX_PERMITS,
        because: "the capacity of a tokio channel (datafusion-datasource write/demux.rs)",
    },
    UpperBound {
        key: "datafusion.execution.parquet.maximum_parallel_row_group_writers",
        maximum: TOKIO_MAX_PERMITS,
        because: "the capacity of a tokio channel (datafusion-datasource-parquet sink.rs)",
    },
    UpperBound {
        key: "datafusion.execution.parquet.maximum_buffered_record_batches_per_stream",
        maximum: TOKIO_MAX_PERMITS,
        because: "the capacity of a tokio channel (datafusion-datasource-parquet sink.rs)",
    },
];

/// The runtime memory limit: 0 is accepted by DataFusion (`SessionContext::parse_capacity_limit`,
/// datafusion 55.2.0 `src/execution/context/mod.rs:1331`) but leaves no memory for any operator.
pub const MEMORY_LIMIT: &str = "datafusion.runtime.memory_limit";

/// The umbrella switch that DataFusion expands into three sub-flags when it is set
/// (`ConfigOptions::set`, datafusion-common 55.2.0 `src/config.rs:2024`).
pub const DYNAMIC_FILTER_UMBRELLA: &str = "datafusion.optimizer.enable_dynamic_filter_pushdown";
/// The sub-flags [`DYNAMIC_FILTER_UMBRELLA`] sets.
pub const DYNAMIC_FILTER_SUB_FLAGS: &[&str] = &[
    "datafusion.optimizer.enable_topk_dynamic_filter_pushdown",
    "datafusion.optimizer.enable_join_dynamic_filter_pushdown",
    "datafusion.optimizer.enable_aggregate_dynamic_filter_pushdown",
];

/// Free-text options that hold a time zone, which DataFusion only parses when a query uses them
/// (datafusion-common 55.2.0 `src/config.rs:858` and `:1272`); checked with arrow's `Tz`.
pub const TIME_ZONE_KEYS: &[&str] = &[
    "datafusion.execution.time_zone",
    "datafusion.execution.parquet.coerce_int96_tz",
];

/// `coerce_int96` is free text (datafusion-common 55.2.0 `src/config.rs:1262`) that DataFusion reads
/// only at scan time with the crate-private `parse_coerce_int96_string`
/// (datafusion-datasource-parquet 55.2.0 `src/source.rs:522`), which accepts these units.
pub const COERCE_INT96: (&str, &[&str]) = (
    "datafusion.execution.parquet.coerce_int96",
    &["ns", "us", "ms", "s"],
);

/// The default catalog's location, which DataFusion reads when a session is built
/// (`SessionStateDefaults::register_default_schema`, datafusion 55.2.0
/// `src/execution/session_state_defaults.rs:190`, which panics on a location it cannot open).
pub const CATALOG_LOCATION: &str = "datafusion.catalog.location";
