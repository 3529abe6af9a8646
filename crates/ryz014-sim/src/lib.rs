//! `ryz014-sim`: a behavioural simulator of the Renesas RYZ014 (Sequans Monarch) modem's AT
//! interface, as the application note AN0214EU0100 describes it, with the LwM2M/FOTA server side
//! (the role AVSystem Coiote plays) and fault injection.
//!
//! Two layers:
//! - [`Modem`]: a pure, deterministic state machine (no I/O, no real time; builds for wasm32).
//! - [`sim::new`]: a virtual clock and an in-memory duplex stream ([`SimStream`]:
//!   `futures::io::{AsyncRead, AsyncWrite}`), a [`SimTimer`] implementing
//!   [`ryz014_core::timer::Timer`], and a [`SimHandle`] for the server side and bench actions.
//!
//! - [`paced::new`]: the modem on a real clock times a speed factor ([`PacedPort`],
//!   [`PacedHandle`]), portable (the clock and the timer are handed in): the web page's
//!   simulated modem and `ryz014 demo`.
//!
//! Natively, [`realtime::RealTimeModem`] runs the modem on a scaled real clock (the same
//! [`paced::ScaledClock`]); the `ryz014-sim` binary serves it on a pseudo-terminal.
#![warn(missing_docs)]

pub mod at;
pub mod commands;
pub mod config;
pub mod fault;
mod fota;
mod lwm2m;
pub mod modem;
pub mod nv;
pub mod paced;
#[cfg(not(target_arch = "wasm32"))]
pub mod realtime;
pub mod server;
pub mod sim;

pub use config::{ConfigError, NetworkInfo, Provisioning, SimConfig, Timings};
pub use fault::{Fault, FaultParseError};
pub use modem::Modem;
pub use nv::Snapshot;
pub use paced::{PacedHandle, PacedPort};
pub use server::{
    DeviceStatus, DmServerSpec, FirmwareImage, QueryRetry, ServerConfig, ServerError, UpgradeStatus,
};
pub use sim::{SimHandle, SimStream, SimTimer};
