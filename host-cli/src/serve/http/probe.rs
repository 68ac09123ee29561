//! `GET /probe?target=HOST:PORT&called_ae=..&calling_ae=..&module=NAME`: one check on demand, with
//! blackbox_exporter's contract (its `prober/handler.go`): the answer is 200 with the probe's metrics whatever the
//! check's verdict, `probe_success` and `probe_duration_seconds` among them; the check is bounded by
//! `X-Prometheus-Scrape-Timeout-Seconds` minus [`TIMEOUT_OFFSET`] (120 s without the header); an unknown module or
//! a missing or malformed target is a 400. Unlike blackbox_exporter, a malformed timeout header is a 400 (it answers
//! 500), and a target outside the allow-list is a 403 with a log line naming the address.
//!
//! The metrics: `probe_success`, `probe_duration_seconds`, `probe_timeout_seconds`,
//! `probe_dicom_phase_duration_seconds{phase}` (`connect`, `tls`, `associate`, `echo`: the round trips added up, or
//! `find` for a module with `check = "find"`, `release`; only the phases reached), `probe_dicom_exit_code` (the CLI's exit code for the same check) and
//! `probe_dicom_status` (the last C-ECHO-RSP status, when one came).

use core::net::Ipv6Addr;
use core::time::Duration;

use axum::extract::{RawQuery, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use echoprobe_core::wire::ae_title::AeTitle;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::DescriptorEncoder;
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::{Registry, Unit};
use serde::Deserialize;

use super::metrics::{respond, Format, PHASES};
use super::routes::{text, App};
use crate::cli::defaults::{CALLED_AE, CALLING_AE};
use crate::echo::CheckResult;
use crate::serve::model::{ProbeRefused, ProbeSpec};

/// Taken off Prometheus's scrape timeout so that the answer arrives in time (blackbox_exporter's default).
pub(super) const TIMEOUT_OFFSET: Duration = Duration::from_millis(500);
/// The bound without the header (blackbox_exporter's).
pub(super) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);
/// The header Prometheus sends.
const TIMEOUT_HEADER: &str = "x-prometheus-scrape-timeout-seconds";

/// The query parameters.
#[derive(Debug, Deserialize)]
pub(super) struct Params {
    target: Option<String>,
    called_ae: Option<String>,
    calling_ae: Option<String>,
    module: Option<String>,
}

/// The router's handler. The request is taken whole (its headers moved out, not copied as a `HeaderMap` extractor
/// would).
pub(super) async fn probe(
    State(app): State<App>,
    RawQuery(query): RawQuery,
    request: Request,
) -> Response {
    answer(&app, &request.into_parts().0.headers, query.as_deref()).await
}

/// The answer to `GET /probe?query` with `headers`: the router's handler, and the listener's direct path (see
/// `listen::Direct`).
pub(super) async fn answer(app: &App, headers: &HeaderMap, query: Option<&str>) -> Response {
    // As axum's `Query` extractor did (the same parser, the same 400).
    let params: Params = match serde_urlencoded::from_str(query.unwrap_or_default()) {
        Ok(p) => p,
        Err(e) => {
            return text(
                StatusCode::BAD_REQUEST,
                format!("Failed to deserialize query string: {e}\n"),
            )
        }
    };
    let spec_and_timeout = self::request(app, headers, params);
    let (spec, timeout) = match spec_and_timeout {
        Ok(x) => x,
        Err(message) => return text(StatusCode::BAD_REQUEST, format!("{message}\n")),
    };
    let target = format!("{}:{}", bracketed(&spec.host), spec.port);
    match app.daemon.probe(spec, timeout).await {
        Ok(probed) => {
            let format = Format::asked(headers);
            respond(
                format,
                ProbeMetrics::new(&probed.result, probed.duration, timeout).render(format),
            )
        }
        Err(ProbeRefused::NotAllowed(ip)) => {
            super::log_line(format_args!(
                "/probe refused: target {target} resolves to {ip}, which [probe] allow does not list"
            ));
            text(
                StatusCode::FORBIDDEN,
                format!(
                    "target {target} resolves to {ip}, which the configuration does not allow\n"
                ),
            )
        }
        Err(ProbeRefused::UnknownModule(m)) => {
            text(StatusCode::BAD_REQUEST, format!("Unknown module {m:?}\n"))
        }
    }
}

