//! Object storage: which URL schemes name S3, Azure and GCS locations, which storage options a
//! workload file may write for them, and (in [`open`]) the stores that read and write there, which
//! only a build with the `cloud` feature opens. (The builders are compiled either way: the Delta
//! kernel already builds them, so the feature costs no compile time and leaves no code unchecked.)
//!
//! Credentials never come from a file: object stores take them from the environment (`AWS_*`,
//! `AZURE_*`, `GOOGLE_*`, as `object_store`'s `from_env` reads them) or from the provider's default
//! chain (instance metadata, workload identity). A workload file names only what is not secret —
//! region, endpoint, account name, `allow_http` — and a credential written there is a finding at its
//! key. A location is never written with user information or a query string (a signed URL), so what
//! dfpolicy prints or stores of a location carries no credential.

pub mod open;

use std::str::FromStr;

use object_store::aws::AmazonS3ConfigKey;
use object_store::azure::AzureConfigKey;
use object_store::gcp::GoogleConfigKey;
use object_store::path::Path as ObjectPath;

/// The cargo feature that opens the object stores.
pub const FEATURE: &str = "cloud";

/// The object stores dfpolicy reads tables from and keeps its artifact store in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreKind {
    /// Amazon S3 and S3-compatible stores (`s3://`).
    S3,
    /// Azure Blob Storage (`az://`).
    Azure,
    /// Google Cloud Storage (`gs://`).
    Gcs,
}

impl StoreKind {
    /// The store a URL scheme names: `s3`/`s3a`, `az`/`abfs`/`abfss`/`azure`, `gs`.
    pub fn of_scheme(scheme: &str) -> Option<StoreKind> {
        match scheme {
            "s3" | "s3a" => Some(StoreKind::S3),
            "az" | "abfs" | "abfss" | "azure" | "adl" => Some(StoreKind::Azure),
            "gs" => Some(StoreKind::Gcs),
            _ => None,
        }
    }

    /// The name users know the store by.
    pub fn title(self) -> &'static str {
        match self {
            StoreKind::S3 => "S3",
            StoreKind::Azure => "Azure",
            StoreKind::Gcs => "GCS",
        }
    }
}

/// Why a storage option cannot be written in a workload file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StorageOptionError {
    /// The option is a credential.
    #[error(
        "storage option `{key}` is a credential; credentials are never read from a workload file"
    )]
    Credential {
        /// The option.
        key: String,
        /// The environment variable the credential is read from instead.
        environment: String,
    },
    /// The option's value carries a credential (a URL with user information, a signed query).
    #[error("storage option `{key}` carries a credential in its value")]
    CredentialInValue {
        /// The option.
        key: String,
    },
    /// The store has no such option.
    #[error("storage option `{key}` is not a {store} option")]
    Unknown {
        /// The option.
        key: String,
        /// The store's name.
        store: &'static str,
    },
}

impl StorageOptionError {
    /// What to write instead.
    pub fn help(&self) -> String {
        match self {
            StorageOptionError::Credential { environment, .. } => format!(
                "remove it and set `{environment}` in the environment (or use the provider's default credential chain)"
            ),
            StorageOptionError::CredentialInValue { .. } => {
                "write the value without user information or query string; credentials come from the environment".to_string()
            }
            StorageOptionError::Unknown { store, .. } => format!(
                "write one of object_store's {store} configuration keys (`region`, `endpoint`, `allow_http` …)"
            ),
        }
    }
}

/// Checks one storage option written for a `kind` location: a key the store knows that is not a
/// credential, with a value that carries none.
pub fn check_option(kind: StoreKind, key: &str, value: &str) -> Result<(), StorageOptionError> {
    let lower = key.to_ascii_lowercase();
    let credential = match kind {
        StoreKind::S3 => known::<AmazonS3ConfigKey>(&lower, |k| {
            use AmazonS3ConfigKey::*;
            matches!(k, AccessKeyId | SecretAccessKey | Token)
        }),
        StoreKind::Azure => known::<AzureConfigKey>(&lower, |k| {
            use AzureConfigKey::*;
            matches!(
                k,
                AccessKey | ClientSecret | SasKey | Token | FabricSessionToken
            )
        }),
        StoreKind::Gcs => {
            known::<GoogleConfigKey>(&lower, |k| matches!(k, GoogleConfigKey::ServiceAccountKey))
        }
    }
    .ok_or_else(|| StorageOptionError::Unknown {
        key: key.to_string(),
        store: kind.title(),
    })?;
    if let Some(canonical) = credential {
        return Err(StorageOptionError::Credential {
            key: key.to_string(),
            environment: canonical.to_ascii_uppercase(),
        });
    }
    if crate::secrets::redact(value) != value {
        return Err(StorageOptionError::CredentialInValue {
            key: key.to_string(),
        });
    }
    Ok(())
}

/// `None` when `key` is not one of the store's configuration keys; else its canonical name when it
/// is a credential (`aws_secret_access_key`).
fn known<K: FromStr + AsRef<str>>(
    key: &str,
    is_credential: impl Fn(&K) -> bool,
) -> Option<Option<String>> {
    let key = K::from_str(key).ok()?;
    Some(is_credential(&key).then(|| key.as_ref().to_string()))
}

