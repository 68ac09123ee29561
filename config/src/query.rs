//! Query keys as `echoprobe find -k` takes them: one reader for the command line, the daemon's `query` and `require`
//! keys, and the probe firmware's build.

use echoprobe_core::dimse::dataset::{Vr, KEYWORDS};

/// `gggg,eeee` (or `(gggg,eeee)`), hex.
pub fn parse_tag(s: &str) -> Option<u32> {
    let s = s
        .strip_prefix('(')
        .and_then(|s| s.strip_suffix(')'))
        .unwrap_or(s);
    let (g, e) = s.split_once(',')?;
    let hex = |x: &str| {
        (x.len() == 4 && x.chars().all(|c| c.is_ascii_hexdigit()))
            .then(|| u16::from_str_radix(x, 16).ok())
            .flatten()
    };
    Some(u32::from(hex(g)?) << 16 | u32::from(hex(e)?))
}

/// A tag by keyword of the core's table (case-insensitive) or `gggg,eeee`.
pub fn parse_name(name: &str) -> Result<u32, String> {
    let name = name.trim();
    if let Some(tag) = parse_tag(name) {
        return Ok(tag);
    }
    KEYWORDS
        .iter()
        .find(|k| k.0.eq_ignore_ascii_case(name))
        .map(|k| k.1)
        .ok_or_else(|| {
            format!(
                "unknown key '{name}': give a tag (gggg,eeee) or one of the keywords in echoprobe find -h"
            )
        })
}

/// The VR of `tag` (`UN` outside the core's keyword table).
pub fn vr_of(tag: u32) -> Vr {
    KEYWORDS.iter().find(|k| k.1 == tag).map_or(Vr::UN, |k| k.2)
}

/// `KEY=VALUE` or `KEY` (an empty value), KEY a keyword or `gggg,eeee`, as findscu's `-k`: the tag, its VR and the
/// value.
pub fn parse_key(s: &str) -> Result<(u32, Vr, &str), String> {
    let (name, value) = s.split_once('=').unwrap_or((s, ""));
    let tag = parse_name(name)?;
    if tag >> 16 == 0x0000 || tag >> 16 == 0x0002 {
        return Err(format!(
            "{:04X},{:04X} is a command or file meta element, not a query key",
            tag >> 16,
            tag & 0xFFFF
        ));
    }
    if value.len() > 1024 || value.chars().any(char::is_control) {
        return Err(format!(
            "the value of {name} must be at most 1024 printable characters"
        ));
    }
    Ok((tag, vr_of(tag), value))
}
