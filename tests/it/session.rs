//! Sessions carry the compiled environment exactly: settings read back from `information_schema`,
//! the runtime, the rule recipe and the pinned default catalog and schema.

use dfpolicy::datafusion::arrow::util::pretty::pretty_format_batches;
use dfpolicy::datafusion::execution::memory_pool::MemoryLimit;
use dfpolicy::session::unqualified_references;
use dfpolicy::workload::tpch;
use dfpolicy::{Policy, SessionFactory, capture_session_settings};

use crate::repo;

fn bundled() -> Vec<std::path::PathBuf> {
    let mut paths: Vec<_> = std::fs::read_dir(repo().join("policies"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    paths.sort();
    paths
}

#[tokio::test]
async fn session_settings_equal_the_compiled_settings_for_every_bundled_policy() {
    for path in bundled() {
        let compiled = Policy::load(&path).unwrap().compiled;
        let ctx = SessionFactory::new(compiled.clone())
            .unwrap()
            .context()
            .unwrap();
        let captured = capture_session_settings(&ctx).await.unwrap();
        for (key, value) in &compiled.settings {
            assert_eq!(captured.get(key), Some(value), "{}: {key}", path.display());
        }
        let runtime_rows = captured
            .keys()
            .filter(|k| k.starts_with("datafusion.runtime."))
            .count();
        assert_eq!(
            captured.len(),
            compiled.settings.len() + runtime_rows,
            "{}: extra rows",
            path.display()
        );
        let expected_limit = match compiled.runtime.memory_limit {
            Some(bytes) => format!("{}G", bytes >> 30),
            None => "unlimited".to_string(),
        };
        assert_eq!(
            captured["datafusion.runtime.memory_limit"].as_deref(),
            Some(expected_limit.as_str())
        );
    }
}

#[tokio::test]
async fn the_runtime_carries_the_memory_limit_and_pool() {
    let compiled = Policy::load(repo().join("policies/low-memory-smj.toml"))
        .unwrap()
        .compiled;
    let runtime = SessionFactory::new(compiled)
        .unwrap()
        .runtime_env()
        .unwrap();
    let limit = runtime.memory_pool.memory_limit();
    assert!(
        matches!(limit, dfpolicy::datafusion::execution::memory_pool::MemoryLimit::Finite(n) if n == 2 << 30)
    );
    assert!(format!("{:?}", runtime.memory_pool).contains("FairSpillPool"));
    assert_eq!(runtime.disk_manager.max_temp_directory_size(), 20 << 30);
}

#[test]
fn disabled_rules_are_really_removed_from_the_session() {
    let compiled = Policy::load(repo().join("policies/deterministic-trace.toml"))
        .unwrap()
        .compiled;
    let state = SessionFactory::new(compiled.clone())
        .unwrap()
        .state()
        .unwrap();
    let logical: Vec<&str> = state.optimizers().iter().map(|r| r.name()).collect();
    let physical: Vec<&str> = state
        .physical_optimizers()
        .iter()
        .map(|r| r.name())
        .collect();
    let analyzer: Vec<&str> = state.analyzer().rules.iter().map(|r| r.name()).collect();
    assert_eq!(logical, compiled.rules.logical);
    assert_eq!(physical, compiled.rules.physical);
    assert_eq!(analyzer, compiled.rules.analyzer);
    assert!(!logical.contains(&"common_sub_expression_eliminate"));
}

#[tokio::test]
async fn the_default_catalog_and_schema_are_created_and_pinned() {
    let compiled = Policy::load(repo().join("policies/analytics-namespace.toml"))
        .unwrap()
        .compiled;
    let ctx = SessionFactory::new(compiled).unwrap().context().unwrap();
    let tables = tempfile::tempdir().unwrap();
    tpch::write_empty_tables(tables.path()).unwrap();
    tpch::register_tables(&ctx, tables.path()).await.unwrap();
    let qualified = ctx
        .sql("select count(*) as n from warehouse.tpch.region")
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    insta::assert_snapshot!(pretty_format_batches(&qualified).unwrap().to_string(), @r"
    +---+
    | n |
    +---+
    | 0 |
    +---+
    ");
    let catalogs = ctx.catalog_names();
    assert!(catalogs.contains(&"warehouse".to_string()), "{catalogs:?}");
    assert!(ctx.catalog("warehouse").unwrap().schema("tpch").is_some());
}

#[test]
fn unqualified_table_names_are_reported_with_their_position() {
    let sql = "select *\nfrom lineitem, tpch.orders o\njoin warehouse.tpch.customer c on true";
    let found = unqualified_references(sql, "generic", true).unwrap();
    let described: Vec<String> = found
        .iter()
        .map(|r| format!("{}@{}:{}", r.table, r.line, r.column))
        .collect();
    assert_eq!(described, ["lineitem@2:6", "tpch.orders@2:16"]);
}

#[test]
fn cte_names_are_not_tables() {
    let q15 = tpch::QUERIES.iter().find(|q| q.name == "q15").unwrap();
    let found: Vec<String> = unqualified_references(q15.sql, "generic", true)
        .unwrap()
        .into_iter()
        .map(|r| r.table)
        .collect();
    assert_eq!(found, ["lineitem", "supplier"]);
}

#[test]
fn every_tpch_query_names_unqualified_tables() {
    for query in tpch::QUERIES {
        let found = unqualified_references(query.sql, "postgresql", true).unwrap();
        // Each reference points at its name in the text.
        let lines: Vec<&str> = query.sql.lines().collect();
        for r in &found {
            let line = lines[r.line as usize - 1];
            let at: String = line.chars().skip(r.column as usize - 1).collect();
            assert!(
                at.starts_with(&r.table),
                "{}: {r:?} in `{line}`",
                query.name
            );
        }
        // And the tables found are exactly the TPC-H tables the text names as whole words (no
        // column, alias or CTE is taken for one).
        let found: std::collections::BTreeSet<&str> =
            found.iter().map(|r| r.table.as_str()).collect();
        let named: std::collections::BTreeSet<&str> = tpch::TABLES
            .iter()
            .copied()
            .filter(|table| {
                query
                    .sql
                    .split(|c: char| !c.is_alphanumeric() && c != '_')
                    .any(|w| w == *table)
            })
            .collect();
        assert_eq!(found, named, "{}", query.name);
    }
}

#[test]
fn the_factory_applies_the_namespace_check_only_when_the_policy_requires_it() {
    let strict = Policy::load(repo().join("policies/analytics-namespace.toml"))
        .unwrap()
        .compiled;
    let strict = SessionFactory::new(strict).unwrap();
    let found = strict
        .unqualified_references("select * from region")
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(
        (found[0].table.as_str(), found[0].line, found[0].column),
        ("region", 1, 15)
    );
    assert!(
        strict
            .unqualified_references("select * from warehouse.tpch.region")
            .unwrap()
            .is_empty()
    );

    let lax = Policy::load(repo().join("policies/baseline.toml"))
        .unwrap()
        .compiled;
    assert!(
        SessionFactory::new(lax)
            .unwrap()
            .unqualified_references("select * from region")
            .unwrap()
            .is_empty()
    );
}

/// What a session built from a compiled policy does, as comparable values: its settings as
/// `df_settings` reports them, its rules, its runtime, and its answer to the namespace check.
async fn session_behaviour(compiled: dfpolicy::CompiledPolicy) -> String {
    let factory = SessionFactory::new(compiled).unwrap();
    let state = factory.state().unwrap();
    let names = |rules: Vec<&str>| rules.join(",");
    let rules = [
        names(state.analyzer().rules.iter().map(|r| r.name()).collect()),
        names(state.optimizers().iter().map(|r| r.name()).collect()),
        names(
            state
                .physical_optimizers()
                .iter()
                .map(|r| r.name())
                .collect(),
        ),
    ];
    let runtime = factory.runtime_env().unwrap();
    let ctx = factory.context().unwrap();
    let settings = capture_session_settings(&ctx).await.unwrap();
    let namespace = factory
        .unqualified_references("select * from lineitem join warehouse.tpch.orders on true")
        .unwrap();
    let limit = match runtime.memory_pool.memory_limit() {
        MemoryLimit::Finite(bytes) => format!("finite {bytes}"),
        MemoryLimit::Infinite => "infinite".to_string(),
        MemoryLimit::Unknown => "unknown".to_string(),
    };
    format!(
        "{settings:?}\n{rules:?}\n{limit} {:?} {}\n{namespace:?}",
        runtime.memory_pool,
        runtime.disk_manager.max_temp_directory_size(),
    )
}

#[tokio::test]
async fn a_compiled_policy_read_back_from_json_builds_the_same_session() {
    for path in bundled() {
        let original = Policy::load(&path).unwrap().compiled;
        let read_back = dfpolicy::CompiledPolicy::from_json(&original.to_json()).unwrap();
        assert_eq!(read_back, original, "{}", path.display());
        assert_eq!(read_back.hashes, original.hashes);
        let (a, b) = (
            session_behaviour(original.clone()).await,
            session_behaviour(read_back).await,
        );
        assert_eq!(a, b, "{}", path.display());
        // The namespace rule survived: the policy that requires qualified names still reports.
        assert_eq!(
            a.ends_with("[]"),
            !original.namespace.require_qualified_references,
            "{}",
            path.display()
        );
    }
}
