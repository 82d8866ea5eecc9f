//! The baseline folder: what a harness run wrote, to commit and review in pull requests.
//!
//! ```text
//! <baseline>/
//!   index.json                    the run: workload, DataFusion version, policies with their hashes,
//!                                 and per cell its fingerprints, topology hash, statistics quality,
//!                                 pushdown counts, findings and warnings (or its error)
//!   environments/<policy>.json    each policy's compiled environment (`dfpolicy compile --format
//!                                 json`), so that `check` can name the settings that changed
//!   bundles/<policy>/<query>.bundle  one bundle per cell: every multi-line text (plans, EXPLAIN
//!                                 renderings, trace steps) as a plain-text section, then the rest
//!                                 of the bundle as JSON
//! ```
//!
//! A `.bundle` file reads like `EXPLAIN` output in a diff: each section starts with a line
//! `=== <JSON pointer>` (`=== /plans/physical`; a trace step's adds its rule:
//! `=== /optimizer_trace/steps/56/plan  # physical #6 EnsureRequirements`), followed by the text
//! exactly as the bundle holds it;
//! the JSON after `=== json` has `"(section)"` where a section's text was. No file in the folder ends
//! in `.toml`, so `dfpolicy validate` walking a policy folder that contains a baseline ignores it.
//! Everything written goes through the same redaction as every other output.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Cell, CellKey, HarnessRun, PolicyUnderTest};
use crate::bundle::{PlanBundle, PushdownClass, Quality};
use crate::compile::CompiledPolicy;
use crate::secrets::redact;

/// The version of the folder layout.
pub const BASELINE_FORMAT: u32 = 1;
/// The index file's name.
pub const INDEX_FILE: &str = "index.json";
/// The extension of bundle files.
pub const BUNDLE_EXTENSION: &str = "bundle";
/// What a section's text is replaced with in a bundle file's JSON.
const SECTION_PLACEHOLDER: &str = "(section)";
const SECTION_MARK: &str = "=== ";
const JSON_MARK: &str = "=== json";
/// What separates a section's pointer from its label (a trace step's rule) on the mark line.
const LABEL_MARK: &str = "  # ";

/// The index of a baseline folder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BaselineIndex {
    /// The layout version ([`BASELINE_FORMAT`]).
    pub baseline_format: u32,
    /// The workload's name.
    pub workload: String,
    /// The DataFusion release that planned it.
    pub datafusion_version: String,
    /// Each policy, by name.
    pub policies: BTreeMap<String, PolicyEntry>,
    /// By `policy/query`.
    pub cells: BTreeMap<String, CellEntry>,
}

/// A policy of the index: its file and hashes, or why it did not load.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyEntry {
    /// The policy file, as given.
    pub file: String,
    /// Its `policy_hash`; `null` when it did not load.
    pub policy_hash: Option<String>,
    /// Its `settings_hash`.
    pub settings_hash: Option<String>,
    /// Its `plan_environment_hash`.
    pub plan_environment_hash: Option<String>,
    /// The error, on one line.
    pub error: Option<String>,
}

/// A cell of the index: the summary a reviewer scans before opening the bundle file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CellEntry {
    /// `bundles/<policy>/<query>.bundle`; `null` for a failed cell.
    pub file: Option<String>,
    /// The bundle's `query_fingerprint`.
    pub query_fingerprint: Option<String>,
    /// The bundle's `plan_fingerprint`.
    pub plan_fingerprint: Option<String>,
    /// The bundle's `physical_topology_hash`.
    pub physical_topology_hash: Option<String>,
    /// The row-count quality over all scans.
    pub statistics: Option<Quality>,
    /// Filter conjuncts by pushdown class.
    pub pushdown: Option<BTreeMap<PushdownClass, u64>>,
    /// Finding codes.
    pub findings: Vec<String>,
    /// `step: message` of each capture warning.
    pub warnings: Vec<String>,
    /// Why the cell failed.
    pub error: Option<String>,
}

/// A baseline as read back: the index, the environments and every bundle.
#[derive(Debug, Clone, PartialEq)]
pub struct Baseline {
    /// `index.json`.
    pub index: BaselineIndex,
    /// Each policy's compiled environment, by name.
    pub environments: BTreeMap<String, CompiledPolicy>,
    /// Each cell's bundle.
    pub bundles: BTreeMap<CellKey, PlanBundle>,
}

