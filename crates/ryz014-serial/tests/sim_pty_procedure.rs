//! The section 4 procedure over a pseudo-terminal (issue #3): the built `ryz014-sim` binary serves
//! a simulated modem on a pty; the native serial transport (`serialport`) opens it; the core client
//! and `session` provision the modem with a profile, then watch an upgrade the simulator's server
//! side schedules (`--schedule-fota`) until it is installed and `ATI1` shows the new version; the
//! state the simulator writes on exit (`--state-out`) holds the configuration and the firmware.
//! A scaled clock (`--time-scale`) makes the 60 s hold-off and FOTA timer take a second each.

mod common;

use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::Sim;
use futures::executor::block_on;
use futures::io::AsyncReadExt;
use ryz014_core::client::Client;
use ryz014_core::fota::{FotaOutcome, FotaTracker};
use ryz014_core::imei::Imei;
use ryz014_core::provision::{Plan, ProvisioningProfile};
use ryz014_core::psk::PskSecret;
use ryz014_core::session::{self, MonitorEnd, MonitorEvent, ProvisionReport, Until};
use ryz014_core::timer::FuturesTimer;
use ryz014_serial::transport::{open, Baud, SerialConfig};
use serde_json::Value;

const OLD: &str = "5.4.1.1-57857";
const NEW: &str = "5.4.1.1-57830";
/// Virtual seconds per real second: the 60 s hold-off and FOTA timer take one second each.
const SCALE: &str = "60";
/// Real time the whole procedure may take before the watchdog calls it a hang.
const REAL_LIMIT: Duration = Duration::from_secs(90);

/// The note's values (§4.3), with the FOTA timer at the demo's 60 s so that the check comes soon.
const PROFILE: &str = r#"
[modem]
profile = "standard"
autoconnect = true

[bootstrap]
server_id = 100
uri = "coaps://eu.iot.avsystem.cloud:5694"
hold_off_s = 60
cid = 1

[psk]
identity = "urn:imei:{imei}"

[fota]
mode = 0
report_state = 2
report_download = 10
timer_s = 60
certificate_id = 11

[factory]
save_restoration_point = true
"#;

/// What the procedure saw from the host side.
#[derive(Debug)]
struct Seen {
    report: ProvisionReport,
    end: MonitorEnd,
    outcome: FotaOutcome,
    max_progress: u8,
    firmware_after: Option<String>,
    notifications: Vec<String>,
}

/// Provisions and watches the upgrade over the pty at `path`; every error names its step.
fn procedure(path: &str, secret: &PskSecret) -> Result<Seen, String> {
    let transport = open(&SerialConfig {
        path: path.to_string(),
        baud: Baud::Fixed(115_200),
        rts_cts: false,
        probe_timeout: Duration::from_millis(500),
    })
    .map_err(|e| e.to_string())?;
    let (reader, writer) = transport.split();
    let mut client = Client::new(reader, writer, FuturesTimer);
    let profile = ProvisioningProfile::from_toml_str(PROFILE).map_err(|e| e.to_string())?;
    block_on(async {
        let imei: Imei = session::read_imei(&mut client)
            .await
            .map_err(|e| e.to_string())?;
        let plan = Plan::new(&profile, &imei, secret).map_err(|e| e.to_string())?;
        let report = session::provision(&mut client, &plan, |_| {})
            .await
            .map_err(|e| e.to_string())?;
        let mut tracker = FotaTracker::new();
        let mut notifications = Vec::new();
        let mut max_progress = 0;
        let start = Instant::now();
        let end = session::monitor(
            &mut client,
            &mut tracker,
            move || start.elapsed(),
            Until::Done,
            Duration::from_secs(60),
            |ev| match ev {
                MonitorEvent::Message(m) => notifications.push(format!("{m:?}")),
                MonitorEvent::Update(u) => max_progress = max_progress.max(u.progress.unwrap_or(0)),
            },
        )
        .await
        .map_err(|e| e.to_string())?;
        let firmware_after = session::read_firmware(&mut client)
            .await
            .map_err(|e| e.to_string())?;
        Ok(Seen {
            report,
            end,
            outcome: tracker.outcome().clone(),
            max_progress,
            firmware_after,
            notifications,
        })
    })
}

