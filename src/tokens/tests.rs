use super::*;

#[test]
fn tokens_are_random_prefixed_and_hash_to_their_digest() {
    let a = generate().expect("a token");
    let b = generate().expect("a token");
    assert_ne!(a, b);
    assert!(a.starts_with("mgd_") && a.len() == 68, "{a}");
    assert!(digests_equal(&hash(&a), &hash(&a)));
    assert!(!digests_equal(&hash(&a), &hash(&b)));
}

#[test]
fn names_are_checked() {
    for good in ["alice", "bob@example.com", "ci-runner_2", "é"] {
        assert_eq!(check_name(good), Ok(()), "{good}");
    }
    for bad in ["", "a b", "a/b", "x\n", &"n".repeat(65)] {
        assert!(check_name(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn the_cache_knows_valid_tokens_until_revoked() {
    let cache = TokenCache::default();
    let mut revoked = cache.revocations();
    let token = generate().expect("a token");
    assert_eq!(cache.check(&token), None);
    cache.load([("alice".to_owned(), hash(&token))]);
    assert_eq!(
        cache.check(&token),
        Some(("alice".to_owned(), hash(&token)))
    );
    assert_eq!(cache.check("mgd_wrong"), None);
    cache.revoke("alice");
    assert_eq!(cache.check(&token), None);
    assert_eq!(revoked.try_recv().ok().as_deref(), Some("alice"));
}
