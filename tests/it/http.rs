//! The HTTP face (`serve --http`): a real daemon serving MCP over
//! Streamable HTTP to plain HTTP clients, beside local shims on the same
//! database.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::support::{wait_until, TestEnv, ANSWER_TIMEOUT};

/// A `memgraphd serve --http` child of the test, on the test's database.
struct HttpDaemon {
    child: Child,
    url: String,
}

impl HttpDaemon {
    /// Starts the daemon with `--http ADDR` and waits until `status` shows
    /// its URL.
    fn start(env: &TestEnv, addr: &str) -> HttpDaemon {
        HttpDaemon::start_with(env, &["--http", addr])
    }

    /// Starts `serve` with these arguments.
    fn start_with(env: &TestEnv, args: &[&str]) -> HttpDaemon {
        let mut all = vec!["serve"];
        all.extend_from_slice(args);
        let child = env
            .memgraphd(&all)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting memgraphd serve --http");
        let mut url = String::new();
        wait_until("the daemon to report its HTTP URL", ANSWER_TIMEOUT, || {
            let out = env.memgraphd(&["status"]).output().expect("running status");
            let text = String::from_utf8_lossy(&out.stdout).into_owned();
            match text.lines().find_map(|l| l.strip_prefix("http:")) {
                Some(rest) => {
                    url = rest
                        .split_whitespace()
                        .next()
                        .unwrap_or_default()
                        .to_owned();
                    true
                }
                None => false,
            }
        });
        HttpDaemon { child, url }
    }

    fn port(&self) -> u16 {
        self.url
            .rsplit(':')
            .next()
            .and_then(|p| p.trim_end_matches("/mcp").parse().ok())
            .expect("a port in the URL")
    }

    /// Stops it with SIGTERM and waits until it has exited.
    fn stop_and_wait(&mut self) {
        // SAFETY: kill(2) on our own child's pid touches no memory.
        unsafe {
            libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM);
        }
        let _ = self.child.wait();
    }

    fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for HttpDaemon {
    /// Stops the daemon as a service manager would (SIGTERM), and reaps it.
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            // SAFETY: kill(2) on our own child's pid touches no memory.
            unsafe {
                libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM);
            }
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A token made by `memgraphd token add NAME`.
fn add_token(env: &TestEnv, name: &str) -> String {
    let out = env
        .memgraphd(&["token", "add", name])
        .output()
        .expect("running token add");
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines().next().expect("the token").trim().to_owned()
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(ANSWER_TIMEOUT))
        .build()
        .into()
}

/// What an HTTP request got back.
struct Answer {
    status: u16,
    headers: ureq::http::HeaderMap,
    body: String,
}

impl Answer {
    /// The JSON-RPC messages of an SSE or JSON body.
    fn messages(&self) -> Vec<Value> {
        if self.body.trim_start().starts_with('{') {
            return vec![serde_json::from_str(&self.body).expect("a JSON body")];
        }
        self.body
            .lines()
            .filter_map(|l| l.strip_prefix("data:"))
            .filter(|d| !d.trim().is_empty())
            .map(|d| serde_json::from_str(d.trim()).expect("JSON in an SSE event"))
            .collect()
    }
}

/// An MCP client over Streamable HTTP, one session.
struct HttpMcp {
    agent: ureq::Agent,
    url: String,
    token: Option<String>,
    session: Option<String>,
    next_id: i64,
    pub notifications: Vec<Value>,
}

impl HttpMcp {
    fn new(url: &str, token: Option<&str>) -> HttpMcp {
        HttpMcp {
            agent: agent(),
            url: url.to_owned(),
            token: token.map(str::to_owned),
            session: None,
            next_id: 0,
            notifications: Vec::new(),
        }
    }

    fn post(&self, body: &Value) -> Result<Answer, ureq::Error> {
        let mut request = self
            .agent
            .post(&self.url)
            .header("Content-Type", "application/json")
            .header("Accept", "application/json, text/event-stream");
        if let Some(token) = &self.token {
            request = request.header("Authorization", format!("Bearer {token}"));
        }
        if let Some(session) = &self.session {
            request = request.header("Mcp-Session-Id", session);
        }
        let mut response = request.send(body.to_string())?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.body_mut().read_to_string()?;
        Ok(Answer {
            status,
            headers,
            body,
        })
    }

