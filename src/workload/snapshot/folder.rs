//! A snapshot on disk: `snapshot.json`, the manifest (format version, the source workload, each
//! table's files with their size, SHA-256 and captured byte ranges), and `snapshot.bin`, the captured
//! bytes of every file in manifest order. The same captured bytes always give the same two files: the
//! manifest is sorted JSON, the bytes are in manifest order, nothing records a time or a machine.

use std::collections::BTreeMap;
use std::path::{Path as FsPath, PathBuf};

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use object_store::path::Path as ObjectPath;

use super::store::{CapturedFile, SnapshotStore};
use crate::compile::hash::written;
use crate::workload::file::TableFormat;

/// The layout version this dfpolicy writes and reads.
pub const SNAPSHOT_FORMAT: u32 = 1;
/// The manifest's file name in a snapshot folder.
pub const MANIFEST_FILE: &str = "snapshot.json";
/// The captured bytes' file name in a snapshot folder.
pub const BYTES_FILE: &str = "snapshot.bin";
/// The captured bytes compressed, in an archive folder (see [`Snapshot::write_archive`]).
pub const ARCHIVE_FILE: &str = "snapshot.bin.zst";
/// zstd's level for archives: they are written once and read often.
const ARCHIVE_LEVEL: i32 = 19;

/// What a snapshot holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnapshotManifest {
    /// The layout version ([`SNAPSHOT_FORMAT`]).
    pub snapshot_format: u32,
    /// The workload it was taken of: its name, and its file or built-in name as given.
    pub workload: String,
    /// The workload's file or built-in name, as given.
    pub source: String,
    /// By declared name.
    pub tables: BTreeMap<String, SnapshotTable>,
    /// `v1:` SHA-256 of `snapshot.bin`.
    pub bytes_sha256: String,
}

/// One table of a snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnapshotTable {
    /// The table's format.
    pub format: TableFormat,
    /// As the workload writes it, relative to the snapshot folder.
    pub location: String,
    /// Every file of the table (a Delta table's log included), by path relative to the snapshot
    /// folder, sorted.
    pub files: BTreeMap<String, SnapshotFile>,
}

/// One file of a snapshot table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnapshotFile {
    /// The file's size in bytes.
    pub size: u64,
    /// `v1:` SHA-256 of the captured bytes, in range order (hashing whole files would read a lake).
    pub sha256: String,
    /// The byte ranges captured, `[start, end)`, sorted and merged.
    pub ranges: Vec<[u64; 2]>,
}

/// A snapshot folder that cannot be written or read.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotFolderError {
    /// A file of the folder cannot be read or written.
    #[error("{}: cannot read or write it", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// `snapshot.json` is not a manifest.
    #[error("{}: not a snapshot manifest", path.display())]
    Manifest {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
    /// The manifest is of another layout version.
    #[error(
        "{}: snapshot format {found} is not the format this dfpolicy reads ({SNAPSHOT_FORMAT}): \
         take the snapshot again",
        path.display()
    )]
    Format {
        /// The manifest.
        path: PathBuf,
        /// Its version.
        found: u32,
    },
    /// `snapshot.bin` does not hold the bytes the manifest lists.
    #[error("{}: the captured bytes do not match the manifest ({reason})", path.display())]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What does not match.
        reason: String,
    },
}

/// A snapshot's manifest with its captured bytes, by file path relative to the snapshot folder.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    /// What the snapshot holds.
    pub manifest: SnapshotManifest,
    /// The captured bytes, by file.
    pub files: BTreeMap<String, CapturedFile>,
}

