//! The meeting API as a trait, implemented once per vendor.
//!
//! [`VendorMeeting`] has one method per verb. A vendor implements the verbs it can do in its
//! own file (`avd.rs`, `kedacom.rs`, `vmr.rs`, `netease.rs`) and keeps the default of the
//! others, which refuses with [`Error::Unsupported`] and the hint of the vendor's capability
//! table. The table ([`VendorMeeting::table`]) says which verbs are supported and by which
//! endpoints; a test calls every method of every implementation and fails when a row and the
//! implementation disagree, so the two cannot drift. [`super::Meeting`] is the public façade: it
//! checks the table, the room and the options, then calls the vendor's method — it never
//! matches on the vendor.
//!
//! Adding a vendor: a unit struct implementing this trait, listed in [`VENDORS`].

use std::fmt;
use std::time::Duration;

use futures::future::BoxFuture;
use serde_json::Value;

use super::{avd, kedacom, netease, vmr, Capability, Meeting, Participant, Recording, Room, RoomOptions, Verb};
use crate::{Error, Result, Vendor};

/// What a verb's method returns: a boxed, sendable future of its result.
pub(super) type Fut<'a, T> = BoxFuture<'a, Result<T>>;

/// One vendor's side of the unified meeting API (see the module documentation).
pub(super) trait VendorMeeting: fmt::Debug + Send + Sync {
    /// The vendor.
    fn vendor(&self) -> Vendor;

    /// The capability table, one row per verb.
    fn table(&self) -> &'static [(Verb, Capability)];

    /// The portable options (of [`super::ROOM_OPTIONS`]) the vendor cannot use in
    /// `create_room`/`schedule`, each with why. They are removed before the vendor's method
    /// sees the options.
    fn ignores(&self) -> &'static [(&'static str, &'static str)] {
        &[]
    }

    /// How many id parts a handle carries after `<vendor>:`, and its format for errors.
    fn handle_format(&self) -> (usize, &'static str) {
        (1, "<vendor>:<id>")
    }

    /// `create_room`, with the options checked and those in [`VendorMeeting::ignores`] removed.
    fn create_room<'a>(&'a self, _m: &'a Meeting, _options: &'a RoomOptions) -> Fut<'a, Room> {
        refused(self.vendor(), Verb::CreateRoom)
    }

    /// `schedule`, with the options checked (`start` set) and the ignored ones removed.
    fn schedule<'a>(&'a self, _m: &'a Meeting, _options: &'a RoomOptions) -> Fut<'a, Room> {
        refused(self.vendor(), Verb::Schedule)
    }

    /// `start`.
    fn start<'a>(&'a self, _m: &'a Meeting, _room: &'a Room) -> Fut<'a, ()> {
        refused(self.vendor(), Verb::Start)
    }

    /// `invite`, `timeout` already checked.
    fn invite<'a>(
        &'a self,
        _m: &'a Meeting,
        _room: &'a Room,
        _address: &'a str,
        _timeout: Duration,
    ) -> Fut<'a, Participant> {
        refused(self.vendor(), Verb::Invite)
    }

    /// `participants`.
    fn participants<'a>(&'a self, _m: &'a Meeting, _room: &'a Room) -> Fut<'a, Vec<Participant>> {
        refused(self.vendor(), Verb::Participants)
    }

    /// `mute` (`mute` true) and `unmute` (false).
    fn set_muted<'a>(&'a self, _m: &'a Meeting, _room: &'a Room, _participant: &'a str, mute: bool) -> Fut<'a, ()> {
        refused(self.vendor(), if mute { Verb::Mute } else { Verb::Unmute })
    }

    /// `start_recording`.
    fn start_recording<'a>(&'a self, _m: &'a Meeting, _room: &'a Room) -> Fut<'a, Value> {
        refused(self.vendor(), Verb::StartRecording)
    }

    /// `stop_recording`.
    fn stop_recording<'a>(&'a self, _m: &'a Meeting, _room: &'a Room) -> Fut<'a, Vec<Recording>> {
        refused(self.vendor(), Verb::StopRecording)
    }

    /// `recordings`.
    fn recordings<'a>(&'a self, _m: &'a Meeting, _room: &'a Room) -> Fut<'a, Vec<Recording>> {
        refused(self.vendor(), Verb::Recordings)
    }

    /// The files `download_recordings` downloads, waiting at most `timeout` for those the
    /// vendor publishes later.
    fn recordings_to_download<'a>(
        &'a self,
        _m: &'a Meeting,
        _room: &'a Room,
        _timeout: Duration,
    ) -> Fut<'a, Vec<Recording>> {
        refused(self.vendor(), Verb::DownloadRecordings)
    }

    /// `start_live`.
    fn start_live<'a>(&'a self, _m: &'a Meeting, _room: &'a Room, _push_url: &'a str) -> Fut<'a, Value> {
        refused(self.vendor(), Verb::StartLive)
    }

    /// `stop_live`.
    fn stop_live<'a>(&'a self, _m: &'a Meeting, _room: &'a Room) -> Fut<'a, ()> {
        refused(self.vendor(), Verb::StopLive)
    }

    /// `end`, idempotent.
    fn end<'a>(&'a self, _m: &'a Meeting, _room: &'a Room) -> Fut<'a, ()> {
        refused(self.vendor(), Verb::End)
    }
}

