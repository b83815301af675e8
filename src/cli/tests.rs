//! Unit tests for the argument definitions.

use clap::CommandFactory;

use super::*;

#[test]
fn the_argument_definitions_are_consistent() {
    Cli::command().debug_assert();
}

#[test]
fn help_shows_how_to_register_with_an_mcp_client() {
    let help = Cli::command().render_long_help().to_string();
    assert!(
        help.contains("claude mcp add memory -s user -- memgraphd mcp"),
        "{help}"
    );
}

#[test]
fn a_spawned_daemon_gets_the_shims_settings() {
    let cli = Cli::try_parse_from([
        "memgraphd",
        "mcp",
        "--durability",
        "normal",
        "--idle-timeout",
        "2m",
    ])
    .expect("valid arguments");
    let Command::Mcp { daemon, .. } = cli.command else {
        panic!("parsed as another subcommand");
    };
    assert_eq!(
        daemon.as_serve_args(),
        ["--durability", "normal", "--idle-timeout", "120s"]
    );
}

#[test]
fn durations_parse_in_each_unit_up_to_the_largest() {
    let max = u64::MAX;
    for (text, secs) in [
        ("0", 0),
        ("90", 90),
        ("90s", 90),
        (" 30m ", 1_800),
        ("2h", 7_200),
        ("90d", 7_776_000),
        (&max.to_string(), max),
        (&format!("{max}s"), max),
        (&format!("{}m", max / 60), max / 60 * 60),
        (&format!("{}h", max / 3600), max / 3600 * 3600),
        (&format!("{}d", max / 86_400), max / 86_400 * 86_400),
    ] {
        assert_eq!(
            parse_duration(text),
            Ok(Duration::from_secs(secs)),
            "{text:?}"
        );
    }
}

#[test]
fn durations_past_the_largest_are_refused_not_wrapped() {
    let max = u64::MAX;
    for text in [
        format!("{}m", max / 60 + 1),
        format!("{}h", max / 3600 + 1),
        format!("{}d", max / 86_400 + 1),
        format!("{}", u128::from(max) + 1),
        format!("{}h", u128::from(max) * 10),
    ] {
        let err = parse_duration(&text).expect_err(&text);
        assert!(err.contains("is too long"), "{text}: {err}");
    }
}

#[test]
fn malformed_durations_say_what_a_duration_looks_like() {
    for (text, expected) in [
        ("", "is not a duration like 90s, 30m or 2h"),
        ("m", "is not a duration like 90s, 30m or 2h"),
        ("-5s", "is not a duration like 90s, 30m or 2h"),
        ("1.5h", "unknown unit \".5h\": use s, m, h or d"),
        ("5w", "unknown unit \"w\": use s, m, h or d"),
    ] {
        let err = parse_duration(text).expect_err(text);
        assert!(err.contains(expected), "{text:?}: {err}");
    }
}

#[test]
fn a_stop_that_times_out_says_so() {
    let err = CliError::Stop(AdminError::StopTimeout {
        pid: 42,
        waited: Duration::from_secs(30),
    });
    assert_eq!(
        crate::error_chain(&err),
        "stopping the daemon: the daemon (pid 42) did not stop within 30s"
    );
}
