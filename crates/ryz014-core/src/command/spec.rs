//! Each command's facts in one place, as atat keeps them in a command's `#[at_cmd(...)]`: its
//! name on the wire, whether its answer carries information lines under that name, how long to
//! wait for it, whether the modem reboots after it and whether it carries a PSK secret.
//!
//! [`Command::spec`] is the one `match` that states them; [`Command::name`],
//! [`Command::response_prefix`], [`Command::typical_timeout`], [`Command::reboots`] and
//! [`Command::has_secret`] read them, and the wire form starts with the name.

use std::time::Duration;

use super::{Command, UpgradeAction};

/// `AT+CMEE`: how errors are reported.
pub(super) const CMEE: &str = "AT+CMEE";
/// `AT+CFUN`: the functional level.
pub(super) const CFUN: &str = "AT+CFUN";
/// `AT+SQNAUTOCONNECT`: automatic attach at power-on.
pub(super) const AUTOCONNECT: &str = "AT+SQNAUTOCONNECT";
/// `AT+SQNDMCFG`: the DM (LwM2M) configuration.
pub(super) const DMCFG: &str = "AT+SQNDMCFG";
/// `AT+SQNFOTACFG`: the FOTA configuration.
pub(super) const FOTACFG: &str = "AT+SQNFOTACFG";
/// `AT+SQNFACTORYSAVE`: save the restoration point.
pub(super) const FACTORY_SAVE: &str = "AT+SQNFACTORYSAVE";
/// `AT+SQNSUPGRADE`: a device-initiated upgrade.
pub(super) const UPGRADE: &str = "AT+SQNSUPGRADE";

// The drivers' budgets for the final result (`docs/at-interface-decisions.md`, "Timeouts"). The
// wait for `+SYSSTART` after a reboot is separate.

/// Most commands.
const USUAL: Duration = Duration::from_secs(10);
/// `AT+CFUN` writes.
const CFUN_WRITE: Duration = Duration::from_secs(40);
/// The restoration point and the factory reset.
const RESTORATION: Duration = Duration::from_secs(30);
/// A blocking upgrade: `OK` comes when the image is written.
const BLOCKING_UPGRADE: Duration = Duration::from_secs(60 * 60);

/// The facts of one command form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Spec {
    /// The name on the wire, without its form: `AT`, `ATE`, `ATI1`, `AT+SQNDMCFG`, ….
    pub(super) name: &'static str,
    /// Whether the answer's information lines start with the name without `AT` (`+CEREG: …`
    /// for `AT+CEREG?`); otherwise the answer is bare lines or a final result only.
    pub(super) named_lines: bool,
    /// How long to wait for the final result.
    pub(super) timeout: Duration,
    /// Whether the modem reboots after answering (`+SHUTDOWN`, then `+SYSSTART`).
    pub(super) reboots: bool,
    /// Whether the command carries a PSK secret.
    pub(super) secret: bool,
}

impl Spec {
    /// A command answered by a final result (or bare lines) within the usual time, without a
    /// reboot or a secret.
    const fn named(name: &'static str) -> Spec {
        Spec {
            name,
            named_lines: false,
            timeout: USUAL,
            reboots: false,
            secret: false,
        }
    }

    /// Its information lines start with its name without `AT`.
    const fn named_lines(self) -> Spec {
        Spec {
            named_lines: true,
            ..self
        }
    }

    /// Its final result may take `timeout`.
    const fn waits(self, timeout: Duration) -> Spec {
        Spec { timeout, ..self }
    }

    /// The modem reboots after answering.
    const fn reboots(self) -> Spec {
        Spec {
            reboots: true,
            ..self
        }
    }

    /// It carries a PSK secret.
    const fn secret(self) -> Spec {
        Spec {
            secret: true,
            ..self
        }
    }
}

