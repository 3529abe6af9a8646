//! `ryz014 demo`: the whole flow with nothing plugged in. The simulator runs in-process
//! (`ryz014_sim::paced::new`, in memory); it is provisioned with the default Coiote profile into a
//! temporary inventory (the same code as `provision`), registered on the simulated LwM2M server
//! as an inventory export would be, then the server schedules an upgrade and the FOTA client is
//! followed to `installed`.
//!
//! The simulator is `ryz014_sim::paced`: its clock runs `--speed` times faster than real time,
//! and a wait for its output lasts at most [`MAX_GAP`] (then its clock jumps), so the boots, the
//! attach, the download and the installation are visible yet the whole demo takes seconds.

use std::path::PathBuf;
use std::rc::Rc;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use clap::Args;
use indicatif::ProgressDrawTarget;
use serde_json::json;

use ryz014_core::client::Client;
use ryz014_core::fota::FotaTracker;
use ryz014_core::provision::{ProvisioningProfile, COIOTE_STANDARD_TOML};
use ryz014_core::session::{self, MonitorEnd, Until};
use ryz014_core::timer::FuturesTimer;
use ryz014_serial::inventory::Inventory;
use ryz014_sim::{FirmwareImage, QueryRetry, SimConfig};

use crate::context::{log_wire, session_error, CliError, Exit, Out};
use crate::flows::fota_view::FotaView;
use crate::flows::provisioning::{provision_modem, use_bars, Job, PortResult, Reporter};

/// `demo`'s options.
#[derive(Debug, Clone, Args)]
#[command(after_help = "\
Runs the simulator inside ryz014 (nothing is plugged in, nothing leaves the machine): provisions
it with the default Coiote profile into a temporary inventory (deleted at the end), registers it
on the simulated LwM2M server as an inventory export would, schedules a firmware image there and
follows the upgrade to `installed` with the same displays as `provision` and `monitor`. The
simulated modem's delays (boots, attach, download, installation) run --speed times faster than
real time; long idle waits (the bootstrap hold-off) are fast-forwarded.

Examples:
  ryz014 demo
  ryz014 demo --json
  ryz014 demo --speed 20")]
pub struct DemoArgs {
    /// Simulated seconds per real second (1 = the modem's real pace).
    #[arg(long, default_value_t = 4.0, value_parser = parse_speed)]
    pub speed: f64,
}

fn parse_speed(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && (0.1..=10_000.0).contains(&v) => Ok(v),
        _ => Err("speed must be a number in 0.1..=10000".into()),
    }
}

/// Where the profile the demo provisions with (the core's [`COIOTE_STANDARD_TOML`]) lives in the
/// repository.
const PROFILE_PATH: &str = "profiles/coiote-standard.toml";
/// The firmware the simulated server offers.
const NEW_FIRMWARE: &str = "5.4.1.1-57830";
/// The longest real wait for the simulator's output.
pub const MAX_GAP: Duration = Duration::from_millis(1500);
/// The simulated download rate: slow enough for the progress bar to be seen.
const DOWNLOAD_BPS: u64 = 25_000;
/// How the server asks the device again while it cannot take the query yet.
const QUERY_RETRY: QueryRetry = QueryRetry {
    every: Duration::from_millis(200),
    attempts: Some(20),
};

/// A temporary directory removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Result<TempDir, CliError> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let path =
            std::env::temp_dir().join(format!("ryz014-demo-{}-{nanos:08x}", std::process::id()));
        std::fs::create_dir(&path).map_err(|e| {
            CliError::new(
                Exit::Failed,
                format!(
                    "cannot create the temporary directory {}: {e}",
                    path.display()
                ),
            )
        })?;
        Ok(TempDir(path))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn stage(out: &Out, n: u8, name: &str, title: &str) -> Result<(), CliError> {
    out.event(&json!({"event": "stage", "stage": name, "index": n, "total": 4, "title": title}))?;
    out.say("")?;
    out.say(&format!("── {n}/4  {title}"))
}

