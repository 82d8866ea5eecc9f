//! Taking a metadata snapshot of a workload: every query planned under every policy of a set, with
//! the local file store replaced by a [`RecordingStore`], then each table's files kept with exactly
//! the byte ranges those plans read — the listing with sizes, Parquet footers and page indexes as
//! DataFusion requested them — and Delta logs whole (delta-rs reads them through a store of its own).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use object_store::ObjectStore;
use object_store::path::Path as ObjectPath;

use super::planning::{PlanningEnvironment, PlanningError, plan_cells};
use super::policies::{PolicySet, PolicyUnavailable};
use crate::bundle::BundleError;
use crate::workload::file::{QueriesSection, TableEntry, WorkloadFile, WorkloadSection};
use crate::workload::remote::RemoteLocation;
use crate::workload::snapshot::{
    ByteRanges, CapturedFile, RecordingStore, SNAPSHOT_FORMAT, Snapshot, SnapshotFile,
    SnapshotFolderError, SnapshotManifest, SnapshotTable,
};
use crate::workload::tpch::data::{DataError, TpchData};
use crate::workload::tpch::metadata::{ensure_tails, scaled_name};
use crate::workload::{Location, ServedSnapshot, Table, TableFormat, Workload};

/// Why a snapshot could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotCaptureError {
    /// A policy did not load.
    #[error("policy `{policy}`")]
    Policy {
        /// The policy.
        policy: String,
        /// Why.
        #[source]
        source: PolicyUnavailable,
    },
    /// The workload could not be planned under a policy.
    #[error("policy `{policy}`")]
    Planning {
        /// The policy.
        policy: String,
        /// Why.
        #[source]
        source: PlanningError,
    },
    /// A query could not be bundled.
    #[error("policy `{policy}`: query `{query}`")]
    Query {
        /// The policy.
        policy: String,
        /// The query.
        query: String,
        /// Why.
        #[source]
        source: Box<BundleError>,
    },
    /// A table's files are not below the workload's folder.
    #[error(
        "table `{table}`: {} is not below the workload's folder {}; a snapshot keeps paths relative to it",
        location.display(),
        folder.display()
    )]
    OutsideFolder {
        /// The table.
        table: String,
        /// The location, as shown.
        location: PathBuf,
        /// The folder.
        folder: PathBuf,
    },
    /// The workload's tables are on several stores.
    #[error(
        "table `{table}`: {location} is on another store than {first}; a snapshot keeps one store's tables"
    )]
    SeveralStores {
        /// The table.
        table: String,
        /// The location, as shown.
        location: String,
        /// The location of the first table, whose store the snapshot keeps.
        first: String,
    },
    /// A remote table's location cannot be listed.
    #[error("table `{table}`: cannot list {location}")]
    List {
        /// The table.
        table: String,
        /// The location, as shown.
        location: String,
        /// Why.
        #[source]
        source: object_store::Error,
    },
    /// Two tables' files would have one path in the snapshot.
    #[error(
        "table `{table}`: the snapshot path {path} is another table's file too, with other bytes"
    )]
    Collision {
        /// The table.
        table: String,
        /// The file.
        path: String,
    },
    /// A file cannot be read.
    #[error("{}: cannot read it", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The TPC-H files' tails could not be generated.
    #[error("cannot generate the TPC-H files' tails")]
    Generate(#[from] DataError),
    /// The generated tails could not be read.
    #[error("cannot read the generated tails")]
    Tails(#[from] SnapshotFolderError),
}

/// Plans every query of `workload` (each parameter set) under every policy of `policies`, recording
/// what is read, and keeps exactly that of each table. File paths are relative to the workload's
/// folder (the data root for a built-in workload), where [`Snapshot::store`] serves them back.
pub async fn capture_snapshot(
    policies: &PolicySet,
    workload: &Workload,
) -> Result<Snapshot, SnapshotCaptureError> {
    let served_from = workload.served_from();
    let recording = Arc::new(RecordingStore::new(served_from.store()));
    // A snapshot workload registers its own store in every session: the recording wraps it there.
    // On disk, the sessions' local file store is replaced by the recording.
    let mut recorded = workload.served_through(recording.clone());
    // Tables on object storage (one bucket's) are read through its store: recorded the same way.
    let remote = RemoteRoot::of(workload)?;
    let remote_recording = remote
        .root
        .as_ref()
        .map(|root| Arc::new(RecordingStore::new(Arc::clone(&root.store))));
    if let Some(recording) = &remote_recording {
        for table in &mut recorded.tables {
            if let Location::Remote(location) = &mut table.location {
                location.store = recording.clone();
            }
        }
    }
    for (name, policy) in &policies.policies {
        // An environment of its own for each policy: its caches start cold, so that everything
        // this policy's planning reads (its own footer size hint, its page indexes) is recorded,
        // not served from what another policy read.
        let mut environment = PlanningEnvironment::new();
        if served_from.snapshot().is_none() {
            let file_url = url::Url::parse("file://").expect("a valid URL");
            environment = environment.with_object_store(file_url, recording.clone());
        }
        let compiled = policy
            .compiled
            .as_ref()
            .map_err(|source| SnapshotCaptureError::Policy {
                policy: name.clone(),
                source: source.clone(),
            })?;
        // Planning warnings are the bundle's business: what was read until then is kept.
        let planned = plan_cells(compiled, &recorded, &environment, async |bundler, cell| {
            cell.bundle(bundler).plan().await.map(drop)
        })
        .map_err(|source| SnapshotCaptureError::Planning {
            policy: name.clone(),
            source,
        })?;
        for (query, result) in planned {
            result.map_err(|source| SnapshotCaptureError::Query {
                policy: name.clone(),
                query,
                source: Box::new(source),
            })?;
        }
    }
    let reads = recording.reads();
    let remote_reads = remote_recording.map(|r| r.reads()).unwrap_or_default();
    let folder = match served_from.snapshot() {
        Some(served) => served.root.clone(),
        None => workload.path_anchor().folder,
    };
    let store = served_from.store();
    let mut tables = BTreeMap::new();
    let mut files: BTreeMap<String, CapturedFile> = BTreeMap::new();
    for table in &workload.tables {
        let (entry, captured) = match &table.location {
            Location::Local(_) => capture_table(table, &folder, &reads, store.as_ref()).await?,
            Location::Remote(location) => {
                capture_remote_table(table, location, &remote, &remote_reads).await?
            }
        };
        // Two tables at one location (a Delta table at two versions) keep the same files.
        if let Some(path) = captured
            .iter()
            .find(|(path, file)| files.get(*path).is_some_and(|kept| kept != *file))
            .map(|(path, _)| path)
        {
            return Err(SnapshotCaptureError::Collision {
                table: table.name.clone(),
                path: path.clone(),
            });
        }
        tables.insert(table.name.clone(), entry);
        files.extend(captured);
    }
    Ok(Snapshot {
        manifest: SnapshotManifest {
            snapshot_format: SNAPSHOT_FORMAT,
            workload: workload.name.clone(),
            // A snapshot of a snapshot is a snapshot of the same workload.
            source: served_from
                .snapshot()
                .map_or_else(|| source_name(workload), |s| s.manifest.source.clone()),
            tables,
            bytes_sha256: String::new(),
        },
        files,
    })
}

/// The workload a snapshot is of, the same wherever it is taken from: a built-in workload's name, or
/// the workload file's name (its folder is the machine's business).
fn source_name(workload: &Workload) -> String {
    match workload.folder() {
        None => workload.origin.clone(),
        Some(_) => Path::new(&workload.origin).file_name().map_or_else(
            || workload.origin.clone(),
            |n| n.to_string_lossy().into_owned(),
        ),
    }
}

/// The snapshot of TPC-H at `data`'s scale factor in a lake's layout (see
/// [`crate::workload::tpch::metadata`]), taken without writing the data: every file's tail is
/// generated into the cache folder once, then every query is planned over the tails under every
/// policy of `policies`, and what planning read is kept — as [`capture_snapshot`] keeps it over data.
pub async fn snapshot_tpch(
    policies: &PolicySet,
    data: &TpchData,
) -> Result<Snapshot, SnapshotCaptureError> {
    let generating = data.clone();
    let tails = tokio::task::spawn_blocking(move || ensure_tails(&generating))
        .await
        .map_err(DataError::Stopped)??;
    let tails = Snapshot::read(&tails)?;
    let root = crate::workload::absolute(data.root());
    let served = ServedSnapshot::new(&tails, root, scaled_name(data.scale_factor));
    let workload = Workload::tpch_snapshot(Arc::new(served));
    capture_snapshot(policies, &workload).await
}

/// One table's manifest entry and captured files, their bytes read from `store`.
async fn capture_table(
    table: &Table,
    folder: &Path,
    reads: &BTreeMap<ObjectPath, ByteRanges>,
    store: &dyn ObjectStore,
) -> Result<(SnapshotTable, BTreeMap<String, CapturedFile>), SnapshotCaptureError> {
    let Location::Local(location) = &table.location else {
        unreachable!("remote tables are captured by capture_remote_table");
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
        format: table.format.clone(),
        location: relative(location)?,
        files: BTreeMap::new(),
    };
    let mut captured = BTreeMap::new();
    let files = table
        .served_from
        .files(location)
        .map_err(|(path, source)| SnapshotCaptureError::Io { path, source })?;
    for file in files {
        let io = |source| SnapshotCaptureError::Io {
            path: file.clone(),
            source,
        };
        let size = table.served_from.size(&file).map_err(io)?;
        let is_log = table.format == TableFormat::Delta
            && file
                .strip_prefix(location)
                .is_ok_and(|rest| rest.starts_with("_delta_log"));
        let object = ObjectPath::from_absolute_path(&file)
            .map_err(|e| io(std::io::Error::new(std::io::ErrorKind::InvalidInput, e)))?;
        let ranges = if is_log {
            // delta-rs reads a local log through a store of its own: the log is kept whole.
            std::iter::once(0..size).collect()
        } else {
            reads.get(&object).cloned().unwrap_or_default()
        };
        let captured_file = CapturedFile {
            size,
            parts: read_ranges(store, &object, &ranges)
                .await
                .map_err(|e| io(std::io::Error::other(e)))?,
        };
        let key = relative(&file)?;
        entry
            .files
            .insert(key.clone(), SnapshotFile::of(&captured_file));
        captured.insert(key, captured_file);
    }
    Ok((entry, captured))
}

/// Where a workload's tables on object storage are kept in its snapshot: below the folder that holds
/// them all (the longest common folder of their locations' parents), as a workload file beside that
/// folder would name the same files. So the snapshot of `s3://lake/tpch/lineitem.parquet` and
/// `s3://lake/delta/orders` is the snapshot of a local copy with `tpch/lineitem.parquet` and
/// `delta/orders` beside its workload file.
struct RemoteRoot {
    /// `None` when no table is remote.
    root: Option<CommonFolder>,
}

struct CommonFolder {
    /// The bucket's store URL (`s3://lake/`), and its store.
    bucket: String,
    store: Arc<dyn ObjectStore>,
    /// The common folder's object names (none for the bucket itself).
    names: Vec<String>,
    /// The first remote table's location, for messages.
    first: String,
}

impl RemoteRoot {
    fn of(workload: &Workload) -> Result<RemoteRoot, SnapshotCaptureError> {
        let mut root: Option<CommonFolder> = None;
        for table in &workload.tables {
            let Location::Remote(location) = &table.location else {
                continue;
            };
            let bucket = crate::object_storage::store_url(&location.url).to_string();
            let mut parent = object_names(&location.object_path());
            parent.pop();
            match &mut root {
                None => {
                    root = Some(CommonFolder {
                        bucket,
                        store: Arc::clone(&location.store),
                        names: parent,
                        first: table.location.to_string(),
                    });
                }
                Some(common) if common.bucket != bucket => {
                    return Err(SnapshotCaptureError::SeveralStores {
                        table: table.name.clone(),
                        location: table.location.to_string(),
                        first: common.first.clone(),
                    });
                }
                Some(common) => {
                    let shared = common
                        .names
                        .iter()
                        .zip(&parent)
                        .take_while(|(a, b)| a == b)
                        .count();
                    common.names.truncate(shared);
                }
            }
        }
        Ok(RemoteRoot { root })
    }

    /// An object's path relative to the root, `None` when it is not below it: the object's name
    /// in the bucket, as a local copy names the file.
    fn relative(&self, object: &ObjectPath) -> Option<String> {
        let common = &self.root.as_ref()?.names;
        let names = object_names(object);
        if names.len() <= common.len() || names.iter().zip(common).any(|(a, b)| a != b) {
            return None;
        }
        Some(names[common.len()..].join("/"))
    }
}

/// The names of an object path's parts, as the bucket names them.
fn object_names(path: &ObjectPath) -> Vec<String> {
    path.parts()
        .map(|part| crate::object_storage::object_name(part.as_ref()))
        .collect()
}

/// One remote table's manifest entry and captured files: every object at its location listed with
/// its size, the byte ranges planning read (a Delta log whole, as for a local table).
async fn capture_remote_table(
    table: &Table,
    location: &RemoteLocation,
    root: &RemoteRoot,
    reads: &BTreeMap<ObjectPath, ByteRanges>,
) -> Result<(SnapshotTable, BTreeMap<String, CapturedFile>), SnapshotCaptureError> {
    let listed = |source| SnapshotCaptureError::List {
        table: table.name.clone(),
        location: table.location.to_string(),
        source,
    };
    let listing = location.listing().await.map_err(listed)?;
    let table_path = location.object_path();
    let relative = |object: &ObjectPath| {
        root.relative(object)
            .expect("every remote table is below the remote root")
    };
    let mut entry = SnapshotTable {
        format: table.format.clone(),
        location: relative(&table_path),
        files: BTreeMap::new(),
    };
    let mut captured = BTreeMap::new();
    for meta in &listing.objects {
        let is_log = table.format == TableFormat::Delta
            && meta
                .location
                .prefix_match(&table_path)
                .and_then(|mut rest| rest.next())
                .is_some_and(|first| first.as_ref() == "_delta_log");
        let ranges = if is_log {
            std::iter::once(0..meta.size).collect()
        } else {
            reads.get(&meta.location).cloned().unwrap_or_default()
        };
        let captured_file = CapturedFile {
            size: meta.size,
            parts: read_ranges(location.store.as_ref(), &meta.location, &ranges)
                .await
                .map_err(listed)?,
        };
        let key = relative(&meta.location);
        entry
            .files
            .insert(key.clone(), SnapshotFile::of(&captured_file));
        captured.insert(key, captured_file);
    }
    Ok((entry, captured))
}

/// The bytes of each range of a file.
async fn read_ranges(
    store: &dyn ObjectStore,
    path: &ObjectPath,
    ranges: &ByteRanges,
) -> object_store::Result<Vec<(std::ops::Range<u64>, Bytes)>> {
    let ranges = ranges.ranges();
    if ranges.is_empty() {
        return Ok(Vec::new());
    }
    let bytes = store.get_ranges(path, ranges).await?;
    Ok(ranges.iter().cloned().zip(bytes).collect())
}

/// The workload file a snapshot folder holds.
pub const SNAPSHOT_WORKLOAD_FILE: &str = "workload.toml";

/// Why a snapshot folder could not be written.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotWriteError {
    /// The snapshot's files could not be written.
    #[error("cannot write the snapshot")]
    Folder(#[from] SnapshotFolderError),
    /// A copied file could not be written.
    #[error("{}: cannot write it", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A query file is not below the workload's folder.
    #[error(
        "query `{query}`: {} is not below the workload's folder; a snapshot copies query files to the same place below its own",
        path.display()
    )]
    QueryOutsideFolder {
        /// The query.
        query: String,
        /// The file.
        path: PathBuf,
    },
}

