//! What the daemon answers besides its scrapes: `/probe` refuses a target outside `[probe] allow` with 403 and
//! never connects to it (after name resolution, default: the configured targets' addresses); `/health/NAME` says
//! 200/503/404; `echoprobe status NAME` exits with the code the CLI gives for the same PACS.

use core::net::{IpAddr, Ipv4Addr};
use core::time::Duration;
use std::net::ToSocketAddrs;
use std::time::Instant;

use echoprobe_tests::codes::{HEALTHY, REJECTED, UNREACHABLE};
use echoprobe_tests::monitoring::{get, must_get, sample};
use echoprobe_tests::peers::{echoprobe_scp, echoprobe_scp_on};
use echoprobe_tests::serve::{target, Serve, DEFAULTS};
use echoprobe_tests::{echoprobe, free_port, run, setup, Outcome};

const QUICK: Duration = Duration::from_secs(5);
const HARD: Duration = Duration::from_secs(30);

fn probe(serve: &Serve, target: &str) -> echoprobe_tests::monitoring::Response {
    get(
        &serve.http,
        &format!("/probe?target={target}&called_ae=PACS&calling_ae=PROBER"),
        &[("X-Prometheus-Scrape-Timeout-Seconds", "5")],
    )
    .expect("GET /probe")
}

#[test]
fn probe_outside_the_allow_list_is_403_and_never_connects() {
    setup();
    let allowed = echoprobe_scp(&["-aet", "PACS"]);
    // Loopback, so a stray check could not leave the namespace, but outside 127.0.0.1/32.
    let outside = echoprobe_scp_on("127.0.0.2", &["-aet", "PACS"]);
    let serve = Serve::start(&format!(
        "{DEFAULTS}\n[probe]\nallow = [\"127.0.0.1/32\"]\n{}",
        target("pacs", allowed.port, "PACS")
    ));

    let ok = probe(&serve, &format!("127.0.0.1:{}", allowed.port));
    assert_eq!(ok.status, 200, "{ok:?}");
    assert_eq!(sample(&ok.body, "probe_success"), Some(1.0), "{}", ok.body);

    let refused = probe(&serve, &format!("127.0.0.2:{}", outside.port));
    assert_eq!(refused.status, 403, "{refused:?}");
    assert!(
        sample(&refused.body, "probe_success") != Some(1.0),
        "a refused probe must not report success: {}",
        refused.body
    );
    // A name is checked after resolution, on every address it resolves to: `localhost` is allowed only when
    // all of its addresses are 127.0.0.1 (with ::1 in /etc/hosts, it is not).
    let resolved: Vec<_> = ("localhost", outside.port)
        .to_socket_addrs()
        .expect("resolve localhost")
        .map(|a| a.ip())
        .collect();
    let expect = if resolved
        .iter()
        .all(|ip| *ip == IpAddr::from(Ipv4Addr::LOCALHOST))
    {
        200
    } else {
        403
    };
    let by_name = probe(&serve, &format!("localhost:{}", allowed.port));
    assert_eq!(
        by_name.status, expect,
        "localhost resolves to {resolved:?}: {by_name:?}"
    );
    // The refusal is logged, naming the address.
    serve.peer.wait_log("127.0.0.2", QUICK);
    // And the SCP outside the list never saw a connection.
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        !outside.log().contains("<-"),
        "the refused /probe reached 127.0.0.2:\n{}",
        outside.log()
    );
}

#[test]
fn probe_default_allow_list_is_the_targets_addresses() {
    setup();
    let pacs = echoprobe_scp(&["-aet", "PACS"]);
    let outside = echoprobe_scp_on("127.0.0.3", &["-aet", "PACS"]);
    let serve = Serve::start(&format!("{DEFAULTS}{}", target("pacs", pacs.port, "PACS")));
    assert_eq!(
        probe(&serve, &format!("127.0.0.1:{}", pacs.port)).status,
        200
    );
    assert_eq!(
        probe(&serve, &format!("127.0.0.3:{}", outside.port)).status,
        403
    );
}

#[test]
fn health_endpoint_and_status_command() {
    setup();
    let mut up = echoprobe_scp(&["-aet", "PACS"]);
    let rejecting = echoprobe_scp(&["-aet", "OTHER", "--require-called-aet"]);
    let serve = Serve::start(&format!(
        "{DEFAULTS}{}{}",
        target("pacs", up.port, "PACS"),
        target("rejecting", rejecting.port, "PACS"),
    ));
    serve.wait_state("pacs", "up");
    let reason = serve.wait_state("rejecting", "down");

    let health = must_get(&serve.http, "/health/pacs");
    assert_eq!(
        (health.status, health.body.trim()),
        (200, "up"),
        "{health:?}"
    );
    let health = must_get(&serve.http, "/health/rejecting");
    assert_eq!(health.status, 503, "{health:?}");
    assert!(
        health.body.starts_with("down #") && health.body.contains("1/1/7"),
        "{health:?} (API reason {reason:?})"
    );
    assert_eq!(must_get(&serve.http, "/health/no-such-pacs").status, 404);

    // /api/targets: a JSON list (or a `targets` member) with each target's name, state, reason and since.
    let api = serve.targets();
    let list = api.as_array().or_else(|| api["targets"].as_array());
    let list = list.unwrap_or_else(|| panic!("/api/targets is no list: {api}"));
    assert_eq!(list.len(), 2, "{api}");
    for t in list {
        for key in ["name", "state", "reason", "since"] {
            assert!(!t[key].is_null(), "/api/targets entry without {key}: {t}");
        }
    }

    let status = |name: &str| -> Outcome {
        run(
            &mut echoprobe(["status", name, "--http", serve.http.as_str()]),
            HARD,
        )
    };
    // The CLI's verdicts against the same peers are the status codes.
    let cli = |port: u16| -> Outcome {
        run(
            &mut echoprobe([
                "-aet",
                "ECHOPROBE",
                "-aec",
                "PACS",
                "127.0.0.1",
                &port.to_string(),
            ]),
            HARD,
        )
    };
    status("pacs").assert_code(HEALTHY).assert_within(QUICK);
    cli(rejecting.port).assert_code(REJECTED);
    status("rejecting")
        .assert_code(REJECTED)
        .assert_mentions("1/1/7")
        .assert_within(QUICK);

    up.peer.kill();
    serve.wait_state("pacs", "down");
    cli(up.port).assert_code(UNREACHABLE);
    // A check in flight when the peer died ends as 71 (closed before the C-ECHO-RSP); the next one is refused.
    let until = Instant::now() + Duration::from_secs(10);
    let mut last = status("pacs");
    while last.code != Some(i32::from(UNREACHABLE)) && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(100));
        last = status("pacs");
    }
    last.assert_code(UNREACHABLE).assert_within(QUICK);

    // An unknown target is not healthy; neither is an unreachable daemon.
    let unknown = status("no-such-pacs");
    assert!(
        unknown.code.is_some_and(|c| c != i32::from(HEALTHY)),
        "{unknown}"
    );
    let nobody = format!("127.0.0.1:{}", free_port());
    let gone = run(
        &mut echoprobe(["status", "pacs", "--http", nobody.as_str()]),
        HARD,
    );
    assert!(gone.code.is_some_and(|c| c != i32::from(HEALTHY)), "{gone}");
    gone.assert_within(QUICK);
}
