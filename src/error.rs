//! One error type for the common path: a program that loads policies and workloads, makes
//! sessions, bundles, runs the harness, checks and stores runs can use [`Error`] with `?` for all
//! of it. Each stage's own error stays the source (`match` on [`Error`] to reach it), so nothing of
//! its context is lost.

use datafusion::error::DataFusionError;

use crate::bundle::BundleError;
use crate::check::CheckError;
use crate::compile::PolicyError;
use crate::harness::{HarnessError, UnreadablePolicies};
use crate::registry::EngineError;
use crate::sensitivity::SensitivityError;
use crate::store::StoreError;
use crate::workload::WorkloadError;

/// Any error of dfpolicy's entry points, each stage's error as it was raised.
///
/// ```
/// fn first_policy_hash() -> dfpolicy::Result<String> {
///     let policy = dfpolicy::Policy::load("policies/baseline.toml")?; // a PolicyError
///     let ctx = dfpolicy::SessionFactory::new(policy.compiled.clone())?.context()?; // DataFusion's
///     drop(ctx);
///     Ok(policy.compiled.hashes.plan_environment_hash)
/// }
/// assert!(first_policy_hash()?.starts_with("v1:"));
/// # Ok::<(), dfpolicy::Error>(())
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A policy did not load: its findings, or an environment DataFusion refused.
    #[error(transparent)]
    Policy(#[from] PolicyError),
    /// A folder of policies could not be walked.
    #[error(transparent)]
    Policies(#[from] UnreadablePolicies),
    /// An engine could not be installed.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// DataFusion refused something: a session, a query, a table.
    #[error(transparent)]
    DataFusion(#[from] DataFusionError),
    /// A workload did not load or could not be set up in a session.
    #[error(transparent)]
    Workload(#[from] WorkloadError),
    /// A plan bundle could not be made.
    #[error(transparent)]
    Bundle(#[from] BundleError),
    /// A harness run stopped.
    #[error(transparent)]
    Harness(#[from] HarnessError),
    /// A check could not be made.
    #[error(transparent)]
    Check(#[from] CheckError),
    /// The settings sweep could not be made.
    #[error(transparent)]
    Sensitivity(#[from] SensitivityError),
    /// The run store could not be read or written.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A result whose error is [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
