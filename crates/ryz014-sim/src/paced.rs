//! The simulated modem on a real clock: [`Modem`] paced by real time times a speed factor, for
//! a person to watch (the web page's simulated modem, `ryz014 demo`). [`sim`](crate::sim) runs
//! on virtual time instead, which jumps straight to the next event: right for tests, too fast
//! to watch. [`PacedPort`] is the serial line (`futures::io::{AsyncRead, AsyncWrite}`) a client
//! drives; [`PacedHandle`] is the server side ("schedule an upgrade", with the query retried
//! while the device is busy) and the bench.
//!
//! Portable (wasm32 and native, no OS calls): the real clock and the timer are handed in
//! (`performance.now()` and `setTimeout` in the browser, `Instant` and `futures-timer`
//! natively). [`ScaledClock`] is the arithmetic of the pacing, also used by
//! [`realtime`](crate::realtime).

use std::cell::RefCell;
use std::io;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use futures::io::{AsyncRead, AsyncWrite};
use ryz014_core::timer::{Sleep, Timer};

use crate::config::{ConfigError, SimConfig};
use crate::modem::Modem;
use crate::server::{query_with_retry, DeviceStatus, FirmwareImage, QueryRetry, ServerError};

/// A source of real time (monotonic, any origin).
pub type RealClock = Rc<dyn Fn() -> Duration>;

/// The longest a read sleeps before looking at the modem again (keeps a speed change or a
/// server action prompt even when nothing is scheduled).
const MAX_NAP: Duration = Duration::from_millis(100);

/// Virtual time as real time times a speed, continuous across speed changes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScaledClock {
    /// Real time and virtual time at the last change.
    anchor_real: Duration,
    anchor_virtual: Duration,
    speed: f64,
}

impl ScaledClock {
    /// Virtual time zero at real time `real`, running `speed` times faster (taken as given:
    /// callers clamp it).
    pub fn new(real: Duration, speed: f64) -> Self {
        ScaledClock {
            anchor_real: real,
            anchor_virtual: Duration::ZERO,
            speed,
        }
    }

    /// How many times faster than real time virtual time runs.
    pub fn speed(&self) -> f64 {
        self.speed
    }

    /// The virtual time at real time `real`.
    pub fn now(&self, real: Duration) -> Duration {
        let real = real.saturating_sub(self.anchor_real);
        let add =
            Duration::try_from_secs_f64(real.as_secs_f64() * self.speed).unwrap_or(Duration::MAX);
        self.anchor_virtual.saturating_add(add)
    }

    /// The real time that `span` of virtual time takes (`None` when it does not fit a
    /// [`Duration`]).
    pub fn real_for(&self, span: Duration) -> Option<Duration> {
        Duration::try_from_secs_f64(span.as_secs_f64() / self.speed).ok()
    }

    /// Changes the speed at real time `real` (virtual time stays continuous).
    pub fn set_speed(&mut self, real: Duration, speed: f64) {
        self.anchor_virtual = self.now(real);
        self.anchor_real = real;
        self.speed = speed;
    }

    /// Makes virtual time `to` at real time `real` (a jump over idle time; never backwards).
    pub fn jump(&mut self, real: Duration, to: Duration) {
        self.anchor_virtual = self.now(real).max(to);
        self.anchor_real = real;
    }
}

struct Inner {
    modem: Modem,
    clock: RealClock,
    timer: Rc<dyn Timer>,
    pace: ScaledClock,
    /// The longest real wait of a reader for the modem's output; `None`: no limit.
    max_gap: Option<Duration>,
    /// The real time since which a reader has waited for output.
    idle_since: Option<Duration>,
    out: Vec<u8>,
    reader: Option<Waker>,
    closed: bool,
}

impl Inner {
    fn now(&self) -> Duration {
        self.pace.now((self.clock)())
    }

    fn pull(&mut self) {
        let now = self.now();
        self.modem.advance(now);
        let o = self.modem.take_output();
        self.out.extend(o);
    }

