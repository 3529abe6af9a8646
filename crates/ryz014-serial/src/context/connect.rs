//! Connecting to a modem, the one way every command does it: choose the port, open it (probing
//! the baud rate when asked), build the core's client on it, install the `-vv` wire log, and get
//! in step with the modem.

use futures::io::{AsyncRead, AsyncReadExt, AsyncWrite, ReadHalf, WriteHalf};
use ryz014_core::client::{Client, WireEvent};
use ryz014_core::session::{self, ConnectError, ErrorMode, SyncBudget};
use ryz014_core::timer::FuturesTimer;
use ryz014_serial::ports::{choose_port, ChooseError};
use ryz014_serial::transport::{open, SerialConfig, SerialTransport};

use super::error::{client_error, CliError, Exit};
use super::options::PortArgs;
use super::out::Out;

/// The core's client on a native serial port.
pub type SerialClient = Client<ReadHalf<SerialTransport>, WriteHalf<SerialTransport>>;

/// How hard the CLI tries to get an `OK` to `AT` once a port is open (the port itself probes the
/// baud rate): the core's [`SyncBudget::cli`].
pub const BUDGET: SyncBudget = SyncBudget::cli();

/// What [`connect`] does once the port is open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handshake {
    /// Nothing: the command talks to the modem itself.
    None,
    /// `AT` until `OK` (within [`BUDGET`]), the modem's error mode kept.
    Sync,
    /// `AT` until `OK`, then ask for numeric `+CME ERROR: <n>` answers (`AT+CMEE=1`), so that a
    /// refusal names its cause (best effort: only a closed port stops there).
    SyncNumericErrors,
}

/// The port named with `--port`, or the only likely modem; otherwise a usage/port error that lists
/// the candidates.
pub fn pick_port(explicit: Option<&str>) -> Result<String, CliError> {
    match choose_port(explicit) {
        Ok(p) => Ok(p.port.path),
        Err(ChooseError::Select(e)) => Err(e.into()),
        Err(ChooseError::List(e)) => Err(CliError::new(Exit::Port, e.to_string())),
    }
}

/// Connects to the modem of `args` (the port named with `--port`, or the only likely modem):
/// opens it, builds the client (10 s default command timeout), installs the `-vv` wire log when
/// `wire_log`, and runs the `handshake`. Returns the client and the port's path.
pub fn connect(
    args: &PortArgs,
    out: &Out,
    wire_log: bool,
    handshake: Handshake,
) -> Result<(SerialClient, String), CliError> {
    let path = pick_port(args.port.as_deref())?;
    let mut config = SerialConfig::new(&path);
    config.baud = args.baud;
    config.rts_cts = args.rtscts;
    out.debug(1, &format!("opening {path} ({:?})", args.baud));
    let transport = open(&config)?;
    match transport.baud() {
        Some(b) => out.debug(1, &format!("{path} open at {b} baud")),
        None => out.debug(1, &format!("{path} open (the bridge sets the baud rate)")),
    }
    let (reader, writer) = transport.split();
    let mut client = Client::new(reader, writer, FuturesTimer);
    if wire_log {
        log_wire(&mut client, out, &path);
    }
    let errors = match handshake {
        Handshake::None => return Ok((client, path)),
        Handshake::Sync => ErrorMode::Keep,
        Handshake::SyncNumericErrors => ErrorMode::NumericBestEffort,
    };
    futures::executor::block_on(greet(&mut client, "waking the modem with AT", errors))?;
    Ok((client, path))
}

/// Gets in step with the modem through the core's [`session::connect`] ([`BUDGET`]), then sets
/// the `errors` mode; a failure to answer `AT` names `step`.
pub async fn greet<R, W>(
    client: &mut Client<R, W>,
    step: &str,
    errors: ErrorMode,
) -> Result<(), CliError>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    session::connect(client, BUDGET, errors)
        .await
        .map_err(|e| match e {
            ConnectError::NoAnswer(e) => client_error(step, &e),
            ConnectError::ErrorMode(e) => client_error("asking for numeric errors (AT+CMEE=1)", &e),
        })
}

/// A port's name without `/dev/`, for tags and the wire log.
pub fn short_port(port: &str) -> String {
    port.strip_prefix("/dev/").unwrap_or(port).to_string()
}

/// Installs the `-vv` wire log on a client (commands already redacted by the client).
pub fn log_wire<R, W>(client: &mut Client<R, W>, out: &Out, port: &str)
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    if out.verbose < 2 {
        return;
    }
    let port = short_port(port);
    let sink = out.clone();
    client.set_observer(Box::new(move |ev: &WireEvent| {
        let line = match ev {
            WireEvent::Sent(s) => format!("{port} → {s}"),
            WireEvent::Received(s) => format!("{port} ← {s}"),
            WireEvent::Prompt => format!("{port} ← >"),
            WireEvent::Overflow { discarded } => {
                format!("{port} ← (an over-long line: {discarded} bytes discarded)")
            }
            WireEvent::Stray(s) => format!("{port} ← (stray) {s}"),
        };
        sink.diagnostic(&format!("ryz014: {line}"));
    }));
}
