//! `ryz014 upgrade`: the device-initiated upgrade (`AT+SQNSUPGRADE`), with progress.

use crate::cli::{CliError, Out, PortArgs};

/// Runs `upgrade`.
pub fn run(_args: &PortArgs, _url: &str, _out: &Out) -> Result<(), CliError> {
    Err(CliError::not_implemented("upgrade"))
}
