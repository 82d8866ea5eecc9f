//! A workload's tables as declared: name, format, where the files are, CSV options, Delta version.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::common::DataFusionError;

use super::file::TableFormat;
use crate::report::{SourceFile, Span, display_path};

/// One table of a workload.
#[derive(Debug, Clone)]
pub struct Table {
    /// As written: `table`, `schema.table` or `catalog.schema.table`.
    pub name: String,
    pub format: TableFormat,
    pub location: Location,
    /// CSV options by DataFusion's `CsvOptions` names.
    pub csv_options: Vec<(&'static str, String)>,
    /// Delta: the pinned version; `None` reads the latest.
    pub version: Option<u64>,
    /// Where the workload file declares the table (its name), for errors found later.
    pub(crate) declared: Option<(Arc<SourceFile>, Span)>,
}

/// Where a table's files are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A local file or folder, absolute.
    Local(PathBuf),
    /// An object store URL (`s3://…`), with the matching cargo feature.
    Remote(url::Url),
}

impl Location {
    /// The location as a URL (`file:///…/`, with a final `/` for a folder).
    pub fn url(&self) -> Result<url::Url, DataFusionError> {
        match self {
            Location::Remote(url) => Ok(url.clone()),
            Location::Local(path) => if path.is_dir() {
                url::Url::from_directory_path(path)
            } else {
                url::Url::from_file_path(path)
            }
            .map_err(|()| {
                DataFusionError::Configuration(format!(
                    "{} cannot be written as a file URL",
                    path.display()
                ))
            }),
        }
    }
}

/// Every file at a local location: the file itself, or every file below the folder, sorted. Hidden
/// files are included (a Delta log's checkpoints, say): callers filter what they read.
pub fn local_files(path: &Path) -> Result<Vec<PathBuf>, (PathBuf, std::io::Error)> {
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

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Local(path) => f.write_str(&display_path(path)),
            Location::Remote(url) => write!(f, "{url}"),
        }
    }
}
