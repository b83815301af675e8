//! The web view (`memgraphd ui`) over plain HTTP: the login URL, the
//! session cookie, the refusals (no session, a spent token, a foreign Host
//! or Origin, a write without its CSRF token), the security headers, that
//! no response points anywhere else, the live stream, and that an open
//! view keeps an idle daemon alive. `browser` drives the page itself in
//! headless Chromium.

mod browser;

use std::io::{BufRead, BufReader, Read, Write};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::support::{wait_until, TestEnv, ANSWER_TIMEOUT};

/// The policy every response carries.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; \
    frame-ancestors 'none'";

/// Every asset the page is made of.
const ASSETS: &[&str] = &[
    "/",
    "/style.css",
    "/app.js",
    "/api.js",
    "/dom.js",
    "/search.js",
    "/entity.js",
    "/graph.js",
    "/changes.js",
    "/vendor/cytoscape.esm.min.js",
    "/vendor/cytoscape.LICENSE",
];

/// URLs that appear in the vendored library's licence comments: text for
/// a reader, never requested (the policy would refuse it anyway).
const LICENCE_URLS: &[&str] = &[
    "http://en.wikipedia.org/wiki/MIT_License",
    "http://engelschall.com",
    "http://opensource.org/licenses/MIT",
    "https://github.com/gre/bezier-easing",
];

/// A view opened by `memgraphd ui --no-open`.
pub struct View {
    /// `http://127.0.0.1:PORT`
    pub base: String,
    /// The whole URL printed, with its token.
    pub url: String,
    pub token: String,
}

impl View {
    pub fn open(env: &TestEnv, extra: &[&str]) -> View {
        let mut args = vec!["ui", "--no-open"];
        args.extend_from_slice(extra);
        let out = env.memgraphd(&args).output().expect("running memgraphd ui");
        assert!(out.status.success(), "memgraphd ui failed: {out:?}");
        let url = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        let (base, token) = url
            .split_once("/#token=")
            .unwrap_or_else(|| panic!("no #token= fragment in {url:?}"));
        View {
            base: base.to_owned(),
            url: url.clone(),
            token: token.to_owned(),
        }
    }

    pub fn authority(&self) -> &str {
        self.base.trim_start_matches("http://")
    }
}

pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(ANSWER_TIMEOUT))
        .build()
        .into()
}

