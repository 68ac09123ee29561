//! The rules for single values: AE titles (the core's), names, host names, address ranges.

use core::fmt;
use core::net::IpAddr;
use core::str::FromStr;

use echoprobe_core::wire::{AeTitle, AeTitleError};

/// An AE title by the core's rules (`echoprobe_core::wire::AeTitle::new`: 1 to 16 characters of printable ASCII, no
/// backslash, PS3.5 VR AE), plus one of our own: leading and trailing spaces are not significant, so we refuse them
/// rather than guess. The error says what is wrong.
pub fn check_ae_title(s: &str) -> Result<(), &'static str> {
    match AeTitle::new(s) {
        Ok(title) if title.as_bytes() == s.as_bytes() => Ok(()),
        Ok(_) => Err("no leading or trailing spaces"),
        Err(AeTitleError::Empty) if !s.is_empty() && s.len() <= 16 => {
            Err("no leading or trailing spaces")
        }
        Err(AeTitleError::BadChar) => Err("only printable ASCII without backslash"),
        Err(_) => Err("must be 1 to 16 characters"),
    }
}

/// A target's or module's name: 1 to 32 of `A-Z a-z 0-9 - _ .` (it travels in agent-send lines and URLs).
pub fn check_name(s: &str) -> Result<(), &'static str> {
    if !s.is_empty()
        && s.len() <= 32
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
    {
        Ok(())
    } else {
        Err("1 to 32 of A-Z a-z 0-9 - _ .")
    }
}

/// A host name (RFC 1123 letters, digits, `-` and `.`, at most 253) or an IP address.
pub(crate) fn check_host(s: &str) -> Result<(), &'static str> {
    if s.parse::<IpAddr>().is_ok() {
        return Ok(());
    }
    let labels_ok = s.split('.').all(|l| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    });
    if !s.is_empty() && s.len() <= 253 && labels_ok {
        Ok(())
    } else {
        Err("not a host name or IP address")
    }
}

/// An address range, `ADDR/PREFIX` or a bare address (a single host).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    /// The network address (host bits zero).
    pub addr: IpAddr,
    /// Prefix length.
    pub prefix: u8,
}

impl Cidr {
    /// Whether `ip` is inside (an IPv4-mapped IPv6 address counts as its IPv4 address).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
            v4 => v4,
        };
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(a)) => mask32(u32::from(a), self.prefix) == u32::from(net),
            (IpAddr::V6(net), IpAddr::V6(a)) => {
                mask128(u128::from(a), self.prefix) == u128::from(net)
            }
            _ => false,
        }
    }
}

fn mask32(a: u32, prefix: u8) -> u32 {
    match prefix {
        0 => 0,
        p => a & (u32::MAX << (32 - u32::from(p.min(32)))),
    }
}

fn mask128(a: u128, prefix: u8) -> u128 {
    match prefix {
        0 => 0,
        p => a & (u128::MAX << (128 - u32::from(p.min(128)))),
    }
}

impl FromStr for Cidr {
    type Err = &'static str;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = addr
            .parse()
            .map_err(|_| "not an IP address or CIDR range")?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or("the prefix length is out of range")?,
        };
        let net = match addr {
            IpAddr::V4(a) => IpAddr::V4(mask32(u32::from(a), prefix).into()),
            IpAddr::V6(a) => IpAddr::V6(mask128(u128::from(a), prefix).into()),
        };
        if net != addr {
            return Err("host bits are set (write the network address)");
        }
        Ok(Cidr { addr, prefix })
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}
