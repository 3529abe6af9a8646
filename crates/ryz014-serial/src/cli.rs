//! The `ryz014` command line: argument definitions (clap derive), output in words or JSON lines,
//! and the error type that carries the exit code.
//!
//! Exit codes: 0 success; 1 the modem refused or the operation failed; 2 bad usage, a bad
//! profile or a wrong file (told before any port is opened); 3 no answer in time; 4 the port
//! could not be opened or vanished.

use std::fmt;
use std::io::{self, Write};
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use serde_json::{json, Value};

use ryz014_core::psk::PskSecret;
use ryz014_serial::inventory::{ExportFormat, Inventory, InventoryError, Record};
use ryz014_serial::net::Address;
use ryz014_serial::ports::{self, Likelihood, SelectError};
use ryz014_serial::transport::{Baud, TransportError, MAX_BAUD, MIN_BAUD};

/// The inventory file used when `--inventory` is not given.
pub const DEFAULT_INVENTORY: &str = "ryz014-inventory.sqlite";

const MAIN_HELP: &str = "\
Exit codes:
  0  success
  1  the modem refused or the operation failed (the message names the step and the modem's answer)
  2  bad usage, a bad profile or a wrong file, told before any port is opened (the message
     names the key or file and what is allowed)
  3  no answer in time
  4  the port could not be opened or vanished

Examples:
  ryz014 ports                                   list serial ports; shows which one would be chosen
  ryz014 info                                    identify the only plugged-in modem
  ryz014 keygen --count 3                        three random 32-byte PSKs in hex
  ryz014 provision -p /dev/ttyUSB0 --profile coiote.toml
  ryz014 inventory export --format coiote-csv --out devices.csv
  ryz014 monitor -p /dev/ttyUSB0 --until installed
  ryz014 --json status -p /dev/ttyUSB0           one JSON object per line

PSK secrets never appear in output, logs or errors; only `keygen` and `inventory export` print them.";

/// ryz014: provision Renesas RYZ014 LTE-M modems for FOTA and watch upgrades live.
#[derive(Debug, Parser)]
#[command(name = "ryz014", version, after_help = MAIN_HELP)]
pub struct Cli {
    /// Print one JSON object per line per event on stdout instead of words (errors too:
    /// `{"event":"error","exit_code":N,"message":…}`).
    #[arg(long, global = true)]
    pub json: bool,

    /// More detail on stderr: -v shows each step, -vv every AT line (secrets stay redacted).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// List serial ports with their USB details and say which one would be auto-selected.
    #[command(after_help = "\
No USB vendor/product ID is documented for the RYZ014, so ports are ranked: a USB port whose
descriptor names Sequans, Renesas, RYZ014 or Monarch first, then USB serial ports, then board
UARTs; `ttyS*` ports without a device behind them are ignored. Commands that take --port choose
the port themselves only when exactly one port is the best candidate.

Examples:
  ryz014 ports
  ryz014 ports --json")]
    Ports,

    /// Identify the modem: IMEI, firmware, operator mode and FOTA configuration.
    #[command(after_help = "\
Examples:
  ryz014 info                       the only plugged-in modem
  ryz014 info -p /dev/ttyUSB0 --baud 115200")]
    Info(PortArgs),

    /// Generate random 32-byte PSK secrets (64 hex digits each). This output IS secret.
    #[command(after_help = "\
The secrets come from the operating system's random source. `provision` generates its own
secret for each modem and stores it in the inventory; use keygen for other tools.

Examples:
  ryz014 keygen
  ryz014 keygen --count 10 --json")]
    Keygen {
        /// How many secrets to generate.
        #[arg(short = 'n', long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=10_000))]
        count: u32,
    },

    /// Provision modems for FOTA: read the IMEI, generate the PSK, record it, configure, verify.
    #[command(after_help = "\
Steps: read the IMEI (Luhn-checked), the firmware and the operator mode; generate a 32-byte PSK;
record the modem as pending in the inventory (committed to disk BEFORE the secret goes to the
modem); run the profile's plan (LwM2M server, PSK, restoration point, FOTA client, two reboots);
read everything back; mark the record verified. The plan first deletes the modem's DM profile, so
no earlier server or key stays. An IMEI that is already verified is refused unless --force, which
rotates its key and keeps the old record as history (superseded at once: the old key is no longer
exported). Interrupted or failed runs are resumed: a plain re-run finishes the pending (or newest
failed) record with the secret it already holds, updating the record when the profile changed. A
modem that holds a PSK no record of this inventory knows is refused unless --force.

Examples:
  ryz014 provision -p /dev/ttyUSB0 --profile coiote.toml --dry-run
  ryz014 provision -p /dev/ttyUSB0 -p /dev/ttyUSB1 --profile coiote.toml --inventory lab.sqlite")]
    Provision(ProvisionArgs),

    /// Look at the provisioning inventory or export it for the LwM2M server.
    #[command(subcommand)]
    Inventory(InventoryCommand),

    /// Watch a modem's FOTA and registration notifications live.
    #[command(after_help = "\
Examples:
  ryz014 monitor -p /dev/ttyUSB0
  ryz014 monitor -p /dev/ttyUSB0 --until installed --json")]
    Monitor {
        /// The port.
        #[command(flatten)]
        port: PortArgs,
        /// Stop when the upgrade gets here: exit 0 when it does, 1 when the upgrade ends the other
        /// way (e.g. `--until installed` and `+SQNFOTA: 3,8`). Without it: watch until an upgrade ends.
        #[arg(long, value_enum)]
        until: Option<Until>,
        /// Give up (exit 3) after this many seconds without reaching the end.
        #[arg(long, value_name = "SECS", default_value = "2592000", value_parser = parse_secs)]
        timeout: Duration,
        /// How long to keep trying to re-open a port that vanished (exit 4 after that).
        #[arg(long, value_name = "SECS", default_value = "60", value_parser = parse_secs)]
        reopen_timeout: Duration,
    },

    /// Show the modem's current registration and FOTA state once.
    #[command(after_help = "\
Examples:
  ryz014 status -p /dev/ttyUSB0
  ryz014 status --json")]
    Status(PortArgs),

    /// Start a device-initiated upgrade from a URL (AT+SQNSUPGRADE) and follow it.
    #[command(after_help = "\
Examples:
  ryz014 upgrade -p /dev/ttyUSB0 --url http://192.0.2.10/LR5.4.1.1-57857.dup")]
    Upgrade {
        /// The port.
        #[command(flatten)]
        port: PortArgs,
        /// Where the modem downloads the image from: an http://, https:// or ftp:// URL (the
        /// schemes the application note allows); checked before the port is opened.
        #[arg(long, value_name = "URL")]
        url: String,
        /// Give up (exit 3) when the upgrade has not ended after this many seconds.
        #[arg(long, value_name = "SECS", default_value = "3600", value_parser = parse_secs)]
        timeout: Duration,
        /// Seconds between two status reads (`AT+SQNSUPGRADE?`).
        #[arg(long, value_name = "SECS", default_value = "0.5", value_parser = parse_positive_secs)]
        poll: Duration,
    },

    /// An interactive AT terminal that explains every notification in plain words.
    #[command(after_help = "\
Examples:
  ryz014 term -p /dev/ttyUSB0

Environment: RYZ014_HISTORY names the history file (default ~/.ryz014_history; empty: none).
Secrets typed in AT+SQNDMCFG are stored redacted; the file is created with mode 0600.")]
    Term {
        /// The port.
        #[command(flatten)]
        port: PortArgs,
        /// Seconds a command may take before the console stops waiting for its answer.
        #[arg(long, value_name = "SECS", default_value = "10", value_parser = parse_positive_secs)]
        timeout: Duration,
    },

    /// Explain a captured AT log (a file, or `-` for standard input) line by line.
    #[command(after_help = "\
Examples:
  ryz014 decode capture.log
  cat capture.log | ryz014 decode --json")]
    Decode {
        /// The log file; `-` (the default) reads standard input.
        #[arg(value_name = "FILE|-", default_value = "-")]
        file: String,
    },

    /// Provision and upgrade a simulated modem, to see the whole flow without hardware.
    #[command(after_help = "\
Runs the simulator inside ryz014 (nothing is plugged in, nothing leaves the machine): provisions
it with the default Coiote profile into a temporary inventory (deleted at the end), registers it
on the simulated LwM2M server as an inventory export would, schedules a firmware image there and
follows the upgrade to `installed` with the same displays as `provision` and `monitor`. The
simulated modem's delays (boots, attach, download, installation) run --speed times faster than
real time; long idle waits (the bootstrap hold-off) are fast-forwarded.

Examples:
  ryz014 demo
  ryz014 demo --json
  ryz014 demo --speed 20")]
    Demo(DemoArgs),
}

/// `demo`'s options.
#[derive(Debug, Clone, Args)]
pub struct DemoArgs {
    /// Simulated seconds per real second (1 = the modem's real pace).
    #[arg(long, default_value_t = 4.0, value_parser = parse_speed)]
    pub speed: f64,
}

fn parse_speed(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && (0.1..=10_000.0).contains(&v) => Ok(v),
        _ => Err("speed must be a number in 0.1..=10000".into()),
    }
}

