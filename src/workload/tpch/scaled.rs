//! The built-in production-scale workloads `tpch-sf10` and `tpch-sf100`: metadata snapshots of TPC-H
//! Parquet in a lake's layout, committed as archives under `snapshots/` and compiled into dfpolicy,
//! so that they need neither the data nor the repository. `dfpolicy data snapshot-tpch` regenerates
//! an archive (see [`super::metadata`]).

use std::path::Path;
use std::sync::{Arc, OnceLock};

use crate::workload::files::ServedSnapshot;
use crate::workload::snapshot::Snapshot;

/// One built-in snapshot: its workload name, scale factor and archive.
pub struct BuiltinSnapshot {
    /// The workload name (`tpch-sf100`).
    pub name: &'static str,
    /// The scale factor it was taken at.
    pub scale_factor: f64,
    /// `snapshots/<name>/snapshot.json`.
    pub manifest: &'static str,
    /// `snapshots/<name>/snapshot.bin.zst`.
    pub archive: &'static [u8],
    decompressed: OnceLock<Snapshot>,
}

macro_rules! builtin_snapshot {
    ($name:literal, $scale_factor:expr) => {
        BuiltinSnapshot {
            name: $name,
            scale_factor: $scale_factor,
            manifest: include_str!(concat!("../../../snapshots/", $name, "/snapshot.json")),
            archive: include_bytes!(concat!("../../../snapshots/", $name, "/snapshot.bin.zst")),
            decompressed: OnceLock::new(),
        }
    };
}

/// The built-in snapshots.
pub static SNAPSHOTS: [BuiltinSnapshot; 2] = [
    builtin_snapshot!("tpch-sf10", 10.0),
    builtin_snapshot!("tpch-sf100", 100.0),
];

impl BuiltinSnapshot {
    /// The built-in snapshot of a name.
    pub fn named(name: &str) -> Option<&'static BuiltinSnapshot> {
        SNAPSHOTS.iter().find(|snapshot| snapshot.name == name)
    }

    /// The snapshot, decompressed on first use and kept for the process.
    pub fn snapshot(&self) -> &Snapshot {
        self.decompressed.get_or_init(|| {
            let at = Path::new("snapshots").join(self.name);
            Snapshot::from_archive(self.manifest, self.archive, &at)
                .expect("a built-in snapshot reads back (the tests check every one)")
        })
    }

    /// The snapshot served below `root` (the data root, written `$TPCH_DATA`).
    pub fn served(&self, root: &Path) -> Arc<ServedSnapshot> {
        Arc::new(ServedSnapshot::new(
            self.snapshot(),
            root.to_path_buf(),
            self.name.to_string(),
        ))
    }
}
