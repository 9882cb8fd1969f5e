//! A group consultation for tests: an organisation, a clinic, a host clinician signed in
//! and attendees booked through the same operation the pages and the API use.

#![allow(dead_code)]

use haven_domain::{AttendeeId, ClinicId, ConsultationId, OrgId, Role};
use haven_server::ops::booking::{Birth, Booked, BookingInput, Then, When, book};
use haven_server::ops::group::{GroupInput, GroupPersonInput};

use crate::common::{self, Account, Browser, TestApp};

pub const PASSWORD: &str = "copper lantern orchard wisdom";

pub struct Group {
    pub app: TestApp,
    pub org: OrgId,
    pub clinic: ClinicId,
    pub host: Account,
    pub host_browser: Browser,
}

/// One attendee row: full name, date of birth, email.
pub fn person<'a>(name: &'a str, birth: &'a str, email: &'a str) -> GroupPersonInput<'a> {
    GroupPersonInput {
        name,
        birth: Birth::Iso(birth),
        nhs_number: "",
        mobile: "",
        email,
        contact: "email",
    }
}

impl Group {
    pub async fn start() -> Group {
        let app = common::spawn_app().await;
        let org = app.create_org("Riverside Health").await;
        let clinic = app.create_clinic(&org, "Antenatal class").await;
        let host = app
            .add_user(
                &org,
                "midwife@example.org",
                "Mina Midwife",
                &[Role::Clinician],
                PASSWORD,
            )
            .await;
        let host_browser = app.browser();
        app.sign_in(&host_browser, &host.email, &host.password)
            .await
            .assert_home();
        Group {
            app,
            org,
            clinic,
            host,
            host_browser,
        }
    }

    /// Books a group for tomorrow hosted by the host; the result or its refusal.
    pub async fn try_book(
        &self,
        people: &[GroupPersonInput<'_>],
        cohosts: &[&str],
    ) -> Result<Booked, haven_server::Error> {
        let day = (self.app.now() + haven_domain::time::Duration::days(1))
            .date()
            .to_string();
        let input = BookingInput {
            clinic: self.clinic.as_str(),
            clinician: self.host.id.as_str(),
            when: When::Local {
                date: &day,
                time: "10:00",
            },
            kind: "group",
            name: "",
            birth: Birth::Iso(""),
            nhs_number: "",
            mobile: "",
            email: "",
            contact: "",
            child_attendance: "",
            colleagues: &[],
            group: GroupInput {
                attendees: people,
                cohosts,
            },
        };
        let then = Then {
            invite: None,
            links_on: Some(&self.app.base),
        };
        book(&self.app.store, &self.app.system(), &self.org, &input, then).await
    }

    /// Books Aisha Khan, Ben Jones and Cara Lloyd; their ids and link tokens, in order.
    pub async fn book_three(&self) -> (ConsultationId, Vec<(AttendeeId, String)>) {
        let booked = self
            .try_book(
                &[
                    person("Aisha Khan", "1990-02-03", "aisha@example.org"),
                    person("Ben Jones", "1985-06-07", "ben@example.org"),
                    person("Cara Lloyd", "1979-11-12", "cara@example.org"),
                ],
                &[],
            )
            .await
            .expect("the group is booked");
        let links = booked
            .group
            .iter()
            .map(|a| {
                let link = &booked.links.iter().find(|(id, _)| id == a).unwrap().1;
                (a.clone(), link.token().to_owned())
            })
            .collect();
        (booked.id, links)
    }

    /// An attendee's join: their details and the ground rules accepted, with a chosen
    /// name if given. Returns the page.
    pub async fn join(
        &self,
        token: &str,
        name: &str,
        birth: (&str, &str, &str),
        shown: &str,
    ) -> common::Page {
        let browser = self.app.browser();
        let path = format!("/join/{token}");
        let form = browser.get(&path).await;
        browser
            .post_form_with(
                &form.csrf(),
                &path,
                &[
                    ("name", name),
                    ("date_of_birth-day", birth.0),
                    ("date_of_birth-month", birth.1),
                    ("date_of_birth-year", birth.2),
                    ("ground_rules", "yes"),
                    ("shown_name", shown),
                ],
            )
            .await
    }
}
