//! The `ryz014` binary: keygen, ports, inventory list/export, exit codes and JSON lines.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use ryz014_core::imei::Imei;
use ryz014_core::psk::PskSecret;
use ryz014_serial::inventory::{Inventory, NewRecord};
use serde_json::Value;

const SECRET_A: &str = "8749a3f2c1d0e5b6a7980123456789abcdef0123456789abcdef0123456789ab";
const SECRET_B: &str = "11223344556677889900aabbccddeeff11223344556677889900aabbccddeeff";

fn ryz014(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ryz014"))
        .args(args)
        .output()
        .expect("run ryz014")
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("stdout is UTF-8")
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).expect("stderr is UTF-8")
}

fn json_lines(o: &Output) -> Vec<Value> {
    stdout(o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

fn is_hex64(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[test]
fn keygen_prints_one_secret_by_default() {
    let o = ryz014(&["keygen"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1);
    assert!(is_hex64(lines[0]), "{}", lines[0]);
}

#[test]
fn keygen_count_gives_distinct_secrets() {
    let o = ryz014(&["keygen", "--count", "20"]);
    assert_eq!(o.status.code(), Some(0));
    let text = stdout(&o);
    let mut lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 20);
    assert!(lines.iter().all(|l| is_hex64(l)));
    lines.sort_unstable();
    lines.dedup();
    assert_eq!(lines.len(), 20, "secrets must not repeat");
    // Two runs do not repeat each other either.
    let again = stdout(&ryz014(&["keygen", "-n", "20"]));
    assert!(again.lines().all(|l| !text.contains(l)));
}

#[test]
fn keygen_json_is_one_object_per_secret() {
    let o = ryz014(&["keygen", "--count", "3", "--json"]);
    assert_eq!(o.status.code(), Some(0));
    let events = json_lines(&o);
    assert_eq!(events.len(), 3);
    for (i, e) in events.iter().enumerate() {
        assert_eq!(e["event"], "psk");
        assert_eq!(e["index"], i as u64 + 1);
        assert!(is_hex64(e["psk_hex"].as_str().unwrap()), "{e}");
    }
}

#[test]
fn keygen_count_out_of_range_is_bad_usage() {
    for n in ["0", "10001", "many"] {
        let o = ryz014(&["keygen", "--count", n]);
        assert_eq!(o.status.code(), Some(2), "--count {n}");
        assert!(stderr(&o).contains("--count"), "{}", stderr(&o));
        assert!(o.stdout.is_empty());
    }
    assert!(stderr(&ryz014(&["keygen", "--count", "0"])).contains("1..=10000"));
}

#[test]
fn bad_usage_exits_2() {
    for args in [
        &["frobnicate"][..],
        &[][..],
        &["provision", "--port", "/dev/null"][..], // --profile missing
        &["status", "--baud", "12"][..],
        &["inventory", "export", "--format", "xml"][..],
        &["monitor", "--until", "soon"][..],
    ] {
        let o = ryz014(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
    }
    let o = ryz014(&["status", "--baud", "12"]);
    assert!(stderr(&o).contains("1200..=4000000"), "{}", stderr(&o));
}

#[test]
fn bad_usage_with_json_is_a_json_error() {
    let o = ryz014(&["--json", "keygen", "--count", "0"]);
    assert_eq!(o.status.code(), Some(2));
    let events = json_lines(&o);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["event"], "error");
    assert_eq!(events[0]["exit_code"], 2);
    assert!(events[0]["message"].as_str().unwrap().contains("--count"));
}

#[test]
fn help_teaches_with_examples_and_exits_0() {
    let o = ryz014(&["--help"]);
    assert_eq!(o.status.code(), Some(0));
    let text = stdout(&o);
    for word in [
        "Examples:",
        "Exit codes:",
        "provision",
        "inventory",
        "monitor",
        "decode",
        "demo",
    ] {
        assert!(text.contains(word), "--help lacks {word}");
    }
    let o = ryz014(&["inventory", "export", "--help"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).contains("endpointName,dtlsIdentity,dtlsPskHex"));
}

#[test]
fn ports_json_lists_ports_then_the_selection() {
    let o = ryz014(&["ports", "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let events = json_lines(&o);
    let (last, ports) = events.split_last().expect("at least the selection event");
    assert_eq!(last["event"], "auto_select");
    for p in ports {
        assert_eq!(p["event"], "port");
        assert!(p["path"].is_string(), "{p}");
        assert!(
            ["named", "likely", "possible", "unlikely"]
                .contains(&p["likelihood"].as_str().unwrap()),
            "{p}"
        );
        assert!(p["reason"].is_string());
    }
    // The selection is one of the listed ports, or none with the reason.
    match last["port"].as_str() {
        Some(chosen) => assert!(ports.iter().any(|p| p["path"] == chosen)),
        None => assert!(last["reason"].as_str().unwrap().contains("--port")),
    }
}

fn sample_inventory(dir: &Path) -> PathBuf {
    let path = dir.join("inv.sqlite");
    let inv = Inventory::open(&path).unwrap();
    let provision = |imei: &str, secret: &str| {
        let imei = Imei::parse(imei).unwrap();
        let secret = PskSecret::from_hex(secret).unwrap();
        let endpoint = imei.urn();
        let rec = NewRecord {
            imei: &imei,
            endpoint: &endpoint,
            psk_identity: &endpoint,
            secret: &secret,
            profile: "standard",
            port: Some("/dev/ttyUSB0"),
            firmware: Some("5.4.1.1-57857"),
            server: None,
        };
        inv.begin_pending(&rec, false).unwrap()
    };
    let a = provision("015770000031766", SECRET_A);
    inv.mark_verified(a, None).unwrap();
    let b = provision("490154203237518", SECRET_B);
    inv.mark_failed(b, "step server: +CME ERROR: 4").unwrap();
    path
}

/// The `attention` events (IMEIs the export leaves out) apart from the others.
fn split_attention(events: Vec<Value>) -> (Vec<Value>, Vec<Value>) {
    events.into_iter().partition(|v| v["event"] == "attention")
}

fn no_secret_in(o: &Output) {
    for s in [SECRET_A, SECRET_B] {
        assert!(
            !stdout(o).contains(&s[..8]),
            "secret in stdout: {}",
            stdout(o)
        );
        assert!(
            !stderr(o).contains(&s[..8]),
            "secret in stderr: {}",
            stderr(o)
        );
    }
}

#[test]
fn inventory_list_shows_records_without_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let db = sample_inventory(dir.path());
    let db = db.to_str().unwrap();
    let o = ryz014(&["-vv", "inventory", "list", "--inventory", db]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    no_secret_in(&o);
    let text = stdout(&o);
    assert!(
        text.contains("015770000031766") && text.contains("verified"),
        "{text}"
    );
    assert!(
        text.contains("490154203237518") && text.contains("failed"),
        "{text}"
    );
    assert!(text.contains("+CME ERROR: 4"), "{text}");
    assert!(text.contains("8749…"), "{text}");

    let o = ryz014(&["inventory", "list", "--inventory", db, "--json"]);
    assert_eq!(o.status.code(), Some(0));
    no_secret_in(&o);
    let events = json_lines(&o);
    assert_eq!(events.len(), 2);
    assert_eq!(events[0]["event"], "record");
    assert_eq!(events[0]["imei"], "015770000031766");
    assert_eq!(events[0]["state"], "verified");
    assert_eq!(events[0]["psk"], "8749…");
    assert_eq!(events[1]["state"], "failed");
    assert_eq!(events[1]["error"], "step server: +CME ERROR: 4");
}

#[test]
fn inventory_commands_need_an_existing_file() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.sqlite");
    let o = ryz014(&[
        "inventory",
        "list",
        "--inventory",
        missing.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("nope.sqlite"), "{}", stderr(&o));
    assert!(!missing.exists(), "listing must not create an inventory");
}

#[cfg(unix)]
#[test]
fn inventory_export_to_a_file_is_private_and_shaped() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let db = sample_inventory(dir.path());
    let csv = dir.path().join("devices.csv");
    let o = ryz014(&[
        "--json",
        "inventory",
        "export",
        "--inventory",
        db.to_str().unwrap(),
        "--out",
        csv.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    no_secret_in(&o);
    let (attention, events) = split_attention(json_lines(&o));
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["event"], "exported");
    assert_eq!(events[0]["count"], 1);
    assert_eq!(events[0]["format"], "coiote-csv");
    // The failed IMEI is not exported, and the export says so.
    assert_eq!(attention.len(), 1, "{attention:?}");
    assert_eq!(attention[0]["imei"], "490154203237518");
    assert_eq!(attention[0]["state"], "failed");
    let mode = std::fs::metadata(&csv).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    assert_eq!(
        std::fs::read_to_string(&csv).unwrap(),
        format!(
            "endpointName,dtlsIdentity,dtlsPskHex\r\nurn:imei:015770000031766,urn:imei:015770000031766,{SECRET_A}\r\n"
        )
    );

    let json_path = dir.path().join("devices.json");
    let o = ryz014(&[
        "inventory",
        "export",
        "--format",
        "json",
        "--inventory",
        db.to_str().unwrap(),
        "--out",
        json_path.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    no_secret_in(&o);
    assert!(stdout(&o).contains("exported 1 verified modem"));
    let mode = std::fs::metadata(&json_path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let value: Value = serde_json::from_str(&std::fs::read_to_string(&json_path).unwrap()).unwrap();
    assert_eq!(value[0]["dtlsPsk"]["HexadecimalPsk"], SECRET_A);
    assert_eq!(
        value[0]["properties"]["endpointName"],
        "urn:imei:015770000031766"
    );
    assert_eq!(value.as_array().unwrap().len(), 1);
}

#[test]
fn inventory_export_without_out_writes_to_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let db = sample_inventory(dir.path());
    let o = ryz014(&["inventory", "export", "--inventory", db.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).starts_with("endpointName,dtlsIdentity,dtlsPskHex\r\n"));
    assert!(stdout(&o).contains(SECRET_A));
    assert!(
        !stdout(&o).contains(SECRET_B),
        "failed records are not exported"
    );
    let o = ryz014(&[
        "inventory",
        "export",
        "--format",
        "json",
        "--inventory",
        db.to_str().unwrap(),
    ]);
    let value: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(value[0]["connectorType"], "bootstrap");
    assert_eq!(value[0]["securityMode"], "psk");
}

#[test]
fn inventory_export_to_stdout_with_json_is_one_event() {
    let dir = tempfile::tempdir().unwrap();
    let db = sample_inventory(dir.path());
    let db = db.to_str().unwrap();
    let o = ryz014(&[
        "--json",
        "inventory",
        "export",
        "--format",
        "json",
        "--inventory",
        db,
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let (attention, events) = split_attention(json_lines(&o));
    assert_eq!(
        attention.len(),
        1,
        "the failed IMEI is named: {attention:?}"
    );
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["event"], "export");
    assert_eq!(events[0]["count"], 1);
    assert_eq!(
        events[0]["content"][0]["dtlsPsk"]["HexadecimalPsk"],
        SECRET_A
    );
    let o = ryz014(&["--json", "inventory", "export", "--inventory", db]);
    let (_, events) = split_attention(json_lines(&o));
    assert_eq!(events.len(), 1);
    let csv = events[0]["content"].as_str().unwrap();
    assert!(
        csv.starts_with("endpointName,dtlsIdentity,dtlsPskHex\r\n"),
        "{csv}"
    );
    assert!(csv.contains(SECRET_A) && !csv.contains(SECRET_B));
}
