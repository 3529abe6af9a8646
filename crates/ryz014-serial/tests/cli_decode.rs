//! `ryz014 decode` end to end on excerpts of the note's transcripts (§4.3.1.2, §4.3.3, §4.5.2,
//! §4.7.1 as printed, §6.3.3), as files and on standard input: the words, the `--json` records
//! (exactly the core's `decode_record` for each line), garbled and binary input (never a panic),
//! and the secret-leak check.
#![cfg(unix)]

mod common;

use std::io::Write;
use std::process::{Command, Output, Stdio};

use common::{assert_no_secret, both, json_lines, ryz014_bin, stderr, stdout, wait_limited};
use ryz014_core::describe::decode_record;
use ryz014_core::parse::parse_line;
use serde_json::Value;

/// A PSK secret typed in a transcript (64 hex digits).
const SECRET: &str = "8749a3f2c1d0e5b6a7980123456789abcdef0123456789abcdef0123456789ab";

/// §4.3.1.2 Device configuration, as the modem sends it (echo on): the note's PSK replaced by
/// a full-length one (`{SECRET}` in `tests/fixtures/note-4-3-1-2-device-configuration.wire.txt`).
fn section_4_3_1_2() -> String {
    include_str!("../../../tests/fixtures/note-4-3-1-2-device-configuration.wire.txt")
        .replace("{SECRET}", SECRET)
}

/// §4.3.3 Register the device, as the modem sends it (echo on, `\r\n` framing).
const SECTION_4_3_3: &str = include_str!("../../../tests/fixtures/note-4-3-3-register.wire.txt");

/// §4.5.2 Detailed FOTA procedure, one line per line as a capture tool saves it.
const SECTION_4_5_2: &str = include_str!("../../../tests/fixtures/note-4-5-2.txt");

/// §4.7.1 Wrong FOTA image, exactly as the note prints it (comments and a wrapped comment).
const SECTION_4_7_1: &str = include_str!("../../../tests/fixtures/note-4-7-1-as-printed.txt");

/// §6.3.3 Examples of AT+SQNDMST (the first and the last).
const SECTION_6_3_3: &str = include_str!("../../../tests/fixtures/note-6-3-3-first-and-last.txt");

fn write_log(bytes: &[u8]) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("capture.log");
    std::fs::write(&path, bytes).unwrap();
    let p = path.to_str().unwrap().to_string();
    (dir, p)
}

