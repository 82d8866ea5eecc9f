//! Where two plannings of a query part ways: the first optimizer rule whose output differs between
//! two optimizer traces, or, without traces, the first of the three plans that differs, each with
//! the plan diff at that point.

use serde::Serialize;
use similar::TextDiff;

use crate::bundle::{OptimizerTrace, Phase, PlanBundle};

/// A rule application, named as the trace names it: physical rule names repeat, so by index too.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TraceStepId {
    /// The rule's phase.
    pub phase: Phase,
    /// The logical optimizer's pass (0 elsewhere).
    pub pass: u32,
    /// The rule's position in its phase's list.
    pub index: u32,
    /// The rule's name.
    pub rule: String,
}

impl std::fmt::Display for TraceStepId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let phase = self.phase;
        match self.phase {
            Phase::Logical => write!(
                f,
                "{phase} pass {} rule #{} {}",
                self.pass, self.index, self.rule
            ),
            _ => write!(f, "{phase} rule #{} {}", self.index, self.rule),
        }
    }
}

/// The first point where the baseline's planning and the current one differ.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FirstDifference {
    /// The rule whose output differs; `null` when the plans differ before any rule ran: the plan a
    /// phase starts from (`plan` names which).
    pub rule: Option<TraceStepId>,
    /// The plan compared: `initial_logical`, `optimized_logical`, `physical`, `initial_physical`,
    /// or `after rule` for a trace step.
    pub plan: String,
    /// Both sides ran different rules at this point (a rule added, removed or moved, or another
    /// number of optimizer passes): `rule` is the current one, this the baseline's.
    pub baseline_rule: Option<TraceStepId>,
    /// A unified diff of the plan text, baseline first.
    pub diff: String,
}

/// One point of a trace: a phase's start plan or a rule's output, with the plan text after it.
struct Checkpoint<'a> {
    rule: Option<TraceStepId>,
    plan_name: &'static str,
    text: &'a str,
}

/// The plan after every point of the trace, from `plans.initial_logical` through the analyzer and
/// the logical optimizer, then from `initial_physical` through the physical optimizer.
fn checkpoints<'a>(bundle: &'a PlanBundle, trace: &'a OptimizerTrace) -> Vec<Checkpoint<'a>> {
    let mut points = vec![Checkpoint {
        rule: None,
        plan_name: "initial_logical",
        text: bundle.plans.initial_logical.as_deref().unwrap_or(""),
    }];
    let mut current = points[0].text;
    let mut physical_started = false;
    for step in &trace.steps {
        if step.phase == Phase::Physical && !physical_started {
            physical_started = true;
            current = trace.initial_physical.as_deref().unwrap_or("");
            points.push(Checkpoint {
                rule: None,
                plan_name: "initial_physical",
                text: current,
            });
        }
        if let Some(plan) = &step.plan {
            current = plan;
        }
        points.push(Checkpoint {
            rule: Some(TraceStepId {
                phase: step.phase,
                pass: step.pass,
                index: step.index,
                rule: step.rule.clone(),
            }),
            plan_name: "after rule",
            text: current,
        });
    }
    points
}

/// Where two traces part ways, with the plan text on each side at that point.
struct Divergence<'a> {
    rule: Option<TraceStepId>,
    plan_name: &'static str,
    baseline_rule: Option<TraceStepId>,
    baseline_text: &'a str,
    current_text: &'a str,
}

fn diverge<'a>(baseline: &'a PlanBundle, current: &'a PlanBundle) -> Option<Divergence<'a>> {
    let (Some(old), Some(new)) = (&baseline.optimizer_trace, &current.optimizer_trace) else {
        return None;
    };
    let (old, new) = (checkpoints(baseline, old), checkpoints(current, new));
    for (before, after) in old.iter().zip(new.iter()) {
        if before.rule != after.rule || before.text != after.text {
            return Some(Divergence {
                rule: after.rule.clone(),
                plan_name: after.plan_name,
                baseline_rule: (before.rule != after.rule)
                    .then(|| before.rule.clone())
                    .flatten(),
                baseline_text: before.text,
                current_text: after.text,
            });
        }
    }
    if old.len() != new.len() {
        // One trace is a prefix of the other: the longer one ran more rules (another pass).
        let (last_old, last_new) = (old.get(new.len()), new.get(old.len()));
        return Some(Divergence {
            rule: last_new.and_then(|p| p.rule.clone()),
            plan_name: "after rule",
            baseline_rule: last_old.and_then(|p| p.rule.clone()),
            baseline_text: last_old.map_or("", |p| p.text),
            current_text: last_new.map_or("", |p| p.text),
        });
    }
    None
}

/// The first rule whose output differs, when both bundles carry a trace.
pub fn first_differing_rule(
    baseline: &PlanBundle,
    current: &PlanBundle,
) -> Option<FirstDifference> {
    diverge(baseline, current).map(|d| FirstDifference {
        diff: unified(d.baseline_text, d.current_text),
        rule: d.rule,
        plan: d.plan_name.to_string(),
        baseline_rule: d.baseline_rule,
    })
}

/// The whole plan text, baseline's and current, at the first rule whose output differs (what
/// [`first_differing_rule`] diffs), when both bundles carry a trace.
pub fn plans_at_first_differing_rule(
    baseline: &PlanBundle,
    current: &PlanBundle,
) -> Option<(String, String)> {
    diverge(baseline, current).map(|d| (d.baseline_text.to_string(), d.current_text.to_string()))
}

/// Without traces: the first of the initial logical, optimized logical and physical plans that
/// differs, then a Ballista policy's stage plan.
pub fn first_differing_plan(
    baseline: &PlanBundle,
    current: &PlanBundle,
) -> Option<FirstDifference> {
    let plans = |b: &PlanBundle| {
        [
            ("initial_logical", b.plans.initial_logical.clone()),
            ("optimized_logical", b.plans.optimized_logical.clone()),
            ("physical", b.plans.physical.clone()),
            (
                "distributed_stages",
                b.distributed_stages.as_ref().map(stages_text),
            ),
        ]
    };
    plans(baseline)
        .into_iter()
        .zip(plans(current))
        .find(|((_, old), (_, new))| old != new)
        .map(|((name, old), (_, new))| FirstDifference {
            rule: None,
            plan: name.to_string(),
            baseline_rule: None,
            diff: unified(old.as_deref().unwrap_or(""), new.as_deref().unwrap_or("")),
        })
}

/// A stage plan as one text to diff: each stage's header (id, the stages it reads, its output
/// partitioning), then its plan.
pub fn stages_text(stages: &crate::bundle::DistributedStages) -> String {
    let mut text = format!(
        "{} layout{}\n",
        stages.layout,
        if stages.adaptive {
            " (adaptive execution may change it)"
        } else {
            ""
        }
    );
    for stage in &stages.stages {
        text.push_str(&format!(
            "stage {} ({} partitions; reads {:?}, broadcast {:?}; output {})\n{}\n",
            stage.stage_id,
            stage.partitions,
            stage.reads_stages,
            stage.broadcast_reads,
            stage
                .output_partitioning
                .as_deref()
                .unwrap_or("as its input"),
            stage.plan
        ));
    }
    text
}

/// A unified diff with three lines of context, `baseline` then `now`.
pub fn unified(old: &str, new: &str) -> String {
    TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header("baseline", "now")
        .to_string()
}
