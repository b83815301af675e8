use super::*;

fn hosts() -> Vec<String> {
    ["localhost", "127.0.0.1", "::1", "team.example:8443"]
        .map(String::from)
        .to_vec()
}

fn gate() -> Gate {
    let store = crate::store::Store::open_in_memory().expect("a store");
    let (db, _thread) = DbHandle::spawn(store).expect("the actor");
    Gate::new(hosts(), Arc::default(), db, Arc::default())
}

#[test]
fn hosts_match_by_name_and_optional_port() {
    let list = hosts();
    let yes = |h: &str| allowed(&authority(h).expect("an authority"), &list);
    assert!(yes("localhost:4000"));
    assert!(yes("LOCALHOST"));
    assert!(yes("127.0.0.1:1"));
    assert!(yes("[::1]:8080"));
    assert!(yes("team.example:8443"));
    assert!(!yes("team.example:8444"));
    assert!(!yes("team.example"));
    assert!(!yes("evil.example"));
    assert!(!yes("localhost.evil.example"));
}

#[tokio::test]
async fn a_foreign_origin_or_host_is_refused() {
    let gate = gate();
    let headers = |pairs: &[(&'static str, &'static str)]| {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(*k, HeaderValue::from_static(v));
        }
        map
    };
    assert!(gate.host_allowed(&headers(&[("host", "127.0.0.1:9")])));
    assert!(gate.host_allowed(&headers(&[
        ("host", "127.0.0.1:9"),
        ("origin", "http://localhost:3000")
    ])));
    assert!(!gate.host_allowed(&headers(&[
        ("host", "127.0.0.1:9"),
        ("origin", "https://evil.example")
    ])));
    assert!(!gate.host_allowed(&headers(&[("host", "127.0.0.1:9"), ("origin", "null")])));
    assert!(!gate.host_allowed(&headers(&[("host", "rebound.evil.example:9")])));
    assert!(!gate.host_allowed(&HeaderMap::new()));
}

#[tokio::test]
async fn each_token_has_its_own_requests_in_flight() {
    let gate = gate();
    let held: Vec<_> = (0..PER_TOKEN)
        .map(|_| gate.permit("alice").expect("a permit"))
        .collect();
    assert!(gate.permit("alice").is_none(), "one over the limit");
    assert!(gate.permit("bob").is_some(), "another token is not slowed");
    drop(held);
    assert!(gate.permit("alice").is_some(), "permits come back");
}

#[test]
fn bearer_tokens_are_read_from_the_header() {
    let mut headers = HeaderMap::new();
    assert_eq!(bearer(&headers), None);
    headers.insert(
        header::AUTHORIZATION,
        HeaderValue::from_static("Bearer abc"),
    );
    assert_eq!(bearer(&headers), Some("abc"));
    headers.insert(
        header::AUTHORIZATION,
        HeaderValue::from_static("bearer  abc "),
    );
    assert_eq!(bearer(&headers), Some("abc"));
    headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic abc"));
    assert_eq!(bearer(&headers), None);
    headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer "));
    assert_eq!(bearer(&headers), None);
}

#[tokio::test]
async fn owners_of_ended_sessions_are_forgotten() {
    let gate = gate();
    for n in 0..PRUNE_EVERY - 1 {
        gate.opened(&format!("s{n}"), "alice".into()).await;
    }
    assert_eq!(gate.owner("s0").as_deref(), Some("alice"));
    // rmcp knows none of them: the next new session prunes them all.
    gate.opened("last", "alice".into()).await;
    assert_eq!(gate.owner("s0"), None);
    assert_eq!(gate.sessions_of("alice"), Vec::<String>::new());
}
