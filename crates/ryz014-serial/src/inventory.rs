//! The provisioning inventory: one SQLite file (WAL, `synchronous=FULL`, created with mode 0600)
//! that records every modem, its PSK identity and secret, and how far its provisioning got.
//!
//! The provisioning flow relies on one promise: [`Inventory::begin_pending`] returns only after the
//! record (secret included) is committed to disk, so the secret is written to the modem only once
//! it can no longer be lost. A record goes `pending → verified | failed`; re-provisioning a verified
//! IMEI (`--force`) adds a new record that *replaces* the old one: the old one becomes `superseded`
//! (kept as history) in the same transaction, since the run that follows clears the modem's old key,
//! and is verified again only by [`Inventory::abandon`] when that run failed before touching the
//! modem's configuration. So at most one record of an IMEI is verified or pending, and the verified
//! one is the key the modem holds. A pending record left by a crash, or the newest record when it
//! failed, is found by [`Inventory::find_resumable`] so a re-run finishes it with the same secret;
//! [`Inventory::needing_attention`] lists the IMEIs in that state (not exported).
//!
//! Exports ([`Inventory::export`], [`Inventory::export_to_file`]) are the only way a secret leaves
//! the inventory in full; files are created with mode 0600 before any secret is written, and only
//! a regular file or a new path is ever written (never a device, a FIFO, a symbolic link or a
//! directory).
//!
//! Reading commands use [`Inventory::open_read_only`], which changes nothing: no mode, no journal
//! mode, no schema, no directory (SQLite itself may create the empty `-wal`/`-shm` companions of
//! a WAL inventory, with the inventory's mode, so that readers and writers can share it).
//! Creating an inventory is safe when many processes do it at once.
//!
//! The same life cycle on a shared PostgreSQL database is [`postgres::PgInventory`]; both
//! implement [`InventoryStore`], which the provisioning flow and the commands use. Either can seal
//! the secrets to the operator ([`seal`]): then the database holds only the sealed secret and its
//! first 4 hex digits.

use std::fmt;
use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use rusqlite::{params, Connection, OpenFlags, OptionalExtension, Row, TransactionBehavior};
use ryz014_core::imei::Imei;
use ryz014_core::psk::PskSecret;
use serde::Serialize;

pub mod postgres;
pub mod seal;
mod store;

pub use seal::{parse_recipient, OperatorIdentity};
pub use store::{host_name, is_database_url, open_store, InventoryStore, OpenMode};

/// The schema version this code writes (SQLite `user_version`).
pub const SCHEMA_VERSION: i64 = 4;

/// The header line of the `coiote-csv` export (the core's, which the web page writes too).
pub use ryz014_core::export::COIOTE_CSV_HEADER;

const SCHEMA_V1: &str = "
CREATE TABLE devices (
    id            INTEGER PRIMARY KEY,
    imei          TEXT NOT NULL,
    endpoint      TEXT NOT NULL,
    psk_identity  TEXT NOT NULL,
    psk_hex       TEXT NOT NULL,
    profile       TEXT NOT NULL,
    state         TEXT NOT NULL CHECK (state IN ('pending', 'verified', 'failed', 'superseded')),
    port          TEXT,
    firmware      TEXT,
    error         TEXT,
    replaces      INTEGER REFERENCES devices(id),
    superseded_by INTEGER REFERENCES devices(id),
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
CREATE INDEX devices_imei ON devices(imei);
CREATE UNIQUE INDEX devices_one_verified ON devices(imei) WHERE state = 'verified';
CREATE UNIQUE INDEX devices_one_pending ON devices(imei) WHERE state = 'pending';
";

/// Version 2: the LwM2M (bootstrap) server the record's settings point the modem to.
const SCHEMA_V2: &str = "ALTER TABLE devices ADD COLUMN server TEXT;";

/// Version 3: the station (host name or `--station`) that last wrote the record.
const SCHEMA_V3: &str = "ALTER TABLE devices ADD COLUMN station TEXT;";

/// Version 4: the secret sealed to the operator (armored age text; `psk_hex` then holds only its
/// first 4 hex digits). See [`seal`].
const SCHEMA_V4: &str = "ALTER TABLE devices ADD COLUMN psk_sealed TEXT;";

const NOW: &str = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')";

const COLUMNS: &str = "id, imei, endpoint, psk_identity, psk_hex, profile, state, port, firmware, \
                       error, replaces, superseded_by, created_at, updated_at, server, station, \
                       psk_sealed";

/// The row id of an inventory record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct RecordId(pub i64);

impl fmt::Display for RecordId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// How far a modem's provisioning got.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    /// Recorded; the secret may or may not have reached the modem yet.
    Pending,
    /// Provisioned and read back.
    Verified,
    /// Provisioning failed (the error text says where).
    Failed,
    /// Was verified, then replaced by a forced re-provisioning (kept as history).
    Superseded,
}

impl State {
    /// `Ok` when a record in this state may move to `to` (only a pending record moves to
    /// verified or failed), else [`InventoryError::NotPending`] naming record `id`.
    pub(crate) fn require_pending(self, id: RecordId, to: State) -> Result<(), InventoryError> {
        if self == State::Pending {
            Ok(())
        } else {
            Err(InventoryError::NotPending { id, from: self, to })
        }
    }

