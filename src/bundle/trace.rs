//! Recording every rule application of one planning pass: the analyzer's and the logical optimizer's
//! observer callbacks, and physical optimizer rules wrapped so that each hands its output to a
//! recorder. Nothing is re-planned and no `EXPLAIN VERBOSE` text is parsed.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use datafusion::common::Result;
use datafusion::config::ConfigOptions;
use datafusion::execution::SessionStateBuilder;
use datafusion::execution::context::SessionState;
use datafusion::logical_expr::LogicalPlan;
use datafusion::physical_optimizer::{PhysicalOptimizerContext, PhysicalOptimizerRule};
use datafusion::physical_plan::{ExecutionPlan, displayable};

use super::model::{Phase, TraceStep};

/// The steps of one logical phase (analyzer or optimizer), as they happen. A step's plan is
/// rendered only when the plan is not equal to the one before (a cheap structural comparison first),
/// and it counts as changed only when its text differs.
pub(super) struct LogicalRecorder {
    phase: Phase,
    /// The phase's rules by address, to tell a rule's index (names may repeat) and a new pass.
    rules: Vec<*const ()>,
    previous: LogicalPlan,
    previous_text: String,
    last_index: Option<usize>,
    pass: u32,
    pub steps: Vec<TraceStep>,
}

impl LogicalRecorder {
    /// `start_text`: the start plan's `display_indent`, when it is known already.
    pub fn new(
        phase: Phase,
        rules: Vec<*const ()>,
        start: &LogicalPlan,
        start_text: Option<String>,
    ) -> Self {
        LogicalRecorder {
            phase,
            rules,
            previous: start.clone(),
            previous_text: start_text.unwrap_or_else(|| start.display_indent().to_string()),
            last_index: None,
            pass: 0,
            steps: Vec::new(),
        }
    }

    /// The text of the latest plan (after the last rule so far).
    pub fn text(&self) -> &str {
        &self.previous_text
    }

    /// One observer callback: the plan after the rule at `rule` (its address).
    pub fn observe(&mut self, plan: &LogicalPlan, rule: *const (), name: &str) {
        let index = self
            .rules
            .iter()
            .position(|r| std::ptr::addr_eq(*r, rule))
            .unwrap_or(usize::MAX);
        if self.last_index.is_some_and(|last| index <= last) {
            self.pass += 1;
        }
        self.last_index = Some(index);
        let mut step = TraceStep {
            phase: self.phase,
            pass: self.pass,
            index: u32::try_from(index).unwrap_or(u32::MAX),
            rule: name.to_string(),
            changed: false,
            plan: None,
        };
        if *plan != self.previous {
            let text = plan.display_indent().to_string();
            if text != self.previous_text {
                step.changed = true;
                step.plan = Some(text.clone());
                self.previous_text = text;
            }
            self.previous = plan.clone();
        }
        self.steps.push(step);
    }
}

/// A physical plan after one rule (`index` `None`: the initial plan, before any rule).
#[derive(Debug)]
pub(super) struct PhysicalSnapshot {
    pub index: Option<usize>,
    pub rule: String,
    pub plan: Arc<dyn ExecutionPlan>,
}

type Sink = Arc<Mutex<Vec<PhysicalSnapshot>>>;

tokio::task_local! {
    /// Where the recording rules of the planning pass running in this task put their plans. A
    /// session's rules are made once (see [`recording_state`]); each planning pass brings its own
    /// recorder ([`record_physical`]), so passes running at the same time never mix.
    static RECORDER: Sink;
}

/// A physical optimizer rule that records its output in the current task's recorder (if any); with
/// no inner rule it records its input (the initial physical plan) and passes it on.
#[derive(Debug)]
struct RecordingRule {
    index: Option<usize>,
    inner: Option<Arc<dyn PhysicalOptimizerRule + Send + Sync>>,
}

