//! The FOTA model: what each `+SQNFOTA` state means ([`FotaPhase`]), what a failure cause means and
//! what to do about it ([`explain_cause`]), the `AT+SQNSUPGRADE` error codes ([`UpgradeError`]), and
//! a tracker ([`FotaTracker`]) that folds the modem's notifications into the state of one upgrade:
//! phase, download progress, versions before and after, outcome, whether the modem must stay
//! powered, and a bounded timeline in plain words.
//!
//! Sources: the application note AN0214EU0100 (§4.3.3, §4.5, §4.7.1, §5, §6.1) and
//! `docs/at-interface-decisions.md` (the FOTA states, the Monarch 2 upgrade error codes, the LwM2M
//! Firmware Update result codes). Where a meaning is inferred rather than documented, the text
//! says so.

use serde::{Serialize, Serializer};

use crate::message::{FotaKeyword, FotaNotification};

/// How many timeline entries a [`FotaTracker`] keeps by default (the oldest are dropped first).
pub const DEFAULT_TIMELINE_CAPACITY: usize = 1000;

/// The phase of the modem's FOTA client, as its `+SQNFOTA` notifications report it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FotaPhase {
    /// `+SQNFOTA: 1`: FOTA service activation is in progress ("onboarding", note §4.3.3).
    Onboarding,
    /// `+SQNFOTA: 2`: the FOTA service is activated but not running (note §4.3.3).
    Stopped,
    /// `+SQNFOTA: 3`: the FOTA client is idle (note §4.3.3).
    Idle,
    /// `+SQNFOTA: 4`: seen around the check for a new image (note §4.5.2). The name "checking" is
    /// ours: Renesas does not name this state, so it is **unconfirmed**.
    Checking,
    /// `+SQNFOTA: "available"`: new software is ready for upgrade.
    Available,
    /// `+SQNFOTA: 5` and `+SQNFOTA: 5,3,<pct>`: the image is being downloaded.
    Downloading,
    /// `+SQNFOTA: 6` and `+SQNFOTA: "downloaded"`: the image is downloaded.
    Downloaded,
    /// `+SQNFOTA: 7` and `+SQNFOTA: "install"`: the new firmware is being installed; the modem
    /// reboots and must stay powered.
    Installing,
    /// `+SQNFOTA: 8` and `+SQNFOTA: "installed","<version>"`: the new firmware is installed.
    Installed,
    /// `+SQNFOTA: 3,<cause>` with a failure cause, e.g. `3,8` (installation failure, note §4.7.1).
    Failed,
    /// Any other numeric state, kept as its number.
    Unknown(u32),
}

impl FotaPhase {
    /// The phase a bare numeric state stands for (1..=8; anything else is [`FotaPhase::Unknown`]).
    /// A failure is only known with its cause: see [`FotaPhase::of_notification`].
    pub fn from_state(state: u32) -> FotaPhase {
        match state {
            1 => FotaPhase::Onboarding,
            2 => FotaPhase::Stopped,
            3 => FotaPhase::Idle,
            4 => FotaPhase::Checking,
            5 => FotaPhase::Downloading,
            6 => FotaPhase::Downloaded,
            7 => FotaPhase::Installing,
            8 => FotaPhase::Installed,
            n => FotaPhase::Unknown(n),
        }
    }

    /// The phase one notification reports on its own, without history: `5,3,40` → downloading,
    /// `"installed"` → installed, `3,8` → failed. `None` for an unrecognised keyword or an empty
    /// notification.
    pub fn of_notification(n: &FotaNotification) -> Option<FotaPhase> {
        if let Some(state) = n.state {
            if state == 3 && n.progress.is_none() && n.cause.is_some_and(is_failure_cause) {
                return Some(FotaPhase::Failed);
            }
            return Some(FotaPhase::from_state(state));
        }
        match n.event.as_ref()? {
            FotaKeyword::Available => Some(FotaPhase::Available),
            FotaKeyword::Downloaded => Some(FotaPhase::Downloaded),
            FotaKeyword::Install => Some(FotaPhase::Installing),
            FotaKeyword::Installed => Some(FotaPhase::Installed),
            FotaKeyword::Other(_) => None,
        }
    }

