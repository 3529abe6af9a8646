//! The procedures every front end shares, over the one [`Client`]: read the modem's identity and
//! configuration, provision it with a [`Plan`](crate::provision::Plan) (waiting through its reboots, then reading
//! everything back), watch a FOTA upgrade, and run the device-initiated upgrade
//! (`AT+SQNSUPGRADE`). The CLI, the web page and the tests call these; none of them talks AT on
//! its own.
//!
//! Every function reports progress through a callback and fails with a [`SessionError`] that
//! names the step, what it was for, and what the modem answered (PSK secrets redacted).

use std::fmt;

use futures::io::{AsyncRead, AsyncWrite};
use serde::Serialize;

use crate::client::{Client, ClientError};
use crate::command::{Command, ProfileName};
use crate::imei::Imei;
use crate::message::{DmConfigLine, FirmwareLine, FotaConfigLine, Message};
use crate::provision::{firmware_version, Mismatch};
use crate::registration::{explain_registration, RegistrationStatus};

mod connect;
mod monitor;
mod provision;
mod upgrade;

pub use connect::{
    bauds_to_try, connect, prepare, ConnectError, ErrorMode, SyncBudget, BAUD_ORDER,
};
pub use monitor::{monitor, MonitorEnd, MonitorEvent, Until};
pub use provision::{provision, read_cmee, ProvisionEvent, ProvisionReport};
pub use upgrade::{upgrade, UpgradeEvent, UpgradeOutcome, UpgradeStatus};

/// Why a procedure failed.
#[derive(Debug)]
pub enum FailureKind {
    /// Talking to the modem failed: no answer, a refusal, a reset, a closed port.
    Client(ClientError),
    /// The modem answered, but not what the plan expects.
    Mismatch(Mismatch),
    /// The modem's answer cannot be used (e.g. an IMEI with a wrong check digit).
    Invalid(String),
}

impl fmt::Display for FailureKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FailureKind::Client(e) => e.fmt(f),
            FailureKind::Mismatch(m) => m.fmt(f),
            FailureKind::Invalid(s) => f.write_str(s),
        }
    }
}

/// A failed procedure: which step, what it was for, and why.
#[derive(Debug)]
pub struct SessionError {
    /// The step's stable name, e.g. `configure-psk` or `read-back dm-psk`.
    pub step: String,
    /// What the step does (secrets redacted).
    pub description: String,
    /// Why it failed.
    pub kind: FailureKind,
    /// What was done afterwards to leave the modem usable, and the state it is in now (e.g. "full
    /// function restored with AT+CFUN=1"), when the procedure had changed it.
    pub recovery: Option<String>,
}

impl fmt::Display for SessionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "step `{}` ({}) failed: {}",
            self.step, self.description, self.kind
        )?;
        if let Some(r) = &self.recovery {
            write!(f, "; {r}")?;
        }
        Ok(())
    }
}

impl std::error::Error for SessionError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            FailureKind::Client(e) => Some(e),
            FailureKind::Mismatch(m) => Some(m),
            FailureKind::Invalid(_) => None,
        }
    }
}

impl SessionError {
    fn client(step: impl Into<String>, description: impl Into<String>, e: ClientError) -> Self {
        SessionError {
            step: step.into(),
            description: description.into(),
            kind: FailureKind::Client(e),
            recovery: None,
        }
    }

    /// True when the modem did not answer in time.
    pub fn is_timeout(&self) -> bool {
        matches!(self.kind, FailureKind::Client(ClientError::Timeout { .. }))
    }

    /// True when the connection is gone (port closed or failed): re-open before going on.
    pub fn is_fatal(&self) -> bool {
        matches!(&self.kind, FailureKind::Client(e) if e.is_fatal())
    }

    /// The client error behind this failure, if any.
    pub fn client_error(&self) -> Option<&ClientError> {
        match &self.kind {
            FailureKind::Client(e) => Some(e),
            _ => None,
        }
    }
}

// ------------------------------------------------------------------------------------------------
// Identity and configuration

