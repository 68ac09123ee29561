//! The byte format of the state-machine targets' inputs, decoded leniently (any bytes are a
//! script) and encoded by the seed generator and the regression tests.
//!
//! ```text
//! flags (1 byte)     bits 0-2: receive buffer size (index into RX_SIZES), then FLAG_*
//! contexts (1 byte)  requestor: bit 7 CHECKER, bits 0-6 presentation contexts to propose
//!                    (the core clamps to 1..=128)
//! ops...             op byte (low 3 bits) and its arguments:
//!   0 Feed           u16 BE length, bytes     stream bytes, handed over until all are taken
//!   1 FeedSmall      u8 length, bytes         the same with a short chunk
//!   2 Advance        u16 BE milliseconds      move the clock, then handle_timeout
//!   3 Expire         -                        clock to poll_timeout(), fire until settled
//!   4 Close          -                        handle_close (EOF or reset)
//!   5 User           u8 call                  connected/send_echo/release/abort/accept/reject/deadline
//!   6 SmallTransmit  u8 size                  poll_transmit into a buffer of that size
//!   7 EarlyTimeout   -                        handle_timeout without moving the clock
//! ```
//! A length running past the end of the input takes what is left.

/// React like the CLI / SCP: send echoes on `Accepted`, release after two responses, accept
/// every request.
pub const FLAG_AUTO: u8 = 0x08;
/// Set an overall deadline of 5 s at the start.
pub const FLAG_DEADLINE: u8 = 0x10;
/// Propose / accept all four uncompressed transfer syntaxes.
pub const FLAG_ALL_SYNTAXES: u8 = 0x20;
/// All timeouts zero.
pub const FLAG_ZERO_TIMEOUTS: u8 = 0x40;
/// The acceptor answers C-ECHO with 0x0110; a requestor in checker mode ends with A-ABORT.
pub const FLAG_FAIL_STATUS: u8 = 0x80;
/// In the contexts byte: a requestor is driven by `check::Checker` (two echoes) and its verdict
/// is checked; the low 7 bits are the contexts to propose.
pub const CHECKER: u8 = 0x80;

/// A user call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum User {
    Connected,
    SendEcho,
    Release,
    Abort,
    Accept,
    Reject,
    /// `set_deadline(now + ms)`.
    Deadline(u8),
}

/// One step of a script.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op<'a> {
    Feed(&'a [u8]),
    Advance(u16),
    Expire,
    Close,
    User(User),
    SmallTransmit(u8),
    EarlyTimeout,
}

/// A decoded input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Script<'a> {
    pub flags: u8,
    pub contexts: u8,
    pub ops: Vec<Op<'a>>,
}

struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    fn u8(&mut self) -> u8 {
        match self.rest.split_first() {
            Some((b, rest)) => {
                self.rest = rest;
                *b
            }
            None => 0,
        }
    }

    fn u16(&mut self) -> u16 {
        u16::from_be_bytes([self.u8(), self.u8()])
    }

    fn bytes(&mut self, n: usize) -> &'a [u8] {
        let (head, rest) = self.rest.split_at(n.min(self.rest.len()));
        self.rest = rest;
        head
    }
}

impl<'a> Script<'a> {
    /// Any bytes are a script.
    pub fn decode(data: &'a [u8]) -> Script<'a> {
        let mut r = Reader { rest: data };
        let flags = r.u8();
        let contexts = r.u8();
        let mut ops = Vec::new();
        while !r.rest.is_empty() {
            let op = r.u8();
            ops.push(match op & 7 {
                0 => {
                    let n = r.u16();
                    Op::Feed(r.bytes(usize::from(n)))
                }
                1 => {
                    let n = r.u8();
                    Op::Feed(r.bytes(usize::from(n)))
                }
                2 => Op::Advance(r.u16()),
                3 => Op::Expire,
                4 => Op::Close,
                5 => {
                    let call = r.u8();
                    Op::User(match call % 7 {
                        0 => User::Connected,
                        1 => User::SendEcho,
                        2 => User::Release,
                        3 => User::Abort,
                        4 => User::Accept,
                        5 => User::Reject,
                        _ => User::Deadline(call),
                    })
                }
                6 => Op::SmallTransmit(r.u8()),
                _ => Op::EarlyTimeout,
            });
        }
        Script {
            flags,
            contexts,
            ops,
        }
    }

    /// The bytes that decode to this script (`Feed` is split into 65535-byte pieces).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = vec![self.flags, self.contexts];
        for op in &self.ops {
            match *op {
                Op::Feed(bytes) => {
                    for chunk in bytes.chunks(usize::from(u16::MAX)) {
                        if chunk.len() <= usize::from(u8::MAX) {
                            out.push(1);
                            out.push(chunk.len() as u8);
                        } else {
                            out.push(0);
                            out.extend_from_slice(&(chunk.len() as u16).to_be_bytes());
                        }
                        out.extend_from_slice(chunk);
                    }
                }
                Op::Advance(ms) => {
                    out.push(2);
                    out.extend_from_slice(&ms.to_be_bytes());
                }
                Op::Expire => out.push(3),
                Op::Close => out.push(4),
                Op::User(u) => {
                    out.push(5);
                    out.push(match u {
                        User::Connected => 0,
                        User::SendEcho => 1,
                        User::Release => 2,
                        User::Abort => 3,
                        User::Accept => 4,
                        User::Reject => 5,
                        // Decodes as a deadline when the remainder by 7 is 6.
                        User::Deadline(ms) if ms % 7 == 6 => ms,
                        User::Deadline(ms) if ms >= 7 => ms / 7 * 7 - 1,
                        User::Deadline(_) => 6,
                    });
                }
                Op::SmallTransmit(size) => {
                    out.push(6);
                    out.push(size);
                }
                Op::EarlyTimeout => out.push(7),
            }
        }
        out
    }
}