/// Writes a snapshot folder usable wherever a workload file is: `snapshot.json` and `snapshot.bin`,
/// `workload.toml` (the workload as declared, each table's location where the snapshot holds it),
/// and every query file copied to the same place relative to it. A built-in workload's queries are
/// written as it names them (`tpch/q01.sql`).
pub fn write_snapshot_folder(
    workload: &Workload,
    snapshot: &Snapshot,
    out: &Path,
) -> Result<PathBuf, SnapshotWriteError> {
    snapshot.write(out)?;
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| SnapshotWriteError::Io { path, source }
    };
    let mut declaration = match workload.declaration() {
        Some(declaration) => declaration.clone(),
        None => WorkloadFile {
            workload: WorkloadSection {
                name: workload.name.clone(),
                description: workload.description.clone(),
            },
            tables: workload
                .tables
                .iter()
                .map(|table| TableEntry {
                    name: table.name.clone(),
                    format: table.format.clone(),
                    location: String::new(),
                    has_header: None,
                    delimiter: None,
                    quote: None,
                    escape: None,
                    null_value: None,
                    compression: None,
                    version: table.version,
                    storage_options: BTreeMap::new(),
                    options: table.stored_options.clone(),
                })
                .collect(),
            queries: QueriesSection {
                paths: vec!["tpch/*.sql".to_string()],
            },
            parameters: Vec::new(),
        },
    };
    for entry in &mut declaration.tables {
        if let Some(table) = snapshot.manifest.tables.get(&entry.name) {
            entry.location = table.location.clone();
            // The snapshot holds the files: no object store is read.
            entry.storage_options.clear();
        }
    }
    // Every query file, also those that did not load: in the snapshot they fail as they did over
    // the data, with the same findings.
    // A built-in workload's query files exist only as text, so the loaded ones are written from
    // their text; one that did not load is copied as it lies.
    let mut files: Vec<(&String, &String, &PathBuf, Option<&str>)> = workload
        .queries()
        .iter()
        .map(|query| {
            let text = Some(query.source.text.as_str());
            (&query.name, &query.file, &query.source.path, text)
        })
        .collect();
    for query in workload.unplanned_queries() {
        files.push((&query.name, &query.file, &query.path, None));
    }
    for (name, shown, path, text) in files {
        let relative = match workload.folder() {
            None => shown.clone(),
            Some(folder) => {
                let source = path.canonicalize().unwrap_or_else(|_| path.clone());
                source
                    .strip_prefix(folder)
                    .map(|p| p.to_string_lossy().replace('\\', "/"))
                    .map_err(|_| SnapshotWriteError::QueryOutsideFolder {
                        query: name.clone(),
                        path: source.clone(),
                    })?
            }
        };
        let target = out.join(&relative);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(io(parent))?;
        }
        match text {
            Some(text) => std::fs::write(&target, text).map_err(io(&target))?,
            None => {
                std::fs::copy(path, &target).map_err(io(&target))?;
            }
        }
    }
    let mut text = format!(
        "# A metadata snapshot of the workload `{}` ({}), written by `dfpolicy workload snapshot`:\n\
         # plans are made from `snapshot.json` and `snapshot.bin` beside this file, without the data.\n",
        workload.name, snapshot.manifest.source
    );
    text.push_str(&toml::to_string(&declaration).expect("workload files serialize"));
    let path = out.join(SNAPSHOT_WORKLOAD_FILE);
    std::fs::write(&path, text).map_err(io(&path))?;
    Ok(path)
}
