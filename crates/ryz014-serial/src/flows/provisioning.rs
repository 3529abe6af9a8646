//! Provisioning one modem, shared by `provision` (one thread per port) and `demo` (the
//! in-process simulator): sync, identify, record the secret durably, run the profile's plan, read
//! back, mark verified; and its progress display ([`Reporter`]: a progress bar, plain lines, or
//! JSON events). The secret never reaches the output: every line shown comes from redacted
//! sources (the plan's descriptions, the client's redacted commands, [`PskSecret::redacted`]).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use futures::io::{AsyncRead, AsyncWrite};
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use serde_json::{json, Value};

use ryz014_core::client::{Client, ClientError};
use ryz014_core::command::ProfileName;
use ryz014_core::describe::explain;
use ryz014_core::imei::Imei;
use ryz014_core::provision::{Plan, ProvisioningProfile};
use ryz014_core::psk::PskSecret;
use ryz014_core::session::{self, ErrorMode, ProvisionEvent, SessionError};
use ryz014_serial::inventory::{scrub, InventoryStore, NewRecord, Record, RecordId, State};

use crate::context::{greet, session_error, short_port, CliError, Exit, Out};

/// Reads the IMEI (`AT+CGSN`) and checks it (15 digits, Luhn), skipping line noise; see
/// [`session::read_imei`].
pub async fn read_imei<R, W>(client: &mut Client<R, W>) -> Result<Imei, CliError>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    session::read_imei(client)
        .await
        .map_err(|e| session_error(&e))
}

/// What one port's provisioning needs besides the client.
pub struct Job<'a> {
    /// The validated profile.
    pub profile: &'a ProvisioningProfile,
    /// The inventory.
    pub inventory: &'a dyn InventoryStore,
    /// `--force`.
    pub force: bool,
    /// The port's name (recorded in the inventory).
    pub port: &'a str,
    /// IMEIs being provisioned in this run, with their port (two ports, one modem: refused).
    pub claimed: &'a Mutex<HashMap<String, String>>,
}

/// How one port ended.
#[derive(Debug, Default)]
pub struct PortResult {
    /// The port.
    pub port: String,
    /// The IMEI, once read.
    pub imei: Option<String>,
    /// The inventory record used.
    pub record: Option<RecordId>,
    /// Whether a pending record was resumed.
    pub resumed: bool,
    /// The firmware version read.
    pub firmware: Option<String>,
    /// Wall time.
    pub elapsed: Duration,
    /// The failure, if any.
    pub error: Option<CliError>,
}

/// Progress display of one port: a progress bar, plain lines, or JSON events.
pub struct Reporter<'o> {
    out: &'o Out,
    port: String,
    /// Prefix lines with the port (several ports).
    tag: bool,
    bar: Option<ProgressBar>,
    started: Instant,
    step_started: Instant,
    reboot_started: Instant,
}

/// Whether progress bars are drawn: words mode, no `-v`, stderr a terminal.
pub fn use_bars(out: &Out) -> bool {
    out.bars() && out.verbose == 0
}

