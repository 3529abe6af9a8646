//! `ryz014 status`: `AT+SQNDMST`, decoded in words.

use crate::cli::{CliError, Out, PortArgs};

/// Runs `status`.
pub fn run(_args: &PortArgs, _out: &Out) -> Result<(), CliError> {
    Err(CliError::not_implemented("status"))
}
