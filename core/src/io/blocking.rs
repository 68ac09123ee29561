//! The blocking driver over `embedded-io` `Read + Write`: does the I/O the [`Pump`] asks for.

use embedded_io::{Read, Write};

use super::pump::{Pump, Step};
use super::{Error, Report, Session};
use crate::assoc::{AcceptPolicy, Association, Config, Event, Negotiated};
use crate::check::CheckOptions;
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

/// Runs a health check as requestor over a connected transport. `observe` sees every event
/// (for logs); the verdict is in the returned [`Report`].
pub fn check<T, F>(
    t: &mut T,
    config: Config<'_>,
    options: CheckOptions,
    rx_buf: &mut [u8],
    tx_buf: &mut [u8],
    observe: F,
) -> Result<Report, Error<T::Error>>
where
    T: Transport,
    F: FnMut(&Event),
{
    let mut session = Session::check(options, observe);
    let now = t.now();
    let mut assoc = Association::new(config, rx_buf, now);
    session.start(&mut assoc, now);
    run(&mut Pump::new(&mut assoc, tx_buf, &mut session), t)?;
    Ok(session.report(&assoc))
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
    observe: F,
) -> Result<Option<Negotiated>, Error<T::Error>>
where
    T: Transport,
    F: FnMut(&Event),
{
    let mut session = Session::serve(policy, observe);
    let now = t.now();
    let mut assoc = Association::new(config, rx_buf, now);
    session.start(&mut assoc, now);
    run(&mut Pump::new(&mut assoc, tx_buf, &mut session), t)?;
    Ok(assoc.negotiated().copied())
}

/// Runs a find check as requestor over a connected transport (feature `find`). `find_buf`
/// holds the identifier sent and each match received (see [`crate::find`]). `observe` sees
/// every event, and with a pending C-FIND-RSP its match; the verdict is in the returned
/// [`FindReport`](crate::find::FindReport).
#[cfg(feature = "find")]
#[allow(clippy::too_many_arguments)]
pub fn find<T, F>(
    t: &mut T,
    config: Config<'_>,
    options: crate::find::FindOptions<'_>,
    rx_buf: &mut [u8],
    tx_buf: &mut [u8],
    find_buf: &mut [u8],
    observe: F,
) -> Result<crate::find::FindReport, Error<T::Error>>
where
    T: Transport,
    F: FnMut(&Event, Option<&crate::dimse::dataset::DataSet<'_>>),
{
    let mut session = super::find::FindSession::new(options, observe);
    let now = t.now();
    let mut assoc = Association::new(config, rx_buf, now).with_find_buffer(find_buf);
    session.start(&mut assoc, now);
    run(&mut Pump::new(&mut assoc, tx_buf, &mut session), t)?;
    Ok(session.report(&assoc, &options))
}

/// Serves one association as acceptor answering C-FIND from `records` (and C-ECHO) over an
/// accepted transport (feature `find`); `config.find_models` are the models served. Returns
/// what was negotiated, if anything.
#[cfg(feature = "find")]
#[allow(clippy::too_many_arguments)]
pub fn serve_find<T, F>(
    t: &mut T,
    config: Config<'_>,
    policy: &AcceptPolicy<'_>,
    records: &[crate::dimse::dataset::DataSet<'_>],
    rx_buf: &mut [u8],
    tx_buf: &mut [u8],
    find_buf: &mut [u8],
    observe: F,
) -> Result<Option<Negotiated>, Error<T::Error>>
where
    T: Transport,
    F: FnMut(&Event),
{
    let mut session = super::find::ServeFindSession::new(policy, records, observe);
    let now = t.now();
    let mut assoc = Association::new(config, rx_buf, now).with_find_buffer(find_buf);
    assoc.connected(now);
    run(&mut Pump::new(&mut assoc, tx_buf, &mut session), t)?;
    Ok(assoc.negotiated().copied())
}
