//! Queueing invitations, for the booking API and staff pages: each queued message is
//! audited in the same transaction. Delivery is the worker's job.

use haven_domain::{AttendeeId, MessageId, OrgId};
use haven_store::Tx;
use haven_store::outbox::{Channel, MessageStatus, OutboxMessage};

use crate::config::{InviteChannel, InviteSettings};
use crate::ops::{Context, new_id};
use crate::{AppState, Error};

/// The channel new invitations use under these settings.
pub fn channel(settings: &InviteSettings) -> Channel {
    match settings.channel {
        InviteChannel::Console => Channel::Console,
        InviteChannel::Notify(_) => Channel::Notify,
        InviteChannel::Smtp(_) => Channel::Smtp,
    }
}

/// Queues an invitation for an attendee inside the caller's transaction (a booking adds
/// its people and queues their invitations at once), with its audit entry `invite.enqueue`.
/// [`Error::NotFound`] if the attendee belongs to another organisation.
pub async fn enqueue_in(
    tx: &mut Tx,
    ctx: &Context,
    settings: &InviteSettings,
    org: &OrgId,
    attendee: &AttendeeId,
) -> Result<MessageId, Error> {
    queue(tx, ctx, settings, org, attendee, "invite.enqueue").await
}

/// Staff's "send the invitation again": queues a new message (with a new link) for the
/// attendee, audited as `invite.resend`. Refused once the consultation is over, since its
/// links no longer work.
pub async fn resend(
    state: &AppState,
    ctx: &Context,
    org: &OrgId,
    attendee: &AttendeeId,
) -> Result<MessageId, Error> {
    let person = state.store.attendee(org, attendee).await?;
    if person.user_id.is_some() {
        return Err(Error::BadRequest(
            "colleagues join signed in to Haven: they have no invitation link to send".into(),
        ));
    }
    if state.store.removal(org, attendee).await?.is_some() {
        return Err(Error::BadRequest(
            "they were removed from this consultation: no invitation was sent".into(),
        ));
    }
    let consultation = state
        .store
        .consultation(org, &person.consultation_id)
        .await?;
    if consultation.status.is_final() {
        return Err(Error::BadRequest(format!(
            "this consultation is {}: its links no longer work, so no invitation was sent",
            consultation.status.to_string().replace('_', " ")
        )));
    }
    let mut tx = state.store.begin().await?;
    let id = queue(
        &mut tx,
        ctx,
        &state.config.invites,
        org,
        attendee,
        "invite.resend",
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

async fn queue(
    tx: &mut Tx,
    ctx: &Context,
    settings: &InviteSettings,
    org: &OrgId,
    attendee: &AttendeeId,
    action: &str,
) -> Result<MessageId, Error> {
    let id = new_id(MessageId::from_random);
    let channel = channel(settings);
    tx.enqueue_invite(org, &id, attendee, channel, ctx.now)
        .await?;
    ctx.audit(
        tx,
        Some(org),
        action,
        &format!("attendee:{attendee}"),
        &format!("message {id} by {channel}"),
    )
    .await?;
    Ok(id)
}

/// What staff read for a message's status: "Queued", "Sent", "Delivered", or "Failed:"
/// and why; a queued message that failed a try says why it will be tried again.
pub fn status_text(message: &OutboxMessage) -> String {
    match (message.status, message.reason.as_deref()) {
        (MessageStatus::Queued, Some(reason)) => format!("Queued (last try: {reason})"),
        (MessageStatus::Queued, None) => "Queued".into(),
        (MessageStatus::Sent, _) => "Sent".into(),
        (MessageStatus::Delivered, _) => "Delivered".into(),
        (MessageStatus::Failed, reason) => {
            format!("Failed: {}", reason.unwrap_or("no reason recorded"))
        }
    }
}
