//! The 14 event types of the vmr `events` subscription (doc 003, 云平台发送的事件), typed.
//!
//! [`VmrEvent::from_event`] turns a generic [`Event`] (what [`crate::Client::events`] yields)
//! into a [`VmrEvent`]: the typed payload plus the raw JSON as received. Names are matched
//! case-insensitively (the doc writes `Message`, `Stage`, `Disconnect`, `Service_update`).
//! Fields are optional because the doc's tables and examples disagree on which are sent;
//! a payload whose fields have other types than documented is kept as [`VmrEventKind::Unparsed`].

use serde::Deserialize;
use serde_json::Value;

use crate::events::Event;

/// A participant object (`participant_create`, `participant_update`, and the elements of
/// `conference.participants`). YES/NO fields stay strings, as sent.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct Participant {
    /// The participant's uuid.
    pub uuid: Option<String>,
    /// Display name.
    pub display_name: Option<String>,
    /// `chair` or `guest`.
    pub role: Option<String>,
    /// `connecting`, `waiting_room`, `ivr`, `conference` or `gateway`.
    pub service_type: Option<String>,
    /// `in` (dialled in) or `out` (dialled out).
    pub call_direction: Option<String>,
    /// Protocol (`sip`, `h323`, `api`, ...).
    pub protocol: Option<String>,
    /// Address.
    pub uri: Option<String>,
    /// `YES` when muted.
    pub is_muted: Option<String>,
    /// `YES` while presenting.
    pub is_presenting: Option<String>,
    /// `YES` for audio-only calls.
    pub is_audio_only_call: Option<String>,
    /// `YES` when the participant has video.
    pub is_video_call: Option<String>,
    /// `ALLOW` or `DENY`.
    pub rx_presentation_policy: Option<String>,
    /// 0, or the UNIX time it was spotlighted.
    pub spotlight: Option<i64>,
    /// Join time (UNIX seconds).
    pub start_time: Option<i64>,
    /// Whether it has audio/video media.
    pub has_media: Option<bool>,
    /// External (e.g. Lync) participant.
    pub is_external: Option<bool>,
    /// Streaming (recording/broadcast) participant.
    pub is_streaming_conference: Option<bool>,
    /// Media encryption (`On`/`Off`).
    pub encryption: Option<String>,
    /// Endpoint vendor / user agent.
    pub vendor: Option<String>,
    /// `/participants/<uuid>`.
    pub api_url: Option<String>,
    /// Local alias.
    pub local_alias: Option<String>,
    /// Overlay text.
    pub overlay_text: Option<String>,
    /// `YES`/`NO`.
    pub presentation_supported: Option<String>,
}

/// `presentation_start`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct PresentationStart {
    /// The presenter's name.
    pub presenter_name: Option<String>,
    /// The presenter's address.
    pub presenter_uri: Option<String>,
}

/// `participant_delete`: the uuid of the participant that left.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct ParticipantDeleted {
    /// The participant's uuid.
    pub uuid: Option<String>,
}

/// `service_update`: conference properties.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct ServiceUpdate {
    /// Conference locked.
    pub locked: Option<bool>,
    /// Guests muted.
    pub guests_muted: Option<bool>,
}

/// `layout`: the current view and who is on screen.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct Layout {
    /// `1:0`, `1:7`, `1:21`, ...
    pub view: Option<String>,
    /// Participant uuids on screen.
    pub participants: Vec<String>,
}

/// `message`: a chat message.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct ChatMessage {
    /// Sender's name.
    pub origin: Option<String>,
    /// Sender's uuid.
    pub uuid: Option<String>,
    /// MIME type, e.g. `text/plain`.
    #[serde(rename = "type")]
    pub mime_type: Option<String>,
    /// The text.
    pub payload: Option<String>,
}

/// One element of `stage` (speakers in speaking order).
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct StageEntry {
    /// Position, 0 first.
    pub stage_index: Option<i64>,
    /// The speaker.
    pub participant_uuid: Option<String>,
    /// Voice activity: 0 or 100.
    pub vad: Option<i64>,
}

