//! The whole section 4 procedure driven through the core client, in memory, under each fault
//! (issue #3): provisioning with a profile (§4.3), a good firmware scheduled on the server side
//! and monitored until installed (§4.5.2, `ATI1` then shows it, §4.5.3), then a wrong image that
//! ends in `+SQNFOTA: 3,8` (§4.7.1). Each run either succeeds with the expected non-volatile
//! state or fails with an error that names the step; nothing hangs (a virtual deadline inside the
//! run, a real-time watchdog around it).

use std::sync::mpsc;
use std::time::Duration;

use futures::executor::block_on;
use futures::future::{select, Either, FutureExt};
use ryz014_core::client::{Client, ClientError};
use ryz014_core::fota::{FotaOutcome, FotaTracker};
use ryz014_core::imei::Imei;
use ryz014_core::message::{ErrorCode, FinalResult, Message, ServerRole};
use ryz014_core::provision::{Plan, ProvisioningProfile, StepId};
use ryz014_core::psk::PskSecret;
use ryz014_core::session::{
    self, MonitorEnd, MonitorEvent, ProvisionEvent, ProvisionReport, SessionError, Until,
    UpgradeOutcome,
};
use ryz014_core::timer::Timer;
use ryz014_sim::{sim, Fault, FirmwareImage, SimConfig, SimHandle, SimStream, SimTimer, Snapshot};

const IMEI: &str = "015770000031766";
/// The note's `openssl rand -hex 32` example (§4.3.1.1): an example, never a real secret.
const SECRET: &str = "e9891e446e07ba10519059db4ad9eb1b02c83d08dd80102982c27ec9e1bdebde";
const OLD: &str = "5.4.1.1-57857";
const NEW: &str = "5.4.1.1-57830";
const WRONG: &str = "5.4.1.1-99999";
/// Far beyond what any run needs (about ten virtual minutes): reaching it means a hang.
const VIRTUAL_DEADLINE: Duration = Duration::from_secs(6 * 3600);
/// Real time a run may take before the watchdog calls it a hang.
const REAL_DEADLINE: Duration = Duration::from_secs(60);
/// How long monitoring waits for the upgrade to end.
const MONITOR_TIMEOUT: Duration = Duration::from_secs(3600);

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
download_timeout_s = 600
certificate_id = 11

[factory]
save_restoration_point = true
"#;

type SimClient = Client<SimStream, SimStream>;

/// What a run ended with.
#[derive(Debug)]
enum RunEnd {
    /// Provisioned, upgraded to `NEW`, then the wrong image failed.
    Success(Box<Finish>),
    /// A step failed: its name and the error as the user sees it.
    Failed {
        step: String,
        error: String,
        client: Option<ClientErrorKind>,
        snapshot: Box<Snapshot>,
        /// What `session::provision` reported.
        events: Vec<String>,
    },
}

#[derive(Debug)]
struct Finish {
    snapshot: Snapshot,
    report: ProvisionReport,
    /// What `session::provision` reported.
    events: Vec<String>,
    good: Upgrade,
    wrong: Upgrade,
}

/// One watched upgrade.
#[derive(Debug)]
struct Upgrade {
    end: MonitorEnd,
    outcome: FotaOutcome,
    /// `ATI1` afterwards.
    firmware: Option<String>,
    /// Every notification seen, for diagnostics.
    lines: Vec<String>,
}

/// The client error of a failed step, in a form that crosses threads.
#[derive(Debug, Clone, PartialEq)]
enum ClientErrorKind {
    Timeout {
        command: String,
    },
    Refused {
        command: String,
        result: FinalResult,
    },
    Rebooted {
        command: String,
    },
    Other(String),
}

impl From<&ClientError> for ClientErrorKind {
    fn from(e: &ClientError) -> Self {
        match e {
            ClientError::Timeout { command, .. } => ClientErrorKind::Timeout {
                command: command.clone(),
            },
            ClientError::Refused {
                command, result, ..
            } => ClientErrorKind::Refused {
                command: command.clone(),
                result: result.clone(),
            },
            ClientError::Rebooted { command, .. } => ClientErrorKind::Rebooted {
                command: command.clone(),
            },
            other => ClientErrorKind::Other(other.to_string()),
        }
    }
}

/// A step failure inside a run.
struct StepFailure {
    step: String,
    error: String,
    client: Option<ClientErrorKind>,
}