    /// Sends a request; the whole answer, or why there was none.
    fn try_rpc(&mut self, method: &str, params: Value) -> Result<Value, String> {
        self.next_id += 1;
        let id = self.next_id;
        let answer = self
            .post(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}))
            .map_err(|e| e.to_string())?;
        if answer.status != 200 {
            return Err(format!("HTTP {}: {}", answer.status, answer.body));
        }
        let mut found = None;
        for message in answer.messages() {
            if message["id"] == json!(id) {
                found = Some(message);
            } else if message.get("method").is_some() {
                self.notifications.push(message);
            }
        }
        found.ok_or_else(|| format!("no answer to {method} in {}", answer.body))
    }

    fn rpc(&mut self, method: &str, params: Value) -> Value {
        let answer = self.try_rpc(method, params).expect("an answer");
        match answer.get("result") {
            Some(result) => result.clone(),
            None => panic!("{method} failed: {answer:#}"),
        }
    }

    fn try_initialize(&mut self) -> Result<Value, String> {
        self.session = None;
        self.next_id += 1;
        let answer = self
            .post(
                &json!({"jsonrpc": "2.0", "id": self.next_id, "method": "initialize", "params": {
                    "protocolVersion": "2025-11-25",
                    "capabilities": {},
                    "clientInfo": {"name": "memgraphd-http-tests", "version": "0"}
                }}),
            )
            .map_err(|e| e.to_string())?;
        if answer.status != 200 {
            return Err(format!("HTTP {}: {}", answer.status, answer.body));
        }
        self.session = answer
            .headers
            .get("mcp-session-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let result = answer
            .messages()
            .into_iter()
            .find(|m| m.get("result").is_some())
            .ok_or_else(|| format!("no initialize result in {}", answer.body))?;
        let notice = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
        let sent = self.post(&notice).map_err(|e| e.to_string())?;
        if sent.status != 202 {
            return Err(format!("initialized: HTTP {}", sent.status));
        }
        Ok(result["result"].clone())
    }

    fn initialize(&mut self) -> Value {
        self.try_initialize().expect("initialize over HTTP")
    }

    fn call(&mut self, tool: &str, arguments: Value) -> Value {
        self.rpc("tools/call", json!({"name": tool, "arguments": arguments}))
    }

    fn call_ok(&mut self, tool: &str, arguments: Value) -> Value {
        let result = self.call(tool, arguments);
        assert_ne!(result["isError"], json!(true), "{tool} failed: {result:#}");
        result["structuredContent"].clone()
    }

    /// Opens the session's stream of server messages (GET); each JSON-RPC
    /// message on it arrives on the receiver.
    fn listen(&self) -> mpsc::Receiver<Value> {
        let mut request = self
            .agent
            .get(&self.url)
            .header("Accept", "text/event-stream")
            .header(
                "Mcp-Session-Id",
                self.session.as_deref().expect("a session"),
            );
        if let Some(token) = &self.token {
            request = request.header("Authorization", format!("Bearer {token}"));
        }
        let response = request.call().expect("opening the GET stream");
        assert_eq!(response.status().as_u16(), 200, "the GET stream");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let reader = BufReader::new(response.into_body().into_reader());
            for line in reader.lines() {
                let Ok(line) = line else { return };
                if let Some(data) = line.strip_prefix("data:") {
                    if let Ok(value) = serde_json::from_str::<Value>(data.trim()) {
                        if tx.send(value).is_err() {
                            return;
                        }
                    }
                }
            }
        });
        rx
    }
}

fn entity(name: &str) -> Value {
    json!({"entities": [{"name": name, "entityType": "test", "observations": ["seen"]}]})
}

fn count_entities(env: &TestEnv) -> i64 {
    env.open_db()
        .query_row("SELECT count(*) FROM entities", [], |r| r.get(0))
        .expect("counting entities")
}

