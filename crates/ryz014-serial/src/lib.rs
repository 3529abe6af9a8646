//! `ryz014-serial`: the native side of the ryz014 toolkit.
//!
//! - [`transport`]: a real serial port (baud probing, 8N1, optional RTS/CTS) as
//!   `futures::io::AsyncRead + AsyncWrite`, without an async runtime;
//! - [`net`]: network bridges (`socket://`, `rfc2217://`) as transports;
//! - [`ports`]: port listing with USB details and modem auto-selection;
//! - [`inventory`]: the SQLite provisioning inventory (durable before a secret leaves it) and its
//!   Coiote exports.
//!
//! The `ryz014` command-line tool is this crate's binary.
#![warn(missing_docs)]

pub mod inventory;
pub mod net;
pub mod ports;
pub mod transport;
