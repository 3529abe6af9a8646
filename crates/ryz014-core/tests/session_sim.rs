//! The session procedures against the simulator, in memory: provisioning end to end (read-back
//! included), a FOTA upgrade watched to `installed`, a wrong image watched to its failure, the
//! device-initiated upgrade, and failures that must name their step.

use std::time::Duration;

use futures::executor::block_on;
use futures::io::AsyncReadExt;
use ryz014_core::client::Client;
use ryz014_core::fota::FotaTracker;
use ryz014_core::provision::{Plan, ProvisioningProfile};
use ryz014_core::psk::PskSecret;
use ryz014_core::session::{self, FailureKind, MonitorEnd, ProvisionEvent, Until, UpgradeOutcome};
use ryz014_sim::{Fault, FirmwareImage, SimConfig, SimHandle, SimStream, SimTimer};

const PROFILE: &str = include_str!("../../../profiles/coiote-standard.toml");

type SimClient = Client<futures::io::ReadHalf<SimStream>, futures::io::WriteHalf<SimStream>>;

fn sim(faults: &[&str]) -> (SimClient, SimHandle) {
    let config = SimConfig {
        faults: faults.iter().map(|f| f.parse::<Fault>().unwrap()).collect(),
        ..SimConfig::default()
    };
    let (stream, timer, handle): (SimStream, SimTimer, SimHandle) =
        ryz014_sim::sim::new(config).unwrap();
    let (r, w) = stream.split();
    (Client::new(r, w, timer), handle)
}

fn plan(c: &mut SimClient, secret: &PskSecret) -> Plan {
    let profile = ProvisioningProfile::from_toml_str(PROFILE).unwrap();
    let imei = block_on(session::read_imei(c)).unwrap();
    Plan::new(&profile, &imei, secret).unwrap()
}

/// A plan with a fresh secret, the device known to the simulated server with that secret.
fn registered(c: &mut SimClient, h: &SimHandle) -> (Plan, PskSecret) {
    let secret = PskSecret::generate().unwrap();
    let plan = plan(c, &secret);
    let creds = plan.credentials().clone();
    h.register_device(
        &creds.endpoint_name,
        &creds.psk_identity,
        &secret.expose_hex(),
    )
    .unwrap();
    (plan, secret)
}

fn provisioned(c: &mut SimClient, h: &SimHandle) -> (Plan, Vec<String>) {
    let (plan, _) = registered(c, h);
    let mut events = Vec::new();
    let report = block_on(session::provision(c, &plan, |ev| {
        events.push(match ev {
            ProvisionEvent::StepStarted { step, .. } => format!("start {}", step.id),
            ProvisionEvent::StepDone { step, .. } => format!("done {}", step.id),
            ProvisionEvent::Rebooting { step } => format!("rebooting {}", step.id),
            ProvisionEvent::Booted { step } => format!("booted {}", step.id),
            ProvisionEvent::Attached { step } => format!("attached {}", step.id),
            ProvisionEvent::AttachMissing { step, .. } => format!("no-attach {}", step.id),
            ProvisionEvent::CheckStarted { check, .. } => format!("check {}", check.id.as_str()),
            ProvisionEvent::CheckDone { check, .. } => format!("checked {}", check.id.as_str()),
            ProvisionEvent::Notification(m) => format!("note {}", m.prefix().unwrap_or("?")),
        })
    }))
    .unwrap_or_else(|e| panic!("provisioning failed: {e}"));
    assert_eq!(report.steps, plan.steps().len());
    assert_eq!(report.checks, plan.checks().len());
    assert_eq!(report.firmware.as_deref(), Some("5.4.1.1-57857"));
    (plan, events)
}

/// Watches the modem until `until` (virtual time, so days pass in milliseconds); returns how it
/// ended, the tracker, and the highest download progress seen.
fn watch(
    c: &mut SimClient,
    h: &SimHandle,
    until: Until,
    timeout: Duration,
) -> (MonitorEnd, FotaTracker, u8) {
    let mut tracker = FotaTracker::new();
    let clock = h.clone();
    let mut max_progress = 0;
    let end = block_on(session::monitor(
        c,
        &mut tracker,
        move || clock.now(),
        until,
        timeout,
        |ev| {
            if let session::MonitorEvent::Update(u) = ev {
                max_progress = max_progress.max(u.progress.unwrap_or(0));
            }
        },
    ))
    .unwrap();
    (end, tracker, max_progress)
}

