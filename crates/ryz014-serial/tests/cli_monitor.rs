//! `ryz014 monitor` end to end: the built binary against `ryz014-sim` on a pseudo-terminal, with
//! an image scheduled on the simulated server: a full upgrade to installed (words and JSON), a
//! wrong image (exit 1 with the note's advice), nothing in time (exit 3), a power loss during the
//! installation, a port that vanishes for good (exit 4) and one that comes back (a symlink moved
//! to a new simulator). No output ever shows the PSK secret.
#![cfg(unix)]

mod common;

use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{
    assert_no_secret, both, events, json_lines, ryz014_command, stdout, wait_limited, Reader, Sim,
    RUN_LIMIT,
};

/// A 64-hex-digit secret given to the simulator, looked for in every output.
const SECRET: &str = "5eed0214c1d0e5b6a7980123456789abcdef0123456789abcdef0123456789ab";
const OLD: &str = "5.4.1.1-57857";
const NEW: &str = "5.4.1.1-57830";
/// Virtual seconds per real second: the 60 s hold-off takes 1.2 s.
const SCALE: &str = "50";

/// A provisioned simulator with `image` (`good:<v>` or `wrong:<v>`) scheduled 30 virtual s in.
fn sim_with(image: Option<&str>, extra: &[&str]) -> Sim {
    let schedule = image.map(|i| format!("{i}@30"));
    let mut args = vec![
        "--provisioned",
        "--psk-secret",
        SECRET,
        "--fota-timer",
        "60",
        "--time-scale",
        SCALE,
    ];
    if let Some(s) = &schedule {
        args.extend(["--schedule-fota", s.as_str()]);
    }
    args.extend_from_slice(extra);
    Sim::start(&args)
}

/// Runs `ryz014 <args>` with the monitor's limits (`--timeout`, `--reopen-timeout`).
fn monitor(args: &[&str], timeout_secs: &str, reopen_secs: &str) -> std::process::Output {
    let child = ryz014_command(args)
        .args(["--timeout", timeout_secs, "--reopen-timeout", reopen_secs])
        .spawn()
        .expect("start ryz014");
    wait_limited(child, RUN_LIMIT, &format!("ryz014 {}", args.join(" ")))
}

/// The percentages of the `download N %` lines, in order.
fn progress_lines(text: &str) -> Vec<u8> {
    text.lines()
        .filter_map(|l| l.trim().strip_prefix("download "))
        .filter_map(|r| r.trim_end_matches('%').trim().parse().ok())
        .collect()
}

#[test]
fn a_full_upgrade_is_followed_to_installed() {
    let sim = sim_with(Some(&format!("good:{NEW}")), &[]);
    let o = monitor(
        &["monitor", "-p", &sim.path, "--until", "installed"],
        "60",
        "10",
    );
    let text = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{}", both(&o));
    let progress = progress_lines(&text);
    assert_eq!(progress.last(), Some(&100), "{text}");
    assert!(progress.len() >= 5, "one line per 10 % step: {progress:?}");
    assert!(
        progress.windows(2).all(|w| w[0] < w[1]),
        "progress only grows: {progress:?}"
    );
    assert!(
        text.contains(&format!("installed: firmware {NEW} (was {OLD})")),
        "{text}"
    );
    assert!(text.contains("keep the modem powered"), "{text}");
    assert!(text.contains(&format!("firmware {OLD}")), "{text}");
    assert_no_secret(&format!("{}{}", text, common::stderr(&o)), SECRET);
}

#[test]
fn a_wrong_image_fails_with_the_advice() {
    let sim = sim_with(Some(&format!("wrong:{NEW}")), &[]);
    let o = monitor(
        &["monitor", "-p", &sim.path, "--until", "installed"],
        "60",
        "10",
    );
    let text = stdout(&o);
    assert_eq!(o.status.code(), Some(1), "{}", both(&o));
    assert!(text.contains("cause 8"), "{text}");
    assert!(text.contains("advice: Check the image uploaded"), "{text}");
    assert!(
        text.contains(&format!("the modem still runs firmware {OLD}")),
        "{text}"
    );
    assert!(
        common::stderr(&o).contains("the upgrade failed"),
        "{}",
        both(&o)
    );
}