/// The check the request asks for and its time bound, or why it is a bad request.
fn request(app: &App, headers: &HeaderMap, p: Params) -> Result<(ProbeSpec, Duration), String> {
    let module = p.module.filter(|m| !m.is_empty());
    if !app.daemon.has_module(module.as_deref()) {
        return Err(format!(
            "Unknown module {:?}",
            module.as_deref().unwrap_or_default()
        ));
    }
    let timeout = timeout(headers.get(TIMEOUT_HEADER).map(|v| v.as_bytes()))?;
    let target = p.target.filter(|t| !t.is_empty());
    let Some(target) = target else {
        return Err("Target parameter is missing".to_string());
    };
    let (host, port) = host_port(&target)?;
    let ae = |given: Option<String>, default: &str, key: &str| {
        let title = given.unwrap_or_else(|| default.to_string());
        AeTitle::new(&title)
            .map(|_| title.trim().to_string())
            .map_err(|e| format!("{key}: {title:?}: {e}"))
    };
    let spec = ProbeSpec {
        host,
        port,
        called_ae: ae(p.called_ae, CALLED_AE, "called_ae")?,
        calling_ae: ae(p.calling_ae, CALLING_AE, "calling_ae")?,
        module,
    };
    Ok((spec, timeout))
}

/// The check's bound from the scrape-timeout header: the header's seconds less [`TIMEOUT_OFFSET`] (the header's
/// value itself when that is not above zero), [`DEFAULT_TIMEOUT`] without the header or with 0, never above it.
pub(super) fn timeout(header: Option<&[u8]>) -> Result<Duration, String> {
    let Some(raw) = header else {
        return Ok(DEFAULT_TIMEOUT);
    };
    let secs = core::str::from_utf8(raw)
        .ok()
        .and_then(|s| s.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s >= 0.0)
        .ok_or_else(|| {
            format!(
                "Failed to parse timeout from Prometheus header: {:?}",
                String::from_utf8_lossy(raw)
            )
        })?;
    if secs == 0.0 {
        return Ok(DEFAULT_TIMEOUT);
    }
    let given = Duration::from_secs_f64(secs.min(DEFAULT_TIMEOUT.as_secs_f64()));
    Ok(given
        .checked_sub(TIMEOUT_OFFSET)
        .filter(|d| !d.is_zero())
        .unwrap_or(given))
}

/// `HOST:PORT` or `[IPv6]:PORT` -> (host, port).
pub(super) fn host_port(target: &str) -> Result<(String, u16), String> {
    let bad = |why: &str| format!("target {target:?}: {why} (expected HOST:PORT or [IPv6]:PORT)");
    let (host, port) = if let Some(rest) = target.strip_prefix('[') {
        let (ip, port) = rest.split_once("]:").ok_or_else(|| bad("no port"))?;
        ip.parse::<Ipv6Addr>()
            .map_err(|_| bad("not an IPv6 address in brackets"))?;
        (ip, port)
    } else {
        let (host, port) = target.rsplit_once(':').ok_or_else(|| bad("no port"))?;
        if host.contains(':') {
            return Err(bad("an IPv6 address goes in brackets"));
        }
        (host, port)
    };
    let port: u16 = port
        .parse()
        .ok()
        .filter(|p| *p != 0)
        .ok_or_else(|| bad("the port is not a number from 1 to 65535"))?;
    let name_ok = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_');
    let v6 = target.starts_with('[');
    if !v6 && (host.is_empty() || host.len() > 253 || !host.chars().all(name_ok)) {
        return Err(bad("not a host name or IP address"));
    }
    Ok((host.to_string(), port))
}

