//! The plan review page: `check`'s comparisons (or one bundle) as one self-contained HTML file —
//! styles and script inline, no network — that a reviewer opens from a CI artifact.
//!
//! The page is plain semantic HTML that reads without scripts: tables for the matrix and the diffs,
//! `<details>` for everything that folds (they fold without scripts). The inline script only
//! filters the matrix and opens a cell's detail when its matrix link is followed. Every text taken
//! from plans, queries, policies and errors is escaped ([`markup::escape`]).
//!
//! Stage: after [`crate::harness`] (it renders its comparisons), before [`crate::cli`].

mod diff;
mod environment;
mod markup;
mod matrix;
mod shared;
mod tree;

use std::fmt::Write as _;

use crate::bundle::PlanBundle;
use crate::harness::baseline::Baseline;
use crate::harness::{Comparison, HarnessRun};
use crate::secrets::redact;
use crate::sensitivity::Sensitivity;
use markup::{Html, escape};
use shared::Shared;

const STYLE: &str = include_str!("page.css");
const SCRIPT: &str = include_str!("page.js");

/// One workload's part of a review page: what `check` compared.
pub struct WorkloadReview<'a> {
    /// The run against the baseline.
    pub comparison: &'a Comparison,
    /// The run (its bundles give the "after" side of each diff).
    pub run: &'a HarnessRun,
    /// The baseline compared with (its bundles give the "before" side of each diff).
    pub baseline: Option<&'a Baseline>,
    /// Where the baseline lives, as the user named it.
    pub baseline_folder: Option<String>,
    /// The sensitivity sweep kept beside the baseline.
    pub sensitivity: Option<&'a Sensitivity>,
}

