//! The SQLite inventory: durability across a crash, file modes, the pending → verified | failed
//! life cycle, forced re-provisioning history, and the export shapes.

use std::path::{Path, PathBuf};
use std::process::Command;

use ryz014_core::imei::Imei;
use ryz014_core::psk::PskSecret;
use ryz014_serial::inventory::{
    ExportFormat, Inventory, InventoryError, NewRecord, RecordId, State, COIOTE_CSV_HEADER,
};
use serde_json::json;

const SECRET_A: &str = "8749a3f2c1d0e5b6a7980123456789abcdef0123456789abcdef0123456789ab";
const SECRET_B: &str = "11223344556677889900aabbccddeeff11223344556677889900aabbccddeeff";
const IMEI_A: &str = "015770000031766";
const IMEI_B: &str = "490154203237518";

fn imei(s: &str) -> Imei {
    Imei::parse(s).unwrap()
}

fn secret(hex: &str) -> PskSecret {
    PskSecret::from_hex(hex).unwrap()
}

/// A new record; the typed values are leaked so that the record can borrow them (tests only).
fn new_record(imei_text: &str, endpoint: &str, secret_text: &str) -> NewRecord<'static> {
    let endpoint: &'static str = Box::leak(endpoint.to_string().into_boxed_str());
    NewRecord {
        imei: Box::leak(Box::new(imei(imei_text))),
        endpoint,
        psk_identity: endpoint,
        secret: Box::leak(Box::new(secret(secret_text))),
        profile: "standard",
        port: Some("/dev/ttyUSB0"),
        firmware: Some("5.4.1.1-57857"),
        server: Some("coaps://bs.example:5684"),
    }
}

fn db(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join("inventory.sqlite")
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// Run by `a_pending_record_survives_a_crash` in a child process: records a modem as pending, then
/// aborts at once (no destructor, no checkpoint, no clean close).
#[test]
#[ignore = "helper: run in a child process by a_pending_record_survives_a_crash"]
fn child_begin_pending_then_abort() {
    let Some(path) = std::env::var_os("RYZ014_TEST_CRASH_DB") else {
        return;
    };
    let inv = Inventory::open(&path).unwrap();
    let id = inv
        .begin_pending(
            &new_record(IMEI_A, "urn:imei:015770000031766", SECRET_A),
            false,
        )
        .unwrap();
    println!("\nRECORD {}", id.0);
    std::process::abort();
}

#[test]
fn a_pending_record_survives_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let path = db(&dir);
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "child_begin_pending_then_abort",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("RYZ014_TEST_CRASH_DB", &path)
        .output()
        .unwrap();
    assert!(!out.status.success(), "the child must have aborted");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let id: i64 = stdout
        .split("RECORD ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .expect("the child reported its record id")
        .parse()
        .unwrap();

    let inv = Inventory::open(&path).unwrap();
    let pending = inv.pending().unwrap();
    assert_eq!(pending.len(), 1);
    let r = &pending[0];
    assert_eq!(r.id, RecordId(id));
    assert_eq!(r.state, State::Pending);
    assert_eq!(r.imei.as_str(), IMEI_A);
    assert_eq!(
        r.secret.expose_hex(),
        SECRET_A,
        "the secret must be durable before it is sent"
    );
    assert_eq!(
        inv.find_pending(&imei(IMEI_A)).unwrap().map(|r| r.id),
        Some(RecordId(id))
    );
}

#[test]
fn records_survive_closing_and_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let path = db(&dir);
    let (a, b) = {
        let inv = Inventory::open(&path).unwrap();
        let a = inv
            .begin_pending(
                &new_record(IMEI_A, "urn:imei:015770000031766", SECRET_A),
                false,
            )
            .unwrap();
        let b = inv
            .begin_pending(
                &new_record(IMEI_B, "urn:imei:490154203237518", SECRET_B),
                false,
            )
            .unwrap();
        inv.mark_verified(a, Some("5.4.1.1-60000")).unwrap();
        (a, b)
    };
    let inv = Inventory::open_existing(&path).unwrap();
    let all = inv.list().unwrap();
    assert_eq!(all.iter().map(|r| r.id).collect::<Vec<_>>(), [a, b]);
    assert_eq!(all[0].state, State::Verified);
    assert_eq!(all[0].firmware.as_deref(), Some("5.4.1.1-60000"));
    assert_eq!(all[1].state, State::Pending);
    assert_eq!(inv.pending().unwrap().len(), 1);
    assert!(all[0].created_at.ends_with('Z') && all[0].created_at.contains('T'));
}

