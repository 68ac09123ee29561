//! Value parsers: log levels, AE titles (the core's rules), seconds, counts, statuses, ports; and clap's errors
//! as ours.

use core::time::Duration;

use echoprobe_core::wire::{AeTitle, AeTitleError};

use crate::exit::Failure;
use crate::log::Verbosity;

/// `-ll LEVEL`: DCMTK's log levels mapped onto ours.
pub(super) fn parse_level(s: &str) -> Result<Verbosity, String> {
    match s {
        "fatal" | "error" => Ok(Verbosity::Quiet),
        "warn" => Ok(Verbosity::Normal),
        "info" => Ok(Verbosity::Verbose),
        "debug" | "trace" => Ok(Verbosity::Debug),
        _ => Err("expected one of fatal, error, warn, info, debug, trace".to_string()),
    }
}

/// An AE title as PS3.5 allows it: 1 to 16 characters after trimming spaces, printable ASCII, no backslash. The
/// decision is the core's [`AeTitle::new`]; the messages are the command line's own.
pub(crate) fn parse_ae_title(s: &str) -> Result<String, String> {
    let trimmed = s.trim_matches(' ');
    match AeTitle::new(s) {
        Ok(_) => Ok(trimmed.to_string()),
        Err(AeTitleError::TooLong) => Err(format!(
            "an AE title has at most 16 characters, this one has {}",
            trimmed.len()
        )),
        Err(AeTitleError::BadChar) => {
            match trimmed
                .chars()
                .find(|&c| !(' '..='~').contains(&c) || c == '\\')
            {
                Some(c) => Err(format!(
                    "character {c:?} is not allowed in an AE title (printable ASCII, no backslash)"
                )),
                None => Err(AeTitleError::BadChar.to_string()),
            }
        }
        Err(_) => Err("an AE title needs 1 to 16 characters other than spaces".to_string()),
    }
}

/// An AE title option as DCMTK's tools take it: a title over 16 characters is cut to its first 16 (leading spaces
/// count, as DCMTK copies the first 16 bytes into the PDU field) and used, with a warning; anything else
/// [`parse_ae_title`] refuses stays an error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct TruncatedAe {
    /// The title to use.
    pub(super) title: String,
    /// The value as given, if it had to be cut.
    pub(super) given: Option<String>,
}

pub(super) fn parse_ae_title_truncating(s: &str) -> Result<TruncatedAe, String> {
    match AeTitle::new(s) {
        Err(AeTitleError::TooLong) => {
            let cut: String = s.chars().take(16).collect();
            Ok(TruncatedAe {
                title: parse_ae_title(&cut)?,
                given: Some(s.to_string()),
            })
        }
        _ => Ok(TruncatedAe {
            title: parse_ae_title(s)?,
            given: None,
        }),
    }
}

/// The warning for a title [`parse_ae_title_truncating`] cut, naming the option (`-aet/--aetitle`).
pub(super) fn truncation_warning(option: &str, ae: &TruncatedAe) -> Option<String> {
    ae.given.as_ref().map(|given| {
        format!(
            "{option}: AE title '{given}' has {} characters, truncated to 16 as DCMTK does: '{}'",
            given.trim_end_matches(' ').chars().count(),
            ae.title
        )
    })
}

/// Seconds, whole or with up to 3 decimals ("5", "0.25"), as a Duration. Not negative, at most ~one day.
pub(super) fn parse_seconds(s: &str) -> Result<Duration, String> {
    let bad = || format!("'{s}' is not a number of seconds");
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    if whole.is_empty() && frac.is_empty() {
        return Err(bad());
    }
    if !whole.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
        || frac.len() > 3
    {
        return Err(bad());
    }
    let secs: u64 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| bad())?
    };
    if secs > 86_400 {
        return Err(format!("{secs} seconds is more than a day (overflow)"));
    }
    let mut millis: u64 = 0;
    for (i, b) in frac.bytes().enumerate() {
        millis += u64::from(b - b'0') * [100, 10, 1][i];
    }
    Ok(Duration::from_secs(secs) + Duration::from_millis(millis))
}

/// A timeout: seconds, more than zero (DCMTK: integer >= 1; we also take decimals).
pub(super) fn parse_timeout(s: &str) -> Result<Duration, String> {
    let d = parse_seconds(s)?;
    if d.is_zero() {
        return Err(format!(
            "{s} is too small (underflow): at least 0.001 seconds"
        ));
    }
    Ok(d)
}

/// Seconds where 0 means "none".
pub(super) fn parse_seconds_or_zero(s: &str) -> Result<Duration, String> {
    parse_seconds(s)
}

/// A count of at least 1.
pub(super) fn parse_count(s: &str) -> Result<u32, String> {
    match s.parse::<u32>() {
        Ok(0) => Err("must be at least 1 (underflow)".to_string()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("'{s}' is not a number from 1 to {}", u32::MAX)),
    }
}

/// A DIMSE status: `0xNNNN` or decimal.
pub(super) fn parse_status(s: &str) -> Result<u16, String> {
    let parsed = match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => u16::from_str_radix(hex, 16),
        None => s.parse(),
    };
    parsed.map_err(|_| format!("'{s}' is not a 16-bit status (0xNNNN or decimal)"))
}

pub(super) fn parse_port(s: Option<String>, allow_zero: bool) -> Result<u16, Failure> {
    let s = s.ok_or_else(|| Failure::Usage("missing parameter port".to_string()))?;
    match s.parse::<u32>() {
        Ok(0) if allow_zero => Ok(0),
        Ok(p @ 1..=65535) => Ok(p as u16),
        Ok(p) => Err(Failure::Usage(format!(
            "invalid port {p}: must be 1..65535"
        ))),
        Err(_) => Err(Failure::Usage(format!(
            "invalid port '{s}': must be a number 1..65535"
        ))),
    }
}

pub(super) fn clap_failure(e: clap::Error) -> Failure {
    let text = e.to_string();
    let first = text.lines().next().unwrap_or("invalid command line");
    let first = first.strip_prefix("error: ").unwrap_or(first);
    Failure::Usage(format!("{first} (try --help)"))
}
