//! The shared inventory on PostgreSQL ([`PgInventory`]): the same record life cycle as the SQLite
//! file, for a production line of many stations writing to one database.
//!
//! The guarantees across stations are the database's: a partial unique index keeps one active
//! (pending or verified) record per IMEI, every change is one transaction, a trigger keeps the
//! history (records are never deleted), and the schema comes from the versioned migrations in
//! `migrations/postgres/`, applied under an advisory lock. A station works on a pending record
//! while its session holds a session-level advisory lock on it: another station is refused
//! ([`InventoryError::InProgress`], naming the station and when it started), and when the station
//! dies its session ends, the lock goes with it, and any station may resume the record.
//!
//! Errors name the database (its URL without the password) and never carry a row's contents:
//! only the server's message, not its `DETAIL` (which may quote a row).

use std::fmt;
use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use postgres::error::SqlState;
use postgres::types::ToSql;
use postgres::{Client, NoTls, Row, Transaction};
use ryz014_core::imei::Imei;

use super::{
    scrub, seal, store::InventoryStore, validate, Inventory, InventoryError, NewRecord, RawRow,
    Record, RecordId, State,
};

/// The versioned schema migrations, in order (`migrations/postgres/NNNN_name.sql`).
pub const MIGRATIONS: &[(i32, &str, &str)] = &[
    (
        1,
        "devices",
        include_str!("../../migrations/postgres/0001_devices.sql"),
    ),
    (
        2,
        "sealed",
        include_str!("../../migrations/postgres/0002_sealed.sql"),
    ),
];

/// The schema version this code writes (the newest migration).
pub const PG_SCHEMA_VERSION: i32 = 2;

/// The first key of the advisory locks that stations hold on the records they work on (the
/// second is the record id); and of the transaction lock that serializes migrations.
const LOCK_CLASS: i32 = 0x5259_5a14;
const MIGRATION_LOCK: i64 = 0x5259_5a14_0000_0000;

const COLUMNS: &str = "id, imei, endpoint, psk_identity, psk_hex, profile, state, port, firmware, \
    error, replaces, superseded_by, \
    to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), \
    to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), \
    server, station, psk_sealed";

/// The shared PostgreSQL inventory. `Send + Sync`: one session behind a mutex (the advisory
/// locks of the records this station works on belong to it).
pub struct PgInventory {
    client: Mutex<Client>,
    location: String,
    station: String,
    seal_to: Option<age::x25519::Recipient>,
}

impl fmt::Debug for PgInventory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgInventory")
            .field("location", &self.location)
            .field("station", &self.station)
            .finish()
    }
}

/// A database URL without its password (and without its query, which may carry one).
pub fn redact_url(url: &str) -> String {
    let url = url.split('?').next().unwrap_or(url);
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    match rest.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{scheme}://{user}@{host}")
        }
        None => url.to_string(),
    }
}

impl PgInventory {
    /// Connects for writing as `station`, applying the schema migrations this version knows
    /// (one station at a time). A database from a newer version is refused.
    pub fn connect(url: &str, station: &str) -> Result<Self, InventoryError> {
        let inv = Self::open(url, station)?;
        inv.migrate()?;
        Ok(inv)
    }

    /// Connects for reading only (listing, exporting): the session is read-only and nothing is
    /// migrated; a database without the schema is refused.
    pub fn connect_read_only(url: &str, station: &str) -> Result<Self, InventoryError> {
        let inv = Self::open(url, station)?;
        {
            let mut c = inv.lock();
            c.batch_execute("SET default_transaction_read_only = on")
                .map_err(|e| inv.db(&e))?;
            let version = inv.version(&mut c)?;
            match version {
                None => {
                    return Err(InventoryError::Database {
                        location: inv.location.clone(),
                        message: "holds no ryz014 inventory (provision into it first)".into(),
                    })
                }
                Some(v) if v > PG_SCHEMA_VERSION => {
                    return Err(InventoryError::SchemaTooNew {
                        path: PathBuf::from(&inv.location),
                        found: v.into(),
                    })
                }
                Some(_) => {}
            }
        }
        Ok(inv)
    }