/// An IPv6 address in brackets, anything else as is.
fn bracketed(host: &str) -> String {
    if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_string()
    }
}

/// The response's metrics: what one check measured, encoded by prometheus-client's encoder as a [`Collector`] (no
/// metric objects, no descriptors built per probe). The families are blackbox_exporter's, in its order; a family
/// with no sample (no phase reached) is left out, as a registry leaves out an empty family.
#[derive(Debug)]
pub(super) struct ProbeMetrics {
    success: bool,
    duration: f64,
    timeout: f64,
    /// Each phase's seconds, in [`PHASES`] order; `None`: not reached.
    phases: [Option<f64>; PHASES.len()],
    exit_code: u8,
    status: Option<u16>,
}

impl ProbeMetrics {
    pub(super) fn new(result: &CheckResult, duration: Duration, timeout: Duration) -> Self {
        let tl = &result.timeline;
        let echo = (!tl.echoes.is_empty()).then(|| tl.echoes.iter().sum::<Duration>());
        // In `PHASES` order.
        let phases = [tl.connect, tl.tls, tl.associate, echo, tl.find, tl.release];
        ProbeMetrics {
            success: result.verdict.is_ok(),
            duration: duration.as_secs_f64(),
            timeout: timeout.as_secs_f64(),
            phases: phases.map(|d| d.map(|d| d.as_secs_f64())),
            exit_code: result.code(),
            status: result.status,
        }
    }

    /// The exposition text in `format` (OpenMetrics with its `# EOF`, or Prometheus's text format 0.0.4).
    pub(super) fn render(self, format: Format) -> String {
        let mut registry = Registry::default();
        registry.register_collector(Box::new(self));
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = match format {
            Format::OpenMetrics => prometheus_client::encoding::text::encode(&mut out, &registry),
            Format::Text => {
                prometheus_client::encoding::prometheus_text::encode(&mut out, &registry)
            }
        };
        out
    }
}

impl Collector for ProbeMetrics {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> Result<(), core::fmt::Error> {
        let seconds = Some(&Unit::Seconds);
        let mut gauge = |name: &str, help: &str, unit: Option<&Unit>, v: f64| {
            encoder
                .encode_descriptor(name, help, unit, MetricType::Gauge)?
                .encode_gauge(&v)
        };
        // The help texts end with the full stop a registry adds to a registered metric's.
        gauge(
            "probe_success",
            "Displays whether or not the probe was a success.",
            None,
            if self.success { 1.0 } else { 0.0 },
        )?;
        gauge(
            "probe_duration",
            "Returns how long the probe took to complete in seconds.",
            seconds,
            self.duration,
        )?;
        gauge(
            "probe_timeout",
            "Returns how long the probe timeout is in seconds.",
            seconds,
            self.timeout,
        )?;
        if self.phases.iter().any(Option::is_some) {
            let mut family = encoder.encode_descriptor(
                "probe_dicom_phase_duration",
                "How long each phase of the DICOM check took.",
                seconds,
                MetricType::Gauge,
            )?;
            for (phase, d) in PHASES.iter().zip(self.phases) {
                if let Some(d) = d {
                    family
                        .encode_family(&[("phase", *phase)])?
                        .encode_gauge(&d)?;
                }
            }
        }
        let mut gauge = |name: &str, help: &str, v: f64| {
            encoder
                .encode_descriptor(name, help, None, MetricType::Gauge)?
                .encode_gauge(&v)
        };
        gauge(
            "probe_dicom_exit_code",
            "The check's exit code (0 healthy; echoprobe's exit-code table).",
            f64::from(self.exit_code),
        )?;
        if let Some(status) = self.status {
            gauge(
                "probe_dicom_status",
                "The status of the last C-ECHO-RSP.",
                f64::from(status),
            )?;
        }
        Ok(())
    }
}
