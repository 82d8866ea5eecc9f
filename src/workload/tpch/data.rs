//! TPC-H data, generated on first use with `tpchgen` and kept in a cache folder.
//!
//! Layout under the data root (`$DFPOLICY_DATA_DIR`, else the platform cache folder + `dfpolicy`):
//! `tpch/sf<scale factor>/parquet/<table>.parquet` and `tpch/sf<scale factor>/delta/<table>/`.
//! Each form is written to a hidden temporary folder next to its final place and renamed into place
//! when complete, so an interrupted or concurrent generation never leaves a half-written table: a
//! form's folder exists only complete. Later runs reuse it.
//!
//! The Parquet files are byte-for-byte deterministic: the rows come from the TPC-H generator, and the
//! writer settings below are fixed (no timestamps or random ids in a Parquet file). Delta tables hold
//! the same rows, but Delta itself puts a commit timestamp in the log and a random UUID in each data
//! file's name, so their file names and log bytes differ between generations. The order of a commit's
//! files does not: delta-rs writes a commit's `add` actions in hash-map order, and that order becomes
//! the order of the files in a scan's file groups, so each commit's `add` lines are sorted by their
//! partition folder and size after writing (the order of actions within a commit carries no meaning
//! in the Delta protocol). Plan bundles replace the UUIDs (see `crate::bundle`).

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::error::ArrowError;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::Compression;
use datafusion::parquet::file::properties::{EnabledStatistics, WriterProperties};
use deltalake::protocol::SaveMode;
use deltalake::{DeltaTable, ensure_table_uri};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tpchgen::generators::{
    CustomerGenerator, LineItemGenerator, NationGenerator, OrderGenerator, PartGenerator,
    PartSuppGenerator, RegionGenerator, SupplierGenerator,
};
use tpchgen_arrow::{
    CustomerArrow, LineItemArrow, NationArrow, OrderArrow, PartArrow, PartSuppArrow, RegionArrow,
    SupplierArrow,
};

use super::TABLES;

/// The scale factor of the built-in workloads.
pub const DEFAULT_SCALE_FACTOR: f64 = 0.01;

/// Rows per Parquet row group: several row groups per large table even at SF 0.01 (lineitem has
/// four), so that row-group pruning is observable in plans and metrics.
pub const ROW_GROUP_ROWS: usize = 16 * 1024;

/// The column `lineitem` is partitioned by in the Delta form (7 distinct values).
pub const DELTA_PARTITION_COLUMN: &str = "l_shipmode";

