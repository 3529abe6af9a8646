//! `ryz014 inventory`: list the provisioning inventory, or export its verified modems WITH their
//! secrets for the LwM2M server. The inventory is only read (opened read-only).

use std::path::PathBuf;

use clap::{Subcommand, ValueEnum};
use serde_json::{json, Value};

use ryz014_serial::inventory::{
    is_database_url, open_store,
    postgres::{redact_url, PgInventory},
    ExportFormat, InventoryError, InventoryStore, OpenMode, OperatorIdentity, Record,
};

use crate::context::{CliError, InventoryArg, Out};

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
  ryz014 inventory export --format json --out devices.json
  ryz014 inventory export --identity operator.key --out devices.csv")]
    Export {
        /// The inventory file.
        #[command(flatten)]
        inventory: InventoryArg,
        /// The export format.
        #[arg(long, value_enum, default_value_t = ExportFormatArg::CoioteCsv)]
        format: ExportFormatArg,
        /// The operator's age identity file (`AGE-SECRET-KEY-1…`, as age-keygen writes it), to
        /// open the secrets sealed with `provision --seal-to`. Without it, an inventory with
        /// sealed records is not exported.
        #[arg(long, value_name = "FILE")]
        identity: Option<PathBuf>,
        /// The output file: a new path or a regular file (written with mode 0600; anything else,
        /// such as a device, a FIFO, a symbolic link or a directory, is refused with exit 2).
        /// `-` or no --out: standard output.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Move a station's SQLite inventory into the shared PostgreSQL inventory.
    #[command(after_help = "\
Every record of FILE is added to the database named by --inventory (a postgres:// URL), with its
secret, times, state, station and rotation history, in one transaction: an error leaves the
database as it was, and running the import again adds nothing twice. Where the file and the
database both have an active record for an IMEI, the newer stays active and the older is kept as
history (superseded). FILE is only read.

Example:
  ryz014 inventory import station-3.sqlite --inventory postgres://ryz014@db.line/inventory")]
    Import {
        /// The shared inventory (a postgres:// URL).
        #[command(flatten)]
        inventory: InventoryArg,
        /// The station's SQLite inventory file.
        #[arg(value_name = "FILE")]
        file: PathBuf,
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

/// Runs an `inventory` subcommand.
pub fn run(command: &InventoryCommand, out: &Out) -> Result<(), CliError> {
    match command {
        InventoryCommand::List { inventory } => list(inventory, out),
        InventoryCommand::Export {
            inventory,
            format,
            identity,
            out: file,
        } => export(inventory, *format, identity.as_deref(), file.clone(), out),
        InventoryCommand::Import { inventory, file } => import(inventory, file, out),
    }
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
        "station": r.station,
        "created_at": r.created_at,
        "updated_at": r.updated_at,
    })
}

/// Opens the inventory read-only (nothing in it or around it changes) and warns when other users
/// may read it: it holds PSK secrets, but a reading command does not change its mode.
fn open_for_reading(inv: &InventoryArg, out: &Out) -> Result<Box<dyn InventoryStore>, CliError> {
    let inventory = open_store(&inv.path, OpenMode::ReadOnly, inv.station.as_deref())?;
    #[cfg(unix)]
    if !is_database_url(&inv.path) {
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
                out.warn(&message);
            }
        }
    }
    Ok(inventory)
}

/// `--inventory` as shown: a database URL without its password.
fn spec_shown(spec: &std::path::Path) -> String {
    if is_database_url(spec) {
        redact_url(&spec.to_string_lossy())
    } else {
        spec.display().to_string()
    }
}

fn list(inv: &InventoryArg, out: &Out) -> Result<(), CliError> {
    out.debug(1, &format!("opening inventory {}", spec_shown(&inv.path)));
    let inventory = open_for_reading(inv, out)?;
    let records = inventory.list()?;
    if records.is_empty() {
        out.say(&format!("no records in {}", inventory.location()))?;
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
fn report_attention(inventory: &dyn InventoryStore, out: &Out) -> Result<(), CliError> {
    let records = inventory.needing_attention()?;
    for r in &records {
        out.event(&json!({
            "event": "attention", "imei": r.imei, "record": r.id, "state": r.state,
            "psk": r.secret.redacted(), "error": r.error,
        }))?;
        out.warn(&format!(
            "IMEI {} is not exported: its provisioning (record {}) is {}; \
             run provision on it again to finish it",
            r.imei, r.id, r.state
        ));
    }
    Ok(())
}

fn export(
    inv: &InventoryArg,
    format: ExportFormatArg,
    identity: Option<&std::path::Path>,
    file: Option<PathBuf>,
    out: &Out,
) -> Result<(), CliError> {
    let identity = identity.map(OperatorIdentity::read).transpose()?;
    let identity = identity.as_ref();
    out.debug(1, &format!("opening inventory {}", spec_shown(&inv.path)));
    let inventory = open_for_reading(inv, out)?;
    report_attention(inventory.as_ref(), out)?;
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
            let n = inventory.export_with(format.into(), identity, &mut buf)?;
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
            let n = out
                .with_output(|w| inventory.export_with(format.into(), identity, w))
                .map_err(|e| match e {
                    InventoryError::Io { source, .. } => CliError::output(&source),
                    other => other.into(),
                })?;
            out.debug(
                1,
                &format!("exported {n} verified modem(s) to standard output"),
            );
        }
        Some(path) => {
            let n = inventory.export_to_file_with(format.into(), identity, &path)?;
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

fn import(inv: &InventoryArg, file: &std::path::Path, out: &Out) -> Result<(), CliError> {
    if !is_database_url(&inv.path) {
        return Err(CliError::new(
            crate::context::Exit::Usage,
            "inventory import moves records into a shared database: give it with \
             --inventory postgres://…"
                .to_string(),
        ));
    }
    let source = ryz014_serial::inventory::Inventory::open_read_only(file)?;
    let station = inv
        .station
        .clone()
        .or_else(|| file.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .unwrap_or_else(ryz014_serial::inventory::host_name);
    let url = inv.path.to_string_lossy();
    let target = PgInventory::connect(&url, &station)?;
    let s = target.import_sqlite(&source, &station)?;
    out.event(&json!({
        "event": "imported", "file": file, "inventory": target.location(),
        "imported": s.imported, "already": s.already,
        "kept_as_history": s.kept_as_history, "replaced": s.replaced,
    }))?;
    out.say(&format!(
        "imported {} record(s) from {} into {} ({} already there; {} kept as history behind a \
         newer active record; {} active record(s) replaced by newer imported ones)",
        s.imported,
        file.display(),
        target.location(),
        s.already,
        s.kept_as_history,
        s.replaced
    ))
}
