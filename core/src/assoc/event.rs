//! What the machine reports: events, negotiated parameters, violations, timers and timeouts.

use core::fmt;

use crate::dimse;
use crate::time::Duration;
use crate::wire::{self, uid, Abort, AeTitle, AssociateRj, PduType, Uid};

/// The transfer syntax accepted for the Verification context.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum TransferSyntax {
    /// 1.2.840.10008.1.2
    ImplicitVrLittleEndian,
    /// 1.2.840.10008.1.2.1
    ExplicitVrLittleEndian,
    /// 1.2.840.10008.1.2.2
    ExplicitVrBigEndian,
    /// 1.2.840.10008.1.2.1.99
    DeflatedExplicitVrLittleEndian,
    /// Anything else (C-ECHO carries no data set, so it still works).
    Other,
}

impl TransferSyntax {
    /// Classifies a UID.
    pub fn from_uid(syntax: Uid<'_>) -> Self {
        let b = syntax.as_bytes();
        if b == uid::IMPLICIT_VR_LE.as_bytes() {
            TransferSyntax::ImplicitVrLittleEndian
        } else if b == uid::EXPLICIT_VR_LE.as_bytes() {
            TransferSyntax::ExplicitVrLittleEndian
        } else if b == uid::EXPLICIT_VR_BE.as_bytes() {
            TransferSyntax::ExplicitVrBigEndian
        } else if b == uid::DEFLATED_EXPLICIT_VR_LE.as_bytes() {
            TransferSyntax::DeflatedExplicitVrLittleEndian
        } else {
            TransferSyntax::Other
        }
    }
}

impl fmt::Display for TransferSyntax {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TransferSyntax::ImplicitVrLittleEndian => "Implicit VR Little Endian",
            TransferSyntax::ExplicitVrLittleEndian => "Explicit VR Little Endian",
            TransferSyntax::ExplicitVrBigEndian => "Explicit VR Big Endian",
            TransferSyntax::DeflatedExplicitVrLittleEndian => "Deflated Explicit VR Little Endian",
            TransferSyntax::Other => "other",
        })
    }
}

/// A short string copied out of a PDU (implementation class UID or version name), truncated
/// to `N` bytes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Text<const N: usize> {
    bytes: [u8; N],
    len: u8,
}

impl<const N: usize> Text<N> {
    /// Nothing.
    pub const EMPTY: Self = Text {
        bytes: [0; N],
        len: 0,
    };

    /// Copies at most `N` bytes of `src`.
    pub fn copy_from(src: &[u8]) -> Self {
        let mut t = Self::EMPTY;
        let n = src.len().min(N).min(usize::from(u8::MAX));
        if let (Some(dst), Some(s)) = (t.bytes.get_mut(..n), src.get(..n)) {
            dst.copy_from_slice(s);
            t.len = n as u8;
        }
        t
    }

    /// The bytes.
    pub fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..usize::from(self.len)).unwrap_or(&[])
    }
}

impl<const N: usize> fmt::Display for Text<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for &b in self.as_bytes() {
            if (0x20..0x7f).contains(&b) {
                write!(f, "{}", b as char)?;
            } else {
                write!(f, "\\x{b:02x}")?;
            }
        }
        Ok(())
    }
}

impl<const N: usize> fmt::Debug for Text<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{self}\"")
    }
}

#[cfg(feature = "defmt")]
impl<const N: usize> defmt::Format for Text<N> {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(f, "{=[u8]:a}", self.as_bytes())
    }
}

/// What the association settled on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Negotiated {
    /// The presentation context used for C-ECHO (the first accepted one).
    pub pc_id: u8,
    /// Its transfer syntax.
    pub transfer_syntax: TransferSyntax,
    /// Contexts proposed / accepted.
    pub proposed_contexts: u8,
    /// Accepted contexts.
    pub accepted_contexts: u8,
    /// The largest P-DATA-TF the peer receives (0 = no limit).
    pub peer_max_pdu: u32,
    /// The largest P-DATA-TF we receive (what we announced).
    pub our_max_pdu: u32,
    /// Called AE title (as in the A-ASSOCIATE-RQ).
    pub called: AeTitle,
    /// Calling AE title (as in the A-ASSOCIATE-RQ).
    pub calling: AeTitle,
    /// The peer's implementation class UID.
    pub peer_implementation_class: Text<64>,
    /// The peer's implementation version name.
    pub peer_implementation_version: Text<16>,
}

