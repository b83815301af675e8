//! Unit tests of the id scanner and the surrogate repair, table-driven: each
//! row is a raw line and what must be read from it.

use serde_json::{json, Value};

use super::*;

fn id_of(line: &str) -> Option<Value> {
    find_id(line.as_bytes(), line.as_bytes())
}

// ---- find_id -----------------------------------------------------------------

#[test]
fn the_id_of_a_broken_line_is_found_wherever_it_stands() {
    let cases: &[(&str, Value)] = &[
        // Cut short after the id (the forward scan).
        (r#"{"jsonrpc":"2.0","id":1,"#, json!(1)),
        (r#"{"jsonrpc":"2.0","id":"s""#, json!("s")),
        (
            r#"{"jsonrpc":"2.0","id":"abc","method":"tools/call","params":{"#,
            json!("abc"),
        ),
        (
            r#"  { "id" : 42 , "method": "ping", "params": {"x": nope} }"#,
            json!(42),
        ),
        (r#"{"id":-7.5e3,"method":}"#, json!(-7500.0)),
        // Broken before an id that comes last, as the TypeScript SDK writes
        // it (the backward scan).
        (
            r#"{"method":"tools/call","params":{"q": nope},"jsonrpc":"2.0","id":9}"#,
            json!(9),
        ),
        (
            r#"{"method":"x","params":[1,2,}],"id":"last"}  "#,
            json!("last"),
        ),
        (
            r#"{"method":"x","params":{"a":{"b":[}},"id" : 3 }"#,
            json!(3),
        ),
        // An id string with escapes, even a lone surrogate.
        (r#"{"id":"a\"b\\","method":}"#, json!("a\"b\\")),
        (r#"{"id":"x\ud83d","method":}"#, json!("x\u{FFFD}")),
    ];
    for (line, expected) in cases {
        assert_eq!(id_of(line).as_ref(), Some(expected), "{line}");
    }
}

#[test]
fn only_the_top_level_id_counts() {
    let cases = [
        // Nested ids, before and after the real one.
        (r#"{"params":{"id":5},"id":6,"x":}"#, Some(json!(6))),
        (r#"{"x":},"params":{"id":5},"id":6}"#, Some(json!(6))),
        (r#"{"params":{"id":5},"x":"#, None),
        (r#"{"x":}, "params":{"id":5}}"#, None),
        // "id" as a value, not a key.
        (r#"{"method":"id","x":"#, None),
        (r#"{"x":,"method":"id"}"#, None),
        // Keys inside strings are not keys.
        (r#"{"text":"\"id\":5","x":"#, None),
        (r#"{"x":,"text":"\"id\":5"}"#, None),
        (r#"{"x":,"text":"a\\\"id\":5"}"#, None),
    ];
    for (line, expected) in cases {
        assert_eq!(id_of(line), expected, "{line}");
    }
}

#[test]
fn no_id_is_found_where_there_is_none() {
    for line in [
        "",
        "not json at all",
        "[1, 2, 3]",
        r#""id""#,
        r#"{"jsonrpc":"2.0","method":"notifications/initialized""#,
        r#"{"id":null,"method":}"#,
        r#"{"id":true,"method":}"#,
        r#"{"id":{"a":1},"method":}"#,
        r#"{"id":[1],"method":}"#,
        r#"{"x":,"id":null}"#,
        r#"{"x":,"id":[1]}"#,
        r#"{"id":"unterminated"#,
        r#"{"id":"#,
        r#"{"id":12 34,"x":}"#,
        // A number at the very end may have been cut short.
        r#"{"jsonrpc":"2.0","id":12"#,
    ] {
        assert_eq!(id_of(line), None, "{line}");
    }
}

#[test]
fn the_id_of_a_long_line_is_read_from_its_head_or_its_tail() {
    let filler = "x".repeat(1000);
    let line = format!(r#"{{"method":"m","params":{{"q":"{filler}"}},"id":77}}"#);
    let bytes = line.as_bytes();
    // The head alone cuts a string short: nothing there, but the tail has it.
    let head = &bytes[..100];
    let tail = &bytes[bytes.len() - 100..];
    assert_eq!(find_id(head, head), None);
    assert_eq!(find_id(head, tail), Some(json!(77)));

    let line = format!(r#"{{"id":"first","method":"m","params":{{"q":"{filler}"}}}}"#);
    let bytes = line.as_bytes();
    assert_eq!(
        find_id(&bytes[..100], &bytes[bytes.len() - 100..]),
        Some(json!("first"))
    );
    // The tail alone starts inside a string: reading stops there.
    assert_eq!(find_id(b"", &bytes[bytes.len() - 100..]), None);
}

// ---- repair_surrogates -----------------------------------------------------------

fn repaired(line: &str) -> String {
    String::from_utf8(repair_surrogates(line.as_bytes()).into_owned()).expect("still UTF-8")
}

#[test]
fn lone_surrogates_become_the_replacement_character() {
    let cases = [
        (r#"{"a":"bad\ud83d"}"#, r#"{"a":"bad\ufffd"}"#),
        (r#"{"a":"\udc00x"}"#, r#"{"a":"\ufffdx"}"#),
        (r#"{"a":"\uD800\uD800"}"#, r#"{"a":"\ufffd\ufffd"}"#),
        (
            r#"{"a":"\uDFFF\uD83D\uDE00"}"#,
            r#"{"a":"\ufffd\uD83D\uDE00"}"#,
        ),
        (r#"{"a":"\ud83d\u0041"}"#, r#"{"a":"\ufffd\u0041"}"#),
        (r#"{"a":"\ud83d\n"}"#, r#"{"a":"\ufffd\n"}"#),
        (r#"{"\udc00":1}"#, r#"{"\ufffd":1}"#),
        (r#"["\ud800","ok","\udbff"]"#, r#"["\ufffd","ok","\ufffd"]"#),
    ];
    for (line, expected) in cases {
        assert_eq!(repaired(line), expected, "{line}");
        let value: Value = serde_json::from_str(&repaired(line)).expect("parses once repaired");
        assert!(value.to_string().contains('\u{FFFD}'), "{value}");
    }
}

#[test]
fn everything_else_is_left_exactly_as_it_was() {
    for line in [
        r#"{"a":"plain"}"#,
        // A valid pair, in either case.
        r#"{"a":"\ud83d\ude00"}"#,
        r#"{"a":"\uD83D\uDE00 \u00e9"}"#,
        // An escaped backslash before "ud800" is not an escape of a surrogate.
        r#"{"a":"\\ud800"}"#,
        r#"{"a":"\\\\ud800"}"#,
        // Outside strings nothing is touched, even what looks like an escape.
        r#"{"a":1} \ud800"#,
        // Malformed escapes are the strict parser's business.
        r#"{"a":"\ud8"}"#,
        r#"{"a":"\ud83"#,
        r#"{"a":"\u"#,
        "",
    ] {
        assert!(
            matches!(repair_surrogates(line.as_bytes()), Cow::Borrowed(_)),
            "{line}"
        );
    }
}

#[test]
fn a_repaired_line_parses_to_what_javascript_would_store() {
    let line = r#"{"name":"cut \ud83d","type":"\udc00x","pair":"\ud83d\ude00"}"#;
    assert!(
        serde_json::from_str::<Value>(line).is_err(),
        "serde_json refuses it raw"
    );
    let value: Value = serde_json::from_slice(&repair_surrogates(line.as_bytes())).expect("parses");
    assert_eq!(
        value,
        json!({"name": "cut \u{FFFD}", "type": "\u{FFFD}x", "pair": "😀"})
    );
}

// ---- properties ------------------------------------------------------------------

mod properties {
    //! Random messages: the scan agrees with a real parser wherever the line
    //! is whole, and neither function panics on any bytes.

    use proptest::prelude::*;
    use serde_json::{json, Map, Value};

    use super::super::{find_id, repair_surrogates};

    fn member_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<i64>().prop_map(|n| json!(n)),
            // Quotes, backslashes, braces and "id" inside strings.
            r#"[a-z"\\{}\[\]:, ]{0,12}|"id"|\\"#.prop_map(Value::String),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::vec(("[a-z]{1,3}|id", inner), 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    fn id() -> impl Strategy<Value = Value> {
        prop_oneof![
            any::<i64>().prop_map(|n| json!(n)),
            r#"[a-z0-9"\\ -]{0,10}"#.prop_map(Value::String),
        ]
    }

    /// A message with `id` among other members, at a random place.
    fn message() -> impl Strategy<Value = (String, Value)> {
        (
            id(),
            prop::collection::vec(("[a-hj-z]{1,6}", member_value()), 0..6),
            any::<prop::sample::Index>(),
        )
            .prop_map(|(id, members, at)| {
                let mut object = Map::new();
                let at = at.index(members.len() + 1);
                for (n, (key, value)) in members.into_iter().enumerate() {
                    if n == at {
                        object.insert("id".into(), id.clone());
                    }
                    object.insert(key, value);
                }
                object.entry("id").or_insert(id.clone());
                (Value::Object(object).to_string(), id)
            })
    }

    proptest! {
        #[test]
        fn the_id_of_a_whole_message_is_found(message in message()) {
            let (line, id) = message;
            prop_assert_eq!(find_id(line.as_bytes(), line.as_bytes()), Some(id.clone()));
            // Each direction on its own finds it too.
            prop_assert_eq!(find_id(line.as_bytes(), b""), Some(id.clone()));
            prop_assert_eq!(find_id(b"", line.as_bytes()), Some(id));
        }

        #[test]
        fn a_cut_message_yields_its_id_or_nothing(message in message(), cut in any::<prop::sample::Index>()) {
            let (line, id) = message;
            let bytes = line.as_bytes();
            let cut = cut.index(bytes.len() + 1);
            for found in [find_id(&bytes[..cut], &bytes[cut..]), find_id(&bytes[..cut], b"")] {
                prop_assert!(found.is_none() || found.as_ref() == Some(&id), "{line} cut at {cut}: {found:?}");
            }
        }

        #[test]
        fn any_bytes_are_read_without_a_panic(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
            let _ = find_id(&bytes, &bytes);
            let repaired = repair_surrogates(&bytes);
            prop_assert_eq!(repaired.len(), bytes.len());
        }

        #[test]
        fn a_line_serde_json_accepts_is_never_changed(value in member_value()) {
            let line = value.to_string();
            prop_assert!(matches!(repair_surrogates(line.as_bytes()), std::borrow::Cow::Borrowed(_)));
        }
    }
}
