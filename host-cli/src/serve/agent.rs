//! HAProxy's agent-check: on the shared port, `agent-send "NAME\n"` selects the target; on a target's own
//! `agent_port`, no name is needed. The answer is one line, `up` or `down #<reason>`, then the connection closes.
//! `echoprobe status` asks the shared port too, with [`STATUS_QUERY`], and gets the verdict's exit code in front.
//!
//! Every connection is bounded: at most [`MAX_LINE`] bytes within [`READ_TIMEOUT`], then the answer and close. Each
//! connection is its own task, so a client that sends nothing costs only its task until the timeout, and the accept
//! loop never waits on a client.

use core::time::Duration;
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::engine::Engine;
use super::model::{Daemon as _, Health};

/// Longest name line read.
pub(crate) const MAX_LINE: usize = 256;
/// How long a client has to send its line.
pub(crate) const READ_TIMEOUT: Duration = Duration::from_secs(2);
/// Longest reason text sent (HAProxy shows it in its stats page and logs).
pub(crate) const REASON_LEN: usize = 200;

/// `echoprobe status`'s question on the shared port: this word, then the target's name. A name has no spaces, so
/// no HAProxy `agent-send "NAME\n"` looks like it. The answer is the target's exit code, a space and its agent line
/// (`0 up`, `61 down #association rejected: ...`); an unknown target gets its agent line alone.
pub(crate) const STATUS_QUERY: &str = "status ";

/// The target name in what the client sent: the first line, without CR/LF and surrounding spaces.
pub(crate) fn name_in(received: &[u8]) -> &str {
    let line = received.split(|b| *b == b'\n').next().unwrap_or_default();
    core::str::from_utf8(line)
        .unwrap_or("")
        .trim_matches(|c: char| c == '\r' || c.is_ascii_whitespace())
}

/// `text` made safe for one agent line: printable ASCII (anything else becomes `?`), at most `max` characters.
pub(crate) fn one_line(text: &str, max: usize) -> String {
    text.chars()
        .take(max)
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '?'
            }
        })
        .collect()
}

/// The agent line for a target's state (`None`: no such target, `name` as asked).
pub(crate) fn answer(name: &str, state: Option<(Health, &str)>) -> String {
    match state {
        Some((Health::Up, _)) => "up\n".to_string(),
        Some((Health::Down, reason)) => format!("down #{}\n", one_line(reason, REASON_LEN)),
        None if name.is_empty() => "down #no target named (agent-send \"NAME\\n\")\n".to_string(),
        None => format!("down #unknown target {}\n", one_line(name, 64)),
    }
}

/// Reads the name line (bounded in size and time): what arrived before a newline, EOF, the size bound or the
/// timeout.
async fn read_line(stream: &mut TcpStream) -> Vec<u8> {
    let mut buf = vec![0u8; MAX_LINE];
    let mut len = 0;
    let _ = tokio::time::timeout(READ_TIMEOUT, async {
        while len < MAX_LINE {
            match stream.read(buf.get_mut(len..).unwrap_or_default()).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    let had_newline = buf.get(len..len + n).is_some_and(|b| b.contains(&b'\n'));
                    len += n;
                    if had_newline {
                        break;
                    }
                }
            }
        }
    })
    .await;
    buf.truncate(len);
    buf
}

/// Answers one connection: `fixed` is the target of a per-target port, else the name is read from the client.
async fn answer_one(engine: Arc<Engine>, mut stream: TcpStream, fixed: Option<String>) {
    let name = match fixed {
        Some(name) => name,
        None => name_in(&read_line(&mut stream).await).to_string(),
    };
    let line = match name.strip_prefix(STATUS_QUERY) {
        Some(asked) => status_answer(&engine, asked),
        None => engine.agent_line(&name),
    };
    let _ = tokio::time::timeout(READ_TIMEOUT, async {
        let _ = stream.write_all(line.as_bytes()).await;
        let _ = stream.shutdown().await;
    })
    .await;
}

/// The answer to [`STATUS_QUERY`] for `name`.
fn status_answer(engine: &Engine, name: &str) -> String {
    match engine.target(name) {
        Some(t) => format!(
            "{} {}",
            t.exit_code,
            answer(name, Some((t.health, &t.reason)))
        ),
        None => answer(name, None),
    }
}

/// Accepts on `listener` until the task is aborted; `fixed`: the port's own target.
pub(crate) async fn serve(listener: TcpListener, engine: Arc<Engine>, fixed: Option<String>) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                let _ = stream.set_nodelay(true);
                tokio::spawn(answer_one(engine.clone(), stream, fixed.clone()));
            }
            // Out of file descriptors and the like: wait a moment instead of spinning.
            Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_name_is_the_first_line_trimmed() {
        assert_eq!(name_in(b"pacs\n"), "pacs");
        assert_eq!(name_in(b"pacs\r\n"), "pacs");
        assert_eq!(name_in(b"  pacs \nrest"), "pacs");
        assert_eq!(name_in(b"pacs"), "pacs", "EOF without a newline");
        assert_eq!(name_in(b""), "");
        assert_eq!(name_in(b"\n"), "");
        assert_eq!(name_in(&[0xff, b'\n']), "", "not UTF-8");
    }

    #[test]
    fn answers_are_one_bounded_line() {
        assert_eq!(answer("a", Some((Health::Up, ""))), "up\n");
        assert_eq!(
            answer("a", Some((Health::Down, "association rejected: x (1/1/7)"))),
            "down #association rejected: x (1/1/7)\n"
        );
        assert_eq!(answer("nope", None), "down #unknown target nope\n");
        assert_eq!(
            answer("", None),
            "down #no target named (agent-send \"NAME\\n\")\n"
        );
        let long = answer("a", Some((Health::Down, &"x\ny\u{1b}é".repeat(500))));
        assert!(long.starts_with("down #x?y??"), "{long}");
        assert_eq!(long.len(), "down #".len() + REASON_LEN + 1);
        assert_eq!(long.matches('\n').count(), 1);
        let evil = answer(&"\r\nup".repeat(100), None);
        assert_eq!(evil.matches('\n').count(), 1, "{evil}");
        assert!(evil.len() < 100);
    }
}