/// Why data could not be generated: what dfpolicy was doing, where, and the error that stopped it.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// A step failed at a path.
    #[error("{action} {}", path.display())]
    At {
        /// What dfpolicy was doing (`cannot write`).
        action: &'static str,
        /// Where.
        path: PathBuf,
        /// Why.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The generating task stopped.
    #[error("TPC-H generation stopped")]
    Stopped(#[source] tokio::task::JoinError),
}

pub(super) fn data_error(
    action: &'static str,
    path: &Path,
    source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
) -> DataError {
    DataError::At {
        action,
        path: path.to_path_buf(),
        source: source.into(),
    }
}

/// Where the generated data of one scale factor lives.
#[derive(Debug, Clone, PartialEq)]
pub struct TpchData {
    /// The TPC-H scale factor (0.01: 60,175 `lineitem` rows).
    pub scale_factor: f64,
    /// `<root>/tpch/sf<scale factor>`.
    pub dir: PathBuf,
}

impl TpchData {
    /// The data of `scale_factor` under `root` (see [`default_data_root`]).
    pub fn new(root: &Path, scale_factor: f64) -> Self {
        TpchData {
            scale_factor,
            dir: root.join("tpch").join(format!("sf{scale_factor}")),
        }
    }

    /// The default scale factor under the default root.
    pub fn default_location() -> Self {
        TpchData::new(&default_data_root(), DEFAULT_SCALE_FACTOR)
    }

    /// The data root the scale factor's folder is in.
    pub fn root(&self) -> &Path {
        self.dir
            .parent()
            .and_then(Path::parent)
            .unwrap_or(&self.dir)
    }

    /// The folder of the Parquet tables.
    pub fn parquet_dir(&self) -> PathBuf {
        self.dir.join("parquet")
    }

    /// The folder of the Delta tables.
    pub fn delta_dir(&self) -> PathBuf {
        self.dir.join("delta")
    }

    /// The Parquet file of a table.
    pub fn parquet_file(&self, table: &str) -> PathBuf {
        self.parquet_dir().join(format!("{table}.parquet"))
    }

    /// The Delta table folder of a table.
    pub fn delta_table(&self, table: &str) -> PathBuf {
        self.delta_dir().join(table)
    }

    /// Generates the Parquet form unless it exists; returns its folder.
    pub fn ensure_parquet(&self) -> Result<PathBuf, DataError> {
        let target = self.parquet_dir();
        if target.is_dir() {
            return Ok(target);
        }
        let progress = progress(TABLES.len() as u64, "TPC-H Parquet");
        let scratch = scratch_dir(&target)?;
        let written = TABLES.iter().try_for_each(|table| {
            progress.set_message(*table);
            let path = scratch.join(format!("{table}.parquet"));
            write_parquet(&path, batches(table, self.scale_factor, 1, 1))?;
            progress.inc(1);
            Ok(())
        });
        progress.finish_and_clear();
        publish(&scratch, &target, written)
    }

    /// Generates the Delta form unless it exists; returns its folder. `lineitem` is partitioned by
    /// `l_shipmode` and has two versions: 0 with the first half of the orders, 1 appending the rest.
    pub async fn ensure_delta(&self) -> Result<PathBuf, DataError> {
        let target = self.delta_dir();
        if target.is_dir() {
            return Ok(target);
        }
        let progress = progress(TABLES.len() as u64 + 1, "TPC-H Delta");
        let scratch = scratch_dir(&target)?;
        let written = async {
            for table in TABLES {
                progress.set_message(*table);
                let path = scratch.join(table);
                if *table == "lineitem" {
                    for part in 1..=2 {
                        let rows = collect(batches(table, self.scale_factor, part, 2), &path)?;
                        write_delta(&path, rows, Some(DELTA_PARTITION_COLUMN)).await?;
                        progress.inc(1);
                    }
                } else {
                    let rows = collect(batches(table, self.scale_factor, 1, 1), &path)?;
                    write_delta(&path, rows, None).await?;
                    progress.inc(1);
                }
            }
            Ok::<(), DataError>(())
        }
        .await;
        progress.finish_and_clear();
        publish(&scratch, &target, written)
    }
}

/// `$DFPOLICY_DATA_DIR`, else the platform's cache folder + `dfpolicy` (`~/.cache/dfpolicy` on
/// Linux), else the temporary folder + `dfpolicy`.
pub fn default_data_root() -> PathBuf {
    if let Some(dir) = std::env::var_os("DFPOLICY_DATA_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    dirs::cache_dir()
        .unwrap_or_else(std::env::temp_dir)
        .join("dfpolicy")
}

/// A progress bar on a terminal's stderr; hidden when stderr is not a terminal or under CI.
pub(crate) fn progress(length: u64, what: &str) -> ProgressBar {
    let target = if std::env::var_os("CI").is_some() {
        ProgressDrawTarget::hidden()
    } else {
        ProgressDrawTarget::stderr()
    };
    let bar = ProgressBar::with_draw_target(Some(length), target);
    bar.set_style(
        ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} {msg}")
            .expect("a valid template")
            .progress_chars("=> "),
    );
    bar.set_prefix(format!("generating {what}"));
    bar
}

/// The batches of one table (or of one part of it, 1-based).
pub(super) fn batches(
    table: &str,
    scale_factor: f64,
    part: i32,
    parts: i32,
) -> Box<dyn Iterator<Item = Result<RecordBatch, ArrowError>>> {
    let (sf, p, n) = (scale_factor, part, parts);
    match table {
        "part" => Box::new(PartArrow::new(PartGenerator::new(sf, p, n))),
        "supplier" => Box::new(SupplierArrow::new(SupplierGenerator::new(sf, p, n))),
        "partsupp" => Box::new(PartSuppArrow::new(PartSuppGenerator::new(sf, p, n))),
        "customer" => Box::new(CustomerArrow::new(CustomerGenerator::new(sf, p, n))),
        "orders" => Box::new(OrderArrow::new(OrderGenerator::new(sf, p, n))),
        "lineitem" => Box::new(LineItemArrow::new(LineItemGenerator::new(sf, p, n))),
        "nation" => Box::new(NationArrow::new(NationGenerator::new(sf, p, n))),
        "region" => Box::new(RegionArrow::new(RegionGenerator::new(sf, p, n))),
        other => unreachable!("`{other}` is not a TPC-H table"),
    }
}

/// The fixed writer settings of the generated Parquet files.
fn writer_properties() -> WriterProperties {
    WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_statistics_enabled(EnabledStatistics::Page)
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .build()
}

fn write_parquet(
    path: &Path,
    batches: impl Iterator<Item = Result<RecordBatch, ArrowError>>,
) -> Result<(), DataError> {
    let mut batches = batches.peekable();
    let schema = match batches.peek() {
        Some(Ok(batch)) => batch.schema(),
        Some(Err(_)) => {
            let error = batches
                .next()
                .and_then(Result::err)
                .expect("peeked an error");
            return Err(data_error("cannot generate", path, error));
        }
        None => return Err(data_error("no rows generated for", path, "empty table")),
    };
    let file = fs::File::create(path).map_err(|e| data_error("cannot create", path, e))?;
    let mut writer = ArrowWriter::try_new(file, schema, Some(writer_properties()))
        .map_err(|e| data_error("cannot write", path, e))?;
    for batch in batches {
        let batch = batch.map_err(|e| data_error("cannot generate", path, e))?;
        writer
            .write(&batch)
            .map_err(|e| data_error("cannot write", path, e))?;
    }
    writer
        .close()
        .map_err(|e| data_error("cannot write", path, e))?;
    Ok(())
}

fn collect(
    batches: impl Iterator<Item = Result<RecordBatch, ArrowError>>,
    path: &Path,
) -> Result<Vec<RecordBatch>, DataError> {
    batches
        .collect::<Result<_, _>>()
        .map_err(|e| data_error("cannot generate", path, e))
}

async fn write_delta(
    path: &Path,
    batches: Vec<RecordBatch>,
    partition_column: Option<&str>,
) -> Result<(), DataError> {
    fs::create_dir_all(path).map_err(|e| data_error("cannot create", path, e))?;
    let text = path
        .to_str()
        .ok_or_else(|| data_error("cannot use", path, "the path is not UTF-8"))?;
    let url = ensure_table_uri(text).map_err(|e| data_error("cannot open", path, e))?;
    let table = DeltaTable::try_from_url(url)
        .await
        .map_err(|e| data_error("cannot open", path, e))?;
    let mut write = table
        .write(batches)
        .with_save_mode(SaveMode::Append)
        .with_writer_properties(writer_properties());
    if let Some(column) = partition_column {
        write = write.with_partition_columns([column]);
    }
    let table = write
        .await
        .map_err(|e| data_error("cannot write Delta table", path, e))?;
    let version = table.version().unwrap_or_default();
    sort_commit_files(&path.join("_delta_log").join(format!("{version:020}.json")))
}

/// Rewrites a commit file with its `add` actions sorted by partition folder, then size, then
/// statistics (never by the random file name); the other actions keep their place before them.
fn sort_commit_files(commit: &Path) -> Result<(), DataError> {
    let text = fs::read_to_string(commit).map_err(|e| data_error("cannot read", commit, e))?;
    let mut others = Vec::new();
    let mut adds = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let action: serde_json::Value =
            serde_json::from_str(line).map_err(|e| data_error("cannot read", commit, e))?;
        match action.get("add") {
            Some(add) => {
                let path = add.get("path").and_then(|p| p.as_str()).unwrap_or_default();
                let folder = path.rsplit_once('/').map_or("", |(folder, _)| folder);
                let key = (
                    folder.to_string(),
                    add.get("size").and_then(|s| s.as_u64()).unwrap_or_default(),
                    add.get("stats").map(|s| s.to_string()).unwrap_or_default(),
                );
                adds.push((key, line));
            }
            None => others.push(line),
        }
    }
    adds.sort_by(|a, b| a.0.cmp(&b.0));
    let mut sorted = String::with_capacity(text.len());
    for line in others
        .into_iter()
        .chain(adds.into_iter().map(|(_, line)| line))
    {
        sorted.push_str(line);
        sorted.push('\n');
    }
    fs::write(commit, sorted).map_err(|e| data_error("cannot write", commit, e))
}

