//! The provisioning plan: the ordered steps of the note's §4.3.1.2, §4.3.1.3 and §4.3.3 for one
//! modem, then the read-back checks. Data only: a runner (with the async client) executes it.

use std::fmt;
use std::time::Duration;

use super::profile::{ProfileError, ProvisioningProfile};
use crate::command::{
    CertificateId, Cid, Command, DownloadTimeout, FotaConfig, FotaMode, FotaTimer, Lifetime,
    ParamError, ProfileName, ReportDownload, ReportState, ServerId, ServerRole,
};
use crate::imei::Imei;
use crate::message::{FirmwareLine, Message};
use crate::psk::PskSecret;

mod readback;

pub use readback::{CheckId, ReadBack, ReadBackCheck};

/// The tag of the restoration point (§4.3.1.3).
pub const RESTORATION_TAG: &str = "oem";

/// How long to wait for `+SYSSTART` after a reboot (ST's driver budget,
/// `docs/at-interface-decisions.md`, "Timeouts").
pub const SYSSTART_TIMEOUT: Duration = Duration::from_secs(60);

/// How long to wait, best effort, for network registration after the final reboot (ST's COPS
/// budget, `docs/at-interface-decisions.md`, "Timeouts").
pub const ATTACH_TIMEOUT: Duration = Duration::from_secs(180);

/// A provisioned modem's identity and secret, for registering it on the LwM2M server.
///
/// `Debug` shows the secret as its first 4 hex digits; [`PskSecret::expose_hex`] gives it whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The modem's IMEI.
    pub imei: Imei,
    /// The LwM2M endpoint name (`urn:imei:<IMEI>` in "standard" mode).
    pub endpoint_name: String,
    /// The PSK identity written to the modem.
    pub psk_identity: String,
    /// The PSK secret written to the modem.
    pub secret: PskSecret,
}

impl Credentials {
    /// The credentials of one modem under a profile.
    pub fn new(
        profile: &ProvisioningProfile,
        imei: &Imei,
        secret: &PskSecret,
    ) -> Result<Credentials, ProfileError> {
        Ok(Credentials {
            imei: imei.clone(),
            endpoint_name: profile.endpoint_name_for(imei)?,
            psk_identity: profile.psk_identity_for(imei)?,
            secret: secret.clone(),
        })
    }
}

/// A stable name for each step of the plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StepId {
    /// `AT+CGSN`.
    ReadImei,
    /// `ATI1`.
    ReadFirmware,
    /// `AT+SQNCTM?`.
    CheckOperatorMode,
    /// `AT+SQNAUTOCONNECT=1`.
    EnableAutoconnect,
    /// `AT+CFUN=5` before the DM configuration.
    EnterManufacturingMode,
    /// `AT+SQNDMCFG=…,"delete-profile-config"`: earlier servers and PSKs go (§6.2.4).
    ClearDmProfile,
    /// `AT+SQNDMCFG=…,"service",1`.
    EnableDmService,
    /// `AT+SQNDMCFG=…,"server",…,"bs"`.
    ConfigureBootstrapServer,
    /// `AT+SQNDMCFG=…,"psk",…`.
    ConfigurePsk,
    /// `AT^RESET`.
    ResetToApply,
    /// `AT+CFUN=5` before the restoration point.
    EnterManufacturingModeAgain,
    /// `AT+SQNFACTORYSAVE="oem"`.
    SaveRestorationPoint,
    /// `AT+SQNFOTACFG=…`.
    ConfigureFota,
    /// `AT+CFUN=1,1`.
    ResetToFullFunction,
}

impl StepId {
    /// The id as kebab-case text, e.g. `configure-psk`.
    pub fn as_str(self) -> &'static str {
        match self {
            StepId::ReadImei => "read-imei",
            StepId::ReadFirmware => "read-firmware",
            StepId::CheckOperatorMode => "check-operator-mode",
            StepId::EnableAutoconnect => "enable-autoconnect",
            StepId::EnterManufacturingMode => "enter-manufacturing-mode",
            StepId::ClearDmProfile => "clear-dm-profile",
            StepId::EnableDmService => "enable-dm-service",
            StepId::ConfigureBootstrapServer => "configure-bootstrap-server",
            StepId::ConfigurePsk => "configure-psk",
            StepId::ResetToApply => "reset-to-apply",
            StepId::EnterManufacturingModeAgain => "enter-manufacturing-mode-again",
            StepId::SaveRestorationPoint => "save-restoration-point",
            StepId::ConfigureFota => "configure-fota",
            StepId::ResetToFullFunction => "reset-to-full-function",
        }
    }
}

