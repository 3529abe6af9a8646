//! The inventory suite that every backend passes: the same operations and the same answers on
//! the SQLite file and on the shared PostgreSQL database (through [`InventoryStore`]); then what
//! only a shared database has to prove: guarantees enforced by the database itself, a module
//! being provisioned by one station refused by another, a crashed station's record taken over,
//! and a lost connection.

mod pg;

use std::path::Path;

use ryz014_core::imei::Imei;
use ryz014_core::psk::PskSecret;
use ryz014_serial::inventory::postgres::{PgInventory, MIGRATIONS};
use ryz014_serial::inventory::{
    open_store, ExportFormat, InventoryError, InventoryStore, NewRecord, OpenMode, Record, State,
    COIOTE_CSV_HEADER,
};

const SECRET_A: &str = "8749a3f2c1d0e5b6a7980123456789abcdef0123456789abcdef0123456789ab";
const SECRET_B: &str = "11223344556677889900aabbccddeeff11223344556677889900aabbccddeeff";
const IMEI_A: &str = "015770000031766";
const IMEI_B: &str = "490154203237518";

fn imei(s: &str) -> Imei {
    Imei::parse(s).unwrap()
}

/// A new record; the typed values are leaked so that the record can borrow them (tests only).
fn new_record(imei_text: &str, secret_text: &str) -> NewRecord<'static> {
    let endpoint: &'static str = Box::leak(format!("urn:imei:{imei_text}").into_boxed_str());
    NewRecord {
        imei: Box::leak(Box::new(imei(imei_text))),
        endpoint,
        psk_identity: endpoint,
        secret: Box::leak(Box::new(PskSecret::from_hex(secret_text).unwrap())),
        profile: "standard",
        port: Some("/dev/ttyUSB0"),
        firmware: Some("5.4.1.1-57857"),
        server: Some("coaps://bs.example:5684"),
    }
}

/// Runs `case` on a new SQLite inventory and on a new PostgreSQL one (when the test server is
/// there), as station `st-1`; returns what each gave, to be compared.
fn on_both<T>(test: &str, case: impl Fn(&dyn InventoryStore) -> T) -> Vec<T> {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = open_store(
        &dir.path().join("inv.sqlite"),
        OpenMode::Write,
        Some("st-1"),
    )
    .unwrap();
    let mut results = vec![case(sqlite.as_ref())];
    if let Some(url) = pg::fresh_database(test) {
        let store = open_store(Path::new(&url), OpenMode::Write, Some("st-1")).unwrap();
        results.push(case(store.as_ref()));
    }
    results
}

/// A record without what differs between backends by nature (times).
fn shape(r: &Record) -> String {
    format!(
        "{} {} {} {} {} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {}",
        r.id,
        r.imei,
        r.endpoint,
        r.state,
        r.secret.redacted(),
        r.port,
        r.firmware,
        r.error,
        r.replaces,
        r.superseded_by,
        r.server,
        r.station,
        r.profile
    )
}

fn same_everywhere<T: PartialEq + std::fmt::Debug>(results: Vec<T>) {
    for r in &results[1..] {
        assert_eq!(&results[0], r, "the backends differ");
    }
}

