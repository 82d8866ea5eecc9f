//! Production scale from metadata: the 22 TPC-H bundles over the built-in SF 100 snapshot against the
//! same bundles over SF 0.01 data, in the same run (goal ≤ 1.5×), with DataFusion's bare planning over
//! the snapshot to show where the time goes; taking a snapshot of `tpch` against planning its queries
//! once under the same policies over the data (goal ≤ 2×); `check` over both workloads; and
//! `check` of `tpch-sf100` with and without writing the review page (goal ≤ 1.1×), also for a
//! run where 80 of the 110 cells changed.
//!
//! `cargo bench --bench scale` prints the medians.

use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use dfpolicy::bundle::Bundler;
use dfpolicy::harness::{Harness, PolicySet, Progress, baseline, capture_snapshot, compare};
use dfpolicy::review;
use dfpolicy::workload::tpch::data::TpchData;
use dfpolicy::{Policy, SessionFactory, Workload};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The baseline policy, optionally with DataFusion's metadata and statistics caches raised to hold a
/// lake's footers (the defaults, 50 MB and 20 MB, are smaller than SF 100's decoded page indexes).
fn factory(dir: &Path, large_caches: bool) -> SessionFactory {
    let path = dir.join(format!("bench-caches-{large_caches}.toml"));
    let caches = if large_caches {
        "\n[settings]\n\"datafusion.runtime.metadata_cache_limit\" = \"1G\"\n\
         \"datafusion.runtime.file_statistics_cache_limit\" = \"1G\"\n"
    } else {
        ""
    };
    std::fs::write(
        &path,
        format!(
            "[policy]\nname = \"bench\"\nextends = {:?}\n{caches}",
            repo().join("policies/baseline.toml").display().to_string()
        ),
    )
    .unwrap();
    SessionFactory::new(Policy::loader().root("/").load(&path).unwrap().compiled).unwrap()
}

/// The built-in TPC-H workload (Parquet, SF 0.01) over the benches' data folder, generated if missing.
fn tpch(runtime: &tokio::runtime::Runtime) -> Workload {
    let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join("dfpolicy-data");
    let workload = Workload::tpch(TpchData::new(&root, 0.01), false);
    runtime.block_on(workload.prepare_data()).unwrap();
    workload
}

fn bundles_at_scale(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let data = tpch(&runtime);
    let sf100 = Workload::load("tpch-sf100").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut group = c.benchmark_group("tpch_22_bundles_by_scale");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(20));
    for (name, workload, large_caches) in [
        ("sf0.01_data", &data, false),
        ("sf100_snapshot", &sf100, false),
        ("sf100_snapshot_large_caches", &sf100, true),
    ] {
        let factory = factory(dir.path(), large_caches);
        let bundler = runtime.block_on(Bundler::new(&factory, workload)).unwrap();
        group.bench_function(name, |b| {
            b.iter(|| {
                runtime.block_on(async {
                    for query in workload.queries() {
                        black_box(bundler.bundle(query).await.unwrap().to_json());
                    }
                })
            })
        });
        if name == "sf100_snapshot" {
            let ctx = bundler.session().clone();
            group.bench_function("sf100_snapshot_datafusion_bare_planning", |b| {
                b.iter(|| {
                    runtime.block_on(async {
                        for query in workload.queries() {
                            let state = ctx.state();
                            let plan = state.create_logical_plan(query.sql()).await.unwrap();
                            black_box(state.create_physical_plan(&plan).await.unwrap());
                        }
                    })
                })
            });
        }
    }
    group.finish();
}

fn snapshot_capture(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let workload = tpch(&runtime);
    let policies = PolicySet::load(repo().join("policies")).unwrap();
    let mut group = c.benchmark_group("tpch_snapshot_5_policies");
    group.sample_size(10);
    group.bench_function("dfpolicy workload snapshot", |b| {
        b.iter(|| {
            black_box(
                runtime
                    .block_on(capture_snapshot(&policies, &workload))
                    .unwrap(),
            )
        })
    });
    group.bench_function("planning every query once per policy", |b| {
        b.iter(|| {
            runtime.block_on(async {
                for policy in policies.policies.values() {
                    let factory = SessionFactory::new(policy.compiled.clone().unwrap()).unwrap();
                    let bundler = Bundler::new(&factory, &workload).await.unwrap();
                    for query in workload.queries() {
                        black_box(bundler.bundle(query).plan().await.unwrap());
                    }
                }
            })
        })
    });
    group.finish();
}

fn check_both_workloads(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let data = tpch(&runtime);
    let sf100 = Workload::load("tpch-sf100").unwrap();
    let policies = PolicySet::load(repo().join("policies")).unwrap();
    let mut group = c.benchmark_group("check_tpch_and_tpch_sf100");
    group.sample_size(10);
    group.bench_function("harness --jobs 2, both workloads", |b| {
        b.iter(|| {
            for workload in [&data, &sf100] {
                black_box(
                    Harness::new(&policies, workload)
                        .jobs(2)
                        .progress(Progress::Hidden)
                        .run()
                        .unwrap(),
                );
            }
        })
    });
    group.finish();
}

/// `check` of the bundled policies × `tpch-sf100` as the CLI runs it (harness, baseline read,
/// comparison), then the same writing the review page; and the page alone for a run in which
/// `baseline.toml` flips `prefer_hash_join` (80 changed cells, every diff on the page).
fn check_with_review_page(c: &mut Criterion) {
    let sf100 = Workload::load("tpch-sf100").unwrap();
    let folder = repo().join("baselines/tpch-sf100");
    let policies = PolicySet::load(repo().join("policies")).unwrap();
    let page = |comparison: &dfpolicy::harness::Comparison,
                run: &dfpolicy::harness::HarnessRun,
                previous: &baseline::Baseline| {
        review::check_page(&[review::WorkloadReview {
            comparison,
            run,
            baseline: Some(previous),
            baseline_folder: Some("baselines/tpch-sf100".into()),
            sensitivity: None,
        }])
    };
    let compared = |policies: &PolicySet| {
        let run = Harness::new(policies, &sf100)
            .jobs(2)
            .progress(Progress::Hidden)
            .run()
            .unwrap();
        let previous = baseline::read(&folder).unwrap();
        let comparison = compare(Some(&previous), &run);
        (run, previous, comparison)
    };
    let check = |policies: &PolicySet, with_page: bool| {
        let (run, previous, comparison) = compared(policies);
        if with_page {
            black_box(page(&comparison, &run, &previous).len());
        }
        black_box(comparison);
    };
    let mut group = c.benchmark_group("check_tpch_sf100_review_page");
    group.sample_size(10);
    group.bench_function("check", |b| b.iter(|| check(&policies, false)));
    group.bench_function("check --html", |b| b.iter(|| check(&policies, true)));

    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(repo().join("policies")).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), dir.path().join(entry.file_name())).unwrap();
    }
    let flipped = dir.path().join("baseline.toml");
    let text = std::fs::read_to_string(&flipped).unwrap();
    std::fs::write(&flipped, text + "\n[joins]\nprefer_hash_join = false\n").unwrap();
    let (run, previous, comparison) = compared(&PolicySet::load(dir.path()).unwrap());
    group.bench_function("review page alone, 80 changed cells", |b| {
        b.iter(|| black_box(page(&comparison, &run, &previous)))
    });
    group.finish();
}

criterion_group!(
    benches,
    bundles_at_scale,
    snapshot_capture,
    check_both_workloads,
    check_with_review_page
);
criterion_main!(benches);
