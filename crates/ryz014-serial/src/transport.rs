//! The native serial transport: opens a real serial port with `serialport` (8N1, optional RTS/CTS),
//! or a serial-to-network bridge (`socket://HOST:PORT`, `rfc2217://HOST:PORT`: see [`crate::net`]),
//! finds the modem's baud rate by probing with `AT`, and exposes the port as
//! `futures::io::AsyncRead + AsyncWrite + Unpin` without any async runtime.
//!
//! Two threads own clones of the port: a reader that moves incoming bytes into a bounded buffer and
//! wakes the reading task, and a writer that drains a bounded outgoing buffer with short blocking
//! writes. Both poll the port with a short timeout, so they notice when the transport is dropped and
//! exit. A port that vanishes (device unplugged, the other end of a pseudo-terminal closed, EOF or
//! an I/O error) makes every later read, write and flush fail with an [`io::Error`]; nothing hangs
//! and the threads exit.

use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::pin::Pin;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use futures::io::{AsyncRead, AsyncWrite};
use serialport::{ClearBuffer, DataBits, FlowControl, Parity, SerialPort, StopBits};

use ryz014_core::session::BAUD_ORDER;

use crate::net::{self, Address, AddressError, PortSettings, Rfc2217Error};

/// The lowest baud rate accepted.
pub const MIN_BAUD: u32 = 1_200;
/// The highest baud rate accepted.
pub const MAX_BAUD: u32 = 4_000_000;

/// How long a thread blocks in one read or write before it checks whether it should stop.
const THREAD_POLL: Duration = Duration::from_millis(50);
/// Bytes buffered from the modem before the reader thread stops reading (back-pressure).
const RX_CAPACITY: usize = 64 * 1024;
/// Bytes accepted by `poll_write` before it waits for the writer thread.
const TX_CAPACITY: usize = 16 * 1024;
/// The largest chunk the writer thread hands to the port at once.
const TX_CHUNK: usize = 4096;
/// `AT` probes sent at each baud rate before the next rate is tried.
const PROBES_PER_BAUD: usize = 2;

/// Which baud rate to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Baud {
    /// Probe with `AT` at each rate of the core's [`BAUD_ORDER`] (921600, then 115200).
    Auto,
    /// Use this rate without probing.
    Fixed(u32),
}

/// How to open a serial port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SerialConfig {
    /// The device path (`/dev/ttyUSB0`, `COM3`), or a bridge's `socket://HOST:PORT` or
    /// `rfc2217://HOST:PORT`.
    pub path: String,
    /// The baud rate, or [`Baud::Auto`] to probe (not sent through `socket://`).
    pub baud: Baud,
    /// Hardware (RTS/CTS) flow control.
    pub rts_cts: bool,
    /// How long to wait for `OK` after each `AT` probe.
    pub probe_timeout: Duration,
}

impl SerialConfig {
    /// A configuration for `path`: probed baud rate, no flow control, 500 ms per probe.
    pub fn new(path: impl Into<String>) -> Self {
        SerialConfig {
            path: path.into(),
            baud: Baud::Auto,
            rts_cts: false,
            probe_timeout: Duration::from_millis(500),
        }
    }
}

