//! The seed corpora: the golden PDUs (the core's, re-exported in [`golden`](crate::golden)), PDUs built with the
//! core's emitters, and scripted conversations for the state-machine targets.

use crate::golden::{self, hex};
use crate::script::Op::{self, Advance, Close, Expire, Feed, SmallTransmit, User as Do};
use crate::script::User::{Accept, Reject, Release, SendEcho};
use crate::script::{
    Script, CHECKER, FLAG_ALL_SYNTAXES, FLAG_AUTO, FLAG_DEADLINE, FLAG_FAIL_STATUS,
};
use echoprobe_core::dimse::Command;
use echoprobe_core::wire::{Abort, PData, Pdu, Pdv};

/// One C-ECHO command (RQ when `rsp` is None, else RSP with that status) as P-DATA-TF PDUs
/// on context 1, the command cut into `pieces` PDVs, `per_pdu` PDVs per PDU.
fn echo_pdata(id: u16, rsp: Option<u16>, pieces: usize, per_pdu: usize) -> Vec<Vec<u8>> {
    let cmd = match rsp {
        Some(status) => Command::echo_rsp(id, status),
        None => Command::echo_rq(id),
    };
    let mut set = vec![0u8; cmd.buffer_len()];
    cmd.emit(&mut set).expect("emit command");
    let pdvs: Vec<Pdv<'_>> = golden::command_pdvs(1, &set, pieces).collect();
    pdvs.chunks(per_pdu)
        .map(|group| emit(&Pdu::PData(PData::new(group))))
        .collect()
}

fn emit(p: &Pdu<'_>) -> Vec<u8> {
    let mut buf = vec![0u8; p.buffer_len()];
    p.emit(&mut buf).expect("emit PDU");
    buf
}

fn feed_all(pdus: &[Vec<u8>]) -> Vec<u8> {
    pdus.concat()
}

/// One seed: the target it is for, a file name, the bytes.
#[derive(Debug, Clone)]
pub struct Seed {
    pub target: &'static str,
    pub name: String,
    pub bytes: Vec<u8>,
}

struct Seeds(Vec<Seed>);

impl Seeds {
    fn add(&mut self, target: &'static str, name: &str, bytes: &[u8]) {
        self.0.push(Seed {
            target,
            name: name.to_string(),
            bytes: bytes.to_vec(),
        });
    }
}

fn script(flags: u8, ops: Vec<Op<'_>>) -> Vec<u8> {
    Script {
        flags,
        contexts: 1,
        ops,
    }
    .encode()
}

/// `bytes` as one `Feed` op per `n`-byte chunk.
fn chunked(bytes: &[u8], n: usize) -> Vec<Op<'_>> {
    bytes.chunks(n).map(Op::Feed).collect()
}

