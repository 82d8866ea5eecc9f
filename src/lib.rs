//! dfpolicy: policy-as-code for Apache DataFusion sessions.
//!
//! The stages, each importing only the ones before it:
//! [`registry`] (what the embedded DataFusion and the installed engine, [`Extensions`], know) → [`policy`] (the TOML language, files,
//! `extends`, finding policy files) → [`validate`] (schema and registry checks) → [`compile`] (the
//! complete environment with its hashes, and the front door [`Policy::load`]) → [`session`]
//! (DataFusion sessions built from a compiled policy) → [`workload`] (tables and queries) →
//! [`bundle`] (plan bundles: plans, EXPLAIN formats, the optimizer trace) → [`harness`] (the one
//! planning loop, every policy × every query, baselines, comparison and attribution) →
//! [`sensitivity`] (which settings move which plans) → [`review`] (the comparison as one
//! self-contained HTML page) → [`store`] (the append-only Delta table of every run's bundles) →
//! [`check`] (`dfpolicy check` as one library call: [`Check`]) → [`cli`].
//! [`report`] (source files, findings, renderers), [`secrets`] and [`object_storage`] (S3, Azure and
//! GCS locations, their options and, with the `cloud` feature, their stores) sit underneath and serve
//! every stage.
//!
//! ```
//! let policy = dfpolicy::Policy::load("policies/baseline.toml")?; // load, validate, resolve, compile
//! println!("{}", policy.compiled.hashes.plan_environment_hash);
//! let ctx = dfpolicy::session_context("policies/baseline.toml")?; // a session of it, in one line
//! # Ok::<(), dfpolicy::Error>(())
//! ```
//!
//! [`Error`] is the one error type of the common path: every entry point's error converts into it
//! with `?`.

#![warn(missing_docs)]

#[macro_use]
mod names;

pub mod bundle;
pub mod check;
pub mod cli;
pub mod compile;
pub mod error;
pub mod harness;
pub mod object_storage;
pub mod policy;
pub mod registry;
pub mod report;
pub mod review;
pub mod secrets;
pub mod sensitivity;
pub mod session;
pub mod store;
pub mod validate;
pub mod workload;

pub use bundle::{Bundler, PlanBundle};
pub use check::{Check, CheckError, Checked};
pub use compile::{CompiledPolicy, Policy, PolicyError, PolicyLoader, compile};
pub use datafusion;
pub use error::{Error, Result};
pub use policy::{PolicyOptions, ResolvedPolicy};
pub use registry::{EngineError, EngineIdentity, Extensions, RulePosition};
pub use report::{Code, Diagnostic, Severity};
#[cfg(feature = "ballista")]
pub use session::BallistaCluster;
pub use session::{SessionFactory, capture_session_settings};
pub use workload::{Workload, WorkloadError};

/// A session of the policy at `path`, in one call: the policy loaded, validated and compiled
/// ([`Policy::load`]), then a session of it built ([`SessionFactory::context`]) with the installed
/// engine's extensions. Make a [`SessionFactory`] instead to build many sessions of one policy.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> dfpolicy::Result<()> {
/// let ctx = dfpolicy::session_context("policies/baseline.toml")?;
/// let rows = ctx.sql("SELECT 1 AS one").await?.collect().await?;
/// assert_eq!(rows[0].num_rows(), 1);
/// # Ok(()) }
/// ```
pub fn session_context(
    path: impl AsRef<std::path::Path>,
) -> Result<datafusion::prelude::SessionContext> {
    let policy = Policy::load(path)?;
    Ok(SessionFactory::new(policy.compiled)?.context()?)
}

/// The Rust examples of the README and of every docs page, compiled as doctests so that they follow
/// the API.
#[cfg(doctest)]
pub mod docs {
    #[doc = include_str!("../README.md")]
    pub struct Readme;
    #[doc = include_str!("../docs/sessions.md")]
    pub struct Sessions;
    #[doc = include_str!("../docs/workloads.md")]
    pub struct Workloads;
    #[doc = include_str!("../docs/bundles.md")]
    pub struct Bundles;
    #[doc = include_str!("../docs/check.md")]
    pub struct Check;
    #[doc = include_str!("../docs/ballista.md")]
    pub struct Ballista;
    #[doc = include_str!("../docs/engines.md")]
    pub struct Engines;
}
