//! The network side the modem talks to: an LwM2M bootstrap and device-management server in the
//! role AVSystem Coiote plays in the note (§4.3.2, §4.4), plus plain HTTP(S)/FTP image URLs for
//! `AT+SQNSUPGRADE`.
//!
//! Like Coiote, the server only bootstraps a device it knows: endpoint name, PSK identity and
//! secret must match what the modem presents (unless [`ServerConfig::trust_any`] is set). A
//! firmware image scheduled for a device is offered at the device's next FOTA check.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::nv::Secret;

/// A firmware image: what the server offers or a URL serves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FirmwareImage {
    /// The version the modem reports once installed (`LR` line without `LR`), e.g. `5.4.1.1-57830`.
    pub version: String,
    /// Size in bytes (drives the download duration).
    pub size: u64,
    /// `false` for a wrong image: it downloads, then fails to install (note §4.7.1) or is
    /// rejected as corrupted (`AT+SQNSUPGRADE`, `+CME ERROR: 529`).
    pub good: bool,
}

impl FirmwareImage {
    /// A good image of the note's size (35346 bytes).
    pub fn good(version: impl Into<String>) -> Self {
        FirmwareImage {
            version: version.into(),
            size: 35_346,
            good: true,
        }
    }

    /// A wrong image of the note's size.
    pub fn wrong(version: impl Into<String>) -> Self {
        FirmwareImage {
            good: false,
            ..Self::good(version)
        }
    }
}

/// A DM server the bootstrap server writes into the device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DmServerSpec {
    /// Short server id.
    pub server_id: u16,
    /// Registration lifetime, seconds (also the default FOTA check period).
    pub lifetime: u32,
    /// How long after the bootstrap the device starts registering.
    pub register_delay: Duration,
}

/// How the server behaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerConfig {
    /// Bootstrap any device, whatever its credentials (handy for the binary, where the PSK is
    /// generated during the run). Off by default: devices must be registered first.
    pub trust_any: bool,
    /// If set, the bootstrap URL the device uses must equal this.
    pub bootstrap_url: Option<String>,
    /// The DM servers a bootstrap creates, in order. Default: one, id 101, lifetime 86400 s.
    pub dm_servers: Vec<DmServerSpec>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            trust_any: false,
            bootstrap_url: None,
            dm_servers: vec![DmServerSpec {
                server_id: 101,
                lifetime: 86_400,
                register_delay: Duration::ZERO,
            }],
        }
    }
}

/// Where a device's firmware upgrade stands, as the server sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum UpgradeStatus {
    /// Nothing scheduled.
    #[default]
    None,
    /// An image is scheduled; the device has not fetched it yet (or must fetch it again).
    Scheduled {
        /// Version of the image.
        version: String,
    },
    /// The device is downloading.
    Downloading {
        /// Version of the image.
        version: String,
        /// Percent downloaded.
        percent: u8,
    },
    /// The device has the whole image.
    Downloaded {
        /// Version of the image.
        version: String,
    },
    /// The device is installing (and rebooting).
    Installing {
        /// Version of the image.
        version: String,
    },
    /// The device runs the new firmware.
    Succeeded {
        /// The version now running.
        version: String,
    },
    /// The upgrade failed.
    Failed {
        /// Version of the image.
        version: String,
        /// Why, in words.
        reason: String,
    },
}

/// What the server knows about one device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct DeviceStatus {
    /// Successful bootstraps.
    pub bootstraps: u32,
    /// Failed bootstrap attempts (unknown device or wrong credentials).
    pub failed_bootstraps: u32,
    /// Whether the device is currently registered with a DM server.
    pub registered: bool,
    /// The firmware version the device reported at its last registration.
    pub firmware_version: Option<String>,
    /// FOTA checks the device made.
    pub checks: u32,
    /// The upgrade state.
    pub upgrade: UpgradeStatus,
}

