//! Credentials never leave dfpolicy: every output (compiled policies, resolved policies, diffs,
//! findings, hashes) shows `***` where a value carried one.
//!
//! A policy should not hold credentials — object stores take them from the environment — but an
//! option such as `datafusion.catalog.location` is free text and may be written
//! `s3://KEY:SECRET@bucket/path`. What counts as a credential:
//! - the user information of a URL, everything between `://` and the last `@` of the authority;
//! - the value of a `name=value` pair whose name is one of [`CREDENTIAL_NAMES`] (case-insensitive),
//!   as in a query string `?sig=…&X-Amz-Credential=…` or a connection string `password=…`.
//!
//! The session keeps the real value; only what is shown or stored is redacted, and hashes are
//! computed over the redacted form, so a hash says nothing about a secret and does not change when a
//! credential is rotated.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::Serializer;

/// What replaces a credential.
pub const REDACTED: &str = "***";

/// Names whose values are credentials in `name=value` pairs (compared case-insensitively, also with a
/// prefix such as `X-Amz-` or `aws_`).
pub const CREDENTIAL_NAMES: &[&str] = &[
    "password",
    "passwd",
    "pwd",
    "secret",
    "secret_key",
    "secret_access_key",
    "access_key",
    "access_key_id",
    "session_token",
    "token",
    "api_key",
    "apikey",
    "sig",
    "signature",
    "credential",
    "credentials",
    "client_secret",
    "sas",
    "sas_key",
    "sas_token",
    "account_key",
    "service_account_key",
    "private_key",
    "bearer_token",
];

/// `text` with every credential replaced by [`REDACTED`].
pub fn redact(text: &str) -> Cow<'_, str> {
    let spans = credential_spans(text);
    if spans.is_empty() {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for span in spans {
        out.push_str(&text[at..span.start]);
        out.push_str(REDACTED);
        at = span.end;
    }
    out.push_str(&text[at..]);
    Cow::Owned(out)
}

/// `text` with every character of a credential replaced by `*`, keeping byte offsets: for showing a
/// source line under which a caret points.
pub fn mask(text: &str) -> Cow<'_, str> {
    let spans = credential_spans(text);
    if spans.is_empty() {
        return Cow::Borrowed(text);
    }
    let mut out = text.to_string();
    for span in spans {
        let stars = "*".repeat(span.len());
        out.replace_range(span, &stars);
    }
    Cow::Owned(out)
}

/// Serializes settings with their credentials redacted.
pub fn serialize_settings<S: Serializer>(
    settings: &BTreeMap<String, Option<String>>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_map(
        settings
            .iter()
            .map(|(k, v)| (k, v.as_deref().map(|v| redact(v).into_owned()))),
    )
}

/// Byte ranges of credentials in `text`, sorted and disjoint; each starts and ends on a character
/// boundary (every delimiter looked for is ASCII).
fn credential_spans(text: &str) -> Vec<std::ops::Range<usize>> {
    let bytes = text.as_bytes();
    let mut spans = Vec::new();
    // URL user information.
    let mut from = 0;
    while let Some(found) = text[from..].find("://") {
        let start = from + found + 3;
        let end = bytes[start..]
            .iter()
            .position(|b| b"/?#\"' \t\r\n<>`".contains(b))
            .map_or(bytes.len(), |p| start + p);
        if let Some(at) = text[start..end].rfind('@') {
            spans.push(start..start + at);
        }
        from = end.max(start);
    }
    // name=value pairs.
    let lower = text.to_ascii_lowercase();
    let mut from = 0;
    while let Some(found) = lower[from..].find('=') {
        let eq = from + found;
        from = eq + 1;
        // `name=value`, and as TOML writes it, `name = "value"` (a quoted name too).
        let name_end = lower[..eq].trim_end_matches([' ', '\t']);
        let name_end = name_end.strip_suffix(['"', '\'']).unwrap_or(name_end).len();
        let name_start = lower[..name_end]
            .char_indices()
            .rev()
            .find(|(_, c)| !(c.is_ascii_alphanumeric() || *c == '_' || *c == '-'))
            .map_or(0, |(p, c)| p + c.len_utf8());
        let name = &lower[name_start..name_end];
        let is_credential = CREDENTIAL_NAMES.iter().any(|n| {
            name == *n
                || name
                    .strip_suffix(n)
                    .is_some_and(|prefix| prefix.ends_with('_') || prefix.ends_with('-'))
        });
        if !is_credential {
            continue;
        }
        let spaces = bytes[eq + 1..]
            .iter()
            .take_while(|b| **b == b' ' || **b == b'\t')
            .count();
        let value_start = eq + 1 + spaces;
        let (start, end) = match bytes.get(value_start) {
            // A quoted value (TOML): everything up to the closing quote, or the line's end where
            // a display cut the line short.
            Some(quote @ (b'"' | b'\'')) => {
                let start = value_start + 1;
                let end = bytes[start..]
                    .iter()
                    .position(|b| b == quote || *b == b'\n' || *b == b'\r')
                    .map_or(bytes.len(), |p| start + p);
                (start, end)
            }
            _ => {
                let start = eq + 1;
                let end = bytes[start..]
                    .iter()
                    .position(|b| b"&;,\"' \t\r\n)}]`".contains(b))
                    .map_or(bytes.len(), |p| start + p);
                (start, end)
            }
        };
        if end > start {
            spans.push(start..end);
        }
    }
    spans.sort_by_key(|s| s.start);
    let mut merged: Vec<std::ops::Range<usize>> = Vec::new();
    for span in spans {
        match merged.last_mut() {
            Some(last) if span.start <= last.end => last.end = last.end.max(span.end),
            _ => merged.push(span),
        }
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_lose_their_user_information() {
        assert_eq!(
            redact("s3://KEY:SECRET@bucket/path"),
            "s3://***@bucket/path"
        );
        assert_eq!(redact("postgres://u@h:5432/db"), "postgres://***@h:5432/db");
        assert_eq!(redact("s3://bucket/a@b"), "s3://bucket/a@b");
        assert_eq!(redact("file:///tmp/x"), "file:///tmp/x");
    }

    #[test]
    fn credential_pairs_lose_their_values() {
        assert_eq!(
            redact("https://h/p?X-Amz-Credential=AK/x&X-Amz-Signature=ab12&size=3"),
            "https://h/p?X-Amz-Credential=***&X-Amz-Signature=***&size=3"
        );
        assert_eq!(
            redact("host=h password=hunter2 user=u"),
            "host=h password=*** user=u"
        );
        assert_eq!(redact("notatoken=1 mytoken=2"), "notatoken=1 mytoken=2");
        assert_eq!(redact("é␂ token=x; é"), "é␂ token=***; é");
    }

    #[test]
    fn masking_keeps_offsets() {
        let text = "location = \"s3://K:S@b\"";
        assert_eq!(mask(text).len(), text.len());
        assert_eq!(mask(text), "location = \"s3://***@b\"");
        let toml = r#"storage_options = { region = "x", aws_secret_access_key = "hunter2" }"#;
        assert_eq!(
            mask(toml),
            r#"storage_options = { region = "x", aws_secret_access_key = "*******" }"#
        );
        assert_eq!(
            redact(r#""azure_storage_account_key" = 'abc=='"#),
            r#""azure_storage_account_key" = '***'"#
        );
        assert_eq!(redact(r#"password="pw" x"#), r#"password="***" x"#);
        // A line cut short by a display: the value ends with the line.
        assert_eq!(
            redact("token = \"abc\n  |  ^^^ \"x\""),
            "token = \"***\n  |  ^^^ \"x\""
        );
    }
}