#[test]
fn the_life_cycle_is_the_same_on_every_backend() {
    same_everywhere(on_both("life_cycle", |inv| {
        let a = inv
            .begin_pending(&new_record(IMEI_A, SECRET_A), false)
            .unwrap();
        let pending = inv.get(a).unwrap();
        assert_eq!(pending.state, State::Pending);
        assert_eq!(pending.station.as_deref(), Some("st-1"));
        assert_eq!(inv.find_pending(&imei(IMEI_A)).unwrap().unwrap().id, a);
        inv.mark_verified(a, Some("5.4.1.1-99999")).unwrap();
        let b = inv
            .begin_pending(&new_record(IMEI_B, SECRET_B), false)
            .unwrap();
        inv.mark_failed(b, &format!("step 3 refused psk {SECRET_B}"))
            .unwrap();
        let failed = inv.get(b).unwrap();
        assert_eq!(failed.state, State::Failed);
        let error = failed.error.clone().unwrap();
        assert!(!error.contains(SECRET_B), "the secret is scrubbed: {error}");
        assert!(error.contains("1122…"), "{error}");
        assert_eq!(inv.needing_attention().unwrap().len(), 1);
        assert_eq!(inv.find_resumable(&imei(IMEI_B)).unwrap().unwrap().id, b);
        assert!(inv.find_resumable(&imei(IMEI_A)).unwrap().is_none());
        let reopened = inv.reopen(b).unwrap();
        assert_eq!(reopened.state, State::Pending);
        inv.mark_verified(b, None).unwrap();
        assert_eq!(inv.in_state(State::Verified).unwrap().len(), 2);
        let mut csv = Vec::new();
        assert_eq!(inv.export(ExportFormat::CoioteCsv, &mut csv).unwrap(), 2);
        let csv = String::from_utf8(csv).unwrap();
        assert!(csv.starts_with(COIOTE_CSV_HEADER));
        assert!(csv.contains(SECRET_A) && csv.contains(SECRET_B));
        let mut json = Vec::new();
        inv.export(ExportFormat::Json, &mut json).unwrap();
        let list: Vec<String> = inv.list().unwrap().iter().map(shape).collect();
        (list, csv, String::from_utf8(json).unwrap())
    }));
}

#[test]
fn refusals_are_the_same_on_every_backend() {
    same_everywhere(on_both("refusals", |inv| {
        let a = inv
            .begin_pending(&new_record(IMEI_A, SECRET_A), false)
            .unwrap();
        // A second provisioning of a module that is pending is refused, naming the record.
        match inv.begin_pending(&new_record(IMEI_A, SECRET_B), false) {
            Err(InventoryError::PendingExists { id, .. })
            | Err(InventoryError::InProgress { id, .. }) => assert_eq!(id, a),
            other => panic!("expected a refusal, got {other:?}"),
        }
        inv.mark_verified(a, None).unwrap();
        match inv.begin_pending(&new_record(IMEI_A, SECRET_B), false) {
            Err(InventoryError::AlreadyVerified { id, .. }) => assert_eq!(id, a),
            other => panic!("expected AlreadyVerified, got {other:?}"),
        }
        assert!(matches!(
            inv.mark_verified(a, None),
            Err(InventoryError::NotPending { .. })
        ));
        assert!(matches!(
            inv.reopen(a),
            Err(InventoryError::NotResumable { .. })
        ));
        inv.list().unwrap().iter().map(shape).collect::<Vec<_>>()
    }));
}

#[test]
fn rotations_keep_their_history_on_every_backend() {
    same_everywhere(on_both("rotations", |inv| {
        let a = inv
            .begin_pending(&new_record(IMEI_A, SECRET_A), false)
            .unwrap();
        inv.mark_verified(a, None).unwrap();
        // A forced rotation that failed before touching the modem gives the old key back.
        let b = inv
            .begin_pending(&new_record(IMEI_A, SECRET_B), true)
            .unwrap();
        assert_eq!(inv.get(a).unwrap().state, State::Superseded);
        assert_eq!(inv.abandon(b, "no answer").unwrap(), Some(a));
        assert_eq!(inv.get(a).unwrap().state, State::Verified);
        // One that succeeds supersedes it for good.
        let c = inv
            .begin_pending(&new_record(IMEI_A, SECRET_B), true)
            .unwrap();
        inv.mark_verified(c, None).unwrap();
        let history = inv.history(&imei(IMEI_A)).unwrap();
        assert_eq!(history.len(), 3);
        assert_eq!(history[0].state, State::Superseded);
        assert_eq!(history[0].superseded_by, Some(c));
        assert_eq!(history[2].replaces, Some(a));
        assert_eq!(inv.find_verified(&imei(IMEI_A)).unwrap().unwrap().id, c);
        // A resumed record takes new settings before anything is sent.
        let d = inv
            .begin_pending(&new_record(IMEI_B, SECRET_A), false)
            .unwrap();
        let mut changed = new_record(IMEI_B, SECRET_B);
        changed.profile = "factory";
        inv.update_pending(d, &changed).unwrap();
        let d = inv.get(d).unwrap();
        assert_eq!(d.profile, "factory");
        assert_eq!(d.secret.expose_hex(), SECRET_B);
        history.iter().map(shape).collect::<Vec<_>>()
    }));
}

