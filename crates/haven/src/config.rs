//! Turning flags, environment and the configuration file into a server `Config`.
//! Every problem names the key (or URL) and what is wrong with it.

use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};

use haven_domain::SessionTimeouts;
use haven_domain::time::Duration;
use haven_server::invites::CallbackToken;
use haven_server::invites::notify::{self, NotifyApiKey};
use haven_server::invites::smtp::{self, SmtpUrl};
use haven_server::media::turn::TurnSecret;
use haven_server::media::{DEFAULT_MEDIA_PORT, MediaConfig};
use haven_server::{
    Config, InviteChannel, InviteSettings, MediaSettings, NotifySettings, SmtpSettings, TlsFiles,
    TrustedProxies,
};
use serde::Deserialize;

use crate::cli::ServeArgs;

mod record;

/// The default database: a SQLite file under `./haven-data/`.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://haven-data/haven.db?mode=rwc";

/// The configuration file. Unknown keys are errors, so a typo is never silently ignored.
#[derive(Deserialize, Default, Debug)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    database_url: Option<String>,
    listen: Option<String>,
    public_url: Option<String>,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
    trusted_proxies: Option<Vec<String>>,
    session_idle_minutes: Option<u32>,
    session_absolute_hours: Option<u32>,
    media_port: Option<u16>,
    media_public_ip: Option<Vec<String>>,
    turn_url: Option<Vec<String>>,
    turn_secret: Option<String>,
    reconnect_grace_seconds: Option<u32>,
    invite_channel: Option<String>,
    notify_api_key: Option<String>,
    notify_base_url: Option<String>,
    notify_sms_template: Option<String>,
    notify_email_template: Option<String>,
    notify_code_template: Option<String>,
    notify_callback_token: Option<String>,
    smtp_url: Option<String>,
    smtp_from: Option<String>,
    fhir_endpoint: Option<String>,
    fhir_token_file: Option<PathBuf>,
}

/// Reads the configuration file, if one was given.
pub fn read_file(path: Option<&Path>) -> Result<FileConfig, String> {
    let Some(path) = path else {
        return Ok(FileConfig::default());
    };
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read configuration file {}: {e}", path.display()))?;
    toml::from_str(&text).map_err(|e| {
        // Quote the offending line, so a bad value is shown with its key.
        let at = e.span().map(|span| {
            let line = text[..span.start].matches('\n').count() + 1;
            let content = text.lines().nth(line - 1).unwrap_or("").trim();
            format!(", line {line} `{content}`")
        });
        format!(
            "configuration file {}{}: {}",
            path.display(),
            at.unwrap_or_default(),
            e.message().trim()
        )
    })
}

/// The database URL: flag or environment, then file, then default.
pub fn database_url(flag: Option<String>, file: &FileConfig) -> String {
    flag.or_else(|| file.database_url.clone())
        .unwrap_or_else(|| DEFAULT_DATABASE_URL.to_string())
}

