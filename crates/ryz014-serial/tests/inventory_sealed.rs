//! Secrets sealed to the operator (`age`, X25519), the same on every backend: a sealing store
//! keeps only the sealed secret and its 4-digit prefix (the raw database holds no secret), the
//! export refuses sealed records without the operator's identity and opens them with it, a wrong
//! identity is a clear error, and a SQLite file of schema version 3 is migrated. On PostgreSQL
//! (skipped loudly without `RYZ014_TEST_POSTGRES`), the database refuses a sealed row that keeps
//! more than the prefix, and an imported sealed SQLite inventory stays sealed.

mod pg;

use std::path::{Path, PathBuf};

use age::secrecy::ExposeSecret;
use age::x25519::Identity;
use ryz014_core::imei::Imei;
use ryz014_core::psk::PskSecret;
use ryz014_serial::inventory::postgres::PgInventory;
use ryz014_serial::inventory::{
    open_store, ExportFormat, Inventory, InventoryError, InventoryStore, NewRecord, OpenMode,
    OperatorIdentity, State,
};

const SECRET_A: &str = "8749a3f2c1d0e5b6a7980123456789abcdef0123456789abcdef0123456789ab";
const SECRET_B: &str = "11223344556677889900aabbccddeeff11223344556677889900aabbccddeeff";
const IMEI_A: &str = "015770000031766";
const IMEI_B: &str = "490154203237518";

fn new_record(imei_text: &str, secret_text: &str) -> NewRecord<'static> {
    let endpoint: &'static str = Box::leak(format!("urn:imei:{imei_text}").into_boxed_str());
    NewRecord {
        imei: Box::leak(Box::new(Imei::parse(imei_text).unwrap())),
        endpoint,
        psk_identity: endpoint,
        secret: Box::leak(Box::new(PskSecret::from_hex(secret_text).unwrap())),
        profile: "standard",
        port: Some("/dev/ttyUSB0"),
        firmware: Some("5.4.1.1-57857"),
        server: Some("coaps://bs.example:5684"),
    }
}

/// An operator key pair: its identity file (as age-keygen writes it) and its public recipient.
fn operator(dir: &Path, name: &str) -> (PathBuf, age::x25519::Recipient) {
    let id = Identity::generate();
    let path = dir.join(name);
    std::fs::write(
        &path,
        format!(
            "# created: 2026-12-02T00:00:00Z\n# public key: {}\n{}\n",
            id.to_public(),
            id.to_string().expose_secret()
        ),
    )
    .unwrap();
    (path, id.to_public())
}

/// Fails when `text` holds a 64-hex-digit run (a whole secret).
fn assert_no_hex64(text: &str, what: &str) {
    let mut run = 0;
    for b in text.bytes() {
        run = if b.is_ascii_hexdigit() { run + 1 } else { 0 };
        assert!(run < 64, "{what} holds a 64-hex-digit run");
    }
    for s in [SECRET_A, SECRET_B] {
        assert!(
            !text.to_ascii_lowercase().contains(s),
            "{what} holds a secret"
        );
    }
}

/// Every text column of every row, as a sealing store left them.
fn raw_sqlite(path: &Path) -> String {
    let conn = rusqlite::Connection::open(path).unwrap();
    let mut stmt = conn
        .prepare(
            "SELECT imei || ' ' || psk_hex || ' ' || COALESCE(psk_sealed, '-') || ' ' || \
             COALESCE(error, '-') FROM devices",
        )
        .unwrap();
    let rows = stmt.query_map([], |r| r.get::<_, String>(0)).unwrap();
    rows.map(Result::unwrap).collect::<Vec<_>>().join("\n")
}