impl From<SessionError> for StepFailure {
    fn from(e: SessionError) -> Self {
        StepFailure {
            step: e.step.clone(),
            error: e.to_string(),
            client: e.client_error().map(ClientErrorKind::from),
        }
    }
}

fn describe(ev: &ProvisionEvent<'_>) -> String {
    match ev {
        ProvisionEvent::StepStarted { step, .. } => format!("start {}", step.id),
        ProvisionEvent::StepDone { step, .. } => format!("done {}", step.id),
        ProvisionEvent::Rebooting { step } => format!("rebooting {}", step.id),
        ProvisionEvent::Booted { step } => format!("booted {}", step.id),
        ProvisionEvent::Attached { step } => format!("attached {}", step.id),
        ProvisionEvent::AttachMissing { step, .. } => format!("no-attach {}", step.id),
        ProvisionEvent::CheckStarted { check, .. } => format!("check {}", check.id),
        ProvisionEvent::CheckDone { check, .. } => format!("checked {}", check.id),
        ProvisionEvent::Notification(m) => format!("note {m:?}"),
    }
}

// ------------------------------------------------------------------ the run

fn plan() -> (Plan, PskSecret) {
    let profile = ProvisioningProfile::from_toml_str(PROFILE).unwrap();
    let imei = Imei::parse(IMEI).unwrap();
    let secret = PskSecret::from_hex(SECRET).unwrap();
    (Plan::new(&profile, &imei, &secret).unwrap(), secret)
}

/// Schedules an image on the server side and watches the modem until the upgrade ends; then
/// reads `ATI1`.
async fn upgrade(
    c: &mut SimClient,
    timer: &SimTimer,
    handle: &SimHandle,
    image: FirmwareImage,
    drain_first: bool,
) -> Result<Upgrade, StepFailure> {
    if drain_first {
        // What the previous watch left queued (its `"installed","<version>"` line when the
        // watch ended at `8` and read ATI1) must not end this one.
        c.drain_notifications();
    }
    let ep = handle.endpoint();
    handle
        .schedule_firmware(&ep, image)
        .map_err(|e| StepFailure {
            step: "schedule".into(),
            error: e.to_string(),
            client: None,
        })?;
    let mut tracker = FotaTracker::new();
    let mut lines = Vec::new();
    let clock = timer.clone();
    let end = session::monitor(
        c,
        &mut tracker,
        move || clock.now(),
        Until::Done,
        MONITOR_TIMEOUT,
        |ev| {
            if let MonitorEvent::Message(m) = ev {
                lines.push(format!("{m:?}"));
            }
        },
    )
    .await?;
    let firmware = session::read_firmware(c).await?;
    Ok(Upgrade {
        end,
        outcome: tracker.outcome().clone(),
        firmware,
        lines,
    })
}

fn run_inner(cfg: SimConfig, drain: bool) -> RunEnd {
    let (plan, secret) = plan();
    let (stream, timer, handle) = sim::new(cfg).unwrap();
    let creds = plan.credentials();
    handle
        .register_device(
            &creds.endpoint_name,
            &creds.psk_identity,
            &secret.expose_hex(),
        )
        .unwrap();
    let mut client = Client::new(stream.clone(), stream, timer.clone());
    let mut events = Vec::new();
    let procedure = async {
        let report =
            session::provision(&mut client, &plan, |ev| events.push(describe(&ev))).await?;
        let good = upgrade(
            &mut client,
            &timer,
            &handle,
            FirmwareImage::good(NEW),
            false,
        )
        .await?;
        let wrong = upgrade(
            &mut client,
            &timer,
            &handle,
            FirmwareImage::wrong(WRONG),
            drain,
        )
        .await?;
        Ok::<_, StepFailure>(Finish {
            snapshot: handle.snapshot(),
            report,
            events: Vec::new(),
            good,
            wrong,
        })
    };
    let deadline = timer.sleep(VIRTUAL_DEADLINE);
    let outcome = match block_on(select(procedure.boxed_local(), deadline)) {
        Either::Left((r, _)) => Some(r),
        Either::Right(_) => None,
    };
    match outcome {
        Some(Ok(mut finish)) => {
            finish.events = events;
            RunEnd::Success(Box::new(finish))
        }
        Some(Err(f)) => RunEnd::Failed {
            step: f.step,
            error: f.error,
            client: f.client,
            snapshot: Box::new(handle.snapshot()),
            events,
        },
        None => panic!(
            "the procedure hung: still running at virtual {:?}; commands: {:#?}",
            timer.now(),
            handle.snapshot().commands
        ),
    }
}

