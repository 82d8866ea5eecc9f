//! Metadata snapshots: a store that records what planning reads, and a store that serves only that —
//! the same plans, and a clear error for any byte that was not captured.

use std::collections::BTreeMap;
use std::sync::Arc;

use bytes::Bytes;
use datafusion::arrow::array::{Int64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::file::properties::WriterProperties;
use datafusion::physical_plan::displayable;
use datafusion::prelude::{ParquetReadOptions, SessionContext};
use dfpolicy::harness::{
    PolicySet, SNAPSHOT_WORKLOAD_FILE, capture_snapshot, write_snapshot_folder,
};
use dfpolicy::workload::snapshot::{
    ByteRanges, CapturedFile, RecordingStore, Snapshot, SnapshotReadError, SnapshotStore,
};
use dfpolicy::{SessionFactory, Workload, bundle::Bundler};
use futures::TryStreamExt;
use object_store::memory::InMemory;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};

/// A Parquet file of `rows` rows in row groups of 10,000, uncompressed, with a page index.
fn parquet_file(rows: i64) -> Bytes {
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("region", DataType::Utf8, false),
    ]));
    let ids: Vec<i64> = (0..rows).collect();
    let regions: Vec<&str> = (0..rows)
        .map(|i| ["eu", "us", "asia"][(i % 3) as usize])
        .collect();
    let batch = RecordBatch::try_new(
        Arc::clone(&schema),
        vec![
            Arc::new(Int64Array::from(ids)),
            Arc::new(StringArray::from(regions)),
        ],
    )
    .unwrap();
    let mut buffer = Vec::new();
    let properties = WriterProperties::builder()
        .set_max_row_group_row_count(Some(10_000))
        .build();
    let mut writer = ArrowWriter::try_new(&mut buffer, schema, Some(properties)).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
    Bytes::from(buffer)
}

const QUERY: &str = "SELECT region, count(*) FROM events WHERE id > 2500 GROUP BY region";

/// The physical plan of [`QUERY`] over `events/` in `store`, as `EXPLAIN` prints it.
async fn plan_over(
    store: Arc<dyn ObjectStore>,
) -> datafusion::common::Result<(String, SessionContext)> {
    let ctx = SessionContext::new();
    let url = url::Url::parse("dfpolicy-test://lake").unwrap();
    ctx.register_object_store(&url, store);
    ctx.register_parquet(
        "events",
        "dfpolicy-test://lake/events/",
        ParquetReadOptions::default(),
    )
    .await?;
    let plan = ctx.sql(QUERY).await?.create_physical_plan().await?;
    let text = displayable(plan.as_ref()).indent(false).to_string();
    Ok((text, ctx))
}

#[tokio::test]
async fn planning_from_the_bytes_planning_read_gives_the_same_plan_and_nothing_more() {
    let data = Arc::new(InMemory::new());
    let files = [
        // Several times DataFusion's default `metadata_size_hint` (512 KiB, the tail it reads first).
        ("events/part-0.parquet", parquet_file(400_000)),
        ("events/part-1.parquet", parquet_file(300_000)),
    ];
    for (path, bytes) in &files {
        data.put(&Path::from(*path), PutPayload::from(bytes.clone()))
            .await
            .unwrap();
    }

    // Plan over the data, recording every read.
    let recording = Arc::new(RecordingStore::new(data.clone()));
    let (over_data, _) = plan_over(recording.clone()).await.unwrap();
    let reads = recording.reads();
    assert_eq!(reads.len(), 2, "both files' metadata: {reads:?}");
    for (path, bytes) in &files {
        let read = &reads[&Path::from(*path)];
        assert!(
            !read.is_empty() && read.len() < bytes.len() as u64 / 4,
            "{path}: {read:?}"
        );
        let end = read.ranges().last().unwrap().end;
        assert_eq!(end, bytes.len() as u64, "the footer ends the file");
    }

    // A snapshot of exactly those bytes plans the same.
    let captured: BTreeMap<Path, CapturedFile> = files
        .iter()
        .map(|(path, bytes)| {
            let path = Path::from(*path);
            let parts = reads[&path]
                .ranges()
                .iter()
                .map(|r| (r.clone(), bytes.slice(r.start as usize..r.end as usize)))
                .collect();
            let file = CapturedFile {
                size: bytes.len() as u64,
                parts,
            };
            (path, file)
        })
        .collect();
    let snapshot = Arc::new(SnapshotStore::new("snapshots/events", captured));
    let (over_snapshot, ctx) = plan_over(snapshot).await.unwrap();
    assert_eq!(over_snapshot, over_data);

    // Running the query needs data pages, which the snapshot refuses by file and range.
    let error = ctx.sql(QUERY).await.unwrap().collect().await.unwrap_err();
    let message = error.to_string();
    assert!(
        message.contains("snapshot `snapshots/events`: bytes "),
        "{message}"
    );
    assert!(message.contains("events/part-"), "{message}");
    assert!(
        message.contains("were not captured (captured: "),
        "{message}"
    );
}

