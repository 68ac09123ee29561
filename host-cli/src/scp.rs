//! `echoprobe scp`: a C-ECHO SCP, and with `--record`/`--records` a C-FIND SCP (study root, patient root, worklist)
//! answering from those records (the core's responder: a pending response per matching record, then success;
//! C-CANCEL-RQ honoured). One thread per connection; at most `--max-associations` associations at once.
//!
//! An association slot is taken only when the A-ASSOCIATE-RQ has arrived, so connections that say nothing cannot
//! starve real ones. Over the limit, an RQ gets a polite A-ASSOCIATE-RJ 2/3/2 (rejected-transient, service-provider
//! presentation, local-limit-exceeded). Connections still waiting for their RQ (bounded by `-ta`, the ARTIM) are
//! kept in a pool of [`MAX_PENDING`]; when it is full, the oldest is shut down to make room, so a flood of idle
//! connections costs the flooder its oldest ones, never a real check. Every association is logged in one line:
//! peer address, AE titles, result, echoes, duration.

use core::net::SocketAddr;
use core::sync::atomic::{AtomicU32, Ordering};
use core::time::Duration;
use std::collections::VecDeque;
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use echoprobe_core::assoc::{AcceptPolicy, Association, Config, Event};
use echoprobe_core::dimse::dataset::{self, DataSet};
use echoprobe_core::find::{FindEvent, Model, Responder};
use echoprobe_core::io::blocking;
use echoprobe_core::time::Instant;
use echoprobe_core::wire::{AeTitle, AssociateRj};

use crate::cli::ScpOptions;
use crate::exit::Failure;
use crate::link::{self, Link};
use crate::log::{ms, Log};
use crate::net::{self, Clock, TcpTransport};
use crate::tls::{self, ServerSetup, TlsTransport};

/// Connections waiting for their A-ASSOCIATE-RQ; past this the oldest is shut down.
const MAX_PENDING: usize = 1024;
/// Stack of a connection thread (the machine needs a few KiB; buffers are on the heap).
const THREAD_STACK: usize = 256 * 1024;
/// Write timeout on accepted connections: a peer that stops reading cannot hold a thread.
const WRITE_TIMEOUT: Duration = Duration::from_secs(30);
/// A-ASSOCIATE-RJ for a connection over the limit: 2/3/2, local-limit-exceeded.
const BUSY: AssociateRj = AssociateRj::LOCAL_LIMIT_EXCEEDED;
/// The buffer a C-FIND-RQ's identifier and each response identifier are built in.
const FIND_BUFFER: usize = 64 * 1024;

struct Shared {
    options: ScpOptions,
    tls: Option<ServerSetup>,
    ae: AeTitle,
    allowed: Vec<AeTitle>,
    log: Log,
    clock: Clock,
    active: Arc<AtomicU32>,
    pending: Pending,
    /// The `--record`s, each encoded as a data set (Explicit VR Little Endian).
    records: Vec<Vec<u8>>,
}

/// Encodes each record's keys as an Explicit VR Little Endian data set, for the core's responder.
fn encode_records(records: &[Vec<crate::cli::Key>]) -> Result<Vec<Vec<u8>>, Failure> {
    records
        .iter()
        .map(|record| {
            let keys: Vec<dataset::Key<'_>> = record.iter().map(crate::cli::Key::as_core).collect();
            let len = dataset::encoded_len(&keys, true)
                .map_err(|e| Failure::Usage(format!("--record: {e}")))?;
            let mut buf = vec![0u8; len];
            dataset::encode(&keys, true, &mut buf)
                .map_err(|e| Failure::Usage(format!("--record: {e}")))?;
            Ok(buf)
        })
        .collect()
}

/// Connections that have not sent their A-ASSOCIATE-RQ yet, oldest first.
#[derive(Default)]
struct Pending(Mutex<VecDeque<(u64, TcpStream)>>);