#[test]
fn provisioning_runs_every_step_waits_through_reboots_and_reads_back() {
    let (mut c, h) = sim(&[]);
    let (plan, events) = provisioned(&mut c, &h);
    for step in plan.steps() {
        assert!(events.contains(&format!("done {}", step.id)), "{events:?}");
        if step.reboots() {
            assert!(
                events.contains(&format!("booted {}", step.id)),
                "{events:?}"
            );
        }
    }
    let reboots = plan.steps().iter().filter(|s| s.reboots()).count();
    assert!(reboots >= 2, "the plan reboots twice (§4.3.1.2, §4.3.3)");
    assert!(
        events.iter().any(|e| e.starts_with("attached ")),
        "{events:?}"
    );
    // The modem now holds the credentials (the simulator's own state says so).
    let snap = serde_json::to_string(&h.snapshot()).unwrap();
    let creds = plan.credentials();
    assert!(snap.contains(&creds.psk_identity), "{snap}");
    assert!(
        snap.contains("coaps://eu.iot.avsystem.cloud:5694"),
        "{snap}"
    );
}

/// Provisions the modem, schedules `image` on the server and watches it until installed (or
/// failed), for up to 3 virtual days.
fn upgrade_to(
    image: FirmwareImage,
    c: &mut SimClient,
    h: &SimHandle,
) -> (MonitorEnd, FotaTracker, u8) {
    let (plan, _) = provisioned(c, h);
    h.schedule_firmware(&plan.credentials().endpoint_name, image)
        .unwrap();
    watch(c, h, Until::Installed, Duration::from_secs(3 * 86_400))
}

#[test]
fn a_good_image_is_watched_to_installed_with_the_new_version() {
    let (mut c, h) = sim(&[]);
    let (end, tracker, max_progress) = upgrade_to(FirmwareImage::good("5.4.1.2-60000"), &mut c, &h);
    assert_eq!(end, MonitorEnd::Installed, "{:?}", tracker.timeline());
    assert_eq!(max_progress, 100);
    assert_eq!(tracker.version_after(), Some("5.4.1.2-60000"));
    assert_eq!(
        block_on(session::read_firmware(&mut c)).unwrap().as_deref(),
        Some("5.4.1.2-60000")
    );
}

#[test]
fn a_wrong_image_ends_failed_with_cause_8_and_the_old_version() {
    let (mut c, h) = sim(&[]);
    let (end, tracker, _) = upgrade_to(FirmwareImage::wrong("9.9.9.9-1"), &mut c, &h);
    assert_eq!(end, MonitorEnd::Failed);
    assert_eq!(tracker.error().map(|e| e.cause), Some(8));
    assert_eq!(
        block_on(session::read_firmware(&mut c)).unwrap().as_deref(),
        Some("5.4.1.1-57857")
    );
}

#[test]
fn monitoring_without_anything_scheduled_times_out_in_virtual_time() {
    let (mut c, h) = sim(&[]);
    let (end, _, _) = watch(&mut c, &h, Until::Installed, Duration::from_secs(600));
    assert_eq!(end, MonitorEnd::TimedOut);
}

#[test]
fn a_command_without_answer_fails_its_step_with_a_timeout() {
    let (mut c, h) = sim(&["no-answer=AT+SQNFOTACFG"]);
    let (plan, secret) = registered(&mut c, &h);
    let err = block_on(session::provision(&mut c, &plan, |_| {})).unwrap_err();
    assert_eq!(err.step, "configure-fota");
    assert!(err.is_timeout(), "{err}");
    let text = err.to_string();
    assert!(!text.contains(&secret.expose_hex()), "{text}");
}

#[test]
fn a_refusal_names_the_step_and_the_code_without_the_secret() {
    let (mut c, _h) = sim(&["cme=AT+SQNDMCFG:4"]);
    let secret = PskSecret::generate().unwrap();
    let plan = plan(&mut c, &secret);
    let err = block_on(session::provision(&mut c, &plan, |_| {})).unwrap_err();
    assert!(matches!(err.kind, FailureKind::Client(_)));
    let text = err.to_string();
    assert!(text.contains("enable-dm-service"), "{text}");
    assert!(text.contains("ERROR"), "{text}");
    assert!(!text.contains(&secret.expose_hex()), "{text}");
}