/// Runs the procedure on a fresh simulator in its own thread; a real-time watchdog catches hangs.
fn run(faults: &[&str], tweak: impl FnOnce(&mut SimConfig) + Send + 'static) -> RunEnd {
    run_with(faults, tweak, true)
}

fn run_with(
    faults: &[&str],
    tweak: impl FnOnce(&mut SimConfig) + Send + 'static,
    drain: bool,
) -> RunEnd {
    let faults: Vec<Fault> = faults.iter().map(|f| f.parse().unwrap()).collect();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut cfg = SimConfig {
            faults,
            ..SimConfig::default()
        };
        tweak(&mut cfg);
        let _ = tx.send(run_inner(cfg, drain));
    });
    match rx.recv_timeout(REAL_DEADLINE) {
        Ok(end) => end,
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("the procedure hung in real time"),
        Err(mpsc::RecvTimeoutError::Disconnected) => panic!("the run panicked (see above)"),
    }
}

// ------------------------------------------------------------------ assertions

/// The run succeeded: the NV state is what the profile asks, the good image is installed and the
/// wrong one failed with cause 8 without changing the firmware.
fn assert_success(end: RunEnd) -> Box<Finish> {
    let f = match end {
        RunEnd::Success(f) => f,
        RunEnd::Failed {
            error,
            snapshot,
            events,
            ..
        } => panic!(
            "expected success, got: {error}\nevents: {events:#?}\ncommands: {:#?}",
            snapshot.commands
        ),
    };
    let s = &f.snapshot;
    let (_, secret) = plan();
    let prof = s.dm_profiles.get("standard").expect("profile standard");
    assert_eq!(prof.autostart, 1);
    let bs = prof
        .servers
        .iter()
        .find(|v| v.server_id == 100)
        .expect("server 100");
    assert_eq!(bs.role, ServerRole::Bs);
    assert_eq!(bs.url, "coaps://eu.iot.avsystem.cloud:5694");
    assert_eq!(bs.lifetime, Some(60));
    assert_eq!(bs.cid, Some(1));
    let psk = prof
        .psks
        .iter()
        .find(|k| k.server_id == 100)
        .expect("psk 100");
    assert_eq!(psk.identity, format!("urn:imei:{IMEI}"));
    assert_eq!(psk.secret_prefix, secret.prefix());
    assert_eq!(psk.secret_bytes, 32);
    let fota = s.settings.fota.as_ref().expect("FOTA configuration");
    assert_eq!(
        (
            fota.profile.as_str(),
            fota.mode,
            fota.report_state,
            fota.report_download
        ),
        ("standard", 0, 2, 10)
    );
    assert_eq!(
        (fota.timer, fota.download_timeout, fota.certificate),
        (Some(60), Some(600), Some(11))
    );
    assert!(s.settings.autoconnect);
    let rp = s.restoration_point.as_ref().expect("restoration point");
    assert_eq!(rp.tag, "oem");
    assert!(
        rp.settings.autoconnect,
        "saved after AT+SQNAUTOCONNECT=1 (§4.3.1.3)"
    );
    assert!(s.pending_install.is_none());
    assert_eq!(s.firmware, NEW);
    assert_eq!(f.report.firmware.as_deref(), Some(OLD));
    assert_eq!(f.good.end, MonitorEnd::Installed, "{:#?}", f.good.lines);
    assert_eq!(
        f.good.outcome,
        FotaOutcome::Installed {
            version: Some(NEW.into())
        },
        "{:#?}",
        f.good.lines
    );
    assert_eq!(
        f.good.firmware.as_deref(),
        Some(NEW),
        "ATI1 shows it (§4.5.3)"
    );
    assert_eq!(f.wrong.end, MonitorEnd::Failed, "{:#?}", f.wrong.lines);
    assert!(
        matches!(f.wrong.outcome, FotaOutcome::Failed { cause: 8, .. }),
        "{:?}\n{:#?}",
        f.wrong.outcome,
        f.wrong.lines
    );
    assert!(
        f.wrong
            .lines
            .last()
            .is_some_and(|l| l.contains("state: Some(3), cause: Some(8)")),
        "ends in +SQNFOTA: 3,8 (§4.7.1): {:#?}",
        f.wrong.lines
    );
    assert_eq!(
        f.wrong.firmware.as_deref(),
        Some(NEW),
        "a wrong image keeps the firmware"
    );
    f
}

