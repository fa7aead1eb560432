//! `meetkit doctor`: does a profile work? For each configured vendor: can its server be
//! reached (and its TLS certificate trusted), does one cheap authenticated call succeed
//! ([`HEALTH_CHECK`](crate::vendors::avd::HEALTH_CHECK) of each vendor), how far is its clock
//! from ours (NetEase refuses requests signed more than a minute off), and which API level it
//! speaks (Kedacom). Each check says how to fix what failed; no check prints a secret.

use std::time::{Duration, Instant, SystemTime};

use serde::Serialize;
use serde_json::{json, Value};

use crate::config::Profile;
use crate::{Client, Error, Vendor};

/// How far NetEase lets a request's `CurTime` be from its own clock (doc 004: one minute).
pub const NETEASE_MAX_SKEW_SECS: f64 = 60.0;

/// One check of one vendor.
#[derive(Clone, Debug, Serialize)]
pub struct Check {
    /// The vendor checked.
    pub vendor: Vendor,
    /// `reach`, `auth`, `clock` or `api_level`.
    pub check: &'static str,
    /// Whether it passed.
    pub ok: bool,
    /// What was found (a status, a skew, a version, or the error).
    pub detail: String,
    /// What to do when it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
    /// The error's kind when it failed (`transport`, `auth`, `config`, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<&'static str>,
    /// How long it took.
    pub ms: u64,
}

fn base_url(profile: &Profile, vendor: Vendor) -> Option<&str> {
    match vendor {
        Vendor::Avd => profile.avd.as_ref().map(|c| c.base_url.as_str()),
        Vendor::Kedacom => profile.kedacom.as_ref().map(|c| c.base_url.as_str()),
        Vendor::Vmr => profile.vmr.as_ref().map(|c| c.api_server.as_str()),
        Vendor::Netease => profile.netease.as_ref().map(|c| c.base_url.as_str()),
    }
}

fn health_check(vendor: Vendor) -> &'static str {
    match vendor {
        Vendor::Avd => crate::vendors::avd::HEALTH_CHECK,
        Vendor::Kedacom => crate::vendors::kedacom::HEALTH_CHECK,
        Vendor::Vmr => crate::vendors::vmr::HEALTH_CHECK,
        Vendor::Netease => crate::vendors::netease::HEALTH_CHECK,
    }
}

/// The fix for a failed call, by the error's kind.
fn fix_for(profile: &Profile, vendor: Vendor, e: &Error) -> String {
    let section = format!("[profiles.{}.{vendor}]", profile.name);
    let refused =
        e.kind() == "auth" || (e.kind() == "http" && matches!(e.vendor_code().as_deref(), Some("401" | "403")));
    if refused {
        return format!("the server refused the credentials: check the secrets of {section} (`meetkit profile show`)");
    }
    match e.kind() {
        "transport" | "timeout" => format!(
            "check the server address in {section}, the network and any proxy; for a private CA set \
             [profiles.{}.transport] ca_cert",
            profile.name
        ),
        "config" => "fix the profile as the message says (`meetkit profile show`)".to_string(),
        "api" => format!("the server answered with an error: check the account's rights and {section}"),
        _ => format!("see the message; `meetkit -v call {vendor} {}` shows the request", health_check(vendor)),
    }
}

/// Run every check on every vendor of `profile` (vendors whose section does not parse fail
/// their first check with the parse error).
pub async fn doctor(profile: &Profile, client: &Client) -> Vec<Check> {
    let mut checks = Vec::new();
    let vendors: Vec<Vendor> = Vendor::ALL
        .into_iter()
        .filter(|v| base_url(profile, *v).is_some() || profile.invalid.contains_key(v))
        .collect();
    for vendor in vendors {
        checks.extend(check_vendor(profile, client, vendor).await);
    }
    checks
}

