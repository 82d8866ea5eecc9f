//! Checks against DataFusion's own option registry and rule names, per file and on the merged policy.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::policy::byte_size::{ByteSize, ByteSizeError};
use crate::policy::document::{Node, NodeValue, PathSegment};
use crate::policy::load::PolicyChain;
use crate::policy::options::FieldValue;
use crate::policy::options::{FieldKind, SECTIONS};
use crate::registry::ballista::{self, BALLISTA_PREFIX};
use crate::registry::{
    DATAFUSION_VERSION, DYNAMIC_FILTER_SUB_FLAGS, DYNAMIC_FILTER_UMBRELLA, FORCED_SETTINGS,
    MACHINE_DEPENDENT_KEYS, ValueKind, registry,
};
use crate::registry::{RejectedBy, ValueError, ValueProblem};
use crate::report::{Code, Diagnostic, Location, MAX_FINDINGS_PER_KIND, SourceFile};

use super::suggest::closest;

/// What the registry said about one value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Checked {
    /// Accepted; DataFusion's rendering of the value.
    Canonical(String),
    /// The right TOML type, but not a value at all (a byte size that does not parse).
    Unreadable(String),
    /// DataFusion, or dfpolicy on its behalf, rejects the value.
    Rejected(ValueError),
    /// The wrong TOML type: the schema layer reports it.
    WrongType,
}

/// One place in a policy tree that sets a DataFusion key, with the verdict on its value.
#[derive(Debug, Clone)]
pub struct Setter<'a> {
    pub key: String,
    pub checked: Checked,
    pub node: &'a Node,
    /// `[joins].prefer_hash_join` or `[settings]`, for messages.
    pub via: String,
    /// `joins.prefer_hash_join`, or the key for `[settings]`, for messages about the value.
    pub label: String,
}

impl Setter<'_> {
    pub fn canonical(&self) -> Option<&str> {
        match &self.checked {
            Checked::Canonical(value) => Some(value),
            _ => None,
        }
    }

    fn is_settings_entry(&self) -> bool {
        self.via == "[settings]"
    }
}

/// Every DataFusion key one tree sets, typed fields first, then `[settings]`; each value checked
/// against the registry exactly once.
pub type Settings<'a> = BTreeMap<String, Vec<Setter<'a>>>;

pub fn explicit_settings(tree: &Node) -> Settings<'_> {
    let registry = registry();
    let check = |key: &str, text: String| match registry.check_value(key, &text) {
        Ok(canonical) => Checked::Canonical(canonical.0),
        Err(error) => Checked::Rejected(error),
    };
    let mut out: Settings<'_> = BTreeMap::new();
    for (section, fields) in SECTIONS {
        let Some(table) = tree.get(section) else {
            continue;
        };
        for field in *fields {
            let (Some(key), Some(node)) = (field.key, table.get(field.name)) else {
                continue;
            };
            let checked = match field_text(node, field.kind) {
                Ok(Some(text)) => check(key, text),
                Ok(None) => Checked::WrongType,
                Err(error) => Checked::Unreadable(error.to_string()),
            };
            out.entry(key.to_string()).or_default().push(Setter {
                key: key.to_string(),
                checked,
                node,
                via: format!("[{section}].{}", field.name),
                label: format!("{section}.{}", field.name),
            });
        }
    }
    if let Some(settings) = tree.get("settings").and_then(Node::as_table) {
        for (key, node) in settings {
            let Some(option) = registry.option(key) else {
                continue;
            };
            let checked = match setting_text(node, option.kind) {
                Some(text) => check(key, text),
                None => Checked::WrongType,
            };
            out.entry(key.clone()).or_default().push(Setter {
                key: key.clone(),
                checked,
                node,
                via: "[settings]".to_string(),
                label: key.clone(),
            });
        }
    }
    out
}

/// The settings in force for a chain (its files' settings, the policy first), as merging the files
/// would give them: per key and per place (typed field or `[settings]`), the nearest file's setter;
/// typed fields before `[settings]`.
pub fn effective<'a, 'b>(per_source: &'b [Settings<'a>]) -> BTreeMap<&'b str, Vec<&'b Setter<'a>>> {
    let mut out: BTreeMap<&str, Vec<&Setter<'a>>> = BTreeMap::new();
    for settings in per_source {
        for (key, setters) in settings {
            let entry = out.entry(key.as_str()).or_default();
            for setter in setters {
                if !entry.iter().any(|e| e.via == setter.via) {
                    entry.push(setter);
                }
            }
        }
    }
    for setters in out.values_mut() {
        setters.sort_by_key(|s| s.is_settings_entry());
    }
    out
}