fn assert_failed(end: RunEnd, want_step: &str) -> (String, Option<ClientErrorKind>, Box<Snapshot>) {
    match end {
        RunEnd::Success(_) => panic!("expected step `{want_step}` to fail, the run succeeded"),
        RunEnd::Failed {
            step,
            error,
            client,
            snapshot,
            events,
        } => {
            assert_eq!(step, want_step, "{error}\nevents: {events:#?}");
            assert!(
                error.contains(want_step),
                "the error names the step: {error}"
            );
            (error, client, snapshot)
        }
    }
}

fn count_lines(lines: &[String], needle: &str) -> usize {
    lines.iter().filter(|l| l.contains(needle)).count()
}

// ------------------------------------------------------------------ the scenarios

#[test]
fn fault_free() {
    let f = assert_success(run(&[], |_| {}));
    assert_eq!(f.report.attach_missing, 0);
}

#[test]
fn garbage_between_lines() {
    assert_success(run(&["garbage"], |_| {}));
}

#[test]
fn lone_cr_line_ends() {
    assert_success(run(&["lone-cr"], |_| {}));
}

#[test]
fn urc_between_lines() {
    assert_success(run(&["urc-between-lines"], |_| {}));
}

#[test]
fn slow_output() {
    assert_success(run(&["slow-output=9600"], |_| {}));
}

#[test]
fn power_loss_during_download() {
    let f = assert_success(run(&["power-loss-download=40"], |_| {}));
    assert!(
        count_lines(&f.good.lines, "progress: Some(0)") >= 2,
        "the download restarted from 0: {:#?}",
        f.good.lines
    );
}

#[test]
fn power_loss_during_install() {
    let f = assert_success(run(&["power-loss-install"], |_| {}));
    assert!(
        count_lines(&f.good.lines, "Sysstart") >= 2,
        "the installation resumed after power-up: {:#?}",
        f.good.lines
    );
}

#[test]
fn reset_during_monitoring() {
    // Provisioning ends around 10 s; the first FOTA check comes 60 s after registration (~75 s).
    let f = assert_success(run(&["reset-at=40"], |_| {}));
    assert!(
        count_lines(&f.good.lines, "Sysstart") >= 2,
        "{:#?}",
        f.good.lines
    );
}

#[test]
fn reset_instead_of_an_answer() {
    // session::provision sends `AT`, `AT+CMEE?` and `AT+CMEE=1` first, then the plan's steps:
    // the modem resets instead of answering the PSK write.
    let psk = plan()
        .0
        .steps()
        .iter()
        .position(|s| s.id == StepId::ConfigurePsk)
        .unwrap();
    let fault = format!("reset-after={}", psk + 4);
    let (_, client, snap) = assert_failed(run(&[fault.as_str()], |_| {}), "configure-psk");
    assert!(
        matches!(&client, Some(ClientErrorKind::Rebooted { command }) if command.contains("\"psk\"")),
        "{client:?}"
    );
    assert!(
        !format!("{client:?}").contains(&SECRET[4..]),
        "no secret in errors"
    );
    assert!(snap.dm_profiles["standard"].psks.is_empty());
}

#[test]
fn no_answer_to_the_fota_configuration() {
    let (error, client, _) =
        assert_failed(run(&["no-answer=+SQNFOTACFG"], |_| {}), "configure-fota");
    assert!(
        matches!(&client, Some(ClientErrorKind::Timeout { command }) if command.starts_with("AT+SQNFOTACFG=")),
        "{client:?}"
    );
    assert!(error.contains("no answer to `AT+SQNFOTACFG="), "{error}");
}

#[test]
fn cme_error_codes_whatever_the_power_up_reporting() {
    // The session asks for numeric codes (AT+CMEE=1) first, so the refusal carries its code
    // whether the modem starts with AT+CMEE=0 (the assumed default: plain ERROR) or 1.
    for cmee in [0, 1] {
        let (error, client, snap) = assert_failed(
            run(&["cme=+SQNFACTORYSAVE:3"], move |c| c.cmee = cmee),
            "save-restoration-point",
        );
        assert_eq!(
            client,
            Some(ClientErrorKind::Refused {
                command: "AT+SQNFACTORYSAVE=\"oem\"".into(),
                result: FinalResult::CmeError(ErrorCode::Number(3)),
            }),
            "power-up CMEE {cmee}"
        );
        assert!(error.contains("+CME ERROR: 3"), "{error}");
        assert!(snap.restoration_point.is_none());
    }
}