/// Serial port options shared by the commands that talk to one modem.
#[derive(Debug, Clone, Args)]
pub struct PortArgs {
    /// The serial port (`/dev/ttyUSB0`, `COM3`), or a serial-to-network bridge:
    /// `socket://HOST:PORT` (raw TCP) or `rfc2217://HOST:PORT` (Telnet COM port control). Without
    /// it, the only likely modem port is used.
    #[arg(short, long, value_name = "PORT", value_parser = parse_port)]
    pub port: Option<String>,
    /// Baud rate, or `auto` to try 921600 then 115200 with `AT` (through `socket://` the bridge's
    /// own rate applies).
    #[arg(long, value_name = "RATE|auto", default_value = "auto", value_parser = parse_baud)]
    pub baud: Baud,
    /// Use RTS/CTS hardware flow control (negotiated through `rfc2217://`; the bridge's own
    /// setting applies through `socket://`).
    #[arg(long)]
    pub rtscts: bool,
}

/// `provision`'s options.
#[derive(Debug, Clone, Args)]
pub struct ProvisionArgs {
    /// A serial port, `socket://HOST:PORT` or `rfc2217://HOST:PORT`; repeat it to provision
    /// several modems in parallel (local ports and bridges mix freely).
    #[arg(short, long = "port", value_name = "PORT", value_parser = parse_port)]
    pub ports: Vec<String>,
    /// Baud rate, or `auto` to try 921600 then 115200 with `AT` (through `socket://` the bridge's
    /// own rate applies).
    #[arg(long, value_name = "RATE|auto", default_value = "auto", value_parser = parse_baud)]
    pub baud: Baud,
    /// Use RTS/CTS hardware flow control (negotiated through `rfc2217://`; the bridge's own
    /// setting applies through `socket://`).
    #[arg(long)]
    pub rtscts: bool,
    /// The provisioning profile (TOML): LwM2M server, FOTA settings, operator mode.
    #[arg(long, value_name = "FILE")]
    pub profile: PathBuf,
    /// The inventory file.
    #[command(flatten)]
    pub inventory: InventoryArg,
    /// Show the plan (secrets redacted) without sending anything to the modem.
    #[arg(long)]
    pub dry_run: bool,
    /// Re-provision a modem already verified: a new key; the old record is kept as history.
    #[arg(long)]
    pub force: bool,
}

