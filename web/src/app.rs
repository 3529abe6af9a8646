//! The Yew application: connection (Web Serial or the simulated modem), device panel, profile
//! form, plan review and provisioning, result, simulated server, FOTA monitor, terminal and log.
//!
//! The page is thin: every modem exchange is a `ryz014_core::session` procedure (or
//! `Client::execute_raw` for the terminal) over one shared client; the FOTA state is the core's
//! `FotaTracker`, fed by a background watch that lends the client to any other procedure.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use futures::future::{AbortHandle, Abortable};
use futures::io::{AsyncRead, AsyncWrite};
use futures::lock::{Mutex, MutexGuard};
use ryz014_core::client::{Client, WireEvent};
use ryz014_core::describe::{explain, redact_command_text};
use ryz014_core::fota::{FotaPhase, FotaTracker};
use ryz014_core::imei::Imei;
use ryz014_core::message::{FirmwareLine, Message};
use ryz014_core::provision::{Plan, ProvisioningProfile};
use ryz014_core::psk::PskSecret;
use ryz014_core::session::{
    device_info, monitor, provision, DeviceInfo, MonitorEvent, ProvisionEvent, ProvisionReport,
    Until,
};
use ryz014_core::timer::FuturesTimer;
use ryz014_sim::{FirmwareImage, ServerError};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::{spawn_local, JsFuture};
use web_sys::{HtmlInputElement, HtmlSelectElement, SerialPort};
use yew::html::Scope;
use yew::prelude::*;

use crate::logic::{
    coiote_csv, log_json_lines, log_text, Direction, Field, KeyField, LogLine, ProfileForm,
    BAUD_RATES, TITLE,
};
use crate::serial;
use crate::simrt::{self, SimControl};

type BoxRead = Box<dyn AsyncRead + Unpin>;
type BoxWrite = Box<dyn AsyncWrite + Unpin>;
/// The client every view shares, over either transport.
pub type ModemClient = Client<BoxRead, BoxWrite>;

/// The error of a procedure cut short by a disconnection.
const CANCELLED: &str = "cancelled: the connection to the modem was closed";
/// How long the background FOTA watch holds the client before lending it out.
const WATCH_SLICE: Duration = Duration::from_millis(300);
/// Timeout of a terminal command.
const TERMINAL_TIMEOUT: Duration = Duration::from_secs(15);
/// Most log lines kept in memory and shown.
const LOG_KEEP: usize = 5000;
const LOG_SHOW: usize = 400;
/// Simulation speeds offered.
const SPEEDS: &[f64] = &[1.0, 5.0, 10.0, 30.0];
const DEFAULT_SPEED: f64 = 10.0;

fn now_ms() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map(|p| p.now())
        .unwrap_or(0.0)
}

fn now_dur() -> Duration {
    Duration::try_from_secs_f64(now_ms() / 1000.0).unwrap_or_default()
}

async fn sleep(d: Duration) {
    futures_timer::Delay::new(d).await;
}

/// Saves `text` as a file through a temporary link.
fn download(name: &str, mime: &str, text: &str) -> Result<(), String> {
    let parts = js_sys::Array::of1(&wasm_bindgen::JsValue::from_str(text));
    let bag = web_sys::BlobPropertyBag::new();
    bag.set_type(mime);
    let blob = web_sys::Blob::new_with_str_sequence_and_options(&parts, &bag)
        .map_err(|e| serial::js_error_text(&e))?;
    let url =
        web_sys::Url::create_object_url_with_blob(&blob).map_err(|e| serial::js_error_text(&e))?;
    let document = web_sys::window()
        .and_then(|w| w.document())
        .ok_or("no document")?;
    let a: web_sys::HtmlAnchorElement = document
        .create_element("a")
        .map_err(|e| serial::js_error_text(&e))?
        .unchecked_into();
    a.set_href(&url);
    a.set_download(name);
    a.click();
    let _ = web_sys::Url::revoke_object_url(&url);
    Ok(())
}

/// Which transport a link uses.
enum Transport {
    Serial(SerialPort),
    Sim(SimControl),
}

/// One open connection to a modem.
pub struct Link {
    id: u32,
    client: Mutex<Option<ModemClient>>,
    transport: Transport,
    alive: Cell<bool>,
    /// Procedures waiting for the client (the watch steps aside for them).
    wanted: Cell<u32>,
    /// Notifications a procedure saw, for the FOTA tracker.
    missed: RefCell<Vec<Message>>,
    _on_disconnect: Option<Closure<dyn FnMut(web_sys::Event)>>,
    /// Procedures in flight, cancelled when the link closes.
    running: RefCell<Vec<AbortHandle>>,
}

impl Link {
    async fn lock(&self) -> MutexGuard<'_, Option<ModemClient>> {
        self.wanted.set(self.wanted.get() + 1);
        let g = self.client.lock().await;
        self.wanted.set(self.wanted.get().saturating_sub(1));
        g
    }

    /// Runs a procedure that [`close_link`] can cancel; `None` when it was.
    async fn run<T>(&self, fut: impl std::future::Future<Output = T>) -> Option<T> {
        let (handle, registration) = AbortHandle::new_pair();
        {
            let mut running = self.running.borrow_mut();
            running.retain(|h| !h.is_aborted());
            running.push(handle);
        }
        Abortable::new(fut, registration).await.ok()
    }

    fn cancel_all(&self) {
        for h in self.running.borrow_mut().drain(..) {
            h.abort();
        }
    }

    fn sim(&self) -> Option<&SimControl> {
        match &self.transport {
            Transport::Sim(c) => Some(c),
            Transport::Serial(_) => None,
        }
    }

    fn label(&self) -> &'static str {
        match self.transport {
            Transport::Serial(_) => "Web Serial port",
            Transport::Sim(_) => "simulated modem",
        }
    }
}

/// Status of one step of the provisioning list.
#[derive(Clone, Copy, PartialEq, Eq)]
enum StepState {
    Pending,
    Running,
    Done,
    Failed,
}

/// Progress of provisioning, owned (the core's events borrow the plan).
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
struct ProvResult {
    endpoint: String,
    identity: String,
    secret: PskSecret,
    firmware: Option<String>,
}

/// Which image the simulated server offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageKind {
    /// An image that installs.
    Good,
    /// An image the modem rejects (`+SQNFOTA: 3,8`).
    Wrong,
}

