//! What the in-memory pairs of the `assoc` and `find` tests share: moving bytes and closes
//! between two machines, and firing the earliest timer on a fake clock.

use std::vec::Vec;

use super::Association;
use crate::time::Instant;

/// Takes every PDU `from` has to send (encoded in `buf`) and gives each to `sink`. Whether
/// there was any.
pub(crate) fn transmit(
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
pub(crate) fn pass_close(
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
