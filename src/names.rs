//! One name per enum value. [`named_enum!`] declares a unit enum whose values are written one way
//! everywhere — serde (JSON, TOML), the JSON schemas, `Display` in text output, `&'static str::from`,
//! and the CLI — spelled by one case rule given once (serde's `rename_all` and strum's
//! `serialize_all` both take it, so they cannot disagree). `VARIANTS` lists the values in order.

/// Declares a named enum: `named_enum! { names = "kebab-case"; /// docs  pub enum E { A, B } }`.
macro_rules! named_enum {
    (
        names = $case:literal;
        $(#[$meta:meta])*
        $vis:vis enum $name:ident { $($body:tt)* }
    ) => {
        $(#[$meta])*
        #[derive(
            Debug,
            Clone,
            Copy,
            PartialEq,
            Eq,
            PartialOrd,
            Ord,
            Hash,
            serde::Serialize,
            serde::Deserialize,
            schemars::JsonSchema,
            strum::Display,
            strum::IntoStaticStr,
            strum::VariantArray,
        )]
        #[serde(rename_all = $case)]
        #[strum(serialize_all = $case)]
        $vis enum $name { $($body)* }
    };
}
