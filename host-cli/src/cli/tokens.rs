//! The DCMTK option table and the translation of echoscu's syntax (`-aet X`, `+tls K C`, `@file`) into the long
//! forms clap parses.

use super::Failure;

/// The DCMTK option table: `(short, long, number of values, what we do with it)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// Passed on to clap in long form.
    Supported,
    /// Recognized, refused with its own message.
    Refused(&'static str),
}

pub(super) const OPTIONS: &[(&str, &str, usize, Kind)] = &[
    // general options
    ("-h", "--help", 0, Kind::Supported),
    ("", "--version", 0, Kind::Supported),
    ("", "--arguments", 0, Kind::Supported),
    ("-q", "--quiet", 0, Kind::Supported),
    ("-v", "--verbose", 0, Kind::Supported),
    ("-d", "--debug", 0, Kind::Supported),
    ("-ll", "--log-level", 1, Kind::Supported),
    ("-lc", "--log-config", 1, Kind::Supported),
    // network options
    ("-aet", "--aetitle", 1, Kind::Supported),
    ("-aec", "--call", 1, Kind::Supported),
    ("-pts", "--propose-ts", 1, Kind::Supported),
    ("-ppc", "--propose-pc", 1, Kind::Supported),
    ("-to", "--timeout", 1, Kind::Supported),
    ("-ts", "--socket-timeout", 1, Kind::Supported),
    ("-ta", "--acse-timeout", 1, Kind::Supported),
    ("-td", "--dimse-timeout", 1, Kind::Supported),
    ("-pdu", "--max-pdu", 1, Kind::Supported),
    ("", "--repeat", 1, Kind::Supported),
    ("", "--abort", 0, Kind::Supported),
    // IP protocol version (DCMTK 3.6.8)
    ("-i4", "--ipv4", 0, Kind::Supported),
    ("-i6", "--ipv6", 0, Kind::Supported),
    ("-i0", "--ip-auto", 0, Kind::Supported),
    // echoprobe options
    ("", "--deadline", 1, Kind::Supported),
    ("", "--json", 0, Kind::Supported),
    // find options (findscu's spelling)
    ("-W", "--worklist", 0, Kind::Supported),
    ("-P", "--patient", 0, Kind::Supported),
    ("-S", "--study", 0, Kind::Supported),
    ("-k", "--key", 1, Kind::Supported),
    ("", "--min-matches", 1, Kind::Supported),
    ("", "--max-matches", 1, Kind::Supported),
    ("", "--require", 1, Kind::Supported),
    // scp / demo options
    ("", "--record", 1, Kind::Supported),
    ("", "--records", 1, Kind::Supported),
    ("", "--find", 0, Kind::Supported),
    ("", "--require-called-aet", 0, Kind::Supported),
    ("", "--allow-calling", 1, Kind::Supported),
    ("", "--status", 1, Kind::Supported),
    ("", "--bind", 1, Kind::Supported),
    ("", "--max-associations", 1, Kind::Supported),
    ("", "--idle-timeout", 1, Kind::Supported),
    ("", "--exit-after", 1, Kind::Supported),
    // TLS (see tls.rs for what each does with rustls)
    ("-tls", "--disable-tls", 0, Kind::Supported),
    ("+tls", "--enable-tls", 2, Kind::Supported),
    ("+tla", "--anonymous-tls", 0, Kind::Supported),
    ("+ps", "--std-passwd", 0, Kind::Supported),
    ("+pw", "--use-passwd", 1, Kind::Supported),
    ("-pw", "--null-passwd", 0, Kind::Supported),
    ("-pem", "--pem-keys", 0, Kind::Supported),
    ("-der", "--der-keys", 0, Kind::Supported),
    ("+cf", "--add-cert-file", 1, Kind::Supported),
    ("+cd", "--add-cert-dir", 1, Kind::Supported),
    ("+crl", "--add-crl-file", 1, Kind::Supported),
    ("+crv", "--enable-crl-vfy", 0, Kind::Supported),
    ("+cra", "--enable-crl-all", 0, Kind::Supported),
    ("+py", "--profile-bcp195-nd", 0, Kind::Supported),
    ("+px", "--profile-bcp195", 0, Kind::Supported),
    ("+pz", "--profile-bcp195-ex", 0, Kind::Supported),
    (
        "+pa",
        "--profile-aes",
        0,
        Kind::Refused(
            "the retired AES TLS profile (+pa) needs RSA key exchange with AES-CBC suites, which rustls does not have \
             (and which BCP 195 forbids): use +py (the default)",
        ),
    ),
    (
        "+pn",
        "--profile-null",
        0,
        Kind::Refused(
            "the retired authenticated-unencrypted profile (+pn) needs NULL cipher suites, which rustls does not have: \
             use +py (the default)",
        ),
    ),
    ("+cc", "--list-ciphers", 0, Kind::Supported),
    ("+cs", "--cipher", 1, Kind::Supported),
    ("+dp", "--dhparam", 1, Kind::Supported),
    ("+rs", "--seed", 1, Kind::Supported),
    ("+ws", "--write-seed", 0, Kind::Supported),
    ("+wf", "--write-seed-file", 1, Kind::Supported),
    ("-rc", "--require-peer-cert", 0, Kind::Supported),
    ("-vc", "--verify-peer-cert", 0, Kind::Supported),
    ("-ic", "--ignore-peer-cert", 0, Kind::Supported),
    ("", "--verify-host-name", 0, Kind::Supported),
    ("+vc", "--verify-cert", 1, Kind::Supported),
    ("+rc", "--is-root-cert", 1, Kind::Supported),
];

