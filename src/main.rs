//! The `lateral` binary: parse arguments, run, map the outcome to an exit code.

#![forbid(unsafe_code)]

mod cli;

use std::process::ExitCode;

/// mimalloc instead of the system allocator: parsing makes and drops many
/// small buffers on every worker thread, and glibc's per-thread arenas
/// return and re-fault their pages at that rate.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    cli::main()
}