#[test]
fn http_sessions_and_shims_share_writes_tools_and_notices() {
    let env = TestEnv::new();
    let daemon = HttpDaemon::start(&env, "127.0.0.1:0");
    let token = add_token(&env, "alice");
    let mut http = HttpMcp::new(&daemon.url, Some(&token));
    let info = http.initialize();
    assert_eq!(info["serverInfo"]["name"], "memgraphd", "{info:#}");
    assert_eq!(info["protocolVersion"], "2025-11-25");
    let mut shim = env.shim();
    let http_tools = http.rpc("tools/list", json!({}));
    let mut shim_tools = shim.request("tools/list", json!({}));
    // The stdio transport writes each tool's default `execution` member,
    // which rmcp's own serializer leaves out; the definitions are the same.
    for tool in shim_tools["tools"].as_array_mut().expect("tools") {
        tool.as_object_mut().expect("a tool").remove("execution");
    }
    assert_eq!(http_tools, shim_tools, "the same tools over HTTP and stdio");

    // A write over HTTP is read by the shim, and the other way round.
    http.call_ok("create_entities", entity("FromHttp"));
    let found = shim.call_ok("open_nodes", json!({"names": ["FromHttp"]}));
    assert_eq!(found["entities"][0]["name"], "FromHttp", "{found:#}");
    shim.call_ok("create_entities", entity("FromShim"));
    let found = http.call_ok("open_nodes", json!({"names": ["FromShim"]}));
    assert_eq!(found["entities"][0]["name"], "FromShim", "{found:#}");

    // History credits the HTTP write to the token's name, the shim's to the
    // local user.
    let history = http.call_ok("memory_history", json!({"name": "FromHttp"}));
    assert_eq!(history["changes"][0]["actor"], "alice", "{history:#}");
    let history = shim.call_ok("memory_history", json!({"name": "FromShim"}));
    let actor = &history["changes"][0]["actor"];
    assert!(actor.is_string() && actor != "alice", "{history:#}");

    // A shim's write is a notice on the HTTP session's stream.
    http.rpc(
        "resources/subscribe",
        json!({"uri": "memory://knowledge-graph"}),
    );
    let stream = http.listen();
    shim.call_ok("create_entities", entity("NoticeMe"));
    let deadline = Instant::now() + ANSWER_TIMEOUT;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let message = stream
            .recv_timeout(left)
            .expect("a notice on the HTTP stream");
        if message["method"] == "notifications/resources/updated" {
            assert_eq!(message["params"]["uri"], "memory://knowledge-graph");
            break;
        }
    }

    // An HTTP write is a notice for a subscribed shim.
    shim.request(
        "resources/subscribe",
        json!({"uri": "memory://knowledge-graph"}),
    );
    http.call_ok("create_entities", entity("NoticeYou"));
    shim.wait_for_notification("notifications/resources/updated", ANSWER_TIMEOUT);
    drop(daemon);
}

#[test]
fn http_refuses_missing_wrong_and_revoked_tokens() {
    let env = TestEnv::new();
    let daemon = HttpDaemon::start(&env, "127.0.0.1:0");
    let token = add_token(&env, "bob");

    for bad in [None, Some("mgd_0000"), Some(&token[..token.len() - 1])] {
        let mut client = HttpMcp::new(&daemon.url, bad);
        let answer = client
            .post(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}))
            .expect("an answer");
        assert_eq!(answer.status, 401, "{bad:?}: {}", answer.body);
        assert_eq!(
            answer.headers.get("www-authenticate").map(|v| v.as_bytes()),
            Some(&b"Bearer"[..])
        );
        assert_eq!(answer.body.trim_end().lines().count(), 1, "{}", answer.body);
        client.session = None;
    }
    // No OAuth metadata, with or without a token.
    let base = daemon.url.trim_end_matches("/mcp");
    for path in [
        "/.well-known/oauth-protected-resource",
        "/.well-known/oauth-authorization-server",
    ] {
        let response = agent()
            .get(format!("{base}{path}"))
            .call()
            .expect("an answer");
        assert_eq!(response.status().as_u16(), 404, "{path}");
    }

    // A token revoked while its session is open is refused on the next request.
    let mut open = HttpMcp::new(&daemon.url, Some(&token));
    open.initialize();
    open.call_ok("create_entities", entity("BeforeRevoke"));
    let stream = open.listen();
    let out = env
        .memgraphd(&["token", "revoke", "bob"])
        .output()
        .expect("running token revoke");
    assert!(out.status.success(), "{out:?}");
    let refused = open
        .try_rpc("tools/call", json!({"name": "read_graph", "arguments": {}}))
        .expect_err("a revoked token is refused");
    assert!(refused.starts_with("HTTP 401"), "{refused}");
    // Its stream of notices ends too.
    let deadline = Instant::now() + ANSWER_TIMEOUT;
    loop {
        match stream.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) => panic!("the stream stayed open"),
            Ok(_) => {}
        }
    }
    // `token list` no longer shows it; a new token for the same name works.
    let listed = env
        .memgraphd(&["token", "list"])
        .output()
        .expect("token list");
    assert!(!String::from_utf8_lossy(&listed.stdout).contains("bob"));
    let again = add_token(&env, "bob");
    let mut fresh = HttpMcp::new(&daemon.url, Some(&again));
    fresh.initialize();
    let found = fresh.call_ok("open_nodes", json!({"names": ["BeforeRevoke"]}));
    assert_eq!(found["entities"][0]["name"], "BeforeRevoke");
    // A session belongs to its token: another valid token cannot use it.
    let carol = add_token(&env, "carol");
    let mut intruder = HttpMcp::new(&daemon.url, Some(&carol));
    intruder.session = fresh.session.clone();
    let answer = intruder
        .post(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}))
        .expect("an answer");
    assert_eq!(answer.status, 404, "{}", answer.body);
    let listed = env
        .memgraphd(&["token", "list"])
        .output()
        .expect("token list");
    let listed = String::from_utf8_lossy(&listed.stdout).into_owned();
    assert!(
        listed.contains("bob") && listed.contains("carol"),
        "{listed}"
    );
    // Both were used, so neither says never.
    for line in listed
        .lines()
        .filter(|l| l.starts_with("bob") || l.starts_with("carol"))
    {
        assert!(!line.ends_with("never"), "{listed}");
    }
}

