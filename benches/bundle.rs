//! Capturing the 22 TPC-H plan bundles, against DataFusion planning the same queries bare (a fresh
//! state each, `create_logical_plan` + `create_physical_plan`), in the same run and session config.
//! The naive capture (plan, then `EXPLAIN` and `EXPLAIN VERBOSE` through SQL) is measured too.
//! Goals: bundles with every analysis ≤ 1.3× bare planning (Substrait off); the second group measures
//! the ratios directly, pairing bare planning and bundles in every iteration, and the cost of each
//! analysis against bundles without any.
//!
//! `cargo bench --bench bundle` prints the medians.

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use datafusion::prelude::SessionContext;
use dfpolicy::bundle::{Analysis, Bundler};
use dfpolicy::harness::{Harness, PolicySet, Progress, baseline, compare};
use dfpolicy::workload::tpch::data::TpchData;
use dfpolicy::{Policy, SessionFactory, Workload};

/// The baseline policy, with or without the optimizer trace (nothing else differs).
fn factory(trace: bool, dir: &Path) -> SessionFactory {
    let path = dir.join(format!("bench-trace-{trace}.toml"));
    let baseline = Path::new(env!("CARGO_MANIFEST_DIR")).join("policies/baseline.toml");
    std::fs::write(
        &path,
        format!(
            "[policy]\nname = \"bench\"\nextends = {:?}\n\n[explain]\nformats = [\"indent\"]\noptimizer_trace = {trace}\n",
            baseline.display().to_string()
        ),
    )
    .unwrap();
    let compiled = Policy::loader().root("/").load(&path).unwrap().compiled;
    SessionFactory::new(compiled).unwrap()
}

/// The built-in TPC-H workload (Parquet, SF 0.01) over the benches' data folder, generated if missing.
fn tpch(runtime: &tokio::runtime::Runtime) -> Workload {
    let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join("dfpolicy-data");
    let workload = Workload::tpch(TpchData::new(&root, 0.01), false);
    runtime.block_on(workload.prepare_data()).unwrap();
    workload
}

/// What DataFusion does to plan a query: a fresh state, the logical plan, the physical plan.
async fn plan_bare(ctx: &SessionContext, sql: &str) {
    let state = ctx.state();
    let plan = state.create_logical_plan(sql).await.unwrap();
    black_box(state.create_physical_plan(&plan).await.unwrap());
}

/// The naive capture: plan, then `EXPLAIN` and `EXPLAIN VERBOSE` through SQL.
async fn plan_naively(ctx: &SessionContext, sql: &str) {
    plan_bare(ctx, sql).await;
    for explain in ["EXPLAIN", "EXPLAIN VERBOSE"] {
        let sql = format!("{explain} {sql}");
        black_box(ctx.sql(&sql).await.unwrap().collect().await.unwrap());
    }
}

fn capture_vs_bare_planning(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let workload = tpch(&runtime);
    let dir = tempfile::tempdir().unwrap();
    let queries = workload.queries();

    let mut group = c.benchmark_group("tpch_22_queries");
    // Planning 22 queries takes a few hundred milliseconds on 2 cores and varies by ±10% between
    // samples; more samples over a longer time keep the medians steady.
    group.sample_size(40);
    group.measurement_time(Duration::from_secs(15));
    for trace in [false, true] {
        let factory = factory(trace, dir.path());
        let bundler = runtime.block_on(Bundler::new(&factory, &workload)).unwrap();
        let ctx = bundler.session().clone();
        if !trace {
            group.bench_function("datafusion_bare_planning", |b| {
                b.iter(|| {
                    runtime.block_on(async {
                        for query in queries {
                            plan_bare(&ctx, query.sql()).await;
                        }
                    })
                })
            });
            group.bench_function("naive_plan_explain_explain_verbose", |b| {
                b.iter(|| {
                    runtime.block_on(async {
                        for query in queries {
                            plan_naively(&ctx, query.sql()).await;
                        }
                    })
                })
            });
        }
        let name = if trace {
            "dfpolicy_bundles_with_trace"
        } else {
            "dfpolicy_bundles"
        };
        group.bench_function(name, |b| {
            b.iter(|| {
                runtime.block_on(async {
                    for query in queries {
                        black_box(bundler.bundle(query).await.unwrap().to_json());
                    }
                })
            })
        });
    }
    group.finish();
}

/// What one iteration runs over the 22 queries.
#[derive(Clone)]
enum Run {
    /// DataFusion planning, nothing else.
    Bare,
    /// Planning, then `EXPLAIN` and `EXPLAIN VERBOSE` through SQL.
    Naive,
    /// Bundles (with or without the trace), leaving these analyses out.
    Bundles { trace: bool, skip: Vec<Analysis> },
}

/// Every analysis a bundle can leave out.
fn all_analyses() -> Vec<Analysis> {
    let mut all = vec![
        Analysis::PhysicalTopologyHash,
        Analysis::Statistics,
        Analysis::Properties,
        Analysis::Pushdown,
        Analysis::Lineage,
    ];
    if cfg!(feature = "substrait") {
        all.push(Analysis::Substrait);
    }
    all
}