#[cfg(unix)]
#[test]
fn the_database_and_its_wal_are_private() {
    let dir = tempfile::tempdir().unwrap();
    let path = db(&dir);
    let inv = Inventory::open(&path).unwrap();
    inv.begin_pending(
        &new_record(IMEI_A, "urn:imei:015770000031766", SECRET_A),
        false,
    )
    .unwrap();
    assert_eq!(mode(&path), 0o600);
    let wal = PathBuf::from(format!("{}-wal", path.display()));
    assert!(wal.exists(), "WAL mode keeps a -wal file while open");
    assert_eq!(mode(&wal), 0o600);
}

#[cfg(unix)]
#[test]
fn an_existing_readable_database_is_narrowed_to_0600() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = db(&dir);
    drop(Inventory::open(&path).unwrap());
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    drop(Inventory::open_existing(&path).unwrap());
    assert_eq!(mode(&path), 0o600);
}

#[test]
fn a_missing_inventory_is_not_created_by_open_existing() {
    let dir = tempfile::tempdir().unwrap();
    let path = db(&dir);
    let err = Inventory::open_existing(&path).unwrap_err();
    assert!(matches!(err, InventoryError::Missing(_)), "{err:?}");
    assert!(!path.exists());
}

#[test]
fn a_verified_imei_is_refused_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let inv = Inventory::open(db(&dir)).unwrap();
    let rec = new_record(IMEI_A, "urn:imei:015770000031766", SECRET_A);
    let a = inv.begin_pending(&rec, false).unwrap();
    // A second run while the first is pending must resume, not start over.
    match inv.begin_pending(&rec, false) {
        Err(InventoryError::PendingExists { id, .. }) => assert_eq!(id, a),
        other => panic!("expected PendingExists, got {other:?}"),
    }
    inv.mark_verified(a, None).unwrap();
    let err = inv.begin_pending(&rec, false).unwrap_err();
    assert!(
        matches!(err, InventoryError::AlreadyVerified { id, .. } if id == a),
        "{err:?}"
    );
    assert!(err.to_string().contains("--force"));
    assert_eq!(inv.list().unwrap().len(), 1);
}

/// An inventory where IMEI A was verified with SECRET_A (`old`), then a forced rotation to
/// SECRET_B began (`new`).
fn forced_rotation_begun(dir: &tempfile::TempDir) -> (Inventory, RecordId, RecordId) {
    let inv = Inventory::open(db(dir)).unwrap();
    let ep = "urn:imei:015770000031766";
    let old = inv
        .begin_pending(&new_record(IMEI_A, ep, SECRET_A), false)
        .unwrap();
    inv.mark_verified(old, None).unwrap();
    let new = inv
        .begin_pending(&new_record(IMEI_A, ep, SECRET_B), true)
        .unwrap();
    (inv, old, new)
}