/// Reads the IMEI (`AT+CGSN`) and checks it (15 digits, Luhn).
pub async fn read_imei<R, W>(c: &mut Client<R, W>) -> Result<Imei, SessionError>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    const STEP: &str = "read-imei";
    const WHAT: &str = "read the IMEI with AT+CGSN";
    let r = c
        .execute(&Command::Cgsn)
        .await
        .map_err(|e| SessionError::client(STEP, WHAT, e))?;
    // The IMEI line itself; else a line of digits only (noise on the line is skipped).
    let found = r
        .lines
        .iter()
        .find_map(|m| match m {
            Message::Imei { imei } => Some(imei.clone()),
            _ => None,
        })
        .or_else(|| {
            r.lines.iter().find_map(|m| match m {
                Message::Unknown { raw } => {
                    let t = raw.trim();
                    (!t.is_empty() && t.bytes().all(|b| b.is_ascii_digit())).then(|| t.to_string())
                }
                _ => None,
            })
        });
    let Some(text) = found else {
        return Err(SessionError {
            step: STEP.into(),
            description: WHAT.into(),
            kind: FailureKind::Invalid("the modem answered OK without an IMEI line".into()),
            recovery: None,
        });
    };
    Imei::parse(&text).map_err(|e| SessionError {
        step: STEP.into(),
        description: WHAT.into(),
        kind: FailureKind::Invalid(e.to_string()),
        recovery: None,
    })
}

/// Reads the firmware lines (`ATI1`); returns the `LR` version (e.g. `5.4.1.1-57857`) if shown.
pub async fn read_firmware<R, W>(c: &mut Client<R, W>) -> Result<Option<String>, SessionError>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let r = c
        .execute(&Command::Ati1)
        .await
        .map_err(|e| SessionError::client("read-firmware", "read the firmware with ATI1", e))?;
    Ok(firmware_version(&r.lines).map(str::to_string))
}

/// Reads the LwM2M registration status (`AT+SQNDMST`).
pub async fn dm_status<R, W>(c: &mut Client<R, W>) -> Result<RegistrationStatus, SessionError>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let r = c.execute(&Command::DmStatus).await.map_err(|e| {
        SessionError::client(
            "dm-status",
            "read the LwM2M registration status with AT+SQNDMST (it answers ERROR while the modem \
             is not attached or the LwM2M client is not enabled)",
            e,
        )
    })?;
    Ok(RegistrationStatus::from_messages(&r.lines))
}

/// A PSK entry the modem holds (`AT+SQNDMCFG=<prof>,"psk"`): the secret only as the modem shows
/// it, its first 4 hex digits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HeldPsk {
    /// The server the PSK is for.
    pub server_id: u32,
    /// The PSK identity.
    pub identity: String,
    /// The secret's first hex digits, lower case (at most 4).
    pub secret_prefix: String,
}

/// Reads the PSK entries of the DM profile `profile`, before anything is written: a modem that
/// already holds a secret may be known to another inventory.
pub async fn read_held_psks<R, W>(
    c: &mut Client<R, W>,
    profile: &ProfileName,
) -> Result<Vec<HeldPsk>, SessionError>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let cmd = Command::DmPskRead {
        profile: profile.clone(),
    };
    let r = c.execute(&cmd).await.map_err(|e| {
        SessionError::client(
            "read-held-psk",
            format!("read the PSK the modem holds ({})", cmd.redacted()),
            e,
        )
    })?;
    Ok(r.lines
        .iter()
        .filter_map(|m| match m {
            Message::DmConfig(DmConfigLine::Psk {
                profile: p,
                server_id,
                identity,
                secret_prefix,
            }) if p == profile.as_str() => Some(HeldPsk {
                server_id: *server_id,
                identity: identity.clone(),
                secret_prefix: secret_prefix
                    .trim()
                    .trim_end_matches('…')
                    .chars()
                    .take(4)
                    .collect::<String>()
                    .to_ascii_lowercase(),
            }),
            _ => None,
        })
        .filter(|p| !p.secret_prefix.is_empty() || !p.identity.is_empty())
        .collect())
}

/// Everything `info` shows about a modem. Each field is read on its own; a read that fails leaves
/// its field empty and adds a line to `errors`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DeviceInfo {
    /// The IMEI (`AT+CGSN`), when it passed the Luhn check.
    pub imei: Option<String>,
    /// The LR firmware version (`ATI1`).
    pub firmware: Option<String>,
    /// Every `ATI1` line, as text.
    pub firmware_lines: Vec<String>,
    /// The operator mode (`AT+SQNCTM?`).
    pub operator_mode: Option<String>,
    /// The functional level (`AT+CFUN?`).
    pub cfun: Option<u8>,
    /// Whether the modem attaches at boot (`AT+SQNAUTOCONNECT?`).
    pub autoconnect: Option<bool>,
    /// The FOTA configuration that applies at the next reboot (`AT+SQNFOTACFG?`).
    pub fota_config: Option<FotaConfigLine>,
    /// The DM configuration of the profile: service, servers, PSKs (the secret only as the
    /// 4 hex digits the modem shows).
    pub dm_config: Vec<DmConfigLine>,
    /// The EPS registration in words (`AT+CEREG?`).
    pub eps: Option<String>,
    /// The LwM2M registration (`AT+SQNDMST`), when the modem could give it.
    pub registration: Option<RegistrationStatus>,
    /// Why the LwM2M registration could not be read, when `AT+SQNDMST` failed (its error is in
    /// `errors` too). Not serialised: the JSON shape of `info` is unchanged.
    #[serde(skip)]
    pub registration_unavailable: Option<DmStatusUnavailable>,
    /// Why something could not be read, one line per read.
    pub errors: Vec<String>,
}