    /// The word stored in the database and shown to users.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Pending => "pending",
            State::Verified => "verified",
            State::Failed => "failed",
            State::Superseded => "superseded",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<State> {
        Some(match s {
            "pending" => State::Pending,
            "verified" => State::Verified,
            "failed" => State::Failed,
            "superseded" => State::Superseded,
            _ => return None,
        })
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// `endpointName,dtlsIdentity,dtlsPskHex`, one row per verified modem.
    CoioteCsv,
    /// A JSON array of Coiote REST API device objects (`POST /api/coiotedm/v3/devices`).
    Json,
}

/// What to record when provisioning starts. Its `Debug` output shows the secret redacted.
#[derive(Debug, Clone)]
pub struct NewRecord<'a> {
    /// The modem's IMEI.
    pub imei: &'a Imei,
    /// The LwM2M endpoint name (`urn:imei:<IMEI>`).
    pub endpoint: &'a str,
    /// The PSK identity.
    pub psk_identity: &'a str,
    /// The PSK secret.
    pub secret: &'a PskSecret,
    /// The profile name (`standard`).
    pub profile: &'a str,
    /// The serial port the modem is on.
    pub port: Option<&'a str>,
    /// The firmware version read before provisioning.
    pub firmware: Option<&'a str>,
    /// The LwM2M (bootstrap) server URI the modem is given.
    pub server: Option<&'a str>,
}

/// One inventory record. Its `Debug` output shows only the first 4 hex digits of the secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Row id.
    pub id: RecordId,
    /// IMEI.
    pub imei: Imei,
    /// LwM2M endpoint name.
    pub endpoint: String,
    /// PSK identity.
    pub psk_identity: String,
    /// The PSK secret (redacted in `Debug`/`Display`; `expose_hex` only for the modem or an export).
    pub secret: PskSecret,
    /// Profile name.
    pub profile: String,
    /// State.
    pub state: State,
    /// Serial port used.
    pub port: Option<String>,
    /// Firmware version.
    pub firmware: Option<String>,
    /// Error text of a failed provisioning.
    pub error: Option<String>,
    /// The verified record this one replaces (forced re-provisioning).
    pub replaces: Option<RecordId>,
    /// The record that replaced this one.
    pub superseded_by: Option<RecordId>,
    /// Creation time (UTC, RFC 3339).
    pub created_at: String,
    /// Last change (UTC, RFC 3339).
    pub updated_at: String,
    /// The LwM2M (bootstrap) server URI (records written before schema version 2 have none).
    pub server: Option<String>,
    /// The station (host name or `--station`) that last wrote the record (records written before
    /// schema version 3 have none).
    pub station: Option<String>,
    /// The secret sealed to the operator (armored age text), when the station sealed it: then
    /// [`Record::secret`] holds only its first 2 bytes (the prefix lists show and the modem's
    /// read form is compared with), and only [`OperatorIdentity::unseal`] gives the whole secret.
    pub sealed: Option<String>,
}

/// Inventory errors. None of them carries a secret.
#[derive(Debug, thiserror::Error)]
pub enum InventoryError {
    /// SQLite failed.
    #[error("inventory {path}: {source}")]
    Sqlite {
        /// The database file.
        path: PathBuf,
        /// The SQLite error.
        #[source]
        source: rusqlite::Error,
    },
    /// A file operation failed.
    #[error("{path}: {source}")]
    Io {
        /// The file concerned.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// The inventory file does not exist (for commands that only read it).
    #[error("inventory {0} does not exist (give the right file with --inventory)")]
    Missing(PathBuf),
    /// The inventory path cannot be reached, created or read (permission denied, a path through
    /// a regular file…).
    #[error("inventory {path} cannot be opened: {source} (give a readable file with --inventory)")]
    Inaccessible {
        /// The path given.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The inventory path is not a regular file (a directory, a device…).
    #[error(
        "inventory {path} is {kind}, not an inventory file (give the right file with --inventory)"
    )]
    NotAFile {
        /// The path given.
        path: PathBuf,
        /// What it is, e.g. `a directory`.
        kind: &'static str,
    },
    /// The file is not a ryz014 inventory (not SQLite, or SQLite with other tables).
    #[error("{0} is not a ryz014 inventory (give the right file with --inventory)")]
    NotAnInventory(PathBuf),
    /// An export destination is refused (not a regular file or a new path) or cannot be created.
    #[error("export to {path}: {problem}")]
    BadOutput {
        /// The destination given.
        path: PathBuf,
        /// What is wrong with it.
        problem: String,
    },
    /// The file was written by a newer version of this tool.
    #[error("inventory {path} has schema version {found}; this ryz014 understands up to {SCHEMA_VERSION}")]
    SchemaTooNew {
        /// The database file.
        path: PathBuf,
        /// The version found.
        found: i64,
    },
    /// The IMEI is already provisioned and verified.
    #[error("IMEI {imei} is already provisioned and verified (record {id}); use --force to rotate its key")]
    AlreadyVerified {
        /// The IMEI.
        imei: String,
        /// The verified record.
        id: RecordId,
    },
    /// A provisioning of this IMEI is already pending (an interrupted run, or another port).
    #[error("IMEI {imei} already has a pending provisioning (record {id}); resume it instead of starting another")]
    PendingExists {
        /// The IMEI.
        imei: String,
        /// The pending record.
        id: RecordId,
    },
    /// No record has this id.
    #[error("no inventory record {0}")]
    NoRecord(RecordId),
    /// The record is not in a state that allows the change.
    #[error("record {id} is {from}; only a pending record can become {to}")]
    NotPending {
        /// The record.
        id: RecordId,
        /// Its current state.
        from: State,
        /// The state asked for.
        to: State,
    },
    /// A failed record that a re-run may not finish (a newer record, or a verified or pending one,
    /// exists for its IMEI).
    #[error("record {id} cannot be resumed: {why}")]
    NotResumable {
        /// The record.
        id: RecordId,
        /// Why not.
        why: &'static str,
    },
    /// A field of a new record is invalid.
    #[error("{field} {value:?}: {allowed}")]
    BadField {
        /// The field name.
        field: &'static str,
        /// The value given.
        value: String,
        /// What is allowed.
        allowed: &'static str,
    },
    /// A stored row could not be understood (a damaged or foreign file). Never shows a secret.
    #[error("inventory {path}: record {id} has an invalid {field}: {problem}")]
    BadRow {
        /// The database file.
        path: PathBuf,
        /// The row id.
        id: i64,
        /// The column.
        field: &'static str,
        /// What is wrong with it.
        problem: String,
    },
    /// Another station is provisioning this modem right now (its connection holds the record).
    #[error(
        "IMEI {imei} is being provisioned by station {station} (record {id}, since {started}); \
         nothing was sent"
    )]
    InProgress {
        /// The IMEI.
        imei: String,
        /// The pending record.
        id: RecordId,
        /// The station working on it.
        station: String,
        /// When it started (UTC, RFC 3339).
        started: String,
    },
    /// The PostgreSQL database failed (or the connection was lost). Names the database (URL
    /// without its password); never a secret.
    #[error("inventory database {location}: {message}")]
    Database {
        /// The database URL, without its password.
        location: String,
        /// What went wrong.
        message: String,
    },
    /// Serializing the JSON export failed.
    #[error("JSON export: {0}")]
    Json(#[from] serde_json::Error),
    /// Sealing a secret to the operator failed, or the recipient is not valid.
    #[error("{problem}")]
    Seal {
        /// What went wrong.
        problem: String,
    },
    /// The export would hold sealed secrets and no identity was given to open them.
    #[error(
        "{count} verified record(s) hold a secret sealed to the operator; give the operator's \
         age identity file with --identity FILE to export them (nothing was exported)"
    )]
    SealedExport {
        /// How many verified records are sealed.
        count: usize,
    },
    /// The operator's identity file cannot be used.
    #[error("identity file {path}: {problem}")]
    Identity {
        /// The file given.
        path: PathBuf,
        /// What is wrong with it (never its content).
        problem: String,
    },
    /// A sealed secret cannot be opened with the identity given.
    #[error("record {id} cannot be unsealed with identity file {path}: {problem}")]
    Unseal {
        /// The record.
        id: RecordId,
        /// The identity file.
        path: PathBuf,
        /// Why.
        problem: String,
    },
}