/// `--inventory FILE`.
#[derive(Debug, Clone, Args)]
pub struct InventoryArg {
    /// The inventory (SQLite) file.
    #[arg(long = "inventory", value_name = "DB", default_value = DEFAULT_INVENTORY)]
    pub path: PathBuf,
}

/// `inventory` subcommands.
#[derive(Debug, Subcommand)]
pub enum InventoryCommand {
    /// List every record (secrets show only their first 4 hex digits).
    #[command(after_help = "\
States: pending (recorded; the secret may not have reached the modem yet), verified, failed,
superseded (replaced by a forced re-provisioning).

Examples:
  ryz014 inventory list
  ryz014 inventory list --inventory lab.sqlite --json")]
    List {
        /// The inventory file.
        #[command(flatten)]
        inventory: InventoryArg,
    },
    /// Export the verified modems WITH their secrets, for the LwM2M server.
    #[command(after_help = "\
coiote-csv writes `endpointName,dtlsIdentity,dtlsPskHex` (the names of Coiote's REST API; its CSV
import headers are unconfirmed); json writes an array of Coiote REST API device objects
(POST /api/coiotedm/v3/devices). Only verified modems are exported. --out must be a new path or a
regular file: the file gets mode 0600 and is replaced atomically; devices, FIFOs, symbolic links
and directories are refused (exit 2). Without --out or with `--out -` the export goes to standard
output (with --json: as the `content` of one `export` event). The inventory is only read.

Examples:
  ryz014 inventory export --out devices.csv
  ryz014 inventory export --format json --out devices.json")]
    Export {
        /// The inventory file.
        #[command(flatten)]
        inventory: InventoryArg,
        /// The export format.
        #[arg(long, value_enum, default_value_t = ExportFormatArg::CoioteCsv)]
        format: ExportFormatArg,
        /// The output file: a new path or a regular file (written with mode 0600; anything else,
        /// such as a device, a FIFO, a symbolic link or a directory, is refused with exit 2).
        /// `-` or no --out: standard output.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
}

/// `--format` of `inventory export`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormatArg {
    /// `endpointName,dtlsIdentity,dtlsPskHex`.
    CoioteCsv,
    /// Coiote REST API device objects.
    Json,
}