/// A typed field's value as DataFusion's `set` takes it. `Ok(None)` when the TOML type is wrong
/// (the schema layer reports that); `Err` when the value has the right type but cannot be read.
pub fn field_text(node: &Node, kind: FieldKind) -> Result<Option<String>, ByteSizeError> {
    let fits = match (kind, &node.value) {
        (FieldKind::Boolean, NodeValue::Boolean(_))
        | (FieldKind::Float, NodeValue::Float(_) | NodeValue::Integer(_))
        | (FieldKind::Text | FieldKind::Choice, NodeValue::String(_)) => true,
        (FieldKind::Integer, NodeValue::Integer(i)) => *i >= 0,
        (FieldKind::Bytes, NodeValue::Integer(i)) => {
            return ByteSize::from_integer(*i).map(|size| Some(size.engine_text()));
        }
        (FieldKind::Bytes, NodeValue::String(s)) => {
            return s.parse::<ByteSize>().map(|size| Some(size.engine_text()));
        }
        _ => false,
    };
    Ok(fits.then(|| node.scalar_text()).flatten())
}

/// A `[settings]` value as text, when its TOML type fits the option's kind.
fn setting_text(node: &Node, kind: ValueKind) -> Option<String> {
    match (kind, &node.value) {
        (ValueKind::Boolean, NodeValue::Boolean(_))
        | (ValueKind::UnsignedInteger | ValueKind::SignedInteger, NodeValue::Integer(_))
        | (ValueKind::Float, NodeValue::Float(_) | NodeValue::Integer(_))
        | (ValueKind::Capacity, NodeValue::String(_) | NodeValue::Integer(_))
        | (ValueKind::Text | ValueKind::Choice | ValueKind::Duration, NodeValue::String(_)) => {
            node.scalar_text()
        }
        _ => None,
    }
}

/// The finding code for a value the registry rejects.
fn rejection_code(error: &ValueError) -> Code {
    match error.problem {
        ValueProblem::OutOfRange => Code::OutOfRange,
        ValueProblem::UnknownKey => Code::UnknownSetting,
        ValueProblem::Invalid => Code::InvalidValue,
    }
}

fn location(chain: &PolicyChain, node: &Node) -> Location {
    Location::new(&chain.source(node.origin).file, node.span.clone())
}

