//! The simulated modem on a real clock, for the page: `ryz014-sim`'s [`Modem`] state machine
//! paced by real time times a speed factor (the simulator's own [`ryz014_sim::sim`] runs on
//! virtual time, which jumps straight to the next event: right for tests, too fast for a person
//! to watch). [`SimPort`] is the serial line (`futures::io::{AsyncRead, AsyncWrite}`) the core's
//! client drives; [`SimControl`] is the server side ("Schedule upgrade") and the bench.
//!
//! Portable: the real clock is handed in (`performance.now()` in the browser), and waits use
//! `futures-timer` (`setTimeout` in the browser).

use std::cell::RefCell;
use std::io;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use futures::io::{AsyncRead, AsyncWrite};
use futures::Future;
use ryz014_sim::{ConfigError, DeviceStatus, FirmwareImage, Modem, ServerError, SimConfig};

/// A source of real time (monotonic, any origin).
pub type RealClock = Rc<dyn Fn() -> Duration>;

/// The longest a read sleeps before looking at the modem again (keeps a speed change or a
/// server action prompt even when nothing is scheduled).
const MAX_NAP: Duration = Duration::from_millis(100);

struct Inner {
    modem: Modem,
    clock: RealClock,
    /// Real time and virtual time at the last speed change.
    anchor_real: Duration,
    anchor_virtual: Duration,
    speed: f64,
    out: Vec<u8>,
    reader: Option<Waker>,
    closed: bool,
}

impl Inner {
    fn now(&self) -> Duration {
        let real = (self.clock)().saturating_sub(self.anchor_real);
        let add =
            Duration::try_from_secs_f64(real.as_secs_f64() * self.speed).unwrap_or(Duration::MAX);
        self.anchor_virtual.saturating_add(add)
    }

    fn pull(&mut self) {
        let now = self.now();
        self.modem.advance(now);
        let o = self.modem.take_output();
        self.out.extend(o);
    }

    /// Real time until the modem's next event, capped at [`MAX_NAP`].
    fn nap(&self) -> Duration {
        let now = self.now();
        match self.modem.next_deadline() {
            Some(d) => {
                let left = d.saturating_sub(now).as_secs_f64() / self.speed;
                Duration::try_from_secs_f64(left)
                    .unwrap_or(MAX_NAP)
                    .clamp(Duration::from_millis(1), MAX_NAP)
            }
            None => MAX_NAP,
        }
    }

    fn wake_reader(&mut self) -> Option<Waker> {
        self.reader.take()
    }
}

/// The simulated modem of the page: the simulator's defaults (the note's IMEI and firmware,
/// factory NV state), with a slower download (8 kbit/s: the note's 35 kB image takes about 35 s
/// of virtual time) so that its progress can be watched.
pub fn page_config() -> SimConfig {
    SimConfig {
        download_bps: 8_000,
        ..SimConfig::default()
    }
}

fn clamp_speed(speed: f64) -> f64 {
    if speed.is_finite() && speed > 0.0 {
        speed.clamp(0.01, 10_000.0)
    } else {
        1.0
    }
}

/// Builds a simulated modem running `speed` times faster than `clock`.
pub fn new(
    config: SimConfig,
    clock: RealClock,
    speed: f64,
) -> Result<(SimPort, SimControl), ConfigError> {
    let modem = Modem::new(config)?;
    let anchor_real = clock();
    let inner = Rc::new(RefCell::new(Inner {
        modem,
        clock,
        anchor_real,
        anchor_virtual: Duration::ZERO,
        speed: clamp_speed(speed),
        out: Vec::new(),
        reader: None,
        closed: false,
    }));
    Ok((
        SimPort {
            inner: inner.clone(),
            nap: None,
        },
        SimControl { inner },
    ))
}

/// The host's end of the simulated serial line. Clone it for separate reader and writer halves.
pub struct SimPort {
    inner: Rc<RefCell<Inner>>,
    nap: Option<futures_timer::Delay>,
}