    fn open(url: &str, station: &str) -> Result<Self, InventoryError> {
        let location = redact_url(url);
        let mut config: postgres::Config =
            url.parse()
                .map_err(|e: postgres::Error| InventoryError::Database {
                    location: location.clone(),
                    message: format!("not a valid database URL: {}", message_of(&e)),
                })?;
        config
            .connect_timeout(Duration::from_secs(10))
            .keepalives(true)
            .keepalives_idle(Duration::from_secs(30))
            .application_name("ryz014");
        let client = config
            .connect(NoTls)
            .map_err(|e| InventoryError::Database {
                location: location.clone(),
                message: format!("cannot connect: {}", message_of(&e)),
            })?;
        Ok(PgInventory {
            client: Mutex::new(client),
            location,
            station: station.to_string(),
            seal_to: None,
        })
    }

    fn lock(&self) -> MutexGuard<'_, Client> {
        self.client.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn db(&self, e: &postgres::Error) -> InventoryError {
        InventoryError::Database {
            location: self.location.clone(),
            message: message_of(e),
        }
    }

    /// The applied schema version, `None` before the first migration.
    fn version(&self, c: &mut Client) -> Result<Option<i32>, InventoryError> {
        let exists: bool = c
            .query_one(
                "SELECT to_regclass('ryz014_schema_migrations') IS NOT NULL",
                &[],
            )
            .map_err(|e| self.db(&e))?
            .get(0);
        if !exists {
            return Ok(None);
        }
        let v: Option<i32> = c
            .query_one("SELECT max(version) FROM ryz014_schema_migrations", &[])
            .map_err(|e| self.db(&e))?
            .get(0);
        Ok(v)
    }

    fn migrate(&self) -> Result<(), InventoryError> {
        let mut c = self.lock();
        let mut tx = c.transaction().map_err(|e| self.db(&e))?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
            .map_err(|e| self.db(&e))?;
        tx.batch_execute(
            "CREATE TABLE IF NOT EXISTS ryz014_schema_migrations (
                 version    INTEGER PRIMARY KEY,
                 name       TEXT NOT NULL,
                 applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
        )
        .map_err(|e| self.db(&e))?;
        let current: i32 = tx
            .query_one(
                "SELECT coalesce(max(version), 0) FROM ryz014_schema_migrations",
                &[],
            )
            .map_err(|e| self.db(&e))?
            .get(0);
        if current > PG_SCHEMA_VERSION {
            return Err(InventoryError::SchemaTooNew {
                path: PathBuf::from(&self.location),
                found: current.into(),
            });
        }
        for (version, name, sql) in MIGRATIONS.iter().filter(|m| m.0 > current) {
            tx.batch_execute(sql)
                .map_err(|e| InventoryError::Database {
                    location: self.location.clone(),
                    message: format!("migration {version} ({name}): {}", message_of(&e)),
                })?;
            tx.execute(
                "INSERT INTO ryz014_schema_migrations (version, name) VALUES ($1, $2)",
                &[version, name],
            )
            .map_err(|e| self.db(&e))?;
        }
        tx.commit().map_err(|e| self.db(&e))
    }

