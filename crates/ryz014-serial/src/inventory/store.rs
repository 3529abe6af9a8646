//! The one inventory interface ([`InventoryStore`]) that the provisioning flow and the
//! `inventory` commands use, whatever holds the records: a SQLite file ([`super::Inventory`]) or a
//! shared PostgreSQL database ([`super::postgres::PgInventory`]); and [`open_store`], which picks
//! the backend from what `--inventory` names.

use std::fmt;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use ryz014_core::export::{coiote_csv, coiote_json, ExportRecord, LineEnding};
use ryz014_core::imei::Imei;

use super::seal::{self, OperatorIdentity};
use super::{
    create_private_new, output_kind, ExportFormat, Inventory, InventoryError, NewRecord, Record,
    RecordId, State, REGULAR,
};

/// A provisioning inventory: the record life cycle `pending → verified | failed` (and
/// `superseded` for a rotated key), shared by every backend. Both backends pass the same test
/// suite (`tests/inventory_backends.rs`).
///
/// A backend guarantees, in its database: at most one *active* record (pending or verified) per
/// IMEI; every state change in one transaction (a failure leaves nothing half-written); every
/// record names the station that last wrote it ([`Record::station`]).
pub trait InventoryStore: Send + Sync + fmt::Debug {
    /// Where the records are, for messages: the file path, or the database URL without its
    /// password.
    fn location(&self) -> String;

    /// The name this store writes into the records' `station` column.
    fn station(&self) -> &str;

    /// Seals the secrets of the records this store writes from now on to the operator's
    /// `recipient` (`None`: stored in clear). See [`super::seal`].
    fn set_seal_to(&mut self, recipient: Option<age::x25519::Recipient>);

    /// Whether this store seals the secrets it writes.
    fn seals(&self) -> bool;

