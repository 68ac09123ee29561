//! The blocking driver over `embedded-io` `Read + Write`: does the I/O the [`Pump`] asks for.

use embedded_io::{Read, Write};

use super::pump::{Pump, Step};
use super::Error;
use crate::assoc::{Association, Event};
use crate::time::Instant;

/// What a blocking driver needs beyond `Read + Write`: a clock and read deadlines.
pub trait Transport: Read + Write {
    /// The current time, on the same clock as every deadline.
    fn now(&self) -> Instant;
    /// Makes later reads fail with [`embedded_io::ErrorKind::TimedOut`] once `deadline` has
    /// passed (`None`: reads may block until data or EOF).
    fn set_read_deadline(&mut self, deadline: Option<Instant>) -> Result<(), Self::Error>;
}

/// Runs `pump` over `t` until it is done (the caller then drops or closes the transport).
pub fn run<T: Transport>(pump: &mut Pump<'_, '_>, t: &mut T) -> Result<(), Error<T::Error>> {
    loop {
        match pump.poll(t.now())? {
            Step::Write(pdu) => {
                let written = t.write_all(pdu).and_then(|()| t.flush());
                pump.handle_write(t.now(), written)?;
            }
            Step::Read { buf, deadline } => {
                t.set_read_deadline(deadline).map_err(Error::Transport)?;
                let read = t.read(buf);
                pump.handle_read(t.now(), read)?;
            }
            Step::Done => return Ok(()),
        }
    }
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
    run(&mut Pump::new(assoc, tx_buf, &mut on_event), t)
}

entry_points! {
    [] t: [Transport],
    now: t.now(),
    run: |pump| run(pump, t),
}