    fn query(
        &self,
        c: &mut impl postgres::GenericClient,
        where_clause: &str,
        args: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Record>, InventoryError> {
        // A `FOR UPDATE` ending the clause goes after the ordering.
        let (where_clause, lock) = match where_clause.strip_suffix(" FOR UPDATE") {
            Some(w) => (w, " FOR UPDATE"),
            None => (where_clause, ""),
        };
        let rows = c
            .query(
                &format!("SELECT {COLUMNS} FROM devices {where_clause} ORDER BY id{lock}"),
                args,
            )
            .map_err(|e| self.db(&e))?;
        rows.iter().map(|r| self.record(r)).collect()
    }

    fn record(&self, r: &Row) -> Result<Record, InventoryError> {
        let get = |e: postgres::Error| self.db(&e);
        RawRow {
            id: r.try_get(0).map_err(get)?,
            imei: r.try_get(1).map_err(get)?,
            endpoint: r.try_get(2).map_err(get)?,
            psk_identity: r.try_get(3).map_err(get)?,
            secret_hex: r.try_get(4).map_err(get)?,
            profile: r.try_get(5).map_err(get)?,
            state: r.try_get(6).map_err(get)?,
            port: r.try_get(7).map_err(get)?,
            firmware: r.try_get(8).map_err(get)?,
            error: r.try_get(9).map_err(get)?,
            replaces: r.try_get(10).map_err(get)?,
            superseded_by: r.try_get(11).map_err(get)?,
            created_at: r.try_get(12).map_err(get)?,
            updated_at: r.try_get(13).map_err(get)?,
            server: r.try_get(14).map_err(get)?,
            station: r.try_get(15).map_err(get)?,
            sealed: r.try_get(16).map_err(get)?,
        }
        .into_record(&PathBuf::from(&self.location))
    }

    /// The record's IMEI and state, locked for this transaction.
    fn state_of(
        &self,
        tx: &mut Transaction<'_>,
        id: RecordId,
    ) -> Result<(String, State), InventoryError> {
        let row = tx
            .query_opt(
                "SELECT imei, state FROM devices WHERE id = $1 FOR UPDATE",
                &[&id.0],
            )
            .map_err(|e| self.db(&e))?
            .ok_or(InventoryError::NoRecord(id))?;
        let state: String = row.get(1);
        let parsed = State::parse(&state).ok_or_else(|| InventoryError::BadRow {
            path: PathBuf::from(&self.location),
            id: id.0,
            field: "state",
            problem: format!("unknown state {state:?}"),
        })?;
        Ok((row.get(0), parsed))
    }

    /// Why an IMEI's new record was refused: the active record that is in the way.
    fn refusal(&self, c: &mut impl postgres::GenericClient, imei: &Imei) -> InventoryError {
        let active = self.query(
            c,
            "WHERE imei = $1 AND state IN ('pending', 'verified')",
            &[&imei.as_str()],
        );
        match active.map(|mut v| v.pop()) {
            Ok(Some(r)) if r.state == State::Verified => InventoryError::AlreadyVerified {
                imei: imei.to_string(),
                id: r.id,
            },
            Ok(Some(r)) => InventoryError::InProgress {
                imei: imei.to_string(),
                id: r.id,
                station: r.station.unwrap_or_else(|| "?".into()),
                started: r.updated_at,
            },
            Ok(None) => InventoryError::Database {
                location: self.location.clone(),
                message: format!("IMEI {imei}: a concurrent change was refused; run again"),
            },
            Err(e) => e,
        }
    }

    /// Lets go of a record this station worked on (its advisory lock).
    fn release(&self, c: &mut Client, id: RecordId) {
        let _ = c.execute(
            "SELECT pg_advisory_unlock($1, $2::int4)",
            &[&LOCK_CLASS, &lock_key(id)],
        );
    }

    fn fail_in(
        &self,
        tx: &mut Transaction<'_>,
        id: RecordId,
        error: &str,
    ) -> Result<(), InventoryError> {
        let (_, state) = self.state_of(tx, id)?;
        state.require_pending(id, State::Failed)?;
        // A sealed record keeps only the prefix in clear: nothing to scrub with (the run
        // scrubbed its error text with the whole secret already).
        let secret: String = tx
            .query_one(
                "SELECT CASE WHEN psk_sealed IS NULL THEN psk_hex ELSE '' END \
                 FROM devices WHERE id = $1",
                &[&id.0],
            )
            .map_err(|e| self.db(&e))?
            .get(0);
        let error = scrub(error, &secret);
        tx.execute(
            "UPDATE devices SET state = 'failed', error = $2, station = $3, updated_at = now() \
             WHERE id = $1",
            &[&id.0, &error, &self.station],
        )
        .map_err(|e| self.db(&e))?;
        Ok(())
    }
}

/// What [`PgInventory::import_sqlite`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportSummary {
    /// Records added to the database.
    pub imported: usize,
    /// Records found already imported (an import run again), left as they are.
    pub already: usize,
    /// Imported records that were active (pending or verified) in the file, kept as history
    /// (`superseded`) because the database already had a newer active record of their IMEI.
    pub kept_as_history: usize,
    /// Active records of the database that a newer imported record replaced (now `superseded`).
    pub replaced: usize,
}

