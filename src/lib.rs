//! dfpolicy: policy-as-code for Apache DataFusion sessions.
//!
//! The stages, each importing only the ones before it:
//! [`registry`] (what the embedded DataFusion knows) → [`policy`] (the TOML language, files,
//! `extends`, finding policy files) → [`validate`] (schema and registry checks) → [`compile`] (the
//! complete environment with its hashes, and the front door [`Policy::load`]) → [`session`]
//! (DataFusion sessions built from a compiled policy) → [`workload`] (tables and queries) →
//! [`bundle`] (plan bundles: plans, EXPLAIN formats, the optimizer trace) → [`harness`] (every
//! policy × every query, baselines, comparison and attribution) → [`review`] (the comparison as
//! one self-contained HTML page) → [`store`] (the append-only Delta table of every run's bundles)
//! → [`cli`].
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
pub mod cli;
pub mod compile;
pub mod harness;
pub mod object_storage;
pub mod policy;
pub mod registry;
pub mod report;
pub mod review;
pub mod secrets;
pub mod session;
pub mod store;
pub mod validate;
pub mod workload;

pub use bundle::{Bundler, PlanBundle};
pub use compile::{CompiledPolicy, Policy, PolicyError, PolicyLoader, compile};
pub use datafusion;
pub use policy::{PolicyOptions, ResolvedPolicy};
pub use report::{Code, Diagnostic, Severity};
#[cfg(feature = "ballista")]
pub use session::BallistaCluster;
pub use session::{SessionFactory, capture_session_settings};
pub use workload::{Workload, WorkloadError};

/// The README's Rust examples, compiled as doctests so that they follow the API.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
