//! The find check of one target (feature `find`): a C-FIND of the query compiled in from probe.toml (`check =
//! "find"`), run by the core's async find driver (`echoprobe_core::io::asynch::find`) over the target's connected
//! socket. The core's `FindChecker` counts the matches, cancels after `max_matches` and gives the verdict; its texts
//! are the agent's and `/health`'s reasons, as the echo's outcome texts are for an echo target.
//!
//! Memory: nothing of its own. The query keys are constants in flash (build.rs writes them from probe.toml); the
//! identifier buffer (our query out, one match in at a time) is the tail of the target's association receive buffer,
//! so a find target announces a smaller max PDU and the RAM figure does not change.

use echoprobe_core::assoc::{Config, Event};
use echoprobe_core::check::Outcome;
use echoprobe_core::dimse::dataset::{DataSet, Key};
use echoprobe_core::find::{FindOptions, FindOutcome, Model};
use echoprobe_core::io;
use echoprobe_core::time::Instant;

use crate::clock::Clock;
use crate::net::SocketIo;
use crate::target::{AssocBufs, Failure, ASSOC_RX};

/// A target's query, compiled in by build.rs from its `check = "find"` keys.
pub struct Query {
    /// The information model.
    pub model: Model,
    /// The identifier, in increasing tag order (an empty value: a return key).
    pub keys: &'static [Key<'static>],
    /// Healthy only with at least this many matches.
    pub min_matches: u32,
    /// C-CANCEL-RQ after this many.
    pub max_matches: u32,
    /// Healthy only if some match has this element (tag) with this value.
    pub require: Option<(u32, &'static [u8])>,
}

// `FIND_BUF`: bytes at the end of a find target's receive buffer given to identifiers (the encoded query, then each
// match in turn; a larger match aborts with the core's `MatchTooLarge` reason); build.rs checks that the query fits.
// `QUERIES`: one entry per target, `None` for an echo target.
include!(concat!(env!("OUT_DIR"), "/probe_find.rs"));

/// The query of target `index`, if its check is a find.
pub fn query(index: usize) -> Option<&'static Query> {
    QUERIES.get(index).and_then(Option::as_ref)
}

/// One find check of `q` on the connected `socket`, with the target's association `config` and whole-check
/// `deadline`. A healthy find and an association that failed before the query come back as the echo's outcomes (same
/// texts); what only a find can fail on is `Failure::Find`.
pub async fn check(
    socket: &mut SocketIo<'_, '_>,
    clock: &Clock,
    config: &Config<'static>,
    deadline: Option<Instant>,
    q: &'static Query,
    bufs: &mut AssocBufs,
    index: usize,
) -> Result<Outcome, Failure> {
    // By reference: an async fn keeps its arguments for its whole life, and this future is on the stack.
    let mut config = *config;
    config.find_models = core::slice::from_ref(&q.model);
    let options = FindOptions {
        model: q.model,
        keys: q.keys,
        min_matches: q.min_matches,
        max_matches: Some(q.max_matches),
        required: q.require,
        deadline,
    };
    let (rx, find_buf) = bufs.rx.split_at_mut(ASSOC_RX - FIND_BUF);
    let observe = |ev: &Event, _: Option<&DataSet<'_>>| {
        defmt::debug!("target {=usize}: {}", index, ev);
    };
    let report = io::asynch::find(
        socket,
        clock,
        config,
        options,
        rx,
        &mut bufs.tx,
        find_buf,
        observe,
    )
    .await
    .map_err(Failure::Io)?;
    match report.outcome {
        FindOutcome::Healthy { release, .. } => Ok(Outcome::Healthy(release)),
        FindOutcome::Association(o) => Ok(o),
        o => Err(Failure::Find(o)),
    }
}
