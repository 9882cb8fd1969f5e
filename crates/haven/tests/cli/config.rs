//! Bad configuration stops `haven` with status 2 and a message that names the key (or URL)
//! and the problem; and each setting's sources rank flag > environment > file > default.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::{Outcome, haven, run};

/// A temporary folder with a configuration file in it.
struct Dir(tempfile::TempDir);

impl Dir {
    fn new() -> Dir {
        Dir(tempfile::tempdir().unwrap())
    }

    fn path(&self) -> &Path {
        self.0.path()
    }

    /// Writes `haven.toml` and returns its path.
    fn config(&self, text: &str) -> PathBuf {
        let path = self.path().join("haven.toml");
        std::fs::write(&path, text).unwrap();
        path
    }

    /// `haven serve --listen 127.0.0.1:0 <args…>` with a database in this folder, so
    /// that a configuration wrongly accepted could not touch anything else.
    fn serve(&self, args: &[&str]) -> Command {
        let mut cmd = haven(self.path());
        cmd.arg("--database-url")
            .arg(format!(
                "sqlite://{}/db/haven.db?mode=rwc",
                self.path().display()
            ))
            .arg("serve");
        if !args.contains(&"--listen") {
            cmd.args(["--listen", "127.0.0.1:0"]);
        }
        cmd.args(args);
        cmd
    }
}

fn go(cmd: Command) -> Outcome {
    run(cmd, b"")
}

#[test]
fn an_unknown_key_in_the_file_is_named() {
    let dir = Dir::new();
    let file = dir.config("listen = \"127.0.0.1:0\"\nsesion_idle_minutes = 20\n");
    let out = go(dir.serve(&["--config", file.to_str().unwrap()]));
    out.expect_refusal(2, &["sesion_idle_minutes", "haven.toml"]);
}

#[test]
fn a_value_of_the_wrong_kind_in_the_file_is_named() {
    let dir = Dir::new();
    let file = dir.config("session_idle_minutes = \"soon\"\n");
    let out = go(dir.serve(&["--config", file.to_str().unwrap()]));
    out.expect_refusal(2, &["session_idle_minutes", "line 1"]);
}

#[test]
fn a_malformed_file_is_refused_with_the_line() {
    let dir = Dir::new();
    let file = dir.config("listen = \"127.0.0.1:0\"\npublic_url = \n");
    let out = go(dir.serve(&["--config", file.to_str().unwrap()]));
    out.expect_refusal(2, &["haven.toml", "line 2"]);
}

#[test]
fn a_missing_file_is_named() {
    let dir = Dir::new();
    let missing = dir.path().join("nowhere.toml");
    let out = go(dir.serve(&["--config", missing.to_str().unwrap()]));
    out.expect_refusal(2, &["nowhere.toml", "cannot read"]);
}

#[test]
fn a_listen_value_that_is_not_an_address_is_named() {
    let dir = Dir::new();
    let out = go(dir.serve(&["--listen", "nonsense"]));
    out.expect_refusal(2, &["listen", "nonsense"]);
}

#[test]
fn session_timeouts_out_of_range_are_named() {
    let dir = Dir::new();
    go(dir.serve(&["--session-idle-minutes", "0"]))
        .expect_refusal(2, &["session_idle_minutes", "out of range"]);
    go(dir.serve(&["--session-absolute-hours", "73"]))
        .expect_refusal(2, &["session_absolute_hours", "out of range"]);
    // Not a number at all: clap's own message names the option.
    go(dir.serve(&["--session-idle-minutes", "soon"]))
        .expect_refusal(2, &["--session-idle-minutes", "soon"]);
}

#[test]
fn a_certificate_without_its_key_is_refused() {
    let dir = Dir::new();
    let cert = dir.path().join("cert.pem");
    std::fs::write(&cert, "not used").unwrap();
    go(dir.serve(&["--tls-cert", cert.to_str().unwrap()]))
        .expect_refusal(2, &["tls_key", "required"]);
    go(dir.serve(&["--tls-key", cert.to_str().unwrap()]))
        .expect_refusal(2, &["tls_cert", "required"]);
    let missing = dir.path().join("missing.pem");
    go(dir.serve(&[
        "--tls-cert",
        missing.to_str().unwrap(),
        "--tls-key",
        cert.to_str().unwrap(),
    ]))
    .expect_refusal(2, &["tls_cert", "missing.pem"]);
}

#[test]
fn a_bad_public_url_or_proxy_list_is_named() {
    let dir = Dir::new();
    go(dir.serve(&["--public-url", "ftp://files.example.org"]))
        .expect_refusal(2, &["public_url", "ftp://files.example.org"]);
    go(dir.serve(&["--trusted-proxies", "10.0.0.0/8,not-an-address"]))
        .expect_refusal(2, &["trusted_proxies"]);
}

#[test]
fn an_unreachable_database_is_named_without_its_password() {
    let dir = Dir::new();
    let mut cmd = haven(dir.path());
    cmd.args([
        "--database-url",
        "postgres://haven:secretpw@127.0.0.1:1/haven",
        "audit",
        "verify",
    ]);
    let out = go(cmd);
    out.expect_refusal(
        2,
        &[
            "postgres://haven:redacted@127.0.0.1:1/haven",
            "cannot open database",
            "refused",
        ],
    );
    assert!(
        !out.stderr.contains("secretpw") && !out.stdout.contains("secretpw"),
        "the password was printed: {out:#?}"
    );
}

