//! `ryz014 provision`: profile → plan → inventory (pending) → modem → read-back → verified.
//!
//! One thread per port, each with its own executor and progress display; a failing port never
//! stops the others. The secret is recorded (durably) before it is sent, and an interrupted run is
//! resumed with the secret its pending record already holds. The provisioning of one modem and its
//! display are [`crate::flows::provisioning`] (shared with `demo`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use clap::Args;
use indicatif::{MultiProgress, ProgressDrawTarget};
use serde_json::{json, Value};

use ryz014_core::provision::{Plan, ProvisioningProfile};
use ryz014_serial::transport::Baud;

use crate::context::options::{parse_baud, parse_port};
use crate::context::{
    connect, pick_port, short_port, CliError, Exit, Handshake, InventoryArg, Out, PortArgs,
};
use crate::flows::provisioning::{
    provision_modem, read_imei, secs, use_bars, Job, PortResult, Reporter,
};
use ryz014_serial::inventory::{open_store, parse_recipient, OpenMode};

/// `provision`'s options.
#[derive(Debug, Clone, Args)]
#[command(after_help = "\
Steps: read the IMEI (Luhn-checked), the firmware and the operator mode; generate a 32-byte PSK;
record the modem as pending in the inventory (committed to disk BEFORE the secret goes to the
modem); run the profile's plan (LwM2M server, PSK, restoration point, FOTA client, two reboots);
read everything back; mark the record verified. The plan first deletes the modem's DM profile, so
no earlier server or key stays. An IMEI that is already verified is refused unless --force, which
rotates its key and keeps the old record as history (superseded at once: the old key is no longer
exported). Interrupted or failed runs are resumed: a plain re-run finishes the pending (or newest
failed) record with the secret it already holds, updating the record when the profile changed. A
modem that holds a PSK no record of this inventory knows is refused unless --force.

Examples:
  ryz014 provision -p /dev/ttyUSB0 --profile coiote.toml --dry-run
  ryz014 provision -p /dev/ttyUSB0 -p /dev/ttyUSB1 --profile coiote.toml --inventory lab.sqlite")]
pub struct ProvisionArgs {
    /// A serial port, `socket://HOST:PORT` or `rfc2217://HOST:PORT`; repeat it to provision
    /// several modems in parallel (local ports and bridges mix freely).
    #[arg(short, long = "port", value_name = "PORT", value_parser = parse_port)]
    pub ports: Vec<String>,
    /// Baud rate, or `auto` to try 921600 then 115200 with `AT` (through `socket://` the bridge's
    /// own rate applies).
    #[arg(long, value_name = "RATE|auto", default_value = "auto", value_parser = parse_baud)]
    pub baud: Baud,
    /// Use RTS/CTS hardware flow control (negotiated through `rfc2217://`; the bridge's own
    /// setting applies through `socket://`).
    #[arg(long)]
    pub rtscts: bool,
    /// The provisioning profile (TOML): LwM2M server, FOTA settings, operator mode.
    #[arg(long, value_name = "FILE")]
    pub profile: PathBuf,
    /// The inventory file.
    #[command(flatten)]
    pub inventory: InventoryArg,
    /// Show the plan (secrets redacted) without sending anything to the modem.
    #[arg(long)]
    pub dry_run: bool,
    /// Re-provision a modem already verified: a new key; the old record is kept as history.
    #[arg(long)]
    pub force: bool,
    /// Seal every secret to the operator's age recipient (`age1…`, X25519): the inventory keeps
    /// it only sealed (and its first 4 hex digits), never in clear; `inventory export
    /// --identity FILE` opens it with the operator's private key. A sealed record left pending
    /// or failed is resumed with a fresh key.
    #[arg(long = "seal-to", value_name = "RECIPIENT", env = "RYZ014_SEAL_TO")]
    pub seal_to: Option<String>,
}

impl ProvisionArgs {
    /// The port options for one of the ports.
    fn port(&self, port: &str) -> PortArgs {
        PortArgs {
            port: Some(port.to_string()),
            baud: self.baud,
            rtscts: self.rtscts,
        }
    }
}

