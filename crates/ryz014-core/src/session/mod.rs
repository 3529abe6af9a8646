//! The procedures every front end shares, over the one [`Client`]: read the modem's identity and
//! configuration, provision it with a [`Plan`] (waiting through its reboots, then reading
//! everything back), watch a FOTA upgrade, and run the device-initiated upgrade
//! (`AT+SQNSUPGRADE`). The CLI, the web page and the tests call these; none of them talks AT on
//! its own.
//!
//! Every function reports progress through a callback and fails with a [`SessionError`] that
//! names the step, what it was for, and what the modem answered (PSK secrets redacted).

use std::fmt;
use std::time::Duration;

use futures::io::{AsyncRead, AsyncWrite};
use serde::Serialize;

use crate::client::{Client, ClientError, Response};
use crate::command::{CfunLevel, CmeeMode, Command, ProfileName, UpgradeAction};
use crate::fota::{upgrade_error_text, FotaPhase, FotaTracker, FotaUpdate};
use crate::imei::Imei;
use crate::message::{
    BootEvent, DmConfigLine, ErrorCode, FinalResult, FirmwareLine, FotaConfigLine, FotaKeyword,
    Message,
};
use crate::provision::{firmware_version, Expect, Mismatch, Plan, ReadBackCheck, Step};
use crate::registration::{explain_registration, RegistrationStatus};

/// How many `AT` probes [`provision`] sends to get back in step after a reboot, and how long it
/// waits for each.
const RESYNC_ATTEMPTS: u32 = 5;
const RESYNC_EACH: Duration = Duration::from_secs(2);

/// How many times a read-back is read before a mismatch counts (a byte lost on the wire reads as
/// one).
const READ_BACK_ATTEMPTS: u32 = 2;

/// How long [`monitor`] waits, after `+SQNFOTA: 8`, for the `"installed","<version>"` line.
const INSTALLED_LINE_WAIT: Duration = Duration::from_secs(5);

/// Gets in step with the modem (`AT` until `OK`) and asks for numeric `+CME ERROR: <n>` codes
/// (`AT+CMEE=1`), so that a refusal says why. [`provision`] and [`upgrade`] start with it; call it
/// after opening a port.
pub async fn prepare<R, W>(c: &mut Client<R, W>) -> Result<(), SessionError>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    c.sync(RESYNC_ATTEMPTS, RESYNC_EACH)
        .await
        .map_err(|e| SessionError::client("sync", "get in step with the modem (AT)", e))?;
    c.execute(&Command::Cmee(CmeeMode::Numeric))
        .await
        .map_err(|e| SessionError::client("cmee", "ask for numeric error codes (AT+CMEE=1)", e))?;
    Ok(())
}

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
    /// Why something could not be read, one line per read.
    pub errors: Vec<String>,
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

// ------------------------------------------------------------------------------------------------
// Provisioning

/// Progress of [`provision`].
#[derive(Debug)]
pub enum ProvisionEvent<'a> {
    /// A step's command is about to be sent.
    StepStarted {
        /// 0-based index of the step.
        index: usize,
        /// Number of steps.
        total: usize,
        /// The step.
        step: &'a Step,
    },
    /// The step's answer was `OK` and what the plan expects.
    StepDone {
        /// 0-based index of the step.
        index: usize,
        /// Number of steps.
        total: usize,
        /// The step.
        step: &'a Step,
    },
    /// The step reboots the modem: waiting for `+SYSSTART`.
    Rebooting {
        /// The step.
        step: &'a Step,
    },
    /// `+SYSSTART` arrived and the modem answers `AT` again.
    Booted {
        /// The step.
        step: &'a Step,
    },
    /// The modem registered on the network (`+CEREG: 1` or `5`) after the reboot.
    Attached {
        /// The step.
        step: &'a Step,
    },
    /// No network registration within the step's attach timeout. Not fatal: the read-back does
    /// not depend on it, but the FOTA client only starts once attached (§4.3.3).
    AttachMissing {
        /// The step.
        step: &'a Step,
        /// How long it waited.
        waited: Duration,
    },
    /// A read-back command is about to be sent.
    CheckStarted {
        /// 0-based index of the check.
        index: usize,
        /// Number of checks.
        total: usize,
        /// The check.
        check: &'a ReadBackCheck,
    },
    /// The read-back shows what was written.
    CheckDone {
        /// 0-based index of the check.
        index: usize,
        /// Number of checks.
        total: usize,
        /// The check.
        check: &'a ReadBackCheck,
    },
    /// A notification the modem sent meanwhile (`+CEREG`, `+SQNFOTA`, `+SHUTDOWN`, ...).
    Notification(&'a Message),
}

