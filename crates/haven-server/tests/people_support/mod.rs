//! A booked consultation with a signed-in clinician, and the steps the people tests take
//! through the real pages: inviting someone, their answers on the join page, admitting.

#![allow(dead_code)] // Each test binary uses a different part.

use std::time::Duration;

use haven_domain::AttendeeId;

use crate::common::Page;
use crate::signal_support::MediaClient;

#[allow(unused_imports)] // Not every test binary uses each.
pub use crate::common::booking::{Consult, PASSWORD, consult};

impl Consult {
    pub fn path(&self, rest: &str) -> String {
        format!("/consultations/{}{rest}", self.id)
    }

    /// Posts the invitation form.
    pub async fn add(&self, fields: &[(&str, &str)]) -> Page {
        let form = self.clinician.get(&self.path("/people/new")).await;
        assert_eq!(form.status, 200, "{}", form.body);
        self.clinician
            .post_form_with(&form.csrf(), &self.path("/people/new"), fields)
            .await
    }

    /// Invites someone by a copied link; returns them and their link's token.
    pub async fn add_by_copy(&self, role: &str, name: &str) -> (AttendeeId, String) {
        let page = self
            .add(&[("role", role), ("name", name), ("send", "copy")])
            .await;
        assert_eq!(page.status, 200, "{}", page.body);
        let link = page.input_value("link").expect("the link is shown once");
        let token = link.rsplit('/').next().unwrap().to_owned();
        let people = self.app.store.attendees(&self.org, &self.id).await.unwrap();
        let added = people.iter().find(|a| a.name.as_str() == name).unwrap();
        (added.id.clone(), token)
    }

    /// The person behind `token` gives their name on the join page (no date of birth).
    pub async fn give_name(&self, token: &str, name: &str) {
        let person = self.app.browser();
        let landing = person.get(&format!("/join/{token}")).await;
        assert_eq!(landing.status, 200, "{}", landing.body);
        assert!(
            !landing.contains("date_of_birth"),
            "only the patient is asked their date of birth"
        );
        let done = person
            .post_form_with(
                &landing.csrf(),
                &format!("/join/{token}"),
                &[("name", name)],
            )
            .await;
        done.assert_redirect(&format!("/join/{token}/check"));
    }

    /// Admits the patient after the full identity checklist.
    pub async fn admit_patient(&self) {
        let admit = self.path(&format!("/attendees/{}/admit", self.patient));
        let form = self.clinician.get(&admit).await;
        let all = [
            ("identity_confirmed", "yes"),
            ("record_open", "yes"),
            ("private_space", "yes"),
            ("location", "At home"),
        ];
        let done = self
            .clinician
            .post_form_with(&form.csrf(), &admit, &all)
            .await;
        done.assert_redirect(&self.path("/call"));
    }

    /// Posts the admission page for someone who is not the patient, with these boxes ticked.
    pub async fn admit(&self, attendee: &AttendeeId, ticked: &[&str]) -> Page {
        let admit = self.path(&format!("/attendees/{attendee}/admit"));
        let form = self.clinician.get(&admit).await;
        assert_eq!(form.status, 200, "{}", form.body);
        let fields: Vec<(&str, &str)> = ticked.iter().map(|t| (*t, "yes")).collect();
        self.clinician
            .post_form_with(&form.csrf(), &admit, &fields)
            .await
    }

    /// Posts one of the clinician's buttons on the consultation page.
    pub async fn press(&self, rest: &str, fields: &[(&str, &str)]) -> Page {
        let page = self.clinician.get(&self.path("")).await;
        self.clinician
            .post_form_with(&page.csrf(), &self.path(rest), fields)
            .await
    }
}

/// (audio, video) frames `to` received from `from` over one second, after media settles.
pub async fn received_for_a_second(to: &MediaClient, from: &str) -> (u64, u64) {
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = to.seen.borrow().from(from);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let after = to.seen.borrow().from(from);
    (after.0 - before.0, after.1 - before.1)
}