/// What a request got back.
pub struct Answer {
    pub status: u16,
    pub headers: ureq::http::HeaderMap,
    pub body: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

fn answer(mut response: ureq::http::Response<ureq::Body>) -> Answer {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response
        .body_mut()
        .with_config()
        .limit(4 << 20)
        .read_to_string()
        .expect("reading the body");
    Answer {
        status,
        headers,
        body,
    }
}

fn get(view: &View, path: &str, cookie: Option<&str>) -> Answer {
    let mut request = agent().get(format!("{}{path}", view.base));
    if let Some(cookie) = cookie {
        request = request.header("Cookie", cookie);
    }
    answer(request.call().expect("a GET is answered"))
}

/// A POST with a JSON body and exactly these extra headers.
fn post(view: &View, path: &str, headers: &[(&str, &str)], body: &Value) -> Answer {
    let mut request = agent()
        .post(format!("{}{path}", view.base))
        .header("Content-Type", "application/json");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    answer(request.send(body.to_string()).expect("a POST is answered"))
}

/// A logged-in session: the cookie to send and the CSRF token.
pub struct Session {
    pub cookie: String,
    pub csrf: String,
}

fn login(view: &View) -> Session {
    let answer = post(
        view,
        "/api/login",
        &[("Origin", &view.base)],
        &json!({"token": view.token}),
    );
    assert_eq!(answer.status, 200, "login: {}", answer.body);
    let set_cookie = answer.header("set-cookie").to_owned();
    let cookie = set_cookie
        .split(';')
        .next()
        .expect("a cookie")
        .trim()
        .to_owned();
    Session {
        cookie,
        csrf: answer.json()["csrf"]
            .as_str()
            .expect("a CSRF token")
            .to_owned(),
    }
}

/// The status line of a request sent with exactly this `Host` header.
fn status_with_host(view: &View, host: &str, path: &str) -> String {
    let mut stream =
        std::net::TcpStream::connect(view.authority()).expect("connecting to the view");
    stream
        .set_read_timeout(Some(ANSWER_TIMEOUT))
        .expect("a read timeout");
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .expect("sending the request");
    let mut text = String::new();
    stream
        .read_to_string(&mut text)
        .expect("reading the answer");
    text.lines().next().unwrap_or("").to_owned()
}

fn seed(env: &TestEnv) {
    let mut shim = env.shim();
    shim.call_ok(
        "create_entities",
        json!({"entities": [
            {"name": "Ada Lovelace", "entityType": "person", "observations": ["wrote the first program"]},
            {"name": "Analytical Engine", "entityType": "machine", "observations": ["designed by Babbage"]},
        ]}),
    );
    shim.call_ok(
        "create_relations",
        json!({"relations": [{"from": "Ada Lovelace", "to": "Analytical Engine", "relationType": "programmed"}]}),
    );
}

#[test]
fn ui_prints_a_login_url_with_the_token_in_the_fragment_and_reuses_the_view() {
    let env = TestEnv::new();
    let first = View::open(&env, &[]);
    assert!(
        first.base.starts_with("http://127.0.0.1:"),
        "loopback only: {}",
        first.url
    );
    assert!(first.token.starts_with("mgd_") && first.token.len() > 60);
    let second = View::open(&env, &[]);
    assert_eq!(second.base, first.base, "the running view is reused");
    assert_ne!(second.token, first.token, "each run mints its own token");
    let page = get(&first, "/", None);
    assert_eq!(page.status, 200, "the page itself needs no session");
    assert!(page
        .body
        .contains("<script type=\"module\" src=\"/app.js\">"));
}

/// `status` says where the view is served, and never a login token.
#[test]
fn status_names_the_views_address_once_it_is_served() {
    let env = TestEnv::new();
    env.shim().call_ok("read_graph", json!({}));
    let status = |env: &TestEnv| {
        let out = env.memgraphd(&["status"]).output().expect("running status");
        assert!(out.status.success(), "{out:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let before = status(&env);
    assert!(!before.contains("web view:"), "{before}");
    let view = View::open(&env, &[]);
    let after = status(&env);
    assert!(
        after.contains(&format!("web view:     {}/ ", view.base)),
        "{after}"
    );
    assert!(!after.contains(&view.token), "{after}");
}

#[test]
fn ui_serves_on_the_port_asked_for_and_says_when_it_is_taken() {
    let env = TestEnv::new();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("a port to hold");
    let port = taken.local_addr().expect("its address").port().to_string();
    let out = env
        .memgraphd(&["ui", "--no-open", "--port", &port])
        .output()
        .expect("running memgraphd ui");
    assert!(!out.status.success(), "a taken port cannot be served");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("opening the web view") && stderr.contains(&format!("127.0.0.1:{port}")),
        "the error names the step and the address: {stderr}"
    );
    drop(taken);
    let view = View::open(&env, &["--port", &port]);
    assert_eq!(view.base, format!("http://127.0.0.1:{port}"));
    assert_eq!(get(&view, "/", None).status, 200);
}

#[cfg(target_os = "linux")]
#[test]
fn ui_opens_the_link_with_xdg_open_or_says_it_could_not() {
    use std::os::unix::fs::PermissionsExt;
    let env = TestEnv::new();
    let bin = env.home().join("bin");
    std::fs::create_dir_all(&bin).expect("a bin directory");
    let opened = env.home().join("opened");
    let opener = bin.join("xdg-open");
    std::fs::write(
        &opener,
        format!("#!/bin/sh\nprintf '%s' \"$1\" > '{}'\n", opened.display()),
    )
    .expect("writing a stand-in xdg-open");
    std::fs::set_permissions(&opener, std::fs::Permissions::from_mode(0o755))
        .expect("making it executable");
    let out = env
        .memgraphd(&["ui"])
        .env("PATH", &bin)
        .output()
        .expect("running memgraphd ui");
    assert!(out.status.success(), "{out:?}");
    let url = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    wait_until("xdg-open to be run", Duration::from_secs(10), || {
        opened.exists()
    });
    assert_eq!(
        std::fs::read_to_string(&opened).expect("what it opened"),
        url
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("Opened the web view"));

    std::fs::remove_file(&opener).expect("removing xdg-open");
    let out = env
        .memgraphd(&["ui"])
        .env("PATH", &bin)
        .output()
        .expect("running memgraphd ui");
    assert!(out.status.success(), "no browser is no failure: {out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("/#token=mgd_"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("Could not open a browser") && stderr.contains("open the link above"),
        "{stderr}"
    );
}

#[test]
fn every_data_call_needs_a_session() {
    let env = TestEnv::new();
    seed(&env);
    let view = View::open(&env, &[]);
    for path in [
        "/api/session",
        "/api/search?q=ada",
        "/api/entity?name=Ada%20Lovelace",
        "/api/neighbors?name=Ada%20Lovelace",
        "/api/changes",
        "/api/projects",
        "/api/live",
    ] {
        let answer = get(&view, path, None);
        assert_eq!(
            answer.status, 401,
            "{path} without a session: {}",
            answer.body
        );
        assert!(
            answer.body.contains("memgraphd ui"),
            "{path}: {}",
            answer.body
        );
        let forged = get(&view, path, Some("memgraphd_ui_1=forged"));
        assert_eq!(forged.status, 401, "{path} with a forged cookie");
    }
    let session = login(&view);
    let found = get(&view, "/api/search?q=ada", Some(&session.cookie));
    assert_eq!(found.status, 200, "{}", found.body);
    assert_eq!(found.json()["results"][0]["name"], "Ada Lovelace");
    let entity = get(
        &view,
        "/api/entity?name=Ada%20Lovelace",
        Some(&session.cookie),
    );
    assert_eq!(entity.status, 200, "{}", entity.body);
    let entity = entity.json();
    assert_eq!(entity["entityType"], "person");
    assert_eq!(
        entity["observations"][0]["change"]["tool"],
        "create_entities"
    );
    assert_eq!(entity["relations"][0]["to"], "Analytical Engine");
    let missing = get(&view, "/api/entity?name=Nobody", Some(&session.cookie));
    assert_eq!(missing.status, 404, "{}", missing.body);
}

#[test]
fn a_login_token_works_once_and_sets_a_strict_cookie() {
    let env = TestEnv::new();
    let view = View::open(&env, &[]);
    let first = post(
        &view,
        "/api/login",
        &[("Origin", &view.base)],
        &json!({"token": view.token}),
    );
    assert_eq!(first.status, 200, "{}", first.body);
    let cookie = first.header("set-cookie");
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(attribute), "{attribute} missing: {cookie}");
    }
    let again = post(
        &view,
        "/api/login",
        &[("Origin", &view.base)],
        &json!({"token": view.token}),
    );
    assert_eq!(again.status, 401, "a spent token: {}", again.body);
    assert!(again.header("set-cookie").is_empty());
    let unknown = post(
        &view,
        "/api/login",
        &[("Origin", &view.base)],
        &json!({"token": "mgd_0000"}),
    );
    assert_eq!(unknown.status, 401);
    // A login from another site's page is refused before the token is
    // looked at, so it cannot even spend it.
    let fresh = View::open(&env, &[]);
    let foreign = post(
        &fresh,
        "/api/login",
        &[("Origin", "http://evil.example")],
        &json!({"token": fresh.token}),
    );
    assert_eq!(foreign.status, 403);
    login(&fresh);
}

