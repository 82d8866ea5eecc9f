//! What a workload's tables are right now: format, location, Delta version, active files and exact
//! row counts (from Parquet footers or the Delta log's statistics; CSV files carry none).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use datafusion::datasource::physical_plan::parquet::metadata::DFParquetMetadata;
use std::sync::Arc;

use object_store::path::Path as ObjectPath;
use object_store::{ObjectMeta, ObjectStore};
use serde::Serialize;

use super::file::TableFormat;
use super::table::{Location, Table};
use super::{Workload, WorkloadError, delta};

/// The facts of one table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TableFacts {
    /// The table's declared name.
    pub name: String,
    /// Its format.
    pub format: TableFormat,
    /// Its location, as shown.
    pub location: String,
    /// Delta: the version read (the pinned one, else the latest).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<u64>,
    /// Data files in the table (for Delta: active in that version).
    pub files: usize,
    /// Exact row count; `None` for CSV, and for Delta files without statistics in the log.
    pub rows: Option<u64>,
    /// Delta: partition columns.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub partition_columns: Vec<String>,
}

/// A workload's facts: the workload and its tables.
#[derive(Debug, Clone, Serialize)]
pub struct WorkloadFacts {
    /// The workload's name.
    pub name: String,
    /// Its file as shown, or the built-in name.
    pub origin: String,
    /// How many queries loaded.
    pub queries: usize,
    /// Set when the tables are served from a metadata snapshot rather than the data.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snapshot: Option<SnapshotFacts>,
    /// Each table's facts, in declaration order.
    pub tables: Vec<TableFacts>,
}

/// What a snapshot workload is a snapshot of.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SnapshotFacts {
    /// The snapshot folder, or the built-in workload's name.
    pub snapshot: String,
    /// The workload it was taken of, as it was given.
    pub source: String,
    /// Bytes the snapshot holds.
    pub kept_bytes: u64,
    /// Bytes the files have.
    pub data_bytes: u64,
}

/// Reads the facts of every table (generating a built-in workload's data first if missing).
pub async fn workload_facts(workload: &Workload) -> Result<WorkloadFacts, WorkloadError> {
    workload.prepare_data().await?;
    let mut tables = Vec::new();
    for table in &workload.tables {
        let facts = table_facts(table)
            .await
            .map_err(|error| WorkloadError::Table {
                workload: workload.name.clone(),
                table: table.name.clone(),
                declared: None,
                error,
            })?;
        tables.push(facts);
    }
    Ok(WorkloadFacts {
        name: workload.name.clone(),
        origin: workload.origin.clone(),
        queries: workload.queries().len(),
        snapshot: workload.served_from().snapshot().map(|served| {
            let (kept_bytes, data_bytes) = served.kept_of();
            SnapshotFacts {
                snapshot: served.shown.clone(),
                source: served.manifest.source.clone(),
                kept_bytes,
                data_bytes,
            }
        }),
        tables,
    })
}

