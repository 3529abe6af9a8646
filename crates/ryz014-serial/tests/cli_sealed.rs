//! End-to-end: `ryz014 provision --seal-to age1…` against `ryz014-sim`, on a SQLite file and on
//! the shared PostgreSQL inventory (skipped loudly without `RYZ014_TEST_POSTGRES`): the modem
//! holds the key that `inventory export --identity FILE` gives; the SQLite file and a `pg_dump`
//! of the database hold no secret; an export without `--identity` or with another operator's
//! identity is refused clearly; a failed sealed record is resumed with a fresh key; no secret in
//! any output.

mod common;
mod pg;

use std::path::{Path, PathBuf};
use std::process::Output;

use age::secrecy::ExposeSecret;
use common::*;
use serde_json::Value;

/// An operator key pair: its identity file (as age-keygen writes it) and its recipient.
fn operator(dir: &Path, name: &str) -> (PathBuf, String) {
    let id = age::x25519::Identity::generate();
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
    (path, id.to_public().to_string())
}

fn provision(inv: &str, recipient: &str, port: &str) -> Output {
    let profile = default_profile();
    run(&[
        "provision",
        "--json",
        "--profile",
        profile.to_str().unwrap(),
        "--inventory",
        inv,
        "--seal-to",
        recipient,
        "-p",
        port,
    ])
}

fn export(inv: &str, identity: Option<&Path>) -> Output {
    let mut args = vec![
        "inventory",
        "export",
        "--format",
        "json",
        "--inventory",
        inv,
    ];
    if let Some(id) = identity {
        args.extend(["--identity", id.to_str().unwrap()]);
    }
    run(&args)
}

