//! `echoprobe scp` under attack, bounded to about a minute:
//!
//! * 1,000 idle connections held open (re-opened as soon as the SCP drops one, as an attacker
//!   would), 20 connections whose first PDU header claims 4 GiB, 20 that dribble an
//!   A-ASSOCIATE-RQ at one byte a second, 20 half-closed ones (a partial RQ, then FIN);
//! * meanwhile DCMTK echoscu runs an echo every second: every one must succeed;
//! * the SCP's peak memory stays under [`MAX_RSS_KIB`], it never panics, it is still running at
//!   the end, and once the attackers are gone its file descriptors come back to where they were.
//!
//! The test raises its own soft `RLIMIT_NOFILE` (with `prlimit --pid`, no unsafe code) so the
//! attackers' ~1,100 sockets fit; the SCP child inherits it. It fails, with a message, if the
//! hard limit is too low.

use core::net::{Ipv4Addr, SocketAddr};
use core::sync::atomic::{AtomicBool, Ordering};
use core::time::Duration;
use std::fs;
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Instant;

use echoprobe_tests::env::dcmtk;
use echoprobe_tests::peers::echoprobe_scp;
use echoprobe_tests::{run, setup, CALLING_AE};

const IDLE: usize = 1_000;
const HUGE: usize = 20;
const DRIBBLE: usize = 20;
const HALF: usize = 20;
/// Echoes run during the attack, one a second.
const ECHOES: usize = 10;
/// Peak resident memory allowed to the SCP (KiB): 64 MiB.
const MAX_RSS_KIB: u64 = 64 * 1024;
/// The soft file descriptor limit the test needs.
const NOFILE: u64 = 4_096;

fn soft_nofile() -> (u64, u64) {
    let limits = fs::read_to_string("/proc/self/limits").expect("/proc/self/limits");
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .expect("Max open files line");
    let mut nums = line
        .split_whitespace()
        .filter_map(|w| w.parse::<u64>().ok());
    (nums.next().unwrap_or(0), nums.next().unwrap_or(0))
}

/// Raise our soft RLIMIT_NOFILE to [`NOFILE`] (never above the hard limit).
fn raise_nofile() {
    let (soft, hard) = soft_nofile();
    if soft >= NOFILE {
        return;
    }
    assert!(
        hard >= NOFILE,
        "the hard open-files limit is {hard}; this test needs {NOFILE} (ulimit -Hn)"
    );
    let status = Command::new("prlimit")
        .args([
            "--pid",
            &std::process::id().to_string(),
            &format!("--nofile={NOFILE}:{hard}"),
        ])
        .status()
        .expect("run prlimit (util-linux)");
    assert!(status.success(), "prlimit failed: {status}");
    assert!(soft_nofile().0 >= NOFILE, "prlimit did not raise the limit");
}

fn status_kib(pid: u32, key: &str) -> u64 {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(key))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn fd_count(pid: u32) -> usize {
    fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count())
}

fn connect(addr: SocketAddr) -> Option<TcpStream> {
    TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()
}

/// Whether the server has closed (or reset) this connection; never blocks.
fn closed_by_server(s: &TcpStream) -> bool {
    let mut b = [0u8; 64];
    let _ = s.set_nonblocking(true);
    let gone = match s.peek(&mut b) {
        Ok(0) => true,
        Ok(_) => {
            // Something arrived (an A-ASSOCIATE-RJ or A-ABORT): read it away; still open.
            let _ = (&*s).read(&mut b);
            false
        }
        Err(e) => e.kind() != ErrorKind::WouldBlock,
    };
    let _ = s.set_nonblocking(false);
    gone
}

/// A well-formed A-ASSOCIATE-RQ (DCMTK echoscu's, from the project's captures).
fn associate_rq() -> Vec<u8> {
    const HEX: &str = "0100000000cd000100004c422d534350202020202020202020204c4f414442414c414e43455220202020000000000000000000000000000000000000000000000000000000000000000010000015312e322e3834302e31303030382e332e312e312e312000002e0100ff0030000011312e322e3834302e31303030382e312e3140000011312e322e3834302e31303030382e312e325000003a51000004000040005200001b312e322e3237362e302e373233303031302e332e302e332e362e375500000f4f464649535f44434d544b5f333637";
    (0..HEX.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&HEX[i..i + 2], 16).unwrap())
        .collect()
}

fn dcmtk_echo(port: u16) -> echoprobe_tests::Outcome {
    let mut cmd = Command::new(dcmtk("echoscu"));
    cmd.args(["-aet", CALLING_AE, "-aec", "ATTACKED"])
        .args(["-to", "3", "-ta", "3", "-td", "3"])
        .args(["127.0.0.1", &port.to_string()]);
    run(&mut cmd, Duration::from_secs(10))
}

/// One attack at a time: each holds hundreds of sockets and its own SCP.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// The whole attack of the module documentation.
#[test]
fn scp_keeps_answering_under_attack() {
    attack(IDLE);
}

/// The same without the idle flood: malformed, slow and half-closed clients alone must not
/// cost a single echo, and a header claiming 4 GiB is answered (A-ABORT and close) at once.
#[test]
fn scp_sheds_malformed_slow_and_half_closed_clients() {
    attack(0);
}

