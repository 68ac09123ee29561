//! `echoprobe demo`: a C-ECHO SCP on 127.0.0.1 (any free port) in a thread, and one verbose check against it.
//!
//! It needs nothing else installed, so it is the README's first command. Its options show the other verdicts:
//! `--status 0x0110` (exit code 68), `-aec WRONG` (the SCP checks the called AE title: exit code 61). With `--find`
//! the SCP holds one study record and the check is a find of it (study root, its UID required).

use core::net::{IpAddr, Ipv4Addr, SocketAddr};
use core::time::Duration;
use std::net::TcpListener;
use std::sync::mpsc;

use echoprobe_core::dimse::dataset::Vr;

use crate::cli::{defaults, DemoOptions, EchoOptions, FindOptions, Key, Model, ScpOptions};
use crate::exit::{self, Failure};
use crate::log::Log;
use crate::log::Verbosity;
use crate::{echo, find, scp};

/// The demo check's calling AE title.
const DEMO_CALLING: &str = "DEMO-SCU";
/// The demo SCP's one record for `--find`: Patient ID and Study Instance UID.
const DEMO_PATIENT: &str = "DEMO1";
const DEMO_STUDY: &str = "2.25.150196917513155411338718440563718521245";

fn key(tag: u32, vr: Vr, value: &str) -> Key {
    Key {
        tag,
        vr,
        value: value.to_string(),
    }
}

/// Runs the demo (an SCP on 127.0.0.1 and one check against it); returns the check's exit code.
pub fn run(prog: &str, d: &DemoOptions) -> u8 {
    let log = Log::new(prog, d.verbosity);
    let localhost = IpAddr::V4(Ipv4Addr::LOCALHOST);
    let listener = match TcpListener::bind(SocketAddr::new(localhost, 0)) {
        Ok(l) => l,
        Err(e) => {
            let f = Failure::Local(format!("cannot listen on 127.0.0.1: {e}"));
            log.error(&f);
            return f.code();
        }
    };
    let port = match listener.local_addr() {
        Ok(a) => a.port(),
        Err(e) => {
            let f = Failure::Local(format!("cannot listen on 127.0.0.1: {e}"));
            log.error(&f);
            return f.code();
        }
    };
    let scp_options = ScpOptions {
        port,
        bind: localhost,
        ae_title: defaults::SCP_AE.to_string(),
        require_called_aet: true,
        allow_calling: Vec::new(),
        status: d.status,
        max_associations: 1,
        idle_timeout: Duration::from_secs(10),
        acse_timeout: Duration::from_secs(10),
        max_pdu: defaults::MAX_PDU,
        exit_after: Some(1),
        verbosity: d.verbosity.min(Verbosity::Normal),
        tls: None,
        log_config: None,
        records: if d.find {
            vec![vec![
                key(0x0010_0010, Vr::PN, "DEMO^PATIENT"),
                key(0x0010_0020, Vr::LO, DEMO_PATIENT),
                key(0x0020_000D, Vr::UI, DEMO_STUDY),
            ]]
        } else {
            Vec::new()
        },
    };
    let scp_log = Log::new(prog, scp_options.verbosity).tagged("demo scp: ");
    let (done_tx, done_rx) = mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name("demo scp".into())
        .spawn(move || {
            let _ = scp::serve_listener(listener, &scp_options, &scp_log);
            let _ = done_tx.send(());
        });
    if let Err(e) = spawned {
        let f = Failure::Local(format!("cannot start the demo SCP: {e}"));
        log.error(&f);
        return f.code();
    }
    if d.verbosity > Verbosity::Quiet {
        let find_args = if d.find {
            format!(" find -S -k PatientID={DEMO_PATIENT} --require StudyInstanceUID={DEMO_STUDY}")
        } else {
            String::new()
        };
        crate::log::stderr_line(format_args!(
            "{prog} demo: checking it like: {prog}{find_args} -v -aet {DEMO_CALLING} -aec {} 127.0.0.1 {port}",
            d.called
        ));
    }
    let options = EchoOptions {
        peer: "127.0.0.1".to_string(),
        port,
        calling: DEMO_CALLING.to_string(),
        called: d.called.clone(),
        propose_ts: 1,
        propose_pc: 1,
        connect_timeout: Duration::from_secs(5),
        socket_timeout: Some(Duration::from_secs(10)),
        acse_timeout: Duration::from_secs(10),
        dimse_timeout: Duration::from_secs(10),
        max_pdu: defaults::MAX_PDU,
        repeat: d.repeat,
        abort: false,
        deadline: Some(Duration::from_secs(20)),
        json: d.json,
        verbosity: d.verbosity,
        show_arguments: false,
        tls: None,
        log_config: None,
        family: crate::net::Family::V4,
    };
    let code = if d.find {
        let find_options = FindOptions {
            link: options,
            model: Model::StudyRoot,
            keys: vec![
                key(0x0008_0052, Vr::CS, "STUDY"),
                key(0x0010_0010, Vr::PN, ""),
                key(0x0010_0020, Vr::LO, DEMO_PATIENT),
                key(0x0020_000D, Vr::UI, ""),
            ],
            min_matches: 1,
            max_matches: crate::cli::DEFAULT_MAX_MATCHES,
            require: Some(key(0x0020_000D, Vr::UI, DEMO_STUDY)),
        };
        find::run(prog, &find_options, &[])
    } else {
        echo::run(prog, &options, &[])
    };
    // Let the SCP write its line about the association (it ends when our side closed).
    let _ = done_rx.recv_timeout(Duration::from_secs(2));
    if d.verbosity > Verbosity::Quiet {
        crate::log::stderr_line(format_args!(
            "{prog} demo: exit code {code}: {}",
            exit::meaning(code)
        ));
    }
    code
}
