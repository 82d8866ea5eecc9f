//! The policy file as users write it: the single source of truth for the TOML layout, the JSON schema
//! (doc comments become schema descriptions) and the mapping of typed fields to DataFusion keys.
//!
//! Every field is optional so that a child policy can set only what it changes; the merged result of an
//! `extends` chain has the same type (see [`crate::policy::ResolvedPolicy`]).

use std::collections::BTreeMap;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Serialize};

use super::byte_size::ByteSize;

/// How a typed field's value is written and handed to DataFusion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// `true` or `false`.
    Boolean,
    /// An integer.
    Integer,
    /// A number.
    Float,
    /// A byte size, an integer or `"512MiB"`.
    Bytes,
    /// Free text.
    Text,
    /// One of a set of words.
    Choice,
    /// A list.
    List,
}

/// One typed field of a policy section.
#[derive(Debug, Clone, Copy)]
pub struct FieldSpec {
    /// The field's name in its section.
    pub name: &'static str,
    /// The DataFusion key this field sets; `None` for fields only dfpolicy reads.
    pub key: Option<&'static str>,
    /// How its value is written.
    pub kind: FieldKind,
    /// How a child policy's value combines with its parent's.
    pub merge: MergeRule,
}

/// How a field of a child policy combines with its parent's under `extends`, declared beside the
/// field (as ruff's options declare `combine()` per field). The loader merges the spanned trees by
/// these rules, so a finding about a merged value still points at the file and line it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MergeRule {
    /// The child's value replaces the parent's; a table merges key by key.
    #[default]
    Override,
    /// Lists are joined: the parent's items, then the child's that the parent does not have.
    Union,
    /// The value describes one file: the child's, or none even when a parent has one.
    OwnFile,
    /// Followed while loading, and absent from the merged policy.
    Resolved,
}

/// A type a policy field can have.
pub trait FieldValue {
    /// How a value of the type is written.
    const KIND: FieldKind;
    /// The string DataFusion's `ConfigOptions::set` takes for this value.
    fn engine_text(&self) -> String;
}

/// Scalars are handed to DataFusion as Rust prints them: `true`, `8192`, `0.5`, the text itself.
/// This is the one place a policy value becomes the text `ConfigOptions::set` takes.
macro_rules! scalar_field_value {
    ($($ty:ty => $kind:ident),*) => {$(
        impl FieldValue for $ty {
            const KIND: FieldKind = FieldKind::$kind;
            fn engine_text(&self) -> String {
                self.to_string()
            }
        }
    )*};
}

scalar_field_value!(bool => Boolean, u64 => Integer, i64 => Integer, f64 => Float, String => Text);

impl FieldValue for ByteSize {
    const KIND: FieldKind = FieldKind::Bytes;
    fn engine_text(&self) -> String {
        self.0.to_string()
    }
}