/// The SQLite inventory. `Send + Sync`: one connection behind a mutex.
pub struct Inventory {
    conn: Mutex<Connection>,
    path: PathBuf,
    station: String,
    seal_to: Option<age::x25519::Recipient>,
}

impl fmt::Debug for Inventory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Inventory")
            .field("path", &self.path)
            .finish()
    }
}

/// How long opening an inventory for writing keeps retrying while other processes hold it
/// (creating it, migrating it, or switching it to WAL, which SQLite reports as busy at once).
const OPEN_PATIENCE: Duration = Duration::from_secs(30);

impl Inventory {
    /// Opens the inventory at `path` for writing, creating it (mode 0600) if it does not exist.
    ///
    /// An existing file readable by others is narrowed to mode 0600 (it is about to receive
    /// secrets); its directory is never changed. The schema is created or checked; a file from a
    /// newer version is refused. Safe when many processes open a new inventory at once.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, InventoryError> {
        let path = path.as_ref().to_path_buf();
        create_private(&path)?;
        check_regular_file(&path)?;
        Self::open_file(path)
    }

    /// Opens an inventory that must already exist, for writing (see [`Inventory::open`]).
    /// Commands that only read use [`Inventory::open_read_only`].
    pub fn open_existing(path: impl AsRef<Path>) -> Result<Self, InventoryError> {
        let path = path.as_ref().to_path_buf();
        check_regular_file(&path)?;
        Self::open_file(path)
    }

    /// Opens an existing inventory for reading only (listing, exporting): nothing in the file,
    /// beside it or in its directory is changed (no mode, no journal mode, no schema), and
    /// writing through it fails. An inventory that another process has created but not yet set
    /// up reads as empty. A missing file, a path that cannot be read, a directory or a file that
    /// is not an inventory are errors that say which.
    pub fn open_read_only(path: impl AsRef<Path>) -> Result<Self, InventoryError> {
        let path = path.as_ref().to_path_buf();
        let len = check_regular_file(&path)?;
        let sql = |source| InventoryError::Sqlite {
            path: path.clone(),
            source,
        };
        let conn = Connection::open_with_flags(
            &path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| cannot_open(&path, e))?;
        conn.busy_timeout(Duration::from_secs(10)).map_err(sql)?;
        let (version, tables) = inspect(&conn, &path, len)?;
        if version > SCHEMA_VERSION {
            return Err(InventoryError::SchemaTooNew {
                path,
                found: version,
            });
        }
        if version < 1 {
            if tables > 0 {
                return Err(InventoryError::NotAnInventory(path));
            }
            // Created, not yet set up: an empty table in the connection's own temporary
            // database stands in for it (the file is not written).
            conn.execute_batch(&format!("CREATE TEMP TABLE devices ({COLUMNS})"))
                .map_err(sql)?;
        } else if version < 2 {
            // A version 1 file, read as it is: its records have no server column.
            conn.execute_batch(
                "CREATE TEMP VIEW devices AS \
                 SELECT *, NULL AS server, NULL AS station, NULL AS psk_sealed FROM main.devices",
            )
            .map_err(sql)?;
        } else if version < 3 {
            // A version 2 file: no station column.
            conn.execute_batch(
                "CREATE TEMP VIEW devices AS \
                 SELECT *, NULL AS station, NULL AS psk_sealed FROM main.devices",
            )
            .map_err(sql)?;
        } else if version < 4 {
            // A version 3 file: no sealed secrets.
            conn.execute_batch(
                "CREATE TEMP VIEW devices AS SELECT *, NULL AS psk_sealed FROM main.devices",
            )
            .map_err(sql)?;
        }
        Ok(Inventory {
            conn: Mutex::new(conn),
            path,
            station: host_name(),
            seal_to: None,
        })
    }

    /// Opens the file for writing, retrying while another process holds it during set-up.
    /// The file and its WAL companions are narrowed to 0600 once it is known to be an inventory
    /// (a foreign file keeps its mode), before any secret can be written.
    fn open_file(path: PathBuf) -> Result<Self, InventoryError> {
        let deadline = Instant::now() + OPEN_PATIENCE;
        // Different processes wait different times, so that they stop meeting.
        let mut pause = Duration::from_millis(2 + u64::from(std::process::id() % 8));
        let inv = loop {
            match Self::set_up(&path) {
                Err(InventoryError::Sqlite { source, .. })
                    if is_busy(&source) && Instant::now() < deadline =>
                {
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(Duration::from_millis(100));
                }
                other => break other?,
            }
        };
        restrict_permissions(&path)?;
        for suffix in ["-wal", "-shm"] {
            let mut companion = path.clone().into_os_string();
            companion.push(suffix);
            match restrict_permissions(Path::new(&companion)) {
                Err(InventoryError::Io { source, .. })
                    if source.kind() == io::ErrorKind::NotFound => {}
                other => other?,
            }
        }
        Ok(inv)
    }

    /// One attempt at opening for writing: WAL, `synchronous=FULL`, the schema.
    fn set_up(path: &Path) -> Result<Self, InventoryError> {
        let path = path.to_path_buf();
        let sql = |source| InventoryError::Sqlite {
            path: path.clone(),
            source,
        };
        let len = check_regular_file(&path)?;
        let conn = Connection::open(&path).map_err(|e| cannot_open(&path, e))?;
        conn.busy_timeout(Duration::from_secs(10)).map_err(sql)?;
        // Another program's file is not made an inventory (nor switched to WAL).
        let (version, tables) = inspect(&conn, &path, len)?;
        if version < 1 && tables > 0 {
            return Err(InventoryError::NotAnInventory(path));
        }
        let mode: String = conn
            .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
            .map_err(sql)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(sql(rusqlite::Error::InvalidParameterName(format!(
                "journal_mode stayed {mode}; WAL is required"
            ))));
        }
        conn.execute_batch("PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;")
            .map_err(sql)?;
        let inv = Inventory {
            conn: Mutex::new(conn),
            path,
            station: host_name(),
            seal_to: None,
        };
        inv.migrate()?;
        Ok(inv)
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Names this station in the records it writes (default: the host name).
    pub fn with_station(mut self, station: &str) -> Self {
        self.station = station.to_string();
        self
    }

    /// Seals the secrets of the records this inventory writes to the operator's `recipient`
    /// (`None`: stored in clear). See [`seal`].
    pub fn with_seal_to(mut self, recipient: Option<age::x25519::Recipient>) -> Self {
        self.seal_to = recipient;
        self
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn sql(&self, source: rusqlite::Error) -> InventoryError {
        InventoryError::Sqlite {
            path: self.path.clone(),
            source,
        }
    }

    fn migrate(&self) -> Result<(), InventoryError> {
        let mut conn = self.lock();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| self.sql(e))?;
        let version: i64 = tx
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|e| self.sql(e))?;
        if version > SCHEMA_VERSION {
            return Err(InventoryError::SchemaTooNew {
                path: self.path.clone(),
                found: version,
            });
        }
        if version < 1 {
            tx.execute_batch(SCHEMA_V1).map_err(|e| self.sql(e))?;
        }
        if version < 2 {
            tx.execute_batch(SCHEMA_V2).map_err(|e| self.sql(e))?;
        }
        if version < 3 {
            tx.execute_batch(SCHEMA_V3).map_err(|e| self.sql(e))?;
        }
        if version < 4 {
            tx.execute_batch(SCHEMA_V4).map_err(|e| self.sql(e))?;
        }
        if version < SCHEMA_VERSION {
            tx.execute_batch(&format!("PRAGMA user_version = {SCHEMA_VERSION}"))
                .map_err(|e| self.sql(e))?;
        }
        tx.commit().map_err(|e| self.sql(e))
    }

    /// Records a modem as pending, before its secret is sent. Returns once the record is durable
    /// (committed with `synchronous=FULL`).
    ///
    /// Refused when the IMEI already has a pending record ([`InventoryError::PendingExists`]: resume
    /// that one), or a verified one and `force` is false ([`InventoryError::AlreadyVerified`]). With
    /// `force`, the new record replaces the verified one: in the same transaction the verified
    /// record becomes `superseded` (it is no longer exported), since the run that follows clears
    /// the modem's old key before writing the new one.
    pub fn begin_pending(
        &self,
        new: &NewRecord<'_>,
        force: bool,
    ) -> Result<RecordId, InventoryError> {
        validate(new)?;
        let (psk_hex, psk_sealed) = seal::columns(self.seal_to.as_ref(), new.secret)?;
        let mut conn = self.lock();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| self.sql(e))?;
        let existing = |state: &str| -> Result<Option<i64>, InventoryError> {
            tx.query_row(
                "SELECT id FROM devices WHERE imei = ?1 AND state = ?2",
                params![new.imei.as_str(), state],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.sql(e))
        };
        if let Some(id) = existing("pending")? {
            return Err(InventoryError::PendingExists {
                imei: new.imei.to_string(),
                id: RecordId(id),
            });
        }
        let replaces = existing("verified")?;
        if let (Some(id), false) = (replaces, force) {
            return Err(InventoryError::AlreadyVerified {
                imei: new.imei.to_string(),
                id: RecordId(id),
            });
        }
        tx.execute(
            &format!(
                "INSERT INTO devices (imei, endpoint, psk_identity, psk_hex, profile, state, port, \
                 firmware, replaces, server, station, psk_sealed, created_at, updated_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, 'pending', ?6, ?7, ?8, ?9, ?10, ?11, {NOW}, {NOW})"
            ),
            params![
                new.imei.as_str(),
                new.endpoint,
                new.psk_identity,
                psk_hex,
                new.profile,
                new.port,
                new.firmware,
                replaces,
                new.server,
                self.station,
                psk_sealed,
            ],
        )
        .map_err(|e| self.sql(e))?;
        let id = tx.last_insert_rowid();
        // From here on the new secret may reach the modem, and the provisioning clears the old
        // one first: the old record no longer says what the modem holds, so it stops being the
        // one exported. [`Inventory::abandon`] puts it back when the run fails before the modem's
        // configuration was touched.
        if let Some(old) = replaces {
            tx.execute(
                &format!(
                    "UPDATE devices SET state = 'superseded', superseded_by = ?1, \
                     updated_at = {NOW} WHERE id = ?2"
                ),
                params![id, old],
            )
            .map_err(|e| self.sql(e))?;
        }
        tx.commit().map_err(|e| self.sql(e))?;
        Ok(RecordId(id))
    }

    /// Marks a pending record verified (the read-back matched), updating the firmware when given.
    /// A verified record of the same IMEI becomes superseded by this one, in the same transaction.
    pub fn mark_verified(
        &self,
        id: RecordId,
        firmware: Option<&str>,
    ) -> Result<(), InventoryError> {
        let mut conn = self.lock();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| self.sql(e))?;
        let (imei, state) = self.state_of(&tx, id)?;
        state.require_pending(id, State::Verified)?;
        tx.execute(
            &format!(
                "UPDATE devices SET state = 'superseded', superseded_by = ?1, updated_at = {NOW} \
                 WHERE imei = ?2 AND state = 'verified'"
            ),
            params![id.0, imei],
        )
        .map_err(|e| self.sql(e))?;
        tx.execute(
            &format!(
                "UPDATE devices SET state = 'verified', firmware = COALESCE(?2, firmware), \
                 error = NULL, station = ?3, updated_at = {NOW} WHERE id = ?1"
            ),
            params![id.0, firmware, self.station],
        )
        .map_err(|e| self.sql(e))?;
        tx.commit().map_err(|e| self.sql(e))
    }

    /// Marks a pending record failed, for a run that failed before the modem's configuration was
    /// touched (it still holds what it held before): the record it replaces, superseded when this
    /// one began, is verified again, in the same transaction. Returns that record, if any.
    pub fn abandon(&self, id: RecordId, error: &str) -> Result<Option<RecordId>, InventoryError> {
        let mut conn = self.lock();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| self.sql(e))?;
        self.fail_in(&tx, id, error)?;
        let restored: Option<i64> = tx
            .query_row(
                "SELECT old.id FROM devices AS new JOIN devices AS old ON old.id = new.replaces \
                 WHERE new.id = ?1 AND old.state = 'superseded' AND old.superseded_by = ?1",
                [id.0],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.sql(e))?;
        if let Some(old) = restored {
            tx.execute(
                &format!(
                    "UPDATE devices SET state = 'verified', superseded_by = NULL, \
                     updated_at = {NOW} WHERE id = ?1"
                ),
                [old],
            )
            .map_err(|e| self.sql(e))?;
        }
        tx.commit().map_err(|e| self.sql(e))?;
        Ok(restored.map(RecordId))
    }

    /// Makes a failed record pending again, to finish it with the secret it holds (the modem may
    /// hold it already). Only the newest record of its IMEI, and only when the IMEI has no
    /// verified or pending record.
    pub fn reopen(&self, id: RecordId) -> Result<Record, InventoryError> {
        {
            let mut conn = self.lock();
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(|e| self.sql(e))?;
            let (imei, state) = self.state_of(&tx, id)?;
            if state != State::Failed {
                return Err(InventoryError::NotResumable {
                    id,
                    why: "only a failed record is reopened",
                });
            }
            let newer_or_active: i64 = tx
                .query_row(
                    "SELECT COUNT(*) FROM devices WHERE imei = ?1 AND id != ?2 \
                     AND (id > ?2 OR state IN ('verified', 'pending'))",
                    params![imei, id.0],
                    |r| r.get(0),
                )
                .map_err(|e| self.sql(e))?;
            if newer_or_active > 0 {
                return Err(InventoryError::NotResumable {
                    id,
                    why: "its IMEI has a newer, a verified or a pending record",
                });
            }
            tx.execute(
                &format!(
                    "UPDATE devices SET state = 'pending', error = NULL, station = ?2, \
                     updated_at = {NOW} WHERE id = ?1"
                ),
                params![id.0, self.station],
            )
            .map_err(|e| self.sql(e))?;
            tx.commit().map_err(|e| self.sql(e))?;
        }
        self.get(id)
    }

    /// Changes what a pending record says the modem is given (a resumed run with a changed
    /// profile: endpoint, identity, profile name, server, secret), durably, before any of it is
    /// sent. Refused for a record that is not pending.
    pub fn update_pending(&self, id: RecordId, new: &NewRecord<'_>) -> Result<(), InventoryError> {
        validate(new)?;
        let (psk_hex, psk_sealed) = seal::columns(self.seal_to.as_ref(), new.secret)?;
        let mut conn = self.lock();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| self.sql(e))?;
        let (imei, state) = self.state_of(&tx, id)?;
        if state != State::Pending || imei != new.imei.as_str() {
            return Err(InventoryError::NotResumable {
                id,
                why: "only a pending record of the same IMEI takes new settings",
            });
        }
        tx.execute(
            &format!(
                "UPDATE devices SET endpoint = ?2, psk_identity = ?3, psk_hex = ?4, profile = ?5, \
                 server = ?6, port = COALESCE(?7, port), firmware = COALESCE(?8, firmware), \
                 station = ?9, psk_sealed = ?10, updated_at = {NOW} WHERE id = ?1"
            ),
            params![
                id.0,
                new.endpoint,
                new.psk_identity,
                psk_hex,
                new.profile,
                new.server,
                new.port,
                new.firmware,
                self.station,
                psk_sealed,
            ],
        )
        .map_err(|e| self.sql(e))?;
        tx.commit().map_err(|e| self.sql(e))
    }

    /// The record a plain re-run finishes: the pending one, else the newest record of the IMEI
    /// when it failed and the IMEI has no verified record (its secret may be on the modem).
    pub fn find_resumable(&self, imei: &Imei) -> Result<Option<Record>, InventoryError> {
        store::resumable_in(self.history(imei)?)
    }

    /// The IMEIs with no verified record whose newest record is pending or failed: an
    /// interrupted or failed provisioning that the export does not cover (re-run `provision` for
    /// them), with that record.
    pub fn needing_attention(&self) -> Result<Vec<Record>, InventoryError> {
        self.query(
            "WHERE id IN (SELECT MAX(id) FROM devices GROUP BY imei) \
             AND state IN ('pending', 'failed') \
             AND imei NOT IN (SELECT imei FROM devices WHERE state = 'verified')",
            &[],
        )
    }

    /// Marks a pending record failed with the error text (the step and the modem's answer). Any
    /// occurrence of the record's secret in `error` is replaced by its redacted form (a sealed
    /// record's secret is not known here: the caller scrubs the text, see [`scrub`]).
    pub fn mark_failed(&self, id: RecordId, error: &str) -> Result<(), InventoryError> {
        let mut conn = self.lock();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| self.sql(e))?;
        self.fail_in(&tx, id, error)?;
        tx.commit().map_err(|e| self.sql(e))
    }

    /// Inside a transaction: pending → failed, the secret scrubbed from the error text.
    fn fail_in(&self, tx: &Connection, id: RecordId, error: &str) -> Result<(), InventoryError> {
        let (_, state) = self.state_of(tx, id)?;
        state.require_pending(id, State::Failed)?;
        // A sealed record keeps only the prefix in clear: nothing to scrub with (the run
        // scrubbed its error text with the whole secret already).
        let secret: String = tx
            .query_row(
                "SELECT CASE WHEN psk_sealed IS NULL THEN psk_hex ELSE '' END \
                 FROM devices WHERE id = ?1",
                [id.0],
                |r| r.get(0),
            )
            .map_err(|e| self.sql(e))?;
        let error = scrub(error, &secret);
        tx.execute(
            &format!(
                "UPDATE devices SET state = 'failed', error = ?2, station = ?3, \
                 updated_at = {NOW} WHERE id = ?1"
            ),
            params![id.0, error, self.station],
        )
        .map_err(|e| self.sql(e))?;
        Ok(())
    }

    fn state_of(&self, conn: &Connection, id: RecordId) -> Result<(String, State), InventoryError> {
        let row: Option<(String, String)> = conn
            .query_row(
                "SELECT imei, state FROM devices WHERE id = ?1",
                [id.0],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(|e| self.sql(e))?;
        let (imei, state) = row.ok_or(InventoryError::NoRecord(id))?;
        let parsed = State::parse(&state).ok_or_else(|| InventoryError::BadRow {
            path: self.path.clone(),
            id: id.0,
            field: "state",
            problem: format!("unknown state {state:?}"),
        })?;
        Ok((imei, parsed))
    }

    fn query(
        &self,
        where_clause: &str,
        args: &[&dyn rusqlite::ToSql],
    ) -> Result<Vec<Record>, InventoryError> {
        let conn = self.lock();
        let mut stmt = conn
            .prepare(&format!(
                "SELECT {COLUMNS} FROM devices {where_clause} ORDER BY id"
            ))
            .map_err(|e| self.sql(e))?;
        let rows = stmt
            .query_map(args, raw_row)
            .map_err(|e| self.sql(e))?
            .collect::<Result<Vec<RawRow>, _>>()
            .map_err(|e| self.sql(e))?;
        rows.into_iter()
            .map(|r| r.into_record(&self.path))
            .collect()
    }

    /// The record with this id.
    pub fn get(&self, id: RecordId) -> Result<Record, InventoryError> {
        self.query("WHERE id = ?1", &[&id.0])?
            .pop()
            .ok_or(InventoryError::NoRecord(id))
    }

    /// The verified record of an IMEI, if any.
    pub fn find_verified(&self, imei: &Imei) -> Result<Option<Record>, InventoryError> {
        Ok(self
            .query("WHERE imei = ?1 AND state = 'verified'", &[&imei.as_str()])?
            .pop())
    }

    /// The pending record of an IMEI, if any (an interrupted provisioning to resume).
    pub fn find_pending(&self, imei: &Imei) -> Result<Option<Record>, InventoryError> {
        Ok(self
            .query("WHERE imei = ?1 AND state = 'pending'", &[&imei.as_str()])?
            .pop())
    }

    /// Every record of an IMEI, oldest first (its history).
    pub fn history(&self, imei: &Imei) -> Result<Vec<Record>, InventoryError> {
        self.query("WHERE imei = ?1", &[&imei.as_str()])
    }

    /// Every pending record, oldest first (for resuming after a crash).
    pub fn pending(&self) -> Result<Vec<Record>, InventoryError> {
        self.query("WHERE state = 'pending'", &[])
    }

    /// Every record, oldest first.
    pub fn list(&self) -> Result<Vec<Record>, InventoryError> {
        self.query("", &[])
    }

    /// The records in one state, oldest first.
    pub fn in_state(&self, state: State) -> Result<Vec<Record>, InventoryError> {
        self.query("WHERE state = ?1", &[&state.as_str()])
    }

    /// Writes the verified records in `format` to `out`. Returns how many were written.
    pub fn export(
        &self,
        format: ExportFormat,
        out: &mut dyn Write,
    ) -> Result<usize, InventoryError> {
        store::write_export(
            &seal::unsealed(self.in_state(State::Verified)?, None)?,
            format,
            out,
        )
    }

    /// Whether `path` is the inventory's database file or one of its companions (`-wal`, `-shm`,
    /// `-journal`), under any name (a hard link too).
    pub(crate) fn is_own_file(&self, path: &Path) -> bool {
        ["", "-wal", "-shm", "-journal"].iter().any(|suffix| {
            let mut own = self.path.clone().into_os_string();
            own.push(suffix);
            same_file(Path::new(&own), path)
        })
    }

    /// Writes the export to `path`, which must be a new path or a regular file (mode 0600 either
    /// way, set before any secret is written). Anything else (a symbolic link, a directory, a
    /// FIFO, a device, a socket, or the inventory's own files) is refused with
    /// [`InventoryError::BadOutput`] and left as it is.
    ///
    /// A new path is created exclusively (it never replaces something that appears meanwhile); a
    /// regular file is replaced atomically by a synced temporary file from the same directory.
    pub fn export_to_file(
        &self,
        format: ExportFormat,
        path: impl AsRef<Path>,
    ) -> Result<usize, InventoryError> {
        store::export_to_path(
            path.as_ref(),
            |p| self.is_own_file(p),
            |out| self.export(format, out),
        )
    }
}

