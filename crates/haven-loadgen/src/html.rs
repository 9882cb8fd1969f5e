//! The little HTML reading the sign-in needs: hidden form fields, the invitation link, and
//! a page's text for error messages. Haven renders its pages with maud, so attributes come
//! in a fixed order and are always double-quoted.

/// The value of the `<input>` named `name`, unescaped.
pub fn input_value(body: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = body.find(&marker)? + marker.len();
    let len = body[start..].find('"')?;
    Some(unescape(&body[start..start + len]))
}

/// The seat token in the page's invitation link (`<a id="invite-link" href="…/r/TOKEN">`).
pub fn invite_token(body: &str) -> Option<String> {
    let marker = "id=\"invite-link\" href=\"";
    let start = body.find(marker)? + marker.len();
    let len = body[start..].find('"')?;
    let href = &body[start..start + len];
    let token = &href[href.rfind("/r/")? + 3..];
    let valid = !token.is_empty()
        && token
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    valid.then(|| token.to_owned())
}

/// The page's visible text, roughly, shortened for an error message.
pub fn text_of(body: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in body.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                out.push(' ');
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    let words: Vec<&str> = out.split_whitespace().collect();
    let text = unescape(&words.join(" "));
    match text.char_indices().nth(300) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_fields_and_the_invitation() {
        let body = r#"<form><input type="hidden" name="_csrf" value="a&amp;b"><input type="hidden" name="secret" value="JBSW"></form>
            <p><a id="invite-link" href="http://127.0.0.1:8080/r/Ab-c_9">http://127.0.0.1:8080/r/Ab-c_9</a></p>"#;
        assert_eq!(input_value(body, "_csrf").as_deref(), Some("a&b"));
        assert_eq!(input_value(body, "secret").as_deref(), Some("JBSW"));
        assert_eq!(input_value(body, "code"), None);
        assert_eq!(invite_token(body).as_deref(), Some("Ab-c_9"));
        assert_eq!(
            invite_token(r#"<a id="invite-link" href="/r/">x</a>"#),
            None
        );
        assert_eq!(
            text_of("<h1>Error</h1><p>Not &amp; found</p>"),
            "Error Not & found"
        );
    }
}