#[test]
fn until_failed_is_reached_by_a_wrong_image() {
    let sim = sim_with(Some(&format!("wrong:{NEW}")), &[]);
    let o = monitor(
        &["monitor", "-p", &sim.path, "--until", "failed"],
        "60",
        "10",
    );
    assert_eq!(o.status.code(), Some(0), "{}", both(&o));
    assert!(stdout(&o).contains("failed: cause 8"), "{}", both(&o));
}

#[test]
fn json_events_follow_the_upgrade() {
    let sim = sim_with(Some(&format!("good:{NEW}")), &[]);
    let o = monitor(
        &["--json", "monitor", "-p", &sim.path, "--until", "installed"],
        "60",
        "10",
    );
    assert_eq!(o.status.code(), Some(0), "{}", both(&o));
    let lines = json_lines(&o);
    let start = events(&lines, "start");
    assert_eq!(start.len(), 1, "{lines:?}");
    assert_eq!(start[0]["firmware"], OLD);
    assert_eq!(start[0]["until"], "installed");

    let fota = events(&lines, "fota");
    let max = fota
        .iter()
        .filter_map(|e| e["progress"].as_u64())
        .max()
        .unwrap_or(0);
    assert_eq!(max, 100, "{fota:?}");
    let phases: Vec<&str> = fota.iter().filter_map(|e| e["phase"].as_str()).collect();
    for p in ["downloading", "downloaded", "installing", "installed"] {
        assert!(phases.contains(&p), "{p} missing from {phases:?}");
    }
    assert!(fota.iter().any(|e| e["keep_powered"] == true));
    // Every notification carries the decode fields.
    let notes = events(&lines, "notification");
    assert!(notes
        .iter()
        .all(|n| n["kind"].is_string() && n["explanation"].is_string()));
    assert!(notes
        .iter()
        .any(|n| n["kind"] == "fota" && n["progress"] == 100));

    let end = events(&lines, "end");
    assert_eq!(end.len(), 1);
    assert_eq!(end[0]["result"], "installed");
    assert_eq!(end[0]["version_before"], OLD);
    assert_eq!(end[0]["version_after"], NEW);
    assert!(events(&lines, "error").is_empty());
}

#[test]
fn nothing_in_time_exits_3() {
    let sim = sim_with(None, &[]);
    let began = Instant::now();
    let o = monitor(
        &["monitor", "-p", &sim.path, "--until", "installed"],
        "2",
        "10",
    );
    assert_eq!(o.status.code(), Some(3), "{}", both(&o));
    assert!(began.elapsed() < Duration::from_secs(30));
    assert!(
        common::stderr(&o).contains("the upgrade was not installed within 2 s"),
        "{}",
        both(&o)
    );
}

#[test]
fn nothing_in_time_in_json_is_an_error_event_with_exit_code_3() {
    // A 10-minute hold-off (12 s of real time): the client cannot report idle in time.
    let sim = sim_with(None, &["--hold-off", "600"]);
    let o = monitor(
        &["--json", "monitor", "-p", &sim.path, "--until", "idle"],
        "0.5",
        "10",
    );
    assert_eq!(o.status.code(), Some(3), "{}", both(&o));
    let lines = json_lines(&o);
    let err = events(&lines, "error");
    assert_eq!(err.len(), 1, "{lines:?}");
    assert_eq!(err[0]["exit_code"], 3);
    assert_eq!(events(&lines, "end")[0]["result"], "timed_out");
}