/// Why a serial port could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    /// The operating system refused to open or configure the port.
    #[error("cannot open serial port {path}: {source}")]
    Open {
        /// The device path.
        path: String,
        /// The cause reported by `serialport`.
        #[source]
        source: serialport::Error,
    },
    /// The baud rate is outside the accepted range.
    #[error("baud rate {baud} is out of range: allowed {MIN_BAUD}..={MAX_BAUD}")]
    BadBaud {
        /// The rate given.
        baud: u32,
    },
    /// The port opened, but nothing answered `AT` with `OK` at any rate tried.
    #[error("no answer to AT on {path} at {} baud; check the wiring, the power and the baud rate (--baud)", join_rates(.tried))]
    NoAnswer {
        /// The device path.
        path: String,
        /// The baud rates tried, in order.
        tried: Vec<u32>,
    },
    /// The port is neither a device path nor a well-formed `socket://` or `rfc2217://` URL.
    #[error(transparent)]
    BadAddress(#[from] AddressError),
    /// The network bridge could not be reached.
    #[error("cannot connect to {address}: {source}")]
    Connect {
        /// The URL.
        address: String,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// The RFC 2217 server did not agree to the COM port option or to the port settings.
    #[error("cannot set up the serial port behind {address}: {source}")]
    Rfc2217 {
        /// The URL.
        address: String,
        /// What went wrong.
        #[source]
        source: Rfc2217Error,
    },
    /// Nothing answered `AT` through a `socket://` bridge (whose own baud rate applies).
    #[error("no answer to AT through {address}; check the bridge's serial settings (baud rate), the wiring and the power")]
    NoAnswerRemote {
        /// The URL.
        address: String,
    },
    /// The port failed (or vanished) while it was being probed.
    #[error("serial port {path} failed while probing: {source}")]
    Io {
        /// The device path.
        path: String,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
}

fn join_rates(rates: &[u32]) -> String {
    rates
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(" or ")
}

/// Opens the port described by `config` (a device path, `socket://HOST:PORT` or
/// `rfc2217://HOST:PORT`), probes the baud rate when asked, and starts the transport.
pub fn open(config: &SerialConfig) -> Result<SerialTransport, TransportError> {
    let first = match config.baud {
        Baud::Auto => BAUD_ORDER[0],
        Baud::Fixed(b) if (MIN_BAUD..=MAX_BAUD).contains(&b) => b,
        Baud::Fixed(b) => return Err(TransportError::BadBaud { baud: b }),
    };
    match Address::parse(&config.path)? {
        Address::Device(_) => open_device(config, first),
        Address::Socket { host_port } => open_socket(config, &host_port),
        Address::Rfc2217 { host_port } => open_rfc2217(config, &host_port),
    }
}

fn open_device(config: &SerialConfig, first: u32) -> Result<SerialTransport, TransportError> {
    let flow = if config.rts_cts {
        FlowControl::Hardware
    } else {
        FlowControl::None
    };
    let open_err = |source| TransportError::Open {
        path: config.path.clone(),
        source,
    };
    let mut port = serialport::new(config.path.as_str(), first)
        .data_bits(DataBits::Eight)
        .parity(Parity::None)
        .stop_bits(StopBits::One)
        .flow_control(flow)
        .timeout(THREAD_POLL)
        .open()
        .map_err(open_err)?;

    let baud = probe_rates(config, |rate| {
        port.set_baud_rate(rate).map_err(open_err)?;
        probe_at(port.as_mut(), config.probe_timeout, PROBES_PER_BAUD).map_err(|source| {
            TransportError::Io {
                path: config.path.clone(),
                source,
            }
        })
    })?;
    SerialTransport::from_port(port, baud).map_err(open_err)
}

/// With [`Baud::Auto`], tries each rate of the core's [`BAUD_ORDER`] with `try_rate` (which sets the rate and
/// probes) until one answers; with a fixed rate, returns it untried.
fn probe_rates(
    config: &SerialConfig,
    mut try_rate: impl FnMut(u32) -> Result<bool, TransportError>,
) -> Result<u32, TransportError> {
    if let Baud::Fixed(b) = config.baud {
        return Ok(b);
    }
    let mut tried = Vec::new();
    for rate in BAUD_ORDER {
        tried.push(rate);
        if try_rate(rate)? {
            return Ok(rate);
        }
    }
    Err(TransportError::NoAnswer {
        path: config.path.clone(),
        tried,
    })
}

fn connect(config: &SerialConfig, host_port: &str) -> Result<TcpStream, TransportError> {
    net::connect(host_port, THREAD_POLL).map_err(|source| TransportError::Connect {
        address: config.path.clone(),
        source,
    })
}

/// `socket://`: the bridge's own serial settings apply; `--baud` and `--rtscts` are not sent.
/// With [`Baud::Auto`] the modem must answer `AT` once through the bridge.
fn open_socket(config: &SerialConfig, host_port: &str) -> Result<SerialTransport, TransportError> {
    let sock = connect(config, host_port)?;
    let io_err = |source| TransportError::Io {
        path: config.path.clone(),
        source,
    };
    let mut reader = sock.try_clone().map_err(io_err)?;
    let mut writer = sock;
    if config.baud == Baud::Auto {
        let mut link = Halves {
            reader: &mut reader,
            writer: &mut writer,
        };
        if !probe_link(&mut link, config.probe_timeout, PROBES_PER_BAUD).map_err(io_err)? {
            return Err(TransportError::NoAnswerRemote {
                address: config.path.clone(),
            });
        }
    }
    SerialTransport::from_io(reader, writer, &config.path, None, Medium::Network).map_err(io_err)
}

/// `rfc2217://`: negotiates 8N1, the flow control and each probed (or the fixed) baud rate with
/// the server, which must confirm them.
fn open_rfc2217(config: &SerialConfig, host_port: &str) -> Result<SerialTransport, TransportError> {
    let sock = connect(config, host_port)?;
    let neg_err = |source| TransportError::Rfc2217 {
        address: config.path.clone(),
        source,
    };
    let (mut reader, mut writer) = net::rfc2217_session(sock).map_err(neg_err)?;
    let settings = |baud| PortSettings {
        baud,
        rts_cts: config.rts_cts,
    };
    let baud = match config.baud {
        Baud::Fixed(b) => {
            reader.configure(&writer, settings(b)).map_err(neg_err)?;
            b
        }
        Baud::Auto => probe_rates(config, |rate| {
            reader.configure(&writer, settings(rate)).map_err(neg_err)?;
            let mut link = Halves {
                reader: &mut reader,
                writer: &mut writer,
            };
            probe_link(&mut link, config.probe_timeout, PROBES_PER_BAUD).map_err(|source| {
                TransportError::Io {
                    path: config.path.clone(),
                    source,
                }
            })
        })?,
    };
    SerialTransport::from_io(reader, writer, &config.path, Some(baud), Medium::Network).map_err(
        |source| TransportError::Io {
            path: config.path.clone(),
            source,
        },
    )
}

/// What [`probe_link`] needs of a link: blocking reads and writes with a short timeout, and a way
/// to drop stale input.
trait ProbeLink {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize>;
    fn write(&mut self, data: &[u8]) -> io::Result<usize>;
    fn clear_input(&mut self);
}

impl ProbeLink for dyn SerialPort + '_ {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        Read::read(self, buf)
    }
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        Write::write(self, data)
    }
    fn clear_input(&mut self) {
        // Stale bytes from a previous rate would only confuse the match; a failure to clear is harmless.
        let _ = self.clear(ClearBuffer::Input);
    }
}