/// A baseline folder that cannot be read or written, with the file it stopped at.
#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    /// A file cannot be read or written.
    #[error("{}: cannot read or write it", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// `index.json` is not an index.
    #[error("{}: not a baseline index", path.display())]
    Index {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
    /// The index is of another layout version.
    #[error(
        "{}: baseline format {found} is not the format this dfpolicy writes ({BASELINE_FORMAT}): \
         rewrite it with `--bless`",
        path.display()
    )]
    Format {
        /// The file.
        path: PathBuf,
        /// The version found.
        found: u32,
    },
    /// A cell key of the index is not `policy/query`.
    #[error("{}: `{key}` is not `policy/query`", path.display())]
    CellKey {
        /// The file.
        path: PathBuf,
        /// The key.
        key: String,
    },
    /// An environment file is not a compiled policy.
    #[error("{}: not a compiled policy", path.display())]
    Environment {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
    /// A bundle file does not read back.
    #[error("{}: not a bundle file", path.display())]
    Bundle {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: BundleFileError,
    },
}

impl BaselineError {
    /// The file the error is about.
    pub fn path(&self) -> &Path {
        match self {
            BaselineError::Io { path, .. }
            | BaselineError::Index { path, .. }
            | BaselineError::Format { path, .. }
            | BaselineError::CellKey { path, .. }
            | BaselineError::Environment { path, .. }
            | BaselineError::Bundle { path, .. } => path,
        }
    }
}

