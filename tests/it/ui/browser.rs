//! The web view in a real browser: headless Chromium driven over WebDriver
//! (chromedriver), on the real daemon, against writes of real shims.
//!
//! One scenario, in the order a person would go: open the URL that
//! `memgraphd ui --no-open` prints, search, open an entity, see another
//! session's write arrive without a reload, edit an observation, undo the
//! edit, meet a refused undo and its offer to force, draw the graph at
//! depth 2 and follow a node with a real click on the canvas, reload (still
//! logged in, no token in the URL), narrow the window, and open a spent
//! link. No page may break the Content-Security-Policy or ask any other
//! server for anything. Screenshots go to `ui-screenshots/` under
//! `CARGO_TARGET_TMPDIR`.
//!
//! Without Chromium and chromedriver the test fails and says how to install
//! them (`.ci/run` does).

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::actions::{InputSource, MouseActions, PointerAction, MOUSE_BUTTON_LEFT};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};

use super::View;
use crate::support::TestEnv;

/// How long the page may take to show what a step waits for.
const STEP: Duration = Duration::from_secs(15);

/// The first of `names` found on `PATH` or in `/usr/bin`.
fn program(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let dirs: Vec<PathBuf> = std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/bin")])
        .collect();
    names
        .iter()
        .flat_map(|name| dirs.iter().map(move |dir| dir.join(name)))
        .find(|candidate| candidate.is_file())
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// chromedriver, stopped when dropped.
struct Driver {
    child: Child,
    url: String,
}

impl Driver {
    fn start(binary: &Path) -> Driver {
        use std::os::unix::process::CommandExt as _;
        let port = free_port();
        let child = Command::new(binary)
            .arg(format!("--port={port}"))
            // A group of its own, with the browsers it starts, so that a
            // failing test takes them all down (see Drop).
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting chromedriver");
        let url = format!("http://127.0.0.1:{port}");
        let agent = super::agent();
        let deadline = Instant::now() + STEP;
        loop {
            let ready = agent
                .get(format!("{url}/status"))
                .call()
                .ok()
                .and_then(|mut r| r.body_mut().read_to_string().ok())
                .and_then(|body| serde_json::from_str::<Value>(&body).ok())
                .is_some_and(|status| status["value"]["ready"] == json!(true));
            if ready {
                break;
            }
            assert!(Instant::now() < deadline, "chromedriver did not get ready");
            std::thread::sleep(Duration::from_millis(50));
        }
        Driver { child, url }
    }
}

impl Drop for Driver {
    /// Kills chromedriver and every browser process it started: a test
    /// that panicked never closed its session, and Chromium would outlive
    /// the driver.
    fn drop(&mut self) {
        if let Ok(group) = libc::pid_t::try_from(self.child.id()) {
            // SAFETY: kill has no memory preconditions; the group is ours.
            unsafe { libc::kill(-group, libc::SIGKILL) };
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn screenshots() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("ui-screenshots");
    std::fs::create_dir_all(&dir).expect("creating the screenshot directory");
    dir
}

async fn shoot(client: &Client, name: &str) {
    let png = client.screenshot().await.expect("a screenshot");
    let path = screenshots().join(format!("{name}.png"));
    std::fs::write(&path, png).expect("writing the screenshot");
}

/// Runs `script` until it returns something other than `null` or `false`.
async fn until(client: &Client, what: &str, script: &str) -> Value {
    let deadline = Instant::now() + STEP;
    loop {
        let value = client
            .execute(script, Vec::new())
            .await
            .unwrap_or_else(|e| panic!("running the check for {what}: {e}"));
        if !matches!(value, Value::Null | Value::Bool(false)) {
            return value;
        }
        if Instant::now() >= deadline {
            let text = client
                .execute("return document.body.innerText", Vec::new())
                .await
                .unwrap_or_default();
            let _ = shoot(client, "timed-out").await;
            panic!("timed out waiting for {what}; the page shows:\n{text}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A check that some element's text contains `text`.
fn shows(selector: &str, text: &str) -> String {
    format!(
        "return [...document.querySelectorAll({})].some(e => e.textContent.includes({}))",
        json!(selector),
        json!(text)
    )
}

fn seed(env: &TestEnv) {
    let mut shim = env.shim_with(
        &[],
        &[
            ("MEMGRAPHD_PROJECT", "github.com/acme/engines"),
            ("CLAUDE_CODE_SESSION_ID", "seed-session"),
            // The daemon this shim starts credits local changes to $USER.
            ("USER", "grace"),
        ],
    );
    shim.call_ok(
        "create_entities",
        json!({"entities": [
            {"name": "Ada Lovelace", "entityType": "person",
             "observations": ["wrote the first program", "worked with Babbage"]},
            {"name": "Analytical Engine", "entityType": "machine", "observations": ["never finished"]},
            {"name": "Charles Babbage", "entityType": "person", "observations": ["designed engines"]},
        ]}),
    );
    shim.call_ok(
        "create_relations",
        json!({"relations": [
            {"from": "Ada Lovelace", "to": "Analytical Engine", "relationType": "programmed"},
            {"from": "Charles Babbage", "to": "Analytical Engine", "relationType": "designed"},
        ]}),
    );
}

fn observations_of(env: &TestEnv, name: &str) -> Vec<String> {
    let mut shim = env.shim();
    let graph = shim.call_ok("open_nodes", json!({"names": [name]}));
    graph["entities"][0]["observations"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|o| o.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Clicks the graph's node `name` where it is drawn on the canvas.
async fn click_node(client: &Client, name: &str) {
    let script = format!(
        "const cy = document.getElementById('graph')._cyreg.cy;
         const node = cy.getElementById({});
         if (node.empty()) return null;
         const box = document.getElementById('graph').getBoundingClientRect();
         const at = node.renderedPosition();
         return [box.left + at.x, box.top + at.y];",
        json!(name)
    );
    let at = until(client, &format!("the node {name} to be drawn"), &script).await;
    let (x, y) = (at[0].as_f64().expect("an x"), at[1].as_f64().expect("a y"));
    let mouse = MouseActions::new("mouse".into())
        .then(PointerAction::MoveTo {
            duration: None,
            x: x.round(),
            y: y.round(),
        })
        .then(PointerAction::Down {
            button: MOUSE_BUTTON_LEFT,
        })
        .then(PointerAction::Up {
            button: MOUSE_BUTTON_LEFT,
        });
    client
        .perform_actions(mouse)
        .await
        .expect("clicking the node");
}

#[test]
fn the_web_view_works_in_a_real_browser() {
    let (Some(chromium), Some(chromedriver)) = (
        program(&["chromium", "chromium-browser", "google-chrome"]),
        program(&["chromedriver"]),
    ) else {
        panic!(
            "this test needs Chromium and chromedriver: on Debian, \
             apt-get install -y chromium chromium-driver (.ci/run installs them when missing)"
        );
    };
    let env = TestEnv::new();
    seed(&env);
    let view = View::open(&env, &[]);
    let driver = Driver::start(&chromedriver);
    let profile = tempfile::tempdir().expect("a browser profile directory");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": chromium,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync",
                    "--disable-dev-shm-usage", "--window-size=1280,800",
                    format!("--user-data-dir={}", profile.path().display()),
                ],
            }),
        );
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(capabilities)
            .connect(&driver.url)
            .await
            .expect("a WebDriver session with headless Chromium");
        scenario(&env, &view, &client).await;
        client.close().await.expect("closing the browser");
    });
}

async fn scenario(env: &TestEnv, view: &View, client: &Client) {
    // Log in through the link, which then leaves the URL.
    client.goto(&view.url).await.expect("opening the view");
    until(
        client,
        "the session",
        "return document.body.dataset.session === 'open'",
    )
    .await;
    until(
        client,
        "the live stream",
        "return document.body.dataset.live === 'on'",
    )
    .await;
    let url = client.current_url().await.expect("the URL");
    assert!(
        !url.as_str().contains("token"),
        "the token left the URL: {url}"
    );
    until(
        client,
        "the recent changes",
        "return document.querySelectorAll('#changes li').length >= 2",
    )
    .await;
    until(
        client,
        "the project filter",
        &shows("#project-filter option", "github.com/acme/engines"),
    )
    .await;
    shoot(client, "changes").await;

    // Search as you type, and open the hit with the keyboard.
    let search = client.find(Locator::Id("q")).await.expect("the search box");
    search.send_keys("lovelace").await.expect("typing");
    until(client, "a ranked hit", "return !!document.querySelector('#results li[data-name=\"Ada Lovelace\"][aria-selected=true]')").await;
    shoot(client, "search").await;
    search.send_keys("\u{E007}").await.expect("pressing Enter");
    until(client, "the entity page", &shows("h1", "Ada Lovelace")).await;
    until(
        client,
        "its observations",
        &shows(".observation", "wrote the first program"),
    )
    .await;
    until(
        client,
        "where an observation came from",
        &shows(".observation .meta", "github.com/acme/engines"),
    )
    .await;
    assert!(
        until(
            client,
            "the session tag",
            &shows(".observation .meta", "seed-session")
        )
        .await
            == json!(true)
    );
    until(
        client,
        "the relation link",
        "return !!document.querySelector('.relations a[href=\"#/entity/Analytical%20Engine\"]')",
    )
    .await;
    until(
        client,
        "the graph",
        "return !!document.querySelector('#graph canvas')",
    )
    .await;

    // Another session writes; the page shows it without a reload.
    {
        let mut other = env.shim_with(
            &[],
            &[
                ("CLAUDE_CODE_SESSION_ID", "other-session"),
                ("MEMGRAPHD_PROJECT", "github.com/acme/notes"),
            ],
        );
        other.call_ok(
            "add_observations",
            json!({"observations": [{"entityName": "Ada Lovelace", "contents": ["described loops"]}]}),
        );
    }
    until(
        client,
        "the other session's observation",
        &shows(".observation", "described loops"),
    )
    .await;
    until(
        client,
        "its session",
        &shows(".observation .meta", "other-session"),
    )
    .await;
    shoot(client, "entity").await;

    // Edit an observation: supersede_observation, through the writer.
    let row = client
        .find(Locator::XPath(
            "//li[contains(@class,'observation')][.//p[text()='wrote the first program']]",
        ))
        .await
        .expect("the observation's row");
    row.find(Locator::Css("button.edit"))
        .await
        .expect("its Edit button")
        .click()
        .await
        .expect("clicking Edit");
    let box_ = client
        .find(Locator::Css("textarea.edit-box"))
        .await
        .expect("the edit box");
    box_.clear().await.expect("clearing it");
    box_.send_keys("wrote the first published program")
        .await
        .expect("typing");
    client
        .find(Locator::Css("button.save"))
        .await
        .expect("Save")
        .click()
        .await
        .expect("saving");
    until(
        client,
        "the edited observation",
        &shows(".observation", "wrote the first published program"),
    )
    .await;
    until(
        client,
        "the supersede in the history",
        &shows(".history .summary", "superseded an observation"),
    )
    .await;
    let stored = observations_of(env, "Ada Lovelace");
    assert!(
        stored.contains(&"wrote the first published program".to_owned()),
        "{stored:?}"
    );
    assert!(
        !stored.contains(&"wrote the first program".to_owned()),
        "{stored:?}"
    );

    // Undo it from the history: the newest change is the edit.
    client
        .find(Locator::Css(".history li.change button.undo"))
        .await
        .expect("the newest change's Undo")
        .click()
        .await
        .expect("clicking Undo");
    until(
        client,
        "the old text back",
        &shows(".observation .obs-text", "wrote the first program"),
    )
    .await;
    let stored = observations_of(env, "Ada Lovelace");
    assert!(
        stored.contains(&"wrote the first program".to_owned()),
        "{stored:?}"
    );

    // Undoing the entity's creation now conflicts with the later changes:
    // the page says why and offers to force it.
    let creation = client
        .find(Locator::XPath("(//ul[contains(@class,'history')]/li[.//span[contains(@class,'tool') and text()='create_entities']])[last()]//button[contains(@class,'undo')]"))
        .await
        .expect("the creation's Undo");
    creation.click().await.expect("clicking Undo");
    until(client, "the refusal", &shows(".undo-msg", "Not undone")).await;
    until(
        client,
        "the offer to force",
        "return !!document.querySelector('.undo-msg button.force')",
    )
    .await;
    assert!(
        !observations_of(env, "Ada Lovelace").is_empty(),
        "nothing was undone"
    );
    client
        .execute(
            "document.querySelector('.undo-msg:not([hidden])').scrollIntoView({block: 'center'})",
            Vec::new(),
        )
        .await
        .expect("scrolling to the refusal");
    shoot(client, "undo-refused").await;

    // The graph at depth 2 reaches Babbage through the engine; a click on
    // a node opens it.
    client
        .find(Locator::Id("depth"))
        .await
        .expect("the depth picker")
        .select_by_value("2")
        .await
        .expect("choosing depth 2");
    until(client, "Babbage in the graph",
        "const g = document.getElementById('graph')._cyreg; return !!g && !g.cy.getElementById('Charles Babbage').empty()").await;
    click_node(client, "Analytical Engine").await;
    until(
        client,
        "the followed entity",
        &shows("h1", "Analytical Engine"),
    )
    .await;
    until(
        client,
        "its observations",
        &shows(".observation", "never finished"),
    )
    .await;

    // A reload keeps the session (the cookie), with no token in the URL.
    client.refresh().await.expect("reloading");
    until(
        client,
        "the session after a reload",
        "return document.body.dataset.session === 'open'",
    )
    .await;
    until(client, "the same entity", &shows("h1", "Analytical Engine")).await;
    let url = client.current_url().await.expect("the URL");
    assert!(!url.as_str().contains("token"), "{url}");
    until(
        client,
        "the graph again",
        "return !!document.querySelector('#graph canvas')",
    )
    .await;
    shoot(client, "graph").await;

    // A narrow window still shows everything, one column.
    client
        .set_window_size(420, 860)
        .await
        .expect("a narrow window");
    until(client, "one column", "return getComputedStyle(document.querySelector('.columns')).gridTemplateColumns.split(' ').length === 1").await;
    until(
        client,
        "no sideways scrolling",
        "return document.documentElement.scrollWidth <= window.innerWidth",
    )
    .await;
    shoot(client, "narrow").await;
    client
        .set_window_size(1280, 800)
        .await
        .expect("a wide window");

    // Nothing broke the policy, and nothing was asked of another server.
    let violations = client
        .execute("return window.cspViolations", Vec::new())
        .await
        .expect("the violations");
    assert_eq!(violations, json!([]), "Content-Security-Policy violations");
    let requested = client
        .execute(
            "return performance.getEntriesByType('resource').map(e => e.name)",
            Vec::new(),
        )
        .await
        .expect("the resources");
    let requested = requested.as_array().expect("a list");
    assert!(!requested.is_empty());
    for url in requested {
        let url = url.as_str().unwrap_or_default();
        assert!(
            url.starts_with(&format!("{}/", view.base)),
            "a request elsewhere: {url}"
        );
    }

    // A spent link, in a browser without the session, says what to do.
    client
        .delete_all_cookies()
        .await
        .expect("forgetting the session");
    client.goto("about:blank").await.expect("leaving the view");
    client
        .goto(&view.url)
        .await
        .expect("opening the spent link");
    until(
        client,
        "the logged-out page",
        &shows("#ended", "memgraphd ui"),
    )
    .await;
    shoot(client, "link-spent").await;
}
