//! The monitoring programs the `echoprobe serve` tests drive, proven on their own: Prometheus scrapes a plain
//! target and runs blackbox_exporter's relabel recipe against Debian's blackbox_exporter (the same recipe the
//! daemon's `/probe` is scraped with), promtool tells good metrics from bad, headless Chromium reads a page's DOM
//! and screenshots it. A missing program fails these tests: CI installs them (scripts/install-deps.sh).

use core::time::Duration;

use echoprobe_tests::monitoring::{
    artifact, must_get, probe_job, prometheus_config, promtool_check_metrics, sample, scrape_job,
    Blackbox, Chromium, Prometheus, StaticServer,
};
use echoprobe_tests::peers::echoprobe_scp;
use echoprobe_tests::process::assert_took_under;
use echoprobe_tests::{free_port, setup};

/// Prometheus scrapes every second; a value shows in a query within a few scrapes.
const SCRAPED: Duration = Duration::from_secs(30);

#[test]
fn prometheus_scrapes_a_target_and_the_blackbox_recipe() {
    setup();
    let start = std::time::Instant::now();
    let metrics = StaticServer::start(
        "text/plain; version=0.0.4",
        "# HELP proof_answer A constant.\n# TYPE proof_answer gauge\nproof_answer 42\n",
    );
    let mut scp = echoprobe_scp(&["-aet", "PACS"]);
    let live = format!("127.0.0.1:{}", scp.port);
    let dead = format!("127.0.0.1:{}", free_port());
    let blackbox = Blackbox::start();
    let prometheus = Prometheus::start(&prometheus_config(&[
        scrape_job("plain", &metrics.addr),
        probe_job(
            "tcp",
            &blackbox.addr,
            &[("module", "tcp_connect")],
            &[&live, &dead],
        ),
    ]));

    prometheus.wait_value("proof_answer{job=\"plain\"}", 42.0, SCRAPED);
    prometheus.wait_value("up{job=\"plain\"}", 1.0, SCRAPED);
    // The recipe: one series per probed target, `instance` is the target, the exporter is the scraped address.
    prometheus.wait_value(
        &format!("probe_success{{instance=\"{live}\"}}"),
        1.0,
        SCRAPED,
    );
    prometheus.wait_value(
        &format!("probe_success{{instance=\"{dead}\"}}"),
        0.0,
        SCRAPED,
    );
    // The target stops: the next probes fail.
    scp.peer.kill();
    prometheus.wait_value(
        &format!("probe_success{{instance=\"{live}\"}}"),
        0.0,
        SCRAPED,
    );
    // Every scrape itself succeeds: the probe result is in probe_success.
    prometheus.assert_scrapes_up();
    // Each wait has its own bound; this one bounds the whole on a loaded machine (2 CPUs, load 15+ seen).
    assert_took_under(start, Duration::from_secs(300));
}

#[test]
fn blackbox_exporter_tcp_connect_probe() {
    setup();
    let scp = echoprobe_scp(&["-aet", "PACS"]);
    let blackbox = Blackbox::start();
    let up = blackbox.probe(&format!("127.0.0.1:{}", scp.port));
    assert_eq!(up.status, 200, "{up:?}");
    assert_eq!(sample(&up.body, "probe_success"), Some(1.0), "{}", up.body);
    assert!(
        sample(&up.body, "probe_duration_seconds").is_some(),
        "{}",
        up.body
    );
    let down = blackbox.probe(&format!("127.0.0.1:{}", free_port()));
    assert_eq!(
        sample(&down.body, "probe_success"),
        Some(0.0),
        "{}",
        down.body
    );
}

#[test]
fn promtool_tells_good_metrics_from_bad() {
    setup();
    promtool_check_metrics(
        "# HELP proof_checks_total Checks.\n# TYPE proof_checks_total counter\nproof_checks_total{outcome=\"healthy\"} 3\n",
    )
    .assert_code(0);
    // A counter without `_total` breaks Prometheus's naming rules: promtool says so and exits 3.
    let bad = promtool_check_metrics(
        "# HELP proof_checks Checks.\n# TYPE proof_checks counter\nproof_checks 3\n",
    );
    assert_ne!(
        bad.code,
        Some(0),
        "promtool accepted a counter without _total\n{bad}"
    );
    bad.assert_mentions("_total");
}

#[test]
fn chromium_reads_the_dom_and_takes_a_screenshot() {
    setup();
    let page = StaticServer::start(
        "text/html; charset=utf-8",
        "<!doctype html><title>proof</title><table><tr><td class=name>pacs-a</td><td class=state>up</td></tr>\
         </table><svg width=200 height=50><polyline points='0,40 50,10 100,30' stroke=blue fill=none/></svg>\
         <script>document.title = 'scripted';</script>",
    );
    let chromium = Chromium::new();
    let url = format!("http://{}/", page.addr);
    let dom = chromium.dump_dom(&url);
    for needle in ["pacs-a", "<svg", "<polyline", "<title>scripted</title>"] {
        assert!(dom.contains(needle), "the DOM lacks {needle:?}:\n{dom}");
    }
    chromium.screenshot(&url, &artifact("serve-tools-chromium.png"));
    // The static server still answers a plain client (it serves every request).
    assert_eq!(must_get(&page.addr, "/").status, 200);
}
