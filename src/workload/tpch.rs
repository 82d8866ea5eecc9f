//! TPC-H: the eight tables' schemas and the 22 queries with the specification's validation parameters.

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};

/// One query of a workload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Query {
    /// `q01` … `q22`.
    pub name: &'static str,
    pub sql: &'static str,
}

macro_rules! queries {
    ($($name:literal),* $(,)?) => {
        &[$(Query { name: $name, sql: include_str!(concat!("tpch/", $name, ".sql")) }),*]
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

fn money() -> DataType {
    DataType::Decimal128(15, 2)
}

/// The Arrow schema of a TPC-H table, or `None` for another name.
pub fn schema(table: &str) -> Option<SchemaRef> {
    use DataType::{Date32, Int32, Int64, Utf8};
    let fields: Vec<(&str, DataType)> = match table {
        "part" => vec![
            ("p_partkey", Int64),
            ("p_name", Utf8),
            ("p_mfgr", Utf8),
            ("p_brand", Utf8),
            ("p_type", Utf8),
            ("p_size", Int32),
            ("p_container", Utf8),
            ("p_retailprice", money()),
            ("p_comment", Utf8),
        ],
        "supplier" => vec![
            ("s_suppkey", Int64),
            ("s_name", Utf8),
            ("s_address", Utf8),
            ("s_nationkey", Int64),
            ("s_phone", Utf8),
            ("s_acctbal", money()),
            ("s_comment", Utf8),
        ],
        "partsupp" => vec![
            ("ps_partkey", Int64),
            ("ps_suppkey", Int64),
            ("ps_availqty", Int32),
            ("ps_supplycost", money()),
            ("ps_comment", Utf8),
        ],
        "customer" => vec![
            ("c_custkey", Int64),
            ("c_name", Utf8),
            ("c_address", Utf8),
            ("c_nationkey", Int64),
            ("c_phone", Utf8),
            ("c_acctbal", money()),
            ("c_mktsegment", Utf8),
            ("c_comment", Utf8),
        ],
        "orders" => vec![
            ("o_orderkey", Int64),
            ("o_custkey", Int64),
            ("o_orderstatus", Utf8),
            ("o_totalprice", money()),
            ("o_orderdate", Date32),
            ("o_orderpriority", Utf8),
            ("o_clerk", Utf8),
            ("o_shippriority", Int32),
            ("o_comment", Utf8),
        ],
        "lineitem" => vec![
            ("l_orderkey", Int64),
            ("l_partkey", Int64),
            ("l_suppkey", Int64),
            ("l_linenumber", Int32),
            ("l_quantity", money()),
            ("l_extendedprice", money()),
            ("l_discount", money()),
            ("l_tax", money()),
            ("l_returnflag", Utf8),
            ("l_linestatus", Utf8),
            ("l_shipdate", Date32),
            ("l_commitdate", Date32),
            ("l_receiptdate", Date32),
            ("l_shipinstruct", Utf8),
            ("l_shipmode", Utf8),
            ("l_comment", Utf8),
        ],
        "nation" => vec![
            ("n_nationkey", Int64),
            ("n_name", Utf8),
            ("n_regionkey", Int64),
            ("n_comment", Utf8),
        ],
        "region" => vec![
            ("r_regionkey", Int64),
            ("r_name", Utf8),
            ("r_comment", Utf8),
        ],
        _ => return None,
    };
    Some(Arc::new(Schema::new(
        fields
            .into_iter()
            .map(|(name, data_type)| Field::new(name, data_type, false))
            .collect::<Vec<_>>(),
    )))
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
