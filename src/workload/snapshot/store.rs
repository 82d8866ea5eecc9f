//! The two object stores a metadata snapshot needs: [`RecordingStore`] wraps a table's real store
//! while a snapshot is taken and remembers every byte range DataFusion and delta-rs read, and
//! [`SnapshotStore`] serves a snapshot read-only — the captured bytes of each file, its size and the
//! listing — and refuses, with the file and the range, any read of a byte that was not captured
//! (never filling it in).

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use bytes::Bytes;
use futures::stream::{self, BoxStream, StreamExt};
use object_store::path::Path;
use object_store::{
    Attributes, CopyOptions, Error, GetOptions, GetResult, GetResultPayload, ListResult,
    MultipartUpload, ObjectMeta, ObjectStore, PutMultipartOptions, PutOptions, PutPayload,
    PutResult, Result,
};

use super::ranges::ByteRanges;

/// How the snapshot store names itself in object store errors.
const STORE: &str = "dfpolicy snapshot";

/// One file of a snapshot: its size, and the byte ranges captured of it with their bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct CapturedFile {
    /// The file's size in bytes.
    pub size: u64,
    /// Sorted, non-overlapping.
    pub parts: Vec<(Range<u64>, Bytes)>,
}

impl CapturedFile {
    /// The captured ranges.
    pub fn ranges(&self) -> ByteRanges {
        self.parts.iter().map(|(range, _)| range.clone()).collect()
    }
}

/// Why a snapshot cannot serve a request.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotReadError {
    /// Planning asked for bytes the snapshot does not hold: the policy or query reads more than the
    /// ones the snapshot was taken with (a page index when the snapshot kept only footers, say).
    #[error(
        "snapshot `{snapshot}`: bytes {}..{} of `{path}` ({size} bytes) were not captured \
         (captured: {captured}); take the snapshot again with the policies that read them",
        range.start,
        range.end
    )]
    NotCaptured {
        /// The snapshot, as shown.
        snapshot: String,
        /// The file.
        path: String,
        /// The bytes asked for.
        range: Range<u64>,
        /// The file's size.
        size: u64,
        /// The ranges the snapshot holds.
        captured: String,
    },
    /// The snapshot has no such file.
    #[error("snapshot `{snapshot}` has no file `{path}`")]
    Missing {
        /// The snapshot, as shown.
        snapshot: String,
        /// The file.
        path: String,
    },
    /// Something tried to write to the snapshot.
    #[error("snapshot `{snapshot}` is read-only: cannot write `{path}`")]
    ReadOnly {
        /// The snapshot, as shown.
        snapshot: String,
        /// The file.
        path: String,
    },
}

/// A snapshot's files, served read-only.
#[derive(Debug)]
pub struct SnapshotStore {
    /// The snapshot as shown in messages (its folder).
    name: String,
    files: BTreeMap<Path, CapturedFile>,
}

impl SnapshotStore {
    /// A store serving `files`, named `name` in its errors.
    pub fn new(name: impl Into<String>, files: BTreeMap<Path, CapturedFile>) -> Self {
        SnapshotStore {
            name: name.into(),
            files,
        }
    }

    fn file(&self, location: &Path) -> Result<&CapturedFile> {
        self.files.get(location).ok_or_else(|| Error::NotFound {
            path: location.to_string(),
            source: Box::new(SnapshotReadError::Missing {
                snapshot: self.name.clone(),
                path: location.to_string(),
            }),
        })
    }

    /// The bytes of `range`, when one captured part holds all of them.
    fn read(&self, location: &Path, range: Range<u64>) -> Result<Bytes> {
        let file = self.file(location)?;
        let part = file
            .parts
            .iter()
            .find(|(part, _)| part.start <= range.start && range.end <= part.end);
        match part {
            Some((part, bytes)) => {
                let start = usize::try_from(range.start - part.start).expect("a part fits memory");
                let end = usize::try_from(range.end - part.start).expect("a part fits memory");
                Ok(bytes.slice(start..end))
            }
            None if range.is_empty() => Ok(Bytes::new()),
            None => Err(self.error(SnapshotReadError::NotCaptured {
                snapshot: self.name.clone(),
                path: location.to_string(),
                range,
                size: file.size,
                captured: captured_text(&file.ranges()),
            })),
        }
    }

    fn meta(location: &Path, file: &CapturedFile) -> ObjectMeta {
        ObjectMeta {
            location: location.clone(),
            // The same for every file and every run: nothing DataFusion plans with.
            last_modified: Default::default(),
            size: file.size,
            e_tag: None,
            version: None,
        }
    }

    fn error(&self, error: SnapshotReadError) -> Error {
        Error::Generic {
            store: STORE,
            source: Box::new(error),
        }
    }

    fn read_only(&self, location: &Path) -> Error {
        Error::NotSupported {
            source: Box::new(SnapshotReadError::ReadOnly {
                snapshot: self.name.clone(),
                path: location.to_string(),
            }),
        }
    }

    /// Every file below `prefix` (all files without one), in path order.
    fn below(&self, prefix: Option<&Path>) -> impl Iterator<Item = (&Path, &CapturedFile)> {
        self.files
            .iter()
            .filter(move |(path, _)| prefix.is_none_or(|prefix| path.prefix_matches(prefix)))
    }
}

/// `0..4096, 1000000..1040000`: ranges as people read them.
fn captured_text(ranges: &ByteRanges) -> String {
    if ranges.is_empty() {
        return "nothing".to_string();
    }
    ranges
        .ranges()
        .iter()
        .map(|r| format!("{}..{}", r.start, r.end))
        .collect::<Vec<_>>()
        .join(", ")
}

