//! A virtual clock and an in-memory duplex stream around a [`Modem`], for driving the simulated
//! modem through `futures::io::{AsyncRead, AsyncWrite}` and [`ryz014_core::timer::Timer`].
//!
//! Virtual time only moves when the host would otherwise wait: a read that finds no output, or a
//! pending sleep. It then jumps to the earliest of the modem's next deadline and the earliest
//! sleep deadline, so a 30-day FOTA timer takes microseconds under
//! `futures::executor::block_on`, and the same run always gives the same bytes.
//!
//! Rules that keep this exact:
//! - a sleep's deadline is fixed when [`Timer::sleep`] is called (not when first polled);
//! - time stops once at every live sleep's deadline: the waiting future returns `Pending`
//!   (waking the sleep and itself), so that a `select(read, sleep)` or a `join` sees the sleep
//!   fire at its exact time; a sleep that is not polled then (kept but forgotten) does not hold
//!   time back afterwards;
//! - a read returns as soon as the modem has sent anything.
//!
//! Everything is single-threaded (`Rc<RefCell<..>>`), with no OS calls: it works on wasm32.

use std::cell::RefCell;
use std::collections::{BTreeMap, VecDeque};
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use futures::io::{AsyncRead, AsyncWrite};
use ryz014_core::timer::{Sleep, Timer};

use crate::config::{ConfigError, SimConfig};
use crate::modem::Modem;
use crate::nv::Snapshot;
use crate::server::{
    query_with_retry, DeviceStatus, FirmwareImage, QueryRetry, Server, ServerError,
};

#[derive(Debug)]
struct SleepEntry {
    deadline: Duration,
    waker: Option<Waker>,
    /// Time has stopped at this deadline once already.
    stopped: bool,
}

#[derive(Debug)]
struct Shared {
    modem: Modem,
    now: Duration,
    out: VecDeque<u8>,
    sleeps: BTreeMap<u64, SleepEntry>,
    next_sleep: u64,
    reader: Option<Waker>,
}

enum Step {
    /// Time moved on.
    Advanced,
    /// Time reached a live sleep's deadline: give it a chance to be polled first.
    Blocked(Vec<Waker>),
    /// Nothing is scheduled anywhere.
    Idle,
}

impl Shared {
    fn pull(&mut self) {
        self.modem.advance(self.now);
        let o = self.modem.take_output();
        self.out.extend(o);
    }

    fn step(&mut self) -> Step {
        let now = self.now;
        let mut blocked = false;
        let mut wakers = Vec::new();
        for sl in self.sleeps.values_mut() {
            if sl.deadline <= now && !sl.stopped {
                sl.stopped = true;
                blocked = true;
                wakers.extend(sl.waker.take());
            }
        }
        if blocked {
            return Step::Blocked(wakers);
        }
        let md = self.modem.next_deadline();
        let sd = self
            .sleeps
            .values()
            .map(|s| s.deadline)
            .filter(|d| *d > now)
            .min();
        let target = match (md, sd) {
            (Some(a), Some(b)) => a.min(b),
            (Some(a), None) | (None, Some(a)) => a,
            (None, None) => return Step::Idle,
        };
        self.now = target.max(now);
        self.pull();
        Step::Advanced
    }
}

fn wake_all(wakers: impl IntoIterator<Item = Waker>) {
    for w in wakers {
        w.wake();
    }
}

/// The host's end of the simulated serial line. Clone it to get separate reader and writer
/// halves (both ends share one modem).
#[derive(Debug, Clone)]
pub struct SimStream(Rc<RefCell<Shared>>);

/// Sleeps on the simulator's virtual clock.
#[derive(Debug, Clone)]
pub struct SimTimer(Rc<RefCell<Shared>>);

/// The server side and bench controls of a simulator built by [`new`].
#[derive(Debug, Clone)]
pub struct SimHandle(Rc<RefCell<Shared>>);

