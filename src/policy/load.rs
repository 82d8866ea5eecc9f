//! Reading policy files and following `extends` into one merged document.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::document::{FileId, MAX_POLICY_BYTES, Node, NodeValue, PathSegment, read_toml};
use super::options::{MergeRule, merge_rule, typed_field_for_key};
use crate::report::{Code, Diagnostic, Location, SourceFile, display_path};

/// Longest `extends` chain followed before giving up (a chain this long is a mistake, not a design).
pub const MAX_EXTENDS_DEPTH: usize = 32;

/// One parsed policy file.
#[derive(Debug, Clone)]
pub struct PolicySource {
    /// The file.
    pub file: Arc<SourceFile>,
    /// Its TOML tree, every value with its place.
    pub tree: Node,
}

/// A policy and its ancestors, the policy first.
#[derive(Debug, Clone)]
pub struct PolicyChain {
    /// The policy, then its parents in `extends` order.
    pub sources: Vec<PolicySource>,
    /// Every `extends` was followed to a readable parent.
    pub complete: bool,
}

impl PolicyChain {
    /// The policy itself (the chain's first file).
    pub fn leaf(&self) -> &PolicySource {
        &self.sources[0]
    }

    /// The source a node came from.
    pub fn source(&self, origin: FileId) -> &PolicySource {
        &self.sources[origin]
    }

    /// The chain merged into one tree: each child over its parent, each field by the
    /// [`MergeRule`] declared beside it (scalars and arrays are replaced, tables merge key by key,
    /// `optimizer.disabled_rules` is the union of both lists, `policy.description` is the policy's
    /// own, `policy.extends` is resolved and gone). Merged values keep the spans of the file they
    /// came from.
    pub fn merged(&self) -> Node {
        let mut sources = self.sources.iter().rev();
        let mut merged = sources.next().expect("a chain has a leaf").tree.clone();
        for child in sources {
            merge_into(&mut merged, &child.tree, &mut Vec::new());
        }
        let NodeValue::Table(root) = &mut merged.value else {
            return merged;
        };
        keep_nearest_setter(root);
        for (section, node) in root.iter_mut() {
            let NodeValue::Table(fields) = &mut node.value else {
                continue;
            };
            fields.retain(|field, _| merge_rule(section, field) != MergeRule::Resolved);
            let own_files: Vec<String> = fields
                .keys()
                .filter(|field| merge_rule(section, field) == MergeRule::OwnFile)
                .cloned()
                .collect();
            for field in own_files {
                match self.leaf().tree.get(section).and_then(|s| s.get(&field)) {
                    Some(own) => {
                        fields.insert(field, own.clone());
                    }
                    None => {
                        fields.remove(&field);
                    }
                }
            }
        }
        merged
    }
}

/// A child overrides what a parent set, typed or raw (ruff's `extend`): of a DataFusion key set by
/// a typed field in one file of the chain and in `[settings]` in another, the nearer file's setting
/// is kept and the other dropped. Both in one file stay, for validation's `conflicting-setting`.
fn keep_nearest_setter(root: &mut BTreeMap<String, Node>) {
    let raw: Vec<(String, FileId)> = root
        .get("settings")
        .and_then(Node::as_table)
        .map(|table| table.iter().map(|(k, n)| (k.clone(), n.origin)).collect())
        .unwrap_or_default();
    for (key, raw_origin) in raw {
        let Some((section, field)) = typed_field_for_key(&key) else {
            continue;
        };
        let Some(NodeValue::Table(fields)) = root.get_mut(section).map(|n| &mut n.value) else {
            continue;
        };
        let Some(typed_origin) = fields.get(field.name).map(|n| n.origin) else {
            continue;
        };
        // The chain's files are numbered from the policy (0) up through its parents.
        if typed_origin > raw_origin {
            fields.remove(field.name);
        } else if typed_origin < raw_origin
            && let Some(NodeValue::Table(settings)) = root.get_mut("settings").map(|n| &mut n.value)
        {
            settings.remove(&key);
        }
    }
}