impl fmt::Display for SnapshotStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SnapshotStore({})", self.name)
    }
}

#[async_trait]
impl ObjectStore for SnapshotStore {
    async fn put_opts(&self, location: &Path, _: PutPayload, _: PutOptions) -> Result<PutResult> {
        Err(self.read_only(location))
    }

    async fn put_multipart_opts(
        &self,
        location: &Path,
        _: PutMultipartOptions,
    ) -> Result<Box<dyn MultipartUpload>> {
        Err(self.read_only(location))
    }

    async fn get_opts(&self, location: &Path, options: GetOptions) -> Result<GetResult> {
        let file = self.file(location)?;
        let meta = Self::meta(location, file);
        let (range, bytes) = if options.head {
            (0..0, Bytes::new())
        } else {
            let range = match &options.range {
                Some(range) => range.as_range(file.size).map_err(|e| Error::Generic {
                    store: STORE,
                    source: Box::new(e),
                })?,
                None => 0..file.size,
            };
            (range.clone(), self.read(location, range)?)
        };
        Ok(GetResult {
            payload: GetResultPayload::Stream(stream::once(async move { Ok(bytes) }).boxed()),
            meta,
            range,
            attributes: Attributes::default(),
        })
    }

    async fn get_ranges(&self, location: &Path, ranges: &[Range<u64>]) -> Result<Vec<Bytes>> {
        ranges
            .iter()
            .map(|range| self.read(location, range.clone()))
            .collect()
    }

    fn delete_stream(
        &self,
        locations: BoxStream<'static, Result<Path>>,
    ) -> BoxStream<'static, Result<Path>> {
        let name = self.name.clone();
        locations
            .map(move |location| {
                let path = location.map_or_else(|e| e.to_string(), |l| l.to_string());
                Err(Error::NotSupported {
                    source: Box::new(SnapshotReadError::ReadOnly {
                        snapshot: name.clone(),
                        path,
                    }),
                })
            })
            .boxed()
    }

    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, Result<ObjectMeta>> {
        let metas: Vec<Result<ObjectMeta>> = self
            .below(prefix)
            .map(|(path, file)| Ok(Self::meta(path, file)))
            .collect();
        stream::iter(metas).boxed()
    }

    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> Result<ListResult> {
        let mut common_prefixes = Vec::new();
        let mut objects = Vec::new();
        let base = prefix.cloned().unwrap_or_default();
        for (path, file) in self.below(prefix) {
            let mut rest = path.prefix_match(&base).into_iter().flatten();
            let Some(first) = rest.next() else {
                continue;
            };
            if rest.next().is_some() {
                let folder = base.clone().join(first);
                if common_prefixes.last() != Some(&folder) {
                    common_prefixes.push(folder);
                }
            } else {
                objects.push(Self::meta(path, file));
            }
        }
        Ok(ListResult {
            common_prefixes,
            objects,
        })
    }

    async fn copy_opts(&self, _: &Path, to: &Path, _: CopyOptions) -> Result<()> {
        Err(self.read_only(to))
    }
}

/// A table's real store while a snapshot is taken: every read goes through, and the byte ranges
/// each file was read at are remembered.
#[derive(Debug)]
pub struct RecordingStore {
    inner: Arc<dyn ObjectStore>,
    reads: Mutex<BTreeMap<Path, ByteRanges>>,
}

impl RecordingStore {
    /// A store that reads through `inner` and records every byte range read.
    pub fn new(inner: Arc<dyn ObjectStore>) -> Self {
        RecordingStore {
            inner,
            reads: Mutex::default(),
        }
    }

    /// The ranges read of each file so far.
    pub fn reads(&self) -> BTreeMap<Path, ByteRanges> {
        self.reads.lock().expect("no reader panics").clone()
    }

    fn record(&self, location: &Path, ranges: impl IntoIterator<Item = Range<u64>>) {
        let mut reads = self.reads.lock().expect("no reader panics");
        let file = reads.entry(location.clone()).or_default();
        for range in ranges {
            file.insert(range);
        }
    }
}

impl fmt::Display for RecordingStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RecordingStore({})", self.inner)
    }
}

#[async_trait]
impl ObjectStore for RecordingStore {
    async fn put_opts(
        &self,
        location: &Path,
        payload: PutPayload,
        options: PutOptions,
    ) -> Result<PutResult> {
        self.inner.put_opts(location, payload, options).await
    }

    async fn put_multipart_opts(
        &self,
        location: &Path,
        options: PutMultipartOptions,
    ) -> Result<Box<dyn MultipartUpload>> {
        self.inner.put_multipart_opts(location, options).await
    }

    async fn get_opts(&self, location: &Path, options: GetOptions) -> Result<GetResult> {
        let head = options.head;
        let result = self.inner.get_opts(location, options).await?;
        if !head {
            self.record(location, [result.range.clone()]);
        }
        Ok(result)
    }

    async fn get_ranges(&self, location: &Path, ranges: &[Range<u64>]) -> Result<Vec<Bytes>> {
        let bytes = self.inner.get_ranges(location, ranges).await?;
        self.record(location, ranges.iter().cloned());
        Ok(bytes)
    }

    fn delete_stream(
        &self,
        locations: BoxStream<'static, Result<Path>>,
    ) -> BoxStream<'static, Result<Path>> {
        self.inner.delete_stream(locations)
    }

    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, Result<ObjectMeta>> {
        self.inner.list(prefix)
    }

    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> Result<ListResult> {
        self.inner.list_with_delimiter(prefix).await
    }

    async fn copy_opts(&self, from: &Path, to: &Path, options: CopyOptions) -> Result<()> {
        self.inner.copy_opts(from, to, options).await
    }
}
