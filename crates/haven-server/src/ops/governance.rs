//! The governance report (each point of the guidance, enforced, supported or off, with the
//! evidence) and the national counts of video consultations held, as CSV. Both are the
//! same for the command line and the governance page.

use haven_domain::consultation::Kind;
use haven_domain::governance::{self, Line};
use haven_domain::{OrgId, OrgName, UkMonth};
use haven_store::Store;
use serde_json::{Value, json};

use super::audit_log::csv_cell;
use crate::Error;

/// The running Haven's version, which the report states.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The governance report of one organisation for one month.
#[derive(Debug, Clone)]
pub struct Report {
    /// The organisation.
    pub org_name: OrgName,
    /// The month counted.
    pub month: UkMonth,
    /// One line per point of the guidance.
    pub lines: Vec<Line>,
}

/// Builds the report from the organisation's policy now and its counts for `month`.
pub async fn report(store: &Store, org: &OrgId, month: UkMonth) -> Result<Report, Error> {
    let org = store.org(org).await?;
    let facts = store
        .governance_facts(&org.id, month.start(), month.end())
        .await?;
    let label = month.label();
    let ctx = governance::Context {
        policy: &org.policy,
        month: &label,
        version: VERSION,
    };
    Ok(Report {
        org_name: org.name,
        month,
        lines: governance::report(ctx, &facts),
    })
}

/// The report as plain text, for the terminal.
pub fn report_text(report: &Report) -> String {
    let mut out = format!(
        "Governance report: {}, {} (Haven {VERSION})\n",
        report.org_name.as_str(),
        report.month.label()
    );
    for line in &report.lines {
        let cite = line.point.citation();
        out += &format!("\n[{}] {}\n", line.status, line.point.title());
        for sentence in &line.evidence {
            out += &format!("  {sentence}\n");
        }
        out += &format!("  Source: {}, \"{}\"\n", cite.document, cite.section);
    }
    out
}

/// The report as JSON.
pub fn report_json(report: &Report) -> Value {
    let points: Vec<Value> = report
        .lines
        .iter()
        .map(|line| {
            let cite = line.point.citation();
            json!({
                "point": line.point.as_str(),
                "title": line.point.title(),
                "status": line.status.as_str(),
                "evidence": line.evidence,
                "source": { "document": cite.document, "section": cite.section },
            })
        })
        .collect();
    json!({
        "organisation": report.org_name.as_str(),
        "month": report.month.to_string(),
        "haven_version": VERSION,
        "points": points,
    })
}

/// The kinds counted, in column order: colleague meetings are not consultations.
const KINDS: [Kind; 3] = [Kind::OneToOne, Kind::WithCarer, Kind::Group];

/// What the CSV counts and what it leaves out, as comment lines before the header.
pub const CSV_PREAMBLE: &str = "\
# Video consultations held, by organisation and UK calendar month.
# Held: a consultation (not a colleague meeting) in which a clinician admitted at least one invited person, counted in the month of its first admission, whether it has ended or is still in progress.
# No patient identifiers and no free text. Counts are exact, not suppressed: this is the organisation's own return, and the collection applies its disclosure control (such as suppressing counts under 5) before publishing.
";

/// The CSV header row.
pub const CSV_HEADER: &str = "month,organisation,one_to_one,with_carer,group,total";

/// The national counts from `from` to `to` (inclusive) as CSV: a row per organisation per
/// month, zeros included, for every organisation or just `org`.
pub async fn counts_csv(
    store: &Store,
    org: Option<&OrgId>,
    from: UkMonth,
    to: UkMonth,
) -> Result<String, Error> {
    let months = UkMonth::range(from, to).map_err(|e| Error::BadRequest(e.to_string()))?;
    let orgs: Vec<(OrgId, OrgName)> = store
        .org_names()
        .await?
        .into_iter()
        .filter(|(id, _)| org.is_none_or(|o| o == id))
        .collect();
    let mut out = format!("{CSV_PREAMBLE}{CSV_HEADER}\n");
    for month in months {
        let counts = store.held_counts(org, month.start(), month.end()).await?;
        for (id, name) in &orgs {
            let held = |kind: Kind| {
                counts
                    .iter()
                    .find(|c| c.org_id == *id && c.kind == kind)
                    .map_or(0, |c| c.held)
            };
            let by_kind: Vec<u64> = KINDS.iter().map(|k| held(*k)).collect();
            let cells: Vec<String> = by_kind.iter().map(u64::to_string).collect();
            out += &format!(
                "{month},{},{},{}\n",
                csv_cell(name.as_str()),
                cells.join(","),
                by_kind.iter().sum::<u64>()
            );
        }
    }
    Ok(out)
}