/// `call_disconnected`: a sub-call ended.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct CallDisconnected {
    /// The sub-call (from `participant.calls`).
    pub call_uuid: Option<String>,
    /// Why.
    pub reason: Option<String>,
}

/// `disconnect`: this session's participant was removed.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct Disconnected {
    /// Why.
    pub reason: Option<String>,
}

/// The typed payload of one event.
#[derive(Clone, Debug, PartialEq)]
pub enum VmrEventKind {
    /// A presentation (second stream) started.
    PresentationStart(PresentationStart),
    /// The presentation ended.
    PresentationStop,
    /// A new presentation frame is available (`presentation.jpeg`).
    PresentationFrame,
    /// A participant joined.
    ParticipantCreate(Participant),
    /// A participant's attributes changed.
    ParticipantUpdate(Participant),
    /// A participant left.
    ParticipantDelete(ParticipantDeleted),
    /// A participant-list synchronisation begins.
    ParticipantSyncBegin,
    /// The participant-list synchronisation ended.
    ParticipantSyncEnd,
    /// Conference properties changed.
    ServiceUpdate(ServiceUpdate),
    /// The layout changed.
    Layout(Layout),
    /// A chat message.
    Message(ChatMessage),
    /// Speakers in speaking order.
    Stage(Vec<StageEntry>),
    /// A sub-call ended.
    CallDisconnected(CallDisconnected),
    /// This session's participant was removed from the conference.
    Disconnect(Disconnected),
    /// A documented event whose payload did not have the documented shape.
    Unparsed,
    /// An event type the doc does not list.
    Other,
}

/// One vmr event: its name (lower-case), typed payload, and the raw JSON as received.
#[derive(Clone, Debug, PartialEq)]
pub struct VmrEvent {
    /// The event name, lower-cased (`participant_create`).
    pub name: String,
    /// The typed payload.
    pub kind: VmrEventKind,
    /// The payload as received (`null` when the event has none).
    pub raw: Value,
}

/// The documented event names, lower-case.
pub const EVENT_NAMES: [&str; 14] = [
    "presentation_start",
    "presentation_stop",
    "presentation_frame",
    "participant_create",
    "participant_update",
    "participant_delete",
    "participant_sync_begin",
    "participant_sync_end",
    "service_update",
    "layout",
    "message",
    "stage",
    "call_disconnected",
    "disconnect",
];

impl VmrEvent {
    /// Type an event by name and payload.
    pub fn parse(name: &str, raw: Value) -> VmrEvent {
        let name = name.trim().to_ascii_lowercase();
        fn typed<T: serde::de::DeserializeOwned>(raw: &Value, f: fn(T) -> VmrEventKind) -> VmrEventKind {
            let value = if raw.is_null() { Value::Object(Default::default()) } else { raw.clone() };
            serde_json::from_value(value).map(f).unwrap_or(VmrEventKind::Unparsed)
        }
        let kind = match name.as_str() {
            "presentation_start" => typed(&raw, VmrEventKind::PresentationStart),
            "presentation_stop" => VmrEventKind::PresentationStop,
            "presentation_frame" => VmrEventKind::PresentationFrame,
            "participant_create" => typed(&raw, VmrEventKind::ParticipantCreate),
            "participant_update" => typed(&raw, VmrEventKind::ParticipantUpdate),
            "participant_delete" => typed(&raw, VmrEventKind::ParticipantDelete),
            "participant_sync_begin" => VmrEventKind::ParticipantSyncBegin,
            "participant_sync_end" => VmrEventKind::ParticipantSyncEnd,
            "service_update" => typed(&raw, VmrEventKind::ServiceUpdate),
            "layout" => typed(&raw, VmrEventKind::Layout),
            "message" => typed(&raw, VmrEventKind::Message),
            "stage" => match &raw {
                Value::Array(_) => typed(&raw, VmrEventKind::Stage),
                _ => VmrEventKind::Unparsed,
            },
            "call_disconnected" => typed(&raw, VmrEventKind::CallDisconnected),
            "disconnect" => typed(&raw, VmrEventKind::Disconnect),
            _ => VmrEventKind::Other,
        };
        VmrEvent { name, kind, raw }
    }

