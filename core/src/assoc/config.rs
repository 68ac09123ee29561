//! What an association is set up with: role, AE titles, proposals, timeouts.

use crate::time::Duration;
use crate::wire::{uid, AeTitle, AssociateRj, Uid};

/// Which end of the association this machine is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Role {
    /// Opens the connection and proposes the association (the SCU of a C-ECHO).
    Requestor,
    /// Accepts connections and answers C-ECHO (the SCP).
    Acceptor,
}

/// Transfer syntaxes proposed (requestor) or accepted (acceptor) by default: Implicit VR
/// little endian only, as DCMTK's echoscu proposes (PS3.5 10.1: every implementation has it).
pub const DEFAULT_TRANSFER_SYNTAXES: &[Uid<'static>] = &[uid::IMPLICIT_VR_LE];

/// Transfer syntaxes an acceptor can take for Verification: C-ECHO has no data set, so any
/// of the standard uncompressed ones will do. The requestor's order of preference wins.
pub const ACCEPTABLE_TRANSFER_SYNTAXES: &[Uid<'static>] = &[
    uid::IMPLICIT_VR_LE,
    uid::EXPLICIT_VR_LE,
    uid::EXPLICIT_VR_BE,
    uid::DEFLATED_EXPLICIT_VR_LE,
];

/// echoprobe's implementation class UID (a UUID-derived 2.25 UID, PS3.5 B.2).
pub const IMPLEMENTATION_CLASS_UID: Uid<'static> =
    Uid::new_unchecked(b"2.25.302418541243958120918403271093852710713");
/// echoprobe's implementation version name (at most 16 characters).
pub const IMPLEMENTATION_VERSION_NAME: &[u8] = b"ECHOPROBE_010";

/// The settings of one association.
#[derive(Debug, Clone, Copy)]
pub struct Config<'a> {
    /// Requestor or acceptor.
    pub role: Role,
    /// Requestor: our calling AE title. Acceptor: our own (called) AE title.
    pub local_ae: AeTitle,
    /// Requestor: the called AE title. Acceptor: unused.
    pub peer_ae: AeTitle,
    /// Requestor: proposed in every presentation context, in this order. Acceptor: accepted
    /// ones (the requestor's first proposed that is in this list is taken).
    pub transfer_syntaxes: &'a [Uid<'a>],
    /// Requestor: how many Verification presentation contexts to propose (1..=128).
    pub presentation_contexts: u8,
    /// Requestor: the wait for A-ASSOCIATE-AC/RJ and for A-RELEASE-RP.
    pub acse_timeout: Duration,
    /// Requestor: the wait for each C-ECHO-RSP. Acceptor: how long an established
    /// association may stay idle.
    pub dimse_timeout: Duration,
    /// ARTIM (PS3.8 9.1.5): acceptor's wait for the A-ASSOCIATE-RQ, and either side's wait
    /// for the peer to close after a reject or release.
    pub artim_timeout: Duration,
    /// Acceptor: the status C-ECHO-RQs are answered with (0x0000 = success).
    pub echo_status: u16,
    /// Sent in the user information item (0x52).
    pub implementation_class_uid: Uid<'a>,
    /// Sent in the user information item (0x55); empty = not sent.
    pub implementation_version_name: &'a [u8],
    /// Requestor: the C-FIND models to propose, one presentation context each (after the
    /// Verification ones). Acceptor: the models served (feature `find-scp`; without it an
    /// acceptor serves none). Feature `find`.
    #[cfg(feature = "find")]
    pub find_models: &'a [crate::find::Model],
}

impl Config<'static> {
    /// A requestor calling `called` as `calling`, with echoscu's proposal and bounded timeouts
    /// (ACSE 30 s as DCMTK, DIMSE 10 s, ARTIM 30 s).
    pub fn requestor(calling: AeTitle, called: AeTitle) -> Self {
        Config {
            role: Role::Requestor,
            local_ae: calling,
            peer_ae: called,
            transfer_syntaxes: DEFAULT_TRANSFER_SYNTAXES,
            presentation_contexts: 1,
            acse_timeout: Duration::from_secs(30),
            dimse_timeout: Duration::from_secs(10),
            artim_timeout: Duration::from_secs(30),
            echo_status: 0,
            implementation_class_uid: IMPLEMENTATION_CLASS_UID,
            implementation_version_name: IMPLEMENTATION_VERSION_NAME,
            #[cfg(feature = "find")]
            find_models: &[],
        }
    }

    /// An acceptor with AE title `ae` that answers C-ECHO with success: the requestor's
    /// settings but for the role, the transfer syntaxes it accepts and a 30 s DIMSE timeout.
    pub fn acceptor(ae: AeTitle) -> Self {
        Config {
            role: Role::Acceptor,
            transfer_syntaxes: ACCEPTABLE_TRANSFER_SYNTAXES,
            dimse_timeout: Duration::from_secs(30),
            ..Self::requestor(ae, ae)
        }
    }
}

/// Who an acceptor lets in (PS3.8 C.2: the acceptor validates the called AE title).
#[derive(Debug, Clone, Copy)]
pub struct AcceptPolicy<'a> {
    /// Our AE title.
    pub ae: AeTitle,
    /// Reject a called AE title other than `ae` with 1/1/7.
    pub check_called: bool,
    /// If not empty, reject a calling AE title not in this list with 1/1/3.
    pub allowed_calling: &'a [AeTitle],
}

impl AcceptPolicy<'_> {
    /// Accepts everyone.
    pub fn open(ae: AeTitle) -> AcceptPolicy<'static> {
        AcceptPolicy {
            ae,
            check_called: false,
            allowed_calling: &[],
        }
    }

    /// `Ok` to accept, or the A-ASSOCIATE-RJ to send.
    pub fn decide(&self, called: &AeTitle, calling: &AeTitle) -> Result<(), AssociateRj> {
        if self.check_called && called != &self.ae {
            return Err(AssociateRj::CALLED_AE_NOT_RECOGNIZED);
        }
        if !self.allowed_calling.is_empty() && !self.allowed_calling.contains(calling) {
            return Err(AssociateRj::CALLING_AE_NOT_RECOGNIZED);
        }
        Ok(())
    }
}
