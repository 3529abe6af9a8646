//! Opening a modem: choose the port, open it (probing the baud rate when asked), and build the
//! core's client on it. Also maps the core's errors to the CLI's exit codes, so every subcommand
//! reports a failed step the same way.

use std::time::Duration;

use futures::io::{AsyncReadExt, ReadHalf, WriteHalf};
use ryz014_core::client::{Client, ClientError};
use ryz014_core::timer::FuturesTimer;
use ryz014_serial::ports::{choose_port, ChooseError};
use ryz014_serial::transport::{open, Baud, SerialConfig, SerialTransport};

use crate::cli::{CliError, Exit, Out, PortArgs};

/// The core's client on a native serial port.
pub type SerialClient = Client<ReadHalf<SerialTransport>, WriteHalf<SerialTransport>>;

/// The port named with `--port`, or the only likely modem; otherwise a usage/port error that lists
/// the candidates.
pub fn pick_port(explicit: Option<&str>) -> Result<String, CliError> {
    match choose_port(explicit) {
        Ok(p) => Ok(p.port.path),
        Err(ChooseError::Select(e)) => Err(e.into()),
        Err(ChooseError::List(e)) => Err(CliError::new(Exit::Port, e.to_string())),
    }
}

/// Opens `path` and wraps it in a client (10 s default command timeout).
pub fn open_path(
    path: &str,
    baud: Baud,
    rts_cts: bool,
    out: &Out,
) -> Result<SerialClient, CliError> {
    let mut config = SerialConfig::new(path);
    config.baud = baud;
    config.rts_cts = rts_cts;
    out.debug(1, &format!("opening {path} ({baud:?})"));
    let transport = open(&config)?;
    match transport.baud() {
        Some(b) => out.debug(1, &format!("{path} open at {b} baud")),
        None => out.debug(1, &format!("{path} open (the bridge sets the baud rate)")),
    }
    let (reader, writer) = transport.split();
    Ok(Client::new(reader, writer, FuturesTimer))
}

/// Chooses and opens the port of `args`; returns the client and the path used.
pub fn open_client(args: &PortArgs, out: &Out) -> Result<(SerialClient, String), CliError> {
    let path = pick_port(args.port.as_deref())?;
    let client = open_path(&path, args.baud, args.rtscts, out)?;
    Ok((client, path))
}

/// A client error during `step`, as a CLI error with the right exit code: 3 for no answer in
/// time, 4 for a port that closed or failed, 1 for a refusal or an unexpected reset.
pub fn client_error(step: &str, e: &ClientError) -> CliError {
    let exit = match e {
        ClientError::Timeout { .. } => Exit::Timeout,
        ClientError::Closed | ClientError::Io(_) => Exit::Port,
        ClientError::Refused { .. }
        | ClientError::Rebooted { .. }
        | ClientError::Crashed { .. } => Exit::Failed,
    };
    CliError::new(exit, format!("{step}: {e}"))
}

/// How long [`sync`] waits for each `AT`.
pub const SYNC_EACH: Duration = Duration::from_millis(700);

/// Gets in step with the modem (`AT` until `OK`, at most 5 tries).
pub async fn sync(client: &mut SerialClient) -> Result<(), CliError> {
    client
        .sync(5, SYNC_EACH)
        .await
        .map_err(|e| client_error("waking the modem with AT", &e))
}
