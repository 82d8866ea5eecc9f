//! Registering a workload's tables in a session: Parquet and CSV as DataFusion listing tables, Delta
//! through delta-rs' table provider built with the session (so that the policy's Parquet options,
//! `pushdown_filters` among them, apply to Delta scans too), any other format through the session's
//! table provider factory for it, as `CREATE EXTERNAL TABLE ... STORED AS` does.

use std::collections::BTreeMap;
use std::sync::Arc;

use datafusion::catalog::TableProvider;
use datafusion::catalog::{CatalogProvider, MemoryCatalogProvider, MemorySchemaProvider};
use datafusion::common::config::ConfigField;
use datafusion::common::{DFSchema, DataFusionError, Result, TableReference};
use datafusion::datasource::file_format::FileFormat;
use datafusion::datasource::file_format::csv::CsvFormat;
use datafusion::datasource::file_format::file_compression_type::FileCompressionType;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::logical_expr::CreateExternalTable;
use datafusion::prelude::SessionContext;

use super::delta::{self, RegisteredDelta};
use super::file::TableFormat;
use super::table::{Location, Table};

/// What registering one table learned that later stages use.
pub(crate) enum Registered {
    /// A Parquet or CSV table; on object storage, its data files as listed to register it (the
    /// table pins count them without listing again).
    Listing { remote_files: Option<usize> },
    /// A Delta table: what its scans are matched by.
    Delta(RegisteredDelta),
    /// A table of another `STORED AS` format, created by the format's factory.
    Stored,
}

/// What registering a workload's tables learned.
#[derive(Default)]
pub(crate) struct RegisteredTables {
    pub deltas: Vec<RegisteredDelta>,
    /// Data files of each Parquet and CSV table on object storage, by declared name.
    pub remote_files: BTreeMap<String, usize>,
}

/// Registers one table.
pub(crate) async fn register(ctx: &SessionContext, table: &Table) -> Result<Registered> {
    let reference = TableReference::parse_str(&table.name);
    ensure_namespace(ctx, &reference)?;
    if let Location::Remote(remote) = &table.location {
        // Listing tables read through the session's registry, by the bucket's URL.
        ctx.register_object_store(
            &crate::object_storage::store_url(&remote.url),
            Arc::clone(&remote.store),
        );
    }
    match &table.format {
        TableFormat::Parquet | TableFormat::Csv => {
            let (provider, remote_files) = listing_table(ctx, table).await?;
            ctx.register_table(reference, Arc::new(provider))?;
            Ok(Registered::Listing { remote_files })
        }
        TableFormat::Delta => {
            let (opened, facts) = delta::open_with_facts(table).await?;
            let provider = opened
                .table_provider()
                .with_session(Arc::new(ctx.state()))
                .await?;
            ctx.register_table(reference, provider)?;
            Ok(Registered::Delta(RegisteredDelta {
                name: table.name.clone(),
                object_store_url: delta::object_store_url(&opened),
                facts,
            }))
        }
        TableFormat::Stored(format) => {
            let provider = stored_table(ctx, table, format, &reference).await?;
            ctx.register_table(reference, provider)?;
            Ok(Registered::Stored)
        }
    }
}

