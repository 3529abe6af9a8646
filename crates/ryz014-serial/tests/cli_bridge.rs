//! `socket://` and `rfc2217://` ports through a real serial-to-network bridge: `ser2net` (Debian's
//! package, installed by `scripts/test-all.sh`) exposes a `ryz014-sim` pseudo-terminal on
//! 127.0.0.1 in raw mode and in RFC 2217 mode, and is started and stopped by the tests.
//! Provisioning mixes a local port with both bridges; the monitor follows an upgrade and survives
//! the bridge going away and coming back; a bridge that drops the connection mid-step, or refuses
//! it, is exit 4 naming the address; the RFC 2217 settings reach the pseudo-terminal.
//!
//! Without `ser2net` these tests fail with a message saying how to install it, unless
//! `RYZ014_SKIP_BRIDGE_TESTS=1` asks to skip them. `RYZ014_SER2NET` names another binary.
#![cfg(unix)]

mod common;

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{
    assert_no_secret, both, default_profile, events, exported_secrets, json_lines, records, run,
    ryz014_command, stderr, stdout, wait_limited, Reader, Sim, RUN_LIMIT,
};
use ryz014_serial::transport::{self, Baud, SerialConfig};

/// The bridge's two modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// `socket://`: raw TCP.
    Raw,
    /// `rfc2217://`: Telnet with COM port control.
    Rfc2217,
}

/// The `ser2net` binary, or `None` when it is missing and the tests are asked to skip.
fn ser2net_bin() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("RYZ014_SER2NET") {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    let found = std::env::split_paths(&path)
        .chain(["/usr/sbin".into(), "/usr/local/sbin".into()])
        .map(|d: PathBuf| d.join("ser2net"))
        .find(|p| p.is_file());
    if found.is_none() && std::env::var_os("RYZ014_SKIP_BRIDGE_TESTS").is_some_and(|v| v == "1") {
        eprintln!("ser2net is missing: skipped (RYZ014_SKIP_BRIDGE_TESTS=1)");
        return None;
    }
    Some(found.expect(
        "ser2net is not installed: `apt-get install ser2net` (scripts/test-all.sh does), \
         or set RYZ014_SKIP_BRIDGE_TESTS=1 to skip the bridge tests",
    ))
}

/// A free TCP port on 127.0.0.1 (free when this returns; the bridge binds it right after).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}

/// A running `ser2net` bridging one device to one loopback TCP port. Dropping it kills it.
struct Bridge {
    bin: PathBuf,
    config: PathBuf,
    port: u16,
    mode: Mode,
    child: Option<Child>,
    _dir: tempfile::TempDir,
}

impl Bridge {
    /// Starts `ser2net` on `device` in `mode`; `None` when the tests are skipped.
    fn start(device: &str, mode: Mode) -> Option<Bridge> {
        let bin = ser2net_bin()?;
        let dir = tempfile::tempdir().expect("temp dir");
        let port = free_port();
        let accepter = match mode {
            Mode::Raw => format!("tcp,127.0.0.1,{port}"),
            Mode::Rfc2217 => format!("telnet(rfc2217),tcp,127.0.0.1,{port}"),
        };
        let config = dir.path().join("ser2net.yaml");
        std::fs::write(
            &config,
            format!(
                "connection: &modem\n  accepter: {accepter}\n  connector: serialdev,{device},115200n81,local\n  options:\n    kickolduser: true\n    mdns: false\n"
            ),
        )
        .expect("write the ser2net configuration");
        let mut b = Bridge {
            bin,
            config,
            port,
            mode,
            child: None,
            _dir: dir,
        };
        b.restart();
        Some(b)
    }

    /// The URL to give `-p`.
    fn url(&self) -> String {
        match self.mode {
            Mode::Raw => format!("socket://127.0.0.1:{}", self.port),
            Mode::Rfc2217 => format!("rfc2217://127.0.0.1:{}", self.port),
        }
    }