impl Pending {
    /// Registers connection `id`; returns how many older ones were shut down to make room.
    fn admit(&self, id: u64, stream: &TcpStream) -> usize {
        let mut queue = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let mut evicted = 0;
        while queue.len() >= MAX_PENDING {
            if let Some((_, old)) = queue.pop_front() {
                // Its thread sees EOF at once and ends; the slot it never had stays free.
                let _ = old.shutdown(Shutdown::Both);
                evicted += 1;
            }
        }
        if let Ok(clone) = stream.try_clone() {
            queue.push_back((id, clone));
        }
        evicted
    }

    /// Connection `id` sent its RQ, or ended.
    fn leave(&self, id: u64) {
        let mut queue = self.0.lock().unwrap_or_else(|e| e.into_inner());
        queue.retain(|(other, _)| *other != id);
    }
}

/// A slot of a counting semaphore, given back when dropped.
struct Permit(Arc<AtomicU32>);

impl Drop for Permit {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

fn try_acquire(counter: &Arc<AtomicU32>, max: u32) -> Option<Permit> {
    counter
        .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
            (n < max).then_some(n + 1)
        })
        .ok()?;
    Some(Permit(Arc::clone(counter)))
}

/// Runs `echoprobe scp`: binds, prints where it listens, serves until `exit_after` associations (or forever).
/// `prog` names the program in messages. Returns the exit code.
pub fn run(prog: &str, options: &ScpOptions) -> u8 {
    let log = Log::new(prog, options.verbosity);
    if let Some(config) = &options.log_config {
        if let Err(f) = crate::log::configure(&log, config) {
            log.error(&f);
            return f.code();
        }
    }
    let addr = SocketAddr::new(options.bind, options.port);
    let listener = match TcpListener::bind(addr) {
        Ok(l) => l,
        Err(e) => {
            let f = Failure::Local(format!("cannot listen on {addr}: {e}"));
            log.error(&f);
            return f.code();
        }
    };
    match serve_listener(listener, options, &log) {
        Ok(()) => crate::exit::HEALTHY,
        Err(f) => {
            log.error(&f);
            f.code()
        }
    }
}