/// Builds a simulated modem on a virtual clock starting at zero.
pub fn new(config: SimConfig) -> Result<(SimStream, SimTimer, SimHandle), ConfigError> {
    let modem = Modem::new(config)?;
    let mut shared = Shared {
        modem,
        now: Duration::ZERO,
        out: VecDeque::new(),
        sleeps: BTreeMap::new(),
        next_sleep: 0,
        reader: None,
    };
    shared.pull();
    let rc = Rc::new(RefCell::new(shared));
    Ok((SimStream(rc.clone()), SimTimer(rc.clone()), SimHandle(rc)))
}

impl AsyncRead for SimStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let mut sh = self.0.borrow_mut();
        sh.pull();
        loop {
            if !sh.out.is_empty() {
                let n = buf.len().min(sh.out.len());
                for (slot, b) in buf.iter_mut().zip(sh.out.drain(..n)) {
                    *slot = b;
                }
                return Poll::Ready(Ok(n));
            }
            match sh.step() {
                Step::Advanced => continue,
                Step::Blocked(wakers) => {
                    sh.reader = Some(cx.waker().clone());
                    drop(sh);
                    wake_all(wakers);
                    cx.waker().wake_by_ref();
                    return Poll::Pending;
                }
                Step::Idle => {
                    sh.reader = Some(cx.waker().clone());
                    return Poll::Pending;
                }
            }
        }
    }
}

impl AsyncWrite for SimStream {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let mut sh = self.0.borrow_mut();
        let now = sh.now;
        sh.modem.receive(now, buf);
        sh.pull();
        let reader = if sh.out.is_empty() {
            None
        } else {
            sh.reader.take()
        };
        drop(sh);
        wake_all(reader);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

struct SimSleep {
    shared: Rc<RefCell<Shared>>,
    id: u64,
    done: bool,
}

impl Future for SimSleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.done {
            return Poll::Ready(());
        }
        let shared = self.shared.clone();
        let mut sh = shared.borrow_mut();
        let Some(deadline) = sh.sleeps.get(&self.id).map(|s| s.deadline) else {
            self.done = true;
            return Poll::Ready(());
        };
        loop {
            if sh.now >= deadline {
                sh.sleeps.remove(&self.id);
                self.done = true;
                let r = sh.reader.take();
                drop(sh);
                wake_all(r);
                return Poll::Ready(());
            }
            let had_output = !sh.out.is_empty();
            match sh.step() {
                Step::Advanced => {
                    if sh.now < deadline && !had_output && !sh.out.is_empty() {
                        // The modem said something: let a reader see it at this time.
                        if let Some(s) = sh.sleeps.get_mut(&self.id) {
                            s.waker = Some(cx.waker().clone());
                        }
                        let r = sh.reader.take();
                        drop(sh);
                        wake_all(r);
                        cx.waker().wake_by_ref();
                        return Poll::Pending;
                    }
                }
                Step::Blocked(wakers) => {
                    if let Some(s) = sh.sleeps.get_mut(&self.id) {
                        s.waker = Some(cx.waker().clone());
                    }
                    drop(sh);
                    wake_all(wakers);
                    cx.waker().wake_by_ref();
                    return Poll::Pending;
                }
                Step::Idle => {
                    if let Some(s) = sh.sleeps.get_mut(&self.id) {
                        s.waker = Some(cx.waker().clone());
                    }
                    return Poll::Pending;
                }
            }
        }
    }
}

impl Drop for SimSleep {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        let reader = match self.shared.try_borrow_mut() {
            Ok(mut sh) => {
                sh.sleeps.remove(&self.id);
                sh.reader.take()
            }
            Err(_) => None,
        };
        wake_all(reader);
    }
}

impl Timer for SimTimer {
    fn sleep(&self, duration: Duration) -> Sleep {
        let mut sh = self.0.borrow_mut();
        let id = sh.next_sleep;
        sh.next_sleep += 1;
        let deadline = sh.now.saturating_add(duration);
        sh.sleeps.insert(
            id,
            SleepEntry {
                deadline,
                waker: None,
                stopped: false,
            },
        );
        Box::pin(SimSleep {
            shared: self.0.clone(),
            id,
            done: false,
        })
    }
}

impl SimTimer {
    /// The current virtual time.
    pub fn now(&self) -> Duration {
        self.0.borrow().now
    }
}

