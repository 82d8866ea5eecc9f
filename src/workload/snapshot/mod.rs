//! Metadata snapshots of a workload's tables: what planning reads of each file — the listing with
//! sizes, Parquet footers and page indexes, Delta logs — captured once, so that the same plans can be
//! made anywhere without the data.
//!
//! The pieces so far: [`ByteRanges`] (what was read or captured of one file), [`RecordingStore`]
//! (a table's store while a snapshot is taken, remembering every range read) and [`SnapshotStore`]
//! (a snapshot served read-only, refusing reads of bytes it does not hold).

mod ranges;
mod store;

pub use ranges::ByteRanges;
pub use store::{CapturedFile, RecordingStore, SnapshotReadError, SnapshotStore};
