//! The FOTA model: what each `+SQNFOTA` state means ([`FotaPhase`]), what a failure cause means and
//! what to do about it ([`explain_cause`]), the `AT+SQNSUPGRADE` error codes ([`UpgradeError`]), and
//! a tracker ([`FotaTracker`]) that folds the modem's notifications into the state of one upgrade:
//! phase, download progress, versions before and after, outcome, whether the modem must stay
//! powered, and a bounded timeline in plain words.
//!
//! Sources: the application note AN0214EU0100 (§4.3.3, §4.5, §4.7.1, §5, §6.1) and `sources.md`
//! §1, §2 and §4. Where a meaning is inferred rather than documented, the text says so.

use std::time::Duration;

use serde::{Serialize, Serializer};

use crate::message::{BootEvent, FirmwareLine, FotaKeyword, FotaNotification, Message};

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
/// object's Update Result (`/5/0/5`, `sources.md` §4), which 8 matches; that reading is an
/// inference and every such text says so. Unlisted causes are "cause N (not documented)".
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
/// (`sources.md` §2); not confirmed for the RYZ014's LR5.x firmware.
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

/// One line of a tracker's timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TimelineEntry {
    /// When it happened, as given to [`FotaTracker::apply`] (serialised as seconds).
    #[serde(serialize_with = "serialize_secs")]
    pub at: Duration,
    /// The tracked phase after this event.
    pub phase: FotaPhase,
    /// What happened, in plain words.
    pub text: String,
}

fn serialize_secs<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

/// What one message changed in a [`FotaTracker`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FotaUpdate {
    /// The time given to [`FotaTracker::apply`] (serialised as seconds).
    #[serde(serialize_with = "serialize_secs")]
    pub at: Duration,
    /// The tracked phase after the message.
    pub phase: FotaPhase,
    /// Whether the tracked phase changed.
    pub changed: bool,
    /// The download progress after the message, percent.
    pub progress: Option<u8>,
    /// Whether the modem must stay powered now.
    pub keep_powered: bool,
    /// Whether the upgrade has ended (installed or failed).
    pub done: bool,
    /// What happened, in plain words (the text also added to the timeline).
    pub text: String,
}

/// Folds `+SQNFOTA`, `+SHUTDOWN`/`+SYSSTART` and `ATI1` lines into the state of an upgrade.
///
/// Rules (note §4.5.2 and §4.7.1):
/// - `5` (bare) starts a download: the progress is reset; `5,3,<pct>` reports progress (a first
///   progress line while not downloading also starts one). Progress lines that arrive after the
///   image is downloaded are recorded but change nothing.
/// - `6`/`"downloaded"` sets the progress to 100 %; from then on, and through `7`/`"install"` and
///   the reboots of the installation, [`keep_powered`](Self::keep_powered) is true, until `8` /
///   `"installed"` or a failure (`3,<cause>` with a cause ≥ 2) ends the upgrade.
/// - `"available"`, a new download, `6` or `7` after an ended upgrade start a new attempt.
/// - The `ATI1` LR line gives the firmware version: before the installation it is the version
///   before; after it the version after (a new version seen after an installation with no result
///   yet counts as installed, as the note's §4.5.3 check).
///
/// Unknown states, unknown keywords and out-of-order lines are recorded in the timeline and never
/// discard what is known.
#[derive(Debug, Clone)]
pub struct FotaTracker {
    phase: FotaPhase,
    progress: Option<u8>,
    target_version: Option<String>,
    current_version: Option<String>,
    version_before: Option<String>,
    version_after: Option<String>,
    error: Option<FotaCause>,
    keep_powered: bool,
    install_started: bool,
    outcome: FotaOutcome,
    attempts: u32,
    seen_any: bool,
    timeline: Vec<TimelineEntry>,
    capacity: usize,
    dropped: u64,
}

impl Default for FotaTracker {
    fn default() -> Self {
        FotaTracker::new()
    }
}

