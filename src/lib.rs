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
//! ```no_run
//! let policy = dfpolicy::Policy::load("policies/baseline.toml")?; // load, validate, resolve, compile
//! println!("{}", policy.compiled.hashes.plan_environment_hash);
//! # Ok::<(), dfpolicy::PolicyError>(())
//! ```

#[macro_use]
mod names;

pub mod bundle;
pub mod check;
pub mod cli;
pub mod compile;
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
pub use policy::{PolicyOptions, ResolvedPolicy};
pub use registry::{EngineError, EngineIdentity, Extensions, RulePosition};
pub use report::{Code, Diagnostic, Severity};
#[cfg(feature = "ballista")]
pub use session::BallistaCluster;
pub use session::{SessionFactory, capture_session_settings};
pub use workload::{Workload, WorkloadError};

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