/// Reads and validates a profile ([`ProvisioningProfile::from_text`]: JSON for a `.json` file,
/// else TOML). A bad profile is exit 2 with
/// the key, the value and the allowed range.
fn load_profile(path: &Path) -> Result<ProvisioningProfile, CliError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        CliError::new(
            Exit::Usage,
            format!("cannot read the profile {}: {e}", path.display()),
        )
    })?;
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    ProvisioningProfile::from_text(&name, &text)
        .map_err(|e| CliError::new(Exit::Usage, format!("profile {}: {e}", path.display())))
}

fn provision_port(
    port: &str,
    args: &ProvisionArgs,
    job: &Job<'_>,
    out: &Out,
    rep: &mut Reporter<'_>,
) -> PortResult {
    let mut result = PortResult {
        port: port.to_string(),
        ..PortResult::default()
    };
    let r = (|| {
        let (mut client, _) = connect(&args.port(port), out, true, Handshake::None)?;
        futures::executor::block_on(provision_modem(&mut client, job, rep, &mut result))
    })();
    result.error = r.err();
    result.elapsed = rep.elapsed();
    rep.finished(&result);
    result
}

/// Runs `provision`.
pub fn run(args: &ProvisionArgs, out: &Out) -> Result<(), CliError> {
    let seal_to = args.seal_to.as_deref().map(parse_recipient).transpose()?;
    let profile = load_profile(&args.profile)?;
    for w in profile.warnings() {
        out.event(&json!({"event": "warning", "key": w.path, "message": w.message}))?;
        out.warn(&w.to_string());
    }
    let mut ports: Vec<String> = Vec::new();
    for p in &args.ports {
        if ports.contains(p) {
            return Err(CliError::new(
                Exit::Usage,
                format!("--port {p} is given twice"),
            ));
        }
        ports.push(p.clone());
    }
    if ports.is_empty() {
        ports.push(pick_port(None)?);
    }
    if args.dry_run {
        return dry_run(&ports, args, &profile, out);
    }
    let mut inventory = open_store(
        &args.inventory.path,
        OpenMode::Write,
        args.inventory.station.as_deref(),
    )?;
    inventory.set_seal_to(seal_to);
    out.debug(
        1,
        &format!(
            "inventory {} (station {}{})",
            inventory.location(),
            inventory.station(),
            if inventory.seals() {
                ", secrets sealed to the operator"
            } else {
                ""
            }
        ),
    );
    let claimed = Mutex::new(HashMap::new());
    let multi =
        use_bars(out).then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()));
    let tag = ports.len() > 1;
    let mut reporters: Vec<Reporter<'_>> = ports
        .iter()
        .map(|p| Reporter::new(out, p, tag, multi.as_ref()))
        .collect();
    let results: Vec<PortResult> = std::thread::scope(|s| {
        let handles: Vec<_> = ports
            .iter()
            .zip(reporters.iter_mut())
            .map(|(port, rep)| {
                let job = Job {
                    profile: &profile,
                    inventory: inventory.as_ref(),
                    force: args.force,
                    port,
                    claimed: &claimed,
                };
                let inv_args = args;
                s.spawn(move || provision_port(port, inv_args, &job, out, rep))
            })
            .collect();
        handles
            .into_iter()
            .zip(&ports)
            .map(|(h, port)| {
                h.join().unwrap_or_else(|_| PortResult {
                    port: port.clone(),
                    error: Some(CliError::new(
                        Exit::Failed,
                        "internal error: the port's thread stopped",
                    )),
                    ..PortResult::default()
                })
            })
            .collect()
    });
    drop(multi);
    summarize(&results, out)
}