/// Errors of the server-side API.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ServerError {
    /// No device with this endpoint name is registered.
    #[error("no device with endpoint name `{0}`")]
    UnknownDevice(String),
    /// The PSK secret is not hex of 1..32 bytes (the secret itself is not shown).
    #[error("PSK secret for `{endpoint}` must be an even number of hex digits, 2..64 (got {len} characters)")]
    BadSecret {
        /// The endpoint name.
        endpoint: String,
        /// How many characters were given.
        len: usize,
    },
    /// The device is not reachable: not attached or not registered with a DM server.
    #[error("device `{0}` is not registered with the DM server")]
    NotRegistered(String),
    /// The device's FOTA client is busy (checking, downloading or installing) or not running.
    #[error("device `{0}`: FOTA client not idle")]
    Busy(String),
}

impl ServerError {
    /// Whether asking again later can succeed: the device is not registered yet (bootstrap
    /// hold-off, attach) or its FOTA client is busy.
    pub fn is_transient(&self) -> bool {
        matches!(self, ServerError::NotRegistered(_) | ServerError::Busy(_))
    }
}

/// How a network-initiated FOTA query (note §4.5.1.2) is asked again while the device cannot
/// take it ([`ServerError::is_transient`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueryRetry {
    /// The wait between two attempts.
    pub every: Duration,
    /// The most attempts in all (`None`: until it is accepted or fails for good).
    pub attempts: Option<u32>,
}

/// Runs `query` until it succeeds, fails for good, or `retry.attempts` are spent, sleeping
/// `retry.every` on `timer` after each transient refusal (which `on_retry` sees first).
pub(crate) async fn query_with_retry(
    mut query: impl FnMut() -> Result<(), ServerError>,
    timer: &dyn ryz014_core::timer::Timer,
    retry: QueryRetry,
    mut on_retry: impl FnMut(&ServerError),
) -> Result<(), ServerError> {
    let mut attempt = 0u32;
    loop {
        attempt = attempt.saturating_add(1);
        match query() {
            Ok(()) => return Ok(()),
            Err(e) if e.is_transient() && retry.attempts.is_none_or(|n| attempt < n) => {
                on_retry(&e);
                timer.sleep(retry.every).await;
            }
            Err(e) => return Err(e),
        }
    }
}

#[derive(Debug, Clone, Default)]
struct Device {
    credentials: Option<(String, Secret)>,
    scheduled: Option<FirmwareImage>,
    status: DeviceStatus,
}

/// The LwM2M server side and the image URLs.
#[derive(Debug, Clone)]
pub struct Server {
    config: ServerConfig,
    devices: BTreeMap<String, Device>,
    urls: BTreeMap<String, FirmwareImage>,
}

