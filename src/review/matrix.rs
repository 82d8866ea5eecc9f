//! One workload's comparison: the policies × queries matrix, each cell linking to its detail, and
//! the details — causes, side-by-side plan diffs and the plan at the first differing rule for a
//! changed cell, findings and warnings, and every cell's physical plan as a tree.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use super::WorkloadReview;
use super::diff::{Extent, side_by_side};
use super::markup::{Html, escape};
use super::shared::Shared;
use super::tree::physical_tree;
use crate::bundle::{BundleFinding, CaptureWarning, PlanBundle};
use crate::harness::report::mark;
use crate::harness::{Cause, CellChange, CellKey, CellStatus, plans_at_first_differing_rule};

/// The id of a cell's detail: the workload's position and the cell's (names may hold anything).
pub fn cell_id(workload: usize, cell: usize) -> String {
    format!("c{workload}-{cell}")
}

/// The matrix: a row per query, a column per policy.
pub fn matrix(html: &mut Html, number: usize, review: &WorkloadReview<'_>) {
    let comparison = review.comparison;
    let policies: BTreeSet<&str> = comparison.cells.iter().map(|c| c.policy.as_str()).collect();
    let mut rows: BTreeMap<&str, BTreeMap<&str, usize>> = BTreeMap::new();
    for (index, cell) in comparison.cells.iter().enumerate() {
        rows.entry(cell.query.as_str())
            .or_default()
            .insert(cell.policy.as_str(), index);
    }
    html.raw("<table class=\"matrix\"><thead><tr><th scope=\"col\">query</th>");
    for policy in &policies {
        let _ = write!(html, "<th scope=\"col\">{}</th>", escape(policy));
    }
    html.raw("</tr></thead><tbody>");
    for (query, cells) in &rows {
        let _ = write!(
            html,
            "<tr data-query=\"{0}\"><th scope=\"row\">{0}</th>",
            escape(query)
        );
        for policy in &policies {
            let Some(&index) = cells.get(policy) else {
                html.raw("<td class=\"cell absent\">-</td>");
                continue;
            };
            let cell = &comparison.cells[index];
            let label = mark(comparison, cell.status);
            let flags = flags(cell);
            let _ = write!(
                html,
                "<td class=\"cell s-{status}\" data-status=\"{status}\" data-policy=\"{policy}\" \
                 data-query=\"{query}\"><a href=\"#{id}\" title=\"{policy} × {query}: {label}{flag_text}\">\
                 {label}{flag_marks}</a></td>",
                status = cell.status,
                policy = escape(policy),
                query = escape(query),
                id = cell_id(number, index),
                flag_text = escape(&flags.0),
                flag_marks = flags.1,
            );
        }
        html.raw("</tr>");
    }
    html.raw("</tbody></table>");
}

/// A cell's findings and warnings: words for the title, marks for the matrix.
fn flags(cell: &CellChange) -> (String, &'static str) {
    let failed_steps = cell.warnings.iter().filter(|w| !w.advisory).count();
    let advisory = cell.warnings.len() - failed_steps;
    let mut words = Vec::new();
    if !cell.findings.is_empty() {
        words.push(format!("{} finding(s)", cell.findings.len()));
    }
    if failed_steps > 0 {
        words.push(format!("{failed_steps} failed capture step(s)"));
    }
    if advisory > 0 {
        words.push(format!("{advisory} advisory warning(s)"));
    }
    let marks = match (!cell.findings.is_empty() || failed_steps > 0, advisory > 0) {
        (true, _) => " !",
        (false, true) => " ⚠",
        _ => "",
    };
    let words = if words.is_empty() {
        String::new()
    } else {
        format!("; {}", words.join(", "))
    };
    (words, marks)
}

