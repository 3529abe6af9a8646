//! End-to-end: `ryz014 info` and `ryz014 status` against `ryz014-sim` on a pseudo-terminal.

mod common;

use std::time::{Duration, Instant};

use common::*;
use serde_json::Value;

const SECRET: &str = "8749a3f2c1d0e5b6a7980123456789abcdef0123456789abcdef0123456789ab";

/// A simulator provisioned as in the note, with `SECRET`, bootstrapping one second after attach.
fn provisioned() -> Sim {
    Sim::start(&["--provisioned", "--psk-secret", SECRET, "--hold-off", "1"])
}

/// `status --json` until it reports a registration (the simulator bootstraps on its own).
fn wait_registered(sim: &Sim) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let o = run(&["status", "--json", "-p", &sim.path]);
        if o.status.code() == Some(0) {
            let v = json_lines(&o)[0].clone();
            if v["registered"] == true {
                return v;
            }
        }
        assert!(Instant::now() < deadline, "never registered: {}", both(&o));
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn info_on_a_factory_modem_shows_identity_and_no_registration() {
    let sim = Sim::start(&[]);
    let o = run(&["info", "--json", "-p", &sim.path]);
    assert_eq!(o.status.code(), Some(0), "{}", both(&o));
    let v = json_lines(&o)[0].clone();
    assert_eq!(v["event"], "info");
    assert_eq!(v["imei"], SIM_IMEI);
    assert_eq!(v["firmware"], "5.4.1.1-57857");
    assert_eq!(v["operator_mode"], "standard");
    assert_eq!(v["autoconnect"], false);
    assert!(v["registration"].is_null(), "{v}");
    assert!(v["dm_config"].as_array().unwrap().is_empty(), "{v}");

    let w = run(&["info", "-p", &sim.path]);
    assert_eq!(w.status.code(), Some(0), "{}", both(&w));
    let text = stdout(&w);
    assert!(text.contains("IMEI              015770000031766"), "{text}");
    assert!(text.contains("AT+SQNDMST answered ERROR"), "{text}");
    assert!(text.contains("not attached"), "{text}");
}

#[test]
fn info_on_a_provisioned_modem_shows_the_configuration_and_only_4_hex_digits() {
    let sim = provisioned();
    wait_registered(&sim);
    let o = run(&["info", "--json", "-vv", "-p", &sim.path]);
    assert_eq!(o.status.code(), Some(0), "{}", both(&o));
    let v = json_lines(&o)[0].clone();
    assert_eq!(v["autoconnect"], true);
    assert_eq!(v["fota_config"]["profile"], "standard");
    assert_eq!(v["registered"], true);
    let dm = v["dm_config"].as_array().unwrap();
    let psk = dm.iter().find(|l| l["group"] == "psk").expect("a psk line");
    assert_eq!(psk["secret_prefix"], &SECRET[..4]);
    assert_eq!(psk["identity"], format!("urn:imei:{SIM_IMEI}"));
    let server = dm
        .iter()
        .find(|l| l["group"] == "server")
        .expect("a server line");
    assert_eq!(server["server_id"], 100);
    assert!(v["eps"].as_str().unwrap().contains("Registered"), "{v}");
    assert_no_secret(&stdout(&o), SECRET);
    assert_no_secret(&stderr(&o), SECRET);

    let w = run(&["info", "-vv", "-p", &sim.path]);
    assert_eq!(w.status.code(), Some(0), "{}", both(&w));
    let text = stdout(&w);
    assert!(text.contains("secret 8749…"), "{text}");
    assert!(
        text.contains("registered to device-management server 101"),
        "{text}"
    );
    assert!(text.contains("FOTA configuration"), "{text}");
    assert_no_secret(&text, SECRET);
    assert_no_secret(&stderr(&w), SECRET);
}

#[test]
fn status_decodes_the_registration_in_words() {
    let sim = provisioned();
    let v = wait_registered(&sim);
    assert_eq!(v["event"], "dm_status");
    assert_eq!(v["bootstrap_done"], true);
    let servers = v["servers"].as_array().unwrap();
    let bs = servers.iter().find(|s| s["role"] == "bs").unwrap();
    assert_eq!(bs["server_id"], 100);
    assert_eq!(bs["status"], "BS_FINISHED");
    let dm = servers.iter().find(|s| s["role"] == "dm").unwrap();
    assert_eq!(dm["status"], "REGISTERED");
    assert!(dm["explanation"]
        .as_str()
        .unwrap()
        .contains("registration was successful"));

    let w = run(&["status", "-p", &sim.path]);
    assert_eq!(w.status.code(), Some(0), "{}", both(&w));
    let text = stdout(&w);
    assert!(text.contains("Bootstrap done; registered"), "{text}");
    assert!(
        text.contains("BS_FINISHED") && text.contains("REGISTERED"),
        "{text}"
    );
}

#[test]
fn status_on_an_unregistered_modem_says_why_and_exits_1() {
    let sim = Sim::start(&[]);
    let o = run(&["status", "-p", &sim.path]);
    assert_eq!(o.status.code(), Some(1), "{}", both(&o));
    let err = stderr(&o);
    assert!(err.contains("AT+SQNDMST"), "{err}");
    assert!(err.contains("not attached"), "{err}");
    let j = run(&["status", "--json", "-p", &sim.path]);
    assert_eq!(j.status.code(), Some(1));
    let e = json_lines(&j)[0].clone();
    assert_eq!(e["event"], "error");
    assert_eq!(e["exit_code"], 1);
}

#[test]
fn exit_codes_of_info_and_status() {
    // 4: no such port.
    for cmd in ["info", "status"] {
        let o = run(&[cmd, "-p", "/dev/ryz014-no-such-port"]);
        assert_eq!(o.status.code(), Some(4), "{cmd}: {}", both(&o));
    }
    // 2: bad usage.
    let o = run(&["status", "--baud", "12"]);
    assert_eq!(o.status.code(), Some(2), "{}", both(&o));
    // 3: the modem never answers AT+SQNDMST.
    let sim = Sim::start(&["--fault", "no-answer=+SQNDMST"]);
    let o = run(&["status", "-p", &sim.path]);
    assert_eq!(o.status.code(), Some(3), "{}", both(&o));
    assert!(stderr(&o).contains("no answer"), "{}", both(&o));
    // 1 (ERROR) from a refusal: +CME ERROR.
    let sim = Sim::start(&["--fault", "cme=+SQNDMST:4", "--cmee", "1"]);
    let o = run(&["status", "-p", &sim.path]);
    assert_eq!(o.status.code(), Some(1), "{}", both(&o));
    assert!(stderr(&o).contains("+CME ERROR: 4"), "{}", both(&o));
}

#[test]
fn info_survives_line_noise() {
    let sim = Sim::start(&["--fault", "lone-cr"]);
    let o = run(&["info", "--json", "-p", &sim.path]);
    assert_eq!(o.status.code(), Some(0), "{}", both(&o));
    assert_eq!(json_lines(&o)[0]["imei"], SIM_IMEI);
}
