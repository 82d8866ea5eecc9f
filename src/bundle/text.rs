//! A bundle as a summary for people: who planned what, the plans, the rules that changed the plan,
//! warnings. The JSON is the record; this is for reading in a terminal.

use std::fmt::{self, Write as _};

use super::model::{PlanBundle, PushdownClass};

impl PlanBundle {
    /// A summary for people: identity, plans, the trace's changed rules, the analyses, warnings.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        for section in SECTIONS {
            section(self, &mut out).expect("writing to a String cannot fail");
        }
        out
    }
}

/// One part of the summary, written at the end of `out`; empty when the bundle has nothing for it.
type Section = fn(&PlanBundle, &mut String) -> fmt::Result;

/// The summary's parts, in order.
const SECTIONS: [Section; 13] = [
    identity,
    plans,
    distributed_stages,
    trace,
    delta_scans,
    statistics,
    properties,
    pushdown,
    lineage,
    substrait,
    findings,
    output_rows,
    warnings,
];

/// Query, parameters, workload, policy, engine, fingerprints and table pins.
fn identity(bundle: &PlanBundle, out: &mut String) -> fmt::Result {
    let query = &bundle.query;
    write!(out, "query {} ({})", query.name, query.file)?;
    if let Some(parameters) = &query.parameters {
        let values: Vec<String> = parameters
            .values
            .iter()
            .map(|(k, v)| format!("{k} = {v}"))
            .collect();
        write!(out, " with `{}`: {}", parameters.name, values.join(", "))?;
    }
    writeln!(
        out,
        "\nworkload {}, policy {}, DataFusion {}",
        bundle.workload, bundle.policy.name, bundle.datafusion_version
    )?;
    writeln!(out, "plan fingerprint   {}", bundle.plan_fingerprint)?;
    writeln!(out, "query fingerprint  {}", query.query_fingerprint)?;
    if let Some(hash) = &bundle.physical_topology_hash {
        writeln!(out, "physical topology  {hash}")?;
    }
    for (name, pin) in &bundle.tables {
        write!(
            out,
            "table {name}: {} {}, {} file(s)",
            pin.format, pin.location, pin.files
        )?;
        if let Some(version) = pin.delta_version {
            write!(out, ", version {version}")?;
        }
        out.push('\n');
    }
    Ok(())
}

/// P1 and P2, indented.
fn plans(bundle: &PlanBundle, out: &mut String) -> fmt::Result {
    let plans = &bundle.plans;
    for (title, plan) in [
        ("optimized logical plan", &plans.optimized_logical),
        ("physical plan", &plans.physical),
    ] {
        writeln!(out, "\n{title}:")?;
        match plan {
            Some(text) => {
                for line in text.lines() {
                    writeln!(out, "  {line}")?;
                }
            }
            None => out.push_str("  (not captured, see the warnings)\n"),
        }
    }
    Ok(())
}

/// The optimizer steps that changed the plan.
fn trace(bundle: &PlanBundle, out: &mut String) -> fmt::Result {
    let Some(trace) = &bundle.optimizer_trace else {
        return Ok(());
    };
    let changed: Vec<String> = trace
        .steps
        .iter()
        .filter(|s| s.changed)
        .map(|s| format!("{} #{} {} (pass {})", s.phase, s.index, s.rule, s.pass))
        .collect();
    writeln!(
        out,
        "\noptimizer trace: {} step(s), {} changed the plan:",
        trace.steps.len(),
        changed.len()
    )?;
    for step in changed {
        writeln!(out, "  {step}")?;
    }
    Ok(())
}

