//! The token table: names and SHA-256 digests of the HTTP face's bearer
//! tokens (see `crate::tokens`). Each change is its own small transaction;
//! tokens change rarely, so they never join a group commit.

use rusqlite::{params, OptionalExtension, TransactionBehavior};

use super::{Store, StoreError};
use crate::protocol::TokenInfo;
use crate::tokens::TokenHash;

impl Store {
    /// Stores a new token. Adding the same name with the same digest again
    /// (a retried request) answers the stored token; another digest under a
    /// taken name is refused.
    pub fn add_token(
        &mut self,
        name: &str,
        hash: &TokenHash,
        now: i64,
    ) -> Result<TokenInfo, StoreError> {
        if let Some(reason) = &self.read_only {
            return Err(StoreError::ReadOnly(reason.clone()));
        }
        crate::tokens::check_name(name).map_err(StoreError::TokenName)?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let existing: Option<(Vec<u8>, i64, Option<i64>)> = tx
            .query_row(
                "SELECT hash, created_at, last_used_at FROM tokens WHERE name = ?1",
                [name],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        if let Some((stored, created_at, last_used_at)) = existing {
            if stored.as_slice() == hash.as_slice() {
                return Ok(TokenInfo {
                    name: name.to_owned(),
                    created_at,
                    last_used_at,
                });
            }
            return Err(StoreError::TokenExists(name.to_owned()));
        }
        tx.execute(
            "INSERT INTO tokens (name, hash, created_at) VALUES (?1, ?2, ?3)",
            params![name, hash.as_slice(), now],
        )?;
        tx.commit()?;
        Ok(TokenInfo {
            name: name.to_owned(),
            created_at: now,
            last_used_at: None,
        })
    }

    /// Every token, by name.
    pub fn list_tokens(&self) -> Result<Vec<TokenInfo>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT name, created_at, last_used_at FROM tokens ORDER BY name")?;
        let rows = stmt.query_map([], |r| {
            Ok(TokenInfo {
                name: r.get(0)?,
                created_at: r.get(1)?,
                last_used_at: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Deletes the token `name`.
    pub fn revoke_token(&mut self, name: &str) -> Result<(), StoreError> {
        if let Some(reason) = &self.read_only {
            return Err(StoreError::ReadOnly(reason.clone()));
        }
        let deleted = self
            .conn
            .execute("DELETE FROM tokens WHERE name = ?1", [name])?;
        if deleted == 0 {
            return Err(StoreError::NoSuchToken(name.to_owned()));
        }
        Ok(())
    }

    /// The digest of every token, for the daemon's cache.
    pub fn token_hashes(&self) -> Result<Vec<(String, TokenHash)>, StoreError> {
        let mut stmt = self.conn.prepare("SELECT name, hash FROM tokens")?;
        let rows = stmt.query_map([], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?))
        })?;
        let mut tokens = Vec::new();
        for row in rows {
            let (name, hash) = row?;
            // A digest of another length cannot match any token: skip it.
            if let Ok(hash) = TokenHash::try_from(hash.as_slice()) {
                tokens.push((name, hash));
            }
        }
        Ok(tokens)
    }

    /// Records when tokens were last used.
    pub fn touch_tokens(&mut self, used: &[(String, i64)]) -> Result<(), StoreError> {
        if self.read_only.is_some() || used.is_empty() {
            return Ok(());
        }
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        {
            let mut stmt = tx.prepare_cached(
                "UPDATE tokens SET last_used_at = max(coalesce(last_used_at, 0), ?2) WHERE name = ?1",
            )?;
            for (name, at) in used {
                stmt.execute(params![name, at])?;
            }
        }
        tx.commit()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests;
