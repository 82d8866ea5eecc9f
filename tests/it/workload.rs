//! Workloads: tables (Parquet, CSV, Delta at pinned versions) and queries, from a workload file or built
//! in over generated TPC-H data, registered in sessions made by the `SessionFactory`.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use datafusion::common::stats::Precision;
use datafusion::physical_plan::{ExecutionPlan, StatisticsArgs, StatisticsContext};
use dfpolicy::report::render;
use dfpolicy::workload::show::workload_facts;
use dfpolicy::workload::tpch::data::TpchData;
use dfpolicy::workload::{Location, Workload, delta_scans, validate_workloads};
use dfpolicy::{Code, Policy, SessionFactory, WorkloadError};

use crate::{fixtures, relative, repo};

fn factory(policy: &str) -> SessionFactory {
    let compiled = Policy::load(repo().join("policies").join(policy))
        .unwrap()
        .compiled;
    SessionFactory::new(compiled).unwrap()
}

/// The TPC-H data every test here shares: generated once per build folder, as users get it.
pub(crate) fn tpch_data() -> TpchData {
    TpchData::new(
        &Path::new(env!("CARGO_TARGET_TMPDIR")).join("dfpolicy-data"),
        0.01,
    )
}

/// The built-in workloads over the shared data, with the data generated (once per process).
pub(crate) async fn builtin(delta: bool) -> Workload {
    static READY: OnceLock<tokio::sync::OnceCell<()>> = OnceLock::new();
    let workload = Workload::tpch(tpch_data(), delta);
    READY
        .get_or_init(tokio::sync::OnceCell::new)
        .get_or_init(|| async {
            Workload::tpch(tpch_data(), false)
                .prepare_data()
                .await
                .unwrap();
            Workload::tpch(tpch_data(), true)
                .prepare_data()
                .await
                .unwrap();
        })
        .await;
    workload
}

async fn physical_plan(
    ctx: &datafusion::prelude::SessionContext,
    sql: &str,
) -> Arc<dyn ExecutionPlan> {
    ctx.sql(sql)
        .await
        .unwrap()
        .create_physical_plan()
        .await
        .unwrap()
}

