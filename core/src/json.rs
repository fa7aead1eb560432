//! Tolerant JSON reading for vendor responses.
//!
//! Vendor docs (and, we must assume, some servers) produce JSON with trailing
//! commas and `//` comments. [`parse_lenient`] tries strict JSON first and only
//! then removes those two defects — outside string literals — and tries again.

use serde_json::Value;

/// Parse `body` as JSON, accepting trailing commas and `//` line comments.
pub fn parse_lenient(body: &[u8]) -> Result<Value, serde_json::Error> {
    match serde_json::from_slice(body) {
        Ok(v) => Ok(v),
        Err(strict) => {
            let text = String::from_utf8_lossy(body);
            serde_json::from_str(&clean(&clean(&text, Pass::Comments), Pass::TrailingCommas)).map_err(|_| strict)
        }
    }
}

#[derive(PartialEq)]
enum Pass {
    Comments,
    TrailingCommas,
}

/// An integer from a JSON number or a numeric string (`200`, `"200"`), as vendors mix both.
pub fn as_int(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A JSON value as plain text for messages and wire values: strings without quotes, `null`
/// as empty, anything else as JSON.
pub fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// The start of a response body (80 characters, its secrets hidden by
/// [`crate::secret::redact_body`]), for error messages.
pub fn snippet(body: &[u8]) -> String {
    crate::secret::redact_body(body, 80)
}

/// Remove `//` comments, or commas that directly precede `}` or `]`, outside strings.
fn clean(text: &str, pass: Pass) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let (mut i, mut in_str, mut escaped) = (0, false, false);
    while i < chars.len() {
        let c = chars[i];
        if in_str {
            out.push(c);
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_str = false,
                _ => {}
            }
            i += 1;
            continue;
        }
        match c {
            '"' => {
                in_str = true;
                out.push(c);
            }
            '/' if pass == Pass::Comments && chars.get(i + 1) == Some(&'/') => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
                continue;
            }
            ',' if pass == Pass::TrailingCommas => {
                let next = chars[i + 1..].iter().find(|c| !c.is_whitespace());
                if !matches!(next, Some('}') | Some(']')) {
                    out.push(c);
                }
            }
            _ => out.push(c),
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn strict_json_passes_through() {
        assert_eq!(parse_lenient(br#"{"a": "x,}"}"#).unwrap(), json!({"a": "x,}"}));
    }

    #[test]
    fn trailing_commas_and_comments_are_tolerated() {
        let body =
            "{\n \"ret\": 0,\n \"msg\": \"success\", // ok\n \"url\": \"http://h/a//b\",\n \"data\": [1, 2,],\n}";
        assert_eq!(
            parse_lenient(body.as_bytes()).unwrap(),
            json!({"ret": 0, "msg": "success", "url": "http://h/a//b", "data": [1, 2]})
        );
    }

    #[test]
    fn broken_json_is_still_an_error() {
        assert!(parse_lenient(b"{\"ret\": 0, \"data\": [}").is_err());
        assert!(parse_lenient(b"<html>").is_err());
    }
}
