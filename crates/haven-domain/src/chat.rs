//! The rules of in-call chat: what a message may contain, whether it carries a web address
//! (which callers show as plain text with a phishing warning, never as a link), how often
//! one person may send, and which files may be shared.
//!
//! Time is a parameter: the caller's clock decides "now".

use std::collections::VecDeque;
use std::fmt;

use time::{Duration, OffsetDateTime};

/// The longest message, in characters (Unicode scalar values, not bytes).
pub const MAX_CHARS: usize = 1000;
/// How many messages one person may send within [`RATE_WINDOW`].
pub const RATE_MESSAGES: usize = 5;
/// The window of the per-sender rate limit.
pub const RATE_WINDOW: Duration = Duration::seconds(10);

/// A chat message's text, cleaned and checked: not blank, at most [`MAX_CHARS`]
/// characters, without control or direction-override characters.
#[derive(Clone, PartialEq, Eq)]
pub struct ChatText(String);

/// Why a message was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChatTextError {
    /// Nothing but spaces (or characters that were removed).
    Empty,
    /// Longer than [`MAX_CHARS`] characters; carries the length found.
    TooLong(usize),
}

impl fmt::Display for ChatTextError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChatTextError::Empty => f.write_str("the message is empty; type something to send"),
            ChatTextError::TooLong(n) => write!(
                f,
                "the message is {n} characters long; the longest is {MAX_CHARS} characters. \
                 Shorten it or send it in parts"
            ),
        }
    }
}

impl ChatText {
    /// Cleans `raw` and checks it. Control characters are removed (line breaks become
    /// `\n`; tabs become spaces), and so are the characters that reorder text
    /// (bidirectional overrides and isolates), which could make an address read as
    /// another. Leading and trailing blank space is trimmed.
    pub fn parse(raw: &str) -> Result<ChatText, ChatTextError> {
        let mut clean = String::with_capacity(raw.len().min(4 * MAX_CHARS));
        let mut count = 0usize;
        for c in raw.replace("\r\n", "\n").chars() {
            let kept = match c {
                '\n' => Some('\n'),
                '\t' => Some(' '),
                c if c.is_control() || reorders(c) => None,
                c => Some(c),
            };
            if let Some(c) = kept {
                count += 1;
                clean.push(c);
            }
        }
        let trimmed = clean.trim();
        if trimmed.is_empty() {
            return Err(ChatTextError::Empty);
        }
        let length = if trimmed.len() == clean.len() {
            count
        } else {
            trimmed.chars().count()
        };
        if length > MAX_CHARS {
            return Err(ChatTextError::TooLong(length));
        }
        Ok(ChatText(trimmed.to_owned()))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether the text contains something a person could take for a web address.
    pub fn has_link(&self) -> bool {
        has_link(&self.0)
    }
}

impl fmt::Debug for ChatText {
    /// What people type in a consultation is personal: never printed.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ChatText({redacted})")
    }
}

/// Bidirectional embedding, override and isolate controls, and the marks that flip
/// direction: they change how text reads without being seen.
fn reorders(c: char) -> bool {
    matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Whether `text` contains a web address: a scheme (`http://`, `https://` or any `x://`),
/// `www.`, or a bare domain such as `example.com` or `example.co.uk/login` (labels of
/// letters, digits and hyphens joined by dots, the last of two or more letters).
/// Erring towards a warning is harmless; a missed address is not.
pub fn has_link(text: &str) -> bool {
    let lower = text.to_lowercase();
    if lower.contains("://") || lower.contains("www.") {
        return true;
    }
    lower
        .split(|c: char| c.is_whitespace() || "<>\"'()[]{},;!?".contains(c))
        .any(looks_like_domain)
}

/// One word: does it start with a host name that has a top-level domain?
fn looks_like_domain(word: &str) -> bool {
    let host = word
        .split(['/', ':', '@', '#', '?'])
        .find(|part| part.contains('.'))
        .unwrap_or("")
        .trim_end_matches('.');
    let labels: Vec<&str> = host.split('.').collect();
    if labels.len() < 2 {
        return false;
    }
    let label_ok = |l: &&str| {
        !l.is_empty()
            && l.chars()
                .all(|c| c.is_alphanumeric() || c == '-' || !c.is_ascii())
    };
    let tld = labels[labels.len() - 1];
    labels.iter().all(label_ok)
        && tld.chars().count() >= 2
        && tld
            .chars()
            .all(|c| c.is_alphabetic() || tld.starts_with("xn--"))
}

/// One sender's recent messages, for the rate limit: at most [`RATE_MESSAGES`] in any
/// [`RATE_WINDOW`].
#[derive(Debug, Clone, Default)]
pub struct SendRate {
    /// When the most recent messages were accepted, oldest first.
    sent: VecDeque<OffsetDateTime>,
}

impl SendRate {
    /// Counts a message sent at `now`, or returns how long until one may be sent.
    pub fn try_send(&mut self, now: OffsetDateTime) -> Result<(), Duration> {
        while self.sent.front().is_some_and(|t| *t + RATE_WINDOW <= now) {
            self.sent.pop_front();
        }
        if self.sent.len() >= RATE_MESSAGES {
            let oldest = self.sent.front().copied().unwrap_or(now);
            return Err(oldest + RATE_WINDOW - now);
        }
        self.sent.push_back(now);
        Ok(())
    }
}

/// The largest file that may be shared, in bytes (5 MiB).
pub const MAX_FILE_BYTES: usize = 5 * 1024 * 1024;

/// The kinds of file that may be shared, recognised by their first bytes (a name alone
/// proves nothing).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// A PDF document.
    Pdf,
    /// A PNG image.
    Png,
    /// A JPEG photo.
    Jpeg,
}

