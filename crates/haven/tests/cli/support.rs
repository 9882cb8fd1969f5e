//! Running the binary: a clean environment, a temporary working folder, time limits, and a
//! handle on a running `haven serve`.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use haven_store::Store;
use haven_store::testing::{TestDatabase, fresh_database};

/// The longest any one command may take before the test fails (an unreachable database
/// takes ten seconds to give up).
const COMMAND_LIMIT: Duration = Duration::from_secs(60);

/// What a finished command did.
#[derive(Debug)]
pub struct Outcome {
    /// The exit status (`None` if killed by a signal).
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Outcome {
    /// Asserts the exit status, showing the output when it differs.
    #[track_caller]
    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(self.code, Some(code), "unexpected exit status: {self:#?}");
        self
    }

    /// Asserts a refusal: the given status, a message on stderr, and no panic.
    #[track_caller]
    pub fn expect_refusal(&self, code: i32, needles: &[&str]) -> &Self {
        self.expect_code(code);
        assert!(
            !self.stderr.contains("panicked") && !self.stderr.contains("RUST_BACKTRACE"),
            "a refusal must not be a panic: {self:#?}"
        );
        assert!(
            self.stderr.starts_with("haven: ") || self.stderr.starts_with("error: "),
            "{self:#?}"
        );
        for needle in needles {
            assert!(
                self.stderr.contains(needle),
                "stderr should mention {needle:?}: {self:#?}"
            );
        }
        self
    }
}

/// `haven` with no `HAVEN_*` variables from the test's own environment (but
/// `HAVEN_MEDIA_PORT=0`), without colour, in `dir`.
pub fn haven(dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_haven"));
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("HAVEN_") {
            cmd.env_remove(key);
        }
    }
    // Media on a free port: tests run many servers at once, which cannot share 10000.
    cmd.env("NO_COLOR", "1")
        .env("HAVEN_MEDIA_PORT", "0")
        .current_dir(dir);
    cmd
}

/// Runs a command to completion, feeding it `stdin`.
pub fn run(mut cmd: Command, stdin: &[u8]) -> Outcome {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start haven");
    let mut input = child.stdin.take().expect("stdin is piped");
    // A command that exits without reading its input closes the pipe: that is its business.
    let _ = input.write_all(stdin);
    drop(input);
    let mut stdout = child.stdout.take().expect("stdout is piped");
    let mut stderr = child.stderr.take().expect("stderr is piped");
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = stderr.read_to_end(&mut s);
        String::from_utf8_lossy(&s).into_owned()
    });
    let status = wait_with_limit(&mut child, COMMAND_LIMIT);
    Outcome {
        code: status.code(),
        stdout: out.join().expect("stdout reader"),
        stderr: err.join().expect("stderr reader"),
    }
}

