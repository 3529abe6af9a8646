//! Network transports: a modem behind a serial-to-network bridge (ser2net, ESP-Link, a terminal
//! server), addressed with pyserial's URL conventions wherever a port is accepted.
//!
//! - `socket://HOST:PORT`: raw TCP; the bridge's own serial settings apply.
//! - `rfc2217://HOST:PORT`: Telnet with the COM-PORT-OPTION of RFC 2217; the baud rate, 8N1 and
//!   the flow control are negotiated with the server and confirmed by it.
//!
//! The Telnet side is kept small (no crate for an RFC 2217 client is well kept): the client offers
//! BINARY and SUPPRESS-GO-AHEAD both ways and COM-PORT-OPTION, accepts the server's ECHO, refuses
//! every other option, escapes `0xFF` in data, and reads the server's answers to its port settings.
//! Line and modem state notifications and the server's flow-control suspend/resume are ignored.

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream, ToSocketAddrs};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// Where a modem is reached: a local device or a network bridge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Address {
    /// A local serial device (`/dev/ttyUSB0`, `COM3`).
    Device(String),
    /// `socket://HOST:PORT`: raw TCP.
    Socket {
        /// `HOST:PORT` as given (brackets kept around an IPv6 host).
        host_port: String,
    },
    /// `rfc2217://HOST:PORT`: Telnet with COM port control.
    Rfc2217 {
        /// `HOST:PORT` as given.
        host_port: String,
    },
}

/// Why a port name is not a usable address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad port {given:?}: {reason}; expected a device path, socket://HOST:PORT or rfc2217://HOST:PORT (port 1..=65535)")]
pub struct AddressError {
    /// The port as given.
    pub given: String,
    /// What is wrong with it.
    pub reason: String,
}

impl Address {
    /// Parses a port as given to `-p`: `socket://` and `rfc2217://` URLs, any other `scheme://` is
    /// refused, everything else is a device path.
    pub fn parse(given: &str) -> Result<Address, AddressError> {
        let bad = |reason: &str| AddressError {
            given: given.to_string(),
            reason: reason.to_string(),
        };
        let Some((scheme, rest)) = given.split_once("://") else {
            if given.trim().is_empty() {
                return Err(bad("it is empty"));
            }
            return Ok(Address::Device(given.to_string()));
        };
        let host_port = rest.to_string();
        let (host, port) = match rest.rsplit_once(':') {
            Some((h, p)) => (h, p),
            None => return Err(bad("the TCP port is missing")),
        };
        let host_ok = if let Some(inner) = host.strip_prefix('[') {
            inner.strip_suffix(']').is_some_and(|h| !h.is_empty())
        } else {
            !host.is_empty()
                && host
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
        };
        if !host_ok {
            return Err(bad("the host is empty or not a host name or address"));
        }
        match port.parse::<u16>() {
            Ok(p) if p > 0 => {}
            _ => return Err(bad(&format!("TCP port {port:?} is not in 1..=65535"))),
        }
        match scheme.to_ascii_lowercase().as_str() {
            "socket" => Ok(Address::Socket { host_port }),
            "rfc2217" => Ok(Address::Rfc2217 { host_port }),
            other => Err(bad(&format!("unknown scheme {other}://"))),
        }
    }
}

/// How long a TCP connection attempt may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long the RFC 2217 server may take to agree to the COM port option and to confirm settings.
pub const NEGOTIATION_TIMEOUT: Duration = Duration::from_secs(3);
/// How long a write may stay blocked before the bridge is considered gone.
const WRITE_STALL: Duration = Duration::from_secs(10);

/// Connects to `host_port` (every address it resolves to, in turn), with TCP_NODELAY (AT
/// commands are short) and `poll` as the read timeout.
pub fn connect(host_port: &str, poll: Duration) -> io::Result<TcpStream> {
    let mut last = None;
    for addr in host_port.to_socket_addrs()? {
        match TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT) {
            Ok(s) => {
                s.set_nodelay(true)?;
                s.set_read_timeout(Some(poll))?;
                s.set_write_timeout(Some(poll))?;
                return Ok(s);
            }
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| {
        io::Error::new(io::ErrorKind::NotFound, "the host name resolves to nothing")
    }))
}