/// Replaces every occurrence of the secret (in hex, any case) in `text` with its redacted form.
pub fn scrub(text: &str, secret_hex: &str) -> String {
    if secret_hex.is_empty() {
        return text.to_string();
    }
    let redacted = PskSecret::from_hex(secret_hex)
        .map(|s| s.redacted())
        .unwrap_or_else(|_| "…".to_string());
    // ASCII lowercasing keeps byte offsets, so positions in `lower` are positions in `text`.
    let lower = text.to_ascii_lowercase();
    let needle = secret_hex.to_ascii_lowercase();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while let Some(pos) = lower[i..].find(&needle) {
        out.push_str(&text[i..i + pos]);
        out.push_str(&redacted);
        i += pos + needle.len();
    }
    out.push_str(&text[i..]);
    out
}

pub(crate) fn validate(new: &NewRecord<'_>) -> Result<(), InventoryError> {
    for (field, value) in [
        ("endpoint name", new.endpoint),
        ("PSK identity", new.psk_identity),
        ("profile", new.profile),
    ] {
        if value.is_empty() {
            return Err(InventoryError::BadField {
                field,
                value: value.to_string(),
                allowed: "must not be empty",
            });
        }
    }
    Ok(())
}

pub(crate) struct RawRow {
    pub(crate) id: i64,
    pub(crate) imei: String,
    pub(crate) endpoint: String,
    pub(crate) psk_identity: String,
    pub(crate) secret_hex: String,
    pub(crate) profile: String,
    pub(crate) state: String,
    pub(crate) port: Option<String>,
    pub(crate) firmware: Option<String>,
    pub(crate) error: Option<String>,
    pub(crate) replaces: Option<i64>,
    pub(crate) superseded_by: Option<i64>,
    pub(crate) created_at: String,
    pub(crate) updated_at: String,
    pub(crate) server: Option<String>,
    pub(crate) station: Option<String>,
    pub(crate) sealed: Option<String>,
}

