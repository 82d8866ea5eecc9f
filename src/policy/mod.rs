//! The policy language: the TOML model, reading files with their spans, `extends`, and finding policy
//! files. It knows nothing of DataFusion: what the keys mean is the registry's, checked by `validate`.

pub(crate) mod byte_size;
pub mod discover;
pub(crate) mod document;
pub(crate) mod load;
pub mod options;

use std::sync::Arc;

use crate::report::SourceFile;

pub use byte_size::ByteSize;
pub use document::Node;
pub use load::{PolicyChain, PolicySource, load_chain, read_policy};
pub use options::PolicyOptions;

/// A policy with its `extends` chain merged, as typed options.
#[derive(Debug, Clone)]
pub struct ResolvedPolicy {
    /// The merged policy (no `extends`).
    pub options: PolicyOptions,
    /// The files it was merged from, the policy itself first.
    pub chain: Vec<Arc<SourceFile>>,
}

impl ResolvedPolicy {
    /// Types the merged chain. Fails only for a chain that does not validate.
    pub fn from_chain(chain: &PolicyChain) -> Result<Self, serde_json::Error> {
        let options = serde_json::from_value(chain.merged().to_json())?;
        Ok(ResolvedPolicy {
            options,
            chain: chain.sources.iter().map(|s| Arc::clone(&s.file)).collect(),
        })
    }

    /// The policy's name.
    pub fn name(&self) -> &str {
        &self.options.policy.name
    }

    /// The merged policy as TOML, with the chain it came from in a header comment.
    pub fn to_toml(&self) -> String {
        let chain: Vec<&str> = self.chain.iter().map(|f| f.display_path.as_str()).collect();
        let body =
            toml::to_string(&self.options).unwrap_or_else(|e| format!("# cannot render: {e}\n"));
        format!("# resolved from: {}\n{body}", chain.join(" → "))
    }
}
