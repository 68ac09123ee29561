//! The load-balancer external check `examples/lb-health-check/dicom-c-echo.sh`, run for real: with echoprobe
//! installed as `echoscu` first on PATH against echoprobe's SCP, DCMTK's storescp and stopped ports, and driven
//! by a real HAProxy (`option external-check`) that must mark a healthy server UP and a stopped one DOWN.

use core::time::Duration;
use std::collections::HashMap;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::process::Command;
use std::thread;
use std::time::Instant;

use echoprobe_tests::env::dcmtk;
use echoprobe_tests::fixtures::{check, lb_run, lb_script, path_with};
use echoprobe_tests::peers::{
    echoprobe_scp, echoprobe_scp_on, haproxy, storescp, Server, SilentPeer,
};
use echoprobe_tests::process::{assert_took_under, TempDir};
use echoprobe_tests::{echoprobe, echoprobe_bin, free_port, run, setup, Outcome, CALLING_AE};

/// Hard limit for one command (killed after this), and what a check of a local peer must meet.
const HARD: Duration = Duration::from_secs(30);
const QUICK: Duration = Duration::from_secs(5);
/// How long HAProxy may take to reach a verdict (inter 1s, rise/fall 2: about 2 s when idle).
const LB_VERDICT: Duration = Duration::from_secs(20);

/// [`setup`], then a directory holding `echoscu` -> the echoprobe binary, to put first on PATH.
fn setup_with_echoscu() -> TempDir {
    setup();
    let dir = TempDir::new("echoscu-on-path");
    std::os::unix::fs::symlink(echoprobe_bin(), dir.path().join("echoscu"))
        .expect("symlink echoscu -> echoprobe");
    dir
}

/// The SCP behind the load balancer: LB-SCP, answering only to its own called AE title.
fn lb_scp() -> Server {
    echoprobe_scp(&["-aet", "LB-SCP", "--require-called-aet"])
}