impl Server {
    /// A server with no devices and no URLs.
    pub fn new(config: ServerConfig) -> Self {
        Server {
            config,
            devices: BTreeMap::new(),
            urls: BTreeMap::new(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &ServerConfig {
        &self.config
    }

    /// Changes the configuration (applies to the next bootstrap).
    pub fn config_mut(&mut self) -> &mut ServerConfig {
        &mut self.config
    }

    /// Adds (or replaces the credentials of) a device, as in note §4.3.2: endpoint name, PSK
    /// identity and PSK secret in hex.
    pub fn register_device(
        &mut self,
        endpoint: &str,
        psk_identity: &str,
        psk_secret_hex: &str,
    ) -> Result<(), ServerError> {
        let len = psk_secret_hex.len();
        if !(2..=64).contains(&len)
            || !len.is_multiple_of(2)
            || !psk_secret_hex.bytes().all(|b| b.is_ascii_hexdigit())
        {
            return Err(ServerError::BadSecret {
                endpoint: endpoint.to_string(),
                len,
            });
        }
        let dev = self.devices.entry(endpoint.to_string()).or_default();
        dev.credentials = Some((psk_identity.to_string(), Secret::new(psk_secret_hex)));
        Ok(())
    }

    /// Deletes a device (note §4.3.2, "delete the device if the endpoint name is already registered").
    pub fn remove_device(&mut self, endpoint: &str) -> Result<(), ServerError> {
        self.devices
            .remove(endpoint)
            .map(|_| ())
            .ok_or_else(|| ServerError::UnknownDevice(endpoint.to_string()))
    }

    /// Schedules an image for a device (note §4.4.2): offered at its next FOTA check. The device
    /// must be registered, unless the server trusts any device.
    pub fn schedule_firmware(
        &mut self,
        endpoint: &str,
        image: FirmwareImage,
    ) -> Result<(), ServerError> {
        if !self.devices.contains_key(endpoint) && !self.config.trust_any {
            return Err(ServerError::UnknownDevice(endpoint.to_string()));
        }
        let dev = self.devices.entry(endpoint.to_string()).or_default();
        dev.status.upgrade = UpgradeStatus::Scheduled {
            version: image.version.clone(),
        };
        dev.scheduled = Some(image);
        Ok(())
    }

    /// Cancels a scheduled image that the device has not started to install.
    pub fn cancel_firmware(&mut self, endpoint: &str) -> Result<(), ServerError> {
        let dev = self
            .devices
            .get_mut(endpoint)
            .ok_or_else(|| ServerError::UnknownDevice(endpoint.to_string()))?;
        dev.scheduled = None;
        dev.status.upgrade = UpgradeStatus::None;
        Ok(())
    }

    /// Serves an image at a URL, for `AT+SQNSUPGRADE="<url>",...`.
    pub fn serve_url(&mut self, url: &str, image: FirmwareImage) {
        self.urls.insert(url.to_string(), image);
    }

    /// What the server knows about a device.
    pub fn device_status(&self, endpoint: &str) -> Option<DeviceStatus> {
        self.devices.get(endpoint).map(|d| d.status.clone())
    }

    /// Endpoint names of all known devices.
    pub fn devices(&self) -> Vec<String> {
        self.devices.keys().cloned().collect()
    }

    // ---- used by the modem ----

    /// A bootstrap attempt: the DM servers to create, or `None` if refused.
    pub(crate) fn bootstrap(
        &mut self,
        endpoint: &str,
        url: &str,
        credentials: Option<(&str, &Secret)>,
    ) -> Option<Vec<DmServerSpec>> {
        let url_ok = self
            .config
            .bootstrap_url
            .as_deref()
            .is_none_or(|u| u == url);
        let known = match (self.devices.get(endpoint), credentials) {
            (
                Some(Device {
                    credentials: Some((id, secret)),
                    ..
                }),
                Some((cid, csecret)),
            ) => id == cid && secret.matches(csecret),
            _ => false,
        };
        let ok = url_ok && credentials.is_some() && (known || self.config.trust_any);
        if ok {
            let dev = self.devices.entry(endpoint.to_string()).or_default();
            dev.status.bootstraps += 1;
            Some(self.config.dm_servers.clone())
        } else {
            if let Some(dev) = self.devices.get_mut(endpoint) {
                dev.status.failed_bootstraps += 1;
            }
            None
        }
    }

    /// Whether the server accepts a direct registration with these credentials.
    pub(crate) fn accepts_registration(
        &self,
        endpoint: &str,
        credentials: Option<(&str, &Secret)>,
    ) -> bool {
        if self.config.trust_any {
            return true;
        }
        matches!(
            (self.devices.get(endpoint), credentials),
            (Some(Device { credentials: Some((id, s)), .. }), Some((cid, cs))) if id == cid && s.matches(cs)
        )
    }

    pub(crate) fn set_registered(&mut self, endpoint: &str, registered: bool, firmware: &str) {
        if let Some(dev) = self.devices.get_mut(endpoint) {
            dev.status.registered = registered;
            if registered {
                dev.status.firmware_version = Some(firmware.to_string());
            }
        } else if registered && self.config.trust_any {
            let dev = self.devices.entry(endpoint.to_string()).or_default();
            dev.status.registered = true;
            dev.status.firmware_version = Some(firmware.to_string());
        }
    }

    /// A FOTA check: the image scheduled for the device, if any.
    pub(crate) fn check(&mut self, endpoint: &str) -> Option<FirmwareImage> {
        let dev = self.devices.get_mut(endpoint)?;
        dev.status.checks += 1;
        dev.scheduled.clone()
    }

    pub(crate) fn set_upgrade(&mut self, endpoint: &str, status: UpgradeStatus) {
        if let Some(dev) = self.devices.get_mut(endpoint) {
            // The job that ended is done with; an image scheduled since (another version) stays
            // scheduled for the next check, as a DM server keeps a newer job.
            let ended = match &status {
                UpgradeStatus::Succeeded { version } | UpgradeStatus::Failed { version, .. } => {
                    Some(version.as_str())
                }
                _ => None,
            };
            if let Some(v) = ended {
                if dev.scheduled.as_ref().is_none_or(|img| img.version == v) {
                    dev.scheduled = None;
                }
            }
            dev.status.upgrade = status;
        }
    }

    pub(crate) fn image_at(&self, url: &str) -> Option<FirmwareImage> {
        self.urls.get(url).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_image_scheduled_while_another_installs_stays_scheduled() {
        let mut s = Server::new(ServerConfig::default());
        let ep = "urn:imei:015770000031766";
        s.register_device(ep, ep, "87493467538357").unwrap();
        s.schedule_firmware(ep, FirmwareImage::good("2")).unwrap();
        s.set_upgrade(
            ep,
            UpgradeStatus::Installing {
                version: "2".into(),
            },
        );
        s.schedule_firmware(ep, FirmwareImage::wrong("3")).unwrap();
        s.set_upgrade(
            ep,
            UpgradeStatus::Succeeded {
                version: "2".into(),
            },
        );
        assert_eq!(s.check(ep), Some(FirmwareImage::wrong("3")));
        s.set_upgrade(
            ep,
            UpgradeStatus::Failed {
                version: "3".into(),
                reason: "wrong image".into(),
            },
        );
        assert_eq!(s.check(ep), None, "the job that ended is not offered again");
    }

    #[test]
    fn bootstraps_only_known_devices_with_matching_credentials() {
        let mut s = Server::new(ServerConfig::default());
        let ep = "urn:imei:015770000031766";
        let good = Secret::new("87493467538357");
        assert!(s.bootstrap(ep, "coaps://x", Some((ep, &good))).is_none());
        s.register_device(ep, ep, "87493467538357").unwrap();
        assert!(s
            .bootstrap(ep, "coaps://x", Some((ep, &Secret::new("00"))))
            .is_none());
        assert!(s
            .bootstrap(ep, "coaps://x", Some(("other", &good)))
            .is_none());
        let servers = s.bootstrap(ep, "coaps://x", Some((ep, &good))).unwrap();
        assert_eq!(servers[0].server_id, 101);
        let st = s.device_status(ep).unwrap();
        assert_eq!((st.bootstraps, st.failed_bootstraps), (1, 2));
    }

    #[test]
    fn rejects_bad_secrets_without_showing_them() {
        let mut s = Server::new(ServerConfig::default());
        let e = s.register_device("ep", "id", "abc").unwrap_err();
        assert!(!e.to_string().contains("abc"));
        assert!(s.register_device("ep", "id", "zz").is_err());
    }

    #[test]
    fn schedules_for_known_devices_only() {
        let mut s = Server::new(ServerConfig::default());
        assert_eq!(
            s.schedule_firmware("ep", FirmwareImage::good("1")),
            Err(ServerError::UnknownDevice("ep".into()))
        );
        s.register_device("ep", "id", "0011").unwrap();
        s.schedule_firmware("ep", FirmwareImage::good("1")).unwrap();
        assert_eq!(s.check("ep").unwrap().version, "1");
        assert_eq!(s.device_status("ep").unwrap().checks, 1);
    }
}