    /// A stable snake_case identifier, used in JSON: `onboarding`, `stopped`, `idle`, `checking`,
    /// `available`, `downloading`, `downloaded`, `installing`, `installed`, `failed`, `unknown`.
    pub fn name(&self) -> &'static str {
        match self {
            FotaPhase::Onboarding => "onboarding",
            FotaPhase::Stopped => "stopped",
            FotaPhase::Idle => "idle",
            FotaPhase::Checking => "checking",
            FotaPhase::Available => "available",
            FotaPhase::Downloading => "downloading",
            FotaPhase::Downloaded => "downloaded",
            FotaPhase::Installing => "installing",
            FotaPhase::Installed => "installed",
            FotaPhase::Failed => "failed",
            FotaPhase::Unknown(_) => "unknown",
        }
    }

    /// What the phase means, in plain words.
    pub fn meaning(&self) -> String {
        match self {
            FotaPhase::Onboarding => "Onboarding: FOTA service activation is in progress.".into(),
            FotaPhase::Stopped => "Stopped: the FOTA service is activated but not running.".into(),
            FotaPhase::Idle => "Idle: the FOTA client is waiting for its next check.".into(),
            FotaPhase::Checking => {
                "Checking: the FOTA client is asking the server for a new image \
                 (state 4; this name is our reading of the note, not confirmed by Renesas)."
                    .into()
            }
            FotaPhase::Available => "Available: new software is ready for upgrade.".into(),
            FotaPhase::Downloading => {
                "Downloading: the new firmware image is being downloaded.".into()
            }
            FotaPhase::Downloaded => {
                "Downloaded: the image is complete; the installation follows. \
                 Keep the modem powered."
                    .into()
            }
            FotaPhase::Installing => {
                "Installing: the new firmware is being installed and the modem \
                 reboots. Keep it powered until the installation ends."
                    .into()
            }
            FotaPhase::Installed => "Installed: the new firmware is installed.".into(),
            FotaPhase::Failed => "Failed: the upgrade did not complete (see the cause).".into(),
            FotaPhase::Unknown(n) => format!("FOTA state {n} (not documented)."),
        }
    }

    /// Whether the modem must stay powered while in this phase (note §4.5.1.1 and §5).
    pub fn needs_power(&self) -> bool {
        matches!(self, FotaPhase::Downloaded | FotaPhase::Installing)
    }
}

impl std::fmt::Display for FotaPhase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FotaPhase::Unknown(n) => write!(f, "unknown ({n})"),
            other => f.write_str(other.name()),
        }
    }
}

impl Serialize for FotaPhase {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

/// Whether the cause of a `3,<cause>` notification means the upgrade failed: only 8, the one
/// cause the note documents (§4.7.1). Any other cause is reported as "state 3, cause N (not
/// documented)" ([`undocumented_cause_text`]), never as a failure: its meaning is not known.
fn is_failure_cause(cause: u32) -> bool {
    cause == 8
}

/// The words for `+SQNFOTA: 3,<cause>` with a cause the note does not document: `state 3, cause N
/// (not documented)`, followed by the reading inferred from LwM2M when there is one (marked as such).
pub fn undocumented_cause_text(cause: u32) -> String {
    let mut text = format!("state 3, cause {cause} (not documented)");
    let c = explain_cause(cause);
    if !c.documented && !c.explanation.starts_with("cause ") {
        text.push_str(&format!(
            "; possibly: {}",
            c.explanation.trim_end_matches('.')
        ));
    }
    text
}

/// The words flagging a download progress above 100 %, which no valid notification carries.
pub fn progress_over_100_text(pct: u32) -> String {
    format!("progress {pct} % is above 100 % (not a valid percentage)")
}

/// A failure cause of `+SQNFOTA: 3,<cause>`, explained.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FotaCause {
    /// The cause number as the modem sent it.
    pub cause: u32,
    /// What happened, in plain words.
    pub explanation: String,
    /// What to do about it.
    pub advice: String,
    /// `true` when the application note documents the meaning (only 8 so far); `false` when it
    /// is inferred from the LwM2M Firmware Update result `/5/0/5` or unknown.
    pub documented: bool,
}

const INFERRED: &str =
    "(inferred from the LwM2M Firmware Update result /5/0/5; not confirmed for this modem)";

