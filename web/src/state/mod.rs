//! The page's state and its transitions, apart from the components that show it (as Yew's
//! `function_todomvc` example keeps `state.rs` apart from `components/`); the provisioning
//! and simulated-server transitions are in [`provision`] and [`server`]. Pure: no web-sys, no
//! Yew; the clock is handed in, and the simulated modem is `ryz014_sim::paced`, so it is tested
//! natively like [`crate::logic`]. The root component (`app.rs`) turns messages into these
//! transitions and runs what needs the browser (ports, files, clipboard, timers).

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use ryz014_core::describe::redact_command_text;
use ryz014_core::fota::FotaTracker;
use ryz014_core::provision::Plan;
use ryz014_core::psk::PskSecret;
use ryz014_core::session::DeviceInfo;
use ryz014_sim::SimConfig;

use crate::logic::{Field, KeyField, LogLine, ProfileForm, BAUD_RATES};

mod provision;
mod server;
mod station;

pub use provision::{ProvResult, ProvUpdate, StepState};
pub use server::{query_refused_note, ImageKind};
pub use station::{
    fota_phase_text, sim_imei, sim_module_config, ModuleRow, NextModule, Outcome, ProvFailure,
    NOTHING_REPORTED, READING_REASON,
};

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
    /// The station's table: every module provisioned or failed in this session (keys in
    /// memory only).
    pub station: Vec<ModuleRow>,
    /// Provisioned rows not downloaded yet (shared with the page's `beforeunload` handler).
    pub unsaved: Rc<Cell<bool>>,
    /// A remark of the station panel.
    pub station_note: Option<String>,
    /// "Provision each new module automatically".
    pub auto_provision: bool,
    /// "Next module" on a serial port: reconnect when a module is plugged in.
    pub awaiting_next: bool,
    /// The next IMEI read may start provisioning by itself (see
    /// [`PageState::take_auto_provision`]).
    pub auto_armed: bool,
    /// Re-keying the connected module (already in the table) was confirmed.
    pub rekey_confirmed: bool,
    /// Simulated modules started after the first ("Next module"; each gets a new IMEI).
    pub sim_modules: u32,
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

/// `s` with its first letter upper case.
pub fn title_case(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
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
            station: Vec::new(),
            unsaved: Rc::new(Cell::new(false)),
            station_note: None,
            auto_provision: false,
            awaiting_next: false,
            auto_armed: false,
            rekey_confirmed: false,
            sim_modules: 0,
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
        self.awaiting_next = false;
        self.rekey_confirmed = false;
        if self.auto_provision {
            self.auto_armed = true;
        }
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
mod tests;
