//! End-to-end: `ryz014 demo` provisions the in-process simulator and follows an upgrade to the end.

mod common;

use std::time::Duration;

use common::*;

#[test]
fn the_demo_provisions_and_upgrades_in_words() {
    let o = run_limited(&["demo", "--speed", "50"], Duration::from_secs(60));
    assert_eq!(o.status.code(), Some(0), "{}", both(&o));
    let text = stdout(&o);
    for needle in [
        "── 1/4",
        "configure-psk",
        "provisioned and verified",
        "── 2/4",
        "── 3/4",
        "registered to device-management server",
        "── 4/4",
        "downloading",
        "installing",
        "installed",
        "upgraded 5.4.1.1-57857 → 5.4.1.1-57830",
    ] {
        assert!(text.contains(needle), "{needle} missing:\n{text}");
    }
    assert_no_secret(&text, "");
    assert_no_secret(&stderr(&o), "");
}

#[test]
fn the_demo_in_json_is_one_object_per_line_and_ends_installed() {
    let o = run_limited(
        &["demo", "--json", "-vv", "--speed", "50"],
        Duration::from_secs(60),
    );
    assert_eq!(o.status.code(), Some(0), "{}", both(&o));
    let ev = json_lines(&o);
    let stages: Vec<&str> = events(&ev, "stage")
        .iter()
        .map(|s| s["stage"].as_str().unwrap())
        .collect();
    assert_eq!(stages, ["provision", "register", "bootstrap", "upgrade"]);
    assert_eq!(events(&ev, "provisioned")[0]["state"], "verified");
    let fota = events(&ev, "fota");
    let phases: Vec<&str> = fota.iter().map(|f| f["phase"].as_str().unwrap()).collect();
    for p in [
        "idle",
        "downloading",
        "downloaded",
        "installing",
        "installed",
    ] {
        assert!(phases.contains(&p), "{p} missing from {phases:?}");
    }
    // Download progress rises to 100.
    let progress: Vec<u64> = fota
        .iter()
        .filter(|f| f["phase"] == "downloading")
        .filter_map(|f| f["progress"].as_u64())
        .collect();
    assert!(progress.windows(2).all(|w| w[0] <= w[1]), "{progress:?}");
    let done = events(&ev, "demo_done")[0].clone();
    assert_eq!(done["firmware_before"], "5.4.1.1-57857");
    assert_eq!(done["firmware_after"], "5.4.1.1-57830");
    // The secret stays inside: -vv logs every AT line, redacted.
    assert!(stderr(&o).contains("AT+SQNDMCFG="), "{}", stderr(&o));
    assert_no_secret(&stdout(&o), "");
    assert_no_secret(&stderr(&o), "");
}

#[test]
fn a_bad_speed_is_a_usage_error() {
    let o = run(&["demo", "--speed", "0"]);
    assert_eq!(o.status.code(), Some(2), "{}", both(&o));
    assert!(stderr(&o).contains("0.1..=10000"), "{}", both(&o));
}
