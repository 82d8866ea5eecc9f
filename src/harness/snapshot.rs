//! Taking a metadata snapshot of a workload: every query planned under every policy of a set, with
//! the local file store replaced by a [`RecordingStore`], then each table's files kept with exactly
//! the byte ranges those plans read — the listing with sizes, Parquet footers and page indexes as
//! DataFusion requested them — and Delta logs whole (delta-rs reads them through a store of its own).

use std::collections::BTreeMap;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;

use super::policies::{PolicySet, PolicyUnavailable};
use crate::bundle::{BundleError, Bundler};
use crate::session::SessionFactory;
use crate::workload::snapshot::{
    ByteRanges, CapturedFile, RecordingStore, SNAPSHOT_FORMAT, Snapshot, SnapshotFile,
    SnapshotManifest, SnapshotTable,
};
use crate::workload::{Location, Table, TableFormat, Workload, WorkloadError, local_files};

/// Why a snapshot could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotCaptureError {
    #[error("policy `{policy}`")]
    Policy {
        policy: String,
        #[source]
        source: PolicyUnavailable,
    },
    #[error("policy `{policy}`: no session can be built")]
    Session {
        policy: String,
        #[source]
        source: datafusion::error::DataFusionError,
    },
    #[error("policy `{policy}`: the workload cannot be set up")]
    Workload {
        policy: String,
        #[source]
        source: Box<WorkloadError>,
    },
    #[error("policy `{policy}`: query `{query}`")]
    Query {
        policy: String,
        query: String,
        #[source]
        source: Box<BundleError>,
    },
    #[error(
        "table `{table}`: {} is not below the workload's folder {}; a snapshot keeps paths relative to it",
        location.display(),
        folder.display()
    )]
    OutsideFolder {
        table: String,
        location: PathBuf,
        folder: PathBuf,
    },
    #[error("table `{table}`: remote tables are not snapshotted yet ({location})")]
    Remote { table: String, location: String },
    #[error("{}: cannot read it", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Plans every query of `workload` (each parameter set) under every policy of `policies`, recording
/// what is read, and keeps exactly that of each table. File paths are relative to the workload's
/// folder (the data root for a built-in workload), where [`Snapshot::store`] serves them back.
pub async fn capture_snapshot(
    policies: &PolicySet,
    workload: &Workload,
) -> Result<Snapshot, SnapshotCaptureError> {
    let recording = Arc::new(RecordingStore::new(Arc::new(LocalFileSystem::new())));
    let file_url = url::Url::parse("file://").expect("a valid URL");
    for (name, policy) in &policies.policies {
        let compiled = policy
            .compiled
            .as_ref()
            .map_err(|source| SnapshotCaptureError::Policy {
                policy: name.clone(),
                source: source.clone(),
            })?;
        let factory = SessionFactory::new(compiled.clone())
            .map_err(|source| SnapshotCaptureError::Session {
                policy: name.clone(),
                source,
            })?
            .with_object_store(file_url.clone(), recording.clone());
        let bundler = Bundler::new(&factory, workload).await.map_err(|source| {
            SnapshotCaptureError::Workload {
                policy: name.clone(),
                source: Box::new(source),
            }
        })?;
        for (_, query, set) in super::query_cells(workload) {
            let mut builder = bundler.bundle(query);
            if let Some(set) = set {
                builder = builder.parameters(set);
            }
            // Planning warnings are the bundle's business: what was read until then is kept.
            builder
                .plan()
                .await
                .map_err(|source| SnapshotCaptureError::Query {
                    policy: name.clone(),
                    query: query.name.clone(),
                    source: Box::new(source),
                })?;
        }
    }
    let reads = recording.reads();
    let folder = workload.path_anchor().folder;
    let mut tables = BTreeMap::new();
    let mut files = BTreeMap::new();
    for table in &workload.tables {
        let (entry, captured) = capture_table(table, &folder, &reads)?;
        tables.insert(table.name.clone(), entry);
        files.extend(captured);
    }
    Ok(Snapshot {
        manifest: SnapshotManifest {
            snapshot_format: SNAPSHOT_FORMAT,
            workload: workload.name.clone(),
            source: workload.origin.clone(),
            tables,
            bytes_sha256: String::new(),
        },
        files,
    })
}

/// One table's manifest entry and captured files.
fn capture_table(
    table: &Table,
    folder: &Path,
    reads: &BTreeMap<ObjectPath, ByteRanges>,
) -> Result<(SnapshotTable, BTreeMap<String, CapturedFile>), SnapshotCaptureError> {
    let location = match &table.location {
        Location::Local(path) => path,
        Location::Remote(url) => {
            return Err(SnapshotCaptureError::Remote {
                table: table.name.clone(),
                location: crate::secrets::redact(url.as_str()).into_owned(),
            });
        }
    };
    let relative = |path: &Path| -> Result<String, SnapshotCaptureError> {
        path.strip_prefix(folder)
            .map(|p| p.to_string_lossy().replace('\\', "/"))
            .map_err(|_| SnapshotCaptureError::OutsideFolder {
                table: table.name.clone(),
                location: location.clone(),
                folder: folder.to_path_buf(),
            })
    };
    let mut entry = SnapshotTable {
        format: table.format,
        location: relative(location)?,
        files: BTreeMap::new(),
    };
    let mut captured = BTreeMap::new();
    let files = local_files(location)
        .map_err(|(path, source)| SnapshotCaptureError::Io { path, source })?;
    for file in files {
        let io = |source| SnapshotCaptureError::Io {
            path: file.clone(),
            source,
        };
        let size = std::fs::metadata(&file).map_err(io)?.len();
        let is_log = table.format == TableFormat::Delta
            && file
                .strip_prefix(location)
                .is_ok_and(|rest| rest.starts_with("_delta_log"));
        let ranges = if is_log {
            // delta-rs reads its log through a store of its own: the log is kept whole.
            std::iter::once(0..size).collect()
        } else {
            ObjectPath::from_absolute_path(&file)
                .ok()
                .and_then(|path| reads.get(&path).cloned())
                .unwrap_or_default()
        };
        let captured_file = CapturedFile {
            size,
            parts: read_ranges(&file, &ranges).map_err(io)?,
        };
        let key = relative(&file)?;
        entry
            .files
            .insert(key.clone(), SnapshotFile::of(&captured_file));
        captured.insert(key, captured_file);
    }
    Ok((entry, captured))
}

/// The bytes of each range of a file.
fn read_ranges(
    path: &Path,
    ranges: &ByteRanges,
) -> std::io::Result<Vec<(std::ops::Range<u64>, Bytes)>> {
    let mut file = std::fs::File::open(path)?;
    ranges
        .ranges()
        .iter()
        .map(|range| {
            file.seek(SeekFrom::Start(range.start))?;
            let mut bytes = vec![0; (range.end - range.start) as usize];
            file.read_exact(&mut bytes)?;
            Ok((range.clone(), Bytes::from(bytes)))
        })
        .collect()
}
