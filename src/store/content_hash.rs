//! The hash that finds an observation by its text among its entity's.
//!
//! An entity never holds the same observation twice. Until migration 10 a
//! `UNIQUE (entity_id, content)` index kept that, and held a second copy of
//! every observation's text: a sixth of the file. Now `observations` keeps
//! `content_hash`, an index on `(entity_id, content_hash)` finds the rows
//! that may hold a text, and the text itself is compared, so two texts of
//! one hash are still told apart.
//!
//! The hash is stored, so it must never change: FNV-1a, 64 bits, over the
//! text's UTF-8 bytes, as SQLite's signed integer. SQL reaches it as
//! `memgraphd_content_hash(text)`, registered on every connection the store
//! opens.

const OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
const PRIME: u64 = 0x0000_0100_0000_01b3;

/// The SQL function's name.
pub(super) const SQL_FUNCTION: &str = "memgraphd_content_hash";

/// The id of entity `?1`'s observation whose text is `?2`, if it has one.
pub(super) const FIND_OBSERVATION: &str = "SELECT id FROM observations
     WHERE entity_id = ?1 AND content_hash = memgraphd_content_hash(?2) AND content = ?2";

/// The hash of an observation's text.
pub(super) fn content_hash(content: &str) -> i64 {
    let hash = content.bytes().fold(OFFSET_BASIS, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(PRIME)
    });
    // The same 64 bits, as SQLite stores integers.
    hash as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_is_fnv1a_64_and_never_changes() {
        // Published FNV-1a test vectors, so a change to the function (which
        // would orphan every stored hash) cannot pass unnoticed.
        assert_eq!(content_hash("") as u64, 0xcbf2_9ce4_8422_2325);
        assert_eq!(content_hash("a") as u64, 0xaf63_dc4c_8601_ec8c);
        assert_eq!(content_hash("foobar") as u64, 0x8594_4171_f739_67e8);
    }

    #[test]
    fn the_hash_reads_bytes_so_case_and_accents_differ() {
        assert_ne!(content_hash("Café"), content_hash("cafe"));
        assert_ne!(content_hash("Note"), content_hash("note"));
    }
}