// Telnet (RFC 854/855) and RFC 2217 codes.
const IAC: u8 = 255;
const DONT: u8 = 254;
const DO: u8 = 253;
const WONT: u8 = 252;
const WILL: u8 = 251;
const SB: u8 = 250;
const SE: u8 = 240;
const BINARY: u8 = 0;
const ECHO: u8 = 1;
const SGA: u8 = 3;
const COM_PORT: u8 = 44;
/// SET-BAUDRATE (RFC 2217); the server answers each client command with the code plus 100.
const SET_BAUDRATE: u8 = 1;
const SET_DATASIZE: u8 = 2;
const SET_PARITY: u8 = 3;
const SET_STOPSIZE: u8 = 4;
const SET_CONTROL: u8 = 5;
const SERVER_OFFSET: u8 = 100;

/// Options the client enables on its side (it sends `WILL` for each).
const OURS: [u8; 3] = [BINARY, SGA, COM_PORT];
/// Options the client accepts on the server's side (it sends `DO` for the first two).
const THEIRS: [u8; 3] = [BINARY, SGA, ECHO];

/// One thing decoded from the server's byte stream, other than data.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Event {
    /// `IAC WILL/WONT/DO/DONT opt`.
    Option(u8, u8),
    /// `IAC SB COM-PORT-OPTION code value… IAC SE`, unescaped.
    ComPort(u8, Vec<u8>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum DecodeState {
    #[default]
    Data,
    Iac,
    Option(u8),
    Sub,
    SubIac,
}

/// The Telnet decoder: splits data from commands, across reads.
#[derive(Debug, Default)]
struct Decoder {
    state: DecodeState,
    sub: Vec<u8>,
}

/// The longest subnegotiation kept (longer ones are cut; RFC 2217 values are a few bytes).
const MAX_SUB: usize = 64;

impl Decoder {
    /// Decodes `input`: data bytes go to `data`, commands to `events`.
    fn feed(&mut self, input: &[u8], data: &mut Vec<u8>, events: &mut Vec<Event>) {
        for &b in input {
            self.state = match (self.state, b) {
                (DecodeState::Data, IAC) => DecodeState::Iac,
                (DecodeState::Data, _) => {
                    data.push(b);
                    DecodeState::Data
                }
                (DecodeState::Iac, IAC) => {
                    data.push(IAC);
                    DecodeState::Data
                }
                (DecodeState::Iac, WILL | WONT | DO | DONT) => DecodeState::Option(b),
                (DecodeState::Iac, SB) => {
                    self.sub.clear();
                    DecodeState::Sub
                }
                // NOP, GA, BRK and the other two-byte commands carry nothing for us.
                (DecodeState::Iac, _) => DecodeState::Data,
                (DecodeState::Option(cmd), opt) => {
                    events.push(Event::Option(cmd, opt));
                    DecodeState::Data
                }
                (DecodeState::Sub, IAC) => DecodeState::SubIac,
                (DecodeState::Sub, _) => {
                    if self.sub.len() < MAX_SUB {
                        self.sub.push(b);
                    }
                    DecodeState::Sub
                }
                (DecodeState::SubIac, IAC) => {
                    if self.sub.len() < MAX_SUB {
                        self.sub.push(IAC);
                    }
                    DecodeState::Sub
                }
                (DecodeState::SubIac, SE) => {
                    if let [COM_PORT, code, value @ ..] = self.sub.as_slice() {
                        events.push(Event::ComPort(*code, value.to_vec()));
                    }
                    DecodeState::Data
                }
                // A malformed subnegotiation: drop it.
                (DecodeState::SubIac, _) => DecodeState::Data,
            };
        }
    }
}

/// Data with every `0xFF` doubled, as Telnet requires.
fn escape(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + 4);
    for &b in data {
        out.push(b);
        if b == IAC {
            out.push(IAC);
        }
    }
    out
}

/// `IAC SB COM-PORT-OPTION code value IAC SE`, with the value escaped.
fn com_port_command(code: u8, value: &[u8]) -> Vec<u8> {
    let mut out = vec![IAC, SB, COM_PORT, code];
    out.extend(escape(value));
    out.extend([IAC, SE]);
    out
}