impl RecordingRule {
    fn record(&self, plan: Arc<dyn ExecutionPlan>) -> Arc<dyn ExecutionPlan> {
        let _ = RECORDER.try_with(|sink| {
            sink.lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .push(PhysicalSnapshot {
                    index: self.index,
                    rule: self.name().to_string(),
                    plan: Arc::clone(&plan),
                })
        });
        plan
    }
}

impl PhysicalOptimizerRule for RecordingRule {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        config: &ConfigOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let out = match &self.inner {
            Some(rule) => rule.optimize(plan, config)?,
            None => plan,
        };
        Ok(self.record(out))
    }

    fn optimize_with_context(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        context: &dyn PhysicalOptimizerContext,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let out = match &self.inner {
            Some(rule) => rule.optimize_with_context(plan, context)?,
            None => plan,
        };
        Ok(self.record(out))
    }

    fn name(&self) -> &str {
        self.inner
            .as_ref()
            .map_or("initial_physical_plan", |rule| rule.name())
    }

    fn schema_check(&self) -> bool {
        self.inner.as_ref().is_none_or(|rule| rule.schema_check())
    }
}

/// `state` with every physical optimizer rule wrapped to record its output, and a first rule that
/// records the initial physical plan. Outside [`record_physical`] the rules record nothing.
pub(super) fn recording_state(state: SessionState) -> SessionState {
    let mut rules: Vec<Arc<dyn PhysicalOptimizerRule + Send + Sync>> =
        vec![Arc::new(RecordingRule {
            index: None,
            inner: None,
        })];
    for (index, rule) in state.physical_optimizers().iter().enumerate() {
        rules.push(Arc::new(RecordingRule {
            index: Some(index),
            inner: Some(Arc::clone(rule)),
        }));
    }
    SessionStateBuilder::new_from_existing(state)
        .with_physical_optimizer_rules(rules)
        .build()
}

/// Runs `planning` with a recorder of its own; returns its output and the plans recorded.
pub(super) async fn record_physical<F: std::future::Future>(
    planning: F,
) -> (F::Output, Vec<PhysicalSnapshot>) {
    let sink: Sink = Arc::new(Mutex::new(Vec::new()));
    let output = RECORDER.scope(Arc::clone(&sink), planning).await;
    let snapshots = std::mem::take(&mut *sink.lock().unwrap_or_else(|p| p.into_inner()));
    (output, snapshots)
}

/// Renders physical plans exactly as `displayable(plan).indent(false)` does — each operator's line (its
/// `one_line`, with statistics and schema as asked) indented two spaces a level, depth first — but
/// remembers each operator's line: the plans of one trace share most of their operators, and an
/// operator never changes once planned. The operators stay alive while it remembers them, so an
/// address is never reused for another.
pub(super) struct PhysicalRenderer {
    show_statistics: bool,
    show_schema: bool,
    lines: HashMap<*const (), (Arc<dyn ExecutionPlan>, String)>,
}

impl PhysicalRenderer {
    pub fn new(show_statistics: bool, show_schema: bool) -> Self {
        PhysicalRenderer {
            show_statistics,
            show_schema,
            lines: HashMap::new(),
        }
    }

    pub fn render(&mut self, plan: &Arc<dyn ExecutionPlan>) -> String {
        let mut out = String::new();
        self.render_into(plan, 0, &mut out);
        out
    }

    fn render_into(&mut self, plan: &Arc<dyn ExecutionPlan>, depth: usize, out: &mut String) {
        let (show_statistics, show_schema) = (self.show_statistics, self.show_schema);
        let (_, line) = self
            .lines
            .entry(Arc::as_ptr(plan) as *const ())
            .or_insert_with(|| {
                let line = displayable(plan.as_ref())
                    .set_show_statistics(show_statistics)
                    .set_show_schema(show_schema)
                    .one_line()
                    .to_string();
                (Arc::clone(plan), line)
            });
        for _ in 0..depth {
            out.push_str("  ");
        }
        out.push_str(line);
        for child in plan.children() {
            self.render_into(child, depth + 1, out);
        }
    }
}