impl PgInventory {
    /// Moves a station's SQLite inventory into this database, in one transaction (an error leaves
    /// the database as it was; running it again adds nothing twice). Every record is kept, with
    /// its secret, times, station (`station` for files older than schema version 3) and its
    /// links to the records it replaced. Where the file and the database both have an active
    /// record for an IMEI, the newer stays active and the older becomes `superseded` by it.
    pub fn import_sqlite(
        &self,
        source: &Inventory,
        station: &str,
    ) -> Result<ImportSummary, InventoryError> {
        let records = source.list()?;
        let mut c = self.lock();
        let mut tx = c.transaction().map_err(|e| self.db(&e))?;
        // Stations wait while the records move (reads go on).
        tx.batch_execute("LOCK TABLE devices IN SHARE ROW EXCLUSIVE MODE")
            .map_err(|e| self.db(&e))?;
        let mut summary = ImportSummary::default();
        let mut ids: std::collections::HashMap<i64, i64> = std::collections::HashMap::new();
        let mut links: Vec<(i64, i64)> = Vec::new();
        for r in &records {
            let key = format!("sqlite:{}@{}#{}", r.imei, r.created_at, r.id.0);
            if let Some(row) = tx
                .query_opt("SELECT id FROM devices WHERE import_key = $1", &[&key])
                .map_err(|e| self.db(&e))?
            {
                ids.insert(r.id.0, row.get(0));
                summary.already += 1;
                continue;
            }
            let mut state = r.state;
            let mut superseded_by: Option<i64> = None;
            let mut displaced: Option<i64> = None;
            if matches!(state, State::Pending | State::Verified) {
                let active = tx
                    .query_opt(
                        "SELECT id, created_at >= $2::text::timestamptz FROM devices \
                         WHERE imei = $1 AND state IN ('pending', 'verified') FOR UPDATE",
                        &[&r.imei.as_str(), &r.created_at],
                    )
                    .map_err(|e| self.db(&e))?;
                if let Some(row) = active {
                    let (id, db_is_newer): (i64, bool) = (row.get(0), row.get(1));
                    if db_is_newer {
                        state = State::Superseded;
                        superseded_by = Some(id);
                        summary.kept_as_history += 1;
                    } else {
                        tx.execute(
                            "UPDATE devices SET state = 'superseded', updated_at = now() \
                             WHERE id = $1",
                            &[&id],
                        )
                        .map_err(|e| self.db(&e))?;
                        displaced = Some(id);
                        summary.replaced += 1;
                    }
                }
            }
            let replaces = r.replaces.and_then(|old| ids.get(&old.0).copied());
            let row = tx
                .query_one(
                    "INSERT INTO devices (imei, endpoint, psk_identity, psk_hex, profile, state, \
                     port, firmware, error, replaces, superseded_by, server, station, \
                     created_at, updated_at, import_key, psk_sealed) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, \
                     $14::text::timestamptz, $15::text::timestamptz, $16, $17) RETURNING id",
                    &[
                        &r.imei.as_str(),
                        &r.endpoint,
                        &r.psk_identity,
                        &r.secret.expose_hex(),
                        &r.profile,
                        &state.as_str(),
                        &r.port,
                        &r.firmware,
                        &r.error,
                        &replaces,
                        &superseded_by,
                        &r.server,
                        &r.station.as_deref().unwrap_or(station),
                        &r.created_at,
                        &r.updated_at,
                        &key,
                        &r.sealed,
                    ],
                )
                .map_err(|e| self.db(&e))?;
            let id: i64 = row.get(0);
            ids.insert(r.id.0, id);
            if let Some(old) = displaced {
                tx.execute(
                    "UPDATE devices SET superseded_by = $1 WHERE id = $2",
                    &[&id, &old],
                )
                .map_err(|e| self.db(&e))?;
            }
            if let Some(by) = r.superseded_by {
                links.push((id, by.0));
            }
            summary.imported += 1;
        }
        // Links to records that came later in the file.
        for (id, by) in links {
            if let Some(by) = ids.get(&by) {
                tx.execute(
                    "UPDATE devices SET superseded_by = $1 WHERE id = $2 AND superseded_by IS NULL",
                    &[by, &id],
                )
                .map_err(|e| self.db(&e))?;
            }
        }
        tx.commit().map_err(|e| self.db(&e))?;
        Ok(summary)
    }
}

