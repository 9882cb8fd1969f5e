//! The server's configuration, as a value. Parsing flags, environment and files is the
//! binary's job; this is what it produces.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use haven_domain::SessionTimeouts;

use crate::invites::CallbackToken;
use crate::invites::notify::NotifyApiKey;
use crate::invites::smtp::SmtpUrl;
use crate::media::MediaConfig;
use crate::media::turn::TurnSecret;

/// How the server runs.
#[derive(Debug, Clone)]
pub struct Config {
    /// The address to listen on.
    pub listen: SocketAddr,
    /// The address people use to reach Haven (links in messages and on the console are
    /// built from it), without a trailing slash.
    pub public_url: String,
    /// Certificate and key for HTTPS; `None` serves plain HTTP (behind a TLS proxy).
    pub tls: Option<TlsFiles>,
    /// Proxies whose `X-Forwarded-For` and `X-Forwarded-Proto` headers are believed.
    pub trusted_proxies: TrustedProxies,
    /// Staff session timeouts.
    pub session: SessionTimeouts,
    /// Live media: the media transport, TURN relays and signalling.
    pub media: MediaSettings,
    /// How invitations are delivered.
    pub invites: InviteSettings,
    /// Where finished notes are sent as FHIR bundles.
    pub record: RecordSettings,
}

/// Where each patient's record bundle goes once the clinician finishes the notes.
#[derive(Debug, Clone)]
pub struct RecordSettings {
    /// The record system's FHIR endpoint; `None` offers bundles for download only.
    pub endpoint: Option<FhirEndpoint>,
    /// How often the delivery worker looks for due bundles; `None` starts no worker
    /// (tests call its step with simulated time instead).
    pub poll_interval: Option<Duration>,
}

/// A FHIR server that takes transaction bundles.
#[derive(Debug, Clone)]
pub struct FhirEndpoint {
    /// Its base address (bundles are posted there), without a trailing slash.
    pub url: String,
    /// The bearer token presented on every post.
    pub token: crate::record::BearerToken,
}

impl Default for RecordSettings {
    /// No endpoint, with the worker running (it finds nothing to do until one is set).
    fn default() -> RecordSettings {
        RecordSettings {
            endpoint: None,
            poll_interval: Some(DEFAULT_INVITE_POLL),
        }
    }
}

/// How invitations are delivered, and how often the outbox is looked at.
#[derive(Debug, Clone)]
pub struct InviteSettings {
    /// The channel every new invitation uses.
    pub channel: InviteChannel,
    /// How often the outbox worker looks for due messages; `None` starts no worker (tests
    /// call its step with simulated time instead).
    pub poll_interval: Option<Duration>,
}

/// Where invitations go.
#[derive(Debug, Clone)]
pub enum InviteChannel {
    /// Printed on the server's console with the link, for local use (the default).
    Console,
    /// Text messages and emails through GOV.UK Notify.
    Notify(NotifySettings),
    /// Emails through an SMTP server.
    Smtp(SmtpSettings),
}

/// GOV.UK Notify settings.
#[derive(Debug, Clone)]
pub struct NotifySettings {
    /// The API key (service id and secret).
    pub api_key: NotifyApiKey,
    /// Notify's address, without a trailing slash (tests point it at a stand-in).
    pub base_url: String,
    /// The text message template's id; without it, attendees who asked for a text message
    /// cannot be invited.
    pub sms_template: Option<String>,
    /// The email template's id; without it, attendees who asked for email cannot be invited.
    pub email_template: Option<String>,
    /// The text message template for one-time codes (placeholders `code`, `clinic` and
    /// `organisation`); without it, no code can be sent where the identity check asks for
    /// one.
    pub code_template: Option<String>,
    /// The bearer token Notify presents on delivery receipts; without it, receipts are
    /// refused and statuses stop at "sent".
    pub callback_token: Option<CallbackToken>,
}

/// SMTP settings.
#[derive(Debug, Clone)]
pub struct SmtpSettings {
    /// The server, `smtp://host:port` or `smtps://user:password@host`.
    pub url: SmtpUrl,
    /// The sender of invitation emails.
    pub from: lettre::message::Mailbox,
}

/// How often the outbox worker looks for due messages when serving.
pub const DEFAULT_INVITE_POLL: Duration = Duration::from_secs(2);

impl Default for InviteSettings {
    /// The console channel, with the worker running.
    fn default() -> InviteSettings {
        InviteSettings {
            channel: InviteChannel::Console,
            poll_interval: Some(DEFAULT_INVITE_POLL),
        }
    }
}

/// Live media settings.
#[derive(Debug, Clone)]
pub struct MediaSettings {
    /// The media transport's port, bind address and announced addresses.
    pub transport: MediaConfig,
    /// TURN relay URLs (`turn:host:3478?transport=udp`, `turns:…`) handed to clients.
    pub turn_urls: Vec<String>,
    /// The secret shared with coturn (`static-auth-secret`); with it, clients get
    /// time-limited credentials for the relays.
    pub turn_secret: Option<TurnSecret>,
    /// How long a participant whose WebSocket dropped keeps their seat in the call.
    pub reconnect_grace: Duration,
}

