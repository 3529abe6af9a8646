//! `ryz014 monitor`: the live FOTA view, surviving the modem's reboots.
//!
//! The watch itself is the core's [`session::monitor`] folding notifications into a
//! [`FotaTracker`]; this module shows it through [`FotaView`] (shared with `demo`): the phase in
//! words, a download progress bar, the versions before and after, a failure's cause and advice,
//! and the registration status.
//!
//! If the port vanishes (the modem re-enumerates while it installs), the port is opened again as
//! soon as it is back and the watch goes on with the same tracker; if it does not come back in
//! time the command exits 4.
//!
//! Limits: `--timeout` (seconds; default 30 days, the longest FOTA timer) bounds the watch (exit 3
//! when it passes with nothing conclusive); `--reopen-timeout` (seconds; default 60) bounds the
//! wait for a vanished port (exit 4).

use std::time::{Duration, Instant};

use clap::{Args, ValueEnum};
use futures::executor::block_on;
use ryz014_core::fota::FotaTracker;
use ryz014_core::message::{FirmwareLine, Message};
use ryz014_core::session::{self, MonitorEnd};
use serde_json::json;

use crate::context::options::parse_secs;
use crate::context::{connect, CliError, Exit, Handshake, Out, PortArgs, SerialClient};
use crate::flows::fota_view::FotaView;

/// Pause between two attempts to open a vanished port.
const REOPEN_EVERY: Duration = Duration::from_millis(250);

/// `monitor`'s options.
#[derive(Debug, Clone, Args)]
#[command(after_help = "\
Examples:
  ryz014 monitor -p /dev/ttyUSB0
  ryz014 monitor -p /dev/ttyUSB0 --until installed --json")]
pub struct MonitorArgs {
    /// The port.
    #[command(flatten)]
    pub port: PortArgs,
    /// Stop when the upgrade gets here: exit 0 when it does, 1 when the upgrade ends the other
    /// way (e.g. `--until installed` and `+SQNFOTA: 3,8`). Without it: watch until an upgrade ends.
    #[arg(long, value_enum)]
    pub until: Option<Until>,
    /// Give up (exit 3) after this many seconds without reaching the end.
    #[arg(long, value_name = "SECS", default_value = "2592000", value_parser = parse_secs)]
    pub timeout: Duration,
    /// How long to keep trying to re-open a port that vanished (exit 4 after that).
    #[arg(long, value_name = "SECS", default_value = "60", value_parser = parse_secs)]
    pub reopen_timeout: Duration,
}

/// `--until` of `monitor`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Until {
    /// The new firmware is installed.
    Installed,
    /// The FOTA client is idle.
    Idle,
    /// The upgrade failed.
    Failed,
}

/// Runs `monitor`.
pub fn run(args: &MonitorArgs, out: &Out) -> Result<(), CliError> {
    let (client, path) = connect(&args.port, out, false, Handshake::Sync)?;
    block_on(watch(
        client,
        &path,
        &args.port,
        args.until,
        args.timeout,
        args.reopen_timeout,
        out,
    ))
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
        let again = PortArgs {
            port: Some(path.to_string()),
            ..args.clone()
        };
        let last = match connect(&again, out, false, Handshake::None) {
            Ok((c, _)) => return Ok(c),
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
