//! The live display of a FOTA upgrade ([`FotaView`]), shared by `monitor` and `demo`: the phase
//! in words, a download progress bar (indicatif on a terminal, one plain line per step
//! otherwise, JSON events with `--json`), the versions before and after, a failure's cause with
//! the core's advice ([`explain_cause`]), and the registration status.

use indicatif::{ProgressBar, ProgressStyle};
use ryz014_core::describe::{decode_record, explain};
use ryz014_core::fota::{explain_cause, FotaPhase, FotaTracker, FotaUpdate};
use ryz014_core::message::{BootEvent, FotaNotification, Message};
use ryz014_core::session::{MonitorEnd, MonitorEvent};
use serde_json::{json, Value};

use crate::context::{CliError, Out};

/// The download bar (0–100 %) that `monitor`, `demo` and `upgrade` draw on a terminal.
pub fn download_bar() -> ProgressBar {
    let bar = ProgressBar::new(100);
    if let Ok(style) = ProgressStyle::with_template("download [{bar:40.cyan/blue}] {pos:>3} %") {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

/// The live display of an upgrade: words (with a progress bar on a terminal) or JSON events.
pub struct FotaView {
    json: bool,
    /// The download bar, while a download is shown on a terminal.
    bar: Option<ProgressBar>,
    /// Whether to draw a bar (stderr is a terminal and not JSON); otherwise plain lines.
    use_bar: bool,
    /// The last progress shown.
    shown_progress: Option<u8>,
    /// Whether "keep the modem powered" was said for the current upgrade.
    warned_power: bool,
    /// The last `+SQNFOTA` notification (its cause explains a failure).
    last_fota: Option<FotaNotification>,
    /// The first output error (callbacks cannot return one).
    failed: Option<CliError>,
}

impl FotaView {
    /// A view for `out` (JSON or words; a bar only when stderr is a terminal).
    pub fn new(out: &Out) -> FotaView {
        FotaView {
            json: out.json,
            bar: None,
            use_bar: out.bars(),
            shown_progress: None,
            warned_power: false,
            last_fota: None,
            failed: None,
        }
    }

    /// The first output error met by [`FotaView::event`] (e.g. a closed pipe), taken.
    pub fn take_error(&mut self) -> Option<CliError> {
        self.failed.take()
    }

    /// Shows one event of [`session::monitor`]. Output errors are kept for [`FotaView::take_error`].
    pub fn event(&mut self, out: &Out, ev: MonitorEvent<'_>) {
        let res = match ev {
            MonitorEvent::Message(m) => self.message(out, m),
            MonitorEvent::Update(u) => self.update(out, u),
        };
        if let Err(e) = res {
            self.failed.get_or_insert(e);
        }
    }

    /// Prints a line of words, above the progress bar when one is drawn.
    pub fn say(&self, out: &Out, line: &str) -> Result<(), CliError> {
        match &self.bar {
            Some(bar) => bar.suspend(|| out.say(line)),
            None => out.say(line),
        }
    }

    /// Shows a notification: registration and reboots in words (FOTA lines are shown through
    /// their tracker updates); in JSON every notification as a `notification` event with the
    /// fields of `decode --json`.
    pub fn message(&mut self, out: &Out, msg: &Message) -> Result<(), CliError> {
        if let Message::Fota(n) = msg {
            self.last_fota = Some(n.clone());
            if let Some(p) = n.progress.filter(|p| *p > 100) {
                if !self.json {
                    self.say(
                        out,
                        &format!(
                            "          !  download {}; ignored",
                            ryz014_core::fota::progress_over_100_text(p)
                        ),
                    )?;
                }
            }
        }
        if self.json {
            let mut v = decode_record(0, msg);
            if let Value::Object(map) = &mut v {
                map.remove("line");
                map.insert("event".into(), json!("notification"));
            }
            return out.event(&v);
        }
        match msg {
            Message::Registration(_) | Message::DmStatus(_) => {
                self.say(out, &format!("registration: {}", explain(msg)))
            }
            Message::Boot { event } => {
                let text = match event {
                    BootEvent::Shutdown => "the modem shuts down (reboot)",
                    BootEvent::Sysstart => "the modem has booted",
                };
                self.say(out, text)
            }
            Message::Crash { report } => self.say(
                out,
                &format!("the modem crashed and restarts (^EXIT: {report}); +SYSSTART follows"),
            ),
            Message::Fota(_) | Message::Firmware(_) => Ok(()),
            other => {
                out.debug(2, &format!("notification: {}", explain(other)));
                Ok(())
            }
        }
    }

    /// Shows what one notification changed in the tracker: the progress bar or a progress line,
    /// the phase in words when it changes, the power warning, a failure's cause and advice.
    pub fn update(&mut self, out: &Out, u: &FotaUpdate) -> Result<(), CliError> {
        let failure = match (u.phase, &self.last_fota) {
            (FotaPhase::Failed, Some(n)) => n.cause.map(explain_cause),
            _ => None,
        };
        if self.json {
            let mut v = serde_json::to_value(u).unwrap_or(Value::Null);
            if let Value::Object(map) = &mut v {
                map.insert("event".into(), json!("fota"));
                if let Some(c) = &failure {
                    map.insert("cause".into(), json!(c.cause));
                    map.insert("explanation".into(), json!(c.explanation));
                    map.insert("advice".into(), json!(c.advice));
                }
            }
            return out.event(&v);
        }
        let downloading = u.phase == FotaPhase::Downloading;
        if downloading {
            if let Some(p) = u.progress.filter(|p| Some(*p) != self.shown_progress) {
                self.show_progress(out, p)?;
            }
        } else if let Some(bar) = self.bar.take() {
            if let Some(p) = u.progress {
                bar.set_position(u64::from(p));
            }
            bar.finish_and_clear();
        }
        if u.changed || !downloading {
            self.say(out, &format!("{:>11}  {}", u.phase.to_string(), u.text))?;
        }
        if u.phase == FotaPhase::Downloaded && u.progress == Some(100) && self.use_bar {
            self.say(out, "download 100 %")?;
        }
        if u.keep_powered && !self.warned_power {
            self.warned_power = true;
            self.say(
                out,
                "             keep the modem powered until the installation ends",
            )?;
        }
        if u.done {
            self.warned_power = false;
            self.shown_progress = None;
        }
        if let Some(c) = failure {
            self.say(
                out,
                &format!("             cause {}: {}", c.cause, c.explanation),
            )?;
            self.say(out, &format!("             advice: {}", c.advice))?;
        }
        Ok(())
    }

    fn show_progress(&mut self, out: &Out, p: u8) -> Result<(), CliError> {
        self.shown_progress = Some(p);
        if self.use_bar {
            let bar = self.bar.get_or_insert_with(download_bar);
            bar.set_position(u64::from(p));
            Ok(())
        } else {
            out.say(&format!("download {p:>3} %"))
        }
    }

    /// Clears the progress bar, if one is drawn.
    pub fn clear(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }

    /// Shows how the watch ended, with the versions and, for a failure, the cause and advice.
    pub fn summary(
        &mut self,
        out: &Out,
        tracker: &FotaTracker,
        end: MonitorEnd,
    ) -> Result<(), CliError> {
        self.clear();
        let result = match end {
            MonitorEnd::Installed => "installed",
            MonitorEnd::Failed => "failed",
            MonitorEnd::Idle => "idle",
            MonitorEnd::TimedOut => "timed_out",
        };
        let error = tracker.error();
        out.event(&json!({
            "event": "end",
            "result": result,
            "phase": tracker.phase(),
            "progress": tracker.progress(),
            "version_before": tracker.version_before(),
            "version_after": tracker.version_after(),
            "current_version": tracker.current_version(),
            "attempts": tracker.attempts(),
            "error": error,
        }))?;
        match end {
            MonitorEnd::Installed => {
                let after = tracker
                    .version_after()
                    .or(tracker.current_version())
                    .unwrap_or("(version not reported)");
                match tracker.version_before() {
                    Some(b) if b != after => {
                        out.say(&format!("installed: firmware {after} (was {b})"))
                    }
                    _ => out.say(&format!("installed: firmware {after}")),
                }
            }
            MonitorEnd::Failed => {
                let text = match error {
                    Some(c) => format!(
                        "failed: cause {}: {}\nadvice: {}",
                        c.cause, c.explanation, c.advice
                    ),
                    None => "failed".to_string(),
                };
                out.say(&text)?;
                if let Some(v) = tracker.current_version() {
                    out.say(&format!("the modem still runs firmware {v}"))?;
                }
                Ok(())
            }
            MonitorEnd::Idle => out.say("the FOTA client is idle"),
            MonitorEnd::TimedOut => Ok(()),
        }
    }
}
