//! The one view type behind every PDU's `Packet` (smoltcp's `Packet<T>`): a buffer, and a marker `K` for the kind
//! of PDU. Each PDU module names its `Packet` as `View<T, ItsKind>`, says in [`Kind::check_len`] when its
//! accessors can read all they need, and gives the view the accessors for its fields.

use core::marker::PhantomData;

use super::Result;

/// The kind of PDU a [`View`] reads: the one length check its accessors rely on.
pub trait Kind {
    /// `Ok` when `buf` holds all that the kind's accessors read (see each kind's errors).
    fn check_len(buf: &[u8]) -> Result<()>;
}

/// A read/write view of a PDU of the kind `K` in `buffer`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct View<T: AsRef<[u8]>, K> {
    pub(super) buffer: T,
    kind: PhantomData<K>,
}

impl<T: AsRef<[u8]>, K> View<T, K> {
    /// Wraps a buffer without checks (accessors return defaults, such as 0, for missing bytes).
    pub const fn new_unchecked(buffer: T) -> View<T, K> {
        View {
            buffer,
            kind: PhantomData,
        }
    }

    /// Returns the wrapped buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }
}

impl<T: AsRef<[u8]>, K: Kind> View<T, K> {
    /// Wraps a buffer after [`View::check_len`].
    pub fn new_checked(buffer: T) -> Result<View<T, K>> {
        let p = View::new_unchecked(buffer);
        p.check_len()?;
        Ok(p)
    }

    /// The kind's length check ([`Kind::check_len`]); after it no accessor reads past the buffer.
    pub fn check_len(&self) -> Result<()> {
        K::check_len(self.buffer.as_ref())
    }
}
