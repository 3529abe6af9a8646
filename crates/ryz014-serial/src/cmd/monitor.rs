//! `ryz014 monitor`: the live FOTA view, surviving the modem's reboots.
//!
//! The watch itself is the core's [`session::monitor`] folding notifications into a
//! [`FotaTracker`]; this module shows it: the phase in words, a download progress bar (indicatif
//! on a terminal, one plain line per step otherwise, JSON events with `--json`), the versions
//! before and after, a failure's cause with the core's advice ([`explain_cause`]), and the
//! registration status. [`FotaView`] is the display, reusable by other commands (`demo`).
//!
//! If the port vanishes (the modem re-enumerates while it installs), the port is opened again as
//! soon as it is back and the watch goes on with the same tracker; if it does not come back in
//! time the command exits 4.
//!
//! Limits: `--timeout` (seconds; default 30 days, the longest FOTA timer) bounds the watch (exit 3
//! when it passes with nothing conclusive); `--reopen-timeout` (seconds; default 60) bounds the
//! wait for a vanished port (exit 4).

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use futures::executor::block_on;
use indicatif::{ProgressBar, ProgressStyle};
use ryz014_core::describe::{decode_record, explain};
use ryz014_core::fota::{explain_cause, FotaPhase, FotaTracker, FotaUpdate};
use ryz014_core::message::{BootEvent, FirmwareLine, FotaNotification, Message};
use ryz014_core::session::{self, MonitorEnd, MonitorEvent};
use serde_json::{json, Value};

use crate::cli::{CliError, Exit, Out, PortArgs, Until};
use crate::cmd::connect::{self, SerialClient};

/// Pause between two attempts to open a vanished port.
const REOPEN_EVERY: Duration = Duration::from_millis(250);

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
            use_bar: !out.json && std::io::stderr().is_terminal(),
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
            let bar = self.bar.get_or_insert_with(|| {
                let bar = ProgressBar::new(100);
                if let Ok(style) =
                    ProgressStyle::with_template("download [{bar:40.cyan/blue}] {pos:>3} %")
                {
                    bar.set_style(style.progress_chars("=> "));
                }
                bar
            });
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

/// Runs `monitor`.
pub fn run(
    args: &PortArgs,
    until: Option<Until>,
    timeout: Duration,
    reopen: Duration,
    out: &Out,
) -> Result<(), CliError> {
    let (client, path) = connect::open_client(args, out)?;
    block_on(watch(client, &path, args, until, timeout, reopen, out))
}

fn session_until(until: Option<Until>) -> session::Until {
    match until {
        Some(Until::Installed) => session::Until::Installed,
        Some(Until::Idle) => session::Until::Idle,
        Some(Until::Failed) => session::Until::Failed,
        None => session::Until::Done,
    }
}

/// The exit for how a watch with `--until` ended: 0 when the awaited point was reached, 1 when
/// the upgrade ended the other way.
fn verdict(until: Until, end: MonitorEnd) -> Result<(), CliError> {
    match (until, end) {
        (Until::Installed, MonitorEnd::Installed)
        | (Until::Failed, MonitorEnd::Failed)
        | (Until::Idle, MonitorEnd::Idle | MonitorEnd::Installed) => Ok(()),
        (_, MonitorEnd::Failed) => Err(CliError::new(
            Exit::Failed,
            "the upgrade failed (see the cause and advice above)",
        )),
        (_, MonitorEnd::Installed) => Err(CliError::new(
            Exit::Failed,
            "the upgrade was installed; it did not fail",
        )),
        (_, MonitorEnd::Idle) => Err(CliError::new(Exit::Failed, "the FOTA client is idle")),
        (_, MonitorEnd::TimedOut) => Err(CliError::new(
            Exit::Timeout,
            "nothing conclusive before the monitor timeout",
        )),
    }
}