/// Messages of the application.
pub enum Msg {
    /// Baud rate chosen.
    Baud(u32),
    /// RTS/CTS on or off.
    Flow(bool),
    /// Simulation speed chosen.
    Speed(f64),
    /// "Connect modem".
    ConnectSerial,
    /// "Reconnect" after an unplug.
    Reconnect,
    /// "Use simulated modem".
    UseSim,
    /// "Disconnect".
    Disconnect,
    /// A link is up.
    Connected(Rc<Link>),
    /// Connecting failed.
    ConnectFailed(String),
    /// The link died (unplugged, stream error).
    Lost(u32, String),
    /// "Refresh" of the device panel.
    RefreshInfo,
    /// Device information read.
    Info(u32, Result<DeviceInfo, String>),
    /// A form field typed.
    Input(Field, String),
    /// Autoconnect checkbox.
    Autoconnect(bool),
    /// Restoration point checkbox.
    Restore(bool),
    /// The key field typed.
    KeyText(String),
    /// "Generate key".
    GenerateKey,
    /// Show the key in the form.
    ShowFormKey(bool),
    /// A profile file chosen.
    Import(web_sys::File),
    /// Its text.
    Imported(String, Result<String, String>),
    /// Export the profile as TOML.
    ExportToml,
    /// Export the profile as JSON.
    ExportJson,
    /// "Review plan".
    ReviewPlan,
    /// "Provision".
    Provision,
    /// Provisioning progress.
    Prov(ProvUpdate),
    /// Provisioning ended.
    ProvDone(Result<ProvisionReport, String>),
    /// Show or hide the key in the result.
    RevealKey,
    /// Copy the key.
    CopyKey,
    /// The clipboard answered.
    Copied(Result<(), String>),
    /// "Download CSV".
    DownloadCsv,
    /// Image choice of the simulated server.
    Image(ImageKind),
    /// "Schedule upgrade".
    ScheduleUpgrade,
    /// Retry the server's query to the device.
    ServerTick,
    /// The FOTA tracker changed.
    Fota(Box<FotaTracker>),
    /// The terminal line typed.
    TermInput(String),
    /// Send the terminal line.
    TermSend,
    /// History up (true) or down.
    TermHistory(bool),
    /// A terminal command ended.
    TermDone(Result<(), String>),
    /// New log lines.
    LogChanged,
    /// Export the log as text.
    ExportLogText,
    /// Export the log as JSON lines.
    ExportLogJson,
    /// Nothing to do.
    Noop,
}

/// The root component.
pub struct App {
    serial_ok: bool,
    baud: u32,
    flow: bool,
    speed: f64,
    link: Option<Rc<Link>>,
    connecting: bool,
    banner: Option<String>,
    last_port: Option<SerialPort>,
    next_id: u32,
    info: Option<DeviceInfo>,
    info_error: Option<String>,
    info_loading: bool,
    form: ProfileForm,
    key: KeyField,
    show_form_key: bool,
    form_note: Option<String>,
    plan: Option<Rc<Plan>>,
    plan_error: Option<String>,
    prov_running: bool,
    steps: Vec<StepState>,
    checks: Vec<StepState>,
    prov_notes: Vec<String>,
    prov_error: Option<String>,
    result: Option<ProvResult>,
    reveal: bool,
    copy_note: Option<String>,
    image: ImageKind,
    images_served: u32,
    server_note: Option<String>,
    pending_query: Option<String>,
    pending_image: Option<ImageKind>,
    ticking: bool,
    fota: FotaTracker,
    log: Rc<RefCell<Vec<LogLine>>>,
    log_dirty: Rc<Cell<bool>>,
    term_input: String,
    history: Vec<String>,
    hist_pos: Option<usize>,
    term_busy: bool,
    term_error: Option<String>,
}

fn make_observer(
    log: Rc<RefCell<Vec<LogLine>>>,
    dirty: Rc<Cell<bool>>,
    scope: Scope<App>,
) -> Box<dyn FnMut(&WireEvent)> {
    Box::new(move |ev| {
        push_log(&log, LogLine::from_wire(now_ms(), ev));
        if !dirty.replace(true) {
            scope.send_message(Msg::LogChanged);
        }
    })
}

fn push_log(log: &Rc<RefCell<Vec<LogLine>>>, line: LogLine) {
    let mut l = log.borrow_mut();
    l.push(line);
    if l.len() > LOG_KEEP {
        let cut = l.len() - LOG_KEEP;
        l.drain(..cut);
    }
}

/// Opens a serial port (asking for one when `port` is `None`) and gets in step with `AT`;
/// at 921600 baud without an answer, tries 115200 (at-interface.md).
async fn connect_serial(
    id: u32,
    port: Option<SerialPort>,
    baud: u32,
    flow: bool,
    observer: Box<dyn FnMut(&WireEvent)>,
    scope: Scope<App>,
) -> Result<Link, String> {
    let port = match port {
        Some(last) => serial::find_again(&last).await,
        None => serial::request_port().await?,
    };
    let bauds: Vec<u32> = if baud == 921_600 {
        vec![921_600, 115_200]
    } else {
        vec![baud]
    };
    let mut observer = Some(observer);
    let mut last = String::new();
    for b in bauds {
        let (r, w) = serial::open_port(&port, b, flow).await?;
        let mut client: ModemClient = Client::new(Box::new(r), Box::new(w), FuturesTimer);
        match client.sync(3, Duration::from_millis(800)).await {
            Ok(()) => {
                if let Some(o) = observer.take() {
                    client.set_observer(o);
                }
                let lost = scope.clone();
                let on_disconnect = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| {
                    lost.send_message(Msg::Lost(
                        id,
                        "The modem was disconnected (unplugged or powered off).".into(),
                    ));
                });
                port.set_ondisconnect(Some(on_disconnect.as_ref().unchecked_ref()));
                return Ok(Link {
                    id,
                    client: Mutex::new(Some(client)),
                    transport: Transport::Serial(port),
                    alive: Cell::new(true),
                    wanted: Cell::new(0),
                    missed: RefCell::new(Vec::new()),
                    _on_disconnect: Some(on_disconnect),
                    running: RefCell::new(Vec::new()),
                });
            }
            Err(e) => {
                last = format!("no answer to AT at {b} baud ({e})");
                drop(client);
                serial::close_port(&port).await;
            }
        }
    }
    Err(format!(
        "The port opened but the modem did not answer: {last}. Check the cable, the baud rate and the power."
    ))
}

async fn connect_sim(
    id: u32,
    speed: f64,
    observer: Box<dyn FnMut(&WireEvent)>,
) -> Result<Link, String> {
    let clock: simrt::RealClock = Rc::new(now_dur);
    let (port, ctl) =
        simrt::new(simrt::page_config(), clock, speed).map_err(|e| format!("simulator: {e}"))?;
    let mut client: ModemClient = Client::new(Box::new(port.clone()), Box::new(port), FuturesTimer);
    client.set_observer(observer);
    client
        .sync(3, Duration::from_secs(2))
        .await
        .map_err(|e| format!("the simulated modem did not answer: {e}"))?;
    Ok(Link {
        id,
        client: Mutex::new(Some(client)),
        transport: Transport::Sim(ctl),
        alive: Cell::new(true),
        wanted: Cell::new(0),
        missed: RefCell::new(Vec::new()),
        _on_disconnect: None,
        running: RefCell::new(Vec::new()),
    })
}

