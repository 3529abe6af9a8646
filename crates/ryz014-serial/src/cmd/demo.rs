//! `ryz014 demo`: provisions the in-process simulator and monitors an upgrade to `installed`.

use crate::cli::{CliError, Out};

/// Runs `demo`.
pub fn run(_out: &Out) -> Result<(), CliError> {
    Err(CliError::not_implemented("demo"))
}