/// Every cell's detail, in the comparison's order; cells that need a reviewer's eye first.
pub fn details(html: &mut Html, number: usize, review: &WorkloadReview<'_>, shared: &mut Shared) {
    let comparison = review.comparison;
    let attention = |cell: &CellChange| {
        cell.fails() || !cell.warnings.is_empty() || cell.status == CellStatus::InputsChanged
    };
    let (first, rest): (Vec<_>, Vec<_>) = comparison
        .cells
        .iter()
        .enumerate()
        .partition(|(_, cell)| attention(cell));
    if !first.is_empty() {
        html.raw("<h3>Cells to review</h3>");
        for (index, cell) in first {
            detail(html, number, index, cell, review, shared);
        }
    }
    if !rest.is_empty() {
        html.raw("<h3>Unchanged cells</h3>");
        for (index, cell) in rest {
            detail(html, number, index, cell, review, shared);
        }
    }
}

fn detail(
    html: &mut Html,
    number: usize,
    index: usize,
    cell: &CellChange,
    review: &WorkloadReview<'_>,
    shared: &mut Shared,
) {
    let key = CellKey::new(&cell.policy, &cell.query);
    let now = review.run.cells.get(&key).and_then(|c| c.bundle());
    let before = review.baseline.and_then(|b| b.bundles.get(&key));
    let label = mark(review.comparison, cell.status);
    let id = cell_id(number, index);
    let name = format!("{} × {}", cell.query, cell.policy);
    let _ = write!(
        html,
        "<details class=\"cell-detail\" id=\"{id}\" data-status=\"{status}\" data-policy=\"{policy}\" \
         data-query=\"{query}\"><summary><span class=\"badge s-{status}\">{label}</span> \
         <b>{query}</b> × <b>{policy}</b>{flags}</summary><div class=\"body\">",
        id = id,
        status = cell.status,
        policy = escape(&cell.policy),
        query = escape(&cell.query),
        flags = escape(&flags(cell).0),
    );
    if let Some(error) = &cell.error {
        html.element("p", "error", &format!("error: {error}"));
    }
    if let Some(difference) = &cell.repeat_difference {
        html.element("p", "error", difference);
    }
    causes(html, cell);
    if let (Some(before), Some(now)) = (before, now)
        && cell.status == CellStatus::Changed
    {
        let mut diffs = Html::default();
        plan_diffs(&mut diffs, cell, before, now);
        shared.once(html, "The plan diffs are", diffs.into_string(), &id, &name);
    }
    notes(html, &cell.findings, &cell.warnings);
    let shown = now.or(before);
    if let Some(bundle) = shown {
        html.raw("<h4>Physical plan");
        if now.is_none() {
            html.raw(" (baseline)");
        }
        html.raw("</h4>");
        let mut tree = Html::default();
        physical_tree(&mut tree, bundle, shared);
        shared.once(html, "Physical plan", tree.into_string(), &id, &name);
        summary_line(html, bundle);
    }
    html.raw("</div></details>");
}

/// Why the cell changed, most specific cause first, with what the sensitivity sweep expected.
fn causes(html: &mut Html, cell: &CellChange) {
    if cell.causes.is_empty() {
        return;
    }
    html.raw("<h4>Why</h4><ul class=\"causes\">");
    for cause in &cell.causes {
        let _ = write!(html, "<li data-kind=\"{}\">", cause.kind());
        match cause {
            Cause::PolicySetting {
                key,
                baseline,
                now,
                class,
                ..
            } => {
                let value = |v: &Option<String>| escape(v.as_deref().unwrap_or("NULL"));
                let _ = write!(
                    html,
                    "policy setting <code>{}</code>: <del>{}</del> → <ins>{}</ins> <span class=\"class\">{}</span>",
                    escape(key),
                    value(baseline),
                    value(now),
                    class
                );
            }
            other => html.text(&other.describe()),
        }
        html.raw("</li>");
    }
    html.raw("</ul>");
    if !cell.expected.is_empty() {
        html.raw("<ul class=\"expected\">");
        for expected in &cell.expected {
            html.element("li", "", &format!("sensitivity: {expected}"));
        }
        html.raw("</ul>");
    }
    if !cell.differing_fields.is_empty() {
        html.element(
            "p",
            "fields",
            &format!("differs in: {}", cell.differing_fields.join(", ")),
        );
    }
}

