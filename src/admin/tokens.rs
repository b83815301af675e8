//! `memgraphd token add|list|revoke`: the bearer tokens of the HTTP face,
//! managed through the daemon (started if none runs), which alone writes
//! the token table and keeps its cache of valid tokens in step.
//!
//! `add` makes the token here, from the OS random generator, and sends only
//! its hash: the token itself is printed once and stored nowhere.

use std::fmt::Write as _;

use super::{client_with, AdminError};
use crate::config::Paths;
use crate::protocol::{Op, Reply, TokenInfo, TokenOp, TokenReply};

async fn ask(paths: &Paths, op: TokenOp) -> Result<TokenReply, AdminError> {
    match client_with(paths, "token", true)
        .request(Op::Token(op))
        .await?
    {
        Reply::Token(reply) => Ok(reply),
        _ => Err(AdminError::Reply),
    }
}

/// Makes a token for `name`; the text to print, with the token in it.
pub async fn add(paths: &Paths, name: &str) -> Result<String, AdminError> {
    crate::tokens::check_name(name).map_err(AdminError::Token)?;
    let token = crate::tokens::generate().map_err(|e| AdminError::Token(e.to_string()))?;
    let hash = crate::tokens::hash(&token);
    match ask(
        paths,
        TokenOp::Add {
            name: name.to_owned(),
            hash,
        },
    )
    .await?
    {
        TokenReply::Added(_) => Ok(format!(
            "{token}\n\
             This is the token for {name}; it is shown only this once. A client uses it as\n  \
             claude mcp add --transport http memory URL --header \"Authorization: Bearer {token}\"\n\
             where URL is the http: line of memgraphd status on the daemon's host."
        )),
        _ => Err(AdminError::Reply),
    }
}

/// Every token's name, creation and last use, as a table.
pub async fn list(paths: &Paths) -> Result<String, AdminError> {
    match ask(paths, TokenOp::List).await? {
        TokenReply::Listed(tokens) => Ok(format_list(&tokens)),
        _ => Err(AdminError::Reply),
    }
}

/// Revokes `name`.
pub async fn revoke(paths: &Paths, name: &str) -> Result<String, AdminError> {
    match ask(
        paths,
        TokenOp::Revoke {
            name: name.to_owned(),
        },
    )
    .await?
    {
        TokenReply::Revoked { name } => {
            Ok(format!("revoked the token {name}; its sessions are closed"))
        }
        _ => Err(AdminError::Reply),
    }
}

/// The table `token list` prints.
pub fn format_list(tokens: &[TokenInfo]) -> String {
    if tokens.is_empty() {
        return "no tokens; add one with memgraphd token add NAME".into();
    }
    let width = tokens
        .iter()
        .map(|t| t.name.chars().count())
        .max()
        .unwrap_or(4)
        .max(4);
    let mut out = format!("{:width$}  {:20}  last used", "name", "created");
    for token in tokens {
        let last = token.last_used_at.map_or_else(|| "never".to_owned(), utc);
        let _ = write!(
            out,
            "\n{:width$}  {:20}  {last}",
            token.name,
            utc(token.created_at)
        );
    }
    out
}

/// Milliseconds since the epoch as `YYYY-MM-DD HH:MM UTC`: the RFC 3339
/// form the tools print, cut to the minute for a table.
fn utc(millis: i64) -> String {
    let at = crate::shim::render::rfc3339(millis);
    match (at.get(..10), at.get(11..16)) {
        (Some(date), Some(time)) => format!("{date} {time} UTC"),
        _ => at,
    }
}

#[cfg(test)]
mod tests;