/// What one table is now: its version, file count and, where the format records it, its exact row
/// count (Parquet footers, the Delta log).
pub async fn table_facts(table: &Table) -> datafusion::common::Result<TableFacts> {
    let location = table.location.to_string();
    if table.format == TableFormat::Delta {
        let (_, facts) = delta::open_with_facts(table).await?;
        return Ok(TableFacts {
            name: table.name.clone(),
            format: table.format.clone(),
            location,
            version: Some(facts.version),
            files: facts.active_files,
            rows: facts.rows,
            partition_columns: facts.partition_columns,
        });
    }
    // Every data file's object path and size, and the store that serves them.
    let (store, files): (Arc<dyn ObjectStore>, Vec<ObjectMeta>) = match &table.location {
        Location::Local(path) => {
            let mut metas = Vec::new();
            for file in data_files(table, path) {
                metas.push(ObjectMeta {
                    location: ObjectPath::from_absolute_path(&file)
                        .map_err(|e| datafusion::common::DataFusionError::External(Box::new(e)))?,
                    last_modified: Default::default(),
                    size: table.served_from.size(&file)?,
                    e_tag: None,
                    version: None,
                });
            }
            (table.served_from.store(), metas)
        }
        Location::Remote(remote) => {
            let listing = remote
                .listing()
                .await
                .map_err(|e| datafusion::common::DataFusionError::External(Box::new(e)))?;
            let files = listing
                .data_files(&table.format)
                .into_iter()
                .cloned()
                .collect();
            (Arc::clone(&remote.store), files)
        }
    };
    let rows = match table.format {
        TableFormat::Parquet => {
            // Footers only, as planning reads them.
            let mut sum = 0u64;
            for meta in &files {
                let metadata = DFParquetMetadata::new(store.as_ref(), meta)
                    .fetch_metadata()
                    .await?;
                sum += metadata.file_metadata().num_rows().max(0) as u64;
            }
            Some(sum)
        }
        _ => None,
    };
    Ok(TableFacts {
        name: table.name.clone(),
        format: table.format.clone(),
        location,
        version: None,
        files: files.len(),
        rows,
        partition_columns: Vec::new(),
    })
}

/// How many data files a local Parquet or CSV table has (no file is opened); `None` for a table on
/// object storage (registering it counts them) or a Delta table (whose files the log lists).
pub fn data_file_count(table: &Table) -> Option<usize> {
    match (&table.location, &table.format) {
        (_, TableFormat::Delta) | (Location::Remote(_), _) => None,
        (Location::Local(path), _) => Some(data_files(table, path).len()),
    }
}

/// The data files of a local Parquet or CSV table: the file itself, or the files below the folder
/// whose names carry the format's name (`.parquet`, `.csv`, `.csv.gz` …), sorted.
fn data_files(table: &Table, path: &Path) -> Vec<PathBuf> {
    if table.served_from.is_file(path) {
        return vec![path.to_path_buf()];
    }
    let marker = format!(".{}", table.format);
    // A folder that cannot be read has no files DataFusion could list either.
    let mut files = table.served_from.files(path).unwrap_or_default();
    files.retain(|file| {
        file.file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.contains(&marker) && !n.starts_with('.'))
    });
    files
}

/// The facts as text: a header line, then one aligned line per table.
pub fn render_text(facts: &WorkloadFacts) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "workload {} ({}): {} tables, {} queries",
        facts.name,
        facts.origin,
        facts.tables.len(),
        facts.queries
    );
    if let Some(snapshot) = &facts.snapshot {
        let _ = writeln!(
            out,
            "a metadata snapshot of `{}` ({}): {} of {} bytes kept; plans only, no data",
            snapshot.source, snapshot.snapshot, snapshot.kept_bytes, snapshot.data_bytes
        );
    }
    let rows: Vec<[String; 6]> = facts
        .tables
        .iter()
        .map(|t| {
            [
                t.name.clone(),
                t.format.to_string(),
                t.version.map_or_else(|| "-".to_string(), |v| v.to_string()),
                t.files.to_string(),
                t.rows.map_or_else(|| "-".to_string(), |r| r.to_string()),
                t.location.clone(),
            ]
        })
        .collect();
    let header = ["table", "format", "version", "files", "rows", "location"];
    let mut widths = header.map(str::len);
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.len());
        }
    }
    for row in std::iter::once(header.map(str::to_string)).chain(rows) {
        let line = row
            .iter()
            .zip(widths)
            .enumerate()
            .map(|(i, (cell, width))| match i {
                // Numbers right-aligned; the location last, unpadded.
                2..=4 => format!("{cell:>width$}"),
                5 => cell.clone(),
                _ => format!("{cell:<width$}"),
            })
            .collect::<Vec<_>>()
            .join("  ");
        let _ = writeln!(out, "{}", line.trim_end());
    }
    out
}