fn bar_style() -> ProgressStyle {
    ProgressStyle::with_template(
        "{spinner:.cyan} {prefix:<14.bold} [{bar:24.cyan/blue}] {pos:>2}/{len:2} {elapsed:>4} {wide_msg}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar())
    .progress_chars("=> ")
}

impl<'o> Reporter<'o> {
    /// A reporter for `port`; `multi` gets a bar when bars are on.
    pub fn new(out: &'o Out, port: &str, tag: bool, multi: Option<&MultiProgress>) -> Self {
        let bar = multi.map(|m| {
            let b = m.add(ProgressBar::new(1));
            b.set_style(bar_style());
            b.set_prefix(short_port(port));
            b.set_message("opening the port");
            b.enable_steady_tick(Duration::from_millis(120));
            b
        });
        let now = Instant::now();
        Reporter {
            out,
            port: port.to_string(),
            tag,
            bar,
            started: now,
            step_started: now,
            reboot_started: now,
        }
    }

    fn line(&self, text: &str) {
        if self.out.json {
            return;
        }
        let text = if self.tag {
            format!("{:<14} {text}", short_port(&self.port))
        } else {
            text.to_string()
        };
        match &self.bar {
            Some(b) => b.println(text),
            None => {
                let _ = self.out.say(&text);
            }
        }
    }

    fn event(&self, mut v: Value) {
        if let Value::Object(m) = &mut v {
            m.insert("port".into(), json!(self.port));
        }
        let _ = self.out.event(&v);
    }

    fn message(&self, text: String) {
        if let Some(b) = &self.bar {
            b.set_message(text);
        }
    }

    /// The modem answered and identified itself.
    pub fn identified(&self, imei: &Imei, firmware: Option<&str>) {
        self.event(json!({"event": "identified", "imei": imei.as_str(), "firmware": firmware}));
        self.line(&format!(
            "modem IMEI {imei}, firmware {}",
            firmware.unwrap_or("(unknown)")
        ));
    }

    /// The inventory record is durable.
    pub fn recorded(&self, id: RecordId, resumed: bool, replaces: Option<RecordId>, psk: &str) {
        self.event(
            json!({"event": "recorded", "record": id.0, "state": "pending",
            "resumed": resumed, "replaces": replaces.map(|r| r.0), "psk": psk}),
        );
        let what = if resumed {
            format!("resuming the interrupted provisioning of record {id} with its secret {psk}")
        } else {
            let mut s = format!("recorded as pending (record {id}), new PSK {psk}");
            if let Some(r) = replaces {
                s.push_str(&format!("; replaces record {r} once verified"));
            }
            s
        };
        self.line(&what);
    }

    /// A resumed record took the settings of this run's profile.
    pub fn settings_changed(&self, id: RecordId, changes: &[String]) {
        self.event(json!({"event": "record_updated", "record": id.0, "changes": changes}));
        self.line(&format!(
            "the profile changed since record {id} was made; the record now says what the modem is given: {}",
            changes.join(", ")
        ));
    }

    fn set_total(&self, total: u64) {
        if let Some(b) = &self.bar {
            b.set_length(total);
        }
    }

    /// One event of the session's provisioning.
    pub fn provision_event(&mut self, ev: ProvisionEvent<'_>) {
        match ev {
            ProvisionEvent::StepStarted { index, total, step } => {
                self.step_started = Instant::now();
                self.event(
                    json!({"event": "step", "status": "started", "index": index + 1,
                    "total": total, "step": step.id.as_str(), "command": step.command.redacted(),
                    "description": step.description}),
                );
                self.message(format!("{}: {}", step.id, step.description));
                self.out.debug(
                    1,
                    &format!("{}: step {} started", self.port, step.id.as_str()),
                );
            }
            ProvisionEvent::StepDone { index, total, step } => {
                let ms = self.step_started.elapsed().as_millis();
                self.event(
                    json!({"event": "step", "status": "done", "index": index + 1,
                    "total": total, "step": step.id.as_str(), "ms": ms}),
                );
                if let Some(b) = &self.bar {
                    b.inc(1);
                }
                self.line(&format!(
                    "[{:>2}/{total}] ok  {:<30} {}",
                    index + 1,
                    step.id.as_str(),
                    step.description
                ));
            }
            ProvisionEvent::Rebooting { step } => {
                self.reboot_started = Instant::now();
                self.event(
                    json!({"event": "reboot", "status": "rebooting", "step": step.id.as_str()}),
                );
                self.message("rebooting: waiting for +SYSSTART".into());
                self.line("        ↻   rebooting, waiting for +SYSSTART");
            }
            ProvisionEvent::Booted { step } => {
                let ms = self.reboot_started.elapsed().as_millis();
                self.event(json!({"event": "reboot", "status": "booted", "step": step.id.as_str(), "ms": ms}));
                self.message("booted".into());
                self.line(&format!(
                    "        ↻   booted after {}",
                    secs(self.reboot_started.elapsed())
                ));
            }
            ProvisionEvent::Attached { step } => {
                let ms = self.reboot_started.elapsed().as_millis();
                self.event(json!({"event": "reboot", "status": "attached", "step": step.id.as_str(), "ms": ms}));
                self.line(&format!(
                    "        ↻   attached to the network after {}",
                    secs(self.reboot_started.elapsed())
                ));
            }
            ProvisionEvent::AttachMissing { step, waited } => {
                self.event(json!({"event": "reboot", "status": "attach_missing",
                    "step": step.id.as_str(), "waited_s": waited.as_secs()}));
                self.line(&format!(
                    "        !   no network attach within {} s (the FOTA client starts once attached); going on",
                    waited.as_secs()
                ));
            }
            ProvisionEvent::CheckStarted {
                index,
                total,
                check,
            } => {
                self.step_started = Instant::now();
                self.event(
                    json!({"event": "check", "status": "started", "index": index + 1,
                    "total": total, "check": check.id.as_str(), "command": check.command.redacted(),
                    "description": check.description}),
                );
                self.message(format!("{}: {}", check.id, check.description));
            }
            ProvisionEvent::CheckDone {
                index,
                total,
                check,
            } => {
                self.event(
                    json!({"event": "check", "status": "done", "index": index + 1,
                    "total": total, "check": check.id.as_str()}),
                );
                if let Some(b) = &self.bar {
                    b.inc(1);
                }
                self.line(&format!(
                    "[{:>2}/{total}] ok  {:<30} {}",
                    index + 1,
                    check.id.as_str(),
                    check.description
                ));
            }
            ProvisionEvent::Notification(m) => {
                self.out
                    .debug(1, &format!("{}: notification: {}", self.port, explain(m)));
            }
        }
    }

    /// The port ended: success or failure, in its line, bar and event.
    pub fn finished(&self, r: &PortResult) {
        match &r.error {
            None => {
                self.event(
                    json!({"event": "provisioned", "imei": r.imei, "record": r.record.map(|i| i.0),
                    "state": "verified", "resumed": r.resumed, "firmware": r.firmware,
                    "ms": r.elapsed.as_millis()}),
                );
                let text = format!(
                    "✓ IMEI {} provisioned and verified (record {}) in {}",
                    r.imei.as_deref().unwrap_or("?"),
                    r.record.map_or_else(|| "-".into(), |i| i.to_string()),
                    secs(r.elapsed)
                );
                match &self.bar {
                    Some(b) => b.finish_with_message(text),
                    None => self.line(&text),
                }
            }
            Some(e) => {
                self.event(
                    json!({"event": "port_failed", "imei": r.imei, "record": r.record.map(|i| i.0),
                    "exit_code": e.exit as u8, "message": e.message, "ms": r.elapsed.as_millis()}),
                );
                let text = format!("✗ failed: {}", e.message);
                match &self.bar {
                    Some(b) => b.abandon_with_message(text),
                    None => self.line(&text),
                }
            }
        }
    }

    /// Time since the reporter was made.
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }
}

