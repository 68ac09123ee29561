//! Every seed passes its target's checks, and the scripted conversations do what their names
//! say (so the state-machine targets start from deep states, not from garbage).

use echoprobe_core::wire::PduType;
use echoprobe_core::{Event, Role};
use echoprobe_fuzz_harness::{command, find, frame, machine, pdu, seeds, Summary};

fn run(target: &str, name: &str) -> Option<Summary> {
    let seed = seeds::all()
        .into_iter()
        .find(|s| s.target == target && s.name == name)
        .unwrap_or_else(|| panic!("no seed {target}/{name}"));
    match target {
        "requestor" => Some(machine(Role::Requestor, &seed.bytes)),
        "acceptor" => Some(machine(Role::Acceptor, &seed.bytes)),
        _ => None,
    }
}

#[test]
fn every_seed_passes_its_target() {
    let all = seeds::all();
    assert!(all.len() >= 50, "only {} seeds", all.len());
    for s in all {
        match s.target {
            "frame" => frame(&s.bytes),
            "pdu" => pdu(&s.bytes),
            "command" => command(&s.bytes),
            "requestor" => drop(machine(Role::Requestor, &s.bytes)),
            "acceptor" => drop(machine(Role::Acceptor, &s.bytes)),
            "dataset" => find::dataset(&s.bytes),
            "find_requestor" => find::find_requestor(&s.bytes),
            "find_acceptor" => find::find_acceptor(&s.bytes),
            t => panic!("seed for unknown target {t}"),
        }
    }
}

fn responses(s: &Summary) -> Vec<u16> {
    s.events
        .iter()
        .filter_map(|e| match e {
            Event::EchoResponse { status, .. } => Some(*status),
            _ => None,
        })
        .collect()
}

#[test]
fn requestor_seeds_reach_their_states() {
    let s = run("requestor", "auto-two-echoes").unwrap();
    assert_eq!(responses(&s), [0, 0], "{s:?}");
    assert!(s.events.contains(&Event::Released) && s.closed, "{s:?}");
    assert_eq!(
        s.sent,
        [
            PduType::AssociateRq,
            PduType::PData,
            PduType::PData,
            PduType::ReleaseRq
        ]
    );

    for name in [
        "auto-dribbled",
        "auto-fragmented-pdvs",
        "manual-echo-release",
    ] {
        let s = run("requestor", name).unwrap();
        assert_eq!(responses(&s), [0], "{name}: {s:?}");
    }
    let s = run("requestor", "auto-failure-status").unwrap();
    assert_eq!(responses(&s), [0x0110], "{s:?}");
    let s = run("requestor", "rejected").unwrap();
    assert!(matches!(s.events[0], Event::Rejected(_)), "{s:?}");
    let s = run("requestor", "abort-instead-of-rsp").unwrap();
    assert!(
        s.events.iter().any(|e| matches!(e, Event::Aborted(_))),
        "{s:?}"
    );
    let s = run("requestor", "release-collision").unwrap();
    assert!(s.events.contains(&Event::ReleaseRequested), "{s:?}");
    let s = run("requestor", "explicit-vr-declined").unwrap();
    assert!(s.events.contains(&Event::NoPresentationContext), "{s:?}");
}

#[test]
fn checker_seeds_reach_their_verdicts() {
    use echoprobe_core::check::Release;
    use echoprobe_core::Outcome;
    let verdict = |name| run("requestor", name).unwrap().verdict.unwrap();
    assert_eq!(
        verdict("checker-healthy"),
        Outcome::Healthy(Release::Released)
    );
    assert!(matches!(
        verdict("checker-failure-status"),
        Outcome::FailureStatus { status: 0x0110, .. }
    ));
    assert_eq!(
        verdict("checker-abort-at-end"),
        Outcome::Healthy(Release::AbortedByUs)
    );
    assert_eq!(
        verdict("checker-release-closed"),
        Outcome::Healthy(Release::ClosedByPeer)
    );
}

#[test]
fn acceptor_seeds_reach_their_states() {
    let s = run("acceptor", "auto-echo-release").unwrap();
    assert!(
        s.events
            .iter()
            .any(|e| matches!(e, Event::EchoRequest { message_id: 1 })),
        "{s:?}"
    );
    assert_eq!(
        s.sent,
        [PduType::AssociateAc, PduType::PData, PduType::ReleaseRp]
    );
    let s = run("acceptor", "manual-accept-split-echo").unwrap();
    assert!(s.sent.contains(&PduType::PData), "{s:?}");
    let s = run("acceptor", "reject").unwrap();
    assert_eq!(s.sent, [PduType::AssociateRj], "{s:?}");
    let s = run("acceptor", "dribbled").unwrap();
    assert_eq!(s.sent, [PduType::AssociateAc, PduType::PData], "{s:?}");
    let s = run("acceptor", "release-collision").unwrap();
    assert!(s.sent.contains(&PduType::ReleaseRp), "{s:?}");
}