/// Builds the server configuration. An empty `public_url` means "derive it from the
/// address actually bound" (see `commands::serve`).
pub fn server_config(args: &ServeArgs, file: &FileConfig) -> Result<Config, String> {
    let listen_text = args
        .listen
        .clone()
        .or_else(|| file.listen.clone())
        .unwrap_or_else(|| "127.0.0.1:8080".into());
    let listen: SocketAddr = listen_text
        .to_socket_addrs()
        .ok()
        .and_then(|mut a| a.next())
        .ok_or_else(|| {
            format!("listen: {listen_text:?} is not an address and port such as 127.0.0.1:8080")
        })?;

    let public_url = args.public_url.clone().or_else(|| file.public_url.clone());
    let public_url = match public_url {
        Some(u) => {
            let parsed =
                url::Url::parse(&u).map_err(|e| format!("public_url: {u:?} is not a URL ({e})"))?;
            if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
                return Err(format!(
                    "public_url: {u:?} must be an http:// or https:// address"
                ));
            }
            u.trim_end_matches('/').to_string()
        }
        // Derived from the bound address once the socket is open: with port 0 only the
        // kernel knows the port.
        None => String::new(),
    };

    let cert = args.tls_cert.clone().or_else(|| file.tls_cert.clone());
    let key = args.tls_key.clone().or_else(|| file.tls_key.clone());
    let tls = match (cert, key) {
        (Some(cert), Some(key)) => {
            for (name, path) in [("tls_cert", &cert), ("tls_key", &key)] {
                if !path.is_file() {
                    return Err(format!(
                        "{name}: {} does not exist or is not a file",
                        path.display()
                    ));
                }
            }
            Some(TlsFiles { cert, key })
        }
        (None, None) => None,
        (Some(_), None) => return Err("tls_key: required when tls_cert is set".into()),
        (None, Some(_)) => return Err("tls_cert: required when tls_key is set".into()),
    };

    let proxies = args
        .trusted_proxies
        .clone()
        .or_else(|| file.trusted_proxies.clone())
        .unwrap_or_default();
    let trusted_proxies =
        TrustedProxies::parse(&proxies).map_err(|e| format!("trusted_proxies: {e}"))?;

    let idle = args
        .session_idle_minutes
        .or(file.session_idle_minutes)
        .unwrap_or(30);
    let absolute = args
        .session_absolute_hours
        .or(file.session_absolute_hours)
        .unwrap_or(12);
    if !(1..=24 * 60).contains(&idle) {
        return Err(format!(
            "session_idle_minutes: {idle} is out of range (1 to 1440)"
        ));
    }
    if !(1..=72).contains(&absolute) {
        return Err(format!(
            "session_absolute_hours: {absolute} is out of range (1 to 72)"
        ));
    }
    let session = SessionTimeouts {
        idle: Duration::minutes(i64::from(idle)),
        absolute: Duration::hours(i64::from(absolute)),
    };
    let media = media_settings(args, file, listen)?;
    let invites = invite_settings(args, file)?;
    let record = record::record_settings(args, file, std::env::var("HAVEN_FHIR_TOKEN").ok())?;
    Ok(Config {
        listen,
        public_url,
        tls,
        trusted_proxies,
        session,
        media,
        invites,
        record,
    })
}