fn summarize(results: &[PortResult], out: &Out) -> Result<(), CliError> {
    let failed: Vec<&PortResult> = results.iter().filter(|r| r.error.is_some()).collect();
    out.event(&json!({
        "event": "summary",
        "ports": results.len(),
        "verified": results.len() - failed.len(),
        "failed": failed.len(),
        "results": results.iter().map(|r| json!({
            "port": r.port, "imei": r.imei, "record": r.record.map(|i| i.0),
            "result": if r.error.is_some() { "failed" } else { "verified" },
            "resumed": r.resumed,
            "exit_code": r.error.as_ref().map_or(0, |e| e.exit as u8),
            "message": r.error.as_ref().map(|e| e.message.clone()),
            "ms": r.elapsed.as_millis(),
        })).collect::<Vec<_>>(),
    }))?;
    if results.len() > 1 {
        out.say("")?;
        out.say(&format!(
            "{:<14}  {:<15}  {:<8}  {:>6}  {:>7}  detail",
            "port", "imei", "result", "record", "time"
        ))?;
        for r in results {
            out.say(&format!(
                "{:<14}  {:<15}  {:<8}  {:>6}  {:>7}  {}",
                short_port(&r.port),
                r.imei.as_deref().unwrap_or("-"),
                if r.error.is_some() {
                    "failed"
                } else {
                    "verified"
                },
                r.record.map_or_else(|| "-".into(), |i| i.to_string()),
                secs(r.elapsed),
                match (&r.error, r.resumed) {
                    (Some(e), _) => e.message.clone(),
                    (None, true) => "resumed an interrupted run".into(),
                    (None, false) => String::new(),
                }
            ))?;
        }
        out.say(&format!(
            "{} of {} modem(s) provisioned and verified",
            results.len() - failed.len(),
            results.len()
        ))?;
    }
    match failed.as_slice() {
        [] => Ok(()),
        [one] if results.len() == 1 => {
            let e = one.error.as_ref().map_or_else(
                || CliError::new(Exit::Failed, "provisioning failed"),
                |e| CliError::new(e.exit, e.message.clone()),
            );
            Err(e)
        }
        many => Err(CliError::new(
            Exit::Failed,
            format!(
                "{} of {} port(s) failed: {}",
                many.len(),
                results.len(),
                many.iter()
                    .map(|r| short_port(&r.port))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )),
    }
}

/// `--dry-run`: reads each modem's IMEI (the only command sent) and prints its plan, the secret
/// redacted; the inventory is not opened and nothing is written anywhere.
fn dry_run(
    ports: &[String],
    args: &ProvisionArgs,
    profile: &ProvisioningProfile,
    out: &Out,
) -> Result<(), CliError> {
    for port in ports {
        let (mut client, _) = connect(&args.port(port), out, true, Handshake::Sync)?;
        let imei = futures::executor::block_on(read_imei(&mut client))?;
        drop(client);
        let secret = profile
            .resolve_secret()
            .map_err(|e| CliError::new(Exit::Failed, format!("generating the PSK: {e}")))?;
        let plan = Plan::new(profile, &imei, &secret)
            .map_err(|e| CliError::new(Exit::Usage, e.to_string()))?;
        out.event(&plan_event(port, &plan))?;
        out.say(&format!(
            "Dry run on {port}: only AT and AT+CGSN were sent; nothing is written to the modem or recorded."
        ))?;
        out.say(&format!(
            "The secret shown is a sample: the real run draws a fresh one and records it in {} first.",
            args.inventory.path.display()
        ))?;
        for line in plan.to_string().lines() {
            out.say(line)?;
        }
    }
    Ok(())
}

fn plan_event(port: &str, plan: &Plan) -> Value {
    let c = plan.credentials();
    json!({
        "event": "plan",
        "port": port,
        "imei": c.imei.as_str(),
        "profile": plan.profile_name(),
        "endpoint": c.endpoint_name,
        "psk_identity": c.psk_identity,
        "psk": c.secret.redacted(),
        "steps": plan.steps().iter().enumerate().map(|(i, s)| json!({
            "index": i + 1,
            "step": s.id.as_str(),
            "command": s.command.redacted(),
            "description": s.description,
            "reboots": s.reboots(),
        })).collect::<Vec<_>>(),
        "checks": plan.checks().iter().enumerate().map(|(i, c)| json!({
            "index": i + 1,
            "check": c.id.as_str(),
            "command": c.command.redacted(),
            "description": c.description,
        })).collect::<Vec<_>>(),
    })
}