/// Runs `demo`.
pub fn run(args: &DemoArgs, out: &Out) -> Result<(), CliError> {
    let start = Instant::now();
    let profile = ProvisioningProfile::from_toml_str(COIOTE_STANDARD_TOML).map_err(|e| {
        CliError::new(
            Exit::Failed,
            format!("the built-in profile is invalid: {e}"),
        )
    })?;
    let dir = TempDir::new()?;
    let inventory = Inventory::open(dir.0.join("inventory.sqlite"))?;
    let config = SimConfig {
        download_bps: DOWNLOAD_BPS,
        ..SimConfig::default()
    };
    let imei = config.imei.clone();
    let old_firmware = config.firmware.clone();
    let clock: ryz014_sim::paced::RealClock = Rc::new(move || start.elapsed());
    let (port, handle) = ryz014_sim::paced::new(config, clock, Rc::new(FuturesTimer), args.speed)
        .map_err(|e| CliError::new(Exit::Failed, format!("simulator: {e}")))?;
    handle.set_max_gap(Some(MAX_GAP));
    let mut client = Client::new(port.clone(), port, FuturesTimer);
    log_wire(&mut client, out, "sim");

    out.event(
        &json!({"event": "demo", "imei": imei, "firmware": old_firmware,
        "speed": args.speed, "profile": PROFILE_PATH, "new_firmware": NEW_FIRMWARE}),
    )?;
    out.say(&format!(
        "ryz014 demo: a simulated RYZ014 (IMEI {imei}, firmware {old_firmware}) and its LwM2M server, \
         in-process, {}× real time",
        args.speed
    ))?;

    futures::executor::block_on(async {
        // 1. Provision, exactly as `ryz014 provision` does.
        stage(
            out,
            1,
            "provision",
            &format!(
                "Provision with {PROFILE_PATH} (temporary inventory {})",
                inventory.path().display()
            ),
        )?;
        let claimed = Mutex::new(std::collections::HashMap::new());
        let job = Job {
            profile: &profile,
            inventory: &inventory,
            force: false,
            port: "simulator",
            claimed: &claimed,
        };
        let multi = use_bars(out)
            .then(|| indicatif::MultiProgress::with_draw_target(ProgressDrawTarget::stderr()));
        let mut rep = Reporter::new(out, "simulator", false, multi.as_ref());
        let mut result = PortResult {
            port: "simulator".into(),
            ..PortResult::default()
        };
        let r = provision_modem(&mut client, &job, &mut rep, &mut result).await;
        result.elapsed = rep.elapsed();
        result.error = r.err();
        rep.finished(&result);
        drop(multi);
        if let Some(e) = result.error {
            return Err(e);
        }

        // 2. The server learns the device's credentials, as from `inventory export`.
        stage(
            out,
            2,
            "register",
            "Add the device to the LwM2M server (what `ryz014 inventory export` gives Coiote)",
        )?;
        let parsed = ryz014_core::imei::Imei::parse(&imei)
            .map_err(|e| CliError::new(Exit::Failed, e.to_string()))?;
        let record = inventory
            .find_verified(&parsed)?
            .ok_or_else(|| CliError::new(Exit::Failed, "the provisioned record is not verified"))?;
        handle
            .register_device(
                &record.endpoint,
                &record.psk_identity,
                &record.secret.expose_hex(),
            )
            .map_err(|e| CliError::new(Exit::Failed, format!("simulated server: {e}")))?;
        out.event(
            &json!({"event": "server_device", "endpoint": record.endpoint,
            "psk_identity": record.psk_identity, "psk": record.secret.redacted()}),
        )?;
        out.say(&format!(
            "server: device {} added, PSK identity {}, secret {} (the full secret only travels in the export)",
            record.endpoint,
            record.psk_identity,
            record.secret.redacted()
        ))?;

        // 3. Bootstrap, registration, FOTA client idle.
        stage(
            out,
            3,
            "bootstrap",
            &format!(
                "Bootstrap and registration (the {} s hold-off is fast-forwarded)",
                profile.bootstrap.hold_off_s
            ),
        )?;
        let mut tracker = FotaTracker::new();
        // The same display as `ryz014 monitor`.
        let mut view = FotaView::new(out);
        let real = || start.elapsed();
        let end = session::monitor(
            &mut client,
            &mut tracker,
            real,
            Until::Idle,
            Duration::from_secs(60),
            |ev| view.event(out, ev),
        )
        .await
        .map_err(|e| session_error(&e))?;
        if let Some(e) = view.take_error() {
            return Err(e);
        }
        if end != MonitorEnd::Idle {
            return Err(CliError::new(
                Exit::Timeout,
                "the simulated FOTA client did not become idle after the registration",
            ));
        }
        match session::dm_status(&mut client).await {
            Ok(st) => {
                out.event(
                    &json!({"event": "dm_status", "registered": st.is_registered(),
                    "summary": st.summary()}),
                )?;
                out.say(&format!("{:>11}  {}", "lwm2m", st.summary()))?;
            }
            Err(e) => out.debug(1, &format!("AT+SQNDMST: {e}")),
        }

        // 4. The server schedules an image and asks the device to check now.
        stage(
            out,
            4,
            "upgrade",
            &format!("Upgrade: the server offers firmware {NEW_FIRMWARE}; the modem downloads and installs it"),
        )?;
        handle
            .schedule_firmware(&record.endpoint, FirmwareImage::good(NEW_FIRMWARE))
            .map_err(|e| CliError::new(Exit::Failed, format!("simulated server: {e}")))?;
        let queried = handle
            .network_query_retrying(&record.endpoint, QUERY_RETRY, |e| {
                out.debug(1, &format!("network query: {e}; retrying"));
            })
            .await
            .is_ok();
        out.event(&json!({"event": "server_schedule", "version": NEW_FIRMWARE,
            "network_query": queried}))?;
        out.say(&format!(
            "server: firmware {NEW_FIRMWARE} scheduled; {}",
            if queried {
                "FOTA check requested now (network-initiated query, note §4.5.1.2)"
            } else {
                "the modem picks it up at its next FOTA check"
            }
        ))?;
        let end = session::monitor(
            &mut client,
            &mut tracker,
            real,
            Until::Installed,
            Duration::from_secs(300),
            |ev| view.event(out, ev),
        )
        .await
        .map_err(|e| session_error(&e))?;
        if let Some(e) = view.take_error() {
            return Err(e);
        }
        view.summary(out, &tracker, end)?;
        match end {
            MonitorEnd::Installed => {}
            MonitorEnd::Failed => {
                let cause = tracker.error().map_or_else(
                    || "no cause given".to_string(),
                    |c| format!("cause {}: {}", c.cause, c.explanation),
                );
                return Err(CliError::new(
                    Exit::Failed,
                    format!("the simulated upgrade failed: {cause}"),
                ));
            }
            _ => {
                return Err(CliError::new(
                    Exit::Timeout,
                    "the simulated upgrade did not finish in time",
                ))
            }
        }
        let after = tracker
            .version_after()
            .map(str::to_string)
            .unwrap_or_else(|| handle.firmware());
        let secs = start.elapsed().as_secs_f64();
        out.event(
            &json!({"event": "demo_done", "imei": imei, "record": record.id.0,
            "firmware_before": old_firmware, "firmware_after": after, "seconds": secs}),
        )?;
        out.say("")?;
        out.say(&format!(
            "✓ {imei}: provisioned (record {}), registered, upgraded {old_firmware} → {after} in {secs:.1} s",
            record.id
        ))?;
        out.say("  With a modem: ryz014 provision -p /dev/ttyUSB0 --profile profiles/coiote-standard.toml")?;
        out.say("                ryz014 monitor -p /dev/ttyUSB0 --until installed")?;
        Ok(())
    })
}