/// Run the script with `args` and an environment of only PATH (`dir` first) and `env`, as a load balancer would.
fn lb_check(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Outcome {
    lb_run(&lb_script(), dir, args, env)
}

#[test]
fn healthy_echoprobe_scp_is_0_then_stopped_is_63() {
    let bin = setup_with_echoscu();
    let mut scp = echoprobe_scp(&[
        "-aet",
        "LB-SCP",
        "--require-called-aet",
        "--allow-calling",
        CALLING_AE,
    ]);
    let port = scp.port_arg();
    lb_check(bin.path(), &["192.0.2.10", "104", "127.0.0.1", &port], &[])
        .assert_code(0)
        .assert_within(QUICK);
    // The script's AE titles reached the SCP (it rejects any other called or calling title).
    scp.peer
        .wait_log(&format!("LB-SCP <- {CALLING_AE}: accepted"), QUICK);

    scp.peer.kill();
    lb_check(bin.path(), &["192.0.2.10", "104", "127.0.0.1", &port], &[])
        .assert_code(63)
        .assert_mentions("refused")
        .assert_within(QUICK);
}

#[test]
fn dcmtk_storescp_is_0() {
    let bin = setup_with_echoscu();
    let scp = storescp("LB-SCP");
    lb_check(
        bin.path(),
        &["192.0.2.10", "104", "127.0.0.1", &scp.port_arg()],
        &[],
    )
    .assert_code(0)
    .assert_within(QUICK);
    let log = scp.peer.wait_log("Received Echo Request", QUICK);
    assert!(
        log.contains(CALLING_AE),
        "storescp did not see the script's calling AE:\n{log}"
    );
}

/// The reason to swap echoscu: a C-ECHO-RSP with a failure status. DCMTK's echoscu calls it healthy (0), the
/// same script with echoprobe as `echoscu` says 68.
#[test]
fn failure_status_is_68_where_dcmtk_echoscu_says_0() {
    let bin = setup_with_echoscu();
    let scp = echoprobe_scp(&["-aet", "LB-SCP", "--status", "0x0110"]);
    let args = ["192.0.2.10", "104", "127.0.0.1", &scp.port_arg()];
    lb_check(bin.path(), &args, &[])
        .assert_code(68)
        .assert_mentions("0x0110")
        .assert_within(QUICK);

    // The same script with DCMTK's echoscu (ECHOSCU overrides the PATH lookup).
    let echoscu = dcmtk("echoscu");
    let echoscu = echoscu.to_str().expect("utf-8 path");
    lb_check(bin.path(), &args, &[("ECHOSCU", echoscu)])
        .assert_code(0)
        .assert_within(HARD);
    let log = scp.peer.wait_log("LB-SCP <- ", QUICK);
    assert_eq!(
        log.matches("LB-SCP <- ").count(),
        2,
        "both checks must have reached the SCP:\n{log}"
    );
}

#[test]
fn rport_0_means_vport() {
    let bin = setup_with_echoscu();
    let scp = lb_scp();
    let live = scp.port_arg();
    let dead = free_port().to_string();
    // RPORT 0: the virtual port is the real one.
    lb_check(bin.path(), &["192.0.2.10", &live, "127.0.0.1", "0"], &[])
        .assert_code(0)
        .assert_within(QUICK);
    lb_check(bin.path(), &["192.0.2.10", &dead, "127.0.0.1", "0"], &[])
        .assert_code(63)
        .assert_within(QUICK);
    // A real port wins over the virtual one.
    lb_check(bin.path(), &["192.0.2.10", &dead, "127.0.0.1", &live], &[])
        .assert_code(0)
        .assert_within(QUICK);
    // RPORT 0 with no virtual port (an HAProxy backend passes NOT_USED) is an error, not a check of port 0.
    lb_check(bin.path(), &["NOT_USED", "NOT_USED", "127.0.0.1", "0"], &[])
        .assert_code(1)
        .assert_mentions("usage:")
        .assert_within(QUICK);
}

/// IPv6 real servers, bare (HAProxy, keepalived) or in brackets (ldirectord's `real6=[::1]:104`).
#[test]
fn ipv6_real_server() {
    let bin = setup_with_echoscu();
    let scp = echoprobe_scp_on("::1", &["-aet", "LB-SCP", "--require-called-aet"]);
    for rip in ["::1", "[::1]"] {
        lb_check(bin.path(), &["::", "104", rip, &scp.port_arg()], &[])
            .assert_code(0)
            .assert_within(QUICK);
    }
    scp.peer.wait_log("LB-SCP <- ", QUICK);
}

#[test]
fn ae_titles_from_the_environment() {
    let bin = setup_with_echoscu();
    let scp = echoprobe_scp(&[
        "-aet",
        "PACS-1",
        "--require-called-aet",
        "--allow-calling",
        "HAPROBE",
    ]);
    let args = ["192.0.2.10", "104", "127.0.0.1", &scp.port_arg()];
    // The defaults (LOADBALANCER -> LB-SCP) are rejected: called AE title not recognized.
    lb_check(bin.path(), &args, &[])
        .assert_code(61)
        .assert_mentions("1/1/7")
        .assert_within(QUICK);
    lb_check(
        bin.path(),
        &args,
        &[("DICOM_AEC", "PACS-1"), ("DICOM_AET", "HAPROBE")],
    )
    .assert_code(0)
    .assert_within(QUICK);
    scp.peer.wait_log("PACS-1 <- HAPROBE: accepted", QUICK);
}

/// HAProxy's convention: NOT_USED for the proxy address and port of a backend, the server in HAPROXY_SERVER_*.
#[test]
fn haproxy_calling_convention() {
    let bin = setup_with_echoscu();
    let scp = lb_scp();
    let port = scp.port_arg();
    let env = [
        ("HAPROXY_SERVER_ADDR", "127.0.0.1"),
        ("HAPROXY_SERVER_PORT", port.as_str()),
        ("HAPROXY_PROXY_ADDR", ""),
        ("HAPROXY_PROXY_PORT", ""),
    ];
    lb_check(
        bin.path(),
        &["NOT_USED", "NOT_USED", "127.0.0.1", &port],
        &env,
    )
    .assert_code(0)
    .assert_within(QUICK);
    // No arguments at all: the environment alone says which server.
    lb_check(bin.path(), &[], &env)
        .assert_code(0)
        .assert_within(QUICK);
    // Outside HAProxy, no arguments is a usage error.
    lb_check(bin.path(), &[], &[])
        .assert_code(1)
        .assert_mentions("usage:")
        .assert_within(QUICK);
}

/// Per-node called AE titles from the map file: by HAProxy's server name first, then `RIP:RPORT`, then RIP; keys
/// are whole strings (no prefixes, no patterns), odd names included; no match or no file: DICOM_AEC.
#[test]
fn called_ae_titles_from_the_map_file() {
    let bin = setup_with_echoscu();
    let one = echoprobe_scp(&["-aet", "PACS-ONE", "--require-called-aet"]);
    let two = echoprobe_scp(&["-aet", "PACS-TWO", "--require-called-aet"]);
    let (p1, p2) = (one.port_arg(), two.port_arg());
    let map = bin.path().join("dicom-aec.map");
    std::fs::write(
        &map,
        format!(
            "# server name or address, called AE title\n\
             pacs1 PACS-ONE\n\
             pacs1.x WRONG\n\
             p*     WRONG\n\
             odd-name.$(x)`y` PACS-TWO\n\
             127.0.0.1:{p2} PACS-TWO\n\
             127.0.0.2 PACS-ONE\n\
             127.0.0.1 LB-SCP\n\
             ::1 PACS-ONE"
        ),
    )
    .expect("write map");
    let map_s = map.display().to_string();
    let with_map = |extra: &[(&'static str, &str)]| {
        let mut env = vec![("DICOM_AEC_MAP", map_s.clone())];
        env.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
        env
    };
    let check = |args: &[&str], env: &[(&str, String)]| {
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        lb_check(bin.path(), args, &env)
    };
    // HAProxy: the server name picks the title, whatever the address says.
    for (name, port) in [("pacs1", &p1), ("odd-name.$(x)`y`", &p2)] {
        let env = with_map(&[
            ("HAPROXY_SERVER_NAME", name),
            ("HAPROXY_SERVER_ADDR", "127.0.0.1"),
            ("HAPROXY_SERVER_PORT", port),
        ]);
        check(&["NOT_USED", "NOT_USED", "127.0.0.1", port], &env)
            .assert_code(0)
            .assert_within(QUICK);
    }
    // A name that is only a prefix, or matches a `p*` key as a pattern, does not count: RIP:RPORT / RIP decide.
    let env = with_map(&[("HAPROXY_SERVER_NAME", "pacs")]);
    check(&["NOT_USED", "NOT_USED", "127.0.0.1", &p2], &env)
        .assert_code(0)
        .assert_within(QUICK);
    check(&["NOT_USED", "NOT_USED", "127.0.0.1", &p1], &env)
        .assert_code(61)
        .assert_mentions("1/1/7")
        .assert_within(QUICK);
    // The 4-argument form of other load balancers: by RIP:RPORT, else by RIP (127.0.0.1 maps to LB-SCP: rejected).
    check(&["192.0.2.10", "104", "127.0.0.1", &p2], &with_map(&[]))
        .assert_code(0)
        .assert_within(QUICK);
    check(&["192.0.2.10", "104", "127.0.0.1", &p1], &with_map(&[]))
        .assert_code(61)
        .assert_within(QUICK);
    // IPv6 by address, bracketed or not.
    let six = echoprobe_scp_on("::1", &["-aet", "PACS-ONE", "--require-called-aet"]);
    for rip in ["::1", "[::1]"] {
        check(&["::", "104", rip, &six.port_arg()], &with_map(&[]))
            .assert_code(0)
            .assert_within(QUICK);
    }
    // No map file: DICOM_AEC, as before.
    let none = [
        ("DICOM_AEC_MAP", format!("{map_s}.missing")),
        ("DICOM_AEC", "PACS-ONE".to_string()),
    ];
    check(&["192.0.2.10", "104", "127.0.0.1", &p1], &none)
        .assert_code(0)
        .assert_within(QUICK);
    one.peer.wait_log("PACS-ONE <- ", QUICK);
    two.peer.wait_log("PACS-TWO <- ", QUICK);
}

/// A healthy check prints nothing (load balancers put the check's output in their log); a failed one prints one
/// line on stderr with the reason; DICOM_VERBOSE=1 brings the summary line back.
#[test]
fn quiet_when_healthy_one_line_when_not() {
    let bin = setup_with_echoscu();
    let mut scp = echoprobe_scp(&["-aet", "LB-SCP"]);
    let port = scp.port_arg();
    let args = ["192.0.2.10", "104", "127.0.0.1", &port];
    let out = lb_check(bin.path(), &args, &[]);
    out.assert_code(0).assert_within(QUICK);
    assert!(out.output().is_empty(), "healthy and quiet\n{out}");
    lb_check(bin.path(), &args, &[("DICOM_VERBOSE", "1")])
        .assert_code(0)
        .assert_mentions("healthy");
    scp.peer.kill();
    let out = lb_check(bin.path(), &args, &[]);
    out.assert_code(63).assert_within(QUICK);
    assert!(out.stdout.is_empty(), "nothing on stdout\n{out}");
    assert_eq!(
        out.stderr.lines().collect::<Vec<_>>(),
        [format!(
            "echoscu: cannot connect to 127.0.0.1:{port}: Connection refused (os error 111)"
        )],
        "one line with the reason\n{out}"
    );
}

/// A node that accepts the connection and never answers: the script's default deadline (4 s) ends the check
/// with echoprobe's 72 before a load balancer's 5 s interval would kill it; DICOM_DEADLINE changes it.
#[test]
fn silent_node_hits_the_default_deadline() {
    let bin = setup_with_echoscu();
    let silent = SilentPeer::start();
    let port = silent.port.to_string();
    let args = ["192.0.2.10", "104", "127.0.0.1", &port];
    let out = lb_check(bin.path(), &args, &[]);
    out.assert_code(72)
        .assert_within(Duration::from_millis(4900));
    assert!(
        out.elapsed >= Duration::from_millis(3900),
        "the deadline is 4 s\n{out}"
    );
    lb_check(bin.path(), &args, &[("DICOM_DEADLINE", "1")])
        .assert_code(72)
        .assert_within(Duration::from_millis(1900));
    assert!(silent.accepted() >= 2, "both checks reached the node");
}

#[test]
fn bad_arguments_are_1_with_usage() {
    let bin = setup_with_echoscu();
    let bad: &[&[&str]] = &[
        &[],
        &["192.0.2.10", "104", "127.0.0.1"],
        &["192.0.2.10", "104", "127.0.0.1", "104", "extra"],
        &["192.0.2.10", "104", "127.0.0.1", "dicom"],
        &["192.0.2.10", "104", "127.0.0.1", "65536"],
        &["192.0.2.10", "104", "127.0.0.1", "-1"],
        &["192.0.2.10", "104", "127.0.0.1", ""],
        &["192.0.2.10", "104", "", "104"],
        &["192.0.2.10", "104", "-aet", "104"],
        &["192.0.2.10", "0", "127.0.0.1", "0"],
        &["192.0.2.10", "x", "127.0.0.1", "0"],
    ];
    for args in bad {
        let out = lb_check(bin.path(), args, &[]);
        out.assert_code(1)
            .assert_mentions("usage:")
            .assert_within(QUICK);
        assert!(
            out.stdout.is_empty(),
            "usage goes to stderr, stdout stays empty\n{out}"
        );
    }
}

/// The script is POSIX sh: it runs the same under dash (Debian's /bin/sh) and `bash --posix`.
#[test]
fn runs_under_dash_and_bash_posix() {
    let bin = setup_with_echoscu();
    let scp = lb_scp();
    let port = scp.port_arg();
    let cases: [(&[&str], i32); 3] = [
        (&["192.0.2.10", "104", "[127.0.0.1]", &port], 0),
        (&["192.0.2.10", &port, "127.0.0.1", "0"], 0),
        (&["192.0.2.10", "104", "127.0.0.1", "70000"], 1),
    ];
    for shell in [&["/bin/dash"][..], &["/bin/bash", "--posix"]] {
        for (args, code) in &cases {
            let mut cmd = Command::new(shell[0]);
            cmd.env_clear()
                .env("PATH", path_with(bin.path()))
                .args(&shell[1..])
                .arg(lb_script())
                .args(*args);
            run(&mut cmd, HARD).assert_code(*code).assert_within(QUICK);
        }
    }
}

#[test]
fn missing_echoscu_is_not_healthy() {
    setup();
    let empty = TempDir::new("no-echoscu");
    let mut cmd = Command::new(lb_script());
    cmd.env_clear()
        .env("PATH", empty.path())
        .args(["192.0.2.10", "104", "127.0.0.1", "104"]);
    run(&mut cmd, HARD)
        .assert_code(127)
        .assert_mentions("echoscu")
        .assert_within(QUICK);
}

// ---- HAProxy ----------------------------------------------------------------------------------------------

/// One server line of HAProxy's `show stat`, by column name.
type ServerStat = HashMap<String, String>;

/// `show stat` over the admin socket: the rows of proxy `px`, keyed by server name.
fn show_stat(sock: &Path, px: &str) -> Result<HashMap<String, ServerStat>, String> {
    let mut conn =
        UnixStream::connect(sock).map_err(|e| format!("connect {}: {e}", sock.display()))?;
    conn.set_read_timeout(Some(QUICK))
        .map_err(|e| e.to_string())?;
    conn.set_write_timeout(Some(QUICK))
        .map_err(|e| e.to_string())?;
    conn.write_all(b"show stat\n").map_err(|e| e.to_string())?;
    let mut text = String::new();
    conn.read_to_string(&mut text).map_err(|e| e.to_string())?;
    let mut lines = text.lines();
    let header = lines
        .next()
        .and_then(|h| h.strip_prefix("# "))
        .ok_or_else(|| format!("no CSV header in {text:?}"))?;
    let columns: Vec<&str> = header.split(',').collect();
    let mut rows = HashMap::new();
    for line in lines.filter(|l| !l.is_empty()) {
        let row: ServerStat = columns
            .iter()
            .zip(line.split(','))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        if row.get("pxname").map(String::as_str) == Some(px) {
            if let Some(sv) = row.get("svname") {
                rows.insert(sv.clone(), row.clone());
            }
        }
    }
    Ok(rows)
}

/// A server's state as `status check_status check_code` (e.g. `DOWN PROCERR 63`); `* ` marks a check in progress.
fn verdict(stat: &ServerStat) -> String {
    let field = |k: &str| stat.get(k).map(String::as_str).unwrap_or("?");
    format!(
        "{} {} {}",
        field("status"),
        field("check_status").trim_start_matches("* "),
        field("check_code")
    )
}

/// Poll `show stat` until every `(server, verdict)` in `want` holds at once, at most `limit`.
#[track_caller]
fn wait_verdicts(
    sock: &Path,
    px: &str,
    want: &[(&str, &str)],
    limit: Duration,
    log: &dyn Fn() -> String,
) {
    let start = Instant::now();
    let mut last;
    loop {
        match show_stat(sock, px) {
            Ok(rows) => {
                let seen: Vec<(String, String)> = want
                    .iter()
                    .map(|(sv, _)| {
                        (
                            sv.to_string(),
                            rows.get(*sv).map(verdict).unwrap_or_default(),
                        )
                    })
                    .collect();
                if seen.iter().zip(want).all(|((_, got), (_, exp))| got == exp) {
                    return;
                }
                last = format!("{seen:?}");
            }
            Err(e) => last = e,
        }
        assert!(
            start.elapsed() < limit,
            "HAProxy did not reach {want:?} within {limit:?}; last seen {last}\nhaproxy log:\n{}",
            log()
        );
        thread::sleep(Duration::from_millis(100));
    }
}

/// Asserts that HAProxy logged `server` (PROXY/SERVER) going DOWN with the script's exit `code`.
#[track_caller]
fn assert_logged_down(log: &str, server: &str, code: u8) {
    let line = format!("Server {server} is DOWN, reason: External check error, code: {code}");
    assert!(
        log.lines().any(|l| l.starts_with(&line)),
        "HAProxy logs the script's code:\n{log}"
    );
}

#[test]
fn haproxy_external_check_marks_healthy_up_and_stopped_down() {
    setup();
    let start = Instant::now();
    let bin = setup_with_echoscu();
    let admin = TempDir::new("haproxy-admin");
    let sock = admin.path().join("admin.sock");
    let mut pacs1 = lb_scp();
    let stopped = free_port();
    let front = free_port();
    // A `listen` section: HAProxy passes its bind address and port as VIP VPORT. In a `backend` it passes NOT_USED,
    // and for a server without a port it passes 0 even when `port` sets a check port (here pacs1's): the script
    // has no port to check and says so (1), so that server stays DOWN. The check process gets `inter`
    // to finish (no `timeout check`), and runs with PATH = `external-check path` and no other environment.
    let config = format!(
        "global\n    log stdout format raw local0\n    external-check\n    insecure-fork-wanted\n    \
         stats socket {sock} mode 600 level admin\n\
         defaults\n    mode tcp\n    log global\n    \
         timeout connect 2s\n    timeout client 10s\n    timeout server 10s\n\
         listen dicom\n    bind 127.0.0.1:{front}\n    balance roundrobin\n    \
         option external-check\n    external-check path \"{path}\"\n    external-check command {script}\n    \
         default-server check inter 1s rise 2 fall 2\n    \
         server pacs1 127.0.0.1:{pacs1}\n    server pacs2 127.0.0.1:{stopped}\n\
         backend pool\n    option external-check\n    external-check path \"{path}\"\n    \
         external-check command {script}\n    default-server check inter 1s rise 2 fall 2\n    \
         server pacs1 127.0.0.1:{pacs1}\n    server noport 127.0.0.1 port {pacs1}\n",
        sock = sock.display(),
        path = path_with(bin.path()),
        script = lb_script().display(),
        pacs1 = pacs1.port,
    );
    let lb = haproxy(&config, front);
    let lb_log = || lb.log();

    // pacs1 passes its checks (exit 0), pacs2 fails them with echoprobe's "connection refused" (63).
    wait_verdicts(
        &sock,
        "dicom",
        &[("pacs1", "UP PROCOK 0"), ("pacs2", "DOWN PROCERR 63")],
        LB_VERDICT,
        &lb_log,
    );
    wait_verdicts(
        &sock,
        "pool",
        &[("pacs1", "UP PROCOK 0"), ("noport", "DOWN PROCERR 1")],
        LB_VERDICT,
        &lb_log,
    );
    // DICOM through the load balancer reaches the healthy server only (3 in a row: round robin would have tried
    // pacs2 if HAProxy still considered it).
    for _ in 0..3 {
        check("LB-SCP", front, &[])
            .assert_code(0)
            .assert_within(QUICK);
    }

    // Stop pacs1: HAProxy must see it fail (63) and take it out.
    pacs1.peer.kill();
    wait_verdicts(
        &sock,
        "dicom",
        &[("pacs1", "DOWN PROCERR 63"), ("pacs2", "DOWN PROCERR 63")],
        LB_VERDICT,
        &lb_log,
    );
    wait_verdicts(
        &sock,
        "pool",
        &[("pacs1", "DOWN PROCERR 63"), ("noport", "DOWN PROCERR 1")],
        LB_VERDICT,
        &lb_log,
    );
    // No server left: HAProxy accepts and closes, which echoprobe reports as a close before the echo (71).
    check("LB-SCP", front, &[])
        .assert_code(71)
        .assert_within(QUICK);
    let log = lb.log();
    assert!(
        log.contains("dicom/pacs1") && log.contains("is DOWN"),
        "HAProxy should log the state change:\n{log}"
    );
    assert_took_under(start, Duration::from_secs(60));
}

/// The shipped `examples/haproxy/haproxy.cfg` parses (`haproxy -c`; its addresses are never contacted).
#[test]
fn example_haproxy_cfg_is_valid() {
    setup();
    let haproxy =
        std::env::var_os("ECHOPROBE_HAPROXY").unwrap_or_else(|| "/usr/sbin/haproxy".into());
    let cfg = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/haproxy/haproxy.cfg");
    let mut cmd = Command::new(haproxy);
    cmd.arg("-c").arg("-f").arg(&cfg);
    run(&mut cmd, HARD)
        .assert_code(0)
        .assert_mentions("Configuration file is valid")
        .assert_within(QUICK);
}

/// The readiness probe's command in `examples/kubernetes/pacs-readiness.yaml`: the `- item` lines after
/// `command:`, with comments and quotes removed.
fn k8s_probe_command() -> Vec<String> {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/kubernetes/pacs-readiness.yaml");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let argv: Vec<String> = text
        .lines()
        .skip_while(|l| l.trim() != "command:")
        .skip(1)
        .map_while(|l| l.trim().strip_prefix("- "))
        .map(|item| {
            let item = item.split(" #").next().unwrap_or(item).trim();
            item.trim_matches('"').to_string()
        })
        .collect();
    assert!(
        argv.len() > 2,
        "no readiness command in {}: {argv:?}",
        path.display()
    );
    argv
}

/// The Kubernetes example's probe, as written (binary and port swapped for the ones under test), against an
/// SCP that accepts only its AE titles: 0 while it runs, 63 once it is stopped.
#[test]
fn kubernetes_readiness_command_works() {
    setup();
    let argv = k8s_probe_command();
    assert_eq!(argv[0], "/usr/local/bin/echoprobe", "{argv:?}");
    assert_eq!(argv[argv.len() - 2..], ["127.0.0.1", "104"], "{argv:?}");
    let mut scp = echoprobe_scp(&[
        "-aet",
        "PACS",
        "--require-called-aet",
        "--allow-calling",
        "K8S-READINESS",
    ]);
    let port = scp.port_arg();
    let probe = |port: &str| {
        let mut args: Vec<&str> = argv[1..argv.len() - 1].iter().map(String::as_str).collect();
        args.push(port);
        run(&mut echoprobe(args), HARD)
    };
    probe(&port).assert_code(0).assert_within(QUICK);
    scp.peer.wait_log("PACS <- K8S-READINESS: accepted", QUICK);
    scp.peer.kill();
    probe(&port).assert_code(63).assert_within(QUICK);
}

// ---- Debian's stock haproxy.cfg with the example merged as examples/haproxy/README.md says ----------------

/// Where Debian's haproxy package installs its configuration.
const DEBIAN_CFG: &str = "/etc/haproxy/haproxy.cfg";
/// The README's steps, run as written with DEBIAN_CFG swapped for a copy (from the repository's top directory).
const STEP_CHROOT: &str = "sed -i 's/^[[:space:]]*chroot[[:space:]]/#&/' /etc/haproxy/haproxy.cfg";
const STEP_APPEND: &str = "cat examples/haproxy/haproxy.cfg >> /etc/haproxy/haproxy.cfg";

/// The first word of `cmd`'s stdout lines, for `md5sum` and `dpkg-query`.
fn stdout_of(cmd: &mut Command) -> String {
    let out = run(cmd, HARD);
    out.assert_code(0);
    out.stdout
}

/// Debian's stock haproxy.cfg, exactly as the package installed it: its MD5 must equal the conffile hash dpkg
/// recorded (a locally edited file would not test what a new user starts from).
fn debian_stock_cfg() -> String {
    let conffiles =
        stdout_of(Command::new("dpkg-query").args(["-W", "-f=${Conffiles}", "haproxy"]));
    let want = conffiles
        .lines()
        .find_map(|l| l.trim().strip_prefix(DEBIAN_CFG))
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("dpkg knows no conffile {DEBIAN_CFG}:\n{conffiles}"))
        .to_string();
    let got = stdout_of(Command::new("md5sum").arg(DEBIAN_CFG));
    let got = got.split_whitespace().next().unwrap_or_default();
    assert_eq!(
        got, want,
        "{DEBIAN_CFG} is not Debian's stock file (md5 {got}, package {want}): \
         reinstall it with `apt-get install --reinstall -o Dpkg::Options::=--force-confask haproxy`"
    );
    std::fs::read_to_string(DEBIAN_CFG).unwrap_or_else(|e| panic!("{DEBIAN_CFG}: {e}"))
}

/// Debian's stock haproxy.cfg, the README's `sed` and `cat` run on a copy, and the example's `listen dicom` pointed
/// at a live node (pacs1, its own AE title from the map file) and a silent one (pacs2). Swapped for the test and
/// nothing else: addresses, ports, the stats socket, `external-check path`/`command` (a wrapper naming the map
/// file), a log target the test reads (`log stdout`), and `user`/`group` only where setuid is impossible (a user
/// namespace). HAProxy must mark pacs1 UP (0) and pacs2 DOWN with echoprobe's deadline (72, in its log: the
/// script ends before HAProxy's `inter 5s` would kill it), pass C-ECHO through the frontend to pacs1 (`mode tcp`
/// despite Debian's `mode http` defaults), print nothing for healthy checks, and log 63 once pacs1 stops.
#[test]
fn haproxy_debian_stock_config_with_the_example_merged() {
    setup();
    let stock = debian_stock_cfg();
    assert!(stock.contains("chroot /var/lib/haproxy") && stock.contains("mode\thttp"));
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let readme = std::fs::read_to_string(repo.join("examples/haproxy/README.md")).expect("README");
    for step in [STEP_CHROOT, STEP_APPEND] {
        assert!(
            readme.contains(step),
            "examples/haproxy/README.md no longer says `{step}`"
        );
    }
    let bin = setup_with_echoscu();
    let work = TempDir::new("haproxy-debian");
    let cfg = work.path().join("haproxy.cfg");
    std::fs::write(&cfg, &stock).expect("copy haproxy.cfg");
    let steps =
        [STEP_CHROOT, STEP_APPEND].map(|s| s.replace(DEBIAN_CFG, &cfg.display().to_string()));
    let mut sh = Command::new("/bin/sh");
    sh.current_dir(&repo).arg("-ec").arg(steps.join("\n"));
    run(&mut sh, HARD).assert_code(0);
    let merged = std::fs::read_to_string(&cfg).expect("merged haproxy.cfg");
    assert!(!merged.contains("\n\tchroot"), "chroot still on:\n{merged}");

    let mut pacs1 = echoprobe_scp(&["-aet", "PACS-ONE", "--require-called-aet"]);
    let pacs2 = SilentPeer::start();
    let (front, probe_front) = (free_port(), free_port());
    let map = bin.path().join("dicom-aec.map");
    std::fs::write(&map, "pacs1 PACS-ONE\npacs2 PACS-TWO\n").expect("write map");
    let wrapper = bin.path().join("dicom-c-echo-wrapper.sh");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\nDICOM_AEC_MAP={} exec {} \"$@\"\n",
            map.display(),
            lb_script().display()
        ),
    )
    .expect("write wrapper");
    let mut perm = std::fs::metadata(&wrapper).expect("stat").permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perm, 0o755);
    std::fs::set_permissions(&wrapper, perm).expect("chmod");
    let sock = work.path().join("admin.sock");
    let swaps = [
        (
            "/run/haproxy/admin.sock".to_string(),
            sock.display().to_string(),
        ),
        ("bind :104\n".into(), format!("bind 127.0.0.1:{front}\n")),
        (
            "bind :11112\n".into(),
            format!("bind 127.0.0.1:{probe_front}\n"),
        ),
        ("192.0.2.21:104".into(), format!("127.0.0.1:{}", pacs1.port)),
        ("192.0.2.22:104".into(), format!("127.0.0.1:{}", pacs2.port)),
        (
            "agent-addr 192.0.2.15".into(),
            "agent-addr 127.0.0.1".into(),
        ),
        (
            "external-check path \"/usr/local/bin:/usr/bin:/bin\"".into(),
            format!("external-check path \"{}\"", path_with(bin.path())),
        ),
        (
            "external-check command /usr/local/lib/echoprobe/dicom-c-echo.sh".into(),
            format!("external-check command {}", wrapper.display()),
        ),
    ];
    let mut config = merged.clone();
    for (from, to) in &swaps {
        assert!(config.contains(from.as_str()), "{from:?} not in:\n{config}");
        config = config.replace(from.as_str(), to);
    }
    // setuid to `haproxy` needs real root; in `unshare -r` (test.sh as non-root) only uid 0 is mapped.
    let uid_map = std::fs::read_to_string("/proc/self/uid_map").unwrap_or_default();
    if uid_map.split_whitespace().collect::<Vec<_>>() != ["0", "0", "4294967295"] {
        config = config
            .replace("\tuser haproxy\n", "")
            .replace("\tgroup haproxy\n", "");
    }
    // In the first `global`: a proxy's `log global` copies the loggers declared before it.
    config = config.replacen("global\n", "global\n\tlog stdout format raw local0\n", 1);
    let lb = haproxy(&config, front);
    let lb_log = || lb.log();

    wait_verdicts(
        &sock,
        "dicom",
        &[("pacs1", "UP PROCOK 0"), ("pacs2", "DOWN PROCERR 72")],
        Duration::from_secs(40),
        &lb_log,
    );
    let log = lb.log();
    assert_logged_down(&log, "dicom/pacs2", 72);
    assert!(!log.contains("External check timeout"), "{log}");
    // DICOM through HAProxy's frontend, answered by pacs1 (leastconn; pacs2 is DOWN).
    for _ in 0..2 {
        check("PACS-ONE", front, &[])
            .assert_code(0)
            .assert_within(QUICK);
    }
    pacs1
        .peer
        .wait_log(&format!("PACS-ONE <- {CALLING_AE}: accepted"), QUICK);
    // Healthy checks print nothing; each failed one prints one line with the reason.
    let log = lb.log();
    let check_lines: Vec<&str> = log.lines().filter(|l| l.starts_with("echoscu:")).collect();
    assert!(
        !check_lines.is_empty()
            && check_lines.iter().all(|l| l.contains(&format!(
                "127.0.0.1:{}",
                pacs2.port
            )) && l.contains("deadline")),
        "only pacs2's failures, one line each:\n{log}"
    );

    pacs1.peer.kill();
    wait_verdicts(
        &sock,
        "dicom",
        &[("pacs1", "DOWN PROCERR 63"), ("pacs2", "DOWN PROCERR 72")],
        Duration::from_secs(40),
        &lb_log,
    );
    let log = lb.log();
    assert_logged_down(&log, "dicom/pacs1", 63);
    println!("haproxy printed:\n{log}");
}
