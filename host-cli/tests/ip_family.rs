//! `-i4/--ipv4`, `-i6/--ipv6`, `-i0/--ip-auto` (DCMTK 3.6.8's IP protocol version options) through the built
//! binary, against `echoprobe scp` on 127.0.0.1 and on ::1 (loopback only).

use core::net::SocketAddr;
use core::time::Duration;
use std::net::ToSocketAddrs;
use std::process::Command;

use echoprobe_tests::process::{Outcome, Peer};
use echoprobe_tests::run;

mod common;

/// `echoprobe scp` bound to `bind` (127.0.0.1 or ::1), any free port: the guard and the port.
fn scp(bind: &str) -> (Peer, String) {
    let (peer, port) = common::scp_on(bind);
    (peer, port.to_string())
}

fn echoprobe(args: &[&str]) -> Outcome {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_echoprobe"));
    cmd.args(["-v", "-to", "2", "--deadline", "10"]).args(args);
    run(&mut cmd, Duration::from_secs(20))
}

#[test]
fn literals_of_the_other_family_are_refused_before_connecting() {
    let (_v4, port4) = scp("127.0.0.1");
    let (_v6, port6) = scp("::1");
    for flag in ["-i4", "--ipv4", "-i0", "--ip-auto"] {
        echoprobe(&[flag, "127.0.0.1", &port4])
            .assert_code(0)
            .assert_mentions("Connected to 127.0.0.1:");
    }
    for flag in ["-i6", "--ipv6", "-i0", "--ip-auto"] {
        echoprobe(&[flag, "::1", &port6])
            .assert_code(0)
            .assert_mentions("Connected to [::1]:");
    }
    echoprobe(&["-i4", "::1", &port6])
        .assert_code(60)
        .assert_mentions("::1 is not an IPv4 (-i4) address");
    echoprobe(&["-i6", "127.0.0.1", &port4])
        .assert_code(60)
        .assert_mentions("127.0.0.1 is not an IPv6 (-i6) address");
    // The last of -i4/-i6/-i0 wins.
    echoprobe(&["-i6", "-i4", "127.0.0.1", &port4]).assert_code(0);
}

#[test]
fn localhost_by_family() {
    let (_v4, port4) = scp("127.0.0.1");
    let (_v6, port6) = scp("::1");
    // What this machine's resolver says localhost is (/etc/hosts may or may not list ::1 for it).
    let system: Vec<SocketAddr> = ("localhost", 1)
        .to_socket_addrs()
        .expect("localhost resolves")
        .collect();
    let has_v4 = system.iter().any(SocketAddr::is_ipv4);
    let has_v6 = system.iter().any(SocketAddr::is_ipv6);
    assert!(has_v4, "localhost has no IPv4 address: {system:?}");
    echoprobe(&["-i4", "localhost", &port4])
        .assert_code(0)
        .assert_mentions("Connected to 127.0.0.1:");
    // The IPv4 SCP's port on ::1: nobody listens there (or, rarely, someone else does; never healthy as IPv4).
    let out = echoprobe(&["-i6", "localhost", &port6]);
    if has_v6 {
        out.assert_code(0).assert_mentions("Connected to [::1]:");
    } else {
        out.assert_code(60)
            .assert_mentions("cannot resolve 'localhost': no IPv6 (-i6) address");
    }
    // -i4 never tries ::1: the IPv6 SCP's port on 127.0.0.1 is refused (63).
    echoprobe(&["-i4", "localhost", &port6]).assert_code(63);
}