/// The second key of a record's advisory lock.
fn lock_key(id: RecordId) -> i32 {
    // Record ids stay far below 2³¹ on a production line; wrapping only risks a false refusal.
    (id.0 & 0x7fff_ffff) as i32
}

/// The server's message and code (never its DETAIL, which may quote a row), or the client's
/// error (connection lost…).
fn message_of(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{} ({})", db.message(), db.code().code()),
        None if e.is_closed() => "the connection to the database was lost".to_string(),
        None => {
            let mut text = e.to_string();
            let mut source = std::error::Error::source(e);
            while let Some(s) = source {
                text.push_str(&format!(": {s}"));
                source = s.source();
            }
            text
        }
    }
}

fn is_unique_violation(e: &postgres::Error) -> bool {
    e.code() == Some(&SqlState::UNIQUE_VIOLATION)
}

impl InventoryStore for PgInventory {
    fn location(&self) -> String {
        self.location.clone()
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
        validate(new)?;
        let (psk_hex, psk_sealed) = seal::columns(self.seal_to.as_ref(), new.secret)?;
        let mut c = self.lock();
        let mut tx = c.transaction().map_err(|e| self.db(&e))?;
        let active = self.query(
            &mut tx,
            "WHERE imei = $1 AND state IN ('pending', 'verified') FOR UPDATE",
            &[&new.imei.as_str()],
        )?;
        let replaces = match active.first() {
            Some(r) if r.state == State::Pending => {
                return Err(InventoryError::InProgress {
                    imei: new.imei.to_string(),
                    id: r.id,
                    station: r.station.clone().unwrap_or_else(|| "?".into()),
                    started: r.updated_at.clone(),
                })
            }
            Some(r) if !force => {
                return Err(InventoryError::AlreadyVerified {
                    imei: new.imei.to_string(),
                    id: r.id,
                })
            }
            Some(r) => Some(r.id.0),
            None => None,
        };
        // The replaced record steps aside first: the unique index allows one active record.
        if let Some(old) = replaces {
            tx.execute(
                "UPDATE devices SET state = 'superseded', updated_at = now() WHERE id = $1",
                &[&old],
            )
            .map_err(|e| self.db(&e))?;
        }
        let inserted = tx.query_one(
            "INSERT INTO devices (imei, endpoint, psk_identity, psk_hex, profile, state, port, \
             firmware, replaces, server, station, psk_sealed) \
             VALUES ($1, $2, $3, $4, $5, 'pending', $6, $7, $8, $9, $10, $11) RETURNING id",
            &[
                &new.imei.as_str(),
                &new.endpoint,
                &new.psk_identity,
                &psk_hex,
                &new.profile,
                &new.port,
                &new.firmware,
                &replaces,
                &new.server,
                &self.station,
                &psk_sealed,
            ],
        );
        let id: i64 = match inserted {
            Ok(row) => row.get(0),
            Err(e) if is_unique_violation(&e) => {
                // Another station's record for this IMEI committed meanwhile: the index refused
                // this one. Say whose.
                drop(tx);
                return Err(self.refusal(&mut *c, new.imei));
            }
            Err(e) => return Err(self.db(&e)),
        };
        if let Some(old) = replaces {
            tx.execute(
                "UPDATE devices SET superseded_by = $1 WHERE id = $2",
                &[&id, &old],
            )
            .map_err(|e| self.db(&e))?;
        }
        // Taken before the record is visible to others: no station can claim it in between.
        tx.execute(
            "SELECT pg_advisory_lock($1, $2::int4)",
            &[&LOCK_CLASS, &lock_key(RecordId(id))],
        )
        .map_err(|e| self.db(&e))?;
        if let Err(e) = tx.commit() {
            self.release(&mut c, RecordId(id));
            return Err(self.db(&e));
        }
        Ok(RecordId(id))
    }