impl FileKind {
    /// The kind `bytes` are, if one of the allowed ones.
    pub fn sniff(bytes: &[u8]) -> Option<FileKind> {
        if bytes.starts_with(b"%PDF-") {
            Some(FileKind::Pdf)
        } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(FileKind::Png)
        } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(FileKind::Jpeg)
        } else {
            None
        }
    }

    /// The media type it is served as.
    pub fn mime(self) -> &'static str {
        match self {
            FileKind::Pdf => "application/pdf",
            FileKind::Png => "image/png",
            FileKind::Jpeg => "image/jpeg",
        }
    }

    /// The file name extension it is saved with.
    pub fn extension(self) -> &'static str {
        match self {
            FileKind::Pdf => "pdf",
            FileKind::Png => "png",
            FileKind::Jpeg => "jpg",
        }
    }
}

/// A shared file's name, made safe to show and to offer in a download: the last path
/// component, control characters and quotes removed, at most 100 characters, and always
/// ending in the extension of what the bytes are.
pub fn file_name(raw: &str, kind: FileKind) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = base
        .chars()
        .filter(|c| !c.is_control() && !reorders(*c) && !"\"';".contains(*c))
        .take(100)
        .collect();
    let stem = cleaned
        .rsplit_once('.')
        .map_or(cleaned.as_str(), |(stem, _)| stem)
        .trim();
    let stem = if stem.is_empty() { "shared-file" } else { stem };
    format!("{stem}.{}", kind.extension())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn blank_messages_are_refused_and_spaces_trimmed() {
        for blank in ["", "   ", "\n\t ", "\u{0007}\u{202E}"] {
            assert_eq!(
                ChatText::parse(blank),
                Err(ChatTextError::Empty),
                "{blank:?}"
            );
        }
        assert_eq!(ChatText::parse("  hello \n").unwrap().as_str(), "hello");
    }

    #[test]
    fn length_is_counted_in_characters_not_bytes() {
        let at_limit = "é".repeat(MAX_CHARS);
        assert!(at_limit.len() > MAX_CHARS);
        assert!(ChatText::parse(&at_limit).is_ok());
        let over = "😀".repeat(MAX_CHARS + 1);
        assert_eq!(
            ChatText::parse(&over),
            Err(ChatTextError::TooLong(MAX_CHARS + 1))
        );
        assert!(
            ChatTextError::TooLong(1001)
                .to_string()
                .contains("1001 characters long; the longest is 1000")
        );
    }

    #[test]
    fn control_and_reordering_characters_are_removed() {
        let text = ChatText::parse("a\u{0000}b\u{001B}[31mc\r\nd\te\u{202E}moc.elpmaxe").unwrap();
        assert_eq!(text.as_str(), "ab[31mc\nd emoc.elpmaxe");
    }

    #[test]
    fn addresses_are_recognised_in_every_spelling() {
        for link in [
            "see https://example.com",
            "HTTP://EXAMPLE.COM",
            "go to www.nhs-login.help",
            "example.com",
            "visit example.co.uk/login now",
            "(pay.example.org)",
            "ftp://files",
            "user@mail.example.net",
            "paypal.xn--p1ai",
            "nhs.uk.",
        ] {
            assert!(has_link(link), "{link:?}");
        }
        for plain in [
            "take 2.5 tablets",
            "e.g. twice a day",
            "Hello. How are you?",
            "version 1.2.3",
            "",
        ] {
            assert!(!has_link(plain), "{plain:?}");
        }
    }

    #[test]
    fn five_messages_in_ten_seconds_then_a_wait() {
        let start = datetime!(2026-01-01 10:00 UTC);
        let mut rate = SendRate::default();
        for i in 0..5 {
            assert!(rate.try_send(start + Duration::seconds(i)).is_ok());
        }
        assert_eq!(
            rate.try_send(start + Duration::seconds(5)),
            Err(Duration::seconds(5))
        );
        assert!(rate.try_send(start + Duration::seconds(10)).is_ok());
        assert!(rate.try_send(start + Duration::seconds(10)).is_err());
    }

    #[test]
    fn files_are_known_by_their_bytes_and_named_for_them() {
        assert_eq!(FileKind::sniff(b"%PDF-1.7\n"), Some(FileKind::Pdf));
        assert_eq!(
            FileKind::sniff(b"\x89PNG\r\n\x1a\n\0\0"),
            Some(FileKind::Png)
        );
        assert_eq!(
            FileKind::sniff(&[0xFF, 0xD8, 0xFF, 0xE0]),
            Some(FileKind::Jpeg)
        );
        assert_eq!(FileKind::sniff(b"<html><script>"), None);
        assert_eq!(FileKind::sniff(b"MZ\x90\0"), None);
        assert_eq!(FileKind::sniff(b""), None);
        assert_eq!(
            file_name("C:\\Users\\me\\letter.exe", FileKind::Pdf),
            "letter.pdf"
        );
        assert_eq!(file_name("../\"a\";b.png", FileKind::Png), "ab.png");
        assert_eq!(file_name("", FileKind::Jpeg), "shared-file.jpg");
    }
}
