//! dfpolicy has no build step. This script exists so that `[build-dependencies]` in Cargo.toml can
//! pin the features build scripts see (see the comment there): cargo ignores build-dependencies of a
//! package without a build script.

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
}
