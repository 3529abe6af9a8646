//! `ryz014-web`: the ryz014 web page (Yew). It provisions and monitors a Renesas RYZ014 modem from
//! the browser over Web Serial, or a simulated modem that runs in the page.
//!
//! Everything modem-related comes from `ryz014-core` (client, sessions, profiles, plans, FOTA
//! tracking, descriptions) and `ryz014-sim`; this crate only adds the browser transport, the
//! page's state ([`state`], pure and tested natively) and the user interface. The browser-only parts are compiled
//! for `wasm32` only; natively the crate is the portable logic alone.
#![warn(missing_docs)]

pub mod logic;
pub mod state;

#[cfg(target_arch = "wasm32")]
pub mod app;
#[cfg(target_arch = "wasm32")]
pub mod components;
#[cfg(target_arch = "wasm32")]
pub mod connection;
#[cfg(target_arch = "wasm32")]
pub mod serial;

/// Mounts the page on `<body>`.
#[cfg(target_arch = "wasm32")]
pub fn start() {
    yew::Renderer::<app::App>::new().render();
}
