//! Verifying and exporting the audit log.

use std::io::Write;

use haven_domain::audit::{AuditRecord, ChainBreak, ChainVerifier, GENESIS_HASH};
use haven_domain::time::format_description::well_known::Rfc3339;
use haven_store::Store;

use crate::Error;

/// Entries read per page while walking the whole log.
const PAGE: i64 = 1000;

/// Walks the whole chain that remains: `Ok(Ok(n))` when all `n` entries link up,
/// `Ok(Err(break))` naming the first entry where it breaks. Entries removed by retention
/// are behind the checkpoint (the last removed entry's sequence number and hash), where
/// the check starts, so the first entry kept must link to it.
pub async fn verify(store: &Store) -> Result<Result<u64, ChainBreak>, Error> {
    let (checkpoint_seq, checkpoint_hash) = store.audit_checkpoint().await?;
    let mut verifier = if checkpoint_seq == 0 {
        ChainVerifier::new(GENESIS_HASH.to_string(), 1)
    } else {
        ChainVerifier::new(checkpoint_hash, checkpoint_seq + 1)
    };
    let mut after = checkpoint_seq;
    loop {
        let page = store.audit_page(after, PAGE).await?;
        for record in &page {
            if let Err(broken) = verifier.push(record) {
                return Ok(Err(broken));
            }
        }
        match page.last() {
            Some(last) => after = last.seq,
            None => break,
        }
    }
    let (seq, hash) = store.audit_head().await?;
    let head = (seq > 0).then_some((seq, hash.as_str()));
    Ok(verifier.finish(head))
}

/// Export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Comma-separated values with a header row.
    Csv,
    /// One JSON array of objects.
    Json,
}

/// The CSV header row.
pub const CSV_HEADER: &str =
    "seq,time,actor_kind,actor_id,action,object,org_id,client_addr,detail,prev_hash,hash";

/// One entry as a CSV row (no line ending). Cells that a spreadsheet would run as a formula
/// are prefixed with a quote mark.
pub fn csv_row(r: &AuditRecord) -> String {
    let cells = [
        r.seq.to_string(),
        time_text(r),
        r.actor.kind().to_string(),
        r.actor.id().unwrap_or("").to_string(),
        r.action.clone(),
        r.object.clone(),
        r.org_id.as_ref().map_or(String::new(), |o| o.to_string()),
        r.client_addr.clone().unwrap_or_default(),
        r.detail.clone(),
        r.prev_hash.clone(),
        r.hash.clone(),
    ];
    cells
        .iter()
        .map(|c| csv_cell(c))
        .collect::<Vec<_>>()
        .join(",")
}

/// One CSV cell: quoted when needed, and defused if a spreadsheet would run it as a formula.
pub(crate) fn csv_cell(value: &str) -> String {
    let value = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_string()
    };
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

fn time_text(r: &AuditRecord) -> String {
    r.at.format(&Rfc3339)
        .unwrap_or_else(|_| r.at.unix_timestamp().to_string())
}

fn json_value(r: &AuditRecord) -> serde_json::Value {
    serde_json::json!({
        "seq": r.seq,
        "time": time_text(r),
        "actor_kind": r.actor.kind(),
        "actor_id": r.actor.id(),
        "action": r.action,
        "object": r.object,
        "org_id": r.org_id.as_ref().map(|o| o.to_string()),
        "client_addr": r.client_addr,
        "detail": r.detail,
        "prev_hash": r.prev_hash,
        "hash": r.hash,
    })
}

/// Writes the whole log, oldest first, in `format`.
pub async fn export(store: &Store, format: Format, out: &mut dyn Write) -> Result<u64, Error> {
    let io = |e: std::io::Error| Error::Internal(format!("cannot write the export: {e}"));
    let mut after = 0;
    let mut count = 0u64;
    match format {
        Format::Csv => writeln!(out, "{CSV_HEADER}").map_err(io)?,
        Format::Json => write!(out, "[").map_err(io)?,
    }
    loop {
        let page = store.audit_page(after, PAGE).await?;
        for r in &page {
            match format {
                Format::Csv => writeln!(out, "{}", csv_row(r)).map_err(io)?,
                Format::Json => {
                    let sep = if count == 0 { "\n" } else { ",\n" };
                    write!(out, "{sep}{}", json_value(r)).map_err(io)?;
                }
            }
            count += 1;
        }
        match page.last() {
            Some(last) => after = last.seq,
            None => break,
        }
    }
    if format == Format::Json {
        writeln!(out, "\n]").map_err(io)?;
    }
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::csv_cell;

    #[test]
    fn csv_cells_are_quoted_and_defused() {
        assert_eq!(csv_cell("plain"), "plain");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_cell("-1"), "'-1");
    }
}
