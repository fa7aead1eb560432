//! Application endpoints: token, licence counters, system info, file
//! permits.

use base64::Engine;
use md5::{Digest, Md5};
use serde_json::{json, Map, Value};

use super::errors::{ApiError, ApiResult};
use super::params::Params;
use super::{payload, Ctx, Payload};

/// Licensed concurrent users reported by `/app/get_licence_info`.
const MAX_USERS: i64 = 500;

/// `/app/get_token` -> `{"ret":0,"token":"..."}` (no msg, as documented).
///
/// Wrong credentials answer the doc's failure example
/// `{"ret":401,"msg":"授权错误!"}` rather than the appendix's 40001: the
/// example is the endpoint's own captured reply for exactly this case.
/// Tokens are base64 of 40 hex digits (with `=` padding), like the doc's.
pub(crate) fn get_token(ctx: &mut Ctx<'_>, p: &Params) -> ApiResult<Payload> {
    let access_key = p.req("access_key")?;
    let secret_key = p.req("secret_key")?;
    let opts = &ctx.avd.opts;
    if access_key != opts.access_key || secret_key != opts.secret_key {
        return Err(ApiError::new(401));
    }
    let a = ctx.avd.ids.hex32("token");
    let b = hex::encode(Md5::digest(format!("{a}:{secret_key}")));
    let hex40 = format!("{a}{}", &b[..8]);
    let token = base64::engine::general_purpose::STANDARD.encode(hex40);
    let now = ctx.now;
    let ttl = opts.token_ttl.as_secs_f64();
    // Forget tokens that expired long ago.
    ctx.st.tokens.retain(|_, exp| *exp + ttl > now);
    ctx.st.tokens.insert(token.clone(), now + ttl);
    Ok(payload(json!({ "token": token })))
}

/// Connected terminals: meeting participants plus running recorders.
fn usernum(ctx: &Ctx<'_>) -> i64 {
    ctx.st.online_by_kind().values().sum::<i64>() + ctx.st.running_recorders()
}

/// `/app/get_licence_info` -> `active_usernum`, `max_users`.
pub(crate) fn get_licence_info(ctx: &mut Ctx<'_>, _p: &Params) -> ApiResult<Payload> {
    Ok(payload(json!({
        "active_usernum": usernum(ctx),
        "max_users": MAX_USERS,
    })))
}

/// `/app/get_system_info` -> `sys_info` (a long hex string, stable per
/// access key).
pub(crate) fn get_system_info(ctx: &mut Ctx<'_>, _p: &Params) -> ApiResult<Payload> {
    let mut info = String::new();
    let mut block = ctx.avd.opts.access_key.clone();
    while info.len() < 329 {
        block = hex::encode(Md5::digest(format!("sys_info:{block}")));
        info.push_str(&block);
    }
    info.truncate(329);
    Ok(payload(json!({ "sys_info": info })))
}

/// A licence certificate: `$`-separated hex blocks.
fn check_cert(cert: &str) -> ApiResult<()> {
    let ok = cert.split('$').all(|b| !b.is_empty() && b.chars().all(|c| c.is_ascii_hexdigit()));
    if ok {
        Ok(())
    } else {
        Err(ApiError::arg_invalid("licence_cert"))
    }
}

/// `/app/apply_file_permit`.
pub(crate) fn apply_file_permit(ctx: &mut Ctx<'_>, p: &Params) -> ApiResult<Payload> {
    let cert = p.req("licence_cert")?;
    check_cert(cert)?;
    ctx.st.permits.insert(cert.to_owned());
    Ok(Payload::new())
}

/// `/app/delete_file_permit` (unknown certificate: 40072 "no licence info").
pub(crate) fn delete_file_permit(ctx: &mut Ctx<'_>, p: &Params) -> ApiResult<Payload> {
    let cert = p.req("licence_cert")?;
    if !ctx.st.permits.remove(cert) {
        return Err(ApiError::new(40072));
    }
    Ok(Payload::new())
}

/// `/app/get_key_licence` -> `usernum`, per-terminal `detail`, `info`.
/// Keys other than the configured one have no users.
pub(crate) fn get_key_licence(ctx: &mut Ctx<'_>, p: &Params) -> ApiResult<Payload> {
    let key = p.req("access_key")?;
    let mut detail = Map::new();
    let mut total = 0;
    if key == ctx.avd.opts.access_key {
        for (kind, n) in ctx.st.online_by_kind() {
            detail.insert(kind, json!({ "count": n }));
        }
        let recorders = ctx.st.running_recorders();
        if recorders > 0 {
            detail.insert("avd_record".into(), json!({ "count": recorders }));
        }
        total = usernum(ctx);
    }
    Ok(payload(json!({
        "detail": Value::Object(detail),
        "info": {},
        "usernum": total,
    })))
}