/// Starts the simulator with an image scheduled 5 virtual seconds in, runs [`procedure`] on a
/// thread with a watchdog, and returns what it saw with the simulator still running.
fn run(schedule: &str) -> (Sim, PskSecret, Seen) {
    // Without --server-device the simulated server bootstraps any device, whatever its PSK.
    let sim = Sim::start(&["--time-scale", SCALE, "--schedule-fota", schedule]);
    let secret = PskSecret::generate().unwrap();
    let path = sim.path.clone();
    let for_run = secret.clone();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(procedure(&path, &for_run));
    });
    let seen = match rx.recv_timeout(REAL_LIMIT) {
        Ok(Ok(seen)) => seen,
        Ok(Err(e)) => panic!("the procedure failed: {e}"),
        Err(_) => panic!("the procedure hung for {REAL_LIMIT:?}"),
    };
    (sim, secret, seen)
}

#[test]
fn provisioning_and_a_scheduled_upgrade_over_a_pseudo_terminal() {
    let (sim, secret, seen) = run(&format!("good:{NEW}@5"));
    assert_eq!(seen.report.firmware.as_deref(), Some(OLD));
    assert_eq!(seen.report.attach_missing, 0);
    assert_eq!(seen.end, MonitorEnd::Installed, "{:#?}", seen.notifications);
    assert_eq!(
        seen.outcome,
        FotaOutcome::Installed {
            version: Some(NEW.into())
        }
    );
    assert_eq!(seen.max_progress, 100, "{:#?}", seen.notifications);
    assert_eq!(seen.firmware_after.as_deref(), Some(NEW), "ATI1 (§4.5.3)");

    // The simulator's own record, written on SIGTERM.
    let state: Value = sim.stop();
    assert_eq!(state["firmware"], NEW);
    let prof = &state["dm_profiles"]["standard"];
    assert_eq!(prof["autostart"], 1);
    assert_eq!(prof["servers"][0]["server_id"], 100);
    assert_eq!(prof["servers"][0]["role"], "bs");
    assert_eq!(
        prof["servers"][0]["url"],
        "coaps://eu.iot.avsystem.cloud:5694"
    );
    assert_eq!(prof["servers"][0]["lifetime"], 60);
    assert_eq!(prof["psks"][0]["identity"], "urn:imei:015770000031766");
    assert_eq!(prof["psks"][0]["secret_prefix"], secret.prefix().as_str());
    assert_eq!(prof["psks"][0]["secret_bytes"], 32);
    let fota = &state["settings"]["fota"];
    assert_eq!(fota["profile"], "standard");
    assert_eq!(
        (
            &fota["report_state"],
            &fota["report_download"],
            &fota["timer"],
            &fota["certificate"]
        ),
        (
            &Value::from(2),
            &Value::from(10),
            &Value::from(60),
            &Value::from(11)
        )
    );
    assert_eq!(state["restoration_point"]["tag"], "oem");
    assert!(state["pending_install"].is_null());
    let commands: Vec<&str> = state["commands"]
        .as_array()
        .expect("commands")
        .iter()
        .filter_map(|c| c["line"].as_str())
        .collect();
    for want in [
        "AT+CGSN",
        "AT+SQNAUTOCONNECT=1",
        "AT^RESET",
        "AT+SQNFACTORYSAVE=\"oem\"",
        "AT+CFUN=1,1",
        "ATI1",
    ] {
        assert!(commands.contains(&want), "{want} not in {commands:#?}");
    }
    let text = state.to_string();
    assert!(
        !text.contains(&secret.expose_hex()[4..]),
        "the state file never holds the secret"
    );
}

#[test]
fn a_wrong_image_over_a_pseudo_terminal_ends_in_cause_8() {
    let (sim, _, seen) = run("wrong:5.4.1.1-99999@5");
    assert_eq!(seen.end, MonitorEnd::Failed, "{:#?}", seen.notifications);
    assert!(
        matches!(seen.outcome, FotaOutcome::Failed { cause: 8, .. }),
        "{:?}",
        seen.outcome
    );
    assert!(
        seen.notifications
            .last()
            .is_some_and(|l| l.contains("state: Some(3), cause: Some(8)")),
        "ends in +SQNFOTA: 3,8 (§4.7.1): {:#?}",
        seen.notifications
    );
    assert_eq!(
        seen.firmware_after.as_deref(),
        Some(OLD),
        "the firmware is kept"
    );
    let state = sim.stop();
    assert_eq!(state["firmware"], OLD);
    assert!(state["pending_install"].is_null());
}