fn raw_pg(url: &str) -> String {
    let mut c = pg::connect(url);
    c.query("SELECT row_to_json(d)::text FROM devices d", &[])
        .unwrap()
        .iter()
        .map(|r| r.get::<_, String>(0))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The sealed life cycle on one store; returns what the backends must agree on.
fn sealed_life_cycle(inv: &dyn InventoryStore, identity: &Path, wrong: &Path) -> Vec<String> {
    assert!(inv.seals());
    let a = inv
        .begin_pending(&new_record(IMEI_A, SECRET_A), false)
        .unwrap();
    // Sealed from the moment it is recorded: only the prefix is in clear.
    let pending = inv.get(a).unwrap();
    assert!(pending
        .sealed
        .as_deref()
        .unwrap()
        .starts_with("-----BEGIN AGE"));
    assert_eq!(pending.secret.expose_hex(), "8749");
    assert_eq!(pending.secret.redacted(), "8749…");
    inv.mark_verified(a, None).unwrap();
    // A pending record resumed with a fresh key is sealed again.
    let b = inv
        .begin_pending(&new_record(IMEI_B, SECRET_A), false)
        .unwrap();
    inv.update_pending(b, &new_record(IMEI_B, SECRET_B))
        .unwrap();
    let b_rec = inv.get(b).unwrap();
    assert_eq!(b_rec.secret.expose_hex(), "1122");
    assert!(b_rec.sealed.is_some());
    inv.mark_verified(b, None).unwrap();

    // No identity: refused, nothing written, and the message names the flag.
    let mut out = Vec::new();
    let e = inv.export(ExportFormat::CoioteCsv, &mut out).unwrap_err();
    assert!(
        matches!(e, InventoryError::SealedExport { count: 2 }),
        "{e}"
    );
    assert!(e.to_string().contains("--identity FILE"), "{e}");
    assert!(out.is_empty());
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("devices.csv");
    assert!(inv.export_to_file(ExportFormat::CoioteCsv, &file).is_err());
    assert!(!file.exists(), "a refused export leaves no file");

    // The operator's identity opens them.
    let id = OperatorIdentity::read(identity).unwrap();
    let mut csv = Vec::new();
    assert_eq!(
        inv.export_with(ExportFormat::CoioteCsv, Some(&id), &mut csv)
            .unwrap(),
        2
    );
    let csv = String::from_utf8(csv).unwrap();
    assert!(csv.contains(&format!("urn:imei:{IMEI_A},urn:imei:{IMEI_A},{SECRET_A}")));
    assert!(csv.contains(&format!("urn:imei:{IMEI_B},urn:imei:{IMEI_B},{SECRET_B}")));
    assert_eq!(
        inv.export_to_file_with(ExportFormat::Json, Some(&id), &file)
            .unwrap(),
        2
    );
    let json = std::fs::read_to_string(&file).unwrap();
    assert!(json.contains(SECRET_A) && json.contains(SECRET_B));

    // Another operator's identity does not, and says so without showing anything secret.
    let other = OperatorIdentity::read(wrong).unwrap();
    let e = inv
        .export_with(ExportFormat::CoioteCsv, Some(&other), &mut Vec::new())
        .unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, InventoryError::Unseal { .. }), "{msg}");
    assert!(msg.contains("sealed to another recipient"), "{msg}");
    assert!(msg.contains(&wrong.display().to_string()), "{msg}");
    assert!(!msg.contains("AGE-SECRET-KEY"), "{msg}");
    assert_no_hex64(&msg, "the error");
    assert_no_hex64(&format!("{:?} {id:?}", inv.list().unwrap()), "Debug");

    inv.list()
        .unwrap()
        .iter()
        .map(|r| {
            format!(
                "{} {} {} {}",
                r.id,
                r.state,
                r.secret.redacted(),
                r.sealed.is_some()
            )
        })
        .collect()
}

#[test]
fn a_sealing_store_keeps_no_secret_in_clear_on_every_backend() {
    let dir = tempfile::tempdir().unwrap();
    let (identity, recipient) = operator(dir.path(), "operator.key");
    let (wrong, _) = operator(dir.path(), "someone-else.key");
    let path = dir.path().join("inv.sqlite");
    let mut sqlite = open_store(&path, OpenMode::Write, Some("st-1")).unwrap();
    sqlite.set_seal_to(Some(recipient.clone()));
    let mut results = vec![sealed_life_cycle(sqlite.as_ref(), &identity, &wrong)];
    drop(sqlite);
    assert_no_hex64(&raw_sqlite(&path), "the SQLite file");
    assert_no_hex64(
        &String::from_utf8_lossy(&std::fs::read(&path).unwrap()),
        "the SQLite file's bytes",
    );
    if let Some(url) = pg::fresh_database("sealed") {
        let mut store = open_store(Path::new(&url), OpenMode::Write, Some("st-1")).unwrap();
        store.set_seal_to(Some(recipient));
        results.push(sealed_life_cycle(store.as_ref(), &identity, &wrong));
        assert_no_hex64(&raw_pg(&url), "the PostgreSQL rows");
    }
    for r in &results[1..] {
        assert_eq!(&results[0], r, "the backends differ");
    }
}