/// The default reconnection grace: long enough to ride out a switch from Wi-Fi to mobile
/// data, short enough that a vanished participant does not linger in the call.
pub const DEFAULT_RECONNECT_GRACE: Duration = Duration::from_secs(30);

impl MediaSettings {
    /// Media on `bind_ip` and port 0 (a free one), no TURN, the default grace: for tests.
    pub fn for_tests(bind_ip: IpAddr) -> MediaSettings {
        MediaSettings {
            transport: MediaConfig {
                udp_port: 0,
                bind_ip,
                public_addrs: Vec::new(),
            },
            turn_urls: Vec::new(),
            turn_secret: None,
            reconnect_grace: DEFAULT_RECONNECT_GRACE,
        }
    }
}

/// PEM files for HTTPS.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    /// The certificate chain.
    pub cert: PathBuf,
    /// The private key.
    pub key: PathBuf,
}

/// Addresses (single addresses or CIDR ranges) of reverse proxies in front of Haven.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Vec<(IpAddr, u8)>);

impl TrustedProxies {
    /// Parses entries such as `127.0.0.1`, `::1` or `10.0.0.0/8`.
    pub fn parse<S: AsRef<str>>(entries: &[S]) -> Result<TrustedProxies, String> {
        let mut nets = Vec::new();
        for entry in entries {
            let entry = entry.as_ref().trim();
            let (addr, len) = match entry.split_once('/') {
                Some((a, l)) => (a, Some(l)),
                None => (entry, None),
            };
            let addr: IpAddr = addr
                .parse()
                .map_err(|_| format!("{entry:?} is not an IP address or CIDR range"))?;
            let max = if addr.is_ipv4() { 32 } else { 128 };
            let len = match len {
                Some(l) => l
                    .parse::<u8>()
                    .ok()
                    .filter(|l| *l <= max)
                    .ok_or_else(|| format!("{entry:?} has an invalid prefix length"))?,
                None => max,
            };
            nets.push((addr, len));
        }
        Ok(TrustedProxies(nets))
    }

    /// Whether `addr` is one of the trusted proxies.
    pub fn contains(&self, addr: IpAddr) -> bool {
        self.0.iter().any(|(net, len)| match (net, addr) {
            (IpAddr::V4(n), IpAddr::V4(a)) => prefix_eq(&n.octets(), &a.octets(), *len),
            (IpAddr::V6(n), IpAddr::V6(a)) => prefix_eq(&n.octets(), &a.octets(), *len),
            _ => false,
        })
    }

    /// Whether any proxy is trusted.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

fn prefix_eq(a: &[u8], b: &[u8], len: u8) -> bool {
    let full = usize::from(len / 8);
    let rest = len % 8;
    if a[..full] != b[..full] {
        return false;
    }
    rest == 0 || {
        let mask = 0xffu8 << (8 - rest);
        a[full] & mask == b[full] & mask
    }
}

impl Config {
    /// Whether people reach Haven over HTTPS (directly or through a TLS proxy): decides
    /// the `Secure` cookie flag and HSTS.
    pub fn is_https(&self) -> bool {
        self.tls.is_some() || self.public_url.starts_with("https://")
    }

    /// A configuration for tests: loopback, plain HTTP, default timeouts, media on the
    /// listen address's IP and a free port, invitations on the console with no worker.
    pub fn for_tests(listen: SocketAddr) -> Config {
        Config {
            listen,
            public_url: format!("http://{listen}"),
            tls: None,
            trusted_proxies: TrustedProxies::default(),
            session: SessionTimeouts::default(),
            media: MediaSettings::for_tests(listen.ip()),
            // No background worker: invitation tests drive its step in simulated time.
            invites: InviteSettings {
                channel: InviteChannel::Console,
                poll_interval: None,
            },
            record: RecordSettings {
                endpoint: None,
                poll_interval: None,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trusted_proxies_match_addresses_and_ranges() {
        let t = TrustedProxies::parse(&["127.0.0.1", "10.0.0.0/8", "fd00::/8"]).unwrap();
        for (addr, want) in [
            ("127.0.0.1", true),
            ("127.0.0.2", false),
            ("10.200.3.4", true),
            ("11.0.0.1", false),
            ("fd12::1", true),
            ("fe80::1", false),
        ] {
            assert_eq!(t.contains(addr.parse().unwrap()), want, "{addr}");
        }
    }

    #[test]
    fn bad_proxy_entries_are_named() {
        assert!(
            TrustedProxies::parse(&["10.0.0.0/33"])
                .unwrap_err()
                .contains("10.0.0.0/33")
        );
        assert!(
            TrustedProxies::parse(&["proxy.local"])
                .unwrap_err()
                .contains("proxy.local")
        );
    }
}