/// Merges `over` (a child's tree) into `base`, `path` being where both are.
fn merge_into(base: &mut Node, over: &Node, path: &mut Vec<String>) {
    match (&mut base.value, &over.value) {
        (NodeValue::Table(base_table), NodeValue::Table(over_table)) => {
            for (key, child) in over_table {
                let Some(existing) = base_table.get_mut(key) else {
                    base_table.insert(key.clone(), child.clone());
                    continue;
                };
                let rule = match path.as_slice() {
                    [section] => merge_rule(section, key),
                    _ => MergeRule::Override,
                };
                if rule == MergeRule::Union
                    && let (NodeValue::Array(items), NodeValue::Array(extra)) =
                        (&mut existing.value, &child.value)
                {
                    for item in extra {
                        if !items.iter().any(|i| i.value == item.value) {
                            items.push(item.clone());
                        }
                    }
                    existing.origin = child.origin;
                    existing.key_span = child.key_span.clone();
                    existing.span = child.span.clone();
                } else {
                    path.push(key.clone());
                    merge_into(existing, child, path);
                    path.pop();
                }
            }
        }
        _ => *base = over.clone(),
    }
}

/// Reads and parses one policy file. Every failure is a diagnostic pointing at the file.
pub fn read_policy(path: &Path, origin: FileId) -> Result<PolicySource, Box<Diagnostic>> {
    let (file, tree) = read_toml(path, "policy", MAX_POLICY_BYTES, origin)?;
    Ok(PolicySource { file, tree })
}