    fn claim(&self, id: RecordId) -> Result<(), InventoryError> {
        let mut c = self.lock();
        let got: bool = c
            .query_one(
                "SELECT pg_try_advisory_lock($1, $2::int4)",
                &[&LOCK_CLASS, &lock_key(id)],
            )
            .map_err(|e| self.db(&e))?
            .get(0);
        let rec = self
            .query(&mut *c, "WHERE id = $1", &[&id.0])?
            .pop()
            .ok_or(InventoryError::NoRecord(id))?;
        if !got {
            return Err(InventoryError::InProgress {
                imei: rec.imei.to_string(),
                id,
                station: rec.station.unwrap_or_else(|| "?".into()),
                started: rec.updated_at,
            });
        }
        if !matches!(rec.state, State::Pending | State::Failed) {
            self.release(&mut c, id);
            return Err(InventoryError::NotResumable {
                id,
                why: "another station finished it meanwhile",
            });
        }
        if rec.state == State::Pending && rec.station.as_deref() != Some(self.station.as_str()) {
            // Taken over from a station that is gone: this station now writes it.
            c.execute(
                "UPDATE devices SET station = $2, updated_at = now() \
                 WHERE id = $1 AND state = 'pending'",
                &[&id.0, &self.station],
            )
            .map_err(|e| self.db(&e))?;
        }
        Ok(())
    }

    fn mark_verified(&self, id: RecordId, firmware: Option<&str>) -> Result<(), InventoryError> {
        let mut c = self.lock();
        let result = (|| {
            let mut tx = c.transaction().map_err(|e| self.db(&e))?;
            let (_, state) = self.state_of(&mut tx, id)?;
            state.require_pending(id, State::Verified)?;
            tx.execute(
                "UPDATE devices SET state = 'verified', firmware = COALESCE($2, firmware), \
                 error = NULL, station = $3, updated_at = now() WHERE id = $1",
                &[&id.0, &firmware, &self.station],
            )
            .map_err(|e| self.db(&e))?;
            tx.commit().map_err(|e| self.db(&e))
        })();
        if result.is_ok() {
            self.release(&mut c, id);
        }
        result
    }

    fn abandon(&self, id: RecordId, error: &str) -> Result<Option<RecordId>, InventoryError> {
        let mut c = self.lock();
        let result = (|| {
            let mut tx = c.transaction().map_err(|e| self.db(&e))?;
            self.fail_in(&mut tx, id, error)?;
            let restored: Option<i64> = tx
                .query_opt(
                    "SELECT old.id FROM devices AS new JOIN devices AS old ON old.id = new.replaces \
                     WHERE new.id = $1 AND old.state = 'superseded' AND old.superseded_by = $1",
                    &[&id.0],
                )
                .map_err(|e| self.db(&e))?
                .map(|r| r.get(0));
            if let Some(old) = restored {
                tx.execute(
                    "UPDATE devices SET state = 'verified', superseded_by = NULL, \
                     updated_at = now() WHERE id = $1",
                    &[&old],
                )
                .map_err(|e| self.db(&e))?;
            }
            tx.commit().map_err(|e| self.db(&e))?;
            Ok(restored.map(RecordId))
        })();
        if result.is_ok() {
            self.release(&mut c, id);
        }
        result
    }