/// The option negotiation's state (a small form of RFC 1143: a request is answered once, an
/// answer is never answered again).
#[derive(Debug, Default)]
struct Negotiation {
    /// Our options that we asked for and the server has not answered yet.
    we_asked: Vec<u8>,
    /// Our options that are on.
    we_on: Vec<u8>,
    /// The server's options that we asked for and it has not answered yet.
    they_asked: Vec<u8>,
    /// The server's options that are on.
    they_on: Vec<u8>,
    /// The server refused COM-PORT-OPTION.
    com_port_refused: bool,
    /// The server's latest answer to each COM port command (client code → value).
    answers: HashMap<u8, Vec<u8>>,
}

impl Negotiation {
    /// The requests sent on connecting.
    fn start(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        for opt in OURS {
            self.we_asked.push(opt);
            out.extend([IAC, WILL, opt]);
        }
        for opt in [BINARY, SGA] {
            self.they_asked.push(opt);
            out.extend([IAC, DO, opt]);
        }
        out
    }

    /// Handles one event; returns the bytes to send back.
    fn handle(&mut self, ev: Event) -> Vec<u8> {
        match ev {
            Event::ComPort(code, value) if code >= SERVER_OFFSET => {
                self.answers.insert(code - SERVER_OFFSET, value);
                Vec::new()
            }
            Event::ComPort(..) => Vec::new(),
            Event::Option(cmd, opt) => self.option(cmd, opt),
        }
    }

    fn option(&mut self, cmd: u8, opt: u8) -> Vec<u8> {
        let asked = |list: &mut Vec<u8>| {
            let was = list.contains(&opt);
            list.retain(|o| *o != opt);
            was
        };
        match cmd {
            DO => {
                let answer = asked(&mut self.we_asked);
                if !OURS.contains(&opt) {
                    return vec![IAC, WONT, opt];
                }
                if self.we_on.contains(&opt) {
                    return Vec::new();
                }
                self.we_on.push(opt);
                if answer {
                    Vec::new()
                } else {
                    vec![IAC, WILL, opt]
                }
            }
            DONT => {
                asked(&mut self.we_asked);
                if opt == COM_PORT {
                    self.com_port_refused = true;
                }
                if self.we_on.contains(&opt) {
                    self.we_on.retain(|o| *o != opt);
                    return vec![IAC, WONT, opt];
                }
                Vec::new()
            }
            WILL => {
                let answer = asked(&mut self.they_asked);
                if !THEIRS.contains(&opt) {
                    return vec![IAC, DONT, opt];
                }
                if self.they_on.contains(&opt) {
                    return Vec::new();
                }
                self.they_on.push(opt);
                if answer {
                    Vec::new()
                } else {
                    vec![IAC, DO, opt]
                }
            }
            WONT => {
                asked(&mut self.they_asked);
                if self.they_on.contains(&opt) {
                    self.they_on.retain(|o| *o != opt);
                    return vec![IAC, DONT, opt];
                }
                Vec::new()
            }
            _ => Vec::new(),
        }
    }
}

/// What the reader and the writer of one RFC 2217 connection share.
struct Shared {
    /// The socket's sending side: data and negotiation answers are written under this lock, so
    /// they never interleave.
    out: Mutex<TcpStream>,
    neg: Mutex<Negotiation>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    fn send(&self, bytes: &[u8]) -> io::Result<()> {
        if bytes.is_empty() {
            return Ok(());
        }
        let mut sock = lock(&self.out);
        write_all_until(&mut sock, bytes, Instant::now() + WRITE_STALL)
    }
}

