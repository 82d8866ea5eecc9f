//! Statistics quality: what DataFusion knew about each scan's rows, bytes and columns when it costed
//! the physical plan, read through `StatisticsContext` (the deprecated `partition_statistics` answers
//! `Absent` for the built-in operators in DataFusion 55).

use std::collections::BTreeSet;

use datafusion::common::stats::Precision;
use datafusion::physical_plan::{StatisticsArgs, StatisticsContext};

use super::model::{
    BundleFinding, CaptureStep, CaptureWarning, Quality, ScanStatistics, StatisticsQualities,
    StatisticsReport,
};
use super::scans::{PhysicalScan, is_delta_scan};
use crate::policy::options::StatisticsQuality;

/// The finding code for a scan whose row count is worse than the policy's
/// `[statistics] minimum_quality`.
pub const STATISTICS_BELOW_MINIMUM: &str = "statistics-below-minimum";

/// What the analysis found: the report, the policy's findings, and warnings.
pub(super) struct StatisticsAnalysis {
    pub report: StatisticsReport,
    pub findings: Vec<BundleFinding>,
    pub warnings: Vec<CaptureWarning>,
}

pub(super) fn analyze(
    scans: &[PhysicalScan],
    minimum: StatisticsQuality,
    collect_statistics: bool,
) -> StatisticsAnalysis {
    // Not `Send` (it memoizes in an `Rc`), so it lives only inside this function.
    let context = StatisticsContext::new();
    let args = StatisticsArgs::new();
    let mut warnings = Vec::new();
    let scan_statistics: Vec<ScanStatistics> = scans
        .iter()
        .map(|scan| {
            scan_statistics(&context, &args, scan, collect_statistics).unwrap_or_else(|error| {
                let message = format!(
                    "{} of `{}`: {error}",
                    scan.operator,
                    scan.table.as_deref().unwrap_or("?")
                );
                warnings.push(CaptureWarning::failed(
                    CaptureStep::Statistics,
                    message.clone(),
                ));
                ScanStatistics {
                    table: scan.table.clone(),
                    operator: scan.operator.clone(),
                    quality: StatisticsQualities {
                        rows: Quality::Unknown,
                        bytes: Quality::Unknown,
                        columns: Quality::Unknown,
                    },
                    row_count: None,
                    reason: Some(message),
                }
            })
        })
        .collect();
    let report = StatisticsReport {
        overall: overall(&scan_statistics),
        scans: scan_statistics,
    };
    let findings = below_minimum(&report, minimum);
    warnings.extend(joins_over_unknown_rows(scans, &report));
    StatisticsAnalysis {
        report,
        findings,
        warnings,
    }
}

/// One scan's statistics and their quality, or why DataFusion cannot compute them.
fn scan_statistics(
    context: &StatisticsContext,
    args: &StatisticsArgs,
    scan: &PhysicalScan,
    collect_statistics: bool,
) -> datafusion::common::Result<ScanStatistics> {
    let statistics = context.compute(scan.node.as_ref(), args)?;
    let rows = quality(&statistics.num_rows);
    let bytes = quality(&statistics.total_byte_size);
    let columns = summarize(statistics.column_statistics.iter().flat_map(|column| {
        [
            quality(&column.min_value),
            quality(&column.max_value),
            quality(&column.null_count),
        ]
    }))
    .unwrap_or(Quality::Exact);
    let quality = StatisticsQualities {
        rows,
        bytes,
        columns,
    };
    let reason = [rows, bytes, columns]
        .iter()
        .any(|q| matches!(q, Quality::Unknown | Quality::Mixed))
        .then(|| unknown_reason(scan, &quality, collect_statistics));
    Ok(ScanStatistics {
        table: scan.table.clone(),
        operator: scan.operator.clone(),
        quality,
        row_count: statistics.num_rows.get_value().map(|&n| n as u64),
        reason,
    })
}

/// The qualities over all scans; `None` without scans.
fn overall(scans: &[ScanStatistics]) -> Option<StatisticsQualities> {
    if scans.is_empty() {
        return None;
    }
    let over = |of: fn(&StatisticsQualities) -> Quality| {
        summarize(scans.iter().map(|s| of(&s.quality))).unwrap_or(Quality::Exact)
    };
    Some(StatisticsQualities {
        rows: over(|q| q.rows),
        bytes: over(|q| q.bytes),
        columns: over(|q| q.columns),
    })
}

