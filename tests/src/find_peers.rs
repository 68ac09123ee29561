//! The find tests' peers that are not Orthanc: DCMTK `dcmqrscp` holding the test study, the
//! pynetdicom FIND SCP answering from records (`tests/py/findscp.py`) and the pynetdicom FIND SCU
//! (`tests/py/findscu.py`, judged by its exit code).

use std::process::Command;

use crate::env::{crate_file, python, setup};
use crate::net::{free_port, spawn_listening};
use crate::peers::{self, Server, START_TIMEOUT};
use crate::process::{Peer, TempDir};
use crate::study;

/// DCMTK `dcmqrscp` ([`peers::dcmqrscp`]: a real database in a temp dir, AE title `ae`) with the
/// test study stored into it by DCMTK `storescu`.
pub fn dcmqrscp_with_study(ae: &str) -> Server {
    let scp = peers::dcmqrscp(ae);
    let dir = TempDir::new("study");
    let file = study::make_file(dir.path());
    study::store(ae, scp.port, &file);
    scp
}

/// A pynetdicom FIND SCP and its port.
#[derive(Debug)]
pub struct PyFindScp {
    pub peer: Peer,
    pub port: u16,
}

impl PyFindScp {
    /// The port as a string, for command lines.
    pub fn port_arg(&self) -> String {
        self.port.to_string()
    }
}

/// `tests/py/findscp.py` on 127.0.0.1 with AE title `ae` (called AE titles checked), answering
/// from `records` (`Keyword=value,...` each), or with `status` as every query's final status.
pub fn py_findscp(ae: &str, records: &[&str], status: Option<u16>) -> PyFindScp {
    setup();
    let port = free_port();
    let mut cmd = Command::new(python());
    cmd.arg(crate_file("py/findscp.py"))
        .arg(port.to_string())
        .args([
            "--ae-title",
            ae,
            "--bind",
            "127.0.0.1",
            "--require-called-aet",
        ]);
    for record in records {
        cmd.args(["--record", record]);
    }
    if let Some(status) = status {
        cmd.arg("--status").arg(format!("0x{status:04X}"));
    }
    let peer = spawn_listening("pynetdicom-findscp", &mut cmd, port, START_TIMEOUT);
    PyFindScp { peer, port }
}

/// A `Command` for `tests/py/findscu.py 127.0.0.1 PORT [extra]` (exit codes in the script).
pub fn py_findscu(port: u16, extra: &[&str]) -> Command {
    crate::peers::py_scu("py/findscu.py", port, extra)
}