impl fmt::Display for StepId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a step's answer must hold besides `OK`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expect {
    /// Only the final `OK`.
    Ok,
    /// A bare IMEI line equal to this one (`AT+CGSN`).
    Imei(Imei),
    /// The firmware lines of `ATI1`; at least the `LR…` line.
    Firmware,
    /// `+SQNCTM: <mode>` with this mode (case-insensitive): the profile name.
    OperatorMode(String),
    /// `OK`, or a refusal that is not an error of the plan: deleting a DM profile that does not
    /// exist yet may be refused by a modem (the note does not say); the read-back then shows
    /// whether anything stale stayed.
    OkOrRefusal,
}

impl fmt::Display for Expect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expect::Ok => f.write_str("OK"),
            Expect::Imei(i) => write!(f, "IMEI {i}"),
            Expect::Firmware => f.write_str("the firmware version (LR line)"),
            Expect::OperatorMode(m) => write!(f, "operator mode {m}"),
            Expect::OkOrRefusal => f.write_str("OK, or ERROR when there is nothing to delete"),
        }
    }
}

/// What a runner does after a step that reboots the modem.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AfterReboot {
    /// Wait this long for `+SYSSTART` (after `+SHUTDOWN`); sending anything earlier is lost.
    pub sysstart_timeout: Duration,
    /// When set, then wait up to this long for `+CEREG` registered (stat 1 or 5), best effort:
    /// `+SQNFOTA: 1/2/3` follow once attached (§4.3.3); the read-back does not depend on it, so a
    /// runner reports a missing attach rather than failing.
    pub attach_timeout: Option<Duration>,
}

/// A read value that does not match the plan.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what}: expected {expected}, found {found}")]
pub struct Mismatch {
    /// What was compared, e.g. `bootstrap server 100 URL`.
    pub what: String,
    /// The planned value (a secret as its prefix only).
    pub expected: String,
    /// What the modem answered.
    pub found: String,
}

fn mismatch(
    what: impl Into<String>,
    expected: impl fmt::Display,
    found: impl fmt::Display,
) -> Mismatch {
    Mismatch {
        what: what.into(),
        expected: expected.to_string(),
        found: found.to_string(),
    }
}

/// One command of the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// Stable name.
    pub id: StepId,
    /// What it does and where the note says so (secret redacted).
    pub description: String,
    /// The command to send.
    pub command: Command,
    /// What the answer must hold.
    pub expect: Expect,
    /// How long to wait for the final result.
    pub timeout: Duration,
    /// Set when the modem reboots after `OK`: what to wait for before the next step.
    pub after_reboot: Option<AfterReboot>,
}

impl Step {
    /// Whether the modem reboots after this step.
    pub fn reboots(&self) -> bool {
        self.after_reboot.is_some()
    }

    /// Checks the step's information lines (the final `OK` is the runner's business).
    pub fn check(&self, lines: &[Message]) -> Result<(), Mismatch> {
        match &self.expect {
            Expect::Ok | Expect::OkOrRefusal => Ok(()),
            Expect::Imei(want) => {
                let found: Vec<&str> = lines
                    .iter()
                    .filter_map(|m| match m {
                        Message::Imei { imei } => Some(imei.as_str()),
                        _ => None,
                    })
                    .collect();
                match found.as_slice() {
                    [one] if *one == want.as_str() => Ok(()),
                    [] => Err(mismatch("IMEI", want, "no IMEI line")),
                    other => Err(mismatch("IMEI", want, other.join(", "))),
                }
            }
            Expect::Firmware => {
                if firmware_version(lines).is_some() {
                    Ok(())
                } else {
                    Err(mismatch(
                        "firmware",
                        "an LR<version> line",
                        describe_lines(lines),
                    ))
                }
            }
            Expect::OperatorMode(want) => {
                let found = lines.iter().find_map(|m| match m {
                    Message::OperatorMode { mode } => Some(mode.as_str()),
                    _ => None,
                });
                match found {
                    Some(mode) if mode.eq_ignore_ascii_case(want) => Ok(()),
                    Some(mode) => Err(mismatch("operator mode", want, mode)),
                    None => Err(mismatch("operator mode", want, "no +SQNCTM line")),
                }
            }
        }
    }
}

