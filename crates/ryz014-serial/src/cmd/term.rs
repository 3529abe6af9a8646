//! `ryz014 term`: an interactive AT console with decoded annotations and redacted secrets.

use crate::cli::{CliError, Out, PortArgs};

/// Runs `term`.
pub fn run(_args: &PortArgs, _out: &Out) -> Result<(), CliError> {
    Err(CliError::not_implemented("term"))
}
