//! TPC-H at production scale without the data: every Parquet file of a lake-like layout generated and
//! encoded for real, row by row, but written into a sink that keeps only the file's tail — the last
//! data bytes (DataFusion's first footer read, `metadata_size_hint`, reaches back into them) and
//! everything after the last data page (page indexes, footer). The result is a [`Snapshot`] of the
//! tails; `dfpolicy data snapshot-tpch` then plans every query over it under the bundled policies and
//! keeps only the ranges planning read, as `dfpolicy workload snapshot` does over data.
//!
//! The layout is a lake's, as `tpchgen-cli` writes one: each table a folder, a large table in several
//! files of about 1 GB or less (the generator's own parts), row groups closed at about 7 MiB encoded,
//! Snappy pages with page-level statistics (the page index DataFusion reads while registering).
//! Memory stays bounded by one row group per worker plus the tail window.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::Compression;
use datafusion::parquet::file::properties::{EnabledStatistics, WriterProperties};

use super::TABLES;
use super::data::{DataError, TpchData, batches, data_error, progress, publish, scratch_dir};
use crate::workload::file::TableFormat;
use crate::workload::snapshot::{
    CapturedFile, SNAPSHOT_FORMAT, Snapshot, SnapshotFile, SnapshotManifest, SnapshotTable,
};

/// Data bytes kept before the last data page of each file: twice the largest `metadata_size_hint`
/// the bundled policies set (1 MiB), so a footer read never reaches past what is kept.
pub const TAIL_WINDOW: usize = 2 * 1024 * 1024;

/// Row groups close at about this many encoded bytes (`tpchgen-cli`'s default size).
pub const ROW_GROUP_BYTES: usize = 7 * 1024 * 1024;

/// Files are cut so that none holds much more than this (about; from the Parquet size per unit of
/// scale factor below).
const FILE_BYTES: f64 = 1024.0 * 1024.0 * 1024.0;

/// Approximate Snappy Parquet bytes per table at scale factor 1, measured on this generator's output:
/// what the number of files of a table follows.
fn bytes_at_scale_factor_1(table: &str) -> f64 {
    const MB: f64 = 1024.0 * 1024.0;
    match table {
        "lineitem" => 250.0 * MB,
        "orders" => 64.0 * MB,
        "partsupp" => 44.0 * MB,
        "customer" => 12.0 * MB,
        "part" => 7.0 * MB,
        "supplier" => 0.8 * MB,
        _ => 0.0,
    }
}

/// How many files a table has at a scale factor (the generator's parts; nation and region: one).
pub fn file_count(table: &str, scale_factor: f64) -> i32 {
    let files = (bytes_at_scale_factor_1(table) * scale_factor / FILE_BYTES).ceil();
    (files as i32).max(1)
}

/// Where a table's files are below the data root, as a snapshot writes it: `tpch/sf<N>/parquet/<table>/`.
pub fn table_folder(table: &str, scale_factor: f64) -> String {
    format!("tpch/sf{scale_factor}/parquet/{table}/")
}

/// The writer settings of the generated lake: the built-in data's, with row groups by size.
fn writer_properties() -> WriterProperties {
    WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_statistics_enabled(EnabledStatistics::Page)
        .set_max_row_group_row_count(None)
        .set_max_row_group_bytes(Some(ROW_GROUP_BYTES))
        .build()
}

/// The tail of a file being written: a rolling window of the last data bytes, then every byte after
/// [`Tail::keep_from_now`].
#[derive(Debug, Default)]
struct Tail {
    kept: Vec<u8>,
    /// The offset of `kept[0]` in the file.
    start: u64,
    written: u64,
    keep_all: bool,
}

impl Tail {
    fn keep_from_now(&mut self) {
        self.keep_all = true;
    }
}

/// A `Write` that keeps only a [`Tail`]; the writer owns one end, the generator the other.
struct TailSink(Arc<Mutex<Tail>>);