/// The firmware version in `ATI1`'s answer: the `LR` line without `LR` (e.g. `5.4.1.1-57857`),
/// the version the server reports.
pub fn firmware_version(lines: &[Message]) -> Option<&str> {
    lines.iter().find_map(|m| match m {
        Message::Firmware(FirmwareLine::Lr(v)) => Some(v.as_str()),
        _ => None,
    })
}

fn describe_lines(lines: &[Message]) -> String {
    if lines.is_empty() {
        "no lines".into()
    } else {
        format!("{} other line(s)", lines.len())
    }
}

/// The provisioning plan for one modem. `Display` lists the steps and checks, the secret as its
/// first 4 hex digits; `Debug` never shows it either.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    profile: String,
    credentials: Credentials,
    steps: Vec<Step>,
    checks: Vec<ReadBackCheck>,
}

fn p(path: &'static str) -> impl Fn(ParamError) -> ProfileError {
    move |e| ProfileError::Key {
        path: path.into(),
        message: format!("{} {}", e.value, e.problem),
        allowed: match e.note {
            Some(n) => format!("{}; {n}", e.allowed),
            None => e.allowed.clone(),
        },
    }
}

impl Plan {
    /// The plan for one modem: the profile (validated here), the modem's IMEI (as `AT+CGSN` will
    /// report it) and its secret ([`ProvisioningProfile::resolve_secret`]; the given one is used
    /// even when the profile has a fixed one).
    ///
    /// Order of `docs/at-interface-decisions.md`, "The provisioning procedure": identify;
    /// autoconnect and manufacturing mode; service; bootstrap server; PSK; `AT^RESET`;
    /// restoration point; FOTA configuration; `AT+CFUN=1,1`; then the read-back checks.
    pub fn new(
        profile: &ProvisioningProfile,
        imei: &Imei,
        secret: &PskSecret,
    ) -> Result<Plan, ProfileError> {
        profile.validate()?;
        let credentials = Credentials::new(profile, imei, secret)?;
        let name = profile.modem.profile.clone();
        let b = &profile.bootstrap;
        let f = &profile.fota;
        let prof = || ProfileName::new(&name).map_err(p("modem.profile"));

        let mut steps = Vec::new();
        let mut add = |id: StepId, description: String, command: Command, expect: Expect| {
            let after_reboot = command.reboots().then_some(AfterReboot {
                sysstart_timeout: SYSSTART_TIMEOUT,
                attach_timeout: (command == Command::CfunReset).then_some(ATTACH_TIMEOUT),
            });
            steps.push(Step {
                id,
                description,
                timeout: command.typical_timeout(),
                command,
                expect,
                after_reboot,
            });
        };

        add(
            StepId::ReadImei,
            format!("Read the IMEI; it must be {imei} (§4.3.1.2)"),
            Command::Cgsn,
            Expect::Imei(imei.clone()),
        );
        add(
            StepId::ReadFirmware,
            "Read the firmware version (ATI1, §4.5.3)".into(),
            Command::Ati1,
            Expect::Firmware,
        );
        add(
            StepId::CheckOperatorMode,
            format!("Check that the operator mode is \"{name}\" (§4.3.1.2)"),
            Command::OperatorModeRead,
            Expect::OperatorMode(name.clone()),
        );
        if profile.modem.autoconnect {
            add(
                StepId::EnableAutoconnect,
                "Attach automatically after boot (§4.3.1.2)".into(),
                Command::AutoConnect(true),
                Expect::Ok,
            );
        }
        add(
            StepId::EnterManufacturingMode,
            "Enter manufacturing mode to write the DM configuration (§4.3.1.2)".into(),
            Command::Cfun(crate::command::CfunLevel::Manufacturing),
            Expect::Ok,
        );
        add(
            StepId::ClearDmProfile,
            format!(
                "Delete the DM profile \"{name}\" so that no earlier server or PSK stays (§6.2.4)"
            ),
            Command::DmDeleteProfile { profile: prof()? },
            Expect::OkOrRefusal,
        );
        add(
            StepId::EnableDmService,
            "Start the LwM2M client at power-on (§4.3.1.2, §6.2.1)".into(),
            Command::DmService {
                profile: prof()?,
                autostart: true,
            },
            Expect::Ok,
        );
        let server = crate::command::DmServer {
            profile: prof()?,
            server_id: ServerId::new(b.server_id.into()).map_err(p("bootstrap.server_id"))?,
            lifetime: Some(Lifetime::new(b.hold_off_s.into()).map_err(p("bootstrap.hold_off_s"))?),
            url: crate::command::Url::new(&b.uri).map_err(p("bootstrap.uri"))?,
            cid: b
                .cid
                .map(|c| Cid::new(c.into()))
                .transpose()
                .map_err(p("bootstrap.cid"))?,
            server_type: Some(ServerRole::Bs),
        };
        add(
            StepId::ConfigureBootstrapServer,
            format!(
                "Configure bootstrap server {} at {}, hold-off {} s (§4.3.1.2, §6.2.2)",
                b.server_id, b.uri, b.hold_off_s
            ),
            Command::DmServer(server),
            Expect::Ok,
        );
        let psk = crate::command::DmPsk {
            profile: prof()?,
            server_id: ServerId::new(b.server_id.into()).map_err(p("bootstrap.server_id"))?,
            identity: crate::command::PskIdentity::new(&credentials.psk_identity)
                .map_err(p("psk.identity"))?,
            secret: secret.clone(),
        };
        add(
            StepId::ConfigurePsk,
            format!(
                "Write the PSK of server {}: identity {}, secret {} ({} bytes) (§4.3.1.2, §6.2.3)",
                b.server_id,
                credentials.psk_identity,
                secret.redacted(),
                secret.len_bytes()
            ),
            Command::DmPsk(psk),
            Expect::Ok,
        );
        add(
            StepId::ResetToApply,
            "Reset to apply the DM configuration; wait for +SYSSTART (§4.3.1.2)".into(),
            Command::Reset,
            Expect::Ok,
        );
        if profile.factory.save_restoration_point {
            add(
                StepId::EnterManufacturingModeAgain,
                "Enter manufacturing mode for the restoration point (§4.3.1.3)".into(),
                Command::Cfun(crate::command::CfunLevel::Manufacturing),
                Expect::Ok,
            );
            add(
                StepId::SaveRestorationPoint,
                format!("Save the restoration point \"{RESTORATION_TAG}\" (§4.3.1.3)"),
                Command::factory_save(RESTORATION_TAG).map_err(p("factory"))?,
                Expect::Ok,
            );
        }
        let fota = FotaConfig {
            profile: prof()?,
            mode: Some(FotaMode::new(f.mode.into()).map_err(p("fota.mode"))?),
            report_state: Some(
                ReportState::new(f.report_state.into()).map_err(p("fota.report_state"))?,
            ),
            report_download: Some(
                ReportDownload::new(f.report_download.into()).map_err(p("fota.report_download"))?,
            ),
            timer: f
                .timer_s
                .map(|v| FotaTimer::new(v.into()))
                .transpose()
                .map_err(p("fota.timer_s"))?,
            download_timeout: f
                .download_timeout_s
                .map(|v| DownloadTimeout::new(v.into()))
                .transpose()
                .map_err(p("fota.download_timeout_s"))?,
            certificate: f
                .certificate_id
                .map(|v| CertificateId::new(v.into()))
                .transpose()
                .map_err(p("fota.certificate_id"))?,
        };
        add(
            StepId::ConfigureFota,
            format!(
                "Configure the FOTA client: mode {}, report state {}, download progress every {}% (§4.3.3, §6.1)",
                f.mode, f.report_state, f.report_download
            ),
            Command::FotaConfig(fota),
            Expect::Ok,
        );
        add(
            StepId::ResetToFullFunction,
            "Reset to full functionality so the FOTA configuration applies; wait for +SYSSTART, then +CEREG and +SQNFOTA: 1/2/3 once attached (§4.3.3)".into(),
            Command::CfunReset,
            Expect::Ok,
        );

        let checks = vec![
            ReadBackCheck {
                id: CheckId::Service,
                description: "The LwM2M client starts at power-on".into(),
                command: Command::DmServiceRead { profile: prof()? },
                expect: ReadBack::DmService {
                    profile: name.clone(),
                    autostart: 1,
                },
            },
            ReadBackCheck {
                id: CheckId::Server,
                description: format!("Bootstrap server {} is {}", b.server_id, b.uri),
                command: Command::DmServerRead { profile: prof()? },
                expect: ReadBack::DmServer {
                    profile: name.clone(),
                    server_id: b.server_id.into(),
                    lifetime: b.hold_off_s,
                    url: b.uri.clone(),
                    cid: b.cid,
                    server_type: ServerRole::Bs,
                },
            },
            ReadBackCheck {
                id: CheckId::Psk,
                description: format!(
                    "The PSK of server {} has identity {} and a secret starting {}",
                    b.server_id,
                    credentials.psk_identity,
                    secret.prefix()
                ),
                command: Command::DmPskRead { profile: prof()? },
                expect: ReadBack::DmPsk {
                    profile: name.clone(),
                    server_id: b.server_id.into(),
                    identity: credentials.psk_identity.clone(),
                    secret_prefix: secret.prefix(),
                },
            },
            ReadBackCheck {
                id: CheckId::Fota,
                description: "The FOTA configuration applies as planned".into(),
                command: Command::FotaConfigRead,
                expect: ReadBack::FotaConfig {
                    profile: name.clone(),
                    mode: f.mode,
                    report_state: f.report_state,
                    report_download: f.report_download,
                    timer: f.timer_s,
                    download_timeout: f.download_timeout_s,
                    certificate: f.certificate_id.map(u32::from),
                },
            },
        ];

        Ok(Plan {
            profile: name,
            credentials,
            steps,
            checks,
        })
    }

