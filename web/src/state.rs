//! The page's state and its transitions, apart from the components that show it (as Yew's
//! `function_todomvc` example keeps `state.rs` apart from `components/`). Pure: no web-sys, no
//! Yew; the clock is handed in, and the simulated modem is `ryz014_sim::paced`, so it is tested
//! natively like [`crate::logic`]. The root component (`app.rs`) turns messages into these
//! transitions and runs what needs the browser (ports, files, clipboard, timers).

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use ryz014_core::describe::redact_command_text;
use ryz014_core::fota::{FotaPhase, FotaTracker};
use ryz014_core::imei::Imei;
use ryz014_core::provision::{Plan, ProvisioningProfile};
use ryz014_core::psk::PskSecret;
use ryz014_core::session::{DeviceInfo, ProvisionReport};
use ryz014_sim::{FirmwareImage, PacedHandle, ServerError, SimConfig};

use crate::logic::{coiote_csv, Field, KeyField, LogLine, ProfileForm, BAUD_RATES};

/// Most log lines kept in memory.
pub const LOG_KEEP: usize = 5000;
/// Most log lines shown.
pub const LOG_SHOW: usize = 400;
/// Simulation speeds offered.
pub const SPEEDS: &[f64] = &[1.0, 5.0, 10.0, 30.0];
/// The simulation speed at start.
pub const DEFAULT_SPEED: f64 = 10.0;

/// The simulated modem of the page: the simulator's defaults (the note's IMEI and firmware,
/// factory NV state), with a slower download (8 kbit/s: the note's 35 kB image takes about 35 s
/// of virtual time) so that its progress can be watched.
pub fn page_config() -> SimConfig {
    SimConfig {
        download_bps: 8_000,
        ..SimConfig::default()
    }
}

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

/// Which image the simulated server offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageKind {
    /// An image that installs.
    Good,
    /// An image the modem rejects (`+SQNFOTA: 3,8`).
    Wrong,
}

/// The open connection as the page shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkInfo {
    /// The connection's number (messages of an older connection are ignored).
    pub id: u32,
    /// "Web Serial port" or "simulated modem".
    pub label: &'static str,
    /// Whether it is the simulated modem.
    pub sim: bool,
}

/// Everything the page shows.
#[derive(Clone)]
pub struct PageState {
    /// Real time in milliseconds (`performance.now()` in the browser), for log lines.
    pub clock: Rc<dyn Fn() -> f64>,
    /// Whether the browser has Web Serial.
    pub serial_ok: bool,
    /// The baud rate chosen.
    pub baud: u32,
    /// RTS/CTS flow control.
    pub flow: bool,
    /// The simulation speed.
    pub speed: f64,
    /// The open connection.
    pub link: Option<LinkInfo>,
    /// A connection is being opened.
    pub connecting: bool,
    /// The connection problem shown on top.
    pub banner: Option<String>,
    /// A serial port was used before (Reconnect can reopen it).
    pub last_port: bool,
    /// The last connection number given.
    pub next_id: u32,
    /// The device panel's contents.
    pub info: Option<DeviceInfo>,
    /// Why the device could not be read.
    pub info_error: Option<String>,
    /// The device is being read.
    pub info_loading: bool,
    /// The profile form.
    pub form: ProfileForm,
    /// The key field.
    pub key: KeyField,
    /// Show the key in the form.
    pub show_form_key: bool,
    /// A remark under the form.
    pub form_note: Option<String>,
    /// The plan reviewed or running.
    pub plan: Option<Rc<Plan>>,
    /// Why there is no plan.
    pub plan_error: Option<String>,
    /// Provisioning runs.
    pub prov_running: bool,
    /// The plan steps' states.
    pub steps: Vec<StepState>,
    /// The read-back checks' states.
    pub checks: Vec<StepState>,
    /// Remarks of the provisioning.
    pub prov_notes: Vec<String>,
    /// Why provisioning stopped.
    pub prov_error: Option<String>,
    /// The result of the last provisioning.
    pub result: Option<ProvResult>,
    /// Show the key in the result.
    pub reveal: bool,
    /// A remark under the result.
    pub copy_note: Option<String>,
    /// The image the simulated server offers.
    pub image: ImageKind,
    /// Images scheduled so far (each gets its own version).
    pub images_served: u32,
    /// A remark of the server panel.
    pub server_note: Option<String>,
    /// An image waiting for the modem's current upgrade to end.
    pub pending_image: Option<ImageKind>,
    /// The server tick runs.
    pub ticking: bool,
    /// The FOTA state.
    pub fota: FotaTracker,
    /// The wire log (shared with the client's observer).
    pub log: Rc<RefCell<Vec<LogLine>>>,
    /// New log lines were announced and not shown yet.
    pub log_dirty: Rc<Cell<bool>>,
    /// The terminal line typed.
    pub term_input: String,
    /// The terminal's history (secrets redacted).
    pub history: Vec<String>,
    /// Where the history is browsed.
    pub hist_pos: Option<usize>,
    /// A terminal command runs.
    pub term_busy: bool,
    /// The last terminal command's error.
    pub term_error: Option<String>,
}