/// Checks of one file of a chain on its own: values DataFusion rejects, rule names, the engine
/// requirement, and settings that repeat DataFusion's default. `per_source` holds
/// [`explicit_settings`] of every file of the chain, in chain order.
pub fn check_source(
    chain: &PolicyChain,
    index: usize,
    per_source: &[Settings<'_>],
) -> Vec<Diagnostic> {
    let source = &chain.sources[index];
    let (file, tree) = (&source.file, &source.tree);
    let mut out = Vec::new();

    for setter in per_source[index].values().flatten() {
        let (key, label, span) = (&setter.key, &setter.label, setter.node.span.clone());
        match &setter.checked {
            Checked::Unreadable(message) => out.push(
                Diagnostic::new(Code::InvalidValue, format!("`{label}`: {message}")).at(file, span),
            ),
            Checked::Rejected(error) => {
                let who = match error.rejected_by {
                    RejectedBy::DataFusion => "DataFusion",
                    RejectedBy::Dfpolicy => "dfpolicy",
                    RejectedBy::Ballista => "Ballista",
                };
                let diagnostic = Diagnostic::new(
                    rejection_code(error),
                    format!("{who} rejects `{label}`: {}", error.message),
                )
                .at(file, span);
                out.push(if setter.is_settings_entry() {
                    diagnostic
                } else {
                    diagnostic.with_note(None, format!("`{label}` sets `{key}`"))
                });
            }
            Checked::Canonical(_)
                if setter.is_settings_entry()
                    && setter.node.value == NodeValue::Integer(0)
                    && MACHINE_DEPENDENT_KEYS.contains(&key.as_str()) =>
            {
                out.push(
                    Diagnostic::new(
                        Code::UnpinnedMachineSetting,
                        format!(
                            "`{key}` = 0 means \"one per CPU\", so plans depend on the machine"
                        ),
                    )
                    .at(file, span)
                    .with_help("pin a number, e.g. 4, so laptops and CI plan alike"),
                );
            }
            Checked::Canonical(_) | Checked::WrongType => {}
        }
    }

    if let Some(rules) = tree.at(&[
        PathSegment::Key("optimizer".into()),
        PathSegment::Key("disabled_rules".into()),
    ]) {
        out.extend(check_rule_names(file, rules));
    }

    if let Some(engine) = tree.at(&[
        PathSegment::Key("policy".into()),
        PathSegment::Key("engine".into()),
    ]) && let Some(requirement) = engine.as_str()
    {
        out.extend(check_engine(file, engine, requirement));
    }

    out.extend(check_redundant_defaults(chain, index, per_source));
    out
}

fn check_rule_names(file: &Arc<SourceFile>, node: &Node) -> Vec<Diagnostic> {
    let NodeValue::Array(items) = &node.value else {
        return Vec::new();
    };
    let registry = registry();
    let known: Vec<&str> = {
        let mut names: Vec<&str> = registry.rules().iter().map(|(_, n)| n.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        names
    };
    let mut out = Vec::new();
    for item in items {
        let Some(name) = item.as_str() else { continue };
        if known.binary_search(&name).is_ok() {
            continue;
        }
        // Past the report's cap only a count is shown: skip the costly suggestion.
        let suggestion = (out.len() < MAX_FINDINGS_PER_KIND)
            .then(|| closest(name, known.iter().copied()))
            .flatten();
        let help = match suggestion {
            Some(s) => format!("did you mean `{s}`?"),
            None => "`dfpolicy settings --rules` lists the rules of a default session".to_string(),
        };
        out.push(
            Diagnostic::new(
                Code::UnknownRule,
                format!("`{name}` is not an analyzer, logical or physical rule of a default DataFusion session"),
            )
            .at(file, item.span.clone())
            .with_help(help),
        );
    }
    out
}

fn check_engine(file: &Arc<SourceFile>, node: &Node, requirement: &str) -> Option<Diagnostic> {
    let parsed = match semver::VersionReq::parse(requirement) {
        Ok(parsed) => parsed,
        Err(e) => {
            return Some(
                Diagnostic::new(
                    Code::InvalidEngineRequirement,
                    format!("`{requirement}` is not a version requirement: {e}"),
                )
                .at(file, node.span.clone())
                .with_help("write a Cargo-style requirement such as \"55\" or \">=55.1, <56\""),
            );
        }
    };
    let version =
        semver::Version::parse(DATAFUSION_VERSION).expect("DataFusion's version is semver");
    if parsed.matches(&version) {
        return None;
    }
    Some(
        Diagnostic::new(
            Code::EngineMismatch,
            format!("the policy requires DataFusion {requirement}, but this dfpolicy embeds DataFusion {DATAFUSION_VERSION}"),
        )
        .at(file, node.span.clone())
        .with_help("use a dfpolicy release built on a matching DataFusion, or update the requirement after reviewing the policy"),
    )
}

/// A setting equal to DataFusion's default says nothing, unless it undoes a parent's value.
fn check_redundant_defaults(
    chain: &PolicyChain,
    index: usize,
    per_source: &[Settings<'_>],
) -> Vec<Diagnostic> {
    let registry = registry();
    let file = &chain.sources[index].file;
    let inherited = effective(&per_source[index + 1..]);
    let mut out = Vec::new();
    let ballista = targets_ballista(chain);
    for (key, setters) in &per_source[index] {
        if let Some((_, forced)) = FORCED_SETTINGS.iter().find(|(k, _)| k == key) {
            out.extend(check_forced(file, key, forced, setters));
            continue;
        }
        if ballista && ballista::catalog().forced_value(key).is_some() {
            // Ballista's value, not DataFusion's default, is what its sessions run with: see
            // `check_ballista`.
            continue;
        }
        let Some(default) = registry.canonical_default(key) else {
            continue;
        };
        let parent_value = inherited
            .get(key.as_str())
            .and_then(|s| s.last())
            .and_then(|s| s.canonical());
        if parent_value.is_some_and(|p| p != default) {
            continue;
        }
        for setter in setters {
            if setter.canonical() == Some(default) {
                out.push(
                    Diagnostic::new(
                        Code::RedundantDefault,
                        format!("`{}` sets `{key}` to its default value {default}", setter.via),
                    )
                    .at(file, setter.node.span.clone())
                    .with_help("remove it; an explicit default hides which settings the policy really changes"),
                );
            }
        }
    }
    out
}

/// A setting dfpolicy overrides in every session: the forced value says nothing, another would be
/// ignored.
fn check_forced(
    file: &Arc<SourceFile>,
    key: &str,
    forced: &str,
    setters: &[Setter<'_>],
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for setter in setters {
        let Some(value) = setter.canonical() else {
            continue;
        };
        let span = setter.node.span.clone();
        out.push(if value == forced {
            Diagnostic::new(
                Code::RedundantDefault,
                format!("`{}` sets `{key}` to {forced}, which every dfpolicy session has", setter.via),
            )
            .at(file, span)
            .with_help("remove it")
        } else {
            Diagnostic::new(
                Code::ForcedSetting,
                format!("`{}` sets `{key}` to {value}, but dfpolicy sessions always run with {forced}", setter.via),
            )
            .at(file, span)
            .with_help("remove it: dfpolicy sessions report their settings through `information_schema` and register workload tables in the default catalog, so dfpolicy keeps both on and would ignore this value")
        });
    }
    out
}

/// The Parquet writer options in force, checked together: some are only wrong in combination
/// (content-defined chunking's sizes), and each of them alone was checked with defaults for the rest.
fn check_writer_options(
    chain: &PolicyChain,
    settings: &BTreeMap<&str, Vec<&Setter<'_>>>,
) -> Option<Diagnostic> {
    let mut values = Vec::new();
    for (key, setters) in settings.range("datafusion.execution.parquet."..) {
        if !key.starts_with("datafusion.execution.parquet.") {
            break;
        }
        // A rejected value was reported on its own; the combination cannot be judged without it.
        values.push((*key, setters.first()?.canonical()?));
    }
    let mut options = crate::registry::config_options();
    crate::registry::apply_settings(&mut options, values.iter().map(|(k, v)| (*k, Some(*v))))
        .ok()?;
    let problem =
        crate::registry::check_parquet_writer_options(&options.execution.parquet).err()?;
    let set: Vec<&Setter<'_>> = problem
        .keys
        .iter()
        .filter_map(|key| settings.get(key.as_str()).and_then(|s| s.first()).copied())
        .collect();
    let mut diagnostic = Diagnostic::new(Code::IncompatibleWriterOptions, problem.message);
    match set.first() {
        Some(primary) => diagnostic.location = Some(location(chain, primary.node)),
        None => {
            let leaf = chain.leaf();
            diagnostic = diagnostic.at(&leaf.file, 0..0);
        }
    }
    for other in set.iter().skip(1) {
        diagnostic = diagnostic.with_note(
            Some(location(chain, other.node)),
            format!("`{}` is set here", other.label),
        );
    }
    Some(diagnostic.with_help("DataFusion accepts each of these values alone, but arrow-rs cannot write a Parquet file with them together"))
}

/// The merged policy targets Ballista: a file of the chain has a `[ballista]` section or a
/// `ballista.*` key in `[settings]` (as [`crate::policy::options::PolicyOptions::targets_ballista`]).
fn targets_ballista(chain: &PolicyChain) -> bool {
    chain.sources.iter().any(|source| {
        source.tree.get("ballista").is_some()
            || source
                .tree
                .get("settings")
                .and_then(Node::as_table)
                .is_some_and(|t| t.keys().any(|k| k.starts_with(BALLISTA_PREFIX)))
    })
}

/// A Ballista policy: every DataFusion setting Ballista forces that the policy sets to another value
/// (Ballista will use its own), and Ballista's machine-dependent executor parallelism if unpinned.
fn check_ballista(
    chain: &PolicyChain,
    settings: &BTreeMap<&str, Vec<&Setter<'_>>>,
    anchor: std::ops::Range<usize>,
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for forced in &ballista::catalog().forced {
        let Some(setters) = settings.get(forced.key.as_str()) else {
            continue;
        };
        for setter in setters {
            let Some(value) = setter.canonical() else {
                continue;
            };
            if value == forced.value {
                let mut diagnostic = Diagnostic::new(
                    Code::RedundantDefault,
                    format!(
                        "`{}` sets `{}` to {value}, which Ballista forces on every distributed session",
                        setter.via, forced.key
                    ),
                );
                diagnostic.location = Some(location(chain, setter.node));
                out.push(diagnostic.with_help("remove it"));
                continue;
            }
            let mut diagnostic = Diagnostic::new(
                Code::BallistaForcedSetting,
                format!(
                    "`{}` sets `{}` to {value}, but Ballista {} runs with {} instead",
                    setter.via,
                    forced.key,
                    ballista::BALLISTA_VERSION,
                    forced.value
                ),
            );
            diagnostic.location = Some(location(chain, setter.node));
            out.push(diagnostic.with_help(format!(
                "remove it or set {}: Ballista's `upgrade_for_ballista` forces this setting on every distributed session (`dfpolicy compile` lists what it forces)",
                forced.value
            )));
        }
    }
    if !settings.contains_key(ballista::STANDALONE_PARALLELISM) {
        out.push(
            Diagnostic::new(
                Code::UnpinnedMachineSetting,
                format!("`{}` is not pinned: it defaults to the CPU count of the machine, so a standalone cluster has as many task slots as the machine has cores", ballista::STANDALONE_PARALLELISM),
            )
            .at(&chain.leaf().file, anchor)
            .with_help("pin it: [ballista] standalone_parallelism = 4"),
        );
    }
    out
}

/// Checks of the merged policy: settings set twice, the dynamic-filter umbrella, unpinned
/// machine-dependent settings, and runtime options that need each other.
pub fn check_resolved(chain: &PolicyChain, per_source: &[Settings<'_>]) -> Vec<Diagnostic> {
    let settings = effective(per_source);
    let mut out = Vec::new();

    for (key, setters) in &settings {
        let [first, rest @ ..] = setters.as_slice() else {
            continue;
        };
        for other in rest {
            // Across files it is an override: the nearer file's setting wins (see
            // `PolicyChain::merged`). The rule is for one file setting a key twice.
            if first.node.origin != other.node.origin {
                continue;
            }
            let same = first.canonical().is_some() && first.canonical() == other.canonical();
            let (code, message) = if same {
                (
                    Code::DuplicateSetting,
                    format!(
                        "`{key}` is set both by `{}` and in `{}`",
                        first.via, other.via
                    ),
                )
            } else {
                (
                    Code::ConflictingSetting,
                    format!(
                        "`{key}` is set by `{}` and in `{}` to a different value",
                        first.via, other.via
                    ),
                )
            };
            let mut diagnostic = Diagnostic::new(code, message);
            diagnostic.location = Some(location(chain, other.node));
            out.push(
                diagnostic
                    .with_note(
                        Some(location(chain, first.node)),
                        format!("also set by `{}` here", first.via),
                    )
                    .with_help(format!(
                        "keep one of them; prefer the typed field `{}`",
                        first.via
                    )),
            );
        }
    }

    if let Some(umbrella) = settings.get(DYNAMIC_FILTER_UMBRELLA).and_then(|s| s.last()) {
        for sub_flag in DYNAMIC_FILTER_SUB_FLAGS {
            let Some(sub) = settings.get(*sub_flag).and_then(|s| s.last()) else {
                continue;
            };
            if let (Some(umbrella_value), Some(sub_value)) = (umbrella.canonical(), sub.canonical())
                && umbrella_value != sub_value
            {
                let mut diagnostic = Diagnostic::new(
                    Code::DynamicFilterConflict,
                    format!(
                        "`{sub_flag}` = {sub_value} contradicts the umbrella `{DYNAMIC_FILTER_UMBRELLA}` = {umbrella_value}"
                    ),
                );
                diagnostic.location = Some(location(chain, sub.node));
                out.push(
                    diagnostic
                        .with_note(Some(location(chain, umbrella.node)), "the umbrella is set here; DataFusion copies it into all three sub-flags")
                        .with_help("set either the umbrella or the individual `enable_*_dynamic_filter_pushdown` flags, not both"),
                );
            }
        }
    }

    out.extend(check_writer_options(chain, &settings));

    let leaf = chain.leaf();
    let anchor = leaf
        .tree
        .at(&[
            PathSegment::Key("policy".into()),
            PathSegment::Key("name".into()),
        ])
        .map(|n| n.span.clone())
        .unwrap_or(0..0);
    for key in MACHINE_DEPENDENT_KEYS {
        if settings.contains_key(key) {
            continue;
        }
        let field = key.rsplit('.').next().unwrap_or(key);
        out.push(
            Diagnostic::new(
                Code::UnpinnedMachineSetting,
                format!("`{key}` is not pinned: it defaults to the CPU count of the machine, so plans differ between machines"),
            )
            .at(&leaf.file, anchor.clone())
            .with_help(format!("pin it: [execution] {field} = 4")),
        );
    }

    if targets_ballista(chain) {
        out.extend(check_ballista(chain, &settings, anchor.clone()));
    }

    let pool_path = [
        PathSegment::Key("runtime".into()),
        PathSegment::Key("memory_pool".into()),
    ];
    let memory_pool = chain.sources.iter().find_map(|s| s.tree.at(&pool_path));
    if let Some(pool) = memory_pool
        && !settings.contains_key("datafusion.runtime.memory_limit")
    {
        let mut diagnostic = Diagnostic::new(
            Code::MemoryPoolWithoutLimit,
            "`runtime.memory_pool` has no effect without `runtime.memory_limit`",
        );
        diagnostic.location = Some(location(chain, pool));
        out.push(
            diagnostic
                .with_help("add `memory_limit = \"4GiB\"` to `[runtime]`, or remove `memory_pool`"),
        );
    }
    out
}