    /// Once a reader has waited [`Inner::max_gap`] for output, runs the modem from event to
    /// event at once until it says something (as a virtual clock would).
    fn skip_idle(&mut self) {
        let (Some(gap), Some(since)) = (self.max_gap, self.idle_since) else {
            return;
        };
        let real = (self.clock)();
        if real.saturating_sub(since) < gap {
            return;
        }
        while self.out.is_empty() {
            let Some(d) = self.modem.next_deadline() else {
                break;
            };
            self.pace.jump(real, d);
            self.pull();
        }
    }

    /// Real time until the modem's next event (or the end of the reader's gap), capped at
    /// [`MAX_NAP`].
    fn nap(&self) -> Duration {
        let now = self.now();
        let mut left = match self.modem.next_deadline() {
            Some(d) => self.pace.real_for(d.saturating_sub(now)).unwrap_or(MAX_NAP),
            None => MAX_NAP,
        };
        if let (Some(gap), Some(since)) = (self.max_gap, self.idle_since) {
            let end = since.saturating_add(gap);
            left = left.min(end.saturating_sub((self.clock)()));
        }
        left.clamp(Duration::from_millis(1), MAX_NAP)
    }

    fn wake_reader(&mut self) -> Option<Waker> {
        self.reader.take()
    }
}

fn clamp_speed(speed: f64) -> f64 {
    if speed.is_finite() && speed > 0.0 {
        speed.clamp(0.01, 10_000.0)
    } else {
        1.0
    }
}

/// Builds a simulated modem running `speed` times faster than `clock` (clamped to 0.01..10000;
/// not finite or not positive counts as 1), waiting on `timer`.
pub fn new(
    config: SimConfig,
    clock: RealClock,
    timer: Rc<dyn Timer>,
    speed: f64,
) -> Result<(PacedPort, PacedHandle), ConfigError> {
    let modem = Modem::new(config)?;
    let pace = ScaledClock::new(clock(), clamp_speed(speed));
    let inner = Rc::new(RefCell::new(Inner {
        modem,
        clock,
        timer,
        pace,
        max_gap: None,
        idle_since: None,
        out: Vec::new(),
        reader: None,
        closed: false,
    }));
    Ok((
        PacedPort {
            inner: inner.clone(),
            nap: None,
        },
        PacedHandle { inner },
    ))
}

/// The host's end of the simulated serial line. Clone it for separate reader and writer halves.
pub struct PacedPort {
    inner: Rc<RefCell<Inner>>,
    nap: Option<Sleep>,
}

impl Clone for PacedPort {
    fn clone(&self) -> Self {
        PacedPort {
            inner: self.inner.clone(),
            nap: None,
        }
    }
}

impl std::fmt::Debug for PacedPort {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PacedPort").finish_non_exhaustive()
    }
}

impl AsyncRead for PacedPort {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        loop {
            let (nap, timer) = {
                let mut inner = self.inner.borrow_mut();
                if inner.closed {
                    return Poll::Ready(Ok(0));
                }
                inner.pull();
                if inner.out.is_empty() {
                    if inner.idle_since.is_none() {
                        inner.idle_since = Some((inner.clock)());
                    }
                    inner.skip_idle();
                }
                if !inner.out.is_empty() {
                    inner.idle_since = None;
                    let n = buf.len().min(inner.out.len());
                    buf[..n].copy_from_slice(&inner.out[..n]);
                    inner.out.drain(..n);
                    return Poll::Ready(Ok(n));
                }
                inner.reader = Some(cx.waker().clone());
                (inner.nap(), inner.timer.clone())
            };
            let this = &mut *self;
            let delay = this.nap.get_or_insert_with(|| timer.sleep(nap));
            match delay.as_mut().poll(cx) {
                Poll::Ready(()) => this.nap = None,
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

impl AsyncWrite for PacedPort {
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
            inner.idle_since = None;
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

/// The paced modem's server side and bench controls.
#[derive(Clone)]
pub struct PacedHandle {
    inner: Rc<RefCell<Inner>>,
}

impl std::fmt::Debug for PacedHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PacedHandle").finish_non_exhaustive()
    }
}

impl PacedHandle {
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
        self.inner.borrow().pace.speed()
    }