#[tokio::test]
async fn the_snapshot_store_serves_captured_ranges_sizes_and_listings_read_only() {
    let bytes = Bytes::from_static(b"0123456789abcdefghij");
    let file = CapturedFile {
        size: 1_000,
        parts: vec![
            (0..10, bytes.slice(0..10)),
            (990..1_000, bytes.slice(10..20)),
        ],
    };
    let files: BTreeMap<Path, CapturedFile> = [
        (Path::from("t/a/x.parquet"), file.clone()),
        (Path::from("t/a/y.parquet"), file.clone()),
        (Path::from("t/top.parquet"), file.clone()),
        (Path::from("u/z.parquet"), file),
    ]
    .into_iter()
    .collect();
    let store = SnapshotStore::new("snap", files);
    let x = Path::from("t/a/x.parquet");

    assert_eq!(store.get_range(&x, 2..5).await.unwrap(), "234");
    assert_eq!(store.get_range(&x, 995..1_000).await.unwrap(), "fghij");
    assert_eq!(
        store.get_ranges(&x, &[0..1, 999..1_000]).await.unwrap(),
        ["0", "j"]
    );
    assert_eq!(store.head(&x).await.unwrap().size, 1_000);

    let outside = store.get_range(&x, 5..15).await.unwrap_err();
    assert!(
        outside.to_string().contains(
            "snapshot `snap`: bytes 5..15 of `t/a/x.parquet` (1000 bytes) were not captured \
             (captured: 0..10, 990..1000)"
        ),
        "{outside}"
    );
    let whole = store.get(&x).await.unwrap_err();
    assert!(whole.to_string().contains("bytes 0..1000"), "{whole}");
    let missing = store.head(&Path::from("t/none.parquet")).await.unwrap_err();
    assert!(
        matches!(missing, object_store::Error::NotFound { .. }),
        "{missing}"
    );
    let write = store
        .put(&x, PutPayload::from_static(b"new"))
        .await
        .unwrap_err();
    assert!(write.to_string().contains("read-only"), "{write}");
    let error = std::error::Error::source(&write)
        .and_then(|e| e.downcast_ref::<SnapshotReadError>())
        .is_some();
    assert!(error, "the snapshot's own error is the source");

    let listed: Vec<String> = store
        .list(Some(&Path::from("t")))
        .map_ok(|meta| meta.location.to_string())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(listed, ["t/a/x.parquet", "t/a/y.parquet", "t/top.parquet"]);
    let level = store
        .list_with_delimiter(Some(&Path::from("t")))
        .await
        .unwrap();
    assert_eq!(level.common_prefixes, [Path::from("t/a")]);
    let objects: Vec<String> = level
        .objects
        .iter()
        .map(|m| m.location.to_string())
        .collect();
    assert_eq!(objects, ["t/top.parquet"]);
}

#[tokio::test]
async fn the_recording_store_remembers_every_range_read_merged() {
    let data = Arc::new(InMemory::new());
    let path = Path::from("f.bin");
    data.put(&path, PutPayload::from(vec![7u8; 100]))
        .await
        .unwrap();
    let recording = RecordingStore::new(data);
    recording.get_range(&path, 10..20).await.unwrap();
    recording
        .get_ranges(&path, &[15..30, 50..60])
        .await
        .unwrap();
    recording.head(&path).await.unwrap();
    let expected: ByteRanges = [10..30, 50..60].into_iter().collect();
    assert_eq!(recording.reads()[&path], expected);
    recording.get(&path).await.unwrap().bytes().await.unwrap();
    assert_eq!(
        recording.reads()[&path].ranges(),
        std::slice::from_ref(&(0..100))
    );
}