impl<T: FieldValue> FieldValue for Vec<T> {
    const KIND: FieldKind = FieldKind::List;
    fn engine_text(&self) -> String {
        self.iter()
            .map(FieldValue::engine_text)
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// Choice fields are written and handed to DataFusion by their one name (`"fair"`, `"pgjson"`),
/// which serde and `Display` share.
macro_rules! choice_field_value {
    ($($ty:ty),*) => {$(
        impl FieldValue for $ty {
            const KIND: FieldKind = FieldKind::Choice;
            fn engine_text(&self) -> String {
                self.to_string()
            }
        }
    )*};
}

choice_field_value!(StatisticsQuality, ExplainFormat, MemoryPoolKind);

/// Declares a policy section: the struct (all fields optional, unknown fields rejected), its field
/// table, and the DataFusion settings it produces. `field: Type => "datafusion.key"` maps a field
/// to an engine option; a field without `=>` is read by dfpolicy itself. `[merge = Rule]` after a
/// field declares how `extends` combines it (default [`MergeRule::Override`]).
macro_rules! policy_section {
    (
        $(#[$struct_meta:meta])*
        pub struct $name:ident {
            $(
                $(#[$field_meta:meta])*
                pub $field:ident : $ty:ty $(=> $key:literal)? $([merge = $merge:ident])?,
            )*
        }
    ) => {
        $(#[$struct_meta])*
        #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            $(
                $(#[$field_meta])*
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub $field: Option<$ty>,
            )*
        }

        impl $name {
            /// The section's typed fields, in file order.
            pub const FIELDS: &'static [FieldSpec] = &[
                $( FieldSpec {
                    name: stringify!($field),
                    key: policy_section!(@key $($key)?),
                    kind: <$ty as FieldValue>::KIND,
                    merge: policy_section!(@merge $($merge)?),
                }, )*
            ];

            /// The DataFusion settings this section sets, as `(key, value for ConfigOptions::set)`.
            pub fn engine_settings(&self) -> Vec<(&'static str, String)> {
                #[allow(unused_mut)]
                let mut settings = Vec::new();
                $( policy_section!(@emit settings, self.$field $(, $key)?); )*
                settings
            }
        }
    };
    (@key) => { None };
    (@key $key:literal) => { Some($key) };
    (@merge) => { MergeRule::Override };
    (@merge $merge:ident) => { MergeRule::$merge };
    (@emit $settings:ident, $value:expr) => {};
    (@emit $settings:ident, $value:expr, $key:literal) => {
        if let Some(value) = &$value {
            $settings.push(($key, FieldValue::engine_text(value)));
        }
    };
}

/// The `[policy]` table: what the policy is and what it builds on.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyMeta {
    /// The policy's name: lowercase letters, digits and `-`, starting with a letter or digit.
    /// Bundles, baselines and hashes refer to the policy by this name.
    #[schemars(regex(pattern = r"^[a-z0-9][a-z0-9-]*$"))]
    pub name: String,
    /// What the policy is for, in a sentence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Path of a parent policy, relative to this file. This policy is merged over the parent:
    /// scalars override, tables merge key by key, `optimizer.disabled_rules` is the union of both
    /// lists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extends: Option<String>,
    /// A requirement on the DataFusion version, as a Cargo version requirement: `"55"` means any
    /// 55.x release. Validation fails when the embedded DataFusion does not match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engine: Option<String>,
}

impl PolicyMeta {
    /// The table's name in a policy file.
    pub const SECTION: &'static str = "policy";

    /// How `extends` combines the table's fields: a description describes one file, and `extends`
    /// is resolved while loading. The others override.
    pub const MERGE_RULES: &'static [(&'static str, MergeRule)] = &[
        ("description", MergeRule::OwnFile),
        ("extends", MergeRule::Resolved),
    ];
}

policy_section! {
    /// Execution settings (`datafusion.execution.*`).
    pub struct ExecutionOptions {
        /// Number of partitions for query execution (`datafusion.execution.target_partitions`). Its
        /// DataFusion default is the CPU count of the machine, so plans differ between a laptop and
        /// CI until it is pinned here. At most 1024 (DataFusion allocates per partition pair).
        #[schemars(range(min = 1, max = 1024))]
        pub target_partitions: u64 => "datafusion.execution.target_partitions",
        /// Fan-out during initial physical planning, mostly for `UNION` children
        /// (`datafusion.execution.planning_concurrency`). Machine dependent by default, like
        /// `target_partitions`. At most 1024.
        #[schemars(range(min = 1, max = 1024))]
        pub planning_concurrency: u64 => "datafusion.execution.planning_concurrency",
        /// Rows per record batch.
        #[schemars(range(min = 1))]
        pub batch_size: u64 => "datafusion.execution.batch_size",
        /// Collect file statistics when a table is registered. Statistics drive join ordering and
        /// partitioning decisions.
        pub collect_statistics: bool => "datafusion.execution.collect_statistics",
        /// Session time zone, an IANA name or an offset such as `"+00:00"`.
        pub time_zone: String => "datafusion.execution.time_zone",
        /// Coalesce small batches between operators.
        pub coalesce_batches: bool => "datafusion.execution.coalesce_batches",
        /// Codec for spill files: `uncompressed`, `lz4_frame` or `zstd`.
        pub spill_compression: String => "datafusion.execution.spill_compression",
        /// Memory reserved per spillable sort for its in-memory merge.
        pub sort_spill_reservation_bytes: ByteSize => "datafusion.execution.sort_spill_reservation_bytes",
        /// Below this size a sort concatenates its input and sorts it in one batch.
        pub sort_in_place_threshold_bytes: ByteSize => "datafusion.execution.sort_in_place_threshold_bytes",
    }
}

