//! Every enum value has one name, derived once (`named_enum!` gives serde's `rename_all` and strum's
//! `serialize_all` one case rule): JSON, text output, the JSON schemas and the CLI all write it the
//! same way.

use dfpolicy::bundle::{CaptureStep, FunctionKind, Phase, PlanKind, PushdownClass, Quality};
use dfpolicy::compile::MemoryPool;
use dfpolicy::harness::CellStatus;
use dfpolicy::policy::options::{ExplainFormat, MemoryPoolKind, StatisticsQuality};
use dfpolicy::registry::{RuleStage, SettingClass};
use dfpolicy::report::Severity;
use dfpolicy::workload::TableFormat;
use dfpolicy::workload::file::CsvCompression;
use serde::Serialize;
use strum::VariantArray;

/// For every value: `Display`, `&'static str::from` and serde write one name.
fn one_name<T>() -> Vec<&'static str>
where
    T: VariantArray + Serialize + std::fmt::Display + Copy + Into<&'static str>,
{
    T::VARIANTS
        .iter()
        .map(|value| {
            let name: &'static str = (*value).into();
            assert_eq!(value.to_string(), name);
            assert_eq!(serde_json::to_value(value).unwrap(), name, "{name}");
            name
        })
        .collect()
}

#[test]
fn each_enum_value_is_written_one_way() {
    assert_eq!(
        one_name::<Quality>(),
        ["exact", "estimated", "unknown", "mixed"]
    );
    assert_eq!(
        one_name::<PushdownClass>(),
        ["exact", "inexact", "unsupported"]
    );
    one_name::<FunctionKind>();
    assert_eq!(one_name::<PlanKind>(), ["optimized_logical", "physical"]);
    assert_eq!(one_name::<Phase>(), ["analyzer", "logical", "physical"]);
    assert!(one_name::<CaptureStep>().contains(&"optimized_logical"));
    assert_eq!(one_name::<MemoryPool>(), ["unbounded", "greedy", "fair"]);
    assert!(one_name::<CellStatus>().contains(&"inputs-changed"));
    assert_eq!(
        one_name::<ExplainFormat>(),
        ["indent", "tree", "graphviz", "pgjson"]
    );
    assert_eq!(one_name::<MemoryPoolKind>(), ["greedy", "fair"]);
    assert_eq!(
        one_name::<StatisticsQuality>(),
        ["exact", "estimated", "unknown"]
    );
    assert_eq!(one_name::<RuleStage>(), ["analyzer", "logical", "physical"]);
    assert!(one_name::<SettingClass>().contains(&"dfpolicy-only"));
    assert_eq!(one_name::<Severity>(), ["error", "warning"]);
    // A table format is a built-in one or any `STORED AS` name, written one way too.
    assert_eq!(
        TableFormat::BUILT_IN.map(|format| format.to_string()),
        ["parquet", "csv", "delta"]
    );
    for format in TableFormat::BUILT_IN
        .into_iter()
        .chain([TableFormat::Stored("acmelog".into())])
    {
        let written = serde_json::to_value(&format).unwrap();
        assert_eq!(written, format.to_string());
        assert_eq!(
            serde_json::from_value::<TableFormat>(written).unwrap(),
            format
        );
    }
    assert_eq!(TableFormat::of_name("CSV"), TableFormat::Csv);
    assert_eq!(
        TableFormat::of_name("AcmeLog"),
        TableFormat::Stored("acmelog".into())
    );
    one_name::<CsvCompression>();
}

#[test]
fn the_schemas_list_the_same_names() {
    let schema = dfpolicy::bundle::bundle_schema().to_string();
    for name in one_name::<Quality>()
        .into_iter()
        .chain(one_name::<PushdownClass>())
        .chain(one_name::<CaptureStep>())
    {
        assert!(schema.contains(&format!("\"{name}\"")), "{name}");
    }
}

#[test]
fn a_cause_kind_is_its_json_tag() {
    let cause = dfpolicy::harness::Cause::DatafusionVersion {
        baseline: "54.0.0".into(),
        now: "55.2.0".into(),
    };
    assert_eq!(serde_json::to_value(&cause).unwrap()["kind"], cause.kind());
    assert_eq!(cause.kind(), "datafusion-version");
    assert_eq!(
        dfpolicy::harness::Cause::Nondeterminism.kind(),
        "nondeterminism"
    );
}

#[test]
fn the_cli_takes_the_same_format_names() {
    use clap::ValueEnum;
    for format in dfpolicy::report::Format::value_variants() {
        let name: &'static str = (*format).into();
        assert_eq!(format.to_possible_value().unwrap().get_name(), name);
    }
}