/// A duration in seconds with one decimal (`1.5 s`).
pub fn secs(d: Duration) -> String {
    format!("{:.1} s", d.as_secs_f64())
}

/// Frees an IMEI claimed for this run when the port is done with it.
struct Claim<'a> {
    claimed: &'a Mutex<HashMap<String, String>>,
    imei: String,
}

impl Drop for Claim<'_> {
    fn drop(&mut self) {
        let mut m = self
            .claimed
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        m.remove(&self.imei);
    }
}

/// Provisions the modem behind `client`: sync, identify, record, run the plan, mark verified.
/// Fills `result` as it goes (IMEI, record, firmware) and returns the failure, if any.
pub async fn provision_modem<R, W>(
    client: &mut Client<R, W>,
    job: &Job<'_>,
    rep: &mut Reporter<'_>,
    result: &mut PortResult,
) -> Result<(), CliError>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    greet(
        client,
        "waking the modem with AT (no OK to `AT`)",
        ErrorMode::Keep,
    )
    .await?;
    // No AT+CMEE=1 here: session::provision reads the modem's own mode first and puts it back.
    let imei = read_imei(client).await?;
    result.imei = Some(imei.as_str().to_string());
    let firmware = session::read_firmware(client)
        .await
        .map_err(|e| session_error(&e))?;
    result.firmware.clone_from(&firmware);
    rep.identified(&imei, firmware.as_deref());

    // One modem on two ports of this run: provision it once.
    let _claim = {
        let mut m = job
            .claimed
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(other) = m.get(imei.as_str()) {
            return Err(CliError::new(
                Exit::Failed,
                format!(
                    "IMEI {imei} is being provisioned on {other} in this run already; \
                     the same modem on two ports? {} skipped",
                    job.port
                ),
            ));
        }
        m.insert(imei.as_str().to_string(), job.port.to_string());
        Claim {
            claimed: job.claimed,
            imei: imei.as_str().to_string(),
        }
    };

    let inv = job.inventory;
    check_held_psk(client, job, &imei, rep.out).await?;
    let settings = Settings::for_modem(job.profile, &imei)?;
    let new_record = |secret| NewRecord {
        imei: &imei,
        endpoint: &settings.endpoint,
        psk_identity: &settings.identity,
        secret,
        profile: &job.profile.modem.profile,
        port: Some(job.port),
        firmware: firmware.as_deref(),
        server: Some(&settings.server),
    };
    let (id, secret, replaces) = match inv.find_resumable(&imei)? {
        Some(mut rec) => {
            // Another live station working on it refuses this one (it names itself and when it
            // started); a record left by a station that crashed is taken over.
            inv.claim(rec.id)?;
            result.resumed = true;
            if rec.state == State::Failed {
                rec = inv.reopen(rec.id)?;
            }
            // The record must say what the modem is given: a changed profile updates it (durably,
            // before anything is sent). A profile with a fixed secret brings that secret. A
            // secret sealed to the operator cannot be unsealed at a station: the run goes on
            // with a fresh one (the sealed one was never exported, so it never reached the
            // server).
            let (secret, fresh) = match (&job.profile.psk.secret, rec.sealed.is_some()) {
                (Some(fixed), _) => (fixed.clone(), false),
                (None, true) => (
                    PskSecret::generate().map_err(|e| {
                        CliError::new(Exit::Failed, format!("generating the PSK: {e}"))
                    })?,
                    true,
                ),
                (None, false) => (rec.secret.clone(), false),
            };
            let changes = settings.changes_from(&rec, &job.profile.modem.profile, &secret, fresh);
            // A sealing station seals a record left in clear before going on.
            if !changes.is_empty() || (inv.seals() && rec.sealed.is_none()) {
                inv.update_pending(rec.id, &new_record(&secret))?;
            }
            if !changes.is_empty() {
                rep.settings_changed(rec.id, &changes);
            }
            (rec.id, secret, rec.replaces)
        }
        None => {
            if !job.force {
                if let Some(v) = inv.find_verified(&imei)? {
                    return Err(CliError::new(
                        Exit::Failed,
                        format!(
                            "IMEI {imei} is already provisioned and verified (record {}); \
                             nothing was sent. Use --force to rotate its key (the old record \
                             is kept as history)",
                            v.id
                        ),
                    ));
                }
            }
            let secret = job
                .profile
                .resolve_secret()
                .map_err(|e| CliError::new(Exit::Failed, format!("generating the PSK: {e}")))?;
            let id = inv.begin_pending(&new_record(&secret), job.force)?;
            let replaces = inv.get(id)?.replaces;
            (id, secret, replaces)
        }
    };
    result.record = Some(id);
    rep.recorded(id, result.resumed, replaces, &secret.redacted());

    let plan = Plan::new(job.profile, &imei, &secret)
        .map_err(|e| CliError::new(Exit::Usage, e.to_string()))?;
    match run_plan(client, &plan, rep).await {
        Ok(report) => {
            let fw = report.firmware.or(firmware);
            result.firmware.clone_from(&fw);
            inv.mark_verified(id, fw.as_deref())?;
            Ok(())
        }
        Err(e) => {
            // A sealing store cannot scrub the secret from the text itself: done here.
            let message = scrub(&e.to_string(), &secret.expose_hex());
            let mut err = session_error(&e);
            if plan.may_have_written_credentials(&e.step) {
                // The modem may hold the new secret, or none: the record keeps it and stays the
                // truth; a plain re-run finishes it ([`InventoryStore::find_resumable`]).
                if let Err(m) = inv.mark_failed(id, &message) {
                    rep.out
                        .debug(1, &format!("could not mark record {id} failed: {m}"));
                }
                err.message.push_str(&format!(
                    "; record {id} keeps the secret the modem may now hold: run provision again \
                     to finish it"
                ));
            } else {
                // Nothing was written: the modem holds what it held before.
                match inv.abandon(id, &message) {
                    Ok(Some(old)) => err.message.push_str(&format!(
                        "; nothing was written to the modem, record {old} is verified again"
                    )),
                    Ok(None) => {}
                    Err(m) => rep
                        .out
                        .debug(1, &format!("could not mark record {id} failed: {m}")),
                }
            }
            Err(err)
        }
    }
}