#[test]
fn debug_output_and_errors_never_show_the_secret_on_every_backend() {
    on_both("no_secret", |inv| {
        let a = inv
            .begin_pending(&new_record(IMEI_A, SECRET_A), false)
            .unwrap();
        let shown = format!("{inv:?} {:?}", inv.get(a).unwrap());
        assert!(!shown.contains(SECRET_A), "{shown}");
        let err = inv
            .begin_pending(&new_record(IMEI_A, SECRET_A), false)
            .unwrap_err();
        let text = format!("{err} {err:?}");
        assert!(!text.contains(SECRET_A), "{text}");
    });
}

// ---- What only the shared database has to prove. ----

fn pg_store(url: &str, station: &str) -> PgInventory {
    PgInventory::connect(url, station).unwrap()
}

#[test]
fn the_database_itself_keeps_one_active_record_per_imei_and_the_history() {
    let Some(url) = pg::fresh_database("database_guarantees") else {
        return;
    };
    let inv = pg_store(&url, "st-1");
    let a = inv
        .begin_pending(&new_record(IMEI_A, SECRET_A), false)
        .unwrap();
    inv.mark_verified(a, None).unwrap();
    let mut c = pg::connect(&url);
    // Around the stations' code, straight in SQL: a second active record is refused…
    let e = c
        .execute(
            "INSERT INTO devices (imei, endpoint, psk_identity, psk_hex, profile, state, station) \
             VALUES ($1, 'e', 'i', 'aa', 'standard', 'pending', 'rogue')",
            &[&IMEI_A],
        )
        .unwrap_err();
    assert_eq!(e.code(), Some(&postgres::error::SqlState::UNIQUE_VIOLATION));
    // …and so is deleting history, or a record without a station.
    assert!(c.execute("DELETE FROM devices", &[]).is_err());
    assert!(c
        .execute(
            "INSERT INTO devices (imei, endpoint, psk_identity, psk_hex, profile, state, station) \
             VALUES ($1, 'e', 'i', 'aa', 'standard', 'failed', '')",
            &[&IMEI_B],
        )
        .is_err());
    let versions: i64 = c
        .query_one("SELECT count(*) FROM ryz014_schema_migrations", &[])
        .unwrap()
        .get(0);
    assert_eq!(versions, MIGRATIONS.len() as i64);
}

#[test]
fn a_module_being_provisioned_by_one_station_is_refused_by_another_until_it_crashes() {
    let Some(url) = pg::fresh_database("stations") else {
        return;
    };
    let a = pg_store(&url, "station-a");
    let b = pg_store(&url, "station-b");
    let id = a
        .begin_pending(&new_record(IMEI_A, SECRET_A), false)
        .unwrap();
    // B sees the pending record but cannot claim it while A's session lives.
    let found = b.find_resumable(&imei(IMEI_A)).unwrap().unwrap();
    assert_eq!(found.id, id);
    let err = b.claim(id).unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, InventoryError::InProgress { .. }), "{err:?}");
    assert!(text.contains("station station-a"), "{text}");
    assert!(text.contains("since 20"), "names when it started: {text}");
    // Nor can B start its own record of the module: the database refuses it.
    let err = b
        .begin_pending(&new_record(IMEI_A, SECRET_B), false)
        .unwrap_err();
    assert!(err.to_string().contains("station-a"), "{err}");
    // A crashes (its session ends): B takes the record over with its secret.
    drop(a);
    let mut claimed = Err(InventoryError::NoRecord(id));
    for _ in 0..50 {
        claimed = b.claim(id);
        if claimed.is_ok() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    claimed.unwrap();
    let rec = b.get(id).unwrap();
    assert_eq!(rec.station.as_deref(), Some("station-b"));
    assert_eq!(rec.secret.expose_hex(), SECRET_A);
    b.mark_verified(id, None).unwrap();
    assert_eq!(b.get(id).unwrap().state, State::Verified);
}

