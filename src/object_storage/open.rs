//! The object stores (opened with the `cloud` feature): `object_store`'s S3, Azure and GCS clients, configured
//! from the environment first (as their `from_env` does) and then from the location's storage
//! options, which [`super::check_option`] has already cleared of credentials.
//!
//! Writes that must not be lost (Delta commits of the artifact store) rely on conditional puts:
//! delta-rs' default log store writes each commit file with `PutMode::Create`, which S3 sends as
//! `If-None-Match: *`, Azure as `If-None-Match: *` and GCS as `ifGenerationMatch=0`, so two writers
//! cannot both write one version. A server that ignores the condition would let the second writer
//! overwrite the first's commit, so [`check_conditional_put`] asks the server before any write.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use object_store::azure::{AzureConfigKey, MicrosoftAzureBuilder};
use object_store::client::SpawnedReqwestConnector;
use object_store::gcp::{GoogleCloudStorageBuilder, GoogleConfigKey};
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload};

use super::{StoreKind, shown, store_url};

/// Why an object store could not be made.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The location is not on S3, Azure or GCS.
    #[error("`{location}` is not an S3, Azure or GCS location")]
    NotObjectStorage {
        /// The location as shown.
        location: String,
    },
    /// This dfpolicy was built without the store.
    #[error("`{location}`: {store} locations need dfpolicy built with the `{feature}` feature")]
    FeatureMissing {
        /// The location as shown.
        location: String,
        /// The store's name.
        store: &'static str,
        /// The feature that builds it in.
        feature: &'static str,
    },
    /// The store has no such option.
    #[error("`{location}`: storage option `{key}` is not a {store} option")]
    UnknownOption {
        /// The location as shown.
        location: String,
        /// The option.
        key: String,
        /// The store's name.
        store: &'static str,
    },
    /// `object_store` could not make the client.
    #[error("`{location}`: cannot make the {store} client")]
    Build {
        /// The location as shown.
        location: String,
        /// The store's name.
        store: &'static str,
        /// `object_store`'s error.
        #[source]
        source: object_store::Error,
    },
}

/// The runtime every store's requests run on. dfpolicy plans on several runtimes (one per harness
/// job, one per CLI call), and a store is shared by all of them; a pooled connection belongs to the
/// runtime that opened it and fails ("error sending request") once that runtime is gone. On one
/// runtime that lives as long as the process, connections outlive the runtimes that plan.
fn io_runtime() -> tokio::runtime::Handle {
    static IO: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    IO.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("dfpolicy-object-store")
            .enable_all()
            .build()
            .expect("the object-store runtime starts")
    })
    .handle()
    .clone()
}

/// The store that holds `url` (registered for its bucket: `s3://bucket/`), configured from the
/// environment and then from `options`; its requests run on [`io_runtime`]. The one place the
/// `cloud` feature is asked: without it, every object-storage location ends here, as an error that
/// names the feature.
pub fn open_store(
    url: &url::Url,
    options: &BTreeMap<String, String>,
) -> Result<Arc<dyn ObjectStore>, OpenError> {
    let location = shown(url);
    let kind = StoreKind::of_scheme(url.scheme()).ok_or_else(|| OpenError::NotObjectStorage {
        location: location.clone(),
    })?;
    if !cfg!(feature = "cloud") {
        return Err(OpenError::FeatureMissing {
            location,
            store: kind.title(),
            feature: super::FEATURE,
        });
    }
    let root = store_url(url);
    // The three builders share no trait: the same steps, written once for each type.
    macro_rules! store {
        ($builder:ty, $key:ty) => {{
            let mut builder = <$builder>::from_env();
            for (key, value) in options {
                let key: $key =
                    key.to_ascii_lowercase()
                        .parse()
                        .map_err(|_| OpenError::UnknownOption {
                            location: location.clone(),
                            key: key.clone(),
                            store: kind.title(),
                        })?;
                builder = builder.with_config(key, value);
            }
            let store = builder
                .with_url(root.as_str())
                .with_http_connector(SpawnedReqwestConnector::new(io_runtime()))
                .build()
                .map_err(|source| OpenError::Build {
                    location: location.clone(),
                    store: kind.title(),
                    source,
                })?;
            Arc::new(store) as Arc<dyn ObjectStore>
        }};
    }
    Ok(match kind {
        StoreKind::S3 => store!(AmazonS3Builder, AmazonS3ConfigKey),
        StoreKind::Azure => store!(MicrosoftAzureBuilder, AzureConfigKey),
        StoreKind::Gcs => store!(GoogleCloudStorageBuilder, GoogleConfigKey),
    })
}

/// Why writes to a store are refused.
#[derive(Debug, thiserror::Error)]
pub enum ConditionalPutError {
    /// The server accepted a second create-only write of one object.
    #[error(
        "the server ignores conditional writes (a second create-only write of one object succeeded), so concurrent commits could overwrite each other; refusing to write"
    )]
    Ignored,
    /// The store's client was configured without conditional writes.
    #[error(
        "conditional writes are switched off for this store (`aws_conditional_put = disabled`?); refusing to write without them"
    )]
    Disabled(#[source] object_store::Error),
    /// The probe write itself failed.
    #[error("cannot test the server's conditional writes")]
    Probe(#[source] object_store::Error),
}

/// Asks the server whether it honours create-only writes: writes one small object below `below`
/// twice with `PutMode::Create` and expects the second to fail as existing; removes it after.
pub async fn check_conditional_put(
    store: &dyn ObjectStore,
    below: &ObjectPath,
) -> Result<(), ConditionalPutError> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let probe = below
        .clone()
        .join("_dfpolicy_conditional_put")
        .join(format!("{}-{nanos}", std::process::id()));
    let create = || PutOptions {
        mode: PutMode::Create,
        ..PutOptions::default()
    };
    let first = store
        .put_opts(&probe, PutPayload::from_static(b"1"), create())
        .await;
    let outcome = match first {
        Err(e @ object_store::Error::NotImplemented { .. }) => {
            return Err(ConditionalPutError::Disabled(e));
        }
        Err(e) => return Err(ConditionalPutError::Probe(e)),
        Ok(_) => match store
            .put_opts(&probe, PutPayload::from_static(b"2"), create())
            .await
        {
            Err(object_store::Error::AlreadyExists { .. }) => Ok(()),
            Ok(_) => Err(ConditionalPutError::Ignored),
            Err(e) => Err(ConditionalPutError::Probe(e)),
        },
    };
    let _ = store.delete(&probe).await;
    outcome
}
