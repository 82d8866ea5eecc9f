//! Parquet writer options that `ConfigOptions::set` accepts but arrow-rs or DataFusion's Parquet sink
//! then asserts on, panics on, or loops forever with.
//!
//! DataFusion stores these options as plain numbers and strings and hands them to arrow-rs only when a
//! session writes a file, so a policy could carry a value that crashes the first `COPY TO` of every
//! session built from it. [`WRITER_CONSTRAINTS`] lists each such value with the source line it
//! mirrors; [`check`] applies the table (and the cross-option rules of content-defined chunking) to a
//! complete set of Parquet options before any of them reaches arrow-rs.

use datafusion::common::config::TableParquetOptions;
use datafusion::common::file_options::parquet_writer::ParquetWriterOptions;
use datafusion::config::ParquetOptions;

use super::apply::{engine_message, render_within};
use super::panic_guard;
use super::values::RejectedBy;

/// The prefix of every Parquet option key.
pub const PREFIX: &str = "datafusion.execution.parquet.";

/// What a constrained option must satisfy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// An integer that must not be 0.
    NonZero,
    /// A float strictly between 0 and 1.
    OpenUnitInterval,
    /// One of a fixed set of words, compared case-insensitively.
    OneOf(&'static [&'static str]),
}

/// One option with a value arrow-rs or DataFusion cannot write with.
#[derive(Debug, Clone, Copy)]
pub struct WriterConstraint {
    /// The option key without the `datafusion.execution.parquet.` prefix.
    pub option: &'static str,
    /// What the value must satisfy.
    pub rule: Rule,
    /// What happens otherwise, and where (crate, file, function) — the code this row mirrors.
    pub because: &'static str,
}

/// Every single-option constraint of the Parquet writer of DataFusion 55.2 / arrow-rs 59.3.
pub const WRITER_CONSTRAINTS: &[WriterConstraint] = &[
    WriterConstraint {
        option: "bloom_filter_fpp",
        rule: Rule::OpenUnitInterval,
        because: "parquet 59.3 `ColumnProperties::set_bloom_filter_fpp` panics outside (0, 1) (file/properties.rs, `validate_bloom_filter_fpp`)",
    },
    WriterConstraint {
        option: "max_row_group_size",
        rule: Rule::NonZero,
        because: "parquet 59.3 `WriterPropertiesBuilder::set_max_row_group_row_count` asserts it is not 0 (file/properties.rs)",
    },
    WriterConstraint {
        option: "statistics_truncate_length",
        rule: Rule::NonZero,
        because: "parquet 59.3 `WriterPropertiesBuilder::set_statistics_truncate_length` asserts it is not 0 (file/properties.rs); leave it unset for no truncation",
    },
    WriterConstraint {
        option: "column_index_truncate_length",
        rule: Rule::NonZero,
        because: "parquet 59.3 `WriterPropertiesBuilder::set_column_index_truncate_length` asserts it is not 0 (file/properties.rs); leave it unset for no truncation",
    },
    WriterConstraint {
        option: "write_batch_size",
        rule: Rule::NonZero,
        because: "parquet 59.3 `GenericColumnWriter::write_batch_internal` advances by this many values per step and never ends with 0 (column/writer/mod.rs)",
    },
    WriterConstraint {
        option: "data_page_row_count_limit",
        rule: Rule::NonZero,
        because: "parquet 59.3 `GenericColumnWriter::write_batch_internal` advances by this many values per step and never ends with 0 (column/writer/mod.rs)",
    },
    WriterConstraint {
        option: "maximum_parallel_row_group_writers",
        rule: Rule::NonZero,
        because: "datafusion-datasource-parquet 55.2 `output_single_parquet_file_parallelized` creates a tokio channel of this capacity, which panics at 0 (sink.rs)",
    },
    WriterConstraint {
        option: "maximum_buffered_record_batches_per_stream",
        rule: Rule::NonZero,
        because: "datafusion-datasource-parquet 55.2 `spawn_column_parallel_row_group_writer` creates a tokio channel of this capacity, which panics at 0 (sink.rs)",
    },
    WriterConstraint {
        option: "encoding",
        rule: Rule::OneOf(&["plain"]),
        because: "the option applies to every column, and every other encoding panics for some column type: parquet 59.3 `GenericColumnWriter::new` unwraps the encoder (`byte_stream_split` on strings, `delta_*` and `rle` on the wrong types; column/writer/mod.rs) and `ColumnProperties::set_encoding` panics on dictionary encodings (file/properties.rs). Enable dictionaries with `dictionary_enabled`, and choose other encodings per column in `COPY ... OPTIONS ('format.encoding::column' ...)`",
    },
    WriterConstraint {
        option: "statistics_enabled",
        rule: Rule::OneOf(&["none", "chunk", "page"]),
        because: "datafusion-common 55.2 `ParquetOptions::into_writer_properties_builder` silently replaces any other word by the default (file_options/parquet_writer.rs, `parse_statistics_string`)",
    },
];

