//! Turning flags, environment and the configuration file into a server `Config`.
//! Every problem names the key (or URL) and what is wrong with it.

use std::net::{SocketAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};

use haven_domain::SessionTimeouts;
use haven_domain::time::Duration;
use haven_server::{Config, TlsFiles, TrustedProxies};
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
    Ok(Config {
        listen,
        public_url,
        tls,
        trusted_proxies,
        session,
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
