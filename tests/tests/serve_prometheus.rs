//! `echoprobe serve` scraped by a real Prometheus (Debian's, a plain process with a temporary config): `/metrics`
//! as an ordinary job and `/probe` with blackbox_exporter's relabel recipe, read back through Prometheus's own query
//! API: the target up, then down after storescp stops. And `promtool check metrics` on what the daemon serves.

use core::time::Duration;
use std::time::Instant;

use echoprobe_tests::monitoring::{
    get, must_get, probe_job, prometheus_config, promtool_check_metrics, sample, scrape_job,
    Prometheus,
};
use echoprobe_tests::peers::{echoprobe_scp, storescp};
use echoprobe_tests::process::assert_took_under;
use echoprobe_tests::serve::{target, Serve, DEFAULTS};
use echoprobe_tests::{free_port, setup};

/// Prometheus scrapes every second; the daemon checks every 300 ms: a change shows within a few seconds.
const SCRAPED: Duration = Duration::from_secs(30);

/// The `/probe` module the tests configure (the target keys minus name and address).
const MODULE: &str =
    "\n[module.dicom]\nconnect_timeout_ms = 1000\nacse_timeout_ms = 1000\ndimse_timeout_ms = 1000\n";

#[test]
fn prometheus_sees_the_target_up_then_down() {
    setup();
    let start = Instant::now();
    let mut scp = storescp("STORESCP");
    let addr = format!("127.0.0.1:{}", scp.port);
    let serve = Serve::start(&format!(
        "{DEFAULTS}\n[probe]\nallow = [\"127.0.0.1/32\"]\n{MODULE}{}",
        target("pacs", scp.port, "STORESCP")
    ));
    serve.wait_state("pacs", "up");
    let prometheus = Prometheus::start(&prometheus_config(&[
        scrape_job("echoprobe", &serve.http),
        probe_job(
            "dicom",
            &serve.http,
            &[
                ("module", "dicom"),
                ("called_ae", "STORESCP"),
                ("calling_ae", "PROMETHEUS"),
            ],
            &[&addr],
        ),
    ]));

    prometheus.wait_value("echoprobe_target_up{target=\"pacs\"}", 1.0, SCRAPED);
    prometheus.wait_value(
        &format!("probe_success{{instance=\"{addr}\"}}"),
        1.0,
        SCRAPED,
    );
    // The other series exist and move: healthy checks counted, a histogram with phases, a recent timestamp.
    prometheus.wait_value(
        "count(echoprobe_checks_total{target=\"pacs\",outcome=\"healthy\"} > 0)",
        1.0,
        SCRAPED,
    );
    prometheus.wait_value(
        "count(echoprobe_check_duration_seconds_count{target=\"pacs\",phase=\"echo\"} > 0)",
        1.0,
        SCRAPED,
    );
    prometheus.wait_value(
        "count(time() - echoprobe_last_check_timestamp_seconds{target=\"pacs\"} < 60)",
        1.0,
        SCRAPED,
    );
    prometheus.wait_value(
        &format!("count(probe_duration_seconds{{instance=\"{addr}\"}} > 0)"),
        1.0,
        SCRAPED,
    );
    // Prometheus's `/probe` requests reached storescp with the recipe's AE titles.
    scp.peer.wait_log("PROMETHEUS", SCRAPED);

    scp.peer.kill();
    serve.wait_state("pacs", "down");
    prometheus.wait_value("echoprobe_target_up{target=\"pacs\"}", 0.0, SCRAPED);
    prometheus.wait_value(
        &format!("probe_success{{instance=\"{addr}\"}}"),
        0.0,
        SCRAPED,
    );
    prometheus.wait_value(
        "count(echoprobe_checks_total{target=\"pacs\",outcome!=\"healthy\"} > 0)",
        1.0,
        SCRAPED,
    );
    // Both scrapes themselves stay healthy: a failed check is a value, not a failed scrape.
    let health = prometheus.assert_scrapes_up();
    assert_eq!(health.len(), 2, "scrape health: {health:?}");
    // Each wait has its own bound; this one bounds the whole on a loaded machine (2 CPUs, load 15+ seen).
    assert_took_under(start, Duration::from_secs(300));
}

#[test]
fn promtool_accepts_metrics_and_probe() {
    setup();
    let up = echoprobe_scp(&["-aet", "PACS"]);
    let rejecting = echoprobe_scp(&["-aet", "OTHER", "--require-called-aet"]);
    let dead = free_port();
    let serve = Serve::start(&format!(
        "{DEFAULTS}{MODULE}{}{}{}",
        target("pacs-up", up.port, "PACS"),
        target("pacs-rejecting", rejecting.port, "PACS"),
        target("pacs-dead", dead, "PACS"),
    ));
    serve.wait_state("pacs-up", "up");
    serve.wait_state("pacs-rejecting", "down");
    serve.wait_state("pacs-dead", "down");

    let metrics = must_get(&serve.http, "/metrics");
    assert_eq!(metrics.status, 200, "{metrics:?}");
    let content_type = metrics.header("content-type").unwrap_or("");
    assert!(
        content_type.starts_with("text/plain")
            || content_type.starts_with("application/openmetrics-text"),
        "Content-Type {content_type:?}"
    );
    for name in ["pacs-up", "pacs-rejecting", "pacs-dead"] {
        assert!(
            metrics
                .body
                .contains(&format!("echoprobe_target_up{{target=\"{name}\"}}")),
            "no echoprobe_target_up for {name}:\n{}",
            metrics.body
        );
    }
    for series in [
        "echoprobe_checks_total{",
        "echoprobe_check_duration_seconds_bucket{",
        "echoprobe_last_check_timestamp_seconds{",
    ] {
        assert!(
            metrics.body.contains(series),
            "no {series}:\n{}",
            metrics.body
        );
    }
    promtool_check_metrics(&metrics.body).assert_code(0);

    // /probe's answer is a metrics text too, for a success and for a failure.
    for (port, success) in [(up.port, 1.0), (dead, 0.0)] {
        let path = format!(
            "/probe?target=127.0.0.1:{port}&called_ae=PACS&calling_ae=PROMTOOL&module=dicom"
        );
        let probe = get(
            &serve.http,
            &path,
            &[("X-Prometheus-Scrape-Timeout-Seconds", "5")],
        )
        .expect("GET /probe");
        assert_eq!(probe.status, 200, "{path}: {probe:?}");
        assert_eq!(
            sample(&probe.body, "probe_success"),
            Some(success),
            "{path}:\n{}",
            probe.body
        );
        assert!(
            sample(&probe.body, "probe_duration_seconds").is_some(),
            "{}",
            probe.body
        );
        promtool_check_metrics(&probe.body).assert_code(0);
    }
}
