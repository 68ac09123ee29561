//! The async driver over `embedded-io-async` `Read + Write`: does the I/O the [`Pump`] asks
//! for, racing each read against the caller's timer.

use core::future::{poll_fn, Future};
use core::pin::pin;
use core::task::Poll;

use embedded_io_async::{Read, Write};

use super::pump::{Input, Pump, Step};
use super::Error;
use crate::assoc::{Association, Event};
use crate::time::Instant;

/// The clock and timer of an async runtime (embassy-time, tokio ...).
pub trait Clock {
    /// The current time.
    fn now(&self) -> Instant;
    /// Completes at `at`.
    fn sleep_until(&self, at: Instant) -> impl Future<Output = ()>;
}

/// `f`'s output, or `None` if `timer` completes first.
async fn until<F: Future>(f: F, timer: impl Future<Output = ()>) -> Option<F::Output> {
    let mut f = pin!(f);
    let mut timer = pin!(timer);
    poll_fn(|cx| {
        if let Poll::Ready(x) = f.as_mut().poll(cx) {
            return Poll::Ready(Some(x));
        }
        if timer.as_mut().poll(cx).is_ready() {
            return Poll::Ready(None);
        }
        Poll::Pending
    })
    .await
}

/// Runs `pump` over `t` until it is done; see [`super::blocking::run`].
pub async fn run<T, C>(pump: &mut Pump<'_, '_>, t: &mut T, clock: &C) -> Result<(), Error<T::Error>>
where
    T: Read + Write,
    C: Clock,
{
    loop {
        match pump.poll(clock.now())? {
            Step::Write(pdu) => {
                let written = match t.write_all(pdu).await {
                    Ok(()) => t.flush().await,
                    Err(e) => Err(e),
                };
                pump.handle_write(clock.now(), written)?;
            }
            Step::Read { buf, deadline } => {
                let read = match deadline {
                    Some(at) => until(t.read(buf), clock.sleep_until(at)).await,
                    None => Some(t.read(buf).await),
                };
                match read {
                    Some(read) => pump.handle_read(clock.now(), read)?,
                    None => pump.handle(clock.now(), Input::TimedOut),
                }
            }
            Step::Done => return Ok(()),
        }
    }
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
    run(&mut Pump::new(assoc, tx_buf, &mut on_event), t, clock).await
}

entry_points! {
    [async] t: [Read + Write] [clock: C: Clock],
    now: clock.now(),
    run: |pump| run(pump, t, clock).await,
}
