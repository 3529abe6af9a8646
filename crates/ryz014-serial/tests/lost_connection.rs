//! Issue 12, end to end: the PostgreSQL server ends a station's session in the middle of a
//! `ryz014 provision` batch (as a restart or a network cut would). The ports in flight end with a
//! clear error naming the database and no secret, the command exits non-zero, no record is
//! half-written, and a plain re-run of the same command converges: every IMEI ends with exactly
//! one active record, verified, whose key its modem holds.

mod common;
mod pg;

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader};
use std::sync::mpsc;
use std::time::Duration;

use common::*;
use ryz014_serial::inventory::postgres::PgInventory;
use ryz014_serial::inventory::{InventoryStore, State};
use serde_json::Value;

const MODEMS: usize = 4;
const STATION: &str = "line-1";
/// Slower than [`FAST`]: each modem's reboot takes ~0.75 s, so that the session is ended while
/// the batch is still running.
const TIME_SCALE: &str = "4";
const LIMIT: Duration = Duration::from_secs(300);

/// Each port's final event (`provisioned` or `port_failed`) in a run's JSON lines.
fn finals(lines: &[Value], ports: &[String]) -> HashMap<String, Value> {
    let mut out = HashMap::new();
    for v in lines {
        if v["event"] == "provisioned" || v["event"] == "port_failed" {
            let port = v["port"].as_str().unwrap().to_string();
            assert!(ports.contains(&port), "unknown port in {v}");
            assert!(out.insert(port, v.clone()).is_none(), "two ends: {v}");
        }
    }
    assert_eq!(out.len(), ports.len(), "every port ends once: {lines:?}");
    out
}

