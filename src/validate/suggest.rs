//! "Did you mean": suggestions for misspelled names.

use crate::policy::document::{Node, PathSegment, path_text};
use crate::policy::options::{SECTIONS, typed_field_for_key};
use crate::registry::registry;
use crate::report::{Code, Diagnostic};

use super::schema::allowed_keys;

/// The candidate most similar to `input`, if any is similar enough to be a likely typo.
pub fn closest<'a>(input: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let mut best: Option<(f64, &str)> = None;
    for candidate in candidates {
        let score = strsim::normalized_damerau_levenshtein(input, candidate)
            .max(strsim::jaro_winkler(input, candidate) - 0.1);
        if score >= 0.7 && best.is_none_or(|(b, c)| score > b || (score == b && candidate < c)) {
            best = Some((score, candidate));
        }
    }
    best.map(|(_, c)| c)
}

/// The finding for a key the schema does not allow at `path`, with the best hint we can give.
pub fn unknown_name(path: &[PathSegment], name: &str, node: Option<&Node>) -> Diagnostic {
    let is_table = node.is_some_and(|n| n.as_table().is_some());
    match path {
        [] if !is_table => key_outside_section(name),
        [] => unknown_section(name),
        [PathSegment::Key(section)] if section == "settings" => match node {
            Some(table) if is_table => unquoted_dotted_setting(name, table),
            _ => unknown_setting(name),
        },
        _ => unknown_key(path, name),
    }
}

/// The finding for a key a document's schema does not allow at `path`, for documents other than
/// policies (which have sections and DataFusion keys to point to): did-you-mean among the keys allowed
/// there, else the list of them.
pub fn unknown_document_key(
    schema: &serde_json::Value,
    path: &[PathSegment],
    name: &str,
    node: Option<&Node>,
) -> Diagnostic {
    let allowed = super::schema::keys_at(schema, path);
    let is_table = node.is_some_and(|n| n.as_table().is_some());
    let diagnostic = match path {
        [] if is_table => {
            Diagnostic::new(Code::UnknownSection, format!("unknown section `[{name}]`"))
        }
        [] => Diagnostic::new(
            Code::UnknownKey,
            format!("`{name}` is not inside a section"),
        ),
        _ => Diagnostic::new(
            Code::UnknownKey,
            format!("unknown key `{name}` in `[{}]`", path_text(path)),
        ),
    };
    match closest(name, allowed.iter().map(String::as_str)) {
        Some(s) if path.is_empty() && is_table => {
            diagnostic.with_help(format!("did you mean `[{s}]`?"))
        }
        Some(s) => diagnostic.with_help(format!("did you mean `{s}`?")),
        None => diagnostic.with_help(format!("allowed here: {}", allowed.join(", "))),
    }
}

/// The same finding as [`unknown_name`] without a suggestion (computing one costs a comparison with
/// every candidate), for findings past the report's cap.
pub fn unknown_name_without_help(
    path: &[PathSegment],
    name: &str,
    node: Option<&Node>,
) -> Diagnostic {
    let is_table = node.is_some_and(|n| n.as_table().is_some());
    let (code, message) = match path {
        [] if !is_table => (
            Code::UnknownKey,
            format!("`{name}` is not inside a section"),
        ),
        [] => (Code::UnknownSection, format!("unknown section `[{name}]`")),
        [PathSegment::Key(section)] if section == "settings" => (
            Code::UnknownSetting,
            crate::registry::unknown_key_message(name),
        ),
        _ => (
            Code::UnknownKey,
            format!("unknown key `{name}` in `[{}]`", path_text(path)),
        ),
    };
    Diagnostic::new(code, message)
}

/// `datafusion.execution.batch_size = 1` without quotes in `[settings]`: TOML reads the dots as nested
/// tables, so the key arrives as a table `datafusion`. Say so, with the key as it should be written.
fn unquoted_dotted_setting(name: &str, table: &Node) -> Diagnostic {
    let mut leaves = Vec::new();
    dotted_leaves(table, name.to_string(), &mut leaves);
    let written = leaves.first().cloned().unwrap_or_else(|| name.to_string());
    let diagnostic = Diagnostic::new(
        Code::UnknownSetting,
        format!("`{written}` is read as nested tables because its key is not quoted"),
    );
    let known = registry().option(&written).is_some();
    let hint = if known || leaves.is_empty() {
        String::new()
    } else if let Some(key) = closest(&written, registry().keys()) {
        format!(" (did you mean `{key}`?)")
    } else {
        String::new()
    };
    diagnostic.with_help(format!(
        "quote the whole key, as DataFusion writes it: \"{written}\" = ...{hint}"
    ))
}