/// The two sides of a network link (stale input is not cleared: only lines after `AT` count).
struct Halves<'a, R, W> {
    reader: &'a mut R,
    writer: &'a mut W,
}

impl<R: Read, W: Write> ProbeLink for Halves<'_, R, W> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.reader.read(buf)
    }
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.writer.write(data)
    }
    fn clear_input(&mut self) {}
}

/// Sends `AT\r` up to `attempts` times and waits up to `timeout` after each for an `OK` line.
///
/// Returns `Ok(false)` when nothing answered, and an error when the port fails (timeouts of single
/// reads are not errors). Bytes read while probing (echo, `OK`, notifications) are consumed.
pub fn probe_at(port: &mut dyn SerialPort, timeout: Duration, attempts: usize) -> io::Result<bool> {
    probe_link(port, timeout, attempts)
}

fn probe_link<L: ProbeLink + ?Sized>(
    link: &mut L,
    timeout: Duration,
    attempts: usize,
) -> io::Result<bool> {
    for _ in 0..attempts {
        link.clear_input();
        write_all_patiently(link, b"AT\r", Instant::now() + timeout)?;
        let deadline = Instant::now() + timeout;
        let mut seen = Vec::new();
        let mut buf = [0u8; 256];
        while Instant::now() < deadline {
            match link.read(&mut buf) {
                Ok(0) => return Err(vanished("end of file while probing")),
                Ok(n) => {
                    seen.extend_from_slice(&buf[..n]);
                    if has_ok_line(&seen) {
                        return Ok(true);
                    }
                }
                Err(e) if is_transient(&e) => {}
                Err(e) => return Err(e),
            }
        }
    }
    Ok(false)
}