impl Command {
    /// This command's facts.
    pub(super) fn spec(&self) -> Spec {
        match self {
            Command::At => Spec::named("AT"),
            Command::Echo(_) => Spec::named("ATE"),
            Command::Cmee(_) => Spec::named(CMEE),
            Command::CmeeRead => Spec::named(CMEE).named_lines(),
            Command::Cgsn => Spec::named("AT+CGSN"),
            Command::Ati1 => Spec::named("ATI1"),
            Command::CfunRead => Spec::named(CFUN).named_lines(),
            Command::Cfun(_) => Spec::named(CFUN).waits(CFUN_WRITE),
            Command::CfunReset => Spec::named(CFUN).waits(CFUN_WRITE).reboots(),
            Command::Reset => Spec::named("AT^RESET").reboots(),
            Command::OperatorModeRead => Spec::named("AT+SQNCTM").named_lines(),
            Command::AutoConnect(_) => Spec::named(AUTOCONNECT),
            Command::AutoConnectRead => Spec::named(AUTOCONNECT).named_lines(),
            Command::DmConfigTest
            | Command::DmServiceRead { .. }
            | Command::DmServerRead { .. }
            | Command::DmPskRead { .. } => Spec::named(DMCFG).named_lines(),
            Command::DmService { .. }
            | Command::DmServer(_)
            | Command::DmPskRemove { .. }
            | Command::DmDeleteProfile { .. } => Spec::named(DMCFG),
            Command::DmPsk(_) => Spec::named(DMCFG).secret(),
            Command::FotaConfig(_) => Spec::named(FOTACFG),
            Command::FotaConfigRead | Command::FotaConfigTest => Spec::named(FOTACFG).named_lines(),
            Command::DmStatus => Spec::named("AT+SQNDMST").named_lines(),
            Command::FactorySave { .. } => Spec::named(FACTORY_SAVE).waits(RESTORATION),
            Command::FactoryReset => Spec::named("AT+SQNSFACTORYRESET").waits(RESTORATION),
            Command::CeregRead => Spec::named("AT+CEREG").named_lines(),
            Command::Upgrade(u) => match u.action {
                UpgradeAction::Blocking => Spec::named(UPGRADE).waits(BLOCKING_UPGRADE).reboots(),
                UpgradeAction::Start | UpgradeAction::Cancel => Spec::named(UPGRADE),
            },
            Command::UpgradeRead => Spec::named(UPGRADE).named_lines(),
        }
    }

    /// The command's name as on the wire, without its form: `AT`, `ATE`, `ATI1`, `AT+SQNDMCFG`, ….
    pub fn name(&self) -> &'static str {
        self.spec().name
    }

    /// The prefix of the information lines this command answers with (`+CEREG` for `AT+CEREG?`,
    /// `+SQNDMCFG` for the DM configuration reads and test form, …). `None` for commands answered
    /// by bare lines (`AT+CGSN`, `ATI1`) or by a final result only.
    pub fn response_prefix(&self) -> Option<&'static str> {
        let spec = self.spec();
        if spec.named_lines {
            spec.name.strip_prefix("AT")
        } else {
            None
        }
    }

    /// Whether the modem reboots after answering (`+SHUTDOWN`, then `+SYSSTART`): `AT^RESET`,
    /// `AT+CFUN=1,1`, and a blocking `AT+SQNSUPGRADE` (it ends with the new firmware's boot).
    pub fn reboots(&self) -> bool {
        self.spec().reboots
    }

    /// Whether the command carries a PSK secret.
    pub fn has_secret(&self) -> bool {
        self.spec().secret
    }

    /// How long to wait for the final result, from the drivers' budgets
    /// (`docs/at-interface-decisions.md`, "Timeouts"): 40 s for `AT+CFUN` writes, 60 minutes for
    /// a blocking upgrade, 30 s for the restoration point and factory reset, 10 s for the rest.
    /// The wait for `+SYSSTART` after a reboot is separate.
    pub fn typical_timeout(&self) -> Duration {
        self.spec().timeout
    }
}