/// Writes all of `bytes`, retrying while the socket's write timeout passes, until `deadline`.
fn write_all_until(sock: &mut TcpStream, mut bytes: &[u8], deadline: Instant) -> io::Result<()> {
    while !bytes.is_empty() {
        match sock.write(bytes) {
            Ok(0) => {
                return Err(io::Error::new(
                    io::ErrorKind::WriteZero,
                    "the bridge accepts no more bytes",
                ))
            }
            Ok(n) => bytes = &bytes[n..],
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock
                        | io::ErrorKind::TimedOut
                        | io::ErrorKind::Interrupted
                ) && Instant::now() < deadline => {}
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                // Not a time-out kind: part of the bytes may be gone, so nobody may retry them.
                return Err(io::Error::new(
                    io::ErrorKind::BrokenPipe,
                    format!(
                        "the bridge accepted no data for {} s",
                        WRITE_STALL.as_secs()
                    ),
                ));
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Why an RFC 2217 session could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum Rfc2217Error {
    /// The socket failed.
    #[error(transparent)]
    Io(#[from] io::Error),
    /// The server refused the COM port option.
    #[error("the server refused RFC 2217 (COM-PORT-OPTION); for a raw TCP port use socket://")]
    Refused,
    /// The server did not answer the COM port option in time.
    #[error("the server did not agree to RFC 2217 (COM-PORT-OPTION) within {} s; for a raw TCP port use socket://", NEGOTIATION_TIMEOUT.as_secs())]
    NoAgreement,
    /// The server did not confirm a setting in time.
    #[error("the server did not confirm the {what} within {} s", NEGOTIATION_TIMEOUT.as_secs())]
    NotConfirmed {
        /// The setting.
        what: &'static str,
    },
    /// The server set another value than the one asked for.
    #[error("the server set the {what} to {got} instead of {wanted}")]
    Rejected {
        /// The setting.
        what: &'static str,
        /// The value asked for.
        wanted: String,
        /// The value the server reports.
        got: String,
    },
}

/// The receiving side of an RFC 2217 connection: [`Read`] gives the serial data only; Telnet
/// commands are handled (and answered) on the way.
pub struct Rfc2217Reader {
    sock: TcpStream,
    decoder: Decoder,
    shared: Arc<Shared>,
    raw: Vec<u8>,
    data: Vec<u8>,
    events: Vec<Event>,
}

/// The sending side of an RFC 2217 connection: [`Write`] escapes the data.
pub struct Rfc2217Writer {
    shared: Arc<Shared>,
}

impl Read for Rfc2217Reader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            self.raw.resize(buf.len(), 0);
            let n = self.sock.read(&mut self.raw)?;
            if n == 0 {
                return Ok(0);
            }
            self.data.clear();
            self.events.clear();
            self.decoder
                .feed(&self.raw[..n], &mut self.data, &mut self.events);
            if !self.events.is_empty() {
                let mut reply = Vec::new();
                {
                    let mut neg = lock(&self.shared.neg);
                    for ev in self.events.drain(..) {
                        reply.extend(neg.handle(ev));
                    }
                }
                self.shared.send(&reply)?;
            }
            if !self.data.is_empty() {
                // Decoding never lengthens: the data fits in `buf`.
                let len = self.data.len();
                buf[..len].copy_from_slice(&self.data);
                return Ok(len);
            }
        }
    }
}

impl Write for Rfc2217Writer {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.shared.send(&escape(buf))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for Rfc2217Writer {
    fn drop(&mut self) {
        // The reader's clone of the socket stays open until it is dropped too; this ends the
        // connection for the server as soon as nothing more will be written.
        let _ = lock(&self.shared.out).shutdown(Shutdown::Write);
    }
}

/// The serial settings asked of an RFC 2217 server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortSettings {
    /// Baud rate.
    pub baud: u32,
    /// Hardware (RTS/CTS) flow control; otherwise none.
    pub rts_cts: bool,
}

