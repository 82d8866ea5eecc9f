//! Making plan text the same on every machine. Plans print where files are (`file_groups={…}` lists
//! absolute paths, object-store style without the leading `/`), and Delta data files carry random
//! UUIDs in their names. Like Spark's PlanStabilitySuite (which replaces file locations) and IOx
//! (which collapses paths), the normalizer rewrites exactly those and keeps everything structural
//! (how many groups, which files in which order, byte ranges):
//!
//! 1. a table's location is written as the workload file writes it, relative to the workload folder
//!    (`data/orders`, `../shared/events`); for the built-in workloads, relative to the data root,
//!    written `$TPCH_DATA` (`$TPCH_DATA/tpch/sf0.01/parquet/lineitem.parquet`); on object storage, as
//!    its URL (`s3://lake/orders/part-0.parquet` for the object path `orders/part-0.parquet` that a
//!    file group prints);
//! 2. any other path below the workload folder is written relative to it (below the data root:
//!    `$TPCH_DATA/…`);
//! 3. the UUID in a Delta data file's name becomes `<uuid#N>`, N being the file's position in the
//!    table's log (1-based) at the version read, so that two files of one partition stay apart.
//!
//! Each form is replaced as a `file://` URL, as an absolute path and as an object-store path.

use std::path::{Component, Path};

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};

use crate::workload::{DeltaFacts, Location, PathAnchor, Table};

/// Rewrites machine-specific paths in plan text; see the module documentation.
#[derive(Debug, Clone, Default)]
pub struct PathNormalizer {
    /// `(from, to)`; where two overlap, the longest wins, so that a table's own location wins over
    /// its folder.
    replacements: Vec<(String, String)>,
    /// All `from`s, searched in one pass.
    matcher: Option<AhoCorasick>,
    /// How each table's location is written, by the table's name.
    locations: Vec<(String, String)>,
}

impl PathNormalizer {
    /// The normalizer of a workload: its anchor, its tables, and its Delta tables' files.
    pub fn new<'a>(
        anchor: &PathAnchor,
        tables: &[Table],
        deltas: impl IntoIterator<Item = &'a DeltaFacts>,
    ) -> PathNormalizer {
        let mut normalizer = PathNormalizer::default();
        let folder = anchor
            .folder
            .to_string_lossy()
            .trim_end_matches('/')
            .to_string();
        let folder_written = match anchor.written_as {
            Some(written) => format!("{written}/"),
            None => String::new(),
        };
        normalizer.add_path(&format!("{folder}/"), &folder_written);
        for table in tables {
            let written = match &table.location {
                Location::Local(path) => {
                    let written = written_path(path, anchor);
                    // Below the folder, the folder's own replacement writes the table the same way.
                    if path
                        .strip_prefix(&anchor.folder)
                        .is_ok_and(|rest| rest.as_os_str().is_empty())
                        || !path.starts_with(&anchor.folder)
                    {
                        let absolute = path.to_string_lossy().trim_end_matches('/').to_string();
                        normalizer.add_path(&absolute, &written);
                    }
                    written
                }
                Location::Remote(remote) => {
                    // Plans print a remote file by its object path below the bucket, as an item of
                    // a file group (`[lake/orders/part-0.parquet:0..1024], [lake/…`): written as
                    // the location is, a URL. Only there: the same path inside a URL of an error
                    // message (`http://host/bucket/lake/orders/…`) stays as the server was asked.
                    let shown = crate::object_storage::shown(&remote.url);
                    let shown = shown.trim_end_matches('/');
                    let bare = remote.object_path().as_ref().to_string();
                    if !bare.is_empty() {
                        for before in ["[", ", "] {
                            normalizer
                                .replacements
                                .push((format!("{before}{bare}/"), format!("{before}{shown}/")));
                            if bare.contains(['/', '.']) {
                                normalizer
                                    .replacements
                                    .push((format!("{before}{bare}"), format!("{before}{shown}")));
                            }
                        }
                    }
                    shown.to_string()
                }
            };
            normalizer.locations.push((table.name.clone(), written));
        }
        for facts in deltas {
            for (position, file) in facts.files.iter().enumerate() {
                if let Some(uuid) = uuid_in(file) {
                    normalizer
                        .replacements
                        .push((uuid.to_string(), format!("<uuid#{}>", position + 1)));
                }
            }
        }
        normalizer
            .replacements
            .sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));
        normalizer.replacements.dedup_by(|a, b| a.0 == b.0);
        normalizer.matcher = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .kind(Some(AhoCorasickKind::DFA))
            .build(normalizer.replacements.iter().map(|(from, _)| from))
            .ok();
        normalizer
    }

    /// Every form of an absolute path: `file://` URL, absolute path, object-store path.
    fn add_path(&mut self, absolute: &str, written: &str) {
        if absolute.len() <= 1 {
            return;
        }
        let bare = absolute.trim_start_matches('/');
        self.replacements
            .push((format!("file:///{bare}"), written.to_string()));
        self.replacements
            .push((format!("/{bare}"), written.to_string()));
        self.replacements
            .push((bare.to_string(), written.to_string()));
    }

    /// `text` with machine-specific paths rewritten.
    pub fn normalize(&self, text: &str) -> String {
        match &self.matcher {
            Some(matcher) => {
                let to: Vec<&str> = self
                    .replacements
                    .iter()
                    .map(|(_, to)| to.as_str())
                    .collect();
                matcher.replace_all(text, &to)
            }
            None => text.to_string(),
        }
    }

    /// How a table's location is written (see the module documentation).
    pub fn location(&self, table: &str) -> Option<&str> {
        self.locations
            .iter()
            .find(|(name, _)| name == table)
            .map(|(_, written)| written.as_str())
    }
}

