//! Watching a FOTA upgrade: folds the modem's notifications into a [`FotaTracker`] until the
//! upgrade ends ([`monitor`]).

use std::time::Duration;

use futures::io::{AsyncRead, AsyncWrite};
use serde::Serialize;

use super::SessionError;
use crate::client::Client;
use crate::command::Command;
use crate::fota::{FotaPhase, FotaTracker, FotaUpdate};
use crate::message::{FotaKeyword, Message};

/// How long [`monitor`] waits, after `+SQNFOTA: 8`, for the `"installed","<version>"` line.
const INSTALLED_LINE_WAIT: Duration = Duration::from_secs(5);

/// When [`monitor`] stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Until {
    /// The new firmware is installed (a failure ends the watch too, as failed).
    Installed,
    /// The FOTA client reports idle (`+SQNFOTA: 3`), or an upgrade ended.
    Idle,
    /// An upgrade failed (an installation also ends the watch, as installed).
    Failed,
    /// An upgrade ended, either way.
    Done,
}

/// How [`monitor`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MonitorEnd {
    /// The new firmware is installed.
    Installed,
    /// The upgrade failed (the tracker holds the cause and the advice).
    Failed,
    /// The FOTA client is idle (only with [`Until::Idle`]).
    Idle,
    /// Nothing conclusive within the timeout.
    TimedOut,
}

/// What [`monitor`] reports as it goes.
#[derive(Debug)]
pub enum MonitorEvent<'a> {
    /// A notification from the modem (also the `ATI1` lines read after an installation).
    Message(&'a Message),
    /// What that notification changed in the tracker.
    Update(&'a FotaUpdate),
}

/// Watches the modem's notifications, folding them into `tracker` (timestamps from `now`), and
/// calls `on` for each, until `until` is met or `timeout` passes. Reboots during the
/// installation are part of the watch. After an installation whose version is not known yet,
/// it reads `ATI1` (note §4.5.3). A closed port ends it with a fatal error: re-open and call again
/// with the same tracker.
pub async fn monitor<R, W>(
    c: &mut Client<R, W>,
    tracker: &mut FotaTracker,
    mut now: impl FnMut() -> Duration,
    until: Until,
    timeout: Duration,
    mut on: impl FnMut(MonitorEvent<'_>),
) -> Result<MonitorEnd, SessionError>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let start = now();
    loop {
        let elapsed = now().saturating_sub(start);
        let Some(left) = timeout.checked_sub(elapsed).filter(|d| !d.is_zero()) else {
            return Ok(MonitorEnd::TimedOut);
        };
        let msg = c
            .next_notification(left)
            .await
            .map_err(|e| SessionError::client("monitor", "watch the FOTA notifications", e))?;
        let Some(msg) = msg else {
            return Ok(MonitorEnd::TimedOut);
        };
        on(MonitorEvent::Message(&msg));
        let Some(update) = tracker.apply(now(), &msg) else {
            continue;
        };
        on(MonitorEvent::Update(&update));
        let end = match (update.phase, until) {
            (FotaPhase::Installed, _) => Some(MonitorEnd::Installed),
            (FotaPhase::Failed, _) => Some(MonitorEnd::Failed),
            (FotaPhase::Idle, Until::Idle) => Some(MonitorEnd::Idle),
            _ => None,
        };
        let Some(end) = end else { continue };
        let numeric_installed = matches!(&msg, Message::Fota(n) if n.event.is_none());
        if end == MonitorEnd::Installed && numeric_installed {
            // `+SQNFOTA: 8` is followed by `+SQNFOTA: "installed","<version>"` (§4.5.2): take it
            // now, so that it is not left queued to end the next watch.
            let installed = c
                .wait_for(
                    "+SQNFOTA: \"installed\"",
                    INSTALLED_LINE_WAIT,
                    |m| matches!(m, Message::Fota(n) if n.event == Some(FotaKeyword::Installed)),
                )
                .await;
            if let Ok(m) = installed {
                on(MonitorEvent::Message(&m));
                if let Some(u) = tracker.apply(now(), &m) {
                    on(MonitorEvent::Update(&u));
                }
            }
        }
        if end == MonitorEnd::Installed && tracker.version_after().is_none() {
            // The version is shown by ATI1 once the modem is up (§4.5.3); best effort.
            if let Ok(r) = c.execute(&Command::Ati1).await {
                // Notifications that came meanwhile (`"installed","<version>"`) belong to this
                // watch: fold them in too, so that none is left to end the next watch.
                let mut lines = r.lines;
                lines.extend(c.drain_notifications());
                for m in &lines {
                    on(MonitorEvent::Message(m));
                    if let Some(u) = tracker.apply(now(), m) {
                        on(MonitorEvent::Update(&u));
                    }
                }
            }
        }
        return Ok(end);
    }
}
