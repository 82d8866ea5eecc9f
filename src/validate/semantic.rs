//! Checks against DataFusion's own option registry and rule names, per file and on the merged policy.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::diagnostic::{Code, Diagnostic, Location};
use crate::policy::byte_size::ByteSize;
use crate::policy::document::{Node, NodeValue, PathSegment, SourceFile};
use crate::policy::load::PolicyChain;
use crate::policy::options::{FieldKind, SECTIONS};
use crate::registry::{
    DATAFUSION_VERSION, DYNAMIC_FILTER_SUB_FLAGS, DYNAMIC_FILTER_UMBRELLA, MACHINE_DEPENDENT_KEYS,
    ValueKind, registry,
};

use super::suggest::closest;

/// One place in a policy tree that sets a DataFusion key.
#[derive(Debug, Clone)]
pub struct Setter<'a> {
    pub key: String,
    /// DataFusion's rendering of the value; `None` when the value is invalid (reported elsewhere).
    pub canonical: Option<String>,
    pub node: &'a Node,
    /// `[joins].prefer_hash_join` or `[settings]`, for messages.
    pub via: String,
}

/// Every DataFusion key a tree sets, typed fields first, then `[settings]`.
pub fn explicit_settings(tree: &Node) -> BTreeMap<String, Vec<Setter<'_>>> {
    let registry = registry();
    let mut out: BTreeMap<String, Vec<Setter<'_>>> = BTreeMap::new();
    for (section, fields) in SECTIONS {
        let Some(table) = tree.get(section) else {
            continue;
        };
        for field in *fields {
            let (Some(key), Some(node)) = (field.key, table.get(field.name)) else {
                continue;
            };
            let canonical = match field_text(node, field.kind) {
                Ok(Some(text)) => registry.check_value(key, &text).ok().map(|c| c.0),
                _ => None,
            };
            out.entry(key.to_string()).or_default().push(Setter {
                key: key.to_string(),
                canonical,
                node,
                via: format!("[{section}].{}", field.name),
            });
        }
    }
    if let Some(settings) = tree.get("settings").and_then(Node::as_table) {
        for (key, node) in settings {
            let Some(option) = registry.option(key) else {
                continue;
            };
            let canonical = setting_text(node, option.kind)
                .and_then(|text| registry.check_value(key, &text).ok())
                .map(|c| c.0);
            out.entry(key.clone()).or_default().push(Setter {
                key: key.clone(),
                canonical,
                node,
                via: "[settings]".to_string(),
            });
        }
    }
    out
}

