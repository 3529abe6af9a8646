//! The simulator's configuration: identity, power-up defaults (the unconfirmed facts of
//! `docs/at-interface-decisions.md`, "The simulator's power-up defaults", are here, so tests can
//! choose), delays, the download rate, faults and the server.

use std::time::Duration;

use crate::fault::Fault;
use crate::server::ServerConfig;

/// Delays of the simulated modem (virtual time). Defaults are realistic but small.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timings {
    /// From reset (or power-up) to `+SYSSTART`. Default 3 s.
    pub boot: Duration,
    /// From `+SYSSTART` (or `AT+CFUN=1`) to `+CEREG: 2` (searching). Default 100 ms.
    pub search: Duration,
    /// From `+CEREG: 2` to `+CEREG: 1,...` (attached). Default 2 s.
    pub attach: Duration,
    /// Between consecutive notifications of one sequence (`+SQNFOTA: 4`, `3`, ...). Default 200 ms.
    pub urc_gap: Duration,
    /// How long a bootstrap exchange takes (`BS_INITIATED`). Default 1 s.
    pub bootstrap: Duration,
    /// How long a registration (or its update) takes (`REG_PENDING`). Default 1 s.
    pub register: Duration,
    /// Wait between bootstrap retries (`BS_FAILING`). Default 10 s.
    pub bootstrap_retry: Duration,
    /// Bootstrap attempts before `BS_FAILED`. Default 3.
    pub bootstrap_attempts: u32,
    /// Installation time (the modem is down, input is lost). Default 10 s.
    pub install: Duration,
    /// How long the power stays off after a power-loss fault. Default 2 s.
    pub power_off: Duration,
}

impl Default for Timings {
    fn default() -> Self {
        Timings {
            boot: Duration::from_secs(3),
            search: Duration::from_millis(100),
            attach: Duration::from_secs(2),
            urc_gap: Duration::from_millis(200),
            bootstrap: Duration::from_secs(1),
            register: Duration::from_secs(1),
            bootstrap_retry: Duration::from_secs(10),
            bootstrap_attempts: 3,
            install: Duration::from_secs(10),
            power_off: Duration::from_secs(2),
        }
    }
}

/// The cell the modem attaches to (`+CEREG: 1,"<tac>","<cell_id>",<act>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkInfo {
    /// Tracking area code (hex). Default `0002`.
    pub tac: String,
    /// Cell id (hex). Default `01A2D002`.
    pub cell_id: String,
    /// Access technology. Default 7 (E-UTRAN).
    pub act: u8,
}

impl Default for NetworkInfo {
    fn default() -> Self {
        NetworkInfo {
            tac: "0002".into(),
            cell_id: "01A2D002".into(),
            act: 7,
        }
    }
}

/// Everything a simulated modem is made of.
#[derive(Debug, Clone, PartialEq)]
pub struct SimConfig {
    /// 15-digit IMEI (`AT+CGSN`). Default the note's `015770000031766`. Not Luhn-checked, so a
    /// client's check can be tested.
    pub imei: String,
    /// The running firmware (`LR` line of `ATI1` without `LR`). Default `5.4.1.1-57857`.
    pub firmware: String,
    /// The `UE` line of `ATI1` without `UE`. Default `5.4.1.1`.
    pub ue_version: String,
    /// Echo at power-up (unconfirmed; drivers all send `ATE0` first, so default on).
    pub echo: bool,
    /// `AT+CMEE` at power-up (unconfirmed; default 0: plain `ERROR`).
    pub cmee: u8,
    /// `AT+CEREG` reporting mode at power-up. Default 2 (the note's URCs carry TAC and cell).
    pub cereg_mode: u8,
    /// `AT+SQNAUTOCONNECT` factory default. Default off.
    pub autoconnect: bool,
    /// If true the run starts with a boot (`+SYSSTART` after [`Timings::boot`]); if false
    /// (default) the modem is already up at time zero.
    pub boot_at_start: bool,
    /// Validate the certificate id of `AT+SQNFOTACFG` against 11..19 (the test form). Off by
    /// default: the note's own transcript sets 60 and gets `OK`.
    pub strict_certificate: bool,
    /// Delays.
    pub timings: Timings,
    /// Download rate, bits per second. Default 100 000.
    pub download_bps: u64,
    /// The cell.
    pub network: NetworkInfo,
    /// Injected faults.
    pub faults: Vec<Fault>,
    /// Seed of the deterministic random source (garbage bytes, dropped bytes).
    pub seed: u64,
    /// The DM server side.
    pub server: ServerConfig,
    /// Start already provisioned (as if the note's §4.3 procedure had run), instead of with
    /// factory NV state.
    pub provisioned: Option<Provisioning>,
}

/// NV contents as the note's provisioning procedure (§4.3.1.2, §4.3.1.3, §4.3.3) leaves them:
/// DM service on, a bootstrap server with its PSK, autoconnect, a restoration point saved before
/// the FOTA configuration, and the FOTA configuration.
#[derive(Clone, PartialEq, Eq)]
pub struct Provisioning {
    /// DM profile name (the operator mode), `standard`.
    pub profile: String,
    /// Bootstrap server id, 100 in the note.
    pub server_id: u16,
    /// Bootstrap server URL.
    pub bootstrap_url: String,
    /// Hold-off, seconds (60 in the note).
    pub hold_off: u32,
    /// PSK identity, `urn:imei:<IMEI>`.
    pub psk_identity: String,
    /// PSK secret, hex (never shown by `Debug`).
    pub psk_secret: String,
    /// The FOTA configuration, if any.
    pub fota: Option<crate::nv::FotaConfig>,
}

