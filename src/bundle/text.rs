//! A bundle as a summary for people: who planned what, the plans, the rules that changed the plan,
//! warnings. The JSON is the record; this is for reading in a terminal.

use std::fmt::Write as _;

use super::model::{Phase, PlanBundle};

impl PlanBundle {
    /// A summary for people: identity, plans, the trace's changed rules, warnings.
    pub fn to_text(&self) -> String {
        render(self)
    }
}

fn render(bundle: &PlanBundle) -> String {
    let mut out = String::new();
    let query = &bundle.query;
    let _ = write!(out, "query {} ({})", query.name, query.file);
    if let Some(parameters) = &query.parameters {
        let values: Vec<String> = parameters
            .values
            .iter()
            .map(|(k, v)| format!("{k} = {v}"))
            .collect();
        let _ = write!(out, " with `{}`: {}", parameters.name, values.join(", "));
    }
    let _ = writeln!(
        out,
        "\nworkload {}, policy {}, DataFusion {}",
        bundle.workload, bundle.policy.name, bundle.datafusion_version
    );
    let _ = writeln!(out, "plan fingerprint   {}", bundle.plan_fingerprint);
    let _ = writeln!(out, "query fingerprint  {}", query.query_fingerprint);
    if let Some(hash) = &bundle.physical_topology_hash {
        let _ = writeln!(out, "physical topology  {hash}");
    }
    for (name, pin) in &bundle.tables {
        let _ = write!(
            out,
            "table {name}: {} {}, {} file(s)",
            pin.format.as_str(),
            pin.location,
            pin.files
        );
        if let Some(version) = pin.delta_version {
            let _ = write!(out, ", version {version}");
        }
        out.push('\n');
    }
    let plans = &bundle.plans;
    for (title, plan) in [
        ("optimized logical plan", &plans.optimized_logical),
        ("physical plan", &plans.physical),
    ] {
        let _ = writeln!(out, "\n{title}:");
        match plan {
            Some(text) => {
                for line in text.lines() {
                    let _ = writeln!(out, "  {line}");
                }
            }
            None => out.push_str("  (not captured, see the warnings)\n"),
        }
    }
    if let Some(trace) = &bundle.optimizer_trace {
        let changed: Vec<String> = trace
            .steps
            .iter()
            .filter(|s| s.changed)
            .map(|s| {
                format!(
                    "{} #{} {} (pass {})",
                    phase_name(s.phase),
                    s.index,
                    s.rule,
                    s.pass
                )
            })
            .collect();
        let _ = writeln!(
            out,
            "\noptimizer trace: {} step(s), {} changed the plan:",
            trace.steps.len(),
            changed.len()
        );
        for step in changed {
            let _ = writeln!(out, "  {step}");
        }
    }
    if !bundle.delta_scans.is_empty() {
        out.push_str("\nDelta scans:\n");
        for scan in &bundle.delta_scans {
            let table = scan.table.as_deref().unwrap_or("(not a workload table)");
            let _ = write!(out, "  {table}");
            if let Some(version) = scan.version {
                let _ = write!(out, " version {version}");
            }
            let _ = write!(out, ": {} file(s)", scan.files_selected);
            if let Some(total) = scan.files_in_version {
                let _ = write!(out, " of {total}");
            }
            out.push('\n');
        }
    }
    if let Some(rows) = &bundle.analyze {
        out.push_str("\noutput rows (EXPLAIN ANALYZE):\n");
        for operator in rows {
            let rows = operator
                .output_rows
                .map_or_else(|| "-".to_string(), |n| n.to_string());
            let _ = writeln!(
                out,
                "  {}{}: {rows}",
                "  ".repeat(operator.depth as usize),
                operator.operator
            );
        }
    }
    if !bundle.warnings.is_empty() {
        out.push_str("\nwarnings:\n");
        for warning in &bundle.warnings {
            let _ = writeln!(out, "  {}: {}", warning.step, warning.message);
        }
    }
    out
}

fn phase_name(phase: Phase) -> &'static str {
    match phase {
        Phase::Analyzer => "analyzer",
        Phase::Logical => "logical",
        Phase::Physical => "physical",
    }
}