impl Snapshot {
    /// Writes `snapshot.json` and `snapshot.bin` into `folder` (created if missing).
    pub fn write(&self, folder: &FsPath) -> Result<(), SnapshotFolderError> {
        let io = |path: &FsPath| {
            let path = path.to_path_buf();
            move |source| SnapshotFolderError::Io { path, source }
        };
        std::fs::create_dir_all(folder).map_err(io(folder))?;
        let mut bytes = Vec::new();
        for path in self.manifest_paths() {
            for (_, part) in &self.files[path].parts {
                bytes.extend_from_slice(part);
            }
        }
        let mut manifest = self.manifest.clone();
        manifest.bytes_sha256 = sha256(&bytes);
        let mut text = serde_json::to_string_pretty(&manifest).expect("manifests serialize");
        text.push('\n');
        let manifest_path = folder.join(MANIFEST_FILE);
        std::fs::write(&manifest_path, text).map_err(io(&manifest_path))?;
        let bytes_path = folder.join(BYTES_FILE);
        std::fs::write(&bytes_path, bytes).map_err(io(&bytes_path))
    }

    /// Reads a snapshot folder written by [`Snapshot::write`], checking the bytes against the
    /// manifest.
    pub fn read(folder: &FsPath) -> Result<Snapshot, SnapshotFolderError> {
        let manifest_path = folder.join(MANIFEST_FILE);
        let text =
            std::fs::read_to_string(&manifest_path).map_err(|source| SnapshotFolderError::Io {
                path: manifest_path.clone(),
                source,
            })?;
        let manifest = parse_manifest(&text, folder)?;
        let bytes_path = folder.join(BYTES_FILE);
        let bytes =
            Bytes::from(
                std::fs::read(&bytes_path).map_err(|source| SnapshotFolderError::Io {
                    path: bytes_path.clone(),
                    source,
                })?,
            );
        Snapshot::with_bytes(manifest, bytes, folder)
    }

    /// Writes the snapshot as an archive into `folder`: `snapshot.json` as [`Snapshot::write`]
    /// writes it (text, so that changes are reviewed) and `snapshot.bin.zst`, the captured bytes
    /// compressed with zstd (the same bytes give the same archive).
    pub fn write_archive(&self, folder: &FsPath) -> Result<(), SnapshotFolderError> {
        self.write(folder)?;
        let bytes_path = folder.join(BYTES_FILE);
        let io = |path: &FsPath| {
            let path = path.to_path_buf();
            move |source| SnapshotFolderError::Io { path, source }
        };
        let bytes = std::fs::read(&bytes_path).map_err(io(&bytes_path))?;
        let compressed = zstd::bulk::compress(&bytes, ARCHIVE_LEVEL).map_err(io(&bytes_path))?;
        let archive_path = folder.join(ARCHIVE_FILE);
        std::fs::write(&archive_path, compressed).map_err(io(&archive_path))?;
        std::fs::remove_file(&bytes_path).map_err(io(&bytes_path))
    }

    /// A snapshot from an archive's two parts (see [`Snapshot::write_archive`]); `at` names it in
    /// errors.
    pub fn from_archive(
        manifest: &str,
        compressed: &[u8],
        at: &FsPath,
    ) -> Result<Snapshot, SnapshotFolderError> {
        let bytes =
            zstd::stream::decode_all(compressed).map_err(|source| SnapshotFolderError::Io {
                path: at.join(ARCHIVE_FILE),
                source,
            })?;
        Snapshot::with_bytes(parse_manifest(manifest, at)?, Bytes::from(bytes), at)
    }

    /// A snapshot from its manifest and its captured bytes, checked against each other.
    fn with_bytes(
        manifest: SnapshotManifest,
        bytes: Bytes,
        folder: &FsPath,
    ) -> Result<Snapshot, SnapshotFolderError> {
        let bytes_path = folder.join(BYTES_FILE);
        let corrupt = |reason: String| SnapshotFolderError::Corrupt {
            path: bytes_path.clone(),
            reason,
        };
        if sha256(&bytes) != manifest.bytes_sha256 {
            return Err(corrupt("its SHA-256 differs".into()));
        }
        let mut files = BTreeMap::new();
        let mut offset = 0usize;
        for table in manifest.tables.values() {
            for (path, file) in &table.files {
                let mut parts = Vec::new();
                for &[start, end] in &file.ranges {
                    let length = usize::try_from(end.saturating_sub(start))
                        .map_err(|_| corrupt(format!("`{path}`: a range does not fit memory")))?;
                    let part = bytes.get(offset..offset + length).ok_or_else(|| {
                        corrupt(format!("`{path}`: bytes {start}..{end} are missing"))
                    })?;
                    parts.push((start..end, bytes.slice_ref(part)));
                    offset += length;
                }
                files.insert(
                    path.clone(),
                    CapturedFile {
                        size: file.size,
                        parts,
                    },
                );
            }
        }
        if offset != bytes.len() {
            return Err(corrupt(format!(
                "{} bytes more than the manifest's ranges",
                bytes.len() - offset
            )));
        }
        Ok(Snapshot { manifest, files })
    }