/// How invitations are delivered: the channel (console by default) and its settings.
/// Settings for a channel that is not chosen are refused, so a half-done switch to Notify
/// or SMTP is noticed at start rather than when a patient gets no message. Messages never
/// repeat a key, token or password.
fn invite_settings(args: &ServeArgs, file: &FileConfig) -> Result<InviteSettings, String> {
    let pick = |flag: &Option<String>, key: &Option<String>| {
        flag.clone()
            .or_else(|| key.clone())
            .filter(|v| !v.trim().is_empty())
    };
    let channel = pick(&args.invite_channel, &file.invite_channel);
    let api_key = pick(&args.notify_api_key, &file.notify_api_key);
    let base_url = pick(&args.notify_base_url, &file.notify_base_url);
    let sms_template = pick(&args.notify_sms_template, &file.notify_sms_template);
    let email_template = pick(&args.notify_email_template, &file.notify_email_template);
    let code_template = pick(&args.notify_code_template, &file.notify_code_template);
    let callback_token = pick(&args.notify_callback_token, &file.notify_callback_token);
    let smtp_url = pick(&args.smtp_url, &file.smtp_url);
    let smtp_from = pick(&args.smtp_from, &file.smtp_from);
    let notify_keys = [
        ("notify_api_key", api_key.is_some()),
        ("notify_base_url", base_url.is_some()),
        ("notify_sms_template", sms_template.is_some()),
        ("notify_email_template", email_template.is_some()),
        ("notify_code_template", code_template.is_some()),
        ("notify_callback_token", callback_token.is_some()),
    ];
    let smtp_keys = [
        ("smtp_url", smtp_url.is_some()),
        ("smtp_from", smtp_from.is_some()),
    ];
    let stray = |keys: &[(&str, bool)], needs: &str| match keys.iter().find(|(_, set)| *set) {
        Some((key, _)) => Err(format!(
            "{key}: set invite_channel = {needs} too, or remove it"
        )),
        None => Ok(()),
    };
    let channel = match channel.as_deref().map(str::trim).unwrap_or("console") {
        "console" => {
            stray(&notify_keys, "notify")?;
            stray(&smtp_keys, "smtp")?;
            InviteChannel::Console
        }
        "notify" => {
            stray(&smtp_keys, "smtp")?;
            let api_key = NotifyApiKey::parse(
                api_key
                    .as_deref()
                    .ok_or("notify_api_key: required when invite_channel = notify")?,
            )
            .map_err(|e| format!("notify_api_key: {e}"))?;
            let base_url = match base_url {
                None => notify::DEFAULT_BASE_URL.to_string(),
                Some(u) => {
                    let parsed = url::Url::parse(&u)
                        .map_err(|e| format!("notify_base_url: {u:?} is not a URL ({e})"))?;
                    if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
                        return Err(format!(
                            "notify_base_url: {u:?} must be an http:// or https:// address"
                        ));
                    }
                    u.trim_end_matches('/').to_string()
                }
            };
            let template = |key: &str, value: Option<String>| -> Result<_, String> {
                match value.map(|v| v.trim().to_string()) {
                    Some(id) if notify::is_uuid(&id) => Ok(Some(id)),
                    Some(id) => Err(format!(
                        "{key}: {id:?} is not a template id (a UUID from the template's page)"
                    )),
                    None => Ok(None),
                }
            };
            let sms_template = template("notify_sms_template", sms_template)?;
            let email_template = template("notify_email_template", email_template)?;
            let code_template = template("notify_code_template", code_template)?;
            if sms_template.is_none() && email_template.is_none() {
                return Err("notify_sms_template: give it, notify_email_template, or both".into());
            }
            let callback_token = callback_token
                .map(|t| CallbackToken::parse(&t))
                .transpose()
                .map_err(|e| format!("notify_callback_token: {e}"))?;
            InviteChannel::Notify(NotifySettings {
                api_key,
                base_url,
                sms_template,
                email_template,
                code_template,
                callback_token,
            })
        }
        "smtp" => {
            stray(&notify_keys, "notify")?;
            let url = smtp_url.ok_or("smtp_url: required when invite_channel = smtp")?;
            let url = SmtpUrl::parse(&url).map_err(|e| format!("smtp_url: {e}"))?;
            let from = smtp_from.ok_or("smtp_from: required when invite_channel = smtp")?;
            let from = smtp::parse_from(&from).map_err(|e| format!("smtp_from: {e}"))?;
            InviteChannel::Smtp(SmtpSettings { url, from })
        }
        other => {
            return Err(format!(
                "invite_channel: {other:?} is not one of console, notify, smtp"
            ));
        }
    };
    Ok(InviteSettings {
        channel,
        ..InviteSettings::default()
    })
}