/// A local path as bundles write it: relative to the workload folder, or below the data root.
fn written_path(path: &Path, anchor: &PathAnchor) -> String {
    match anchor.written_as {
        Some(written) => match path.strip_prefix(&anchor.folder) {
            Ok(rest) => format!("{written}/{}", rest.to_string_lossy()),
            Err(_) => path.to_string_lossy().into_owned(),
        },
        None => relative(&anchor.folder, path),
    }
}

/// `to` relative to the folder `from`, lexically (both absolute): `../shared/events`.
pub fn relative(from: &Path, to: &Path) -> String {
    let from: Vec<Component> = from.components().collect();
    let to: Vec<Component> = to.components().collect();
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<String> = Vec::new();
    for _ in common..from.len() {
        parts.push("..".to_string());
    }
    for component in &to[common..] {
        parts.push(component.as_os_str().to_string_lossy().into_owned());
    }
    if parts.is_empty() {
        ".".to_string()
    } else {
        parts.join("/")
    }
}

/// The first UUID (`8-4-4-4-12` hex digits) in a file name.
fn uuid_in(path: &str) -> Option<&str> {
    let name = path.rsplit('/').next().unwrap_or(path);
    let bytes = name.as_bytes();
    const GROUPS: [usize; 5] = [8, 4, 4, 4, 12];
    const LENGTH: usize = 36;
    (0..bytes.len().saturating_sub(LENGTH - 1)).find_map(|start| {
        let mut at = start;
        for (index, group) in GROUPS.iter().enumerate() {
            if index > 0 {
                if bytes[at] != b'-' {
                    return None;
                }
                at += 1;
            }
            if !bytes[at..at + group].iter().all(u8::is_ascii_hexdigit) {
                return None;
            }
            at += group;
        }
        Some(&name[start..start + LENGTH])
    })
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use super::{PathNormalizer, relative, uuid_in};
    use crate::workload::{DeltaFacts, PathAnchor, TPCH_DATA};

    #[test]
    fn relative_paths_climb_out_of_the_folder() {
        let folder = Path::new("/w/sales");
        assert_eq!(
            relative(folder, Path::new("/w/sales/data/o.csv")),
            "data/o.csv"
        );
        assert_eq!(relative(folder, Path::new("/w/shared/e")), "../shared/e");
        assert_eq!(relative(folder, Path::new("/w/sales")), ".");
    }

    #[test]
    fn delta_file_names_lose_their_uuid_but_keep_their_place() {
        assert_eq!(
            uuid_in(
                "l_shipmode=AIR/part-00000-46705102-cd77-4ccd-a371-11fd0f91a2dc-c000.snappy.parquet"
            ),
            Some("46705102-cd77-4ccd-a371-11fd0f91a2dc")
        );
        assert_eq!(uuid_in("a-b/part-00000.parquet"), None);
        let facts = DeltaFacts {
            uri: "file:///d/t/".into(),
            version: 1,
            active_files: 2,
            rows: None,
            partition_columns: vec![],
            files: vec![
                "p=1/part-00000-46705102-cd77-4ccd-a371-11fd0f91a2dc-c000.snappy.parquet".into(),
                "p=1/part-00000-bec42d00-c7f5-43fa-a730-8f15d082016f-c000.snappy.parquet".into(),
            ],
        };
        let anchor = PathAnchor {
            folder: PathBuf::from("/d"),
            written_as: Some(TPCH_DATA),
        };
        let normalizer = PathNormalizer::new(&anchor, &[], [&facts]);
        assert_eq!(
            normalizer.normalize(
                "[[d/t/p=1/part-00000-bec42d00-c7f5-43fa-a730-8f15d082016f-c000.snappy.parquet, d/t/p=1/part-00000-46705102-cd77-4ccd-a371-11fd0f91a2dc-c000.snappy.parquet]]"
            ),
            "[[$TPCH_DATA/t/p=1/part-00000-<uuid#2>-c000.snappy.parquet, $TPCH_DATA/t/p=1/part-00000-<uuid#1>-c000.snappy.parquet]]"
        );
    }
}
