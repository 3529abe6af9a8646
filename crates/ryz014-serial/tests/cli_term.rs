//! `ryz014 term` end to end with piped standard input against `ryz014-sim` on a pseudo-terminal:
//! every answer line annotated with its meaning, notifications shown (a reset), JSON events, and
//! the PSK secret of a typed `AT+SQNDMCFG` never shown (echo, modem echo with `-vv`, JSON).
#![cfg(unix)]

mod common;

use std::io::Write;
use std::process::Stdio;

use common::{assert_no_secret, both, json_lines, ryz014_bin, stderr, stdout, wait_limited, Sim};

const SECRET: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const IMEI: &str = "015770000031766";

fn psk_command() -> String {
    format!(r#"AT+SQNDMCFG="standard","psk",100,"urn:imei:{IMEI}","{SECRET}""#)
}

/// Runs `ryz014 <args>` with `input` on standard input.
fn term(args: &[&str], input: &str) -> std::process::Output {
    let mut child = std::process::Command::new(ryz014_bin())
        .args(args)
        .env("RYZ014_HISTORY", "")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start ryz014");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin.write_all(input.as_bytes()).expect("write stdin");
    drop(stdin);
    wait_limited(
        child,
        common::RUN_LIMIT,
        &format!("ryz014 {}", args.join(" ")),
    )
}

fn sim() -> Sim {
    Sim::start(&["--provisioned", "--time-scale", "20"])
}

/// The annotation printed for the answer line `line`.
fn annotation<'a>(text: &'a str, line: &str) -> Option<&'a str> {
    text.lines()
        .find(|l| l.trim_start().starts_with(line) && l.contains(" # "))
        .and_then(|l| l.split_once(" # ").map(|(_, a)| a))
}

#[test]
fn answers_are_annotated_and_the_secret_redacted() {
    let sim = sim();
    let input = format!(
        "AT\nATI1\nAT+CGSN\nAT+CFUN=5\n{}\nAT+SQNDMCFG=\"standard\",\"psk\"\nAT+NOPE\nexit\nAT\n",
        psk_command()
    );
    let o = term(&["term", "-p", &sim.path], &input);
    assert_eq!(o.status.code(), Some(0), "{}", both(&o));
    let text = stdout(&o);
    assert!(text.contains("> ATI1"), "{text}");
    assert_eq!(
        annotation(&text, "LR5.4.1.1-57857"),
        Some("Firmware version 5.4.1.1-57857 (the version the FOTA server reports)."),
        "{text}"
    );
    assert!(
        annotation(&text, IMEI).is_some_and(|a| a.contains(&format!("urn:imei:{IMEI}"))),
        "{text}"
    );
    assert_eq!(
        annotation(&text, "OK"),
        Some("OK: the command succeeded."),
        "{text}"
    );
    assert!(
        annotation(&text, "ERROR").is_some_and(|a| a.starts_with("ERROR: the command failed")),
        "{text}"
    );
    // The typed secret shows as its first 4 hex digits; the read-back as the modem shows it.
    assert!(
        text.contains(&format!(
            r#"> AT+SQNDMCFG="standard","psk",100,"urn:imei:{IMEI}","0123…""#
        )),
        "{text}"
    );
    assert!(
        annotation(&text, "+SQNDMCFG: \"standard\",\"psk\"")
            .is_some_and(|a| a.contains("secret starting 0123…")),
        "{text}"
    );
    // `exit` ends the session: the AT after it is not sent.
    assert_eq!(text.matches("> AT\n").count(), 1, "{text}");
    assert_no_secret(&format!("{text}{}", stderr(&o)), SECRET);
    // The modem did get the whole secret (its state keeps the first 4 digits only).
    let state = sim.stop().to_string();
    assert!(state.contains("0123"), "{state}");
}

