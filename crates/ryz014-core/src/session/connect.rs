//! Getting in step with a modem that was just opened or rebooted: the one [`connect`] every front
//! end calls (`AT` until `OK` within a [`SyncBudget`], then the [`ErrorMode`] asked for), the baud
//! rates to try ([`BAUD_ORDER`], [`bauds_to_try`]) and [`prepare`], the procedures' own start.

use std::time::Duration;

use futures::io::{AsyncRead, AsyncWrite};

use super::SessionError;
use crate::client::{Client, ClientError};
use crate::command::{CmeeMode, Command};

/// The baud rates a front end tries, in order, when the user asks for none: Renesas' own driver
/// runs the RYZ014 at 921600 baud (with CTS); other Monarch drivers use 115200
/// (docs/at-interface-decisions.md, baud rate).
pub const BAUD_ORDER: [u32; 2] = [921_600, 115_200];

/// The baud rates to open a port at, in order: every rate of [`BAUD_ORDER`] when none is asked
/// for (`None`, "auto"), else only the rate asked for.
pub fn bauds_to_try(requested: Option<u32>) -> Vec<u32> {
    match requested {
        None => BAUD_ORDER.to_vec(),
        Some(b) => vec![b],
    }
}

/// How hard [`connect`] tries to get an `OK` to `AT`: at most `attempts` probes, each waiting
/// `each` for the answer. The named budgets are the ones each front end has always used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyncBudget {
    /// How many `AT` probes, at most (at least one is sent).
    pub attempts: u32,
    /// How long each probe waits for its answer.
    pub each: Duration,
}

impl SyncBudget {
    /// A budget of `attempts` probes of `each`.
    pub const fn new(attempts: u32, each: Duration) -> SyncBudget {
        SyncBudget { attempts, each }
    }

    /// 5 probes of 2 s: the procedures' own start and the wait after a reboot ([`prepare`],
    /// [`provision`](super::provision), [`upgrade`](super::upgrade)).
    pub const fn after_reboot() -> SyncBudget {
        SyncBudget::new(5, Duration::from_secs(2))
    }

    /// 5 probes of 700 ms: the CLI, once its port is open (the port itself probes the baud rate).
    pub const fn cli() -> SyncBudget {
        SyncBudget::new(5, Duration::from_millis(700))
    }

    /// 3 probes of 800 ms: the web page on a serial port, at each baud rate it tries.
    pub const fn page_serial() -> SyncBudget {
        SyncBudget::new(3, Duration::from_millis(800))
    }

    /// 3 probes of 2 s: the web page on its built-in simulated modem.
    pub const fn page_simulator() -> SyncBudget {
        SyncBudget::new(3, Duration::from_secs(2))
    }
}

/// What [`connect`] does about the modem's error reports (`AT+CMEE`) once it answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorMode {
    /// Leave `AT+CMEE` as the modem has it (read-only commands;
    /// [`provision`](super::provision) reads the mode itself and puts it back).
    Keep,
    /// Ask for numeric `+CME ERROR: <n>` codes (`AT+CMEE=1`); any failure fails [`connect`].
    Numeric,
    /// Ask for numeric codes (`AT+CMEE=1`), but only a closed or failed port fails [`connect`]: a
    /// refusal or no answer leaves the modem's own mode.
    NumericBestEffort,
}

/// Why [`connect`] failed.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The modem did not answer `AT` with `OK` within the budget.
    #[error("no answer to AT: {0}")]
    NoAnswer(#[source] ClientError),
    /// Asking for numeric error codes (`AT+CMEE=1`) failed.
    #[error("AT+CMEE=1 failed: {0}")]
    ErrorMode(#[source] ClientError),
}

impl ConnectError {
    /// The client error behind the failure (its kind tells a timeout from a closed port).
    pub fn client_error(&self) -> &ClientError {
        match self {
            ConnectError::NoAnswer(e) | ConnectError::ErrorMode(e) => e,
        }
    }

    /// The client error behind the failure, by value.
    pub fn into_client_error(self) -> ClientError {
        match self {
            ConnectError::NoAnswer(e) | ConnectError::ErrorMode(e) => e,
        }
    }

    /// The step's stable name in a [`SessionError`]: `sync` or `cmee`.
    pub fn step(&self) -> &'static str {
        match self {
            ConnectError::NoAnswer(_) => "sync",
            ConnectError::ErrorMode(_) => "cmee",
        }
    }

    /// What the step does, as a [`SessionError`] describes it.
    pub fn description(&self) -> &'static str {
        match self {
            ConnectError::NoAnswer(_) => "get in step with the modem (AT)",
            ConnectError::ErrorMode(_) => "ask for numeric error codes (AT+CMEE=1)",
        }
    }

    /// True when the connection is gone (port closed or failed).
    pub fn is_fatal(&self) -> bool {
        self.client_error().is_fatal()
    }
}

