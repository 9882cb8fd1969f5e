//! Turning flags, environment and the configuration file into a server `Config`.
//! Every problem names the key (or URL) and what is wrong with it.

use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};

use haven_domain::SessionTimeouts;
use haven_domain::time::Duration;
use haven_server::media::turn::TurnSecret;
use haven_server::media::{DEFAULT_MEDIA_PORT, MediaConfig};
use haven_server::{Config, MediaSettings, TlsFiles, TrustedProxies};
use serde::Deserialize;

use crate::cli::ServeArgs;

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
    Ok(Config {
        listen,
        public_url,
        tls,
        trusted_proxies,
        session,
        media,
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
