//! The driver loop without the I/O: a [`Pump`] says what to do next ([`Step`]), the caller
//! does that one I/O call and feeds back what happened. The blocking and async drivers are
//! thin shells over it; a transport that fits neither trait can run the pump itself.
//!
//! ```text
//! loop {
//!     match pump.poll(now)? {
//!         Step::Write(pdu)           => write all of pdu, flush; pump.handle_write(now, result)?
//!         Step::Read { buf, deadline } => read into buf until deadline; pump.handle_read(now, result)?
//!                                        (or pump.handle(now, Input::TimedOut) if the deadline won)
//!         Step::Done                 => close the transport; stop
//!     }
//! }
//! ```

use embedded_io::ErrorKind;

use super::Error;
use crate::assoc::{self, Association, Event};
use crate::time::Instant;

/// Bytes read per call; the machine copies them into its own receive buffer.
pub const READ_CHUNK: usize = 512;

/// What a pump hands every event to. It may call methods on the machine (accept, send an
/// echo, release ...). Any `FnMut(&mut Association, Instant, &Event)` is one.
pub trait Handler {
    /// Reacts to `event`, which `assoc` reported at `now`.
    fn on_event(&mut self, assoc: &mut Association<'_>, now: Instant, event: &Event);
}

impl<F: FnMut(&mut Association<'_>, Instant, &Event)> Handler for F {
    fn on_event(&mut self, assoc: &mut Association<'_>, now: Instant, event: &Event) {
        self(assoc, now, event);
    }
}

/// The next I/O the driver does, from [`Pump::poll`].
#[derive(Debug)]
pub enum Step<'p> {
    /// Write all of these bytes (one PDU, in one call: no Nagle stalls) and flush, then call
    /// [`Pump::handle_write`].
    Write(&'p [u8]),
    /// Read once into `buf`, giving up at `deadline` (`None`: wait for data or EOF), then call
    /// [`Pump::handle_read`], or [`Pump::handle`] with [`Input::TimedOut`] when the deadline
    /// came first.
    Read {
        /// Where the bytes go.
        buf: &'p mut [u8],
        /// When to stop waiting.
        deadline: Option<Instant>,
    },
    /// The association is over: close (or drop) the transport.
    Done,
}

/// What the last [`Step`]'s I/O came to, fed back through [`Pump::handle`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Input {
    /// The PDU of [`Step::Write`] is written and flushed.
    Written,
    /// This many bytes were read into the buffer of [`Step::Read`].
    Read(usize),
    /// The peer closed its side (a read returned 0).
    Eof,
    /// The read's deadline passed.
    TimedOut,
    /// The connection is gone (reset, aborted, broken pipe).
    Disconnected,
}

/// Whether a transport error kind means the connection is gone (reported to the machine,
/// not to the caller).
fn is_disconnect(kind: ErrorKind) -> bool {
    matches!(
        kind,
        ErrorKind::ConnectionReset
            | ErrorKind::ConnectionAborted
            | ErrorKind::NotConnected
            | ErrorKind::BrokenPipe
    )
}

/// One association's driver loop, minus the I/O: transmits out, events to the handler,
/// received bytes in, timeouts and closes to the machine.
pub struct Pump<'p, 'a> {
    assoc: &'p mut Association<'a>,
    tx_buf: &'p mut [u8],
    handler: &'p mut (dyn Handler + 'p),
    rbuf: [u8; READ_CHUNK],
    /// The bytes of `rbuf` read but not yet taken by the machine.
    start: usize,
    end: usize,
}

impl<'p, 'a> Pump<'p, 'a> {
    /// A pump for `assoc`, encoding PDUs into `tx_buf` (which must hold the largest PDU the
    /// machine sends) and handing every event to `handler`.
    pub fn new(
        assoc: &'p mut Association<'a>,
        tx_buf: &'p mut [u8],
        handler: &'p mut (dyn Handler + 'p),
    ) -> Self {
        Pump {
            assoc,
            tx_buf,
            handler,
            rbuf: [0; READ_CHUNK],
            start: 0,
            end: 0,
        }
    }

    /// The next I/O to do. Call first, and again after feeding back each step's result.
    /// Sends what the machine has, hands events to the handler, feeds it buffered bytes, and
    /// only then asks for a read (or says the association is over). Fails only when the
    /// machine cannot encode its next PDU into `tx_buf`.
    #[must_use = "the step must be carried out and its result fed back"]
    pub fn poll(&mut self, now: Instant) -> Result<Step<'_>, assoc::Error> {
        loop {
            if let Some(n) = self.assoc.poll_transmit(now, self.tx_buf)? {
                return Ok(Step::Write(self.tx_buf.get(..n).unwrap_or(&[])));
            }
            let mut busy = false;
            while let Some(ev) = self.assoc.poll_event() {
                busy = true;
                self.handler.on_event(self.assoc, now, &ev);
            }
            if busy {
                continue;
            }
            if self.start < self.end {
                let rest = self.rbuf.get(self.start..self.end).unwrap_or(&[]);
                let n = self.assoc.handle_bytes(now, rest);
                // The machine takes nothing only while it has output waiting, which the
                // steps above just drained; guard anyway so the loop always advances.
                self.start = if n == 0 { self.end } else { self.start + n };
                continue;
            }
            if self.assoc.should_close() {
                return Ok(Step::Done);
            }
            return Ok(Step::Read {
                buf: &mut self.rbuf,
                deadline: self.assoc.poll_timeout(),
            });
        }
    }

    /// Feeds back what the last step's I/O came to, at `now`.
    pub fn handle(&mut self, now: Instant, input: Input) {
        match input {
            Input::Written => {}
            Input::Read(n) => {
                self.start = 0;
                self.end = n.min(READ_CHUNK);
            }
            Input::TimedOut => self.assoc.handle_timeout(now),
            Input::Eof | Input::Disconnected => self.assoc.handle_close(now),
        }
    }

    /// Feeds back the result of a [`Step::Write`] (write all, then flush). A lost
    /// connection is the machine's business; any other error is returned.
    pub fn handle_write<E: embedded_io::Error>(
        &mut self,
        now: Instant,
        result: Result<(), E>,
    ) -> Result<(), Error<E>> {
        let input = match result {
            Ok(()) => Input::Written,
            Err(e) if is_disconnect(e.kind()) => Input::Disconnected,
            Err(e) => return Err(Error::Transport(e)),
        };
        self.handle(now, input);
        Ok(())
    }

    /// Feeds back the result of a [`Step::Read`]: bytes, EOF (`Ok(0)`), a timeout
    /// ([`ErrorKind::TimedOut`]) or a lost connection go to the machine; any other error is
    /// returned.
    pub fn handle_read<E: embedded_io::Error>(
        &mut self,
        now: Instant,
        result: Result<usize, E>,
    ) -> Result<(), Error<E>> {
        let input = match result {
            Ok(0) => Input::Eof,
            Ok(n) => Input::Read(n),
            Err(e) if e.kind() == ErrorKind::TimedOut => Input::TimedOut,
            Err(e) if is_disconnect(e.kind()) => Input::Disconnected,
            Err(e) => return Err(Error::Transport(e)),
        };
        self.handle(now, input);
        Ok(())
    }

    /// The association being driven.
    pub fn association(&self) -> &Association<'a> {
        self.assoc
    }
}