/// DCMTK's single-dash and plus spellings that we accept, each with its long form and number of values (for shell
/// completion: clap knows only the long forms).
pub(crate) fn dcmtk_spellings() -> impl Iterator<Item = (&'static str, &'static str, usize)> {
    OPTIONS
        .iter()
        .filter(|(short, _, _, kind)| !short.is_empty() && *kind == Kind::Supported)
        .map(|&(short, long, n, _)| (short, long, n))
}

pub(super) fn lookup(token: &str) -> Option<(&'static str, usize, Kind)> {
    OPTIONS
        .iter()
        .find(|(short, long, _, _)| (!short.is_empty() && *short == token) || *long == token)
        .map(|&(_, long, n, kind)| (long, n, kind))
}

/// Rewrites DCMTK-style argv (without the program name) into long options clap understands.
///
/// `-aet X` and `--aetitle X` become `--aetitle=X`; flags become their long form; `--` and everything after it, and
/// positional arguments, pass unchanged. `+tls K C` becomes `--enable-tls K C` (two values). Unknown options, missing
/// values and the refused TLS profiles (`+pa`, `+pn`) are errors.
pub(crate) fn translate(args: &[String]) -> Result<Vec<String>, Failure> {
    let mut out = Vec::with_capacity(args.len());
    let mut iter = args.iter();
    while let Some(token) = iter.next() {
        if token == "--" {
            out.push(token.clone());
            out.extend(iter.by_ref().cloned());
            break;
        }
        let (name, glued) = match token.split_once('=') {
            Some((name, value)) if name.starts_with("--") => (name, Some(value)),
            _ => (token.as_str(), None),
        };
        let is_option = (name.starts_with('-') || name.starts_with('+')) && name.len() > 1;
        if !is_option {
            out.push(token.clone());
            continue;
        }
        let Some((long, arity, kind)) = lookup(name) else {
            return Err(Failure::Usage(format!("unknown option {name}")));
        };
        if let Kind::Refused(msg) = kind {
            return Err(Failure::Unsupported(msg.to_string()));
        }
        match (arity, glued) {
            (0, None) => out.push(long.to_string()),
            (0, Some(_)) => return Err(Failure::Usage(format!("option {long} takes no value"))),
            (2, first) => {
                // Two values (only +tls KEY CERT): passed as separate words after the option.
                out.push(long.to_string());
                let first = first.map(str::to_string).or_else(|| iter.next().cloned());
                match (first, iter.next()) {
                    (Some(a), Some(b)) => {
                        // `+tls KEY +cf CA ...` (the certificate forgotten): say so, not "unexpected argument".
                        let names = ["the private key", "the certificate"];
                        for (value, what) in [a.as_str(), b.as_str()].into_iter().zip(names) {
                            if value.len() > 1 && lookup(value).is_some() {
                                return Err(Failure::Usage(format!(
                                    "{name} takes two values, KEY and CERT: option {value} was taken as {what} \
                                     (give {name} KEY CERT)"
                                )));
                            }
                        }
                        out.extend([a, b.clone()])
                    }
                    _ => {
                        return Err(Failure::Usage(format!(
                            "missing value for option {long} (needs 2)"
                        )))
                    }
                }
            }
            (_, Some(value)) => out.push(format!("{long}={value}")),
            (_, None) => match iter.next() {
                Some(value) => out.push(format!("{long}={value}")),
                None => return Err(Failure::Usage(format!("missing value for option {long}"))),
            },
        }
    }
    Ok(out)
}

/// Expands DCMTK command files: an argument `@file` is replaced by the words in `file` (whitespace separated, `"..."`
/// or `'...'` quote a word). Files are read once, not recursively, and must be under 64 KiB.
pub(crate) fn expand_command_files(args: Vec<String>) -> Result<Vec<String>, Failure> {
    let mut out = Vec::with_capacity(args.len());
    for arg in args {
        let Some(path) = arg.strip_prefix('@').filter(|p| !p.is_empty()) else {
            out.push(arg);
            continue;
        };
        let text = crate::exit::read_named_file("command file", path, 64 * 1024, "64 KiB")?;
        out.extend(
            split_words(&text).map_err(|e| Failure::Usage(format!("command file {path}: {e}")))?,
        );
    }
    Ok(out)
}

pub(super) fn split_words(text: &str) -> Result<Vec<String>, &'static str> {
    let mut words = Vec::new();
    let mut current: Option<String> = None;
    let mut quote: Option<char> = None;
    for c in text.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => current.get_or_insert_with(String::new).push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                current.get_or_insert_with(String::new);
            }
            (None, c) if c.is_whitespace() => words.extend(current.take()),
            (None, c) => current.get_or_insert_with(String::new).push(c),
        }
    }
    if quote.is_some() {
        return Err("unterminated quote");
    }
    words.extend(current);
    Ok(words)
}
