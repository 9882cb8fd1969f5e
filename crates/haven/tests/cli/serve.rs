//! `haven serve`: the first-run setup link, plain HTTP and HTTPS, and a clean stop.

use std::path::Path;

use crate::support::{Server, Setup};

/// The setup link from a line of the start-up message.
fn link_in(line: &str) -> url::Url {
    url::Url::parse(line.trim()).expect("the setup line is a link")
}

/// The first `http(s)://127.0.0.1:PORT` in a log line.
fn port_in(line: &str) -> u16 {
    let start = line
        .find("://127.0.0.1:")
        .expect("the log names the address")
        + 13;
    line[start..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .expect("a port number")
}

#[tokio::test]
async fn a_fresh_install_prints_a_setup_link_that_opens_the_setup_form() {
    let setup = Setup::new().await;
    let mut server = Server::start(setup.cmd(&["serve", "--listen", "127.0.0.1:0"]));
    let line = server.wait_stdout("/setup/");
    let link = link_in(&line);
    assert_eq!(link.scheme(), "http");
    assert_eq!(link.host_str(), Some("127.0.0.1"));
    let port = link.port().expect("the link names the port");
    assert_ne!(port, 0, "the link shows the port actually bound, not 0");

    let page = reqwest::get(link.clone()).await.expect("the link answers");
    assert_eq!(page.status(), 200);
    let body = page.text().await.unwrap();
    assert!(body.contains("Set up Haven"), "{body}");
    assert!(body.contains("Organisation name"), "{body}");
    // A made-up token does not open the form.
    let mut wrong = link.clone();
    wrong.set_path("/setup/not-the-token");
    let page = reqwest::get(wrong).await.unwrap();
    assert_eq!(page.status(), 404);

    let status = server.terminate();
    assert_eq!(status.code(), Some(0), "SIGTERM stops haven cleanly");
    assert!(
        !server.stderr_seen.iter().any(|l| l.contains("panicked")),
        "{:#?}",
        server.stderr_seen
    );
}

/// Creates an organisation and serves it on loopback; returns the server and its port.
fn serve_org(setup: &Setup) -> (Server, u16) {
    setup.create_org("Riverside");
    let mut server = Server::start(setup.cmd(&["serve", "--listen", "127.0.0.1:0"]));
    let port = port_in(&server.wait_stderr("Haven is running"));
    (server, port)
}

#[tokio::test]
async fn once_an_organisation_exists_no_setup_link_is_printed() {
    let setup = Setup::new().await;
    let (mut server, port) = serve_org(&setup);
    let health = reqwest::get(format!("http://127.0.0.1:{}/healthz", port))
        .await
        .expect("the server answers");
    assert_eq!(health.text().await.unwrap(), "ok");
    let status = server.terminate();
    assert_eq!(status.code(), Some(0));
    let stdout = server.stdout_seen.join("\n");
    assert!(!stdout.contains("/setup/"), "{stdout}");
    assert!(!stdout.contains("not set up"), "{stdout}");
}

/// The server's private, anonymous memory (its heap, mostly), in KiB.
fn anonymous_kib(pid: u32) -> u64 {
    let rollup = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).expect("procfs");
    let line = rollup.lines().find(|l| l.starts_with("Anonymous:"));
    let kib = line.and_then(|l| l.split_whitespace().nth(1));
    kib.and_then(|k| k.parse().ok())
        .expect("smaps_rollup has an Anonymous line")
}

#[tokio::test]
async fn an_idle_server_holds_little_memory() {
    let setup = Setup::new().await;
    let (mut server, _) = serve_org(&setup);
    // The allocator returns to the system what start-up allocated and freed; with its
    // arenas committed up front it kept about 14 MiB of it resident.
    let kib = anonymous_kib(server.pid());
    assert!(kib < 8 * 1024, "{kib} KiB of heap at idle");
    // Told to stop the moment it says it runs, it stops gracefully: it handles the signal
    // by then (it used to install the handler a moment later, and be killed by it).
    assert_eq!(server.terminate().code(), Some(0));
}

/// One sign-in with an address nobody has, as a browser makes it: the form, then its post.
async fn unknown_sign_in(base: String, n: usize) -> reqwest::StatusCode {
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let form = client.get(format!("{base}/signin")).send().await.unwrap();
    let form = form.text().await.unwrap();
    let csrf = form
        .split("name=\"_csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the sign-in form carries a CSRF token")
        .to_owned();
    let email = format!("nobody{n}@example.org");
    let fields = [
        ("_csrf", csrf.as_str()),
        ("email", &email),
        ("password", "wrong"),
    ];
    let answer = client.post(format!("{base}/signin")).form(&fields);
    answer.send().await.unwrap().status()
}

