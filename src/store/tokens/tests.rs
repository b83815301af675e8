use crate::store::{Store, StoreError};
use crate::tokens::hash;

#[test]
fn tokens_are_added_listed_touched_and_revoked() {
    let mut store = Store::open_in_memory().expect("a store");
    let alice = hash("mgd_alice");
    let added = store.add_token("alice", &alice, 1_000).expect("added");
    assert_eq!(
        (added.name.as_str(), added.created_at, added.last_used_at),
        ("alice", 1_000, None)
    );
    // A retried add is answered from the table, not refused.
    let again = store
        .add_token("alice", &alice, 2_000)
        .expect("the same token");
    assert_eq!(again.created_at, 1_000);
    assert!(matches!(
        store.add_token("alice", &hash("mgd_other"), 3_000),
        Err(StoreError::TokenExists(name)) if name == "alice"
    ));
    assert!(matches!(
        store.add_token("a b", &hash("x"), 3_000),
        Err(StoreError::TokenName(_))
    ));
    store
        .add_token("bob", &hash("mgd_bob"), 4_000)
        .expect("added");
    store
        .touch_tokens(&[("bob".into(), 5_000), ("nobody".into(), 5_000)])
        .expect("touched");
    store
        .touch_tokens(&[("bob".into(), 4_500)])
        .expect("an older use");
    let listed = store.list_tokens().expect("listed");
    let summary: Vec<_> = listed
        .iter()
        .map(|t| (t.name.as_str(), t.last_used_at))
        .collect();
    assert_eq!(summary, [("alice", None), ("bob", Some(5_000))]);
    let hashes = store.token_hashes().expect("hashes");
    assert!(hashes.contains(&("alice".into(), alice)));
    store.revoke_token("alice").expect("revoked");
    assert!(matches!(
        store.revoke_token("alice"),
        Err(StoreError::NoSuchToken(name)) if name == "alice"
    ));
    assert_eq!(store.token_hashes().expect("hashes").len(), 1);
}