impl FotaTracker {
    /// A tracker that keeps the last [`DEFAULT_TIMELINE_CAPACITY`] timeline entries.
    pub fn new() -> FotaTracker {
        FotaTracker::with_timeline_capacity(DEFAULT_TIMELINE_CAPACITY)
    }

    /// A tracker that keeps the last `capacity` timeline entries (at least 1).
    pub fn with_timeline_capacity(capacity: usize) -> FotaTracker {
        FotaTracker {
            phase: FotaPhase::Unknown(0),
            progress: None,
            target_version: None,
            current_version: None,
            version_before: None,
            version_after: None,
            error: None,
            keep_powered: false,
            install_started: false,
            outcome: FotaOutcome::InProgress,
            attempts: 0,
            seen_any: false,
            timeline: Vec::new(),
            capacity: capacity.max(1),
            dropped: 0,
        }
    }

    /// Folds one message in. Returns what changed when the message concerns FOTA (a `+SQNFOTA`
    /// line, a reboot notification or the `ATI1` LR line); `None` for any other message.
    pub fn apply(&mut self, at: Duration, msg: &Message) -> Option<FotaUpdate> {
        let before = self.phase;
        let text = match msg {
            Message::Fota(n) => self.apply_fota(n),
            Message::Boot { event } => self.apply_boot(*event),
            Message::Firmware(FirmwareLine::Lr(version)) => self.apply_version(version),
            _ => return None,
        };
        self.push(at, text.clone());
        Some(FotaUpdate {
            at,
            phase: self.phase,
            changed: self.phase != before,
            progress: self.progress,
            keep_powered: self.keep_powered,
            done: self.is_done(),
            text,
        })
    }

    /// The tracked phase: the last phase the modem reported ([`FotaPhase::Unknown`]`(0)` before
    /// any `+SQNFOTA` line).
    pub fn phase(&self) -> FotaPhase {
        self.phase
    }

    /// Whether any `+SQNFOTA` line has been seen.
    pub fn has_fota_state(&self) -> bool {
        self.seen_any
    }

    /// Download progress in percent: reset when a new download starts, 100 once downloaded.
    pub fn progress(&self) -> Option<u8> {
        self.progress
    }

    /// The version being installed, from `"installed","<version>"`.
    pub fn target_version(&self) -> Option<&str> {
        self.target_version.as_deref()
    }

    /// The last firmware version seen (the `ATI1` LR line, without `LR`, or an installed version).
    pub fn current_version(&self) -> Option<&str> {
        self.current_version.as_deref()
    }

    /// The firmware version before the current (or last) upgrade, when an `ATI1` preceded it.
    pub fn version_before(&self) -> Option<&str> {
        self.version_before.as_deref()
    }

    /// The firmware version after the upgrade: from `"installed","<version>"` or an `ATI1` after
    /// the installation.
    pub fn version_after(&self) -> Option<&str> {
        self.version_after.as_deref()
    }

    /// The failure cause of the current (or last) upgrade, explained.
    pub fn error(&self) -> Option<&FotaCause> {
        self.error.as_ref()
    }

    /// Whether the modem must stay powered: from `6`/`"downloaded"`/`7`/`"install"` until the
    /// upgrade is installed or failed (note §4.5.1.1: the host must not power the modem off while
    /// the package is installed; §5: power loss during the installation pauses it and URCs may be
    /// missed).
    pub fn keep_powered(&self) -> bool {
        self.keep_powered
    }

    /// Whether the upgrade has ended (installed or failed).
    pub fn is_done(&self) -> bool {
        !matches!(self.outcome, FotaOutcome::InProgress)
    }

    /// How the current (or last) upgrade ended.
    pub fn outcome(&self) -> &FotaOutcome {
        &self.outcome
    }

    /// How many upgrade attempts have been seen (an attempt starts with `"available"`, a new
    /// download, or a download/installation after an ended attempt).
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// The timeline, oldest first (at most the capacity given at construction).
    pub fn timeline(&self) -> &[TimelineEntry] {
        &self.timeline
    }

    /// How many old timeline entries were dropped to respect the capacity.
    pub fn dropped_entries(&self) -> u64 {
        self.dropped
    }

