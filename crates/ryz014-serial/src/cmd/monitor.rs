//! `ryz014 monitor`: the live FOTA view, surviving the modem's reboots.

use crate::cli::{CliError, Out, PortArgs, Until};

/// Runs `monitor`.
pub fn run(_args: &PortArgs, _until: Option<Until>, _out: &Out) -> Result<(), CliError> {
    Err(CliError::not_implemented("monitor"))
}