/// What a successful [`provision`] did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProvisionReport {
    /// The firmware version `ATI1` showed, if the plan reads it.
    pub firmware: Option<String>,
    /// Steps run.
    pub steps: usize,
    /// Read-back checks passed.
    pub checks: usize,
    /// Reboots waited through whose network attach did not come in time.
    pub attach_missing: usize,
}

/// Runs the plan: gets in step with `AT`, sends every step (checking its answer), waits through
/// each reboot for `+SYSSTART` (then `AT` again, then the network attach when the step asks for
/// it), then runs every read-back check. Stops at the first failure, naming the step.
///
/// The modem is left as the operator had it where the plan did not mean to change it:
/// - `AT+CMEE` (numeric errors, so that a refusal names its cause) is read first and put back at
///   the end, whether the plan succeeded or not (best effort: a modem that does not answer the
///   read keeps numeric errors).
/// - A failure after the plan entered manufacturing mode (`AT+CFUN=5`) reads `AT+CFUN?` and, when
///   the modem is not at full function, sends `AT+CFUN=1`. The error's
///   [`recovery`](SessionError::recovery) says what was done and the state the modem is in.
pub async fn provision<R, W>(
    c: &mut Client<R, W>,
    plan: &Plan,
    mut on: impl FnMut(ProvisionEvent<'_>),
) -> Result<ProvisionReport, SessionError>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    c.sync(RESYNC_ATTEMPTS, RESYNC_EACH)
        .await
        .map_err(|e| SessionError::client("sync", "get in step with the modem (AT)", e))?;
    let previous_cmee = match read_cmee(c).await {
        Ok(mode) => mode,
        Err(e) if e.is_fatal() => {
            return Err(SessionError::client(
                "cmee",
                "read how the modem reports errors (AT+CMEE?)",
                e,
            ))
        }
        Err(_) => None,
    };
    let mut manufacturing = false;
    let result = run_plan(c, plan, &mut on, &mut manufacturing).await;
    let result = match result {
        Ok(report) => Ok(report),
        Err(mut e) if manufacturing => {
            e.recovery = Some(leave_manufacturing_mode(c, e.is_fatal()).await);
            Err(e)
        }
        Err(e) => Err(e),
    };
    let restored = match previous_cmee {
        Some(mode)
            if mode != CmeeMode::Numeric && !result.as_ref().is_err_and(|e| e.is_fatal()) =>
        {
            c.execute(&Command::Cmee(mode)).await.map(|_| ())
        }
        _ => Ok(()),
    };
    match (result, restored) {
        (Ok(_), Err(e)) => Err(SessionError::client(
            "restore-cmee",
            "put back the modem's error reporting mode (AT+CMEE)",
            e,
        )),
        (result, _) => result,
    }
}

/// Reads `AT+CMEE?`: the modem's error reporting mode, `None` when the answer does not say.
pub async fn read_cmee<R, W>(c: &mut Client<R, W>) -> Result<Option<CmeeMode>, ClientError>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let r = c.execute(&Command::CmeeRead).await?;
    Ok(r.lines.iter().find_map(|m| match m {
        Message::Cmee { mode } => CmeeMode::from_number((*mode).into()).ok(),
        _ => None,
    }))
}

/// After a failure in manufacturing mode: back to full function when the modem can be reached.
/// Returns what was done and the state the modem is in, for the operator.
async fn leave_manufacturing_mode<R, W>(c: &mut Client<R, W>, port_gone: bool) -> String
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    const STUCK: &str = "the modem may still be in manufacturing mode (AT+CFUN=5, radio off): \
                         send AT+CFUN=1 or power-cycle it before using it";
    if port_gone {
        return STUCK.into();
    }
    // A modem that does not answer the read would not answer AT+CFUN=1 either: do not wait for
    // that one too.
    let level = match c.execute(&Command::CfunRead).await {
        Ok(r) => r.lines.iter().find_map(|m| match m {
            Message::Cfun { level } => Some(*level),
            _ => None,
        }),
        Err(e) => return format!("{STUCK} (AT+CFUN?: {e})"),
    };
    if level == Some(1) {
        return "the modem is at full function (+CFUN: 1)".into();
    }
    let was = level.map_or_else(
        || "an unknown functional level".to_string(),
        |l| format!("functional level {l}"),
    );
    match c.execute(&Command::Cfun(CfunLevel::Full)).await {
        Ok(_) => format!("the modem was left in {was} and is back at full function (AT+CFUN=1)"),
        Err(e) => format!("{STUCK} (AT+CFUN=1: {e})"),
    }
}