    fn push(&mut self, at: Duration, text: String) {
        if self.timeline.len() >= self.capacity {
            let excess = self.timeline.len() + 1 - self.capacity;
            self.timeline.drain(..excess);
            self.dropped += excess as u64;
        }
        self.timeline.push(TimelineEntry {
            at,
            phase: self.phase,
            text,
        });
    }

    /// Starts a new attempt if the previous one has ended (or none was counted yet).
    fn begin_attempt_if_needed(&mut self) {
        if self.is_done() || self.attempts == 0 {
            self.attempts += 1;
            self.outcome = FotaOutcome::InProgress;
            self.error = None;
            self.target_version = None;
            self.version_after = None;
            self.install_started = false;
            self.version_before = self.current_version.clone();
        }
    }

    fn apply_fota(&mut self, n: &FotaNotification) -> String {
        self.seen_any = true;
        if let Some(state) = n.state {
            return self.apply_state(state, n.cause, n.progress);
        }
        match &n.event {
            Some(FotaKeyword::Available) => {
                self.begin_attempt_if_needed();
                self.phase = FotaPhase::Available;
                "New software is ready for upgrade.".into()
            }
            Some(FotaKeyword::Downloaded) => self.enter_downloaded(),
            Some(FotaKeyword::Install) => self.enter_installing(),
            Some(FotaKeyword::Installed) => self.enter_installed(n.version.as_deref()),
            Some(FotaKeyword::Other(word)) => {
                format!("FOTA event \"{word}\" (not documented); state unchanged.")
            }
            None => "Empty FOTA notification; state unchanged.".into(),
        }
    }

    fn apply_state(&mut self, state: u32, cause: Option<u32>, progress: Option<u32>) -> String {
        match state {
            5 => self.apply_download(cause, progress),
            6 => self.enter_downloaded(),
            7 => self.enter_installing(),
            8 => self.enter_installed(None),
            3 => match cause {
                Some(c) if progress.is_none() && is_failure_cause(c) => self.enter_failed(c),
                _ => {
                    self.phase = FotaPhase::Idle;
                    let mut text = if self.keep_powered {
                        "The FOTA client is idle; waiting for the installation result \
                         (8 = installed, 3,<cause> = failed). Keep the modem powered."
                            .to_string()
                    } else {
                        "The FOTA client is idle.".to_string()
                    };
                    if let Some(c) = cause {
                        text.push_str(&format!(
                            " The modem reports {}.",
                            undocumented_cause_text(c)
                        ));
                    }
                    if let Some(p) = progress {
                        text.push_str(&format!(" Value {p}."));
                    }
                    text
                }
            },
            1 | 2 | 4 => {
                self.phase = FotaPhase::from_state(state);
                let mut text = self.phase.meaning();
                if let Some(c) = cause {
                    text.push_str(&format!(" With code {c} (meaning not documented)."));
                }
                if self.keep_powered {
                    text.push_str(" The installation has not reported its result yet: keep the modem powered.");
                }
                text
            }
            n => {
                self.phase = FotaPhase::Unknown(n);
                let mut text = format!("FOTA state {n} (not documented)");
                if let Some(c) = cause {
                    text.push_str(&format!(", code {c}"));
                }
                if let Some(p) = progress {
                    text.push_str(&format!(", value {p}"));
                }
                text.push('.');
                text
            }
        }
    }

