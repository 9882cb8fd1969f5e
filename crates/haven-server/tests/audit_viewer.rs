//! The audit viewer: filters that narrow the entries, date errors on their fields, paging
//! and the CSV download.

mod common;

use common::*;
use haven_domain::Role;
use haven_domain::time::Duration;
use haven_server::ops::audit_log::CSV_HEADER;
use reqwest::StatusCode;

/// An organisation with three days of history, and its auditor signed in on day three.
struct History {
    admin: Account,
    auditor: Account,
    browser: Browser,
}

async fn history(app: &TestApp) -> History {
    // Day one (2 March): setup, the admin signs in, an auditor is added.
    let (admin, _) = app.signed_in_admin().await;
    let auditor = app
        .add_user(
            &admin.org,
            "ig.lead@riverside.example.org",
            "Ira Governance",
            &[Role::IgAuditor],
            "quartz meadow lantern biscuit",
        )
        .await;
    // Day two (3 March): the admin signs in again and adds a clinic.
    app.advance(Duration::days(1));
    let admin_browser = app.browser();
    app.sign_in(&admin_browser, &admin.email, &admin.password)
        .await
        .assert_home();
    admin_browser
        .post_form("/admin/clinics", &[("name", "Physiotherapy")])
        .await;
    // Day three (4 March): the auditor signs in.
    app.advance(Duration::days(1));
    let browser = app.browser();
    app.sign_in(&browser, &auditor.email, &auditor.password)
        .await
        .assert_home();
    History {
        admin,
        auditor,
        browser,
    }
}

/// The actions listed on a viewer page, newest first.
fn actions_on(page: &Page) -> Vec<String> {
    page.body
        .split("<span class=\"tag\">")
        .skip(1)
        .filter_map(|s| s.split("</span>").next())
        .map(str::to_string)
        .collect()
}

/// The (action, actor id) of each CSV row, oldest first.
fn csv_rows(page: &Page) -> Vec<(String, String)> {
    let mut lines = page.body.lines();
    assert_eq!(lines.next(), Some(CSV_HEADER));
    lines
        .map(|line| {
            let cells: Vec<&str> = line.split(',').collect();
            (cells[4].to_string(), cells[3].to_string())
        })
        .collect()
}

#[tokio::test]
async fn filters_narrow_the_entries() {
    let app = spawn_app().await;
    let h = history(&app).await;

    let all = actions_on(&h.browser.get("/audit").await);
    assert_eq!(all.first().map(String::as_str), Some("staff.sign_in"));
    assert_eq!(all.last().map(String::as_str), Some("org.create"));
    assert!(all.contains(&"clinic.create".to_string()));

    let day_two = actions_on(&h.browser.get("/audit?from=2026-03-03&to=2026-03-03").await);
    assert_eq!(
        day_two,
        ["clinic.create", "staff.sign_in", "staff.password_accepted"]
    );
    let day_one = actions_on(&h.browser.get("/audit?to=2026-03-02").await);
    assert!(day_one.contains(&"org.create".to_string()));
    assert!(!day_one.contains(&"clinic.create".to_string()));
    let from_day_three = actions_on(&h.browser.get("/audit?from=2026-03-04").await);
    assert!(
        from_day_three
            .iter()
            .all(|a| a.starts_with("staff.") || a == "user.mfa_enrol")
    );
    assert_eq!(
        all.len(),
        day_one.len() + day_two.len() + from_day_three.len()
    );

    let clinics = actions_on(&h.browser.get("/audit?action=clinic.").await);
    assert_eq!(clinics, ["clinic.create"]);
    let sign_ins = actions_on(&h.browser.get("/audit?action=staff.sign_in").await);
    assert_eq!(sign_ins.len(), 3, "{sign_ins:?}");

    let by_admin = h.browser.get(&format!("/audit?actor={}", h.admin.id)).await;
    let admin_actions = actions_on(&by_admin);
    assert!(admin_actions.contains(&"clinic.create".to_string()));
    assert!(
        !admin_actions.contains(&"org.create".to_string()),
        "setup was the system"
    );
    // The actor list offers the organisation's people by name, with the filter kept.
    assert!(by_admin.contains(&format!(
        "<option value=\"{}\" selected>Ada Lovelace</option>",
        h.admin.id
    )));
    let by_auditor = h
        .browser
        .get(&format!("/audit?actor={}&action=staff.", h.auditor.id))
        .await;
    assert_eq!(
        actions_on(&by_auditor),
        ["staff.sign_in", "staff.password_accepted"]
    );
    let none = h.browser.get("/audit?action=nothing.like.this").await;
    assert!(none.contains("No entries match."));
}