fn write_all_patiently<L: ProbeLink + ?Sized>(
    link: &mut L,
    mut data: &[u8],
    deadline: Instant,
) -> io::Result<()> {
    while !data.is_empty() {
        match link.write(data) {
            Ok(0) => return Err(vanished("the port accepted no bytes")),
            Ok(n) => data = &data[n..],
            Err(e) if is_transient(&e) && Instant::now() < deadline => {}
            Err(e) if is_transient(&e) => return Ok(()), // flow control holds us: count as no answer
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// True when `bytes` hold a complete line that reads `OK`.
fn has_ok_line(bytes: &[u8]) -> bool {
    let text = String::from_utf8_lossy(bytes);
    let mut lines: Vec<&str> = text.split(['\r', '\n']).collect();
    // The last piece is not terminated yet.
    lines.pop();
    lines.iter().any(|l| l.trim() == "OK")
}

fn is_transient(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::TimedOut | io::ErrorKind::Interrupted | io::ErrorKind::WouldBlock
    )
}

fn vanished(what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::BrokenPipe,
        format!("the serial port vanished ({what}); was the device unplugged?"),
    )
}

/// What carries the bytes: a local serial port or a connection to a network bridge (only the
/// words of the errors differ).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Medium {
    Serial,
    Network,
}

impl Medium {
    /// The error for the far end closing the stream.
    fn end_of_file(self) -> io::Error {
        match self {
            Medium::Serial => vanished("end of file"),
            Medium::Network => io::Error::new(
                io::ErrorKind::ConnectionAborted,
                "the bridge closed the connection",
            ),
        }
    }
}

/// A fatal port failure, kept so that every later call reports it again.
#[derive(Debug, Clone)]
struct Failure {
    kind: io::ErrorKind,
    message: String,
}

impl Failure {
    fn from_io(e: &io::Error) -> Self {
        Failure {
            kind: e.kind(),
            message: e.to_string(),
        }
    }

    fn to_io(&self, port: &str, medium: Medium) -> io::Error {
        let message = match medium {
            Medium::Serial => format!("serial port {port} vanished or failed: {}", self.message),
            Medium::Network => format!("the connection to {port} was lost: {}", self.message),
        };
        io::Error::new(self.kind, message)
    }
}

#[derive(Default)]
struct State {
    rx: VecDeque<u8>,
    tx: VecDeque<u8>,
    /// The writer thread holds bytes it has not finished writing.
    tx_busy: bool,
    failure: Option<Failure>,
    /// The transport was dropped: the threads must stop.
    closed: bool,
    read_waker: Option<Waker>,
    write_waker: Option<Waker>,
}

struct Shared {
    medium: Medium,
    state: Mutex<State>,
    /// Signalled when the reader may read again (space in `rx`, failure, close).
    rx_space: Condvar,
    /// Signalled when the writer has work (bytes in `tx`, failure, close).
    tx_ready: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // The threads never panic while holding the lock; recover the data regardless.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Records a fatal failure (the first one wins) and wakes everyone.
    fn fail(&self, failure: Failure) {
        let (r, w) = {
            let mut st = self.lock();
            if st.failure.is_none() {
                st.failure = Some(failure);
            }
            (st.read_waker.take(), st.write_waker.take())
        };
        self.rx_space.notify_all();
        self.tx_ready.notify_all();
        wake(r);
        wake(w);
    }
}

fn wake(w: Option<Waker>) {
    if let Some(w) = w {
        w.wake();
    }
}

/// An open serial port, or a connection to a serial-to-network bridge, as
/// `futures::io::AsyncRead + AsyncWrite + Unpin`.
///
/// Dropping the transport stops its threads (after they finish writing what was accepted, unless
/// the port stops accepting bytes) and closes the port or the connection.
pub struct SerialTransport {
    shared: Arc<Shared>,
    reader: Option<JoinHandle<()>>,
    writer: Option<JoinHandle<()>>,
    name: String,
    baud: Option<u32>,
}

