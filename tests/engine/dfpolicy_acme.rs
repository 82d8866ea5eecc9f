//! Acme's own dfpolicy: the ten lines a team writes (here the engine is in `acme.rs`, shared with
//! the tests).

#[path = "acme.rs"]
mod acme;

fn main() -> std::process::ExitCode {
    dfpolicy::cli::main_with(acme::acme())
}