policy_section! {
    /// Parquet scan and pruning policy (`datafusion.execution.parquet.*`).
    pub struct ParquetOptions {
        /// Skip row groups using min/max statistics and the query predicate.
        pub pruning: bool => "datafusion.execution.parquet.pruning",
        /// Read the page index to skip data pages.
        pub enable_page_index: bool => "datafusion.execution.parquet.enable_page_index",
        /// Use bloom filters present in the files.
        pub bloom_filter_on_read: bool => "datafusion.execution.parquet.bloom_filter_on_read",
        /// Evaluate filters while decoding (late materialization). When on, the `FilterExec`
        /// above the scan disappears from the physical plan.
        pub pushdown_filters: bool => "datafusion.execution.parquet.pushdown_filters",
        /// Reorder pushed-down filters by estimated cost.
        pub reorder_filters: bool => "datafusion.execution.parquet.reorder_filters",
        /// Bytes fetched optimistically from the end of each file to read its footer.
        pub metadata_size_hint: ByteSize => "datafusion.execution.parquet.metadata_size_hint",
        /// Ignore metadata embedded in the file schema.
        pub skip_metadata: bool => "datafusion.execution.parquet.skip_metadata",
        /// Memory for caching predicate results between pushed-down filters.
        pub max_predicate_cache_size: ByteSize => "datafusion.execution.parquet.max_predicate_cache_size",
        /// Longest `IN (...)` list used for pruning.
        pub max_in_list_size: u64 => "datafusion.execution.parquet.max_in_list_size",
        /// Read string columns as `Utf8View`.
        pub schema_force_view_types: bool => "datafusion.execution.parquet.schema_force_view_types",
        /// Read binary columns as strings.
        pub binary_as_string: bool => "datafusion.execution.parquet.binary_as_string",
        /// Compression codec for written files: `uncompressed`, `snappy`, `gzip(level)`,
        /// `brotli(level)`, `lz4`, `lz4_raw` or `zstd(level)`.
        pub compression: String => "datafusion.execution.parquet.compression",
    }
}

policy_section! {
    /// Join planning policy (`datafusion.optimizer.*` join switches).
    pub struct JoinOptions {
        /// Prefer hash joins over sort-merge joins.
        /// Sort-merge joins use less memory.
        pub prefer_hash_join: bool => "datafusion.optimizer.prefer_hash_join",
        /// Largest estimated input, in bytes, collected into a single partition for a hash join.
        pub hash_join_single_partition_threshold: ByteSize => "datafusion.optimizer.hash_join_single_partition_threshold",
        /// Largest estimated input, in rows, collected into a single partition for a hash join.
        pub hash_join_single_partition_threshold_rows: u64 => "datafusion.optimizer.hash_join_single_partition_threshold_rows",
        /// Largest build side, in bytes, pushed to the probe-side scan as an `IN` list.
        pub hash_join_inlist_pushdown_max_size: ByteSize => "datafusion.optimizer.hash_join_inlist_pushdown_max_size",
        /// Most distinct build-side values pushed down as an `IN` list.
        pub hash_join_inlist_pushdown_max_distinct_values: u64 => "datafusion.optimizer.hash_join_inlist_pushdown_max_distinct_values",
        /// Repartition join inputs on the join keys.
        pub repartition_joins: bool => "datafusion.optimizer.repartition_joins",
        /// Let the physical optimizer swap join inputs based on statistics.
        pub join_reordering: bool => "datafusion.optimizer.join_reordering",
        /// Plan the experimental piecewise merge join for single range-predicate joins.
        pub enable_piecewise_merge_join: bool => "datafusion.optimizer.enable_piecewise_merge_join",
        /// Allow symmetric hash joins on unbounded inputs without ordering or filters.
        pub allow_symmetric_joins_without_pruning: bool => "datafusion.optimizer.allow_symmetric_joins_without_pruning",
    }
}