/// The machine's timers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Timer {
    /// No A-ASSOCIATE-AC/RJ in time.
    Acse,
    /// No C-ECHO-RSP in time (requestor), or an idle association (acceptor).
    Dimse,
    /// No A-RELEASE-RP in time.
    Release,
    /// ARTIM: no A-ASSOCIATE-RQ in time, or the peer did not close.
    Artim,
}

impl fmt::Display for Timer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Timer::Acse => "ACSE timeout (no A-ASSOCIATE-AC/RJ)",
            Timer::Dimse => "DIMSE timeout",
            Timer::Release => "release timeout (no A-RELEASE-RP)",
            Timer::Artim => "ARTIM timeout",
        })
    }
}

/// Why the machine stopped waiting: one of its protocol timers ran out, or the caller's
/// overall deadline (`Association::set_deadline`) passed. The deadline is not a timer: it is
/// set once by the caller, and no state starts or stops it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Timeout {
    /// A protocol timer ran out.
    Timer(Timer),
    /// The caller's overall deadline passed.
    Deadline,
}

impl From<Timer> for Timeout {
    fn from(timer: Timer) -> Self {
        Timeout::Timer(timer)
    }
}

impl fmt::Display for Timeout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Timeout::Timer(timer) => fmt::Display::fmt(timer, f),
            Timeout::Deadline => f.write_str("overall deadline reached"),
        }
    }
}

/// How the peer broke the protocol. Each one makes the machine queue an A-ABORT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Violation {
    /// A PDU type outside 0x01..=0x07.
    UnrecognizedPdu(u8),
    /// A PDU that does not parse.
    Malformed(wire::Error),
    /// A valid PDU in a state where it is not allowed.
    UnexpectedPdu(PduType),
    /// A PDU longer than we announced / can hold.
    PduTooLong {
        /// Its PDU-length field.
        length: u32,
        /// Our maximum.
        max: u32,
    },
    /// A PDV on a context that was not accepted, a data set fragment, or fragments of one
    /// message on two contexts.
    UnexpectedPdv {
        /// Its presentation context ID.
        pc_id: u8,
    },
    /// A command set that does not decode.
    BadCommand(dimse::Error),
    /// A command set longer than a C-ECHO message can be.
    CommandTooLong,
    /// A command other than the one expected (C-ECHO-RQ for an acceptor, C-ECHO-RSP for a
    /// requestor), or one announcing a data set.
    UnexpectedCommand {
        /// Its CommandField.
        command_field: u16,
    },
    /// A C-ECHO-RSP for another message.
    WrongMessageId {
        /// The outstanding request's MessageID.
        expected: u16,
        /// MessageIDBeingRespondedTo in the response.
        got: u16,
    },
    /// A C-ECHO-RSP while no request is outstanding.
    UnexpectedResponse,
    /// A C-ECHO-RQ while the previous one is still being answered.
    Pipelined,
    /// An A-ASSOCIATE-AC whose protocol version lacks bit 0.
    ProtocolVersion(u16),
    /// An A-ASSOCIATE-AC with an application context other than DICOM's.
    ApplicationContext,
    /// A data set longer than the find buffer holds.
    #[cfg(feature = "find")]
    DataSetTooLong {
        /// The buffer's size.
        max: usize,
    },
}