/// A `.bundle` file that does not read back into a bundle.
#[derive(Debug, thiserror::Error)]
pub enum BundleFileError {
    /// No `=== json` line.
    #[error("no `=== json` line")]
    NoJsonPart,
    /// The JSON part is not JSON.
    #[error("the JSON part")]
    Json(#[source] serde_json::Error),
    /// A `===` mark is not a line of its own.
    #[error("a section mark without a line break")]
    MarkWithoutLineBreak,
    /// A plan section does not end with a line break.
    #[error("section `{0}` does not end with a line break")]
    SectionWithoutLineBreak(String),
    /// A plan section has no placeholder in the JSON part.
    #[error("section `{0}` has no `(section)` in the JSON")]
    SectionWithoutPlaceholder(String),
    /// The JSON with its sections put back is not a bundle.
    #[error("the bundle")]
    Bundle(#[source] serde_json::Error),
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> BaselineError + '_ {
    move |source| BaselineError::Io {
        path: path.to_path_buf(),
        source,
    }
}

impl BaselineIndex {
    /// The index of a run.
    pub fn of(run: &HarnessRun) -> BaselineIndex {
        let policies = run
            .policies
            .iter()
            .map(|(name, policy)| (name.clone(), policy_entry(policy)))
            .collect();
        let cells = run
            .cells
            .iter()
            .map(|(key, cell)| (key.to_string(), cell_entry(key, cell)))
            .collect();
        BaselineIndex {
            baseline_format: BASELINE_FORMAT,
            workload: run.workload.clone(),
            datafusion_version: run.datafusion_version.clone(),
            policies,
            cells,
        }
    }
}

fn policy_entry(policy: &PolicyUnderTest) -> PolicyEntry {
    match &policy.compiled {
        Ok(compiled) => PolicyEntry {
            file: policy.file.clone(),
            policy_hash: Some(compiled.hashes.policy_hash.clone()),
            settings_hash: Some(compiled.hashes.settings_hash.clone()),
            plan_environment_hash: Some(compiled.hashes.plan_environment_hash.clone()),
            error: None,
        },
        Err(error) => PolicyEntry {
            file: policy.file.clone(),
            policy_hash: None,
            settings_hash: None,
            plan_environment_hash: None,
            error: Some(crate::report::causes::one_line(error)),
        },
    }
}

fn cell_entry(key: &CellKey, cell: &Cell) -> CellEntry {
    match cell {
        Cell::Built { bundle, .. } => CellEntry {
            file: Some(bundle_file(key)),
            query_fingerprint: Some(bundle.query.query_fingerprint.clone()),
            plan_fingerprint: Some(bundle.plan_fingerprint.clone()),
            physical_topology_hash: bundle.physical_topology_hash.clone(),
            statistics: bundle
                .statistics
                .as_ref()
                .and_then(|s| s.overall.map(|o| o.rows)),
            pushdown: bundle.pushdown.as_ref().map(|p| p.counts.clone()),
            findings: bundle.findings.iter().map(|f| f.code.clone()).collect(),
            warnings: bundle
                .warnings
                .iter()
                .map(|w| format!("{}: {}", w.step, w.message))
                .collect(),
            error: None,
        },
        Cell::Failed { error } => CellEntry {
            file: None,
            query_fingerprint: None,
            plan_fingerprint: None,
            physical_topology_hash: None,
            statistics: None,
            pushdown: None,
            findings: Vec::new(),
            warnings: Vec::new(),
            error: Some(error.clone()),
        },
    }
}

/// Where a cell's bundle lives in the folder, `/`-separated.
pub fn bundle_file(key: &CellKey) -> String {
    format!("bundles/{}/{}.{BUNDLE_EXTENSION}", key.policy, key.query)
}

fn environment_file(policy: &str) -> String {
    format!("environments/{policy}.json")
}

/// Writes a run as a baseline folder, replacing what the folder held (files of cells that no
/// longer exist are removed; the folder's other files are left alone).
pub fn write(run: &HarnessRun, folder: &Path) -> Result<(), BaselineError> {
    for generated in ["bundles", "environments"] {
        let path = folder.join(generated);
        if path.exists() {
            std::fs::remove_dir_all(&path).map_err(io_error(&path))?;
        }
    }
    let index = BaselineIndex::of(run);
    write_file(folder, INDEX_FILE, &pretty(&index))?;
    for (name, policy) in &run.policies {
        if let Ok(compiled) = &policy.compiled {
            write_file(folder, &environment_file(name), &compiled.to_json())?;
        }
    }
    for (key, cell) in &run.cells {
        if let Some(bundle) = cell.bundle() {
            write_file(folder, &bundle_file(key), &to_bundle_file(key, bundle))?;
        }
    }
    Ok(())
}

fn write_file(folder: &Path, relative: &str, text: &str) -> Result<(), BaselineError> {
    let path = folder.join(relative);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(io_error(parent))?;
    }
    std::fs::write(&path, redact(text).as_bytes()).map_err(io_error(&path))
}

fn pretty(value: &impl Serialize) -> String {
    let mut text = serde_json::to_string_pretty(value).expect("the index serializes");
    text.push('\n');
    text
}

/// Whether a folder holds a baseline (its index).
pub fn exists(folder: &Path) -> bool {
    folder.join(INDEX_FILE).is_file()
}

/// Reads a baseline folder back.
pub fn read(folder: &Path) -> Result<Baseline, BaselineError> {
    let index_path = folder.join(INDEX_FILE);
    let text = std::fs::read_to_string(&index_path).map_err(io_error(&index_path))?;
    let index: BaselineIndex =
        serde_json::from_str(&text).map_err(|source| BaselineError::Index {
            path: index_path.clone(),
            source,
        })?;
    if index.baseline_format != BASELINE_FORMAT {
        return Err(BaselineError::Format {
            path: index_path,
            found: index.baseline_format,
        });
    }
    let mut environments = BTreeMap::new();
    for (name, policy) in &index.policies {
        if policy.error.is_some() {
            continue;
        }
        let path = folder.join(environment_file(name));
        let text = std::fs::read_to_string(&path).map_err(io_error(&path))?;
        let compiled =
            CompiledPolicy::from_json(&text).map_err(|source| BaselineError::Environment {
                path: path.clone(),
                source,
            })?;
        environments.insert(name.clone(), compiled);
    }
    let mut bundles = BTreeMap::new();
    for (key_text, cell) in &index.cells {
        let key = CellKey::parse(key_text).ok_or_else(|| BaselineError::CellKey {
            path: index_path.clone(),
            key: key_text.clone(),
        })?;
        if let Some(file) = &cell.file {
            let path = folder.join(file);
            let text = std::fs::read_to_string(&path).map_err(io_error(&path))?;
            let bundle = from_bundle_file(&text).map_err(|source| BaselineError::Bundle {
                path: path.clone(),
                source,
            })?;
            bundles.insert(key, bundle);
        }
    }
    Ok(Baseline {
        index,
        environments,
        bundles,
    })
}

/// A bundle as a `.bundle` file: multi-line texts as sections, then the rest as JSON.
pub fn to_bundle_file(key: &CellKey, bundle: &PlanBundle) -> String {
    let mut value = serde_json::to_value(bundle).expect("bundles serialize");
    let mut sections = Vec::new();
    take_sections(&mut value, &mut String::new(), &mut sections);
    let mut out = format!(
        "# dfpolicy plan bundle of `{}` under policy `{}`: written by `dfpolicy harness` / `check \
         --bless`, not by hand.\n",
        key.query, key.policy
    );
    for (pointer, text) in sections {
        out.push_str(SECTION_MARK);
        out.push_str(&pointer);
        if let Some(label) = step_label(&value, &pointer) {
            out.push_str(LABEL_MARK);
            out.push_str(&label);
        }
        out.push('\n');
        out.push_str(&text);
        out.push('\n');
    }
    out.push_str(JSON_MARK);
    out.push('\n');
    out.push_str(&serde_json::to_string_pretty(&value).expect("bundles serialize"));
    out.push('\n');
    out
}

/// `physical #6 EnsureRequirements` for the plan of a trace step, so that a diff names the rule.
fn step_label(value: &Value, pointer: &str) -> Option<String> {
    let parent = value.pointer(pointer.strip_suffix("/plan")?)?;
    let field = |name: &str| {
        parent
            .get(name)
            .map(|v| v.as_str().map_or(v.to_string(), String::from))
    };
    let (phase, pass, index, rule) = (
        field("phase")?,
        field("pass")?,
        field("index")?,
        field("rule")?,
    );
    Some(if phase == "logical" {
        format!("{phase} pass {pass} #{index} {rule}")
    } else {
        format!("{phase} #{index} {rule}")
    })
}

/// Moves every string with a line break out of `value`, depth first, unless a line of it would read
/// as a section mark.
fn take_sections(value: &mut Value, pointer: &mut String, sections: &mut Vec<(String, String)>) {
    match value {
        Value::String(text)
            if text.contains('\n') && !text.lines().any(|l| l.starts_with(SECTION_MARK)) =>
        {
            let text = std::mem::replace(text, SECTION_PLACEHOLDER.to_string());
            sections.push((pointer.clone(), text));
        }
        Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                let length = pointer.len();
                pointer.push_str(&format!("/{i}"));
                take_sections(item, pointer, sections);
                pointer.truncate(length);
            }
        }
        Value::Object(fields) => {
            for (name, field) in fields.iter_mut() {
                let length = pointer.len();
                pointer.push('/');
                pointer.push_str(&name.replace('~', "~0").replace('/', "~1"));
                take_sections(field, pointer, sections);
                pointer.truncate(length);
            }
        }
        _ => {}
    }
}

