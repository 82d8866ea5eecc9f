//! What dfpolicy asks of a table on object storage, through its store: is the location one object
//! or a folder, which files are below it, how large are they. The local counterpart is
//! [`super::files::FileSource`].

use std::sync::Arc;

use futures::TryStreamExt;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectMeta, ObjectStore, ObjectStoreExt};

use super::file::TableFormat;

/// A location on object storage and the store of its bucket, configured from the environment and
/// the table's storage options (one store per bucket of a workload).
#[derive(Debug, Clone)]
pub struct RemoteLocation {
    /// Never with user information or a query string.
    pub url: url::Url,
    /// The bucket's store, shared by the workload's tables in it.
    pub store: Arc<dyn ObjectStore>,
}

impl RemoteLocation {
    /// The object path of the location below the bucket.
    pub fn object_path(&self) -> ObjectPath {
        crate::object_storage::object_path(&self.url)
    }

    /// What the store lists at the location.
    pub async fn listing(&self) -> object_store::Result<RemoteListing> {
        RemoteListing::of(&self.store, &self.url).await
    }
}

/// A remote location as its store lists it.
#[derive(Debug, Clone)]
pub struct RemoteListing {
    /// The location as DataFusion lists it: a folder's URL ends with `/`.
    pub url: url::Url,
    /// Whether the location is one object (which is then the table, whatever its name).
    pub is_file: bool,
    /// Every object at the location, sorted by path: the object itself, or everything below the
    /// folder (a Delta log included).
    pub objects: Vec<ObjectMeta>,
}

impl RemoteListing {
    /// Lists `url` in `store`: one object when one is at that path, else the folder below it.
    pub async fn of(
        store: &Arc<dyn ObjectStore>,
        url: &url::Url,
    ) -> object_store::Result<RemoteListing> {
        let path = crate::object_storage::object_path(url);
        if !url.path().ends_with('/') {
            match store.head(&path).await {
                Ok(meta) => {
                    return Ok(RemoteListing {
                        url: url.clone(),
                        is_file: true,
                        objects: vec![meta],
                    });
                }
                Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        let mut objects: Vec<ObjectMeta> = store.list(Some(&path)).try_collect().await?;
        objects.sort_by(|a, b| a.location.cmp(&b.location));
        let mut folder = url.clone();
        if !folder.path().ends_with('/') {
            folder.set_path(&format!("{}/", folder.path()));
        }
        Ok(RemoteListing {
            url: folder,
            is_file: false,
            objects,
        })
    }

    /// The data files of a Parquet or CSV table, as DataFusion's listing takes them: the object
    /// itself, or the objects below the folder whose names carry the format's name and are not
    /// hidden.
    pub fn data_files(&self, format: &TableFormat) -> Vec<&ObjectMeta> {
        if self.is_file {
            return self.objects.iter().collect();
        }
        let marker = format!(".{format}");
        self.objects
            .iter()
            .filter(|meta| {
                meta.location
                    .filename()
                    .is_some_and(|n| n.contains(&marker) && !n.starts_with('.'))
            })
            .collect()
    }
}