fn raw_row(r: &Row<'_>) -> rusqlite::Result<RawRow> {
    Ok(RawRow {
        id: r.get(0)?,
        imei: r.get(1)?,
        endpoint: r.get(2)?,
        psk_identity: r.get(3)?,
        secret_hex: r.get(4)?,
        profile: r.get(5)?,
        state: r.get(6)?,
        port: r.get(7)?,
        firmware: r.get(8)?,
        error: r.get(9)?,
        replaces: r.get(10)?,
        superseded_by: r.get(11)?,
        created_at: r.get(12)?,
        updated_at: r.get(13)?,
        server: r.get(14)?,
        station: r.get(15)?,
        sealed: r.get(16)?,
    })
}

impl RawRow {
    pub(crate) fn into_record(self, path: &Path) -> Result<Record, InventoryError> {
        let bad = |field, problem: String| InventoryError::BadRow {
            path: path.to_path_buf(),
            id: self.id,
            field,
            problem,
        };
        let state = State::parse(&self.state)
            .ok_or_else(|| bad("state", format!("unknown state {:?}", self.state)))?;
        let imei = Imei::parse(&self.imei).map_err(|e| bad("imei", e.to_string()))?;
        // The errors of `from_hex` never show the secret.
        let secret =
            PskSecret::from_hex(&self.secret_hex).map_err(|e| bad("psk_hex", e.to_string()))?;
        Ok(Record {
            id: RecordId(self.id),
            imei,
            endpoint: self.endpoint,
            psk_identity: self.psk_identity,
            secret,
            profile: self.profile,
            state,
            port: self.port,
            firmware: self.firmware,
            error: self.error,
            replaces: self.replaces.map(RecordId),
            superseded_by: self.superseded_by.map(RecordId),
            created_at: self.created_at,
            updated_at: self.updated_at,
            server: self.server,
            station: self.station,
            sealed: self.sealed,
        })
    }
}

