//! Functions registered into every script engine.
//!
//! | function | what it does |
//! |---|---|
//! | `vendor(name)` | a handle on one vendor of the run's profile |
//! | `v.call(id, #{..})` / `v.call(id)` | call an endpoint of the vendor's table; returns the payload map |
//! | `v.name` | the vendor id |
//! | `sleep(seconds)` | wait (int or float seconds); cancellable |
//! | `download(url)` / `download(url, dir)` | stream a file into the run's out dir (or a sub-dir of it); returns `#{path, file_name, bytes, md5}` |
//! | `wait_event(vendor, type, timeout_secs)` | the next event of that type (`"*"`: any) as `#{vendor, type, data}`; subscribes on first use and keeps other events for later waits |
//! | `fail(message)` | stop the run with an error |
//! | `json_string(value)` / `json_parse(text)` | JSON conversion |
//! | `log_info(text)` / `log_warn(text)` | log lines (shown with `-v`) |

use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rhai::{Dynamic, Engine, EvalAltResult, FnPtr, Map as RhaiMap};
use serde_json::Value;

use super::{throw, Host};
use crate::download::DownloadOptions;
use crate::{Error, Vendor};

type RhaiResult<T> = Result<T, Box<EvalAltResult>>;

/// `v.call(id[, #{params}])` on a vendor handle: call one endpoint of the vendor's table.
fn call_endpoint(host: &Host, vendor: Vendor, args: &mut [&mut Dynamic]) -> RhaiResult<Dynamic> {
    let usage = || format!("{vendor}.call(endpoint_id, #{{ params }}): see `meetkit endpoints {vendor}` for the ids");
    let id = match args.first() {
        Some(a) if a.is_string() => a.to_string(),
        Some(a) => return Err(format!("{}; the endpoint id must be a string, got {}", usage(), a.type_name()).into()),
        None => return Err(format!("{}; the endpoint id is missing", usage()).into()),
    };
    let params: Value = match args.get(1) {
        None => Value::Null,
        Some(a) if a.is_map() => rhai::serde::from_dynamic(a)?,
        Some(a) if a.is_unit() => Value::Null,
        Some(a) => return Err(format!("{}; the parameters must be a map, got {}", usage(), a.type_name()).into()),
    };
    if args.len() > 2 {
        return Err(format!("{}; expected at most 2 arguments, got {}", usage(), args.len()).into());
    }
    let client = host.client.clone();
    let value = host.block_on(async move { client.call(vendor, &id, params).await }).map_err(throw)?;
    rhai::serde::to_dynamic(value)
}

pub(crate) fn register(engine: &mut Engine, host: &Host) {
    let host = Arc::new(host.clone());

    // A vendor handle is a native function pointer named after the vendor: Rhai reserves
    // `.call(...)` for function pointers, and this is what makes `v.call(id, #{..})` work.
    // `v.name` is the vendor id.
    let h = host.clone();
    engine.register_fn("vendor", move |name: &str| -> RhaiResult<FnPtr> {
        let vendor: Vendor = name.parse().map_err(throw)?;
        h.client.require(vendor).map_err(throw)?;
        let host = h.clone();
        #[allow(deprecated)] // "volatile", not deprecated; Rhai is pinned to one minor version.
        FnPtr::from_fn(vendor.as_str(), move |_ctx, args| call_endpoint(&host, vendor, args))
    });

    let h = host.clone();
    engine.register_fn("sleep", move |secs: rhai::FLOAT| sleep(&h, secs));
    let h = host.clone();
    engine.register_fn("sleep", move |secs: rhai::INT| sleep(&h, secs as f64));

    let h = host.clone();
    engine.register_fn("download", move |url: &str| download(&h, url, ""));
    let h = host.clone();
    engine.register_fn("download", move |url: &str, dir: &str| download(&h, url, dir));

    let h = host.clone();
    engine.register_fn("wait_event", move |vendor: &str, kind: &str, timeout: rhai::FLOAT| {
        wait_event(&h, vendor, kind, timeout)
    });
    let h = host.clone();
    engine.register_fn("wait_event", move |vendor: &str, kind: &str, timeout: rhai::INT| {
        wait_event(&h, vendor, kind, timeout as f64)
    });

    engine.register_fn("fail", |message: &str| -> RhaiResult<()> {
        Err(Box::new(EvalAltResult::ErrorRuntime(message.to_string().into(), rhai::Position::NONE)))
    });
    engine.register_fn("json_string", |v: Dynamic| -> RhaiResult<String> {
        let value: Value = rhai::serde::from_dynamic(&v)?;
        Ok(value.to_string())
    });
    engine.register_fn("json_parse", |text: &str| -> RhaiResult<Dynamic> {
        let value: Value = serde_json::from_str(text).map_err(|e| format!("json_parse: {e}"))?;
        rhai::serde::to_dynamic(value)
    });
    engine.register_fn("log_info", |text: &str| tracing::info!(target: "meetkit::script", "{text}"));
    engine.register_fn("log_warn", |text: &str| tracing::warn!(target: "meetkit::script", "{text}"));
}