#[test]
fn writes_need_the_csrf_token_a_same_origin_and_json() {
    let env = TestEnv::new();
    seed(&env);
    let view = View::open(&env, &[]);
    let session = login(&view);
    let changes = get(&view, "/api/changes", Some(&session.cookie)).json();
    let newest = changes["changes"][0]["id"].as_i64().expect("a change id");
    let body = json!({"change": newest});
    let cases: [(&str, Vec<(&str, &str)>); 4] = [
        (
            "no CSRF token",
            vec![("Cookie", &session.cookie), ("Origin", &view.base)],
        ),
        (
            "a wrong CSRF token",
            vec![
                ("Cookie", &session.cookie),
                ("Origin", &view.base),
                ("X-CSRF-Token", "mgd_wrong"),
            ],
        ),
        (
            "a foreign Origin",
            vec![
                ("Cookie", &session.cookie),
                ("Origin", "http://evil.example"),
                ("X-CSRF-Token", &session.csrf),
            ],
        ),
        (
            "no Origin",
            vec![("Cookie", &session.cookie), ("X-CSRF-Token", &session.csrf)],
        ),
    ];
    for (what, headers) in cases {
        let refused = post(&view, "/api/undo", &headers, &body);
        assert_eq!(refused.status, 403, "{what}: {}", refused.body);
    }
    let form = answer(
        agent()
            .post(format!("{}/api/undo", view.base))
            .header("Content-Type", "text/plain")
            .header("Cookie", &session.cookie)
            .header("Origin", &view.base)
            .header("X-CSRF-Token", &session.csrf)
            .send(body.to_string())
            .expect("answered"),
    );
    assert_eq!(form.status, 403, "a body that is not JSON: {}", form.body);
    let mut shim = env.shim();
    assert_eq!(
        shim.call_ok("open_nodes", json!({"names": ["Ada Lovelace"]}))["relations"]
            .as_array()
            .map(Vec::len),
        Some(1),
        "nothing refused was applied"
    );

    let headers = [
        ("Cookie", session.cookie.as_str()),
        ("Origin", view.base.as_str()),
        ("X-CSRF-Token", session.csrf.as_str()),
    ];
    let undone = post(&view, "/api/undo", &headers, &body);
    assert_eq!(undone.status, 200, "{}", undone.body);
    let graph = shim.call_ok("open_nodes", json!({"names": ["Ada Lovelace"]}));
    assert_eq!(graph["relations"], json!([]), "the relation is undone");
    let history = get(&view, "/api/changes", Some(&session.cookie)).json();
    let undo = &history["changes"][0];
    assert_eq!(undo["tool"], "undo");
    assert!(
        undo["session"]
            .as_str()
            .is_some_and(|s| s.starts_with("web-")),
        "the browser session is the change's session: {undo}"
    );
    assert!(undo["client"]
        .as_str()
        .is_some_and(|c| c.starts_with("memgraphd ui")));
}

