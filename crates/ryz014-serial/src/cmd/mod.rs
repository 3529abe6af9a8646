//! One module per modem-facing subcommand. Each exposes `run(..., out: &Out) -> Result<(), CliError>`;
//! [`connect`] opens a port and hands back the core's async client, shared by all of them.

#[allow(dead_code)] // until the subcommands use all of it
pub mod connect;
pub mod decode;
pub mod demo;
pub mod info;
pub mod monitor;
pub mod provision;
pub mod status;
pub mod term;
pub mod upgrade;
