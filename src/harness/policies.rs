//! The policies of a harness run: every policy file below a folder, loaded through the front door.
//! A policy that does not load stays in the set with its error, so that its cells fail instead of
//! disappearing.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::compile::{CompileError, CompiledPolicy, Policy, PolicyError};
use crate::policy::discover::{default_root, policy_files};
use crate::report::{Diagnostic, SourceFile, display_path, render};

/// A policy of the matrix: its file and its compiled environment, or why it does not load.
#[derive(Debug, Clone)]
pub struct PolicyUnderTest {
    /// The file, as given (`policies/baseline.toml`).
    pub file: String,
    /// Its compiled environment, or why it has none.
    pub compiled: Result<CompiledPolicy, PolicyUnavailable>,
    /// The policy file and its `extends` parents, the policy first (empty when it did not load).
    pub chain: Vec<Arc<SourceFile>>,
}

/// Why a policy of the matrix has no compiled environment; its cells fail with this message.
#[derive(Debug, Clone, thiserror::Error)]
pub enum PolicyUnavailable {
    /// Validation found errors; `first` is the first one's headline.
    #[error("the policy does not load ({}): {first}", crate::report::counted(*count, "finding", "findings"))]
    Invalid {
        /// How many errors validation found.
        count: usize,
        /// The first one's headline.
        first: String,
    },
    /// DataFusion refused the validated environment.
    #[error("the policy does not compile")]
    Compile(#[source] CompileError),
    /// Another file of the set already uses the policy's name.
    #[error("policy name `{name}` is also used by `{other}`: policy names must be unique")]
    DuplicateName {
        /// The name.
        name: String,
        /// The other file.
        other: String,
    },
}

/// A policy folder that cannot be walked (missing, unreadable, nested too deep).
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}", .0.iter().map(|d| d.message.as_str()).collect::<Vec<_>>().join("; "))]
pub struct UnreadablePolicies(pub Vec<Diagnostic>);

/// Every policy of a run, by name.
#[derive(Debug, Clone, Default)]
pub struct PolicySet {
    /// Every policy, by name.
    pub policies: BTreeMap<String, PolicyUnderTest>,
    /// Findings of every policy (errors of those that did not load, warnings of the others).
    pub diagnostics: Vec<Diagnostic>,
}

impl PolicySet {
    /// Loads every `*.toml` below `path` (or the one file), with `extends` confined to `path`'s
    /// folder tree as `validate` confines it.
    ///
    /// ```
    /// let policies = dfpolicy::harness::PolicySet::load("policies/")?;
    /// assert!(policies.policies.contains_key("baseline"));
    /// assert!(policies.policies.values().all(|policy| policy.compiled.is_ok()));
    /// # Ok::<(), dfpolicy::Error>(())
    /// ```
    pub fn load(path: impl AsRef<Path>) -> Result<PolicySet, UnreadablePolicies> {
        PolicySet::load_under(path.as_ref(), None)
    }

    /// [`PolicySet::load`] with `extends` confined to `root` instead (`validate --root`, `check
    /// --root`); `None` is the default tree.
    pub fn load_under(path: &Path, root: Option<&Path>) -> Result<PolicySet, UnreadablePolicies> {
        let (files, problems) = policy_files(path);
        if !problems.is_empty() {
            return Err(UnreadablePolicies(problems));
        }
        let root = root.map_or_else(|| default_root(path), Path::to_path_buf);
        let mut set = PolicySet::default();
        for file in files {
            set.add(&file, &root);
        }
        Ok(set)
    }

    /// Policies already loaded (a library user's own), by their names.
    pub fn from_policies(policies: impl IntoIterator<Item = (PathBuf, Policy)>) -> PolicySet {
        let mut set = PolicySet::default();
        for (file, policy) in policies {
            set.insert(
                policy.compiled.policy.clone(),
                PolicyUnderTest {
                    file: display_path(&file),
                    compiled: Ok(policy.compiled),
                    chain: policy.resolved.chain,
                },
            );
        }
        set
    }

    fn add(&mut self, file: &Path, root: &Path) {
        let shown = display_path(file);
        match Policy::loader().root(root).load(file) {
            Ok(policy) => {
                self.diagnostics.extend(policy.warnings.iter().cloned());
                self.insert(
                    policy.compiled.policy.clone(),
                    PolicyUnderTest {
                        file: shown,
                        compiled: Ok(policy.compiled),
                        chain: policy.resolved.chain,
                    },
                );
            }
            Err(error) => {
                let unavailable = match error {
                    PolicyError::Invalid(diagnostics) => {
                        self.diagnostics.extend(diagnostics.iter().cloned());
                        let first = diagnostics
                            .iter()
                            .map(|d| render::human(d).lines().next().unwrap_or("").to_string())
                            .next()
                            .unwrap_or_default();
                        PolicyUnavailable::Invalid {
                            count: diagnostics.len(),
                            first,
                        }
                    }
                    PolicyError::Compile(error) => PolicyUnavailable::Compile(error),
                };
                // Named by its file stem: a policy that does not parse has no name to read.
                let name = file
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or(shown.clone());
                self.insert(
                    name,
                    PolicyUnderTest {
                        file: shown,
                        compiled: Err(unavailable),
                        chain: Vec::new(),
                    },
                );
            }
        }
    }

    /// Two files with one policy name: the second is kept as a failed policy under its file name.
    fn insert(&mut self, name: String, policy: PolicyUnderTest) {
        if let Some(first) = self.policies.get(&name) {
            let duplicate = PolicyUnavailable::DuplicateName {
                name: name.clone(),
                other: first.file.clone(),
            };
            // Keys name cells as `policy/query`, so the file's slashes go.
            let key = policy.file.replace(['/', '\\'], "~");
            self.policies.insert(
                key,
                PolicyUnderTest {
                    compiled: Err(duplicate),
                    chain: Vec::new(),
                    ..policy
                },
            );
        } else {
            self.policies.insert(name, policy);
        }
    }

    /// Whether every policy loaded.
    pub fn all_loaded(&self) -> bool {
        self.policies.values().all(|p| p.compiled.is_ok())
    }
}