policy_section! {
    /// Name resolution: the default catalog and schema, and how identifiers are read.
    pub struct NamespaceOptions {
        /// Catalog used for unqualified table names. Sessions are built with this catalog created.
        #[schemars(length(min = 1))]
        pub default_catalog: String => "datafusion.catalog.default_catalog",
        /// Schema used for unqualified table names.
        #[schemars(length(min = 1))]
        pub default_schema: String => "datafusion.catalog.default_schema",
        /// Lowercase unquoted identifiers.
        pub enable_ident_normalization: bool => "datafusion.sql_parser.enable_ident_normalization",
        /// Report queries that name a table without its catalog and schema.
        pub require_qualified_references: bool,
    }
}

policy_section! {
    /// Logical and physical optimizer switches (`datafusion.optimizer.*`).
    pub struct OptimizerOptions {
        /// Most passes of the logical optimizer.
        pub max_passes: u64 => "datafusion.optimizer.max_passes",
        /// Log and skip a failing logical rule instead of failing the query.
        pub skip_failed_rules: bool => "datafusion.optimizer.skip_failed_rules",
        /// Umbrella for dynamic filter pushdown from TopK, joins and aggregates. DataFusion copies
        /// it into the three `enable_*_dynamic_filter_pushdown` flags, so a policy may not set it
        /// to a value that contradicts one of them.
        pub enable_dynamic_filter_pushdown: bool => "datafusion.optimizer.enable_dynamic_filter_pushdown",
        /// Dynamic filters from TopK (`datafusion.optimizer.enable_topk_dynamic_filter_pushdown`).
        pub enable_topk_dynamic_filter_pushdown: bool => "datafusion.optimizer.enable_topk_dynamic_filter_pushdown",
        /// Dynamic filters from hash joins
        /// (`datafusion.optimizer.enable_join_dynamic_filter_pushdown`).
        pub enable_join_dynamic_filter_pushdown: bool => "datafusion.optimizer.enable_join_dynamic_filter_pushdown",
        /// Dynamic filters from aggregates
        /// (`datafusion.optimizer.enable_aggregate_dynamic_filter_pushdown`).
        pub enable_aggregate_dynamic_filter_pushdown: bool => "datafusion.optimizer.enable_aggregate_dynamic_filter_pushdown",
        /// Repartition on the grouping keys to aggregate in parallel.
        pub repartition_aggregations: bool => "datafusion.optimizer.repartition_aggregations",
        /// Repartition on the window partition keys.
        pub repartition_windows: bool => "datafusion.optimizer.repartition_windows",
        /// Sort per partition and merge, instead of coalescing first.
        pub repartition_sorts: bool => "datafusion.optimizer.repartition_sorts",
        /// Split file scans into byte ranges for parallelism.
        pub repartition_file_scans: bool => "datafusion.optimizer.repartition_file_scans",
        /// Smallest total file size that is split into ranges.
        pub repartition_file_min_size: ByteSize => "datafusion.optimizer.repartition_file_min_size",
        /// Add round-robin repartitioning to use more cores.
        pub enable_round_robin_repartition: bool => "datafusion.optimizer.enable_round_robin_repartition",
        /// Keep existing orderings instead of re-sorting.
        pub prefer_existing_sort: bool => "datafusion.optimizer.prefer_existing_sort",
        /// Selectivity, in percent (0 to 100), assumed for a filter whose selectivity cannot be
        /// estimated.
        #[schemars(range(min = 0, max = 100))]
        pub default_filter_selectivity: u64 => "datafusion.optimizer.default_filter_selectivity",
        /// Analyzer, logical or physical rules to remove from the session, by the names a default
        /// DataFusion 55 session gives them (`push_down_filter`, `join_selection`, ...). A name
        /// used by several stages or positions is removed everywhere.
        pub disabled_rules: Vec<String> [merge = Union],
    }
}

