//! What the tests of the administrators' reports (governance, the journey funnel) share:
//! a consultation booked for tomorrow, and who may read a report.

use haven_domain::time::Duration;
use haven_domain::{OrgId, Role, uk_time};
use haven_server::ops::booking::Booked;
use reqwest::StatusCode;

use super::booking::{Appointment, PASSWORD};
use super::{Browser, TestApp};

impl TestApp {
    /// Books a consultation in a new clinic of `org` called `clinic`, tomorrow (UK) at 14:30.
    pub async fn book_tomorrow(&self, org: &OrgId, clinic: &str) -> Booked {
        let clinic = self.create_clinic(org, clinic).await;
        let day = (uk_time::local(self.now()) + Duration::days(1)).date();
        self.book(org, &Appointment::new(&clinic, day, "14:30"))
            .await
    }

    /// Signs in a new staff member of `org` with `role` (the organisation must not require
    /// MFA) and checks that each of `paths` answers them 200 when `allowed`, 403 otherwise;
    /// returns their browser.
    pub async fn assert_role_reads(
        &self,
        org: &OrgId,
        email: &str,
        role: Role,
        paths: &[&str],
        allowed: bool,
    ) -> Browser {
        let user = self
            .add_user(org, email, "Ann Example", &[role], PASSWORD)
            .await;
        let browser = self.browser();
        self.sign_in(&browser, &user.email, &user.password).await;
        let expected = if allowed {
            StatusCode::OK
        } else {
            StatusCode::FORBIDDEN
        };
        for path in paths {
            let page = browser.get(path).await;
            assert_eq!(page.status, expected, "{role:?} {path}: {}", page.body);
        }
        browser
    }

    /// The admin of a new organisation called `name`, signed in.
    pub async fn admin_elsewhere(&self, name: &str) -> Browser {
        let elsewhere = self.create_org(name).await;
        self.set_mfa_required(&elsewhere, false).await;
        let theirs = self
            .add_user(
                &elsewhere,
                "admin@hillside.example.org",
                "Bo Example",
                &[Role::Admin],
                PASSWORD,
            )
            .await;
        let browser = self.browser();
        self.sign_in(&browser, &theirs.email, &theirs.password)
            .await;
        browser
    }
}