/// Appends a line to the log, keeping the last [`LOG_KEEP`].
pub fn push_log(log: &RefCell<Vec<LogLine>>, line: LogLine) {
    let mut l = log.borrow_mut();
    l.push(line);
    if l.len() > LOG_KEEP {
        let cut = l.len() - LOG_KEEP;
        l.drain(..cut);
    }
}

/// Whether the modem is in the middle of an upgrade (checking, downloading or installing).
pub fn upgrade_in_progress(t: &FotaTracker) -> bool {
    matches!(
        t.phase(),
        FotaPhase::Checking
            | FotaPhase::Available
            | FotaPhase::Downloading
            | FotaPhase::Downloaded
            | FotaPhase::Installing
    )
}

/// `s` with its first letter upper case.
pub fn title_case(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// What the device panel shows for the LwM2M registration when `AT+SQNDMST` failed.
pub fn registration_error_text(info: &DeviceInfo) -> Option<String> {
    info.errors
        .iter()
        .find(|e| e.contains("SQNDMST"))
        .map(|_| "not available (not attached, or the LwM2M client is not running)".into())
}

/// The server's answer to a refused query, as the server panel says it.
pub fn query_refused_note(e: &ServerError) -> String {
    match e {
        ServerError::NotRegistered(_) => {
            "Waiting for the modem to register with the DM server (after its bootstrap hold-off)…"
                .into()
        }
        ServerError::Busy(_) => {
            "The modem's FOTA client is busy; the server will ask again…".into()
        }
        e => format!("server: {e}"),
    }
}

impl PageState {
    /// The state at start; `clock` gives real time in milliseconds.
    pub fn new(serial_ok: bool, clock: Rc<dyn Fn() -> f64>) -> Self {
        PageState {
            clock,
            serial_ok,
            baud: BAUD_RATES[0],
            flow: false,
            speed: DEFAULT_SPEED,
            link: None,
            connecting: false,
            banner: None,
            last_port: false,
            next_id: 0,
            info: None,
            info_error: None,
            info_loading: false,
            form: ProfileForm::default(),
            key: KeyField::default(),
            show_form_key: false,
            form_note: None,
            plan: None,
            plan_error: None,
            prov_running: false,
            steps: Vec::new(),
            checks: Vec::new(),
            prov_notes: Vec::new(),
            prov_error: None,
            result: None,
            reveal: false,
            copy_note: None,
            image: ImageKind::Good,
            images_served: 0,
            server_note: None,
            pending_image: None,
            ticking: false,
            fota: FotaTracker::new(),
            log: Rc::new(RefCell::new(Vec::new())),
            log_dirty: Rc::new(Cell::new(false)),
            term_input: String::new(),
            history: Vec::new(),
            hist_pos: None,
            term_busy: false,
            term_error: None,
        }
    }

    /// Whether a modem (or the simulated one) is connected.
    pub fn connected(&self) -> bool {
        self.link.is_some()
    }

    /// Whether `id` is the open connection.
    pub fn is_current(&self, id: u32) -> bool {
        self.link.map(|l| l.id) == Some(id)
    }

    /// Adds a remark to the log.
    pub fn note(&self, text: impl Into<String>) {
        push_log(&self.log, LogLine::note((self.clock)(), text));
    }

    /// Starts connecting: the new connection's number, or `None` when one is open or opening.
    pub fn begin_connect(&mut self) -> Option<u32> {
        if self.connecting || self.connected() {
            return None;
        }
        self.connecting = true;
        self.banner = None;
        self.next_id += 1;
        Some(self.next_id)
    }

    /// A connection is up.
    pub fn connected_to(&mut self, link: LinkInfo) {
        self.connecting = false;
        self.note(format!("connected to the {}", link.label));
        if !link.sim {
            self.last_port = true;
        }
        self.fota = FotaTracker::new();
        self.info = None;
        self.info_error = None;
        self.link = Some(link);
    }

    /// Connecting failed.
    pub fn connect_failed(&mut self, e: String) {
        self.connecting = false;
        self.banner = Some(e);
    }

    fn stop_work(&mut self) {
        self.prov_running = false;
        self.pending_image = None;
        self.term_busy = false;
    }

    /// "Disconnect": the connection that was open, if any.
    pub fn disconnect(&mut self) -> Option<LinkInfo> {
        let link = self.link.take();
        if let Some(l) = link {
            self.note(format!("disconnected from the {}", l.label));
        }
        self.stop_work();
        link
    }

    /// Connection `id` died; `false` when it is not the open one (nothing changes).
    pub fn lost(&mut self, id: u32, reason: String) -> bool {
        if !self.is_current(id) {
            return false;
        }
        self.link = None;
        self.note(reason.clone());
        let safe = if self.prov_running {
            " Provisioning was interrupted: reconnect, then run it again (every step can be repeated)."
        } else {
            ""
        };
        self.banner = Some(format!(
            "{reason} Nothing is being sent to it any more.{safe} Plug it back in and press Reconnect."
        ));
        self.stop_work();
        true
    }

    /// The DM profile name the device panel reads with.
    pub fn info_profile(&self) -> String {
        let profile = self.form.get(Field::Profile).to_string();
        if profile.is_empty() {
            "standard".to_string()
        } else {
            profile
        }
    }

    /// The device was read on connection `id`; `false` when it is not the open one.
    pub fn info_read(&mut self, id: u32, r: Result<DeviceInfo, String>) -> bool {
        if !self.is_current(id) {
            return false;
        }
        self.info_loading = false;
        match r {
            Ok(i) => {
                self.info = Some(i);
                self.info_error = None;
            }
            Err(e) => self.info_error = Some(e),
        }
        true
    }

    /// A new key drawn for the form.
    pub fn generate_key(&mut self) {
        match PskSecret::generate() {
            Ok(s) => {
                self.key = KeyField::from_secret(&s);
                self.plan = None;
                self.form_note = Some(format!(
                    "New key {} (32 random bytes from the browser's crypto).",
                    s.redacted()
                ));
            }
            Err(e) => self.form_note = Some(format!("key: {e}")),
        }
    }

    /// A profile file's text (`r`) read: fills the form, or says why not.
    pub fn imported(&mut self, name: &str, r: Result<String, String>) {
        let parsed = r.and_then(|text| {
            let json =
                name.to_ascii_lowercase().ends_with(".json") || text.trim_start().starts_with('{');
            if json {
                ProvisioningProfile::from_json_str(&text)
            } else {
                ProvisioningProfile::from_toml_str(&text)
            }
            .map_err(|e| e.to_string())
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

    /// "Schedule upgrade": `true` when the server tick should start.
    pub fn schedule_upgrade(&mut self, sim: Option<&PacedHandle>) -> bool {
        if !self.connected() {
            self.server_note = Some("Use the simulated modem first.".into());
            return false;
        }
        let Some(sim) = sim else {
            self.server_note = Some(
                "The server panel drives the simulated modem only; for a real modem schedule the upgrade in your DM server (e.g. Coiote)."
                    .into(),
            );
            return false;
        };
        if sim.device_status(&sim.endpoint()).is_none() {
            self.server_note = Some(
                "The simulated server does not know this modem yet: provision it first (that registers it on the server, as importing the CSV into Coiote does)."
                    .into(),
            );
            return false;
        }
        self.pending_image = Some(self.image);
        if self.ticking {
            return false;
        }
        self.ticking = true;
        true
    }

    /// Puts the chosen image on the server once the modem's current upgrade (if any) is over:
    /// the endpoint to ask, or `None` to try again later.
    fn place_image(
        &mut self,
        sim: &PacedHandle,
        kind: ImageKind,
    ) -> Result<Option<String>, String> {
        if upgrade_in_progress(&self.fota) {
            self.server_note = Some(
                "An upgrade is still running on the modem; the new image goes on the server once it ends…"
                    .into(),
            );
            return Ok(None);
        }
        let endpoint = sim.endpoint();
        self.images_served += 1;
        let version = format!("5.4.1.1-{}", 57_900 + self.images_served);
        let (image, word) = match kind {
            ImageKind::Good => (FirmwareImage::good(version.clone()), "good"),
            ImageKind::Wrong => (FirmwareImage::wrong(version.clone()), "wrong"),
        };
        sim.schedule_firmware(&endpoint, image)
            .map_err(|e| format!("server: {e}"))?;
        self.server_note = Some(format!(
            "Image {version} ({word}) scheduled for {endpoint}; asking the modem to check for it…"
        ));
        self.note(format!(
            "server: image {version} ({word}) scheduled for {endpoint}"
        ));
        Ok(Some(endpoint))
    }

    /// One tick of the server: places a pending image when it can. Returns the endpoint to ask
    /// now (if the image was placed) and whether to tick again.
    pub fn server_tick(&mut self, sim: Option<&PacedHandle>) -> (Option<String>, bool) {
        let Some(sim) = sim else {
            self.pending_image = None;
            self.ticking = false;
            return (None, false);
        };
        let mut query = None;
        if let Some(kind) = self.pending_image {
            match self.place_image(sim, kind) {
                Ok(Some(endpoint)) => {
                    self.pending_image = None;
                    query = Some(endpoint);
                }
                Ok(None) => {}
                Err(e) => {
                    self.server_note = Some(e);
                    self.pending_image = None;
                }
            }
        }
        let again = self.pending_image.is_some();
        self.ticking = again;
        (query, again)
    }

    /// The server's query ended (accepted, or refused for good).
    pub fn query_done(&mut self, r: Result<(), ServerError>) {
        self.server_note = Some(match r {
            Ok(()) => "The server asked the modem's FOTA client to check for the image now (note §4.5.1.2).".into(),
            Err(e) => format!("server: {e}"),
        });
    }

    /// The FOTA tracker changed; `true` when an upgrade just ended (the device should be read
    /// again to show the firmware it runs now).
    pub fn fota_changed(&mut self, t: FotaTracker) -> bool {
        let ended = t.is_done() && !self.fota.is_done();
        self.fota = t;
        ended
    }

    /// "Send" in the terminal: the line to send, or `None`.
    pub fn term_send(&mut self) -> Option<String> {
        let line = self.term_input.trim().to_string();
        if line.is_empty() || self.term_busy {
            return None;
        }
        if !self.connected() {
            self.term_error = Some("Not connected.".into());
            return None;
        }
        // History keeps the line with any PSK secret redacted.
        self.history.push(redact_command_text(&line));
        self.hist_pos = None;
        self.term_input.clear();
        self.term_busy = true;
        self.term_error = None;
        Some(line)
    }

    /// History up (`true`) or down; `false` when there is none.
    pub fn term_history(&mut self, up: bool) -> bool {
        if self.history.is_empty() {
            return false;
        }
        let last = self.history.len() - 1;
        let pos = match (self.hist_pos, up) {
            (None, true) => Some(last),
            (None, false) => None,
            (Some(p), true) => Some(p.saturating_sub(1)),
            (Some(p), false) if p < last => Some(p + 1),
            (Some(_), false) => None,
        };
        self.hist_pos = pos;
        self.term_input = pos
            .and_then(|p| self.history.get(p).cloned())
            .unwrap_or_default();
        true
    }

    /// A terminal command ended.
    pub fn term_done(&mut self, r: Result<(), String>) {
        self.term_busy = false;
        self.term_error = r.err();
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
#[path = "state_tests.rs"]
mod tests;