impl From<ExportFormatArg> for ExportFormat {
    fn from(f: ExportFormatArg) -> Self {
        match f {
            ExportFormatArg::CoioteCsv => ExportFormat::CoioteCsv,
            ExportFormatArg::Json => ExportFormat::Json,
        }
    }
}

/// `--until` of `monitor`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Until {
    /// The new firmware is installed.
    Installed,
    /// The FOTA client is idle.
    Idle,
    /// The upgrade failed.
    Failed,
}

/// Seconds (decimals allowed) as a duration: 0 up to about 31 years.
fn parse_secs(s: &str) -> Result<Duration, String> {
    match s.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && (0.0..=1e9).contains(&v) => Ok(Duration::from_secs_f64(v)),
        _ => Err("seconds must be a number in 0..=1000000000 (decimals allowed)".to_string()),
    }
}

/// Like [`parse_secs`], but more than zero.
fn parse_positive_secs(s: &str) -> Result<Duration, String> {
    match parse_secs(s) {
        Ok(d) if !d.is_zero() => Ok(d),
        _ => Err("seconds must be a number greater than 0, at most 1000000000".to_string()),
    }
}

/// A port as given to `-p`: a device path, or a well-formed `socket://` or `rfc2217://` URL.
fn parse_port(s: &str) -> Result<String, String> {
    Address::parse(s)
        .map(|_| s.to_string())
        .map_err(|e| e.to_string())
}

fn parse_baud(s: &str) -> Result<Baud, String> {
    if s.eq_ignore_ascii_case("auto") {
        return Ok(Baud::Auto);
    }
    match s.parse::<u32>() {
        Ok(b) if (MIN_BAUD..=MAX_BAUD).contains(&b) => Ok(Baud::Fixed(b)),
        _ => Err(format!(
            "baud must be `auto` or a rate in {MIN_BAUD}..={MAX_BAUD}"
        )),
    }
}

/// The process exit codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// The modem refused or the operation failed.
    Failed = 1,
    /// Bad usage or a bad profile.
    Usage = 2,
    /// No answer in time.
    Timeout = 3,
    /// The port could not be opened or vanished.
    Port = 4,
}

/// A failure with its exit code. The message never holds a secret.
#[derive(Debug)]
pub struct CliError {
    /// The exit code.
    pub exit: Exit,
    /// What went wrong, in words.
    pub message: String,
    /// Say nothing (standard output was closed by the reader).
    pub quiet: bool,
}

impl CliError {
    /// An error with this exit code.
    pub fn new(exit: Exit, message: impl Into<String>) -> Self {
        CliError {
            exit,
            message: message.into(),
            quiet: false,
        }
    }

