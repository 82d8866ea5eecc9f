//! `[settings]` reaches every DataFusion 55 option: each key is accepted with its default value.

use std::sync::Arc;

use dfpolicy::Code;
use dfpolicy::policy::{Node, PolicyChain, PolicySource};
use dfpolicy::registry::toml_literal;
use dfpolicy::registry::{FORCED_SETTINGS, registry};
use dfpolicy::report::SourceFile;
use dfpolicy::validate::validate_chain;

/// A policy chain of one inline file, as validation sees a loaded policy.
pub fn chain_of(text: &str) -> PolicyChain {
    PolicyChain {
        sources: vec![PolicySource {
            file: Arc::new(SourceFile::new(
                "inline.toml".into(),
                "/inline.toml".into(),
                text.into(),
            )),
            tree: Node::parse(text, 0).expect("valid TOML"),
        }],
        complete: true,
    }
}

#[test]
fn every_registry_key_is_accepted_with_its_default_value() {
    let mut checked = 0;
    for option in registry().options() {
        let Some(default) = option.default.as_deref() else {
            continue;
        };
        let text = format!(
            "[policy]\nname = \"p\"\n[settings]\n\"datafusion.execution.target_partitions\" = 2\n\"datafusion.execution.planning_concurrency\" = 2\n\"{}\" = {}\n",
            option.key,
            toml_literal(option.kind, default)
        );
        let diagnostics = validate_chain(&chain_of(&text));
        if let Some((_, forced)) = FORCED_SETTINGS.iter().find(|(key, _)| *key == option.key) {
            // Where DataFusion's default is not what dfpolicy sessions run with, saying so is the
            // finding.
            let expected = if default == *forced {
                Code::RedundantDefault
            } else {
                Code::ForcedSetting
            };
            let codes: Vec<Code> = diagnostics.iter().map(|d| d.code).collect();
            assert_eq!(codes, [expected], "{}", option.key);
            checked += 1;
            continue;
        }
        let errors: Vec<String> = diagnostics
            .iter()
            .filter(|d| d.severity == dfpolicy::Severity::Error)
            .map(|d| d.to_string())
            .collect();
        assert!(errors.is_empty(), "{} = {default}: {errors:?}", option.key);
        assert!(
            diagnostics.iter().any(|d| d.code == Code::RedundantDefault),
            "{} = {default} was not recognized as the default",
            option.key
        );
        checked += 1;
    }
    assert!(checked > 120, "only {checked} options have a default");
}

#[test]
fn the_registry_is_complete() {
    let config_keys = dfpolicy::datafusion::config::ConfigOptions::new()
        .entries()
        .len();
    let runtime_keys = registry().options().filter(|o| o.runtime).count();
    assert_eq!(registry().options().count(), config_keys + runtime_keys);
    assert_eq!(runtime_keys, 8);
}
