//! Exit codes for peers that misbehave in ways real servers rarely do on demand: each test runs the echo check
//! against a scripted peer on 127.0.0.1 that answers with DCMTK's real bytes (captured from storescp 3.6.7, see
//! `DCMTK_AC` and `DCMTK_ECHO_RSP`) up to the point where it misbehaves. The interop suite in `tests/` covers the
//! well-behaved real peers.

use core::time::Duration;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread::JoinHandle;

use crate::args::{self, Invocation, Verbosity};
use crate::echo::{check, CheckResult};
use crate::exit::Failure;
use crate::log::Log;
use crate::net::Clock;

/// A-ASSOCIATE-AC from DCMTK storescp 3.6.7: context 1 accepted with Implicit VR Little Endian, max PDU 16384.
const DCMTK_AC: &str = "
    02 00 00 00 00 b8 00 01 00 00 4c 42 2d 53 43 50 20 20 20 20 20 20 20 20 20 20 4c 4f 41 44 42 41
    4c 41 4e 43 45 52 20 20 20 20 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
    00 00 00 00 00 00 00 00 00 00 10 00 00 15 31 2e 32 2e 38 34 30 2e 31 30 30 30 38 2e 33 2e 31 2e
    31 2e 31 21 00 00 19 01 00 00 00 40 00 00 11 31 2e 32 2e 38 34 30 2e 31 30 30 30 38 2e 31 2e 32
    50 00 00 3a 51 00 00 04 00 00 40 00 52 00 00 1b 31 2e 32 2e 32 37 36 2e 30 2e 37 32 33 30 30 31
    30 2e 33 2e 30 2e 33 2e 36 2e 37 55 00 00 0f 4f 46 46 49 53 5f 44 43 4d 54 4b 5f 33 36 37";

/// P-DATA-TF with DCMTK's C-ECHO-RSP to message 1, status 0x0000 (the last two bytes).
const DCMTK_ECHO_RSP: &str = "
    04 00 00 00 00 54 00 00 00 50 01 03 00 00 00 00 04 00 00 00 42 00 00 00 00 00 02 00 12 00 00 00
    31 2e 32 2e 38 34 30 2e 31 30 30 30 38 2e 31 2e 31 00 00 00 00 01 02 00 00 00 30 80 00 00 20 01
    02 00 00 00 01 00 00 00 00 08 02 00 00 00 01 01 00 00 00 09 02 00 00 00 00 00";

const RELEASE_RP: &str = "06 00 00 00 00 04 00 00 00 00";
const ABORT_PROVIDER: &str = "07 00 00 00 00 04 00 00 02 00";
const REJECT_1_1_3: &str = "03 00 00 00 00 04 00 01 01 03";

fn hex(s: &str) -> Vec<u8> {
    s.split_whitespace()
        .map(|b| u8::from_str_radix(b, 16).unwrap())
        .collect()
}

fn echo_rsp(status: u16) -> Vec<u8> {
    let mut pdu = hex(DCMTK_ECHO_RSP);
    let n = pdu.len();
    pdu[n - 2..].copy_from_slice(&status.to_le_bytes());
    pdu
}

/// Reads one whole PDU; None on EOF or after 5 s.
fn read_pdu(s: &mut TcpStream) -> Option<Vec<u8>> {
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut header = [0u8; 6];
    s.read_exact(&mut header).ok()?;
    let len = u32::from_be_bytes([header[2], header[3], header[4], header[5]]) as usize;
    let mut pdu = header.to_vec();
    pdu.resize(6 + len, 0);
    s.read_exact(&mut pdu[6..]).ok()?;
    Some(pdu)
}

/// A peer on 127.0.0.1 that accepts one connection and runs `script` on it.
fn peer(script: impl FnOnce(TcpStream) + Send + 'static) -> (u16, JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let handle = std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        script(stream);
    });
    (port, handle)
}