    fn apply_download(&mut self, cause: Option<u32>, progress: Option<u32>) -> String {
        let late = matches!(self.phase, FotaPhase::Downloaded | FotaPhase::Installing)
            || (self.install_started && !self.is_done());
        match progress {
            None => {
                if self.phase == FotaPhase::Installing || (self.install_started && !self.is_done())
                {
                    return "Download notification during the installation (out of order); \
                            ignored. Keep the modem powered."
                        .into();
                }
                let restarted = self.phase == FotaPhase::Downloaded;
                self.begin_attempt_if_needed();
                self.phase = FotaPhase::Downloading;
                self.progress = None;
                self.keep_powered = false;
                let mut text = if restarted {
                    "The download starts again.".to_string()
                } else {
                    "The download starts.".to_string()
                };
                if let Some(c) = cause {
                    text.push_str(&format!(" Code {c} (meaning not documented)."));
                }
                text
            }
            Some(raw) => {
                let pct = raw.min(100) as u8;
                if raw > 100 {
                    // Not a percentage: flagged, and the tracked progress is left as it was.
                    return format!(
                        "Download notification with {}; ignored.",
                        progress_over_100_text(raw)
                    );
                }
                if late {
                    return format!(
                        "Late download progress {pct} % (out of order); the image is already downloaded."
                    );
                }
                if self.phase != FotaPhase::Downloading {
                    self.begin_attempt_if_needed();
                    self.phase = FotaPhase::Downloading;
                }
                let restarted = self.progress.is_some_and(|p| pct < p);
                self.progress = Some(pct);
                if restarted {
                    format!("Download restarted: {pct} %.")
                } else {
                    format!("Download {pct} %.")
                }
            }
        }
    }

    fn enter_downloaded(&mut self) -> String {
        if self.phase == FotaPhase::Installing || (self.install_started && !self.is_done()) {
            return "\"Downloaded\" notification during the installation (out of order); \
                    ignored. Keep the modem powered."
                .into();
        }
        self.begin_attempt_if_needed();
        let again = self.phase == FotaPhase::Downloaded;
        self.phase = FotaPhase::Downloaded;
        self.progress = Some(100);
        self.keep_powered = true;
        if again {
            "The image is downloaded (confirmed). Keep the modem powered.".into()
        } else {
            "The image is downloaded; the installation follows. Keep the modem powered.".into()
        }
    }

    fn enter_installing(&mut self) -> String {
        self.begin_attempt_if_needed();
        let again = self.phase == FotaPhase::Installing;
        self.phase = FotaPhase::Installing;
        self.install_started = true;
        self.keep_powered = true;
        if self.progress.is_none() {
            self.progress = Some(100);
        }
        if again {
            "The installation starts: the modem reboots. Keep it powered.".into()
        } else {
            "Installing the new firmware: the modem will reboot. Keep it powered.".into()
        }
    }

    fn enter_installed(&mut self, version: Option<&str>) -> String {
        self.phase = FotaPhase::Installed;
        self.keep_powered = false;
        self.error = None;
        if let Some(v) = version.map(str::trim).filter(|v| !v.is_empty()) {
            self.target_version = Some(v.to_string());
            self.version_after = Some(v.to_string());
            self.current_version = Some(v.to_string());
        }
        let known = self.version_after.clone();
        if self.attempts == 0 {
            self.attempts = 1;
        }
        self.outcome = FotaOutcome::Installed {
            version: known.clone(),
        };
        match (known, self.version_before.as_deref()) {
            (Some(v), Some(b)) if b != v => {
                format!("The new firmware {v} is installed (was {b}).")
            }
            (Some(v), _) => format!("The new firmware {v} is installed."),
            (None, _) => "The new firmware is installed.".into(),
        }
    }

    fn enter_failed(&mut self, cause: u32) -> String {
        let explained = explain_cause(cause);
        self.phase = FotaPhase::Failed;
        self.keep_powered = false;
        if self.attempts == 0 {
            self.attempts = 1;
        }
        self.outcome = FotaOutcome::Failed {
            cause,
            explanation: explained.explanation.clone(),
            advice: explained.advice.clone(),
        };
        let text = format!(
            "The upgrade failed (cause {cause}): {} {}",
            explained.explanation, explained.advice
        );
        self.error = Some(explained);
        text
    }

    fn apply_boot(&mut self, event: BootEvent) -> String {
        let installing = self.keep_powered;
        match (event, installing) {
            (BootEvent::Shutdown, true) => {
                "The modem shuts down to install the new firmware (expected). Keep it powered."
                    .into()
            }
            (BootEvent::Sysstart, true) => {
                "The modem restarted during the installation (expected reboot). Keep it powered \
                 until the result (8 = installed, 3,<cause> = failed)."
                    .into()
            }
            (BootEvent::Shutdown, false) if self.phase == FotaPhase::Downloading => {
                "The modem shuts down during the download: the download will have to start again."
                    .into()
            }
            (BootEvent::Shutdown, false) => "The modem shuts down for a reboot.".into(),
            (BootEvent::Sysstart, false) => "The modem restarted.".into(),
        }
    }