/// Creates `path` empty with mode 0600 unless it exists.
fn create_private(path: &Path) -> Result<(), InventoryError> {
    match create_private_new(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
        Err(source) => Err(InventoryError::Inaccessible {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// Reads the schema version and the number of schema objects in one statement (one snapshot).
/// `len` is the file's size measured before: a file that had content but holds no SQLite page
/// (SQLite reads a short foreign file as an empty database), or that SQLite rejects, is
/// [`InventoryError::NotAnInventory`]. A file only grows while another process creates it, so a
/// new inventory being set up is never mistaken for a foreign file.
fn inspect(conn: &Connection, path: &Path, len: u64) -> Result<(i64, i64), InventoryError> {
    let (version, tables, pages): (i64, i64, i64) = conn
        .query_row(
            "SELECT (SELECT user_version FROM pragma_user_version), \
                    (SELECT count(*) FROM sqlite_master), \
                    (SELECT page_count FROM pragma_page_count)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .map_err(|e| match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::NotADatabase) => {
                InventoryError::NotAnInventory(path.to_path_buf())
            }
            _ => cannot_open(path, e),
        })?;
    if len > 0 && pages == 0 {
        return Err(InventoryError::NotAnInventory(path.to_path_buf()));
    }
    Ok((version, tables))
}

/// SQLite's error on opening, with the operating system's reason when SQLite could not open the
/// file (it only says "unable to open database file"). The file is opened here only after SQLite
/// failed to: opening and closing it while this process holds SQLite locks on it would drop them.
fn cannot_open(path: &Path, e: rusqlite::Error) -> InventoryError {
    if e.sqlite_error_code() == Some(rusqlite::ErrorCode::CannotOpen) {
        if let Err(source) = fs::File::open(path) {
            return InventoryError::Inaccessible {
                path: path.to_path_buf(),
                source,
            };
        }
    }
    InventoryError::Sqlite {
        path: path.to_path_buf(),
        source: e,
    }
}

/// Whether two existing paths name the same file (on Unix: the same device and inode, so a hard
/// link counts; elsewhere: the same canonical path).
fn same_file(a: &Path, b: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        match (fs::metadata(a), fs::metadata(b)) {
            (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
            _ => false,
        }
    }
    #[cfg(not(unix))]
    {
        match (fs::canonicalize(a), fs::canonicalize(b)) {
            (Ok(a), Ok(b)) => a == b,
            _ => false,
        }
    }
}

/// Whether SQLite said another connection holds the database.
fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

/// The kind of a regular file, in [`file_kind`]'s words.
pub(crate) const REGULAR: &str = "a regular file";

/// A file type in words: `a directory`, `a FIFO (named pipe)`…
fn file_kind(t: fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if t.is_char_device() {
            return "a character device";
        }
        if t.is_block_device() {
            return "a block device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    if t.is_symlink() {
        "a symbolic link"
    } else if t.is_dir() {
        "a directory"
    } else if t.is_file() {
        REGULAR
    } else {
        "not a regular file"
    }
}

/// What is at an export destination, without following a symbolic link: `None` when nothing is.
pub(crate) fn output_kind(path: &Path) -> io::Result<Option<&'static str>> {
    match fs::symlink_metadata(path) {
        Ok(m) => Ok(Some(file_kind(m.file_type()))),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// Checks that an inventory path (symbolic links followed) is an existing regular file; returns
/// its size.
fn check_regular_file(path: &Path) -> Result<u64, InventoryError> {
    match fs::metadata(path) {
        Ok(m) if m.is_file() => Ok(m.len()),
        Ok(m) => Err(InventoryError::NotAFile {
            path: path.to_path_buf(),
            kind: file_kind(m.file_type()),
        }),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            Err(InventoryError::Missing(path.to_path_buf()))
        }
        Err(source) => Err(InventoryError::Inaccessible {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// Creates a new file that only its owner may read (mode 0600 on Unix); fails if it exists.
pub fn create_private_new(path: &Path) -> io::Result<fs::File> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

/// Narrows an existing file readable or writable by group or others to mode 0600.
fn restrict_permissions(path: &Path) -> Result<(), InventoryError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let io_err = |source| InventoryError::Io {
            path: path.to_path_buf(),
            source,
        };
        let mode = fs::metadata(path).map_err(io_err)?.permissions().mode();
        if mode & 0o077 != 0 {
            fs::set_permissions(path, fs::Permissions::from_mode(mode & 0o700)).map_err(io_err)?;
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

#[cfg(test)]
mod tests {
    use ryz014_core::export::csv_field;

    use super::*;

    #[test]
    fn scrub_removes_the_secret_in_any_case() {
        let s = "00112233aabbccdd";
        assert_eq!(
            scrub("psk 00112233AABBCCDD refused; again 00112233aabbccdd.", s),
            "psk 0011… refused; again 0011…."
        );
        assert_eq!(scrub("nothing here", s), "nothing here");
    }

    #[test]
    fn csv_fields_are_quoted_only_when_needed() {
        assert_eq!(csv_field("urn:imei:1"), "urn:imei:1");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"x\""), "\"say \"\"x\"\"\"");
    }
}
