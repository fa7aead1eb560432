//! An incremental server-sent-events parser (the WHATWG `text/event-stream` rules) for the
//! vmr `events` subscription.
//!
//! Bytes arrive in arbitrary chunks: lines may be split anywhere (even between `\r` and
//! `\n`, or inside a UTF-8 character), `data:` may span several lines, `:` lines are
//! comments/keep-alives, and lines end in LF, CRLF or CR. An event cut off by a dropped
//! connection is discarded (the spec's rule), so a reconnect never delivers half an event.
//!
//! One deviation: an event with an `event:` field but no `data:` line is dispatched with empty
//! data (the spec drops it), because vmr documents payload-less events (`presentation_stop`:
//! 消息体: 无) and a server may frame them that way.

use std::time::Duration;

/// One dispatched event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SseMessage {
    /// The `event:` field, or `message` when absent (the spec's default).
    pub event: String,
    /// The `data:` lines joined with `\n`.
    pub data: String,
    /// The last `id:` seen so far on this stream, if any.
    pub id: Option<String>,
}

/// The parser's state between chunks.
#[derive(Debug, Default)]
pub struct SseParser {
    line: Vec<u8>,
    after_cr: bool,
    started: bool,
    event: Option<String>,
    data: String,
    has_data: bool,
    last_id: Option<String>,
    retry: Option<Duration>,
}

impl SseParser {
    /// A parser at the start of a stream.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feed the next chunk; returns the events it completed, in order.
    pub fn feed(&mut self, chunk: &[u8]) -> Vec<SseMessage> {
        let mut out = Vec::new();
        for &b in chunk {
            if self.after_cr {
                self.after_cr = false;
                if b == b'\n' {
                    continue;
                }
            }
            match b {
                b'\n' => self.end_line(&mut out),
                b'\r' => {
                    self.after_cr = true;
                    self.end_line(&mut out);
                }
                _ => self.line.push(b),
            }
        }
        out
    }

    /// The stream ended (or dropped): forget the incomplete event and line. The last event id
    /// and retry delay are kept for the reconnect.
    pub fn reset(&mut self) {
        self.line.clear();
        self.after_cr = false;
        self.started = false;
        self.event = None;
        self.data.clear();
        self.has_data = false;
    }

    /// The last `id:` received (for `Last-Event-ID` on reconnect).
    pub fn last_id(&self) -> Option<&str> {
        self.last_id.as_deref()
    }

    /// The reconnection delay the server asked for with `retry:`.
    pub fn retry(&self) -> Option<Duration> {
        self.retry
    }

    fn end_line(&mut self, out: &mut Vec<SseMessage>) {
        let raw = std::mem::take(&mut self.line);
        let mut line = String::from_utf8_lossy(&raw).into_owned();
        if !self.started {
            self.started = true;
            if let Some(rest) = line.strip_prefix('\u{feff}') {
                line = rest.to_string();
            }
        }
        if line.is_empty() {
            self.dispatch(out);
            return;
        }
        if line.starts_with(':') {
            return; // comment / keep-alive
        }
        let (field, value) = match line.split_once(':') {
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (line.as_str(), ""),
        };
        match field {
            "event" => self.event = Some(value.to_string()),
            "data" => {
                if self.has_data {
                    self.data.push('\n');
                }
                self.data.push_str(value);
                self.has_data = true;
            }
            "id" if !value.contains('\0') => self.last_id = Some(value.to_string()),
            "retry" => {
                if let Ok(ms) = value.parse::<u64>() {
                    self.retry = Some(Duration::from_millis(ms));
                }
            }
            _ => {}
        }
    }