fn run_check(port: u16, extra: &[&str]) -> CheckResult {
    let mut argv: Vec<String> = ["-q", "--deadline", "5"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    argv.extend(extra.iter().map(|s| s.to_string()));
    argv.extend(["127.0.0.1".to_string(), port.to_string()]);
    let Ok(Invocation::Echo(o, _)) = args::parse("echoprobe", argv) else {
        panic!()
    };
    check(
        &Clock::start(),
        &o,
        &Log::new("echoprobe", Verbosity::Quiet),
    )
}

/// Accept the association and answer the first C-ECHO-RQ with `status`.
fn accept_and_answer(s: &mut TcpStream, status: u16) {
    let rq = read_pdu(s).unwrap();
    assert_eq!(rq[0], 0x01);
    s.write_all(&hex(DCMTK_AC)).unwrap();
    let echo = read_pdu(s).unwrap();
    assert_eq!(echo[0], 0x04);
    s.write_all(&echo_rsp(status)).unwrap();
}

#[test]
fn healthy_against_dcmtk_bytes() {
    let (port, h) = peer(|mut s| {
        accept_and_answer(&mut s, 0x0000);
        assert_eq!(read_pdu(&mut s).unwrap()[0], 0x05);
        s.write_all(&hex(RELEASE_RP)).unwrap();
    });
    let r = run_check(port, &[]);
    h.join().unwrap();
    assert_eq!(r.code(), 0, "{r:?}");
    assert_eq!((r.stats.sent, r.stats.ok), (1, 1));
    assert_eq!(r.negotiated.unwrap().peer_max_pdu, 16384);
}

#[test]
fn release_answered_by_close_is_healthy_with_a_warning() {
    let (port, h) = peer(|mut s| {
        accept_and_answer(&mut s, 0x0000);
        assert_eq!(read_pdu(&mut s).unwrap()[0], 0x05);
    });
    let r = run_check(port, &[]);
    h.join().unwrap();
    assert_eq!(r.code(), 0, "{r:?}");
    assert_eq!(r.verdict, Ok(echoprobe_core::check::Release::ClosedByPeer));
}

#[test]
fn failure_status_is_68() {
    let (port, h) = peer(|mut s| {
        accept_and_answer(&mut s, 0x0110);
        if read_pdu(&mut s).is_some_and(|p| p[0] == 0x05) {
            let _ = s.write_all(&hex(RELEASE_RP));
        }
    });
    let r = run_check(port, &[]);
    h.join().unwrap();
    assert_eq!(r.code(), 68, "{r:?}");
    assert!(
        matches!(
            r.verdict,
            Err(Failure::EchoStatus {
                status: 0x0110,
                message_id: 1,
                ..
            })
        ),
        "{r:?}"
    );
}

#[test]
fn warning_status_is_not_healthy_either() {
    let (port, h) = peer(|mut s| {
        accept_and_answer(&mut s, 0xB000);
        let _ = read_pdu(&mut s);
    });
    let r = run_check(port, &[]);
    h.join().unwrap();
    assert_eq!(r.code(), 68, "{r:?}");
}

#[test]
fn reject_is_61() {
    let (port, h) = peer(|mut s| {
        read_pdu(&mut s).unwrap();
        s.write_all(&hex(REJECT_1_1_3)).unwrap();
    });
    let r = run_check(port, &[]);
    h.join().unwrap();
    assert_eq!(r.code(), 61, "{r:?}");
    let Err(Failure::Rejected { detail, .. }) = &r.verdict else {
        panic!("{r:?}")
    };
    assert!(detail.ends_with("(1/1/3)"), "{detail}");
}

#[test]
fn close_instead_of_ac_is_71() {
    let (port, h) = peer(|mut s| {
        read_pdu(&mut s).unwrap();
    });
    let r = run_check(port, &[]);
    h.join().unwrap();
    assert_eq!(r.code(), 71, "{r:?}");
    assert!(r
        .verdict
        .unwrap_err()
        .to_string()
        .ends_with("before answering the A-ASSOCIATE-RQ"));
}

#[test]
fn close_instead_of_rsp_is_71() {
    let (port, h) = peer(|mut s| {
        read_pdu(&mut s).unwrap();
        s.write_all(&hex(DCMTK_AC)).unwrap();
        read_pdu(&mut s).unwrap();
    });
    let r = run_check(port, &[]);
    h.join().unwrap();
    assert_eq!(r.code(), 71, "{r:?}");
    assert!(r
        .verdict
        .unwrap_err()
        .to_string()
        .ends_with("before the C-ECHO-RSP"));
}

#[test]
fn no_rsp_is_a_dimse_timeout_67() {
    let (port, h) = peer(|mut s| {
        read_pdu(&mut s).unwrap();
        s.write_all(&hex(DCMTK_AC)).unwrap();
        read_pdu(&mut s).unwrap();
        // Say nothing until the check gives up (it aborts and closes).
        let _ = read_pdu(&mut s);
    });
    let r = run_check(port, &["-td", "0.3"]);
    h.join().unwrap();
    assert_eq!(r.code(), 67, "{r:?}");
    assert!(r.total < Duration::from_secs(3), "{r:?}");
}

#[test]
fn abort_instead_of_rsp_is_70() {
    let (port, h) = peer(|mut s| {
        read_pdu(&mut s).unwrap();
        s.write_all(&hex(DCMTK_AC)).unwrap();
        read_pdu(&mut s).unwrap();
        s.write_all(&hex(ABORT_PROVIDER)).unwrap();
    });
    let r = run_check(port, &[]);
    h.join().unwrap();
    assert_eq!(r.code(), 70, "{r:?}");
    let Err(Failure::Aborted { detail, .. }) = &r.verdict else {
        panic!("{r:?}")
    };
    assert!(detail.ends_with("(2/0)"), "{detail}");
}

#[test]
fn garbage_is_a_violation_69() {
    let (port, h) = peer(|mut s| {
        read_pdu(&mut s).unwrap();
        s.write_all(&hex("09 00 00 00 00 02 00 00")).unwrap();
        // We answer with A-ABORT.
        let abort = read_pdu(&mut s);
        assert_eq!(abort.map(|p| p[0]), Some(0x07));
    });
    let r = run_check(port, &[]);
    h.join().unwrap();
    assert_eq!(r.code(), 69, "{r:?}");
}

#[test]
fn slow_peer_hits_the_deadline_72() {
    let (port, h) = peer(|mut s| {
        read_pdu(&mut s).unwrap();
        s.write_all(&hex(DCMTK_AC)).unwrap();
        read_pdu(&mut s).unwrap();
        let _ = read_pdu(&mut s);
    });
    // -td longer than the whole deadline: the deadline decides.
    let r = run_check(port, &["-td", "20", "--deadline", "0.4"]);
    h.join().unwrap();
    assert_eq!(r.code(), 72, "{r:?}");
    assert!(r.total < Duration::from_secs(3), "{r:?}");
}

#[test]
fn no_accepted_context_is_65() {
    let mut ac = hex(DCMTK_AC);
    let pc = ac
        .windows(5)
        .position(|w| w == [0x21, 0x00, 0x00, 0x19, 0x01])
        .unwrap();
    ac[pc + 6] = 3; // result: abstract-syntax-not-supported
    let (port, h) = peer(move |mut s| {
        read_pdu(&mut s).unwrap();
        s.write_all(&ac).unwrap();
        // We end the association (release or abort); answer a release so it ends cleanly.
        if read_pdu(&mut s).is_some_and(|p| p[0] == 0x05) {
            let _ = s.write_all(&hex(RELEASE_RP));
        }
    });
    let r = run_check(port, &[]);
    h.join().unwrap();
    assert_eq!(r.code(), 65, "{r:?}");
}

/// A listener whose accept queue is full: Linux drops further SYNs, like a black-holed address would.
#[cfg(target_os = "linux")]
fn black_hole() -> (socket2::Socket, Vec<TcpStream>, u16) {
    use socket2::{Domain, Protocol, Socket, Type};
    let listener = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP)).unwrap();
    listener
        .bind(&core::net::SocketAddr::from(([127, 0, 0, 1], 0)).into())
        .unwrap();
    listener.listen(0).unwrap();
    let addr = listener.local_addr().unwrap().as_socket().unwrap();
    let mut fillers = Vec::new();
    for _ in 0..8 {
        match crate::net::connect(addr, Duration::from_millis(200), None) {
            Ok(s) => fillers.push(s),
            Err(_) => return (listener, fillers, addr.port()),
        }
    }
    panic!("the backlog never filled");
}

#[cfg(target_os = "linux")]
#[test]
fn connect_timeout_is_64_and_the_deadline_72() {
    let (_listener, _fillers, port) = black_hole();
    let r = run_check(port, &["-to", "0.3"]);
    assert_eq!(r.code(), 64, "{r:?}");
    assert!(r.total < Duration::from_secs(2), "{r:?}");
    let r = run_check(port, &["-to", "10", "--deadline", "0.3"]);
    assert_eq!(r.code(), 72, "{r:?}");
    assert!(r
        .verdict
        .as_ref()
        .unwrap_err()
        .to_string()
        .contains("while connecting"));
    assert!(r.total < Duration::from_secs(2), "{r:?}");
}
