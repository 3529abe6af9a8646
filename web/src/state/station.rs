//! The production station: module after module in one session. Every module provisioned (or
//! failed) gets a row of the "Provisioned modules" table; "Download batch CSV" exports the
//! provisioned ones with the core's export records (`ryz014_core::export`, as the CLI's export);
//! "Next module" moves on to the next modem (a fresh simulated one, or the next one plugged into
//! the port already granted); a module already in the table is not re-keyed without a
//! confirmation. The keys stay in memory only (never in web storage).

use ryz014_core::export::{coiote_csv, ExportRecord, LineEnding};
use ryz014_core::fota::FotaTracker;
use ryz014_core::imei::Imei;
use ryz014_core::psk::PskSecret;
use ryz014_core::session::{ProvisionReport, SessionError};
use ryz014_sim::SimConfig;

use super::{page_config, PageState};
use crate::logic::KeyField;

/// What the FOTA monitor says before the modem reported any FOTA state or attempt.
pub const NOTHING_REPORTED: &str =
    "Nothing reported yet: no FOTA notification from the modem since connecting.";

/// What the monitor's "Phase" row says: the phase's meaning, or [`NOTHING_REPORTED`] while the
/// modem reported nothing ([`FotaTracker::has_report`]).
pub fn fota_phase_text(t: &FotaTracker) -> String {
    if t.has_report() {
        t.phase().meaning()
    } else {
        NOTHING_REPORTED.to_string()
    }
}

/// Why "Review plan" and "Provision" wait, while the device is being read.
pub const READING_REASON: &str =
    "Reading the modem (its IMEI names the plan): Review plan and Provision are available once it is read.";

/// The IMEI of the `n`-th simulated module of the session: the page's simulated modem's
/// (`015770000031766`) for `n == 0`, then the next serial numbers of the same type allocation
/// code, each with its Luhn check digit.
pub fn sim_imei(n: u32) -> String {
    if n == 0 {
        return page_config().imei;
    }
    let body = format!("01577000{:06}", 3176 + n);
    Imei::from_body(&body)
        .map(|i| i.as_str().to_string())
        .unwrap_or(body)
}

/// The `n`-th simulated module: [`page_config`] with the IMEI [`sim_imei`]`(n)`.
pub fn sim_module_config(n: u32) -> SimConfig {
    SimConfig {
        imei: sim_imei(n),
        ..page_config()
    }
}

/// Why a provisioning failed, as the table shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProvFailure {
    /// The step that failed (e.g. `configure-psk`), or `connection`.
    pub step: String,
    /// The modem's answer (or what happened instead: a timeout, a closed port).
    pub answer: String,
    /// The whole message, as the provisioning panel shows it.
    pub text: String,
}

impl ProvFailure {
    /// A failure of the core's procedure.
    pub fn from_session(e: &SessionError) -> Self {
        ProvFailure {
            step: e.step.clone(),
            answer: e.kind.to_string(),
            text: e.to_string(),
        }
    }

    /// A failure outside the procedure (the connection was closed).
    pub fn other(text: impl Into<String>) -> Self {
        let text = text.into();
        ProvFailure {
            step: "connection".into(),
            answer: text.clone(),
            text,
        }
    }
}

/// How a module's provisioning ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Provisioned and read back.
    Provisioned,
    /// Stopped at a step.
    Failed {
        /// The step.
        step: String,
        /// The modem's answer.
        answer: String,
    },
}

/// One row of the "Provisioned modules" table. The key is kept in memory only.
#[derive(Clone)]
pub struct ModuleRow {
    /// The module's IMEI.
    pub imei: String,
    /// The LwM2M endpoint name.
    pub endpoint: String,
    /// The PSK identity.
    pub identity: String,
    /// The PSK secret (exported in the batch CSV; shown only as its prefix).
    pub secret: PskSecret,
    /// How it ended.
    pub outcome: Outcome,
    /// When it ended (wall-clock time, as the page shows it).
    pub time: String,
}

impl ModuleRow {
    /// The key as the table shows it: its first hex digits.
    pub fn key_prefix(&self) -> String {
        self.secret.redacted()
    }

    /// The result column.
    pub fn result_text(&self) -> String {
        match &self.outcome {
            Outcome::Provisioned => "provisioned".into(),
            Outcome::Failed { step, answer } => format!("failed at {step}: {answer}"),
        }
    }

    /// Whether the module was provisioned.
    pub fn ok(&self) -> bool {
        self.outcome == Outcome::Provisioned
    }
}

/// What "Next module" does.
#[derive(Debug, Clone, PartialEq)]
pub enum NextModule {
    /// Start a fresh simulated modem with this configuration (a new IMEI).
    Sim(Box<SimConfig>),
    /// Wait for the next module on the port already granted (it reconnects when plugged in).
    WaitForPlug,
    /// Nothing (busy).
    Busy,
}

impl PageState {
    /// The IMEI of the modem read on the current connection.
    pub fn current_imei(&self) -> Option<&str> {
        self.info.as_ref().and_then(|i| i.imei.as_deref())
    }

    /// The table's provisioned row for the connected module, if it is already there.
    pub fn known_module(&self) -> Option<&ModuleRow> {
        let imei = self.current_imei()?;
        self.station.iter().rev().find(|r| r.ok() && r.imei == imei)
    }

    /// Whether the connected module is in the table and its re-keying is not confirmed.
    pub fn rekey_needs_confirmation(&self) -> bool {
        self.known_module().is_some() && !self.rekey_confirmed
    }