#[tokio::test]
async fn sign_ins_leave_no_password_hashing_memory_behind() {
    let setup = Setup::new().await;
    let (mut server, port) = serve_org(&setup);
    let base = format!("http://127.0.0.1:{}", port);
    // At once, so that each hashes (argon2id, 19 MiB) on a thread of its own, which then
    // idles: those threads used to keep the memory, 20 MiB after ten sign-ins.
    let mut attempts = tokio::task::JoinSet::new();
    for n in 0..4 {
        attempts.spawn(unknown_sign_in(base.clone(), n));
    }
    while let Some(status) = attempts.join_next().await {
        assert_eq!(status.unwrap(), 401, "an unknown address is refused");
    }
    let kib = anonymous_kib(server.pid());
    assert!(kib < 8 * 1024, "{kib} KiB of heap after four sign-ins");
    assert_eq!(server.terminate().code(), Some(0));
}

/// Opens a WebSocket to `/ws` and has the server answer one message on it, so the server
/// has read from it.
async fn answered_websocket(
    url: &str,
) -> tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>> {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    let (mut socket, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("the WebSocket opens");
    let unknown = Message::Text(r#"{"type": "subscribe"}"#.into());
    socket.send(unknown).await.expect("sends");
    let answer = socket.next().await.expect("an answer").expect("a message");
    let text = answer.into_text().expect("a text message");
    assert!(text.contains("unknown_type"), "{text}");
    socket
}

#[tokio::test]
async fn open_websockets_hold_little_memory() {
    const SOCKETS: u64 = 32;
    let setup = Setup::new().await;
    let (mut server, port) = serve_org(&setup);
    let url = format!("ws://127.0.0.1:{}/ws", port);
    // The first one pays for what any connection sets up once.
    let mut open = vec![answered_websocket(&url).await];
    let before = anonymous_kib(server.pid());
    for _ in 0..SOCKETS {
        open.push(answered_websocket(&url).await);
    }
    let each = anonymous_kib(server.pid()).saturating_sub(before) / SOCKETS;
    // Signalling messages are a few KiB; the WebSocket library's default read buffer
    // (128 KiB, zero-filled on every read) made each connection cost more than that.
    assert!(each < 48, "{each} KiB of heap per open WebSocket");
    drop(open);
    assert_eq!(server.terminate().code(), Some(0));
}

fn write_self_signed(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let certified =
        rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()])
            .expect("generate a certificate");
    let cert = dir.join("cert.pem");
    let key = dir.join("key.pem");
    std::fs::write(&cert, certified.cert.pem()).unwrap();
    std::fs::write(&key, certified.signing_key.serialize_pem()).unwrap();
    (cert, key)
}

#[tokio::test]
async fn with_a_certificate_it_serves_https_with_hsts_and_host_only_secure_cookies() {
    let setup = Setup::new().await;
    let (cert, key) = write_self_signed(setup.dir.path());
    let mut server = Server::start(setup.cmd(&[
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--tls-cert",
        cert.to_str().unwrap(),
        "--tls-key",
        key.to_str().unwrap(),
    ]));
    let link = link_in(&server.wait_stdout("/setup/"));
    assert_eq!(link.scheme(), "https", "the link uses the scheme served");
    assert_ne!(link.port(), Some(0));

    let client = reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .build()
        .unwrap();
    let page = client.get(link).send().await.expect("HTTPS answers");
    assert_eq!(page.status(), 200);
    let hsts = page
        .headers()
        .get("strict-transport-security")
        .expect("HSTS is sent over HTTPS")
        .to_str()
        .unwrap()
        .to_string();
    assert!(hsts.contains("max-age="), "{hsts}");
    let cookies: Vec<String> = page
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect();
    assert!(!cookies.is_empty(), "the form's page sets its CSRF cookie");
    for cookie in &cookies {
        assert!(cookie.starts_with("__Host-"), "{cookie}");
        assert!(cookie.contains("; Secure"), "{cookie}");
        assert!(cookie.contains("Path=/"), "{cookie}");
        assert!(!cookie.to_ascii_lowercase().contains("domain="), "{cookie}");
    }
    drop(client);

    let status = server.terminate();
    assert_eq!(status.code(), Some(0));
}

#[tokio::test]
async fn plain_http_sets_no_hsts_and_no_secure_cookies() {
    // The counterpart of the HTTPS test: without TLS (and no https public URL) a browser
    // would refuse `Secure` and `__Host-` cookies, so neither is used.
    let setup = Setup::new().await;
    let mut server = Server::start(setup.cmd(&["serve", "--listen", "127.0.0.1:0"]));
    let link = link_in(&server.wait_stdout("/setup/"));
    let page = reqwest::get(link).await.unwrap();
    assert!(page.headers().get("strict-transport-security").is_none());
    for cookie in page.headers().get_all("set-cookie") {
        let cookie = cookie.to_str().unwrap();
        assert!(
            !cookie.starts_with("__Host-") && !cookie.contains("Secure"),
            "{cookie}"
        );
    }
    assert_eq!(server.terminate().code(), Some(0));
}