/// The same comparisons, paired: each iteration runs the reference and the measured work back to
/// back (alternating which goes first), so both see the same machine; the "time" reported is the
/// ratio measured / reference, as seconds (1.20 s means 1.20×). On a shared 2-core machine, medians
/// of separate benchmarks drift by ±15% between them; paired ratios do not.
///
/// Against bare planning: bundles with every analysis (goal ≤ 1.3×, Substrait off), with the trace
/// too, and the naive capture. Against bundles with no analysis (plans and fingerprints only): each
/// analysis alone, so `(ratio - 1) × plans-only time` is what it costs.
fn paired_ratios(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let workload = tpch(&runtime);
    let dir = tempfile::tempdir().unwrap();
    let queries = workload.queries();
    let plain = runtime
        .block_on(Bundler::new(&factory(false, dir.path()), &workload))
        .unwrap();
    let tracing = runtime
        .block_on(Bundler::new(&factory(true, dir.path()), &workload))
        .unwrap();
    let ctx = plain.session().clone();

    let every = all_analyses();
    let plans_only = Run::Bundles {
        trace: false,
        skip: every.clone(),
    };
    let mut cases = vec![
        (
            "bundles_plans_only".to_string(),
            Run::Bare,
            plans_only.clone(),
        ),
        (
            "bundles".to_string(),
            Run::Bare,
            Run::Bundles {
                trace: false,
                skip: Vec::new(),
            },
        ),
        (
            "bundles_with_trace".to_string(),
            Run::Bare,
            Run::Bundles {
                trace: true,
                skip: Vec::new(),
            },
        ),
        (
            "naive_plan_explain_explain_verbose".to_string(),
            Run::Bare,
            Run::Naive,
        ),
    ];
    for analysis in &every {
        cases.push((
            format!("only_{analysis:?}_vs_plans_only"),
            plans_only.clone(),
            Run::Bundles {
                trace: false,
                skip: every.iter().copied().filter(|a| a != analysis).collect(),
            },
        ));
    }

    let time = |run: &Run| {
        let start = Instant::now();
        runtime.block_on(async {
            for query in queries {
                match run {
                    Run::Bare => plan_bare(&ctx, query.sql()).await,
                    Run::Naive => plan_naively(&ctx, query.sql()).await,
                    Run::Bundles { trace, skip } => {
                        let bundler = if *trace { &tracing } else { &plain };
                        let mut builder = bundler.bundle(query);
                        for analysis in skip {
                            builder = builder.skip(*analysis);
                        }
                        black_box(builder.await.unwrap().to_json());
                    }
                }
            }
        });
        start.elapsed()
    };

    let mut group = c.benchmark_group("tpch_22_queries_ratio_to_bare");
    group.sample_size(10);
    for (name, reference, measured) in &cases {
        group.bench_function(name.as_str(), |b| {
            b.iter_custom(|iterations| {
                let (mut base, mut work) = (Duration::ZERO, Duration::ZERO);
                for iteration in 0..iterations {
                    if iteration % 2 == 0 {
                        base += time(reference);
                        work += time(measured);
                    } else {
                        work += time(measured);
                        base += time(reference);
                    }
                }
                Duration::from_secs_f64(work.as_secs_f64() / base.as_secs_f64() * iterations as f64)
            })
        });
    }
    group.finish();
}

/// `dfpolicy check`'s work on the bundled policies × the 22 TPC-H queries — load every policy, build
/// every bundle, read the baseline (written once, before) and compare — with 1 and 2 jobs, against the
/// loop users write today: a session per policy with the tables registered, then `EXPLAIN` and
/// `EXPLAIN VERBOSE` of every query through SQL. Goal: `check` ≤ 0.5× the loop.
fn check_matrix(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let workload = tpch(&runtime);
    let policies = Path::new(env!("CARGO_MANIFEST_DIR")).join("policies");
    let folder = tempfile::tempdir().unwrap();
    let matrix = |jobs: usize| {
        let set = PolicySet::load(&policies).unwrap();
        Harness::new(&set, &workload)
            .jobs(jobs)
            .progress(Progress::Hidden)
            .run()
            .unwrap()
    };
    baseline::write(&matrix(2), folder.path()).unwrap();
    let check = |jobs: usize| {
        let run = matrix(jobs);
        let baseline = baseline::read(folder.path()).unwrap();
        let comparison = compare(Some(&baseline), &run);
        assert!(!comparison.fails());
        black_box(comparison);
    };
    let explain_loop = || {
        runtime.block_on(async {
            let (files, _) = dfpolicy::policy::discover::policy_files(&policies);
            for file in files {
                let compiled = Policy::load(&file).unwrap().compiled;
                let factory = SessionFactory::new(compiled).unwrap();
                let (ctx, _) = workload.session_with_tables(&factory).await.unwrap();
                for query in workload.queries() {
                    for explain in ["EXPLAIN", "EXPLAIN VERBOSE"] {
                        let sql = format!("{explain} {}", query.statement.text);
                        black_box(ctx.sql(&sql).await.unwrap().collect().await.unwrap());
                    }
                }
            }
        })
    };
    let mut group = c.benchmark_group("check_5_policies_x_22_queries");
    group.sample_size(10);
    group.bench_function("dfpolicy check --jobs 1", |b| b.iter(|| check(1)));
    group.bench_function("dfpolicy check --jobs 2", |b| b.iter(|| check(2)));
    group.bench_function("EXPLAIN + EXPLAIN VERBOSE loop", |b| b.iter(explain_loop));
    group.finish();
}

criterion_group!(
    benches,
    capture_vs_bare_planning,
    paired_ratios,
    check_matrix
);
criterion_main!(benches);
