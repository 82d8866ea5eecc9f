//! Plan bundles: the reviewable record of how DataFusion planned one query under one policy over one
//! workload — who planned what (policy hashes, query and table fingerprints), the plans as `EXPLAIN`
//! prints them, the rule-by-rule optimizer trace of the same planning pass, `EXPLAIN ANALYZE` row
//! counts, and what the plans say on review (physical topology hash, statistics quality, physical
//! properties, filter pushdown, Delta file pruning, lineage, Substrait) — as stable JSON
//! ([`PlanBundle::to_json`]) with a schema at [`SCHEMA_PATH`].
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use dfpolicy::bundle::Bundler;
//! use dfpolicy::{Policy, SessionFactory, Workload};
//! let factory = SessionFactory::new(Policy::load("policies/baseline.toml")?.compiled)?;
//! let workload = Workload::load("tpch")?;
//! let bundler = Bundler::new(&factory, &workload).await?; // tables registered once
//! for query in workload.queries() {
//!     let bundle = bundler.bundle(query).await?; // a fresh session state per query
//!     println!("{}", bundle.to_json());
//! }
//! # Ok(()) }
//! ```

mod analyses;
mod capture;
#[cfg(feature = "ballista")]
pub(crate) mod distributed;
pub(crate) mod fingerprint;
mod lineage;
mod model;
mod output_rows;
pub(crate) mod paths;
mod plan;
mod properties;
mod pushdown;
mod scans;
mod statistics;
#[cfg(feature = "substrait")]
mod substrait;
mod text;
mod trace;

pub use analyses::Analysis;
pub use capture::{BundleBuilder, BundleError, Bundler};
pub use fingerprint::{physical_topology_hash, plan_fingerprint, query_fingerprint};
pub use model::*;
pub use paths::PathNormalizer;
pub use plan::{CapturedPlans, PlanTexts};
pub use statistics::STATISTICS_BELOW_MINIMUM;
