//! A bundle as a summary for people: who planned what, the plans, the rules that changed the plan,
//! warnings. The JSON is the record; this is for reading in a terminal.

use std::fmt::Write as _;

use super::model::{FunctionKind, Phase, PlanBundle, PushdownClass};

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
    if let Some(statistics) = &bundle.statistics {
        match &statistics.overall {
            Some(overall) => {
                let _ = writeln!(
                    out,
                    "\nstatistics: rows {}, bytes {}, columns {}",
                    overall.rows.as_str(),
                    overall.bytes.as_str(),
                    overall.columns.as_str()
                );
            }
            None => out.push_str("\nstatistics: no scans\n"),
        }
        for scan in &statistics.scans {
            let _ = write!(
                out,
                "  {} ({}): rows {}",
                scan.table.as_deref().unwrap_or("?"),
                scan.operator,
                scan.quality.rows.as_str()
            );
            if let Some(rows) = scan.row_count {
                let _ = write!(out, " ({rows})");
            }
            let _ = write!(
                out,
                ", bytes {}, columns {}",
                scan.quality.bytes.as_str(),
                scan.quality.columns.as_str()
            );
            if let Some(reason) = &scan.reason {
                let _ = write!(out, "; {reason}");
            }
            out.push('\n');
        }
    }
    if let Some(properties) = &bundle.properties {
        let _ = writeln!(
            out,
            "\nphysical properties: {} output partition(s), {}",
            properties.output_partitions, properties.output_partitioning
        );
        for (operator, count) in &properties.operators {
            let _ = writeln!(out, "  {count} × {operator}");
        }
        for scan in &properties.scans {
            let _ = write!(out, "  scan of {}", scan.table.as_deref().unwrap_or("?"));
            if let (Some(groups), Some(files)) = (scan.file_groups, scan.files) {
                let _ = write!(out, ": {groups} file group(s), {files} file(s)");
            }
            match &scan.pipeline_breaker {
                Some(breaker) => {
                    let _ = writeln!(
                        out,
                        "; held back by {} at depth {}",
                        breaker.operator, breaker.depth
                    );
                }
                None => out.push_str("; streams to the output\n"),
            }
        }
    }
    if let Some(pushdown) = &bundle.pushdown {
        let count = |class| pushdown.counts.get(&class).copied().unwrap_or(0);
        let _ = writeln!(
            out,
            "\nfilter pushdown: {} exact, {} inexact, {} unsupported",
            count(PushdownClass::Exact),
            count(PushdownClass::Inexact),
            count(PushdownClass::Unsupported)
        );
        for scan in &pushdown.scans {
            let rows = if scan.row_level {
                " (rows filtered while decoding)"
            } else {
                ""
            };
            let _ = writeln!(out, "  {}{rows}:", scan.table);
            for conjunct in &scan.conjuncts {
                let _ = writeln!(
                    out,
                    "    {:<11} {}",
                    class_name(conjunct.class),
                    conjunct.predicate
                );
            }
        }
        for filter in &pushdown.dynamic_filters {
            let _ = writeln!(
                out,
                "  dynamic filter on {}: {}",
                filter.table.as_deref().unwrap_or("?"),
                filter.filter
            );
        }
    }
    if let Some(lineage) = &bundle.lineage {
        out.push_str("\nlineage:\n");
        for scan in &lineage.scans {
            let _ = writeln!(out, "  {}: {}", scan.table, scan.columns.join(", "));
        }
        if !lineage.functions.is_empty() {
            let functions: Vec<String> = lineage
                .functions
                .iter()
                .map(|f| {
                    let origin = if f.built_in { "" } else { ", user-defined" };
                    format!("{} ({}{origin})", f.name, kind_name(f.kind))
                })
                .collect();
            let _ = writeln!(out, "  functions: {}", functions.join(", "));
        }
    }
    if let Some(encoded) = &bundle.substrait {
        let round_trip = match (bundle.substrait_round_trip, &bundle.substrait_read_back) {
            (Some(true), _) => "reads back to the same optimized plan".to_string(),
            (_, Some(read_back)) => {
                let outputs = if read_back.output_differences.is_empty() {
                    "the same output columns".to_string()
                } else {
                    format!(
                        "other output columns ({})",
                        read_back.output_differences.join("; ")
                    )
                };
                match &read_back.first_difference {
                    Some(line) => format!(
                        "reads back with {outputs}; the optimized text differs from line {}: `{}` became `{}`",
                        line.line,
                        abbreviated(&line.expected),
                        abbreviated(&line.read_back)
                    ),
                    None => format!("reads back with {outputs}"),
                }
            }
            _ => "does not read back".to_string(),
        };
        let _ = writeln!(
            out,
            "\nSubstrait: {} base64 characters; {round_trip}",
            encoded.len()
        );
    }
    if !bundle.findings.is_empty() {
        out.push_str("\nfindings:\n");
        for finding in &bundle.findings {
            let _ = writeln!(out, "  {}: {}", finding.code, finding.message);
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

fn class_name(class: PushdownClass) -> &'static str {
    match class {
        PushdownClass::Exact => "exact",
        PushdownClass::Inexact => "inexact",
        PushdownClass::Unsupported => "unsupported",
    }
}

fn kind_name(kind: FunctionKind) -> &'static str {
    match kind {
        FunctionKind::Scalar => "scalar",
        FunctionKind::Aggregate => "aggregate",
        FunctionKind::Window => "window",
    }
}

/// A plan line cut to its first 60 characters, for a one-line summary.
fn abbreviated(line: &str) -> String {
    let line = line.trim();
    match line.char_indices().nth(60) {
        Some((end, _)) => format!("{}…", &line[..end]),
        None => line.to_string(),
    }
}