/// A finding for each scan whose row count is below the policy's `minimum_quality`.
fn below_minimum(report: &StatisticsReport, minimum: StatisticsQuality) -> Vec<BundleFinding> {
    report
        .scans
        .iter()
        .filter(|scan| rank(scan.quality.rows) > policy_rank(minimum))
        .map(|scan| BundleFinding {
            code: STATISTICS_BELOW_MINIMUM.to_string(),
            message: format!(
                "{} of `{}`: row count is {}, the policy asks for at least {minimum}{}",
                scan.operator,
                scan.table.as_deref().unwrap_or("?"),
                scan.quality.rows,
                scan.reason
                    .as_ref()
                    .map(|r| format!(" ({r})"))
                    .unwrap_or_default()
            ),
        })
        .collect()
}

/// Joins whose inputs' sizes DataFusion does not know: join order and build side are guesses.
fn joins_over_unknown_rows(
    scans: &[PhysicalScan],
    report: &StatisticsReport,
) -> Option<CaptureWarning> {
    let mut joins = BTreeSet::new();
    let mut tables = BTreeSet::new();
    for (scan, statistics) in scans.iter().zip(&report.scans) {
        if statistics.quality.rows != Quality::Unknown {
            continue;
        }
        for (depth, (ancestor, _)) in scan.ancestors.iter().enumerate() {
            if ancestor.name().ends_with("JoinExec") {
                joins.insert((depth, ancestor.name().to_string()));
                tables.insert(scan.table.clone().unwrap_or_else(|| "?".to_string()));
            }
        }
    }
    if joins.is_empty() {
        return None;
    }
    let names: BTreeSet<&str> = joins.iter().map(|(_, name)| name.as_str()).collect();
    // Advisory: the planner worked, on guesses a CSV table cannot avoid.
    Some(CaptureWarning::advisory(
        CaptureStep::Statistics,
        format!(
            "{} join(s) ({}) planned over unknown row counts of {}: join order and build sides are guesses",
            joins.len(),
            names.into_iter().collect::<Vec<_>>().join(", "),
            tables
                .iter()
                .map(|t| format!("`{t}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    ))
}

fn quality<T>(precision: &Precision<T>) -> Quality
where
    T: std::fmt::Debug + Clone + PartialEq + Eq + PartialOrd,
{
    match precision {
        Precision::Exact(_) => Quality::Exact,
        Precision::Inexact(_) => Quality::Estimated,
        Precision::Absent => Quality::Unknown,
    }
}

/// One quality when all agree, `mixed` when they differ, `None` for nothing.
fn summarize(qualities: impl IntoIterator<Item = Quality>) -> Option<Quality> {
    let mut summary = None;
    for quality in qualities {
        summary = match summary {
            None => Some(quality),
            Some(seen) if seen == quality => Some(seen),
            Some(_) => return Some(Quality::Mixed),
        };
    }
    summary
}

fn rank(quality: Quality) -> u8 {
    match quality {
        Quality::Exact => 0,
        Quality::Estimated => 1,
        Quality::Unknown | Quality::Mixed => 2,
    }
}

fn policy_rank(quality: StatisticsQuality) -> u8 {
    match quality {
        StatisticsQuality::Exact => 0,
        StatisticsQuality::Estimated => 1,
        StatisticsQuality::Unknown => 2,
    }
}

/// Why a scan's statistics are (partly) unknown: which numbers, and the cause as far as the scan and
/// the session tell it.
fn unknown_reason(
    scan: &PhysicalScan,
    quality: &StatisticsQualities,
    collect_statistics: bool,
) -> String {
    let unknown: Vec<&str> = [
        ("rows", quality.rows),
        ("bytes", quality.bytes),
        ("columns", quality.columns),
    ]
    .into_iter()
    .filter_map(|(what, q)| match q {
        Quality::Unknown => Some(what),
        Quality::Mixed => Some("some columns"),
        Quality::Exact | Quality::Estimated => None,
    })
    .collect();
    let file_type = scan
        .file_scan_config()
        .map(|config| config.file_source.file_type().to_string());
    let has_predicate = scan
        .file_scan_config()
        .is_some_and(|config| config.file_source.filter().is_some());
    let cause = match file_type.as_deref() {
        _ if is_delta_scan(scan.node.as_ref()) => {
            if quality.rows == Quality::Unknown {
                "the Delta log has no numRecords for these files".to_string()
            } else if !has_predicate {
                "delta-rs passes per-file column statistics only to scans with a predicate (delta-rs #4522)"
                    .to_string()
            } else {
                "the Delta log's statistics do not cover them".to_string()
            }
        }
        Some("csv") => "CSV files carry no statistics".to_string(),
        Some(_) if !collect_statistics => {
            "datafusion.execution.collect_statistics = false: file statistics are not read"
                .to_string()
        }
        Some(file_type) => format!("the {file_type} scan does not report them"),
        None => format!("{} does not report them", scan.node.name()),
    };
    format!("{} unknown: {cause}", unknown.join(", "))
}
