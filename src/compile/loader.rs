//! The front door: one call takes a policy file through every stage — load (with `extends`), validate,
//! resolve, compile — and every later stage (sessions, workloads, bundles, the harness, the CLI) starts
//! from its result.

use std::path::{Path, PathBuf};

use super::{CompileError, CompiledPolicy, compile};
use crate::policy::ResolvedPolicy;
use crate::policy::discover::default_root;
use crate::policy::load::load_chain;
use crate::report::{Code, Diagnostic, Severity, display_path, normalize};
use crate::validate::validate_chain;

/// A policy read with its parents, validated, merged and compiled.
#[derive(Debug, Clone)]
pub struct Policy {
    /// The merged policy as written (typed options and the files it came from).
    pub resolved: ResolvedPolicy,
    /// The complete session environment with its hashes.
    pub compiled: CompiledPolicy,
    /// Warnings found while validating (never errors: a policy with errors does not load).
    pub warnings: Vec<Diagnostic>,
}

impl Policy {
    /// Reads a policy, follows `extends`, validates everything, merges and compiles it.
    ///
    /// ```
    /// let policy = dfpolicy::Policy::load("policies/baseline.toml")?;
    /// assert_eq!(policy.name(), "baseline");
    /// assert_eq!(
    ///     policy.compiled.settings["datafusion.execution.target_partitions"].as_deref(),
    ///     Some("4")
    /// );
    /// # Ok::<(), dfpolicy::Error>(())
    /// ```
    pub fn load(path: impl AsRef<Path>) -> Result<Policy, PolicyError> {
        PolicyLoader::default().load(path)
    }

    /// A loader with options (`extends` confined to a root folder).
    pub fn loader() -> PolicyLoader {
        PolicyLoader::default()
    }

    /// The policy's name (`[policy] name`).
    pub fn name(&self) -> &str {
        self.resolved.name()
    }
}

/// Why a policy did not load.
#[derive(Debug, Clone, thiserror::Error)]
pub enum PolicyError {
    /// The policy has findings; the errors among them stop it (warnings are included for context).
    #[error("invalid policy: {}", error_findings(.0))]
    Invalid(Vec<Diagnostic>),
    /// The policy validated but DataFusion refused its environment: a gap in validation, to report.
    #[error(transparent)]
    Compile(#[from] CompileError),
}

/// The errors among findings, on one line.
fn error_findings(diagnostics: &[Diagnostic]) -> String {
    diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .map(Diagnostic::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

impl PolicyError {
    /// The findings that stopped the policy (none for a compile error).
    pub fn diagnostics(&self) -> &[Diagnostic] {
        match self {
            PolicyError::Invalid(diagnostics) => diagnostics,
            PolicyError::Compile(_) => &[],
        }
    }
}

/// Loads policies; see [`Policy::load`].
#[derive(Debug, Clone, Default)]
pub struct PolicyLoader {
    root: Option<PathBuf>,
}

impl PolicyLoader {
    /// The directory `extends` parents must live under (default: the working directory for policies
    /// below it, else the policy's own directory).
    pub fn root(mut self, root: impl Into<PathBuf>) -> Self {
        self.root = Some(root.into());
        self
    }

    /// Reads, validates, merges and compiles the policy at `path`, as [`Policy::load`] does.
    pub fn load(&self, path: impl AsRef<Path>) -> Result<Policy, PolicyError> {
        let path = path.as_ref();
        let root = self.root.clone().unwrap_or_else(|| default_root(path));
        let (chain, mut diagnostics) = load_chain(path, &root);
        let Some(chain) = chain else {
            return Err(PolicyError::Invalid(diagnostics));
        };
        diagnostics.extend(validate_chain(&chain));
        normalize(&mut diagnostics);
        if diagnostics.iter().any(|d| d.severity == Severity::Error) {
            return Err(PolicyError::Invalid(diagnostics));
        }
        let resolved = ResolvedPolicy::from_chain(&chain).map_err(|error| {
            PolicyError::Invalid(vec![
                Diagnostic::new(Code::InvalidValue, error.to_string())
                    .with_path(display_path(path)),
            ])
        })?;
        let compiled = compile(&resolved.options)?;
        Ok(Policy {
            resolved,
            compiled,
            warnings: diagnostics,
        })
    }
}