named_enum! {
    names = "lowercase";
    // The variants stay undocumented: schemars writes a documented variant as a `oneOf` branch
    // instead of a name in the schema's `enum`, whose findings list the choices.
    #[allow(missing_docs)]
    /// Least acceptable quality of the statistics a plan is built on.
    pub enum StatisticsQuality {
        Exact,
        Estimated,
        Unknown,
    }
}

policy_section! {
    /// Statistics expectations checked by plan bundles.
    pub struct StatisticsOptions {
        /// Least quality of row-count statistics a plan may rest on: `exact`, `estimated` or
        /// `unknown` (anything goes). A bundle whose scans fall below it is reported.
        pub minimum_quality: StatisticsQuality,
    }
}

named_enum! {
    names = "lowercase";
    // The variants stay undocumented: schemars writes a documented variant as a `oneOf` branch
    // instead of a name in the schema's `enum`, whose findings list the choices.
    #[allow(missing_docs)]
    /// A rendering of a plan that EXPLAIN can produce.
    pub enum ExplainFormat {
        Indent,
        Tree,
        Graphviz,
        Pgjson,
    }
}

policy_section! {
    /// What a plan bundle captures.
    pub struct ExplainOptions {
        /// EXPLAIN renderings to capture, from `indent`, `tree`, `graphviz` and `pgjson`
        /// (default `["indent"]`).
        #[schemars(length(min = 1))]
        pub formats: Vec<ExplainFormat>,
        /// Record the plan after every analyzer, logical and physical rule (default false).
        pub optimizer_trace: bool,
        /// Also run EXPLAIN ANALYZE; this executes the query (default false).
        pub analyze: bool,
        /// Show operator statistics in physical plans.
        pub show_statistics: bool => "datafusion.explain.show_statistics",
        /// Show output schemas in physical plans.
        pub show_schema: bool => "datafusion.explain.show_schema",
    }
}

named_enum! {
    names = "lowercase";
    // The variants stay undocumented: schemars writes a documented variant as a `oneOf` branch
    // instead of a name in the schema's `enum`, whose findings list the choices.
    #[allow(missing_docs)]
    /// How the session's memory limit is shared between operators.
    pub enum MemoryPoolKind {
        Greedy,
        Fair,
    }
}

policy_section! {
    /// The runtime environment: memory and spilling (`datafusion.runtime.*`).
    pub struct RuntimeOptions {
        /// Memory limit for query execution.
        pub memory_limit: ByteSize => "datafusion.runtime.memory_limit",
        /// How the limit is shared: `greedy` (first come, first served) or `fair` (equal shares for
        /// spilling operators). Needs `memory_limit`. Default `greedy`.
        pub memory_pool: MemoryPoolKind,
        /// Directory for spill files.
        #[schemars(length(min = 1))]
        pub spill_directory: String => "datafusion.runtime.temp_directory",
        /// Most disk space spill files may use.
        pub max_temp_directory_size: ByteSize => "datafusion.runtime.max_temp_directory_size",
    }
}

