//! Ballista 55 as the target, on a running cluster (feature `ballista`): the committed registry is
//! Ballista's own, a session carries the compiled environment key by key, TPC-H runs on a
//! standalone cluster with the results of local DataFusion, and the stage plan a bundle shows is the
//! one the scheduler runs.

use std::collections::BTreeMap;

use datafusion::arrow::util::pretty::pretty_format_batches;
use datafusion::prelude::SessionContext;
use dfpolicy::bundle::Bundler;
use dfpolicy::registry::ballista::{
    BALLISTA_VERSION, CATALOG_PATH, catalog, catalog_from_ballista,
};
use dfpolicy::registry::registry;
use dfpolicy::{BallistaCluster, CompiledPolicy, SessionFactory, capture_session_settings};

use crate::compile::policy_from;
use crate::workload::builtin;

/// A Ballista policy over the bundled `baseline` policy's pins, with the static planner so that the
/// stages that run are the static ones.
fn distributed(extra: &str) -> CompiledPolicy {
    policy_from(&format!(
        "[policy]\nname = \"distributed\"\n[execution]\ntarget_partitions = 4\nplanning_concurrency = 4\n[ballista]\nstandalone_parallelism = 2\n{extra}"
    ))
}

#[test]
fn the_committed_registry_is_ballistas() {
    let generated = catalog_from_ballista();
    if std::env::var_os("DFPOLICY_UPDATE_BALLISTA_REGISTRY").is_some() {
        std::fs::write(crate::repo().join(CATALOG_PATH), generated.to_text()).unwrap();
    }
    assert_eq!(
        catalog().to_text(),
        generated.to_text(),
        "{CATALOG_PATH} differs from Ballista {BALLISTA_VERSION}'s registry: regenerate it with DFPOLICY_UPDATE_BALLISTA_REGISTRY=1 cargo test --release --features ballista --test it ballista::the_committed_registry_is_ballistas, and review the diff"
    );
}

/// Every value dfpolicy accepts for a Ballista key, Ballista's parser accepts and its getters read
/// without panicking; a value Ballista's parser refuses, dfpolicy refuses too.
#[test]
fn dfpolicy_checks_values_as_ballistas_parsers_do() {
    use ballista_core::config::BallistaConfig;
    use ballista_core::extension::SessionConfigExt;
    use datafusion::prelude::SessionConfig;

    let probes = [
        "0",
        "1",
        "4",
        "65535",
        "70000",
        "-1",
        "1.5",
        "0.5",
        "NaN",
        "true",
        "false",
        "TRUE",
        "",
        "lz4",
        "zstd",
        "none",
        "gzip",
        "delay:5",
        "fatal",
        "abc",
        "18446744073709551616",
    ];
    for entry in BallistaConfig::valid_entries().values() {
        for probe in probes {
            let ours = registry().check_value(entry.name(), probe);
            let theirs = BallistaConfig::parse_value(probe, entry.data_type().clone());
            if ours.is_ok() {
                assert!(theirs.is_ok(), "{} = {probe:?}", entry.name());
                // And the session reads it back through Ballista's typed getters.
                let config = SessionConfig::new()
                    .with_option_extension(BallistaConfig::default())
                    .set_str(entry.name(), probe);
                let read = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    let ballista = config.ballista_config();
                    (
                        ballista.standalone_parallelism(),
                        ballista.adaptive_query_planner_enabled(),
                        ballista.shuffle_compression_codec().is_ok(),
                        ballista.coalesce_small_partition_factor(),
                        ballista.broadcast_join_threshold_bytes(),
                        ballista.chaos_execution_fault_type(),
                    )
                }));
                let (_, _, codec_ok, _, _, _) =
                    read.unwrap_or_else(|_| panic!("{} = {probe:?} panics", entry.name()));
                assert!(codec_ok, "{} = {probe:?}", entry.name());
            } else if theirs.is_err() {
                // Both refuse: fine.
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_standalone_session_carries_the_compiled_environment_key_by_key() {
    let compiled = distributed(
        "job_name = \"dfpolicy-test\"\nadaptive = false\n[settings]\n\"ballista.shuffle.max_concurrent_read_requests\" = 16\n",
    );
    let factory = SessionFactory::new(compiled.clone()).unwrap();
    let ctx = factory
        .ballista_context(&BallistaCluster::Standalone)
        .await
        .unwrap();
    let captured = capture_session_settings(&ctx).await.unwrap();
    for (key, value) in &compiled.settings {
        assert_eq!(captured.get(key), Some(value), "{key}");
    }
    let ballista = compiled.ballista.as_ref().unwrap();
    let config = ctx.copied_config();
    let entries: BTreeMap<String, Option<String>> = config
        .options()
        .entries()
        .into_iter()
        .filter(|e| e.key.starts_with("ballista."))
        .map(|e| (e.key, e.value))
        .collect();
    for (key, value) in &ballista.settings {
        assert_eq!(entries.get(key), Some(value), "{key}");
    }
    assert_eq!(
        entries["ballista.job.name"].as_deref(),
        Some("dfpolicy-test")
    );
    // What Ballista forces is what the session runs with.
    for (key, value) in &ballista.forced {
        assert_eq!(
            captured.get(key).cloned().flatten().as_deref(),
            Some(value.as_str()),
            "{key}"
        );
    }
}

/// TPC-H over SF 0.01 Parquet on a standalone cluster: each query's rows equal local DataFusion's
/// under the same policy.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn tpch_runs_on_a_standalone_cluster_with_local_results() {
    let workload = builtin(false).await;
    let compiled = distributed("");
    let factory = SessionFactory::new(compiled).unwrap();
    let cluster = factory
        .ballista_context(&BallistaCluster::Standalone)
        .await
        .unwrap();
    workload.register_tables(&cluster).await.unwrap();
    let local = SessionFactory::new(
        dfpolicy::Policy::load(crate::repo().join("policies/baseline.toml"))
            .unwrap()
            .compiled,
    )
    .unwrap()
    .context()
    .unwrap();
    workload.register_tables(&local).await.unwrap();
    for name in ["q01", "q03", "q06", "q12"] {
        let query = workload.query(name).unwrap();
        let sql = query.statement.text.as_str();
        let run = |ctx: SessionContext| async move {
            let batches = ctx.sql(sql).await.unwrap().collect().await.unwrap();
            pretty_format_batches(&batches).unwrap().to_string()
        };
        let (on_cluster, locally) = (run(cluster.clone()).await, run(local.clone()).await);
        assert!(on_cluster.lines().count() > 4, "{name}: {on_cluster}");
        assert_eq!(on_cluster, locally, "{name}");
    }
}

