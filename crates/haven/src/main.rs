//! `haven`: the one binary. `haven serve` runs the service; `haven admin …` and
//! `haven audit …` manage it from the command line on either database engine; `haven
//! governance …` reports on it.
//!
//! Exit status: 0 success, 1 the command ran but refused or found a problem (a weak
//! password, a broken audit chain), 2 bad configuration or usage.

mod allocator;
mod cli;
mod commands;
mod config;
mod governance;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("haven: cannot start: {e}");
            return ExitCode::from(2);
        }
    };
    runtime.block_on(commands::run(cli))
}