    /// Records a modem as pending, before its secret is sent; returns once the record is durable.
    /// See [`Inventory::begin_pending`]. The new record is claimed by this station
    /// ([`InventoryStore::claim`]).
    fn begin_pending(&self, new: &NewRecord<'_>, force: bool) -> Result<RecordId, InventoryError>;

    /// Claims a pending or failed record before resuming it: refused with
    /// [`InventoryError::InProgress`] (naming the station and when it started) while another
    /// live station works on it. A record left by a station that crashed can be claimed by any
    /// station. A single-station backend (SQLite) always grants it.
    fn claim(&self, id: RecordId) -> Result<(), InventoryError> {
        let _ = id;
        Ok(())
    }

    /// Marks a pending record verified. See [`Inventory::mark_verified`].
    fn mark_verified(&self, id: RecordId, firmware: Option<&str>) -> Result<(), InventoryError>;

    /// Marks a pending record failed, giving the record it replaced back. See
    /// [`Inventory::abandon`].
    fn abandon(&self, id: RecordId, error: &str) -> Result<Option<RecordId>, InventoryError>;

    /// Makes a failed record pending again. See [`Inventory::reopen`].
    fn reopen(&self, id: RecordId) -> Result<Record, InventoryError>;

    /// Changes what a pending record says the modem is given. See [`Inventory::update_pending`].
    fn update_pending(&self, id: RecordId, new: &NewRecord<'_>) -> Result<(), InventoryError>;

    /// Marks a pending record failed (the secret scrubbed from the text). See
    /// [`Inventory::mark_failed`].
    fn mark_failed(&self, id: RecordId, error: &str) -> Result<(), InventoryError>;

    /// The record with this id.
    fn get(&self, id: RecordId) -> Result<Record, InventoryError>;

    /// Every record of an IMEI, oldest first (its history).
    fn history(&self, imei: &Imei) -> Result<Vec<Record>, InventoryError>;

    /// Every record, oldest first.
    fn list(&self) -> Result<Vec<Record>, InventoryError>;

    /// The records in one state, oldest first.
    fn in_state(&self, state: State) -> Result<Vec<Record>, InventoryError>;

    /// The IMEIs with no verified record whose newest record is pending or failed, with that
    /// record. See [`Inventory::needing_attention`].
    fn needing_attention(&self) -> Result<Vec<Record>, InventoryError>;

    /// The verified record of an IMEI, if any.
    fn find_verified(&self, imei: &Imei) -> Result<Option<Record>, InventoryError> {
        Ok(self
            .history(imei)?
            .into_iter()
            .rfind(|r| r.state == State::Verified))
    }

    /// The pending record of an IMEI, if any.
    fn find_pending(&self, imei: &Imei) -> Result<Option<Record>, InventoryError> {
        Ok(self
            .history(imei)?
            .into_iter()
            .rfind(|r| r.state == State::Pending))
    }

    /// Every pending record, oldest first.
    fn pending(&self) -> Result<Vec<Record>, InventoryError> {
        self.in_state(State::Pending)
    }

    /// The record a plain re-run finishes. See [`Inventory::find_resumable`].
    fn find_resumable(&self, imei: &Imei) -> Result<Option<Record>, InventoryError> {
        resumable_in(self.history(imei)?)
    }

    /// Writes the verified records in `format` to `out`; returns how many. Refused
    /// ([`InventoryError::SealedExport`]) when a record is sealed: see
    /// [`InventoryStore::export_with`].
    fn export(&self, format: ExportFormat, out: &mut dyn Write) -> Result<usize, InventoryError> {
        self.export_with(format, None, out)
    }

    /// Writes the verified records in `format` to `out`, opening the sealed secrets with the
    /// operator's `identity` (every record is opened before anything is written); returns how
    /// many.
    fn export_with(
        &self,
        format: ExportFormat,
        identity: Option<&OperatorIdentity>,
        out: &mut dyn Write,
    ) -> Result<usize, InventoryError> {
        let records = seal::unsealed(self.in_state(State::Verified)?, identity)?;
        write_export(&records, format, out)
    }

    /// Whether `path` is one of the store's own files (never an export destination).
    fn is_own_file(&self, path: &Path) -> bool {
        let _ = path;
        false
    }

    /// Writes the export to a file. See [`Inventory::export_to_file`].
    fn export_to_file(&self, format: ExportFormat, path: &Path) -> Result<usize, InventoryError> {
        self.export_to_file_with(format, None, path)
    }

    /// Writes the export to a file, opening sealed secrets with `identity`. See
    /// [`Inventory::export_to_file`] and [`InventoryStore::export_with`]. The secrets are opened
    /// before the file is created: a refusal leaves no file.
    fn export_to_file_with(
        &self,
        format: ExportFormat,
        identity: Option<&OperatorIdentity>,
        path: &Path,
    ) -> Result<usize, InventoryError> {
        let records = seal::unsealed(self.in_state(State::Verified)?, identity)?;
        export_to_path(
            path,
            |p| self.is_own_file(p),
            |out| write_export(&records, format, out),
        )
    }
}

/// The record a plain re-run finishes, from an IMEI's history (oldest first): the pending one,
/// else the newest when it failed and the IMEI has no verified record.
pub(crate) fn resumable_in(history: Vec<Record>) -> Result<Option<Record>, InventoryError> {
    if let Some(p) = history.iter().find(|r| r.state == State::Pending) {
        return Ok(Some(p.clone()));
    }
    if history.iter().any(|r| r.state == State::Verified) {
        return Ok(None);
    }
    Ok(history
        .into_iter()
        .last()
        .filter(|r| r.state == State::Failed))
}

/// Writes `records` in `format` to `out`; returns how many.
pub(crate) fn write_export(
    records: &[Record],
    format: ExportFormat,
    out: &mut dyn Write,
) -> Result<usize, InventoryError> {
    let io_err = |source| InventoryError::Io {
        path: PathBuf::from("(export output)"),
        source,
    };
    let rows: Vec<ExportRecord<'_>> = records
        .iter()
        .map(|r| ExportRecord {
            endpoint: &r.endpoint,
            psk_identity: &r.psk_identity,
            secret: &r.secret,
        })
        .collect();
    let text = match format {
        ExportFormat::CoioteCsv => coiote_csv(&rows, LineEnding::Crlf),
        ExportFormat::Json => coiote_json(&rows)?,
    };
    out.write_all(text.as_bytes()).map_err(io_err)?;
    out.flush().map_err(io_err)?;
    Ok(records.len())
}

/// Writes an export to `path`, which must be a new path or a regular file (mode 0600 either way,
/// set before any secret is written), and not one of the store's own files (`own`).
pub(crate) fn export_to_path(
    path: &Path,
    own: impl Fn(&Path) -> bool,
    mut export: impl FnMut(&mut dyn Write) -> Result<usize, InventoryError>,
) -> Result<usize, InventoryError> {
    let bad = |problem: String| InventoryError::BadOutput {
        path: path.to_path_buf(),
        problem,
    };
    let io_at = |p: &Path| {
        let p = p.to_path_buf();
        move |source| InventoryError::Io { path: p, source }
    };
    let replace = match output_kind(path) {
        Ok(None) => false,
        Ok(Some(kind)) if kind == REGULAR => true,
        Ok(Some(kind)) => {
            return Err(bad(format!(
                "it is {kind}; exports are written only to a regular file or a new path \
                 (`-` for standard output)"
            )))
        }
        Err(e) => return Err(bad(format!("cannot check it: {e}"))),
    };
    if replace && own(path) {
        return Err(bad(
            "it is this inventory's own database (or one of its SQLite files)".into(),
        ));
    }
    if !replace {
        let mut file =
            create_private_new(path).map_err(|e| bad(format!("cannot create it: {e}")))?;
        let result =
            export(&mut file).and_then(|n| file.sync_all().map(|()| n).map_err(io_at(path)));
        if result.is_err() {
            let _ = fs::remove_file(path);
        }
        return result;
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "export".to_string());
    let (tmp, mut file) = (0..100)
        .map(|i| dir.join(format!(".{name}.{}.{i}.tmp", std::process::id())))
        .find_map(|tmp| match create_private_new(&tmp) {
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => None,
            other => Some(other.map(|f| (tmp, f))),
        })
        .unwrap_or_else(|| Err(io::ErrorKind::AlreadyExists.into()))
        .map_err(|e| bad(format!("cannot create a temporary file beside it: {e}")))?;
    let result = (|| {
        let n = export(&mut file)?;
        file.sync_all().map_err(io_at(&tmp))?;
        // Checked again just before: the rename must only ever replace a regular file.
        match output_kind(path) {
            Ok(Some(kind)) if kind == REGULAR => {}
            Ok(None) => {}
            Ok(Some(kind)) => return Err(bad(format!("it became {kind} while exporting"))),
            Err(e) => return Err(bad(format!("cannot check it: {e}"))),
        }
        fs::rename(&tmp, path).map_err(io_at(path))?;
        Ok(n)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Whether `--inventory` names a PostgreSQL database (`postgres://…` or `postgresql://…`) rather
/// than a SQLite file.
pub fn is_database_url(spec: &Path) -> bool {
    spec.to_str().is_some_and(|s| {
        let lower = s.to_ascii_lowercase();
        lower.starts_with("postgres://") || lower.starts_with("postgresql://")
    })
}

/// How a store is opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenMode {
    /// For writing: created (a file) or migrated (a database) when needed.
    Write,
    /// For reading only: nothing is created or changed.
    ReadOnly,
}

/// Opens the inventory `--inventory` names: a `postgres://` URL opens the shared PostgreSQL
/// inventory, anything else is a SQLite file. `station` names this station in the records it
/// writes (`None`: the host name).
pub fn open_store(
    spec: &Path,
    mode: OpenMode,
    station: Option<&str>,
) -> Result<Box<dyn InventoryStore>, InventoryError> {
    let station = station.map_or_else(host_name, str::to_string);
    if is_database_url(spec) {
        let url = spec.to_str().unwrap_or_default();
        let inv = match mode {
            OpenMode::Write => super::postgres::PgInventory::connect(url, &station)?,
            OpenMode::ReadOnly => super::postgres::PgInventory::connect_read_only(url, &station)?,
        };
        return Ok(Box::new(inv));
    }
    let inv = match mode {
        OpenMode::Write => Inventory::open(spec)?,
        OpenMode::ReadOnly => Inventory::open_read_only(spec)?,
    };
    Ok(Box::new(inv.with_station(&station)))
}

/// This machine's host name (the default station name): `/proc/sys/kernel/hostname`, else the
/// `HOSTNAME` or `COMPUTERNAME` variable, else `station`.
pub fn host_name() -> String {
    fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .or_else(|| std::env::var("COMPUTERNAME").ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "station".to_string())
}

impl InventoryStore for Inventory {
    fn location(&self) -> String {
        self.path().display().to_string()
    }
    fn station(&self) -> &str {
        &self.station
    }
    fn set_seal_to(&mut self, recipient: Option<age::x25519::Recipient>) {
        self.seal_to = recipient;
    }
    fn seals(&self) -> bool {
        self.seal_to.is_some()
    }
    fn begin_pending(&self, new: &NewRecord<'_>, force: bool) -> Result<RecordId, InventoryError> {
        Inventory::begin_pending(self, new, force)
    }
    fn mark_verified(&self, id: RecordId, firmware: Option<&str>) -> Result<(), InventoryError> {
        Inventory::mark_verified(self, id, firmware)
    }
    fn abandon(&self, id: RecordId, error: &str) -> Result<Option<RecordId>, InventoryError> {
        Inventory::abandon(self, id, error)
    }
    fn reopen(&self, id: RecordId) -> Result<Record, InventoryError> {
        Inventory::reopen(self, id)
    }
    fn update_pending(&self, id: RecordId, new: &NewRecord<'_>) -> Result<(), InventoryError> {
        Inventory::update_pending(self, id, new)
    }
    fn mark_failed(&self, id: RecordId, error: &str) -> Result<(), InventoryError> {
        Inventory::mark_failed(self, id, error)
    }
    fn get(&self, id: RecordId) -> Result<Record, InventoryError> {
        Inventory::get(self, id)
    }
    fn history(&self, imei: &Imei) -> Result<Vec<Record>, InventoryError> {
        Inventory::history(self, imei)
    }
    fn list(&self) -> Result<Vec<Record>, InventoryError> {
        Inventory::list(self)
    }
    fn in_state(&self, state: State) -> Result<Vec<Record>, InventoryError> {
        Inventory::in_state(self, state)
    }
    fn needing_attention(&self) -> Result<Vec<Record>, InventoryError> {
        Inventory::needing_attention(self)
    }
    fn find_verified(&self, imei: &Imei) -> Result<Option<Record>, InventoryError> {
        Inventory::find_verified(self, imei)
    }
    fn find_pending(&self, imei: &Imei) -> Result<Option<Record>, InventoryError> {
        Inventory::find_pending(self, imei)
    }
    fn is_own_file(&self, path: &Path) -> bool {
        Inventory::is_own_file(self, path)
    }
}
