//! End-to-end: `ryz014 provision` against `ryz014-sim` on a pseudo-terminal: one port, three in
//! parallel (and one failing among them), dry run, refusal and `--force`, resume after `kill -9`,
//! the exit codes, the simulator's faults, and that the secret never shows in the output.

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use common::*;
use serde_json::Value;

fn profile() -> String {
    default_profile().to_str().unwrap().to_string()
}

struct Run {
    dir: tempfile::TempDir,
}

impl Run {
    fn new() -> Run {
        Run {
            dir: tempfile::tempdir().unwrap(),
        }
    }
    fn inv(&self) -> PathBuf {
        self.dir.path().join("inv.sqlite")
    }
    fn inv_str(&self) -> String {
        self.inv().to_str().unwrap().to_string()
    }
    /// `ryz014 provision --profile <default> --inventory <inv>` plus `extra`.
    fn provision(&self, extra: &[&str]) -> std::process::Output {
        let p = profile();
        let inv = self.inv_str();
        let mut args = vec!["provision", "--profile", &p, "--inventory", &inv];
        args.extend_from_slice(extra);
        run(&args)
    }
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

/// The commands the simulated modem received.
fn modem_commands(state: &Value) -> Vec<String> {
    state["commands"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|c| c["line"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn verified(records: &[Value], imei: &str) -> Vec<Value> {
    records
        .iter()
        .filter(|r| r["imei"] == imei && r["state"] == "verified")
        .cloned()
        .collect()
}

fn secret_of(inv: &Path, imei: &str) -> String {
    exported_secrets(inv)
        .into_iter()
        .find(|(i, _)| i == imei)
        .map(|(_, s)| s)
        .unwrap_or_else(|| panic!("no exported secret for {imei}"))
}

#[test]
fn the_simulator_starts_on_a_pty_and_stops_with_its_state() {
    let sim = Sim::start(&[]);
    assert!(sim.path.starts_with("/dev/"), "{}", sim.path);
    let state = sim.stop();
    assert_eq!(state["imei"], SIM_IMEI);
}

#[test]
fn one_modem_is_provisioned_verified_and_holds_the_recorded_secret() {
    let sim = Sim::start(&[]);
    let r = Run::new();
    let o = r.provision(&["--json", "-p", &sim.path]);
    assert_eq!(o.status.code(), Some(0), "{}", both(&o));
    let ev = json_lines(&o);
    assert_eq!(events(&ev, "identified")[0]["imei"], SIM_IMEI);
    let rec = events(&ev, "recorded");
    assert_eq!(rec.len(), 1);
    assert_eq!(rec[0]["resumed"], false);
    // The record is durable before the first configuration step starts.
    let pos = |pred: &dyn Fn(&Value) -> bool| ev.iter().position(pred).unwrap();
    let recorded_at = pos(&|v| v["event"] == "recorded");
    let psk_step = pos(&|v| v["event"] == "step" && v["step"] == "configure-psk");
    assert!(recorded_at < psk_step);
    let done: Vec<_> = ev
        .iter()
        .filter(|v| v["event"] == "step" && v["status"] == "done")
        .collect();
    assert_eq!(done.len(), done[0]["total"].as_u64().unwrap() as usize);
    let reboots: Vec<_> = events(&ev, "reboot")
        .into_iter()
        .filter(|v| v["status"] == "booted")
        .collect();
    assert_eq!(reboots.len(), 2, "two reboots in the plan");
    assert!(events(&ev, "reboot")
        .iter()
        .any(|v| v["status"] == "attached"));
    let checks: Vec<_> = events(&ev, "check")
        .into_iter()
        .filter(|v| v["status"] == "done")
        .collect();
    assert_eq!(checks.len(), 4);
    let fin = events(&ev, "provisioned");
    assert_eq!(fin[0]["state"], "verified");
    assert_eq!(fin[0]["firmware"], "5.4.1.1-57857");

    let records = records(&r.inv());
    let v = verified(&records, SIM_IMEI);
    assert_eq!(v.len(), 1, "{records:?}");
    assert_eq!(v[0]["id"], rec[0]["record"]);
    assert_eq!(v[0]["firmware"], "5.4.1.1-57857");
    let secret = secret_of(&r.inv(), SIM_IMEI);
    assert_eq!(secret.len(), 64);
    let state = sim.stop();
    assert_eq!(modem_psk_prefix(&state).as_deref(), Some(&secret[..4]));
    assert_no_secret(&stdout(&o), &secret);
    assert_no_secret(&stderr(&o), &secret);
}

#[test]
fn words_mode_shows_each_step_and_the_result_without_the_secret() {
    let sim = Sim::start(&[]);
    let r = Run::new();
    let o = r.provision(&["-vv", "-p", &sim.path]);
    assert_eq!(o.status.code(), Some(0), "{}", both(&o));
    let text = stdout(&o);
    for step in [
        "read-imei",
        "configure-psk",
        "reset-to-apply",
        "configure-fota",
        "reset-to-full-function",
        "read-back-psk",
    ] {
        assert!(text.contains(step), "{step} missing:\n{text}");
    }
    assert!(text.contains("rebooting"), "{text}");
    assert!(text.contains("provisioned and verified"), "{text}");
    // -vv logs every AT line on stderr, the PSK command redacted.
    let err = stderr(&o);
    assert!(err.contains("AT+SQNDMCFG="), "{err}");
    assert!(err.contains("\"psk\""), "{err}");
    let secret = secret_of(&r.inv(), SIM_IMEI);
    assert_no_secret(&text, &secret);
    assert_no_secret(&err, &secret);
    // The inventory list shows the prefix only, too.
    let inv = r.inv_str();
    let l = run(&["inventory", "list", "-vv", "--inventory", &inv]);
    assert_no_secret(&stdout(&l), &secret);
    assert_no_secret(&stderr(&l), &secret);
}

#[test]
fn three_ports_are_provisioned_in_parallel_each_with_its_own_secret() {
    let sims = Sim::start_many(3, &[]);
    let r = Run::new();
    let mut extra = vec!["-vv"];
    for s in &sims {
        extra.extend(["-p", s.path.as_str()]);
    }
    let o = r.provision(&extra);
    assert_eq!(o.status.code(), Some(0), "{}", both(&o));
    let text = stdout(&o);
    assert!(
        text.contains("3 of 3 modem(s) provisioned and verified"),
        "{text}"
    );
    let records = records(&r.inv());
    let secrets = exported_secrets(&r.inv());
    assert_eq!(secrets.len(), 3);
    let mut distinct: Vec<&String> = secrets.iter().map(|(_, s)| s).collect();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 3, "each modem gets its own secret");
    for sim in sims {
        let path = sim.path.clone();
        let state = sim.stop();
        let imei = state["imei"].as_str().unwrap().to_string();
        let v = verified(&records, &imei);
        assert_eq!(v.len(), 1, "{imei}: {records:?}");
        assert_eq!(v[0]["port"], path.as_str());
        let secret = secret_of(&r.inv(), &imei);
        assert_eq!(modem_psk_prefix(&state).as_deref(), Some(&secret[..4]));
        assert_no_secret(&text, &secret);
        assert_no_secret(&stderr(&o), &secret);
    }
}

#[test]
fn one_failing_port_does_not_stop_the_others_and_exits_1() {
    let sims = Sim::start_many(2, &[]);
    let bad = Sim::start(&[
        "--imei",
        &imei_with_body("35111111111111"),
        "--fault",
        "cme=+SQNFOTACFG:4",
    ]);
    let r = Run::new();
    let o = r.provision(&[
        "--json",
        "-p",
        &sims[0].path,
        "-p",
        &bad.path,
        "-p",
        "/dev/ryz014-no-such-port",
        "-p",
        &sims[1].path,
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", both(&o));
    let ev = json_lines(&o);
    let summary = events(&ev, "summary")[0].clone();
    assert_eq!(summary["verified"], 2);
    assert_eq!(summary["failed"], 2);
    let results = summary["results"].as_array().unwrap();
    let by_port = |p: &str| results.iter().find(|r| r["port"] == p).unwrap().clone();
    assert_eq!(by_port(&sims[0].path)["result"], "verified");
    assert_eq!(by_port(&sims[1].path)["result"], "verified");
    let b = by_port(&bad.path);
    assert_eq!(b["result"], "failed");
    assert_eq!(b["exit_code"], 1);
    let msg = b["message"].as_str().unwrap();
    // After the reset, AT+CMEE is back at the power-up default 0: a plain ERROR.
    assert!(
        msg.contains("configure-fota") && msg.contains("refused") && msg.contains("ERROR"),
        "{msg}"
    );
    let missing = by_port("/dev/ryz014-no-such-port");
    assert_eq!(missing["exit_code"], 4);
    // The failed modem's record keeps its secret, marked failed with the step.
    let records = records(&r.inv());
    let failed: Vec<_> = records.iter().filter(|r| r["state"] == "failed").collect();
    assert_eq!(failed.len(), 1, "{records:?}");
    assert!(failed[0]["error"]
        .as_str()
        .unwrap()
        .contains("configure-fota"));
    // The final error event.
    assert_eq!(events(&ev, "error")[0]["exit_code"], 1);
}

#[test]
fn dry_run_prints_the_plan_redacted_and_touches_nothing() {
    let sim = Sim::start(&[]);
    let r = Run::new();
    let o = r.provision(&["--dry-run", "-vv", "-p", &sim.path]);
    assert_eq!(o.status.code(), Some(0), "{}", both(&o));
    let text = stdout(&o);
    assert!(
        text.contains("Provisioning plan for IMEI 015770000031766"),
        "{text}"
    );
    assert!(text.contains("configure-psk"), "{text}");
    assert!(text.contains("AT+SQNDMCFG="), "{text}");
    assert_no_secret(&text, "");
    assert_no_secret(&stderr(&o), "");
    assert!(!r.inv().exists(), "the dry run created the inventory");
    let j = r.provision(&["--dry-run", "--json", "-p", &sim.path]);
    assert_eq!(j.status.code(), Some(0), "{}", both(&j));
    let ev = json_lines(&j);
    let plan = events(&ev, "plan")[0].clone();
    assert_eq!(plan["imei"], SIM_IMEI);
    assert!(plan["psk"].as_str().unwrap().ends_with('…'));
    assert!(plan["steps"].as_array().unwrap().len() >= 10);
    assert_no_secret(&stdout(&j), "");
    assert!(!r.inv().exists());
    let state = sim.stop();
    let cmds = modem_commands(&state);
    assert!(
        cmds.iter().all(|c| c == "AT" || c == "AT+CGSN"),
        "the dry run sent {cmds:?}"
    );
    assert_eq!(modem_psk_prefix(&state), None);
}

#[test]
fn a_verified_modem_is_refused_and_force_rotates_its_key_keeping_history() {
    let sim = Sim::start(&[]);
    let r = Run::new();
    let first = r.provision(&["-p", &sim.path]);
    assert_eq!(first.status.code(), Some(0), "{}", both(&first));
    let old_secret = secret_of(&r.inv(), SIM_IMEI);

    let again = r.provision(&["-p", &sim.path]);
    assert_eq!(again.status.code(), Some(1), "{}", both(&again));
    let err = stderr(&again);
    assert!(
        err.contains("already provisioned") && err.contains("--force"),
        "{err}"
    );
    assert_eq!(records(&r.inv()).len(), 1, "a refusal records nothing");

    let forced = r.provision(&["--force", "-p", &sim.path]);
    assert_eq!(forced.status.code(), Some(0), "{}", both(&forced));
    let records = records(&r.inv());
    assert_eq!(records.len(), 2, "{records:?}");
    let old = records.iter().find(|r| r["state"] == "superseded").unwrap();
    let new = records.iter().find(|r| r["state"] == "verified").unwrap();
    assert_eq!(new["replaces"], old["id"]);
    assert_eq!(old["superseded_by"], new["id"]);
    let new_secret = secret_of(&r.inv(), SIM_IMEI);
    assert_ne!(new_secret, old_secret);
    let state = sim.stop();
    assert_eq!(modem_psk_prefix(&state).as_deref(), Some(&new_secret[..4]));
    // The refused run sent nothing that writes (only AT, AT+CGSN, ATI1 beyond the first run).
    let cmds = modem_commands(&state);
    let psk_writes = cmds.iter().filter(|c| c.contains("\"psk\",100")).count();
    assert_eq!(psk_writes, 2, "{cmds:?}");
    for o in [&first, &again, &forced] {
        for s in [&old_secret, &new_secret] {
            assert_no_secret(&stdout(o), s);
            assert_no_secret(&stderr(o), s);
        }
    }
}

/// A small deterministic generator seeded from the clock (printed, to reproduce a failure).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self, below: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % below
    }
}

#[test]
fn kill_9_at_random_points_then_a_rerun_leaves_every_secret_recorded() {
    let seed = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos() as u64;
    eprintln!("kill -9 test seed {seed}");
    let mut rng = Lcg(seed);
    for iteration in 0..5 {
        // Slower than the other tests (boot 600 ms) so that kills land inside the steps.
        let sim = Sim::start(&["--time-scale", "5"]);
        let r = Run::new();
        let p = profile();
        let inv = r.inv_str();
        let child = ryz014_command(&[
            "provision",
            "--json",
            "--profile",
            &p,
            "--inventory",
            &inv,
            "-p",
            &sim.path,
        ])
        .spawn()
        .unwrap();
        let delay = Duration::from_millis(rng.next(2500));
        std::thread::sleep(delay);
        let _ = std::process::Command::new("kill")
            .args(["-KILL", &child.id().to_string()])
            .status();
        let killed = wait_limited(child, Duration::from_secs(30), "killed provision");
        let before = if r.inv().exists() {
            records(&r.inv())
        } else {
            Vec::new()
        };
        let pending: Vec<_> = before.iter().filter(|r| r["state"] == "pending").collect();

        let o = r.provision(&["--json", "-p", &sim.path]);
        let ev = json_lines(&o);
        let after = records(&r.inv());
        let v = verified(&after, SIM_IMEI);
        let ctx = format!(
            "iteration {iteration}, killed after {delay:?} (exit {:?})\nbefore: {before:?}\n{}",
            killed.status.code(),
            both(&o)
        );
        assert_eq!(v.len(), 1, "{ctx}");
        match o.status.code() {
            Some(0) => {
                let rec = events(&ev, "recorded")[0].clone();
                if let Some(p) = pending.first() {
                    // The interrupted record is finished with the secret it holds.
                    assert_eq!(rec["resumed"], true, "{ctx}");
                    assert_eq!(rec["record"], p["id"], "{ctx}");
                    assert_eq!(rec["psk"], p["psk"], "{ctx}");
                } else {
                    assert_eq!(rec["resumed"], false, "{ctx}");
                }
            }
            // Killed after it was verified: the re-run refuses to redo it.
            Some(1) => {
                assert!(pending.is_empty(), "{ctx}");
                assert!(stdout(&o).contains("already provisioned"), "{ctx}");
            }
            other => panic!("re-run exit {other:?}: {ctx}"),
        }
        let secret = secret_of(&r.inv(), SIM_IMEI);
        let state = sim.stop();
        assert_eq!(
            modem_psk_prefix(&state).as_deref(),
            Some(&secret[..4]),
            "{ctx}"
        );
        // Every secret the modem was ever sent is in the inventory (recorded before sending).
        let prefixes: Vec<String> = after
            .iter()
            .map(|r| r["psk"].as_str().unwrap().trim_end_matches('…').to_string())
            .collect();
        for c in modem_commands(&state) {
            if let Some(rest) = c.split("\"psk\",100,").nth(1) {
                let shown = rest.rsplit(',').next().unwrap().trim_matches(['"', '…']);
                assert!(
                    prefixes.iter().any(|p| shown.starts_with(p.as_str())),
                    "the modem got {c} but the inventory has {prefixes:?}: {ctx}"
                );
            }
        }
        assert_no_secret(&stdout(&killed), &secret);
        assert_no_secret(&stdout(&o), &secret);
    }
}

#[test]
fn a_bad_profile_exits_2_naming_the_key_and_the_range() {
    let r = Run::new();
    let text = std::fs::read_to_string(default_profile())
        .unwrap()
        .replace("server_id = 100", "server_id = 0");
    let bad = r.dir.path().join("bad.toml");
    std::fs::write(&bad, text).unwrap();
    let inv = r.inv_str();
    let o = run(&[
        "provision",
        "--profile",
        bad.to_str().unwrap(),
        "--inventory",
        &inv,
        "-p",
        "/dev/ryz014-no-such-port",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", both(&o));
    let err = stderr(&o);
    assert!(err.contains("bootstrap.server_id"), "{err}");
    assert!(err.contains("1..65535") || err.contains("allowed"), "{err}");
    assert!(!r.inv().exists());
    // A missing profile is a usage error too, and so is a bad flag.
    let o = run(&[
        "provision",
        "--profile",
        "/nonexistent.toml",
        "-p",
        "/dev/null",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", both(&o));
    let o = run(&["provision", "--no-such-flag"]);
    assert_eq!(o.status.code(), Some(2), "{}", both(&o));
    // A port given twice.
    let p = profile();
    let o = run(&["provision", "--profile", &p, "-p", "/dev/x", "-p", "/dev/x"]);
    assert_eq!(o.status.code(), Some(2), "{}", both(&o));
}

#[test]
fn a_port_that_cannot_be_opened_exits_4() {
    let r = Run::new();
    let o = r.provision(&["--json", "-p", "/dev/ryz014-no-such-port"]);
    assert_eq!(o.status.code(), Some(4), "{}", both(&o));
    let ev = json_lines(&o);
    assert_eq!(events(&ev, "error")[0]["exit_code"], 4);
}

#[test]
fn a_modem_that_does_not_answer_exits_3_naming_the_step() {
    let sim = Sim::start(&["--fault", "no-answer=+SQNCTM"]);
    let r = Run::new();
    let o = r.provision(&["-p", &sim.path]);
    assert_eq!(o.status.code(), Some(3), "{}", both(&o));
    let err = stderr(&o);
    assert!(
        err.contains("check-operator-mode") && err.contains("no answer"),
        "{err}"
    );
    let records = records(&r.inv());
    assert_eq!(records[0]["state"], "failed");
}

#[test]
fn a_refusal_exits_1_with_the_step_and_the_modems_answer() {
    let sim = Sim::start(&["--fault", "cme=+SQNDMCFG:4"]);
    let r = Run::new();
    let o = r.provision(&["-p", &sim.path]);
    assert_eq!(o.status.code(), Some(1), "{}", both(&o));
    let err = stderr(&o);
    assert!(err.contains("enable-dm-service"), "{err}");
    assert!(err.contains("+CME ERROR: 4"), "{err}");
}

#[test]
fn an_unexpected_reset_gives_a_clear_error() {
    // The 15th command resets the modem instead of answering: the first DM write after the
    // profile is cleared (`enable-dm-service`; the identification, the PSK read and the
    // session's set-up come first: AT, AT+CGSN, ATI1, the PSK read, AT, AT+CMEE?, AT+CMEE=1,
    // then the plan's AT+CGSN, ATI1, AT+SQNCTM?, AT+SQNAUTOCONNECT=1, AT+CFUN=5, the delete).
    let sim = Sim::start(&["--fault", "reset-after=15"]);
    let r = Run::new();
    let o = r.provision(&["-p", &sim.path]);
    assert_eq!(o.status.code(), Some(1), "{}", both(&o));
    let err = stderr(&o);
    assert!(err.contains("reset"), "{err}");
    assert!(err.contains("step `enable-dm-service`"), "{err}");
    // The configuration was touched: the record keeps its key for a re-run, which finishes it.
    assert_eq!(records(&r.inv())[0]["state"], "failed");
    assert!(err.contains("run provision again"), "{err}");
    let again = r.provision(&["--json", "-p", &sim.path]);
    assert_eq!(again.status.code(), Some(0), "{}", both(&again));
    let ev = json_lines(&again);
    assert_eq!(events(&ev, "recorded")[0]["resumed"], true);
    let recs = records(&r.inv());
    assert_eq!(recs.len(), 1, "{recs:?}");
    assert_eq!(recs[0]["state"], "verified");
    let secret = secret_of(&r.inv(), SIM_IMEI);
    let state = sim.stop();
    assert_eq!(modem_psk_prefix(&state).as_deref(), Some(&secret[..4]));
}

#[test]
fn garbage_and_lone_cr_framing_still_provision() {
    for fault in ["garbage=3", "lone-cr", "urc-between-lines"] {
        let sim = Sim::start(&["--fault", fault]);
        let r = Run::new();
        let o = r.provision(&["-vv", "-p", &sim.path]);
        assert_eq!(o.status.code(), Some(0), "{fault}: {}", both(&o));
        let secret = secret_of(&r.inv(), SIM_IMEI);
        let state = sim.stop();
        assert_eq!(
            modem_psk_prefix(&state).as_deref(),
            Some(&secret[..4]),
            "{fault}"
        );
        assert_no_secret(&stdout(&o), &secret);
        assert_no_secret(&stderr(&o), &secret);
    }
}

#[test]
fn slow_output_still_provisions() {
    let sim = Sim::start(&["--fault", "slow-output=19200"]);
    let r = Run::new();
    let o = r.provision(&["-p", &sim.path]);
    assert_eq!(o.status.code(), Some(0), "{}", both(&o));
    let secret = secret_of(&r.inv(), SIM_IMEI);
    assert_eq!(modem_psk_prefix(&sim.stop()).as_deref(), Some(&secret[..4]));
}

#[test]
fn a_line_that_loses_most_bytes_ends_with_no_answer_and_nothing_verified() {
    let sim = Sim::start(&["--fault", "drop=0.6"]);
    let r = Run::new();
    let o = r.provision(&["-p", &sim.path]);
    assert_eq!(o.status.code(), Some(3), "{}", both(&o));
    assert!(stderr(&o).contains("no answer"), "{}", both(&o));
    let recs = if r.inv().exists() {
        records(&r.inv())
    } else {
        Vec::new()
    };
    assert!(verified(&recs, SIM_IMEI).is_empty(), "{recs:?}");
}

#[test]
fn a_bad_imei_is_refused_before_anything_is_recorded() {
    // 15 digits with a wrong check digit.
    let sim = Sim::start(&["--imei", "015770000031767"]);
    let r = Run::new();
    let o = r.provision(&["-p", &sim.path]);
    assert_eq!(o.status.code(), Some(1), "{}", both(&o));
    assert!(stderr(&o).contains("read-imei"), "{}", both(&o));
    assert!(!r.inv().exists() || records(&r.inv()).is_empty());
}