impl Clone for SimPort {
    fn clone(&self) -> Self {
        SimPort {
            inner: self.inner.clone(),
            nap: None,
        }
    }
}

impl std::fmt::Debug for SimPort {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimPort").finish_non_exhaustive()
    }
}

impl AsyncRead for SimPort {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        loop {
            let nap = {
                let mut inner = self.inner.borrow_mut();
                if inner.closed {
                    return Poll::Ready(Ok(0));
                }
                inner.pull();
                if !inner.out.is_empty() {
                    let n = buf.len().min(inner.out.len());
                    buf[..n].copy_from_slice(&inner.out[..n]);
                    inner.out.drain(..n);
                    return Poll::Ready(Ok(n));
                }
                inner.reader = Some(cx.waker().clone());
                inner.nap()
            };
            let this = &mut *self;
            let delay = this
                .nap
                .get_or_insert_with(|| futures_timer::Delay::new(nap));
            match Pin::new(delay).poll(cx) {
                Poll::Ready(()) => this.nap = None,
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

impl AsyncWrite for SimPort {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let waker = {
            let mut inner = self.inner.borrow_mut();
            if inner.closed {
                return Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::BrokenPipe,
                    "the simulated modem was disconnected",
                )));
            }
            let now = inner.now();
            inner.modem.receive(now, buf);
            inner.pull();
            inner.wake_reader()
        };
        if let Some(w) = waker {
            w.wake();
        }
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// The simulated modem's server side and bench controls.
#[derive(Clone)]
pub struct SimControl {
    inner: Rc<RefCell<Inner>>,
}

impl std::fmt::Debug for SimControl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimControl").finish_non_exhaustive()
    }
}

impl SimControl {
    fn with<R>(&self, f: impl FnOnce(&mut Modem, Duration) -> R) -> R {
        let (r, waker) = {
            let mut inner = self.inner.borrow_mut();
            let now = inner.now();
            inner.modem.advance(now);
            let r = f(&mut inner.modem, now);
            inner.pull();
            (r, inner.wake_reader())
        };
        if let Some(w) = waker {
            w.wake();
        }
        r
    }

    /// The virtual time now.
    pub fn now(&self) -> Duration {
        self.inner.borrow().now()
    }

    /// How many times faster than real time the modem runs.
    pub fn speed(&self) -> f64 {
        self.inner.borrow().speed
    }

