//! The device-initiated upgrade (`AT+SQNSUPGRADE`): starts it and follows it to the end
//! ([`upgrade`]).

use std::time::Duration;

use futures::io::{AsyncRead, AsyncWrite};
use serde::Serialize;

use super::{prepare, read_firmware, FailureKind, SessionError};
use crate::client::{Client, ClientError};
use crate::command::{Command, UpgradeAction};
use crate::fota::upgrade_error_text;
use crate::message::{BootEvent, ErrorCode, FinalResult, Message};

/// Progress of [`upgrade`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum UpgradeEvent {
    /// The modem accepted the request.
    Started,
    /// Download progress, percent.
    Progress {
        /// Percent downloaded.
        percent: u8,
    },
    /// The modem went down (`+SHUTDOWN`) to install.
    Rebooting,
    /// The modem is back (`+SYSSTART`).
    Booted,
    /// A status line the toolkit does not know, verbatim.
    Status {
        /// The text after `+SQNSUPGRADE: `.
        raw: String,
    },
}

/// How [`upgrade`] ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum UpgradeOutcome {
    /// The new firmware runs.
    Success {
        /// The new version, from the status line or `ATI1`.
        version: Option<String>,
    },
    /// The upgrade failed or was refused.
    Failed {
        /// The `+CME ERROR` code, when there is one.
        code: Option<u32>,
        /// What it means.
        text: String,
    },
    /// The upgrade was cancelled.
    Cancelled,
    /// No conclusion within the timeout.
    TimedOut,
}

/// The status in a `+SQNSUPGRADE: …` line (the simulator's wording; the real modem's values are
/// not public, so anything else is kept verbatim).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpgradeStatus {
    /// Nothing under way.
    Idle,
    /// Downloading, percent.
    Downloading(u8),
    /// Done, with the new version.
    Success(Option<String>),
    /// Failed with a code.
    Failed(Option<u32>),
    /// Cancelled.
    Cancelled,
    /// Anything else, verbatim.
    Other(String),
}

impl UpgradeStatus {
    /// Reads the text after `+SQNSUPGRADE: `.
    pub fn parse(raw: &str) -> UpgradeStatus {
        let mut fields = raw.split(',').map(|f| f.trim().trim_matches('"'));
        let word = fields.next().unwrap_or("").to_ascii_lowercase();
        let arg = fields.next().filter(|s| !s.is_empty());
        match word.as_str() {
            "idle" => UpgradeStatus::Idle,
            "downloading" => match arg.and_then(|a| a.parse::<u8>().ok()) {
                Some(p) if p <= 100 => UpgradeStatus::Downloading(p),
                _ => UpgradeStatus::Other(raw.to_string()),
            },
            "success" => UpgradeStatus::Success(arg.map(str::to_string)),
            "failed" => UpgradeStatus::Failed(arg.and_then(|a| a.parse().ok())),
            "cancelled" => UpgradeStatus::Cancelled,
            _ => UpgradeStatus::Other(raw.to_string()),
        }
    }
}

fn failure_text(code: Option<u32>) -> String {
    match code.and_then(upgrade_error_text) {
        Some(t) => t.to_string(),
        None => match code {
            Some(c) => format!("the upgrade failed (code {c})"),
            None => "the upgrade failed".to_string(),
        },
    }
}

