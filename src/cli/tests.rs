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