#[test]
fn device_info_reads_everything_and_shows_only_the_psk_prefix() {
    let (mut c, h) = sim(&[]);
    let (plan, _) = provisioned(&mut c, &h);
    let info = block_on(session::device_info(&mut c, "standard")).unwrap();
    assert_eq!(info.imei.as_deref(), Some(plan.credentials().imei.as_str()));
    assert_eq!(info.firmware.as_deref(), Some("5.4.1.1-57857"));
    assert_eq!(info.operator_mode.as_deref(), Some("standard"));
    assert_eq!(info.autoconnect, Some(true));
    assert!(info.fota_config.is_some());
    assert_eq!(info.dm_config.len(), 3, "{:?}", info.dm_config);
    let json = serde_json::to_string(&info).unwrap();
    assert!(json.contains(&plan.credentials().secret.prefix()), "{json}");
    assert!(
        !json.contains(&plan.credentials().secret.expose_hex()),
        "{json}"
    );
}

#[test]
fn the_device_initiated_upgrade_reports_progress_and_the_new_version() {
    let (mut c, h) = sim(&[]);
    let _ = provisioned(&mut c, &h);
    let url = "http://192.0.2.10/LR5.4.1.3-61000.dup";
    h.serve_url(url, FirmwareImage::good("5.4.1.3-61000"));
    let clock = h.clone();
    let mut progress = Vec::new();
    let outcome = block_on(session::upgrade(
        &mut c,
        url,
        Duration::from_millis(500),
        Duration::from_secs(3600),
        move || clock.now(),
        |ev| {
            if let session::UpgradeEvent::Progress { percent } = ev {
                progress.push(percent)
            }
        },
    ))
    .unwrap();
    assert_eq!(
        outcome,
        UpgradeOutcome::Success {
            version: Some("5.4.1.3-61000".into())
        }
    );
    assert!(!progress.is_empty());
    assert!(progress.windows(2).all(|w| w[0] <= w[1]), "{progress:?}");
}

#[test]
fn the_imei_is_read_through_line_noise() {
    for every in 1..=3 {
        let (mut c, _h) = sim(&[&format!("garbage={every}")]);
        let imei = block_on(session::read_imei(&mut c)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(imei.as_str(), SimConfig::default().imei);
    }
}

/// Issue 9, point 15: a `+CEREG: 1` the modem sent just before a reset belongs to the previous
/// boot. With the network attach taking longer than the plan waits after the reset, that stale
/// registration must not be taken for the attach.
#[test]
fn a_registration_from_before_the_reset_is_not_the_attach_after_it() {
    let attach_never = |faults: &[&str]| {
        let mut config = SimConfig {
            faults: faults.iter().map(|f| f.parse::<Fault>().unwrap()).collect(),
            ..SimConfig::default()
        };
        // Longer than the plan's attach timeout (180 s): no attach after the reset.
        config.timings.attach = Duration::from_secs(100_000);
        let (stream, timer, handle): (SimStream, SimTimer, SimHandle) =
            ryz014_sim::sim::new(config).unwrap();
        let (r, w) = stream.split();
        (Client::new(r, w, timer), handle)
    };
    // With the fault, and without it as the control: no attach either way.
    for faults in [&["stale-cereg"][..], &[][..]] {
        let (mut c, h) = attach_never(faults);
        let (plan, _) = registered(&mut c, &h);
        let mut attached = Vec::new();
        let mut missing = Vec::new();
        let mut stale_seen = 0;
        let report = block_on(session::provision(&mut c, &plan, |ev| match ev {
            ProvisionEvent::Attached { step } => attached.push(step.id.to_string()),
            ProvisionEvent::AttachMissing { step, .. } => missing.push(step.id.to_string()),
            ProvisionEvent::Notification(ryz014_core::Message::Registration(r)) if r.stat == 1 => {
                stale_seen += 1
            }
            _ => {}
        }))
        .unwrap_or_else(|e| panic!("provisioning failed: {e}"));
        assert!(attached.is_empty(), "{faults:?}: {attached:?}");
        assert_eq!(report.attach_missing, missing.len(), "{faults:?}");
        assert!(!missing.is_empty(), "{faults:?}");
        if !faults.is_empty() {
            // The stale line was not lost: it was reported as a notification.
            assert!(stale_seen >= 1, "{faults:?}");
        }
    }
}