#[test]
fn force_rotates_the_key_and_keeps_history() {
    let dir = tempfile::tempdir().unwrap();
    let (inv, old, new) = forced_rotation_begun(&dir);
    // From the moment the new key may reach the modem, the old one is no longer exported as
    // current: it is superseded at once, and nothing of the IMEI is exported until the new one is
    // verified.
    assert_eq!(inv.find_verified(&imei(IMEI_A)).unwrap(), None);
    assert_eq!(inv.get(old).unwrap().state, State::Superseded);
    assert_eq!(inv.get(old).unwrap().superseded_by, Some(new));
    assert_eq!(inv.get(new).unwrap().replaces, Some(old));
    let mut csv = Vec::new();
    assert_eq!(inv.export(ExportFormat::CoioteCsv, &mut csv).unwrap(), 0);
    let attention = inv.needing_attention().unwrap();
    assert_eq!(attention.len(), 1);
    assert_eq!(attention[0].id, new);

    inv.mark_verified(new, None).unwrap();
    let current = inv.find_verified(&imei(IMEI_A)).unwrap().unwrap();
    assert_eq!(current.id, new);
    assert_eq!(current.secret.expose_hex(), SECRET_B);
    let history = inv.history(&imei(IMEI_A)).unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(history[0].id, old);
    assert_eq!(history[0].state, State::Superseded);
    assert_eq!(history[0].superseded_by, Some(new));
    assert_eq!(
        history[0].secret.expose_hex(),
        SECRET_A,
        "history keeps the old key"
    );
}

#[test]
fn a_forced_rotation_that_failed_after_touching_the_modem_is_resumed_with_its_new_key() {
    let dir = tempfile::tempdir().unwrap();
    let (inv, old, new) = forced_rotation_begun(&dir);
    inv.mark_failed(new, "step psk: +CME ERROR: 4").unwrap();
    // The modem may hold the new key (or none): the old one is not handed out as current.
    assert_eq!(inv.find_verified(&imei(IMEI_A)).unwrap(), None);
    assert_eq!(inv.get(old).unwrap().state, State::Superseded);
    assert_eq!(inv.get(new).unwrap().state, State::Failed);
    assert_eq!(
        inv.needing_attention()
            .unwrap()
            .iter()
            .map(|r| r.id)
            .collect::<Vec<_>>(),
        [new]
    );
    // A plain re-run finishes the failed record with the key it holds.
    let resumable = inv.find_resumable(&imei(IMEI_A)).unwrap().unwrap();
    assert_eq!(resumable.id, new);
    let reopened = inv.reopen(new).unwrap();
    assert_eq!(reopened.state, State::Pending);
    assert_eq!(reopened.error, None);
    assert_eq!(reopened.secret.expose_hex(), SECRET_B);
    inv.mark_verified(new, None).unwrap();
    assert_eq!(
        inv.find_verified(&imei(IMEI_A)).unwrap().map(|r| r.id),
        Some(new)
    );
    assert!(inv.needing_attention().unwrap().is_empty());
    // Only the newest record of an IMEI with nothing verified or pending can be reopened.
    assert!(matches!(
        inv.reopen(old),
        Err(InventoryError::NotResumable { .. })
    ));
}

#[test]
fn a_forced_rotation_that_failed_before_touching_the_modem_gives_the_old_key_back() {
    let dir = tempfile::tempdir().unwrap();
    let (inv, old, new) = forced_rotation_begun(&dir);
    assert_eq!(
        inv.abandon(new, "step check-operator-mode: +CME ERROR: 4")
            .unwrap(),
        Some(old)
    );
    let current = inv.find_verified(&imei(IMEI_A)).unwrap().unwrap();
    assert_eq!(current.id, old);
    assert_eq!(current.superseded_by, None);
    assert_eq!(current.secret.expose_hex(), SECRET_A);
    assert_eq!(inv.get(new).unwrap().state, State::Failed);
    assert_eq!(inv.find_resumable(&imei(IMEI_A)).unwrap(), None);
    assert!(inv.needing_attention().unwrap().is_empty());
}