/// The secret of the one exported device.
fn exported_secret(o: &Output) -> String {
    assert_eq!(o.status.code(), Some(0), "{}", both(o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let text = v.to_string();
    let start = text
        .as_bytes()
        .windows(64)
        .position(|w| w.iter().all(u8::is_ascii_hexdigit))
        .expect("the export holds the secret");
    text[start..start + 64].to_string()
}

/// The PSK prefix the simulated modem holds for server 100 of profile `standard`.
fn modem_psk_prefix(state: &Value) -> Option<String> {
    state["dm_profiles"]["standard"]["psks"]
        .as_array()?
        .iter()
        .find(|p| p["server_id"] == 100)
        .and_then(|p| p["secret_prefix"].as_str())
        .map(|s| s.trim_end_matches('…').to_ascii_lowercase())
}

/// Provisions the simulated modem into `inv` with sealing and checks everything but the raw
/// database; returns the secret the operator's export gives.
fn provision_sealed_and_check(inv: &str, dir: &Path) -> String {
    let (identity, recipient) = operator(dir, "operator.key");
    let (wrong, _) = operator(dir, "someone-else.key");
    let sim = Sim::start(&[]);
    let o = provision(inv, &recipient, &sim.path);
    assert_eq!(o.status.code(), Some(0), "{}", both(&o));
    assert_no_secret(&both(&o), "");

    // Without --identity: refused, naming the flag; nothing on standard output.
    let refused = export(inv, None);
    assert_eq!(refused.status.code(), Some(2), "{}", both(&refused));
    assert!(
        stderr(&refused).contains("--identity FILE"),
        "{}",
        both(&refused)
    );
    assert!(refused.stdout.is_empty(), "{}", both(&refused));
    // Another operator's identity: refused, naming the file, showing nothing secret.
    let other = export(inv, Some(&wrong));
    assert_eq!(other.status.code(), Some(2), "{}", both(&other));
    let err = stderr(&other);
    assert!(err.contains("sealed to another recipient"), "{err}");
    assert!(err.contains("someone-else.key"), "{err}");
    assert!(!err.contains("AGE-SECRET-KEY"), "{err}");
    assert!(other.stdout.is_empty());
    // The operator's identity opens it: the key the modem holds.
    let secret = exported_secret(&export(inv, Some(&identity)));
    let state = sim.stop();
    assert_eq!(modem_psk_prefix(&state).as_deref(), Some(&secret[..4]));
    // Listing shows the prefix only.
    let list = run(&["inventory", "list", "--json", "--inventory", inv]);
    assert_eq!(list.status.code(), Some(0), "{}", both(&list));
    assert!(stdout(&list).contains(&format!("{}…", &secret[..4])));
    assert_no_secret(&both(&list), &secret);
    assert_no_secret(&both(&refused), &secret);
    assert_no_secret(&both(&other), &secret);
    secret
}

#[test]
fn a_sealed_sqlite_inventory_holds_no_secret_and_the_operator_exports_the_modems_key() {
    let dir = tempfile::tempdir().unwrap();
    let inv = dir.path().join("inv.sqlite");
    let secret = provision_sealed_and_check(inv.to_str().unwrap(), dir.path());
    for suffix in ["", "-wal"] {
        let mut p = inv.clone().into_os_string();
        p.push(suffix);
        if let Ok(bytes) = std::fs::read(&p) {
            assert_no_secret(&String::from_utf8_lossy(&bytes), &secret);
        }
    }
}

#[test]
fn a_sealed_postgres_inventory_holds_no_secret_even_in_pg_dump() {
    let Some(url) = pg::fresh_database("cli_sealed") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let secret = provision_sealed_and_check(&url, dir.path());
    let pg_dump = if Path::new("/usr/lib/postgresql/15/bin/pg_dump").exists() {
        "/usr/lib/postgresql/15/bin/pg_dump"
    } else {
        "pg_dump"
    };
    let dump = std::process::Command::new(pg_dump)
        .args(["--data-only", "--dbname", &url])
        .output()
        .unwrap();
    assert!(dump.status.success(), "{}", both(&dump));
    let text = stdout(&dump);
    assert!(
        text.contains("BEGIN AGE ENCRYPTED FILE"),
        "the dump holds the sealed rows"
    );
    assert_no_secret(&text, &secret);
}

#[test]
fn a_failed_sealed_record_is_resumed_with_a_fresh_key() {
    let dir = tempfile::tempdir().unwrap();
    let inv = dir.path().join("inv.sqlite");
    let inv = inv.to_str().unwrap();
    let (identity, recipient) = operator(dir.path(), "operator.key");
    // The 15th command resets the modem: the run fails after the modem's PSK was cleared, so
    // the record (sealed) stays for a re-run.
    let sim = Sim::start(&["--fault", "reset-after=15"]);
    let first = provision(inv, &recipient, &sim.path);
    assert_eq!(first.status.code(), Some(1), "{}", both(&first));
    assert!(
        both(&first).contains("run provision again"),
        "{}",
        both(&first)
    );
    let again = provision(inv, &recipient, &sim.path);
    assert_eq!(again.status.code(), Some(0), "{}", both(&again));
    let ev = json_lines(&again);
    assert_eq!(events(&ev, "recorded")[0]["resumed"], true);
    let updated = events(&ev, "record_updated");
    assert!(
        updated[0]["changes"][0]
            .as_str()
            .unwrap()
            .contains("a fresh key"),
        "{updated:?}"
    );
    let secret = exported_secret(&export(inv, Some(&identity)));
    let state = sim.stop();
    assert_eq!(modem_psk_prefix(&state).as_deref(), Some(&secret[..4]));
    assert_no_secret(&both(&first), &secret);
    assert_no_secret(&both(&again), &secret);
}

/// `--force` on a sealed inventory: the new key is sealed too, the old record is kept as history,
/// and the operator's export gives the key the modem holds after the rotation.
#[test]
fn a_forced_rotation_on_a_sealed_inventory_exports_the_key_the_modem_holds() {
    let dir = tempfile::tempdir().unwrap();
    let inv = dir.path().join("inv.sqlite");
    let inv = inv.to_str().unwrap();
    let (identity, recipient) = operator(dir.path(), "operator.key");
    let sim = Sim::start(&[]);
    let first = provision(inv, &recipient, &sim.path);
    assert_eq!(first.status.code(), Some(0), "{}", both(&first));
    let old = exported_secret(&export(inv, Some(&identity)));

    let profile = default_profile();
    let forced = run(&[
        "provision",
        "--json",
        "--force",
        "--profile",
        profile.to_str().unwrap(),
        "--inventory",
        inv,
        "--seal-to",
        &recipient,
        "-p",
        &sim.path,
    ]);
    assert_eq!(forced.status.code(), Some(0), "{}", both(&forced));
    let new = exported_secret(&export(inv, Some(&identity)));
    assert_ne!(new, old, "the rotation drew a new key");
    let state = sim.stop();
    assert_eq!(modem_psk_prefix(&state).as_deref(), Some(&new[..4]));
    // The old record stays, superseded; neither key is in the file or in any output.
    let list = run(&["inventory", "list", "--json", "--inventory", inv]);
    assert_eq!(list.status.code(), Some(0), "{}", both(&list));
    assert!(stdout(&list).contains("superseded"), "{}", both(&list));
    for secret in [&old, &new] {
        assert_no_secret(&both(&first), secret);
        assert_no_secret(&both(&forced), secret);
        assert_no_secret(&both(&list), secret);
        for suffix in ["", "-wal"] {
            if let Ok(bytes) = std::fs::read(format!("{inv}{suffix}")) {
                assert_no_secret(&String::from_utf8_lossy(&bytes), secret);
            }
        }
    }
}

#[test]
fn a_malformed_recipient_is_bad_usage_before_anything_is_opened() {
    let dir = tempfile::tempdir().unwrap();
    let inv = dir.path().join("inv.sqlite");
    let o = provision(inv.to_str().unwrap(), "age1notarecipient", "/dev/null");
    assert_eq!(o.status.code(), Some(2), "{}", both(&o));
    assert!(both(&o).contains("--seal-to"), "{}", both(&o));
    assert!(!inv.exists());
}
