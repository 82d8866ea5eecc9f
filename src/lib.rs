//! dfpolicy: policy-as-code for Apache DataFusion sessions.
//!
//! The flow runs one way: [`policy`] (the TOML model, files, `extends`) → [`validate`] (schema and
//! DataFusion registry checks, as [`Diagnostic`]s)
//! → [`compile`] (the complete, canonical environment and its hashes) → [`session`] (DataFusion sessions
//! built from it). [`registry`] holds what the embedded DataFusion knows (option keys, defaults, rule
//! names); [`workload`] the embedded TPC-H queries; [`cli`] is a thin layer over the library.
//!
//! ```no_run
//! let policy = dfpolicy::Policy::load("policies/baseline.toml")?;
//! println!("{}", policy.resolved.to_toml());
//! # Ok::<(), dfpolicy::PolicyError>(())
//! ```

pub mod cli;
pub mod compile;
pub mod diagnostic;
pub mod policy;
pub mod registry;
pub mod secrets;
pub mod session;
pub mod validate;
pub mod workload;

pub use compile::{CompiledPolicy, compile};
pub use datafusion;
pub use diagnostic::{Code, Diagnostic, Severity};
pub use policy::{PolicyOptions, ResolvedPolicy};
pub use session::{SessionFactory, capture_session_settings};
pub use validate::{Policy, PolicyError, PolicyLoader};