/// Serves associations on `listener` until `exit_after` connections were handled (or forever).
pub(crate) fn serve_listener(
    listener: TcpListener,
    options: &ScpOptions,
    log: &Log,
) -> Result<(), Failure> {
    let ae =
        AeTitle::new(&options.ae_title).map_err(|e| Failure::Usage(format!("AE title: {e}")))?;
    let allowed = options
        .allow_calling
        .iter()
        .map(|title| {
            AeTitle::new(title).map_err(|e| Failure::Usage(format!("--allow-calling {title}: {e}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let records = encode_records(&options.records)?;
    // TLS files are read once, at start: a bad file is exit code 84 before serving anyone.
    let tls = options.tls.as_ref().map(ServerSetup::new).transpose()?;
    for note in tls.iter().flat_map(|setup| &setup.notes) {
        log.info(format_args!("TLS: {note}"));
    }
    let local = listener
        .local_addr()
        .map_err(|e| Failure::Local(format!("listener: {e}")))?;
    if log.verbosity > crate::log::Verbosity::Quiet {
        crate::log::stdout_line(format_args!(
            "{}: {}listening on {local}{} as {ae} (status 0x{:04X}, at most {} association{}){}",
            log.prog,
            log.tag,
            if tls.is_some() { " (TLS)" } else { "" },
            options.status,
            options.max_associations,
            if options.max_associations == 1 {
                ""
            } else {
                "s"
            },
            match records.len() {
                0 => String::new(),
                1 => ", C-FIND from 1 record".to_string(),
                n => format!(", C-FIND from {n} records"),
            }
        ));
    }
    let shared = Arc::new(Shared {
        options: options.clone(),
        tls,
        ae,
        allowed,
        log: log.clone(),
        clock: Clock::start(),
        active: Arc::new(AtomicU32::new(0)),
        pending: Pending::default(),
        records,
    });
    let mut handles: Vec<std::thread::JoinHandle<()>> = Vec::new();
    let mut connections: u64 = 0;
    for conn in listener.incoming() {
        let stream = match conn {
            Ok(s) => s,
            Err(e) => {
                // EMFILE and friends: say so, breathe, go on.
                log.warn(format_args!("accept failed: {e}"));
                std::thread::sleep(Duration::from_millis(50));
                continue;
            }
        };
        connections += 1;
        handles.retain(|handle| !handle.is_finished());
        let peer = stream
            .peer_addr()
            .map_or_else(|_| "?".to_string(), |a| a.to_string());
        let evicted = shared.pending.admit(connections, &stream);
        if evicted > 0 {
            log.warn(format_args!(
                "{MAX_PENDING} connections without an A-ASSOCIATE-RQ: shut down the oldest to admit {peer}"
            ));
        }
        let for_thread = Arc::clone(&shared);
        let id = connections;
        let spawned = std::thread::Builder::new()
            .name(format!("assoc {peer}"))
            .stack_size(THREAD_STACK)
            .spawn(move || {
                let _ = stream.set_write_timeout(Some(WRITE_TIMEOUT));
                serve_one(&for_thread, stream, &peer, id);
                for_thread.pending.leave(id);
            });
        match spawned {
            Ok(handle) => handles.push(handle),
            Err(e) => {
                shared.pending.leave(id);
                log.warn(format_args!("cannot start a thread for a connection: {e}"));
            }
        }
        if options.exit_after.is_some_and(|n| connections >= n) {
            break;
        }
    }
    for handle in handles {
        let _ = handle.join();
    }
    Ok(())
}

/// What happened in one association, for its log line.
#[derive(Debug, Default)]
struct Record {
    called: Option<AeTitle>,
    calling: Option<AeTitle>,
    rejected: Option<AssociateRj>,
    accepted: bool,
    echoes: u32,
    /// C-FIND-RQs received and matches sent (the log line names them only when there were finds).
    finds: u32,
    matches: u32,
    end: Option<String>,
}

impl Record {
    fn on(&mut self, ev: &Event, log: &Log, peer: &str) {
        match ev {
            Event::AssociationRequested { called, calling } => {
                self.called = Some(*called);
                self.calling = Some(*calling);
                log.info(format_args!(
                    "{peer}: A-ASSOCIATE-RQ, called {called}, calling {calling}"
                ));
            }
            Event::Accepted(n) => {
                self.accepted = true;
                log.info(format_args!(
                    "{peer}: Association Accepted: context {}, {}, {} of {} contexts accepted, peer max PDU {}, \
                     peer implementation {} {}",
                    n.pc_id,
                    n.transfer_syntax,
                    n.accepted_contexts,
                    n.proposed_contexts,
                    n.peer_max_pdu,
                    n.peer_implementation_class,
                    n.peer_implementation_version
                ));
            }
            Event::EchoRequest { message_id } => {
                self.echoes += 1;
                log.info(format_args!("{peer}: C-ECHO-RQ (MsgID {message_id})"));
            }
            Event::Find(FindEvent::Request { message_id, model }) => {
                self.finds += 1;
                log.info(format_args!(
                    "{peer}: C-FIND-RQ (MsgID {message_id}), {model}"
                ));
            }
            Event::Find(FindEvent::CancelRequested { message_id }) => {
                log.info(format_args!("{peer}: C-CANCEL-RQ (MsgID {message_id})"));
            }
            Event::Find(_) => {}
            Event::Released => self.finish("released"),
            Event::Aborted(a) => self.finish(&format!("aborted by peer: {a}")),
            Event::Violation { kind, .. } => {
                self.finish(&format!("protocol violation: {kind} (sent A-ABORT)"))
            }
            Event::Timeout(t) => self.finish(&format!("{t}")),
            Event::Closed => self.finish("closed by peer"),
            Event::ReleaseRequested
            | Event::Rejected(_)
            | Event::NoPresentationContext
            | Event::EchoResponse { .. } => {}
        }
    }

    fn finish(&mut self, end: &str) {
        if self.end.is_none() {
            self.end = Some(end.to_string());
        }
    }

    fn line(&self, peer: &str, took: Duration) -> String {
        let aes = match (self.called, self.calling) {
            (Some(called), Some(calling)) => format!("{called} <- {calling}"),
            _ => "(no A-ASSOCIATE-RQ)".to_string(),
        };
        let mut echoes = if self.echoes == 1 {
            "1 echo".to_string()
        } else {
            format!("{} echoes", self.echoes)
        };
        if self.finds > 0 {
            echoes.push_str(&format!(
                ", {} find{} ({} match{})",
                self.finds,
                if self.finds == 1 { "" } else { "s" },
                self.matches,
                if self.matches == 1 { "" } else { "es" }
            ));
        }
        let result = match (self.rejected, self.accepted) {
            (Some(rj), _) => format!("rejected: {rj}"),
            (None, true) => format!(
                "accepted, {echoes}, {}",
                self.end.as_deref().unwrap_or("ended")
            ),
            (None, false) => self.end.clone().unwrap_or_else(|| "ended".to_string()),
        };
        format!("{peer} {aes}: {result} ({})", ms(took))
    }
}

/// Serves one connection: waits for its A-ASSOCIATE-RQ (ARTIM = `-ta`), takes an association slot (or answers
/// 2/3/2), then serves the association. The slot is given back before the connection is closed, so a peer that sees
/// the close can count on the slot being free.
fn serve_one(shared: &Shared, stream: TcpStream, peer: &str, id: u64) {
    let options = &shared.options;
    let started = shared.clock.elapsed();
    // Wait for the first byte before allocating anything: a connection that says nothing costs a
    // parked thread, not buffers. ARTIM (`-ta`) bounds the wait for the whole A-ASSOCIATE-RQ.
    let first = first_byte(&stream, options.acse_timeout);
    let artim_left = options
        .acse_timeout
        .saturating_sub(shared.clock.elapsed().saturating_sub(started));
    let opened = first.and_then(|()| {
        open(
            shared,
            stream,
            peer,
            artim_left.max(Duration::from_millis(1)),
        )
    });
    let mut transport = match opened {
        Ok(t) => t,
        Err(why) => {
            if shared.log.verbosity > crate::log::Verbosity::Quiet {
                crate::log::stdout_line(format_args!(
                    "{}: {}{peer} (no A-ASSOCIATE-RQ): {why} ({})",
                    shared.log.prog,
                    shared.log.tag,
                    ms(shared.clock.elapsed().saturating_sub(started))
                ));
            }
            return;
        }
    };
    let artim_left = options
        .acse_timeout
        .saturating_sub(shared.clock.elapsed().saturating_sub(started));
    let mut config = Config::acceptor(shared.ae);
    config.echo_status = options.status;
    config.dimse_timeout = net::to_core(options.idle_timeout);
    config.artim_timeout = net::to_core(artim_left.max(Duration::from_millis(1)));
    config.acse_timeout = net::to_core(options.acse_timeout);
    let policy = AcceptPolicy {
        ae: shared.ae,
        check_called: options.require_called_aet,
        allowed_calling: &shared.allowed,
    };
    let serves_find = !shared.records.is_empty();
    if serves_find {
        config.find_models = &Model::ALL;
    }
    let datasets: Vec<DataSet<'_>> = shared
        .records
        .iter()
        .map(|r| DataSet::new(r, true))
        .collect();
    let mut responder = Responder::new(&datasets);
    let mut rx = vec![0u8; options.max_pdu as usize + 6];
    let mut tx = vec![0u8; 16 * 1024];
    let mut find_buf = vec![0u8; if serves_find { FIND_BUFFER } else { 0 }];
    let mut record = Record::default();
    let mut permit: Option<Permit> = None;
    let now = blocking::Transport::now(&transport);
    let mut assoc = Association::new(config, &mut rx, now).with_find_buffer(&mut find_buf);
    assoc.connected(now);
    let result = blocking::drive(&mut assoc, &mut transport, &mut tx, |assoc, now, ev| {
        record.on(ev, &shared.log, peer);
        if let Event::AssociationRequested { .. } = ev {
            shared.pending.leave(id);
            answer(shared, assoc, now, &policy, ev, &mut permit, &mut record);
        }
        if serves_find {
            responder.on_event(assoc, now, ev);
        }
    });
    record.matches = responder.matches;
    drop(permit);
    transport.close();
    if let Err(e) = result {
        record.finish(&format!("I/O error: {e}"));
    }
    if shared.log.verbosity > crate::log::Verbosity::Quiet {
        crate::log::stdout_line(format_args!(
            "{}: {}{}",
            shared.log.prog,
            shared.log.tag,
            record.line(peer, shared.clock.elapsed().saturating_sub(started))
        ));
    }
}

/// Waits up to `limit` for the connection's first byte (without reading it). The error says why not.
fn first_byte(stream: &TcpStream, limit: Duration) -> Result<(), String> {
    stream
        .set_read_timeout(Some(limit.max(Duration::from_millis(1))))
        .map_err(|e| format!("socket setup failed: {e}"))?;
    let result = match stream.peek(&mut [0u8; 1]) {
        Ok(0) => Err("closed by peer".to_string()),
        Ok(_) => Ok(()),
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ) =>
        {
            Err(format!("nothing received within {} (ARTIM)", ms(limit)))
        }
        Err(e) => Err(format!("{e}")),
    };
    let _ = stream.set_read_timeout(None);
    result
}

/// Answers an A-ASSOCIATE-RQ (`request`): 2/3/2 when every slot is taken, else what the policy says (the core's
/// accept-policy answer, as every acceptor uses it).
fn answer(
    shared: &Shared,
    assoc: &mut Association<'_>,
    now: Instant,
    policy: &AcceptPolicy<'_>,
    request: &Event,
    permit: &mut Option<Permit>,
    record: &mut Record,
) {
    let Some(slot) = try_acquire(&shared.active, shared.options.max_associations) else {
        shared.log.warn(format_args!(
            "{} associations active, answering A-ASSOCIATE-RJ {BUSY}",
            shared.options.max_associations
        ));
        record.rejected = Some(BUSY);
        let _ = assoc.reject(now, BUSY);
        return;
    };
    *permit = Some(slot);
    if let Some(Err(rj)) = echoprobe_core::io::answer_request(policy, assoc, now, request) {
        record.rejected = Some(rj);
    }
}

/// The connection as a transport: plain, or TLS after a handshake bounded by `limit`. The error says why not.
fn open(shared: &Shared, stream: TcpStream, peer: &str, limit: Duration) -> Result<Link, String> {
    let dump = shared.log.dump_prefix().map(|p| format!("{p}{peer}: "));
    let Some(setup) = &shared.tls else {
        return TcpTransport::new(stream, shared.clock, dump)
            .map(Link::Tcp)
            .map_err(|e| format!("socket setup failed: {e}"));
    };
    let tcp = TcpTransport::new(stream, shared.clock, None)
        .map_err(|e| format!("socket setup failed: {e}"))?;
    let t = TlsTransport::server(tcp, setup, dump).map_err(|e| format!("TLS setup failed: {e}"))?;
    let deadline = tls::after(&t, limit);
    match link::handshake(t, deadline, &link::Side::Server { peer, limit }) {
        Ok((link, session)) => {
            shared
                .log
                .info(format_args!("{peer}: TLS handshake done: {session}"));
            Ok(link)
        }
        // The log line says what happened with this peer, without the peer again.
        Err(Failure::Tls { detail, .. }) => Err(detail),
        Err(other) => Err(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permits_count_and_release() {
        let counter = Arc::new(AtomicU32::new(0));
        let first = try_acquire(&counter, 2).unwrap();
        let second = try_acquire(&counter, 2).unwrap();
        assert!(try_acquire(&counter, 2).is_none());
        drop(first);
        let _third = try_acquire(&counter, 2).unwrap();
        drop(second);
        assert_eq!(counter.load(Ordering::Acquire), 1);
    }

    #[test]
    fn over_the_limit_gets_rj_2_3_2_and_the_slot_comes_back() {
        use crate::cli::{self, Invocation};
        use crate::log::Verbosity;
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let options = ScpOptions {
            port,
            bind: core::net::IpAddr::from([127, 0, 0, 1]),
            ae_title: "ECHOPROBE".into(),
            require_called_aet: false,
            allow_calling: Vec::new(),
            status: 0,
            max_associations: 1,
            idle_timeout: Duration::from_secs(2),
            acse_timeout: Duration::from_millis(500),
            max_pdu: 16384,
            // More than the test needs (the holder may retry): the end of the test connects until it is reached.
            exit_after: Some(25),
            verbosity: Verbosity::Quiet,
            tls: None,
            log_config: None,
            records: Vec::new(),
        };
        let log = Log::new("echoprobe", Verbosity::Quiet);
        let server = std::thread::spawn(move || serve_listener(listener, &options, &log));
        let check = || {
            let args = [
                "-q",
                "-aec",
                "ECHOPROBE",
                "--deadline",
                "5",
                "127.0.0.1",
                &port.to_string(),
            ];
            let Ok(Invocation::Echo(eo, _)) =
                cli::parse("echoprobe", args.map(String::from).to_vec())
            else {
                panic!()
            };
            crate::echo::check_with(
                &Clock::start(),
                &eo,
                &Log::new("echoprobe", Verbosity::Quiet),
            )
        };
        // A connection that says nothing takes no slot.
        let silent = TcpStream::connect(("127.0.0.1", port)).unwrap();
        assert_eq!(check().code(), 0);
        // An association that is accepted and then idles takes the only slot: 2/3/2 for others. The check above
        // has its answer before the SCP's thread gives its slot back (it waits for our close after A-RELEASE-RP),
        // so the holder may meet a busy SCP for a moment: it tries again for up to 5 s.
        let mut rx = [0u8; 4096];
        let config = Config::requestor(
            AeTitle::new("HOLDER").unwrap(),
            AeTitle::new("ECHOPROBE").unwrap(),
        );
        let mut pdu = [0u8; 1024];
        let n = {
            let mut assoc = Association::new(config, &mut rx, Instant::ZERO);
            assoc.connected(Instant::ZERO);
            assoc
                .poll_transmit(Instant::ZERO, &mut pdu)
                .unwrap()
                .unwrap()
        };
        let until = std::time::Instant::now() + Duration::from_secs(5);
        let mut held = loop {
            let mut held = TcpStream::connect(("127.0.0.1", port)).unwrap();
            std::io::Write::write_all(&mut held, &pdu[..n]).unwrap();
            let mut ac = [0u8; 6];
            std::io::Read::read_exact(&mut held, &mut ac).unwrap();
            if ac[0] == 0x02 || std::time::Instant::now() > until {
                assert_eq!(ac[0], 0x02, "the holder is accepted");
                break held;
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let r = check();
        assert_eq!(r.code(), 61, "{r:?}");
        assert!(
            matches!(&r.verdict, Err(Failure::Rejected { detail, .. }) if detail.ends_with("(2/3/2)")),
            "{r:?}"
        );
        // Once the idle timeout has ended the holder, the slot is free again.
        let mut buf = [0u8; 512];
        held.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        while std::io::Read::read(&mut held, &mut buf).is_ok_and(|n| n > 0) {}
        assert_eq!(check().code(), 0);
        drop(silent);
        for _ in 0..25 {
            if server.is_finished() {
                break;
            }
            drop(TcpStream::connect(("127.0.0.1", port)));
            std::thread::sleep(Duration::from_millis(20));
        }
        server.join().unwrap().unwrap();
    }

    #[test]
    fn busy_reject_is_2_3_2() {
        assert_eq!(
            BUSY.to_string(),
            "rejected-transient, service-provider (presentation): local-limit-exceeded (2/3/2)"
        );
    }
}