    /// Changes the speed from now on (virtual time stays continuous).
    pub fn set_speed(&self, speed: f64) {
        let waker = {
            let mut inner = self.inner.borrow_mut();
            let real = (inner.clock)();
            inner.pace.set_speed(real, clamp_speed(speed));
            inner.wake_reader()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }

    /// Caps a reader's real wait for the modem's output: past `gap`, virtual time jumps from
    /// event to event until the modem says something (a long hold-off shows as a short pause).
    /// `None` (the default): virtual time always follows the clock.
    pub fn set_max_gap(&self, gap: Option<Duration>) {
        self.inner.borrow_mut().max_gap = gap;
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

    /// [`PacedHandle::network_query`], asked again while the device cannot take it yet (see
    /// [`QueryRetry`]); `on_retry` sees each refusal that is retried.
    pub async fn network_query_retrying(
        &self,
        endpoint: &str,
        retry: QueryRetry,
        on_retry: impl FnMut(&ServerError),
    ) -> Result<(), ServerError> {
        let timer = self.inner.borrow().timer.clone();
        query_with_retry(|| self.network_query(endpoint), &*timer, retry, on_retry).await
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

    /// Whether [`PacedHandle::close`] was called.
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

    /// A timer whose sleeps move the manual clock by their length and end at once.
    struct ManualTimer(Rc<Cell<Duration>>);

    impl Timer for ManualTimer {
        fn sleep(&self, d: Duration) -> Sleep {
            self.0.set(self.0.get() + d);
            Box::pin(std::future::ready(()))
        }
    }

    fn paced(speed: f64) -> (PacedPort, PacedHandle, Rc<Cell<Duration>>) {
        let (clock, t) = manual_clock();
        let timer: Rc<dyn Timer> = Rc::new(ManualTimer(t.clone()));
        let (port, ctl) = new(SimConfig::default(), clock, timer, speed).unwrap();
        (port, ctl, t)
    }

    #[test]
    fn commands_are_answered_through_the_port() {
        let (port, _ctl, _t) = paced(1.0);
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
        let (_port, ctl, t) = paced(10.0);
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
        let (port, ctl, _t) = paced(1.0);
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
        let (_port, ctl, _t) = paced(1.0);
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

    #[test]
    fn a_long_wait_is_cut_to_the_max_gap() {
        // A reboot takes 3 s of virtual time; at 1× with a 100 ms gap, the reader waits
        // 100 ms of (manual) real time for +SYSSTART, then virtual time jumps to it.
        let (port, ctl, t) = paced(1.0);
        ctl.set_max_gap(Some(Duration::from_millis(100)));
        let (mut r, mut w) = (port.clone(), port);
        block_on(async {
            w.write_all(b"AT^RESET\r").await.unwrap();
            let mut got = Vec::new();
            let mut buf = [0u8; 64];
            while !String::from_utf8_lossy(&got).contains("SYSSTART") {
                let n = r.read(&mut buf).await.unwrap();
                got.extend_from_slice(&buf[..n]);
            }
        });
        assert!(t.get() <= Duration::from_millis(300), "{:?}", t.get());
        assert!(ctl.now() >= Duration::from_secs(1), "{:?}", ctl.now());
    }

    #[test]
    fn the_query_is_retried_while_the_device_is_not_registered() {
        let (_port, ctl, t) = paced(1.0);
        let ep = ctl.endpoint();
        ctl.register_device(&ep, &ep, &"11".repeat(32)).unwrap();
        let mut refused = 0;
        let retry = QueryRetry {
            every: Duration::from_millis(200),
            attempts: Some(3),
        };
        let r = block_on(ctl.network_query_retrying(&ep, retry, |e| {
            assert!(e.is_transient());
            refused += 1;
        }));
        assert!(matches!(r, Err(ServerError::NotRegistered(_))), "{r:?}");
        assert_eq!(refused, 2);
        assert_eq!(t.get(), Duration::from_millis(400));
        let unknown =
            block_on(ctl.network_query_retrying("urn:imei:1", retry, |_| panic!("not transient")));
        assert!(matches!(unknown, Err(ServerError::UnknownDevice(_))));
    }
}
