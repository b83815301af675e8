use proptest::prelude::*;

use super::*;

#[test]
fn a_cursor_round_trips_in_its_scope() {
    let scope = Scope::new(Tool::SearchNodes, ["tea", ""]);
    for position in [vec![0], vec![1], vec![u64::MAX], vec![7, 300]] {
        let cursor = scope.encode(&position);
        assert!(cursor.len() < 64, "{cursor}");
        assert!(cursor
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        assert_eq!(scope.decode(&cursor, position.len()), Ok(position));
    }
}

#[test]
fn a_cursor_of_another_tool_says_whose_it_is() {
    let cursor = Scope::new(Tool::ReadGraph, []).encode(&[5]);
    let err = Scope::new(Tool::SearchNodes, ["x"])
        .decode(&cursor, 1)
        .expect_err("another tool");
    assert_eq!(
        err.to_string(),
        "belongs to read_graph, not search_nodes; pass it to the tool that returned it"
    );
}

#[test]
fn a_cursor_of_another_query_is_refused() {
    let cursor = Scope::new(Tool::SearchNodes, ["tea"]).encode(&[5]);
    let err = Scope::new(Tool::SearchNodes, ["coffee"])
        .decode(&cursor, 1)
        .expect_err("another query");
    assert_eq!(
        err,
        CursorError::OtherArguments {
            tool: Tool::SearchNodes
        }
    );
    // Where one argument ends is part of the fingerprint.
    let a = Scope::new(Tool::OpenNodes, ["ab", "c"]).encode(&[1]);
    assert!(Scope::new(Tool::OpenNodes, ["a", "bc"])
        .decode(&a, 1)
        .is_err());
}

#[test]
fn garbage_is_malformed() {
    let scope = Scope::new(Tool::ReadGraph, []);
    for text in ["", "!!", "AAAA", "not a cursor", &"A".repeat(600)] {
        assert_eq!(scope.decode(text, 1), Err(CursorError::Malformed), "{text}");
    }
    // The right scope with the wrong number of fields.
    let two = scope.encode(&[1, 2]);
    assert_eq!(scope.decode(&two, 1), Err(CursorError::Malformed));
}

proptest! {
    #[test]
    fn base64url_round_trips(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        prop_assert_eq!(from_base64url(&base64url(&bytes)), Some(bytes));
    }

    #[test]
    fn any_text_decodes_without_panicking(text in ".{0,80}") {
        let _ = Scope::new(Tool::GetNeighbors, ["a"]).decode(&text, 2);
    }
}
