//! `ryz014 upgrade` end to end against `ryz014-sim` on a pseudo-terminal serving images at URLs:
//! success with progress and the new version, a corrupted image and an unknown URL explained
//! (exit 1), JSON events, and an upgrade slower than the limit (exit 3).
#![cfg(unix)]

mod common;

use common::{
    assert_no_secret, both, events, json_lines, ryz014_command, stderr, stdout, wait_limited, Sim,
    RUN_LIMIT,
};

const SECRET: &str = "77aa0214c1d0e5b6a7980123456789abcdef0123456789abcdef0123456789ab";
const OLD: &str = "5.4.1.1-57857";
const NEW: &str = "5.4.1.1-57830";
const GOOD: &str = "http://192.0.2.10/LR5.4.1.1-57830.dup";
const BAD: &str = "http://192.0.2.10/corrupted.dup";

/// A provisioned, attached simulator serving a good and a corrupted image; 35 kB at 20 kbit/s
/// take 14 virtual seconds, under 3 s of real time at 5×.
fn sim() -> Sim {
    let good = format!("{GOOD}=good:{NEW}");
    let bad = format!("{BAD}=wrong:{NEW}");
    Sim::start(&[
        "--provisioned",
        "--psk-secret",
        SECRET,
        "--time-scale",
        "5",
        "--bitrate",
        "20000",
        "--serve-url",
        &good,
        "--serve-url",
        &bad,
    ])
}

fn upgrade(args: &[&str], extra: &[&str]) -> std::process::Output {
    let mut cmd = ryz014_command(args);
    cmd.args(["--poll", "0.3"]).args(extra);
    let child = cmd.spawn().expect("start ryz014");
    wait_limited(child, RUN_LIMIT, &format!("ryz014 {}", args.join(" ")))
}

fn progress_lines(text: &str) -> Vec<u8> {
    text.lines()
        .filter_map(|l| l.trim().strip_prefix("download "))
        .filter_map(|r| r.trim_end_matches('%').trim().parse().ok())
        .collect()
}

#[test]
fn a_good_image_is_installed_and_the_new_version_shown() {
    let sim = sim();
    let o = upgrade(&["upgrade", "-p", &sim.path, "--url", GOOD], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", both(&o));
    let text = stdout(&o);
    let progress = progress_lines(&text);
    assert!(progress.len() >= 3, "progress while downloading: {text}");
    assert!(progress.windows(2).all(|w| w[0] <= w[1]), "{progress:?}");
    assert_eq!(progress.last(), Some(&100), "{text}");
    assert!(
        text.contains(&format!("upgraded: firmware {NEW} (was {OLD})")),
        "{text}"
    );
    assert_no_secret(&format!("{text}{}", stderr(&o)), SECRET);
    // The modem really runs the new firmware.
    let commands = sim.stop();
    let text = commands.to_string();
    assert!(text.contains("AT+SQNSUPGRADE"), "{text}");
}

#[test]
fn a_corrupted_image_is_explained() {
    let sim = sim();
    let o = upgrade(&["upgrade", "-p", &sim.path, "--url", BAD], &[]);
    assert_eq!(o.status.code(), Some(1), "{}", both(&o));
    let err = stderr(&o);
    assert!(err.contains("+CME ERROR: 529"), "{err}");
    assert!(err.contains("the image is corrupted"), "{err}");
    assert!(!stdout(&o).contains("upgraded:"), "{}", both(&o));
}

#[test]
fn an_unknown_url_is_refused_with_the_network_advice_in_json() {
    let sim = sim();
    let o = upgrade(
        &[
            "--json",
            "upgrade",
            "-p",
            &sim.path,
            "--url",
            "http://192.0.2.10/missing.dup",
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(1), "{}", both(&o));
    let lines = json_lines(&o);
    assert_eq!(events(&lines, "start")[0]["firmware"], OLD);
    let end = events(&lines, "end");
    assert_eq!(end.len(), 1, "{lines:?}");
    assert_eq!(end[0]["result"], "failed");
    assert_eq!(end[0]["code"], 531);
    assert!(end[0]["text"].as_str().unwrap().contains("Check the URL"));
    let err = events(&lines, "error");
    assert_eq!(err[0]["exit_code"], 1);
}

#[test]
fn json_events_report_progress_and_the_result() {
    let sim = sim();
    let o = upgrade(&["--json", "upgrade", "-p", &sim.path, "--url", GOOD], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", both(&o));
    let lines = json_lines(&o);
    let steps: Vec<&str> = events(&lines, "upgrade")
        .iter()
        .filter_map(|e| e["step"].as_str())
        .collect();
    assert_eq!(steps.first(), Some(&"started"), "{steps:?}");
    assert!(steps.contains(&"progress"), "{steps:?}");
    let end = events(&lines, "end");
    assert_eq!(end[0]["result"], "success");
    assert_eq!(end[0]["version_before"], OLD);
    assert_eq!(end[0]["version_after"], NEW);
}

#[test]
fn an_upgrade_slower_than_the_limit_exits_3() {
    let sim = sim();
    let o = upgrade(
        &["upgrade", "-p", &sim.path, "--url", GOOD],
        &["--timeout", "1"],
    );
    assert_eq!(o.status.code(), Some(3), "{}", both(&o));
    assert!(
        stderr(&o).contains("did not finish within 1 s"),
        "{}",
        both(&o)
    );
}

#[test]
fn a_bad_url_is_bad_usage_before_any_port_is_opened() {
    let dir = tempfile::tempdir().unwrap();
    // A port that does not exist: opening it would fail with exit 4, so exit 2 and a message
    // about the URL show that the URL was checked first.
    let port = dir.path().join("ttyNOPE");
    let port = port.to_str().unwrap();
    for url in [
        "not a url",
        "192.0.2.10/LR5.4.1.1-57830.dup",
        "file:///tmp/LR5.4.1.1-57830.dup",
        "coaps://192.0.2.10/x.dup",
        "http://",
    ] {
        let o = common::run(&["upgrade", "-p", port, "--url", url]);
        assert_eq!(o.status.code(), Some(2), "{url}: {}", both(&o));
        let err = stderr(&o);
        assert!(err.contains("--url") && err.contains(url), "{url}: {err}");
        assert!(err.contains("http://, https:// or ftp://"), "{url}: {err}");
        assert!(
            !err.contains("ttyNOPE"),
            "the port must not be opened: {err}"
        );

        let o = common::run(&["--json", "upgrade", "-p", port, "--url", url]);
        assert_eq!(o.status.code(), Some(2), "{url}: {}", both(&o));
        let lines = json_lines(&o);
        assert_eq!(lines.len(), 1, "{}", both(&o));
        assert_eq!(lines[0]["event"], "error");
        assert_eq!(lines[0]["exit_code"], 2);
    }
    // A good URL gets as far as the port (exit 4 for a port that does not exist).
    let o = common::run(&["upgrade", "-p", port, "--url", "ftp://192.0.2.10/a.dup"]);
    assert_eq!(o.status.code(), Some(4), "{}", both(&o));
    assert!(stderr(&o).contains("ttyNOPE"), "{}", both(&o));
}