impl std::fmt::Debug for SerialTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SerialTransport")
            .field("name", &self.name)
            .field("baud", &self.baud)
            .finish_non_exhaustive()
    }
}

impl SerialTransport {
    /// Wraps an already opened and configured port. `baud` is only reported back by [`Self::baud`].
    ///
    /// The port's timeout is set to a short polling interval; it is cloned once for the writer.
    pub fn from_port(mut port: Box<dyn SerialPort>, baud: u32) -> Result<Self, serialport::Error> {
        port.set_timeout(THREAD_POLL)?;
        let mut write_port = port.try_clone()?;
        write_port.set_timeout(THREAD_POLL)?;
        let name = port.name().unwrap_or_else(|| "(unnamed port)".to_string());
        Ok(Self::from_io(
            port,
            write_port,
            &name,
            Some(baud),
            Medium::Serial,
        )?)
    }

    /// Starts the reader and writer threads on the two sides of a link whose reads and writes
    /// block at most a short polling interval.
    fn from_io<R, W>(
        reader: R,
        writer: W,
        name: &str,
        baud: Option<u32>,
        medium: Medium,
    ) -> io::Result<Self>
    where
        R: Read + Send + 'static,
        W: Write + Send + 'static,
    {
        let name = name.to_string();
        let shared = Arc::new(Shared {
            medium,
            state: Mutex::new(State::default()),
            rx_space: Condvar::new(),
            tx_ready: Condvar::new(),
        });
        let reader = {
            let shared = Arc::clone(&shared);
            std::thread::Builder::new()
                .name(format!("ryz014-rx {name}"))
                .spawn(move || reader_loop(reader, &shared))?
        };
        let writer = {
            let for_writer = Arc::clone(&shared);
            match std::thread::Builder::new()
                .name(format!("ryz014-tx {name}"))
                .spawn(move || writer_loop(writer, &for_writer))
            {
                Ok(h) => h,
                Err(e) => {
                    shared.lock().closed = true;
                    shared.rx_space.notify_all();
                    let _ = reader.join();
                    return Err(e);
                }
            }
        };
        Ok(SerialTransport {
            shared,
            reader: Some(reader),
            writer: Some(writer),
            name,
            baud,
        })
    }

    /// The port's name (its device path when known, or the bridge's URL).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The baud rate in use (the probed one with [`Baud::Auto`]); `None` through a `socket://`
    /// bridge, whose own setting applies.
    pub fn baud(&self) -> Option<u32> {
        self.baud
    }

    /// The failure that ended the port, if it failed or vanished.
    pub fn failure(&self) -> Option<io::Error> {
        self.shared
            .lock()
            .failure
            .as_ref()
            .map(|f| f.to_io(&self.name, self.shared.medium))
    }

    /// True once both threads have exited (after a failure, they exit on their own).
    pub fn threads_finished(&self) -> bool {
        let done = |h: &Option<JoinHandle<()>>| h.as_ref().is_none_or(JoinHandle::is_finished);
        done(&self.reader) && done(&self.writer)
    }
}

fn reader_loop(mut port: impl Read, shared: &Shared) {
    let mut buf = [0u8; 4096];
    loop {
        {
            let mut st = shared.lock();
            while !st.closed && st.failure.is_none() && st.rx.len() >= RX_CAPACITY {
                st = shared
                    .rx_space
                    .wait_timeout(st, THREAD_POLL)
                    .unwrap_or_else(PoisonError::into_inner)
                    .0;
            }
            if st.closed || st.failure.is_some() {
                return;
            }
        }
        match port.read(&mut buf) {
            Ok(0) => {
                shared.fail(Failure::from_io(&shared.medium.end_of_file()));
                return;
            }
            Ok(n) => {
                let w = {
                    let mut st = shared.lock();
                    st.rx.extend(&buf[..n]);
                    st.read_waker.take()
                };
                wake(w);
            }
            Err(e) if is_transient(&e) => {}
            Err(e) => {
                shared.fail(Failure::from_io(&e));
                return;
            }
        }
    }
}