/// The review page of a `check` run over one or more workloads.
pub fn check_page(workloads: &[WorkloadReview<'_>]) -> String {
    let names: Vec<&str> = workloads
        .iter()
        .map(|w| w.comparison.workload.as_str())
        .collect();
    let mut html = Html::default();
    head(&mut html, &format!("dfpolicy check: {}", names.join(", ")));
    html.raw("<header><h1>dfpolicy plan review</h1>");
    let failing = workloads.iter().filter(|w| w.comparison.fails()).count();
    let _ = write!(
        html,
        "<p class=\"verdict {}\">{}</p>",
        if failing == 0 { "pass" } else { "fail" },
        if failing == 0 {
            "No plan changed: every cell matches its baseline.".to_string()
        } else {
            format!("{failing} of {} workload(s) need review.", workloads.len())
        }
    );
    html.raw("<nav><ul>");
    for (number, review) in workloads.iter().enumerate() {
        let _ = write!(
            html,
            "<li><a href=\"#w{number}\">{}</a>: {}</li>",
            escape(&review.comparison.workload),
            escape(crate::harness::report::counts_line(review.comparison).trim_end())
        );
    }
    html.raw("</ul></nav>");
    filter_form(&mut html, workloads);
    html.raw("</header><main>");
    let mut shared = Shared::default();
    for (number, review) in workloads.iter().enumerate() {
        workload_section(&mut html, number, review, &mut shared);
    }
    shared.write_files(&mut html);
    html.raw("</main>");
    tail(&mut html);
    redact(&html.into_string()).into_owned()
}

/// The filter controls: one checkbox per status present, and a name filter. Hidden until the
/// script shows them (without it they could not work).
fn filter_form(html: &mut Html, workloads: &[WorkloadReview<'_>]) {
    let mut statuses = std::collections::BTreeSet::new();
    for review in workloads {
        for cell in &review.comparison.cells {
            statuses.insert(cell.status);
        }
    }
    html.raw("<form class=\"filter\" id=\"filter\" hidden><fieldset><legend>Show cells</legend>");
    for status in statuses {
        let _ = write!(
            html,
            "<label><input type=\"checkbox\" name=\"status\" value=\"{status}\" checked> \
             <span class=\"badge s-{status}\">{status}</span></label> "
        );
    }
    html.raw(
        "<label>query or policy <input type=\"search\" name=\"name\" placeholder=\"q01, baseline…\"></label> \
         <button type=\"button\" id=\"fold\">fold all plans</button></fieldset></form>",
    );
}

fn workload_section(
    html: &mut Html,
    number: usize,
    review: &WorkloadReview<'_>,
    shared: &mut Shared,
) {
    let comparison = review.comparison;
    let _ = write!(
        html,
        "<section class=\"workload\" id=\"w{number}\"><h2>Workload {}</h2><p>",
        escape(&comparison.workload)
    );
    match (
        &review.baseline_folder,
        &comparison.baseline_datafusion_version,
    ) {
        (Some(folder), Some(version)) => {
            let _ = write!(
                html,
                "Against the baseline in <code>{}</code> (planned by DataFusion {}); now planned by \
                 DataFusion {}. ",
                escape(folder),
                escape(version),
                escape(&comparison.datafusion_version)
            );
        }
        _ => {
            let _ = write!(
                html,
                "No baseline: every cell as planned by DataFusion {}. ",
                escape(&comparison.datafusion_version)
            );
        }
    }
    html.text(crate::harness::report::counts_line(comparison).trim_end());
    html.raw("</p><h3>Policies × queries</h3>");
    matrix::matrix(html, number, review);
    matrix::details(html, number, review, shared);
    html.raw("<h3>Policies</h3>");
    environment::policies(html, review.run);
    if let Some(sweep) = review.sensitivity {
        html.raw("<h3>Sensitivity</h3>");
        environment::sensitivity(html, sweep);
    }
    html.raw("</section>");
}

/// The page of one plan bundle (`dfpolicy bundle --format html`): the query, the physical plan as a
/// tree, the logical plans, the optimizer trace's changing steps, findings and warnings.
pub fn bundle_page(bundle: &PlanBundle) -> String {
    let mut html = Html::default();
    let title = format!(
        "dfpolicy bundle: {} under {}",
        bundle.query.name, bundle.policy.name
    );
    head(&mut html, &title);
    html.raw("<header>");
    html.element("h1", "", &title);
    let _ = write!(
        html,
        "<p>Workload <b>{}</b>, DataFusion {}; plan fingerprint <code>{}</code>; plan environment \
         hash <code>{}</code>.</p></header><main>",
        escape(&bundle.workload),
        escape(&bundle.datafusion_version),
        escape(&bundle.plan_fingerprint),
        escape(&bundle.policy.plan_environment_hash)
    );
    if !bundle.findings.is_empty() || !bundle.warnings.is_empty() {
        html.raw("<h2>Findings and warnings</h2>");
        matrix::notes(&mut html, &bundle.findings, &bundle.warnings);
    }
    html.raw("<h2>Query</h2>");
    html.pre("sql", &bundle.query.statement);
    html.raw("<h2>Physical plan</h2>");
    let mut shared = Shared::default();
    tree::physical_tree(&mut html, bundle, &mut shared);
    for (heading, plan) in [
        ("Initial logical plan", &bundle.plans.initial_logical),
        ("Optimized logical plan", &bundle.plans.optimized_logical),
    ] {
        if let Some(plan) = plan {
            let _ = write!(html, "<details><summary>{heading}</summary>");
            html.pre("plan", plan);
            html.raw("</details>");
        }
    }
    if let Some(trace) = &bundle.optimizer_trace {
        let changing: Vec<_> = trace.steps.iter().filter(|s| s.changed).collect();
        let _ = write!(
            html,
            "<h2>Optimizer trace</h2><p>{} rule applications, {} changed the plan.</p><ol class=\"trace\">",
            trace.steps.len(),
            changing.len()
        );
        for step in changing {
            let _ = write!(
                html,
                "<li><details><summary>{} pass {} #{} <code>{}</code></summary>",
                step.phase,
                step.pass,
                step.index,
                escape(&step.rule)
            );
            if let Some(plan) = &step.plan {
                html.pre("plan", plan);
            }
            html.raw("</details></li>");
        }
        html.raw("</ol>");
    }
    shared.write_files(&mut html);
    html.raw("</main>");
    tail(&mut html);
    redact(&html.into_string()).into_owned()
}

fn head(html: &mut Html, title: &str) {
    let _ = write!(
        html,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"generator\" content=\"dfpolicy {}\"><title>{}</title><style>{STYLE}</style></head><body>",
        env!("CARGO_PKG_VERSION"),
        escape(title)
    );
}

fn tail(html: &mut Html) {
    let _ = writeln!(html, "<script>{SCRIPT}</script></body></html>");
}
