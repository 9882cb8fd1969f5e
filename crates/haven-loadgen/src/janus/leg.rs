//! One peer connection of a Janus participant (its publishing one, or its receiving one):
//! a str0m client with full ICE on its own loopback UDP socket.

use std::io::ErrorKind;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::Context;
use str0m::net::{Protocol, Receive};
use str0m::{Event, IceConnectionState, Input, Output, Rtc};
use tokio::net::UdpSocket;

use crate::peer::join::{bind_udp, new_rtc};
use crate::run::Shared;

pub struct Leg {
    pub udp: UdpSocket,
    pub local: SocketAddr,
    pub rtc: Rtc,
    /// Janus's address for this connection, learned from the first datagram.
    pub server: Option<SocketAddr>,
    /// ICE and DTLS are up.
    pub connected: bool,
    pub ice: IceConnectionState,
    pub ice_connected: bool,
}

impl Leg {
    /// A fresh peer connection with the same codecs and header extensions as the Haven
    /// target's (str0m's defaults, or the minimal set with --minimal-sdp).
    pub fn new(shared: &Shared) -> anyhow::Result<Leg> {
        let udp = bind_udp(SocketAddr::new(shared.bind, 0))?;
        let local = udp
            .local_addr()
            .context("reading the UDP socket's address")?;
        let rtc = new_rtc(shared, local)?;
        Ok(Leg {
            udp,
            local,
            rtc,
            server: None,
            connected: false,
            ice: IceConnectionState::New,
            ice_connected: false,
        })
    }

    /// Sends everything str0m has and hands its events to `on_event`; returns when it
    /// next needs a timeout.
    pub async fn drain(
        &mut self,
        on_event: &mut impl FnMut(Event),
    ) -> Result<Instant, str0m::RtcError> {
        loop {
            match self.rtc.poll_output()? {
                Output::Timeout(t) => return Ok(t),
                Output::Transmit(t) => {
                    let sent = self.udp.try_send_to(&t.contents, t.destination);
                    if matches!(&sent, Err(e) if e.kind() == ErrorKind::WouldBlock) {
                        let _ = self.udp.send_to(&t.contents, t.destination).await;
                    }
                }
                Output::Event(e) => {
                    match &e {
                        Event::Connected => self.connected = true,
                        Event::IceConnectionStateChange(state) => {
                            self.ice = *state;
                            if matches!(
                                state,
                                IceConnectionState::Connected | IceConnectionState::Completed
                            ) {
                                self.ice_connected = true;
                            }
                        }
                        _ => {}
                    }
                    on_event(e);
                }
            }
        }
    }

    /// Reads one datagram if one is waiting; `Ok(false)` when none is.
    pub fn receive(&mut self, buf: &mut [u8]) -> std::io::Result<bool> {
        match crate::arrival::try_recv(&self.udp, buf) {
            Ok((n, from, arrived)) => {
                self.server.get_or_insert(from);
                // Anything str0m cannot parse (or refuses) is dropped, as a browser does.
                if let Ok(r) = Receive::new(Protocol::Udp, from, self.local, &buf[..n]) {
                    let _ = self.rtc.handle_input(Input::Receive(arrived, r));
                }
                Ok(true)
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Why this connection is not up: ICE, or DTLS after ICE.
    pub fn stalled(&self, what: &str, waited: Duration) -> String {
        if self.ice_connected {
            format!(
                "{what}: ICE connected but DTLS did not complete within {waited:?} (ICE state {:?})",
                self.ice
            )
        } else {
            format!(
                "{what}: ICE did not connect within {waited:?} (ICE state {:?})",
                self.ice
            )
        }
    }
}
