//! TPC-H: the eight tables' schemas, the 22 queries with the specification's validation parameters,
//! and the data ([`data`]) behind the built-in workloads `tpch` (Parquet) and `tpch-delta`.

pub mod data;
pub mod metadata;
pub mod scaled;

use datafusion::arrow::datatypes::SchemaRef;

/// The names of the built-in workloads: the Parquet and the Delta form over generated data, and the
/// production-scale metadata snapshots (see [`scaled`]).
pub const BUILTIN: &[&str] = &["tpch", "tpch-delta", "tpch-sf10", "tpch-sf100"];

/// One query of a workload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Query {
    /// `q01` … `q22`.
    pub name: &'static str,
    /// Its SQL.
    pub sql: &'static str,
}

macro_rules! queries {
    ($($name:literal),* $(,)?) => {
        &[$(Query { name: $name, sql: include_str!(concat!($name, ".sql")) }),*]
    };
}

/// The 22 TPC-H queries, in order.
pub const QUERIES: &[Query] = queries!(
    "q01", "q02", "q03", "q04", "q05", "q06", "q07", "q08", "q09", "q10", "q11", "q12", "q13",
    "q14", "q15", "q16", "q17", "q18", "q19", "q20", "q21", "q22",
);

/// The table names, in the specification's order.
pub const TABLES: &[&str] = &[
    "part", "supplier", "partsupp", "customer", "orders", "lineitem", "nation", "region",
];

/// The Arrow schema of a TPC-H table as the generator writes it (`Int64` keys, `Decimal128(15, 2)`
/// money, `Date32` dates, `Utf8View` text), or `None` for another name.
pub fn schema(table: &str) -> Option<SchemaRef> {
    use tpchgen_arrow::{
        CustomerArrow, LineItemArrow, NationArrow, OrderArrow, PartArrow, PartSuppArrow,
        RegionArrow, SupplierArrow,
    };
    Some(match table {
        "part" => PartArrow::schema_ref(),
        "supplier" => SupplierArrow::schema_ref(),
        "partsupp" => PartSuppArrow::schema_ref(),
        "customer" => CustomerArrow::schema_ref(),
        "orders" => OrderArrow::schema_ref(),
        "lineitem" => LineItemArrow::schema_ref(),
        "nation" => NationArrow::schema_ref(),
        "region" => RegionArrow::schema_ref(),
        _ => return None,
    })
}

/// Writes one empty Parquet file per TPC-H table (`<dir>/<table>/part-0.parquet`, schema only), so
/// plans can be made over real Parquet scans without data.
pub fn write_empty_tables(dir: &std::path::Path) -> datafusion::error::Result<()> {
    use datafusion::parquet::arrow::ArrowWriter;
    for table in TABLES {
        let schema = schema(table).expect("every listed table has a schema");
        let table_dir = dir.join(table);
        std::fs::create_dir_all(&table_dir)?;
        let file = std::fs::File::create(table_dir.join("part-0.parquet"))?;
        let writer = ArrowWriter::try_new(file, schema, None)?;
        writer.close()?;
    }
    Ok(())
}

/// Registers the tables written by [`write_empty_tables`] (or real TPC-H Parquet data laid out the
/// same way) in the session's default catalog and schema.
pub async fn register_tables(
    ctx: &datafusion::prelude::SessionContext,
    dir: &std::path::Path,
) -> datafusion::error::Result<()> {
    for table in TABLES {
        let path = dir.join(table);
        let path = path.to_str().ok_or_else(|| {
            datafusion::error::DataFusionError::Configuration(format!(
                "path {} is not UTF-8",
                path.display()
            ))
        })?;
        let schema = schema(table).expect("every listed table has a schema");
        let options = datafusion::prelude::ParquetReadOptions::default().schema(schema.as_ref());
        ctx.register_parquet(*table, path, options).await?;
    }
    Ok(())
}
