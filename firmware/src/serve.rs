//! What the probe serves on its own address: the HAProxy agent-check line per target, `GET /health/<n>`, and a C-ECHO
//! SCP (the core's acceptor role).

use core::cell::{Cell, RefCell};

use echoprobe_core::assoc::{AcceptPolicy, Association, Config, Event};
use echoprobe_core::io;
use echoprobe_core::time::Instant;
use echoprobe_core::wire::AeTitle;
use smoltcp::iface::SocketHandle;
use smoltcp::socket::tcp::{self, State};

use crate::clock::Clock;
use crate::config::PROBE;
use crate::metrics;
use crate::net::{Net, SocketIo};
use crate::target::{AssocBufs, State as Target};
use crate::verdict::{self, Line, Verdict};
use echoprobe_core::text::Sink;

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
/// any, is ignored: each target has its own port. The line goes out through a transmit buffer smaller than the
/// longest line, as room frees: `sent` counts what of it is queued.
pub fn agent(net: &Net<'_>, h: SocketHandle, port: u16, state: &RefCell<Target>, sent: &mut u8) {
    net.with(h, |s| {
        relisten(s, port);
        if s.state() == State::Listen {
            *sent = 0;
        }
        // may_send: Established, or CloseWait when the client already half-closed (e.g. `socat - TCP:... </dev/null`);
        // false once we closed after the whole line.
        if s.may_send() && s.send_capacity() > s.send_queue() {
            let mut line: heapless::String<{ crate::verdict::REASON_LEN + 8 }> =
                heapless::String::new();
            answer(net, &state.borrow().verdict, &mut Line(&mut line));
            let rest = line
                .as_bytes()
                .get(usize::from(*sent)..)
                .unwrap_or_default();
            let n = s.send_slice(rest).unwrap_or(0);
            *sent = sent.saturating_add(n as u8);
            if n == rest.len() {
                s.close();
            }
        }
        if s.may_recv() {
            while s.can_recv() && s.recv(|b| (b.len(), ())).is_ok() {}
        }
    });
}

/// The HTTP connection's state between polls: the request read so far, then a `/metrics` answer being streamed.
pub struct Http {
    pending: heapless::Vec<u8, 256>,
    metrics: Option<Stream>,
}

/// The `/metrics` text still to send: the next part, and the current line and how much of it is sent.
struct Stream {
    part: usize,
    line: [u8; METRICS_LINE],
    len: usize,
    sent: usize,
}

/// The longest `/metrics` line (or family header) the probe writes (a unit test of `metrics` checks they fit).
const METRICS_LINE: usize = 160;

impl Http {
    pub const fn new() -> Self {
        Http {
            pending: heapless::Vec::new(),
            metrics: None,
        }
    }
}

/// `GET /health/<n>`: 200 with `up`, 503 with `down #reason`; `GET /metrics`: Prometheus's text format, streamed
/// through the socket's small buffer a line at a time; 404 for anything else. One request per connection.
pub fn http(
    net: &Net<'_>,
    h: SocketHandle,
    port: u16,
    states: &[RefCell<Target>],
    src: &impl metrics::Source,
    conn: &mut Http,
) {
    net.with(h, |s| {
        relisten(s, port);
        if s.state() == State::Listen {
            conn.pending.clear();
            conn.metrics = None;
        }
        if let Some(m) = &mut conn.metrics {
            stream(s, m, src);
            if !s.may_send() {
                conn.metrics = None; // all sent and closed, or aborted
            }
            return;
        }
        if !(s.may_recv() && s.may_send()) {
            return;
        }
        let pending = &mut conn.pending;
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
        let path = pending.split(|&c| c == b' ').nth(1).unwrap_or(b"");
        let get = pending.starts_with(b"GET ");
        if get && path == b"/metrics" {
            let _ = s.send_slice(
                b"HTTP/1.0 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\nConnection: close\r\n\r\n",
            );
            pending.clear();
            let mut m = Stream {
                part: 0,
                line: [0; METRICS_LINE],
                len: 0,
                sent: 0,
            };
            stream(s, &mut m, src);
            conn.metrics = Some(m);
            return;
        }
        let target = path.strip_prefix(b"/health/").and_then(parse_index).and_then(|n| states.get(n));
        let (status, body): (&str, heapless::String<{ crate::verdict::REASON_LEN + 8 }>) = match target {
            Some(v) if get => {
                let v = &v.borrow().verdict;
                let mut body = heapless::String::new();
                let up = answer(net, v, &mut Line(&mut body));
                (if up { "200 OK" } else { "503 Service Unavailable" }, body)
            }
            _ => ("404 Not Found", heapless::String::try_from("no such target\n").unwrap_or_default()),
        };
        // Straight into the socket's transmit buffer (empty: one request per connection), which the answer fits.
        let mut w = Tx(s);
        w.put("HTTP/1.0 ");
        w.put(status);
        w.put("\r\nContent-Type: text/plain\r\nContent-Length: ");
        w.dec(body.len() as u64);
        w.put("\r\nConnection: close\r\n\r\n");
        w.put(&body);
        s.close();
        pending.clear();
    });
}