#[test]
fn a_lost_connection_is_a_clear_error_naming_the_database_and_nothing_is_half_written() {
    let Some(url) = pg::fresh_database("lost_connection") else {
        return;
    };
    let inv = pg_store(&url, "st-1");
    let a = inv
        .begin_pending(&new_record(IMEI_A, SECRET_A), false)
        .unwrap();
    // The server ends this station's session (as a restart or a network cut would).
    let mut admin = pg::connect(&url);
    admin
        .execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE application_name = 'ryz014' AND datname = current_database() \
             AND pid <> pg_backend_pid()",
            &[],
        )
        .unwrap();
    let err = inv.mark_verified(a, None).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("inventory database postgres://"), "{text}");
    assert!(
        text.contains(url.rsplit('/').next().unwrap()),
        "names the database: {text}"
    );
    assert!(!text.contains(SECRET_A));
    // Nothing half-written: the record is still pending, and a new session finishes it.
    let again = pg_store(&url, "st-1");
    assert_eq!(again.get(a).unwrap().state, State::Pending);
    again.claim(a).unwrap();
    again.mark_verified(a, None).unwrap();
    assert_eq!(again.in_state(State::Verified).unwrap().len(), 1);
}

#[test]
fn a_password_never_shows_in_messages() {
    let err = PgInventory::connect("postgres://ryz:hunter2@127.0.0.1:1/x", "st").unwrap_err();
    let text = format!("{err} {err:?}");
    assert!(!text.contains("hunter2"), "{text}");
    assert!(text.contains("postgres://ryz@127.0.0.1:1/x"), "{text}");
}

const IMEI_C: &str = "356938035643809";
const IMEI_D: &str = "490154203237526";
const IMEI_E: &str = "353918053186017";
const SECRET_C: &str = "c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0";
const SECRET_D: &str = "d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0";
const SECRET_E: &str = "e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0";
const SECRET_F: &str = "f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0";