policy_section! {
    /// Apache Ballista 55 as the target: a policy with this section (even empty) or a `ballista.*`
    /// key in `[settings]` is compiled for Ballista's distributed sessions. Ballista then forces
    /// some DataFusion settings (`dfpolicy compile` lists them; validation reports a policy that
    /// sets one otherwise), and plan bundles show the query's static stage plan. The fields set
    /// `ballista.*` options; `[settings]` takes the others by their full key.
    pub struct BallistaOptions {
        /// Name of the jobs in Ballista's web interface.
        #[schemars(length(min = 1))]
        pub job_name: String => "ballista.job.name",
        /// Task slots of the in-process executor of a standalone cluster
        /// (`ballista.standalone.parallelism`). Its Ballista default is the CPU count of the
        /// machine, like `target_partitions`, so pin it.
        #[schemars(range(min = 1, max = 65535))]
        pub standalone_parallelism: u64 => "ballista.standalone.parallelism",
        /// Adaptive query execution: joins and
        /// partition counts chosen from run-time statistics, so the stages that run may differ from
        /// the static stage plan a bundle shows. Off, the static distributed planner runs.
        pub adaptive: bool => "ballista.planner.adaptive.enabled",
        /// Largest build side, in bytes, broadcast to every task of a join instead of shuffled
        /// (`ballista.optimizer.broadcast_join_threshold_bytes`); 0 disables broadcasting.
        pub broadcast_join_threshold_bytes: ByteSize => "ballista.optimizer.broadcast_join_threshold_bytes",
        /// Largest build side, in rows, broadcast when its size in bytes is unknown
        /// (`ballista.optimizer.broadcast_join_threshold_rows`); 0 disables it.
        pub broadcast_join_threshold_rows: u64 => "ballista.optimizer.broadcast_join_threshold_rows",
        /// Coalesce small shuffle partitions at run time (`ballista.planner.coalesce.enabled`,
        /// adaptive execution only).
        pub coalesce_partitions: bool => "ballista.planner.coalesce.enabled",
        /// Codec of shuffle files: `lz4`, `zstd` or `none`.
        pub shuffle_compression: String => "ballista.shuffle.compression.codec",
        /// Most input partitions one task reads.
        pub max_partitions_per_task: u64 => "ballista.scheduler.max_partitions_per_task",
    }
}

/// A value in the `[settings]` table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum SettingValue {
    /// A boolean.
    Boolean(bool),
    /// An integer.
    Integer(i64),
    /// A number with a fraction.
    Float(f64),
    /// A string.
    Text(String),
}

impl SettingValue {
    /// The string DataFusion's `set` takes.
    pub fn engine_text(&self) -> String {
        match self {
            SettingValue::Boolean(b) => b.engine_text(),
            SettingValue::Integer(i) => i.engine_text(),
            SettingValue::Float(f) => f.engine_text(),
            SettingValue::Text(s) => s.engine_text(),
        }
    }
}

/// Any DataFusion 55 option by its full key, for options without a typed field.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct EngineSettings(pub BTreeMap<String, SettingValue>);

impl JsonSchema for EngineSettings {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "EngineSettings".into()
    }

    /// A table of scalars. The policy model does not know DataFusion's options: the schema
    /// generator (`validate::schema`) lists them as properties from the registry.
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "Any DataFusion 55 option by its full key (`\"datafusion.execution.parquet.coerce_int96\" = \"ms\"`), for options without a typed field. A key may not contradict a typed field that sets the same option.",
            "type": "object",
            "additionalProperties": { "type": ["boolean", "integer", "number", "string"] }
        })
    }
}

