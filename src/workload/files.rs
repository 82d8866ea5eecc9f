//! Where a workload's local files are found: on disk, or in a metadata snapshot served in their
//! place. Everything dfpolicy itself asks of a local location — does it exist, is it a folder, which
//! files are below it, how large are they, which Delta versions does the log hold — goes through
//! [`FileSource`], so that a snapshot workload is checked, shown and planned exactly like the workload
//! it was taken of, without the data.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use object_store::ObjectStore;
use object_store::local::LocalFileSystem;

use super::snapshot::{Snapshot, SnapshotManifest};

/// Where a table's local files are looked up.
#[derive(Debug, Clone, Default)]
pub enum FileSource {
    /// The file system.
    #[default]
    Disk,
    /// A snapshot, its paths below a root folder that need not exist.
    Snapshot(Arc<ServedSnapshot>),
}

/// A snapshot served at a root folder: its manifest, its store, and each file's absolute path.
#[derive(Debug, Clone)]
pub struct ServedSnapshot {
    /// The folder the snapshot's paths are relative to (absolute): the snapshot folder, or the data
    /// root for a built-in snapshot.
    pub root: PathBuf,
    /// The snapshot as shown in messages: its folder, or the built-in workload's name.
    pub shown: String,
    /// What the snapshot holds.
    pub manifest: SnapshotManifest,
    /// The snapshot's [`SnapshotStore`], or a store wrapping it (see [`ServedSnapshot::through`]).
    pub store: Arc<dyn ObjectStore>,
    /// Every file by absolute path, with its size.
    sizes: BTreeMap<PathBuf, u64>,
    captured_bytes: u64,
}

impl ServedSnapshot {
    /// `snapshot` served with its paths below `root` (absolute).
    pub fn new(snapshot: &Snapshot, root: PathBuf, shown: String) -> ServedSnapshot {
        let sizes = snapshot
            .files
            .iter()
            .map(|(path, file)| (root.join(path), file.size))
            .collect();
        ServedSnapshot {
            store: Arc::new(snapshot.store(&root)),
            root,
            shown,
            manifest: snapshot.manifest.clone(),
            sizes,
            captured_bytes: snapshot.captured_bytes(),
        }
    }

    /// The same snapshot served through `store`, a store wrapping this one's (one that records
    /// what is read, say).
    pub fn through(&self, store: Arc<dyn ObjectStore>) -> ServedSnapshot {
        ServedSnapshot {
            store,
            ..self.clone()
        }
    }

    /// Bytes the snapshot holds, and bytes the files had.
    pub fn kept_of(&self) -> (u64, u64) {
        (self.captured_bytes, self.sizes.values().sum())
    }
}

impl FileSource {
    /// The snapshot, when the files are served from one.
    pub fn snapshot(&self) -> Option<&Arc<ServedSnapshot>> {
        match self {
            FileSource::Disk => None,
            FileSource::Snapshot(served) => Some(served),
        }
    }

    /// The object store that serves the files at `file://` paths.
    pub fn store(&self) -> Arc<dyn ObjectStore> {
        match self {
            FileSource::Disk => Arc::new(LocalFileSystem::new()),
            FileSource::Snapshot(served) => served.store.clone(),
        }
    }

    /// Whether `path` is a file.
    pub fn is_file(&self, path: &Path) -> bool {
        match self {
            FileSource::Disk => path.is_file(),
            FileSource::Snapshot(served) => served.sizes.contains_key(path),
        }
    }

    /// Whether `path` is a folder (in a snapshot: whether files are below it).
    pub fn is_dir(&self, path: &Path) -> bool {
        match self {
            FileSource::Disk => path.is_dir(),
            FileSource::Snapshot(served) => served
                .sizes
                .range(path.to_path_buf()..)
                .next()
                .is_some_and(|(file, _)| file != path && file.starts_with(path)),
        }
    }

    /// Whether `path` is a file or a folder.
    pub fn exists(&self, path: &Path) -> bool {
        match self {
            FileSource::Disk => path.exists(),
            FileSource::Snapshot(_) => self.is_file(path) || self.is_dir(path),
        }
    }

    /// Every file at a location: the file itself, or every file below the folder, sorted. Hidden
    /// files are included (a Delta log's checkpoints, say): callers filter what they read.
    pub fn files(&self, path: &Path) -> Result<Vec<PathBuf>, (PathBuf, std::io::Error)> {
        match self {
            FileSource::Disk => disk_files(path),
            FileSource::Snapshot(served) => Ok(served
                .sizes
                .range(path.to_path_buf()..)
                .map(|(file, _)| file)
                .take_while(|file| file.starts_with(path))
                .cloned()
                .collect()),
        }
    }

    /// A file's size.
    pub fn size(&self, path: &Path) -> std::io::Result<u64> {
        match self {
            FileSource::Disk => Ok(std::fs::metadata(path)?.len()),
            FileSource::Snapshot(served) => served.sizes.get(path).copied().ok_or_else(|| {
                std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    format!("snapshot `{}` has no file {}", served.shown, path.display()),
                )
            }),
        }
    }

    /// The commit versions a Delta table's log holds (`_delta_log/NNNN….json`), sorted; `None` when
    /// the table has no `_delta_log`.
    pub fn delta_versions(&self, root: &Path) -> Option<Vec<u64>> {
        let log = root.join("_delta_log");
        if !self.is_dir(&log) {
            return None;
        }
        let files = match self {
            // Only the log's own level: a disk walk would descend into nothing else anyway.
            FileSource::Disk => std::fs::read_dir(&log)
                .ok()?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .collect(),
            FileSource::Snapshot(_) => self.files(&log).ok()?,
        };
        let mut versions: Vec<u64> = files
            .iter()
            .filter(|file| file.parent() == Some(log.as_path()))
            .filter_map(|file| {
                let name = file.file_name()?.to_str()?;
                let digits = name.strip_suffix(".json")?;
                (digits.len() == 20 && digits.bytes().all(|b| b.is_ascii_digit()))
                    .then(|| digits.parse().ok())
                    .flatten()
            })
            .collect();
        versions.sort_unstable();
        Some(versions)
    }
}

/// Every file at a location on disk, sorted: the file itself, or every file below the folder.
fn disk_files(path: &Path) -> Result<Vec<PathBuf>, (PathBuf, std::io::Error)> {
    if path.is_file() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut found = Vec::new();
    let mut pending = vec![path.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|e| (dir.clone(), e))?;
        for entry in entries {
            let path = entry.map_err(|e| (dir.clone(), e))?.path();
            if path.is_dir() {
                pending.push(path);
            } else {
                found.push(path);
            }
        }
    }
    found.sort();
    Ok(found)
}

/// `path` made absolute against the working directory, lexically (`.` and `..` resolved, symbolic
/// links kept, so that the path is the one DataFusion prints).
pub fn absolute(path: &Path) -> PathBuf {
    let joined = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut out = PathBuf::new();
    for component in joined.components() {
        match component {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}