/// The media transport, TURN and reconnection settings. Media binds to the listen
/// address's IP; browsers are told the public IPs, which default to that IP unless it is
/// a wildcard.
fn media_settings(
    args: &ServeArgs,
    file: &FileConfig,
    listen: SocketAddr,
) -> Result<MediaSettings, String> {
    let udp_port = args
        .media_port
        .or(file.media_port)
        .unwrap_or(DEFAULT_MEDIA_PORT);
    let public = args
        .media_public_ip
        .clone()
        .or_else(|| file.media_public_ip.clone())
        .unwrap_or_default();
    let mut public_addrs = Vec::new();
    for entry in public.iter().map(|e| e.trim()).filter(|e| !e.is_empty()) {
        let ip: IpAddr = entry.parse().map_err(|_| {
            format!("media_public_ip: {entry:?} is not an IP address such as 203.0.113.7")
        })?;
        if ip.is_unspecified() {
            return Err(format!(
                "media_public_ip: {entry:?} is a wildcard; give the address browsers can reach"
            ));
        }
        public_addrs.push(ip);
    }
    if public_addrs.is_empty() && listen.ip().is_unspecified() {
        return Err(format!(
            "media_public_ip: required when listening on {} (a wildcard address): give the \
             IP address browsers reach the media port at",
            listen.ip()
        ));
    }
    let turn_urls: Vec<String> = args
        .turn_url
        .clone()
        .or_else(|| file.turn_url.clone())
        .unwrap_or_default()
        .into_iter()
        .map(|u| u.trim().to_string())
        .filter(|u| !u.is_empty())
        .collect();
    for u in &turn_urls {
        if !(u.starts_with("turn:") || u.starts_with("turns:")) || u.len() <= "turns:".len() {
            return Err(format!(
                "turn_url: {u:?} must be a turn: or turns: URL such as turn:turn.example.org:3478"
            ));
        }
    }
    let turn_secret = args
        .turn_secret
        .clone()
        .or_else(|| file.turn_secret.clone());
    if turn_secret.as_deref() == Some("") {
        return Err("turn_secret: must not be empty".into());
    }
    if turn_secret.is_some() && turn_urls.is_empty() {
        return Err(
            "turn_secret: set turn_url too: the secret is only used for TURN relays".into(),
        );
    }
    let grace = args
        .reconnect_grace_seconds
        .or(file.reconnect_grace_seconds)
        .unwrap_or(30);
    if !(1..=600).contains(&grace) {
        return Err(format!(
            "reconnect_grace_seconds: {grace} is out of range (1 to 600)"
        ));
    }
    Ok(MediaSettings {
        transport: MediaConfig {
            udp_port,
            bind_ip: listen.ip(),
            public_addrs,
        },
        turn_urls,
        turn_secret: turn_secret.map(TurnSecret::new),
        reconnect_grace: std::time::Duration::from_secs(u64::from(grace)),
    })
}

/// The address links printed by admin commands start with: `HAVEN_PUBLIC_URL`, else the
/// file's `public_url`, else the default listen address.
pub fn public_url_for_links(file: &FileConfig) -> String {
    std::env::var("HAVEN_PUBLIC_URL")
        .ok()
        .or_else(|| file.public_url.clone())
        .unwrap_or_else(|| "http://127.0.0.1:8080".to_string())
        .trim_end_matches('/')
        .to_string()
}

#[cfg(test)]
mod invite_tests {
    use super::*;

    const KEY: &str =
        "haven_test-26785a09-ab16-4eb0-8407-a37497a57506-3d844edf-8d35-48ac-975b-e847b4f122b0";
    const TEMPLATE: &str = "f33517ff-2a88-4f6e-b855-c550268ce08a";

    fn file(text: &str) -> FileConfig {
        toml::from_str(text).expect("a valid test file")
    }

    fn settings(args: &ServeArgs, text: &str) -> Result<InviteSettings, String> {
        invite_settings(args, &file(text))
    }

    #[test]
    fn the_console_is_the_default_channel() {
        let s = settings(&ServeArgs::default(), "").unwrap();
        assert!(matches!(s.channel, InviteChannel::Console));
        assert!(s.poll_interval.is_some(), "serve runs the worker");
    }