/// Declares the policy file: `[policy]`, the typed sections in file order, and `[settings]`. The
/// struct, the section table [`SECTIONS`] and the collection of engine settings come from this one
/// list.
macro_rules! policy_sections {
    ($($section:ident: $ty:ty,)*) => {
        /// One policy file. Every section but `[policy]` is optional.
        #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
        #[serde(deny_unknown_fields)]
        #[schemars(title = "dfpolicy policy")]
        // The fields stay undocumented: each section's description in the schema is its type's.
        #[allow(missing_docs)]
        pub struct PolicyOptions {
            pub policy: PolicyMeta,
            $(
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub $section: Option<$ty>,
            )*
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub settings: Option<EngineSettings>,
        }

        /// The typed sections and their fields, in file order.
        pub const SECTIONS: &[(&str, &[FieldSpec])] = &[$((stringify!($section), <$ty>::FIELDS),)*];

        impl PolicyOptions {
            /// The DataFusion settings the typed sections set, as `(key, value)`, in section order.
            pub fn typed_engine_settings(&self) -> Vec<(&'static str, String)> {
                let mut settings = Vec::new();
                $(
                    if let Some(section) = &self.$section {
                        settings.extend(section.engine_settings());
                    }
                )*
                settings
            }
        }
    };
}

policy_sections! {
    execution: ExecutionOptions,
    parquet: ParquetOptions,
    joins: JoinOptions,
    namespace: NamespaceOptions,
    optimizer: OptimizerOptions,
    statistics: StatisticsOptions,
    explain: ExplainOptions,
    runtime: RuntimeOptions,
    ballista: BallistaOptions,
}

/// How `extends` combines `field` of `[section]`: as declared beside the field, else
/// [`MergeRule::Override`] (also for `[settings]` keys).
pub fn merge_rule(section: &str, field: &str) -> MergeRule {
    if section == PolicyMeta::SECTION {
        return PolicyMeta::MERGE_RULES
            .iter()
            .find(|(name, _)| *name == field)
            .map_or(MergeRule::Override, |(_, rule)| *rule);
    }
    SECTIONS
        .iter()
        .find(|(name, _)| *name == section)
        .and_then(|(_, fields)| fields.iter().find(|f| f.name == field))
        .map_or(MergeRule::Override, |f| f.merge)
}

/// The typed field that sets a DataFusion key, as `(section, field)`.
pub fn typed_field_for_key(key: &str) -> Option<(&'static str, &'static FieldSpec)> {
    SECTIONS.iter().find_map(|(section, fields)| {
        fields
            .iter()
            .find(|f| f.key == Some(key))
            .map(|f| (*section, f))
    })
}

impl PolicyOptions {
    /// Every DataFusion option the policy sets, typed fields and `[settings]` together, as `(key,
    /// value for ConfigOptions::set)` sorted by key. Validation rejects a `[settings]` key that
    /// disagrees with a typed field, so which of two equal values is kept does not matter.
    pub fn engine_settings(&self) -> BTreeMap<String, String> {
        let mut settings: BTreeMap<String, String> = self
            .typed_engine_settings()
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        if let Some(extra) = &self.settings {
            for (key, value) in &extra.0 {
                settings
                    .entry(key.clone())
                    .or_insert_with(|| value.engine_text());
            }
        }
        settings
    }

    /// The policy targets Ballista: it has a `[ballista]` section or sets a `ballista.*` key.
    pub fn targets_ballista(&self) -> bool {
        self.ballista.is_some()
            || self.settings.as_ref().is_some_and(|s| {
                s.0.keys()
                    .any(|k| k.starts_with(crate::registry::ballista::BALLISTA_PREFIX))
            })
    }

    /// The optimizer rules the policy removes, as a set: `extends` unions the lists, so order and
    /// repeats carry no meaning.
    pub fn disabled_rules(&self) -> std::collections::BTreeSet<&str> {
        self.optimizer
            .iter()
            .flat_map(|o| o.disabled_rules.iter().flatten())
            .map(String::as_str)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choices_use_their_toml_names() {
        assert_eq!(MemoryPoolKind::Fair.engine_text(), "fair");
        assert_eq!(ExplainFormat::Pgjson.engine_text(), "pgjson");
        assert_eq!(StatisticsQuality::Estimated.engine_text(), "estimated");
    }
}