#[test]
fn dropped_bytes() {
    // Lost bytes may garble an answer the procedure needs: success, or a failure naming a step.
    for seed in 1..=4u64 {
        match run(&["drop=0.002"], move |c| c.seed = seed) {
            RunEnd::Success(f) => {
                assert_eq!(f.snapshot.firmware, NEW);
            }
            RunEnd::Failed { step, error, .. } => {
                assert!(!step.is_empty() && error.contains(&step), "{error}");
                eprintln!("seed {seed}: {error}");
            }
        }
    }
}

#[test]
fn a_second_watch_is_not_ended_by_the_previous_installation() {
    assert_success(run_with(&[], |_| {}, false));
}

#[test]
fn reset_while_provisioning_waits_for_the_attach() {
    // Commands are answered at once in virtual time: the second reboot (AT+CFUN=1,1) ends at
    // 6 s, the attach comes 2.1 s later. A reset at 7 s restarts the attach; the NV state is
    // already complete, so provisioning goes on and succeeds.
    let f = assert_success(run(&["reset-at=7"], |_| {}));
    assert_eq!(f.report.attach_missing, 0);
    let booted = f
        .events
        .iter()
        .position(|e| e == "booted reset-to-full-function")
        .expect("booted");
    assert!(
        count_lines(&f.events[booted..], "Sysstart") >= 1,
        "the reset came during the attach wait: {:#?}",
        f.events
    );
}

#[test]
fn every_survivable_line_fault_at_once() {
    // Noise before every third line, `\r` line ends, URCs inside answers and a slow line.
    assert_success(run(
        &[
            "garbage=3",
            "lone-cr",
            "urc-between-lines=300",
            "slow-output=19200",
        ],
        |_| {},
    ));
}

#[test]
fn a_line_that_loses_most_bytes_fails_at_the_first_step() {
    let (error, client, snap) = assert_failed(run(&["drop=0.6"], |_| {}), "sync");
    assert!(
        matches!(&client, Some(ClientErrorKind::Timeout { command }) if command == "AT"),
        "{client:?}: {error}"
    );
    assert!(snap.dm_profiles.is_empty(), "nothing was written");
}

#[test]
fn no_answer_to_a_reset() {
    let (error, client, _) = assert_failed(run(&["no-answer=^RESET"], |_| {}), "reset-to-apply");
    assert!(
        matches!(&client, Some(ClientErrorKind::Timeout { command }) if command == "AT^RESET"),
        "{client:?}: {error}"
    );
}

// ------------------------------------------------------------------ §5: AT+SQNSUPGRADE

const URL: &str = "http://files.example/to_LOWER_FFF_PXL.dup";

/// What `session::upgrade` ended with, and the firmware the simulator then runs.
#[derive(Debug)]
struct DeviceUpgrade {
    outcome: Result<UpgradeOutcome, String>,
    events: Vec<String>,
    firmware: String,
}

/// The device-initiated upgrade (§5) through `session::upgrade`, on an attached modem.
fn device_upgrade(faults: &[&str], image: FirmwareImage) -> DeviceUpgrade {
    let faults: Vec<Fault> = faults.iter().map(|f| f.parse().unwrap()).collect();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let cfg = SimConfig {
            faults,
            autoconnect: true,
            ..SimConfig::default()
        };
        let (stream, timer, handle) = sim::new(cfg).unwrap();
        handle.serve_url(URL, image);
        let mut c = Client::new(stream.clone(), stream, timer.clone());
        let mut events = Vec::new();
        let clock = timer.clone();
        let procedure = async {
            c.wait_for(
                "attach",
                Duration::from_secs(60),
                |m| matches!(m, Message::Registration(r) if r.stat == 1),
            )
            .await
            .map_err(|e| e.to_string())?;
            session::upgrade(
                &mut c,
                URL,
                Duration::from_secs(5),
                Duration::from_secs(3600),
                move || clock.now(),
                |ev| events.push(format!("{ev:?}")),
            )
            .await
            .map_err(|e| e.to_string())
        };
        let deadline = timer.sleep(VIRTUAL_DEADLINE);
        let outcome = match block_on(select(procedure.boxed_local(), deadline)) {
            Either::Left((r, _)) => Some(r),
            Either::Right(_) => None,
        };
        let Some(outcome) = outcome else {
            panic!("the upgrade hung at virtual {:?}", timer.now());
        };
        let _ = tx.send(DeviceUpgrade {
            outcome,
            events,
            firmware: handle.firmware(),
        });
    });
    match rx.recv_timeout(REAL_DEADLINE) {
        Ok(end) => end,
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("the upgrade hung in real time"),
        Err(mpsc::RecvTimeoutError::Disconnected) => panic!("the run panicked (see above)"),
    }
}

