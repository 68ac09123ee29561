//! The probe configuration, compiled in from probe.toml by build.rs (which checks every value).

/// Most targets one probe checks (build.rs refuses more; each target's local ports are a 1024-port range above
/// 49152, and 16 ranges fill them).
pub const MAX_TARGETS: usize = 16;
/// Most check slots (`[serve] max_concurrent`; build.rs refuses more).
pub const MAX_SLOTS: usize = 4;

/// The whole configuration.
#[derive(Debug)]
pub struct Probe {
    /// Our IPv4 address and prefix length. A `dhcp` build has none of these three: a DHCP server gives them.
    #[cfg(not(feature = "dhcp"))]
    pub address: [u8; 4],
    #[cfg(not(feature = "dhcp"))]
    pub prefix_len: u8,
    /// Default gateway, inside our subnet.
    #[cfg(not(feature = "dhcp"))]
    pub gateway: [u8; 4],
    /// `GET /health/<n>` port.
    pub http_port: u16,
    /// Our own C-ECHO SCP: port and AE title.
    pub scp_port: u16,
    pub scp_ae: &'static str,
    /// Check slots: targets checked at once, 1 to MAX_SLOTS, at most the number of targets.
    pub slots: usize,
    /// 1 to MAX_TARGETS nodes to check.
    pub targets: &'static [Target],
}

/// One DICOM node to check.
#[derive(Debug)]
pub struct Target {
    pub name: &'static str,
    pub address: [u8; 4],
    pub port: u16,
    pub called_ae: &'static str,
    pub calling_ae: &'static str,
    /// HAProxy agent-check port for this target.
    pub agent_port: u16,
    /// Pause from the end of one check to the start of the next.
    pub interval_ms: u32,
    pub connect_timeout_ms: u32,
    pub acse_timeout_ms: u32,
    pub dimse_timeout_ms: u32,
    /// Consecutive good checks to turn up / bad checks to turn down.
    pub rise: u8,
    pub fall: u8,
}

include!(concat!(env!("OUT_DIR"), "/probe_config.rs"));
