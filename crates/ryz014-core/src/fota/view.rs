//! What a front end shows of an upgrade, the same in the CLI's monitor and on the web page: the
//! path of phases a normal upgrade goes through ([`PHASE_PATH`]) and where the tracker is on it,
//! whether an upgrade is under way ([`FotaTracker::is_in_progress`]), the progress to show
//! ([`FotaTracker::progress_to_show`]) and the phase's label ([`FotaTracker::phase_label`]).

use super::{FotaPhase, FotaTracker};

/// The phases of a normal upgrade, in order: idle, checking, available, downloading,
/// downloaded, installing, installed. Onboarding, stopped, failed and unknown states are not on
/// it.
pub const PHASE_PATH: [FotaPhase; 7] = [
    FotaPhase::Idle,
    FotaPhase::Checking,
    FotaPhase::Available,
    FotaPhase::Downloading,
    FotaPhase::Downloaded,
    FotaPhase::Installing,
    FotaPhase::Installed,
];

/// [`PHASE_PATH`], as a slice.
pub fn phase_path() -> &'static [FotaPhase] {
    &PHASE_PATH
}

/// What the label shows before any FOTA notification or attempt was seen.
pub const NO_FOTA_YET: &str = "no FOTA notification yet";

/// Where a phase of [`PHASE_PATH`] stands against the current phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PathStep {
    /// Before the current phase.
    Past,
    /// The current phase.
    Current,
    /// After it, or the current phase is not on the path.
    Future,
}

impl PathStep {
    /// `past`, `current` or `future` (the web page's class names).
    pub fn name(self) -> &'static str {
        match self {
            PathStep::Past => "past",
            PathStep::Current => "current",
            PathStep::Future => "future",
        }
    }
}

impl FotaPhase {
    /// The phase's place on [`PHASE_PATH`], if it is on it.
    pub fn path_index(&self) -> Option<usize> {
        PHASE_PATH.iter().position(|p| p == self)
    }

    /// Whether an upgrade is under way in this phase: checking, available, downloading,
    /// downloaded or installing.
    pub fn is_in_progress(&self) -> bool {
        matches!(
            self,
            FotaPhase::Checking
                | FotaPhase::Available
                | FotaPhase::Downloading
                | FotaPhase::Downloaded
                | FotaPhase::Installing
        )
    }
}

impl FotaTracker {
    /// Whether the modem is in the middle of an upgrade (checking, downloading or installing):
    /// a new image must wait until it ends.
    pub fn is_in_progress(&self) -> bool {
        self.phase().is_in_progress()
    }

    /// The download progress to show, percent: 100 once the image is downloaded (downloaded,
    /// installing, installed), else the last progress reported, else 0.
    pub fn progress_to_show(&self) -> u8 {
        match self.phase() {
            FotaPhase::Downloaded | FotaPhase::Installing | FotaPhase::Installed => 100,
            _ => self.progress().unwrap_or(0),
        }
    }

    /// Whether the modem reported anything of FOTA yet: a FOTA state or an upgrade attempt.
    /// Before that the tracker's phase is only a placeholder (state 0) and front ends say that
    /// nothing was reported.
    pub fn has_report(&self) -> bool {
        self.has_fota_state() || self.attempts() > 0
    }

    /// The phase's name (e.g. `downloading`), or [`NO_FOTA_YET`] while nothing was reported
    /// ([`FotaTracker::has_report`]).
    pub fn phase_label(&self) -> &'static str {
        if self.has_report() {
            self.phase().name()
        } else {
            NO_FOTA_YET
        }
    }

    /// Every phase of [`PHASE_PATH`] with where it stands against the current phase (all
    /// [`PathStep::Future`] when the current phase is not on the path).
    pub fn path_steps(&self) -> [(FotaPhase, PathStep); 7] {
        let current = self.phase().path_index();
        let mut i = 0;
        PHASE_PATH.map(|p| {
            let step = match current {
                Some(c) if i < c => PathStep::Past,
                Some(c) if i == c => PathStep::Current,
                _ => PathStep::Future,
            };
            i += 1;
            (p, step)
        })
    }
}
