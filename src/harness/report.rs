//! A comparison for people (changes with their causes and plan diffs, then a policies × queries
//! table), as JSON, and as GitHub workflow annotations at the policy or query line that caused a
//! change.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::HarnessRun;
use super::compare::{Cause, CellChange, CellStatus, Comparison};
use crate::policy::options::typed_field_for_key;
use crate::report::render::{escape_data, escape_property};
use crate::secrets::redact;
use crate::workload::Workload;

/// Most diff lines shown per cell in the human report (the JSON report has them all).
const DIFF_LINES: usize = 60;

/// The changes, failures and findings with their causes and diffs, then the table and the counts.
pub fn human(comparison: &Comparison) -> String {
    let mut out = String::new();
    for cell in &comparison.cells {
        if cell.status.fails() && cell.status != CellStatus::InputsChanged {
            out.push_str(&cell_report(cell));
        }
        for finding in &cell.findings {
            out.push_str(&format!(
                "finding: {}: {}: {}\n",
                cell.key(),
                finding.code,
                finding.message
            ));
        }
        for warning in &cell.warnings {
            out.push_str(&format!(
                "warning ({}): {}: {}: {}\n",
                warning.kind(),
                cell.key(),
                warning.step,
                warning.message
            ));
        }
    }
    let stale: Vec<String> = comparison
        .cells
        .iter()
        .filter(|c| c.status == CellStatus::InputsChanged)
        .map(|c| c.key().to_string())
        .collect();
    if !stale.is_empty() {
        out.push_str(&format!(
            "inputs changed, plans unchanged ({}): {}\n  `dfpolicy check --bless` refreshes the \
             baseline\n",
            stale.len(),
            stale.join(", ")
        ));
    }
    if !out.is_empty() {
        out.push('\n');
    }
    out.push_str(&table(comparison));
    out.push_str(&counts_line(comparison));
    redact(&out).into_owned()
}

fn cell_report(cell: &CellChange) -> String {
    let mut out = format!("{}: {}\n", cell.status, cell.key());
    if let Some(error) = &cell.error {
        out.push_str(&format!("  error: {error}\n"));
    }
    if let Some(difference) = &cell.repeat_difference {
        out.push_str(&format!("  {difference}\n"));
    }
    for cause in &cell.causes {
        out.push_str(&format!("  because: {}\n", cause.describe()));
    }
    for expected in &cell.expected {
        out.push_str(&format!("  sensitivity: {expected}\n"));
    }
    if !cell.differing_fields.is_empty() && cell.status == CellStatus::Changed {
        out.push_str(&format!(
            "  differs in: {}\n",
            cell.differing_fields.join(", ")
        ));
    }
    if let Some(first) = &cell.first_difference {
        match (&first.rule, &first.baseline_rule) {
            (rule, Some(baseline_rule)) => out.push_str(&format!(
                "  first difference: the rules differ: baseline ran {baseline_rule}, now {}\n",
                rule.as_ref()
                    .map_or("nothing".to_string(), |r| r.to_string())
            )),
            (Some(rule), None) => out.push_str(&format!("  first differing rule: {rule}\n")),
            (None, None) => out.push_str(&format!(
                "  first difference: the {} plan\n",
                first.plan.replace('_', " ")
            )),
        }
        let lines: Vec<&str> = first.diff.lines().collect();
        for line in lines.iter().take(DIFF_LINES) {
            out.push_str(&format!("    {line}\n"));
        }
        if lines.len() > DIFF_LINES {
            out.push_str(&format!(
                "    … {} more lines (`--format json` has the whole diff)\n",
                lines.len() - DIFF_LINES
            ));
        }
    }
    out
}

