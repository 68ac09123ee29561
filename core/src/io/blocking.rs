//! The blocking driver over `embedded-io` `Read + Write`.

use embedded_io::{Error as _, ErrorKind, Read, Write};

use super::{checking, is_disconnect, serving, step_events, Error, Report};
use crate::assoc::{AcceptPolicy, Association, Config, Event, Negotiated};
use crate::check::{CheckOptions, Checker};
use crate::time::Instant;

/// Bytes read per call; the machine copies them into its own receive buffer.
const READ_CHUNK: usize = 512;

/// What a blocking driver needs beyond `Read + Write`: a clock and read deadlines.
pub trait Transport: Read + Write {
    /// The current time, on the same clock as every deadline.
    fn now(&self) -> Instant;
    /// Makes later reads fail with [`ErrorKind::TimedOut`] once `deadline` has passed
    /// (`None`: reads may block until data or EOF).
    fn set_read_deadline(&mut self, deadline: Option<Instant>) -> Result<(), Self::Error>;
}

/// Runs `assoc` over `t` until the machine says close (the caller then drops or closes the
/// transport). `on_event` sees every event and may call methods on the machine.
pub fn drive<T, F>(
    assoc: &mut Association<'_>,
    t: &mut T,
    tx_buf: &mut [u8],
    mut on_event: F,
) -> Result<(), Error<T::Error>>
where
    T: Transport,
    F: FnMut(&mut Association<'_>, Instant, &Event),
{
    let mut rbuf = [0u8; READ_CHUNK];
    let (mut start, mut end) = (0usize, 0usize);
    loop {
        let now = t.now();
        let mut busy = false;
        while let Some(n) = assoc.poll_transmit(now, tx_buf)? {
            busy = true;
            let pdu = tx_buf.get(..n).unwrap_or(&[]);
            if let Err(e) = t.write_all(pdu).and_then(|()| t.flush()) {
                if is_disconnect(e.kind()) {
                    assoc.handle_close(now);
                    break;
                }
                return Err(Error::Transport(e));
            }
        }
        busy |= step_events(assoc, now, &mut on_event);
        if busy {
            continue;
        }
        if start < end {
            let n = assoc.handle_bytes(now, rbuf.get(start..end).unwrap_or(&[]));
            // The machine takes nothing only while it has output waiting, which the
            // steps above just drained; guard anyway so the loop always advances.
            start = if n == 0 { end } else { start + n };
            continue;
        }
        if assoc.should_close() {
            return Ok(());
        }
        t.set_read_deadline(assoc.poll_timeout())
            .map_err(Error::Transport)?;
        match t.read(&mut rbuf) {
            Ok(0) => assoc.handle_close(t.now()),
            Ok(n) => {
                start = 0;
                end = n.min(rbuf.len());
            }
            Err(e) if e.kind() == ErrorKind::TimedOut => assoc.handle_timeout(t.now()),
            Err(e) if is_disconnect(e.kind()) => assoc.handle_close(t.now()),
            Err(e) => return Err(Error::Transport(e)),
        }
    }
}

/// Runs a health check as requestor over a connected transport. `observe` sees every event
/// (for logs); the verdict is in the returned [`Report`].
pub fn check<T, F>(
    t: &mut T,
    config: Config<'_>,
    options: CheckOptions,
    rx_buf: &mut [u8],
    tx_buf: &mut [u8],
    mut observe: F,
) -> Result<Report, Error<T::Error>>
where
    T: Transport,
    F: FnMut(&Event),
{
    let now = t.now();
    let mut assoc = Association::new(config, rx_buf, now);
    assoc.set_deadline(options.deadline);
    assoc.connected(now);
    let mut checker = Checker::new(options.repeat, options.abort_at_end);
    drive(&mut assoc, t, tx_buf, checking(&mut checker, &mut observe))?;
    Ok(Report {
        outcome: checker.outcome(),
        stats: checker.stats(),
        negotiated: assoc.negotiated().copied(),
    })
}

/// Serves one association as acceptor over an accepted transport: `policy` answers the
/// A-ASSOCIATE-RQ, C-ECHO-RQs are answered with `config.echo_status`. Returns what was
/// negotiated, if anything.
pub fn serve<T, F>(
    t: &mut T,
    config: Config<'_>,
    policy: &AcceptPolicy<'_>,
    rx_buf: &mut [u8],
    tx_buf: &mut [u8],
    mut observe: F,
) -> Result<Option<Negotiated>, Error<T::Error>>
where
    T: Transport,
    F: FnMut(&Event),
{
    let now = t.now();
    let mut assoc = Association::new(config, rx_buf, now);
    assoc.connected(now);
    drive(&mut assoc, t, tx_buf, serving(policy, &mut observe))?;
    Ok(assoc.negotiated().copied())
}