    fn dispatch(&mut self, out: &mut Vec<SseMessage>) {
        let event = self.event.take();
        if !self.has_data && event.is_none() {
            return;
        }
        self.has_data = false;
        out.push(SseMessage {
            event: event.filter(|e| !e.is_empty()).unwrap_or_else(|| "message".into()),
            data: std::mem::take(&mut self.data),
            id: self.last_id.clone(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STREAM: &str = ": keep-alive\r\n\
        event: participant_create\r\n\
        data: {\"uuid\": \"u1\",\r\n\
        data:  \"display_name\": \"Ali\u{e7}e 张\"}\r\n\
        id: 7\r\n\
        \r\n\
        :ping\n\
        event:presentation_stop\n\
        \n\
        event: stage\rdata: [{\"stage_index\": 0}]\r\r\
        data\n\
        \n\
        event: message\n\
        retry: 1500\n\
        data: {\"payload\": \"a:b\"}\n\n";

    fn expected() -> Vec<SseMessage> {
        let m = |event: &str, data: &str, id: Option<&str>| SseMessage {
            event: event.into(),
            data: data.into(),
            id: id.map(str::to_string),
        };
        vec![
            m("participant_create", "{\"uuid\": \"u1\",\n \"display_name\": \"Ali\u{e7}e 张\"}", Some("7")),
            m("presentation_stop", "", Some("7")),
            m("stage", "[{\"stage_index\": 0}]", Some("7")),
            m("message", "", Some("7")),
            m("message", "{\"payload\": \"a:b\"}", Some("7")),
        ]
    }

    #[test]
    fn whole_stream_in_one_chunk() {
        let mut p = SseParser::new();
        assert_eq!(p.feed(STREAM.as_bytes()), expected());
        assert_eq!(p.retry(), Some(Duration::from_millis(1500)));
        assert_eq!(p.last_id(), Some("7"));
    }

    /// Split into two chunks at every byte boundary (inside CRLF pairs and UTF-8 characters
    /// included), and byte by byte: the same events every time.
    #[test]
    fn split_at_every_byte_boundary() {
        let bytes = STREAM.as_bytes();
        for cut in 0..=bytes.len() {
            let mut p = SseParser::new();
            let mut got = p.feed(&bytes[..cut]);
            got.extend(p.feed(&bytes[cut..]));
            assert_eq!(got, expected(), "cut at {cut}");
        }
        let mut p = SseParser::new();
        let got: Vec<SseMessage> = bytes.iter().flat_map(|b| p.feed(std::slice::from_ref(b))).collect();
        assert_eq!(got, expected());
    }

    /// A stream dropped in the middle of an event delivers nothing of it; after `reset` the
    /// reconnected stream parses from scratch and the event id survives.
    #[test]
    fn dropped_stream_discards_the_partial_event() {
        let bytes = STREAM.as_bytes();
        let end_of_first = STREAM.find("\r\n\r\n").unwrap() + 4;
        for cut in 1..=end_of_first - 2 {
            let mut p = SseParser::new();
            assert!(p.feed(&bytes[..cut]).is_empty(), "cut at {cut}");
            p.reset();
            let got = p.feed(b"event: participant_delete\ndata: {\"uuid\": \"u1\"}\n\n");
            assert_eq!(got.len(), 1, "cut at {cut}");
            assert_eq!(got[0].event, "participant_delete");
            assert_eq!(got[0].data, "{\"uuid\": \"u1\"}");
        }
        // Cut right after the id line but before the blank line: the id is remembered.
        let cut = STREAM.find("id: 7\r\n").unwrap() + 7;
        let mut p = SseParser::new();
        assert!(p.feed(&bytes[..cut]).is_empty());
        p.reset();
        assert_eq!(p.last_id(), Some("7"));
    }

    #[test]
    fn bom_and_comment_only_streams() {
        let mut p = SseParser::new();
        assert!(p.feed(b":\n:\n\n\n").is_empty());
        let mut p = SseParser::new();
        let got = p.feed("\u{feff}data: x\n\n".as_bytes());
        assert_eq!(got[0], SseMessage { event: "message".into(), data: "x".into(), id: None });
    }
}
