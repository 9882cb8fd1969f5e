//! Personal data in logs: only through [`Pii`], which prints `{redacted}` however it is
//! formatted. Log ids (opaque) instead of names, email addresses or tokens.

use std::fmt;

/// Wraps a value that is personal data; every formatting of it prints `{redacted}`.
pub struct Pii<T>(pub T);

impl<T> fmt::Debug for Pii<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("{redacted}")
    }
}

impl<T> fmt::Display for Pii<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("{redacted}")
    }
}

#[cfg(test)]
mod tests {
    use super::Pii;

    #[test]
    fn pii_never_prints_its_value() {
        let p = Pii("jane@example.org");
        assert_eq!(
            format!("{p} {p:?} {p:#?}"),
            "{redacted} {redacted} {redacted}"
        );
    }
}