/// What the profile gives one modem, to compare with a record being resumed.
struct Settings {
    endpoint: String,
    identity: String,
    server: String,
}

impl Settings {
    fn for_modem(profile: &ProvisioningProfile, imei: &Imei) -> Result<Settings, CliError> {
        let usage =
            |e: ryz014_core::provision::ProfileError| CliError::new(Exit::Usage, e.to_string());
        Ok(Settings {
            endpoint: profile.endpoint_name_for(imei).map_err(usage)?,
            identity: profile.psk_identity_for(imei).map_err(usage)?,
            server: profile.bootstrap.uri.clone(),
        })
    }

    /// What differs between a record and what this run gives the modem, in words (no secret).
    fn changes_from(
        &self,
        rec: &Record,
        profile: &str,
        secret: &PskSecret,
        fresh: bool,
    ) -> Vec<String> {
        let mut changes = Vec::new();
        let mut diff = |what: &str, old: &str, new: &str| {
            if old != new {
                changes.push(format!("{what} {old} → {new}"));
            }
        };
        diff("endpoint", &rec.endpoint, &self.endpoint);
        diff("PSK identity", &rec.psk_identity, &self.identity);
        diff("profile", &rec.profile, profile);
        diff(
            "server",
            rec.server.as_deref().unwrap_or("(not recorded)"),
            &self.server,
        );
        if fresh {
            changes.push(format!(
                "secret {} → {} (a fresh key: the sealed one cannot be unsealed at a station)",
                rec.secret.redacted(),
                secret.redacted()
            ));
        } else if rec.secret != *secret {
            changes.push(format!(
                "secret {} → {} (the profile's fixed secret)",
                rec.secret.redacted(),
                secret.redacted()
            ));
        }
        changes
    }
}