    fn output(e: io::Error) -> Self {
        CliError {
            exit: Exit::Failed,
            quiet: e.kind() == io::ErrorKind::BrokenPipe,
            message: format!("cannot write the output: {e}"),
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<InventoryError> for CliError {
    fn from(e: InventoryError) -> Self {
        let exit = match &e {
            InventoryError::Missing(_)
            | InventoryError::Inaccessible { .. }
            | InventoryError::NotAFile { .. }
            | InventoryError::NotAnInventory(_)
            | InventoryError::SchemaTooNew { .. }
            | InventoryError::BadOutput { .. }
            | InventoryError::BadField { .. } => Exit::Usage,
            _ => Exit::Failed,
        };
        CliError::new(exit, e.to_string())
    }
}

impl From<TransportError> for CliError {
    fn from(e: TransportError) -> Self {
        let exit = match &e {
            TransportError::Open { .. }
            | TransportError::Io { .. }
            | TransportError::Connect { .. }
            | TransportError::Rfc2217 { .. } => Exit::Port,
            TransportError::NoAnswer { .. } | TransportError::NoAnswerRemote { .. } => {
                Exit::Timeout
            }
            TransportError::BadBaud { .. } | TransportError::BadAddress(_) => Exit::Usage,
        };
        CliError::new(exit, e.to_string())
    }
}

impl From<SelectError> for CliError {
    fn from(e: SelectError) -> Self {
        let exit = match &e {
            SelectError::NoCandidate(_) => Exit::Port,
            SelectError::Ambiguous(_) => Exit::Usage,
        };
        CliError::new(exit, e.to_string())
    }
}

/// Where results, events and diagnostics go.
pub struct Out {
    /// JSON lines instead of words.
    pub json: bool,
    /// `-v` count.
    pub verbose: u8,
}

impl Out {
    /// Prints one line of words (ignored in JSON mode).
    pub fn say(&self, line: &str) -> Result<(), CliError> {
        if self.json {
            return Ok(());
        }
        let mut out = io::stdout().lock();
        writeln!(out, "{line}").map_err(CliError::output)
    }

    /// Prints one JSON event (ignored in word mode).
    pub fn event(&self, value: &Value) -> Result<(), CliError> {
        if !self.json {
            return Ok(());
        }
        let mut out = io::stdout().lock();
        writeln!(out, "{value}").map_err(CliError::output)
    }

    /// A diagnostic on stderr, shown from verbosity `level` on (1 = `-v`, 2 = `-vv`).
    pub fn debug(&self, level: u8, line: &str) {
        if self.verbose >= level {
            let _ = writeln!(io::stderr().lock(), "ryz014: {line}");
        }
    }

    /// Reports a failure: a JSON `error` event on stdout in JSON mode, words on stderr otherwise.
    pub fn error(&self, e: &CliError) {
        if e.quiet {
            return;
        }
        if self.json {
            let line = json!({"event": "error", "exit_code": e.exit as u8, "message": e.message});
            let _ = writeln!(io::stdout().lock(), "{line}");
        } else {
            let _ = writeln!(io::stderr().lock(), "ryz014: error: {}", e.message);
        }
    }
}

/// Runs a parsed command line.
pub fn run(cli: Cli, out: &Out) -> Result<(), CliError> {
    match cli.command {
        Command::Ports => cmd_ports(out),
        Command::Keygen { count } => cmd_keygen(count, out),
        Command::Inventory(InventoryCommand::List { inventory }) => {
            cmd_inventory_list(&inventory, out)
        }
        Command::Inventory(InventoryCommand::Export {
            inventory,
            format,
            out: file,
        }) => cmd_inventory_export(&inventory, format, file, out),
        Command::Info(args) => crate::cmd::info::run(&args, out),
        Command::Provision(args) => crate::cmd::provision::run(&args, out),
        Command::Monitor {
            port,
            until,
            timeout,
            reopen_timeout,
        } => crate::cmd::monitor::run(&port, until, timeout, reopen_timeout, out),
        Command::Status(args) => crate::cmd::status::run(&args, out),
        Command::Upgrade {
            port,
            url,
            timeout,
            poll,
        } => crate::cmd::upgrade::run(&port, &url, timeout, poll, out),
        Command::Term { port, timeout } => crate::cmd::term::run(&port, timeout, out),
        Command::Decode { file } => crate::cmd::decode::run(&file, out),
        Command::Demo(args) => crate::cmd::demo::run(&args, out),
    }
}

fn cmd_ports(out: &Out) -> Result<(), CliError> {
    let list = ports::list_ports().map_err(|e| CliError::new(Exit::Port, e.to_string()))?;
    out.debug(1, &format!("{} serial port(s) found", list.len()));
    let ranked = ports::rank_ports(&list);
    if ranked.is_empty() {
        out.say("no serial ports found")?;
    }
    for r in &ranked {
        let mut event = serde_json::to_value(r).unwrap_or(Value::Null);
        if let Value::Object(map) = &mut event {
            map.insert("event".into(), json!("port"));
            map.insert("vid_pid".into(), json!(r.port.vid_pid()));
        }
        out.event(&event)?;
        out.say(&format!(
            "{:<9} {}  ({})",
            likelihood_word(r.likelihood),
            r.port.describe(),
            r.reason
        ))?;
    }
    match ports::auto_select(&list) {
        Ok(chosen) => {
            out.event(
                &json!({"event": "auto_select", "port": chosen.port.path, "reason": chosen.reason}),
            )?;
            out.say(&format!("auto-selected: {}", chosen.port.path))?;
        }
        Err(e) => {
            out.event(&json!({"event": "auto_select", "port": null, "reason": e.to_string()}))?;
            out.say(&format!("no auto-selection: {e}"))?;
        }
    }
    Ok(())
}

fn likelihood_word(l: Likelihood) -> &'static str {
    match l {
        Likelihood::Named => "modem",
        Likelihood::Likely => "likely",
        Likelihood::Possible => "possible",
        Likelihood::Unlikely => "unlikely",
    }
}

fn cmd_keygen(count: u32, out: &Out) -> Result<(), CliError> {
    for index in 1..=count {
        let secret =
            PskSecret::generate().map_err(|e| CliError::new(Exit::Failed, e.to_string()))?;
        // keygen's whole purpose is to print the secret: an explicit secret output.
        let hex = secret.expose_hex();
        out.event(&json!({"event": "psk", "index": index, "psk_hex": hex}))?;
        out.say(&hex)?;
    }
    Ok(())
}

fn record_event(r: &Record) -> Value {
    json!({
        "event": "record",
        "id": r.id,
        "imei": r.imei,
        "endpoint": r.endpoint,
        "psk_identity": r.psk_identity,
        "psk": r.secret.redacted(),
        "profile": r.profile,
        "state": r.state,
        "port": r.port,
        "firmware": r.firmware,
        "error": r.error,
        "replaces": r.replaces,
        "superseded_by": r.superseded_by,
        "server": r.server,
        "created_at": r.created_at,
        "updated_at": r.updated_at,
    })
}

/// Opens the inventory read-only (nothing in it or around it changes) and warns when other users
/// may read it: it holds PSK secrets, but a reading command does not change its mode.
fn open_for_reading(inv: &InventoryArg, out: &Out) -> Result<Inventory, CliError> {
    let inventory = Inventory::open_read_only(&inv.path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(&inv.path) {
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                let message = format!(
                    "inventory {} can be read by other users (mode {mode:04o}) and holds PSK \
                     secrets; `chmod 600` it",
                    inv.path.display()
                );
                out.event(&json!({"event": "warning", "message": message}))?;
                if !out.json {
                    let _ = writeln!(io::stderr().lock(), "ryz014: warning: {message}");
                }
            }
        }
    }
    Ok(inventory)
}

fn cmd_inventory_list(inv: &InventoryArg, out: &Out) -> Result<(), CliError> {
    out.debug(1, &format!("opening inventory {}", inv.path.display()));
    let inventory = open_for_reading(inv, out)?;
    let records = inventory.list()?;
    if records.is_empty() {
        out.say(&format!("no records in {}", inv.path.display()))?;
    } else {
        out.say(&format!(
            "{:>4}  {:<15}  {:<10}  {:<10}  {:<6}  {:<24}  {:<14}  {:<20}  note",
            "id", "imei", "state", "profile", "psk", "updated (UTC)", "port", "firmware"
        ))?;
    }
    for r in &records {
        out.event(&record_event(r))?;
        let note = match (r.state, &r.error, r.superseded_by, r.replaces) {
            (_, Some(e), _, _) => e.clone(),
            (_, None, Some(by), _) => format!("superseded by {by}"),
            (_, None, None, Some(old)) => format!("replaces {old}"),
            _ => String::new(),
        };
        out.say(&format!(
            "{:>4}  {:<15}  {:<10}  {:<10}  {:<6}  {:<24}  {:<14}  {:<20}  {}",
            r.id.0,
            r.imei.as_str(),
            r.state.as_str(),
            r.profile,
            r.secret.redacted(),
            r.updated_at,
            r.port.as_deref().unwrap_or("-"),
            r.firmware.as_deref().unwrap_or("-"),
            note
        ))?;
    }
    Ok(())
}

/// Says which IMEIs the export leaves out because their newest record is pending or failed: the
/// modem may hold that record's key, or none, so no key of theirs is handed out as current. On
/// stderr in words (the export itself may be on stdout), as `attention` events with `--json`.
fn report_attention(inventory: &Inventory, out: &Out) -> Result<(), CliError> {
    let records = inventory.needing_attention()?;
    for r in &records {
        out.event(&json!({
            "event": "attention", "imei": r.imei, "record": r.id, "state": r.state,
            "psk": r.secret.redacted(), "error": r.error,
        }))?;
        if !out.json {
            eprintln!(
                "ryz014: warning: IMEI {} is not exported: its provisioning (record {}) is {}; \
                 run provision on it again to finish it",
                r.imei, r.id, r.state
            );
        }
    }
    Ok(())
}

fn cmd_inventory_export(
    inv: &InventoryArg,
    format: ExportFormatArg,
    file: Option<PathBuf>,
    out: &Out,
) -> Result<(), CliError> {
    out.debug(1, &format!("opening inventory {}", inv.path.display()));
    let inventory = open_for_reading(inv, out)?;
    report_attention(&inventory, out)?;
    // `--out -` is standard output.
    let file = file.filter(|p| p.as_os_str() != "-");
    let format_name = format
        .to_possible_value()
        .map(|v| v.get_name().to_string())
        .unwrap_or_default();
    match file {
        None if out.json => {
            // Keep one JSON object per line: the export travels inside one event.
            let mut buf = Vec::new();
            let n = inventory.export(format.into(), &mut buf)?;
            let text = String::from_utf8_lossy(&buf);
            let content = match format {
                ExportFormatArg::Json => serde_json::from_str(&text).unwrap_or(Value::Null),
                ExportFormatArg::CoioteCsv => Value::String(text.into_owned()),
            };
            out.event(
                &json!({"event": "export", "format": format_name, "count": n, "content": content}),
            )?;
        }
        None => {
            let mut stdout = io::stdout().lock();
            let n = inventory
                .export(format.into(), &mut stdout)
                .map_err(|e| match e {
                    InventoryError::Io { source, .. } => CliError::output(source),
                    other => other.into(),
                })?;
            out.debug(
                1,
                &format!("exported {n} verified modem(s) to standard output"),
            );
        }
        Some(path) => {
            let n = inventory.export_to_file(format.into(), &path)?;
            out.event(
                &json!({"event": "exported", "format": format_name, "count": n, "path": path}),
            )?;
            out.say(&format!(
                "exported {n} verified modem(s) as {format_name} to {} (mode 0600: it holds PSK secrets)",
                path.display()
            ))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn baud_accepts_auto_and_the_range() {
        assert_eq!(parse_baud("auto"), Ok(Baud::Auto));
        assert_eq!(parse_baud("115200"), Ok(Baud::Fixed(115_200)));
        let e = parse_baud("99").unwrap_err();
        assert!(e.contains("1200..=4000000"), "{e}");
        assert!(parse_baud("fast").is_err());
    }

    #[test]
    fn seconds_accept_decimals_and_name_the_range() {
        assert_eq!(parse_secs("0.5"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_secs("0"), Ok(Duration::ZERO));
        for bad in ["-1", "NaN", "inf", "1e10", "soon"] {
            let e = parse_secs(bad).unwrap_err();
            assert!(e.contains("0..=1000000000"), "{bad}: {e}");
        }
        assert!(parse_positive_secs("0").is_err());
        assert_eq!(parse_positive_secs("3600"), Ok(Duration::from_secs(3600)));
    }
}