#[test]
fn a_resumed_record_takes_the_settings_of_the_new_profile() {
    let dir = tempfile::tempdir().unwrap();
    let inv = Inventory::open(db(&dir)).unwrap();
    let id = inv
        .begin_pending(
            &new_record(IMEI_A, "urn:imei:015770000031766", SECRET_A),
            false,
        )
        .unwrap();
    let secret = PskSecret::from_hex(SECRET_A).unwrap();
    let i = imei(IMEI_A);
    let changed = NewRecord {
        imei: &i,
        endpoint: "ep-new",
        psk_identity: "id-new",
        secret: &secret,
        profile: "other",
        port: None,
        firmware: None,
        server: Some("coaps://new.example:5684"),
    };
    inv.update_pending(id, &changed).unwrap();
    let r = inv.get(id).unwrap();
    assert_eq!(
        (
            r.endpoint.as_str(),
            r.psk_identity.as_str(),
            r.profile.as_str(),
            r.server.as_deref()
        ),
        (
            "ep-new",
            "id-new",
            "other",
            Some("coaps://new.example:5684")
        )
    );
    assert_eq!(
        r.port.as_deref(),
        Some("/dev/ttyUSB0"),
        "kept when not given"
    );
    inv.mark_verified(id, None).unwrap();
    assert!(matches!(
        inv.update_pending(id, &changed),
        Err(InventoryError::NotResumable { .. })
    ));
}