/// Refuses to re-key a modem that holds a PSK no record of this inventory knows (it was
/// provisioned from another inventory, whose export would then be useless), unless `--force`.
/// Reads the PSK entries of the profile (`AT+SQNDMCFG=<prof>,"psk"`) before anything is written.
async fn check_held_psk<R, W>(
    client: &mut Client<R, W>,
    job: &Job<'_>,
    imei: &Imei,
    out: &Out,
) -> Result<(), CliError>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let profile = ProfileName::new(&job.profile.modem.profile)
        .map_err(|e| CliError::new(Exit::Usage, format!("modem.profile: {e}")))?;
    let held = match session::read_held_psks(client, &profile).await {
        Ok(held) => held,
        // A modem may refuse to read a profile that does not exist yet: it holds no PSK there.
        Err(e) if matches!(e.client_error(), Some(ClientError::Refused { .. })) => {
            out.debug(
                1,
                &format!(
                    "{}: the PSK read was refused ({e}); taken as no PSK held",
                    job.port
                ),
            );
            Vec::new()
        }
        Err(e) => return Err(session_error(&e)),
    };
    let known: Vec<String> = job
        .inventory
        .history(imei)?
        .iter()
        .map(|r| r.secret.prefix().to_ascii_lowercase())
        .collect();
    let unknown: Vec<String> = held
        .iter()
        .filter(|h| {
            !h.secret_prefix.is_empty() && !known.iter().any(|k| k.starts_with(&h.secret_prefix))
        })
        .map(|h| {
            format!(
                "server {} (identity {}, secret {}…)",
                h.server_id, h.identity, h.secret_prefix
            )
        })
        .collect();
    if unknown.is_empty() || job.force {
        return Ok(());
    }
    Err(CliError::new(
        Exit::Failed,
        format!(
            "IMEI {imei} already holds a PSK that no record of the inventory {} knows: {}. \
             It was probably provisioned from another inventory (or by hand), whose export still \
             carries that key; nothing was written. Provision it with the inventory that knows \
             it, or re-key it with --force (the other inventory's key then stops working)",
            job.inventory.location(),
            unknown.join("; ")
        ),
    ))
}

async fn run_plan<R, W>(
    client: &mut Client<R, W>,
    plan: &Plan,
    rep: &mut Reporter<'_>,
) -> Result<session::ProvisionReport, SessionError>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    rep.set_total((plan.steps().len() + plan.checks().len()) as u64);
    session::provision(client, plan, |ev| rep.provision_event(ev)).await
}