    /// The steps, in order.
    pub fn steps(&self) -> &[Step] {
        &self.steps
    }

    /// The read-back checks, to run after the last step.
    pub fn checks(&self) -> &[ReadBackCheck] {
        &self.checks
    }

    /// The modem's credentials, for registering it on the server.
    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    /// Whether a provisioning that failed at `step` (a [`SessionError`](crate::session::SessionError)'s
    /// step name) may have changed the modem's DM configuration, and so its credentials. False
    /// only for the set-up before the plan (`sync`, `cmee`) and the steps before
    /// [`StepId::ClearDmProfile`]: there the modem still holds what it held before. Any other
    /// name, a read-back's included, counts as "may have".
    pub fn may_have_written_credentials(&self, step: &str) -> bool {
        if step == "sync" || step == "cmee" {
            return false;
        }
        let first_write = self
            .steps
            .iter()
            .position(|s| s.id == StepId::ClearDmProfile)
            .unwrap_or(0);
        !self.steps[..first_write]
            .iter()
            .any(|s| s.id.as_str() == step)
    }

    /// The DM profile name.
    pub fn profile_name(&self) -> &str {
        &self.profile
    }

    /// Every command in order: the steps', then the checks'.
    pub fn commands(&self) -> impl Iterator<Item = &Command> {
        self.steps
            .iter()
            .map(|s| &s.command)
            .chain(self.checks.iter().map(|c| &c.command))
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &self.credentials;
        writeln!(
            f,
            "Provisioning plan for IMEI {} (profile \"{}\")",
            c.imei, self.profile
        )?;
        writeln!(f, "  endpoint name: {}", c.endpoint_name)?;
        writeln!(f, "  PSK identity:  {}", c.psk_identity)?;
        writeln!(
            f,
            "  PSK secret:    {} ({} bytes)",
            c.secret.redacted(),
            c.secret.len_bytes()
        )?;
        writeln!(f, "Steps:")?;
        for (i, s) in self.steps.iter().enumerate() {
            write!(f, "{:>3}. {:<32} {}", i + 1, s.id.as_str(), s.command)?;
            if s.expect != Expect::Ok {
                write!(f, "  → expect {}", s.expect)?;
            }
            if let Some(r) = &s.after_reboot {
                write!(
                    f,
                    "  → reboots: wait for +SYSSTART ({} s)",
                    r.sysstart_timeout.as_secs()
                )?;
                if let Some(a) = r.attach_timeout {
                    write!(f, ", then for attach (up to {} s)", a.as_secs())?;
                }
            }
            writeln!(f)?;
            writeln!(f, "       {}", s.description)?;
        }
        writeln!(f, "Read-back checks:")?;
        for (i, ch) in self.checks.iter().enumerate() {
            writeln!(f, "{:>3}. {:<32} {}", i + 1, ch.id.as_str(), ch.command)?;
            writeln!(f, "       {}", ch.description)?;
        }
        Ok(())
    }
}