/// Runs a query in its own session and prints the result as a table.
async fn run(
    workload: &Workload,
    factory: &SessionFactory,
    query: &dfpolicy::workload::Query,
) -> String {
    let ctx = workload.query_session(factory, query).await.unwrap();
    let rows = ctx.sql(query.sql()).await.unwrap().collect().await.unwrap();
    datafusion::arrow::util::pretty::pretty_format_batches(&rows)
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn the_example_workload_registers_its_tables_and_prepares_each_query() {
    let workload = Workload::load(repo().join("workloads/sales/sales.toml")).unwrap();
    assert_eq!(workload.name, "sales");
    assert!(
        workload.query_problems.is_empty(),
        "{:?}",
        workload.query_problems
    );
    let names: Vec<&str> = workload.queries().iter().map(|q| q.name.as_str()).collect();
    assert_eq!(names, ["big_spenders", "orders_by_country", "orders_since"]);
    let orders_since = &workload.queries()[2];
    assert_eq!(orders_since.placeholders, ["$country", "$since"]);
    let sets: Vec<&str> = orders_since
        .parameter_sets
        .iter()
        .map(|s| s.name.as_str())
        .collect();
    assert_eq!(sets, ["us-november", "uk-all"]);
    let big_spenders = &workload.queries()[0];
    assert_eq!(big_spenders.preparation.len(), 1);
    assert!(
        big_spenders.preparation[0]
            .text
            .starts_with("CREATE VIEW large_orders")
    );
    assert_eq!(
        (big_spenders.statement.line, big_spenders.statement.column),
        (6, 1)
    );

    let factory = factory("baseline.toml");
    insta::assert_snapshot!(run(&workload, &factory, big_spenders).await, @r"
    +---------+---------+
    | name    | revenue |
    +---------+---------+
    | Barbara | 310.25  |
    | Ada     | 250.0   |
    | Edsger  | 120.0   |
    +---------+---------+
    ");
    // The unpriced order (an empty field) counts but has no amount.
    let second = &workload.queries()[1];
    insta::assert_snapshot!(run(&workload, &factory, second).await, @r"
    +---------+--------+--------+
    | country | orders | priced |
    +---------+--------+--------+
    | NL      | 2      | 2      |
    | UK      | 2      | 1      |
    | US      | 3      | 3      |
    +---------+--------+--------+
    ");
    // Each query gets a fresh session: the view of one query file is not in the next one's session.
    let ctx = workload.query_session(&factory, second).await.unwrap();
    assert!(ctx.table("large_orders").await.is_err());
}

#[tokio::test]
async fn tpch_parquet_is_byte_for_byte_deterministic() {
    let first = tempfile::tempdir().unwrap();
    let second = tempfile::tempdir().unwrap();
    let a = TpchData::new(first.path(), 0.01);
    let b = TpchData::new(second.path(), 0.01);
    a.ensure_parquet().unwrap();
    b.ensure_parquet().unwrap();
    for table in dfpolicy::workload::tpch::TABLES {
        let left = std::fs::read(a.parquet_file(table)).unwrap();
        let right = std::fs::read(b.parquet_file(table)).unwrap();
        assert!(
            left == right,
            "{table}.parquet differs between two generations"
        );
    }
    // Nothing half-written is left next to the data.
    let leftovers: Vec<_> = std::fs::read_dir(&a.dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(leftovers, ["parquet"]);
}

#[tokio::test]
async fn tpch_tables_report_exact_rows_and_files() {
    let facts = workload_facts(&builtin(false).await).await.unwrap();
    let rows: Vec<(String, usize, Option<u64>)> = facts
        .tables
        .iter()
        .map(|t| (t.name.clone(), t.files, t.rows))
        .collect();
    insta::assert_debug_snapshot!(rows, @r#"
    [
        (
            "part",
            1,
            Some(
                2000,
            ),
        ),
        (
            "supplier",
            1,
            Some(
                100,
            ),
        ),
        (
            "partsupp",
            1,
            Some(
                8000,
            ),
        ),
        (
            "customer",
            1,
            Some(
                1500,
            ),
        ),
        (
            "orders",
            1,
            Some(
                15000,
            ),
        ),
        (
            "lineitem",
            1,
            Some(
                60175,
            ),
        ),
        (
            "nation",
            1,
            Some(
                25,
            ),
        ),
        (
            "region",
            1,
            Some(
                5,
            ),
        ),
    ]
    "#);
}

#[tokio::test]
async fn tpch_delta_lineitem_has_two_versions_over_seven_partitions() {
    let facts = workload_facts(&builtin(true).await).await.unwrap();
    let lineitem = facts.tables.iter().find(|t| t.name == "lineitem").unwrap();
    assert_eq!(lineitem.version, Some(1));
    assert_eq!(lineitem.files, 14, "two appends over seven partitions");
    assert_eq!(lineitem.rows, Some(60_175));
    assert_eq!(lineitem.partition_columns, ["l_shipmode"]);
    let orders = facts.tables.iter().find(|t| t.name == "orders").unwrap();
    assert_eq!((orders.version, orders.rows), (Some(0), Some(15_000)));

    // Pinned to version 0: the first half of the orders only.
    let pinned = pinned_lineitem(0);
    let facts = workload_facts(&Workload::load(pinned.path().join("w.toml")).unwrap())
        .await
        .unwrap();
    let lineitem = &facts.tables[0];
    assert_eq!((lineitem.version, lineitem.files), (Some(0), 7));
    assert!(lineitem.rows.unwrap() < 60_175 && lineitem.rows.unwrap() > 25_000);
}

/// A workload file in a temporary folder with `lineitem` of the Delta data pinned to `version`.
pub(crate) fn pinned_lineitem(version: u64) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("q.sql"),
        "SELECT sum(l_quantity) FROM lineitem WHERE l_shipmode = 'MAIL'",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("w.toml"),
        format!(
            "[workload]\nname = \"pinned\"\n\n[[tables]]\nname = \"lineitem\"\nformat = \"delta\"\nlocation = {:?}\nversion = {version}\n\n[queries]\npaths = [\"*.sql\"]\n",
            tpch_data().delta_table("lineitem").display().to_string()
        ),
    )
    .unwrap();
    dir
}

#[tokio::test]
async fn a_partition_predicate_selects_exactly_that_partitions_files() {
    let workload = builtin(true).await;
    let factory = factory("baseline.toml");
    let (ctx, deltas) = workload.session_with_tables(&factory).await.unwrap();
    let scans = |plan| delta_scans(&plan, &deltas, &Default::default());

    let plan = physical_plan(&ctx, "SELECT count(l_quantity) FROM lineitem").await;
    let all = scans(plan);
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].table.as_deref(), Some("lineitem"));
    assert_eq!(
        (all[0].files_in_version, all[0].files_selected),
        (Some(14), 14)
    );

    let mail = scans(
        physical_plan(
            &ctx,
            "SELECT sum(l_quantity) FROM lineitem WHERE l_shipmode = 'MAIL'",
        )
        .await,
    );
    assert_eq!(
        mail[0].files_selected, 2,
        "one file per version in the MAIL partition"
    );
    assert!(
        mail[0]
            .selected
            .iter()
            .all(|f| f.starts_with("l_shipmode=MAIL/")),
        "{:?}",
        mail[0].selected
    );

    // TPC-H Q12's predicate: two ship modes, so 2 of the 7 partitions.
    let q12 = workload.queries().iter().find(|q| q.name == "q12").unwrap();
    let q12 = scans(physical_plan(&ctx, q12.sql()).await);
    let lineitem = q12
        .iter()
        .find(|s| s.table.as_deref() == Some("lineitem"))
        .unwrap();
    assert_eq!(lineitem.files_selected, 4);
    assert!(
        lineitem
            .selected
            .iter()
            .all(|f| f.starts_with("l_shipmode=MAIL/") || f.starts_with("l_shipmode=SHIP/"))
    );

    // A version pin sees exactly that version's files.
    let pinned = pinned_lineitem(0);
    let workload = Workload::load(pinned.path().join("w.toml")).unwrap();
    let (ctx, deltas) = workload.session_with_tables(&factory).await.unwrap();
    let plan = physical_plan(&ctx, workload.queries()[0].sql()).await;
    let pinned = delta_scans(&plan, &deltas, &Default::default());
    assert_eq!(
        (pinned[0].version, pinned[0].files_in_version),
        (Some(0), Some(7))
    );
    assert_eq!(pinned[0].files_selected, 1);
}

#[tokio::test]
async fn collect_statistics_gives_parquet_exact_rows_and_csv_none() {
    let statistics = StatisticsContext::new();
    let rows_of = |plan: &Arc<dyn ExecutionPlan>| {
        let mut scan = Arc::clone(plan);
        while let Some(child) = scan.children().first().map(|c| Arc::clone(c)) {
            scan = child;
        }
        statistics
            .compute(scan.as_ref(), &StatisticsArgs::new())
            .unwrap()
            .num_rows
    };
    let tpch = builtin(false).await;
    let ctx = tpch.session(&factory("baseline.toml")).await.unwrap();
    let plan = physical_plan(&ctx, "SELECT l_orderkey FROM lineitem").await;
    assert_eq!(rows_of(&plan), Precision::Exact(60_175));

    let sales = Workload::load(repo().join("workloads/sales/sales.toml")).unwrap();
    let ctx = sales.session(&factory("baseline.toml")).await.unwrap();
    let plan = physical_plan(&ctx, "SELECT id FROM customers").await;
    assert_eq!(rows_of(&plan), Precision::Absent);
}

#[test]
fn every_bad_workload_has_a_reviewed_report() {
    insta::glob!("../fixtures/workloads/invalid", "*.toml", |path| {
        let report = validate_workloads(&[relative(path)]);
        assert!(report.errors() > 0, "{} produced no error", path.display());
        insta::assert_snapshot!(render::human_report(&report));
    });
}

#[test]
fn every_workload_code_is_exercised_by_a_fixture() {
    let mut seen = std::collections::BTreeSet::new();
    for entry in std::fs::read_dir(fixtures().join("workloads/invalid")).unwrap() {
        let path: PathBuf = relative(&entry.unwrap().path());
        if path.extension().is_some_and(|e| e == "toml") {
            seen.extend(
                validate_workloads(&[path])
                    .diagnostics
                    .iter()
                    .map(|d| d.code),
            );
        }
    }
    // A snapshot folder is a folder, not one file.
    let snapshot = fixtures().join("workloads/unreadable-snapshot/workload.toml");
    let report = validate_workloads(&[relative(&snapshot)]);
    let messages: Vec<&str> = report
        .diagnostics
        .iter()
        .map(|d| d.message.as_str())
        .collect();
    assert!(
        messages
            .iter()
            .any(|m| m.contains("snapshot format 99 is not the format this dfpolicy reads (1)")),
        "{messages:?}"
    );
    seen.extend(report.diagnostics.iter().map(|d| d.code));
    seen.extend(
        validate_workloads(&[PathBuf::from("tpc-h")])
            .diagnostics
            .iter()
            .map(|d| d.code),
    );
    for code in dfpolicy::workload::WORKLOAD_CODES {
        assert!(seen.contains(code), "no workload fixture reports {code}");
    }
}

#[test]
fn a_bad_query_leaves_the_other_queries_loaded() {
    let workload =
        Workload::load(fixtures().join("workloads/one-bad-query/workload.toml")).unwrap();
    let names: Vec<&str> = workload.queries().iter().map(|q| q.name.as_str()).collect();
    assert_eq!(names, ["good"]);
    let codes: Vec<Code> = workload.query_problems.iter().map(|d| d.code).collect();
    assert_eq!(codes, [Code::InvalidSql]);
    let (line, column) = workload.query_problems[0].line_column();
    // DataFusion reads `AND` as a name and stops at `b`.
    assert_eq!((line, column), (3, 18), "the position in the query file");
}

#[tokio::test]
async fn a_table_registered_twice_under_two_spellings_names_the_declaration() {
    let dir = tempfile::tempdir().unwrap();
    let csv = repo().join("workloads/sales/data/customers.csv");
    std::fs::write(dir.path().join("q.sql"), "SELECT 1").unwrap();
    std::fs::write(
        dir.path().join("w.toml"),
        format!(
            "[workload]\nname = \"twice\"\n\n[[tables]]\nname = \"customers\"\nformat = \"csv\"\nlocation = {csv:?}\n\n[[tables]]\nname = \"datafusion.public.customers\"\nformat = \"csv\"\nlocation = {csv:?}\n\n[queries]\npaths = [\"*.sql\"]\n"
        ),
    )
    .unwrap();
    let workload = Workload::load(dir.path().join("w.toml")).unwrap();
    let error = workload
        .session(&factory("baseline.toml"))
        .await
        .err()
        .unwrap();
    let WorkloadError::Table {
        table, declared, ..
    } = &error
    else {
        panic!("{error}");
    };
    assert_eq!(table, "datafusion.public.customers");
    assert!(
        declared.as_deref().unwrap().ends_with("w.toml:10:8"),
        "{error}"
    );
    // DataFusion's own words are the cause.
    let text = dfpolicy::report::causes::one_line(&error);
    assert!(text.contains("already exists"), "{text}");
}

/// A table of another `STORED AS` format (DataFusion's `json` here) is created by the session's
/// factory for it, from the location and the table's `options`, as `CREATE EXTERNAL TABLE` makes it.
#[tokio::test]
async fn a_json_table_is_made_by_the_sessions_factory_with_its_options() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("events")).unwrap();
    std::fs::write(
        dir.path().join("events/a.json"),
        "{\"id\": 1, \"kind\": \"click\"}\n{\"id\": 2, \"kind\": \"view\"}\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("events/b.json"),
        "{\"id\": 3, \"kind\": \"click\"}\n",
    )
    .unwrap();
    // Not a `.json` file: DataFusion's listing leaves it out.
    std::fs::write(dir.path().join("events/notes.txt"), "not json").unwrap();
    std::fs::write(
        dir.path().join("q.sql"),
        "SELECT kind, count(*) AS n FROM events GROUP BY kind ORDER BY kind",
    )
    .unwrap();
    let declare = |options: &str| {
        std::fs::write(
            dir.path().join("w.toml"),
            format!(
                "[workload]\nname = \"json\"\n\n[[tables]]\nname = \"events\"\nformat = \"json\"\nlocation = \"events\"\n{options}\n[queries]\npaths = [\"q.sql\"]\n"
            ),
        )
        .unwrap();
        Workload::load(dir.path().join("w.toml")).unwrap()
    };

    let workload = declare("options = { \"format.schema_infer_max_rec\" = \"10\" }\n");
    let query = &workload.queries()[0];
    assert_eq!(
        run(&workload, &factory("baseline.toml"), query).await,
        "+-------+---+\n\
         | kind  | n |\n\
         +-------+---+\n\
         | click | 2 |\n\
         | view  | 1 |\n\
         +-------+---+"
    );
    let ctx = workload
        .query_session(&factory("baseline.toml"), query)
        .await
        .unwrap();
    let plan = physical_plan(&ctx, query.sql()).await;
    let text = datafusion::physical_plan::displayable(plan.as_ref())
        .indent(true)
        .to_string();
    assert!(text.contains("file_type=json"), "{text}");
    let facts = workload_facts(&workload).await.unwrap();
    assert_eq!(facts.tables[0].format.name(), "json");
    assert_eq!(facts.tables[0].files, 2);
    assert_eq!(facts.tables[0].rows, None);

    // The options reach the factory: DataFusion's JSON options refuse a key they do not have.
    let workload = declare("options = { \"format.no_such_option\" = \"1\" }\n");
    let error = workload
        .session(&factory("baseline.toml"))
        .await
        .err()
        .unwrap();
    let text = dfpolicy::report::causes::one_line(&error);
    assert!(text.contains("no_such_option"), "{text}");
}

