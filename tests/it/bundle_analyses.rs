//! What a bundle says about its plan, beyond the plan: statistics quality, physical properties,
//! filter pushdown, lineage and Substrait — each computed from the plans of the one planning pass.

use std::collections::BTreeMap;

use datafusion::arrow::datatypes::DataType;
use datafusion::logical_expr::{ColumnarValue, Volatility, create_udf};
use dfpolicy::Workload;
use dfpolicy::bundle::{
    Bundler, CaptureStep, FunctionKind, PlanBundle, PushdownClass, Quality,
    STATISTICS_BELOW_MINIMUM, ScanStatistics,
};

use crate::bundle::{baseline_plus, factory, sales};
use crate::workload::{builtin, pinned_lineitem};

fn conjuncts(bundle: &PlanBundle, table: &str) -> Vec<(PushdownClass, String)> {
    let pushdown = bundle.pushdown.as_ref().unwrap();
    pushdown
        .scans
        .iter()
        .filter(|s| s.table == table)
        .flat_map(|s| s.conjuncts.iter().map(|c| (c.class, c.predicate.clone())))
        .collect()
}

fn scan_statistics<'a>(bundle: &'a PlanBundle, table: &str) -> &'a ScanStatistics {
    let statistics = bundle.statistics.as_ref().unwrap();
    statistics
        .scans
        .iter()
        .find(|s| s.table.as_deref() == Some(table))
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn statistics_quality_says_what_datafusion_knew_and_why_not() {
    // Parquet with file statistics: exact row counts where no predicate filters the scan,
    // estimates where one does; the baseline asks for estimates, so no query has a finding.
    let tpch = builtin(false).await;
    let bundler = Bundler::new(&factory("baseline.toml"), &tpch)
        .await
        .unwrap();
    for query in tpch.queries() {
        let bundle = bundler.bundle(query).await.unwrap();
        assert!(
            bundle.findings.is_empty(),
            "{}: {:?}",
            query.name,
            bundle.findings
        );
        assert!(
            bundle.warnings.is_empty(),
            "{}: {:?}",
            query.name,
            bundle.warnings
        );
        let statistics = bundle.statistics.as_ref().unwrap();
        assert!(!statistics.scans.is_empty(), "{}", query.name);
        for scan in &statistics.scans {
            assert_ne!(scan.quality.rows, Quality::Unknown, "{}", query.name);
            assert!(scan.row_count.is_some());
        }
    }
    let q13 = bundler.bundle(tpch.query("q13").unwrap()).await.unwrap();
    let customer = scan_statistics(&q13, "customer");
    // `customer` is read whole in Q13: the footers' count.
    assert_eq!(customer.quality.rows, Quality::Exact);
    assert_eq!(customer.row_count, Some(1500));

    // Without file statistics: unknown, with the reason, a finding per scan, and a warning for the
    // joins planned over them.
    let dir = tempfile::tempdir().unwrap();
    let no_statistics = baseline_plus(
        dir.path(),
        "no-statistics",
        "[settings]\n\"datafusion.execution.collect_statistics\" = false",
    );
    let bundler = Bundler::new(&no_statistics, &tpch).await.unwrap();
    let q03 = bundler.bundle(tpch.query("q03").unwrap()).await.unwrap();
    let statistics = q03.statistics.as_ref().unwrap();
    assert_eq!(statistics.overall.unwrap().rows, Quality::Unknown);
    for scan in &statistics.scans {
        let reason = scan.reason.as_deref().unwrap();
        assert!(reason.contains("collect_statistics = false"), "{reason}");
    }
    assert_eq!(q03.findings.len(), 3, "{:?}", q03.findings);
    assert!(
        q03.findings
            .iter()
            .all(|f| f.code == STATISTICS_BELOW_MINIMUM)
    );
    let warning = q03
        .warnings
        .iter()
        .find(|w| w.step == CaptureStep::Statistics)
        .unwrap();
    assert!(
        warning
            .message
            .contains("planned over unknown row counts of `customer`, `lineitem`, `orders`"),
        "{}",
        warning.message
    );
    assert!(q03.to_text().contains("statistics-below-minimum"));

    // CSV carries none; a policy that accepts unknown statistics has no finding, the warning stays.
    let csv = sales();
    let accepting = baseline_plus(
        dir.path(),
        "accepting",
        "[statistics]\nminimum_quality = \"unknown\"",
    );
    for (factory, findings) in [(factory("baseline.toml"), 2), (accepting, 0)] {
        let bundler = Bundler::new(&factory, &csv).await.unwrap();
        let bundle = bundler
            .bundle(csv.query("orders_by_country").unwrap())
            .await
            .unwrap();
        let statistics = bundle.statistics.as_ref().unwrap();
        assert!(statistics.scans.iter().all(|s| {
            s.reason
                .as_deref()
                .unwrap()
                .contains("CSV files carry no statistics")
        }));
        assert_eq!(bundle.findings.len(), findings);
        assert_eq!(bundle.warnings.len(), 1);
    }

    // Delta: the log's record counts.
    let delta = builtin(true).await;
    let bundler = Bundler::new(&factory("baseline.toml"), &delta)
        .await
        .unwrap();
    let q13 = bundler.bundle(delta.query("q13").unwrap()).await.unwrap();
    let customer = scan_statistics(&q13, "customer");
    assert_eq!(customer.operator, "DeltaScanExec");
    assert_eq!(customer.row_count, Some(1500));
    assert_ne!(customer.quality.rows, Quality::Unknown);
}

