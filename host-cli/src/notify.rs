//! The systemd readiness notification (`Type=notify`): [`ready`] sends `READY=1` to the socket systemd names in
//! `NOTIFY_SOCKET`, with the `sd-notify` crate. Without `NOTIFY_SOCKET` (not started by systemd) it does nothing.

/// Tells the service manager that the daemon is ready (it listens). Does nothing when `NOTIFY_SOCKET` is unset; an
/// error means the socket was named but could not be reached.
pub fn ready() -> std::io::Result<()> {
    sd_notify::notify(&[sd_notify::NotifyState::Ready])
}

#[cfg(test)]
mod tests {
    use core::time::Duration;
    use std::os::unix::net::UnixDatagram;

    /// One test for both cases: NOTIFY_SOCKET is process-wide, two tests could race on it.
    #[test]
    fn ready_reaches_a_real_socket_and_is_silent_without_one() {
        std::env::remove_var("NOTIFY_SOCKET");
        super::ready().expect("without NOTIFY_SOCKET, nothing to do");

        let dir = std::env::temp_dir().join(format!("echoprobe-notify-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("notify.sock");
        let _ = std::fs::remove_file(&path);
        let socket = UnixDatagram::bind(&path).expect("bind the notify socket");
        socket
            .set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        std::env::set_var("NOTIFY_SOCKET", &path);
        let sent = super::ready();
        std::env::remove_var("NOTIFY_SOCKET");
        sent.expect("send READY=1");
        let mut buf = [0u8; 256];
        let n = socket.recv(&mut buf).expect("a datagram within 5 s");
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(
            String::from_utf8_lossy(buf.get(..n).unwrap_or_default()),
            "READY=1\n"
        );
    }
}