#[test]
fn an_unsupported_database_scheme_is_named() {
    let dir = Dir::new();
    let mut cmd = haven(dir.path());
    cmd.args(["--database-url", "mysql://x", "audit", "verify"]);
    go(cmd).expect_refusal(2, &["mysql://x", "unsupported", "sqlite:", "postgres://"]);
}

/// Runs `haven serve` with `file` as the configuration file, `env` as extra environment and
/// `flags` as extra flags, and returns stderr.
fn serve_error(dir: &Dir, file: &str, env: &[(&str, &str)], flags: &[&str]) -> String {
    let path = dir.config(file);
    let mut cmd = haven(dir.path());
    cmd.args(["--config", path.to_str().unwrap(), "serve"])
        .args(flags)
        .envs(env.iter().copied());
    let out = go(cmd);
    out.expect_code(2);
    out.stderr
}

#[test]
fn a_flag_beats_the_environment_which_beats_the_file() {
    let dir = Dir::new();
    // Every value is out of range, so whichever source wins, the message shows it.
    let file = "listen = \"127.0.0.1:0\"\nsession_idle_minutes = 5000\n";
    let env = [("HAVEN_SESSION_IDLE_MINUTES", "6000")];
    let err = serve_error(&dir, file, &[], &[]);
    assert!(err.contains("5000"), "{err}");
    let err = serve_error(&dir, file, &env, &[]);
    assert!(err.contains("6000"), "{err}");
    let err = serve_error(&dir, file, &env, &["--session-idle-minutes", "7000"]);
    assert!(err.contains("7000"), "{err}");

    let file = "listen = \"from-file\"\n";
    let env = [("HAVEN_LISTEN", "from-env")];
    assert!(serve_error(&dir, file, &[], &[]).contains("from-file"));
    assert!(serve_error(&dir, file, &env, &[]).contains("from-env"));
    assert!(serve_error(&dir, file, &env, &["--listen", "from-flag"]).contains("from-flag"));

    // The configuration file itself can come from the environment; a flag beats it.
    let elsewhere = dir.path().join("elsewhere.toml");
    std::fs::write(&elsewhere, "session_idle_minutes = 8000\n").unwrap();
    let mut cmd = haven(dir.path());
    cmd.args(["serve", "--listen", "127.0.0.1:0"])
        .env("HAVEN_CONFIG", &elsewhere);
    assert!(go(cmd).expect_code(2).stderr.contains("8000"));
}

#[test]
fn the_database_url_ranks_flag_then_environment_then_file() {
    let dir = Dir::new();
    // Unsupported schemes fail at once and are quoted, so the message shows which won.
    let file = dir.config("database_url = \"mysql://from-file\"\n");
    let verify = |env: Option<&str>, flag: Option<&str>| {
        let mut cmd = haven(dir.path());
        cmd.arg("--config").arg(&file);
        if let Some(flag) = flag {
            cmd.args(["--database-url", flag]);
        }
        if let Some(env) = env {
            cmd.env("HAVEN_DATABASE_URL", env);
        }
        cmd.args(["audit", "verify"]);
        let out = go(cmd);
        out.expect_code(2);
        out.stderr
    };
    assert!(verify(None, None).contains("mysql://from-file"));
    assert!(verify(Some("mysql://from-env"), None).contains("mysql://from-env"));
    assert!(
        verify(Some("mysql://from-env"), Some("mysql://from-flag")).contains("mysql://from-flag")
    );
}

#[test]
fn listening_on_a_wildcard_needs_a_media_public_ip() {
    let dir = Dir::new();
    let out = go(dir.serve(&["--listen", "0.0.0.0:0"]));
    out.expect_refusal(2, &["media_public_ip", "0.0.0.0"]);
}

#[test]
fn a_bad_media_public_ip_is_named() {
    let dir = Dir::new();
    let out = go(dir.serve(&["--media-public-ip", "203.0.113.7,media.example.org"]));
    out.expect_refusal(2, &["media_public_ip", "media.example.org"]);
    let file = dir.config("media_public_ip = [\"::\"]\n");
    let out = go(dir.serve(&["--config", file.to_str().unwrap()]));
    out.expect_refusal(2, &["media_public_ip", "wildcard"]);
}

#[test]
fn bad_turn_settings_are_named() {
    let dir = Dir::new();
    let out = go(dir.serve(&["--turn-url", "https://turn.example.org"]));
    out.expect_refusal(2, &["turn_url", "https://turn.example.org"]);
    let mut cmd = dir.serve(&[]);
    cmd.env("HAVEN_TURN_SECRET", "s3cret");
    let out = go(cmd);
    out.expect_refusal(2, &["turn_secret", "turn_url"]);
    assert!(!out.stderr.contains("s3cret"), "{}", out.stderr);
}

#[test]
fn a_bad_media_port_or_grace_is_named() {
    let dir = Dir::new();
    let file = dir.config("media_port = 70000\n");
    let out = go(dir.serve(&["--config", file.to_str().unwrap()]));
    out.expect_refusal(2, &["media_port"]);
    let out = go(dir.serve(&["--reconnect-grace-seconds", "0"]));
    out.expect_refusal(2, &["reconnect_grace_seconds", "0"]);
}