/// One vendor's event subscription and the events not consumed yet.
pub(crate) struct EventBuffer {
    stream: crate::events::EventStream,
    pending: std::collections::VecDeque<crate::events::Event>,
}

fn wait_event(host: &Host, vendor: &str, kind: &str, timeout: f64) -> RhaiResult<RhaiMap> {
    use futures::StreamExt;
    let vendor: Vendor = vendor.parse().map_err(throw)?;
    if !(0.0..=86_400.0).contains(&timeout) {
        return Err(format!("wait_event: timeout {timeout} must be between 0 and 86400 seconds").into());
    }
    let matches = |e: &crate::events::Event| kind == "*" || e.kind == kind;
    let mut subscriptions = host.events.lock().unwrap_or_else(|p| p.into_inner());
    if !subscriptions.contains_key(&vendor) {
        let client = host.client.clone();
        let stream = host.block_on(async move { client.events(vendor, Value::Null).await }).map_err(throw)?;
        subscriptions.insert(vendor, EventBuffer { stream, pending: Default::default() });
    }
    let buffer = subscriptions.get_mut(&vendor).expect("inserted above");
    if let Some(i) = buffer.pending.iter().position(matches) {
        return Ok(event_map(&buffer.pending.remove(i).expect("position is valid")));
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs_f64(timeout);
    loop {
        let next = host.block_on(async {
            match tokio::time::timeout_at(deadline, buffer.stream.next()).await {
                Ok(item) => Ok(item),
                Err(_) => Err(Error::Timeout {
                    vendor,
                    endpoint: format!("wait_event({kind})"),
                    after: Duration::from_secs_f64(timeout),
                }),
            }
        });
        match next.map_err(throw)? {
            Some(Ok(event)) if matches(&event) => return Ok(event_map(&event)),
            Some(Ok(event)) => buffer.pending.push_back(event),
            Some(Err(e)) => return Err(throw(e)),
            None => {
                subscriptions.remove(&vendor);
                return Err(throw(Error::Transport {
                    vendor,
                    endpoint: format!("wait_event({kind})"),
                    message: "the event stream ended".into(),
                    before_send: false,
                }));
            }
        }
    }
}

fn event_map(e: &crate::events::Event) -> RhaiMap {
    let mut m = RhaiMap::new();
    m.insert("vendor".into(), e.vendor.to_string().into());
    m.insert("type".into(), e.kind.clone().into());
    m.insert("data".into(), rhai::serde::to_dynamic(&e.data).unwrap_or(Dynamic::UNIT));
    m
}

fn sleep(host: &Host, secs: f64) -> RhaiResult<()> {
    if !(0.0..=86_400.0).contains(&secs) {
        return Err(format!("sleep({secs}): seconds must be between 0 and 86400").into());
    }
    host.block_on(async move {
        tokio::time::sleep(Duration::from_secs_f64(secs)).await;
        Ok(())
    })
    .map_err(throw)
}

/// `dir` must stay inside the out dir: relative, no `..`.
fn inside_out_dir(out: &Path, dir: &str) -> Result<PathBuf, String> {
    let rel = Path::new(dir);
    if rel.components().any(|c| !matches!(c, Component::Normal(_) | Component::CurDir)) {
        return Err(format!(
            "download: directory `{dir}` must be relative to the run's out directory, without `..` or a root"
        ));
    }
    Ok(out.join(rel))
}

fn download(host: &Host, url: &str, dir: &str) -> RhaiResult<RhaiMap> {
    // Scripts often name the out dir itself ("recordings/"): treat that as the out dir.
    let out = &host.options.out_dir;
    let dir = match out.file_name().and_then(|n| n.to_str()) {
        Some(name) if dir.trim_end_matches('/') == name => "",
        _ => dir,
    };
    let target = inside_out_dir(out, dir)?;
    let progress = host.options.progress.clone();
    let options = DownloadOptions {
        progress: progress.map(|p| {
            Arc::new(move |pr: crate::download::Progress| -> bool {
                p(&pr);
                true
            }) as _
        }),
        cancel: Some(host.options.cancel.clone()),
        ..DownloadOptions::default()
    };
    let (client, url) = (host.client.clone(), url.to_string());
    let done = host.block_on(async move { client.download(&url, &target, options).await }).map_err(throw)?;
    let mut m = RhaiMap::new();
    m.insert("path".into(), done.path.display().to_string().into());
    let name = done.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    m.insert("file_name".into(), name.into());
    m.insert("bytes".into(), (done.bytes as rhai::INT).into());
    m.insert("md5".into(), done.md5.into());
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn download_dirs_stay_inside_the_out_dir() {
        let out = Path::new("/tmp/run");
        assert_eq!(inside_out_dir(out, "").unwrap(), PathBuf::from("/tmp/run"));
        assert_eq!(inside_out_dir(out, "a/b").unwrap(), PathBuf::from("/tmp/run/a/b"));
        assert!(inside_out_dir(out, "../x").is_err());
        assert!(inside_out_dir(out, "a/../../x").is_err());
        assert!(inside_out_dir(out, "/etc").is_err());
    }
}
