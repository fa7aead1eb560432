//! Resuming the vmr event stream after a dropped connection.
//!
//! The vmr doc gives its events no ids and says nothing of `Last-Event-ID`, so a reconnect
//! cannot ask the server for what it missed. What the doc does give is the roster sync the
//! server sends on (re)connect (`participant_sync_begin`, one `participant_create` per
//! participant, `participant_sync_end`: "用于同步参会者列表"). [`Roster`] keeps the participant
//! list as delivered so far and turns each later sync into the differences:
//!
//! * an entry equal to what was delivered is a replayed entry (`"replay": true`, only for
//!   subscribers that ask for the replay);
//! * an unknown participant becomes a `participant_create`, a changed one a
//!   `participant_update` (its whole replayed object), both with `"resync": true`;
//! * at `participant_sync_end` of a COMPLETE sync, every delivered participant the sync did not
//!   list becomes a `participant_delete {uuid, "resync": true}`. A sync cut off by a dropped
//!   connection deletes nothing.
//!
//! The first complete sync of a subscription is the baseline: its entries are the participants
//! already there, all replayed. Live events pass through unchanged and update the roster (a
//! `participant_update` is merged into the participant's object, so a server sending only the
//! changed fields compares correctly). Events that are not about the roster (layout, stage,
//! messages, presentation, service updates) cannot be recovered this way: those sent while
//! the connection was down are lost.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

/// One event to deliver: its type, payload, and whether it is a replayed roster entry.
#[derive(Clone, Debug, PartialEq)]
pub struct Emit {
    /// The event type (lower-case).
    pub kind: String,
    /// The payload, with `"replay": true` or `"resync": true` where this module says so.
    pub data: Value,
    /// A replayed roster entry (left out for subscribers that did not ask for the replay).
    pub replayed: bool,
}

impl Emit {
    fn live(kind: &str, data: Value) -> Emit {
        Emit { kind: kind.to_string(), data, replayed: false }
    }

    fn marked(kind: &str, mut data: Map<String, Value>, marker: &str) -> Emit {
        data.insert(marker.into(), Value::Bool(true));
        Emit { kind: kind.to_string(), data: Value::Object(data), replayed: marker == "replay" }
    }
}

/// The participants delivered so far and the state of the sync in progress.
#[derive(Debug, Default)]
pub struct Roster {
    /// Each delivered participant's object, by uuid.
    known: BTreeMap<String, Map<String, Value>>,
    /// A complete sync has been seen: later syncs are compared with `known`.
    baseline: bool,
    /// Between `participant_sync_begin` and `participant_sync_end` on this connection.
    in_sync: bool,
    /// The uuids the sync in progress listed.
    listed: BTreeSet<String>,
}

fn uuid_of(data: &Map<String, Value>) -> Option<String> {
    data.get("uuid").and_then(Value::as_str).map(str::to_string)
}

/// Every field of the replayed entry equals what was delivered (fields the server sent live
/// but leaves out of the replay do not count as changes).
fn unchanged(known: &Map<String, Value>, replayed: &Map<String, Value>) -> bool {
    replayed.iter().all(|(k, v)| known.get(k) == Some(v))
}

impl Roster {
    /// An empty roster before the first sync.
    pub fn new() -> Roster {
        Roster::default()
    }

    /// The connection dropped: a sync in progress is abandoned (it deletes nothing).
    pub fn connection_lost(&mut self) {
        self.in_sync = false;
        self.listed.clear();
    }

    /// The uuids of the participants delivered so far (present, not deleted).
    pub fn participants(&self) -> impl Iterator<Item = &str> {
        self.known.keys().map(String::as_str)
    }

