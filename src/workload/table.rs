//! A workload's tables as declared: name, format, where the files are, CSV options, Delta version.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use datafusion::common::DataFusionError;

use super::file::TableFormat;
use super::files::FileSource;
use super::remote::RemoteLocation;
use crate::report::{SourceFile, Span, display_path};

/// One table of a workload.
#[derive(Debug, Clone)]
pub struct Table {
    /// As written: `table`, `schema.table` or `catalog.schema.table`.
    pub name: String,
    /// Its format.
    pub format: TableFormat,
    /// Where its files are.
    pub location: Location,
    /// CSV options by DataFusion's `CsvOptions` names.
    pub csv_options: Vec<(&'static str, String)>,
    /// Delta: the pinned version; `None` reads the latest.
    pub version: Option<u64>,
    /// Another `STORED AS` format: the options its factory is given (`CREATE EXTERNAL TABLE`'s
    /// `OPTIONS`).
    pub stored_options: std::collections::BTreeMap<String, String>,
    /// Where the workload file declares the table (its name), for errors found later.
    pub(crate) declared: Option<(Arc<SourceFile>, Span)>,
    /// Where a local location's files are found: on disk, or in a snapshot.
    pub served_from: FileSource,
}

impl Table {
    /// The location as a URL (`file:///…/`, with a final `/` for a folder).
    pub fn url(&self) -> Result<url::Url, DataFusionError> {
        self.location.url(&self.served_from)
    }

    /// Whether the location names one file (which is then the table, whatever its extension).
    pub fn is_file(&self) -> bool {
        matches!(&self.location, Location::Local(path) if self.served_from.is_file(path))
    }
}

/// Where a table's files are.
#[derive(Debug, Clone)]
pub enum Location {
    /// A local file or folder, absolute.
    Local(PathBuf),
    /// On object storage (the `cloud` feature), with the store it is read through.
    Remote(RemoteLocation),
}

impl Location {
    /// The location as a URL (`file:///…/`, with a final `/` for a folder as `files` has it).
    pub fn url(&self, files: &FileSource) -> Result<url::Url, DataFusionError> {
        match self {
            Location::Remote(remote) => Ok(remote.url.clone()),
            Location::Local(path) => if files.is_dir(path) {
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

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Local(path) => f.write_str(&display_path(path)),
            Location::Remote(remote) => f.write_str(&crate::object_storage::shown(&remote.url)),
        }
    }
}
