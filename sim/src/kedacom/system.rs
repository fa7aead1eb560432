//! The login flow (not in doc 001; after Kedacom's published flow):
//! `POST /api/v1/system/token`, `POST /api/v1/system/login`,
//! `POST /api/v1/system/token/{account_token}/heartbeat` (lenient mode:
//! `GET` too), `POST /api/v1/system/logout`. The first three paths come
//! from [`crate::KedacomOptions`].

use std::sync::Arc;

use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderValue, Method};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, post};
use axum::Router;
use serde_json::json;

use super::errors::{self, ApiError};
use super::state::{TokenRec, User};
use super::{answer, authenticate, payload, read_request, sso_cookie, Kedacom};
use crate::KedacomOptions;

/// Routes (state: the Kedacom simulator).
/// An empty `login_path` or `heartbeat_path` leaves that step out (a token
/// then needs no login: it is the administrator's session, without cookie).
pub(crate) fn routes(opts: &KedacomOptions) -> Router<Arc<Kedacom>> {
    let mut r = Router::new().route(&opts.token_path, post(token)).route("/api/v1/system/logout", post(logout));
    if !opts.login_path.is_empty() {
        r = r.route(&opts.login_path, post(login));
    }
    if !opts.heartbeat_path.is_empty() {
        r = r.route(&opts.heartbeat_path, any(heartbeat));
    }
    r
}

/// `oauth_consumer_key` + `oauth_consumer_secret` -> `account_token`.
async fn token(State(k): State<Arc<Kedacom>>, req: Request) -> Response {
    let params = match read_request(&Method::POST, req, k.strict).await {
        Ok((p, _)) => p,
        Err(r) => return r,
    };
    let (key, secret) = (params.get("oauth_consumer_key"), params.get("oauth_consumer_secret"));
    let result = match (key, secret) {
        (None, _) => Err(ApiError::missing("oauth_consumer_key")),
        (_, None) => Err(ApiError::missing("oauth_consumer_secret")),
        (Some(key), Some(secret)) if key == k.opts.consumer_key && secret == k.opts.consumer_secret => {
            let token = k.ids.hex32("token");
            // Without a login step the token is the administrator's session already.
            let user = k.opts.login_path.is_empty().then(|| User::new(&k.opts.username, true));
            k.with_state(|st, now| {
                st.tokens.insert(token.clone(), TokenRec { last_used: now, user, cookie: None });
            });
            Ok(payload(json!({"account_token": token})))
        }
        _ => Err(ApiError::new(errors::BAD_CONSUMER)),
    };
    k.answer(result)
}

/// `account_token` + `username` + `password` -> session cookie.
async fn login(State(k): State<Arc<Kedacom>>, req: Request) -> Response {
    let params = match read_request(&Method::POST, req, k.strict).await {
        Ok((p, _)) => p,
        Err(r) => return r,
    };
    let idle = k.idle_timeout();
    let result = k.with_state(|st, now| {
        let token = params.get("account_token");
        let rec = token
            .and_then(|t| st.tokens.get_mut(t))
            .filter(|r| now - r.last_used < idle)
            .ok_or_else(|| ApiError::new(errors::TOKEN_INVALID))?;
        let username = params.req("username")?;
        let password = params.req("password")?;
        let user = k.account(username, password).ok_or_else(|| ApiError::new(errors::LOGIN_FAILED))?;
        let cookie = k.ids.hex32("sso");
        rec.last_used = now;
        rec.cookie = Some(cookie.clone());
        rec.user = Some(user.clone());
        Ok((cookie, payload(json!({"username": user.username, "moid": user.moid}))))
    });
    match result {
        Ok((cookie, p)) => {
            let mut resp = answer(Ok(p));
            let set = format!("SSO_COOKIE_KEY={cookie}; Path=/; HttpOnly");
            resp.headers_mut().insert(header::SET_COOKIE, HeaderValue::from_str(&set).expect("ascii cookie"));
            resp
        }
        Err(e) => k.answer(Err(e)),
    }
}

/// Keep a token alive (resets the idle timer). Needs only the token.
/// Strict mode: `POST` only (what meetkit sends); lenient: `GET` too.
async fn heartbeat(State(k): State<Arc<Kedacom>>, Path(token): Path<String>, method: Method) -> Response {
    if method != Method::POST && (k.strict || method != Method::GET) {
        return axum::http::StatusCode::METHOD_NOT_ALLOWED.into_response();
    }
    let idle = k.idle_timeout();
    let result = k.with_state(|st, now| match st.tokens.get_mut(&token).filter(|r| now - r.last_used < idle) {
        Some(rec) => {
            rec.last_used = now;
            Ok(payload(json!({})))
        }
        None => Err(ApiError::new(errors::TOKEN_INVALID)),
    });
    k.answer(result)
}

/// End the session: the token and its cookie stop working.
async fn logout(State(k): State<Arc<Kedacom>>, req: Request) -> Response {
    let cookie = sso_cookie(req.headers());
    let params = match read_request(&Method::POST, req, k.strict).await {
        Ok((p, _)) => p,
        Err(r) => return r,
    };
    let idle = k.idle_timeout();
    let result = k.with_state(|st, now| {
        let token = params.get("account_token");
        authenticate(st, now, idle, token, cookie.as_deref())?;
        st.tokens.remove(token.unwrap_or_default());
        Ok(payload(json!({"description": "success"})))
    });
    let logged_out = result.is_ok();
    let mut resp = k.answer(result);
    if logged_out {
        let clear = HeaderValue::from_static("SSO_COOKIE_KEY=; Path=/; Max-Age=0; HttpOnly");
        resp.headers_mut().insert(header::SET_COOKIE, clear);
    }
    resp
}