impl Violation {
    /// Writes what `Display` shows, without `core::fmt`.
    pub fn write_text(&self, t: &mut dyn crate::text::Sink) {
        match self {
            Violation::UnrecognizedPdu(v) => {
                t.put("unrecognized PDU type 0x");
                t.hex((*v).into(), 2, false);
            }
            Violation::Malformed(e) => {
                t.put("malformed PDU: ");
                e.write_text(t);
            }
            Violation::UnexpectedPdu(p) => {
                // The type's `Debug` form (its variant's name), as the text always showed it.
                t.put("unexpected PDU ");
                t.put(match p {
                    PduType::AssociateRq => "AssociateRq",
                    PduType::AssociateAc => "AssociateAc",
                    PduType::AssociateRj => "AssociateRj",
                    PduType::PData => "PData",
                    PduType::ReleaseRq => "ReleaseRq",
                    PduType::ReleaseRp => "ReleaseRp",
                    PduType::Abort => "Abort",
                    PduType::Unknown(_) => "Unknown(",
                });
                if let PduType::Unknown(v) = p {
                    t.dec((*v).into());
                    t.put(")");
                }
            }
            Violation::PduTooLong { length, max } => {
                t.put("PDU length ");
                t.dec((*length).into());
                t.put(" above our maximum ");
                t.dec((*max).into());
            }
            Violation::UnexpectedPdv { pc_id } => {
                t.put("unexpected PDV on presentation context ");
                t.dec((*pc_id).into());
            }
            Violation::BadCommand(e) => {
                t.put("bad DIMSE command: ");
                e.write_text(t);
            }
            Violation::CommandTooLong => t.put("DIMSE command set too long"),
            Violation::UnexpectedCommand { command_field } => {
                t.put("unexpected DIMSE command 0x");
                t.hex((*command_field).into(), 4, false);
            }
            Violation::WrongMessageId { expected, got } => {
                t.put("response to message ");
                t.dec((*got).into());
                t.put(", expected ");
                t.dec((*expected).into());
            }
            Violation::UnexpectedResponse => t.put("C-ECHO-RSP without a request"),
            Violation::Pipelined => t.put("C-ECHO-RQ before the previous one was answered"),
            Violation::ProtocolVersion(v) => {
                t.put("unsupported protocol version 0x");
                t.hex((*v).into(), 4, false);
            }
            Violation::ApplicationContext => t.put("application context is not DICOM's"),
            #[cfg(feature = "find")]
            Violation::DataSetTooLong { max } => {
                t.put("data set longer than the ");
                t.dec(*max as u64);
                t.put("-byte find buffer");
            }
        }
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        crate::text::display(f, |t| self.write_text(t))
    }
}

/// What happened, in order. Every event is `Copy`; nothing borrows the machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Event {
    /// Acceptor: an A-ASSOCIATE-RQ arrived; answer with `accept()` or `reject()`.
    AssociationRequested {
        /// Called AE title.
        called: AeTitle,
        /// Calling AE title.
        calling: AeTitle,
    },
    /// The association is established with at least one usable presentation context.
    Accepted(Negotiated),
    /// Requestor: the peer sent A-ASSOCIATE-RJ.
    Rejected(AssociateRj),
    /// Requestor: A-ASSOCIATE-AC, but no proposed context was accepted.
    NoPresentationContext,
    /// Acceptor: a C-ECHO-RQ arrived (it is answered with the configured status).
    EchoRequest {
        /// Its MessageID.
        message_id: u16,
    },
    /// Requestor: the C-ECHO-RSP to an outstanding request.
    EchoResponse {
        /// MessageIDBeingRespondedTo.
        message_id: u16,
        /// Status (0x0000 = success).
        status: u16,
        /// From the request's last byte handed out to the response's arrival.
        rtt: Duration,
    },
    /// The peer asked to release (answered with A-RELEASE-RP).
    ReleaseRequested,
    /// The association was released in order.
    Released,
    /// The peer sent A-ABORT.
    Aborted(Abort),
    /// The peer broke the protocol; `abort` is the A-ABORT we queued, if any.
    Violation {
        /// What it did.
        kind: Violation,
        /// What we answered.
        abort: Option<Abort>,
    },
    /// A timer ran out or the deadline passed; the machine queued an A-ABORT where the
    /// association was up.
    Timeout(Timeout),
    /// The transport closed while the association was not finished.
    Closed,
    /// C-FIND (feature `find`).
    #[cfg(feature = "find")]
    Find(crate::find::FindEvent),
}