/// The stages in the bundle are the stages the scheduler ran: `EXPLAIN ANALYZE` on the cluster
/// reports each executed stage with its operators (from the scheduler's job metrics).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_bundles_stage_plan_is_the_one_the_scheduler_runs() {
    let workload = builtin(false).await;
    let compiled = distributed("adaptive = false\n");
    let factory = SessionFactory::new(compiled).unwrap();
    let bundler = Bundler::new(&factory, &workload).await.unwrap();
    let cluster = factory
        .ballista_context(&BallistaCluster::Standalone)
        .await
        .unwrap();
    workload.register_tables(&cluster).await.unwrap();
    for name in ["q01", "q03", "q06", "q12"] {
        let query = workload.query(name).unwrap();
        let bundle = bundler.bundle(query).await.unwrap();
        let stages = bundle
            .distributed_stages
            .as_ref()
            .expect("a Ballista bundle has stages");
        assert_eq!(stages.layout, "static");
        assert!(!stages.adaptive);
        assert!(stages.stage_topology_hash.starts_with("v1:"));
        assert!(bundle.findings.is_empty(), "{name}: {:?}", bundle.findings);
        let planned: Vec<(usize, Vec<String>)> = stages
            .stages
            .iter()
            .map(|s| (s.stage_id, operators(&s.plan)))
            .collect();

        let sql = format!("EXPLAIN ANALYZE {}", query.statement.text);
        let batches = cluster.sql(&sql).await.unwrap().collect().await.unwrap();
        // One row, `plan_type` and `plan`: the plan column holds every executed stage.
        let text: String = batches
            .iter()
            .flat_map(|batch| {
                let plans = batch
                    .column(1)
                    .as_any()
                    .downcast_ref::<datafusion::arrow::array::StringArray>()
                    .expect("EXPLAIN's plan column is text");
                (0..datafusion::arrow::array::Array::len(plans))
                    .map(|i| plans.value(i).to_string())
                    .collect::<Vec<_>>()
            })
            .collect::<Vec<_>>()
            .join("\n");
        let ran = executed_stages(&text);
        assert_eq!(
            ran.iter().map(|(id, _)| *id).collect::<Vec<_>>(),
            planned.iter().map(|(id, _)| *id).collect::<Vec<_>>(),
            "{name}: stage ids\n{text}"
        );
        for ((id, planned_operators), (_, ran_operators)) in planned.iter().zip(&ran) {
            // The scheduler resolves `UnresolvedShuffleExec` into a `ShuffleReaderExec` once the
            // input stage has run; everything else is the same operator for operator.
            let resolved: Vec<String> = planned_operators
                .iter()
                .map(|o| o.replace("UnresolvedShuffleExec", "ShuffleReaderExec"))
                .collect();
            assert_eq!(&resolved, ran_operators, "{name}: stage {id}\n{text}");
        }
    }
}