#[test]
fn a_foreign_host_is_refused_even_for_the_page() {
    let env = TestEnv::new();
    let view = View::open(&env, &[]);
    let port = view.authority().rsplit(':').next().expect("a port");
    assert!(status_with_host(&view, view.authority(), "/").contains(" 200 "));
    for host in [
        format!("evil.example:{port}"),
        format!("localhost:{port}"),
        "127.0.0.1:1".to_owned(),
        "127.0.0.1".to_owned(),
    ] {
        for path in ["/", "/api/session"] {
            let status = status_with_host(&view, &host, path);
            assert!(status.contains(" 403 "), "Host {host} {path}: {status}");
        }
    }
}

#[test]
fn every_response_is_locked_down_and_points_nowhere_else() {
    let env = TestEnv::new();
    seed(&env);
    let view = View::open(&env, &[]);
    let session = login(&view);
    let mut answers: Vec<(String, Answer)> = ASSETS
        .iter()
        .map(|path| (path.to_string(), get(&view, path, None)))
        .collect();
    for path in [
        "/api/search?q=ada",
        "/api/entity?name=Ada%20Lovelace",
        "/api/changes",
        "/nothing-here",
    ] {
        answers.push((path.into(), get(&view, path, Some(&session.cookie))));
    }
    answers.push((
        "/api/session (refused)".into(),
        get(&view, "/api/session", None),
    ));
    for (path, answer) in &answers {
        assert_eq!(answer.header("content-security-policy"), CSP, "{path}");
        assert_eq!(answer.header("x-content-type-options"), "nosniff", "{path}");
        assert_eq!(answer.header("referrer-policy"), "no-referrer", "{path}");
        assert_eq!(answer.header("cache-control"), "no-store", "{path}");
        let mut rest = answer.body.as_str();
        while let Some(at) = rest.find("://") {
            let start = rest[..at]
                .rfind(|c: char| !c.is_ascii_alphanumeric())
                .map_or(0, |i| i + 1);
            let end = rest[at..]
                .find(|c: char| c.is_whitespace() || "\"'`)<>".contains(c))
                .map_or(rest.len(), |i| at + i);
            let url = &rest[start..end];
            assert!(
                url.starts_with(&view.base) || LICENCE_URLS.contains(&url),
                "{path} names an outside URL: {url}"
            );
            rest = &rest[end.max(at + 3)..];
        }
    }
    let html = &answers[0].1.body;
    assert!(!html.contains("<style"), "no inline style element");
    assert!(!html.contains("style="), "no style attribute");
    for script in html.split("<script").skip(1) {
        let tag = &script[..script.find('>').expect("a closed tag")];
        assert!(tag.contains("src=\"/"), "an inline script: <script{tag}>");
        assert!(script[script.find('>').expect("closed") + 1..].starts_with("</script>"));
    }
}