#[tokio::test]
async fn bad_dates_are_named_on_their_fields() {
    let app = spawn_app().await;
    let h = history(&app).await;
    let page = h.browser.get("/audit?from=2026-13-45&to=yesterday").await;
    page.assert_field_error("from", "Enter the start date as YYYY-MM-DD");
    page.assert_field_error("to", "Enter the end date as YYYY-MM-DD");
    assert!(page.contains("href=\"#from\"") && page.contains("href=\"#to\""));
    assert!(
        actions_on(&page).is_empty(),
        "no entries under a bad filter"
    );
    assert!(
        page.contains("value=\"yesterday\""),
        "what was typed is kept"
    );

    let csv = h.browser.get("/audit.csv?from=03/03/2026").await;
    assert_eq!(csv.status, StatusCode::BAD_REQUEST);
    assert!(csv.text().contains("Enter the start date as YYYY-MM-DD"));
}

#[tokio::test]
async fn the_csv_download_has_a_header_and_the_filtered_rows() {
    let app = spawn_app().await;
    let h = history(&app).await;
    let csv = h.browser.get("/audit.csv").await;
    assert_eq!(csv.status, StatusCode::OK);
    assert_eq!(csv.header("content-type"), Some("text/csv; charset=utf-8"));
    assert_eq!(
        csv.header("content-disposition"),
        Some("attachment; filename=\"haven-audit.csv\"")
    );
    let rows = csv_rows(&csv);
    let all = app.audit().await;
    assert_eq!(rows.len(), all.len(), "one organisation: every entry");
    assert_eq!(rows[0].0, "org.create", "oldest first");
    // Each row ends with its entry's hash, matching the log.
    for (line, entry) in csv.body.lines().skip(1).zip(&all) {
        assert!(line.starts_with(&format!("{},", entry.seq)));
        assert!(line.ends_with(&entry.hash));
    }

    let filtered = h
        .browser
        .get(&format!(
            "/audit.csv?from=2026-03-03&to=2026-03-03&actor={}&action=clinic",
            h.admin.id
        ))
        .await;
    let rows = csv_rows(&filtered);
    assert_eq!(
        rows,
        [("clinic.create".to_string(), h.admin.id.to_string())]
    );
    // The viewer's download link carries the same filters.
    let view = h.browser.get("/audit?action=clinic").await;
    assert!(view.contains("href=\"/audit.csv?from=&amp;to=&amp;actor=&amp;action=clinic\""));
}

#[tokio::test]
async fn long_logs_are_paged() {
    let app = spawn_app().await;
    let h = history(&app).await;
    let org = h.admin.org.clone();
    for i in 0..50 {
        app.set_mfa_required(&org, i % 2 == 1).await;
    }
    let total = app.audit().await.len();
    assert!(total > 50);
    let first = h.browser.get("/audit").await;
    assert_eq!(actions_on(&first).len(), 50);
    assert!(first.contains("Older entries") && !first.contains("Newer entries"));
    let second = h
        .browser
        .get("/audit?from=&to=&actor=&action=&page=1")
        .await;
    assert_eq!(actions_on(&second).len(), total - 50);
    assert!(second.contains("Newer entries") && !second.contains("Older entries"));
    // A page number that is not a number is a clear 400, never a crash.
    let bad = h.browser.get("/audit?page=last").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}
