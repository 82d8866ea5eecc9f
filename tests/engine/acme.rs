//! Acme: the engine the tests of "your own engine" use, built the way a team extends DataFusion.
//!
//! - the community crate `datafusion-functions-json` (0.55.6, on DataFusion 55) as one package;
//! - a scalar function of its own, `mask_pii`;
//! - a `STORED AS ACMELOG` format (`ts|level|payload` lines) whose tables report exact statistics;
//! - a logical optimizer rule, `acme_row_cap`, that caps a query's rows with a `Limit` when the
//!   configuration key `acme.max_rows` is above 0 (so that key moves plans);
//! - a configuration namespace `acme.*` with one key of each class: `max_rows` (no class declared:
//!   plan-shaping, the safe side), `scan_threads` (execution-only), `output_compression` (writer),
//!   `banner` (display).
//!
//! The engine's version comes from `ACME_ENGINE_VERSION` (default `1.0.0`), so that a test can bump
//! it and see `check` name the change.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use dfpolicy::datafusion::arrow::array::{Array, ArrayRef, Int64Array, StringArray};
use dfpolicy::datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use dfpolicy::datafusion::arrow::record_batch::RecordBatch;
use dfpolicy::datafusion::catalog::{Session, TableProvider, TableProviderFactory};
use dfpolicy::datafusion::common::stats::Precision;
use dfpolicy::datafusion::common::tree_node::Transformed;
use dfpolicy::datafusion::common::{Statistics, extensions_options};
use dfpolicy::datafusion::config::ConfigExtension;
use dfpolicy::datafusion::datasource::TableType;
use dfpolicy::datafusion::datasource::memory::MemorySourceConfig;
use dfpolicy::datafusion::error::{DataFusionError, Result};
use dfpolicy::datafusion::logical_expr::{
    ColumnarValue, CreateExternalTable, Expr, LogicalPlan, LogicalPlanBuilder, ScalarUDF,
    Volatility, create_udf,
};
use dfpolicy::datafusion::optimizer::optimizer::{ApplyOrder, OptimizerConfig, OptimizerRule};
use dfpolicy::datafusion::physical_plan::ExecutionPlan;
use dfpolicy::registry::SettingClass;
use dfpolicy::{Extensions, RulePosition};

extensions_options! {
    /// Acme's own settings, under `acme.`.
    pub struct AcmeOptions {
        /// The most rows a query returns: the `acme_row_cap` rule puts a limit of this many rows
        /// on top of a query that has none. 0: no cap.
        pub max_rows: usize, default = 0
        /// Threads an Acme log scan decodes with.
        pub scan_threads: usize, default = 4
        /// Compression of the files Acme writes (`zstd`, `lz4` or `none`).
        pub output_compression: String, default = "zstd".to_string()
        /// Whether printed results carry Acme's banner.
        pub banner: bool, default = true
    }
}

impl ConfigExtension for AcmeOptions {
    const PREFIX: &'static str = "acme";
}

/// The whole engine, as a team's `main.rs` hands it to `dfpolicy::cli::main_with`.
pub fn acme() -> Extensions {
    let version = std::env::var("ACME_ENGINE_VERSION").unwrap_or_else(|_| "1.0.0".into());
    Extensions::new()
        .named("acme", version)
        .with_functions(
            "datafusion-functions-json",
            "0.55.6",
            datafusion_functions_json::register_all,
        )
        .with_scalar_udf(Arc::new(mask_pii()))
        .with_table_factory("acmelog", Arc::new(AcmeLogFactory))
        .with_optimizer_rule(
            Arc::new(AcmeRowCap),
            RulePosition::before("push_down_limit"),
        )
        .with_config_extension::<AcmeOptions>()
        .with_setting_class("acme.scan_threads", SettingClass::ExecutionOnly)
        .with_setting_class("acme.output_compression", SettingClass::Writer)
        .with_setting_class("acme.banner", SettingClass::Display)
}

/// `mask_pii(text)`: every character but the last four replaced by `*`.
pub fn mask_pii() -> ScalarUDF {
    create_udf(
        "mask_pii",
        vec![DataType::Utf8],
        DataType::Utf8,
        Volatility::Immutable,
        Arc::new(|args: &[ColumnarValue]| {
            let arrays = ColumnarValue::values_to_arrays(args)?;
            let text = arrays[0]
                .as_any()
                .downcast_ref::<StringArray>()
                .ok_or_else(|| DataFusionError::Execution("mask_pii takes text".into()))?;
            let masked: StringArray = text
                .iter()
                .map(|value| {
                    value.map(|v| {
                        let keep = v.chars().count().saturating_sub(4);
                        v.chars()
                            .enumerate()
                            .map(|(i, c)| if i < keep { '*' } else { c })
                            .collect::<String>()
                    })
                })
                .collect();
            Ok(ColumnarValue::Array(Arc::new(masked) as ArrayRef))
        }),
    )
}