/// The operator names of a plan printed by `EXPLAIN` (`ProjectionExec: ...` → `ProjectionExec`).
fn operators(plan: &str) -> Vec<String> {
    plan.lines()
        .map(|line| {
            line.trim()
                .split([':', ',', ' '])
                .next()
                .unwrap_or("")
                .to_string()
        })
        .filter(|name| name.ends_with("Exec"))
        .collect()
}

/// Each executed stage with its operators, from the text of Ballista's `EXPLAIN ANALYZE`.
fn executed_stages(text: &str) -> Vec<(usize, Vec<String>)> {
    let mut stages: Vec<(usize, Vec<String>)> = Vec::new();
    for line in text.lines() {
        let trimmed = line.trim();
        // `=========SuccessfulStage[stage_id=2, partitions=4]=========` (ballista-core 55.0.0
        // `format_job_plan`).
        if let Some(rest) = trimmed.split("SuccessfulStage[stage_id=").nth(1)
            && let Some(id) = rest
                .split(|c: char| !c.is_ascii_digit())
                .next()
                .and_then(|d| d.parse().ok())
        {
            stages.push((id, Vec::new()));
            continue;
        }
        if let Some((_, operators)) = stages.last_mut() {
            operators.extend(self::operators(trimmed));
        }
    }
    stages
}

/// A Delta table plans into stages, but Ballista 55 can neither send the query to its scheduler (no
/// logical codec for delta-rs' table provider) nor its scan to an executor: the bundle says both as
/// findings instead of a job failing later.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_delta_scan_is_a_finding_not_a_crash() {
    let workload = builtin(true).await;
    let factory = SessionFactory::new(distributed("")).unwrap();
    let bundler = Bundler::new(&factory, &workload).await.unwrap();
    let bundle = bundler
        .bundle(workload.query("q06").unwrap())
        .await
        .unwrap();
    let stages = bundle.distributed_stages.as_ref().unwrap();
    assert!(!stages.stages.is_empty());
    assert!(
        bundle.findings.iter().any(|f| f.code == "not-distributable"
            && f.message
                .contains("cannot be sent to a Ballista 55.0.0 executor")),
        "{:?}",
        bundle.findings
    );
    assert!(
        bundle.findings.iter().any(|f| f.code == "not-distributable"
            && f.message
                .starts_with("the query cannot be sent to a Ballista 55.0.0 scheduler: ")),
        "{:?}",
        bundle.findings
    );
    assert!(bundle.fails(false));
}

/// `check` over a Ballista policy compares the stage plans with the baseline's and attributes a
/// change to the Ballista key that made it.
#[test]
fn check_reviews_stage_plans_and_attributes_their_changes() {
    let work = tempfile::tempdir().unwrap();
    let policies = work.path().join("policies");
    std::fs::create_dir_all(&policies).unwrap();
    let policy =
        std::fs::read_to_string(crate::repo().join("ballista/tpch-distributed.toml")).unwrap();
    std::fs::write(policies.join("distributed.toml"), &policy).unwrap();
    let check = |extra: &[&str]| {
        let mut args = vec![
            "check",
            "--policies",
            "policies",
            "--workload",
            "tpch",
            "--baseline",
            "baseline",
            "--jobs",
            "2",
        ];
        args.extend_from_slice(extra);
        crate::dfpolicy(&args, work.path())
    };
    let blessed = check(&["--bless"]);
    assert_eq!(
        blessed.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&blessed.stderr)
    );
    let bundle = std::fs::read_to_string(
        work.path()
            .join("baseline/bundles/tpch-distributed/q03.bundle"),
    )
    .unwrap();
    assert!(
        bundle.contains("=== /distributed_stages/stages/0/plan"),
        "{bundle}"
    );
    let clean = check(&[]);
    let text = String::from_utf8(clean.stdout).unwrap();
    assert_eq!(clean.status.code(), Some(0), "{text}");

    // Broadcast thresholds: the static planner promotes only hash joins, and Ballista's forced
    // `prefer_hash_join = false` leaves none, so neither plans nor stages move: the environment
    // changed, the plans did not.
    std::fs::write(
        policies.join("distributed.toml"),
        policy.replace(
            "adaptive = false\n",
            "adaptive = false\nbroadcast_join_threshold_rows = 30000000\n",
        ),
    )
    .unwrap();
    let unmoved = check(&[]);
    let text = String::from_utf8(unmoved.stdout).unwrap();
    assert_eq!(unmoved.status.code(), Some(0), "{text}");
    assert!(text.ends_with("22 cells: 22 inputs-changed\n"), "{text}");

    // Adaptive execution on: the static layout is the same, but the stages that run may differ, so
    // every cell changes, with the key as the cause and the stage plan as the first difference.
    std::fs::write(
        policies.join("distributed.toml"),
        policy.replace("adaptive = false\n", ""),
    )
    .unwrap();
    let changed = check(&[]);
    let text = String::from_utf8(changed.stdout).unwrap();
    assert_eq!(changed.status.code(), Some(1), "{text}");
    assert!(
        text.contains("changed: tpch-distributed/q03\n  because: policy setting `ballista.planner.adaptive.enabled`: false → true (plan-shape)\n"),
        "{text}"
    );
    assert!(
        text.contains("differs in: policy, plan_fingerprint, distributed_stages\n  first difference: the distributed stages plan\n"),
        "{text}"
    );
    assert!(
        text.contains("+static layout (adaptive execution may change it)"),
        "{text}"
    );
    assert!(text.ends_with("22 cells: 22 changed\n"), "{text}");
}

