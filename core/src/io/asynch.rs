//! The async driver over `embedded-io-async` `Read + Write`: the blocking driver's loop,
//! with the read raced against the caller's timer.

use core::future::{poll_fn, Future};
use core::pin::pin;
use core::task::Poll;

use embedded_io::ErrorKind;
use embedded_io_async::{Read, Write};

use super::{checking, is_disconnect, serving, step_events, Error, Report};
use crate::assoc::{AcceptPolicy, Association, Config, Event, Negotiated};
use crate::check::{CheckOptions, Checker};
use crate::time::Instant;

const READ_CHUNK: usize = 512;

/// The clock and timer of an async runtime (embassy-time, tokio ...).
pub trait Clock {
    /// The current time.
    fn now(&self) -> Instant;
    /// Completes at `at`.
    fn sleep_until(&self, at: Instant) -> impl Future<Output = ()>;
}

enum Either<A, B> {
    Left(A),
    Right(B),
}

async fn select<A: Future, B: Future>(a: A, b: B) -> Either<A::Output, B::Output> {
    let mut a = pin!(a);
    let mut b = pin!(b);
    poll_fn(|cx| {
        if let Poll::Ready(x) = a.as_mut().poll(cx) {
            return Poll::Ready(Either::Left(x));
        }
        if let Poll::Ready(y) = b.as_mut().poll(cx) {
            return Poll::Ready(Either::Right(y));
        }
        Poll::Pending
    })
    .await
}

/// Runs `assoc` over `t` until the machine says close; see [`super::blocking::drive`].
pub async fn drive<T, C, F>(
    assoc: &mut Association<'_>,
    t: &mut T,
    clock: &C,
    tx_buf: &mut [u8],
    mut on_event: F,
) -> Result<(), Error<T::Error>>
where
    T: Read + Write,
    C: Clock,
    F: FnMut(&mut Association<'_>, Instant, &Event),
{
    let mut rbuf = [0u8; READ_CHUNK];
    let (mut start, mut end) = (0usize, 0usize);
    loop {
        let now = clock.now();
        let mut busy = false;
        while let Some(n) = assoc.poll_transmit(now, tx_buf)? {
            busy = true;
            let pdu = tx_buf.get(..n).unwrap_or(&[]);
            let written = match t.write_all(pdu).await {
                Ok(()) => t.flush().await,
                Err(e) => Err(e),
            };
            if let Err(e) = written {
                if is_disconnect(embedded_io::Error::kind(&e)) {
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
            start = if n == 0 { end } else { start + n };
            continue;
        }
        if assoc.should_close() {
            return Ok(());
        }
        let read = match assoc.poll_timeout() {
            Some(at) => match select(t.read(&mut rbuf), clock.sleep_until(at)).await {
                Either::Left(r) => Some(r),
                Either::Right(()) => None,
            },
            None => Some(t.read(&mut rbuf).await),
        };
        match read {
            None => assoc.handle_timeout(clock.now()),
            Some(Ok(0)) => assoc.handle_close(clock.now()),
            Some(Ok(n)) => {
                start = 0;
                end = n.min(rbuf.len());
            }
            Some(Err(e)) => {
                let kind = embedded_io::Error::kind(&e);
                if kind == ErrorKind::TimedOut {
                    assoc.handle_timeout(clock.now());
                } else if is_disconnect(kind) {
                    assoc.handle_close(clock.now());
                } else {
                    return Err(Error::Transport(e));
                }
            }
        }
    }
}

/// A health check as requestor; see [`super::blocking::check`].
pub async fn check<T, C, F>(
    t: &mut T,
    clock: &C,
    config: Config<'_>,
    options: CheckOptions,
    rx_buf: &mut [u8],
    tx_buf: &mut [u8],
    mut observe: F,
) -> Result<Report, Error<T::Error>>
where
    T: Read + Write,
    C: Clock,
    F: FnMut(&Event),
{
    let now = clock.now();
    let mut assoc = Association::new(config, rx_buf, now);
    assoc.set_deadline(options.deadline);
    assoc.connected(now);
    let mut checker = Checker::new(options.repeat, options.abort_at_end);
    drive(
        &mut assoc,
        t,
        clock,
        tx_buf,
        checking(&mut checker, &mut observe),
    )
    .await?;
    Ok(Report {
        outcome: checker.outcome(),
        stats: checker.stats(),
        negotiated: assoc.negotiated().copied(),
    })
}

/// Serves one association as acceptor; see [`super::blocking::serve`].
pub async fn serve<T, C, F>(
    t: &mut T,
    clock: &C,
    config: Config<'_>,
    policy: &AcceptPolicy<'_>,
    rx_buf: &mut [u8],
    tx_buf: &mut [u8],
    mut observe: F,
) -> Result<Option<Negotiated>, Error<T::Error>>
where
    T: Read + Write,
    C: Clock,
    F: FnMut(&Event),
{
    let now = clock.now();
    let mut assoc = Association::new(config, rx_buf, now);
    assoc.connected(now);
    drive(&mut assoc, t, clock, tx_buf, serving(policy, &mut observe)).await?;
    Ok(assoc.negotiated().copied())
}
