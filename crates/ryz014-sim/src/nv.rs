//! The modem's non-volatile state: DM profiles (never rewound), the settings a factory reset
//! rewinds to the restoration point (autoconnect, operator mode, FOTA configuration), the
//! firmware version and an interrupted installation. Also the serialisable [`Snapshot`], in which
//! PSK secrets appear only as their first four hex digits and their length.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use ryz014_core::message::ServerRole;
use serde::Serialize;

use crate::server::FirmwareImage;

/// A PSK secret (hex). Its `Debug` shows only the first four hex digits, as the modem does.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a hex secret (not validated here).
    pub fn new(hex: impl Into<String>) -> Self {
        Secret(hex.into())
    }

    /// The first four hex digits (fewer if the secret is shorter).
    pub fn prefix(&self) -> &str {
        self.0.get(..4).unwrap_or(&self.0)
    }

    /// The whole secret (only for the `psk-read-full` fault: the real modem never shows it).
    pub(crate) fn hex(&self) -> &str {
        &self.0
    }

    /// The secret's length in bytes (hex digits / 2).
    pub fn len_bytes(&self) -> usize {
        self.0.len() / 2
    }

    /// Compares two secrets as hex, ignoring case.
    pub fn matches(&self, other: &Secret) -> bool {
        self.0.eq_ignore_ascii_case(&other.0)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({}…)", self.prefix())
    }
}

/// A `"server"` entry of a DM profile (`AT+SQNDMCFG=<prof>,"server",...`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerEntry {
    /// Short server id, 1..65535.
    pub server_id: u16,
    /// Lifetime, or the hold-off for a bootstrap server (seconds); `None` when left empty.
    pub lifetime: Option<u32>,
    /// Server URL.
    pub url: String,
    /// PDP context id 1..8, when given.
    pub cid: Option<u8>,
    /// Bootstrap or device-management server.
    pub role: ServerRole,
}

/// A `"psk"` entry of a DM profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PskEntry {
    /// The server id the PSK belongs to.
    pub server_id: u16,
    /// The PSK identity.
    pub identity: String,
    /// The PSK secret.
    pub secret: Secret,
}

/// A DM server account written by a bootstrap server (kept across reboots, like the LwM2M
/// client's own objects).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Account {
    /// Short server id.
    pub server_id: u16,
    /// Registration lifetime, seconds.
    pub lifetime: u32,
}

/// One DM configuration profile (`AT+SQNDMCFG`). Survives reboots, upgrades and factory resets.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DmProfile {
    /// `"service"` autostart: 1 = LwM2M client enabled at power-on.
    pub autostart: u8,
    /// Configured servers, in the order they were first written.
    pub servers: Vec<ServerEntry>,
    /// PSK entries, in the order they were first written.
    pub psks: Vec<PskEntry>,
    /// Accounts created by the last successful bootstrap.
    pub accounts: Vec<Account>,
}

/// The `AT+SQNFOTACFG` configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FotaConfig {
    /// The upgrade profile: a DM profile name.
    pub profile: String,
    /// FOTA mode (0 automatic).
    pub mode: u8,
    /// 0 no `+SQNFOTA`, 1 state changes, 2 state changes and intermediate errors.
    pub report_state: u8,
    /// Download progress step in percent, 0 = none.
    pub report_download: u8,
    /// FOTA timer requested by the user, seconds.
    pub timer: Option<u32>,
    /// Download timeout, seconds.
    pub download_timeout: Option<u32>,
    /// Certificate id.
    pub certificate: Option<u32>,
}

/// The settings a factory reset rewinds to the restoration point.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Settings {
    /// `AT+SQNAUTOCONNECT`.
    pub autoconnect: bool,
    /// `AT+SQNCTM`, the operator mode.
    pub operator_mode: String,
    /// `AT+SQNFOTACFG`, if ever set.
    pub fota: Option<FotaConfig>,
}

impl Settings {
    /// Factory defaults.
    pub fn factory(autoconnect: bool) -> Self {
        Settings {
            autoconnect,
            operator_mode: "standard".into(),
            fota: None,
        }
    }
}

/// A restoration point (`AT+SQNFACTORYSAVE="<tag>"`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RestorationPoint {
    /// The tag given.
    pub tag: String,
    /// The settings saved.
    pub settings: Settings,
}

/// Where an installation came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InstallSource {
    /// The LwM2M FOTA client (`+SQNFOTA` reports).
    Fota,
    /// `AT+SQNSUPGRADE`.
    Upgrade,
}