#[tokio::test(flavor = "multi_thread")]
async fn physical_properties_count_every_operator_of_the_plan() {
    let tpch = builtin(false).await;
    for policy in ["baseline.toml", "low-memory-smj.toml"] {
        let bundler = Bundler::new(&factory(policy), &tpch).await.unwrap();
        for query in tpch.queries() {
            let bundle = bundler.bundle(query).await.unwrap();
            let properties = bundle.properties.as_ref().unwrap();
            // By operator name, the counts are the plan's lines.
            let mut by_name: BTreeMap<String, u64> = BTreeMap::new();
            for (key, count) in &properties.operators {
                *by_name
                    .entry(key.split([' ', '(']).next().unwrap().to_string())
                    .or_default() += count;
            }
            let mut in_text: BTreeMap<String, u64> = BTreeMap::new();
            for line in bundle.plans.physical.as_deref().unwrap().lines() {
                let name = line.trim_start().split(':').next().unwrap();
                *in_text.entry(name.to_string()).or_default() += 1;
            }
            assert_eq!(by_name, in_text, "{policy} {}", query.name);
            assert_eq!(
                properties.scans.len() as u64,
                in_text.get("DataSourceExec").copied().unwrap_or(0),
                "{}",
                query.name
            );
            assert!(properties.scans.iter().all(|s| s.table.is_some()));
        }
    }

    let bundler = Bundler::new(&factory("baseline.toml"), &tpch)
        .await
        .unwrap();
    let q12 = bundler.bundle(tpch.query("q12").unwrap()).await.unwrap();
    let properties = q12.properties.unwrap();
    assert_eq!(properties.output_partitions, 1);
    assert_eq!(properties.operators["HashJoinExec mode=CollectLeft"], 1);
    assert_eq!(properties.operators["AggregateExec mode=Partial"], 1);
    assert_eq!(properties.operators["DataSourceExec file_type=parquet"], 2);
    let lineitem = &properties.scans[0];
    assert_eq!(lineitem.table.as_deref(), Some("lineitem"));
    // One file, split into byte ranges over the 4 pinned partitions.
    assert_eq!((lineitem.file_groups, lineitem.files), (Some(4), Some(1)));
    let breaker = lineitem.pipeline_breaker.as_ref().unwrap();
    assert_eq!(
        breaker.operator,
        "HashJoinExec mode=CollectLeft (build side)"
    );

    let smj = Bundler::new(&factory("low-memory-smj.toml"), &tpch)
        .await
        .unwrap();
    let q03 = smj.bundle(tpch.query("q03").unwrap()).await.unwrap();
    let operators = &q03.properties.as_ref().unwrap().operators;
    assert!(operators.contains_key("SortMergeJoinExec"), "{operators:?}");
    assert!(!operators.keys().any(|k| k.starts_with("HashJoinExec")));

    // Delta: the scan is delta-rs's, the Parquet scan below it reads the selected files.
    let delta = builtin(true).await;
    let bundler = Bundler::new(&factory("baseline.toml"), &delta)
        .await
        .unwrap();
    let q12 = bundler.bundle(delta.query("q12").unwrap()).await.unwrap();
    let lineitem = &q12.properties.as_ref().unwrap().scans[0];
    assert_eq!(lineitem.operator, "DeltaScanExec");
    assert_eq!(lineitem.files, Some(4));
}

