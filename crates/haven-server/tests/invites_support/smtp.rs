//! A real SMTP server for a test: aiosmtpd, started by `smtp_sink.py` on a free loopback
//! port, reporting each message it receives as a JSON line.

use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};

use super::python;

/// How long to wait for the server to start or a message to arrive.
const WAIT: Duration = Duration::from_secs(20);

/// A running SMTP server; stopped when dropped.
pub struct SmtpSink {
    /// The port it listens on.
    pub port: u16,
    lines: Lines<BufReader<ChildStdout>>,
    // Holds the server's standard input open (closing it stops the server) and kills it
    // when the test ends.
    _child: Child,
}

impl SmtpSink {
    pub async fn start() -> SmtpSink {
        let script = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/invites_support/smtp_sink.py"
        );
        let mut child = Command::new(python::interpreter())
            .arg(script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("the SMTP server starts");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = tokio::time::timeout(WAIT, lines.next_line())
            .await
            .expect("the SMTP server reports its port in time")
            .unwrap()
            .expect("the SMTP server reports its port");
        let port = first
            .strip_prefix("PORT ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("unexpected first line {first:?}"));
        SmtpSink {
            port,
            lines,
            _child: child,
        }
    }

    /// `smtp://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// The next message the server received.
    pub async fn next_message(&mut self) -> Value {
        let line = tokio::time::timeout(WAIT, self.lines.next_line())
            .await
            .expect("a message arrives in time")
            .unwrap()
            .expect("the SMTP server is still running");
        serde_json::from_str(&line).expect("the sink prints JSON")
    }
}
