//! A peer that resets the connection (RST, SO_LINGER 0) at each point of an association: the check ends with exit
//! code 71 (peer closed the connection), never 60 (local I/O error), and within a second. A reset instead of an
//! A-RELEASE-RP is still healthy, with a warning, like a plain close there.
//!
//! The peer is a proxy in this test process on 127.0.0.1 in front of `echoprobe scp --bind 127.0.0.1`: it passes
//! whole PDUs both ways, and at the chosen point resets the client's connection.

use core::net::SocketAddr;
use core::time::Duration;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::Command;
use std::thread;

use echoprobe_tests::run;
use socket2::SockRef;

mod common;
use common::scp_on;

/// Reads one whole PDU; None on EOF or error.
fn read_pdu(s: &mut TcpStream) -> Option<Vec<u8>> {
    let mut header = [0u8; 6];
    s.read_exact(&mut header).ok()?;
    let len = u32::from_be_bytes([header[2], header[3], header[4], header[5]]) as usize;
    let mut pdu = header.to_vec();
    pdu.resize(6 + len, 0);
    s.read_exact(&mut pdu[6..]).ok()?;
    Some(pdu)
}

/// Where the proxy resets.
#[derive(Debug, Clone, Copy)]
enum At {
    /// Right after accepting, before reading anything.
    Accept,
    /// After reading the client's `n`-th PDU (1: the A-ASSOCIATE-RQ), without passing it on.
    AfterReading(usize),
}

/// Starts the resetting proxy for one connection; returns its address.
fn proxy(upstream: u16, at: At) -> (SocketAddr, thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let handle = thread::spawn(move || {
        let (mut client, _) = listener.accept().expect("accept");
        client
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        if let At::AfterReading(n) = at {
            let mut server = TcpStream::connect(("127.0.0.1", upstream)).expect("upstream");
            server
                .set_read_timeout(Some(Duration::from_secs(10)))
                .expect("timeout");
            for i in 1..=n {
                let pdu = read_pdu(&mut client).expect("the client's PDU");
                if i == n {
                    break;
                }
                server.write_all(&pdu).expect("to upstream");
                let answer = read_pdu(&mut server).expect("upstream's answer");
                client.write_all(&answer).expect("to client");
            }
        }
        SockRef::from(&client)
            .set_linger(Some(Duration::ZERO))
            .expect("SO_LINGER 0");
        drop(client); // RST
    });
    (addr, handle)
}

fn check(at: At, extra: &[&str]) -> echoprobe_tests::process::Outcome {
    let (_scp, port) = scp_on("127.0.0.1");
    let (addr, proxy) = proxy(port, at);
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_echoprobe"));
    cmd.args(["-v", "-ta", "5", "-td", "5", "--deadline", "10"])
        .args(extra)
        .args(["127.0.0.1", &addr.port().to_string()]);
    let out = run(&mut cmd, Duration::from_secs(20));
    proxy.join().expect("proxy");
    out
}

/// The check against a reset at `at`: 71 within a second, the error naming `words`.
fn reset_is_71(at: At, extra: &[&str], words: &str) {
    check(at, extra)
        .assert_code(71)
        .assert_within(Duration::from_secs(1))
        .assert_mentions(words);
}

#[test]
fn reset_right_after_accept_is_71() {
    reset_is_71(At::Accept, &[], "closed the connection");
}

#[test]
fn reset_after_reading_the_associate_rq_is_71() {
    reset_is_71(
        At::AfterReading(1),
        &[],
        "closed the connection before answering the A-ASSOCIATE-RQ",
    );
}

#[test]
fn reset_after_reading_the_echo_rq_is_71() {
    reset_is_71(
        At::AfterReading(2),
        &[],
        "closed the connection before the C-ECHO-RSP",
    );
}

#[test]
fn reset_after_reading_the_second_echo_rq_is_71() {
    reset_is_71(
        At::AfterReading(3),
        &["--repeat", "2"],
        "closed the connection before the C-ECHO-RSP",
    );
}

#[test]
fn reset_instead_of_a_release_rp_is_healthy_with_a_warning() {
    check(At::AfterReading(3), &[])
        .assert_code(0)
        .assert_within(Duration::from_secs(1))
        .assert_mentions("warning: 127.0.0.1:")
        .assert_mentions("instead of answering A-RELEASE-RQ");
}