/// Lets the FOTA tracker follow the modem's notifications while nothing else uses the client.
async fn watch(link: Rc<Link>, scope: Scope<App>) {
    let mut tracker = FotaTracker::new();
    loop {
        if !link.alive.get() {
            return;
        }
        if link.wanted.get() > 0 {
            sleep(Duration::from_millis(20)).await;
            continue;
        }
        let (result, changed) = {
            let mut g = link.client.lock().await;
            let Some(c) = g.as_mut() else { return };
            let mut changed = false;
            let missed: Vec<Message> = link.missed.borrow_mut().drain(..).collect();
            for m in &missed {
                changed |= tracker.apply(now_dur(), m).is_some();
            }
            let r = monitor(c, &mut tracker, now_dur, Until::Done, WATCH_SLICE, |ev| {
                if let MonitorEvent::Update(_) = ev {
                    changed = true;
                }
            })
            .await;
            (r, changed)
        };
        if changed {
            scope.send_message(Msg::Fota(Box::new(tracker.clone())));
        }
        if let Err(e) = result {
            if e.is_fatal() {
                scope.send_message(Msg::Lost(
                    link.id,
                    format!("The connection to the modem was lost: {e}"),
                ));
                return;
            }
        }
        // Give a waiting procedure the chance to take the client.
        sleep(Duration::from_millis(10)).await;
    }
}

/// Closes a link: drops the client (unlocking the streams), then the port.
async fn close_link(link: Rc<Link>) {
    link.alive.set(false);
    link.cancel_all();
    if let Some(sim) = link.sim() {
        sim.close();
    }
    let client = link.lock().await.take();
    drop(client);
    if let Transport::Serial(port) = &link.transport {
        port.set_ondisconnect(None);
        serial::close_port(port).await;
    }
}

impl App {
    fn connected(&self) -> bool {
        self.link.is_some()
    }

    fn note(&self, text: impl Into<String>) {
        push_log(&self.log, LogLine::note(now_ms(), text));
    }

    fn observer(&self, ctx: &Context<Self>) -> Box<dyn FnMut(&WireEvent)> {
        make_observer(self.log.clone(), self.log_dirty.clone(), ctx.link().clone())
    }

    fn take_id(&mut self) -> u32 {
        self.next_id += 1;
        self.next_id
    }

    fn refresh_info(&mut self, ctx: &Context<Self>) {
        let Some(link) = self.link.clone() else {
            return;
        };
        self.info_loading = true;
        let profile = self.form.get(Field::Profile).to_string();
        let profile = if profile.is_empty() {
            "standard".to_string()
        } else {
            profile
        };
        let scope = ctx.link().clone();
        spawn_local(async move {
            let r = link
                .run(async {
                    let mut g = link.lock().await;
                    match g.as_mut() {
                        Some(c) => device_info(c, &profile).await.map_err(|e| e.to_string()),
                        None => Err("not connected".into()),
                    }
                })
                .await
                .unwrap_or_else(|| Err(CANCELLED.into()));
            // The running version lets the FOTA tracker tell the version before an upgrade.
            if let Ok(Some(fw)) = r.as_ref().map(|i| i.firmware.clone()) {
                link.missed
                    .borrow_mut()
                    .push(Message::Firmware(FirmwareLine::Lr(fw)));
            }
            scope.send_message(Msg::Info(link.id, r));
        });
    }