impl DeviceInfo {
    /// The read errors other than the LwM2M registration's (which
    /// [`registration_unavailable`](Self::registration_unavailable) stands for).
    pub fn other_errors(&self) -> impl Iterator<Item = &String> + '_ {
        let dm = self.registration_unavailable.as_ref().map(|u| &u.error);
        self.errors.iter().filter(move |e| Some(*e) != dm)
    }
}

/// The LwM2M registration status could not be read: `AT+SQNDMST` answers `ERROR` while the
/// modem is not attached to the network or its LwM2M client is not enabled (or it did not
/// answer). A state of the modem, not a fault of the toolkit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("the LwM2M registration status is not available: {error}")]
pub struct DmStatusUnavailable {
    /// The client error of `AT+SQNDMST`, as text (the line also added to
    /// [`DeviceInfo::errors`]).
    pub error: String,
}

impl DmStatusUnavailable {
    /// What a front end shows in place of the registration, in words.
    pub const SUMMARY: &'static str =
        "not available (not attached, or the LwM2M client is not running)";

    /// [`SUMMARY`](Self::SUMMARY).
    pub fn summary(&self) -> &'static str {
        Self::SUMMARY
    }
}

/// Reads everything [`DeviceInfo`] holds, for the DM profile `profile` (e.g. `standard`).
/// Only a closed port stops it early.
pub async fn device_info<R, W>(
    c: &mut Client<R, W>,
    profile: &str,
) -> Result<DeviceInfo, SessionError>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut info = DeviceInfo::default();
    match read_imei(c).await {
        Ok(i) => info.imei = Some(i.as_str().to_string()),
        Err(e) if e.is_fatal() => return Err(e),
        Err(e) => info.errors.push(e.to_string()),
    }
    let mut reads: Vec<Command> = vec![
        Command::Ati1,
        Command::OperatorModeRead,
        Command::CfunRead,
        Command::AutoConnectRead,
        Command::FotaConfigRead,
    ];
    match ProfileName::new(profile) {
        Ok(p) => reads.extend([
            Command::DmServiceRead { profile: p.clone() },
            Command::DmServerRead { profile: p.clone() },
            Command::DmPskRead { profile: p },
        ]),
        Err(e) => info.errors.push(format!("DM profile: {e}")),
    }
    reads.extend([Command::CeregRead, Command::DmStatus]);
    for cmd in reads {
        let r = match c.execute(&cmd).await {
            Ok(r) => r,
            Err(e) if e.is_fatal() => {
                return Err(SessionError::client(cmd.name(), cmd.redacted(), e));
            }
            Err(e) => {
                if matches!(cmd, Command::DmStatus) {
                    info.registration_unavailable = Some(DmStatusUnavailable {
                        error: e.to_string(),
                    });
                }
                info.errors.push(e.to_string());
                continue;
            }
        };
        for m in &r.lines {
            match m {
                Message::Firmware(l) => info.firmware_lines.push(match l {
                    FirmwareLine::Ue(v) => format!("UE{v}"),
                    FirmwareLine::Lr(v) => format!("LR{v}"),
                }),
                Message::Unknown { raw } if matches!(cmd, Command::Ati1) => {
                    info.firmware_lines.push(raw.clone())
                }
                Message::OperatorMode { mode } => info.operator_mode = Some(mode.clone()),
                Message::Cfun { level } => info.cfun = Some(*level),
                Message::AutoConnect { enabled } => info.autoconnect = Some(*enabled != 0),
                Message::FotaConfig(f) => info.fota_config = Some(f.clone()),
                Message::DmConfig(d) => info.dm_config.push(d.clone()),
                Message::Registration(reg) => info.eps = Some(explain_registration(reg)),
                _ => {}
            }
        }
        if matches!(cmd, Command::Ati1) {
            info.firmware = firmware_version(&r.lines).map(str::to_string);
        }
        if matches!(cmd, Command::DmStatus) {
            info.registration = Some(RegistrationStatus::from_messages(&r.lines));
        }
    }
    Ok(info)
}
