//! Metadata snapshots of a workload's tables: what planning reads of each file — the listing with
//! sizes, Parquet footers and page indexes, Delta logs — captured once, so that the same plans can be
//! made anywhere without the data.
//!
//! The pieces: [`ByteRanges`] (what was read or captured of one file), [`RecordingStore`] (a table's
//! store while a snapshot is taken, remembering every range read), [`SnapshotStore`] (a snapshot
//! served read-only, refusing reads of bytes it does not hold) and [`Snapshot`] (the folder: a sorted
//! JSON manifest and the captured bytes, the same bytes for the same capture; or an archive with the
//! bytes compressed). A snapshot folder with a `workload.toml` is a workload: see
//! [`crate::workload::FileSource`], which answers every question about local files from it.

mod folder;
mod ranges;
mod store;

pub use folder::{
    ARCHIVE_FILE, BYTES_FILE, MANIFEST_FILE, SNAPSHOT_FORMAT, Snapshot, SnapshotFile,
    SnapshotFolderError, SnapshotManifest, SnapshotTable,
};
pub use ranges::ByteRanges;
pub use store::{CapturedFile, RecordingStore, SnapshotReadError, SnapshotStore};