    /// Type a generic event from [`crate::Client::events`].
    pub fn from_event(event: &Event) -> VmrEvent {
        Self::parse(&event.kind, event.data.clone())
    }
}

/// An SSE `data` field as JSON: empty → `null`, JSON (leniently) → that value, else the text.
pub fn payload(data: &str) -> Value {
    if data.trim().is_empty() {
        return Value::Null;
    }
    crate::json::parse_lenient(data.as_bytes()).unwrap_or_else(|_| Value::String(data.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Every documented event's doc example (the two broken ones repaired by hand) types.
    #[test]
    fn every_documented_event_types() {
        let examples: Vec<Value> = serde_json::from_str(include_str!("testdata/event_examples.json")).unwrap();
        assert_eq!(examples.len(), 14);
        for ex in &examples {
            let name = ex["event"].as_str().unwrap();
            assert!(EVENT_NAMES.contains(&name), "{name}");
            let raw = match name {
                // Doc example has no commas and curly quotes; its fields, repaired:
                "participant_create" | "participant_update" => json!({
                    "api_url": "/participants/50b956c8-9a63-4711-8630-3810f8666b04", "call_direction": "in",
                    "display_name": "Alice", "encryption": "On", "has_media": false, "is_audio_only_call": "NO",
                    "is_external": false, "is_muted": "NO", "is_presenting": "NO", "is_streaming_conference": false,
                    "is_video_call": "YES", "local_alias": "meet.alice", "overlay_text": "Alice",
                    "presentation_supported": "NO", "protocol": "api", "role": "chair",
                    "rx_presentation_policy": "ALLOW", "service_type": "conference", "spotlight": 0,
                    "start_time": 1441720992, "uri": "CloudConnect_10.44.99.2", "uuid": "50b956c8",
                    "vendor": "Mozilla/5.0"
                }),
                // Doc example lacks `{` and uses full-width colons.
                "call_disconnected" => {
                    json!({"call_uuid": "50ed679d", "reason": "API initiated participant disconnect"})
                }
                _ => ex["example"].clone(),
            };
            let ev = VmrEvent::parse(name, raw.clone());
            assert_eq!(ev.raw, raw);
            assert!(!matches!(ev.kind, VmrEventKind::Unparsed | VmrEventKind::Other), "{name}: {:?}", ev.kind);
            match (&ev.kind, name) {
                (VmrEventKind::ParticipantCreate(p), _) => {
                    assert_eq!(
                        (p.uuid.as_deref(), p.role.as_deref(), p.spotlight),
                        (Some("50b956c8"), Some("chair"), Some(0))
                    )
                }
                (VmrEventKind::Stage(s), _) => assert_eq!(s[1].stage_index, Some(1)),
                (VmrEventKind::Message(m), _) => assert_eq!(m.mime_type.as_deref(), Some("text/plain")),
                (VmrEventKind::Layout(l), _) => assert_eq!(l.participants.len(), 2),
                (VmrEventKind::ServiceUpdate(s), _) => assert_eq!(s.locked, Some(false)),
                _ => {}
            }
        }
    }

    #[test]
    fn names_are_case_insensitive_and_bad_payloads_are_kept() {
        assert!(matches!(VmrEvent::parse("Stage", json!([])).kind, VmrEventKind::Stage(_)));
        assert_eq!(VmrEvent::parse("Service_update", json!({})).name, "service_update");
        let bad = VmrEvent::parse("participant_create", json!({"spotlight": "soon"}));
        assert_eq!((bad.kind, bad.raw), (VmrEventKind::Unparsed, json!({"spotlight": "soon"})));
        assert_eq!(VmrEvent::parse("whiteboard", Value::Null).kind, VmrEventKind::Other);
        assert_eq!(payload(""), Value::Null);
        assert_eq!(payload("{\"a\": 1,}"), json!({"a": 1}));
        assert_eq!(payload("hello"), json!("hello"));
    }
}
