//! The staff accounts file: one account per room, because a staff member hosts at most one
//! test room at a time.
//!
//! One account per line, fields separated by a tab: `email`, `password`, and, once the
//! account has two-step sign-in, the authenticator secret (base32). Blank lines and lines
//! starting with `#` are kept as they are.
//!
//! Accounts fresh from `haven admin user add` must enrol an authenticator and choose a new
//! password at their first sign-in. The load generator does both as a person would, and
//! writes the new password and the secret back to the file at once (atomically, readable by
//! its owner only), so that later runs can sign in with them.

use std::fs;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::{Context, bail};

/// One staff account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub email: String,
    pub password: String,
    /// The authenticator secret, once enrolled.
    pub totp_secret: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Line {
    /// A comment or blank line, kept verbatim.
    Other(String),
    Account(Account),
}

/// The accounts file, shared by the sign-in tasks.
#[derive(Debug)]
pub struct StaffFile {
    path: PathBuf,
    /// The file's lines. A `std::sync::Mutex`: held only to edit and rewrite the file,
    /// never across an await.
    lines: Mutex<Vec<Line>>,
}

impl StaffFile {
    pub fn load(path: &Path) -> anyhow::Result<StaffFile> {
        let text = fs::read_to_string(path)
            .with_context(|| format!("--staff: cannot read {}", path.display()))?;
        let lines = parse(&text).with_context(|| format!("--staff: in {}", path.display()))?;
        Ok(StaffFile {
            path: path.to_owned(),
            lines: Mutex::new(lines),
        })
    }

    /// The first `n` accounts, in file order.
    pub fn accounts(&self, n: usize) -> anyhow::Result<Vec<Account>> {
        let lines = self.lines.lock().unwrap_or_else(|p| p.into_inner());
        let all: Vec<Account> = lines
            .iter()
            .filter_map(|l| match l {
                Line::Account(a) => Some(a.clone()),
                Line::Other(_) => None,
            })
            .collect();
        if all.len() < n {
            bail!(
                "--staff: {} holds {} accounts but {n} rooms need one each",
                self.path.display(),
                all.len()
            );
        }
        Ok(all.into_iter().take(n).collect())
    }

    /// Replaces the stored account with this email and rewrites the file.
    pub fn update(&self, account: &Account) -> anyhow::Result<()> {
        let mut lines = self.lines.lock().unwrap_or_else(|p| p.into_inner());
        for line in lines.iter_mut() {
            if let Line::Account(a) = line
                && a.email == account.email
            {
                *a = account.clone();
            }
        }
        write_atomically(&self.path, &render(&lines)).with_context(|| {
            format!(
                "could not save the new credentials of an account to {}; it now has a new \
                 password and authenticator secret that are lost",
                self.path.display()
            )
        })
    }
}

fn parse(text: &str) -> anyhow::Result<Vec<Line>> {
    let mut lines = Vec::new();
    for (n, raw) in text.lines().enumerate() {
        if raw.trim().is_empty() || raw.trim_start().starts_with('#') {
            lines.push(Line::Other(raw.to_owned()));
            continue;
        }
        let fields: Vec<&str> = raw.split('\t').collect();
        let (email, password, secret) = match fields.as_slice() {
            [e, p] => (*e, *p, None),
            [e, p, s] => (*e, *p, Some(*s)),
            _ => bail!(
                "line {}: expected `email<TAB>password[<TAB>authenticator secret]`",
                n + 1
            ),
        };
        if email.is_empty() || password.is_empty() {
            bail!(
                "line {}: the email and the password must not be empty",
                n + 1
            );
        }
        lines.push(Line::Account(Account {
            email: email.trim().to_owned(),
            password: password.to_owned(),
            totp_secret: secret
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned),
        }));
    }
    Ok(lines)
}

fn render(lines: &[Line]) -> String {
    let mut out = String::new();
    for line in lines {
        match line {
            Line::Other(text) => out.push_str(text),
            Line::Account(a) => {
                out.push_str(&a.email);
                out.push('\t');
                out.push_str(&a.password);
                if let Some(secret) = &a.totp_secret {
                    out.push('\t');
                    out.push_str(secret);
                }
            }
        }
        out.push('\n');
    }
    out
}

/// Writes `text` to a temporary file beside `path` (mode 0600: it holds passwords) and
/// renames it over `path`, so a crash leaves the old file or the new one, never half.
fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()?;
    fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_renders_without_losing_lines() {
        let text = "# rooms\nload1@example.org\tpass word one\n\nload2@example.org\tp2\tABCDEF\n";
        let lines = parse(text).expect("valid");
        assert_eq!(render(&lines), text);
        let Line::Account(a) = &lines[1] else {
            panic!("an account")
        };
        assert_eq!(a.password, "pass word one", "spaces belong to the password");
        assert!(parse("only-an-email\n").is_err());
        assert!(parse("a@b\t\n").is_err());
    }
}
