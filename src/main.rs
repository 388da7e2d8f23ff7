//! The `lateral` binary: parse arguments, run, map the outcome to an exit code.

mod cli;
mod cli_baseline;
mod progress;

use std::process::ExitCode;

fn main() -> ExitCode {
    cli::main()
}
