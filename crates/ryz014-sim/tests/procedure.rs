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
use ryz014_core::provision::{Plan, ProvisioningProfile};
use ryz014_core::psk::PskSecret;
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
    },
}

#[derive(Debug)]
struct Finish {
    snapshot: Snapshot,
    firmware_after_good: Option<String>,
    firmware_after_wrong: Option<String>,
    good_outcome: FotaOutcome,
    wrong_outcome: FotaOutcome,
    good_lines: Vec<String>,
    wrong_lines: Vec<String>,
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

fn client_failure(step: &str, e: &ClientError) -> StepFailure {
    StepFailure {
        step: step.to_string(),
        error: format!("step `{step}` failed: {e}"),
        client: Some(e.into()),
    }
}

// ------------------------------------------------------------------ stand-in for core::session

/// Runs the plan's steps, waits through reboots, runs the read-back checks.
async fn provision(c: &mut SimClient, plan: &Plan) -> Result<(), StepFailure> {
    for step in plan.steps() {
        let id = step.id.as_str();
        let r = c
            .execute_with_timeout(&step.command, step.timeout)
            .await
            .map_err(|e| client_failure(id, &e))?;
        step.check(&r.lines).map_err(|m| StepFailure {
            step: id.into(),
            error: format!("step `{id}` failed: {m}"),
            client: None,
        })?;
        if let Some(after) = step.after_reboot {
            c.wait_for_sysstart(after.sysstart_timeout)
                .await
                .map_err(|e| client_failure(id, &e))?;
            c.sync(5, Duration::from_secs(2))
                .await
                .map_err(|e| client_failure(id, &e))?;
            if let Some(t) = after.attach_timeout {
                let _ = c
                    .wait_for(
                        "+CEREG registered",
                        t,
                        |m| matches!(m, Message::Registration(r) if r.stat == 1 || r.stat == 5),
                    )
                    .await;
            }
        }
    }
    for check in plan.checks() {
        let id = check.id.as_str();
        let r = c
            .execute(&check.command)
            .await
            .map_err(|e| client_failure(id, &e))?;
        check.verify(&r.lines).map_err(|m| StepFailure {
            step: id.into(),
            error: format!("step `{id}` failed: {m}"),
            client: None,
        })?;
    }
    Ok(())
}

/// Folds notifications into the tracker until the upgrade ends.
async fn monitor(
    c: &mut SimClient,
    timer: &SimTimer,
    tracker: &mut FotaTracker,
    lines: &mut Vec<String>,
) -> Result<(), StepFailure> {
    let start = timer.now();
    loop {
        let left = MONITOR_TIMEOUT.saturating_sub(timer.now() - start);
        let m = c
            .next_notification(left)
            .await
            .map_err(|e| client_failure("monitor", &e))?;
        let Some(m) = m else {
            return Err(StepFailure {
                step: "monitor".into(),
                error: format!("no end of the upgrade within {MONITOR_TIMEOUT:?}"),
                client: None,
            });
        };
        lines.push(format!("{m:?}"));
        if let Some(u) = tracker.apply(timer.now(), &m) {
            if u.done {
                // `8` ends it; `"installed","<version>"` follows.
                while let Ok(Some(m)) = c.next_notification(Duration::from_secs(5)).await {
                    lines.push(format!("{m:?}"));
                    tracker.apply(timer.now(), &m);
                }
                return Ok(());
            }
        }
    }
}

async fn read_firmware(c: &mut SimClient) -> Result<Option<String>, StepFailure> {
    let r = c
        .execute(&ryz014_core::command::Command::Ati1)
        .await
        .map_err(|e| client_failure("read-firmware", &e))?;
    Ok(ryz014_core::provision::firmware_version(&r.lines).map(str::to_string))
}

// ------------------------------------------------------------------ the run

fn plan() -> (Plan, PskSecret) {
    let profile = ProvisioningProfile::from_toml_str(PROFILE).unwrap();
    let imei = Imei::parse(IMEI).unwrap();
    let secret = PskSecret::from_hex(SECRET).unwrap();
    (Plan::new(&profile, &imei, &secret).unwrap(), secret)
}

async fn upgrade(
    c: &mut SimClient,
    timer: &SimTimer,
    handle: &SimHandle,
    image: FirmwareImage,
) -> Result<(FotaOutcome, Option<String>, Vec<String>), StepFailure> {
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
    monitor(c, timer, &mut tracker, &mut lines).await?;
    let fw = read_firmware(c).await?;
    Ok((tracker.outcome().clone(), fw, lines))
}

fn run_inner(cfg: SimConfig) -> RunEnd {
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
    let procedure = async {
        provision(&mut client, &plan).await?;
        let (good_outcome, firmware_after_good, good_lines) =
            upgrade(&mut client, &timer, &handle, FirmwareImage::good(NEW)).await?;
        let (wrong_outcome, firmware_after_wrong, wrong_lines) =
            upgrade(&mut client, &timer, &handle, FirmwareImage::wrong(WRONG)).await?;
        Ok::<_, StepFailure>(Finish {
            snapshot: handle.snapshot(),
            firmware_after_good,
            firmware_after_wrong,
            good_outcome,
            wrong_outcome,
            good_lines,
            wrong_lines,
        })
    };
    let deadline = timer.sleep(VIRTUAL_DEADLINE);
    let outcome = match block_on(select(procedure.boxed_local(), deadline)) {
        Either::Left((r, _)) => Some(r),
        Either::Right(_) => None,
    };
    match outcome {
        Some(Ok(finish)) => RunEnd::Success(Box::new(finish)),
        Some(Err(f)) => RunEnd::Failed {
            step: f.step,
            error: f.error,
            client: f.client,
            snapshot: Box::new(handle.snapshot()),
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
    let faults: Vec<Fault> = faults.iter().map(|f| f.parse().unwrap()).collect();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut cfg = SimConfig {
            faults,
            ..SimConfig::default()
        };
        tweak(&mut cfg);
        let _ = tx.send(run_inner(cfg));
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
            error, snapshot, ..
        } => panic!(
            "expected success, got: {error}\ncommands: {:#?}",
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
    assert_eq!(
        f.good_outcome,
        FotaOutcome::Installed {
            version: Some(NEW.into())
        },
        "{:#?}",
        f.good_lines
    );
    assert_eq!(f.firmware_after_good.as_deref(), Some(NEW));
    assert!(
        matches!(f.wrong_outcome, FotaOutcome::Failed { cause: 8, .. }),
        "{:?}\n{:#?}",
        f.wrong_outcome,
        f.wrong_lines
    );
    assert_eq!(
        f.firmware_after_wrong.as_deref(),
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
        } => {
            assert_eq!(step, want_step, "{error}");
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
    assert_eq!(f.snapshot.firmware, NEW);
    let _ = OLD;
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
        count_lines(&f.good_lines, "progress: Some(0)") >= 2,
        "the download restarted from 0: {:#?}",
        f.good_lines
    );
}

#[test]
fn power_loss_during_install() {
    let f = assert_success(run(&["power-loss-install"], |_| {}));
    assert!(
        count_lines(&f.good_lines, "Sysstart") >= 2,
        "the installation resumed after power-up: {:#?}",
        f.good_lines
    );
}

#[test]
fn reset_during_monitoring() {
    // Provisioning ends around 10 s; the first FOTA check comes 60 s after registration (~75 s).
    let f = assert_success(run(&["reset-at=40"], |_| {}));
    assert!(
        count_lines(&f.good_lines, "Sysstart") >= 2,
        "{:#?}",
        f.good_lines
    );
}

#[test]
fn reset_instead_of_an_answer() {
    // The 8th command is the PSK write: the modem resets instead of answering.
    let (_, client, snap) = assert_failed(run(&["reset-after=8"], |_| {}), "configure-psk");
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
fn cme_error_with_numeric_reporting() {
    let (error, client, snap) = assert_failed(
        run(&["cme=+SQNFACTORYSAVE:3"], |c| c.cmee = 1),
        "save-restoration-point",
    );
    assert_eq!(
        client,
        Some(ClientErrorKind::Refused {
            command: "AT+SQNFACTORYSAVE=\"oem\"".into(),
            result: FinalResult::CmeError(ErrorCode::Number(3)),
        })
    );
    assert!(error.contains("+CME ERROR: 3"), "{error}");
    assert!(snap.restoration_point.is_none());
}

#[test]
fn cme_error_with_the_power_up_default_reporting() {
    // AT+CMEE=0 (the assumed power-up default): the modem says only ERROR.
    let (_, client, _) = assert_failed(
        run(&["cme=+SQNFACTORYSAVE:3"], |_| {}),
        "save-restoration-point",
    );
    assert!(
        matches!(&client, Some(ClientErrorKind::Refused { result, .. }) if *result == FinalResult::Error),
        "{client:?}"
    );
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
