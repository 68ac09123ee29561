//! What the in-memory pairs of the `assoc` and `find` tests share: the wire between two
//! machines (bytes and closes in flight, PDUs sent), and firing the earliest timer on a fake
//! clock.

use std::vec::Vec;

use super::Association;
use crate::time::Instant;

/// The wire between a requestor and an acceptor: bytes in flight each way and every PDU each
/// side sent, for inspection.
#[derive(Default)]
pub(crate) struct Wire {
    pub(crate) to_scp: Vec<u8>,
    pub(crate) to_scu: Vec<u8>,
    pub(crate) scu_sent: Vec<Vec<u8>>,
    pub(crate) scp_sent: Vec<Vec<u8>>,
    /// Drop what the acceptor sends (a silent peer); it is still logged in `scp_sent`.
    pub(crate) mute_scp: bool,
}

impl Wire {
    /// Both machines send all they have (encoded in `buf`). Whether anything was sent.
    pub(crate) fn transmit(
        &mut self,
        scu: &mut Association<'_>,
        scp: &mut Association<'_>,
        now: Instant,
        buf: &mut [u8],
    ) -> bool {
        let scu_moved = transmit(scu, now, buf, |pdu| {
            self.to_scp.extend_from_slice(pdu);
            self.scu_sent.push(pdu.to_vec());
        });
        let scp_moved = transmit(scp, now, buf, |pdu| {
            if !self.mute_scp {
                self.to_scu.extend_from_slice(pdu);
            }
            self.scp_sent.push(pdu.to_vec());
        });
        scu_moved || scp_moved
    }

    /// Both machines take what is in flight to them (one byte at a time when `dribble`), then
    /// see the other's close once all it sent has arrived. Whether anything moved.
    pub(crate) fn deliver(
        &mut self,
        scu: &mut Association<'_>,
        scp: &mut Association<'_>,
        now: Instant,
        dribble: bool,
    ) -> bool {
        let chunk = |v: &Vec<u8>| if dribble { v.len().min(1) } else { v.len() };
        let (to_scp, to_scu) = (chunk(&self.to_scp), chunk(&self.to_scu));
        let mut moved = deliver(scp, now, &mut self.to_scp, to_scp);
        moved |= deliver(scu, now, &mut self.to_scu, to_scu);
        moved |= pass_close(scu, scp, now, &self.to_scp);
        moved |= pass_close(scp, scu, now, &self.to_scu);
        moved
    }
}

/// Takes every PDU `from` has to send (encoded in `buf`) and gives each to `sink`. Whether
/// there was any.
fn transmit(
    from: &mut Association<'_>,
    now: Instant,
    buf: &mut [u8],
    mut sink: impl FnMut(&[u8]),
) -> bool {
    let mut moved = false;
    while let Some(n) = from.poll_transmit(now, buf).unwrap() {
        sink(&buf[..n]);
        moved = true;
    }
    moved
}

/// Hands the first `n` bytes of `queue` to `to` and drops what it took. Whether it took any.
pub(crate) fn deliver(
    to: &mut Association<'_>,
    now: Instant,
    queue: &mut Vec<u8>,
    n: usize,
) -> bool {
    if n == 0 {
        return false;
    }
    let took = to.handle_bytes(now, &queue[..n]);
    queue.drain(..took);
    took > 0
}

/// Once `closer` wants the connection closed and all it sent (`in_flight`) has reached `peer`,
/// `peer` sees the close. Whether it did.
fn pass_close(
    closer: &Association<'_>,
    peer: &mut Association<'_>,
    now: Instant,
    in_flight: &[u8],
) -> bool {
    if closer.should_close() && !peer.is_closed() && in_flight.is_empty() {
        peer.handle_close(now);
        return true;
    }
    false
}

/// Moves `now` to the earlier of both machines' timeouts (if there is one, not after `end`)
/// and fires it on both. Whether a timer fired.
pub(crate) fn fire_next_timer(
    scu: &mut Association<'_>,
    scp: &mut Association<'_>,
    now: &mut Instant,
    end: Option<Instant>,
) -> bool {
    let next = [scu.poll_timeout(), scp.poll_timeout()]
        .into_iter()
        .flatten()
        .min();
    match next {
        Some(at) if end.is_none_or(|end| at <= end) => {
            *now = (*now).max(at);
            scu.handle_timeout(*now);
            scp.handle_timeout(*now);
            true
        }
        _ => false,
    }
}