    /// The plan for the connected modem from the form and the key (drawing a key if none).
    fn make_plan(&mut self) -> Result<Plan, String> {
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

    fn start_provision(&mut self, ctx: &Context<Self>) {
        let Some(link) = self.link.clone() else {
            self.prov_error = Some("Connect a modem (or the simulated one) first.".into());
            return;
        };
        let plan = match self.make_plan() {
            Ok(p) => Rc::new(p),
            Err(e) => {
                self.plan_error = Some(e);
                return;
            }
        };
        let creds = plan.credentials().clone();
        if let Some(sim) = link.sim() {
            // The simulated server learns the device, as importing the CSV into Coiote does.
            if let Err(e) = sim.register_device(
                &creds.endpoint_name,
                &creds.psk_identity,
                &creds.secret.expose_hex(),
            ) {
                self.prov_error = Some(format!("simulated server: {e}"));
                return;
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
        let scope = ctx.link().clone();
        spawn_local(async move {
            let r = link
                .run(async {
                let mut g = link.lock().await;
                match g.as_mut() {
                    Some(c) => {
                        let s = scope.clone();
                        let missed = &link.missed;
                        provision(c, &plan, move |ev| {
                            let u = match ev {
                                ProvisionEvent::StepStarted { index, .. } => {
                                    ProvUpdate::Started {
                                        check: false,
                                        index,
                                    }
                                }
                                ProvisionEvent::StepDone { index, .. } => ProvUpdate::Done {
                                    check: false,
                                    index,
                                },
                                ProvisionEvent::CheckStarted { index, .. } => {
                                    ProvUpdate::Started { check: true, index }
                                }
                                ProvisionEvent::CheckDone { index, .. } => {
                                    ProvUpdate::Done { check: true, index }
                                }
                                ProvisionEvent::Rebooting { step } => ProvUpdate::Note(format!(
                                    "{}: the modem reboots; waiting for +SYSSTART…",
                                    step.id.as_str()
                                )),
                                ProvisionEvent::Booted { step } => ProvUpdate::Note(format!(
                                    "{}: the modem is back (+SYSSTART).",
                                    step.id.as_str()
                                )),
                                ProvisionEvent::Attached { step } => ProvUpdate::Note(format!(
                                    "{}: registered on the network.",
                                    step.id.as_str()
                                )),
                                ProvisionEvent::AttachMissing { step, waited } => {
                                    ProvUpdate::Note(format!(
                                        "{}: no network registration within {} s (the FOTA client starts once attached).",
                                        step.id.as_str(),
                                        waited.as_secs()
                                    ))
                                }
                                ProvisionEvent::Notification(m) => {
                                    missed.borrow_mut().push(m.clone());
                                    return;
                                }
                            };
                            s.send_message(Msg::Prov(u));
                        })
                        .await
                        .map_err(|e| e.to_string())
                    }
                    None => Err("not connected".into()),
                }
            })
            .await
            .unwrap_or_else(|| Err(CANCELLED.into()));
            scope.send_message(Msg::ProvDone(r));
        });
    }

    fn schedule_upgrade(&mut self, ctx: &Context<Self>) {
        let Some(link) = self.link.clone() else {
            self.server_note = Some("Use the simulated modem first.".into());
            return;
        };
        let Some(sim) = link.sim() else {
            self.server_note = Some(
                "The server panel drives the simulated modem only; for a real modem schedule the upgrade in your DM server (e.g. Coiote)."
                    .into(),
            );
            return;
        };
        if sim.device_status(&sim.endpoint()).is_none() {
            self.server_note = Some(
                "The simulated server does not know this modem yet: provision it first (that registers it on the server, as importing the CSV into Coiote does)."
                    .into(),
            );
            return;
        }
        self.pending_image = Some(self.image);
        self.pending_query = None;
        if !self.ticking {
            self.ticking = true;
            ctx.link().send_message(Msg::ServerTick);
        }
    }

    /// Puts the chosen image on the server once the modem's current upgrade (if any) is over.
    fn place_image(&mut self, sim: &SimControl, kind: ImageKind) -> Result<bool, String> {
        if upgrade_in_progress(&self.fota) {
            self.server_note = Some(
                "An upgrade is still running on the modem; the new image goes on the server once it ends…"
                    .into(),
            );
            return Ok(false);
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
        self.pending_query = Some(endpoint);
        Ok(true)
    }

    fn server_tick(&mut self, ctx: &Context<Self>) {
        let Some(sim) = self.link.as_ref().and_then(|l| l.sim().cloned()) else {
            self.pending_image = None;
            self.pending_query = None;
            self.ticking = false;
            return;
        };
        if let Some(kind) = self.pending_image {
            match self.place_image(&sim, kind) {
                Ok(true) => self.pending_image = None,
                Ok(false) => {}
                Err(e) => {
                    self.server_note = Some(e);
                    self.pending_image = None;
                }
            }
        }
        let retry = if self.pending_image.is_some() {
            true
        } else if let Some(endpoint) = self.pending_query.clone() {
            self.query(&sim, &endpoint)
        } else {
            false
        };
        if retry {
            let scope = ctx.link().clone();
            spawn_local(async move {
                sleep(Duration::from_millis(500)).await;
                scope.send_message(Msg::ServerTick);
            });
        } else {
            self.pending_query = None;
            self.ticking = false;
        }
    }

    /// Asks the device to check now; `true` to ask again later.
    fn query(&mut self, sim: &SimControl, endpoint: &str) -> bool {
        match sim.network_query(endpoint) {
            Ok(()) => {
                self.server_note = Some(
                    "The server asked the modem's FOTA client to check for the image now (note §4.5.1.2)."
                        .into(),
                );
                false
            }
            Err(ServerError::NotRegistered(_)) => {
                self.server_note = Some(
                    "Waiting for the modem to register with the DM server (after its bootstrap hold-off)…"
                        .into(),
                );
                true
            }
            Err(ServerError::Busy(_)) => {
                self.server_note =
                    Some("The modem's FOTA client is busy; the server will ask again…".into());
                true
            }
            Err(e) => {
                self.server_note = Some(format!("server: {e}"));
                false
            }
        }
    }

    fn send_terminal(&mut self, ctx: &Context<Self>) {
        let line = self.term_input.trim().to_string();
        if line.is_empty() || self.term_busy {
            return;
        }
        let Some(link) = self.link.clone() else {
            self.term_error = Some("Not connected.".into());
            return;
        };
        // History keeps the line with any PSK secret redacted.
        self.history.push(redact_command_text(&line));
        self.hist_pos = None;
        self.term_input.clear();
        self.term_busy = true;
        self.term_error = None;
        let scope = ctx.link().clone();
        spawn_local(async move {
            let r = link
                .run(async {
                    let mut g = link.lock().await;
                    match g.as_mut() {
                        Some(c) => c
                            .execute_raw(&line, TERMINAL_TIMEOUT)
                            .await
                            .map(|_| ())
                            .map_err(|e| e.to_string()),
                        None => Err("not connected".into()),
                    }
                })
                .await
                .unwrap_or_else(|| Err(CANCELLED.into()));
            scope.send_message(Msg::TermDone(r));
        });
    }
}

impl Component for App {
    type Message = Msg;
    type Properties = ();

    fn create(_ctx: &Context<Self>) -> Self {
        App {
            serial_ok: serial::supported(),
            baud: BAUD_RATES[0],
            flow: false,
            speed: DEFAULT_SPEED,
            link: None,
            connecting: false,
            banner: None,
            last_port: None,
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
            pending_query: None,
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

    fn update(&mut self, ctx: &Context<Self>, msg: Self::Message) -> bool {
        match msg {
            Msg::Noop => return false,
            Msg::Baud(b) => self.baud = b,
            Msg::Flow(f) => self.flow = f,
            Msg::Speed(s) => {
                self.speed = s;
                if let Some(sim) = self.link.as_ref().and_then(|l| l.sim()) {
                    sim.set_speed(s);
                }
            }
            Msg::ConnectSerial | Msg::Reconnect | Msg::UseSim => {
                if self.connecting || self.connected() {
                    return false;
                }
                self.connecting = true;
                self.banner = None;
                let id = self.take_id();
                let observer = self.observer(ctx);
                let scope = ctx.link().clone();
                match msg {
                    Msg::UseSim => {
                        let speed = self.speed;
                        spawn_local(async move {
                            match connect_sim(id, speed, observer).await {
                                Ok(l) => scope.send_message(Msg::Connected(Rc::new(l))),
                                Err(e) => scope.send_message(Msg::ConnectFailed(e)),
                            }
                        });
                    }
                    _ => {
                        let port = match msg {
                            Msg::Reconnect => self.last_port.clone(),
                            _ => None,
                        };
                        let (baud, flow) = (self.baud, self.flow);
                        spawn_local(async move {
                            let s = scope.clone();
                            match connect_serial(id, port, baud, flow, observer, s).await {
                                Ok(l) => scope.send_message(Msg::Connected(Rc::new(l))),
                                Err(e) => scope.send_message(Msg::ConnectFailed(e)),
                            }
                        });
                    }
                }
            }
            Msg::Connected(link) => {
                self.connecting = false;
                self.note(format!("connected to the {}", link.label()));
                if let Transport::Serial(p) = &link.transport {
                    self.last_port = Some(p.clone());
                }
                self.fota = FotaTracker::new();
                self.info = None;
                self.info_error = None;
                self.link = Some(link.clone());
                spawn_local(watch(link, ctx.link().clone()));
                self.refresh_info(ctx);
            }
            Msg::ConnectFailed(e) => {
                self.connecting = false;
                self.banner = Some(e);
            }
            Msg::Disconnect => {
                if let Some(link) = self.link.take() {
                    self.note(format!("disconnected from the {}", link.label()));
                    spawn_local(close_link(link));
                }
                self.prov_running = false;
                self.pending_query = None;
                self.pending_image = None;
                self.term_busy = false;
            }
            Msg::Lost(id, reason) => {
                if self.link.as_ref().map(|l| l.id) != Some(id) {
                    return false;
                }
                if let Some(link) = self.link.take() {
                    spawn_local(close_link(link));
                }
                self.note(reason.clone());
                let safe = if self.prov_running {
                    " Provisioning was interrupted: reconnect, then run it again (every step can be repeated)."
                } else {
                    ""
                };
                self.banner = Some(format!(
                    "{reason} Nothing is being sent to it any more.{safe} Plug it back in and press Reconnect."
                ));
                self.prov_running = false;
                self.pending_query = None;
                self.pending_image = None;
                self.term_busy = false;
            }
            Msg::RefreshInfo => self.refresh_info(ctx),
            Msg::Info(id, r) => {
                if self.link.as_ref().map(|l| l.id) != Some(id) {
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
            }
            Msg::Input(f, v) => {
                self.form.set(f, v);
                self.plan = None;
            }
            Msg::Autoconnect(v) => {
                self.form.autoconnect = v;
                self.plan = None;
            }
            Msg::Restore(v) => {
                self.form.save_restoration_point = v;
                self.plan = None;
            }
            Msg::KeyText(t) => {
                self.key = KeyField::from_text(t);
                self.plan = None;
            }
            Msg::GenerateKey => match PskSecret::generate() {
                Ok(s) => {
                    self.key = KeyField::from_secret(&s);
                    self.plan = None;
                    self.form_note = Some(format!(
                        "New key {} (32 random bytes from the browser's crypto).",
                        s.redacted()
                    ));
                }
                Err(e) => self.form_note = Some(format!("key: {e}")),
            },
            Msg::ShowFormKey(v) => self.show_form_key = v,
            Msg::Import(file) => {
                let scope = ctx.link().clone();
                let name = file.name();
                spawn_local(async move {
                    let r = JsFuture::from(file.text())
                        .await
                        .map_err(|e| serial::js_error_text(&e))
                        .and_then(|v| v.as_string().ok_or_else(|| "not text".to_string()));
                    scope.send_message(Msg::Imported(name, r));
                });
            }
            Msg::Imported(name, r) => {
                let parsed = r.and_then(|text| {
                    let json = name.to_ascii_lowercase().ends_with(".json")
                        || text.trim_start().starts_with('{');
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
            Msg::ExportToml | Msg::ExportJson => {
                let toml = matches!(msg, Msg::ExportToml);
                let r = self
                    .form
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
                    .and_then(|text| {
                        if toml {
                            download("profile.toml", "application/toml", &text)
                        } else {
                            download("profile.json", "application/json", &text)
                        }
                    });
                self.form_note = Some(match r {
                    Ok(()) => "Profile exported (without the key: each modem gets its own).".into(),
                    Err(e) => format!("Cannot export: {e}"),
                });
            }
            Msg::ReviewPlan => match self.make_plan() {
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
            },
            Msg::Provision => {
                if !self.prov_running {
                    self.start_provision(ctx);
                }
            }
            Msg::Prov(u) => match u {
                ProvUpdate::Started { check, index } => {
                    let list = if check {
                        &mut self.checks
                    } else {
                        &mut self.steps
                    };
                    if let Some(s) = list.get_mut(index) {
                        *s = StepState::Running;
                    }
                }
                ProvUpdate::Done { check, index } => {
                    let list = if check {
                        &mut self.checks
                    } else {
                        &mut self.steps
                    };
                    if let Some(s) = list.get_mut(index) {
                        *s = StepState::Done;
                    }
                }
                ProvUpdate::Note(n) => self.prov_notes.push(n),
            },
            Msg::ProvDone(r) => {
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
                        self.refresh_info(ctx);
                    }
                    Err(e) => {
                        for s in self.steps.iter_mut().chain(self.checks.iter_mut()) {
                            if *s == StepState::Running {
                                *s = StepState::Failed;
                            }
                        }
                        self.note(format!("provisioning stopped: {e}"));
                        self.prov_error = Some(e);
                    }
                }
            }
            Msg::RevealKey => self.reveal = !self.reveal,
            Msg::CopyKey => {
                if let (Some(r), Some(w)) = (&self.result, web_sys::window()) {
                    let p = w.navigator().clipboard().write_text(&r.secret.expose_hex());
                    let scope = ctx.link().clone();
                    spawn_local(async move {
                        let r = JsFuture::from(p)
                            .await
                            .map(|_| ())
                            .map_err(|e| serial::js_error_text(&e));
                        scope.send_message(Msg::Copied(r));
                    });
                }
            }
            Msg::Copied(r) => {
                self.copy_note = Some(match r {
                    Ok(()) => "Key copied to the clipboard.".into(),
                    Err(e) => format!("Copy failed: {e}"),
                })
            }
            Msg::DownloadCsv => {
                if let Some(r) = &self.result {
                    let csv = coiote_csv(&r.endpoint, &r.identity, &r.secret);
                    if let Err(e) = download("ryz014-devices.csv", "text/csv", &csv) {
                        self.copy_note = Some(format!("Download failed: {e}"));
                    }
                }
                return false;
            }
            Msg::Image(k) => self.image = k,
            Msg::ScheduleUpgrade => self.schedule_upgrade(ctx),
            Msg::ServerTick => self.server_tick(ctx),
            Msg::Fota(t) => {
                let ended = t.is_done() && !self.fota.is_done();
                self.fota = *t;
                if ended {
                    // The upgrade is over: show the firmware the modem runs now.
                    self.refresh_info(ctx);
                }
            }
            Msg::TermInput(t) => self.term_input = t,
            Msg::TermSend => self.send_terminal(ctx),
            Msg::TermHistory(up) => {
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
            }
            Msg::TermDone(r) => {
                self.term_busy = false;
                self.term_error = r.err();
            }
            Msg::LogChanged => self.log_dirty.set(false),
            Msg::ExportLogText => {
                let text = log_text(&self.log.borrow());
                let _ = download("ryz014-log.txt", "text/plain", &text);
                return false;
            }
            Msg::ExportLogJson => {
                let text = log_json_lines(&self.log.borrow());
                let _ = download("ryz014-log.jsonl", "application/x-ndjson", &text);
                return false;
            }
        }
        true
    }

    fn view(&self, ctx: &Context<Self>) -> Html {
        html! {
            <>
            <header>
                <h1>{ TITLE }</h1>
            </header>
            <main>
                { self.view_connect(ctx) }
                { self.view_device(ctx) }
                { self.view_provision(ctx) }
                { self.view_result(ctx) }
                { self.view_server(ctx) }
                { self.view_monitor(ctx) }
                { self.view_terminal(ctx) }
            </main>
            </>
        }
    }
}

fn row(label: &str, value: Html) -> Html {
    html! { <><dt>{ label.to_string() }</dt><dd>{ value }</dd></> }
}

fn text_or_dash(v: Option<String>) -> Html {
    html! { { v.unwrap_or_else(|| "—".into()) } }
}

impl App {
    fn view_connect(&self, ctx: &Context<Self>) -> Html {
        let link = ctx.link();
        let support = if self.serial_ok {
            html! {}
        } else {
            html! {
                <p class="notice" role="status">
                    { "This browser has no Web Serial (navigator.serial), or the page is not in a secure context (https or localhost). \
                       Use Chrome, Edge or Opera on a desktop computer to talk to a real modem. \
                       The simulated modem works in any browser." }
                </p>
            }
        };
        let banner = match &self.banner {
            Some(b) => html! {
                <div class="banner" role="alert">
                    <p>{ b.clone() }</p>
                    if self.last_port.is_some() && !self.connected() {
                        <button type="button" onclick={link.callback(|_| Msg::Reconnect)}>{ "Reconnect" }</button>
                    }
                </div>
            },
            None => html! {},
        };
        let status = match &self.link {
            Some(l) => format!("Connected to the {}.", l.label()),
            None if self.connecting => "Connecting…".to_string(),
            None => "Not connected.".to_string(),
        };
        let on_baud = link.callback(|e: Event| {
            let s: HtmlSelectElement = e.target_unchecked_into();
            Msg::Baud(s.value().parse().unwrap_or(BAUD_RATES[0]))
        });
        let on_flow = link.callback(|e: Event| {
            let i: HtmlInputElement = e.target_unchecked_into();
            Msg::Flow(i.checked())
        });
        let on_speed = link.callback(|e: Event| {
            let s: HtmlSelectElement = e.target_unchecked_into();
            Msg::Speed(s.value().parse().unwrap_or(DEFAULT_SPEED))
        });
        html! {
            <section aria-labelledby="h-connect">
                <h2 id="h-connect">{ "Connection" }</h2>
                { support }
                { banner }
                <p role="status">{ status }</p>
                <div class="controls">
                    <label for="baud">{ "Baud rate" }</label>
                    <select id="baud" onchange={on_baud} disabled={self.connected()}>
                        { for BAUD_RATES.iter().map(|b| html! {
                            <option value={b.to_string()} selected={*b == self.baud}>{ b.to_string() }</option>
                        }) }
                    </select>
                    <label><input type="checkbox" checked={self.flow} onchange={on_flow} disabled={self.connected()} />{ " RTS/CTS flow control" }</label>
                    <label for="speed">{ "Simulation speed" }</label>
                    <select id="speed" onchange={on_speed}>
                        { for SPEEDS.iter().map(|s| html! {
                            <option value={s.to_string()} selected={(*s - self.speed).abs() < f64::EPSILON}>{ format!("{s}×") }</option>
                        }) }
                    </select>
                </div>
                <div class="controls">
                    if self.connected() {
                        <button type="button" onclick={link.callback(|_| Msg::Disconnect)}>{ "Disconnect" }</button>
                    } else {
                        <button type="button" disabled={!self.serial_ok || self.connecting}
                            onclick={link.callback(|_| Msg::ConnectSerial)}>{ "Connect modem" }</button>
                        <button type="button" disabled={self.connecting}
                            onclick={link.callback(|_| Msg::UseSim)}>{ "Use simulated modem" }</button>
                    }
                </div>
            </section>
        }
    }

    fn view_device(&self, ctx: &Context<Self>) -> Html {
        let body = match &self.info {
            None => {
                html! { <p>{ if self.info_loading { "Reading…" } else { "No modem read yet." } }</p> }
            }
            Some(i) => {
                let fota = i
                    .fota_config
                    .as_ref()
                    .map(|f| explain(&Message::FotaConfig(f.clone())));
                let dm: Vec<String> = i
                    .dm_config
                    .iter()
                    .map(|d| explain(&Message::DmConfig(d.clone())))
                    .collect();
                let reg = i.registration.as_ref().map(|r| r.summary());
                html! {
                    <>
                    <dl>
                        { row("IMEI", text_or_dash(i.imei.clone())) }
                        { row("Firmware", text_or_dash(i.firmware.clone())) }
                        { row("Operator mode", text_or_dash(i.operator_mode.clone())) }
                        { row("Functional level (CFUN)", text_or_dash(i.cfun.map(|c| c.to_string()))) }
                        { row("Autoconnect", text_or_dash(i.autoconnect.map(|a| if a { "on".to_string() } else { "off".to_string() }))) }
                        { row("FOTA configuration", text_or_dash(fota)) }
                        { row("DM configuration", if dm.is_empty() { html!{ "—" } } else { html! {
                            <ul>{ for dm.into_iter().map(|d| html! { <li>{ d }</li> }) }</ul>
                        } }) }
                        { row("Network", text_or_dash(i.eps.clone())) }
                        { row("LwM2M registration", text_or_dash(reg.or_else(|| i.registration_error_text()))) }
                    </dl>
                    if !i.errors.is_empty() {
                        <details><summary>{ format!("{} value(s) could not be read (details)", i.errors.len()) }</summary>
                            <ul>{ for i.errors.iter().map(|e| html! { <li>{ e.clone() }</li> }) }</ul>
                        </details>
                    }
                    </>
                }
            }
        };
        html! {
            <section aria-labelledby="h-device">
                <h2 id="h-device">{ "Device" }</h2>
                { body }
                if let Some(e) = &self.info_error { <p class="error" role="alert">{ e.clone() }</p> }
                <button type="button" disabled={!self.connected() || self.info_loading}
                    onclick={ctx.link().callback(|_| Msg::RefreshInfo)}>{ "Refresh device" }</button>
            </section>
        }
    }

    fn field_input(&self, ctx: &Context<Self>, f: Field) -> Html {
        let id = format!("f-{}", f.path().replace('.', "-"));
        let err_id = format!("{id}-err");
        let error = self.form.error_of(f);
        let oninput = ctx.link().callback(move |e: InputEvent| {
            let i: HtmlInputElement = e.target_unchecked_into();
            Msg::Input(f, i.value())
        });
        let hint = if f.optional() {
            format!("{} (optional)", f.allowed())
        } else {
            f.allowed().to_string()
        };
        html! {
            <div class="field">
                <label for={id.clone()}>{ f.label() }</label>
                <input id={id} type="text" value={self.form.get(f).to_string()} {oninput}
                    inputmode={if f.numeric() { "numeric" } else { "text" }}
                    aria-invalid={if error.is_some() { "true" } else { "false" }}
                    aria-describedby={err_id.clone()} autocomplete="off" spellcheck="false" />
                <small id={err_id} class={if error.is_some() { "error" } else { "hint" }}>
                    { error.unwrap_or(hint) }
                </small>
            </div>
        }
    }

    fn view_provision(&self, ctx: &Context<Self>) -> Html {
        let link = ctx.link();
        let on_key = link.callback(|e: InputEvent| {
            let i: HtmlInputElement = e.target_unchecked_into();
            Msg::KeyText(i.value())
        });
        let on_show = link.callback(|e: Event| {
            let i: HtmlInputElement = e.target_unchecked_into();
            Msg::ShowFormKey(i.checked())
        });
        let on_auto = link.callback(|e: Event| {
            let i: HtmlInputElement = e.target_unchecked_into();
            Msg::Autoconnect(i.checked())
        });
        let on_restore = link.callback(|e: Event| {
            let i: HtmlInputElement = e.target_unchecked_into();
            Msg::Restore(i.checked())
        });
        let on_import = link.callback(|e: Event| {
            let i: HtmlInputElement = e.target_unchecked_into();
            match i.files().and_then(|f| f.get(0)) {
                Some(file) => Msg::Import(file),
                None => Msg::Noop,
            }
        });
        let key_error = self.key.secret().err();
        let group = |title: &str, fields: &[Field]| {
            html! {
                <fieldset>
                    <legend>{ title.to_string() }</legend>
                    { for fields.iter().map(|f| self.field_input(ctx, *f)) }
                </fieldset>
            }
        };
        html! {
            <section aria-labelledby="h-provision">
                <h2 id="h-provision">{ "Provision" }</h2>
                <form onsubmit={link.callback(|e: SubmitEvent| { e.prevent_default(); Msg::Noop })} novalidate=true>
                    { group("Modem", &[Field::Profile, Field::EndpointName]) }
                    <div class="field">
                        <label><input type="checkbox" checked={self.form.autoconnect} onchange={on_auto} />{ " Autoconnect at boot (AT+SQNAUTOCONNECT=1)" }</label>
                    </div>
                    { group("Bootstrap server", &[Field::Uri, Field::ServerId, Field::HoldOff, Field::Cid]) }
                    <fieldset>
                        <legend>{ "DTLS pre-shared key" }</legend>
                        { self.field_input(ctx, Field::Identity) }
                        <div class="field">
                            <label for="f-psk-secret">{ "PSK key (hex)" }</label>
                            <input id="f-psk-secret" type={if self.show_form_key { "text" } else { "password" }}
                                value={self.key.text().to_string()} oninput={on_key} autocomplete="off" spellcheck="false"
                                aria-describedby="f-psk-secret-err" aria-invalid={if key_error.is_some() { "true" } else { "false" }} />
                            <small id="f-psk-secret-err" class={if key_error.is_some() { "error" } else { "hint" }}>
                                { key_error.unwrap_or_else(|| format!("{}; now: {}", "empty: 32 random bytes are drawn for the modem", self.key.redacted())) }
                            </small>
                            <div class="controls">
                                <button type="button" onclick={link.callback(|_| Msg::GenerateKey)}>{ "Generate key" }</button>
                                <label><input type="checkbox" checked={self.show_form_key} onchange={on_show} />{ " Show key" }</label>
                            </div>
                        </div>
                    </fieldset>
                    { group("FOTA client", &[Field::FotaMode, Field::ReportState, Field::ReportDownload, Field::Timer, Field::DownloadTimeout, Field::Certificate]) }
                    <div class="field">
                        <label><input type="checkbox" checked={self.form.save_restoration_point} onchange={on_restore} />{ " Save a restoration point (AT+SQNFACTORYSAVE=\"oem\")" }</label>
                    </div>
                    <div class="controls">
                        <label for="f-import">{ "Import profile (TOML or JSON)" }</label>
                        <input id="f-import" type="file" accept=".toml,.json,application/json,application/toml,text/plain" onchange={on_import} />
                        <button type="button" onclick={link.callback(|_| Msg::ExportToml)}>{ "Export TOML" }</button>
                        <button type="button" onclick={link.callback(|_| Msg::ExportJson)}>{ "Export JSON" }</button>
                    </div>
                    if let Some(n) = &self.form_note { <p role="status">{ n.clone() }</p> }
                    <div class="controls">
                        <button type="button" onclick={link.callback(|_| Msg::ReviewPlan)}>{ "Review plan" }</button>
                        <button type="button" class="primary" disabled={self.prov_running || !self.connected()}
                            onclick={link.callback(|_| Msg::Provision)}>{ "Provision" }</button>
                    </div>
                </form>
                if let Some(e) = &self.plan_error { <p class="error" role="alert">{ e.clone() }</p> }
                { self.view_plan() }
            </section>
        }
    }

    fn view_plan(&self) -> Html {
        let Some(plan) = &self.plan else {
            return html! {};
        };
        // One line of the step list: the command (secret redacted), what it does, how far it got.
        let row = |list: &Vec<StepState>, i: usize, command: String, description: &str| {
            let (class, text) = match list.get(i).copied() {
                Some(StepState::Running) => ("running", "⏳ running"),
                Some(StepState::Done) => ("done", "✔ done"),
                Some(StepState::Failed) => ("failed", "✖ failed"),
                Some(StepState::Pending) => ("pending", "pending"),
                None => ("planned", ""),
            };
            html! {
                <li class={class}>
                    <code>{ command }</code>
                    <span class="desc">{ format!(" — {description}") }</span>
                    if !text.is_empty() { <span class="state">{ format!(" [{text}]") }</span> }
                </li>
            }
        };
        let done = self
            .steps
            .iter()
            .chain(self.checks.iter())
            .filter(|s| **s == StepState::Done)
            .count();
        let total = plan.steps().len() + plan.checks().len();
        let pct = (done * 100).checked_div(total).unwrap_or(0);
        html! {
            <div class="plan">
                <h3>{ format!("Plan for {} ({} steps, {} read-back checks; key {})",
                    plan.credentials().endpoint_name, plan.steps().len(), plan.checks().len(), plan.credentials().secret.redacted()) }</h3>
                if self.prov_running || !self.steps.is_empty() {
                    <progress max="100" value={pct.to_string()} aria-label="Provisioning progress">{ format!("{pct} %") }</progress>
                }
                <ol class="steps">
                    { for plan.steps().iter().enumerate().map(|(i, s)| row(&self.steps, i, s.command.redacted(), &s.description)) }
                </ol>
                <h4>{ "Read-back" }</h4>
                <ol class="steps">
                    { for plan.checks().iter().enumerate().map(|(i, c)| row(&self.checks, i, c.command.redacted(), &c.description)) }
                </ol>
                if !self.prov_notes.is_empty() {
                    <ul class="notes" aria-live="polite">{ for self.prov_notes.iter().map(|n| html! { <li>{ n.clone() }</li> }) }</ul>
                }
                if let Some(e) = &self.prov_error { <p class="error" role="alert">{ format!("Provisioning stopped: {e}") }</p> }
            </div>
        }
    }

    fn view_result(&self, ctx: &Context<Self>) -> Html {
        let Some(r) = &self.result else {
            return html! {};
        };
        let link = ctx.link();
        let key = if self.reveal {
            r.secret.expose_hex()
        } else {
            format!("{} (hidden)", r.secret.redacted())
        };
        html! {
            <section aria-labelledby="h-result">
                <h2 id="h-result">{ "Provisioned" }</h2>
                <dl>
                    { row("Endpoint name", html! { <code>{ r.endpoint.clone() }</code> }) }
                    { row("PSK identity", html! { <code>{ r.identity.clone() }</code> }) }
                    { row("PSK key", html! { <code class="secret">{ key }</code> }) }
                    { row("Firmware", text_or_dash(r.firmware.clone())) }
                </dl>
                <div class="controls">
                    <button type="button" aria-pressed={if self.reveal { "true" } else { "false" }}
                        onclick={link.callback(|_| Msg::RevealKey)}>{ if self.reveal { "Hide key" } else { "Reveal key" } }</button>
                    <button type="button" onclick={link.callback(|_| Msg::CopyKey)}>{ "Copy key" }</button>
                    <button type="button" onclick={link.callback(|_| Msg::DownloadCsv)}>{ "Download CSV" }</button>
                </div>
                if let Some(n) = &self.copy_note { <p role="status">{ n.clone() }</p> }
                <p class="hint">{ "The CSV is in the Coiote device-import shape (endpointName, dtlsIdentity, dtlsPskHex). It carries the key: keep it safe." }</p>
            </section>
        }
    }

    fn view_server(&self, ctx: &Context<Self>) -> Html {
        let is_sim = self.link.as_ref().is_some_and(|l| l.sim().is_some());
        if !is_sim {
            return html! {};
        }
        let link = ctx.link();
        let status = self
            .link
            .as_ref()
            .and_then(|l| l.sim())
            .and_then(|s| s.device_status(&s.endpoint()))
            .map(|d| {
                format!(
                    "Server view: {} bootstrap(s), {}, firmware {}, upgrade {}",
                    d.bootstraps,
                    if d.registered {
                        "registered"
                    } else {
                        "not registered"
                    },
                    d.firmware_version.unwrap_or_else(|| "unknown".into()),
                    serde_json::to_value(&d.upgrade)
                        .ok()
                        .and_then(|v| v.get("state").and_then(|s| s.as_str().map(str::to_string)))
                        .unwrap_or_default()
                )
            });
        html! {
            <section aria-labelledby="h-server">
                <h2 id="h-server">{ "Simulated DM server" }</h2>
                <fieldset>
                    <legend>{ "Image" }</legend>
                    <label><input type="radio" name="image" checked={self.image == ImageKind::Good}
                        onchange={link.callback(|_| Msg::Image(ImageKind::Good))} />{ " Good image" }</label>
                    <label><input type="radio" name="image" checked={self.image == ImageKind::Wrong}
                        onchange={link.callback(|_| Msg::Image(ImageKind::Wrong))} />{ " Wrong image" }</label>
                </fieldset>
                <button type="button" onclick={link.callback(|_| Msg::ScheduleUpgrade)}>{ "Schedule upgrade" }</button>
                if let Some(n) = &self.server_note { <p role="status">{ n.clone() }</p> }
                if let Some(s) = status { <p class="hint">{ s }</p> }
            </section>
        }
    }

    fn view_monitor(&self, _ctx: &Context<Self>) -> Html {
        let t = &self.fota;
        let phase = t.phase();
        let pct: u8 = match phase {
            FotaPhase::Downloaded | FotaPhase::Installing | FotaPhase::Installed => 100,
            _ => t.progress().unwrap_or(0),
        };
        let shown_phase = if t.has_fota_state() || t.attempts() > 0 {
            phase.name().to_string()
        } else {
            "no FOTA notification yet".to_string()
        };
        let order = [
            FotaPhase::Idle,
            FotaPhase::Checking,
            FotaPhase::Available,
            FotaPhase::Downloading,
            FotaPhase::Downloaded,
            FotaPhase::Installing,
            FotaPhase::Installed,
        ];
        let current = order.iter().position(|p| *p == phase);
        let steps = order.iter().enumerate().map(|(i, p)| {
            let class = match current {
                Some(c) if i < c => "past",
                Some(c) if i == c => "current",
                _ => "future",
            };
            html! {
                <li class={class} aria-current={if Some(i) == current { "step" } else { "false" }}>{ title_case(p.name()) }</li>
            }
        });
        let error = t.error().map(|e| {
            html! {
                <div class="error" role="alert">
                    <p><strong>{ e.explanation.clone() }</strong></p>
                    <p>{ e.advice.clone() }</p>
                </div>
            }
        });
        let timeline: Vec<_> = t.timeline().iter().rev().take(50).collect();
        let registration = self
            .info
            .as_ref()
            .and_then(|i| i.registration.as_ref().map(|r| r.summary()));
        html! {
            <section aria-labelledby="h-monitor">
                <h2 id="h-monitor">{ "FOTA monitor" }</h2>
                <ol class="stepper" aria-label="FOTA phases">{ for steps }</ol>
                if phase == FotaPhase::Failed { <p class="failed-phase">{ "Phase: failed" }</p> }
                <div class="progress" role="progressbar" aria-label="Firmware download"
                    aria-valuemin="0" aria-valuemax="100" aria-valuenow={pct.to_string()}
                    aria-valuetext={format!("{shown_phase}: {pct} %")}>
                    <progress aria-hidden="true" max="100" value={pct.to_string()}></progress>
                    <span class="label">{ format!("{shown_phase} — {pct} %") }</span>
                </div>
                if t.keep_powered() {
                    <p class="warning" role="alert"><strong>{ "Keep the modem powered: " }</strong>{ "the new firmware is being installed and the modem reboots. Cutting the power now can leave it unusable." }</p>
                }
                { error.unwrap_or_default() }
                <dl>
                    { row("Phase", html! { { phase.meaning() } }) }
                    { row("Version before", text_or_dash(t.version_before().map(str::to_string))) }
                    { row("Version after", text_or_dash(t.version_after().map(str::to_string).or_else(|| t.target_version().map(|v| format!("{v} (target)"))))) }
                    { row("Attempts", html! { { t.attempts().to_string() } }) }
                    { row("LwM2M registration", text_or_dash(registration)) }
                </dl>
                <h3>{ "Timeline" }</h3>
                <ol class="timeline" reversed=true>
                    { for timeline.into_iter().map(|e| html! {
                        <li><span class="time">{ format!("{:.1} s", e.at.as_secs_f64()) }</span>{ format!(" {} — {}", e.phase.name(), e.text) }</li>
                    }) }
                </ol>
            </section>
        }
    }

    fn view_terminal(&self, ctx: &Context<Self>) -> Html {
        let link = ctx.link();
        let oninput = link.callback(|e: InputEvent| {
            let i: HtmlInputElement = e.target_unchecked_into();
            Msg::TermInput(i.value())
        });
        let onkeydown = link.batch_callback(|e: KeyboardEvent| match e.key().as_str() {
            "Enter" => {
                e.prevent_default();
                Some(Msg::TermSend)
            }
            "ArrowUp" => {
                e.prevent_default();
                Some(Msg::TermHistory(true))
            }
            "ArrowDown" => {
                e.prevent_default();
                Some(Msg::TermHistory(false))
            }
            _ => None,
        });
        let log = self.log.borrow();
        let start = log.len().saturating_sub(LOG_SHOW);
        html! {
            <section aria-labelledby="h-terminal">
                <h2 id="h-terminal">{ "Terminal and log" }</h2>
                <div class="log" role="log" aria-live="off" tabindex="0">
                    { for log[start..].iter().map(|l| {
                        let class = match l.dir { Direction::Sent => "sent", Direction::Received => "received", Direction::Note => "note" };
                        html! {
                            <div class={classes!("line", class)}>
                                <span class="dir">{ l.dir.marker() }</span>
                                <code>{ l.text.clone() }</code>
                                if !l.meaning.is_empty() { <span class="meaning">{ l.meaning.clone() }</span> }
                            </div>
                        }
                    }) }
                </div>
                <div class="controls">
                    <label for="term">{ "AT command" }</label>
                    <input id="term" type="text" value={self.term_input.clone()} {oninput} {onkeydown}
                        disabled={!self.connected()} autocomplete="off" spellcheck="false" placeholder="AT+CEREG?" />
                    <button type="button" disabled={!self.connected() || self.term_busy}
                        onclick={link.callback(|_| Msg::TermSend)}>{ "Send" }</button>
                </div>
                if let Some(e) = &self.term_error { <p class="error" role="alert">{ e.clone() }</p> }
                <div class="controls">
                    <button type="button" onclick={link.callback(|_| Msg::ExportLogText)}>{ "Export log (text)" }</button>
                    <button type="button" onclick={link.callback(|_| Msg::ExportLogJson)}>{ "Export log (JSON lines)" }</button>
                </div>
            </section>
        }
    }
}

/// Whether the modem is in the middle of an upgrade (checking, downloading or installing).
fn upgrade_in_progress(t: &FotaTracker) -> bool {
    matches!(
        t.phase(),
        FotaPhase::Checking
            | FotaPhase::Available
            | FotaPhase::Downloading
            | FotaPhase::Downloaded
            | FotaPhase::Installing
    )
}

fn title_case(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

trait RegistrationErrorText {
    fn registration_error_text(&self) -> Option<String>;
}

impl RegistrationErrorText for DeviceInfo {
    fn registration_error_text(&self) -> Option<String> {
        self.errors
            .iter()
            .find(|e| e.contains("SQNDMST"))
            .map(|_| "not available (not attached, or the LwM2M client is not running)".into())
    }
}