fn writer_loop(mut port: impl Write, shared: &Shared) {
    loop {
        let chunk: Vec<u8> = {
            let mut st = shared.lock();
            loop {
                if st.failure.is_some() || (st.closed && st.tx.is_empty()) {
                    return;
                }
                if !st.tx.is_empty() {
                    break;
                }
                st = shared
                    .tx_ready
                    .wait(st)
                    .unwrap_or_else(PoisonError::into_inner);
            }
            let n = st.tx.len().min(TX_CHUNK);
            st.tx_busy = true;
            st.tx.drain(..n).collect()
        };
        let mut rest = &chunk[..];
        let mut fatal = None;
        while !rest.is_empty() {
            match port.write(rest) {
                Ok(0) => {
                    fatal = Some(vanished("the port accepted no bytes"));
                    break;
                }
                Ok(n) => rest = &rest[n..],
                Err(e) if is_transient(&e) => {
                    // Flow control may hold us; give up only when the transport is gone or failed.
                    let st = shared.lock();
                    if st.closed || st.failure.is_some() {
                        return;
                    }
                }
                Err(e) => {
                    fatal = Some(e);
                    break;
                }
            }
        }
        if let Some(e) = fatal {
            shared.lock().tx_busy = false;
            shared.fail(Failure::from_io(&e));
            return;
        }
        let w = {
            let mut st = shared.lock();
            st.tx_busy = false;
            st.write_waker.take()
        };
        wake(w);
    }
}

impl AsyncRead for SerialTransport {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let mut st = self.shared.lock();
        if !st.rx.is_empty() {
            let n = st.rx.len().min(buf.len());
            for (dst, src) in buf.iter_mut().zip(st.rx.drain(..n)) {
                *dst = src;
            }
            drop(st);
            self.shared.rx_space.notify_all();
            return Poll::Ready(Ok(n));
        }
        if let Some(f) = &st.failure {
            return Poll::Ready(Err(f.to_io(&self.name, self.shared.medium)));
        }
        st.read_waker = Some(cx.waker().clone());
        Poll::Pending
    }
}

impl AsyncWrite for SerialTransport {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let mut st = self.shared.lock();
        if let Some(f) = &st.failure {
            return Poll::Ready(Err(f.to_io(&self.name, self.shared.medium)));
        }
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let space = TX_CAPACITY.saturating_sub(st.tx.len());
        if space == 0 {
            st.write_waker = Some(cx.waker().clone());
            return Poll::Pending;
        }
        let n = space.min(buf.len());
        st.tx.extend(&buf[..n]);
        drop(st);
        self.shared.tx_ready.notify_all();
        Poll::Ready(Ok(n))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let mut st = self.shared.lock();
        if let Some(f) = &st.failure {
            return Poll::Ready(Err(f.to_io(&self.name, self.shared.medium)));
        }
        if st.tx.is_empty() && !st.tx_busy {
            return Poll::Ready(Ok(()));
        }
        st.write_waker = Some(cx.waker().clone());
        Poll::Pending
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_flush(cx)
    }
}

impl Drop for SerialTransport {
    fn drop(&mut self) {
        self.shared.lock().closed = true;
        self.shared.rx_space.notify_all();
        self.shared.tx_ready.notify_all();
        for h in [self.reader.take(), self.writer.take()]
            .into_iter()
            .flatten()
        {
            // A thread that panicked has nothing left to clean up.
            let _ = h.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ok_line_needs_a_terminated_ok() {
        assert!(has_ok_line(b"AT\r\r\nOK\r\n"));
        assert!(has_ok_line(b"\r\nOK\r\n"));
        assert!(!has_ok_line(b"\r\nOK"));
        assert!(!has_ok_line(b"\r\nERROR\r\n"));
        assert!(!has_ok_line(b"\r\n+SQNFOTA: OK\r\n"));
    }

    #[test]
    fn no_answer_message_lists_the_rates() {
        let e = TransportError::NoAnswer {
            path: "/dev/ttyX".into(),
            tried: vec![921_600, 115_200],
        };
        let text = e.to_string();
        assert!(text.contains("921600 or 115200"), "{text}");
        assert!(text.contains("/dev/ttyX"), "{text}");
    }
}