/// Caps a query's rows at `acme.max_rows` with a `Limit` on top, when the query has none.
#[derive(Debug)]
pub struct AcmeRowCap;

impl OptimizerRule for AcmeRowCap {
    fn name(&self) -> &str {
        "acme_row_cap"
    }

    fn apply_order(&self) -> Option<ApplyOrder> {
        // The root only: the cap is on what the query returns.
        None
    }

    fn supports_rewrite(&self) -> bool {
        true
    }

    fn rewrite(
        &self,
        plan: LogicalPlan,
        config: &dyn OptimizerConfig,
    ) -> Result<Transformed<LogicalPlan>> {
        let cap = config
            .options()
            .extensions
            .get::<AcmeOptions>()
            .map_or(0, |options| options.max_rows);
        if cap == 0 || matches!(plan, LogicalPlan::Limit(_)) || !returns_rows(&plan) {
            return Ok(Transformed::no(plan));
        }
        let capped = LogicalPlanBuilder::from(plan)
            .limit(0, Some(cap))?
            .build()?;
        Ok(Transformed::yes(capped))
    }
}

fn returns_rows(plan: &LogicalPlan) -> bool {
    !matches!(
        plan,
        LogicalPlan::Ddl(_)
            | LogicalPlan::Dml(_)
            | LogicalPlan::Copy(_)
            | LogicalPlan::Explain(_)
            | LogicalPlan::Analyze(_)
            | LogicalPlan::Statement(_)
            | LogicalPlan::DescribeTable(_)
            | LogicalPlan::EmptyRelation(_)
    )
}

/// `CREATE EXTERNAL TABLE t STORED AS ACMELOG LOCATION 'file'`: a file of `ts|level|payload` lines.
#[derive(Debug)]
pub struct AcmeLogFactory;

#[async_trait]
impl TableProviderFactory for AcmeLogFactory {
    async fn create(
        &self,
        _state: &dyn Session,
        cmd: &CreateExternalTable,
    ) -> Result<Arc<dyn TableProvider>> {
        let mut text = String::new();
        for location in &cmd.locations {
            text.push_str(&std::fs::read_to_string(location).map_err(|e| {
                DataFusionError::Execution(format!("cannot read acme log {location}: {e}"))
            })?);
            text.push('\n');
        }
        Ok(Arc::new(AcmeLogTable::parse(&text)?))
    }
}

/// An Acme log in memory, with exact statistics.
pub struct AcmeLogTable {
    batch: RecordBatch,
}

impl fmt::Debug for AcmeLogTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AcmeLogTable({} rows)", self.batch.num_rows())
    }
}

impl AcmeLogTable {
    fn schema_of() -> SchemaRef {
        Arc::new(Schema::new(vec![
            Field::new("ts", DataType::Int64, false),
            Field::new("level", DataType::Utf8, false),
            Field::new("payload", DataType::Utf8, false),
        ]))
    }

    fn parse(text: &str) -> Result<Self> {
        let (mut ts, mut level, mut payload) = (Vec::new(), Vec::new(), Vec::new());
        for (number, line) in text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
        {
            let mut parts = line.splitn(3, '|');
            let (Some(t), Some(l), Some(p)) = (parts.next(), parts.next(), parts.next()) else {
                return Err(DataFusionError::Execution(format!(
                    "acme log line {}: expected ts|level|payload",
                    number + 1
                )));
            };
            ts.push(t.trim().parse::<i64>().map_err(|e| {
                DataFusionError::Execution(format!("acme log line {}: {e}", number + 1))
            })?);
            level.push(l.trim().to_string());
            payload.push(p.trim().to_string());
        }
        let batch = RecordBatch::try_new(
            Self::schema_of(),
            vec![
                Arc::new(Int64Array::from(ts)),
                Arc::new(StringArray::from(level)),
                Arc::new(StringArray::from(payload)),
            ],
        )?;
        Ok(AcmeLogTable { batch })
    }
}

#[async_trait]
impl TableProvider for AcmeLogTable {
    fn schema(&self) -> SchemaRef {
        self.batch.schema()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    fn statistics(&self) -> Option<Statistics> {
        let mut statistics = Statistics::new_unknown(&self.batch.schema());
        statistics.num_rows = Precision::Exact(self.batch.num_rows());
        statistics.total_byte_size = Precision::Exact(self.batch.get_array_memory_size());
        Some(statistics)
    }

    async fn scan(
        &self,
        _state: &dyn Session,
        projection: Option<&Vec<usize>>,
        _filters: &[Expr],
        _limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        Ok(MemorySourceConfig::try_new_exec(
            &[vec![self.batch.clone()]],
            self.schema(),
            projection.cloned(),
        )?)
    }
}