#[tokio::test(flavor = "multi_thread")]
async fn pushdown_classifies_each_conjunct_as_the_physical_plan_applies_it() {
    let tpch = builtin(false).await;
    let q06 = tpch.query("q06").unwrap();
    let dir = tempfile::tempdir().unwrap();

    // By default the Parquet scan prunes with every conjunct and `FilterExec` applies them again.
    let bundler = Bundler::new(&factory("baseline.toml"), &tpch)
        .await
        .unwrap();
    let default = bundler.bundle(q06).await.unwrap();
    let classes = conjuncts(&default, "lineitem");
    assert_eq!(classes.len(), 5, "{classes:?}");
    assert!(classes.iter().all(|(c, _)| *c == PushdownClass::Inexact));
    assert!(!default.pushdown.as_ref().unwrap().scans[0].row_level);

    // With `pushdown_filters` the scan filters rows while decoding and the filter above goes.
    let pushing = baseline_plus(
        dir.path(),
        "pushdown",
        "[settings]\n\"datafusion.execution.parquet.pushdown_filters\" = true",
    );
    let bundler = Bundler::new(&pushing, &tpch).await.unwrap();
    let pushed = bundler.bundle(q06).await.unwrap();
    assert!(
        !pushed
            .plans
            .physical
            .as_deref()
            .unwrap()
            .contains("FilterExec")
    );
    let classes = conjuncts(&pushed, "lineitem");
    assert_eq!(classes.len(), 5);
    assert!(
        classes.iter().all(|(c, _)| *c == PushdownClass::Exact),
        "{classes:?}"
    );
    let scan = &pushed.pushdown.as_ref().unwrap().scans[0];
    assert!(scan.row_level);
    // The provider's answer did not change; the physical plan did.
    assert!(
        scan.conjuncts
            .iter()
            .all(|c| c.logical == PushdownClass::Inexact && c.in_scan_predicate)
    );
    assert_eq!(
        pushed.pushdown.as_ref().unwrap().counts[&PushdownClass::Exact],
        5
    );

    // A volatile conjunct is never offered to the scan.
    let query_dir = tempfile::tempdir().unwrap();
    let file = query_dir.path().join("random.sql");
    std::fs::write(
        &file,
        "SELECT l_orderkey FROM lineitem WHERE l_quantity < 10 AND random() < 0.5",
    )
    .unwrap();
    let query = tpch.query_file(&file).unwrap();
    let bundler = Bundler::new(&factory("baseline.toml"), &tpch)
        .await
        .unwrap();
    let bundle = bundler.bundle(&query).await.unwrap();
    let classes = conjuncts(&bundle, "lineitem");
    assert!(
        classes
            .iter()
            .any(|(c, p)| *c == PushdownClass::Inexact && p.contains("l_quantity")),
        "{classes:?}"
    );
    assert!(
        classes
            .iter()
            .any(|(c, p)| *c == PushdownClass::Unsupported && p.contains("random()")),
        "{classes:?}"
    );

    // Joins fill dynamic filters in at run time; they are listed apart.
    let q12 = bundler.bundle(tpch.query("q12").unwrap()).await.unwrap();
    let dynamic = &q12.pushdown.as_ref().unwrap().dynamic_filters;
    assert_eq!(dynamic.len(), 1, "{dynamic:?}");
    assert_eq!(dynamic[0].table.as_deref(), Some("orders"));
    assert!(dynamic[0].filter.starts_with("DynamicFilter"));

    // Delta: the partition filter is applied while listing files, exactly; the rest is pruning.
    let delta = builtin(true).await;
    let bundler = Bundler::new(&factory("baseline.toml"), &delta)
        .await
        .unwrap();
    let q12 = bundler.bundle(delta.query("q12").unwrap()).await.unwrap();
    let lineitem = &q12.pushdown.as_ref().unwrap().scans[0];
    let partition = lineitem
        .conjuncts
        .iter()
        .find(|c| c.predicate.contains("l_shipmode"))
        .unwrap();
    assert_eq!(partition.class, PushdownClass::Exact);
    assert!(!partition.in_scan_predicate && !partition.in_filter_above);
    assert!(
        lineitem
            .conjuncts
            .iter()
            .filter(|c| !c.predicate.contains("l_shipmode"))
            .all(|c| c.class == PushdownClass::Inexact)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn lineage_names_columns_filters_and_functions() {
    let tpch = builtin(false).await;
    let bundler = Bundler::new(&factory("baseline.toml"), &tpch)
        .await
        .unwrap();
    let q01 = bundler.bundle(tpch.query("q01").unwrap()).await.unwrap();
    let lineage = q01.lineage.as_ref().unwrap();
    assert_eq!(lineage.scans.len(), 1);
    let scan = &lineage.scans[0];
    assert_eq!(scan.table, "lineitem");
    assert_eq!(
        scan.columns,
        [
            "l_quantity",
            "l_extendedprice",
            "l_discount",
            "l_tax",
            "l_returnflag",
            "l_linestatus",
            "l_shipdate"
        ]
    );
    assert_eq!(scan.filters.len(), 1);
    assert!(scan.filters[0].contains("l_shipdate"));
    let functions: Vec<(&str, FunctionKind, bool)> = lineage
        .functions
        .iter()
        .map(|f| (f.name.as_str(), f.kind, f.built_in))
        .collect();
    assert_eq!(
        functions,
        [
            ("avg", FunctionKind::Aggregate, true),
            ("count", FunctionKind::Aggregate, true),
            ("sum", FunctionKind::Aggregate, true)
        ]
    );

    // Subqueries' scans count; Q22 reads `customer` twice and `orders` once.
    let q22 = bundler.bundle(tpch.query("q22").unwrap()).await.unwrap();
    let mut tables: Vec<&str> = q22
        .lineage
        .as_ref()
        .unwrap()
        .scans
        .iter()
        .map(|s| s.table.as_str())
        .collect();
    tables.sort();
    assert_eq!(tables, ["customer", "customer", "orders"]);
    assert!(
        q22.lineage
            .as_ref()
            .unwrap()
            .functions
            .iter()
            .any(|f| f.name == "substr" && f.kind == FunctionKind::Scalar && f.built_in),
        "{:?}",
        q22.lineage
    );

    // An application's own function.
    bundler.session().register_udf(create_udf(
        "shipping_priority",
        vec![DataType::Int64],
        DataType::Int64,
        Volatility::Immutable,
        std::sync::Arc::new(|args: &[ColumnarValue]| Ok(args[0].clone())),
    ));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("udf.sql");
    std::fs::write(
        &file,
        "SELECT shipping_priority(o_orderkey) FROM orders WHERE o_orderkey < 10",
    )
    .unwrap();
    let query = tpch.query_file(&file).unwrap();
    let bundle = bundler.bundle(&query).await.unwrap();
    let functions = &bundle.lineage.as_ref().unwrap().functions;
    assert!(
        functions
            .iter()
            .any(|f| f.name == "shipping_priority" && !f.built_in),
        "{functions:?}"
    );
    assert!(
        bundle
            .to_text()
            .contains("shipping_priority (scalar, user-defined)")
    );
}

/// Substrait is off without the cargo feature; with it, how many TPC-H plans serialize and read back,
/// and what the plans read back keep: the output columns, always; the optimized text, not always.
#[tokio::test(flavor = "multi_thread")]
async fn substrait_plans_are_deterministic_and_checked_by_a_round_trip() {
    let tpch = builtin(false).await;
    let bundler = Bundler::new(&factory("baseline.toml"), &tpch)
        .await
        .unwrap();
    let mut serialized = 0;
    let mut same_text = 0;
    let mut same_outputs = 0;
    for query in tpch.queries() {
        let bundle = bundler.bundle(query).await.unwrap();
        if cfg!(not(feature = "substrait")) {
            assert_eq!(
                (
                    &bundle.substrait,
                    bundle.substrait_round_trip,
                    &bundle.substrait_read_back
                ),
                (&None, None, &None)
            );
            continue;
        }
        match &bundle.substrait {
            Some(encoded) => {
                serialized += 1;
                // Extension declarations are sorted: the same bytes every time.
                let again = bundler.bundle(query).await.unwrap();
                assert_eq!(again.substrait.as_ref(), Some(encoded), "{}", query.name);
                let read_back = bundle.substrait_read_back.as_ref().unwrap_or_else(|| {
                    panic!("{}: {:?}", query.name, bundle.warnings);
                });
                // `substrait_round_trip` is the text comparison; a difference names its line.
                assert_eq!(
                    bundle.substrait_round_trip,
                    Some(read_back.first_difference.is_none()),
                    "{}",
                    query.name
                );
                if let Some(difference) = &read_back.first_difference {
                    assert_ne!(difference.expected, difference.read_back);
                    let line = bundle
                        .plans
                        .optimized_logical
                        .as_deref()
                        .unwrap()
                        .lines()
                        .nth(difference.line - 1)
                        .unwrap_or_default();
                    assert_eq!(line, difference.expected, "{}", query.name);
                    if query.name == "q01" {
                        // The summary says what a reviewer needs first: outputs kept, the text moved.
                        assert!(
                            bundle.to_text().contains(
                                "reads back with the same output columns; the optimized text \
                                 differs from line 1: `Sort: lineitem.l_returnflag ASC NULLS LAST, \
                                 lineitem.l_lines…` became `Projection: "
                            ),
                            "{}",
                            bundle.to_text()
                        );
                    }
                    eprintln!(
                        "{}: line {}: {} | {}",
                        query.name,
                        difference.line,
                        difference.expected.trim(),
                        difference.read_back.trim()
                    );
                } else {
                    same_text += 1;
                }
                assert_eq!(
                    read_back.output_differences,
                    Vec::<String>::new(),
                    "{}: the plan read back from Substrait returns other columns",
                    query.name
                );
                same_outputs += 1;
            }
            None => assert!(
                bundle
                    .warnings
                    .iter()
                    .any(|w| w.step == CaptureStep::Substrait),
                "{}",
                query.name
            ),
        }
    }
    if cfg!(feature = "substrait") {
        eprintln!(
            "substrait: {serialized} of 22 TPC-H plans serialize, {same_outputs} read back with the same \
             output columns, {same_text} to the same optimized text"
        );
        assert!(serialized >= 20, "{serialized} of 22 serialize");
        assert!(same_text >= 1);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_delta_version_pin_is_analyzed_at_that_version() {
    // Make sure the Delta data exists before the pinned workload points at it.
    builtin(true).await;
    let pinned = pinned_lineitem(0);
    let workload = Workload::load(pinned.path().join("w.toml")).unwrap();
    let bundler = Bundler::new(&factory("baseline.toml"), &workload)
        .await
        .unwrap();
    let bundle = bundler.bundle(&workload.queries()[0]).await.unwrap();
    // Version 0 holds 7 files, one per ship mode; `MAIL` reads one of them.
    let scan = &bundle.delta_scans[0];
    assert_eq!(
        (scan.version, scan.files_in_version, scan.files_selected),
        (Some(0), Some(7), 1)
    );
    let properties = &bundle.properties.as_ref().unwrap().scans[0];
    assert_eq!(properties.files, Some(1));
    // The log's record count of version 0's one `MAIL` file, not of the latest version.
    let statistics = scan_statistics(&bundle, "lineitem");
    let rows = statistics.row_count.unwrap();
    assert!(rows > 0 && rows < 60_175 / 7, "{rows}");
    let pushdown = &bundle.pushdown.as_ref().unwrap().scans[0];
    assert_eq!(pushdown.conjuncts[0].class, PushdownClass::Exact);
}

/// One Delta location declared as two tables, the latest version and version 0: every scan of a
/// bundle is its own table's, at that table's version — in the Delta scans, the statistics and the
/// properties — whether a query reads one of them or joins both.
#[tokio::test(flavor = "multi_thread")]
async fn two_tables_over_one_delta_location_are_told_apart() {
    builtin(true).await;
    let dir = tempfile::tempdir().unwrap();
    let location = crate::workload::tpch_data()
        .delta_table("lineitem")
        .display()
        .to_string();
    std::fs::write(
        dir.path().join("old.sql"),
        "SELECT sum(l_quantity) FROM lineitem_v0 WHERE l_shipmode = 'MAIL'",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("both.sql"),
        "SELECT count(*) FROM lineitem a JOIN lineitem_v0 b \
         ON a.l_orderkey = b.l_orderkey AND a.l_linenumber = b.l_linenumber",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("w.toml"),
        format!(
            "[workload]\nname = \"versions\"\n\n\
             [[tables]]\nname = \"lineitem\"\nformat = \"delta\"\nlocation = {location:?}\n\n\
             [[tables]]\nname = \"lineitem_v0\"\nformat = \"delta\"\nlocation = {location:?}\nversion = 0\n\n\
             [queries]\npaths = [\"*.sql\"]\n"
        ),
    )
    .unwrap();
    let workload = Workload::load(dir.path().join("w.toml")).unwrap();
    let bundler = Bundler::new(&factory("baseline.toml"), &workload)
        .await
        .unwrap();
    let bundle = |name: &str| {
        let query = workload.query(name).unwrap().clone();
        let bundler = &bundler;
        async move { bundler.bundle(&query).await.unwrap() }
    };
    let delta = |bundle: &PlanBundle| -> Vec<(Option<String>, Option<u64>, Option<u64>)> {
        let mut scans: Vec<_> = bundle
            .delta_scans
            .iter()
            .map(|s| (s.table.clone(), s.version, s.files_in_version))
            .collect();
        scans.sort();
        scans
    };
    let statistics_tables = |bundle: &PlanBundle| -> Vec<Option<String>> {
        let mut tables: Vec<_> = bundle
            .statistics
            .as_ref()
            .unwrap()
            .scans
            .iter()
            .map(|s| s.table.clone())
            .collect();
        tables.sort();
        tables
    };

    // Version 0 alone: 7 files, one per ship mode, of which `MAIL` reads one.
    let old = bundle("old").await;
    assert_eq!(old.tables.keys().collect::<Vec<_>>(), ["lineitem_v0"]);
    assert_eq!(old.tables["lineitem_v0"].delta_version, Some(0));
    assert_eq!(
        delta(&old),
        [(Some("lineitem_v0".into()), Some(0), Some(7))]
    );
    assert_eq!(old.delta_scans[0].files_selected, 1);
    assert_eq!(statistics_tables(&old), [Some("lineitem_v0".to_string())]);
    let properties = &old.properties.as_ref().unwrap().scans;
    assert_eq!(properties[0].table.as_deref(), Some("lineitem_v0"));

    // Both in one query: each scan is its own table's.
    let both = bundle("both").await;
    assert_eq!(
        delta(&both),
        [
            (Some("lineitem".into()), Some(1), Some(14)),
            (Some("lineitem_v0".into()), Some(0), Some(7)),
        ]
    );
    assert_eq!(
        statistics_tables(&both),
        [
            Some("lineitem".to_string()),
            Some("lineitem_v0".to_string())
        ]
    );
}
