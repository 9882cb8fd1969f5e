//! `haven serve --help` is the reference an operator reads.

use crate::support::{haven, run};

#[test]
fn serve_help_documents_every_option_and_its_environment_variable() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = haven(dir.path());
    cmd.args(["serve", "--help"]);
    let help = run(cmd, b"");
    help.expect_code(0);
    let text = &help.stdout;
    for (option, variable) in [
        ("--listen", "HAVEN_LISTEN"),
        ("--public-url", "HAVEN_PUBLIC_URL"),
        ("--tls-cert", "HAVEN_TLS_CERT"),
        ("--tls-key", "HAVEN_TLS_KEY"),
        ("--trusted-proxies", "HAVEN_TRUSTED_PROXIES"),
        ("--session-idle-minutes", "HAVEN_SESSION_IDLE_MINUTES"),
        ("--session-absolute-hours", "HAVEN_SESSION_ABSOLUTE_HOURS"),
        ("--config", "HAVEN_CONFIG"),
        ("--database-url", "HAVEN_DATABASE_URL"),
        ("--media-port", "HAVEN_MEDIA_PORT"),
        ("--media-public-ip", "HAVEN_MEDIA_PUBLIC_IP"),
        ("--turn-url", "HAVEN_TURN_URL"),
        ("--turn-secret", "HAVEN_TURN_SECRET"),
        ("--reconnect-grace-seconds", "HAVEN_RECONNECT_GRACE_SECONDS"),
    ] {
        assert!(text.contains(option), "{option} is not documented:\n{text}");
        assert!(
            text.contains(variable),
            "{variable} is not documented:\n{text}"
        );
    }
    // The defaults an operator needs to know are stated.
    for default in ["127.0.0.1:8080", "30", "12", "haven-data/haven.db", "10000"] {
        assert!(
            text.contains(default),
            "default {default} is not stated:\n{text}"
        );
    }
}

#[test]
fn help_never_shows_the_database_password_from_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        &["serve", "--help"][..],
        &["--help"],
        &["admin", "user", "add", "--help"],
    ] {
        let mut cmd = haven(dir.path());
        cmd.args(args).env(
            "HAVEN_DATABASE_URL",
            "postgres://haven:secretpw@db.example.org/haven",
        );
        let help = run(cmd, b"");
        help.expect_code(0);
        assert!(
            !help.stdout.contains("secretpw") && !help.stderr.contains("secretpw"),
            "`haven {}` printed the password:\n{}",
            args.join(" "),
            help.stdout
        );
    }
}

#[test]
fn help_never_shows_the_turn_secret_from_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = haven(dir.path());
    cmd.args(["serve", "--help"])
        .env("HAVEN_TURN_SECRET", "coturn-shared-secret-xyz");
    let help = run(cmd, b"");
    help.expect_code(0);
    assert!(
        !help.stdout.contains("coturn-shared-secret-xyz"),
        "{}",
        help.stdout
    );
}