/// Reads a `.bundle` file back into the bundle it was written from.
pub fn from_bundle_file(text: &str) -> Result<PlanBundle, BundleFileError> {
    let json_at = find_mark(text, JSON_MARK).ok_or(BundleFileError::NoJsonPart)?;
    let mut value: Value =
        serde_json::from_str(&text[json_at + JSON_MARK.len()..]).map_err(BundleFileError::Json)?;
    let mut rest = &text[..json_at];
    // Each section runs from its mark's line to the next mark; its text is that minus the final
    // line break the writer added.
    while let Some(start) = find_mark(rest, SECTION_MARK) {
        let after = &rest[start + SECTION_MARK.len()..];
        let line_end = after
            .find('\n')
            .ok_or(BundleFileError::MarkWithoutLineBreak)?;
        let mark_line = &after[..line_end];
        let pointer = mark_line.split(LABEL_MARK).next().unwrap_or(mark_line);
        let body_and_rest = &after[line_end + 1..];
        let end = find_mark(body_and_rest, SECTION_MARK).unwrap_or(body_and_rest.len());
        let body = body_and_rest[..end]
            .strip_suffix('\n')
            .ok_or_else(|| BundleFileError::SectionWithoutLineBreak(pointer.to_string()))?;
        match value.pointer_mut(pointer) {
            Some(slot) if slot == SECTION_PLACEHOLDER => *slot = Value::String(body.to_string()),
            _ => {
                return Err(BundleFileError::SectionWithoutPlaceholder(
                    pointer.to_string(),
                ));
            }
        }
        rest = &body_and_rest[end..];
    }
    serde_json::from_value(value).map_err(BundleFileError::Bundle)
}

/// Where a line starting with `mark` starts.
fn find_mark(text: &str, mark: &str) -> Option<usize> {
    if text.starts_with(mark) {
        return Some(0);
    }
    text.find(&format!("\n{mark}")).map(|at| at + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_are_found_only_at_line_starts() {
        assert_eq!(find_mark("=== a", "=== "), Some(0));
        assert_eq!(find_mark("x === a\n=== b", "=== "), Some(8));
        assert_eq!(find_mark("x === a", "=== "), None);
    }

    #[test]
    fn sections_take_multi_line_strings_with_their_pointers() {
        let mut value = serde_json::json!({
            "a/b": "one\ntwo\n",
            "list": ["x", "three\nfour"],
            "odd": "=== not a section\nline",
        });
        let mut sections = Vec::new();
        take_sections(&mut value, &mut String::new(), &mut sections);
        assert_eq!(
            sections,
            vec![
                ("/a~1b".to_string(), "one\ntwo\n".to_string()),
                ("/list/1".to_string(), "three\nfour".to_string()),
            ]
        );
        assert_eq!(value["odd"], "=== not a section\nline");
        assert_eq!(value["list"][1], SECTION_PLACEHOLDER);
    }
}
