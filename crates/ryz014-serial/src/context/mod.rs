//! What every command shares, and the only thing commands import from each other's side: the
//! common options ([`options`]), the output sink ([`Out`]), the error type and exit codes
//! ([`CliError`], [`Exit`]) and the one way to reach a modem ([`connect()`]).
//!
//! A command file (`cmd/*.rs`) imports this module and [`crate::flows`], never another command.

pub mod connect;
pub mod error;
pub mod options;
pub mod out;

pub use connect::{connect, greet, log_wire, pick_port, short_port, Handshake, SerialClient};
pub use error::{client_error, session_error, CliError, Exit};
pub use options::{InventoryArg, PortArgs};
pub use out::Out;