fn attack(idle_conns: usize) {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    setup();
    raise_nofile();
    let mut scp = echoprobe_scp(&["-aet", "ATTACKED", "-ta", "5", "--idle-timeout", "5"]);
    let pid = scp.peer.pid();
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, scp.port));

    dcmtk_echo(scp.port)
        .assert_code(0)
        .assert_within(Duration::from_secs(5));
    thread::sleep(Duration::from_millis(200));
    let base_fds = fd_count(pid);

    let stop = Arc::new(AtomicBool::new(false));

    // 1,000 idle connections, re-opened whenever the SCP drops one.
    let idle = {
        let stop = Arc::clone(&stop);
        thread::spawn(move || {
            let mut conns: Vec<Option<TcpStream>> =
                (0..idle_conns).map(|_| connect(addr)).collect();
            let mut reopened = 0usize;
            let start = Instant::now();
            while !stop.load(Ordering::Relaxed) && start.elapsed() < Duration::from_secs(60) {
                for c in conns.iter_mut() {
                    if c.as_ref().is_none_or(closed_by_server) {
                        *c = connect(addr);
                        reopened += 1;
                    }
                }
                thread::sleep(Duration::from_millis(250));
            }
            let open = conns.iter().filter(|c| c.is_some()).count();
            (open, reopened)
        })
    };

    // Headers claiming a 4 GiB A-ASSOCIATE-RQ; half-closed partial RQs.
    let rq = associate_rq();
    let mut held: Vec<TcpStream> = Vec::new();
    let mut huge_slow = Vec::new();
    for n in 0..HUGE {
        if let Some(mut s) = connect(addr) {
            let sent = Instant::now();
            let _ = s.write_all(&[0x01, 0, 0xff, 0xff, 0xff, 0xff]);
            if idle_conns == 0 {
                // Judged from the header alone: an A-ABORT (or nothing) and the close, at once.
                let _ = s.set_read_timeout(Some(Duration::from_secs(3)));
                let mut got = Vec::new();
                let end = (&s).take(64).read_to_end(&mut got);
                if end.is_err() || sent.elapsed() > Duration::from_secs(1) {
                    huge_slow.push(format!(
                        "4 GiB header {n}: {end:?} after {:?}, got {got:02x?}",
                        sent.elapsed()
                    ));
                } else if !got.is_empty() && got[0] != 0x07 {
                    huge_slow.push(format!("4 GiB header {n}: answered {got:02x?}"));
                }
            }
            held.push(s);
        }
    }
    for _ in 0..HALF {
        if let Some(mut s) = connect(addr) {
            let _ = s.write_all(&rq[..40]);
            let _ = s.shutdown(Shutdown::Write);
            held.push(s);
        }
    }

    // Dribblers: one byte a second each.
    let dribble = {
        let stop = Arc::clone(&stop);
        let rq = rq.clone();
        thread::spawn(move || {
            let mut conns: Vec<TcpStream> = (0..DRIBBLE).filter_map(|_| connect(addr)).collect();
            let start = Instant::now();
            let mut i = 0;
            while !stop.load(Ordering::Relaxed) && start.elapsed() < Duration::from_secs(60) {
                for c in conns.iter_mut() {
                    let _ = c.write_all(&rq[i % rq.len()..i % rq.len() + 1]);
                }
                i += 1;
                thread::sleep(Duration::from_secs(1));
            }
        })
    };

    // Real echoes, one a second.
    thread::sleep(Duration::from_secs(1));
    let mut failures = Vec::new();
    let mut peak_fds = 0;
    for n in 0..ECHOES {
        let out = dcmtk_echo(scp.port);
        if out.code != Some(0) || out.elapsed > Duration::from_secs(5) {
            failures.push(format!("echo {n}:\n{out}"));
        }
        peak_fds = peak_fds.max(fd_count(pid));
        thread::sleep(Duration::from_secs(1));
    }
    let hwm = status_kib(pid, "VmHWM:");
    let threads = status_kib(pid, "Threads:");

    stop.store(true, Ordering::Relaxed);
    let (idle_open, reopened) = idle.join().expect("idle attacker");
    dribble.join().expect("dribbler");
    drop(held);
    // Attackers gone: the SCP gives its descriptors back (ARTIM and idle timeouts are 5 s).
    let start = Instant::now();
    while fd_count(pid) > base_fds + 2 && start.elapsed() < Duration::from_secs(15) {
        thread::sleep(Duration::from_millis(200));
    }
    let after_fds = fd_count(pid);
    eprintln!(
        "attack: {idle_open} idle connections open at the end ({reopened} (re)opened), \
         SCP peak RSS {hwm} KiB, {threads} threads, fds {base_fds} -> peak {peak_fds} -> \
         {after_fds} after the attackers left, {} of {ECHOES} echoes failed",
        failures.len()
    );
    dcmtk_echo(scp.port)
        .assert_code(0)
        .assert_within(Duration::from_secs(5));

    assert!(
        scp.peer.try_exit().is_none(),
        "the SCP exited during the attack; its log:\n{}",
        tail(&scp.log())
    );
    let log = scp.log();
    assert!(
        !log.contains("panicked"),
        "the SCP panicked:\n{}",
        tail(&log)
    );
    assert!(
        huge_slow.is_empty(),
        "4 GiB headers not refused at once:\n{}",
        huge_slow.join("\n")
    );
    assert!(
        failures.is_empty(),
        "{} of {ECHOES} echoes failed during the attack:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(
        hwm <= MAX_RSS_KIB,
        "SCP peak RSS {hwm} KiB > {MAX_RSS_KIB} KiB"
    );
    assert!(
        after_fds <= base_fds + 2,
        "SCP holds {after_fds} fds 15 s after the attackers left (before: {base_fds})"
    );
}

fn tail(log: &str) -> String {
    let lines: Vec<&str> = log.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}