async fn watch(
    mut client: SerialClient,
    path: &str,
    args: &PortArgs,
    until: Option<Until>,
    timeout: Duration,
    reopen: Duration,
    out: &Out,
) -> Result<(), CliError> {
    let start = Instant::now();
    let now = move || start.elapsed();
    let mut tracker = FotaTracker::new();
    let mut view = FotaView::new(out);

    connect::sync(&mut client).await?;
    let firmware = session::read_firmware(&mut client).await.ok().flatten();
    if let Some(v) = &firmware {
        let line = Message::Firmware(FirmwareLine::Lr(v.clone()));
        tracker.apply(now(), &line);
    }
    let registration = session::dm_status(&mut client).await;
    let reg_text = match &registration {
        Ok(r) => r.summary(),
        Err(e) => format!("unknown ({e})"),
    };
    let until_name = until.map(|u| match u {
        Until::Installed => "installed",
        Until::Idle => "idle",
        Until::Failed => "failed",
    });
    out.event(&json!({
        "event": "start",
        "port": path,
        "firmware": firmware,
        "registration": reg_text,
        "until": until_name,
    }))?;
    out.say(&format!(
        "monitoring {path}: firmware {}; registration: {reg_text}",
        firmware.as_deref().unwrap_or("unknown")
    ))?;
    match until_name {
        Some(u) => out.say(&format!("waiting until the upgrade is {u} (Ctrl-C stops)"))?,
        None => out.say("watching FOTA notifications (Ctrl-C stops)")?,
    }

    loop {
        let left = timeout.saturating_sub(start.elapsed());
        let result = session::monitor(
            &mut client,
            &mut tracker,
            now,
            session_until(until),
            left,
            |ev| view.event(out, ev),
        )
        .await;
        if let Some(e) = view.take_error() {
            return Err(e);
        }
        match result {
            Ok(MonitorEnd::TimedOut) => {
                view.summary(out, &tracker, MonitorEnd::TimedOut)?;
                let what = match until_name {
                    Some(u) => format!("the upgrade was not {u}"),
                    None => "the watch ended".to_string(),
                };
                return Err(CliError::new(
                    Exit::Timeout,
                    format!(
                        "{what} within {} s (phase: {})",
                        timeout.as_secs(),
                        tracker.phase()
                    ),
                ));
            }
            Ok(end) => {
                view.summary(out, &tracker, end)?;
                match until {
                    Some(u) => return verdict(u, end),
                    // Without --until: keep watching for the next upgrade.
                    None => continue,
                }
            }
            Err(e) if e.is_fatal() => {
                view.clear();
                drop(client);
                out.event(&json!({"event": "port_lost", "port": path, "message": e.to_string()}))?;
                out.say(&format!(
                    "the port {path} vanished ({e}); waiting up to {} s for it to come back",
                    reopen.as_secs()
                ))?;
                client = reopen_port(path, args, reopen, out)?;
                out.event(&json!({"event": "port_reopened", "port": path}))?;
                out.say(&format!("{path} is back; watching again"))?;
            }
            Err(e) => {
                let exit = if e.is_timeout() {
                    Exit::Timeout
                } else {
                    Exit::Failed
                };
                return Err(CliError::new(exit, e.to_string()));
            }
        }
    }
}

/// Opens `path` again, retrying until it is back or `within` has passed (exit 4).
fn reopen_port(
    path: &str,
    args: &PortArgs,
    within: Duration,
    out: &Out,
) -> Result<SerialClient, CliError> {
    let deadline = Instant::now() + within;
    loop {
        let last = match connect::open_path(path, args.baud, args.rtscts, out) {
            Ok(c) => return Ok(c),
            Err(e) => e.message,
        };
        out.debug(1, &format!("re-opening {path}: {last}"));
        if Instant::now() >= deadline {
            return Err(CliError::new(
                Exit::Port,
                format!(
                    "the port {path} vanished and did not come back within {} s (last attempt: {last})",
                    within.as_secs(),
                ),
            ));
        }
        std::thread::sleep(REOPEN_EVERY);
    }
}