/// The built-in TPC-H workload's snapshot, taken under every bundled policy, written and read back,
/// then served where the data lies: every bundle over it equals the bundle over the data — plans,
/// fingerprints, statistics, properties, pushdown, lineage — and it holds less than the data.
#[tokio::test(flavor = "multi_thread")]
async fn tpch_bundles_over_its_snapshot_equal_bundles_over_the_data() {
    let workload = crate::workload::builtin(false).await;
    let policies = PolicySet::load(crate::repo().join("policies")).unwrap();
    let snapshot = capture_snapshot(&policies, &workload).await.unwrap();
    let folder = tempfile::tempdir().unwrap();
    snapshot.write(folder.path()).unwrap();
    let snapshot = Snapshot::read(folder.path()).unwrap();

    let tables = &snapshot.manifest.tables;
    assert_eq!(tables.len(), 8);
    assert_eq!(
        tables["lineitem"].location,
        "tpch/sf0.01/parquet/lineitem.parquet"
    );
    let data: u64 = tables
        .values()
        .flat_map(|t| t.files.values())
        .map(|f| f.size)
        .sum();
    let captured = std::fs::metadata(folder.path().join(dfpolicy::workload::snapshot::BYTES_FILE))
        .unwrap()
        .len();
    assert!(captured < data, "{captured} of {data} bytes");

    let root = workload.path_anchor().folder;
    let store: Arc<dyn ObjectStore> = Arc::new(snapshot.store(&root));
    assert_eq!(
        assert_same_bundles_over(store, &policies, &workload).await,
        5 * 22
    );
    eprintln!("tpch SF 0.01 snapshot: {captured} of {data} bytes");

    // The sessions really read through the snapshot: without lineitem's captured bytes, Q1 cannot
    // be planned, and the error names the file and the range.
    let mut without = snapshot.clone();
    for (path, file) in without.files.iter_mut() {
        if path.contains("lineitem") {
            file.parts.clear();
        }
    }
    let compiled = policies.policies["baseline"].compiled.clone().unwrap();
    let factory = SessionFactory::new(compiled).unwrap().with_object_store(
        url::Url::parse("file://").unwrap(),
        Arc::new(without.store(&root)),
    );
    let error = match Bundler::new(&factory, &workload).await {
        Err(error) => dfpolicy::report::causes::one_line(&error),
        Ok(bundler) => {
            let q01 = bundler
                .bundle(workload.query("q01").unwrap())
                .await
                .unwrap();
            format!("{:?}", q01.warnings)
        }
    };
    assert!(error.contains("lineitem.parquet"), "{error}");
    assert!(
        error.contains("were not captured (captured: nothing)"),
        "{error}"
    );
}