/// The first difference (the plan at the first rule whose output differs, when both sides were
/// traced), then the logical and physical plans side by side.
fn plan_diffs(html: &mut Html, cell: &CellChange, before: &PlanBundle, now: &PlanBundle) {
    if let Some(first) = &cell.first_difference {
        let heading = match (&first.rule, &first.baseline_rule) {
            (rule, Some(baseline_rule)) => format!(
                "First difference: the rules differ: baseline ran {baseline_rule}, now {}",
                rule.as_ref()
                    .map_or("nothing".to_string(), |r| r.to_string())
            ),
            (Some(rule), None) => format!("First differing rule: {rule}"),
            (None, None) => format!(
                "First difference: the {} plan",
                first.plan.replace('_', " ")
            ),
        };
        html.element("h4", "", &heading);
        // The plan at that point of the trace: after the rule, or the physical planner's plan
        // before any physical rule. Other first differences are among the plans diffed below.
        let caption = match (&first.rule, first.plan.as_str()) {
            (Some(_), _) => Some("the plan after that rule"),
            (None, "initial_physical") => Some("the physical plan before the physical optimizer"),
            _ => None,
        };
        if let Some(caption) = caption {
            match plans_at_first_differing_rule(before, now) {
                Some((old, new)) => side_by_side(html, caption, &old, &new, Extent::FirstChange),
                None => unified(html, &first.diff),
            }
        }
    }
    let pairs = [
        (
            "Initial logical plan",
            &before.plans.initial_logical,
            &now.plans.initial_logical,
        ),
        (
            "Optimized logical plan",
            &before.plans.optimized_logical,
            &now.plans.optimized_logical,
        ),
        ("Physical plan", &before.plans.physical, &now.plans.physical),
    ];
    for (caption, old, new) in pairs {
        if old != new {
            side_by_side(
                html,
                caption,
                old.as_deref().unwrap_or(""),
                new.as_deref().unwrap_or(""),
                Extent::Whole,
            );
        }
    }
}

/// A unified diff, each line marked by its first character.
fn unified(html: &mut Html, diff: &str) {
    html.raw("<pre class=\"unified\">");
    for line in diff.lines() {
        let class = match line.as_bytes().first() {
            Some(b'+') if !line.starts_with("+++") => "ins",
            Some(b'-') if !line.starts_with("---") => "del",
            Some(b'@') => "hunk",
            _ => "same",
        };
        let _ = writeln!(html, "<span class=\"{class}\">{}</span>", escape(line));
    }
    html.raw("</pre>");
}

/// A bundle's findings and warnings (a cell's detail, a bundle's page).
pub fn notes(html: &mut Html, findings: &[BundleFinding], warnings: &[CaptureWarning]) {
    if findings.is_empty() && warnings.is_empty() {
        return;
    }
    html.raw("<ul class=\"notes\">");
    for finding in findings {
        let _ = write!(
            html,
            "<li class=\"finding\">finding <code>{}</code>: {}</li>",
            escape(&finding.code),
            escape(&finding.message)
        );
    }
    for warning in warnings {
        let (class, kind) = if warning.advisory {
            ("advisory", "advisory warning")
        } else {
            ("failed-step", "failed capture step")
        };
        let _ = write!(
            html,
            "<li class=\"{class}\">{kind} <code>{}</code>: {}</li>",
            warning.step,
            escape(&warning.message)
        );
    }
    html.raw("</ul>");
}

/// The plan's fingerprint, its output partitioning and overall statistics quality.
fn summary_line(html: &mut Html, bundle: &PlanBundle) {
    let mut parts = vec![format!("plan fingerprint {}", bundle.plan_fingerprint)];
    if let Some(properties) = &bundle.properties {
        parts.push(format!(
            "output {} in {} partition(s)",
            properties.output_partitioning, properties.output_partitions
        ));
    }
    if let Some(overall) = bundle.statistics.as_ref().and_then(|s| s.overall.as_ref()) {
        parts.push(format!(
            "statistics: rows {}, bytes {}, columns {}",
            overall.rows, overall.bytes, overall.columns
        ));
    }
    html.element("p", "summary", &parts.join(" · "));
}
