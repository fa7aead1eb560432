//! SIP gateways (integer `gate_id`, unique url) and SIP accounts (integer
//! `account_id`, unique number, owned by a gateway).

use serde_json::{json, Value};

use super::errors::{ApiError, ApiResult};
use super::params::Params;
use super::state::{Account, Gate};
use super::{payload, Ctx, Payload};

fn no_gate() -> ApiError {
    ApiError::msg(40020, "no such sip_gate_id")
}

fn no_account() -> ApiError {
    ApiError::msg(40022, "no such account_id")
}

fn url_taken(ctx: &Ctx<'_>, url: &str, except: Option<i64>) -> bool {
    ctx.st.gates.values().any(|g| g.url == url && Some(g.id) != except)
}

fn number_taken(ctx: &Ctx<'_>, number: &str, except: Option<i64>) -> bool {
    ctx.st.accounts.values().any(|a| a.number == number && Some(a.id) != except)
}

/// `/sip/gate/create` -> `url`, `name`, `gate_id`.
pub(crate) fn gate_create(ctx: &mut Ctx<'_>, p: &Params) -> ApiResult<Payload> {
    let name = p.req("name")?;
    let url = p.req("url")?;
    if url_taken(ctx, url, None) {
        return Err(ApiError::new(40019));
    }
    ctx.st.next_gate_id += 1;
    let id = ctx.st.next_gate_id;
    ctx.st.gates.insert(id, Gate { id, name: name.to_owned(), url: url.to_owned() });
    Ok(payload(json!({ "url": url, "name": name, "gate_id": id })))
}

/// `/sip/gate/update`.
pub(crate) fn gate_update(ctx: &mut Ctx<'_>, p: &Params) -> ApiResult<Payload> {
    let id = p.req_int("sip_gate_id")?;
    let name = p.req("name")?;
    let url = p.req("url")?;
    if !ctx.st.gates.contains_key(&id) {
        return Err(no_gate());
    }
    if url_taken(ctx, url, Some(id)) {
        return Err(ApiError::new(40019));
    }
    let gate = ctx.st.gates.get_mut(&id).expect("checked");
    gate.name = name.to_owned();
    gate.url = url.to_owned();
    Ok(Payload::new())
}

/// `/sip/gate/read` -> `id`, `name`, `url`.
pub(crate) fn gate_read(ctx: &mut Ctx<'_>, p: &Params) -> ApiResult<Payload> {
    let id = p.req_int("sip_gate_id")?;
    let g = ctx.st.gates.get(&id).ok_or_else(no_gate)?;
    Ok(payload(json!({ "id": g.id, "name": g.name, "url": g.url })))
}

/// `/sip/gate/del`. The doc does not say what happens to the gateway's
/// accounts; they are deleted with it.
pub(crate) fn gate_del(ctx: &mut Ctx<'_>, p: &Params) -> ApiResult<Payload> {
    let id = p.req_int("sip_gate_id")?;
    ctx.st.gates.remove(&id).ok_or_else(no_gate)?;
    ctx.st.accounts.retain(|_, a| a.gate_id != id);
    Ok(Payload::new())
}

/// `/sip/gate/list` -> `sip_gates`.
pub(crate) fn gate_list(ctx: &mut Ctx<'_>, _p: &Params) -> ApiResult<Payload> {
    let gates: Vec<Value> =
        ctx.st.gates.values().map(|g| json!({ "url": g.url, "name": g.name, "gate_id": g.id })).collect();
    Ok(payload(json!({ "sip_gates": gates })))
}

/// `/sip/account/create` -> `account_id`, `name`, `sip_gate_id`.
pub(crate) fn account_create(ctx: &mut Ctx<'_>, p: &Params) -> ApiResult<Payload> {
    let name = p.req("name")?;
    let password = p.req("password")?;
    let number = p.req("number")?;
    let gate_id = p.req_int("sip_gate_id")?;
    if !ctx.st.gates.contains_key(&gate_id) {
        return Err(ApiError::msg(40020, "no such sip_gate"));
    }
    if number_taken(ctx, number, None) {
        return Err(ApiError::new(40021));
    }
    ctx.st.next_account_id += 1;
    let id = ctx.st.next_account_id;
    ctx.st.accounts.insert(
        id,
        Account { id, gate_id, name: name.to_owned(), password: password.to_owned(), number: number.to_owned() },
    );
    Ok(payload(json!({ "account_id": id, "name": name, "sip_gate_id": gate_id })))
}

/// `/sip/account/update` (the gateway cannot be changed).
pub(crate) fn account_update(ctx: &mut Ctx<'_>, p: &Params) -> ApiResult<Payload> {
    let id = p.req_int("account_id")?;
    let name = p.req("name")?;
    let password = p.req("password")?;
    let number = p.req("number")?;
    if !ctx.st.accounts.contains_key(&id) {
        return Err(no_account());
    }
    if number_taken(ctx, number, Some(id)) {
        return Err(ApiError::new(40021));
    }
    let a = ctx.st.accounts.get_mut(&id).expect("checked");
    a.name = name.to_owned();
    a.password = password.to_owned();
    a.number = number.to_owned();
    Ok(Payload::new())
}

/// `/sip/account/read`. `sip_gate_id` is required by the doc but the
/// account is looked up by `account_id` alone (the doc's own example pairs
/// account 7 of gateway 3 with `sip_gate_id=12`).
pub(crate) fn account_read(ctx: &mut Ctx<'_>, p: &Params) -> ApiResult<Payload> {
    let id = p.req_int("account_id")?;
    p.req_int("sip_gate_id")?;
    let a = ctx.st.accounts.get(&id).ok_or_else(no_account)?;
    Ok(payload(json!({
        "recv_audio_codec": "PCMU",
        "phone_name": a.name,
        "gate_id": a.gate_id,
        "account_id": a.id,
        "password": a.password,
        "send_audio_codec": "PCMU",
        "phone_number": a.number,
        "recv_video_codec": "H264",
        "name": a.name,
        "send_video_codec": "H264",
    })))
}

/// `/sip/account/del`.
pub(crate) fn account_del(ctx: &mut Ctx<'_>, p: &Params) -> ApiResult<Payload> {
    let id = p.req_int("account_id")?;
    ctx.st.accounts.remove(&id).ok_or_else(no_account)?;
    Ok(Payload::new())
}
