//! `haven-loadgen`: synthetic participants for measuring Haven's media server.
//!
//! A tour: `cli` (flags), `setup` (staff sign-in through the real pages in `web`, rooms and
//! invitations; accounts from `staff`), `run` (joins, the measured window, sampling with
//! `procfs`), `peer` (one str0m client per participant, signalling over `signal`),
//! `publish` (the synthetic audio and video, stamped by `stamp`), `tally`, `seqset` and
//! `histogram` (loss, delay and rates on the receiving side), `views` (tile sizes told to
//! the server), `report` and `text` (the
//! summary). Nothing here changes the server: it is driven as browsers and staff drive it.

mod arrival;
mod cli;
mod histogram;
mod html;
mod janus;
mod peer;
mod procfs;
mod publish;
mod report;
mod run;
mod seqset;
mod setup;
mod signal;
mod staff;
mod stamp;
mod tally;
mod text;
mod timeline;
mod views;
mod web;

use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;

/// `--sign-in-only`: how many of the accounts could not sign in.
async fn sign_in_only(args: &cli::Args) -> anyhow::Result<usize> {
    let staff = args.staff.as_ref().context("--staff is needed")?;
    let file = staff::StaffFile::load(staff)?;
    let accounts = file.accounts(args.rooms)?;
    let n = accounts.len();
    let failed = setup::sign_in_only(&args.server, accounts, &file).await;
    eprintln!("signed in {} of {n} account(s)", n - failed);
    Ok(failed)
}

fn main() -> ExitCode {
    let args = cli::Args::parse();
    if let Err(e) = args.check() {
        eprintln!("haven-loadgen: {e}");
        return ExitCode::from(2);
    }
    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    if let Some(threads) = args.threads {
        runtime.worker_threads(threads);
    }
    let runtime = match runtime.enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("haven-loadgen: cannot start the runtime: {e}");
            return ExitCode::from(2);
        }
    };
    if args.sign_in_only {
        return match runtime.block_on(sign_in_only(&args)) {
            Ok(0) => ExitCode::SUCCESS,
            Ok(_) => ExitCode::FAILURE,
            Err(e) => {
                eprintln!("haven-loadgen: {e:#}");
                ExitCode::from(2)
            }
        };
    }
    let outcome = match runtime.block_on(run::run(&args)) {
        Ok(outcome) => outcome,
        Err(e) => {
            eprintln!("haven-loadgen: {e:#}");
            return ExitCode::from(2);
        }
    };
    let summary = report::summarise(&args, &outcome);
    if args.json {
        match serde_json::to_string(&summary) {
            Ok(json) => println!("{json}"),
            Err(e) => {
                eprintln!("haven-loadgen: cannot write the summary as JSON: {e}");
                return ExitCode::from(2);
            }
        }
    } else {
        print!("{}", text::render(&summary));
    }
    // Peers still mid-close are abandoned rather than waited for.
    runtime.shutdown_background();
    if summary.connected == summary.participants && summary.dropped.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