/// Sends raw bytes as one HTTP request and returns the status code.
fn raw_status(port: u16, head: &str, body: &mut dyn Read) -> u16 {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connecting");
    stream
        .set_read_timeout(Some(ANSWER_TIMEOUT))
        .expect("a read timeout");
    stream.write_all(head.as_bytes()).expect("writing the head");
    let mut chunk = vec![0u8; 64 * 1024];
    // The server may answer and close before the whole body is sent.
    loop {
        let n = body.read(&mut chunk).expect("reading the body");
        if n == 0 || stream.write_all(&chunk[..n]).is_err() {
            break;
        }
    }
    let mut status = String::new();
    let _ = BufReader::new(stream).read_line(&mut status);
    status
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no status line: {status:?}"))
}

#[test]
fn http_refuses_foreign_hosts_and_origins_and_oversized_bodies() {
    let env = TestEnv::new();
    let daemon = HttpDaemon::start(&env, "127.0.0.1:0");
    let token = add_token(&env, "dave");
    let port = daemon.port();
    let request = |host: &str, extra: &str, len: usize| {
        format!(
            "POST /mcp HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: application/json\r\nAccept: application/json, text/event-stream\r\n\
             {extra}Content-Length: {len}\r\n\r\n"
        )
    };
    let init = br#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"0"}}}"#;
    let local = format!("127.0.0.1:{port}");
    assert_eq!(
        raw_status(port, &request(&local, "", init.len()), &mut &init[..]),
        200
    );
    // DNS rebinding: a name that resolves here but is not ours.
    assert_eq!(
        raw_status(
            port,
            &request("rebind.example", "", init.len()),
            &mut &init[..]
        ),
        403
    );
    assert_eq!(
        raw_status(
            port,
            &request(&local, "Origin: https://evil.example\r\n", init.len()),
            &mut &init[..]
        ),
        403
    );
    // Over 8 MiB: refused before it is read whole, with a length or without.
    let over = 8 * 1024 * 1024 + 1;
    assert_eq!(
        raw_status(
            port,
            &request(&local, "", over),
            &mut std::io::repeat(b' ').take(over as u64)
        ),
        413
    );
    let chunked = format!(
        "POST /mcp HTTP/1.1\r\nHost: {local}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nAccept: application/json, text/event-stream\r\n\
         Transfer-Encoding: chunked\r\n\r\n"
    );
    let mut body = Vec::new();
    for _ in 0..9 {
        body.extend_from_slice(b"100000\r\n");
        body.extend(std::iter::repeat_n(b' ', 0x100000));
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(b"0\r\n\r\n");
    assert_eq!(raw_status(port, &chunked, &mut &body[..]), 413);
    // The daemon carries on.
    let mut client = HttpMcp::new(&daemon.url, Some(&token));
    client.initialize();
    client.call_ok("read_graph", json!({}));
}

#[test]
fn http_sessions_and_shims_write_concurrently_without_loss() {
    const SESSIONS: usize = 16;
    const CREATES: usize = 200;
    const SHIMS: usize = 2;
    let env = TestEnv::new();
    let daemon = HttpDaemon::start(&env, "127.0.0.1:0");
    // Four people with four sessions each: the limit is per token.
    let tokens: Vec<String> = (0..4).map(|i| add_token(&env, &format!("p{i}"))).collect();
    let started = Instant::now();
    let http: Vec<_> = (0..SESSIONS)
        .map(|s| {
            let url = daemon.url.clone();
            let token = tokens[s % tokens.len()].clone();
            std::thread::spawn(move || {
                let mut client = HttpMcp::new(&url, Some(&token));
                client.initialize();
                let mut errors = 0;
                for i in 0..CREATES {
                    let result = client.call("create_entities", entity(&format!("h{s}-{i}")));
                    if result["isError"] == json!(true)
                        || result["structuredContent"]["entities"][0]["name"]
                            != json!(format!("h{s}-{i}"))
                    {
                        errors += 1;
                    }
                }
                errors
            })
        })
        .collect();
    let mut shims: Vec<_> = (0..SHIMS).map(|_| env.shim()).collect();
    for i in 0..CREATES {
        for (n, shim) in shims.iter_mut().enumerate() {
            shim.call_ok("create_entities", entity(&format!("s{n}-{i}")));
        }
    }
    let errors: usize = http.into_iter().map(|t| t.join().expect("a client")).sum();
    let elapsed = started.elapsed();
    let total = SESSIONS * CREATES + SHIMS * CREATES;
    assert_eq!(errors, 0);
    assert_eq!(count_entities(&env), total as i64, "nothing lost");
    println!(
        "{SESSIONS} HTTP sessions x {CREATES} creates + {SHIMS} shims x {CREATES}: \
         {total} writes in {:.2}s, {:.0} writes/s",
        elapsed.as_secs_f64(),
        total as f64 / elapsed.as_secs_f64()
    );
}

#[test]
fn http_clients_reconnect_after_the_daemon_is_killed() {
    const CLIENTS: usize = 4;
    const CREATES: usize = 60;
    let env = TestEnv::new();
    let mut daemon = HttpDaemon::start(&env, "127.0.0.1:0");
    let token = add_token(&env, "erin");
    let addr = format!("127.0.0.1:{}", daemon.port());
    let url = daemon.url.clone();
    let (progress_tx, progress) = mpsc::channel::<()>();
    let clients: Vec<_> = (0..CLIENTS)
        .map(|c| {
            let (url, token, progress) = (url.clone(), token.clone(), progress_tx.clone());
            std::thread::spawn(move || {
                let mut client = HttpMcp::new(&url, Some(&token));
                client.initialize();
                let mut acknowledged = Vec::new();
                let mut i = 0;
                let deadline = Instant::now() + Duration::from_secs(60);
                while i < CREATES {
                    assert!(Instant::now() < deadline, "client {c} never got through");
                    let name = format!("k{c}-{i}");
                    match client.try_rpc(
                        "tools/call",
                        json!({"name": "create_entities", "arguments": entity(&name)}),
                    ) {
                        Ok(answer) if answer["result"]["isError"] != json!(true) => {
                            acknowledged.push(name);
                            i += 1;
                            let _ = progress.send(());
                        }
                        // The daemon is gone or restarting: a new session,
                        // then the same write again.
                        _ => {
                            std::thread::sleep(Duration::from_millis(20));
                            let _ = client.try_initialize();
                        }
                    }
                }
                acknowledged
            })
        })
        .collect();
    drop(progress_tx);
    // Kill it under load, once some writes are through.
    for _ in 0..CLIENTS * 5 {
        progress
            .recv_timeout(ANSWER_TIMEOUT)
            .expect("writes over HTTP");
    }
    daemon.kill9();
    let _restarted = HttpDaemon::start(&env, &addr);
    let acknowledged: Vec<String> = clients
        .into_iter()
        .flat_map(|t| t.join().expect("a client"))
        .collect();
    assert_eq!(acknowledged.len(), CLIENTS * CREATES);
    let db = env.open_db();
    for name in &acknowledged {
        let observations: i64 = db
            .query_row(
                "SELECT count(*) FROM observations o JOIN entities e ON e.id = o.entity_id \
                 WHERE e.name = ?1",
                [name],
                |r| r.get(0),
            )
            .expect("counting");
        assert_eq!(observations, 1, "{name}: present once");
    }
    assert_eq!(
        count_entities(&env),
        (CLIENTS * CREATES) as i64,
        "none doubled"
    );
}

#[test]
fn https_with_a_certificate_and_no_plain_http_off_loopback() {
    let env = TestEnv::new();
    let dir = tempfile::tempdir().expect("a temp dir");
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()])
        .expect("a self-signed certificate");
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert, certified.cert.pem()).expect("writing the certificate");
    std::fs::write(&key, certified.signing_key.serialize_pem()).expect("writing the key");

    let mut daemon = HttpDaemon::start_with(
        &env,
        &[
            "--http",
            "127.0.0.1:0",
            "--tls-cert",
            cert.to_str().expect("a UTF-8 path"),
            "--tls-key",
            key.to_str().expect("a UTF-8 path"),
        ],
    );
    assert!(daemon.url.starts_with("https://"), "{}", daemon.url);
    let token = add_token(&env, "frank");
    let url = format!("https://localhost:{}/mcp", daemon.port());
    let root = ureq::tls::Certificate::from_pem(certified.cert.pem().as_bytes())
        .expect("the certificate as a root");
    let tls = ureq::tls::TlsConfig::builder()
        .root_certs(ureq::tls::RootCerts::Specific(std::sync::Arc::new(vec![
            root,
        ])))
        .build();
    let mut client = HttpMcp::new(&url, Some(&token));
    client.agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(ANSWER_TIMEOUT))
        .tls_config(tls)
        .build()
        .into();
    client.initialize();
    client.call_ok("create_entities", entity("OverTls"));
    // Plain HTTP on the TLS port gets no MCP answer.
    let plain = HttpMcp::new(
        &format!("http://127.0.0.1:{}/mcp", daemon.port()),
        Some(&token),
    );
    assert!(plain
        .post(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}))
        .is_err());
    daemon.stop_and_wait();

    // Plain HTTP on every interface is refused unless asked for, and then
    // status says that tokens travel in clear.
    let refused = env
        .memgraphd(&["serve", "--http", "0.0.0.0:0"])
        .output()
        .expect("running serve");
    assert!(!refused.status.success());
    let why = String::from_utf8_lossy(&refused.stderr);
    assert!(
        why.contains("--insecure-http") && why.contains("--tls-cert"),
        "{why}"
    );
    let _insecure = HttpDaemon::start_with(&env, &["--http", "0.0.0.0:0", "--insecure-http"]);
    let status = env.memgraphd(&["status"]).output().expect("status");
    let status = String::from_utf8_lossy(&status.stdout);
    assert!(status.contains("tokens travel in clear"), "{status}");
}

#[test]
fn an_http_session_without_roots_has_no_project() {
    let env = TestEnv::new();
    let daemon = HttpDaemon::start(&env, "127.0.0.1:0");
    let token = add_token(&env, "alice");
    let mut http = HttpMcp::new(&daemon.url, Some(&token));
    http.initialize();
    http.call_ok("create_entities", entity("Remote note"));
    // The daemon's own directory is no project of a remote client's.
    let history = http.call_ok("memory_history", json!({"name": "Remote note"}));
    assert!(
        history["changes"][0].get("project").is_none(),
        "{history:#}"
    );
    let refused = http.call(
        "search_memory",
        json!({"query": "remote", "scope": "project"}),
    );
    assert_eq!(refused["isError"], true, "{refused:#}");
    let text = refused["content"][0]["text"].as_str().expect("a message");
    assert!(text.contains("this session has none"), "{text}");
    let found = http.call_ok("search_memory", json!({"query": "remote", "scope": "all"}));
    assert_eq!(found["results"][0]["name"], "Remote note", "{found:#}");
}