    /// The reason "Provision" refuses a module already in the table (`None`: it may go on).
    pub(super) fn refuse_rekey(&mut self) -> bool {
        let Some(row) = self.known_module() else {
            return false;
        };
        if self.rekey_confirmed {
            return false;
        }
        let text = format!(
            "Module {} is already provisioned (at {}, key {}): press \u{201c}Re-key anyway\u{201d} to give it a new key.",
            row.imei,
            row.time,
            row.key_prefix()
        );
        self.prov_error = Some(text);
        true
    }

    /// Provisioning ended (`time`: now, as the table shows it): the step states and the result
    /// as [`PageState::prov_done`] does, and a row in the table. The form's key is cleared so
    /// that the next module draws its own. `true` when the device should be read again.
    pub fn prov_finished(&mut self, r: Result<ProvisionReport, ProvFailure>, time: String) -> bool {
        if let Some(plan) = self.plan.clone() {
            let c = plan.credentials();
            let outcome = match &r {
                Ok(_) => Outcome::Provisioned,
                Err(f) => Outcome::Failed {
                    step: f.step.clone(),
                    answer: f.answer.clone(),
                },
            };
            let imei = c.imei.as_str().to_string();
            self.station_note = Some(match &outcome {
                Outcome::Provisioned => format!(
                    "Module {imei} provisioned. Unplug it and plug in the next one, or press Next module."
                ),
                Outcome::Failed { step, .. } => format!(
                    "Module {imei} failed at {step}: its row stays in the table. Carry on with Next module."
                ),
            });
            if outcome == Outcome::Provisioned {
                // A re-keyed module keeps one row, with its new key.
                self.station.retain(|row| row.imei != imei);
                self.unsaved.set(true);
            }
            self.station.push(ModuleRow {
                imei,
                endpoint: c.endpoint_name.clone(),
                identity: c.psk_identity.clone(),
                secret: c.secret.clone(),
                outcome,
                time,
            });
        }
        let ok = r.is_ok();
        let reread = self.prov_done(r.map_err(|f| f.text));
        // Each module its own key, whether this one took it or not.
        self.key = KeyField::default();
        if ok {
            self.form_note =
                Some("The key went to this module; the next module gets a new one.".into());
        }
        reread
    }

    /// The batch CSV of every provisioned module of the table (Coiote device import, the core's
    /// records); `None` when there is none.
    pub fn batch_csv(&self) -> Option<String> {
        let records: Vec<ExportRecord<'_>> = self
            .station
            .iter()
            .filter(|r| r.ok())
            .map(|r| ExportRecord {
                endpoint: &r.endpoint,
                psk_identity: &r.identity,
                secret: &r.secret,
            })
            .collect();
        if records.is_empty() {
            return None;
        }
        Some(coiote_csv(&records, LineEnding::Lf))
    }

    /// The batch CSV was saved (`Err`: why not).
    pub fn batch_saved(&mut self, r: Result<(), String>) {
        match r {
            Ok(()) => {
                self.unsaved.set(false);
                let n = self.station.iter().filter(|r| r.ok()).count();
                self.station_note = Some(format!(
                    "Batch CSV saved ({n} module(s)). It carries the keys: keep it safe."
                ));
            }
            Err(e) => self.station_note = Some(format!("Download failed: {e}")),
        }
    }

    /// The IMEI was read after connecting: `true` when provisioning should start by itself
    /// ("Provision each new module automatically", a module not provisioned yet, once per
    /// connection).
    pub fn take_auto_provision(&mut self) -> bool {
        if !std::mem::take(&mut self.auto_armed) || !self.auto_provision {
            return false;
        }
        let Some(imei) = self.current_imei().map(str::to_string) else {
            return false;
        };
        if self.prov_running {
            return false;
        }
        if self.known_module().is_some() {
            self.station_note = Some(format!(
                "Module {imei} is already in the table: not re-keyed automatically."
            ));
            return false;
        }
        self.station_note = Some(format!("New module {imei}: provisioning it."));
        true
    }

    /// "Next module": a fresh simulated modem on the simulated modem; on a serial port, waiting
    /// for the next module to be plugged in (the page reconnects by itself). The open connection
    /// is closed by the caller when this disconnects.
    pub fn next_module(&mut self) -> NextModule {
        if self.prov_running || self.connecting {
            return NextModule::Busy;
        }
        let sim = match self.link {
            Some(l) => l.sim,
            None => !self.last_port,
        };
        self.disconnect();
        self.reset_module_view();
        if sim {
            self.sim_modules += 1;
            self.auto_armed = true;
            self.station_note = Some(format!(
                "Next simulated module: IMEI {}.",
                sim_imei(self.sim_modules)
            ));
            NextModule::Sim(Box::new(sim_module_config(self.sim_modules)))
        } else {
            self.awaiting_next = true;
            self.station_note = Some(
                "Unplug this module and plug in the next one: the page reconnects to the port by itself."
                    .into(),
            );
            NextModule::WaitForPlug
        }
    }

    /// A serial port the page may use was plugged in: `true` when the page should reconnect to
    /// it (after "Next module", or with automatic provisioning on, while disconnected).
    pub fn plugged(&mut self) -> bool {
        if self.connected() || self.connecting || !self.last_port {
            return false;
        }
        if !(self.awaiting_next || self.auto_provision) {
            return false;
        }
        self.awaiting_next = false;
        self.auto_armed = true;
        self.reset_module_view();
        true
    }

    /// Clears what belongs to the previous module (device, plan, steps, result).
    fn reset_module_view(&mut self) {
        self.info = None;
        self.info_error = None;
        self.plan = None;
        self.plan_error = None;
        self.steps.clear();
        self.checks.clear();
        self.prov_notes.clear();
        self.prov_error = None;
        self.result = None;
        self.reveal = false;
        self.rekey_confirmed = false;
    }
}