#[test]
fn notifications_are_shown_with_their_meaning() {
    let sim = sim();
    let o = term(&["term", "-p", &sim.path], "AT^RESET\nAT+CEREG?\n");
    assert_eq!(o.status.code(), Some(0), "{}", both(&o));
    let text = stdout(&o);
    assert_eq!(
        annotation(&text, "+SHUTDOWN"),
        Some("The modem goes down for a reboot."),
        "{text}"
    );
    assert_eq!(
        annotation(&text, "+SYSSTART"),
        Some("The modem has booted."),
        "{text}"
    );
    assert!(
        annotation(&text, "+CEREG:").is_some_and(|a| a.starts_with("Network registration:")),
        "{text}"
    );
}

#[test]
fn the_modem_echo_is_redacted_too() {
    let sim = sim();
    let input = format!("ATE1\nAT+CFUN=5\n{}\n", psk_command());
    let o = term(&["-vv", "term", "-p", &sim.path], &input);
    assert_eq!(o.status.code(), Some(0), "{}", both(&o));
    let all = format!("{}{}", stdout(&o), stderr(&o));
    // With -v the modem's own echo is shown: redacted like the typed line.
    assert!(
        all.matches(r#""urn:imei:015770000031766","0123…""#).count() >= 2,
        "{all}"
    );
    assert_no_secret(&all, SECRET);
}

#[test]
fn json_mode_prints_one_event_per_line() {
    let sim = sim();
    let input = format!("AT+CGSN\nAT+CFUN=5\n{}\n", psk_command());
    let o = term(&["--json", "term", "-p", &sim.path], &input);
    assert_eq!(o.status.code(), Some(0), "{}", both(&o));
    let lines = json_lines(&o);
    assert_eq!(lines[0]["event"], "ready");
    let sent: Vec<&str> = lines
        .iter()
        .filter(|v| v["event"] == "sent")
        .filter_map(|v| v["text"].as_str())
        .collect();
    assert_eq!(sent.len(), 3, "{lines:?}");
    assert!(sent[2].ends_with("\"0123…\""), "{sent:?}");
    let imei = lines
        .iter()
        .find(|v| v["event"] == "received" && v["kind"] == "info")
        .expect("the IMEI line");
    assert_eq!(imei["imei"], IMEI);
    assert!(imei["explanation"].as_str().unwrap().starts_with("IMEI"));
    assert_no_secret(&stdout(&o), SECRET);
}

#[test]
fn a_port_that_cannot_be_opened_exits_4() {
    let o = term(&["term", "-p", "/dev/ryz014-no-such-port"], "AT\n");
    assert_eq!(o.status.code(), Some(4), "{}", both(&o));
}

/// On a terminal (util-linux `script` gives it one): rustyline reads the keys, the typed PSK
/// command is shown redacted, and the history file holds only the redacted form, mode 0600.
#[test]
fn on_a_terminal_the_history_keeps_only_the_redacted_command() {
    if !std::path::Path::new("/usr/bin/script").exists() {
        eprintln!("skipped: /usr/bin/script is not installed");
        return;
    }
    let sim = sim();
    let dir = tempfile::tempdir().unwrap();
    let history = dir.path().join("history");
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
        for k in [
            "ATI1\r".to_string(),
            format!("{}\r", psk_command()),
            "\x04".into(),
        ] {
            std::thread::sleep(std::time::Duration::from_millis(800));
            let _ = stdin.write_all(k.as_bytes());
            let _ = stdin.flush();
        }
        std::thread::sleep(std::time::Duration::from_millis(800));
    });
    let o = wait_limited(child, common::RUN_LIMIT, "script ryz014 term");
    keys.join().unwrap();
    let screen = stdout(&o);
    assert!(screen.contains("LR5.4.1.1-57857"), "{}", both(&o));
    // The redacted form replaces the typed line on the screen.
    assert!(screen.contains("\"0123…\""), "{screen}");
    let saved = std::fs::read_to_string(&history).expect("history file");
    assert_eq!(
        saved.lines().collect::<Vec<_>>(),
        [
            "ATI1",
            r#"AT+SQNDMCFG="standard","psk",100,"urn:imei:015770000031766","0123…""#
        ],
        "{saved}"
    );
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&history).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
}
