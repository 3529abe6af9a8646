//! `ryz014 upgrade`: the device-initiated upgrade (`AT+SQNSUPGRADE`), with progress.
//!
//! The procedure is the core's [`session::upgrade`]: start the download from the URL, poll the
//! status, wait through the installation's reboot, read the new version. This module shows it:
//! a progress bar on a terminal (plain `download N %` lines otherwise, JSON events with
//! `--json`), the version before and after, and a failure in words (the `+CME ERROR` 528..=533
//! texts of the core).
//!
//! Limits: `--timeout` (seconds; default 3600) bounds the whole upgrade (exit 3); `--poll`
//! (seconds; default 0.5) is the status polling period.

use std::time::{Duration, Instant};

use clap::Args;
use futures::executor::block_on;
use indicatif::ProgressBar;
use ryz014_core::command::{Command, UpgradeAction};
use ryz014_core::registration::EpsStatus;
use ryz014_core::session::{self, UpgradeEvent, UpgradeOutcome};
use ryz014_core::Message;
use serde_json::json;

use crate::context::options::{parse_positive_secs, parse_secs};
use crate::context::{
    client_error, connect, CliError, Exit, Handshake, Out, PortArgs, SerialClient,
};
use crate::flows::fota_view::download_bar;

/// `upgrade`'s options.
#[derive(Debug, Clone, Args)]
#[command(after_help = "\
Examples:
  ryz014 upgrade -p /dev/ttyUSB0 --url http://192.0.2.10/LR5.4.1.1-57857.dup")]
pub struct UpgradeArgs {
    /// The port.
    #[command(flatten)]
    pub port: PortArgs,
    /// Where the modem downloads the image from: an http://, https:// or ftp:// URL (the
    /// schemes the application note allows); checked before the port is opened.
    #[arg(long, value_name = "URL")]
    pub url: String,
    /// Give up (exit 3) when the upgrade has not ended after this many seconds.
    #[arg(long, value_name = "SECS", default_value = "3600", value_parser = parse_secs)]
    pub timeout: Duration,
    /// Seconds between two status reads (`AT+SQNSUPGRADE?`).
    #[arg(long, value_name = "SECS", default_value = "0.5", value_parser = parse_positive_secs)]
    pub poll: Duration,
}

/// How long to wait for the network before starting (the modem refuses the upgrade unattached).
const ATTACH_WAIT: Duration = Duration::from_secs(60);

/// Whether a message says the modem is registered on the network.
fn attached(m: &Message) -> bool {
    matches!(m, Message::Registration(r) if EpsStatus::from_stat(r.stat).is_registered())
}

/// Waits (at most `within`) until the modem is attached: the download needs the network, and
/// the modem refuses `AT+SQNSUPGRADE` without it. Best effort: after `within` the upgrade is
/// tried anyway and the modem's answer tells.
async fn wait_attached(
    client: &mut SerialClient,
    within: Duration,
    out: &Out,
) -> Result<(), CliError> {
    let now = match client.execute(&Command::CeregRead).await {
        Ok(r) => r.lines.iter().any(attached),
        Err(e) if e.is_fatal() => return Err(client_error("reading AT+CEREG?", &e)),
        Err(_) => false,
    };
    if now || client.drain_notifications().iter().any(attached) {
        return Ok(());
    }
    out.say("waiting for the modem to attach to the network (+CEREG)")?;
    match client.wait_for("+CEREG: 1 or 5", within, attached).await {
        Ok(_) => Ok(()),
        Err(e) if e.is_fatal() => Err(client_error("waiting for the network", &e)),
        Err(_) => {
            out.debug(
                1,
                "the modem did not attach in time; trying the upgrade anyway",
            );
            Ok(())
        }
    }
}

/// Runs `upgrade`.
pub fn run(args: &UpgradeArgs, out: &Out) -> Result<(), CliError> {
    let (url, timeout, poll) = (args.url.as_str(), args.timeout, args.poll);
    // A wrong URL is bad usage (exit 2), told before any port is opened: the same constructor
    // builds the command the session sends.
    Command::upgrade(url, UpgradeAction::Start, None).map_err(|e| {
        CliError::new(
            Exit::Usage,
            format!("--url {} {} (allowed {})", e.value, e.problem, e.allowed),
        )
    })?;
    let (client, path) = connect(&args.port, out, false, Handshake::SyncNumericErrors)?;
    block_on(upgrade(client, &path, url, poll, timeout, out))
}

/// The progress display of an upgrade.
struct UpgradeView<'a> {
    out: &'a Out,
    bar: Option<ProgressBar>,
    use_bar: bool,
    last: Option<u8>,
    failed: Option<CliError>,
}

