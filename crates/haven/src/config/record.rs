//! Where finished notes go: the record system's FHIR endpoint and the bearer token Haven
//! presents to it. The token is read from a file (`fhir_token_file`) or the environment
//! (`HAVEN_FHIR_TOKEN`), never from the configuration file itself or a flag, and no
//! message repeats it.

use std::path::PathBuf;

use haven_server::record::BearerToken;
use haven_server::{FhirEndpoint, RecordSettings};

use super::FileConfig;
use crate::cli::ServeArgs;

/// The record settings from flags over the file; `env_token` is `HAVEN_FHIR_TOKEN`.
pub fn record_settings(
    args: &ServeArgs,
    file: &FileConfig,
    env_token: Option<String>,
) -> Result<RecordSettings, String> {
    let url = args
        .fhir_endpoint
        .clone()
        .or_else(|| file.fhir_endpoint.clone());
    let token_file: Option<PathBuf> = args
        .fhir_token_file
        .clone()
        .or_else(|| file.fhir_token_file.clone());
    let env_token = env_token.filter(|t| !t.is_empty());
    let mut settings = RecordSettings::default();
    let Some(url) = url else {
        if token_file.is_some() || env_token.is_some() {
            return Err("fhir_endpoint: required when a FHIR token is given".into());
        }
        return Ok(settings);
    };
    let parsed =
        url::Url::parse(&url).map_err(|e| format!("fhir_endpoint: {url:?} is not a URL ({e})"))?;
    let loopback = matches!(parsed.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
    match parsed.scheme() {
        "https" => {}
        "http" if loopback => {}
        _ => {
            return Err(format!(
                "fhir_endpoint: {url:?} must be an https:// address (http:// only on this machine)"
            ));
        }
    }
    if parsed.username() != "" || parsed.password().is_some() {
        return Err("fhir_endpoint: put no user or password in the address; give a token".into());
    }
    let token = match (token_file, env_token) {
        (Some(_), Some(_)) => {
            return Err(
                "fhir_token_file: give the token in a file or in HAVEN_FHIR_TOKEN, not both".into(),
            );
        }
        (Some(path), None) => {
            let text = std::fs::read_to_string(&path)
                .map_err(|e| format!("fhir_token_file: cannot read {}: {e}", path.display()))?;
            BearerToken::parse(&text).map_err(|e| format!("fhir_token_file: the token {e}"))?
        }
        (None, Some(text)) => {
            BearerToken::parse(&text).map_err(|e| format!("HAVEN_FHIR_TOKEN: the token {e}"))?
        }
        (None, None) => {
            return Err(
                "fhir_token_file: required when fhir_endpoint is set (or HAVEN_FHIR_TOKEN)".into(),
            );
        }
    };
    settings.endpoint = Some(FhirEndpoint {
        url: url.trim_end_matches('/').to_string(),
        token,
    });
    Ok(settings)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> FileConfig {
        toml::from_str(text).expect("a valid test file")
    }

    #[test]
    fn no_endpoint_means_download_only() {
        let s = record_settings(&ServeArgs::default(), &file(""), None).unwrap();
        assert!(s.endpoint.is_none());
    }

    #[test]
    fn the_token_comes_from_a_file_or_the_environment() {
        let dir = std::env::temp_dir().join(format!("haven-fhir-token-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("token");
        std::fs::write(&path, "file-token-123\n").unwrap();
        let text = format!(
            "fhir_endpoint = \"https://records.example.org/fhir/\"\nfhir_token_file = \"{}\"",
            path.display()
        );
        let s = record_settings(&ServeArgs::default(), &file(&text), None).unwrap();
        let e = s.endpoint.unwrap();
        assert_eq!(e.url, "https://records.example.org/fhir");
        assert!(!format!("{e:?}").contains("file-token-123"));

        let args = ServeArgs {
            fhir_endpoint: Some("http://127.0.0.1:9/fhir".into()),
            ..ServeArgs::default()
        };
        let s = record_settings(&args, &file(""), Some("env-token-456".into())).unwrap();
        assert_eq!(s.endpoint.unwrap().url, "http://127.0.0.1:9/fhir");
        let both = record_settings(
            &ServeArgs::default(),
            &file(&text),
            Some("env-token-456".into()),
        );
        assert!(both.unwrap_err().contains("not both"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn mistakes_name_the_setting_and_never_repeat_the_token() {
        let secret = "never-print-this-9f";
        for (endpoint, token, want) in [
            (None, Some(secret), "fhir_endpoint: required"),
            (
                Some("https://records.example.org"),
                None,
                "fhir_token_file: required",
            ),
            (
                Some("http://records.example.org"),
                Some(secret),
                "must be an https://",
            ),
            (Some("not a url"), Some(secret), "is not a URL"),
            (
                Some("https://records.example.org"),
                Some("two words"),
                "HAVEN_FHIR_TOKEN: the token must be one line",
            ),
        ] {
            let args = ServeArgs {
                fhir_endpoint: endpoint.map(str::to_owned),
                ..ServeArgs::default()
            };
            let e = record_settings(&args, &file(""), token.map(str::to_owned)).unwrap_err();
            assert!(e.contains(want), "{e}");
            assert!(!e.contains(secret), "{e}");
        }
    }
}
