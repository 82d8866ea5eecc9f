//! Sessions of a policy that targets Apache Ballista.
//!
//! Every session of a Ballista policy — the local one bundles plan in, and the distributed ones
//! ([`SessionFactory::ballista_context`], feature `ballista`) — carries Ballista's configuration
//! extension with the policy's `ballista.*` values, and Ballista's logical rule
//! (`not_in_subquery_rewrite`, which Ballista puts in front of DataFusion's rules). The DataFusion
//! settings Ballista forces are in the compiled environment already (see
//! [`crate::compile::BallistaEnvironment`]). Ballista's `upgrade_for_ballista` applies its own
//! defaults only to a configuration without the extension, so the policy's environment reaches the
//! cluster as compiled, key by key.

use datafusion::error::{DataFusionError, Result};
use datafusion::prelude::SessionConfig;

use super::LogicalRules;
use crate::compile::CompiledPolicy;

/// The configuration and logical rules of a session of `compiled`: unchanged for a DataFusion
/// policy; with Ballista's extension and rule for a Ballista policy.
#[cfg(feature = "ballista")]
pub(super) fn prepare(
    compiled: &CompiledPolicy,
    config: SessionConfig,
    logical: LogicalRules,
) -> Result<(SessionConfig, LogicalRules)> {
    use ballista_core::config::BallistaConfig;

    let Some(ballista) = &compiled.ballista else {
        return Ok((config, logical));
    };
    let mut config = config.with_option_extension(BallistaConfig::default());
    for (key, value) in &ballista.settings {
        let Some(value) = value else { continue };
        let value = if key == crate::registry::ballista::STANDALONE_PARALLELISM && value == "0" {
            // "One per CPU", resolved where the session runs, as DataFusion does for
            // `target_partitions = 0`.
            std::thread::available_parallelism()
                .map_or(1, |n| n.get())
                .to_string()
        } else {
            value.clone()
        };
        config.options_mut().set(key, &value).map_err(|error| {
            error.context(format!(
                "policy `{}`: cannot apply `{key}`",
                compiled.policy
            ))
        })?;
    }
    let logical = ballista_core::optimizer::with_ballista_optimizer_rules(&logical);
    Ok((config, logical))
}

/// Without the `ballista` feature a Ballista policy has no session: its plans depend on Ballista's
/// rules and planner, which are not built in.
#[cfg(not(feature = "ballista"))]
pub(super) fn prepare(
    compiled: &CompiledPolicy,
    config: SessionConfig,
    logical: LogicalRules,
) -> Result<(SessionConfig, LogicalRules)> {
    match &compiled.ballista {
        None => Ok((config, logical)),
        Some(_) => Err(DataFusionError::Configuration(format!(
            "policy `{}` targets Ballista: its sessions and plans need dfpolicy built with the `ballista` feature (`cargo build --release --features ballista`); `validate`, `compile` and `diff` work without it",
            compiled.policy
        ))),
    }
}

/// Where a Ballista session runs its jobs.
#[cfg(feature = "ballista")]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BallistaCluster {
    /// A scheduler and an executor started in this process (`SessionContextExt::standalone_with_state`),
    /// with `ballista.standalone.parallelism` task slots.
    Standalone,
    /// A running scheduler, `df://host:port` (port 50050 when left out).
    Remote(String),
}

#[cfg(feature = "ballista")]
impl super::SessionFactory {
    /// A session of a Ballista policy whose queries run as jobs on `cluster`. Fails for a policy that
    /// does not target Ballista, and when the scheduler cannot be started or reached.
    pub async fn ballista_context(
        &self,
        cluster: &BallistaCluster,
    ) -> Result<datafusion::prelude::SessionContext> {
        use ballista::prelude::SessionContextExt;
        use datafusion::prelude::SessionContext;

        if self.compiled.ballista.is_none() {
            return Err(DataFusionError::Configuration(format!(
                "policy `{}` does not target Ballista: add a `[ballista]` section",
                self.compiled.policy
            )));
        }
        let state = self.state()?;
        let ctx = match cluster {
            BallistaCluster::Standalone => SessionContext::standalone_with_state(state).await?,
            BallistaCluster::Remote(url) => {
                if !url.starts_with("df://") {
                    return Err(DataFusionError::Configuration(format!(
                        "`{url}` is not a Ballista scheduler: write df://host:port"
                    )));
                }
                SessionContext::remote_with_state(url, state).await?
            }
        };
        // Ballista's `upgrade_for_ballista` gives the client session Ballista's default functions
        // in place of the session's: the engine's come back on top, so a query calling one plans as
        // in every other session (the standalone scheduler and executor were started with them).
        let mut state = ctx.state();
        self.extensions.register(&mut state)?;
        Ok(SessionContext::new_with_state(state))
    }
}
