//! The Python tools the invitation tests check Haven against: the official GOV.UK Notify
//! client (`notifications-python-client`) and aiosmtpd. `scripts/test` installs both into
//! a virtual environment (`ensure_python_test_deps` in scripts/lib/deps.sh) and names its
//! interpreter in `HAVEN_TEST_PYTHON`; without it the tests fall back to
//! `target/pyenv/bin/python`, and fail (never skip) when neither is there.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use serde_json::Value;

/// The interpreter with the test packages installed.
pub fn interpreter() -> PathBuf {
    let path = match std::env::var_os("HAVEN_TEST_PYTHON") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/pyenv/bin/python"),
    };
    assert!(
        path.exists(),
        "no Python with aiosmtpd and notifications-python-client at {}: run scripts/test \
         (it installs them), or set HAVEN_TEST_PYTHON",
        path.display()
    );
    path
}

/// Runs `script` with `input` on standard input and parses its standard output as JSON.
pub fn run_json(script: &str, input: &Value) -> Value {
    let mut child = Command::new(interpreter())
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the test Python starts");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "python failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("the script prints JSON")
}

/// Checks each token with the official client's `decode_jwt_token(token, secret)`, which
/// verifies the HS256 signature and that `iss` and `iat` are present and `iat` within 30
/// seconds of now. Returns, per token, "ok" or the name of the exception it raised, and the
/// token's unverified header and claims as the client reads them.
pub fn decode_jwt_tokens(tokens: &[String], secret: &str) -> Vec<(String, Value, Value)> {
    const SCRIPT: &str = r#"
import json, sys
import jwt
from notifications_python_client.authentication import decode_jwt_token, decode_token
data = json.load(sys.stdin)
out = []
for token in data["tokens"]:
    try:
        decode_jwt_token(token, data["secret"])
        verdict = "ok"
    except Exception as e:
        verdict = type(e).__name__
    out.append([verdict, jwt.get_unverified_header(token), decode_token(token)])
print(json.dumps(out))
"#;
    let answer = run_json(
        SCRIPT,
        &serde_json::json!({"tokens": tokens, "secret": secret}),
    );
    answer
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            (
                row[0].as_str().unwrap().to_string(),
                row[1].clone(),
                row[2].clone(),
            )
        })
        .collect()
}