/// Every seed of every target.
pub fn all() -> Vec<Seed> {
    let mut s = Seeds(Vec::new());
    let g = |s: &str| hex(s);

    let ac = g(golden::STORESCP_AC);
    let rq = g(golden::DCMTK_RQ);
    let release_rq = g(golden::RELEASE_RQ);
    let release_rp = g(golden::RELEASE_RP);
    let abort = emit(&Pdu::Abort(Abort::provider(
        echoprobe_core::wire::AbortReason::UnexpectedPdu,
    )));
    let rsp1 = feed_all(&echo_pdata(1, Some(0), 1, 1));
    let rsp2 = feed_all(&echo_pdata(2, Some(0), 1, 1));
    let rsp1_fail = feed_all(&echo_pdata(1, Some(0x0110), 1, 1));
    let rsp1_pdvs = feed_all(&echo_pdata(1, Some(0), 3, 3));
    let rsp1_pdus = feed_all(&echo_pdata(1, Some(0), 4, 1));
    let rq1 = feed_all(&echo_pdata(1, None, 1, 1));
    let rq1_split = feed_all(&echo_pdata(1, None, 3, 1));

    // Parsers: every golden PDU, the built ones, and a stream of several.
    let mut pdus: Vec<(String, Vec<u8>)> = golden::ALL
        .iter()
        .enumerate()
        .map(|(i, h)| (format!("golden-{i:02}"), g(h)))
        .collect();
    pdus.push(("abort-provider".into(), abort.clone()));
    pdus.push(("echo-rsp-3pdvs".into(), rsp1_pdvs.clone()));
    pdus.push(("echo-rq".into(), rq1.clone()));
    for (name, bytes) in &pdus {
        s.add("pdu", name, bytes);
        s.add("frame", name, bytes);
    }
    let stream = [rq.clone(), rq1.clone(), release_rq.clone()].concat();
    s.add("frame", "stream", &stream);

    // Command sets: the bytes after the 12-byte PDU + PDV headers.
    for (name, h) in [("echo-rq", golden::ECHO_RQ), ("echo-rsp", golden::ECHO_RSP)] {
        s.add("command", name, &g(h)[12..]);
    }
    s.add("command", "echo-rsp-fail", &rsp1_fail[12..]);

    // Requestor conversations: name, flags, contexts byte (CHECKER: driven by the health
    // check), ops.
    let orthanc = g(golden::ORTHANC_AC);
    let pynet = g(golden::PYNETDICOM_AC);
    let explicit = g(golden::STORESCP_AC_EXPLICIT);
    let rj = g(golden::RJ_CALLED_AE);
    let mut dribbled = chunked(&ac, 1);
    dribbled.extend(chunked(&rsp1_pdus, 7));
    dribbled.push(Expire);
    let (auto, checker) = (FLAG_AUTO, CHECKER | 1);
    #[rustfmt::skip]
    let requestor: [(&str, u8, u8, Vec<Op<'_>>); 17] = [
        ("auto-two-echoes", auto, 1, vec![Feed(&ac), Feed(&rsp1), Feed(&rsp2), Feed(&release_rp), Close]),
        ("manual-echo-release", FLAG_DEADLINE, 1, vec![Feed(&ac), Do(SendEcho), Feed(&rsp1), Do(Release), Feed(&release_rp)]),
        ("auto-dribbled", auto, 1, dribbled),
        ("auto-fragmented-pdvs", auto, 1, vec![Feed(&ac), Feed(&rsp1_pdvs), Expire]),
        ("auto-failure-status", auto, 1, vec![Feed(&ac), Feed(&rsp1_fail), Close]),
        ("rejected", 0, 1, vec![Feed(&rj), Expire, Close]),
        ("acse-timeout", 0, 1, vec![Advance(29_999), Expire, Expire]),
        ("dimse-timeout", auto, 1, vec![Feed(&ac), Advance(10_000), Expire]),
        ("abort-instead-of-rsp", auto, 1, vec![Feed(&ac), Feed(&abort), Close]),
        ("release-collision", auto, 1, vec![Feed(&ac), Feed(&rsp1), Feed(&rsp2), Feed(&release_rq), Feed(&release_rp), Expire]),
        ("orthanc-small-tx", auto, 1, vec![SmallTransmit(20), Feed(&orthanc), SmallTransmit(40), Feed(&rsp1)]),
        ("pynetdicom-two-contexts", auto | FLAG_ALL_SYNTAXES, 2, vec![Feed(&pynet), Feed(&rsp1), Feed(&rsp2)]),
        ("explicit-vr-declined", auto, 1, vec![Feed(&explicit), Expire]),
        ("checker-healthy", 0, checker, vec![Feed(&ac), Feed(&rsp1), Feed(&rsp2), Feed(&release_rp), Close]),
        ("checker-failure-status", 0, checker, vec![Feed(&ac), Feed(&rsp1_fail), Feed(&release_rp)]),
        ("checker-abort-at-end", FLAG_FAIL_STATUS, checker, vec![Feed(&ac), Feed(&rsp1_pdus), Feed(&rsp2)]),
        ("checker-release-closed", FLAG_DEADLINE, checker, vec![Feed(&ac), Feed(&rsp1), Feed(&rsp2), Close]),
    ];
    for (name, flags, contexts, ops) in requestor {
        let script = Script {
            flags,
            contexts,
            ops,
        };
        s.add("requestor", name, &script.encode());
    }

    // Acceptor conversations: name, flags, ops.
    let pyrq = g(golden::PYNETDICOM_RQ);
    let dicomrs = g(golden::DICOMRS_RQ);
    let mut dribbled = chunked(&rq, 1);
    dribbled.push(Do(Accept));
    dribbled.extend(chunked(&rq1, 3));
    #[rustfmt::skip]
    let acceptor: [(&str, u8, Vec<Op<'_>>); 8] = [
        ("auto-echo-release", auto, vec![Feed(&rq), Feed(&rq1), Feed(&release_rq), Close]),
        ("manual-accept-split-echo", FLAG_ALL_SYNTAXES, vec![Feed(&pyrq), Do(Accept), Feed(&rq1_split), Feed(&release_rq), Expire]),
        ("reject", 0, vec![Feed(&dicomrs), Do(Reject), Expire]),
        ("dribbled", FLAG_DEADLINE, dribbled),
        ("artim", 0, vec![Advance(100), Expire]),
        ("release-collision", auto, vec![Feed(&rq), Do(Release), Feed(&release_rq), Feed(&release_rp), Expire]),
        ("abort-after-accept", auto, vec![Feed(&rq), Feed(&abort), Close]),
        ("idle-timeout", auto, vec![Feed(&rq), Feed(&rq1), Expire]),
    ];
    for (name, flags, ops) in acceptor {
        s.add("acceptor", name, &script(flags, ops));
    }
    for (target, name, bytes) in crate::find::seeds() {
        s.add(target, name, &bytes);
    }
    s.0
}
