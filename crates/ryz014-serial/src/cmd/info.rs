//! `ryz014 info`: IMEI, firmware, operator mode, FOTA and DM configuration, registration status.

use crate::cli::{CliError, Out, PortArgs};

/// Runs `info`.
pub fn run(_args: &PortArgs, _out: &Out) -> Result<(), CliError> {
    Err(CliError::not_implemented("info"))
}