impl Rfc2217Reader {
    /// Reads (and drops any data) until `done` holds for the negotiation or `deadline` passes.
    fn pump_until(
        &mut self,
        deadline: Instant,
        mut done: impl FnMut(&Negotiation) -> bool,
    ) -> Result<bool, Rfc2217Error> {
        let mut scratch = [0u8; 512];
        loop {
            if done(&lock(&self.shared.neg)) {
                return Ok(true);
            }
            if Instant::now() >= deadline {
                return Ok(false);
            }
            match self.read(&mut scratch) {
                Ok(0) => {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "the bridge closed the connection while negotiating",
                    )
                    .into())
                }
                Ok(_) => {}
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock
                            | io::ErrorKind::TimedOut
                            | io::ErrorKind::Interrupted
                    ) => {}
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Asks the server for `settings` and waits until it confirms each of them.
    pub fn configure(
        &mut self,
        writer: &Rfc2217Writer,
        settings: PortSettings,
    ) -> Result<(), Rfc2217Error> {
        let control = if settings.rts_cts { 3u8 } else { 1u8 };
        let asked: [(u8, &'static str, Vec<u8>); 5] = [
            (
                SET_BAUDRATE,
                "baud rate",
                settings.baud.to_be_bytes().to_vec(),
            ),
            (SET_DATASIZE, "data size", vec![8]),
            (SET_PARITY, "parity", vec![1]),
            (SET_STOPSIZE, "stop size", vec![1]),
            (SET_CONTROL, "flow control", vec![control]),
        ];
        let mut out = Vec::new();
        {
            let mut neg = lock(&self.shared.neg);
            for (code, _, value) in &asked {
                neg.answers.remove(code);
                out.extend(com_port_command(*code, value));
            }
        }
        writer.shared.send(&out)?;
        let deadline = Instant::now() + NEGOTIATION_TIMEOUT;
        self.pump_until(deadline, |neg| {
            asked.iter().all(|(c, _, _)| neg.answers.contains_key(c))
        })?;
        let neg = lock(&self.shared.neg);
        for (code, what, value) in &asked {
            match neg.answers.get(code) {
                None => return Err(Rfc2217Error::NotConfirmed { what }),
                Some(got) if got != value => {
                    return Err(Rfc2217Error::Rejected {
                        what,
                        wanted: show_setting(*code, value),
                        got: show_setting(*code, got),
                    })
                }
                Some(_) => {}
            }
        }
        Ok(())
    }
}

fn show_setting(code: u8, value: &[u8]) -> String {
    match (code, value) {
        (SET_BAUDRATE, [a, b, c, d]) => u32::from_be_bytes([*a, *b, *c, *d]).to_string(),
        (SET_CONTROL, [1]) => "none".into(),
        (SET_CONTROL, [3]) => "RTS/CTS".into(),
        (_, [v]) => v.to_string(),
        _ => format!("{value:02x?}"),
    }
}

/// Opens an RFC 2217 session on a connected socket: offers the options and waits until the
/// server agrees to COM-PORT-OPTION. The port settings are asked for with
/// [`Rfc2217Reader::configure`].
pub fn rfc2217_session(sock: TcpStream) -> Result<(Rfc2217Reader, Rfc2217Writer), Rfc2217Error> {
    let out = sock.try_clone()?;
    let shared = Arc::new(Shared {
        out: Mutex::new(out),
        neg: Mutex::new(Negotiation::default()),
    });
    let hello = lock(&shared.neg).start();
    shared.send(&hello)?;
    let mut reader = Rfc2217Reader {
        sock,
        decoder: Decoder::default(),
        shared: Arc::clone(&shared),
        raw: Vec::new(),
        data: Vec::new(),
        events: Vec::new(),
    };
    let writer = Rfc2217Writer { shared };
    let deadline = Instant::now() + NEGOTIATION_TIMEOUT;
    let agreed = reader.pump_until(deadline, |n| {
        n.we_on.contains(&COM_PORT) || n.com_port_refused
    })?;
    let refused = lock(&reader.shared.neg).com_port_refused;
    match (agreed, refused) {
        (_, true) => Err(Rfc2217Error::Refused),
        (false, _) => Err(Rfc2217Error::NoAgreement),
        (true, false) => Ok((reader, writer)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(chunks: &[&[u8]]) -> (Vec<u8>, Vec<Event>) {
        let mut d = Decoder::default();
        let (mut data, mut events) = (Vec::new(), Vec::new());
        for c in chunks {
            d.feed(c, &mut data, &mut events);
        }
        (data, events)
    }

    #[test]
    fn addresses_are_parsed_and_bad_ones_named() {
        assert_eq!(
            Address::parse("/dev/ttyUSB0"),
            Ok(Address::Device("/dev/ttyUSB0".into()))
        );
        assert_eq!(
            Address::parse("socket://127.0.0.1:7000"),
            Ok(Address::Socket {
                host_port: "127.0.0.1:7000".into()
            })
        );
        assert_eq!(
            Address::parse("RFC2217://bench-3.lab:2217"),
            Ok(Address::Rfc2217 {
                host_port: "bench-3.lab:2217".into()
            })
        );
        assert!(Address::parse("rfc2217://[::1]:2217").is_ok());
        for (bad, why) in [
            ("socket://127.0.0.1", "TCP port is missing"),
            ("socket://127.0.0.1:0", "not in 1..=65535"),
            ("socket://127.0.0.1:70000", "not in 1..=65535"),
            ("socket://:7000", "host"),
            ("rfc2217://h/x:1", "host"),
            ("rfc2217://[::1:2217", "host"),
            ("loop://x:1", "unknown scheme loop://"),
            ("", "empty"),
        ] {
            let e = Address::parse(bad).unwrap_err();
            assert!(e.to_string().contains(why), "{bad}: {e}");
            assert!(e.to_string().contains("socket://HOST:PORT"), "{e}");
        }
    }

    #[test]
    fn data_is_separated_from_commands_across_reads() {
        let (data, events) = decode(&[
            b"AT\r",
            &[IAC],
            &[IAC, b'x', IAC, WILL],
            &[SGA, IAC, SB, COM_PORT, 101, 0, 1],
            &[0xc2, 0, IAC],
            &[SE, b'O', b'K', IAC, 241],
        ]);
        assert_eq!(data, b"AT\r\xffxOK");
        assert_eq!(
            events,
            [
                Event::Option(WILL, SGA),
                Event::ComPort(101, vec![0, 1, 0xc2, 0])
            ]
        );
    }

    #[test]
    fn escaped_iac_in_a_subnegotiation_is_one_byte() {
        let (data, events) = decode(&[&[IAC, SB, COM_PORT, 101, 0, 0, IAC, IAC, 0, IAC, SE]]);
        assert!(data.is_empty());
        assert_eq!(events, [Event::ComPort(101, vec![0, 0, 0xff, 0])]);
    }

    #[test]
    fn data_and_commands_are_escaped() {
        assert_eq!(escape(b"a\xffb"), b"a\xff\xffb");
        assert_eq!(
            com_port_command(SET_BAUDRATE, &255u32.to_be_bytes()),
            [IAC, SB, COM_PORT, 1, 0, 0, 0, IAC, IAC, IAC, SE]
        );
    }

    #[test]
    fn negotiation_answers_requests_once_and_refuses_unknown_options() {
        let mut n = Negotiation::default();
        let hello = n.start();
        assert_eq!(
            hello,
            [
                IAC, WILL, BINARY, IAC, WILL, SGA, IAC, WILL, COM_PORT, IAC, DO, BINARY, IAC, DO,
                SGA
            ]
        );
        // Answers to our requests need no reply.
        assert!(n.handle(Event::Option(DO, COM_PORT)).is_empty());
        assert!(n.we_on.contains(&COM_PORT));
        assert!(n.handle(Event::Option(WILL, SGA)).is_empty());
        // The server's own requests are answered once.
        assert_eq!(n.handle(Event::Option(WILL, ECHO)), [IAC, DO, ECHO]);
        assert!(n.handle(Event::Option(WILL, ECHO)).is_empty());
        // Unknown options are refused.
        assert_eq!(n.handle(Event::Option(DO, 24)), [IAC, WONT, 24]);
        assert_eq!(n.handle(Event::Option(WILL, 31)), [IAC, DONT, 31]);
        // An option turned off is acknowledged.
        assert_eq!(n.handle(Event::Option(WONT, ECHO)), [IAC, DONT, ECHO]);
        // The server's answers to COM port commands are kept by client code.
        assert!(n
            .handle(Event::ComPort(101, 115_200u32.to_be_bytes().to_vec()))
            .is_empty());
        assert_eq!(
            n.answers.get(&SET_BAUDRATE),
            Some(&115_200u32.to_be_bytes().to_vec())
        );
    }

    #[test]
    fn a_refused_com_port_option_is_recorded() {
        let mut n = Negotiation::default();
        n.start();
        assert!(n.handle(Event::Option(DONT, COM_PORT)).is_empty());
        assert!(n.com_port_refused);
    }

    #[test]
    fn settings_are_shown_in_words() {
        assert_eq!(
            show_setting(SET_BAUDRATE, &921_600u32.to_be_bytes()),
            "921600"
        );
        assert_eq!(show_setting(SET_CONTROL, &[3]), "RTS/CTS");
        assert_eq!(show_setting(SET_DATASIZE, &[7]), "7");
    }
}
