fn main() -> std::process::ExitCode {
    dfpolicy::cli::main()
}