/// Waits for a child, killing it and failing the test if it outlives `limit`. A bounded
/// poll: the standard library has no wait with a timeout.
fn wait_with_limit(child: &mut Child, limit: Duration) -> ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("wait for haven") {
            return status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("haven did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A fresh database of this run's engine and a temporary working folder.
pub struct Setup {
    pub db: TestDatabase,
    pub dir: tempfile::TempDir,
}

impl Setup {
    pub async fn new() -> Setup {
        Setup {
            db: fresh_database().await,
            dir: tempfile::tempdir().expect("a temporary folder"),
        }
    }

    /// `haven --database-url <this database> <args…>` in the temporary folder.
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut cmd = haven(self.dir.path());
        cmd.arg("--database-url").arg(&self.db.url).args(args);
        cmd
    }

    /// Runs `haven <args…>` on this database with empty input.
    pub fn run(&self, args: &[&str]) -> Outcome {
        run(self.cmd(args), b"")
    }

    /// Runs `haven <args…>` on this database with `stdin` as input.
    pub fn run_with_input(&self, args: &[&str], stdin: &[u8]) -> Outcome {
        run(self.cmd(args), stdin)
    }

    /// The store, opened directly.
    pub async fn store(&self) -> Store {
        Store::connect(&self.db.url)
            .await
            .expect("open the test database")
    }

    /// `haven admin org create --name <name>`, which must succeed.
    pub fn create_org(&self, name: &str) {
        self.run(&["admin", "org", "create", "--name", name])
            .expect_code(0);
    }

    /// `haven admin user add … --password-stdin` with a good passphrase.
    pub fn add_user(&self, org: &str, email: &str, name: &str, role: &str) -> Outcome {
        self.run_with_input(
            &[
                "admin",
                "user",
                "add",
                "--org",
                org,
                "--email",
                email,
                "--name",
                name,
                "--role",
                role,
                "--password-stdin",
            ],
            GOOD_PASSPHRASE.as_bytes(),
        )
    }
}

/// A passphrase the password policy accepts, with its line ending.
pub const GOOD_PASSPHRASE: &str = "copper lantern orchard wisdom\n";

/// A running `haven serve`; killed if the test ends without stopping it.
pub struct Server {
    child: Child,
    stdout: Receiver<String>,
    stderr: Receiver<String>,
    /// Every stdout line seen so far.
    pub stdout_seen: Vec<String>,
    /// Every stderr line seen so far.
    pub stderr_seen: Vec<String>,
}

fn lines_of(pipe: impl Read + Send + 'static) -> Receiver<String> {
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// How long a server may take to print what a test waits for.
const SERVER_LIMIT: Duration = Duration::from_secs(30);

impl Server {
    /// Starts `cmd` (a `haven … serve …`).
    pub fn start(mut cmd: Command) -> Server {
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start haven serve");
        let stdout = lines_of(child.stdout.take().expect("piped"));
        let stderr = lines_of(child.stderr.take().expect("piped"));
        Server {
            child,
            stdout,
            stderr,
            stdout_seen: Vec::new(),
            stderr_seen: Vec::new(),
        }
    }

    /// Waits for a stdout line containing `needle` and returns it.
    pub fn wait_stdout(&mut self, needle: &str) -> String {
        wait_line(
            &self.stdout,
            &mut self.stdout_seen,
            needle,
            &self.stderr_seen,
        )
    }

    /// Waits for a stderr line containing `needle` and returns it.
    pub fn wait_stderr(&mut self, needle: &str) -> String {
        wait_line(
            &self.stderr,
            &mut self.stderr_seen,
            needle,
            &self.stdout_seen,
        )
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends SIGTERM (what a service manager sends) and waits for the exit.
    pub fn terminate(&mut self) -> ExitStatus {
        let pid = libc::pid_t::try_from(self.pid()).expect("a pid fits pid_t");
        // SAFETY: kill(2) with a valid signal number on our own child's pid.
        let sent = unsafe { libc::kill(pid, libc::SIGTERM) };
        assert_eq!(sent, 0, "send SIGTERM");
        let status = wait_with_limit(&mut self.child, SERVER_LIMIT);
        // The readers stop at end of file, which the exit has brought.
        self.stdout_seen.extend(self.stdout.iter());
        self.stderr_seen.extend(self.stderr.iter());
        status
    }
}

fn wait_line(
    rx: &Receiver<String>,
    seen: &mut Vec<String>,
    needle: &str,
    other: &[String],
) -> String {
    let deadline = Instant::now() + SERVER_LIMIT;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => {
                seen.push(line.clone());
                if line.contains(needle) {
                    return line;
                }
            }
            Err(RecvTimeoutError::Timeout) => {
                panic!(
                    "no line with {needle:?} within {SERVER_LIMIT:?}; saw {seen:#?} and {other:#?}"
                )
            }
            Err(RecvTimeoutError::Disconnected) => {
                panic!(
                    "haven closed the stream without printing {needle:?}; saw {seen:#?} and {other:#?}"
                )
            }
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