/// The same for `tpch-delta`: the Delta logs are kept whole (delta-rs reads them through a store of
/// its own) and no data file byte is needed; every bundle, Delta scans and pruning counts included,
/// equals the bundle over the data.
#[tokio::test(flavor = "multi_thread")]
async fn tpch_delta_bundles_over_its_snapshot_equal_bundles_over_the_data() {
    let workload = crate::workload::builtin(true).await;
    let policies = PolicySet::load(crate::repo().join("policies")).unwrap();
    let snapshot = capture_snapshot(&policies, &workload).await.unwrap();
    let lineitem = &snapshot.manifest.tables["lineitem"];
    let log: Vec<&String> = lineitem
        .files
        .keys()
        .filter(|path| path.contains("/_delta_log/"))
        .collect();
    assert_eq!(log.len(), 2, "two commits: {log:?}");
    for path in log {
        let file = &lineitem.files[path];
        assert_eq!(file.ranges, [[0, file.size]], "{path} is kept whole");
    }
    // delta-rs plans from the log alone: no byte of a data file is read, only its name and size
    // (from the log) are kept.
    let data_files: Vec<_> = lineitem
        .files
        .iter()
        .filter(|(path, _)| path.ends_with(".parquet"))
        .collect();
    assert_eq!(data_files.len(), 14);
    assert!(data_files.iter().all(|(_, file)| file.ranges.is_empty()));

    let expected = bundles_of(&policies, &workload).await;
    let store: Arc<dyn ObjectStore> = Arc::new(snapshot.store(&workload.path_anchor().folder));
    let file_url = url::Url::parse("file://").unwrap();
    let served = bundles_under(&policies, &workload, |factory| {
        factory.with_object_store(file_url.clone(), Arc::clone(&store))
    })
    .await;
    assert_eq!(assert_same_bundles(&expected, &served), 5 * 22);

    // The snapshot folder plans the same — Delta scans, versions and pruning counts included —
    // though no table folder exists on disk.
    let dir = tempfile::tempdir().unwrap();
    let written = write_snapshot_folder(&workload, &snapshot, dir.path()).unwrap();
    assert!(
        !dir.path().join("tpch/sf0.01").exists(),
        "no table folder: only the snapshot, the workload file and the queries"
    );
    let from_snapshot = Workload::load(&written).unwrap();
    let actual = bundles_of(&policies, &from_snapshot).await;
    assert_eq!(assert_same_bundles(&expected, &actual), 5 * 22);
}

/// The CSV workload of the repository: schema inference reads each file as a stream, so the
/// snapshot keeps the CSV files whole, and every bundle over it equals the bundle over the data.
#[tokio::test(flavor = "multi_thread")]
async fn csv_bundles_over_a_snapshot_equal_bundles_over_the_data() {
    let workload = Workload::load(crate::repo().join("workloads/sales/sales.toml")).unwrap();
    let policies = PolicySet::load(crate::repo().join("policies")).unwrap();
    let snapshot = capture_snapshot(&policies, &workload).await.unwrap();
    assert_eq!(
        snapshot.captured_bytes(),
        snapshot.data_bytes(),
        "CSV files are read whole"
    );
    let store: Arc<dyn ObjectStore> = Arc::new(snapshot.store(&workload.path_anchor().folder));
    assert!(assert_same_bundles_over(store, &policies, &workload).await >= 5 * 3);
}

/// Every bundle of `workload` — each query, each parameter set — under every policy of `policies`,
/// built over the data and over `store` (serving `file://`), must be equal; returns how many were.
async fn assert_same_bundles_over(
    store: Arc<dyn ObjectStore>,
    policies: &PolicySet,
    workload: &Workload,
) -> usize {
    let file_url = url::Url::parse("file://").unwrap();
    let expected = bundles_of(policies, workload).await;
    let actual = bundles_under(policies, workload, |factory| {
        factory.with_object_store(file_url.clone(), Arc::clone(&store))
    })
    .await;
    assert_same_bundles(&expected, &actual)
}

/// Each bundle equals the one built for the same policy, query and parameter set; returns how many.
fn assert_same_bundles(expected: &[KeyedBundle], actual: &[KeyedBundle]) -> usize {
    assert_eq!(actual.len(), expected.len());
    for ((key, expected), (actual_key, actual)) in expected.iter().zip(actual) {
        assert_eq!(actual_key, key);
        assert_eq!(actual, expected, "{key:?}");
    }
    actual.len()
}

/// A bundle with the policy, query and parameter set it was built for.
type KeyedBundle = (
    (String, String, Option<String>),
    dfpolicy::bundle::PlanBundle,
);

/// Every bundle of `workload` under every policy of `policies`, by policy, query and parameter set.
async fn bundles_of(policies: &PolicySet, workload: &Workload) -> Vec<KeyedBundle> {
    bundles_under(policies, workload, |factory| factory).await
}

