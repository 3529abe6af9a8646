//! The CLI's error type and exit codes, and how the library's and the core's errors map to them.
//!
//! Exit codes: 0 success; 1 the modem refused or the operation failed; 2 bad usage, a bad
//! profile or a wrong file (told before any port is opened); 3 no answer in time; 4 the port
//! could not be opened or vanished.

use std::fmt;
use std::io;

use ryz014_core::client::ClientError;
use ryz014_core::session::{FailureKind, SessionError};
use ryz014_serial::inventory::InventoryError;
use ryz014_serial::ports::SelectError;
use ryz014_serial::transport::TransportError;

/// The process exit codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// The modem refused or the operation failed.
    Failed = 1,
    /// Bad usage or a bad profile.
    Usage = 2,
    /// No answer in time.
    Timeout = 3,
    /// The port could not be opened or vanished.
    Port = 4,
}

/// A failure with its exit code. The message never holds a secret.
#[derive(Debug)]
pub struct CliError {
    /// The exit code.
    pub exit: Exit,
    /// What went wrong, in words.
    pub message: String,
    /// Say nothing (standard output was closed by the reader).
    pub quiet: bool,
}

impl CliError {
    /// An error with this exit code.
    pub fn new(exit: Exit, message: impl Into<String>) -> Self {
        CliError {
            exit,
            message: message.into(),
            quiet: false,
        }
    }

    /// Writing the output failed: exit 1, and nothing said when the reader closed the pipe.
    pub fn output(e: &io::Error) -> Self {
        CliError {
            exit: Exit::Failed,
            quiet: e.kind() == io::ErrorKind::BrokenPipe,
            message: format!("cannot write the output: {e}"),
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<InventoryError> for CliError {
    fn from(e: InventoryError) -> Self {
        let exit = match &e {
            InventoryError::Missing(_)
            | InventoryError::Inaccessible { .. }
            | InventoryError::NotAFile { .. }
            | InventoryError::NotAnInventory(_)
            | InventoryError::SchemaTooNew { .. }
            | InventoryError::BadOutput { .. }
            | InventoryError::BadField { .. }
            | InventoryError::Seal { .. }
            | InventoryError::SealedExport { .. }
            | InventoryError::Identity { .. }
            | InventoryError::Unseal { .. } => Exit::Usage,
            _ => Exit::Failed,
        };
        CliError::new(exit, e.to_string())
    }
}

impl From<TransportError> for CliError {
    fn from(e: TransportError) -> Self {
        let exit = match &e {
            TransportError::Open { .. }
            | TransportError::Io { .. }
            | TransportError::Connect { .. }
            | TransportError::Rfc2217 { .. } => Exit::Port,
            TransportError::NoAnswer { .. } | TransportError::NoAnswerRemote { .. } => {
                Exit::Timeout
            }
            TransportError::BadBaud { .. } | TransportError::BadAddress(_) => Exit::Usage,
        };
        CliError::new(exit, e.to_string())
    }
}

impl From<SelectError> for CliError {
    fn from(e: SelectError) -> Self {
        let exit = match &e {
            SelectError::NoCandidate(_) => Exit::Port,
            SelectError::Ambiguous(_) => Exit::Usage,
        };
        CliError::new(exit, e.to_string())
    }
}

/// A client error during `step`, as a CLI error with the right exit code: 3 for no answer in
/// time, 4 for a port that closed or failed, 1 for a refusal or an unexpected reset.
pub fn client_error(step: &str, e: &ClientError) -> CliError {
    let exit = match e {
        ClientError::Timeout { .. } => Exit::Timeout,
        ClientError::Closed | ClientError::Io(_) => Exit::Port,
        ClientError::Refused { .. }
        | ClientError::Rebooted { .. }
        | ClientError::Crashed { .. } => Exit::Failed,
    };
    CliError::new(exit, format!("{step}: {e}"))
}

/// A failed procedure as a CLI error: 3 for no answer in time, 4 for a port that closed, 1 for a
/// refusal, a reset, a mismatch or an unusable answer. The message names the step and the answer.
pub fn session_error(e: &SessionError) -> CliError {
    let exit = match &e.kind {
        FailureKind::Client(ClientError::Timeout { .. }) => Exit::Timeout,
        FailureKind::Client(ClientError::Closed | ClientError::Io(_)) => Exit::Port,
        _ => Exit::Failed,
    };
    CliError::new(exit, e.to_string())
}