/// Why an object-store URL cannot be a location.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RemoteUrlError {
    /// The URL has a user name or password.
    #[error(
        "`{shown}` has user information; credentials come from the environment, never from a location"
    )]
    UserInformation {
        /// The URL as shown (credentials redacted).
        shown: String,
    },
    /// The URL has a query string or fragment.
    #[error(
        "`{shown}` has a query string or fragment (a signed URL?); write the location without it"
    )]
    Query {
        /// The URL as shown (credentials redacted).
        shown: String,
    },
    /// The URL names no bucket or container.
    #[error("`{shown}` names no bucket or container")]
    NoBucket {
        /// The URL as shown.
        shown: String,
    },
    /// The URL's path is not an object path.
    #[error("`{shown}` is not a valid object path")]
    Path {
        /// The URL as shown.
        shown: String,
    },
}

/// Checks that an object-store URL is a plain location: a bucket (container), a path, nothing else.
pub fn check_url(url: &url::Url) -> Result<(), RemoteUrlError> {
    let shown = || shown(url);
    if !url.username().is_empty() || url.password().is_some() {
        return Err(RemoteUrlError::UserInformation { shown: shown() });
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(RemoteUrlError::Query { shown: shown() });
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(RemoteUrlError::NoBucket { shown: shown() });
    }
    if ObjectPath::from_url_path(url.path()).is_err() {
        return Err(RemoteUrlError::Path { shown: shown() });
    }
    Ok(())
}

/// A location as dfpolicy prints and stores it: without user information, query or fragment.
pub fn shown(url: &url::Url) -> String {
    let mut plain = url.clone();
    let _ = plain.set_username("");
    let _ = plain.set_password(None);
    plain.set_query(None);
    plain.set_fragment(None);
    let text = plain.to_string();
    if url.username().is_empty() && url.password().is_none() {
        return text;
    }
    // `set_username` refuses URLs without a host; the redaction catches the rest.
    crate::secrets::redact(&text).into_owned()
}

/// The URL an object store is registered under: scheme and bucket (container), `s3://bucket/`.
pub fn store_url(url: &url::Url) -> url::Url {
    let mut root = url.clone();
    root.set_path("/");
    root.set_query(None);
    root.set_fragment(None);
    root
}

/// The object path of a location below its store's root (`lake/lineitem`), as the store and plans
/// name it (`object_store`'s own decoding of a URL path).
pub fn object_path(url: &url::Url) -> ObjectPath {
    // `check_url` refused what does not decode; such a path is kept as written.
    ObjectPath::from_url_path(url.path()).unwrap_or_else(|_| ObjectPath::from(url.path()))
}

/// The name an object has in its bucket: an object path part decoded (`object_store` escapes what a
/// key may hold, as the `%` of a Delta partition folder `l_shipmode=REG%20AIR`).
pub fn object_name(part: &str) -> String {
    percent_encoding::percent_decode_str(part)
        .decode_utf8_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_findings_and_the_rest_is_checked_against_the_store() {
        assert_eq!(check_option(StoreKind::S3, "region", "eu-west-1"), Ok(()));
        assert_eq!(check_option(StoreKind::S3, "allow_http", "true"), Ok(()));
        assert_eq!(
            check_option(StoreKind::S3, "aws_secret_access_key", "x"),
            Err(StorageOptionError::Credential {
                key: "aws_secret_access_key".into(),
                environment: "AWS_SECRET_ACCESS_KEY".into()
            })
        );
        assert!(matches!(
            check_option(StoreKind::Azure, "account_key", "x"),
            Err(StorageOptionError::Credential { environment, .. }) if environment == "AZURE_STORAGE_ACCOUNT_KEY"
        ));
        assert!(matches!(
            check_option(StoreKind::Gcs, "service_account_key", "{}"),
            Err(StorageOptionError::Credential { .. })
        ));
        assert!(matches!(
            check_option(StoreKind::S3, "endpoint", "http://K:S@127.0.0.1:9000"),
            Err(StorageOptionError::CredentialInValue { .. })
        ));
        assert!(matches!(
            check_option(StoreKind::S3, "regoin", "x"),
            Err(StorageOptionError::Unknown { store: "S3", .. })
        ));
    }

    #[test]
    fn locations_are_plain() {
        let url = |s| url::Url::parse(s).unwrap();
        assert_eq!(check_url(&url("s3://bucket/lake/t")), Ok(()));
        assert!(matches!(
            check_url(&url("s3://KEY:SECRET@bucket/t")),
            Err(RemoteUrlError::UserInformation { shown }) if shown == "s3://bucket/t"
        ));
        assert!(matches!(
            check_url(&url("s3://bucket/t?X-Amz-Signature=abc")),
            Err(RemoteUrlError::Query { shown }) if shown == "s3://bucket/t"
        ));
        assert_eq!(
            store_url(&url("s3://bucket/lake/t/")).as_str(),
            "s3://bucket/"
        );
        assert_eq!(
            object_path(&url("s3://bucket/lake/a%20b/")).as_ref(),
            "lake/a b"
        );
        assert_eq!(object_name("REG%2520AIR"), "REG%20AIR");
    }
}