impl std::fmt::Debug for Provisioning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Provisioning")
            .field("profile", &self.profile)
            .field("server_id", &self.server_id)
            .field("bootstrap_url", &self.bootstrap_url)
            .field("hold_off", &self.hold_off)
            .field("psk_identity", &self.psk_identity)
            .field(
                "psk_secret",
                &crate::nv::Secret::new(self.psk_secret.clone()),
            )
            .field("fota", &self.fota)
            .finish()
    }
}

impl Provisioning {
    /// The note's example for an IMEI: profile `standard`, server 100, hold-off 60 s,
    /// `coaps://eu.iot.avsystem.cloud:5694`, identity `urn:imei:<IMEI>`, the given secret, and
    /// `AT+SQNFOTACFG="standard",0,2,10,<fota_timer>`.
    pub fn note_example(imei: &str, psk_secret: &str, fota_timer: Option<u32>) -> Self {
        Provisioning {
            profile: "standard".into(),
            server_id: 100,
            bootstrap_url: "coaps://eu.iot.avsystem.cloud:5694".into(),
            hold_off: 60,
            psk_identity: format!("urn:imei:{imei}"),
            psk_secret: psk_secret.into(),
            fota: Some(crate::nv::FotaConfig {
                profile: "standard".into(),
                mode: 0,
                report_state: 2,
                report_download: 10,
                timer: fota_timer,
                download_timeout: None,
                certificate: None,
            }),
        }
    }
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            imei: "015770000031766".into(),
            firmware: "5.4.1.1-57857".into(),
            ue_version: "5.4.1.1".into(),
            echo: true,
            cmee: 0,
            cereg_mode: 2,
            autoconnect: false,
            boot_at_start: false,
            strict_certificate: false,
            timings: Timings::default(),
            download_bps: 100_000,
            network: NetworkInfo::default(),
            faults: Vec::new(),
            seed: 0x5EED_0214,
            server: ServerConfig::default(),
            provisioned: None,
        }
    }
}

/// A configuration value out of range.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// The IMEI is not 15 digits.
    #[error("imei `{0}` must be 15 digits")]
    Imei(String),
    /// A version string is empty, too long (> 32) or has characters other than `[A-Za-z0-9.-]`.
    #[error("{field} `{value}` must be 1..32 characters of [A-Za-z0-9.-]")]
    Version {
        /// `firmware` or `ue_version`.
        field: &'static str,
        /// The value given.
        value: String,
    },
    /// `cmee` not in 0..2.
    #[error("cmee {0} must be 0..2")]
    Cmee(u8),
    /// `cereg_mode` not in 0..5.
    #[error("cereg_mode {0} must be 0..5")]
    CeregMode(u8),
    /// `download_bps` is zero.
    #[error("download_bps must be at least 1")]
    DownloadRate,
    /// The preset PSK secret is not 1..32 bytes of hex (the secret is not shown).
    #[error(
        "provisioned psk_secret must be an even number of hex digits, 2..64 (got {0} characters)"
    )]
    PskSecret(usize),
}

pub(crate) fn valid_version(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 32
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
}

impl SimConfig {
    /// Checks the configuration.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.imei.len() != 15 || !self.imei.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ConfigError::Imei(self.imei.clone()));
        }
        for (field, value) in [
            ("firmware", &self.firmware),
            ("ue_version", &self.ue_version),
        ] {
            if !valid_version(value) {
                return Err(ConfigError::Version {
                    field,
                    value: value.clone(),
                });
            }
        }
        if self.cmee > 2 {
            return Err(ConfigError::Cmee(self.cmee));
        }
        if self.cereg_mode > 5 {
            return Err(ConfigError::CeregMode(self.cereg_mode));
        }
        if self.download_bps == 0 {
            return Err(ConfigError::DownloadRate);
        }
        if let Some(p) = &self.provisioned {
            let k = &p.psk_secret;
            if !(2..=64).contains(&k.len())
                || k.len() % 2 != 0
                || !k.bytes().all(|b| b.is_ascii_hexdigit())
            {
                return Err(ConfigError::PskSecret(k.len()));
            }
        }
        Ok(())
    }

    /// The LwM2M endpoint name: `urn:imei:<IMEI>`.
    pub fn endpoint(&self) -> String {
        format!("urn:imei:{}", self.imei)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validates_fields_naming_them() {
        assert!(SimConfig::default().validate().is_ok());
        let c = SimConfig {
            imei: "123".into(),
            ..SimConfig::default()
        };
        assert_eq!(c.validate(), Err(ConfigError::Imei("123".into())));
        let c = SimConfig {
            firmware: "5.4 x".into(),
            ..SimConfig::default()
        };
        assert!(c.validate().unwrap_err().to_string().contains("firmware"));
        let c = SimConfig {
            cmee: 3,
            ..SimConfig::default()
        };
        assert!(c.validate().is_err());
    }
}