    fn reopen(&self, id: RecordId) -> Result<Record, InventoryError> {
        let mut c = self.lock();
        let mut tx = c.transaction().map_err(|e| self.db(&e))?;
        let (imei, state) = self.state_of(&mut tx, id)?;
        if state != State::Failed {
            return Err(InventoryError::NotResumable {
                id,
                why: "only a failed record is reopened",
            });
        }
        let newer_or_active: i64 = tx
            .query_one(
                "SELECT COUNT(*) FROM devices WHERE imei = $1 AND id != $2 \
                 AND (id > $2 OR state IN ('verified', 'pending'))",
                &[&imei, &id.0],
            )
            .map_err(|e| self.db(&e))?
            .get(0);
        if newer_or_active > 0 {
            return Err(InventoryError::NotResumable {
                id,
                why: "its IMEI has a newer, a verified or a pending record",
            });
        }
        match tx.execute(
            "UPDATE devices SET state = 'pending', error = NULL, station = $2, updated_at = now() \
             WHERE id = $1",
            &[&id.0, &self.station],
        ) {
            Ok(_) => {}
            Err(e) if is_unique_violation(&e) => {
                return Err(InventoryError::NotResumable {
                    id,
                    why: "its IMEI has a newer, a verified or a pending record",
                })
            }
            Err(e) => return Err(self.db(&e)),
        }
        let rec = self
            .query(&mut tx, "WHERE id = $1", &[&id.0])?
            .pop()
            .ok_or(InventoryError::NoRecord(id))?;
        tx.commit().map_err(|e| self.db(&e))?;
        Ok(rec)
    }

    fn update_pending(&self, id: RecordId, new: &NewRecord<'_>) -> Result<(), InventoryError> {
        validate(new)?;
        let (psk_hex, psk_sealed) = seal::columns(self.seal_to.as_ref(), new.secret)?;
        let mut c = self.lock();
        let mut tx = c.transaction().map_err(|e| self.db(&e))?;
        let (imei, state) = self.state_of(&mut tx, id)?;
        if state != State::Pending || imei != new.imei.as_str() {
            return Err(InventoryError::NotResumable {
                id,
                why: "only a pending record of the same IMEI takes new settings",
            });
        }
        tx.execute(
            "UPDATE devices SET endpoint = $2, psk_identity = $3, psk_hex = $4, profile = $5, \
             server = $6, port = COALESCE($7, port), firmware = COALESCE($8, firmware), \
             station = $9, psk_sealed = $10, updated_at = now() WHERE id = $1",
            &[
                &id.0,
                &new.endpoint,
                &new.psk_identity,
                &psk_hex,
                &new.profile,
                &new.server,
                &new.port,
                &new.firmware,
                &self.station,
                &psk_sealed,
            ],
        )
        .map_err(|e| self.db(&e))?;
        tx.commit().map_err(|e| self.db(&e))
    }

    fn mark_failed(&self, id: RecordId, error: &str) -> Result<(), InventoryError> {
        let mut c = self.lock();
        let result = (|| {
            let mut tx = c.transaction().map_err(|e| self.db(&e))?;
            self.fail_in(&mut tx, id, error)?;
            tx.commit().map_err(|e| self.db(&e))
        })();
        if result.is_ok() {
            self.release(&mut c, id);
        }
        result
    }

    fn get(&self, id: RecordId) -> Result<Record, InventoryError> {
        let mut c = self.lock();
        self.query(&mut *c, "WHERE id = $1", &[&id.0])?
            .pop()
            .ok_or(InventoryError::NoRecord(id))
    }

    fn history(&self, imei: &Imei) -> Result<Vec<Record>, InventoryError> {
        let mut c = self.lock();
        self.query(&mut *c, "WHERE imei = $1", &[&imei.as_str()])
    }

    fn list(&self) -> Result<Vec<Record>, InventoryError> {
        let mut c = self.lock();
        self.query(&mut *c, "", &[])
    }

    fn in_state(&self, state: State) -> Result<Vec<Record>, InventoryError> {
        let mut c = self.lock();
        self.query(&mut *c, "WHERE state = $1", &[&state.as_str()])
    }

    fn needing_attention(&self) -> Result<Vec<Record>, InventoryError> {
        let mut c = self.lock();
        self.query(
            &mut *c,
            "WHERE id IN (SELECT MAX(id) FROM devices GROUP BY imei) \
             AND state IN ('pending', 'failed') \
             AND imei NOT IN (SELECT imei FROM devices WHERE state = 'verified')",
            &[],
        )
    }
}
