//! The provisioning transitions of the page's state: the profile form's import and export, the
//! plan, the steps' progress and the result.

use std::rc::Rc;

use ryz014_core::imei::Imei;
use ryz014_core::provision::{Plan, ProvisioningProfile};
use ryz014_core::psk::PskSecret;
use ryz014_core::session::ProvisionReport;
use ryz014_sim::PacedHandle;

use super::PageState;
use crate::logic::{coiote_csv, KeyField, ProfileForm};

/// Status of one step of the provisioning list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepState {
    /// Not reached yet.
    Pending,
    /// Running now.
    Running,
    /// Passed.
    Done,
    /// Running when provisioning stopped.
    Failed,
}

/// Progress of provisioning, owned (the core's events borrow the plan).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProvUpdate {
    /// A step started.
    Started {
        /// Whether it is a read-back check (else a plan step).
        check: bool,
        /// Its index in its list.
        index: usize,
    },
    /// A step passed.
    Done {
        /// Whether it is a read-back check (else a plan step).
        check: bool,
        /// Its index in its list.
        index: usize,
    },
    /// A remark (reboot, boot, attach).
    Note(String),
}

/// The result of a successful provisioning.
#[derive(Clone)]
pub struct ProvResult {
    /// The LwM2M endpoint name.
    pub endpoint: String,
    /// The PSK identity.
    pub identity: String,
    /// The PSK key.
    pub secret: PskSecret,
    /// The firmware the modem runs.
    pub firmware: Option<String>,
}

impl PageState {
    /// A profile file's text (`r`) read: fills the form, or says why not.
    pub fn imported(&mut self, name: &str, r: Result<String, String>) {
        let parsed = r.and_then(|text| {
            ProvisioningProfile::from_text(name, &text).map_err(|e| e.to_string())
        });
        match parsed {
            Ok(p) => {
                self.form = ProfileForm::from_profile(&p);
                if let Some(s) = &p.psk.secret {
                    self.key = KeyField::from_secret(s);
                }
                self.plan = None;
                self.form_note = Some(format!("Imported {name}."));
            }
            Err(e) => self.form_note = Some(format!("Cannot import {name}: {e}")),
        }
    }

    /// The form as a profile file (TOML, else JSON).
    pub fn export_text(&self, toml: bool) -> Result<String, String> {
        self.form
            .to_profile()
            .map_err(|errs| {
                errs.into_iter()
                    .map(|e| e.message)
                    .collect::<Vec<_>>()
                    .join("; ")
            })
            .and_then(|p| {
                if toml {
                    p.to_toml_string()
                } else {
                    p.to_json_string()
                }
                .map_err(|e| e.to_string())
            })
    }

    /// The export ended.
    pub fn exported(&mut self, r: Result<(), String>) {
        self.form_note = Some(match r {
            Ok(()) => "Profile exported (without the key: each modem gets its own).".into(),
            Err(e) => format!("Cannot export: {e}"),
        });
    }

    /// The plan for the connected modem from the form and the key (drawing a key if none).
    pub fn make_plan(&mut self) -> Result<Plan, String> {
        let profile: ProvisioningProfile = self.form.to_profile().map_err(|errors| {
            let list: Vec<String> = errors.into_iter().map(|e| e.message).collect();
            format!("The profile has problems: {}", list.join("; "))
        })?;
        if self.connected() && self.info_loading {
            return Err(super::READING_REASON.into());
        }
        let imei = self.info.as_ref().and_then(|i| i.imei.clone()).ok_or(
            "Connect a modem (or the simulated one) first: the plan is made for its IMEI.",
        )?;
        let imei = Imei::parse(&imei).map_err(|e| format!("IMEI: {e}"))?;
        let secret = match self.key.secret()? {
            Some(s) => s,
            None => {
                let s = PskSecret::generate().map_err(|e| format!("key: {e}"))?;
                self.key = KeyField::from_secret(&s);
                s
            }
        };
        Plan::new(&profile, &imei, &secret).map_err(|e| e.to_string())
    }

