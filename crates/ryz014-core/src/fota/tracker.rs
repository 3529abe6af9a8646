//! The tracker ([`FotaTracker`]): folds `+SQNFOTA`, reboot and `ATI1` lines into the state of one
//! upgrade, with a bounded timeline in plain words.

use std::time::Duration;

use serde::{Serialize, Serializer};

use super::{
    explain_cause, is_failure_cause, progress_over_100_text, undocumented_cause_text, FotaCause,
    FotaOutcome, FotaPhase, DEFAULT_TIMELINE_CAPACITY,
};
use crate::message::{BootEvent, FirmwareLine, FotaKeyword, FotaNotification, Message};

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