fn decode_file(bytes: &[u8], json: bool) -> Output {
    let (_dir, path) = write_log(bytes);
    let mut args = vec![];
    if json {
        args.push("--json");
    }
    args.extend(["decode", path.as_str()]);
    let child = Command::new(ryz014_bin())
        .args(&args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_limited(child, common::RUN_LIMIT, "ryz014 decode")
}

fn decode_stdin(bytes: &[u8], json: bool) -> Output {
    let mut args = vec![];
    if json {
        args.push("--json");
    }
    args.extend(["decode", "-"]);
    let mut child = Command::new(ryz014_bin())
        .args(&args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let data = bytes.to_vec();
    let feeder = std::thread::spawn(move || {
        let _ = stdin.write_all(&data);
    });
    let o = wait_limited(child, common::RUN_LIMIT, "ryz014 decode -");
    feeder.join().unwrap();
    o
}

/// The expected records: each non-blank input line (its `// comment` left out), numbered from 1.
fn expected_records(text: &str) -> Vec<Value> {
    text.split('\n')
        .enumerate()
        .filter_map(|(i, raw)| {
            let line = raw.trim_end_matches('\r');
            let line = match line.find(" //") {
                Some(at) => &line[..at],
                None => line,
            };
            (!line.trim().is_empty()).then(|| decode_record(i + 1, &parse_line(line)))
        })
        .collect()
}

#[test]
fn the_4_5_2_transcript_is_explained_line_by_line() {
    let o = decode_file(SECTION_4_5_2.as_bytes(), false);
    assert_eq!(o.status.code(), Some(0), "{}", both(&o));
    let text = stdout(&o);
    let lines: Vec<&str> = text.lines().collect();
    // Each input line: its number and text, then its explanation, indented.
    assert_eq!(lines.len(), 2 * SECTION_4_5_2.lines().count(), "{text}");
    assert_eq!(lines[0], "     1  ATI1");
    assert!(lines[1].starts_with("        Command ATI1: read the firmware version"));
    assert_eq!(lines[2 * 15], "    16  +SQNFOTA: 5,3,50");
    assert!(lines[2 * 15 + 1].contains("Progress 50 %"), "{}", lines[31]);
    assert!(text.contains("Version 5.4.1.1-57830."), "{text}");
    assert!(text.contains("The modem has booted."), "{text}");
}

#[test]
fn json_records_are_the_core_records_for_every_section() {
    let sections = [
        section_4_3_1_2(),
        SECTION_4_3_3.to_string(),
        SECTION_4_5_2.to_string(),
        SECTION_4_7_1.to_string(),
        SECTION_6_3_3.to_string(),
    ];
    for s in &sections {
        let o = decode_file(s.as_bytes(), true);
        assert_eq!(o.status.code(), Some(0), "{}", both(&o));
        let got = json_lines(&o);
        let mut want = expected_records(s);
        // The echoed PSK command is shown redacted.
        for w in &mut want {
            if let Some(t) = w["text"].as_str() {
                w["text"] = Value::String(ryz014_core::describe::redact_command_text(t));
            }
        }
        assert_eq!(got, want, "section:\n{s}");
    }
}

#[test]
fn json_shape_by_kind() {
    let all = [
        section_4_3_1_2(),
        SECTION_4_3_3.into(),
        SECTION_4_7_1.into(),
        SECTION_6_3_3.into(),
    ]
    .concat();
    let o = decode_stdin(all.as_bytes(), true);
    assert_eq!(o.status.code(), Some(0), "{}", both(&o));
    let recs = json_lines(&o);
    let kinds: std::collections::BTreeSet<&str> =
        recs.iter().filter_map(|r| r["kind"].as_str()).collect();
    for k in [
        "command",
        "final",
        "fota",
        "dm_status",
        "registration",
        "boot",
        "info",
        "unknown",
    ] {
        assert!(kinds.contains(k), "{k} missing: {kinds:?}");
    }
    for r in &recs {
        assert!(r["line"].as_u64().is_some_and(|n| n >= 1), "{r}");
        assert!(r["explanation"].is_string(), "{r}");
        match r["kind"].as_str().unwrap() {
            "final" => {
                assert!(["ok", "error", "cme_error", "cms_error"]
                    .contains(&r["result"].as_str().unwrap()))
            }
            "fota" => assert!(r["phase"].is_string(), "{r}"),
            "dm_status" => {
                assert!(["bs", "dm"].contains(&r["role"].as_str().unwrap()));
                for f in ["server_id", "status", "timer", "update_in"] {
                    assert!(!r[f].is_null(), "{f} in {r}");
                }
            }
            "boot" => assert!(["shutdown", "sysstart"].contains(&r["event"].as_str().unwrap())),
            "registration" => assert!(r["stat"].is_u64(), "{r}"),
            "unknown" => assert!(r["raw"].is_string(), "{r}"),
            _ => {}
        }
    }
    // §4.7.1: the failure with its cause and the note's advice; the wrapped comment is unknown.
    let failure = recs
        .iter()
        .find(|r| r["kind"] == "fota" && r["cause"] == 8)
        .expect("3,8");
    assert_eq!(failure["phase"], "failed");
    assert_eq!(failure["state"], 3);
    assert!(failure["advice"].as_str().unwrap().contains("§4.7.1"));
    assert!(recs
        .iter()
        .any(|r| r["kind"] == "unknown" && r["raw"] == "package)"));
    // §6.3.3: registered DM server 102 with its countdown.
    assert!(recs.iter().any(|r| r["kind"] == "dm_status"
        && r["server_id"] == 102
        && r["status"] == "REGISTERED"
        && r["update_in"] == 2_587_603));
}

#[test]
fn comments_in_printed_logs_are_shown_apart() {
    let o = decode_file(SECTION_4_7_1.as_bytes(), false);
    assert_eq!(o.status.code(), Some(0), "{}", both(&o));
    let text = stdout(&o);
    assert!(
        text.contains("     8  +SQNFOTA: 3,8 // Idle, installation failure"),
        "{text}"
    );
    assert!(
        text.contains("Cause 8: Installation failed: the modem rejected the image."),
        "{text}"
    );
    assert!(
        text.contains("(log comment: Idle, installation failure)"),
        "{text}"
    );
}

#[test]
fn the_psk_secret_never_shows() {
    let log = section_4_3_1_2();
    assert!(log.contains(SECRET));
    for json in [false, true] {
        for o in [
            decode_file(log.as_bytes(), json),
            decode_stdin(log.as_bytes(), json),
        ] {
            assert_eq!(o.status.code(), Some(0), "{}", both(&o));
            let all = format!("{}{}", stdout(&o), stderr(&o));
            assert_no_secret(&all, SECRET);
            assert!(all.contains("8749…"), "{all}");
        }
    }
}

/// xorshift64*: deterministic noise.
fn noise(len: usize, mut seed: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(len);
    while out.len() < len {
        seed ^= seed >> 12;
        seed ^= seed << 25;
        seed ^= seed >> 27;
        let v = seed.wrapping_mul(0x2545_f491_4f6c_dd1d);
        out.extend_from_slice(&v.to_le_bytes());
    }
    out.truncate(len);
    out
}

#[test]
fn garbled_and_binary_input_never_panics() {
    let mut input = Vec::new();
    input.extend_from_slice(SECTION_4_5_2.as_bytes());
    input.extend(noise(300_000, 0x2014));
    // Garbled modem lines, NULs, invalid UTF-8, a line far over the framer's cap, lone CRs.
    input.extend_from_slice(b"\x00\x00\r\n+SQN\xffFOTA: 5\x1b,3,40\r\n+SQNFOTA: 5,3,\r\n");
    input.extend_from_slice(b"+SQNFOTA: 99999999999999999999,3\r+SQNDMST: \"dm\"\r\n");
    input.extend(std::iter::repeat_n(b'x', 100_000));
    input
        .extend_from_slice(b"\n\xc3\x28\xe2\x82\n> \n+SQNDMCFG: \"standard\",\"psk\",100,\"x\",\"");
    input.extend_from_slice(SECRET.as_bytes());
    input.extend_from_slice(b"\"\n+SQNFOTA: 3,8");
    for json in [false, true] {
        let o = decode_stdin(&input, json);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        assert!(!stderr(&o).contains("panicked"), "{}", stderr(&o));
        let text = stdout(&o);
        assert_no_secret(&text, SECRET);
        if json {
            let recs = json_lines(&o);
            let last = recs.last().expect("records");
            assert_eq!(last["cause"], 8, "the unterminated last line is decoded");
            let lines: Vec<u64> = recs.iter().filter_map(|r| r["line"].as_u64()).collect();
            assert!(
                lines.windows(2).all(|w| w[0] <= w[1]),
                "line numbers in order"
            );
        } else {
            assert!(
                text.contains("over-long line"),
                "the 100 kB line is reported"
            );
        }
    }
}

#[test]
fn a_missing_file_is_a_usage_error() {
    let o = common::run(&["decode", "/nonexistent/ryz014/capture.log"]);
    assert_eq!(o.status.code(), Some(2), "{}", both(&o));
    assert!(
        stderr(&o).contains("/nonexistent/ryz014/capture.log"),
        "{}",
        both(&o)
    );
}

#[test]
fn a_directory_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_str().unwrap();
    for json in [false, true] {
        let mut args = vec![];
        if json {
            args.push("--json");
        }
        args.extend(["decode", path]);
        let o = common::run(&args);
        assert_eq!(o.status.code(), Some(2), "{}", both(&o));
        let said = if json { stdout(&o) } else { stderr(&o) };
        assert!(said.contains(path), "{}", both(&o));
        assert!(said.contains("is a directory"), "{}", both(&o));
    }
}

#[test]
fn a_closed_pipe_ends_quietly() {
    let big = SECTION_4_5_2.repeat(20_000);
    let (_dir, path) = write_log(big.as_bytes());
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "'{}' decode '{path}' | head -n 3",
            ryz014_bin().display()
        ))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 3);
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("panicked"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