/// The steps and checks of [`provision`], between its set-up and its clean-up. Sets
/// `manufacturing` once a step that enters manufacturing mode was sent.
async fn run_plan<R, W>(
    c: &mut Client<R, W>,
    plan: &Plan,
    on: &mut impl FnMut(ProvisionEvent<'_>),
    manufacturing: &mut bool,
) -> Result<ProvisionReport, SessionError>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    c.execute(&Command::Cmee(CmeeMode::Numeric))
        .await
        .map_err(|e| SessionError::client("cmee", "ask for numeric error codes (AT+CMEE=1)", e))?;
    let mut report = ProvisionReport {
        firmware: None,
        steps: 0,
        checks: 0,
        attach_missing: 0,
    };
    let total = plan.steps().len();
    for (index, step) in plan.steps().iter().enumerate() {
        let fail =
            |e: ClientError| SessionError::client(step.id.as_str(), step.description.clone(), e);
        on(ProvisionEvent::StepStarted { index, total, step });
        if step.reboots() {
            // A +SYSSTART still queued from an earlier boot must not end this wait.
            for m in c.drain_notifications() {
                on(ProvisionEvent::Notification(&m));
            }
        }
        if matches!(step.command, Command::Cfun(CfunLevel::Manufacturing)) {
            *manufacturing = true;
        }
        let r = match c.execute_with_timeout(&step.command, step.timeout).await {
            Ok(r) => r,
            Err(ClientError::Refused { lines, result, .. })
                if step.expect == Expect::OkOrRefusal =>
            {
                Response { lines, result }
            }
            Err(e) => return Err(fail(e)),
        };
        step.check(&r.lines).map_err(|m| SessionError {
            step: step.id.as_str().into(),
            description: step.description.clone(),
            kind: FailureKind::Mismatch(m),
            recovery: None,
        })?;
        if matches!(step.command, Command::Ati1) {
            report.firmware = firmware_version(&r.lines).map(str::to_string);
        }
        on(ProvisionEvent::StepDone { index, total, step });
        if let Some(after) = step.after_reboot {
            on(ProvisionEvent::Rebooting { step });
            c.wait_for_sysstart(after.sysstart_timeout)
                .await
                .map_err(fail)?;
            prepare(c).await.map_err(|e| SessionError {
                step: step.id.as_str().into(),
                description: step.description.clone(),
                kind: e.kind,
                recovery: None,
            })?;
            on(ProvisionEvent::Booted { step });
            if let Some(attach) = after.attach_timeout {
                // A registration the modem sent before this +SYSSTART is not this boot's attach.
                let registered = c
                    .wait_for_since_boot(
                        "network registration (+CEREG: 1 or 5)",
                        attach,
                        |m| matches!(m, Message::Registration(r) if r.stat == 1 || r.stat == 5),
                    )
                    .await;
                match registered {
                    Ok(_) => on(ProvisionEvent::Attached { step }),
                    Err(e) if e.is_fatal() => return Err(fail(e)),
                    Err(_) => {
                        report.attach_missing += 1;
                        on(ProvisionEvent::AttachMissing {
                            step,
                            waited: attach,
                        });
                    }
                }
            }
        }
        for m in c.drain_notifications() {
            on(ProvisionEvent::Notification(&m));
        }
        report.steps += 1;
    }
    let total = plan.checks().len();
    for (index, check) in plan.checks().iter().enumerate() {
        let step = check.id.as_str().to_string();
        on(ProvisionEvent::CheckStarted {
            index,
            total,
            check,
        });
        // A line damaged on the wire reads as a mismatch: read once more before failing.
        let mut attempt = 0;
        loop {
            attempt += 1;
            let r = c
                .execute(&check.command)
                .await
                .map_err(|e| SessionError::client(step.clone(), check.description.clone(), e))?;
            match check.verify(&r.lines) {
                Ok(()) => break,
                Err(_) if attempt < READ_BACK_ATTEMPTS => continue,
                Err(m) => {
                    return Err(SessionError {
                        step,
                        description: check.description.clone(),
                        kind: FailureKind::Mismatch(m),
                        recovery: None,
                    })
                }
            }
        }
        on(ProvisionEvent::CheckDone {
            index,
            total,
            check,
        });
        report.checks += 1;
    }
    for m in c.drain_notifications() {
        on(ProvisionEvent::Notification(&m));
    }
    Ok(report)
}

