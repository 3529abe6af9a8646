//! Secrets never leak, end to end against `ryz014-sim` on a pseudo-terminal (issue 9, points 6
//! and 9): the `-vv` wire log of `provision` when the modem's echo follows a noise byte (so it
//! does not parse as a command) or when the modem shows the whole secret in its read line; `term`
//! with slightly malformed PSK commands (screen, `--json`, history file); an existing history file
//! that is world-readable and still holds a secret.
#![cfg(unix)]

mod common;

use std::io::Write;
use std::path::Path;
use std::process::Stdio;

use common::{
    assert_no_secret, both, default_profile, exported_secrets, json_lines, run, ryz014_bin, stderr,
    stdout, wait_limited, Sim, SIM_IMEI,
};

/// A secret typed in `term` commands, looked for in every output.
const SECRET: &str = "c0ffee0123456789abcdef0123456789abcdef0123456789abcdef0123456789";

/// `ryz014 -vv provision` of one simulator started with `sim_args`; returns the output and the
/// secret the inventory recorded for the modem.
fn provision_vv(sim_args: &[&str]) -> (std::process::Output, String) {
    let sim = Sim::start(sim_args);
    let dir = tempfile::tempdir().unwrap();
    let inv = dir.path().join("inv.sqlite");
    let profile = default_profile();
    let o = run(&[
        "-vv",
        "provision",
        "--profile",
        profile.to_str().unwrap(),
        "--inventory",
        inv.to_str().unwrap(),
        "-p",
        &sim.path,
    ]);
    let secret = secret_of(&inv);
    (o, secret)
}

fn secret_of(inv: &Path) -> String {
    exported_secrets(inv)
        .into_iter()
        .find(|(i, _)| i == SIM_IMEI)
        .map(|(_, s)| s)
        .unwrap_or_else(|| panic!("no exported secret for {SIM_IMEI}"))
}

#[test]
fn a_noise_byte_before_the_echo_does_not_let_the_secret_into_the_wire_log() {
    let (o, secret) = provision_vv(&["--fault", "echo-noise"]);
    let err = stderr(&o);
    // The echo of the PSK command was logged (after the noise byte), redacted.
    let echo = err
        .lines()
        .find(|l| l.contains("← \u{fffd}AT+SQNDMCFG=") && l.contains("\"psk\","))
        .unwrap_or_else(|| panic!("no echoed PSK command in the log:\n{}", both(&o)));
    assert!(echo.contains(&format!("\"{}…\"", &secret[..4])), "{echo}");
    assert_no_secret(&format!("{}{err}", stdout(&o)), &secret);
}

#[test]
fn a_modem_that_shows_the_whole_secret_in_its_read_line_is_redacted() {
    let (o, secret) = provision_vv(&["--fault", "psk-read-full"]);
    assert_eq!(o.status.code(), Some(0), "{}", both(&o));
    let err = stderr(&o);
    let read = err
        .lines()
        .find(|l| l.contains("← +SQNDMCFG: \"standard\",\"psk\""))
        .unwrap_or_else(|| panic!("no PSK read line in the log:\n{}", both(&o)));
    assert!(read.ends_with(&format!("\"{}…\"", &secret[..4])), "{read}");
    assert_no_secret(&format!("{}{err}", stdout(&o)), &secret);
}