#[test]
fn a_lost_database_session_mid_batch_fails_the_ports_in_flight_and_a_rerun_converges() {
    let Some(url) = pg::fresh_database("cli_lost_connection") else {
        return;
    };
    let db_name = url.rsplit('/').next().unwrap().to_string();
    // The schema first (as the first station of a line would); this session is closed again.
    drop(PgInventory::connect(&url, "setup").unwrap());
    let profile = default_profile();
    let profile = profile.to_str().unwrap();
    let imeis: Vec<String> = (0..MODEMS)
        .map(|i| imei_with_body(&format!("{:014}", 35_200_000_000_000u64 + i as u64)))
        .collect();
    let sims: Vec<Sim> = imeis
        .iter()
        .map(|imei| Sim::start(&["--imei", imei, "--time-scale", TIME_SCALE]))
        .collect();
    let ports: Vec<String> = sims.iter().map(|s| s.path.clone()).collect();
    let imei_of_port: HashMap<&str, &str> = ports
        .iter()
        .map(String::as_str)
        .zip(imeis.iter().map(String::as_str))
        .collect();
    let args = station_provision_args(&url, profile, STATION, &ports);

    // Run 1: once a record is pending, the server ends the station's session.
    let mut child = ryz014_command(&args).spawn().unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let (tx, rx) = mpsc::channel::<String>();
    let reader = std::thread::spawn(move || {
        for line in stdout.lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut lines: Vec<String> = Vec::new();
    loop {
        let line = rx
            .recv_timeout(LIMIT)
            .unwrap_or_else(|e| panic!("no record pending ({e}):\n{}", lines.join("\n")));
        let v: Value = serde_json::from_str(&line).unwrap_or(Value::Null);
        lines.push(line);
        if v["event"] == "recorded" {
            break;
        }
    }
    let mut admin = pg::connect(&url);
    let ended: i64 = admin
        .query_one(
            "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) AS t FROM pg_stat_activity \
             WHERE application_name = 'ryz014' AND datname = current_database() \
             AND pid <> pg_backend_pid()) s WHERE t",
            &[],
        )
        .unwrap()
        .get(0);
    assert!(ended >= 1, "the station's session was not found");
    let o = wait_limited(child, LIMIT, "ryz014 provision (run 1)");
    reader.join().unwrap();
    lines.extend(rx.try_iter());
    let text = format!("{}\n{}", lines.join("\n"), stderr(&o));
    eprintln!("run 1:\n{text}");
    assert!(
        o.status.code().is_some_and(|c| c != 0),
        "run 1 must fail: {:?}\n{text}",
        o.status
    );
    let json: Vec<Value> = lines
        .iter()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let first = finals(&json, &ports);

    // The ports in flight: a clear error naming the database (its URL without a password).
    let mut failed = 0;
    for (port, v) in &first {
        if v["event"] == "port_failed" {
            failed += 1;
            let message = v["message"].as_str().unwrap();
            assert!(
                message.contains("inventory database postgres://ryz014@127.0.0.1:"),
                "{port}: {message}"
            );
            assert!(message.contains(&db_name), "{port}: {message}");
        }
    }
    assert!(failed >= 1, "no port was in flight:\n{text}");
    eprintln!("{failed} of {MODEMS} ports were in flight");

    // Nothing half-written: every record is pending, failed or verified, with its fields; a port
    // that failed left its record pending (resumable), a port that succeeded has it verified.
    let inv = PgInventory::connect(&url, "check").unwrap();
    let all = inv.list().unwrap();
    for r in &all {
        assert!(imeis.contains(&r.imei.to_string()), "{r:?}");
        assert_eq!(r.station.as_deref(), Some(STATION), "{r:?}");
        assert!(r.port.as_ref().is_some_and(|p| ports.contains(p)), "{r:?}");
        assert_eq!(r.secret.expose_hex().len(), 64, "{r:?}");
        assert!(
            !r.endpoint.is_empty() && !r.psk_identity.is_empty(),
            "{r:?}"
        );
        match r.state {
            State::Pending | State::Verified => assert!(r.error.is_none(), "{r:?}"),
            State::Failed => assert!(r.error.is_some(), "{r:?}"),
            State::Superseded => panic!("nothing was forced: {r:?}"),
        }
        assert!(r.superseded_by.is_none() && r.replaces.is_none(), "{r:?}");
    }
    for imei in &imeis {
        let active = all
            .iter()
            .filter(|r| r.imei.as_str() == imei)
            .filter(|r| matches!(r.state, State::Pending | State::Verified))
            .count();
        assert!(active <= 1, "IMEI {imei}: {all:?}");
    }
    let mut pending_of_port: HashMap<String, u64> = HashMap::new();
    for (port, v) in &first {
        let Some(id) = v["record"].as_u64() else {
            assert_eq!(v["event"], "port_failed", "{v}");
            continue;
        };
        let r = all
            .iter()
            .find(|r| r.id.0 as u64 == id)
            .unwrap_or_else(|| panic!("{port}: record {id} missing: {all:?}"));
        assert_eq!(r.imei.as_str(), imei_of_port[port.as_str()], "{r:?}");
        if v["event"] == "provisioned" {
            assert_eq!(r.state, State::Verified, "{port}: {r:?}");
        } else {
            assert_eq!(r.state, State::Pending, "{port}: {r:?}");
            pending_of_port.insert(port.clone(), id);
        }
    }
    for r in &all {
        assert_no_secret(&text, &r.secret.expose_hex());
    }

    // Run 2, the same command: the interrupted ports finish (resuming their pending records);
    // only a port already verified in run 1 is refused, as any re-run of a verified modem is.
    let o2 = run_limited(&args, LIMIT);
    let text2 = both(&o2);
    eprintln!("run 2:\n{text2}");
    let second = finals(&json_lines(&o2), &ports);
    for (port, v) in &second {
        if first[port]["event"] == "provisioned" {
            assert_eq!(v["event"], "port_failed", "{port}: {v}");
            assert!(
                v["message"]
                    .as_str()
                    .unwrap()
                    .contains("already provisioned and verified"),
                "{port}: {v}"
            );
        } else {
            assert_eq!(v["event"], "provisioned", "{port}: {v}\n{text2}");
            if let Some(id) = pending_of_port.get(port) {
                assert_eq!(v["record"].as_u64(), Some(*id), "{port}: resumed: {v}");
                assert_eq!(v["resumed"], true, "{port}: {v}");
            }
        }
    }
    let refused = first.len() - failed;
    assert_eq!(
        o2.status.code(),
        Some(if refused == 0 { 0 } else { 1 }),
        "{text2}"
    );

    // Converged: one active record per IMEI, verified, whose key its modem holds.
    let all = inv.list().unwrap();
    let held: HashMap<String, Vec<String>> = std::thread::scope(|scope| {
        let handles: Vec<_> = ports
            .iter()
            .map(|p| scope.spawn(move || (p.clone(), held_prefixes(p))))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut seen = HashSet::new();
    for port in &ports {
        let imei = imei_of_port[port.as_str()];
        let active: Vec<_> = all
            .iter()
            .filter(|r| r.imei.as_str() == imei)
            .filter(|r| matches!(r.state, State::Pending | State::Verified))
            .collect();
        assert_eq!(active.len(), 1, "IMEI {imei}: {all:?}");
        assert_eq!(active[0].state, State::Verified, "IMEI {imei}");
        assert!(seen.insert(active[0].id.0), "one record per IMEI");
        let key = active[0].secret.prefix().to_ascii_lowercase();
        assert_eq!(
            held[port],
            vec![key],
            "IMEI {imei}: the modem holds its key"
        );
    }
    for r in &all {
        assert_no_secret(&text2, &r.secret.expose_hex());
    }
    drop(sims);
}