/// Keys of the content-defined chunking options, which arrow-rs checks together.
pub const CDC_ENABLED: &str = "datafusion.execution.parquet.content_defined_chunking.enabled";
/// The smallest chunk of content-defined chunking.
pub const CDC_MIN_CHUNK_SIZE: &str =
    "datafusion.execution.parquet.content_defined_chunking.min_chunk_size";
/// The largest chunk of content-defined chunking.
pub const CDC_MAX_CHUNK_SIZE: &str =
    "datafusion.execution.parquet.content_defined_chunking.max_chunk_size";
/// The normalization level of content-defined chunking.
pub const CDC_NORM_LEVEL: &str = "datafusion.execution.parquet.content_defined_chunking.norm_level";

/// `NUM_GEARHASH_TABLES` of parquet 59.3 (column/chunker/cdc_generated.rs), used by the mask check.
const GEARHASH_TABLES: i128 = 8;

/// A value the writer cannot use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriterProblem {
    /// The options involved (full keys), the one to point at first.
    pub keys: Vec<String>,
    /// What is wrong, in arrow-rs' or DataFusion's terms.
    pub message: String,
    /// The table here (dfpolicy, mirroring arrow-rs), or DataFusion's conversion of the options.
    pub rejected_by: RejectedBy,
}

/// Checks a complete set of Parquet writer options: the values arrow-rs asserts on (see
/// [`WRITER_CONSTRAINTS`]), then DataFusion's own conversion, with any panic it still
/// raises turned into an error. A failure names the options involved.
pub fn check_parquet_writer_options(
    parquet: &datafusion::config::ParquetOptions,
) -> Result<(), WriterProblem> {
    if let Some(problem) = check(parquet).into_iter().next() {
        return Err(problem);
    }
    let mut global = parquet.clone();
    // The writer also insists on an embedded Arrow schema, which only exists when a file is written.
    global.skip_arrow_metadata = true;
    let table = TableParquetOptions {
        global,
        ..TableParquetOptions::default()
    };
    let problem = |message: String| WriterProblem {
        keys: Vec::new(),
        message,
        rejected_by: RejectedBy::DataFusion,
    };
    panic_guard::without_panicking(|| ParquetWriterOptions::try_from(&table).map(|_| ()))
        .map_err(|panic| problem(format!("the Parquet writer rejects these options: {panic}")))?
        .map_err(|e| problem(engine_message(&e)))
}

/// The constraint on one option, if it has one.
pub fn constraint(key: &str) -> Option<&'static WriterConstraint> {
    let option = key.strip_prefix(PREFIX)?;
    WRITER_CONSTRAINTS.iter().find(|c| c.option == option)
}