#[test]
fn import_moves_a_station_file_into_the_database_without_duplicates_or_loss() {
    let Some(url) = pg::fresh_database("import") else {
        return;
    };
    let shared = pg_store(&url, "line-1");
    // The database has D (verified later than the file's) and E (verified before the file's).
    let e_db = shared
        .begin_pending(&new_record(IMEI_E, SECRET_F), false)
        .unwrap();
    shared.mark_verified(e_db, None).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("station-7.sqlite");
    {
        let st = open_store(&file, OpenMode::Write, Some("station-7")).unwrap();
        let a = st
            .begin_pending(&new_record(IMEI_A, SECRET_A), false)
            .unwrap();
        st.mark_verified(a, None).unwrap();
        let a2 = st
            .begin_pending(&new_record(IMEI_A, SECRET_B), true)
            .unwrap();
        st.mark_verified(a2, None).unwrap();
        let b = st
            .begin_pending(&new_record(IMEI_B, SECRET_C), false)
            .unwrap();
        st.mark_failed(b, "no answer").unwrap();
        st.begin_pending(&new_record(IMEI_C, SECRET_C), false)
            .unwrap();
        let d = st
            .begin_pending(&new_record(IMEI_D, SECRET_D), false)
            .unwrap();
        st.mark_verified(d, None).unwrap();
        let e = st
            .begin_pending(&new_record(IMEI_E, SECRET_E), false)
            .unwrap();
        st.mark_verified(e, None).unwrap();
    }
    let d_db = shared
        .begin_pending(&new_record(IMEI_D, SECRET_F), false)
        .unwrap();
    shared.mark_verified(d_db, None).unwrap();

    let import = || {
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_ryz014"))
            .args(["--json", "inventory", "import"])
            .arg(&file)
            .args(["--inventory", &url])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&o.stdout).into_owned();
        assert!(
            o.status.success(),
            "{text}{}",
            String::from_utf8_lossy(&o.stderr)
        );
        for secret in [SECRET_A, SECRET_B, SECRET_C, SECRET_D, SECRET_E] {
            assert!(!text.contains(secret));
        }
        serde_json::from_str::<serde_json::Value>(text.lines().last().unwrap()).unwrap()
    };
    let first = import();
    assert_eq!(first["imported"], 6, "{first}");
    assert_eq!(first["kept_as_history"], 1, "{first}");
    assert_eq!(first["replaced"], 1, "{first}");
    let again = import();
    assert_eq!(again["imported"], 0, "{again}");
    assert_eq!(again["already"], 6, "{again}");

    let all = shared.list().unwrap();
    assert_eq!(all.len(), 8, "6 imported + 2 of the database, none twice");
    for secret in [SECRET_A, SECRET_B, SECRET_C, SECRET_D, SECRET_E, SECRET_F] {
        assert!(
            all.iter().any(|r| r.secret.expose_hex() == secret),
            "no loss"
        );
    }
    let verified = |i: &str| shared.find_verified(&imei(i)).unwrap().unwrap();
    assert_eq!(verified(IMEI_A).secret.expose_hex(), SECRET_B);
    assert_eq!(verified(IMEI_D).id, d_db, "the database's newer D stays");
    assert_eq!(
        verified(IMEI_E).secret.expose_hex(),
        SECRET_E,
        "the file's newer E wins"
    );
    assert_eq!(shared.get(e_db).unwrap().state, State::Superseded);
    let history_a = shared.history(&imei(IMEI_A)).unwrap();
    assert_eq!(history_a[0].superseded_by, Some(history_a[1].id));
    assert_eq!(history_a[1].replaces, Some(history_a[0].id));
    assert_eq!(history_a[0].station.as_deref(), Some("station-7"));
    // The file's pending record is resumable by any station.
    let c = shared.find_resumable(&imei(IMEI_C)).unwrap().unwrap();
    shared.claim(c.id).unwrap();
    shared.mark_verified(c.id, None).unwrap();
    let b = shared.find_resumable(&imei(IMEI_B)).unwrap().unwrap();
    assert_eq!(b.state, State::Failed);
}

/// `ryz014 --json <args> --inventory <spec>`: its stdout.
fn cli(args: &[&str], spec: &str) -> String {
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_ryz014"))
        .args(args)
        .args(["--inventory", spec])
        .env_remove("RYZ014_INVENTORY")
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

#[test]
fn inventory_list_and_export_are_the_same_on_every_backend() {
    let Some(url) = pg::fresh_database("cli_list_export") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("inv.sqlite");
    let specs = [file.to_str().unwrap().to_string(), url.clone()];
    for spec in &specs {
        let inv = open_store(Path::new(spec), OpenMode::Write, Some("st-9")).unwrap();
        let a = inv
            .begin_pending(&new_record(IMEI_A, SECRET_A), false)
            .unwrap();
        inv.mark_verified(a, None).unwrap();
        let b = inv
            .begin_pending(&new_record(IMEI_B, SECRET_B), false)
            .unwrap();
        inv.mark_failed(b, "no answer").unwrap();
    }
    let outputs: Vec<(Vec<serde_json::Value>, String, String)> = specs
        .iter()
        .map(|spec| {
            let list = cli(&["--json", "inventory", "list"], spec)
                .lines()
                .map(|l| {
                    let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
                    let m = v.as_object_mut().unwrap();
                    m.remove("created_at");
                    m.remove("updated_at");
                    v
                })
                .collect();
            let csv = cli(&["inventory", "export"], spec);
            let json = cli(&["inventory", "export", "--format", "json"], spec);
            (list, csv, json)
        })
        .collect();
    assert_eq!(outputs[0], outputs[1]);
    assert_eq!(outputs[0].0[0]["station"], "st-9");
    assert!(outputs[0].1.contains(SECRET_A) && !outputs[0].1.contains(SECRET_B));
    // Words mode never shows a secret, nor the URL's password.
    let words = cli(&["-vv", "inventory", "list"], &url);
    assert!(
        !words.contains(SECRET_A) && words.contains("8749…"),
        "{words}"
    );
}