/// A table of a `STORED AS` format, made as `SessionContext` makes one for `CREATE EXTERNAL TABLE`:
/// the session's factory for the format (upper case, as DataFusion keys them) creates it from the
/// location and the table's options, with the schema left to the factory.
async fn stored_table(
    ctx: &SessionContext,
    table: &Table,
    format: &str,
    reference: &TableReference,
) -> Result<Arc<dyn TableProvider>> {
    let state = ctx.state();
    let file_type = format.to_uppercase();
    let Some(factory) = state.table_factories().get(&file_type).cloned() else {
        return Err(DataFusionError::Plan(format!(
            "this session has no table provider factory for `STORED AS {file_type}`"
        )));
    };
    // A local location as a user writes it in `LOCATION '...'`: the absolute path, a folder's with
    // its final separator (DataFusion's listing reads a folder's files then).
    let location = match &table.location {
        Location::Local(path) => {
            let text = path.display().to_string();
            if table.served_from.is_dir(path) && !text.ends_with(std::path::MAIN_SEPARATOR) {
                format!("{text}{}", std::path::MAIN_SEPARATOR)
            } else {
                text
            }
        }
        Location::Remote(remote) => remote.url.to_string(),
    };
    let command = CreateExternalTable::builder(
        reference.clone(),
        location,
        file_type,
        Arc::new(DFSchema::empty()),
    )
    .with_options(table.stored_options.clone().into_iter().collect())
    .build();
    factory.create(&state, &command).await
}

/// Creates the catalog and schema a qualified name needs when the session lacks them.
fn ensure_namespace(ctx: &SessionContext, reference: &TableReference) -> Result<()> {
    let options = ctx.copied_config();
    let defaults = &options.options().catalog;
    let catalog_name = reference.catalog().unwrap_or(&defaults.default_catalog);
    let catalog = match ctx.catalog(catalog_name) {
        Some(catalog) => catalog,
        None => {
            let catalog: Arc<dyn CatalogProvider> = Arc::new(MemoryCatalogProvider::new());
            ctx.register_catalog(catalog_name, Arc::clone(&catalog));
            catalog
        }
    };
    let schema_name = reference.schema().unwrap_or(&defaults.default_schema);
    if catalog.schema(schema_name).is_none() {
        catalog.register_schema(schema_name, Arc::new(MemorySchemaProvider::new()))?;
    }
    Ok(())
}

/// A listing table over the table's files, with the session's table options and the file's own
/// CSV options (by DataFusion's `CsvOptions` names, parsed by DataFusion); on object storage, also
/// the number of data files the store listed.
async fn listing_table(
    ctx: &SessionContext,
    table: &Table,
) -> Result<(ListingTable, Option<usize>)> {
    let state = ctx.state();
    let table_options = state.default_table_options();
    let (format, extension): (Arc<dyn FileFormat>, String) = match &table.format {
        TableFormat::Parquet => {
            let format = ParquetFormat::default().with_options(table_options.parquet);
            let extension = format.get_ext();
            (Arc::new(format), extension)
        }
        _ => {
            let mut csv = table_options.csv;
            for (key, value) in &table.csv_options {
                csv.set(key, value)?;
            }
            let compression = FileCompressionType::from(csv.compression);
            let format = CsvFormat::default().with_options(csv);
            let extension = format.get_ext_with_compression(&compression)?;
            (Arc::new(format), extension)
        }
    };
    // Whether the location is one file decides the extension filter; on object storage the store
    // is asked (a `HEAD`, else a listing), and the listing's data files are counted on the way.
    let (url, is_file, remote_files) = match &table.location {
        Location::Remote(remote) => {
            let listing = remote
                .listing()
                .await
                .map_err(|e| datafusion::common::DataFusionError::External(Box::new(e)))?;
            let files = listing.data_files(&table.format).len();
            (listing.url, listing.is_file, Some(files))
        }
        Location::Local(_) => (table.url()?, table.is_file(), None),
    };
    let url = ListingTableUrl::parse(url.as_str())?;
    // A file named as the location is the table, whatever its extension.
    let extension = if is_file { String::new() } else { extension };
    let options = ListingOptions::new(format).with_file_extension(extension);
    let schema = options.infer_schema(&state, &url).await?;
    let config = ListingTableConfig::new(url)
        .with_listing_options(options)
        .with_schema(schema);
    // As `SessionContext::register_listing_table` does: the files' statistics are kept in the
    // runtime's cache, shared by every session on that runtime.
    let provider = ListingTable::try_new(config)?
        .with_cache(ctx.runtime_env().cache_manager.get_file_statistic_cache());
    Ok((provider, remote_files))
}
