//! Login tokens are single-use and short-lived; sessions expire when idle
//! and are bounded in number.

use std::time::{Duration, Instant};

use super::*;

#[test]
fn a_login_token_opens_one_session_once() {
    let auth = Auth::default();
    let now = Instant::now();
    let token = auth.mint_login(now).expect("a token is minted");
    let login = auth
        .login(&token, now)
        .expect("random bytes")
        .expect("a fresh token logs in");
    assert_eq!(
        auth.session(&login.cookie, now),
        Some(login.session.clone())
    );
    assert!(login.session.label.starts_with("web-"));
    assert!(
        auth.login(&token, now).expect("random bytes").is_none(),
        "a spent token is refused"
    );
}

#[test]
fn a_stale_login_token_is_refused() {
    let auth = Auth::default();
    let minted = Instant::now();
    let token = auth.mint_login(minted).expect("a token is minted");
    let late = minted + LOGIN_TTL;
    assert!(auth.login(&token, late).expect("random bytes").is_none());
}

#[test]
fn an_unknown_token_or_cookie_is_refused() {
    let auth = Auth::default();
    let now = Instant::now();
    assert!(auth.login("mgd_nope", now).expect("random bytes").is_none());
    assert!(auth.session("nope", now).is_none());
}

#[test]
fn a_session_ends_after_being_idle_and_lives_while_used() {
    let auth = Auth::default();
    let start = Instant::now();
    let token = auth.mint_login(start).expect("a token is minted");
    let login = auth
        .login(&token, start)
        .expect("random bytes")
        .expect("logged in");
    let step = SESSION_IDLE - Duration::from_secs(1);
    assert!(auth.session(&login.cookie, start + step).is_some());
    assert!(auth.session(&login.cookie, start + step + step).is_some());
    let idle = start + step + step + SESSION_IDLE;
    assert!(auth.session(&login.cookie, idle).is_none());
    assert!(
        auth.session(&login.cookie, start + step + step).is_none(),
        "it stays ended"
    );
}

#[test]
fn sessions_are_bounded_and_the_least_recent_goes_first() {
    let auth = Auth::default();
    let start = Instant::now();
    let mut cookies = Vec::new();
    for i in 0..=MAX_SESSIONS {
        let at = start + Duration::from_secs(i as u64);
        let token = auth.mint_login(at).expect("a token is minted");
        cookies.push(
            auth.login(&token, at)
                .expect("random bytes")
                .expect("logged in")
                .cookie,
        );
    }
    let now = start + Duration::from_secs(MAX_SESSIONS as u64 + 1);
    assert!(
        auth.session(&cookies[0], now).is_none(),
        "the oldest made room"
    );
    assert!(cookies[1..].iter().all(|c| auth.session(c, now).is_some()));
}