    /// Bytes kept of all files.
    pub fn captured_bytes(&self) -> u64 {
        self.files
            .values()
            .flat_map(|file| file.parts.iter())
            .map(|(range, _)| range.end - range.start)
            .sum()
    }

    /// Bytes of all files as they were when captured.
    pub fn data_bytes(&self) -> u64 {
        self.files.values().map(|file| file.size).sum()
    }

    /// What the snapshot holds, for people: a line per table (format, files, bytes kept of bytes),
    /// then the totals.
    pub fn summary(&self) -> String {
        let mut rows = vec![[
            "table".to_string(),
            "format".to_string(),
            "files".to_string(),
            "kept".to_string(),
            "of bytes".to_string(),
        ]];
        for (name, table) in &self.manifest.tables {
            let kept: u64 = table
                .files
                .values()
                .flat_map(|f| f.ranges.iter())
                .map(|[start, end]| end - start)
                .sum();
            let size: u64 = table.files.values().map(|f| f.size).sum();
            rows.push([
                name.clone(),
                table.format.to_string(),
                table.files.len().to_string(),
                kept.to_string(),
                size.to_string(),
            ]);
        }
        let widths: Vec<usize> = (0..5)
            .map(|column| rows.iter().map(|row| row[column].len()).max().unwrap_or(0))
            .collect();
        let mut out = String::new();
        for row in &rows {
            let cells: Vec<String> = row
                .iter()
                .enumerate()
                .map(|(column, cell)| match column {
                    0 | 1 => format!("{cell:<width$}", width = widths[column]),
                    _ => format!("{cell:>width$}", width = widths[column]),
                })
                .collect();
            out.push_str(cells.join("  ").trim_end());
            out.push('\n');
        }
        let (kept, data) = (self.captured_bytes(), self.data_bytes());
        let percent = if data == 0 {
            0.0
        } else {
            kept as f64 * 100.0 / data as f64
        };
        out.push_str(&format!(
            "kept {kept} of {data} bytes ({percent:.2}%) of {} files in {} tables\n",
            self.files.len(),
            self.manifest.tables.len()
        ));
        out
    }

    /// The snapshot served as the files below `root` (an absolute folder, usually the snapshot's
    /// own): each file at the object store path DataFusion's local file store gives `root/<path>`.
    pub fn store(&self, root: &FsPath) -> SnapshotStore {
        let root = root.to_string_lossy();
        let root = root.trim_matches('/');
        let files = self
            .files
            .iter()
            .map(|(path, file)| (ObjectPath::from(format!("{root}/{path}")), file.clone()))
            .collect();
        SnapshotStore::new(
            crate::report::display_path(FsPath::new(&format!("/{root}"))),
            files,
        )
    }

    /// Every file path in manifest order (table by table, each table's files sorted).
    fn manifest_paths(&self) -> impl Iterator<Item = &String> {
        self.manifest
            .tables
            .values()
            .flat_map(|table| table.files.keys())
    }
}

impl SnapshotFile {
    /// The manifest entry of a captured file: its size, the SHA-256 of the captured bytes and the
    /// captured ranges.
    pub fn of(file: &CapturedFile) -> SnapshotFile {
        let mut hasher = Sha256::new();
        for (_, bytes) in &file.parts {
            hasher.update(bytes);
        }
        SnapshotFile {
            size: file.size,
            sha256: written(&hasher.finalize()),
            ranges: file.parts.iter().map(|(r, _)| [r.start, r.end]).collect(),
        }
    }
}