/// Starts `AT+SQNSUPGRADE="<url>",0,5,1` and follows it: polls `AT+SQNSUPGRADE?` every `poll`,
/// waits through the modem's reboots, and reads `ATI1` at the end when the status line gave no
/// version. `now` measures `timeout`.
pub async fn upgrade<R, W>(
    c: &mut Client<R, W>,
    url: &str,
    poll: Duration,
    timeout: Duration,
    mut now: impl FnMut() -> Duration,
    mut on: impl FnMut(UpgradeEvent),
) -> Result<UpgradeOutcome, SessionError>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    const STEP: &str = "upgrade";
    let cmd = Command::upgrade(url, UpgradeAction::Start, None).map_err(|e| SessionError {
        step: STEP.into(),
        description: "start the device-initiated upgrade (AT+SQNSUPGRADE)".into(),
        kind: FailureKind::Invalid(e.to_string()),
        recovery: None,
    })?;
    let description = format!("start the device-initiated upgrade ({})", cmd.redacted());
    prepare(c).await?;
    match c.execute(&cmd).await {
        Ok(_) => on(UpgradeEvent::Started),
        Err(ClientError::Refused { result, .. }) => {
            let code = match result {
                FinalResult::CmeError(ErrorCode::Number(n)) => Some(n),
                _ => None,
            };
            return Ok(UpgradeOutcome::Failed {
                code,
                text: failure_text(code),
            });
        }
        Err(e) => return Err(SessionError::client(STEP, description, e)),
    }
    let start = now();
    let mut last_pct = None;
    loop {
        let left = timeout.saturating_sub(now().saturating_sub(start));
        if left.is_zero() {
            return Ok(UpgradeOutcome::TimedOut);
        }
        // Wait `poll` for notifications (reboots), then ask.
        let mut waited = Duration::ZERO;
        while waited < poll.min(left) {
            let before = now();
            let msg = c
                .next_notification(poll.min(left) - waited)
                .await
                .map_err(|e| SessionError::client(STEP, "follow the upgrade", e))?;
            waited += now().saturating_sub(before).max(Duration::from_millis(1));
            match msg {
                None => break,
                Some(Message::Boot {
                    event: BootEvent::Shutdown,
                }) => on(UpgradeEvent::Rebooting),
                Some(Message::Boot {
                    event: BootEvent::Sysstart,
                }) => {
                    on(UpgradeEvent::Booted);
                    let _ = prepare(c).await;
                }
                Some(_) => {}
            }
        }
        let r = match c.execute(&Command::UpgradeRead).await {
            Ok(r) => r,
            Err(e) if e.is_fatal() => {
                return Err(SessionError::client(STEP, "read the upgrade status", e))
            }
            // Rebooting or busy: ask again at the next poll.
            Err(_) => continue,
        };
        let raw = r.lines.iter().find_map(|m| match m {
            Message::Upgrade { raw } => Some(raw.clone()),
            _ => None,
        });
        let Some(raw) = raw else { continue };
        match UpgradeStatus::parse(&raw) {
            UpgradeStatus::Idle => {}
            UpgradeStatus::Downloading(p) => {
                if last_pct != Some(p) {
                    last_pct = Some(p);
                    on(UpgradeEvent::Progress { percent: p });
                }
            }
            UpgradeStatus::Success(version) => {
                let version = match version {
                    Some(v) => Some(v),
                    None => read_firmware(c).await.ok().flatten(),
                };
                return Ok(UpgradeOutcome::Success { version });
            }
            UpgradeStatus::Failed(code) => {
                return Ok(UpgradeOutcome::Failed {
                    code,
                    text: failure_text(code),
                })
            }
            UpgradeStatus::Cancelled => return Ok(UpgradeOutcome::Cancelled),
            UpgradeStatus::Other(raw) => on(UpgradeEvent::Status { raw }),
        }
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    #[test]
    fn upgrade_status_lines_are_read_and_unknown_ones_kept() {
        assert_eq!(UpgradeStatus::parse("\"idle\""), UpgradeStatus::Idle);
        assert_eq!(
            UpgradeStatus::parse("\"downloading\",42"),
            UpgradeStatus::Downloading(42)
        );
        assert_eq!(
            UpgradeStatus::parse("\"success\",\"5.4.1.3-61000\""),
            UpgradeStatus::Success(Some("5.4.1.3-61000".into()))
        );
        assert_eq!(
            UpgradeStatus::parse("\"failed\",529"),
            UpgradeStatus::Failed(Some(529))
        );
        assert_eq!(
            UpgradeStatus::parse("\"cancelled\""),
            UpgradeStatus::Cancelled
        );
        assert_eq!(
            UpgradeStatus::parse("\"downloading\",250"),
            UpgradeStatus::Other("\"downloading\",250".into())
        );
        assert_eq!(
            UpgradeStatus::parse("1,2,3"),
            UpgradeStatus::Other("1,2,3".into())
        );
    }

    #[test]
    fn failure_texts_name_known_codes_and_keep_unknown_ones() {
        assert!(
            failure_text(Some(529)).contains("corrupt"),
            "{}",
            failure_text(Some(529))
        );
        assert_eq!(failure_text(Some(9999)), "the upgrade failed (code 9999)");
        assert_eq!(failure_text(None), "the upgrade failed");
    }
}