/// [`bundles_of`], each policy's session factory changed by `session` first.
async fn bundles_under(
    policies: &PolicySet,
    workload: &Workload,
    session: impl Fn(SessionFactory) -> SessionFactory,
) -> Vec<KeyedBundle> {
    let mut bundles = Vec::new();
    for (name, policy) in &policies.policies {
        let factory = session(SessionFactory::new(policy.compiled.clone().unwrap()).unwrap());
        let bundler = Bundler::new(&factory, workload).await.unwrap();
        for query in workload.queries() {
            let sets: Vec<Option<String>> = if query.parameter_sets.is_empty() {
                vec![None]
            } else {
                query
                    .parameter_sets
                    .iter()
                    .map(|s| Some(s.name.clone()))
                    .collect()
            };
            for set in sets {
                let mut builder = bundler.bundle(query);
                if let Some(set) = &set {
                    builder = builder.parameters(set);
                }
                let bundle = builder.await.unwrap();
                bundles.push(((name.clone(), query.name.clone(), set), bundle));
            }
        }
    }
    bundles
}

/// What a user does: snapshot their workload, delete the data, plan from the snapshot folder's
/// `workload.toml`. Every bundle equals the bundle over the data, and every byte the sessions read
/// was captured (counted through a recording store around the snapshot's).
#[tokio::test(flavor = "multi_thread")]
async fn a_snapshot_folder_plans_like_the_data_after_the_data_is_gone() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("sales");
    crate::copy_dir(&crate::repo().join("workloads/sales"), &lake);
    let workload = Workload::load(lake.join("sales.toml")).unwrap();
    let policies = PolicySet::load(crate::repo().join("policies")).unwrap();
    let over_data = bundles_of(&policies, &workload).await;

    let snapshot = capture_snapshot(&policies, &workload).await.unwrap();
    let folder = dir.path().join("snapshot");
    let written = write_snapshot_folder(&workload, &snapshot, &folder).unwrap();
    assert_eq!(written, folder.join(SNAPSHOT_WORKLOAD_FILE));
    assert!(folder.join("queries/orders_since.sql").is_file());
    // The same data gives the same snapshot, byte for byte.
    let again = dir.path().join("again");
    let snapshot_again = capture_snapshot(&policies, &workload).await.unwrap();
    write_snapshot_folder(&workload, &snapshot_again, &again).unwrap();
    for name in ["snapshot.json", "snapshot.bin", "workload.toml"] {
        assert_eq!(
            std::fs::read(folder.join(name)).unwrap(),
            std::fs::read(again.join(name)).unwrap(),
            "{name}"
        );
    }
    std::fs::remove_dir_all(lake.join("data")).unwrap();
    assert!(
        Workload::load(lake.join("sales.toml")).is_err(),
        "the data is gone"
    );

    let from_snapshot = Workload::load(&written).unwrap();
    let served = from_snapshot
        .served_from()
        .snapshot()
        .expect("a snapshot workload");
    assert_eq!(
        served.manifest.source, "sales.toml",
        "no folder of this machine"
    );
    let recording = Arc::new(RecordingStore::new(from_snapshot.served_from().store()));
    let counted = from_snapshot.served_through(recording.clone());
    let over_snapshot = bundles_of(&policies, &counted).await;
    assert_same_bundles(&over_data, &over_snapshot);

    let reads = recording.reads();
    assert!(!reads.is_empty(), "the sessions read through the snapshot");
    for (path, read) in &reads {
        let relative = path
            .as_ref()
            .strip_prefix(served.root.to_str().unwrap().trim_start_matches('/'))
            .unwrap()
            .trim_start_matches('/');
        let captured = snapshot.files[relative].ranges();
        for range in read.ranges() {
            assert!(captured.covers(range), "{path}: {range:?} not captured");
        }
    }
}

