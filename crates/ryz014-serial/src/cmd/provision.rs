//! `ryz014 provision`: profile → plan → inventory (pending) → modem → read-back → verified.

use crate::cli::{CliError, Out, ProvisionArgs};

/// Runs `provision`.
pub fn run(_args: &ProvisionArgs, _out: &Out) -> Result<(), CliError> {
    Err(CliError::not_implemented("provision"))
}