impl SimHandle {
    fn with<R>(&self, f: impl FnOnce(&mut Modem, Duration) -> R) -> R {
        let mut sh = self.0.borrow_mut();
        let now = sh.now;
        let r = f(&mut sh.modem, now);
        sh.pull();
        let reader = if sh.out.is_empty() {
            None
        } else {
            sh.reader.take()
        };
        drop(sh);
        wake_all(reader);
        r
    }

    /// The current virtual time.
    pub fn now(&self) -> Duration {
        self.0.borrow().now
    }

    /// Lets virtual time run for `d` (the modem's output is kept for the next read).
    pub fn advance(&self, d: Duration) {
        let mut sh = self.0.borrow_mut();
        let target = sh.now.saturating_add(d);
        sh.now = target;
        sh.pull();
    }

    /// The LwM2M endpoint name of the simulated device.
    pub fn endpoint(&self) -> String {
        self.0.borrow().modem.endpoint()
    }

    /// The running firmware version.
    pub fn firmware(&self) -> String {
        self.0.borrow().modem.firmware().to_string()
    }

    /// Whether the modem is up (not rebooting, installing or off).
    pub fn is_up(&self) -> bool {
        self.0.borrow().modem.is_up()
    }

    /// NV state and commands received (secrets redacted).
    pub fn snapshot(&self) -> Snapshot {
        self.0.borrow().modem.snapshot()
    }

    /// Registers a device on the server (endpoint, PSK identity, PSK secret in hex).
    pub fn register_device(
        &self,
        endpoint: &str,
        psk_identity: &str,
        psk_secret_hex: &str,
    ) -> Result<(), ServerError> {
        self.with(|m, _| {
            m.server_mut()
                .register_device(endpoint, psk_identity, psk_secret_hex)
        })
    }

    /// Deletes a device from the server.
    pub fn remove_device(&self, endpoint: &str) -> Result<(), ServerError> {
        self.with(|m, _| m.server_mut().remove_device(endpoint))
    }

    /// Schedules a firmware image for a device (offered at its next FOTA check).
    pub fn schedule_firmware(
        &self,
        endpoint: &str,
        image: FirmwareImage,
    ) -> Result<(), ServerError> {
        self.with(|m, _| m.server_mut().schedule_firmware(endpoint, image))
    }

    /// Serves an image at a URL for `AT+SQNSUPGRADE`.
    pub fn serve_url(&self, url: &str, image: FirmwareImage) {
        self.with(|m, _| m.server_mut().serve_url(url, image));
    }

    /// What the server knows about a device (upgrade progress, registration, version).
    pub fn device_status(&self, endpoint: &str) -> Option<DeviceStatus> {
        self.0.borrow().modem.server().device_status(endpoint)
    }

    /// A network-initiated FOTA query (note §4.5.1.2).
    pub fn network_query(&self, endpoint: &str) -> Result<(), ServerError> {
        self.with(|m, now| m.network_query(now, endpoint))
    }

    /// [`SimHandle::network_query`], asked again on the virtual clock while the device cannot
    /// take it yet (see [`QueryRetry`]); `on_retry` sees each refusal that is retried.
    pub async fn network_query_retrying(
        &self,
        endpoint: &str,
        retry: QueryRetry,
        on_retry: impl FnMut(&ServerError),
    ) -> Result<(), ServerError> {
        let timer = SimTimer(self.0.clone());
        query_with_retry(|| self.network_query(endpoint), &timer, retry, on_retry).await
    }

    /// Pulls the plug for `off` (virtual), then power returns.
    pub fn power_cycle(&self, off: Duration) {
        self.with(|m, now| m.power_cycle(now, off));
    }

    /// Powers the modem up after `AT+SQNSSHDN`.
    pub fn power_on(&self) {
        self.with(|m, now| m.power_on(now));
    }

    /// Runs a closure on the modem (virtual time is passed in).
    pub fn with_modem<R>(&self, f: impl FnOnce(&mut Modem, Duration) -> R) -> R {
        self.with(f)
    }

    /// Runs a closure on the server side.
    pub fn with_server<R>(&self, f: impl FnOnce(&mut Server) -> R) -> R {
        self.with(|m, _| f(m.server_mut()))
    }
}
