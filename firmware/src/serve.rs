//! What the probe serves on its own address: the HAProxy agent-check line per target, `GET /health/<n>`, and a C-ECHO
//! SCP (the core's acceptor role).

use core::cell::RefCell;
use core::fmt::Write;

use echoprobe_core::assoc::{AcceptPolicy, Association, Config, Event};
use echoprobe_core::io;
use echoprobe_core::time::Instant;
use echoprobe_core::wire::AeTitle;
use smoltcp::iface::SocketHandle;
use smoltcp::socket::tcp::{self, State};

use crate::clock::Clock;
use crate::net::{Net, SocketIo};
use crate::target::TargetBufs;
use crate::verdict::Verdict;

/// Idle limit for our server connections (smoltcp aborts them after it).
const SERVER_TIMEOUT: smoltcp::time::Duration = smoltcp::time::Duration::from_secs(3);

/// Keeps a server socket listening: reuses it as soon as a connection is over.
fn relisten(s: &mut tcp::Socket<'_>, port: u16) {
    if s.state() == State::TimeWait {
        s.abort(); // the client closed after us: nothing left to protect, and the port must answer again now
    }
    if !s.is_open() {
        let _ = s.listen(port);
        s.set_timeout(Some(SERVER_TIMEOUT));
        s.set_nagle_enabled(false);
    }
}

/// HAProxy agent-check: on connect, one line (`up` / `down #reason`), then close. HAProxy's `agent-send` text, if
/// any, is ignored: each target has its own port.
pub fn agent(net: &Net<'_>, h: SocketHandle, port: u16, verdict: &RefCell<Verdict>) {
    net.with(h, |s| {
        relisten(s, port);
        // may_send: Established, or CloseWait when the client already half-closed (e.g. `socat - TCP:... </dev/null`).
        if s.may_send() && s.send_queue() == 0 {
            let mut line: heapless::String<{ crate::verdict::REASON_LEN + 8 }> =
                heapless::String::new();
            answer(net, verdict, &mut line);
            let _ = s.send_slice(line.as_bytes());
            s.close();
        }
        if s.may_recv() {
            while s.can_recv() && s.recv(|b| (b.len(), ())).is_ok() {}
        }
    });
}

/// `GET /health/<n>`: 200 with `up`, 503 with `down #reason`, 404 for anything else. One request per connection.
pub fn http(
    net: &Net<'_>,
    h: SocketHandle,
    port: u16,
    verdicts: &[RefCell<Verdict>],
    pending: &mut heapless::Vec<u8, 256>,
) {
    net.with(h, |s| {
        relisten(s, port);
        if s.state() == State::Listen {
            pending.clear();
        }
        if !(s.may_recv() && s.may_send()) {
            return;
        }
        while s.can_recv() {
            let r = s.recv(|b| {
                let room = pending.capacity() - pending.len();
                let n = b.len().min(room);
                let _ = pending.extend_from_slice(&b[..n]);
                (b.len(), ())
            });
            if r.is_err() {
                break;
            }
        }
        let head_done = pending.windows(4).any(|w| w == b"\r\n\r\n") || pending.windows(2).any(|w| w == b"\n\n");
        if !head_done && !pending.is_full() {
            return;
        }
        let mut resp: heapless::String<320> = heapless::String::new();
        let path = pending.split(|&c| c == b' ').nth(1).unwrap_or(b"");
        let target = path.strip_prefix(b"/health/").and_then(parse_index).and_then(|n| verdicts.get(n));
        let get = pending.starts_with(b"GET ");
        let (status, body): (&str, heapless::String<{ crate::verdict::REASON_LEN + 8 }>) = match target {
            Some(v) if get => {
                let mut body = heapless::String::new();
                let up = answer(net, v, &mut body);
                (if up { "200 OK" } else { "503 Service Unavailable" }, body)
            }
            _ => ("404 Not Found", heapless::String::try_from("no such target\n").unwrap_or_default()),
        };
        let _ = write!(
            resp,
            "HTTP/1.0 {status}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        let _ = s.send_slice(resp.as_bytes());
        s.close();
        pending.clear();
    });
}

/// A target's answer, the agent line and the HTTP body: its verdict, or `down #<why>` while the probe cannot check at
/// all (no address). Returns whether it says up.
fn answer(net: &Net<'_>, verdict: &RefCell<Verdict>, w: &mut impl Write) -> bool {
    if let Some(why) = net.paused() {
        let _ = writeln!(w, "down #{why}");
        return false;
    }
    let v = verdict.borrow();
    let _ = v.write_agent_line(w);
    v.is_up()
}

/// A small decimal index: 1 to 3 digits.
fn parse_index(s: &[u8]) -> Option<usize> {
    if s.is_empty() || s.len() > 3 || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(s.iter().fold(0, |n, d| n * 10 + usize::from(d - b'0')))
}

/// The probe's own C-ECHO SCP: one association at a time on `port`, answered by the core's acceptor.
pub async fn scp(
    net: &Net<'_>,
    clock: &Clock,
    h: SocketHandle,
    port: u16,
    ae: &'static str,
    bufs: &mut TargetBufs,
) {
    let Ok(ae) = AeTitle::new(ae) else {
        defmt::error!("scp: invalid AE title in the configuration");
        return;
    };
    let policy = AcceptPolicy {
        ae,
        check_called: true,
        allowed_calling: &[],
    };
    loop {
        net.with(h, |s| {
            s.abort();
            relisten(s, port);
        });
        // Wait for a connection (forever: an idle SCP is fine).
        core::future::poll_fn(|_| {
            net.with(h, |s| match s.state() {
                State::Established => core::task::Poll::Ready(()),
                State::Listen | State::SynReceived => core::task::Poll::Pending,
                _ => {
                    s.abort();
                    relisten(s, port);
                    core::task::Poll::Pending
                }
            })
        })
        .await;
        let now = clock.now();
        let mut assoc = Association::new(Config::acceptor(ae), &mut bufs.rx, now);
        assoc.connected(now);
        // The core's `asynch::serve`, plus a deadline: the policy answers the A-ASSOCIATE-RQ.
        let on_event = |a: &mut Association<'_>, now: Instant, ev: &Event| {
            defmt::debug!("scp: {}", ev);
            let _ = io::answer_request(&policy, a, now, ev);
        };
        // A hard cap per association on top of the core's ARTIM/idle timers.
        assoc.set_deadline(Some(now + echoprobe_core::time::Duration::from_secs(60)));
        let mut socket = SocketIo { net, handle: h };
        if let Err(e) =
            io::asynch::drive(&mut assoc, &mut socket, clock, &mut bufs.tx, on_event).await
        {
            defmt::info!("scp: {}", e);
        }
        net.shut(h, clock, 500).await;
    }
}