/// A typed field's value as DataFusion's `set` takes it. `Ok(None)` when the TOML type is wrong
/// (the schema layer reports that); `Err` when the value has the right type but cannot be read.
pub fn field_text(node: &Node, kind: FieldKind) -> Result<Option<String>, String> {
    Ok(match (kind, &node.value) {
        (FieldKind::Boolean, NodeValue::Boolean(b)) => Some(b.to_string()),
        (FieldKind::Integer, NodeValue::Integer(i)) if *i >= 0 => Some(i.to_string()),
        (FieldKind::Float, NodeValue::Float(f)) => Some(f.to_string()),
        (FieldKind::Float, NodeValue::Integer(i)) => Some(i.to_string()),
        (FieldKind::Bytes, NodeValue::Integer(i)) => Some(
            ByteSize::from_integer(*i)
                .map_err(|e| e.to_string())?
                .0
                .to_string(),
        ),
        (FieldKind::Bytes, NodeValue::String(s)) => Some(
            s.parse::<ByteSize>()
                .map_err(|e| e.to_string())?
                .0
                .to_string(),
        ),
        (FieldKind::Text | FieldKind::Choice, NodeValue::String(s)) => Some(s.clone()),
        _ => None,
    })
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

fn rejection_code(message: &str) -> Code {
    if message.contains("out of range") || message.contains("must be greater than") {
        Code::OutOfRange
    } else {
        Code::InvalidValue
    }
}

fn location(chain: &PolicyChain, node: &Node) -> Location {
    Location::new(&chain.source(node.origin).file, node.span.clone())
}

/// Checks of one file of a chain on its own: values DataFusion rejects, rule names, the engine
/// requirement, and settings that repeat DataFusion's default.
pub fn check_source(chain: &PolicyChain, index: usize) -> Vec<Diagnostic> {
    let source = &chain.sources[index];
    let (file, tree) = (&source.file, &source.tree);
    let registry = registry();
    let mut out = Vec::new();

    for (section, fields) in SECTIONS {
        let Some(table) = tree.get(section) else {
            continue;
        };
        for field in *fields {
            let Some(node) = table.get(field.name) else {
                continue;
            };
            if *section == "optimizer" && field.name == "disabled_rules" {
                out.extend(check_rule_names(file, node));
            }
            let Some(key) = field.key else { continue };
            match field_text(node, field.kind) {
                Err(message) => out.push(
                    Diagnostic::new(
                        Code::InvalidValue,
                        format!("`{section}.{}`: {message}", field.name),
                    )
                    .at(file, node.span.clone()),
                ),
                Ok(Some(text)) => {
                    if let Err(message) = registry.check_value(key, &text) {
                        out.push(
                            Diagnostic::new(
                                rejection_code(&message),
                                format!("DataFusion rejects `{section}.{}`: {message}", field.name),
                            )
                            .at(file, node.span.clone())
                            .with_note(None, format!("`{section}.{}` sets `{key}`", field.name)),
                        );
                    }
                }
                Ok(None) => {}
            }
        }
    }

    if let Some(settings) = tree.get("settings").and_then(Node::as_table) {
        for (key, node) in settings {
            let Some(option) = registry.option(key) else {
                continue;
            };
            let Some(text) = setting_text(node, option.kind) else {
                continue;
            };
            if option.machine_dependent && text == "0" {
                out.push(
                    Diagnostic::new(
                        Code::UnpinnedMachineSetting,
                        format!(
                            "`{key}` = 0 means \"one per CPU\", so plans depend on the machine"
                        ),
                    )
                    .at(file, node.span.clone())
                    .with_help("pin a number, e.g. 4, so laptops and CI plan alike"),
                );
                continue;
            }
            if let Err(message) = registry.check_value(key, &text) {
                out.push(
                    Diagnostic::new(
                        rejection_code(&message),
                        format!("DataFusion rejects `{key}`: {message}"),
                    )
                    .at(file, node.span.clone()),
                );
            }
        }
    }

    if let Some(engine) = tree.at(&[
        PathSegment::Key("policy".into()),
        PathSegment::Key("engine".into()),
    ]) && let Some(requirement) = engine.as_str()
    {
        out.extend(check_engine(file, engine, requirement));
    }

    out.extend(check_redundant_defaults(chain, index));
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
        if known.contains(&name) {
            continue;
        }
        let help = match closest(name, known.iter().copied()) {
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
fn check_redundant_defaults(chain: &PolicyChain, index: usize) -> Vec<Diagnostic> {
    let registry = registry();
    let source = &chain.sources[index];
    let parent = (index + 1 < chain.sources.len()).then(|| {
        PolicyChain {
            sources: chain.sources[index + 1..].to_vec(),
            complete: chain.complete,
        }
        .merged()
    });
    let inherited = parent.as_ref().map(explicit_settings).unwrap_or_default();
    let mut out = Vec::new();
    for (key, setters) in explicit_settings(&source.tree) {
        let Some(default) = registry
            .default_value(&key)
            .and_then(|d| registry.check_value(&key, d).ok())
        else {
            continue;
        };
        let parent_value = inherited
            .get(&key)
            .and_then(|s| s.last())
            .and_then(|s| s.canonical.clone());
        if parent_value.as_ref().is_some_and(|p| *p != default.0) {
            continue;
        }
        for setter in setters {
            if setter.canonical.as_deref() == Some(default.0.as_str()) {
                out.push(
                    Diagnostic::new(
                        Code::RedundantDefault,
                        format!("`{}` sets `{key}` to its default value {}", setter.via, default.0),
                    )
                    .at(&source.file, setter.node.span.clone())
                    .with_help("remove it; an explicit default hides which settings the policy really changes"),
                );
            }
        }
    }
    out
}

/// Checks of the merged policy: settings set twice, the dynamic-filter umbrella, unpinned
/// machine-dependent settings, and runtime options that need each other.
pub fn check_resolved(chain: &PolicyChain) -> Vec<Diagnostic> {
    let merged = chain.merged();
    let settings = explicit_settings(&merged);
    let mut out = Vec::new();

    for (key, setters) in &settings {
        let [first, rest @ ..] = setters.as_slice() else {
            continue;
        };
        for other in rest {
            let same = first.canonical.is_some() && first.canonical == other.canonical;
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
            if umbrella.canonical.is_some()
                && sub.canonical.is_some()
                && umbrella.canonical != sub.canonical
            {
                let mut diagnostic = Diagnostic::new(
                    Code::DynamicFilterConflict,
                    format!(
                        "`{sub_flag}` = {} contradicts the umbrella `{DYNAMIC_FILTER_UMBRELLA}` = {}",
                        sub.canonical.as_deref().unwrap_or_default(),
                        umbrella.canonical.as_deref().unwrap_or_default()
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
        if settings.contains_key(*key) {
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

    let memory_pool = merged.at(&[
        PathSegment::Key("runtime".into()),
        PathSegment::Key("memory_pool".into()),
    ]);
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
