//! `memgraphd ui`: make sure the daemon runs, ask it to serve the web view,
//! print the login URL it answers and open it in the browser.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::client::{Client, ClientConfig, ClientError};
use crate::config::Paths;
use crate::protocol::{Op, Reply};

/// How long the browser opener may take to say it failed; one still
/// running after this is taken to have started the browser.
const OPENER_WAIT: Duration = Duration::from_secs(3);

/// Asks the daemon (started with `serve_args` if none runs) for the view's
/// URL with a fresh login token.
pub async fn url(
    paths: &Paths,
    serve_args: Vec<String>,
    port: Option<u16>,
) -> Result<String, ClientError> {
    let client = Client::new(ClientConfig {
        paths: paths.clone(),
        spawn: true,
        serve_args,
        client: "ui".into(),
    });
    match client.request(Op::Ui { port }).await? {
        Reply::Ui { url } => Ok(url),
        other => Err(ClientError::Refused(format!(
            "the daemon answered {other:?} to a request for the web view"
        ))),
    }
}

/// The command (and its first arguments) that opens a URL in the user's
/// browser here.
fn opener() -> (&'static str, &'static [&'static str]) {
    if cfg!(target_os = "macos") {
        ("open", &[])
    } else if cfg!(windows) {
        // `start` is a builtin of cmd; its first quoted argument is a title.
        ("cmd", &["/C", "start", ""])
    } else {
        ("xdg-open", &[])
    }
}

/// Opens `url` in the browser; why not, if it could not.
pub fn open_in_browser(url: &str) -> Result<(), String> {
    let (program, args) = opener();
    let mut child = Command::new(program)
        .args(args)
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("{program}: {e}"))?;
    let deadline = Instant::now() + OPENER_WAIT;
    while Instant::now() < deadline {
        match child.try_wait() {
            Ok(Some(status)) if status.success() => return Ok(()),
            Ok(Some(status)) => return Err(format!("{program} {status}")),
            Ok(None) => std::thread::sleep(Duration::from_millis(50)),
            Err(e) => return Err(format!("{program}: {e}")),
        }
    }
    Ok(())
}