impl Write for TailSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut tail = self.0.lock().expect("the tail is never poisoned");
        tail.kept.extend_from_slice(buf);
        tail.written += buf.len() as u64;
        if !tail.keep_all && tail.kept.len() > 2 * TAIL_WINDOW {
            let dropped = tail.kept.len() - TAIL_WINDOW;
            tail.kept.drain(..dropped);
            tail.start += dropped as u64;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// One file of the lake: which table, which of its parts (1-based) of how many.
#[derive(Debug, Clone)]
struct FileJob {
    table: &'static str,
    part: i32,
    parts: i32,
}

impl FileJob {
    fn path(&self, scale_factor: f64) -> String {
        format!(
            "{}{}.{}.parquet",
            table_folder(self.table, scale_factor),
            self.table,
            self.part
        )
    }
}

/// Generates one file through a [`TailSink`]: its size and kept tail.
fn generate_file(job: &FileJob, scale_factor: f64) -> Result<CapturedFile, DataError> {
    let at = PathBuf::from(job.path(scale_factor));
    let fail = |action, error: Box<dyn std::error::Error + Send + Sync>| DataError::At {
        action,
        path: at.clone(),
        source: error,
    };
    let schema = super::schema(job.table).expect("every TPC-H table has a schema");
    let tail = Arc::new(Mutex::new(Tail::default()));
    let mut writer = ArrowWriter::try_new(
        TailSink(Arc::clone(&tail)),
        schema,
        Some(writer_properties()),
    )
    .map_err(|e| fail("cannot write", e.into()))?;
    for batch in batches(job.table, scale_factor, job.part, job.parts) {
        let batch = batch.map_err(|e| fail("cannot generate", e.into()))?;
        writer
            .write(&batch)
            .map_err(|e| fail("cannot write", e.into()))?;
    }
    // The last row group is written out; from here on come page indexes and the footer.
    writer.flush().map_err(|e| fail("cannot write", e.into()))?;
    tail.lock().expect("not poisoned").keep_from_now();
    writer.close().map_err(|e| fail("cannot write", e.into()))?;
    let tail = std::mem::take(&mut *tail.lock().expect("not poisoned"));
    Ok(CapturedFile {
        size: tail.written,
        parts: vec![(tail.start..tail.written, Bytes::from(tail.kept))],
    })
}

/// The tails of every file of TPC-H at `scale_factor` in the lake layout, as a snapshot of the
/// workload `tpch-sf<N>` (paths below the data root). Files are generated on all cores; the result
/// does not depend on their number.
pub fn generate_tails(scale_factor: f64) -> Result<Snapshot, DataError> {
    let jobs: Vec<FileJob> = TABLES
        .iter()
        .flat_map(|table| {
            let parts = file_count(table, scale_factor);
            (1..=parts).map(move |part| FileJob { table, part, parts })
        })
        .collect();
    // The largest files first, so that the last worker does not start a long one alone.
    let mut order: Vec<usize> = (0..jobs.len()).collect();
    order.sort_by(|&a, &b| {
        let size = |job: &FileJob| bytes_at_scale_factor_1(job.table) / f64::from(job.parts);
        size(&jobs[b]).total_cmp(&size(&jobs[a])).then(a.cmp(&b))
    });
    let bar = progress(
        jobs.len() as u64,
        &format!("TPC-H SF {scale_factor} metadata"),
    );
    let next = AtomicUsize::new(0);
    let done: Mutex<BTreeMap<String, Result<CapturedFile, DataError>>> = Mutex::default();
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    std::thread::scope(|scope| {
        for _ in 0..workers.min(jobs.len()) {
            scope.spawn(|| {
                while let Some(&index) = order.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let job = &jobs[index];
                    let file = generate_file(job, scale_factor);
                    bar.inc(1);
                    let failed = file.is_err();
                    done.lock()
                        .expect("not poisoned")
                        .insert(job.path(scale_factor), file);
                    if failed {
                        // Let the other workers finish their file and stop.
                        next.store(order.len(), Ordering::Relaxed);
                    }
                }
            });
        }
    });
    bar.finish_and_clear();
    let done = done.into_inner().expect("not poisoned");
    let mut files = BTreeMap::new();
    for (path, file) in done {
        files.insert(path, file?);
    }
    let tables = TABLES
        .iter()
        .map(|table| {
            let folder = table_folder(table, scale_factor);
            let table_files = files
                .iter()
                .filter(|(path, _)| path.starts_with(&folder))
                .map(|(path, file)| (path.clone(), SnapshotFile::of(file)))
                .collect();
            let entry = SnapshotTable {
                format: TableFormat::Parquet,
                location: folder,
                files: table_files,
            };
            (table.to_string(), entry)
        })
        .collect();
    Ok(Snapshot {
        manifest: SnapshotManifest {
            snapshot_format: SNAPSHOT_FORMAT,
            workload: scaled_name(scale_factor),
            source: "tpch".to_string(),
            tables,
            bytes_sha256: String::new(),
        },
        files,
    })
}

/// The tails of `data`'s scale factor (see [`generate_tails`]) as a snapshot folder in the cache,
/// `tpch/sf<N>/tails/`, generated unless it exists; returns the folder. Nothing but the tails is ever
/// written.
pub fn ensure_tails(data: &TpchData) -> Result<PathBuf, DataError> {
    let target = data.dir.join("tails");
    if target.is_dir() {
        return Ok(target);
    }
    let scratch = scratch_dir(&target)?;
    let written = generate_tails(data.scale_factor).and_then(|tails| {
        tails
            .write(&scratch)
            .map_err(|e| data_error("cannot write", &scratch, e))
    });
    publish(&scratch, &target, written)
}

/// `tpch-sf100`: the name of the built-in workload of a scale factor.
pub fn scaled_name(scale_factor: f64) -> String {
    format!("tpch-sf{scale_factor}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_tables_are_cut_into_files_of_about_a_gigabyte() {
        assert_eq!(file_count("lineitem", 100.0), 25);
        assert_eq!(file_count("lineitem", 10.0), 3);
        assert_eq!(file_count("orders", 100.0), 7);
        assert_eq!(file_count("nation", 100.0), 1);
        assert_eq!(file_count("lineitem", 0.01), 1);
    }

    #[test]
    fn a_tail_sink_keeps_the_window_then_everything() {
        let tail = Arc::new(Mutex::new(Tail::default()));
        let mut sink = TailSink(Arc::clone(&tail));
        let chunk = vec![1u8; 1024 * 1024];
        for _ in 0..10 {
            sink.write_all(&chunk).unwrap();
        }
        tail.lock().unwrap().keep_from_now();
        sink.write_all(&[2u8; 5 * 1024 * 1024]).unwrap();
        let tail = tail.lock().unwrap();
        assert_eq!(tail.written, 15 * 1024 * 1024);
        assert_eq!(tail.start + tail.kept.len() as u64, tail.written);
        assert!(tail.kept.len() >= TAIL_WINDOW + 5 * 1024 * 1024);
        assert!(tail.kept.len() <= 2 * TAIL_WINDOW + 5 * 1024 * 1024);
    }
}
