//! The seed corpora: the golden PDUs (the core's, re-exported in [`golden`](crate::golden)), PDUs built with the
//! core's emitters, and scripted conversations for the state-machine targets.

use crate::golden::{self, hex};
use crate::script::{
    Op, Script, User, CHECKER, FLAG_ALL_SYNTAXES, FLAG_AUTO, FLAG_DEADLINE, FLAG_FAIL_STATUS,
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
    let step = set.len().div_ceil(pieces).max(1);
    let pdvs: Vec<Pdv<'_>> = set
        .chunks(step)
        .enumerate()
        .map(|(i, frag)| Pdv {
            pc_id: 1,
            is_command: true,
            is_last: (i + 1) * step >= set.len(),
            fragment: frag,
        })
        .collect();
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

    // Requestor conversations.
    let req = "requestor";
    let auto = FLAG_AUTO;
    s.add(
        req,
        "auto-two-echoes",
        &script(
            auto,
            vec![
                Op::Feed(&ac),
                Op::Feed(&rsp1),
                Op::Feed(&rsp2),
                Op::Feed(&release_rp),
                Op::Close,
            ],
        ),
    );
    s.add(
        req,
        "manual-echo-release",
        &script(
            FLAG_DEADLINE,
            vec![
                Op::Feed(&ac),
                Op::User(User::SendEcho),
                Op::Feed(&rsp1),
                Op::User(User::Release),
                Op::Feed(&release_rp),
            ],
        ),
    );
    let mut ops = chunked(&ac, 1);
    ops.extend(chunked(&rsp1_pdus, 7));
    ops.push(Op::Expire);
    s.add(req, "auto-dribbled", &script(auto, ops));
    s.add(
        req,
        "auto-fragmented-pdvs",
        &script(auto, vec![Op::Feed(&ac), Op::Feed(&rsp1_pdvs), Op::Expire]),
    );
    s.add(
        req,
        "auto-failure-status",
        &script(auto, vec![Op::Feed(&ac), Op::Feed(&rsp1_fail), Op::Close]),
    );
    let rj = g(golden::RJ_CALLED_AE);
    s.add(
        req,
        "rejected",
        &script(0, vec![Op::Feed(&rj), Op::Expire, Op::Close]),
    );
    s.add(
        req,
        "acse-timeout",
        &script(0, vec![Op::Advance(29_999), Op::Expire, Op::Expire]),
    );
    s.add(
        req,
        "dimse-timeout",
        &script(auto, vec![Op::Feed(&ac), Op::Advance(10_000), Op::Expire]),
    );
    s.add(
        req,
        "abort-instead-of-rsp",
        &script(auto, vec![Op::Feed(&ac), Op::Feed(&abort), Op::Close]),
    );
    s.add(
        req,
        "release-collision",
        &script(
            auto,
            vec![
                Op::Feed(&ac),
                Op::Feed(&rsp1),
                Op::Feed(&rsp2),
                Op::Feed(&release_rq),
                Op::Feed(&release_rp),
                Op::Expire,
            ],
        ),
    );
    let orthanc = g(golden::ORTHANC_AC);
    let pynet = g(golden::PYNETDICOM_AC);
    let explicit = g(golden::STORESCP_AC_EXPLICIT);
    s.add(
        req,
        "orthanc-small-tx",
        &script(
            auto,
            vec![
                Op::SmallTransmit(20),
                Op::Feed(&orthanc),
                Op::SmallTransmit(40),
                Op::Feed(&rsp1),
            ],
        ),
    );
    s.add(
        req,
        "pynetdicom-two-contexts",
        &Script {
            flags: auto | FLAG_ALL_SYNTAXES,
            contexts: 2,
            ops: vec![Op::Feed(&pynet), Op::Feed(&rsp1), Op::Feed(&rsp2)],
        }
        .encode(),
    );
    s.add(
        req,
        "explicit-vr-declined",
        &script(auto, vec![Op::Feed(&explicit), Op::Expire]),
    );

    // Requestor driven by the health check (contexts byte with CHECKER).
    let checked = |flags: u8, ops: Vec<Op<'_>>| {
        Script {
            flags,
            contexts: CHECKER | 1,
            ops,
        }
        .encode()
    };
    s.add(
        req,
        "checker-healthy",
        &checked(
            0,
            vec![
                Op::Feed(&ac),
                Op::Feed(&rsp1),
                Op::Feed(&rsp2),
                Op::Feed(&release_rp),
                Op::Close,
            ],
        ),
    );
    s.add(
        req,
        "checker-failure-status",
        &checked(
            0,
            vec![Op::Feed(&ac), Op::Feed(&rsp1_fail), Op::Feed(&release_rp)],
        ),
    );
    s.add(
        req,
        "checker-abort-at-end",
        &checked(
            FLAG_FAIL_STATUS,
            vec![Op::Feed(&ac), Op::Feed(&rsp1_pdus), Op::Feed(&rsp2)],
        ),
    );
    s.add(
        req,
        "checker-release-closed",
        &checked(
            FLAG_DEADLINE,
            vec![Op::Feed(&ac), Op::Feed(&rsp1), Op::Feed(&rsp2), Op::Close],
        ),
    );

    // Acceptor conversations.
    let acc = "acceptor";
    s.add(
        acc,
        "auto-echo-release",
        &script(
            auto,
            vec![
                Op::Feed(&rq),
                Op::Feed(&rq1),
                Op::Feed(&release_rq),
                Op::Close,
            ],
        ),
    );
    let pyrq = g(golden::PYNETDICOM_RQ);
    s.add(
        acc,
        "manual-accept-split-echo",
        &script(
            FLAG_ALL_SYNTAXES,
            vec![
                Op::Feed(&pyrq),
                Op::User(User::Accept),
                Op::Feed(&rq1_split),
                Op::Feed(&release_rq),
                Op::Expire,
            ],
        ),
    );
    let dicomrs = g(golden::DICOMRS_RQ);
    s.add(
        acc,
        "reject",
        &script(
            0,
            vec![Op::Feed(&dicomrs), Op::User(User::Reject), Op::Expire],
        ),
    );
    let mut ops = chunked(&rq, 1);
    ops.push(Op::User(User::Accept));
    ops.extend(chunked(&rq1, 3));
    s.add(acc, "dribbled", &script(FLAG_DEADLINE, ops));
    s.add(acc, "artim", &script(0, vec![Op::Advance(100), Op::Expire]));
    s.add(
        acc,
        "release-collision",
        &script(
            auto,
            vec![
                Op::Feed(&rq),
                Op::User(User::Release),
                Op::Feed(&release_rq),
                Op::Feed(&release_rp),
                Op::Expire,
            ],
        ),
    );
    s.add(
        acc,
        "abort-after-accept",
        &script(auto, vec![Op::Feed(&rq), Op::Feed(&abort), Op::Close]),
    );
    s.add(
        acc,
        "idle-timeout",
        &script(auto, vec![Op::Feed(&rq), Op::Feed(&rq1), Op::Expire]),
    );
    for (target, name, bytes) in crate::find::seeds() {
        s.add(target, name, &bytes);
    }
    s.0
}