/// A manifest's text, in the format this dfpolicy reads.
fn parse_manifest(text: &str, folder: &FsPath) -> Result<SnapshotManifest, SnapshotFolderError> {
    let path = folder.join(MANIFEST_FILE);
    let manifest: SnapshotManifest =
        serde_json::from_str(text).map_err(|source| SnapshotFolderError::Manifest {
            path: path.clone(),
            source,
        })?;
    if manifest.snapshot_format != SNAPSHOT_FORMAT {
        return Err(SnapshotFolderError::Format {
            path,
            found: manifest.snapshot_format,
        });
    }
    Ok(manifest)
}

/// `v1:` SHA-256 of bytes, in hex.
fn sha256(bytes: &[u8]) -> String {
    written(&Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::snapshot::ByteRanges;

    fn snapshot() -> Snapshot {
        let content: Vec<u8> = (0..=255u8).cycle().take(10_000).collect();
        let captured: ByteRanges = [0..4, 9_000..10_000].into_iter().collect();
        let file = CapturedFile {
            size: content.len() as u64,
            parts: captured
                .ranges()
                .iter()
                .map(|r| {
                    (
                        r.clone(),
                        Bytes::copy_from_slice(&content[r.start as usize..r.end as usize]),
                    )
                })
                .collect(),
        };
        let table = SnapshotTable {
            format: TableFormat::Parquet,
            location: "data/events/".into(),
            files: [(
                "data/events/part-0.parquet".to_string(),
                SnapshotFile::of(&file),
            )]
            .into_iter()
            .collect(),
        };
        Snapshot {
            manifest: SnapshotManifest {
                snapshot_format: SNAPSHOT_FORMAT,
                workload: "events".into(),
                source: "workloads/events/events.toml".into(),
                tables: [("events".to_string(), table)].into_iter().collect(),
                bytes_sha256: String::new(),
            },
            files: [("data/events/part-0.parquet".to_string(), file)]
                .into_iter()
                .collect(),
        }
    }

    #[test]
    fn a_snapshot_reads_back_as_written_and_rewrites_byte_for_byte() {
        let dir = tempfile::tempdir().unwrap();
        let written = snapshot();
        written.write(dir.path()).unwrap();
        let read = Snapshot::read(dir.path()).unwrap();
        assert_eq!(read.files, written.files);
        assert_eq!(read.manifest.tables, written.manifest.tables);
        assert_eq!(
            std::fs::metadata(dir.path().join(BYTES_FILE))
                .unwrap()
                .len(),
            1_004
        );
        let again = tempfile::tempdir().unwrap();
        read.write(again.path()).unwrap();
        for name in [MANIFEST_FILE, BYTES_FILE] {
            assert_eq!(
                std::fs::read(dir.path().join(name)).unwrap(),
                std::fs::read(again.path().join(name)).unwrap(),
                "{name}"
            );
        }
    }

    #[tokio::test]
    async fn a_snapshot_is_served_where_it_lies() {
        use object_store::ObjectStoreExt;
        let dir = tempfile::tempdir().unwrap();
        snapshot().write(dir.path()).unwrap();
        let store = Snapshot::read(dir.path()).unwrap().store(dir.path());
        let file = dir.path().join("data/events/part-0.parquet");
        let path = ObjectPath::from_absolute_path(&file).unwrap();
        assert_eq!(store.head(&path).await.unwrap().size, 10_000);
        assert_eq!(
            store.get_range(&path, 1..3).await.unwrap(),
            [1u8, 2].as_slice()
        );
        assert!(store.get_range(&path, 4..5).await.is_err());
    }

    #[test]
    fn changed_bytes_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        snapshot().write(dir.path()).unwrap();
        let path = dir.path().join(BYTES_FILE);
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[0] ^= 1;
        std::fs::write(&path, bytes).unwrap();
        let error = Snapshot::read(dir.path()).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("the captured bytes do not match the manifest"),
            "{error}"
        );
    }
}