/// Loads a policy and its `extends` ancestors. `root` bounds where parents may live.
///
/// Returns the chain as far as it could be read plus every finding about reading it. The chain is
/// `None` when the policy file itself cannot be read.
pub fn load_chain(path: &Path, root: &Path) -> (Option<PolicyChain>, Vec<Diagnostic>) {
    let mut diagnostics = Vec::new();
    let leaf = match read_policy(path, 0) {
        Ok(leaf) => leaf,
        Err(d) => return (None, vec![*d]),
    };
    let root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    let mut sources = vec![leaf];
    let mut incomplete = false;
    loop {
        let current = sources.last().expect("chain is never empty");
        let Some(extends) = current.tree.at(&[
            PathSegment::Key("policy".into()),
            PathSegment::Key("extends".into()),
        ]) else {
            break;
        };
        let Some(relative) = extends.as_str() else {
            // The schema reports the wrong type; the chain stops here, so it is not complete.
            incomplete = true;
            break;
        };
        let here = Location::new(&current.file, extends.span.clone());
        let chain_text = |extra: &str| {
            let mut names: Vec<&str> = sources
                .iter()
                .map(|s| s.file.display_path.as_str())
                .collect();
            names.push(extra);
            names.join(" → ")
        };
        if sources.len() > MAX_EXTENDS_DEPTH {
            diagnostics.push(
                Diagnostic::new(
                    Code::ExtendsTooDeep,
                    format!("`extends` chain is longer than {MAX_EXTENDS_DEPTH} policies"),
                )
                .at(&here.file, here.span.clone())
                .with_note(None, format!("chain: {}", chain_text(relative))),
            );
            break;
        }
        let base = current.file.path.parent().unwrap_or(Path::new("/"));
        let target: PathBuf = base.join(relative);
        let Ok(canonical) = target.canonicalize() else {
            diagnostics.push(
                Diagnostic::new(
                    Code::ExtendsMissing,
                    format!("parent policy `{relative}` does not exist"),
                )
                .at(&here.file, here.span.clone())
                .with_note(None, format!("chain: {}", chain_text(relative)))
                .with_help(format!(
                    "`extends` is relative to the directory of {}",
                    current.file.display_path
                )),
            );
            break;
        };
        if let Some(position) = sources.iter().position(|s| s.file.path == canonical) {
            let cycle: Vec<&str> = sources[position..]
                .iter()
                .map(|s| s.file.display_path.as_str())
                .chain(std::iter::once(
                    sources[position].file.display_path.as_str(),
                ))
                .collect();
            diagnostics.push(
                Diagnostic::new(
                    Code::ExtendsCycle,
                    format!("`extends` forms a cycle: {}", cycle.join(" → ")),
                )
                .at(&here.file, here.span.clone())
                .with_help("remove `extends` from one policy of the cycle"),
            );
            break;
        }
        if !canonical.starts_with(&root) {
            diagnostics.push(
                Diagnostic::new(
                    Code::ExtendsOutsideRoot,
                    format!(
                        "parent policy `{relative}` is outside the policy tree `{}`",
                        display_path(&root)
                    ),
                )
                .at(&here.file, here.span.clone())
                .with_note(None, format!("chain: {}", chain_text(relative)))
                .with_help(
                    "keep parents in the directory tree being validated, or widen it with `--root`",
                ),
            );
            break;
        }
        match read_policy(&canonical, sources.len()) {
            Ok(parent) => sources.push(parent),
            Err(d) if d.location.is_none() => {
                // The parent cannot be read at all: say so where it is named.
                diagnostics.push(
                    Diagnostic::new(
                        d.code,
                        format!("parent policy `{relative}` cannot be used: {}", d.message),
                    )
                    .at(&here.file, here.span.clone())
                    .with_note(None, format!("chain: {}", chain_text(relative)))
                    .with_help("`extends` names a policy file, relative to this file's directory"),
                );
                break;
            }
            Err(d) => {
                diagnostics.push(*d);
                break;
            }
        }
    }
    let complete = diagnostics.is_empty() && !incomplete;
    (Some(PolicyChain { sources, complete }), diagnostics)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(texts: &[&str]) -> PolicyChain {
        PolicyChain {
            sources: texts
                .iter()
                .enumerate()
                .map(|(i, t)| PolicySource {
                    file: Arc::new(SourceFile::new(
                        format!("{i}.toml"),
                        format!("/{i}.toml").into(),
                        t.to_string(),
                    )),
                    tree: Node::parse(t, i).unwrap(),
                })
                .collect(),
            complete: true,
        }
    }

    #[test]
    fn child_overrides_scalars_merges_tables_and_unions_disabled_rules() {
        let c = chain(&[
            "[policy]\nname='child'\nextends='p.toml'\n[execution]\nbatch_size=10\n[optimizer]\ndisabled_rules=['b','c']\n",
            "[policy]\nname='parent'\ndescription='the parent'\n[execution]\nbatch_size=5\ntarget_partitions=4\n[optimizer]\ndisabled_rules=['a','b']\n",
        ]);
        let merged = c.merged().to_json();
        assert_eq!(merged["policy"], serde_json::json!({"name": "child"}));
        assert_eq!(
            merged["execution"],
            serde_json::json!({"batch_size": 10, "target_partitions": 4})
        );
        assert_eq!(
            merged["optimizer"]["disabled_rules"],
            serde_json::json!(["a", "b", "c"])
        );
    }

    #[test]
    fn a_description_is_the_policys_own_and_extends_is_resolved() {
        let c = chain(&[
            "[policy]\nname='child'\ndescription='mine'\nextends='p.toml'\n",
            "[policy]\nname='parent'\ndescription='theirs'\nextends='q.toml'\n",
        ]);
        assert_eq!(
            c.merged().to_json()["policy"],
            serde_json::json!({"name": "child", "description": "mine"})
        );
    }

    #[test]
    fn merge_rules_are_declared_beside_the_fields() {
        use crate::policy::options::{MergeRule, merge_rule};
        assert_eq!(merge_rule("optimizer", "disabled_rules"), MergeRule::Union);
        assert_eq!(merge_rule("policy", "description"), MergeRule::OwnFile);
        assert_eq!(merge_rule("policy", "extends"), MergeRule::Resolved);
        assert_eq!(merge_rule("execution", "batch_size"), MergeRule::Override);
        assert_eq!(
            merge_rule("settings", "datafusion.execution.batch_size"),
            MergeRule::Override
        );
    }
}