async fn check_vendor(profile: &Profile, client: &Client, vendor: Vendor) -> Vec<Check> {
    let check = |name: &'static str, started: Instant| Check {
        vendor,
        check: name,
        ok: true,
        detail: String::new(),
        fix: None,
        kind: None,
        ms: started.elapsed().as_millis() as u64,
    };
    let failed = |mut c: Check, e: &Error| {
        c.ok = false;
        c.detail = e.to_string();
        c.kind = Some(e.kind());
        c.fix = Some(fix_for(profile, vendor, e));
        c
    };
    let mut out = Vec::new();
    let started = Instant::now();
    if let Some(e) = profile.invalid.get(&vendor) {
        let e = Error::config(e.clone());
        out.push(failed(check("reach", started), &e));
        return out;
    }
    let Some(base) = base_url(profile, vendor) else { return out };

    // Reachability and TLS: any HTTP answer from the server root will do.
    let server_date;
    match client.transport().http().get(base).timeout(Duration::from_secs(10)).send().await {
        Ok(resp) => {
            server_date = resp
                .headers()
                .get(reqwest::header::DATE)
                .and_then(|d| d.to_str().ok())
                .and_then(|d| httpdate::parse_http_date(d).ok());
            let mut c = check("reach", started);
            c.detail = format!("{} answered HTTP {}", crate::secret::redact_url(base), resp.status().as_u16());
            out.push(c);
        }
        Err(e) => {
            let tls = format!("{e:?}").to_lowercase().contains("certificate");
            let message = if tls {
                format!("{vendor}: the server's TLS certificate is not trusted: {}", e.without_url())
            } else {
                format!("{vendor}: cannot reach {}: {}", crate::secret::redact_url(base), e.without_url())
            };
            let mut c = check("reach", started);
            c.ok = false;
            c.detail = message;
            c.kind = Some(if tls { "config" } else { "transport" });
            c.fix = Some(if tls {
                format!(
                    "set [profiles.{}.transport] ca_cert to the CA that signed the server's certificate \
                     (or insecure = true for a lab server)",
                    profile.name
                )
            } else {
                format!("check the address in [profiles.{}.{vendor}], the network and any proxy", profile.name)
            });
            out.push(c);
            return out;
        }
    }

    // Clock skew, from the server's Date header.
    if let Some(date) = server_date {
        let started = Instant::now();
        let skew = match SystemTime::now().duration_since(date) {
            Ok(ahead) => ahead.as_secs_f64(),
            Err(behind) => -behind.duration().as_secs_f64(),
        };
        let mut c = check("clock", started);
        // The Date header has one-second resolution: a skew under two seconds is no skew.
        c.detail = if skew.abs() < 2.0 {
            "in step with the server's clock (its Date header)".to_string()
        } else {
            format!("this machine's clock is {skew:+.0} s from the server's (its Date header)")
        };
        if vendor == Vendor::Netease && skew.abs() > NETEASE_MAX_SKEW_SECS {
            c.ok = false;
            c.kind = Some("auth");
            c.fix = Some(format!(
                "NetEase refuses requests signed more than {NETEASE_MAX_SKEW_SECS:.0} s off: synchronise this \
                 machine's clock (NTP)"
            ));
        }
        out.push(c);
    }

    // One cheap authenticated call.
    let started = Instant::now();
    let endpoint = health_check(vendor);
    match client.call(vendor, endpoint, json!({})).await {
        Ok(_) => {
            let mut c = check("auth", started);
            c.detail = format!("{endpoint} succeeded");
            out.push(c);
        }
        Err(e) => out.push(failed(check("auth", started), &e)),
    }

    // Kedacom: the API level the server speaks (doc 001 is API level 3).
    if vendor == Vendor::Kedacom {
        let started = Instant::now();
        match client.call(vendor, "version.get", json!({})).await {
            Ok(v) => {
                let mut c = check("api_level", started);
                let level = v.get("api_level").cloned().unwrap_or(Value::Null);
                let version = v.get("version").and_then(Value::as_str).unwrap_or("?");
                c.detail = format!("version {version}, API level {level}");
                if level.as_i64().is_some_and(|l| l < 3) {
                    c.ok = false;
                    c.kind = Some("unsupported");
                    c.fix = Some(
                        "meetkit's Kedacom table follows API level 3; endpoints newer than the server's level \
                         will be refused"
                            .into(),
                    );
                }
                out.push(c);
            }
            Err(e) => out.push(failed(check("api_level", started), &e)),
        }
    }
    out
}