/// Every vendor's implementation; a test checks there is exactly one per [`Vendor`].
pub(super) static VENDORS: [&dyn VendorMeeting; 4] = [&avd::Avd, &kedacom::Kedacom, &vmr::Vmr, &netease::Netease];

/// The implementation of `vendor` (none only for a vendor missing from [`VENDORS`]).
pub(super) fn of(vendor: Vendor) -> Option<&'static dyn VendorMeeting> {
    VENDORS.iter().copied().find(|v| v.vendor() == vendor)
}

/// The [`Error::Unsupported`] of `verb` on `vendor`, with the hint of its capability table.
pub(super) fn unsupported(vendor: Vendor, verb: Verb) -> Error {
    let hint = match super::capability(vendor, verb) {
        Capability::Unsupported { hint } => hint,
        Capability::Supported { .. } => "the capability table and the implementation disagree; please report this",
    };
    Error::Unsupported { vendor, verb: verb.as_str(), hint: hint.to_string() }
}

/// A default method's answer: `verb` refused, before any request.
fn refused<'a, T: Send + 'a>(vendor: Vendor, verb: Verb) -> Fut<'a, T> {
    Box::pin(std::future::ready(Err(unsupported(vendor, verb))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::meeting::capability;
    use crate::Client;

    #[test]
    fn every_vendor_has_exactly_one_implementation() {
        assert_eq!(VENDORS.len(), Vendor::ALL.len());
        for vendor in Vendor::ALL {
            assert_eq!(VENDORS.iter().filter(|v| v.vendor() == vendor).count(), 1, "{vendor}");
            assert_eq!(of(vendor).map(|v| v.vendor()), Some(vendor));
        }
    }

    /// Call `verb` of `api` directly (past the façade's table check).
    async fn call(api: &dyn VendorMeeting, m: &Meeting, verb: Verb, room: &Room) -> Result<()> {
        let options = RoomOptions { name: "x".into(), start: Some(2_000_000_000.0), ..RoomOptions::default() };
        let wait = Duration::from_secs(1);
        match verb {
            Verb::CreateRoom => api.create_room(m, &options).await.map(drop),
            Verb::Schedule => api.schedule(m, &options).await.map(drop),
            Verb::Start => api.start(m, room).await,
            Verb::Invite => api.invite(m, room, "sip:1001@10.0.0.5", wait).await.map(drop),
            Verb::Participants => api.participants(m, room).await.map(drop),
            Verb::Mute => api.set_muted(m, room, "p1", true).await,
            Verb::Unmute => api.set_muted(m, room, "p1", false).await,
            Verb::StartRecording => api.start_recording(m, room).await.map(drop),
            Verb::StopRecording => api.stop_recording(m, room).await.map(drop),
            Verb::Recordings => api.recordings(m, room).await.map(drop),
            Verb::DownloadRecordings => api.recordings_to_download(m, room, wait).await.map(drop),
            Verb::StartLive => api.start_live(m, room, "rtmp://live.example.com/app/key").await.map(drop),
            Verb::StopLive => api.stop_live(m, room).await,
            Verb::End => api.end(m, room).await,
        }
    }

    /// The capability tables are checked against the implementations: every verb a table
    /// calls supported is implemented (it gets as far as the unreachable server, or its own
    /// checks), and every verb it calls unsupported keeps the trait's default, refusing with
    /// the table's hint before any request.
    #[tokio::test]
    async fn every_table_row_agrees_with_the_implementation() {
        let nowhere = "http://127.0.0.1:9";
        let profile = crate::config::Profile::from_json(
            "t",
            &serde_json::json!({
                "avd": {"base_url": nowhere, "access_key": "k", "secret_key": "s"},
                "kedacom": {"base_url": nowhere, "account_token": "t"},
                "vmr": {"api_server": nowhere, "auth": "a", "account": "room@vmr", "password": "1234"},
                "netease": {"base_url": nowhere, "app_key": "k", "app_secret": "s"},
                "transport": {"max_attempts": 1},
            }),
        )
        .unwrap();
        let client = Client::from_profile(&profile).unwrap();
        for api in VENDORS {
            let vendor = api.vendor();
            let m = Meeting::new(&client, vendor).unwrap();
            let second = (api.handle_format().0 == 2).then(|| "2".to_string());
            let room = Room::new(vendor, "1".into(), second, None, Value::Null);
            for verb in Verb::ALL {
                let result = call(api, &m, verb, &room).await;
                match (capability(vendor, verb), result) {
                    (Capability::Supported { .. }, Err(Error::Unsupported { .. })) => {
                        panic!("{vendor} {verb}: the table says supported, the implementation refuses")
                    }
                    (Capability::Supported { .. }, _) => {}
                    (Capability::Unsupported { hint }, Err(Error::Unsupported { hint: said, .. })) => {
                        assert_eq!(said, hint, "{vendor} {verb}")
                    }
                    (Capability::Unsupported { .. }, other) => {
                        panic!("{vendor} {verb}: the table says unsupported, the implementation answered {other:?}")
                    }
                }
            }
        }
    }
}
