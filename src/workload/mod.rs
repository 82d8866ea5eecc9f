//! The embedded workloads: query sets with the schemas they run over.

pub mod tpch;