    /// (Re)starts `ser2net` and waits until it accepts connections.
    fn restart(&mut self) {
        assert!(self.child.is_none(), "the bridge is already running");
        let pid_file = self._dir.path().join("ser2net.pid");
        let child = Command::new(&self.bin)
            .arg("-n") // stay in the foreground
            .arg("-u") // no UUCP lock files
            .arg("-P")
            .arg(&pid_file)
            .arg("-c")
            .arg(&self.config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start ser2net");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            if let Some(Ok(Some(status))) = self.child.as_mut().map(Child::try_wait) {
                panic!("ser2net exited ({status}) with {}", self.config.display());
            }
            assert!(Instant::now() < deadline, "ser2net never listened");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Kills `ser2net` (SIGKILL): every connection through it drops.
    fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Bridge {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Waits (at most 60 s) until the child's output shows `what`.
fn wait_for(reader: &Reader, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !reader.text().contains(what) {
        assert!(
            Instant::now() < deadline,
            "`{what}` never appeared:\n{}",
            reader.text()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn profile() -> String {
    default_profile().to_str().unwrap().to_string()
}

#[test]
fn provision_mixes_a_local_port_and_both_bridges() {
    let sims = Sim::start_many(3, &[]);
    let Some(raw) = Bridge::start(&sims[1].path, Mode::Raw) else {
        return;
    };
    let Some(telnet) = Bridge::start(&sims[2].path, Mode::Rfc2217) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let inv = dir.path().join("inv.sqlite");
    let (raw_url, telnet_url) = (raw.url(), telnet.url());
    let o = run(&[
        "--json",
        "provision",
        "--profile",
        &profile(),
        "--inventory",
        inv.to_str().unwrap(),
        "-p",
        &sims[0].path,
        "-p",
        &raw_url,
        "-p",
        &telnet_url,
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", both(&o));
    let ev = json_lines(&o);
    let summary = events(&ev, "summary")[0].clone();
    assert_eq!(summary["verified"], 3, "{summary}");
    let recs = records(&inv);
    let secrets = exported_secrets(&inv);
    assert_eq!(secrets.len(), 3);
    for (sim, port) in
        sims.into_iter()
            .zip([None, Some(raw_url.as_str()), Some(telnet_url.as_str())])
    {
        let port = port.map(str::to_string).unwrap_or_else(|| sim.path.clone());
        let state = sim.stop();
        let imei = state["imei"].as_str().unwrap();
        let rec: Vec<_> = recs
            .iter()
            .filter(|r| r["imei"] == imei && r["state"] == "verified")
            .collect();
        assert_eq!(rec.len(), 1, "{imei}: {recs:?}");
        assert_eq!(rec[0]["port"], port.as_str(), "the record names the bridge");
        let secret = &secrets.iter().find(|(i, _)| i == imei).unwrap().1;
        let held = state["dm_profiles"]["standard"]["psks"]
            .as_array()
            .and_then(|a| a.iter().find(|p| p["server_id"] == 100))
            .and_then(|p| p["secret_prefix"].as_str())
            .map(|s| s.trim_end_matches('…').to_ascii_lowercase());
        assert_eq!(
            held.as_deref(),
            Some(&secret[..4]),
            "{imei}: the modem holds the recorded secret: {state}"
        );
        assert_no_secret(&format!("{}{}", stdout(&o), stderr(&o)), secret);
    }
}

/// A provisioned simulator with a good image scheduled 30 virtual s in (50× faster than real).
fn sim_with_upgrade() -> Sim {
    Sim::start(&[
        "--provisioned",
        "--fota-timer",
        "60",
        "--time-scale",
        "50",
        "--schedule-fota",
        "good:5.4.1.1-57830@30",
    ])
}

#[test]
fn monitor_through_a_raw_bridge_follows_an_upgrade_to_installed() {
    let sim = sim_with_upgrade();
    let Some(bridge) = Bridge::start(&sim.path, Mode::Raw) else {
        return;
    };
    let url = bridge.url();
    let child = ryz014_command(&["monitor", "-p", &url, "--until", "installed"])
        .args(["--timeout", "90", "--reopen-timeout", "10"])
        .spawn()
        .expect("start ryz014");
    let o = wait_limited(child, RUN_LIMIT, "ryz014 monitor");
    assert_eq!(o.status.code(), Some(0), "{}", both(&o));
    let text = stdout(&o);
    assert!(text.contains(&format!("monitoring {url}")), "{text}");
    assert!(
        text.contains("installed: firmware 5.4.1.1-57830 (was 5.4.1.1-57857)"),
        "{text}"
    );
}

#[test]
fn monitor_through_rfc2217_survives_the_bridge_going_away_and_coming_back() {
    let sim = sim_with_upgrade();
    let Some(mut bridge) = Bridge::start(&sim.path, Mode::Rfc2217) else {
        return;
    };
    let url = bridge.url();
    let mut child = ryz014_command(&["monitor", "-p", &url, "--until", "installed"])
        .args(["--timeout", "90", "--reopen-timeout", "30"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("start ryz014");
    let reader = Reader::spawn(child.stdout.take().expect("stdout"));
    wait_for(&reader, "waiting until");
    bridge.stop();
    wait_for(&reader, "vanished");
    std::thread::sleep(Duration::from_millis(300));
    bridge.restart();
    let o = wait_limited(child, RUN_LIMIT, "ryz014 monitor");
    let text = reader.finish();
    assert_eq!(o.status.code(), Some(0), "{text}\n{}", both(&o));
    assert!(
        text.contains(&format!("the port {url} vanished")),
        "the lost connection is named: {text}"
    );
    assert!(text.contains("is back; watching again"), "{text}");
    assert!(text.contains("installed: firmware 5.4.1.1-57830"), "{text}");
}

#[test]
fn a_bridge_dropping_the_connection_mid_provision_exits_4_naming_the_address() {
    // Real-time delays: the first reboot takes 3 s, time enough to drop the bridge during it.
    let sim = Sim::start(&["--time-scale", "1"]);
    let Some(mut bridge) = Bridge::start(&sim.path, Mode::Raw) else {
        return;
    };
    let url = bridge.url();
    let dir = tempfile::tempdir().unwrap();
    let inv = dir.path().join("inv.sqlite");
    let mut child = ryz014_command(&[
        "--json",
        "provision",
        "--profile",
        &profile(),
        "--inventory",
        inv.to_str().unwrap(),
        "-p",
        &url,
    ])
    .stdout(Stdio::piped())
    .spawn()
    .expect("start ryz014");
    let reader = Reader::spawn(child.stdout.take().expect("stdout"));
    wait_for(&reader, "\"rebooting\"");
    let dropped = Instant::now();
    bridge.stop();
    let o = wait_limited(child, RUN_LIMIT, "ryz014 provision");
    let text = reader.finish();
    assert_eq!(o.status.code(), Some(4), "{text}\n{}", both(&o));
    assert!(
        dropped.elapsed() < Duration::from_secs(20),
        "the lost connection is noticed, not waited out: {:?}",
        dropped.elapsed()
    );
    let lines: Vec<serde_json::Value> = text
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let err = events(&lines, "error");
    assert_eq!(err.len(), 1, "{text}");
    assert_eq!(err[0]["exit_code"], 4);
    let msg = err[0]["message"].as_str().unwrap_or_default();
    assert!(msg.contains(&url), "the address is named: {msg}");
    // The record is marked failed at the reboot step, naming the lost connection, and keeps its
    // secret (shown by its prefix) for a re-run.
    let recs = records(&inv);
    assert_eq!(recs.len(), 1, "{recs:?}");
    assert_eq!(recs[0]["state"], "failed", "{recs:?}");
    let error = recs[0]["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("reset") && error.contains(&format!("the connection to {url} was lost")),
        "{error}"
    );
    assert!(
        recs[0]["psk"]
            .as_str()
            .is_some_and(|p| p.chars().count() == 5 && p.ends_with('…')),
        "{recs:?}"
    );
}

#[test]
fn a_refused_connection_exits_4_naming_the_address() {
    let port = free_port();
    for url in [
        format!("socket://127.0.0.1:{port}"),
        format!("rfc2217://127.0.0.1:{port}"),
    ] {
        let o = run(&["status", "-p", &url]);
        assert_eq!(o.status.code(), Some(4), "{}", both(&o));
        let err = stderr(&o);
        assert!(
            err.contains(&format!("cannot connect to {url}")),
            "{url}: {err}"
        );
    }
}

#[test]
fn a_malformed_address_is_bad_usage_before_anything_is_opened() {
    for bad in [
        "socket://127.0.0.1",
        "rfc2217://:2217",
        "telnet://127.0.0.1:23",
    ] {
        let o = run(&["status", "-p", bad]);
        assert_eq!(o.status.code(), Some(2), "{bad}: {}", both(&o));
        assert!(stderr(&o).contains("socket://HOST:PORT"), "{}", both(&o));
    }
}

#[test]
fn rfc2217_to_a_raw_port_is_refused_with_advice() {
    let sim = Sim::start(&[]);
    let Some(bridge) = Bridge::start(&sim.path, Mode::Raw) else {
        return;
    };
    let url = bridge.url().replace("socket://", "rfc2217://");
    let o = run(&["status", "-p", &url]);
    assert_eq!(o.status.code(), Some(4), "{}", both(&o));
    let err = stderr(&o);
    assert!(err.contains(&url) && err.contains("RFC 2217"), "{err}");
}

/// The pseudo-terminal's settings as `stty -a` shows them.
fn stty(device: &Path) -> String {
    let o = Command::new("stty")
        .arg("-F")
        .arg(device)
        .arg("-a")
        .output()
        .expect("run stty");
    assert!(
        o.status.success(),
        "stty: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn rfc2217_settings_are_negotiated_with_the_server_and_reach_the_port() {
    let sim = Sim::start(&[]);
    let Some(bridge) = Bridge::start(&sim.path, Mode::Rfc2217) else {
        return;
    };
    let device = PathBuf::from(&sim.path);
    let open = |baud, rts_cts| {
        transport::open(&SerialConfig {
            baud,
            rts_cts,
            ..SerialConfig::new(bridge.url())
        })
        .unwrap_or_else(|e| panic!("open {}: {e}", bridge.url()))
    };
    let t = open(Baud::Fixed(57_600), true);
    assert_eq!(t.baud(), Some(57_600));
    let s = stty(&device);
    assert!(s.contains("speed 57600 baud"), "{s}");
    assert!(
        s.contains(" crtscts") && s.contains(" cs8") && s.contains("-parenb"),
        "{s}"
    );
    drop(t);
    // Probing: the server is asked for 921600 first, and the simulator answers at any rate.
    let t = open(Baud::Auto, false);
    assert_eq!(t.baud(), Some(921_600));
    let s = stty(&device);
    assert!(s.contains("speed 921600 baud"), "{s}");
    assert!(s.contains("-crtscts"), "{s}");
}