    /// One received event (type lower-case, payload as JSON): what to deliver for it, in order.
    pub fn apply(&mut self, kind: &str, data: Value) -> Vec<Emit> {
        match kind {
            "participant_sync_begin" => {
                self.in_sync = true;
                self.listed.clear();
                vec![Emit::live(kind, data)]
            }
            "participant_sync_end" => {
                let mut out = Vec::new();
                if self.in_sync {
                    if self.baseline {
                        let gone: Vec<String> =
                            self.known.keys().filter(|u| !self.listed.contains(*u)).cloned().collect();
                        for uuid in gone {
                            self.known.remove(&uuid);
                            let mut data = Map::new();
                            data.insert("uuid".into(), Value::String(uuid));
                            out.push(Emit::marked("participant_delete", data, "resync"));
                        }
                    }
                    self.baseline = true;
                    self.in_sync = false;
                    self.listed.clear();
                }
                out.push(Emit::live(kind, data));
                out
            }
            "participant_create" => {
                let Value::Object(map) = data else {
                    return vec![Emit::live(kind, data)];
                };
                let Some(uuid) = uuid_of(&map) else {
                    return vec![if self.in_sync {
                        Emit::marked(kind, map, "replay")
                    } else {
                        Emit::live(kind, map.into())
                    }];
                };
                if !self.in_sync {
                    self.known.insert(uuid, map.clone());
                    return vec![Emit::live(kind, Value::Object(map))];
                }
                self.listed.insert(uuid.clone());
                let known = self.known.get(&uuid);
                let changed = !known.is_some_and(|k| unchanged(k, &map));
                let emit = if !self.baseline || !changed {
                    Emit::marked(kind, map.clone(), "replay")
                } else if known.is_some() {
                    Emit::marked("participant_update", map.clone(), "resync")
                } else {
                    Emit::marked(kind, map.clone(), "resync")
                };
                if changed {
                    self.known.entry(uuid).or_default().extend(map);
                }
                vec![emit]
            }
            "participant_update" => {
                if let Some((uuid, map)) = data.as_object().and_then(|m| uuid_of(m).map(|u| (u, m))) {
                    self.known.entry(uuid).or_default().extend(map.clone());
                }
                vec![Emit::live(kind, data)]
            }
            "participant_delete" => {
                if let Some(uuid) = data.as_object().and_then(uuid_of) {
                    self.known.remove(&uuid);
                    self.listed.remove(&uuid);
                }
                vec![Emit::live(kind, data)]
            }
            _ => vec![Emit::live(kind, data)],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn p(uuid: &str, muted: &str) -> Value {
        json!({"uuid": uuid, "display_name": uuid, "is_muted": muted, "service_type": "conference"})
    }

    /// Feed a sync listing `entries`; what is delivered (kind, uuid, marker).
    fn sync(r: &mut Roster, entries: &[Value]) -> Vec<(String, String, &'static str)> {
        let mut out = r.apply("participant_sync_begin", Value::Null);
        for e in entries {
            out.extend(r.apply("participant_create", e.clone()));
        }
        out.extend(r.apply("participant_sync_end", Value::Null));
        summary(out)
    }

    fn summary(out: Vec<Emit>) -> Vec<(String, String, &'static str)> {
        out.into_iter()
            .map(|e| {
                let marker = match (&e.data["replay"], &e.data["resync"], e.replayed) {
                    (Value::Bool(true), Value::Null, true) => "replay",
                    (Value::Null, Value::Bool(true), false) => "resync",
                    (Value::Null, Value::Null, false) => "live",
                    other => panic!("inconsistent markers {other:?} on {e:?}"),
                };
                (e.kind, e.data["uuid"].as_str().unwrap_or_default().to_string(), marker)
            })
            .collect()
    }

    fn row(kind: &str, uuid: &str, marker: &'static str) -> (String, String, &'static str) {
        (kind.to_string(), uuid.to_string(), marker)
    }

    #[test]
    fn the_first_sync_is_the_baseline_and_a_repeated_sync_only_replays() {
        let mut r = Roster::new();
        let entries = [p("a", "NO"), p("b", "NO")];
        let first = sync(&mut r, &entries);
        let replayed = vec![
            row("participant_sync_begin", "", "live"),
            row("participant_create", "a", "replay"),
            row("participant_create", "b", "replay"),
            row("participant_sync_end", "", "live"),
        ];
        assert_eq!(first, replayed);
        r.connection_lost();
        assert_eq!(sync(&mut r, &entries), replayed, "nothing changed: nothing but the replay");
    }

    #[test]
    fn a_later_sync_emits_the_differences_once() {
        let mut r = Roster::new();
        sync(&mut r, &[p("a", "NO"), p("b", "NO"), p("c", "NO")]);
        // Live: d joins, c leaves; then the connection drops and, unseen, a is muted, b leaves,
        // e joins.
        assert_eq!(summary(r.apply("participant_create", p("d", "NO"))), [row("participant_create", "d", "live")]);
        assert_eq!(
            summary(r.apply("participant_delete", json!({"uuid": "c"}))),
            [row("participant_delete", "c", "live")]
        );
        r.connection_lost();
        let got = sync(&mut r, &[p("a", "YES"), p("d", "NO"), p("e", "NO")]);
        assert_eq!(
            got,
            [
                row("participant_sync_begin", "", "live"),
                row("participant_update", "a", "resync"),
                row("participant_create", "d", "replay"),
                row("participant_create", "e", "resync"),
                row("participant_delete", "b", "resync"),
                row("participant_sync_end", "", "live"),
            ]
        );
        // The update carries the whole new object.
        let mut again = Roster::new();
        sync(&mut again, &[p("a", "NO")]);
        again.apply("participant_sync_begin", Value::Null);
        let update = again.apply("participant_create", p("a", "YES"));
        assert_eq!(
            update[0].data,
            json!({"uuid": "a", "display_name": "a", "is_muted": "YES", "service_type": "conference", "resync": true})
        );
        // The same sync once more: all replayed, no second update, create or delete.
        r.connection_lost();
        let twice = sync(&mut r, &[p("a", "YES"), p("d", "NO"), p("e", "NO")]);
        assert!(twice.iter().all(|(k, _, m)| *m == "replay" || k.starts_with("participant_sync")), "{twice:?}");
        assert_eq!(r.participants().collect::<Vec<_>>(), ["a", "d", "e"]);
    }

    #[test]
    fn a_sync_cut_off_by_a_drop_deletes_nothing() {
        let mut r = Roster::new();
        sync(&mut r, &[p("a", "NO"), p("b", "NO")]);
        r.connection_lost();
        let mut out = r.apply("participant_sync_begin", Value::Null);
        out.extend(r.apply("participant_create", p("b", "YES")));
        r.connection_lost();
        assert_eq!(summary(out), [row("participant_sync_begin", "", "live"), row("participant_update", "b", "resync")]);
        // The next complete sync: b's change is not repeated; a is gone now.
        let got = sync(&mut r, &[p("b", "YES")]);
        assert_eq!(
            got,
            [
                row("participant_sync_begin", "", "live"),
                row("participant_create", "b", "replay"),
                row("participant_delete", "a", "resync"),
                row("participant_sync_end", "", "live"),
            ]
        );
        // An end marker without a begin (a connection that dropped and came back mid-way).
        assert_eq!(summary(r.apply("participant_sync_end", Value::Null)), [row("participant_sync_end", "", "live")]);
        assert_eq!(r.participants().collect::<Vec<_>>(), ["b"]);
    }

    /// Updates sent with only the changed fields merge into the participant's object, so the
    /// next replay of the whole object is no change; replayed entries that leave out a field
    /// are no change either.
    #[test]
    fn partial_updates_merge_and_missing_fields_are_no_change() {
        let mut r = Roster::new();
        sync(&mut r, &[p("a", "NO")]);
        assert_eq!(
            summary(r.apply("participant_update", json!({"uuid": "a", "is_muted": "YES"}))),
            [row("participant_update", "a", "live")]
        );
        r.connection_lost();
        assert_eq!(sync(&mut r, &[p("a", "YES")])[1], row("participant_create", "a", "replay"));
        r.connection_lost();
        assert_eq!(
            sync(&mut r, &[json!({"uuid": "a", "is_muted": "YES"})])[1],
            row("participant_create", "a", "replay")
        );
        r.connection_lost();
        assert_eq!(
            sync(&mut r, &[json!({"uuid": "a", "is_muted": "NO"})])[1],
            row("participant_update", "a", "resync")
        );
    }

    #[test]
    fn other_events_pass_through() {
        let mut r = Roster::new();
        r.apply("participant_sync_begin", Value::Null);
        let layout = r.apply("layout", json!({"view": "1:7"}));
        assert_eq!(layout, [Emit { kind: "layout".into(), data: json!({"view": "1:7"}), replayed: false }]);
        let odd = r.apply("participant_create", json!("not an object"));
        assert_eq!(odd, [Emit { kind: "participant_create".into(), data: json!("not an object"), replayed: false }]);
        let no_uuid = r.apply("participant_create", json!({"display_name": "x"}));
        assert!(no_uuid[0].replayed && no_uuid[0].data["replay"] == true);
    }
}