    fn apply_version(&mut self, version: &str) -> String {
        let previous = self.current_version.replace(version.to_string());
        if self.install_started || matches!(self.outcome, FotaOutcome::Installed { .. }) {
            self.version_after = Some(version.to_string());
            if !self.is_done() {
                if let Some(before) = self.version_before.clone() {
                    if before != version {
                        self.keep_powered = false;
                        self.phase = FotaPhase::Installed;
                        self.outcome = FotaOutcome::Installed {
                            version: Some(version.to_string()),
                        };
                        return format!(
                            "The firmware now reports {version} (was {before}): the new firmware is installed."
                        );
                    }
                }
                return format!(
                    "The firmware reports {version}; the installation result is not known yet."
                );
            }
            if let FotaOutcome::Installed { version: installed } = &mut self.outcome {
                if installed.is_none() {
                    *installed = Some(version.to_string());
                }
                if let Some(b) = self.version_before.as_deref() {
                    if b == version {
                        return format!(
                            "Warning: the firmware still reports {version}, the version before the upgrade."
                        );
                    }
                }
            }
            return format!("The firmware reports {version}.");
        }
        if self.attempts > 0 && !self.is_done() {
            self.version_before = Some(version.to_string());
        }
        match previous {
            Some(p) if p != version => format!("The firmware reports {version} (was {p})."),
            _ => format!("The current firmware is {version}."),
        }
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    fn state(s: u32) -> Message {
        Message::Fota(FotaNotification {
            state: Some(s),
            ..Default::default()
        })
    }

    fn state_cause(s: u32, c: u32) -> Message {
        Message::Fota(FotaNotification {
            state: Some(s),
            cause: Some(c),
            ..Default::default()
        })
    }

    fn progress(p: u32) -> Message {
        Message::Fota(FotaNotification {
            state: Some(5),
            cause: Some(3),
            progress: Some(p),
            ..Default::default()
        })
    }

    fn keyword(k: FotaKeyword) -> Message {
        Message::Fota(FotaNotification {
            event: Some(k),
            ..Default::default()
        })
    }

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn from_state_maps_documented_states_and_keeps_others() {
        let expected = [
            (1, "onboarding"),
            (2, "stopped"),
            (3, "idle"),
            (4, "checking"),
            (5, "downloading"),
            (6, "downloaded"),
            (7, "installing"),
            (8, "installed"),
        ];
        for (s, name) in expected {
            assert_eq!(FotaPhase::from_state(s).name(), name);
        }
        assert_eq!(FotaPhase::from_state(0), FotaPhase::Unknown(0));
        assert_eq!(FotaPhase::from_state(42), FotaPhase::Unknown(42));
        assert_eq!(FotaPhase::Unknown(42).name(), "unknown");
        assert!(FotaPhase::Unknown(42).meaning().contains("42"));
    }

    #[test]
    fn checking_meaning_says_the_name_is_unconfirmed() {
        assert!(FotaPhase::Checking.meaning().contains("not confirmed"));
    }

    #[test]
    fn phase_of_a_notification_alone() {
        let n = |m: Message| match m {
            Message::Fota(n) => FotaPhase::of_notification(&n),
            _ => None,
        };
        assert_eq!(n(progress(40)), Some(FotaPhase::Downloading));
        assert_eq!(n(state_cause(3, 8)), Some(FotaPhase::Failed));
        assert_eq!(n(state_cause(3, 0)), Some(FotaPhase::Idle));
        assert_eq!(
            n(keyword(FotaKeyword::Installed)),
            Some(FotaPhase::Installed)
        );
        assert_eq!(
            n(keyword(FotaKeyword::Install)),
            Some(FotaPhase::Installing)
        );
        assert_eq!(n(keyword(FotaKeyword::Other("x".into()))), None);
    }

    #[test]
    fn cause_8_is_the_documented_wrong_image() {
        let c = explain_cause(8);
        assert!(c.documented);
        assert_eq!(
            c.explanation,
            "Installation failed: the modem rejected the image."
        );
        assert!(c.advice.contains("§4.7.1"));
        assert!(c.advice.contains(".dup"));
    }

    #[test]
    fn other_causes_are_marked_inferred_or_undocumented() {
        for c in [2, 3, 4, 5, 6, 7, 9, 10, 11] {
            let e = explain_cause(c);
            assert!(!e.documented);
            assert!(e.explanation.contains("inferred"), "{c}: {}", e.explanation);
        }
        assert_eq!(explain_cause(77).explanation, "cause 77 (not documented)");
    }

    #[test]
    fn upgrade_error_codes_round_trip() {
        for code in 528..=533 {
            let e = UpgradeError::from_code(code).unwrap();
            assert_eq!(e.code(), code);
            assert_eq!(upgrade_error_text(code), Some(e.text()));
        }
        assert_eq!(UpgradeError::from_code(527), None);
        assert_eq!(upgrade_error_text(534), None);
        assert!(upgrade_error_text(532)
            .unwrap()
            .contains("already in progress"));
    }

    #[test]
    fn progress_resets_on_a_new_download_and_is_100_when_downloaded() {
        let mut t = FotaTracker::new();
        t.apply(secs(0), &state(5));
        t.apply(secs(1), &progress(30));
        assert_eq!(t.progress(), Some(30));
        t.apply(secs(2), &keyword(FotaKeyword::Downloaded));
        assert_eq!(t.progress(), Some(100));
        assert!(t.keep_powered());
        t.apply(secs(3), &state(7));
        t.apply(secs(4), &state_cause(3, 8));
        assert!(t.is_done());
        assert!(!t.keep_powered());
        let u = t.apply(secs(5), &state(5)).unwrap();
        assert_eq!(u.progress, None);
        assert!(!u.done, "a new download opens a new attempt");
        assert_eq!(t.attempts(), 2);
        assert_eq!(t.error(), None);
    }

    #[test]
    fn late_progress_after_downloaded_keeps_state() {
        let mut t = FotaTracker::new();
        t.apply(secs(0), &progress(90));
        t.apply(secs(1), &state(6));
        let u = t.apply(secs(2), &progress(40)).unwrap();
        assert_eq!(u.phase, FotaPhase::Downloaded);
        assert_eq!(u.progress, Some(100));
        assert!(u.keep_powered);
        assert!(!u.changed);
    }

    #[test]
    fn an_empty_installed_version_is_no_version() {
        let mut t = FotaTracker::new();
        t.apply(
            secs(0),
            &Message::Fota(FotaNotification {
                event: Some(FotaKeyword::Installed),
                version: Some(String::new()),
                ..Default::default()
            }),
        );
        assert_eq!(*t.outcome(), FotaOutcome::Installed { version: None });
        assert_eq!(t.target_version(), None);
    }

    #[test]
    fn unrelated_messages_are_ignored() {
        let mut t = FotaTracker::new();
        assert_eq!(t.apply(secs(0), &Message::Prompt), None);
        assert!(t.timeline().is_empty());
    }

    #[test]
    fn timeline_is_bounded() {
        let mut t = FotaTracker::with_timeline_capacity(3);
        for i in 0..10 {
            t.apply(secs(i), &progress(i as u32 * 10));
        }
        assert_eq!(t.timeline().len(), 3);
        assert_eq!(t.dropped_entries(), 7);
        assert_eq!(t.timeline()[0].at, secs(7));
        assert_eq!(t.timeline()[2].text, "Download 90 %.");
    }

    #[test]
    fn phase_serializes_as_its_name() {
        assert_eq!(
            serde_json::to_value(FotaPhase::Checking).unwrap(),
            serde_json::json!("checking")
        );
    }
}