    #[test]
    fn notify_settings_come_from_flags_over_the_file() {
        let text = format!(
            "invite_channel = \"notify\"\nnotify_api_key = \"{KEY}\"\n\
             notify_sms_template = \"{TEMPLATE}\"\nnotify_base_url = \"http://127.0.0.1:9/\"\n\
             notify_callback_token = \"from-the-file-123\""
        );
        let args = ServeArgs {
            notify_email_template: Some(TEMPLATE.into()),
            notify_code_template: Some(TEMPLATE.into()),
            ..ServeArgs::default()
        };
        let s = settings(&args, &text).unwrap();
        let InviteChannel::Notify(n) = s.channel else {
            panic!("notify was asked for");
        };
        assert_eq!(n.code_template.as_deref(), Some(TEMPLATE));
        assert_eq!(n.base_url, "http://127.0.0.1:9");
        assert_eq!(
            n.api_key.service_id(),
            "26785a09-ab16-4eb0-8407-a37497a57506"
        );
        assert_eq!(n.sms_template.as_deref(), Some(TEMPLATE));
        assert_eq!(n.email_template.as_deref(), Some(TEMPLATE));
        assert!(n.callback_token.unwrap().matches("from-the-file-123"));
        let debug = format!("{:?}", settings(&args, &text).unwrap());
        assert!(
            !debug.contains("3d844edf") && !debug.contains("from-the-file"),
            "{debug}"
        );
    }

    #[test]
    fn default_notify_address_is_the_real_service() {
        let text = format!(
            "invite_channel = \"notify\"\nnotify_api_key = \"{KEY}\"\nnotify_sms_template = \"{TEMPLATE}\""
        );
        let InviteChannel::Notify(n) = settings(&ServeArgs::default(), &text).unwrap().channel
        else {
            panic!("notify was asked for");
        };
        assert_eq!(n.base_url, "https://api.notifications.service.gov.uk");
    }

    #[test]
    fn mistakes_name_the_key_and_never_repeat_a_secret() {
        let cases = [
            ("invite_channel = \"pigeon\"".to_string(), "invite_channel"),
            ("invite_channel = \"notify\"".to_string(), "notify_api_key"),
            (
                "invite_channel = \"notify\"\nnotify_api_key = \"hunter2-secret-value\"".into(),
                "notify_api_key",
            ),
            (
                format!("invite_channel = \"notify\"\nnotify_api_key = \"{KEY}\""),
                "notify_sms_template",
            ),
            (
                format!(
                    "invite_channel = \"notify\"\nnotify_api_key = \"{KEY}\"\nnotify_email_template = \"nope\""
                ),
                "notify_email_template",
            ),
            (
                format!(
                    "invite_channel = \"notify\"\nnotify_api_key = \"{KEY}\"\n\
                     notify_sms_template = \"{TEMPLATE}\"\nnotify_callback_token = \"short\""
                ),
                "notify_callback_token",
            ),
            (format!("notify_api_key = \"{KEY}\""), "notify_api_key"),
            ("smtp_url = \"smtp://mail:25\"".into(), "smtp_url"),
            ("invite_channel = \"smtp\"\nsmtp_from = \"a@example.org\"".into(), "smtp_url"),
            (
                "invite_channel = \"smtp\"\nsmtp_url = \"smtps://u:hunter2secret@\"\nsmtp_from = \"a@example.org\"".into(),
                "smtp_url",
            ),
            (
                "invite_channel = \"smtp\"\nsmtp_url = \"http://u:hunter2secret@mail\"\nsmtp_from = \"a@example.org\"".into(),
                "smtp_url",
            ),
            ("invite_channel = \"smtp\"\nsmtp_url = \"smtp://mail:25\"".into(), "smtp_from"),
        ];
        for (text, key) in cases {
            let message = settings(&ServeArgs::default(), &text).unwrap_err();
            assert!(message.starts_with(&format!("{key}:")), "{text}: {message}");
            for secret in ["3d844edf", "hunter2"] {
                assert!(!message.contains(secret), "{text}: {message}");
            }
        }
    }

    #[test]
    fn smtp_needs_a_server_and_a_sender() {
        let text = "invite_channel = \"smtp\"\nsmtp_url = \"smtp://127.0.0.1:2525\"\n\
                    smtp_from = \"Riverside Health <noreply@riverside.example.org>\"";
        let s = settings(&ServeArgs::default(), text).unwrap();
        let InviteChannel::Smtp(smtp) = s.channel else {
            panic!("smtp was asked for");
        };
        assert_eq!(smtp.from.email.to_string(), "noreply@riverside.example.org");
    }
}