fn assert_upgraded(faults: &[&str]) {
    let u = device_upgrade(faults, FirmwareImage::good(NEW));
    assert_eq!(
        u.outcome,
        Ok(UpgradeOutcome::Success {
            version: Some(NEW.into())
        }),
        "{:#?}",
        u.events
    );
    assert_eq!(u.firmware, NEW);
    assert!(u.events.iter().any(|e| e == "Booted"), "{:#?}", u.events);
}

#[test]
fn device_initiated_upgrade_fault_free() {
    assert_upgraded(&[]);
}

#[test]
fn device_initiated_upgrade_survives_line_faults() {
    assert_upgraded(&[
        "garbage=2",
        "lone-cr",
        "urc-between-lines",
        "slow-output=9600",
    ]);
}

#[test]
fn device_initiated_upgrade_resumes_after_power_loss_during_install() {
    // §5: "the update process pauses and then resumes once power is reapplied".
    assert_upgraded(&["power-loss-install"]);
}

#[test]
fn device_initiated_upgrade_fails_on_power_loss_during_download() {
    // §5: "Doing so will cause the download to fail, and the download will have to be restarted."
    let u = device_upgrade(&["power-loss-download=40"], FirmwareImage::good(NEW));
    assert!(
        matches!(
            &u.outcome,
            Ok(UpgradeOutcome::Failed {
                code: Some(531),
                ..
            })
        ),
        "{:?}\n{:#?}",
        u.outcome,
        u.events
    );
    assert_eq!(u.firmware, OLD);
}

#[test]
fn device_initiated_upgrade_of_a_corrupted_image_fails_with_529() {
    let u = device_upgrade(&[], FirmwareImage::wrong(WRONG));
    assert!(
        matches!(
            &u.outcome,
            Ok(UpgradeOutcome::Failed {
                code: Some(529),
                ..
            })
        ),
        "{:?}\n{:#?}",
        u.outcome,
        u.events
    );
    assert_eq!(u.firmware, OLD);
}

#[test]
fn a_refusal_in_manufacturing_mode_puts_the_modem_back_at_full_function() {
    // Every DM write is refused: the plan stops at the first one after `AT+CFUN=5` (deleting the
    // profile may be refused: that one is let through).
    let (error, client, snap) =
        assert_failed(run(&["cme=+SQNDMCFG:4"], |_| {}), "enable-dm-service");
    assert!(
        matches!(&client, Some(ClientErrorKind::Refused { .. })),
        "{client:?}"
    );
    assert!(
        error.contains("back at full function (AT+CFUN=1)"),
        "the error says what state the modem is in: {error}"
    );
    assert_eq!(snap.cfun, 1, "not left in manufacturing mode");
    let sent: Vec<&str> = snap.commands.iter().map(|c| c.line.as_str()).collect();
    let n = sent.len();
    // Full function first, then the modem's own error reporting mode (plain ERROR) back.
    assert_eq!(
        &sent[n - 3..],
        ["AT+CFUN?", "AT+CFUN=1", "AT+CMEE=0"],
        "{sent:?}"
    );
}

#[test]
fn the_modems_error_reporting_mode_is_put_back() {
    // The simulated modem starts with AT+CMEE=0 (plain ERROR), as most do: provisioning asks for
    // numeric codes and puts plain ERROR back right after the last read-back.
    let f = assert_success(run(&[], |_| {}));
    let sent: Vec<&str> = f
        .snapshot
        .commands
        .iter()
        .map(|c| c.line.as_str())
        .collect();
    assert_eq!(&sent[..3], ["AT", "AT+CMEE?", "AT+CMEE=1"], "{sent:?}");
    let last_check = sent.iter().position(|c| *c == "AT+SQNFOTACFG?").unwrap();
    assert_eq!(sent[last_check + 1], "AT+CMEE=0", "{sent:?}");
}
