//! `haven governance report|counts` and `haven admin retention run`.

use std::io::Write;

use haven_domain::UkMonth;
use haven_server::ops::{governance, retention};
use haven_server::{Clock, SystemClock};
use haven_store::Store;

use crate::cli::GovernanceCommand;
use crate::commands::{Failure, find_org, refused, usage};

/// A month typed on the command line, named by its flag in the error.
fn month(flag: &str, text: &str) -> Result<UkMonth, Failure> {
    UkMonth::parse(text).map_err(|e| usage(format!("{flag}: {e}")))
}

fn print(text: &str) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| refused(format!("cannot write the output: {e}")))
}

pub(crate) async fn run(store: &Store, cmd: GovernanceCommand) -> Result<(), Failure> {
    match cmd {
        GovernanceCommand::Report {
            org,
            month: typed,
            json,
        } => {
            let month = match typed {
                Some(text) => month("--month", &text)?,
                None => UkMonth::containing(SystemClock.now()),
            };
            let org = find_org(store, &org).await?;
            let report = governance::report(store, &org.id, month).await?;
            if json {
                print(&format!("{:#}\n", governance::report_json(&report)))
            } else {
                print(&governance::report_text(&report))
            }
        }
        GovernanceCommand::Counts { from, to } => {
            let (from, to) = (month("--from", &from)?, month("--to", &to)?);
            if to < from {
                return Err(usage("--to: must be the same month as --from or later"));
            }
            let csv = governance::counts_csv(store, None, from, to)
                .await
                .map_err(|e| usage(format!("--from/--to: {e}")))?;
            print(&csv)
        }
    }
}

pub(crate) async fn retention(store: &Store) -> Result<(), Failure> {
    let removals = retention::run(store, SystemClock.now()).await?;
    if removals.is_empty() {
        println!("nothing is older than the retention periods");
    }
    for r in removals {
        let whose = r.org.map_or_else(
            || "all organisations".to_owned(),
            |o| format!("organisation {o}"),
        );
        let when = r
            .older_than
            .format(&haven_domain::time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        println!(
            "removed {} {} older than {when} ({whose})",
            r.count,
            r.kind.as_str()
        );
    }
    Ok(())
}