impl UpgradeView<'_> {
    fn say(&self, line: &str) -> Result<(), CliError> {
        match &self.bar {
            Some(bar) => bar.suspend(|| self.out.say(line)),
            None => self.out.say(line),
        }
    }

    fn clear(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }

    fn event(&mut self, ev: UpgradeEvent) {
        if let Err(e) = self.show(&ev) {
            self.failed.get_or_insert(e);
        }
    }

    fn show(&mut self, ev: &UpgradeEvent) -> Result<(), CliError> {
        let mut v = serde_json::to_value(ev).unwrap_or(serde_json::Value::Null);
        if let Some(map) = v.as_object_mut() {
            // `{"event": "progress", ...}` → `{"event": "upgrade", "step": "progress", ...}`.
            if let Some(step) = map.remove("event") {
                map.insert("step".into(), step);
            }
            map.insert("event".into(), json!("upgrade"));
        }
        self.out.event(&v)?;
        match ev {
            UpgradeEvent::Started => self.say("the modem accepted the upgrade; downloading"),
            UpgradeEvent::Progress { percent } => {
                self.last = Some(*percent);
                if self.use_bar {
                    let bar = self.bar.get_or_insert_with(download_bar);
                    bar.set_position(u64::from(*percent));
                    Ok(())
                } else {
                    self.out.say(&format!("download {percent:>3} %"))
                }
            }
            UpgradeEvent::Rebooting => {
                self.clear();
                self.say("installing: the modem reboots; keep it powered")
            }
            UpgradeEvent::Booted => self.say("the modem has booted"),
            UpgradeEvent::Status { raw } => self.say(&format!("upgrade status: {raw}")),
        }
    }
}

async fn upgrade(
    mut client: SerialClient,
    path: &str,
    url: &str,
    poll: Duration,
    timeout: Duration,
    out: &Out,
) -> Result<(), CliError> {
    let before = session::read_firmware(&mut client).await.ok().flatten();
    wait_attached(&mut client, ATTACH_WAIT, out).await?;
    out.event(&json!({"event": "start", "port": path, "url": url, "firmware": before}))?;
    out.say(&format!(
        "upgrading {path} (firmware {}) from {url}",
        before.as_deref().unwrap_or("unknown")
    ))?;

    let mut view = UpgradeView {
        out,
        bar: None,
        use_bar: out.bars(),
        last: None,
        failed: None,
    };
    let start = Instant::now();
    let result = session::upgrade(
        &mut client,
        url,
        poll,
        timeout,
        move || start.elapsed(),
        |ev| view.event(ev),
    )
    .await;
    view.clear();
    if let Some(e) = view.failed.take() {
        return Err(e);
    }
    let outcome = result.map_err(|e| {
        let exit = if e.is_fatal() {
            Exit::Port
        } else if e.is_timeout() {
            Exit::Timeout
        } else {
            Exit::Failed
        };
        CliError::new(exit, e.to_string())
    })?;
    match outcome {
        UpgradeOutcome::Success { version } => {
            if view.last.is_some_and(|p| p < 100) && !out.json {
                // The last poll may have come before the end of the download.
                out.say("download 100 %")?;
            }
            out.event(&json!({
                "event": "end", "result": "success",
                "version_before": before, "version_after": version,
            }))?;
            let after = version.as_deref().unwrap_or("(version not reported)");
            match &before {
                Some(b) if Some(b) != version.as_ref() => {
                    out.say(&format!("upgraded: firmware {after} (was {b})"))
                }
                _ => out.say(&format!("upgraded: firmware {after}")),
            }
        }
        UpgradeOutcome::Failed { code, text } => {
            out.event(&json!({
                "event": "end", "result": "failed", "code": code, "text": text,
                "version_before": before,
            }))?;
            let code_text = code
                .map(|c| format!(" (+CME ERROR: {c})"))
                .unwrap_or_default();
            Err(CliError::new(
                Exit::Failed,
                format!("the upgrade from {url} failed{code_text}: {text}"),
            ))
        }
        UpgradeOutcome::Cancelled => {
            out.event(&json!({"event": "end", "result": "cancelled"}))?;
            Err(CliError::new(
                Exit::Failed,
                "the upgrade was cancelled on the modem (AT+SQNSUPGRADE?: \"cancelled\")",
            ))
        }
        UpgradeOutcome::TimedOut => {
            out.event(&json!({"event": "end", "result": "timed_out", "progress": view.last}))?;
            Err(CliError::new(
                Exit::Timeout,
                format!(
                    "the upgrade did not finish within {} s (last progress: {})",
                    timeout.as_secs(),
                    view.last
                        .map(|p| format!("{p} %"))
                        .unwrap_or_else(|| "none".into())
                ),
            ))
        }
    }
}
