//! Test helpers: an [`Out`] that writes to memory, and the core's client on the in-memory
//! simulator (virtual time: waits take no real time, and the same run gives the same bytes).

use std::io::{self, Write};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use ryz014_core::client::Client;
use ryz014_core::session::ErrorMode;
use ryz014_sim::config::{Provisioning, SimConfig};
use ryz014_sim::sim::{SimHandle, SimStream};

use crate::context::Out;

/// The PSK secret of [`provisioned_sim`]: no output may hold more than its first 4 hex digits.
pub const SECRET: &str = "8749a3f2c1d0e5b6a7980123456789abcdef0123456789abcdef0123456789ab";

/// An in-memory writer whose bytes can be read back.
#[derive(Clone, Default)]
pub struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    /// An [`Out`] writing to two captured buffers: (out, stdout, stderr).
    pub fn out(json: bool, verbose: u8) -> (Out, Captured, Captured) {
        let (o, e) = (Captured::default(), Captured::default());
        (Out::to_writers(json, verbose, o.clone(), e.clone()), o, e)
    }

    /// What was written, as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(PoisonError::into_inner)).into_owned()
    }
}

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The core's client on an in-memory simulator.
pub type SimClient = Client<SimStream, SimStream>;

/// A simulated modem provisioned as in the note (secret [`SECRET`], a 1 s bootstrap hold-off),
/// up when the test starts, and the client on it.
pub fn provisioned_sim() -> (SimClient, SimHandle) {
    let mut config = SimConfig::default();
    config.server.trust_any = true;
    let mut p = Provisioning::note_example(&config.imei, SECRET, None);
    p.hold_off = 1;
    config.provisioned = Some(p);
    let (stream, timer, handle) = ryz014_sim::sim::new(config).expect("a valid configuration");
    (Client::new(stream.clone(), stream, timer), handle)
}

/// [`provisioned_sim`] once it has attached and registered with its LwM2M server (virtual time),
/// its client in step.
pub fn registered_sim() -> (SimClient, SimHandle) {
    let (mut client, handle) = provisioned_sim();
    futures::executor::block_on(async {
        crate::context::greet(&mut client, "waking the modem with AT", ErrorMode::Keep)
            .await
            .expect("the simulator answers AT");
        for _ in 0..120 {
            if let Ok(s) = ryz014_core::session::dm_status(&mut client).await {
                if s.is_registered() {
                    return;
                }
            }
            let _ = client.next_notification(Duration::from_secs(5)).await;
        }
        panic!("the simulator never registered");
    });
    (client, handle)
}

/// Panics when `text` holds the secret, or more than its first 4 hex digits.
pub fn assert_no_secret(text: &str) {
    assert!(
        !text.to_ascii_lowercase().contains(&SECRET[..5]),
        "more than 4 hex digits of the secret in:\n{text}"
    );
}
