//! Verdicts against a peer that answers with DCMTK storescp's captured bytes
//! (`echoprobe_tests::scripted::dcmtk`) up to the point where it misbehaves, and the connect
//! timeout against a listener whose accept queue is full.
//!
//! These scenarios once were unit tests inside the CLI, calling its check function; here they run
//! the echoprobe binary and assert its exit code and the text it prints. Where another
//! adversarial test already is the same scenario, it carries the assertion instead:
//!
//! | former unit test                                   | scenario                                                      |
//! |----------------------------------------------------|---------------------------------------------------------------|
//! | `healthy_against_dcmtk_bytes`                      | [`healthy_against_dcmtk_bytes`]                               |
//! | `release_answered_by_close_is_healthy_with_a_warning` | `adversarial_release::release_answered_by_close`           |
//! | `failure_status_is_68`                             | `adversarial_dimse::status_failure_processing_failure`        |
//! | `warning_status_is_not_healthy_either`             | `adversarial_dimse::status_warning_b000`                      |
//! | `reject_is_61`                                     | [`rejected_by_dcmtk`]                                         |
//! | `close_instead_of_ac_is_71`                        | `adversarial_connection::accept_then_close`                   |
//! | `close_instead_of_rsp_is_71`                       | [`close_instead_of_the_response`]                             |
//! | `no_rsp_is_a_dimse_timeout_67`                     | [`dimse_timeout_below_a_second`] (the 4 s timer: `adversarial_timers::no_response_to_the_echo`) |
//! | `abort_instead_of_rsp_is_70`                       | [`provider_abort_instead_of_the_response`]                    |
//! | `garbage_is_a_violation_69`                        | `adversarial_framing::unknown_pdu_type_instead_of_ac`         |
//! | `slow_peer_hits_the_deadline_72`                   | [`deadline_while_waiting_for_the_response`]                   |
//! | `no_accepted_context_is_65`                        | `adversarial_assoc::presentation_context_abstract_syntax_not_supported` |
//! | `connect_timeout_is_64_and_the_deadline_72`        | [`connect_timeout`], [`deadline_while_connecting`]            |

use core::net::{Ipv4Addr, SocketAddr};
use core::time::Duration;
use std::net::TcpStream;

use echoprobe_tests::codes::{
    ABORTED, CLOSED, CONNECT_TIMEOUT, DEADLINE, DIMSE_TIMEOUT, HEALTHY, REJECTED,
};
use echoprobe_tests::scripted::dcmtk::{self, hex, ABORT_PROVIDER, REJECT_1_1_3};
use echoprobe_tests::scripted::pdu::ABORT;
use echoprobe_tests::scripted::{after_rq, check, peer, quick, Conn, ScriptedPeer, HARD, SHORT};
use echoprobe_tests::{echoprobe, run, setup, Outcome};

/// A bound for what the former unit tests checked to finish "at once" around a sub-second timer.
const SUB_SECOND_TIMER: Duration = Duration::from_secs(3);

/// Reads the A-ASSOCIATE-RQ and accepts it with DCMTK's AC; then reads the C-ECHO-RQ, which must
/// be message 1 (the one DCMTK's captured response answers).
fn dcmtk_up_to_echo(c: &mut Conn) {
    c.read_rq();
    c.send(&dcmtk::ac());
    let (_, id) = c.read_echo();
    assert_eq!(id, 1, "the first C-ECHO-RQ's message ID");
}

/// A DCMTK peer up to the C-ECHO-RQ, then `then`.
fn dcmtk_peer(then: fn(&mut Conn) -> Vec<u8>) -> ScriptedPeer {
    peer(move |c| {
        dcmtk_up_to_echo(c);
        then(c)
    })
}

/// A verdict within `scripted::FAST`: exit `code`, and a line of stderr ends with `suffix` (the
/// end of the failure's message).
#[track_caller]
fn verdict_ends_with(peer: ScriptedPeer, code: u8, suffix: &str) {
    let (out, _) = quick(peer, &[], code);
    assert!(
        out.stderr.lines().any(|l| l.trim_end().ends_with(suffix)),
        "no line of stderr ends with {suffix:?}\n{out}"
    );
}