    /// Changes the speed from now on (virtual time stays continuous).
    pub fn set_speed(&self, speed: f64) {
        let waker = {
            let mut inner = self.inner.borrow_mut();
            let now = inner.now();
            inner.anchor_virtual = now;
            inner.anchor_real = (inner.clock)();
            inner.speed = clamp_speed(speed);
            inner.wake_reader()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }

    /// The modem's LwM2M endpoint name.
    pub fn endpoint(&self) -> String {
        self.inner.borrow().modem.endpoint()
    }

    /// The firmware the modem runs.
    pub fn firmware(&self) -> String {
        self.inner.borrow().modem.firmware().to_string()
    }

    /// Makes the server know a device (as importing the Coiote CSV does).
    pub fn register_device(
        &self,
        endpoint: &str,
        identity: &str,
        secret_hex: &str,
    ) -> Result<(), ServerError> {
        self.with(|m, _| {
            m.server_mut()
                .register_device(endpoint, identity, secret_hex)
        })
    }

    /// Schedules an image for the device (offered at its next FOTA check).
    pub fn schedule_firmware(
        &self,
        endpoint: &str,
        image: FirmwareImage,
    ) -> Result<(), ServerError> {
        self.with(|m, _| m.server_mut().schedule_firmware(endpoint, image))
    }

    /// Asks the device's FOTA client to check now (note §4.5.1.2).
    pub fn network_query(&self, endpoint: &str) -> Result<(), ServerError> {
        self.with(|m, now| m.network_query(now, endpoint))
    }

    /// What the server knows about the device.
    pub fn device_status(&self, endpoint: &str) -> Option<DeviceStatus> {
        self.inner.borrow().modem.server().device_status(endpoint)
    }

    /// Pulls the plug for `off` (virtual time), then power returns.
    pub fn power_cycle(&self, off: Duration) {
        self.with(|m, now| m.power_cycle(now, off));
    }

    /// Ends the line: reads see the end of the stream, writes fail (like an unplugged cable).
    pub fn close(&self) {
        let waker = {
            let mut inner = self.inner.borrow_mut();
            inner.closed = true;
            inner.wake_reader()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }

    /// Whether [`SimControl::close`] was called.
    pub fn is_closed(&self) -> bool {
        self.inner.borrow().closed
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use futures::executor::block_on;
    use futures::io::{AsyncReadExt, AsyncWriteExt};
    use std::cell::Cell;

    /// A hand-driven clock: tests move it, nothing waits on the wall clock for an answer.
    fn manual_clock() -> (RealClock, Rc<Cell<Duration>>) {
        let t = Rc::new(Cell::new(Duration::ZERO));
        let c = t.clone();
        (Rc::new(move || c.get()), t)
    }

    #[test]
    fn commands_are_answered_through_the_port() {
        let (clock, _t) = manual_clock();
        let (port, _ctl) = new(SimConfig::default(), clock, 1.0).unwrap();
        let (mut r, mut w) = (port.clone(), port);
        block_on(async {
            w.write_all(b"AT+CGSN\r").await.unwrap();
            let mut got = Vec::new();
            let mut buf = [0u8; 64];
            while !String::from_utf8_lossy(&got).contains("OK") {
                let n = r.read(&mut buf).await.unwrap();
                assert!(n > 0);
                got.extend_from_slice(&buf[..n]);
            }
            let text = String::from_utf8_lossy(&got);
            assert!(text.contains("015770000031766"), "{text}");
        });
    }

    #[test]
    fn virtual_time_follows_the_clock_times_the_speed() {
        let (clock, t) = manual_clock();
        let (_port, ctl) = new(SimConfig::default(), clock, 10.0).unwrap();
        t.set(Duration::from_secs(2));
        assert_eq!(ctl.now(), Duration::from_secs(20));
        ctl.set_speed(1.0);
        t.set(Duration::from_secs(3));
        assert_eq!(ctl.now(), Duration::from_secs(21));
        ctl.set_speed(f64::NAN);
        assert_eq!(ctl.speed(), 1.0);
    }

    #[test]
    fn a_closed_port_reads_end_of_stream_and_refuses_writes() {
        let (clock, _t) = manual_clock();
        let (port, ctl) = new(SimConfig::default(), clock, 1.0).unwrap();
        let (mut r, mut w) = (port.clone(), port);
        ctl.close();
        assert!(ctl.is_closed());
        block_on(async {
            let mut buf = [0u8; 8];
            assert_eq!(r.read(&mut buf).await.unwrap(), 0);
            assert!(w.write_all(b"AT\r").await.is_err());
        });
    }

    #[test]
    fn the_server_side_knows_the_device() {
        let (clock, _t) = manual_clock();
        let (_port, ctl) = new(SimConfig::default(), clock, 1.0).unwrap();
        let ep = ctl.endpoint();
        assert_eq!(ep, "urn:imei:015770000031766");
        assert!(ctl.device_status(&ep).is_none());
        ctl.register_device(&ep, &ep, &"11".repeat(32)).unwrap();
        assert!(ctl.device_status(&ep).is_some());
        ctl.schedule_firmware(&ep, FirmwareImage::good("5.4.1.1-57830"))
            .unwrap();
        assert!(matches!(
            ctl.network_query(&ep),
            Err(ServerError::NotRegistered(_))
        ));
    }
}