#[tokio::test]
async fn a_failing_preparatory_statement_names_its_position() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("q.sql"),
        "CREATE VIEW v AS SELECT * FROM missing_table;\nSELECT * FROM v",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("w.toml"),
        "[workload]\nname = \"prep\"\n\n[queries]\npaths = [\"q.sql\"]\n",
    )
    .unwrap();
    let workload = Workload::load(dir.path().join("w.toml")).unwrap();
    let error = workload
        .query_session(&factory("baseline.toml"), &workload.queries()[0])
        .await
        .err()
        .unwrap();
    let text = dfpolicy::report::causes::one_line(&error);
    assert!(text.starts_with("query `q` ("), "{text}");
    assert!(text.contains("q.sql:1:1): "), "{text}");
    assert!(text.contains("missing_table"), "{text}");
}

#[test]
fn builtin_names_and_locations() {
    let tpch = Workload::load("tpch").unwrap();
    assert_eq!(tpch.queries().len(), 22);
    assert!(tpch.query_problems.is_empty());
    assert_eq!(tpch.tables.len(), 8);
    let Location::Local(path) = &tpch.tables[0].location else {
        panic!("built-in data is local");
    };
    assert!(
        path.ends_with("tpch/sf0.01/parquet/part.parquet"),
        "{}",
        path.display()
    );
    let delta = Workload::load("tpch-delta").unwrap();
    assert_eq!(delta.name, "tpch-delta");
    let report = validate_workloads(&[PathBuf::from("tpch"), PathBuf::from("tpch-delta")]);
    assert!(report.diagnostics.is_empty());
}