#[test]
fn healthy_against_dcmtk_bytes() {
    let p = dcmtk_peer(|c| {
        c.send(&dcmtk::echo_rsp(0x0000));
        c.release()
    });
    let (out, seen) = quick(p, &["--json"], HEALTHY);
    assert!(seen.is_empty(), "after A-RELEASE-RP: {seen:02x?}\n{out}");
    out.assert_stdout("\"echoes_sent\":1,\"echoes_ok\":1,")
        .assert_stdout("\"peer_max_pdu\":16384,");
}

#[test]
fn rejected_by_dcmtk() {
    verdict_ends_with(after_rq(|_| hex(REJECT_1_1_3)), REJECTED, "(1/1/3)");
}

#[test]
fn close_instead_of_the_response() {
    // The C-ECHO-RQ is read, so the close is an orderly FIN, not a reset.
    verdict_ends_with(dcmtk_peer(|_| vec![]), CLOSED, "before the C-ECHO-RSP");
}

#[test]
fn provider_abort_instead_of_the_response() {
    let p = dcmtk_peer(|c| {
        c.send(&hex(ABORT_PROVIDER));
        c.rest()
    });
    verdict_ends_with(p, ABORTED, "(2/0)");
}

/// DCMTK's peer saying nothing after the C-ECHO-RQ, echoprobe run with `extra`: exit `code`
/// within [`SUB_SECOND_TIMER`], and echoprobe aborts.
#[track_caller]
fn silent_after_the_echo(extra: &[&str], code: u8) {
    let p = dcmtk_peer(|c| c.rest());
    let (out, seen) = check(p, extra, code, Duration::ZERO, SUB_SECOND_TIMER);
    assert_eq!(seen, [ABORT], "{out}");
}

#[test]
fn dimse_timeout_below_a_second() {
    // Fractions of a second are honoured.
    silent_after_the_echo(&["-td", "0.3"], DIMSE_TIMEOUT);
}

#[test]
fn deadline_while_waiting_for_the_response() {
    // -td longer than the whole deadline: the deadline decides.
    silent_after_the_echo(&["-td", "20", "--deadline", "0.4"], DEADLINE);
}

/// A listener on 127.0.0.1 whose accept queue is full: Linux drops further SYNs, as a black-holed
/// address would. Keep all three alive while connecting to the port.
fn black_hole() -> (socket2::Socket, Vec<TcpStream>, u16) {
    use socket2::{Domain, Protocol, Socket, Type};
    let listener = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP)).unwrap();
    listener
        .bind(&SocketAddr::from((Ipv4Addr::LOCALHOST, 0)).into())
        .unwrap();
    listener.listen(0).unwrap();
    let addr = listener.local_addr().unwrap().as_socket().unwrap();
    let mut fillers = Vec::new();
    for _ in 0..8 {
        match TcpStream::connect_timeout(&addr, Duration::from_millis(200)) {
            Ok(s) => fillers.push(s),
            Err(_) => return (listener, fillers, addr.port()),
        }
    }
    panic!("the backlog never filled");
}

/// echoprobe with [`SHORT`] timeouts and `extra` against the black hole on `port`.
fn run_against(port: u16, extra: &[&str]) -> Outcome {
    let port = port.to_string();
    let mut args: Vec<&str> = SHORT.to_vec();
    args.extend_from_slice(extra);
    args.extend_from_slice(&["127.0.0.1", &port]);
    run(&mut echoprobe(&args), HARD)
}

#[test]
fn connect_timeout() {
    setup();
    let (_listener, _fillers, port) = black_hole();
    run_against(port, &["-to", "0.3"])
        .assert_code(CONNECT_TIMEOUT)
        .assert_within(Duration::from_secs(2));
}

#[test]
fn deadline_while_connecting() {
    setup();
    let (_listener, _fillers, port) = black_hole();
    run_against(port, &["-to", "10", "--deadline", "0.3"])
        .assert_code(DEADLINE)
        .assert_stderr("while connecting")
        .assert_within(Duration::from_secs(2));
}