/// Explains a `+SQNFOTA: 3,<cause>` cause code.
///
/// Cause 8 is documented by the note (§4.7.1). The others are read as the LwM2M Firmware Update
/// object's Update Result (`/5/0/5`, `docs/at-interface-decisions.md`, LwM2M Firmware Update
/// result codes), which 8 matches; that reading is an inference and every such text says so.
/// Unlisted causes are "cause N (not documented)".
pub fn explain_cause(cause: u32) -> FotaCause {
    let inferred = |what: &str, advice: &str| FotaCause {
        cause,
        explanation: format!("{what} {INFERRED}."),
        advice: advice.to_string(),
        documented: false,
    };
    match cause {
        8 => FotaCause {
            cause,
            explanation: "Installation failed: the modem rejected the image.".into(),
            advice: "Check the image uploaded to the server (note §4.7.1): it must be the \
                     differential .dup for this firmware version."
                .into(),
            documented: true,
        },
        0 => inferred(
            "No error (initial value)",
            "Nothing to do.",
        ),
        1 => inferred(
            "The firmware was updated successfully",
            "Check the new version with ATI1 (note §4.5.3).",
        ),
        2 => inferred(
            "Not enough flash memory for the new image",
            "Use a differential .dup image made for this firmware version; a full image does not fit.",
        ),
        3 => inferred(
            "Out of RAM during the download",
            "Retry the upgrade; if it repeats, contact Renesas support.",
        ),
        4 => inferred(
            "The connection was lost during the download",
            "Check the network coverage and the download timeout (AT+SQNFOTACFG); \
             the download resumes at the next FOTA timer.",
        ),
        5 => inferred(
            "The image failed its integrity check",
            "Upload the image again (the file may be corrupted or truncated) and reschedule the upgrade.",
        ),
        6 => inferred(
            "Unsupported package type",
            "Upload the differential .dup image delivered by Renesas for this firmware version.",
        ),
        7 => inferred(
            "Invalid image URI",
            "Check the package URI of the upgrade task on the server.",
        ),
        9 => inferred(
            "Unsupported download protocol",
            "Choose a delivery protocol the modem supports (the note uses PULL over HTTP).",
        ),
        10 => inferred(
            "The upgrade was cancelled",
            "Reschedule the upgrade on the server if it is still wanted.",
        ),
        11 => inferred(
            "The upgrade was deferred",
            "The client will try again later (at the next FOTA timer).",
        ),
        n => FotaCause {
            cause: n,
            explanation: format!("cause {n} (not documented)"),
            advice: "Keep the full +SQNFOTA log, check the image uploaded to the server and \
                     the upgrade task, and contact Renesas support if it repeats."
                .into(),
            documented: false,
        },
    }
}

/// The `+CME ERROR` codes of `AT+SQNSUPGRADE` (528..=533). Seen on the newer Monarch 2 modems
/// (`docs/at-interface-decisions.md`, Monarch 2 upgrade error codes); not confirmed for the
/// RYZ014's LR5.x firmware.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UpgradeError {
    /// 528: general upgrade error.
    General,
    /// 529: the image is corrupted.
    CorruptedImage,
    /// 530: the image's signature is invalid.
    InvalidSignature,
    /// 531: network error during the upgrade.
    Network,
    /// 532: an upgrade is already in progress.
    AlreadyInProgress,
    /// 533: cancel failed: no upgrade in progress.
    NothingToCancel,
}

impl UpgradeError {
    /// The error for a `+CME ERROR` code, if it is one of 528..=533.
    pub fn from_code(code: u32) -> Option<UpgradeError> {
        Some(match code {
            528 => UpgradeError::General,
            529 => UpgradeError::CorruptedImage,
            530 => UpgradeError::InvalidSignature,
            531 => UpgradeError::Network,
            532 => UpgradeError::AlreadyInProgress,
            533 => UpgradeError::NothingToCancel,
            _ => return None,
        })
    }

    /// The `+CME ERROR` code.
    pub fn code(&self) -> u32 {
        match self {
            UpgradeError::General => 528,
            UpgradeError::CorruptedImage => 529,
            UpgradeError::InvalidSignature => 530,
            UpgradeError::Network => 531,
            UpgradeError::AlreadyInProgress => 532,
            UpgradeError::NothingToCancel => 533,
        }
    }

    /// What the error means and what to do, in plain words.
    pub fn text(&self) -> &'static str {
        match self {
            UpgradeError::General => "Upgrade failed: general error.",
            UpgradeError::CorruptedImage => {
                "Upgrade failed: the image is corrupted. Upload the differential .dup file again."
            }
            UpgradeError::InvalidSignature => {
                "Upgrade failed: the image's signature is invalid. Use the image delivered by Renesas."
            }
            UpgradeError::Network => {
                "Upgrade failed: network error. Check the URL, the server and the network coverage."
            }
            UpgradeError::AlreadyInProgress => {
                "An upgrade is already in progress: wait for it to finish or cancel it first."
            }
            UpgradeError::NothingToCancel => "Cancel failed: no upgrade is in progress.",
        }
    }
}

/// The plain-words text of an `AT+SQNSUPGRADE` `+CME ERROR` code (528..=533), if it is one.
pub fn upgrade_error_text(code: u32) -> Option<&'static str> {
    UpgradeError::from_code(code).map(|e| e.text())
}

/// How the current (or last) upgrade ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum FotaOutcome {
    /// No upgrade has ended yet (or none was seen).
    InProgress,
    /// The new firmware is installed.
    Installed {
        /// The new version (from `"installed","<version>"` or from the `ATI1` LR line that
        /// followed), when known.
        version: Option<String>,
    },
    /// The upgrade failed.
    Failed {
        /// The cause number of `3,<cause>`.
        cause: u32,
        /// What happened.
        explanation: String,
        /// What to do about it.
        advice: String,
    },
}

mod tracker;
mod view;

pub use tracker::{FotaTracker, FotaUpdate, TimelineEntry};
pub use view::{phase_path, PathStep, NO_FOTA_YET, PHASE_PATH};

#[cfg(test)]
mod tests;