/// Every problem of a complete set of Parquet options: the single-option table, then the
/// content-defined chunking rules (checked only when chunking is enabled, as arrow-rs does).
pub fn check(options: &ParquetOptions) -> Vec<WriterProblem> {
    let mut problems = Vec::new();
    for constraint in WRITER_CONSTRAINTS {
        if let Some(message) = violation(options, constraint) {
            problems.push(WriterProblem {
                keys: vec![format!("{PREFIX}{}", constraint.option)],
                message: format!("{message}: {}", constraint.because),
                rejected_by: RejectedBy::Dfpolicy,
            });
        }
    }
    let cdc = &options.content_defined_chunking;
    if cdc.enabled {
        let sizes: Vec<String> = [CDC_MIN_CHUNK_SIZE, CDC_MAX_CHUNK_SIZE, CDC_ENABLED]
            .map(str::to_string)
            .to_vec();
        let (min, max) = (cdc.min_chunk_size as i128, cdc.max_chunk_size as i128);
        let found = if min == 0 {
            Some((sizes, "content-defined chunking needs `min_chunk_size` > 0 (parquet 59.3 `set_content_defined_chunking` asserts it)".to_string()))
        } else if max <= min {
            Some((
                sizes,
                format!(
                    "content-defined chunking needs `max_chunk_size` ({max}) > `min_chunk_size` ({min}) (parquet 59.3 `set_content_defined_chunking` asserts it)"
                ),
            ))
        } else if max > i64::MAX as i128 {
            Some((
                sizes,
                format!(
                    "content-defined chunking sizes must fit in 63 bits; `max_chunk_size` is {max} (parquet 59.3 converts them to i64)"
                ),
            ))
        } else {
            // parquet 59.3 `ContentDefinedChunker::calculate_mask` (column/chunker/cdc.rs), in i128 so
            // that no value overflows here.
            let target = ((min + max) / 2 - min) / GEARHASH_TABLES;
            let mask_bits = if target > 0 {
                127 - target.leading_zeros() as i128
            } else {
                0
            };
            let effective = mask_bits - i128::from(cdc.norm_level);
            let mut keys = vec![CDC_NORM_LEVEL.to_string()];
            keys.extend(sizes);
            (!(1..=63).contains(&effective)).then(|| (keys, format!(
                "content-defined chunking with min {min}, max {max} and norm_level {} gives a {effective}-bit mask; arrow-rs needs 1 to 63 bits (parquet 59.3 `ContentDefinedChunker::calculate_mask`): widen the chunk size range or move `norm_level` towards 0",
                cdc.norm_level
            )))
        };
        if let Some((keys, message)) = found {
            problems.push(WriterProblem {
                keys,
                message,
                rejected_by: RejectedBy::Dfpolicy,
            });
        }
    }
    problems
}

fn violation(options: &ParquetOptions, constraint: &WriterConstraint) -> Option<String> {
    // DataFusion's rendering of the value; `None` for an unset optional option, which is never a
    // violation.
    let text = render_within(
        options,
        PREFIX.trim_end_matches('.'),
        &format!("{PREFIX}{}", constraint.option),
    )?;
    let ok = match constraint.rule {
        Rule::NonZero => text != "0",
        Rule::OpenUnitInterval => text.parse::<f64>().is_ok_and(|v| v > 0.0 && v < 1.0),
        Rule::OneOf(words) => words.contains(&text.to_lowercase().as_str()),
    };
    if ok {
        return None;
    }
    Some(match constraint.rule {
        Rule::NonZero => format!("`{}` must not be 0", constraint.option),
        Rule::OpenUnitInterval => format!(
            "`{}` must be between 0 and 1 (exclusive), not {text}",
            constraint.option
        ),
        Rule::OneOf(words) => format!(
            "`{text}` is not a value of `{}`; expected one of: {}",
            constraint.option,
            words.join(", ")
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_constrained_option_exists_and_its_default_passes() {
        for c in WRITER_CONSTRAINTS {
            assert!(
                crate::registry::registry()
                    .option(&format!("{PREFIX}{}", c.option))
                    .is_some(),
                "{}",
                c.option
            );
        }
        assert_eq!(check(&ParquetOptions::default()), Vec::new());
    }

    #[test]
    fn chunking_sizes_are_checked_together() {
        let mut options = ParquetOptions::default();
        options.content_defined_chunking.min_chunk_size = 0;
        assert_eq!(
            check(&options),
            Vec::new(),
            "disabled chunking is not checked"
        );
        options.content_defined_chunking.enabled = true;
        assert_eq!(check(&options)[0].keys[0], CDC_MIN_CHUNK_SIZE);
        options.content_defined_chunking.min_chunk_size = 2 << 20;
        assert!(check(&options)[0].message.contains("max_chunk_size"));
        options.content_defined_chunking.min_chunk_size = 256 << 10;
        options.content_defined_chunking.norm_level = 40;
        assert_eq!(check(&options)[0].keys[0], CDC_NORM_LEVEL);
    }
}
