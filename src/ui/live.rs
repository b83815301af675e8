//! Recent changes, live: `/api/live` is a stream of server-sent events, one
//! `change` event per committed change, from any session, socket or HTTP.
//!
//! The change feed says only that something was written, so on each notice
//! the stream reads the newest page of history and sends the changes it has
//! not sent yet, oldest first. Notices that pile up while it reads are
//! answered by the same read (a lagged feed is one more notice), so a burst
//! of writes costs a few reads, not one per write. While a stream is open
//! the daemon counts as in use and its idle timeout waits, and the stream
//! keeps its session in use; it ends when the session does.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::Extension;
use futures_util::stream::Stream;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

use super::api::change_json;
use super::guard::SessionCookie;
use super::App;
use crate::daemon::actor::{Change, DbHandle};
use crate::model::{ChangeInfo, GraphOp, HistoryQuery, Outcome};

/// Changes read per notice; more written between two reads are the page's
/// to show ("load more"), not the stream's.
const PER_READ: u32 = 50;
/// How often an idle stream sends a comment, so that proxies and the
/// browser keep it open.
const KEEP_ALIVE: Duration = Duration::from_secs(15);
/// How often a stream checks that its session is still open.
const SESSION_CHECK: Duration = Duration::from_secs(60);

/// Counts the stream as open until it ends.
struct Open(Arc<AtomicU64>);

impl Open {
    fn new(count: Arc<AtomicU64>) -> Open {
        count.fetch_add(1, Ordering::Relaxed);
        Open(count)
    }
}

impl Drop for Open {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

struct Live {
    app: Arc<App>,
    cookie: String,
    check: tokio::time::Interval,
    db: DbHandle,
    changes: broadcast::Receiver<Change>,
    stop: CancellationToken,
    /// The newest change sent (or there when the stream began).
    last: i64,
    pending: VecDeque<ChangeInfo>,
    _open: Open,
}

async fn newest(db: &DbHandle) -> Vec<ChangeInfo> {
    let op = GraphOp::History(HistoryQuery {
        name: None,
        since: None,
        project: None,
        limit: PER_READ,
        before: None,
    });
    match db.run(op, None, 0).await {
        Ok(Outcome::History(page)) => page.changes,
        Ok(_) => Vec::new(),
        Err(e) => {
            tracing::warn!("the web view's live stream could not read history: {e}");
            Vec::new()
        }
    }
}

/// The stream of a page that opened `/api/live`.
pub async fn stream(
    State(app): State<Arc<App>>,
    Extension(SessionCookie(cookie)): Extension<SessionCookie>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    // Subscribed before the first read, so no change falls in between.
    let changes = app.db.subscribe();
    let last = newest(&app.db).await.first().map_or(0, |c| c.id);
    let mut check = tokio::time::interval(SESSION_CHECK);
    check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let live = Live {
        app: app.clone(),
        cookie,
        check,
        db: app.db.clone(),
        changes,
        stop: app.stop.clone(),
        last,
        pending: VecDeque::new(),
        _open: Open::new(app.streams.clone()),
    };
    let events = futures_util::stream::unfold(live, |mut live| async move {
        loop {
            if let Some(change) = live.pending.pop_front() {
                let event = Event::default()
                    .event("change")
                    .id(change.id.to_string())
                    .data(change_json(&change).to_string());
                return Some((Ok(event), live));
            }
            tokio::select! {
                notice = live.changes.recv() => match notice {
                    Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                    Err(broadcast::error::RecvError::Closed) => return None,
                },
                _ = live.stop.cancelled() => return None,
                _ = live.check.tick() => {
                    // An open page is a session in use; an ended session's
                    // page hears the stream end and finds out why.
                    live.app.auth.session(&live.cookie, Instant::now())?;
                    continue;
                }
            }
            // Notices already queued are covered by the read below.
            while live.changes.try_recv().is_ok() {}
            let last = live.last;
            let mut fresh: Vec<ChangeInfo> = newest(&live.db)
                .await
                .into_iter()
                .filter(|c| c.id > last)
                .collect();
            fresh.reverse();
            if let Some(newest) = fresh.last() {
                live.last = newest.id;
            }
            live.pending.extend(fresh);
        }
    });
    Sse::new(events).keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
}