/// The files each Delta scan reads.
fn delta_scans(bundle: &PlanBundle, out: &mut String) -> fmt::Result {
    if bundle.delta_scans.is_empty() {
        return Ok(());
    }
    out.push_str("\nDelta scans:\n");
    for scan in &bundle.delta_scans {
        let table = scan.table.as_deref().unwrap_or("(not a workload table)");
        write!(out, "  {table}")?;
        if let Some(version) = scan.version {
            write!(out, " version {version}")?;
        }
        write!(out, ": {} file(s)", scan.files_selected)?;
        if let Some(total) = scan.files_in_version {
            write!(out, " of {total}")?;
        }
        out.push('\n');
    }
    Ok(())
}

/// Statistics quality, overall and per scan.
fn statistics(bundle: &PlanBundle, out: &mut String) -> fmt::Result {
    let Some(statistics) = &bundle.statistics else {
        return Ok(());
    };
    match &statistics.overall {
        Some(overall) => writeln!(
            out,
            "\nstatistics: rows {}, bytes {}, columns {}",
            overall.rows, overall.bytes, overall.columns
        )?,
        None => out.push_str("\nstatistics: no scans\n"),
    }
    for scan in &statistics.scans {
        write!(
            out,
            "  {} ({}): rows {}",
            scan.table.as_deref().unwrap_or("?"),
            scan.operator,
            scan.quality.rows
        )?;
        if let Some(rows) = scan.row_count {
            write!(out, " ({rows})")?;
        }
        write!(
            out,
            ", bytes {}, columns {}",
            scan.quality.bytes, scan.quality.columns
        )?;
        if let Some(reason) = &scan.reason {
            write!(out, "; {reason}")?;
        }
        out.push('\n');
    }
    Ok(())
}

/// Output partitioning, operators, and each scan's file groups and pipeline breaker.
fn properties(bundle: &PlanBundle, out: &mut String) -> fmt::Result {
    let Some(properties) = &bundle.properties else {
        return Ok(());
    };
    writeln!(
        out,
        "\nphysical properties: {} output partition(s), {}",
        properties.output_partitions, properties.output_partitioning
    )?;
    for (operator, count) in &properties.operators {
        writeln!(out, "  {count} × {operator}")?;
    }
    for scan in &properties.scans {
        write!(out, "  scan of {}", scan.table.as_deref().unwrap_or("?"))?;
        if let (Some(groups), Some(files)) = (scan.file_groups, scan.files) {
            write!(out, ": {groups} file group(s), {files} file(s)")?;
        }
        match &scan.pipeline_breaker {
            Some(breaker) => writeln!(
                out,
                "; held back by {} at depth {}",
                breaker.operator, breaker.depth
            )?,
            None => out.push_str("; streams to the output\n"),
        }
    }
    Ok(())
}

/// Where each filter conjunct is applied, and the dynamic filters.
fn pushdown(bundle: &PlanBundle, out: &mut String) -> fmt::Result {
    let Some(pushdown) = &bundle.pushdown else {
        return Ok(());
    };
    let count = |class| pushdown.counts.get(&class).copied().unwrap_or(0);
    writeln!(
        out,
        "\nfilter pushdown: {} exact, {} inexact, {} unsupported",
        count(PushdownClass::Exact),
        count(PushdownClass::Inexact),
        count(PushdownClass::Unsupported)
    )?;
    for scan in &pushdown.scans {
        let rows = if scan.row_level {
            " (rows filtered while decoding)"
        } else {
            ""
        };
        writeln!(out, "  {}{rows}:", scan.table)?;
        for conjunct in &scan.conjuncts {
            writeln!(out, "    {:<11} {}", conjunct.class, conjunct.predicate)?;
        }
    }
    for filter in &pushdown.dynamic_filters {
        writeln!(
            out,
            "  dynamic filter on {}: {}",
            filter.table.as_deref().unwrap_or("?"),
            filter.filter
        )?;
    }
    Ok(())
}

