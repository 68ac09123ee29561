//! The ready configs in examples/serve/ are what they say: HAProxy and promtool accept them, and the
//! `echoprobe-status` drop-in maps each calling convention to the right `echoprobe status NAME --http ADDR`.

use core::time::Duration;
use std::fs;
use std::path::PathBuf;
use std::process::Command;

use echoprobe_tests::monitoring::program;
use echoprobe_tests::process::TempDir;
use echoprobe_tests::{run, setup, Outcome};

fn example(file: &str) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../examples/serve")
        .join(file);
    path.canonicalize()
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

const HARD: Duration = Duration::from_secs(30);

#[test]
fn example_haproxy_cfg_is_valid() {
    setup();
    let haproxy =
        std::env::var_os("ECHOPROBE_HAPROXY").unwrap_or_else(|| "/usr/sbin/haproxy".into());
    run(
        Command::new(haproxy)
            .arg("-c")
            .arg("-f")
            .arg(example("haproxy.cfg")),
        HARD,
    )
    .assert_code(0);
}

#[test]
fn example_prometheus_yml_is_valid() {
    setup();
    let promtool = program("ECHOPROBE_PROMTOOL", "/usr/bin/promtool", "prometheus");
    run(
        Command::new(promtool)
            .args(["check", "config"])
            .arg(example("prometheus.yml")),
        HARD,
    )
    .assert_code(0)
    .assert_mentions("SUCCESS");
}

/// Runs the drop-in with a stand-in `echoprobe` that prints its arguments and exits 61, with ECHOPROBE_HTTP set.
fn status_script(args: &[&str], map: Option<&str>) -> Outcome {
    status_script_with(&[("ECHOPROBE_HTTP", "127.0.0.1:9999")], args, map)
}

/// The same with `env` (the address settings) instead.
fn status_script_with(env: &[(&str, &str)], args: &[&str], map: Option<&str>) -> Outcome {
    let dir = TempDir::new("echoprobe-status");
    let fake = dir.path().join("echoprobe");
    fs::write(&fake, "#!/bin/sh\necho \"$*\"\nexit 61\n").expect("write fake echoprobe");
    Command::new("chmod")
        .arg("+x")
        .arg(&fake)
        .status()
        .expect("chmod");
    let map_file = dir.path().join("targets.map");
    fs::write(&map_file, map.unwrap_or("")).expect("write map");
    let mut cmd = Command::new(example("echoprobe-status"));
    cmd.env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("ECHOPROBE", &fake)
        .envs(env.iter().copied())
        .env("ECHOPROBE_MAP", &map_file)
        .args(args);
    run(&mut cmd, HARD)
}

#[test]
fn echoprobe_status_drop_in_maps_its_arguments() {
    setup();
    status_script(&["pacs1"], None)
        .assert_code(61)
        .assert_stdout("status pacs1 --http 127.0.0.1:9999");
    let map = "# RIP:RPORT or RIP, name\n192.0.2.12 by-address\n192.0.2.11:104 pacs1\n[2001:db8::1]:104 v6\n";
    status_script(&["192.0.2.10", "104", "192.0.2.11", "104"], Some(map))
        .assert_stdout("status pacs1 --http");
    // RPORT 0: the virtual port; no line for RIP:RPORT but one for RIP.
    status_script(&["192.0.2.10", "104", "192.0.2.12", "0"], Some(map))
        .assert_stdout("status by-address --http");
    // ldirectord's bracketed IPv6.
    status_script(&["::", "104", "[2001:db8::1]", "104"], Some(map))
        .assert_stdout("status v6 --http");
    // No line at all: the name is RIP:RPORT.
    status_script(&["192.0.2.10", "104", "192.0.2.99", "11112"], Some(map))
        .assert_stdout("status 192.0.2.99:11112 --http");
    status_script(&["a", "b"], None)
        .assert_code(1)
        .assert_stderr("usage:");
    // Without ECHOPROBE_HTTP it asks the agent port (which has no TLS or basic auth).
    status_script_with(&[("ECHOPROBE_AGENT", "127.0.0.1:9998")], &["pacs1"], None)
        .assert_code(61)
        .assert_stdout("status pacs1 --agent 127.0.0.1:9998");
    status_script_with(&[], &["pacs1"], None).assert_stdout("status pacs1 --agent 127.0.0.1:5555");
}

/// The drop-in is POSIX sh that shellcheck finds nothing in (balancers run it with /bin/sh).
#[test]
fn echoprobe_status_drop_in_is_clean_posix_sh() {
    setup();
    run(
        Command::new("shellcheck")
            .args(["-s", "sh"])
            .arg(example("echoprobe-status")),
        HARD,
    )
    .assert_code(0);
    for shell in ["/bin/sh", "/bin/bash"] {
        run(
            Command::new(shell)
                .arg("-n")
                .arg(example("echoprobe-status")),
            HARD,
        )
        .assert_code(0);
    }
}
