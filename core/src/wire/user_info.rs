//! User information (item 0x50, PS3.8 9.3.2.3 / 9.3.3.3) with its sub-items (PS3.7 Annex D.3.3,
//! PS3.8 Annex D.1), and SCP/SCU role selection (0x54), as carried in A-ASSOCIATE-RQ and -AC.

use super::header::{read_u16, read_u32};
use super::items::{self, item_len, item_type, Items, List, ListItem, Writer};
use super::uid::Uid;
use super::{Error, Result};

/// SCP/SCU role selection sub-item (0x54, PS3.7 D.3.3.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct RoleSelection<'a> {
    /// SOP class UID.
    pub sop_class: Uid<'a>,
    /// SCU role (wire: non-zero = true).
    pub scu: bool,
    /// SCP role (wire: non-zero = true).
    pub scp: bool,
}

impl<'a> RoleSelection<'a> {
    /// Decodes a 0x54 body: 2-byte UID length, UID, SCU byte, SCP byte (exactly).
    pub(super) fn decode(body: &'a [u8]) -> Result<Self> {
        let uid_len = usize::from(
            body.first_chunk::<2>()
                .map(|b| u16::from_be_bytes(*b))
                .ok_or(Error::BadLength)?,
        );
        let rest = body.get(2..).ok_or(Error::BadLength)?;
        let (uid, roles) = rest.split_at_checked(uid_len).ok_or(Error::BadLength)?;
        match roles {
            [scu, scp] => Ok(RoleSelection {
                sop_class: Uid::from_item(uid),
                scu: *scu != 0,
                scp: *scp != 0,
            }),
            _ => Err(Error::BadLength),
        }
    }

    pub(super) fn wire_len(&self) -> Result<usize> {
        let uid_len = self.sop_class.len();
        if uid_len > usize::from(u16::MAX) {
            return Err(Error::BadValue);
        }
        item_len(uid_len.saturating_add(4))
    }

    pub(super) fn write(&self, writer: &mut Writer<'_>) {
        let uid = self.sop_class.as_bytes();
        writer.item_header(item_type::ROLE_SELECTION, uid.len().saturating_add(4));
        writer.u16(u16::try_from(uid.len()).unwrap_or(u16::MAX));
        writer.bytes(uid);
        writer.u8(u8::from(self.scu));
        writer.u8(u8::from(self.scp));
    }
}

impl<'a> ListItem<'a> for RoleSelection<'a> {
    fn next_from(region: &mut &'a [u8]) -> Option<Self> {
        let body = items::next_of_type(region, item_type::ROLE_SELECTION)?;
        RoleSelection::decode(body).ok()
    }
}

/// User information (item 0x50) and the sub-items this crate understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct UserInfo<'a> {
    /// 0x51 maximum length received (P-DATA-TF PDU length field); 0 = no limit. Absent on
    /// receive: 0. Always emitted.
    pub max_length: u32,
    /// 0x52 implementation class UID; absent on receive: empty. Always emitted.
    pub implementation_class_uid: Uid<'a>,
    /// 0x55 implementation version name.
    pub implementation_version_name: Option<&'a [u8]>,
    /// 0x53 asynchronous operations window (invoked, performed).
    pub async_ops: Option<(u16, u16)>,
    /// 0x54 role selections.
    pub role_selections: List<'a, RoleSelection<'a>>,
}

impl<'a> UserInfo<'a> {
    /// The usual user information: maximum length, implementation class UID and version name.
    pub fn new(
        max_length: u32,
        implementation_class_uid: Uid<'a>,
        implementation_version_name: Option<&'a [u8]>,
    ) -> Self {
        UserInfo {
            max_length,
            implementation_class_uid,
            implementation_version_name,
            async_ops: None,
            role_selections: List::empty(),
        }
    }

    /// Checks the sub-items of a received 0x50 body.
    pub(super) fn validate(body: &[u8]) -> Result<()> {
        for sub in Items::new(body) {
            let sub = sub?;
            match sub.item_type {
                item_type::MAXIMUM_LENGTH | item_type::ASYNC_OPERATIONS_WINDOW
                    if sub.body.len() != 4 =>
                {
                    return Err(Error::BadLength);
                }
                item_type::ROLE_SELECTION => {
                    RoleSelection::decode(sub.body)?;
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Reads a validated 0x50 body (first sub-item of each kind wins).
    pub(super) fn from_body(body: &'a [u8]) -> Self {
        let first = |t| items::first_of_type(body, t);
        UserInfo {
            max_length: first(item_type::MAXIMUM_LENGTH).map_or(0, |b| read_u32(b, 0)),
            implementation_class_uid: first(item_type::IMPLEMENTATION_CLASS_UID)
                .map_or(Uid::empty(), Uid::from_item),
            implementation_version_name: first(item_type::IMPLEMENTATION_VERSION_NAME),
            async_ops: first(item_type::ASYNC_OPERATIONS_WINDOW)
                .map(|b| (read_u16(b, 0), read_u16(b, 2))),
            role_selections: List::Wire(body),
        }
    }

    pub(super) fn wire_len(&self) -> Result<usize> {
        let mut body = item_len(4)?; // 0x51
        let mut add = |n: usize| -> Result<()> {
            body = body.checked_add(n).ok_or(Error::BadValue)?;
            Ok(())
        };
        add(item_len(self.implementation_class_uid.len())?)?;
        if self.async_ops.is_some() {
            add(item_len(4)?)?;
        }
        for r in self.role_selections.iter() {
            add(r.wire_len()?)?;
        }
        if let Some(v) = self.implementation_version_name {
            add(item_len(v.len())?)?;
        }
        item_len(body)
    }

    /// Sub-items in ascending type order: 51, 52, 53, 54, 55; `wire_len()` must have
    /// succeeded.
    pub(super) fn write(&self, writer: &mut Writer<'_>) {
        let len = self.wire_len().unwrap_or(0);
        writer.item_header(
            item_type::USER_INFORMATION,
            len.saturating_sub(items::ITEM_HEADER_LEN),
        );
        writer.item(item_type::MAXIMUM_LENGTH, &self.max_length.to_be_bytes());
        writer.item(
            item_type::IMPLEMENTATION_CLASS_UID,
            self.implementation_class_uid.as_bytes(),
        );
        if let Some((invoked, performed)) = self.async_ops {
            writer.item_header(item_type::ASYNC_OPERATIONS_WINDOW, 4);
            writer.u16(invoked);
            writer.u16(performed);
        }
        for r in self.role_selections.iter() {
            r.write(writer);
        }
        if let Some(v) = self.implementation_version_name {
            writer.item(item_type::IMPLEMENTATION_VERSION_NAME, v);
        }
    }
}