/// PSK commands a user may type slightly wrong.
fn malformed() -> Vec<String> {
    vec![
        // missing closing quote
        format!(r#"AT+SQNDMCFG="standard","psk",100,"urn:imei:{SIM_IMEI}","{SECRET}"#),
        // mistyped command name
        format!(r#"AT+SQNDMCF="standard","psk",100,"urn:imei:{SIM_IMEI}","{SECRET}""#),
        // missing identity
        format!(r#"AT+SQNDMCFG="standard","psk",100,"{SECRET}""#),
    ]
}

/// Runs `ryz014 <args>` with `input` on standard input and `RYZ014_HISTORY` set to `history`.
fn piped(args: &[&str], input: &str, history: &str) -> std::process::Output {
    let mut child = std::process::Command::new(ryz014_bin())
        .args(args)
        .env("RYZ014_HISTORY", history)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start ryz014");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin.write_all(input.as_bytes()).expect("write stdin");
    drop(stdin);
    wait_limited(child, common::RUN_LIMIT, "ryz014 term")
}

#[test]
fn malformed_psk_commands_typed_in_term_are_redacted_on_screen_and_in_json() {
    let sim = Sim::start(&["--provisioned", "--time-scale", "20"]);
    let input = format!("ATE1\n{}\n", malformed().join("\n"));
    for json in [false, true] {
        let mut args = vec!["-vv"];
        if json {
            args.push("--json");
        }
        args.extend(["term", "-p", &sim.path]);
        let o = piped(&args, &input, "");
        assert_eq!(o.status.code(), Some(0), "{}", both(&o));
        let all = format!("{}{}", stdout(&o), stderr(&o));
        assert!(all.matches("c0ff…").count() >= 3, "{all}");
        assert_no_secret(&all, SECRET);
        if json {
            let sent = json_lines(&o)
                .into_iter()
                .filter(|v| v["event"] == "sent")
                .count();
            assert_eq!(sent, 4, "{all}");
        }
    }
}

/// On a terminal (util-linux `script` gives it one): an existing history file, world-readable
/// and holding a secret typed by an older version, is narrowed to 0600 and rewritten redacted;
/// the malformed commands typed now are stored redacted.
#[test]
fn an_existing_history_file_is_narrowed_and_keeps_no_secret() {
    if !Path::new("/usr/bin/script").exists() {
        eprintln!("skipped: /usr/bin/script is not installed");
        return;
    }
    use std::os::unix::fs::PermissionsExt;
    let sim = Sim::start(&["--provisioned", "--time-scale", "20"]);
    let dir = tempfile::tempdir().unwrap();
    let history = dir.path().join("history");
    std::fs::write(&history, format!("ATI1\n{}\n", malformed()[1])).unwrap();
    std::fs::set_permissions(&history, std::fs::Permissions::from_mode(0o644)).unwrap();
    let command = format!("{} term -p {}", ryz014_bin().display(), sim.path);
    let mut child = std::process::Command::new("/usr/bin/script")
        .args(["-qec", &command, "/dev/null"])
        .env("RYZ014_HISTORY", &history)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start script");
    let mut stdin = child.stdin.take().unwrap();
    let keys = std::thread::spawn(move || {
        let mut keys: Vec<String> = malformed().into_iter().map(|l| format!("{l}\r")).collect();
        keys.push("\x04".into());
        for k in keys {
            std::thread::sleep(std::time::Duration::from_millis(800));
            let _ = stdin.write_all(k.as_bytes());
            let _ = stdin.flush();
        }
        std::thread::sleep(std::time::Duration::from_millis(800));
    });
    let o = wait_limited(child, common::RUN_LIMIT, "script ryz014 term");
    keys.join().unwrap();
    let saved = std::fs::read_to_string(&history).expect("history file");
    assert_eq!(saved.lines().count(), 5, "{saved}\n{}", both(&o));
    assert_eq!(saved.lines().next(), Some("ATI1"), "{saved}");
    assert_eq!(saved.matches("c0ff…").count(), 4, "{saved}");
    assert_no_secret(&saved, SECRET);
    let mode = std::fs::metadata(&history).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    // The screen shows the redacted forms only (the typed line is replaced once entered).
    let screen = stdout(&o);
    assert!(screen.contains("c0ff…"), "{screen}");
}

/// Runs `ryz014 [--json] provision --profile <file>` against a port that does not exist: a bad
/// profile is reported (exit 2) before any port is opened.
fn provision_with_profile(file: &Path, json: bool) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    let inv = dir.path().join("inv.sqlite");
    let mut args = vec![];
    if json {
        args.push("--json");
    }
    args.extend([
        "provision",
        "--profile",
        file.to_str().unwrap(),
        "--inventory",
        inv.to_str().unwrap(),
        "-p",
        "/dev/ryz014-no-such-port",
    ]);
    run(&args)
}

#[test]
fn a_secret_pasted_in_a_profile_is_never_echoed_by_its_error() {
    let dir = tempfile::tempdir().unwrap();
    let example = std::fs::read_to_string(default_profile()).unwrap();
    // `psk = "<secret>"` at the top level, and a secret pasted into another key.
    let cases = [
        format!(
            "psk = \"{SECRET}\"\n{}",
            example.replacen("[psk]", "[psk_]", 1)
        ),
        example.replacen(
            "profile = \"standard\"",
            &format!("profile = \"{SECRET}\""),
            1,
        ),
    ];
    for (i, text) in cases.iter().enumerate() {
        let file = dir.path().join(format!("bad{i}.toml"));
        std::fs::write(&file, text).unwrap();
        for json in [false, true] {
            let o = provision_with_profile(&file, json);
            assert_eq!(o.status.code(), Some(2), "{}", both(&o));
            let all = format!("{}{}", stdout(&o), stderr(&o));
            assert_no_secret(&all, SECRET);
            if json {
                let errors: Vec<_> = json_lines(&o)
                    .into_iter()
                    .filter(|v| v["event"] == "error")
                    .collect();
                assert_eq!(errors.len(), 1, "{all}");
                assert_eq!(errors[0]["exit_code"], 2, "{all}");
            }
        }
    }
}

#[test]
fn a_profile_with_a_list_in_place_of_a_table_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let example = std::fs::read_to_string(default_profile().with_extension("json")).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&example).unwrap();
    v["psk"] = serde_json::json!([SECRET]);
    let file = dir.path().join("list.json");
    std::fs::write(&file, v.to_string()).unwrap();
    let o = provision_with_profile(&file, false);
    assert_eq!(o.status.code(), Some(2), "{}", both(&o));
    let err = stderr(&o);
    assert!(err.contains("psk: is a list; it must be a table"), "{err}");
    assert_no_secret(&format!("{}{err}", stdout(&o)), SECRET);
}

#[test]
fn decode_redacts_a_secret_quoted_in_an_error_answer() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("capture.log");
    std::fs::write(
        &log,
        format!("AT+SQNDMCF=\"standard\",\"psk\",100,\"id\",\"{SECRET}\"\r\n+CME ERROR: bad psk {SECRET}\r\n"),
    )
    .unwrap();
    for json in [false, true] {
        let mut args = vec![];
        if json {
            args.push("--json");
        }
        args.extend(["decode", log.to_str().unwrap()]);
        let o = run(&args);
        assert_eq!(o.status.code(), Some(0), "{}", both(&o));
        let all = format!("{}{}", stdout(&o), stderr(&o));
        assert!(all.contains("c0ff…"), "{all}");
        assert_no_secret(&all, SECRET);
    }
}