/// The committed SF 10 snapshot holds TPC-H's cardinalities (lineitem is about 6 million rows per
/// unit of scale; the others exact) in a lake's layout, and both built-in snapshots read back.
#[tokio::test(flavor = "multi_thread")]
async fn the_built_in_sf10_snapshot_has_the_tpch_cardinalities() {
    for builtin in &dfpolicy::workload::tpch::scaled::SNAPSHOTS {
        assert!(!builtin.snapshot().files.is_empty(), "{}", builtin.name);
    }
    let workload = Workload::load("tpch-sf10").unwrap();
    let facts = dfpolicy::workload::show::workload_facts(&workload)
        .await
        .unwrap();
    let snapshot = facts.snapshot.as_ref().expect("said to be a snapshot");
    assert_eq!(snapshot.source, "tpch");
    assert!(snapshot.kept_bytes * 100 < snapshot.data_bytes);
    let rows: BTreeMap<&str, (usize, u64)> = facts
        .tables
        .iter()
        .map(|t| (t.name.as_str(), (t.files, t.rows.unwrap())))
        .collect();
    let expected = BTreeMap::from([
        ("customer", (1, 1_500_000)),
        ("lineitem", (3, 59_986_052)),
        ("nation", (1, 25)),
        ("orders", (1, 15_000_000)),
        ("part", (1, 2_000_000)),
        ("partsupp", (1, 8_000_000)),
        ("region", (1, 5)),
        ("supplier", (1, 100_000)),
    ]);
    assert_eq!(rows, expected);
}

/// Regenerating a built-in snapshot, at a small scale: twice, from nothing, the same bytes.
#[tokio::test(flavor = "multi_thread")]
async fn a_tpch_snapshot_regenerates_byte_for_byte() {
    let policies = PolicySet::load(crate::repo().join("policies")).unwrap();
    let mut archives = Vec::new();
    for _ in 0..2 {
        let root = tempfile::tempdir().unwrap();
        let data = dfpolicy::workload::tpch::data::TpchData::new(root.path(), 0.05);
        let snapshot = dfpolicy::harness::snapshot_tpch(&policies, &data)
            .await
            .unwrap();
        let out = root.path().join("archive");
        snapshot.write_archive(&out).unwrap();
        archives.push((
            std::fs::read(out.join(dfpolicy::workload::snapshot::MANIFEST_FILE)).unwrap(),
            std::fs::read(out.join(dfpolicy::workload::snapshot::ARCHIVE_FILE)).unwrap(),
        ));
        assert!(!data.parquet_dir().exists(), "no data file is written");
    }
    assert_eq!(archives[0], archives[1]);
}

/// `explain.analyze` runs the plan: over a snapshot that is a finding naming the snapshot, not a
/// failed read.
#[tokio::test(flavor = "multi_thread")]
async fn analyze_over_a_snapshot_is_a_finding_that_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("analyze.toml");
    std::fs::write(
        &path,
        "[policy]\nname = \"analyze\"\n\n[explain]\nanalyze = true\n",
    )
    .unwrap();
    let policy = dfpolicy::Policy::load(&path).unwrap();
    let factory = SessionFactory::new(policy.compiled).unwrap();
    let workload = Workload::load("tpch-sf10").unwrap();
    let bundler = Bundler::new(&factory, &workload).await.unwrap();
    let bundle = bundler
        .bundle(workload.query("q06").unwrap())
        .await
        .unwrap();
    let finding = bundle
        .findings
        .iter()
        .find(|f| f.code == "needs-data")
        .expect("a needs-data finding");
    assert!(
        finding.message.contains("`tpch-sf10`"),
        "{}",
        finding.message
    );
    assert!(bundle.analyze.is_none());
    assert!(bundle.warnings.is_empty(), "{:?}", bundle.warnings);
}

/// `workload show` and `workload validate` say when a workload is a metadata snapshot.
#[test]
fn show_and_validate_say_a_workload_is_a_snapshot() {
    let run = |args: &[&str]| {
        let output = crate::dfpolicy(args, &crate::repo());
        (
            output.status.code(),
            String::from_utf8(output.stdout).unwrap(),
        )
    };
    let (code, shown) = run(&["workload", "show", "tpch-sf100"]);
    assert_eq!(code, Some(0), "{shown}");
    assert!(
        shown.contains("a metadata snapshot of `tpch` (tpch-sf100): "),
        "{shown}"
    );
    assert!(
        shown.contains("lineitem  parquet        -     25  600037902"),
        "{shown}"
    );
    let (code, validated) = run(&["workload", "validate", "tpch-sf100", "tpch"]);
    assert_eq!(code, Some(0), "{validated}");
    assert!(
        validated.contains("note: tpch-sf100 is the metadata snapshot `tpch-sf100` of `tpch`"),
        "{validated}"
    );
    assert!(!validated.contains("note: tpch is"), "{validated}");
}