fn dotted_leaves(node: &Node, prefix: String, out: &mut Vec<String>) {
    match node.as_table() {
        Some(table) if out.len() < 8 => {
            for (key, child) in table {
                dotted_leaves(child, format!("{prefix}.{key}"), out);
            }
        }
        Some(_) => {}
        None => out.push(prefix),
    }
}

fn unknown_section(name: &str) -> Diagnostic {
    let sections = allowed_keys(&[]);
    let mut diagnostic =
        Diagnostic::new(Code::UnknownSection, format!("unknown section `[{name}]`"));
    if name == "workload" {
        return diagnostic.with_help(
            "this is a workload file, not a policy: check it with `dfpolicy workload validate FILE`",
        );
    }
    if let Some(s) = closest(name, sections.iter().map(String::as_str)) {
        return diagnostic.with_help(format!("did you mean `[{s}]`?"));
    }
    if let Some((section, _)) = SECTIONS
        .iter()
        .find(|(_, fields)| fields.iter().any(|f| f.name == name))
    {
        return diagnostic.with_help(format!("`{name}` is a key of `[{section}]`; move it there"));
    }
    if registry().option(name).is_some() {
        return diagnostic.with_help(format!(
            "DataFusion keys go in `[settings]`: \"{name}\" = ..."
        ));
    }
    diagnostic.help = Some(format!("known sections: {}", sections.join(", ")));
    diagnostic
}

fn key_outside_section(name: &str) -> Diagnostic {
    let diagnostic = Diagnostic::new(
        Code::UnknownKey,
        format!("`{name}` is not inside a section"),
    );
    let policy_keys = allowed_keys(&[PathSegment::Key("policy".into())]);
    let home = std::iter::once((
        "policy",
        policy_keys.iter().map(String::as_str).collect::<Vec<_>>(),
    ))
    .chain(
        SECTIONS
            .iter()
            .map(|(s, fields)| (*s, fields.iter().map(|f| f.name).collect())),
    )
    .find(|(_, fields)| fields.contains(&name));
    match home {
        Some((section, _)) => diagnostic.with_help(format!("move it under `[{section}]`")),
        None if registry().option(name).is_some() => diagnostic.with_help(format!(
            "DataFusion keys go in `[settings]`: \"{name}\" = ..."
        )),
        None => diagnostic
            .with_help("every key belongs to a section such as `[policy]` or `[execution]`"),
    }
}

fn unknown_key(path: &[PathSegment], name: &str) -> Diagnostic {
    let allowed = allowed_keys(path);
    let at = path_text(path);
    let diagnostic = Diagnostic::new(
        Code::UnknownKey,
        format!("unknown key `{name}` in `[{at}]`"),
    );
    if let Some(s) = closest(name, allowed.iter().map(String::as_str)) {
        return diagnostic.with_help(format!("did you mean `{s}`?"));
    }
    if let Some((section, _)) = SECTIONS.iter().find(|(section, fields)| {
        path_text(path) != *section && fields.iter().any(|f| f.name == name)
    }) {
        return diagnostic.with_help(format!("`{name}` belongs in `[{section}]`"));
    }
    if let Some(key) = registry().expand_short_key(name) {
        let typed = typed_field_for_key(&key)
            .map(|(section, field)| format!(", or use `[{section}].{}`", field.name))
            .unwrap_or_default();
        return diagnostic.with_help(format!(
            "set the DataFusion option in `[settings]`: \"{key}\" = ...{typed}"
        ));
    }
    diagnostic.with_help(format!("keys of `[{at}]`: {}", allowed.join(", ")))
}

fn unknown_setting(name: &str) -> Diagnostic {
    let diagnostic = Diagnostic::new(
        Code::UnknownSetting,
        crate::registry::unknown_key_message(name),
    );
    if let Some(key) = registry().expand_short_key(name) {
        return diagnostic.with_help(format!("did you mean `{key}`?"));
    }
    if let Some(key) = closest(name, registry().keys()) {
        return diagnostic.with_help(format!("did you mean `{key}`?"));
    }
    diagnostic.with_help("`dfpolicy settings` lists every option")
}
