//! What a Janus participant does with Janus's messages: from the list of who publishes,
//! to a subscriber handle, to its offer and the answer (`start`).

use anyhow::{Context, bail};
use serde_json::{Value, json};
use str0m::change::SdpOffer;

use super::api;
use super::leg::Leg;
use super::peer::{Participant, Phase};
use crate::peer::PeerResult;
use crate::run::Shared;
use crate::signal::{self, Incoming};

impl Participant {
    /// Acts on one message from Janus; an error ends the participant's part in the run.
    pub(super) async fn signal(
        &mut self,
        incoming: Incoming,
        shared: &Shared,
        result: &mut PeerResult,
    ) -> anyhow::Result<()> {
        let Incoming::Msg(msg) = incoming else {
            bail!("{}", incoming.describe());
        };
        match msg["janus"].as_str().unwrap_or_default() {
            "ack" | "webrtcup" | "media" | "slowlink" | "keepalive" => return Ok(()),
            "timeout" => bail!("Janus timed the session out"),
            "hangup" => bail!(
                "Janus hung up: {}",
                msg["reason"].as_str().unwrap_or("no reason given")
            ),
            "detached" => bail!("Janus detached a handle"),
            _ => {}
        }
        let transaction = msg["transaction"].as_str().unwrap_or_default().to_owned();
        let msg = match api::checked(msg) {
            Ok(m) => m,
            Err(e) if transaction.is_empty() => {
                result.signal_errors.push(format!("{e:#}"));
                return Ok(());
            }
            Err(e) => return Err(e),
        };
        match api::kind_of(&transaction) {
            "list" if self.phase == Phase::Listing => self.on_list(&msg).await,
            "attach" => self.on_attached(&msg).await,
            "subjoin" => self.on_offer(&msg, shared).await,
            _ => Ok(()),
        }
    }

    /// Subscribes once every other participant of the room publishes.
    async fn on_list(&mut self, msg: &Value) -> anyhow::Result<()> {
        let list = msg["plugindata"]["data"]["participants"].as_array();
        let feeds: Vec<u64> = list
            .into_iter()
            .flatten()
            .filter(|p| p["publisher"] == true)
            .filter_map(|p| p["id"].as_u64())
            .filter(|id| *id != self.me)
            .collect();
        if feeds.len() + 1 < self.participants {
            return Ok(());
        }
        self.feeds = feeds;
        self.phase = Phase::Subscribing;
        let attach = json!({"janus": "attach", "session_id": self.session,
                            "plugin": api::VIDEOROOM, "transaction": api::transaction("attach")});
        signal::send(&mut self.ws, &attach).await
    }

    /// A subscriber handle: one multistream subscription to every other publisher.
    async fn on_attached(&mut self, msg: &Value) -> anyhow::Result<()> {
        let handle = msg["data"]["id"]
            .as_u64()
            .context("Janus attached a handle without an id")?;
        self.sub_handle = Some(handle);
        let streams: Vec<Value> = self.feeds.iter().map(|f| json!({"feed": f})).collect();
        let body = json!({"request": "join", "room": self.room, "ptype": "subscriber",
                          "streams": streams});
        let mut m = api::message(self.session, handle, body, None);
        m["transaction"] = json!(api::transaction("subjoin"));
        signal::send(&mut self.ws, &m).await
    }

    /// Janus's offer of everyone's streams: a second connection answers it.
    async fn on_offer(&mut self, msg: &Value, shared: &Shared) -> anyhow::Result<()> {
        let Some(sdp) = msg["jsep"]["sdp"].as_str() else {
            return Ok(());
        };
        let handle = self
            .sub_handle
            .context("an offer before the subscriber handle")?;
        let offer = SdpOffer::from_sdp_string(sdp).context("Janus's offer does not parse")?;
        let mut leg = Leg::new(shared)?;
        let answer = leg
            .rtc
            .sdp_api()
            .accept_offer(offer)
            .context("Janus's offer is not acceptable")?;
        self.subscribe = Some(leg);
        self.phase = Phase::Subscribed;
        let mut m = api::message(
            self.session,
            handle,
            json!({"request": "start", "room": self.room}),
            Some(("answer", answer.to_sdp_string())),
        );
        m["transaction"] = json!(api::transaction("start"));
        signal::send(&mut self.ws, &m).await?;
        signal::send(&mut self.ws, &api::trickle_done(self.session, handle)).await
    }
}
