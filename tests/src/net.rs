//! Loopback ports.

use core::net::Ipv4Addr;
use core::time::Duration;
use std::collections::HashSet;
use std::fs;
use std::net::TcpListener;
use std::process::Command;
use std::sync::Mutex;
use std::thread;
use std::time::Instant;

use crate::process::Peer;

/// A TCP port on 127.0.0.1 that nobody listens on now and that this process has not handed out
/// before (the kernel may return a just-freed port again; tests in one process run in parallel).
pub fn free_port() -> u16 {
    static GIVEN: Mutex<Option<HashSet<u16>>> = Mutex::new(None);
    for _ in 0..100 {
        let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .and_then(|l| l.local_addr())
            .expect("bind 127.0.0.1:0")
            .port();
        let mut given = GIVEN.lock().unwrap_or_else(|e| e.into_inner());
        if given.get_or_insert_with(HashSet::new).insert(port) {
            return port;
        }
    }
    panic!("no fresh loopback port after 100 tries");
}

/// Whether a socket of this namespace listens on TCP `port` (any address, IPv4 or IPv6).
///
/// Reads `/proc/self/net/tcp{,6}` instead of connecting, so the peer never sees a stray
/// connection.
pub fn is_listening(port: u16) -> bool {
    let want = format!(":{port:04X}");
    ["/proc/self/net/tcp", "/proc/self/net/tcp6"]
        .iter()
        .any(|table| {
            fs::read_to_string(table).is_ok_and(|text| {
                text.lines().skip(1).any(|line| {
                    let mut fields = line.split_whitespace();
                    let local = fields.nth(1).unwrap_or("");
                    let state = fields.nth(1).unwrap_or("");
                    state == "0A" && local.ends_with(&want)
                })
            })
        })
}

/// Spawns `cmd` as the peer `name` and waits until it listens on `port` ([`wait_listening`]).
pub fn spawn_listening(name: &str, cmd: &mut Command, port: u16, timeout: Duration) -> Peer {
    let mut peer = Peer::spawn(name, cmd);
    wait_listening(&mut peer, port, timeout);
    peer
}

/// Wait until `port` listens, at most `timeout`. Fails the test (with the peer's log) if the peer
/// exits first or the time runs out.
pub fn wait_listening(peer: &mut Peer, port: u16, timeout: Duration) {
    let start = Instant::now();
    loop {
        if is_listening(port) {
            return;
        }
        if let Some(status) = peer.try_exit() {
            panic!(
                "{} exited with {status} before listening on port {port}; its log:\n{}",
                peer.name(),
                peer.log()
            );
        }
        if start.elapsed() > timeout {
            panic!(
                "{} did not listen on port {port} within {timeout:?}; its log:\n{}",
                peer.name(),
                peer.log()
            );
        }
        thread::sleep(Duration::from_millis(20));
    }
}