/// A queries × policies table: `ok`, `changed`, `FAILED`, `added`, `removed`, `inputs` (inputs
/// changed, plans unchanged), `unstable`; `!` marks a cell with findings.
pub fn table(comparison: &Comparison) -> String {
    let policies: BTreeSet<&str> = comparison.cells.iter().map(|c| c.policy.as_str()).collect();
    let mut rows: BTreeMap<&str, BTreeMap<&str, String>> = BTreeMap::new();
    for cell in &comparison.cells {
        let mark = mark(comparison, cell.status);
        let finding = if cell.findings.is_empty() { "" } else { "!" };
        rows.entry(cell.query.as_str())
            .or_default()
            .insert(cell.policy.as_str(), format!("{mark}{finding}"));
    }
    let first_width = rows.keys().map(|q| q.len()).max().unwrap_or(0).max(5);
    let widths: Vec<usize> = policies.iter().map(|p| p.len().max(8)).collect();
    let mut out = format!("{:first_width$}", "query");
    for (policy, width) in policies.iter().zip(&widths) {
        out.push_str(&format!("  {policy:width$}"));
    }
    out = out.trim_end().to_string();
    out.push('\n');
    for (query, marks) in &rows {
        let mut line = format!("{query:first_width$}");
        for (policy, width) in policies.iter().zip(&widths) {
            let mark = marks.get(policy).map_or("-", String::as_str);
            line.push_str(&format!("  {mark:width$}"));
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// The word the table (and the review page's matrix) shows for a status.
pub fn mark(comparison: &Comparison, status: CellStatus) -> &'static str {
    match status {
        CellStatus::Unchanged => "ok",
        CellStatus::InputsChanged => "inputs",
        CellStatus::Changed => "changed",
        // Without a baseline every cell is new: built is all there is to say.
        CellStatus::Added if comparison.baseline_datafusion_version.is_none() => "ok",
        CellStatus::Added => "added",
        CellStatus::Removed => "removed",
        CellStatus::Failed => "FAILED",
        CellStatus::Unstable => "unstable",
    }
}

/// `110 cells: 108 unchanged, 2 changed`.
pub fn counts_line(comparison: &Comparison) -> String {
    let total: u64 = comparison.counts.values().sum();
    let parts: Vec<String> = comparison
        .counts
        .iter()
        .map(|(status, count)| format!("{count} {status}"))
        .collect();
    let findings: usize = comparison.cells.iter().map(|c| c.findings.len()).sum();
    let mut line = format!("{total} cells: {}", parts.join(", "));
    if findings > 0 {
        line.push_str(&format!(
            "; {}",
            crate::report::counted(findings, "finding", "findings")
        ));
    }
    line.push('\n');
    line
}

/// The comparison as pretty JSON.
pub fn json(comparison: &Comparison) -> String {
    let mut text = serde_json::to_string_pretty(comparison).expect("comparisons serialize");
    text.push('\n');
    redact(&text).into_owned()
}

/// GitHub workflow commands: an `::error` per failing cell and finding, at the line of the policy
/// setting or the query that caused it when one did (and the file exists), else without a place.
pub fn github(comparison: &Comparison, run: &HarnessRun, workload: &Workload) -> String {
    let mut out = String::new();
    for cell in &comparison.cells {
        if cell.status.fails() {
            let title = format!("{} {}", cell.key(), cell.status);
            let mut message = cell_report(cell);
            if message.ends_with('\n') {
                message.pop();
            }
            let place = cell
                .causes
                .iter()
                .find_map(|cause| cause_location(cause, cell, run, workload));
            out.push_str(&annotation("error", place, &title, &message));
        }
        for finding in &cell.findings {
            let place = policy_file(cell, run).map(|file| (file, 1));
            out.push_str(&annotation(
                "error",
                place,
                &format!("{} {}", cell.key(), finding.code),
                &finding.message,
            ));
        }
    }
    let stale = comparison
        .cells
        .iter()
        .filter(|c| c.status == CellStatus::InputsChanged)
        .count();
    if stale > 0 {
        out.push_str(&annotation(
            "notice",
            None,
            "dfpolicy baseline",
            &format!(
                "{stale} cells' inputs changed but not their plans: `dfpolicy check --bless` \
                 refreshes the baseline"
            ),
        ));
    }
    redact(&out).into_owned()
}

fn annotation(command: &str, place: Option<(String, usize)>, title: &str, message: &str) -> String {
    let place = place
        .map(|(file, line)| format!("file={},line={line},", escape_property(&file)))
        .unwrap_or_default();
    format!(
        "::{command} {place}title={}::{}\n",
        escape_property(title),
        escape_data(message)
    )
}

fn policy_file(cell: &CellChange, run: &HarnessRun) -> Option<String> {
    let policy = run.policies.get(&cell.policy)?;
    Path::new(&policy.file)
        .is_file()
        .then(|| policy.file.clone())
}

/// The file and line a cause points at: a query's statement, or the line of the policy file (or
/// of its `extends` parents) that sets a changed key.
fn cause_location(
    cause: &Cause,
    cell: &CellChange,
    run: &HarnessRun,
    workload: &Workload,
) -> Option<(String, usize)> {
    match cause {
        Cause::QueryTemplate { .. } | Cause::QueryText => {
            let name = cell.query.split('@').next().unwrap_or(&cell.query);
            let query = workload.query(name)?;
            let file = query.source.path.to_string_lossy().into_owned();
            Path::new(&file)
                .is_file()
                .then(|| (query.source.display_path.clone(), query.statement.line))
        }
        Cause::PolicySetting { key, .. } => {
            let policy = run.policies.get(&cell.policy)?;
            let names = setting_names(key);
            for source in &policy.chain {
                if !source.path.is_file() {
                    continue;
                }
                for (number, line) in source.text.lines().enumerate() {
                    let line = line.trim_start();
                    if names.iter().any(|name| sets(line, name)) {
                        return Some((source.display_path.clone(), number + 1));
                    }
                }
            }
            policy_file(cell, run).map(|file| (file, 1))
        }
        _ => None,
    }
}

/// The names a policy file may set a compiled key by: the key itself (quoted, in `[settings]`) and
/// the typed field's name (`runtime.memory_limit` and the like: the part after the section).
fn setting_names(key: &str) -> Vec<String> {
    let field = typed_field_for_key(key)
        .map(|(_, field)| field.name)
        .or_else(|| key.rsplit('.').next())
        .unwrap_or(key);
    vec![format!("\"{key}\""), key.to_string(), field.to_string()]
}

/// Whether a TOML line assigns `name`.
fn sets(line: &str, name: &str) -> bool {
    line.strip_prefix(name)
        .is_some_and(|rest| rest.trim_start().starts_with('='))
}