/// A remote cluster: a scheduler and an executor the test starts on 127.0.0.1, reached over gRPC at
/// `df://localhost:PORT` as any running scheduler would be.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_remote_session_runs_on_a_scheduler_reached_by_url() {
    use ballista_core::serde::protobuf::scheduler_grpc_client::SchedulerGrpcClient;

    let workload = builtin(false).await;
    let factory = SessionFactory::new(distributed("")).unwrap();
    let state = factory.state().unwrap();
    let address = ballista_scheduler::standalone::new_standalone_scheduler_from_state(&state)
        .await
        .unwrap();
    let scheduler_url = format!("http://localhost:{}", address.port());
    let mut attempts = 0;
    let scheduler = loop {
        match SchedulerGrpcClient::connect(scheduler_url.clone()).await {
            Ok(client) => break client,
            Err(error) if attempts < 100 => {
                attempts += 1;
                let _ = error;
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
            Err(error) => panic!("the scheduler at {scheduler_url} does not answer: {error}"),
        }
    };
    ballista_executor::new_standalone_executor_from_state(scheduler, 2, &state)
        .await
        .unwrap();

    let remote = factory
        .ballista_context(&BallistaCluster::Remote(format!(
            "df://localhost:{}",
            address.port()
        )))
        .await
        .unwrap();
    workload.register_tables(&remote).await.unwrap();
    let sql = workload.query("q06").unwrap().statement.text.clone();
    let batches = remote.sql(&sql).await.unwrap().collect().await.unwrap();
    let local = factory.context().unwrap();
    workload.register_tables(&local).await.unwrap();
    let expected = local.sql(&sql).await.unwrap().collect().await.unwrap();
    assert_eq!(
        pretty_format_batches(&batches).unwrap().to_string(),
        pretty_format_batches(&expected).unwrap().to_string()
    );

    let Err(error) = factory
        .ballista_context(&BallistaCluster::Remote("http://localhost:1".into()))
        .await
    else {
        panic!("an http:// URL is not a scheduler");
    };
    assert!(
        error.to_string().contains("write df://host:port"),
        "{error}"
    );
}

/// At production scale (the built-in SF 100 metadata snapshot, no data) the stage layout is not the
/// toy one: more data, other joins, other stages. Every stage reads only stages made before it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn stage_plans_at_production_scale_come_from_metadata_alone() {
    let factory = SessionFactory::new(distributed("adaptive = false\n")).unwrap();
    let small = builtin(false).await;
    let large = dfpolicy::Workload::builtin(std::path::Path::new("tpch-sf100")).unwrap();
    let stages_of = |workload: &dfpolicy::Workload| {
        let factory = factory.clone();
        let workload = workload.clone();
        async move {
            let bundler = Bundler::new(&factory, &workload).await.unwrap();
            let mut layouts = BTreeMap::new();
            for query in workload.queries() {
                let bundle = bundler.bundle(query).await.unwrap();
                assert!(
                    bundle.findings.is_empty(),
                    "{}: {:?}",
                    query.name,
                    bundle.findings
                );
                layouts.insert(query.name.clone(), bundle.distributed_stages.unwrap());
            }
            layouts
        }
    };
    let (small, large) = (stages_of(&small).await, stages_of(&large).await);
    assert_eq!(large.len(), 22);
    for stages in large.values().chain(small.values()) {
        for (index, stage) in stages.stages.iter().enumerate() {
            let earlier: Vec<usize> = stages.stages[..index].iter().map(|s| s.stage_id).collect();
            assert!(stage.reads_stages.iter().all(|id| earlier.contains(id)));
        }
    }
    let differing = large
        .iter()
        .filter(|(name, stages)| small[*name].stage_topology_hash != stages.stage_topology_hash)
        .count();
    assert!(
        differing >= 11,
        "only {differing} of 22 stage layouts differ between SF 0.01 and SF 100"
    );
    // q05 at SF 100: five shuffled sort-merge joins, each side in a stage of its own.
    let q05 = &large["q05"];
    assert_eq!(q05.stages.len(), 13);
    assert_eq!(q05.stages.last().unwrap().partitions, 1);
}