/// Watches a good image scheduled on a simulator with `fault` until installed; asserts it gets
/// there (exit 0, the new version shown) and returns the output.
fn installed_despite(fault: &str) -> String {
    let sim = sim_with(Some(&format!("good:{NEW}")), &["--fault", fault]);
    let o = monitor(
        &["monitor", "-p", &sim.path, "--until", "installed"],
        "90",
        "10",
    );
    let text = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{fault}: {}", both(&o));
    assert!(
        text.contains(&format!("installed: firmware {NEW}")),
        "{fault}: {text}"
    );
    text
}

#[test]
fn a_power_loss_during_the_installation_is_survived() {
    let text = installed_despite("power-loss-install");
    // The power loss shows as an extra boot during the installation.
    assert!(
        text.matches("the modem has booted").count() >= 2,
        "two boots expected:\n{text}"
    );
}

#[test]
fn a_power_loss_during_the_download_restarts_it_and_the_upgrade_ends_installed() {
    let text = installed_despite("power-loss-download=40");
    let progress = progress_lines(&text);
    assert_eq!(progress.last(), Some(&100), "{text}");
    assert!(
        progress.windows(2).any(|w| w[1] < w[0]),
        "the download starts again from the beginning after the power loss: {progress:?}"
    );
}

#[test]
fn an_unexpected_reset_while_watching_is_survived() {
    // The modem resets by itself at 10 virtual s, before the image is offered at 30 s.
    let text = installed_despite("reset-at=10");
    assert!(
        text.matches("the modem has booted").count() >= 2,
        "the unexpected reset and the installation's reboot:\n{text}"
    );
}

#[test]
fn a_port_that_vanishes_for_good_exits_4() {
    let sim = sim_with(None, &[]);
    let child = ryz014_command(&["monitor", "-p", &sim.path, "--until", "installed"])
        .args(["--timeout", "60", "--reopen-timeout", "1"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("start ryz014");
    let mut child = child;
    let reader = Reader::spawn(child.stdout.take().expect("stdout"));
    wait_for(&reader, "waiting until");
    drop(sim); // kills the simulator: the pseudo-terminal disappears
    let o = wait_limited(child, RUN_LIMIT, "ryz014 monitor");
    let text = reader.finish();
    assert_eq!(o.status.code(), Some(4), "{text}\n{}", both(&o));
    assert!(text.contains("vanished"), "{text}");
    assert!(
        common::stderr(&o).contains("did not come back within 1 s"),
        "{}",
        both(&o)
    );
}

#[test]
fn a_port_that_comes_back_is_reopened_and_the_watch_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("modem");
    let first = sim_with(None, &[]);
    std::os::unix::fs::symlink(&first.path, &link).unwrap();
    let link_str = link.to_str().unwrap().to_string();
    let mut child = ryz014_command(&["monitor", "-p", &link_str, "--until", "installed"])
        .args(["--timeout", "90", "--reopen-timeout", "30"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("start ryz014");
    let reader = Reader::spawn(child.stdout.take().expect("stdout"));
    wait_for(&reader, "waiting until");
    // The modem "re-enumerates": the old port goes away, a new one appears at the same name,
    // and this time the server has an image for it.
    std::fs::remove_file(&link).unwrap();
    drop(first);
    wait_for(&reader, "vanished");
    let second = sim_with(Some(&format!("good:{NEW}")), &[]);
    std::os::unix::fs::symlink(&second.path, &link).unwrap();
    let o = wait_limited(child, RUN_LIMIT, "ryz014 monitor");
    let text = reader.finish();
    assert_eq!(o.status.code(), Some(0), "{text}\n{}", both(&o));
    assert!(text.contains("is back; watching again"), "{text}");
    assert!(
        text.contains(&format!("installed: firmware {NEW}")),
        "{text}"
    );
    drop(second);
}

/// Waits (at most 30 s) until the child's output shows `what`.
fn wait_for(reader: &Reader, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !reader.text().contains(what) {
        assert!(
            Instant::now() < deadline,
            "`{what}` never appeared:\n{}",
            reader.text()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}
