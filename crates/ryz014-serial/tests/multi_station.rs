//! A production line on one shared PostgreSQL inventory, end to end: 4 `ryz014 provision`
//! processes (stations) × 16 simulated modems each, with deliberate collisions (the same IMEI on
//! two stations' modems) and one station killed with `kill -9` in the middle of its batch, then
//! its batch run again from a replacement station. At the end every IMEI has exactly one active
//! record, verified, whose key the modem that got it holds (read back with `ryz014 info`), and
//! the other modem of a collision holds none.

mod common;
mod pg;

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader};
use std::process::Output;
use std::time::{Duration, Instant};

use common::*;
use ryz014_serial::inventory::postgres::PgInventory;
use ryz014_serial::inventory::{InventoryStore, State};
use serde_json::Value;

const STATIONS: usize = 4;
const PER_STATION: usize = 16;

/// The IMEI of station `s`'s modem `i`: distinct, except that each station's last modem has the
/// IMEI of the next station's first one (4 collisions, each between two stations).
fn imei_of(s: usize, i: usize) -> String {
    let (s, i) = if i == PER_STATION - 1 {
        ((s + 1) % STATIONS, 0)
    } else {
        (s, i)
    };
    imei_with_body(&format!(
        "{:014}",
        35_100_000_000_000u64 + (s * PER_STATION + i) as u64
    ))
}

#[test]
fn four_stations_share_one_database_with_collisions_and_a_crash() {
    let Some(url) = pg::fresh_database("multi_station") else {
        return;
    };
    // The schema first (as the first station of a line would).
    drop(PgInventory::connect(&url, "setup").unwrap());
    let profile = default_profile();
    let profile = profile.to_str().unwrap();
    let sims: Vec<Vec<Sim>> = (0..STATIONS)
        .map(|s| {
            (0..PER_STATION)
                .map(|i| Sim::start(&["--imei", &imei_of(s, i)]))
                .collect()
        })
        .collect();
    let ports: Vec<Vec<String>> = sims
        .iter()
        .map(|v| v.iter().map(|s| s.path.clone()).collect())
        .collect();
    let names: Vec<String> = (0..STATIONS).map(|s| format!("station-{s}")).collect();

    // Stations 0-2 run their batches; station 3 is killed once some of its records are pending.
    let started = Instant::now();
    let outputs: Vec<Output> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..STATIONS - 1)
            .map(|s| {
                let a = station_provision_args(&url, profile, &names[s], &ports[s]);
                scope.spawn(move || run_limited(&a, Duration::from_secs(300)))
            })
            .collect();
        let a = station_provision_args(&url, profile, &names[3], &ports[3]);
        let mut victim = ryz014_command(&a).spawn().unwrap();
        let stdout = BufReader::new(victim.stdout.take().unwrap());
        let mut recorded = 0;
        let mut seen = Vec::new();
        for line in stdout.lines() {
            let Ok(line) = line else { break };
            seen.push(line.clone());
            let v: Value = serde_json::from_str(&line).unwrap_or(Value::Null);
            if v["event"] == "recorded" {
                recorded += 1;
                if recorded == 8 {
                    // kill -9: no destructor, its session simply vanishes.
                    victim.kill().unwrap();
                    break;
                }
            }
        }
        let status = victim.wait();
        // Its records stay pending (only a collision may be taken over by the other station at
        // once, as a crashed station's record is resumable from any station).
        let left = PgInventory::connect(&url, "check")
            .unwrap()
            .in_state(State::Pending)
            .unwrap()
            .into_iter()
            .filter(|r| r.station.as_deref() == Some("station-3"))
            .count();
        assert!(
            left >= 6,
            "the killed station left {left} pending records\n{status:?}\n{}",
            seen.join("\n")
        );
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut refusals = 0;
    for (s, o) in outputs.iter().enumerate() {
        let lines = json_lines(o);
        let failed = events(&lines, "port_failed");
        // Only the collisions may fail: refused by the database, naming the other station.
        for f in &failed {
            let text = f.to_string();
            assert!(
                text.contains("being provisioned by station station-")
                    || text.contains("already provisioned and verified"),
                "station {s}: {text}"
            );
        }
        assert!(failed.len() <= 2, "station {s}: {}", both(o));
        refusals += failed.len();
    }
    // The collisions between stations 0-1 and 1-2 were each refused on one side.
    assert!(refusals >= 2, "{refusals} refusals");
    eprintln!("collisions refused by the database: {refusals}");
    let inv = PgInventory::connect(&url, "check").unwrap();

    // A replacement station takes the killed one's modems and pending records over.
    let o = run_limited(
        &station_provision_args(&url, profile, "station-3-replacement", &ports[3]),
        Duration::from_secs(300),
    );
    for f in events(&json_lines(&o), "port_failed") {
        let text = f.to_string();
        assert!(
            text.contains("already provisioned and verified"),
            "only a collision already won elsewhere may be refused: {text}"
        );
    }
    eprintln!(
        "4 stations × {PER_STATION} modems, a crash and its re-run: {:.1} s",
        started.elapsed().as_secs_f64()
    );

    // Every IMEI: exactly one active record, verified, whose key its modem holds; the other modem
    // of a collision holds no key, or the same one (when a station was killed after writing it
    // and the other station took the record over: one record, one key).
    let all = inv.list().unwrap();
    let mut by_imei: HashMap<String, Vec<_>> = HashMap::new();
    for r in &all {
        by_imei.entry(r.imei.to_string()).or_default().push(r);
    }
    let imeis: HashSet<String> = (0..STATIONS)
        .flat_map(|s| (0..PER_STATION).map(move |i| imei_of(s, i)))
        .collect();
    assert_eq!(imeis.len(), STATIONS * (PER_STATION - 1));
    assert_eq!(by_imei.len(), imeis.len(), "every IMEI has records");
    let held: HashMap<String, Vec<String>> = std::thread::scope(|scope| {
        let handles: Vec<_> = ports
            .iter()
            .flatten()
            .map(|p| scope.spawn(move || (p.clone(), held_prefixes(p))))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for imei in &imeis {
        let records = &by_imei[imei];
        let active: Vec<_> = records
            .iter()
            .filter(|r| matches!(r.state, State::Pending | State::Verified))
            .collect();
        assert_eq!(active.len(), 1, "IMEI {imei}: {records:?}");
        assert_eq!(active[0].state, State::Verified, "IMEI {imei}");
        assert!(active[0].station.is_some());
        let key = active[0].secret.prefix().to_ascii_lowercase();
        let modems: Vec<&String> = (0..STATIONS)
            .flat_map(|s| (0..PER_STATION).map(move |i| (s, i)))
            .filter(|&(s, i)| imei_of(s, i) == *imei)
            .map(|(s, i)| &ports[s][i])
            .collect();
        let holding: Vec<_> = modems.iter().filter(|p| !held[**p].is_empty()).collect();
        assert!(!holding.is_empty(), "IMEI {imei}: a modem holds its key");
        for p in holding {
            assert_eq!(
                held[*p],
                vec![key.clone()],
                "IMEI {imei}: only the verified key"
            );
        }
    }
    drop(sims);
}
