//! A group attendee's extra step on the join page: the ground rules, which they must
//! accept to go on (recorded as their consent), and the name the others will see (their
//! first name unless they choose another).

use haven_domain::consultation::{ConsentKind, Kind};
use haven_domain::group::ShownName;
use haven_domain::time::OffsetDateTime;
use haven_store::Tx;
use haven_store::invites::Invite;
use haven_store::record::Consent;
use maud::{Markup, html};

use crate::error::capitalise;
use crate::pages::form::checkboxes;
use crate::pages::{Input, field};
use crate::web::FormData;
use crate::{Error, FieldErrors};

/// The ground rules, in plain words, as every attendee reads them.
pub const GROUND_RULES: [&str; 4] = [
    "Do not take screenshots or photos of the screen.",
    "Do not record the session, by any means.",
    "What others say stays in the group: do not repeat it outside.",
    "Join from a private place where nobody else can see or hear the group.",
];

/// Whether the invitation is to a group.
pub fn is_group(invite: &Invite) -> bool {
    invite.consultation.kind == Kind::Group
}

/// The ground rules and the name to show, inside the join form.
pub fn fields(invite: &Invite, values: &FormData, errors: &FieldErrors) -> Markup {
    let first = ShownName::first_name_of(&invite.attendee.name);
    let hint = format!(
        "The other people in the group see only this name. Leave it empty to use your first name, {}.",
        first.as_str()
    );
    let accepted: Vec<&str> = values.all("ground_rules").collect();
    html! {
        h2 { "This is a group session" }
        p { "Other people take part too. The clinicians running it see your full details; the other people in the group see only your first name, or a name you choose here." }
        h3 { "Ground rules" }
        ul class="ground-rules" { @for rule in GROUND_RULES { li { (rule) } } }
        (checkboxes("ground_rules", "Accept the ground rules", None, &[("yes", "I accept the ground rules")], &accepted, errors))
        (field("shown_name", "Name to show to the group (optional)", values.get("shown_name"), Input { autocomplete: "nickname", hint: Some(&hint), ..Input::TEXT }, errors))
    }
}

/// What a group attendee answered, checked.
pub struct Answer {
    /// A name they chose, if they did.
    shown: Option<ShownName>,
}

/// Checks the group answers: the ground rules must be accepted, a chosen name must be
/// valid. Problems go on `ground_rules` and `shown_name`.
pub fn check(values: &FormData, errors: &mut FieldErrors) -> Option<Answer> {
    let accepted = values.all("ground_rules").any(|v| v == "yes");
    if !accepted {
        errors.add(
            "ground_rules",
            "To join the group, confirm that you accept the ground rules",
        );
    }
    let shown = match values.get("shown_name").trim() {
        "" => Some(None),
        text => match ShownName::parse(text) {
            Ok(n) => Some(Some(n)),
            Err(e) => {
                errors.add("shown_name", capitalise(&e.to_string()));
                None
            }
        },
    };
    Some(Answer { shown: shown? }).filter(|_| accepted)
}

/// Whether the attendee has accepted the ground rules already.
pub async fn accepted(store: &haven_store::Store, invite: &Invite) -> Result<bool, Error> {
    let c = &invite.consultation;
    Ok(store
        .consents(&c.org_id, &c.id)
        .await?
        .iter()
        .any(|k| k.attendee == invite.attendee.id && k.kind == ConsentKind::GroundRules))
}

/// Records the answer in the join's transaction: the acceptance of the ground rules as
/// the attendee's own consent (once: a corrected date of birth does not add another;
/// `already` says whether they had accepted), and the chosen name.
pub async fn record(
    tx: &mut Tx,
    invite: &Invite,
    answer: &Answer,
    already: bool,
    now: OffsetDateTime,
) -> Result<(), Error> {
    let c = &invite.consultation;
    let me = &invite.attendee.id;
    if !already {
        tx.record_consent(
            &c.org_id,
            &Consent {
                consultation: c.id.clone(),
                attendee: me.clone(),
                kind: ConsentKind::GroundRules,
                about: None,
                confirmed_by: None,
                given_at: now,
            },
        )
        .await?;
    }
    if let Some(name) = &answer.shown {
        tx.set_shown_name(&c.org_id, me, name).await?;
    }
    Ok(())
}
