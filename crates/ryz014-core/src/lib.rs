//! `ryz014-core`: everything about talking to a Renesas RYZ014 (Sequans Monarch) LTE-M modem that does
//! not need I/O: typed AT commands with validated parameters, a streaming framer and `nom` parsers for
//! responses and notifications, the FOTA and registration models, provisioning profiles and plans, and
//! one async modem client over `futures::io::{AsyncRead, AsyncWrite}` that every transport shares.
//!
//! The crate makes no OS calls besides the random source used for PSK generation (`getrandom`, which
//! also works in the browser) and builds for `wasm32-unknown-unknown`.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod client;
pub mod command;
pub mod describe;
pub mod export;
pub mod fota;
pub mod framer;
pub mod imei;
pub mod message;
pub mod parse;
pub mod provision;
pub mod psk;
pub mod redact;
pub mod registration;
pub mod session;
pub mod timer;

pub use message::Message;

#[cfg(all(test, target_arch = "wasm32"))]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);