/// A socket's transmit buffer as a text sink: what does not fit is cut.
struct Tx<'s, 'a>(&'s mut tcp::Socket<'a>);

impl Sink for Tx<'_, '_> {
    fn put(&mut self, s: &str) {
        let _ = self.0.send_slice(s.as_bytes());
    }
}

/// A target's answer, the agent line and the HTTP body: its verdict, or `down #<why>` while the probe cannot check at
/// all (no address). Returns whether it says up.
fn answer(net: &Net<'_>, verdict: &Verdict, w: &mut dyn Sink) -> bool {
    let why = match net.paused() {
        Some(why) => Some(why),
        None => (!verdict.is_up()).then(|| verdict.reason()),
    };
    verdict::agent_line(why, w);
    why.is_none()
}

/// Sends what fits of the `/metrics` text, a line at a time; closes after the last line. A line too long for the
/// buffer (a bug) aborts the connection: the scrape fails rather than reading a cut text.
fn stream(s: &mut tcp::Socket<'_>, m: &mut Stream, src: &impl metrics::Source) {
    loop {
        if m.sent == m.len {
            match metrics::render(m.part, src, &mut m.line) {
                Ok(Some(n)) => (m.part, m.len, m.sent) = (m.part + 1, n, 0),
                Ok(None) => {
                    s.close();
                    return;
                }
                Err(metrics::Overflow) => {
                    defmt::error!("/metrics: part {=usize} does not fit its buffer", m.part);
                    s.abort();
                    return;
                }
            }
            continue;
        }
        match s.send_slice(&m.line[m.sent..m.len]) {
            Ok(n) if n > 0 => m.sent += n,
            _ => return, // the socket's buffer is full: more at the next poll
        }
    }
}

/// A small decimal index: 1 to 3 digits.
fn parse_index(s: &[u8]) -> Option<usize> {
    if s.is_empty() || s.len() > 3 || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(s.iter().fold(0, |n, d| n * 10 + usize::from(d - b'0')))
}

/// The probe's own C-ECHO SCP: one listening socket; a free check slot serves each association (`slot.rs`), with
/// the core's acceptor and `AcceptPolicy`.
pub struct Scp {
    pub handle: SocketHandle,
    /// A slot is serving the connection.
    taken: Cell<bool>,
}

impl Scp {
    pub fn new(handle: SocketHandle) -> Self {
        Scp {
            handle,
            taken: Cell::new(false),
        }
    }

    /// Keeps the socket listening while no slot serves it (every round of the network task).
    pub fn listen(&self, net: &Net<'_>) {
        if !self.taken.get() {
            net.with(self.handle, |s| {
                if !matches!(
                    s.state(),
                    State::Established | State::Listen | State::SynReceived
                ) {
                    s.abort();
                    relisten(s, PROBE.scp_port);
                }
            });
        }
    }

    /// Whether a connection waits for a slot; if so, the caller's slot now serves it.
    pub fn take(&self, net: &Net<'_>) -> bool {
        let waiting =
            !self.taken.get() && net.with(self.handle, |s| s.state() == State::Established);
        self.taken.set(self.taken.get() || waiting);
        waiting
    }

    /// Serves the association `take` handed to this slot, then listens again.
    pub async fn serve(&self, net: &Net<'_>, clock: &Clock, bufs: &mut AssocBufs) {
        let h = self.handle;
        if let Ok(ae) = AeTitle::new(PROBE.scp_ae) {
            let policy = AcceptPolicy {
                ae,
                check_called: true,
                allowed_calling: &[],
            };
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
        } else {
            defmt::error!("scp: invalid AE title in the configuration");
        }
        net.shut(h, clock, 500).await;
        net.with(h, |s| relisten(s, PROBE.scp_port));
        self.taken.set(false);
    }
}
