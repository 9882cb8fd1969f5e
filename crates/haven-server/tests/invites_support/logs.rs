//! Every log line, at every level, kept in memory so a test can search it for what must
//! never be there. Tests using it run on a current-thread runtime: the server's tasks then
//! run on the test's thread and log to the subscriber set as its default.

use std::io::Write;
use std::sync::{Arc, Mutex};

use tracing::subscriber::DefaultGuard;

/// Log output collected in memory.
#[derive(Clone, Default)]
pub struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Capture {
    /// Starts capturing this thread's logs at TRACE level until the guard is dropped.
    pub fn start() -> (Capture, DefaultGuard) {
        let capture = Capture::default();
        let writer = capture.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .finish();
        (capture, tracing::subscriber::set_default(subscriber))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(|p| p.into_inner())).into_owned()
    }

    /// Fails naming the first of `secrets` found in the log (without printing the log's
    /// other lines, which would be noise).
    pub fn assert_free_of(&self, secrets: &[String]) {
        let text = self.text();
        assert!(
            !text.is_empty(),
            "nothing was logged: the capture is not working"
        );
        for secret in secrets {
            if let Some(line) = text.lines().find(|l| l.contains(secret.as_str())) {
                panic!("the log holds {secret:?}: {line}");
            }
        }
    }
}