#[test]
fn a_failed_sealed_record_keeps_its_error_without_the_prefix_mangled() {
    // The store cannot scrub a sealed secret (the run does): the error text is kept as given,
    // not cut at every occurrence of the 4-digit prefix.
    let dir = tempfile::tempdir().unwrap();
    let (_, recipient) = operator(dir.path(), "operator.key");
    let inv = Inventory::open(dir.path().join("inv.sqlite"))
        .unwrap()
        .with_seal_to(Some(recipient));
    let a = inv
        .begin_pending(&new_record(IMEI_A, SECRET_A), false)
        .unwrap();
    inv.mark_failed(a, "step 3: no answer (8749 ms)").unwrap();
    assert_eq!(
        inv.get(a).unwrap().error.as_deref(),
        Some("step 3: no answer (8749 ms)")
    );
    assert_eq!(
        inv.find_resumable(&Imei::parse(IMEI_A).unwrap())
            .unwrap()
            .unwrap()
            .id,
        a
    );
}

#[test]
fn identity_files_that_cannot_be_used_are_named_without_their_content() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.key");
    let e = OperatorIdentity::read(&missing).unwrap_err().to_string();
    assert!(e.contains("nope.key") && e.contains("cannot read"), "{e}");
    let bad = dir.path().join("bad.key");
    std::fs::write(&bad, "# comment\nAGE-SECRET-KEY-1NOTAKEY\n").unwrap();
    let e = OperatorIdentity::read(&bad).unwrap_err().to_string();
    assert!(e.contains("line 2"), "{e}");
    assert!(!e.contains("NOTAKEY"), "{e}");
    let empty = dir.path().join("empty.key");
    std::fs::write(&empty, "# only a comment\n").unwrap();
    let e = OperatorIdentity::read(&empty).unwrap_err().to_string();
    assert!(e.contains("holds no age identity"), "{e}");
    let e = ryz014_serial::inventory::parse_recipient("age1nope")
        .unwrap_err()
        .to_string();
    assert!(e.contains("--seal-to"), "{e}");
}

#[test]
fn a_schema_3_file_is_migrated_and_read_as_it_is() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v3.sqlite");
    {
        let inv = Inventory::open(&path).unwrap();
        let a = inv
            .begin_pending(&new_record(IMEI_A, SECRET_A), false)
            .unwrap();
        inv.mark_verified(a, None).unwrap();
    }
    // Back to version 3, as an older ryz014 left it.
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch("ALTER TABLE devices DROP COLUMN psk_sealed; PRAGMA user_version = 3;")
            .unwrap();
    }
    let ro = Inventory::open_read_only(&path).unwrap();
    let recs = ro.list().unwrap();
    assert_eq!(recs.len(), 1);
    assert_eq!(recs[0].sealed, None);
    assert_eq!(recs[0].secret.expose_hex(), SECRET_A);
    drop(ro);
    let inv = Inventory::open(&path).unwrap();
    assert_eq!(inv.list().unwrap()[0].state, State::Verified);
    let conn = rusqlite::Connection::open(&path).unwrap();
    let v: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(v, ryz014_serial::inventory::SCHEMA_VERSION);
}

#[test]
fn the_database_refuses_a_sealed_row_that_keeps_the_secret_and_imports_stay_sealed() {
    let Some(url) = pg::fresh_database("sealed_import") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (identity, recipient) = operator(dir.path(), "operator.key");
    let file = dir.path().join("station.sqlite");
    {
        let inv = Inventory::open(&file)
            .unwrap()
            .with_seal_to(Some(recipient));
        let a = inv
            .begin_pending(&new_record(IMEI_A, SECRET_A), false)
            .unwrap();
        inv.mark_verified(a, None).unwrap();
    }
    let db = PgInventory::connect(&url, "st-1").unwrap();
    let source = Inventory::open_read_only(&file).unwrap();
    assert_eq!(db.import_sqlite(&source, "st-3").unwrap().imported, 1);
    let rec = db.list().unwrap().pop().unwrap();
    assert!(rec.sealed.is_some());
    assert_no_hex64(&raw_pg(&url), "the PostgreSQL rows");
    let id = OperatorIdentity::read(&identity).unwrap();
    let mut csv = Vec::new();
    db.export_with(ExportFormat::CoioteCsv, Some(&id), &mut csv)
        .unwrap();
    assert!(String::from_utf8(csv).unwrap().contains(SECRET_A));
    // A row that is sealed yet keeps the whole secret in clear is refused by the database.
    let mut c = pg::connect(&url);
    let sealed = rec.sealed.unwrap();
    assert!(c
        .execute(
            "INSERT INTO devices (imei, endpoint, psk_identity, psk_hex, profile, state, station, \
             psk_sealed) VALUES ($1, 'e', 'i', $2, 'standard', 'failed', 'x', $3)",
            &[&IMEI_B, &SECRET_B, &sealed],
        )
        .is_err());
}