/// An installation under way; kept in NV so that a power loss resumes it (note §5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InstallJob {
    /// The image being installed.
    pub image: FirmwareImage,
    /// Who started it.
    pub source: InstallSource,
    /// Installation time still needed.
    pub remaining: Duration,
    /// The functional level to come back to.
    pub level_after: u8,
}

/// Everything the modem keeps across resets and power loss.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NvState {
    /// DM profiles by name.
    pub dm: BTreeMap<String, DmProfile>,
    /// Settings rewound by a factory reset.
    pub settings: Settings,
    /// The restoration point, if saved.
    pub restoration: Option<RestorationPoint>,
    /// The running firmware (`LR` line of `ATI1`, without `LR`).
    pub firmware: String,
    /// An installation interrupted by a power loss.
    pub pending_install: Option<InstallJob>,
}

/// A server entry as the snapshot shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServerView {
    /// Short server id.
    pub server_id: u16,
    /// Lifetime / hold-off.
    pub lifetime: Option<u32>,
    /// URL.
    pub url: String,
    /// PDP context id.
    pub cid: Option<u8>,
    /// `bs` or `dm`.
    pub role: ServerRole,
}

/// A PSK entry as the snapshot shows it: never the whole secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PskView {
    /// Server id.
    pub server_id: u16,
    /// PSK identity.
    pub identity: String,
    /// First four hex digits of the secret.
    pub secret_prefix: String,
    /// Secret length in bytes.
    pub secret_bytes: usize,
}

/// A DM profile as the snapshot shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProfileView {
    /// Autostart 0/1.
    pub autostart: u8,
    /// Servers.
    pub servers: Vec<ServerView>,
    /// PSK entries (redacted).
    pub psks: Vec<PskView>,
    /// Accounts from the last bootstrap.
    pub accounts: Vec<Account>,
}

/// One command the modem received and executed, secrets redacted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CommandRecord {
    /// Virtual time in milliseconds.
    pub at_ms: u64,
    /// The command line (PSK secret shortened to its first four hex digits and `…`).
    pub line: String,
}

/// The serialisable state (`--state-out`): NV contents and the commands received.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Snapshot {
    /// The IMEI.
    pub imei: String,
    /// The running firmware version.
    pub firmware: String,
    /// DM profiles by name.
    pub dm_profiles: BTreeMap<String, ProfileView>,
    /// Settings that apply at the next reboot.
    pub settings: Settings,
    /// The restoration point.
    pub restoration_point: Option<RestorationPoint>,
    /// An installation that resumes at the next power-up.
    pub pending_install: Option<InstallJob>,
    /// Commands received, in order.
    pub commands: Vec<CommandRecord>,
    /// Bytes dropped because the modem was rebooting or off.
    pub dropped_input_bytes: u64,
    /// Virtual time of the snapshot, milliseconds.
    pub at_ms: u64,
    /// The functional level now (`AT+CFUN?`; volatile).
    pub cfun: u8,
    /// The error reporting mode now (`AT+CMEE?`; volatile).
    pub cmee: u8,
}

impl NvState {
    /// The redacted view of the DM profiles.
    pub fn profile_views(&self) -> BTreeMap<String, ProfileView> {
        self.dm
            .iter()
            .map(|(name, p)| {
                (
                    name.clone(),
                    ProfileView {
                        autostart: p.autostart,
                        servers: p
                            .servers
                            .iter()
                            .map(|s| ServerView {
                                server_id: s.server_id,
                                lifetime: s.lifetime,
                                url: s.url.clone(),
                                cid: s.cid,
                                role: s.role,
                            })
                            .collect(),
                        psks: p
                            .psks
                            .iter()
                            .map(|k| PskView {
                                server_id: k.server_id,
                                identity: k.identity.clone(),
                                secret_prefix: k.secret.prefix().to_string(),
                                secret_bytes: k.secret.len_bytes(),
                            })
                            .collect(),
                        accounts: p.accounts.clone(),
                    },
                )
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_debug_shows_only_the_prefix() {
        let s = Secret::new("87493467538357");
        assert_eq!(format!("{s:?}"), "Secret(8749…)");
        assert_eq!(s.len_bytes(), 7);
        let p = PskEntry {
            server_id: 100,
            identity: "x".into(),
            secret: s,
        };
        assert!(!format!("{p:?}").contains("67538357"));
    }
}