// ------------------------------------------------------------------------------------------------
// Watching a FOTA upgrade

/// When [`monitor`] stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Until {
    /// The new firmware is installed (a failure ends the watch too, as failed).
    Installed,
    /// The FOTA client reports idle (`+SQNFOTA: 3`), or an upgrade ended.
    Idle,
    /// An upgrade failed (an installation also ends the watch, as installed).
    Failed,
    /// An upgrade ended, either way.
    Done,
}

/// How [`monitor`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MonitorEnd {
    /// The new firmware is installed.
    Installed,
    /// The upgrade failed (the tracker holds the cause and the advice).
    Failed,
    /// The FOTA client is idle (only with [`Until::Idle`]).
    Idle,
    /// Nothing conclusive within the timeout.
    TimedOut,
}

/// What [`monitor`] reports as it goes.
#[derive(Debug)]
pub enum MonitorEvent<'a> {
    /// A notification from the modem (also the `ATI1` lines read after an installation).
    Message(&'a Message),
    /// What that notification changed in the tracker.
    Update(&'a FotaUpdate),
}

/// Watches the modem's notifications, folding them into `tracker` (timestamps from `now`), and
/// calls `on` for each, until `until` is met or `timeout` passes. Reboots during the
/// installation are part of the watch. After an installation whose version is not known yet,
/// it reads `ATI1` (note §4.5.3). A closed port ends it with a fatal error: re-open and call again
/// with the same tracker.
pub async fn monitor<R, W>(
    c: &mut Client<R, W>,
    tracker: &mut FotaTracker,
    mut now: impl FnMut() -> Duration,
    until: Until,
    timeout: Duration,
    mut on: impl FnMut(MonitorEvent<'_>),
) -> Result<MonitorEnd, SessionError>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let start = now();
    loop {
        let elapsed = now().saturating_sub(start);
        let Some(left) = timeout.checked_sub(elapsed).filter(|d| !d.is_zero()) else {
            return Ok(MonitorEnd::TimedOut);
        };
        let msg = c
            .next_notification(left)
            .await
            .map_err(|e| SessionError::client("monitor", "watch the FOTA notifications", e))?;
        let Some(msg) = msg else {
            return Ok(MonitorEnd::TimedOut);
        };
        on(MonitorEvent::Message(&msg));
        let Some(update) = tracker.apply(now(), &msg) else {
            continue;
        };
        on(MonitorEvent::Update(&update));
        let end = match (update.phase, until) {
            (FotaPhase::Installed, _) => Some(MonitorEnd::Installed),
            (FotaPhase::Failed, _) => Some(MonitorEnd::Failed),
            (FotaPhase::Idle, Until::Idle) => Some(MonitorEnd::Idle),
            _ => None,
        };
        let Some(end) = end else { continue };
        let numeric_installed = matches!(&msg, Message::Fota(n) if n.event.is_none());
        if end == MonitorEnd::Installed && numeric_installed {
            // `+SQNFOTA: 8` is followed by `+SQNFOTA: "installed","<version>"` (§4.5.2): take it
            // now, so that it is not left queued to end the next watch.
            let installed = c
                .wait_for(
                    "+SQNFOTA: \"installed\"",
                    INSTALLED_LINE_WAIT,
                    |m| matches!(m, Message::Fota(n) if n.event == Some(FotaKeyword::Installed)),
                )
                .await;
            if let Ok(m) = installed {
                on(MonitorEvent::Message(&m));
                if let Some(u) = tracker.apply(now(), &m) {
                    on(MonitorEvent::Update(&u));
                }
            }
        }
        if end == MonitorEnd::Installed && tracker.version_after().is_none() {
            // The version is shown by ATI1 once the modem is up (§4.5.3); best effort.
            if let Ok(r) = c.execute(&Command::Ati1).await {
                // Notifications that came meanwhile (`"installed","<version>"`) belong to this
                // watch: fold them in too, so that none is left to end the next watch.
                let mut lines = r.lines;
                lines.extend(c.drain_notifications());
                for m in &lines {
                    on(MonitorEvent::Message(m));
                    if let Some(u) = tracker.apply(now(), m) {
                        on(MonitorEvent::Update(&u));
                    }
                }
            }
        }
        return Ok(end);
    }
}

// ------------------------------------------------------------------------------------------------
// Device-initiated upgrade

/// Progress of [`upgrade`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum UpgradeEvent {
    /// The modem accepted the request.
    Started,
    /// Download progress, percent.
    Progress {
        /// Percent downloaded.
        percent: u8,
    },
    /// The modem went down (`+SHUTDOWN`) to install.
    Rebooting,
    /// The modem is back (`+SYSSTART`).
    Booted,
    /// A status line the toolkit does not know, verbatim.
    Status {
        /// The text after `+SQNSUPGRADE: `.
        raw: String,
    },
}