#[test]
fn failures_record_the_error_without_the_secret() {
    let dir = tempfile::tempdir().unwrap();
    let inv = Inventory::open(db(&dir)).unwrap();
    let id = inv
        .begin_pending(
            &new_record(IMEI_A, "urn:imei:015770000031766", SECRET_A),
            false,
        )
        .unwrap();
    let upper = SECRET_A.to_ascii_uppercase();
    inv.mark_failed(id, &format!("step psk: modem answered ERROR to AT+SQNDMCFG=\"standard\",\"psk\",1,\"x\",\"{upper}\""))
        .unwrap();
    let r = inv.get(id).unwrap();
    assert_eq!(r.state, State::Failed);
    let error = r.error.clone().unwrap();
    assert!(
        error.starts_with("step psk: modem answered ERROR"),
        "{error}"
    );
    assert!(!error.to_ascii_lowercase().contains(SECRET_A), "{error}");
    assert!(error.contains("8749…"), "{error}");
    // Only pending records change state.
    let err = inv.mark_verified(id, None).unwrap_err();
    assert!(
        matches!(
            err,
            InventoryError::NotPending {
                from: State::Failed,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(matches!(
        inv.mark_failed(RecordId(999), "x"),
        Err(InventoryError::NoRecord(RecordId(999)))
    ));
    // A failed record does not block a new attempt.
    inv.begin_pending(
        &new_record(IMEI_A, "urn:imei:015770000031766", SECRET_B),
        false,
    )
    .unwrap();
}

#[test]
fn debug_output_and_errors_never_show_the_secret() {
    let dir = tempfile::tempdir().unwrap();
    let inv = Inventory::open(db(&dir)).unwrap();
    let id = inv
        .begin_pending(
            &new_record(IMEI_A, "urn:imei:015770000031766", SECRET_A),
            false,
        )
        .unwrap();
    let r = inv.get(id).unwrap();
    let debug = format!("{r:?}");
    assert!(!debug.contains(&SECRET_A[..8]), "{debug}");
    assert!(debug.contains("8749…"), "{debug}");
    let empty = NewRecord {
        profile: "",
        ..new_record(IMEI_B, "urn:imei:490154203237518", SECRET_B)
    };
    let err = inv.begin_pending(&empty, false).unwrap_err();
    assert!(
        matches!(
            err,
            InventoryError::BadField {
                field: "profile",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(!format!("{empty:?}").contains(&SECRET_B[..8]));
}

#[test]
fn a_damaged_row_is_reported_without_its_contents() {
    let dir = tempfile::tempdir().unwrap();
    let path = db(&dir);
    let inv = Inventory::open(&path).unwrap();
    inv.begin_pending(
        &new_record(IMEI_A, "urn:imei:015770000031766", SECRET_A),
        false,
    )
    .unwrap();
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute("UPDATE devices SET psk_hex = psk_hex || 'zz'", [])
        .unwrap();
    drop(conn);
    let err = inv.list().unwrap_err();
    assert!(
        matches!(
            err,
            InventoryError::BadRow {
                field: "psk_hex",
                ..
            }
        ),
        "{err:?}"
    );
    let text = format!("{err} {err:?}");
    assert!(!text.contains(&SECRET_A[..8]), "{text}");
}

#[test]
fn a_newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = db(&dir);
    drop(Inventory::open(&path).unwrap());
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch("PRAGMA user_version = 99").unwrap();
    drop(conn);
    let err = Inventory::open(&path).unwrap_err();
    assert!(
        matches!(err, InventoryError::SchemaTooNew { found: 99, .. }),
        "{err:?}"
    );
}

#[test]
fn parallel_ports_share_one_inventory() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Inventory>();
    let dir = tempfile::tempdir().unwrap();
    let inv = std::sync::Arc::new(Inventory::open(db(&dir)).unwrap());
    let imeis: Vec<String> = (0..8)
        .map(|i| {
            Imei::from_body(&format!("3500000000000{i}"))
                .unwrap()
                .to_string()
        })
        .collect();
    let handles: Vec<_> = imeis
        .iter()
        .cloned()
        .map(|imei| {
            let inv = std::sync::Arc::clone(&inv);
            std::thread::spawn(move || {
                let ep = format!("urn:imei:{imei}");
                let id = inv
                    .begin_pending(&new_record(&imei, &ep, SECRET_A), false)
                    .unwrap();
                inv.mark_verified(id, None).unwrap();
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let all = inv.list().unwrap();
    assert_eq!(all.len(), 8);
    assert!(all.iter().all(|r| r.state == State::Verified));
}

fn two_verified_one_pending(inv: &Inventory) {
    let a = inv
        .begin_pending(
            &new_record(IMEI_A, "urn:imei:015770000031766", SECRET_A),
            false,
        )
        .unwrap();
    inv.mark_verified(a, None).unwrap();
    let b = inv
        .begin_pending(
            &new_record(IMEI_B, "urn:imei:490154203237518", SECRET_B),
            false,
        )
        .unwrap();
    inv.mark_verified(b, None).unwrap();
    let c = NewRecord {
        psk_identity: "id,with \"quote\"",
        ..new_record("356938035643809", "urn:imei:356938035643809", SECRET_A)
    };
    inv.begin_pending(&c, false).unwrap();
}

#[test]
fn coiote_csv_export_holds_verified_modems_only() {
    let dir = tempfile::tempdir().unwrap();
    let inv = Inventory::open(db(&dir)).unwrap();
    two_verified_one_pending(&inv);
    let mut out = Vec::new();
    let n = inv.export(ExportFormat::CoioteCsv, &mut out).unwrap();
    assert_eq!(n, 2);
    let text = String::from_utf8(out).unwrap();
    let lines: Vec<&str> = text.split_terminator("\r\n").collect();
    assert_eq!(
        lines,
        [
            COIOTE_CSV_HEADER,
            &format!("urn:imei:015770000031766,urn:imei:015770000031766,{SECRET_A}"),
            &format!("urn:imei:490154203237518,urn:imei:490154203237518,{SECRET_B}"),
        ]
    );
    assert_eq!(COIOTE_CSV_HEADER, "endpointName,dtlsIdentity,dtlsPskHex");
}

#[test]
fn csv_quotes_awkward_fields() {
    let dir = tempfile::tempdir().unwrap();
    let inv = Inventory::open(db(&dir)).unwrap();
    let rec = NewRecord {
        psk_identity: "id,with \"quote\"",
        ..new_record(IMEI_A, "urn:imei:015770000031766", SECRET_A)
    };
    let id = inv.begin_pending(&rec, false).unwrap();
    inv.mark_verified(id, None).unwrap();
    let mut out = Vec::new();
    inv.export(ExportFormat::CoioteCsv, &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(
        text.contains(&format!(
            "urn:imei:015770000031766,\"id,with \"\"quote\"\"\",{SECRET_A}\r\n"
        )),
        "{text}"
    );
}

#[test]
fn json_export_holds_coiote_device_objects() {
    let dir = tempfile::tempdir().unwrap();
    let inv = Inventory::open(db(&dir)).unwrap();
    two_verified_one_pending(&inv);
    let mut out = Vec::new();
    assert_eq!(inv.export(ExportFormat::Json, &mut out).unwrap(), 2);
    let value: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(
        value,
        json!([
            {
                "connectorType": "bootstrap",
                "properties": {"endpointName": "urn:imei:015770000031766"},
                "securityMode": "psk",
                "dtlsIdentity": "urn:imei:015770000031766",
                "dtlsPsk": {"HexadecimalPsk": SECRET_A}
            },
            {
                "connectorType": "bootstrap",
                "properties": {"endpointName": "urn:imei:490154203237518"},
                "securityMode": "psk",
                "dtlsIdentity": "urn:imei:490154203237518",
                "dtlsPsk": {"HexadecimalPsk": SECRET_B}
            }
        ])
    );
}

#[test]
fn secrets_are_stored_in_lowercase_hex() {
    let dir = tempfile::tempdir().unwrap();
    let inv = Inventory::open(db(&dir)).unwrap();
    let upper = SECRET_A.to_ascii_uppercase();
    let id = inv
        .begin_pending(
            &new_record(IMEI_A, "urn:imei:015770000031766", &upper),
            false,
        )
        .unwrap();
    assert_eq!(inv.get(id).unwrap().secret.expose_hex(), SECRET_A);
}

#[cfg(unix)]
#[test]
fn export_files_are_private_even_when_replacing_a_readable_file() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let inv = Inventory::open(db(&dir)).unwrap();
    two_verified_one_pending(&inv);
    let target = dir.path().join("devices.csv");
    std::fs::write(&target, "old contents").unwrap();
    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o644)).unwrap();

    assert_eq!(
        inv.export_to_file(ExportFormat::CoioteCsv, &target)
            .unwrap(),
        2
    );
    assert_eq!(mode(&target), 0o600);
    let text = std::fs::read_to_string(&target).unwrap();
    assert!(text.starts_with(COIOTE_CSV_HEADER) && text.contains(SECRET_B));

    let json_path = dir.path().join("devices.json");
    assert_eq!(
        inv.export_to_file(ExportFormat::Json, &json_path).unwrap(),
        2
    );
    assert_eq!(mode(&json_path), 0o600);
    // No temporary files are left behind.
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(names.is_empty(), "{names:?}");
}

#[test]
fn a_version_1_inventory_is_read_as_it_is_and_migrated_by_a_writer() {
    let dir = tempfile::tempdir().unwrap();
    let path = db(&dir);
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(&format!(
            "CREATE TABLE devices (
                id INTEGER PRIMARY KEY, imei TEXT NOT NULL, endpoint TEXT NOT NULL,
                psk_identity TEXT NOT NULL, psk_hex TEXT NOT NULL, profile TEXT NOT NULL,
                state TEXT NOT NULL CHECK (state IN ('pending', 'verified', 'failed', 'superseded')),
                port TEXT, firmware TEXT, error TEXT,
                replaces INTEGER REFERENCES devices(id), superseded_by INTEGER REFERENCES devices(id),
                created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
             INSERT INTO devices (imei, endpoint, psk_identity, psk_hex, profile, state,
                created_at, updated_at)
             VALUES ('{IMEI_A}', 'urn:imei:{IMEI_A}', 'urn:imei:{IMEI_A}', '{SECRET_A}',
                'standard', 'verified', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z');
             PRAGMA user_version = 1;"
        ))
        .unwrap();
    }
    let read = Inventory::open_read_only(&path).unwrap();
    let recs = read.list().unwrap();
    assert_eq!(recs.len(), 1);
    assert_eq!(recs[0].server, None);
    drop(read);
    let version = |p: &Path| -> i64 {
        rusqlite::Connection::open(p)
            .unwrap()
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap()
    };
    assert_eq!(version(&path), 1, "reading does not migrate");
    let inv = Inventory::open(&path).unwrap();
    assert_eq!(inv.list().unwrap()[0].secret.expose_hex(), SECRET_A);
    drop(inv);
    assert_eq!(version(&path), ryz014_serial::inventory::SCHEMA_VERSION);
}