    /// "Review plan".
    pub fn review_plan(&mut self) {
        match self.make_plan() {
            Ok(p) => {
                self.plan = Some(Rc::new(p));
                self.plan_error = None;
                self.steps.clear();
                self.checks.clear();
            }
            Err(e) => {
                self.plan = None;
                self.plan_error = Some(e);
            }
        }
    }

    /// "Provision": the plan to run, or `None` (the reason is shown). On the simulated modem
    /// (`sim`), the server learns the device first, as importing the CSV into Coiote does.
    pub fn begin_provision(&mut self, sim: Option<&PacedHandle>) -> Option<Rc<Plan>> {
        if self.prov_running {
            return None;
        }
        if !self.connected() {
            self.prov_error = Some("Connect a modem (or the simulated one) first.".into());
            return None;
        }
        if self.refuse_rekey() {
            return None;
        }
        let plan = match self.make_plan() {
            Ok(p) => Rc::new(p),
            Err(e) => {
                self.plan_error = Some(e);
                return None;
            }
        };
        let creds = plan.credentials().clone();
        if let Some(sim) = sim {
            if let Err(e) = sim.register_device(
                &creds.endpoint_name,
                &creds.psk_identity,
                &creds.secret.expose_hex(),
            ) {
                self.prov_error = Some(format!("simulated server: {e}"));
                return None;
            }
        }
        self.plan = Some(plan.clone());
        self.plan_error = None;
        self.rekey_confirmed = false;
        self.prov_running = true;
        self.prov_error = None;
        self.prov_notes.clear();
        self.result = None;
        self.reveal = false;
        self.steps = vec![StepState::Pending; plan.steps().len()];
        self.checks = vec![StepState::Pending; plan.checks().len()];
        self.note(format!(
            "provisioning {} (key {})",
            creds.endpoint_name,
            creds.secret.redacted()
        ));
        Some(plan)
    }

    /// Provisioning progress.
    pub fn prov_update(&mut self, u: ProvUpdate) {
        let (check, index, to) = match u {
            ProvUpdate::Started { check, index } => (check, index, StepState::Running),
            ProvUpdate::Done { check, index } => (check, index, StepState::Done),
            ProvUpdate::Note(n) => return self.prov_notes.push(n),
        };
        let list = if check {
            &mut self.checks
        } else {
            &mut self.steps
        };
        if let Some(s) = list.get_mut(index) {
            *s = to;
        }
    }

    /// Provisioning ended; `true` when the device should be read again.
    pub fn prov_done(&mut self, r: Result<ProvisionReport, String>) -> bool {
        self.prov_running = false;
        match r {
            Ok(report) => {
                if let Some(plan) = &self.plan {
                    let c = plan.credentials();
                    self.result = Some(ProvResult {
                        endpoint: c.endpoint_name.clone(),
                        identity: c.psk_identity.clone(),
                        secret: c.secret.clone(),
                        firmware: report.firmware.clone(),
                    });
                }
                self.note("provisioning succeeded");
                true
            }
            Err(e) => {
                for s in self.steps.iter_mut().chain(self.checks.iter_mut()) {
                    if *s == StepState::Running {
                        *s = StepState::Failed;
                    }
                }
                self.note(format!("provisioning stopped: {e}"));
                self.prov_error = Some(e);
                false
            }
        }
    }

    /// The clipboard answered.
    pub fn copied(&mut self, r: Result<(), String>) {
        self.copy_note = Some(match r {
            Ok(()) => "Key copied to the clipboard.".into(),
            Err(e) => format!("Copy failed: {e}"),
        })
    }

    /// The result as the Coiote device-import CSV.
    pub fn result_csv(&self) -> Option<String> {
        let r = self.result.as_ref()?;
        Some(coiote_csv(&r.endpoint, &r.identity, &r.secret))
    }
}