/// A new hidden folder next to `target` to build it in.
pub(super) fn scratch_dir(target: &Path) -> Result<PathBuf, DataError> {
    let parent = target
        .parent()
        .ok_or_else(|| data_error("cannot use", target, "it has no parent folder"))?;
    fs::create_dir_all(parent).map_err(|e| data_error("cannot create", parent, e))?;
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let scratch = parent.join(format!(".{name}.partial-{}-{nanos}", std::process::id()));
    fs::create_dir_all(&scratch).map_err(|e| data_error("cannot create", &scratch, e))?;
    Ok(scratch)
}

/// Renames a complete scratch folder into place. When another process got there first, its copy is
/// kept and ours removed: both hold the same rows.
pub(super) fn publish(
    scratch: &Path,
    target: &Path,
    written: Result<(), DataError>,
) -> Result<PathBuf, DataError> {
    if let Err(error) = written {
        let _ = fs::remove_dir_all(scratch);
        return Err(error);
    }
    match fs::rename(scratch, target) {
        Ok(()) => Ok(target.to_path_buf()),
        Err(_) if target.is_dir() => {
            let _ = fs::remove_dir_all(scratch);
            Ok(target.to_path_buf())
        }
        Err(error) => {
            let _ = fs::remove_dir_all(scratch);
            Err(data_error(
                "cannot move the generated data to",
                target,
                error,
            ))
        }
    }
}

/// Shared by the built-in workloads: the data for `tpch` (Parquet) or `tpch-delta`, generated if
/// missing.
pub async fn ensure(data: &TpchData, delta: bool) -> Result<PathBuf, DataError> {
    if delta {
        data.ensure_delta().await
    } else {
        let data = Arc::new(data.clone());
        tokio::task::spawn_blocking(move || data.ensure_parquet())
            .await
            .map_err(DataError::Stopped)?
    }
}