/// How [`upgrade`] ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum UpgradeOutcome {
    /// The new firmware runs.
    Success {
        /// The new version, from the status line or `ATI1`.
        version: Option<String>,
    },
    /// The upgrade failed or was refused.
    Failed {
        /// The `+CME ERROR` code, when there is one.
        code: Option<u32>,
        /// What it means.
        text: String,
    },
    /// The upgrade was cancelled.
    Cancelled,
    /// No conclusion within the timeout.
    TimedOut,
}

/// The status in a `+SQNSUPGRADE: …` line (the simulator's wording; the real modem's values are
/// not public, so anything else is kept verbatim).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpgradeStatus {
    /// Nothing under way.
    Idle,
    /// Downloading, percent.
    Downloading(u8),
    /// Done, with the new version.
    Success(Option<String>),
    /// Failed with a code.
    Failed(Option<u32>),
    /// Cancelled.
    Cancelled,
    /// Anything else, verbatim.
    Other(String),
}

impl UpgradeStatus {
    /// Reads the text after `+SQNSUPGRADE: `.
    pub fn parse(raw: &str) -> UpgradeStatus {
        let mut fields = raw.split(',').map(|f| f.trim().trim_matches('"'));
        let word = fields.next().unwrap_or("").to_ascii_lowercase();
        let arg = fields.next().filter(|s| !s.is_empty());
        match word.as_str() {
            "idle" => UpgradeStatus::Idle,
            "downloading" => match arg.and_then(|a| a.parse::<u8>().ok()) {
                Some(p) if p <= 100 => UpgradeStatus::Downloading(p),
                _ => UpgradeStatus::Other(raw.to_string()),
            },
            "success" => UpgradeStatus::Success(arg.map(str::to_string)),
            "failed" => UpgradeStatus::Failed(arg.and_then(|a| a.parse().ok())),
            "cancelled" => UpgradeStatus::Cancelled,
            _ => UpgradeStatus::Other(raw.to_string()),
        }
    }
}

fn failure_text(code: Option<u32>) -> String {
    match code.and_then(upgrade_error_text) {
        Some(t) => t.to_string(),
        None => match code {
            Some(c) => format!("the upgrade failed (code {c})"),
            None => "the upgrade failed".to_string(),
        },
    }
}