impl From<ConnectError> for SessionError {
    fn from(e: ConnectError) -> SessionError {
        let (step, description) = (e.step(), e.description());
        SessionError::client(step, description, e.into_client_error())
    }
}

/// Gets in step with the modem on an open port: `AT` until `OK` (at most `budget.attempts`
/// probes of `budget.each`), then what `errors` asks for. Every front end calls this after
/// opening a port (at each baud rate of [`bauds_to_try`] it tries); a closed port fails at once.
pub async fn connect<R, W>(
    c: &mut Client<R, W>,
    budget: SyncBudget,
    errors: ErrorMode,
) -> Result<(), ConnectError>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    c.sync(budget.attempts, budget.each)
        .await
        .map_err(ConnectError::NoAnswer)?;
    match errors {
        ErrorMode::Keep => {}
        ErrorMode::Numeric => {
            c.execute(&Command::Cmee(CmeeMode::Numeric))
                .await
                .map_err(ConnectError::ErrorMode)?;
        }
        ErrorMode::NumericBestEffort => match c.execute(&Command::Cmee(CmeeMode::Numeric)).await {
            Err(e) if e.is_fatal() => return Err(ConnectError::ErrorMode(e)),
            _ => {}
        },
    }
    Ok(())
}

/// Gets in step with the modem (`AT` until `OK`) and asks for numeric `+CME ERROR: <n>` codes
/// (`AT+CMEE=1`), so that a refusal says why. [`provision`](super::provision) and
/// [`upgrade`](super::upgrade) start with it; call it after opening a port.
///
/// The same as [`connect`] with [`SyncBudget::after_reboot`] and [`ErrorMode::Numeric`], its
/// failure as a [`SessionError`] (step `sync` or `cmee`).
pub async fn prepare<R, W>(c: &mut Client<R, W>) -> Result<(), SessionError>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    connect(c, SyncBudget::after_reboot(), ErrorMode::Numeric)
        .await
        .map_err(SessionError::from)
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    #[test]
    fn auto_tries_921600_then_115200_and_a_rate_asked_for_alone() {
        assert_eq!(bauds_to_try(None), vec![921_600, 115_200]);
        assert_eq!(bauds_to_try(Some(115_200)), vec![115_200]);
        assert_eq!(bauds_to_try(Some(921_600)), vec![921_600]);
    }

    #[test]
    fn the_named_budgets_are_the_front_ends_own() {
        assert_eq!(
            SyncBudget::after_reboot(),
            SyncBudget::new(5, Duration::from_secs(2))
        );
        assert_eq!(
            SyncBudget::cli(),
            SyncBudget::new(5, Duration::from_millis(700))
        );
        assert_eq!(
            SyncBudget::page_serial(),
            SyncBudget::new(3, Duration::from_millis(800))
        );
        assert_eq!(
            SyncBudget::page_simulator(),
            SyncBudget::new(3, Duration::from_secs(2))
        );
    }

    #[test]
    fn a_connect_error_becomes_the_session_error_prepare_always_gave() {
        let e = ConnectError::NoAnswer(ClientError::Closed);
        assert!(e.is_fatal());
        let s = SessionError::from(e);
        assert_eq!(s.step, "sync");
        assert_eq!(s.description, "get in step with the modem (AT)");
        let s = SessionError::from(ConnectError::ErrorMode(ClientError::Closed));
        assert_eq!(s.step, "cmee");
        assert_eq!(s.description, "ask for numeric error codes (AT+CMEE=1)");
    }
}
