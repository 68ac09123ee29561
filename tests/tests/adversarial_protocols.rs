//! Hostile peers, other protocols on the port: an HTTP or TLS server where a DICOM one should be.
//! Each is a protocol violation (exit 69) judged at once.

use std::net::Shutdown;

use echoprobe_tests::codes::VIOLATION;
use echoprobe_tests::scripted::pdu::{ABORT, ASSOCIATE_RQ};
use echoprobe_tests::scripted::{after_rq, fast, peer, violation};

#[test]
fn http_response() {
    violation(after_rq(|_| {
        b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_vec()
    }));
}

#[test]
fn http_bytes_before_anything() {
    // A server that talks first (as an HTTP server answering garbage would).
    // The peer reads nothing first, so it sees our RQ and then the A-ABORT.
    fast(
        peer(|c| {
            c.send(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
            c.rest()
        }),
        VIOLATION,
        &[ASSOCIATE_RQ, ABORT],
    );
}

#[test]
fn tls_client_hello_bytes() {
    violation(after_rq(|_| {
        let mut hello = vec![
            0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00, 0x00, 0xa1, 0x03, 0x03,
        ];
        hello.extend_from_slice(&[0x5a; 160]);
        hello
    }));
}

#[test]
fn tls_alert_bytes() {
    // A TLS server answering our plaintext RQ with a fatal alert (unexpected_message).
    fast(
        peer(|c| {
            c.read_rq();
            c.send(&[0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x0a]);
            c.shutdown(Shutdown::Write);
            c.rest()
        }),
        VIOLATION,
        &[ABORT],
    );
}