/// The columns each scan reads, and the functions the plan calls.
fn lineage(bundle: &PlanBundle, out: &mut String) -> fmt::Result {
    let Some(lineage) = &bundle.lineage else {
        return Ok(());
    };
    out.push_str("\nlineage:\n");
    for scan in &lineage.scans {
        writeln!(out, "  {}: {}", scan.table, scan.columns.join(", "))?;
    }
    if !lineage.functions.is_empty() {
        let functions: Vec<String> = lineage
            .functions
            .iter()
            .map(|f| {
                let origin = if f.built_in { "" } else { ", user-defined" };
                format!("{} ({}{origin})", f.name, f.kind)
            })
            .collect();
        writeln!(out, "  functions: {}", functions.join(", "))?;
    }
    Ok(())
}

/// The Substrait plan's size and how it reads back.
/// A Ballista policy's stage plan: each stage's inputs and output partitioning, then its plan.
fn distributed_stages(bundle: &PlanBundle, out: &mut String) -> fmt::Result {
    let Some(stages) = &bundle.distributed_stages else {
        return Ok(());
    };
    writeln!(
        out,
        "\nBallista stages ({} layout, {} stage(s){}), stage topology {}:",
        stages.layout,
        stages.stages.len(),
        if stages.adaptive {
            "; adaptive execution may change them at run time"
        } else {
            ""
        },
        stages.stage_topology_hash
    )?;
    for stage in &stages.stages {
        write!(
            out,
            "  stage {}: {} partition(s)",
            stage.stage_id, stage.partitions
        )?;
        if !stage.reads_stages.is_empty() {
            write!(out, ", reads stages {:?}", stage.reads_stages)?;
        }
        if !stage.broadcast_reads.is_empty() {
            write!(out, " (broadcast {:?})", stage.broadcast_reads)?;
        }
        if let Some(partitioning) = &stage.output_partitioning {
            write!(out, ", shuffles to {partitioning}")?;
        }
        out.push('\n');
        for line in stage.plan.lines() {
            writeln!(out, "    {line}")?;
        }
    }
    Ok(())
}

fn substrait(bundle: &PlanBundle, out: &mut String) -> fmt::Result {
    let Some(encoded) = &bundle.substrait else {
        return Ok(());
    };
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
    writeln!(
        out,
        "\nSubstrait: {} base64 characters; {round_trip}",
        encoded.len()
    )
}

/// What the policy's expectations say about the plan.
fn findings(bundle: &PlanBundle, out: &mut String) -> fmt::Result {
    if bundle.findings.is_empty() {
        return Ok(());
    }
    out.push_str("\nfindings:\n");
    for finding in &bundle.findings {
        writeln!(out, "  {}: {}", finding.code, finding.message)?;
    }
    Ok(())
}

/// `EXPLAIN ANALYZE`'s row counts, indented by depth.
fn output_rows(bundle: &PlanBundle, out: &mut String) -> fmt::Result {
    let Some(rows) = &bundle.analyze else {
        return Ok(());
    };
    out.push_str("\noutput rows (EXPLAIN ANALYZE):\n");
    for operator in rows {
        let rows = operator
            .output_rows
            .map_or_else(|| "-".to_string(), |n| n.to_string());
        writeln!(
            out,
            "  {}{}: {rows}",
            "  ".repeat(operator.depth as usize),
            operator.operator
        )?;
    }
    Ok(())
}

/// Capture steps that failed.
fn warnings(bundle: &PlanBundle, out: &mut String) -> fmt::Result {
    if bundle.warnings.is_empty() {
        return Ok(());
    }
    out.push_str("\nwarnings:\n");
    for warning in &bundle.warnings {
        let advisory = if warning.advisory { " (advisory)" } else { "" };
        writeln!(out, "  {}{advisory}: {}", warning.step, warning.message)?;
    }
    Ok(())
}

/// A plan line cut to its first 60 characters, for a one-line summary.
fn abbreviated(line: &str) -> String {
    let line = line.trim();
    match line.char_indices().nth(60) {
        Some((end, _)) => format!("{}…", &line[..end]),
        None => line.to_string(),
    }
}