/// Reads server-sent events until one of type `kind` arrives; its data.
pub fn next_event(lines: &mut impl BufRead, kind: &str) -> Value {
    let mut event = String::new();
    let mut line = String::new();
    loop {
        line.clear();
        let read = lines.read_line(&mut line).expect("reading the stream");
        assert!(read > 0, "the stream ended before a {kind} event");
        let line = line.trim_end();
        if let Some(name) = line.strip_prefix("event:") {
            event = name.trim().to_owned();
        } else if let Some(data) = line.strip_prefix("data:") {
            if event == kind {
                return serde_json::from_str(data.trim()).expect("JSON data");
            }
        } else if line.is_empty() {
            event.clear();
        }
    }
}

#[test]
fn the_live_stream_carries_every_session_s_changes_and_keeps_an_idle_daemon_alive() {
    let env = TestEnv::new();
    let idle = Duration::from_secs(1);
    let view = View::open(&env, &["--idle-timeout", "1s"]);
    let session = login(&view);
    let stream_agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(None)
        .build()
        .into();
    let response = stream_agent
        .get(format!("{}/api/live", view.base))
        .header("Cookie", &session.cookie)
        .call()
        .expect("the stream opens");
    assert_eq!(response.status().as_u16(), 200);
    assert!(response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/event-stream")));
    let mut lines = BufReader::new(response.into_body().into_reader());
    {
        let mut shim = env.shim_with(
            &["--idle-timeout", "1s"],
            &[("MEMGRAPHD_PROJECT", "github.com/acme/live")],
        );
        shim.call_ok(
            "create_entities",
            json!({"entities": [{"name": "Live", "entityType": "test", "observations": []}]}),
        );
    }
    let change = next_event(&mut lines, "change");
    assert_eq!(change["tool"], "create_entities");
    assert_eq!(change["project"], "github.com/acme/live");
    assert!(change["summary"]
        .as_str()
        .is_some_and(|s| s.contains("Live")));

    // The shim is gone; the open stream alone keeps the daemon up for
    // several idle timeouts.
    // (Asked once: `status` is a connection too, and would keep it up.)
    let pid = env.daemon_pid().expect("the daemon runs");
    let alive = || {
        // SAFETY: signal 0 only asks whether the process exists.
        unsafe { libc::kill(pid as libc::pid_t, 0) == 0 }
    };
    let until = Instant::now() + 4 * idle;
    while Instant::now() < until {
        assert!(alive(), "the daemon exited while a view was open");
        std::thread::sleep(Duration::from_millis(100));
    }
    drop(lines);
    wait_until("the daemon's idle exit", Duration::from_secs(10), || {
        !alive()
    });
}