/// Starts `AT+SQNSUPGRADE="<url>",0,5,1` and follows it: polls `AT+SQNSUPGRADE?` every `poll`,
/// waits through the modem's reboots, and reads `ATI1` at the end when the status line gave no
/// version. `now` measures `timeout`.
pub async fn upgrade<R, W>(
    c: &mut Client<R, W>,
    url: &str,
    poll: Duration,
    timeout: Duration,
    mut now: impl FnMut() -> Duration,
    mut on: impl FnMut(UpgradeEvent),
) -> Result<UpgradeOutcome, SessionError>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    const STEP: &str = "upgrade";
    let cmd = Command::upgrade(url, UpgradeAction::Start, None).map_err(|e| SessionError {
        step: STEP.into(),
        description: "start the device-initiated upgrade (AT+SQNSUPGRADE)".into(),
        kind: FailureKind::Invalid(e.to_string()),
        recovery: None,
    })?;
    let description = format!("start the device-initiated upgrade ({})", cmd.redacted());
    prepare(c).await?;
    match c.execute(&cmd).await {
        Ok(_) => on(UpgradeEvent::Started),
        Err(ClientError::Refused { result, .. }) => {
            let code = match result {
                FinalResult::CmeError(ErrorCode::Number(n)) => Some(n),
                _ => None,
            };
            return Ok(UpgradeOutcome::Failed {
                code,
                text: failure_text(code),
            });
        }
        Err(e) => return Err(SessionError::client(STEP, description, e)),
    }
    let start = now();
    let mut last_pct = None;
    loop {
        let left = timeout.saturating_sub(now().saturating_sub(start));
        if left.is_zero() {
            return Ok(UpgradeOutcome::TimedOut);
        }
        // Wait `poll` for notifications (reboots), then ask.
        let mut waited = Duration::ZERO;
        while waited < poll.min(left) {
            let before = now();
            let msg = c
                .next_notification(poll.min(left) - waited)
                .await
                .map_err(|e| SessionError::client(STEP, "follow the upgrade", e))?;
            waited += now().saturating_sub(before).max(Duration::from_millis(1));
            match msg {
                None => break,
                Some(Message::Boot {
                    event: BootEvent::Shutdown,
                }) => on(UpgradeEvent::Rebooting),
                Some(Message::Boot {
                    event: BootEvent::Sysstart,
                }) => {
                    on(UpgradeEvent::Booted);
                    let _ = prepare(c).await;
                }
                Some(_) => {}
            }
        }
        let r = match c.execute(&Command::UpgradeRead).await {
            Ok(r) => r,
            Err(e) if e.is_fatal() => {
                return Err(SessionError::client(STEP, "read the upgrade status", e))
            }
            // Rebooting or busy: ask again at the next poll.
            Err(_) => continue,
        };
        let raw = r.lines.iter().find_map(|m| match m {
            Message::Upgrade { raw } => Some(raw.clone()),
            _ => None,
        });
        let Some(raw) = raw else { continue };
        match UpgradeStatus::parse(&raw) {
            UpgradeStatus::Idle => {}
            UpgradeStatus::Downloading(p) => {
                if last_pct != Some(p) {
                    last_pct = Some(p);
                    on(UpgradeEvent::Progress { percent: p });
                }
            }
            UpgradeStatus::Success(version) => {
                let version = match version {
                    Some(v) => Some(v),
                    None => read_firmware(c).await.ok().flatten(),
                };
                return Ok(UpgradeOutcome::Success { version });
            }
            UpgradeStatus::Failed(code) => {
                return Ok(UpgradeOutcome::Failed {
                    code,
                    text: failure_text(code),
                })
            }
            UpgradeStatus::Cancelled => return Ok(UpgradeOutcome::Cancelled),
            UpgradeStatus::Other(raw) => on(UpgradeEvent::Status { raw }),
        }
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    #[test]
    fn upgrade_status_lines_are_read_and_unknown_ones_kept() {
        assert_eq!(UpgradeStatus::parse("\"idle\""), UpgradeStatus::Idle);
        assert_eq!(
            UpgradeStatus::parse("\"downloading\",42"),
            UpgradeStatus::Downloading(42)
        );
        assert_eq!(
            UpgradeStatus::parse("\"success\",\"5.4.1.3-61000\""),
            UpgradeStatus::Success(Some("5.4.1.3-61000".into()))
        );
        assert_eq!(
            UpgradeStatus::parse("\"failed\",529"),
            UpgradeStatus::Failed(Some(529))
        );
        assert_eq!(
            UpgradeStatus::parse("\"cancelled\""),
            UpgradeStatus::Cancelled
        );
        assert_eq!(
            UpgradeStatus::parse("\"downloading\",250"),
            UpgradeStatus::Other("\"downloading\",250".into())
        );
        assert_eq!(
            UpgradeStatus::parse("1,2,3"),
            UpgradeStatus::Other("1,2,3".into())
        );
    }

    #[test]
    fn failure_texts_name_known_codes_and_keep_unknown_ones() {
        assert!(
            failure_text(Some(529)).contains("corrupt"),
            "{}",
            failure_text(Some(529))
        );
        assert_eq!(failure_text(Some(9999)), "the upgrade failed (code 9999)");
        assert_eq!(failure_text(None), "the upgrade failed");
    }
}
