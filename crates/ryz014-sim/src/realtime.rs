//! Real-time driving of a [`Modem`] (native only): virtual time = real time × a scale factor.
//! The pseudo-terminal binary runs this in a plain thread loop. The pacing arithmetic is
//! [`ScaledClock`], shared with the portable [`paced`](crate::paced) modem.

use std::time::{Duration, Instant};

use crate::modem::Modem;
use crate::paced::ScaledClock;

/// A modem on a scaled real-time clock.
#[derive(Debug)]
pub struct RealTimeModem {
    modem: Modem,
    start: Instant,
    pace: ScaledClock,
}

impl RealTimeModem {
    /// Starts the clock now. `scale` > 1 runs the modem faster than real time (a 60 s hold-off
    /// takes 1 s at scale 60); values that are not finite and positive count as 1; others are clamped to 1e-6..1e9.
    pub fn new(modem: Modem, scale: f64) -> Self {
        let scale = if scale.is_finite() && scale > 0.0 {
            scale.clamp(1e-6, 1e9)
        } else {
            1.0
        };
        RealTimeModem {
            modem,
            start: Instant::now(),
            pace: ScaledClock::new(Duration::ZERO, scale),
        }
    }

    /// The virtual time now.
    pub fn now(&self) -> Duration {
        self.pace.now(self.start.elapsed())
    }

    /// Bytes from the host, now.
    pub fn receive(&mut self, bytes: &[u8]) {
        let now = self.now();
        self.modem.receive(now, bytes);
    }

    /// Runs what is due and returns what the modem sent.
    pub fn poll_output(&mut self) -> Vec<u8> {
        let now = self.now();
        self.modem.advance(now);
        self.modem.take_output()
    }

    /// Real time until the modem's next event (`None`: nothing scheduled).
    pub fn real_time_until_next(&self) -> Option<Duration> {
        let next = self.modem.next_deadline()?;
        let left = next.saturating_sub(self.now());
        Some(self.pace.real_for(left).unwrap_or(Duration::MAX))
    }

    /// The modem (server side, snapshot, ...).
    pub fn modem(&self) -> &Modem {
        &self.modem
    }

    /// The modem, mutably. Pass [`RealTimeModem::now`] to its time-taking methods.
    pub fn modem_mut(&mut self) -> &mut Modem {
        &mut self.modem
    }
}
