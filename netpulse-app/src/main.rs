//! The `netpulse` binary.

fn main() -> std::process::ExitCode {
    netpulse_app::cli::main()
}
