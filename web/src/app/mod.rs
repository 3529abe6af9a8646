//! The root component: it holds the page's state ([`crate::state`]) and the open connection
//! ([`crate::connection`]), turns messages into state transitions, runs what needs the browser
//! (ports, files, clipboard, downloads, timers) and lays out the panels
//! ([`crate::components`]).
//!
//! The page is thin: every modem exchange is a `ryz014_core::session` procedure (or
//! `Client::execute_raw` for the terminal) over one shared client; the FOTA state is the core's
//! `FotaTracker`, fed by a background watch that lends the client to any other procedure.

use std::rc::Rc;
use std::time::Duration;

use futures::future::{AbortHandle, Abortable};
use ryz014_core::client::WireEvent;
use ryz014_core::fota::FotaTracker;
use ryz014_core::message::{FirmwareLine, Message};
use ryz014_core::provision::Plan;
use ryz014_core::session::{device_info, provision, DeviceInfo, ProvisionEvent, ProvisionReport};
use ryz014_sim::{QueryRetry, ServerError, SimConfig};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::{spawn_local, JsFuture};
use web_sys::SerialPort;
use yew::html::Scope;
use yew::prelude::*;

use crate::components::{
    ConnectionPanel, DevicePanel, MonitorPanel, PanelProps, ProvisionPanel, ResultPanel,
    ServerPanel, StationPanel, TerminalPanel,
};
use crate::connection::{
    close_link, connect_serial, connect_sim, now_ms, sleep, watch, Link, CANCELLED,
};
use crate::logic::{log_json_lines, log_text, Field, LogLine, TITLE};
use crate::serial;
use crate::state::{
    push_log, query_refused_note, sim_module_config, ImageKind, NextModule, PageState, ProvFailure,
    ProvUpdate,
};

/// Timeout of a terminal command.
const TERMINAL_TIMEOUT: Duration = Duration::from_secs(15);
/// How often the simulated server looks at a pending image, and asks a busy device again.
const SERVER_TICK: Duration = Duration::from_millis(500);

mod tasks;

use tasks::*;

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
    ProvDone(Result<ProvisionReport, ProvFailure>),
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
    /// Look at the pending image again.
    ServerTick,
    /// The device refused the server's query for now (it is asked again).
    QueryRefused(String),
    /// The server's query ended.
    QueryDone(Result<(), ServerError>),
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
    /// "Provision each new module automatically".
    AutoProvision(bool),
    /// "Next module".
    NextModule,
    /// A serial port the page may use was plugged in (Web Serial's `connect` event).
    Plugged,
    /// "Download batch CSV".
    DownloadBatch,
    /// "Re-key anyway": provision a module already in the table.
    RekeyAnyway,
    /// Nothing to do.
    Noop,
}

/// The root component.
pub struct App {
    state: Rc<PageState>,
    link: Option<Rc<Link>>,
    last_port: Option<SerialPort>,
    /// The server's query in flight (a new schedule replaces it).
    query: Option<AbortHandle>,
}

impl App {
    fn sim(&self) -> Option<ryz014_sim::PacedHandle> {
        self.link.as_ref().and_then(|l| l.sim().cloned())
    }

    /// Asks the simulated device to check for the image now, again while it cannot yet.
    fn start_query(&mut self, ctx: &Context<Self>, endpoint: String) {
        let (Some(link), Some(sim)) = (self.link.clone(), self.sim()) else {
            return;
        };
        let (handle, registration) = AbortHandle::new_pair();
        link.track(handle.clone());
        if let Some(old) = self.query.replace(handle) {
            old.abort();
        }
        let scope = ctx.link().clone();
        spawn_local(async move {
            let retry = QueryRetry {
                every: SERVER_TICK,
                attempts: None,
            };
            let s = scope.clone();
            let asked = sim.network_query_retrying(&endpoint, retry, move |e| {
                s.send_message(Msg::QueryRefused(query_refused_note(e)));
            });
            if let Ok(r) = Abortable::new(asked, registration).await {
                scope.send_message(Msg::QueryDone(r));
            }
        });
    }

    fn stop_query(&mut self) {
        if let Some(q) = self.query.take() {
            q.abort();
        }
    }
}

impl Component for App {
    type Message = Msg;
    type Properties = ();

    fn create(ctx: &Context<Self>) -> Self {
        let state = PageState::new(serial::supported(), Rc::new(now_ms));
        listen_window(&state, ctx.link());
        App {
            state: Rc::new(state),
            link: None,
            last_port: None,
            query: None,
        }
    }

    fn update(&mut self, ctx: &Context<Self>, msg: Self::Message) -> bool {
        let scope = ctx.link();
        let st = Rc::make_mut(&mut self.state);
        match msg {
            Msg::Noop => return false,
            Msg::Baud(b) => st.baud = b,
            Msg::Flow(f) => st.flow = f,
            Msg::Speed(s) => {
                st.speed = s;
                if let Some(sim) = self.link.as_ref().and_then(|l| l.sim()) {
                    sim.set_speed(s);
                }
            }
            Msg::ConnectSerial | Msg::Reconnect | Msg::UseSim => {
                let to = match msg {
                    Msg::UseSim => To::Sim(Box::new(sim_module_config(st.sim_modules))),
                    Msg::Reconnect => To::Port(self.last_port.clone()),
                    _ => To::Port(None),
                };
                if !start_connect(st, to, scope) {
                    return false;
                }
            }
            Msg::Connected(link) => {
                st.connected_to(link.info());
                if let Some(p) = link.port() {
                    self.last_port = Some(p.clone());
                }
                self.link = Some(link.clone());
                spawn_local(watch(
                    link,
                    scope.callback(|t| Msg::Fota(Box::new(t))),
                    scope.callback(|(id, reason)| Msg::Lost(id, reason)),
                ));
                refresh_info(st, self.link.as_ref(), scope);
            }
            Msg::ConnectFailed(e) => st.connect_failed(e),
            Msg::Disconnect => {
                st.disconnect();
                if let Some(link) = self.link.take() {
                    spawn_local(close_link(link));
                }
                self.query = None;
            }
            Msg::Lost(id, reason) => {
                if !st.lost(id, reason) {
                    return false;
                }
                if let Some(link) = self.link.take() {
                    spawn_local(close_link(link));
                }
                self.query = None;
            }
            Msg::RefreshInfo => refresh_info(st, self.link.as_ref(), scope),
            Msg::Info(id, r) => {
                if !st.info_read(id, r) {
                    return false;
                }
                if st.take_auto_provision() {
                    scope.send_message(Msg::Provision);
                }
            }
            Msg::Input(f, v) => {
                st.form.set(f, v);
                st.plan = None;
            }
            Msg::Autoconnect(v) => {
                st.form.autoconnect = v;
                st.plan = None;
            }
            Msg::Restore(v) => {
                st.form.save_restoration_point = v;
                st.plan = None;
            }
            Msg::KeyText(t) => {
                st.key = crate::logic::KeyField::from_text(t);
                st.plan = None;
            }
            Msg::GenerateKey => st.generate_key(),
            Msg::ShowFormKey(v) => st.show_form_key = v,
            Msg::Import(file) => {
                let scope = scope.clone();
                let name = file.name();
                spawn_local(async move {
                    let r = JsFuture::from(file.text())
                        .await
                        .map_err(|e| serial::js_error_text(&e))
                        .and_then(|v| v.as_string().ok_or_else(|| "not text".to_string()));
                    scope.send_message(Msg::Imported(name, r));
                });
            }
            Msg::Imported(name, r) => st.imported(&name, r),
            Msg::ExportToml | Msg::ExportJson => {
                let toml = matches!(msg, Msg::ExportToml);
                let r = st.export_text(toml).and_then(|text| {
                    if toml {
                        download("profile.toml", "application/toml", &text)
                    } else {
                        download("profile.json", "application/json", &text)
                    }
                });
                st.exported(r);
            }
            Msg::ReviewPlan => st.review_plan(),
            Msg::Provision => {
                let sim = self.link.as_ref().and_then(|l| l.sim());
                if let (Some(plan), Some(link)) = (st.begin_provision(sim), self.link.clone()) {
                    run_provision(link, plan, scope.clone());
                }
            }
            Msg::Prov(u) => st.prov_update(u),
            Msg::ProvDone(r) => {
                if st.prov_finished(r, wall_time()) {
                    refresh_info(st, self.link.as_ref(), scope);
                }
            }
            Msg::RevealKey => st.reveal = !st.reveal,
            Msg::CopyKey => {
                if let (Some(r), Some(w)) = (&st.result, web_sys::window()) {
                    let p = w.navigator().clipboard().write_text(&r.secret.expose_hex());
                    let scope = scope.clone();
                    spawn_local(async move {
                        let r = JsFuture::from(p)
                            .await
                            .map(|_| ())
                            .map_err(|e| serial::js_error_text(&e));
                        scope.send_message(Msg::Copied(r));
                    });
                }
            }
            Msg::Copied(r) => st.copied(r),
            Msg::DownloadCsv => {
                if let Some(csv) = st.result_csv() {
                    if let Err(e) = download("ryz014-devices.csv", "text/csv", &csv) {
                        st.copy_note = Some(format!("Download failed: {e}"));
                    }
                }
                return false;
            }
            Msg::Image(k) => st.image = k,
            Msg::ScheduleUpgrade => {
                let start = st.schedule_upgrade(self.link.as_ref().and_then(|l| l.sim()));
                if st.pending_image.is_some() {
                    // A new image replaces the query for the previous one.
                    if let Some(q) = self.query.take() {
                        q.abort();
                    }
                }
                if start {
                    scope.send_message(Msg::ServerTick);
                }
            }
            Msg::ServerTick => {
                let sim = self.link.as_ref().and_then(|l| l.sim().cloned());
                let (query, again) = st.server_tick(sim.as_ref());
                if again {
                    let scope = scope.clone();
                    spawn_local(async move {
                        sleep(SERVER_TICK).await;
                        scope.send_message(Msg::ServerTick);
                    });
                }
                if let Some(endpoint) = query {
                    self.start_query(ctx, endpoint);
                }
            }
            Msg::QueryRefused(note) => st.server_note = Some(note),
            Msg::QueryDone(r) => {
                st.query_done(r);
                self.stop_query();
            }
            Msg::Fota(t) => {
                if st.fota_changed(*t) {
                    // The upgrade is over: show the firmware the modem runs now.
                    refresh_info(st, self.link.as_ref(), scope);
                }
            }
            Msg::TermInput(t) => st.term_input = t,
            Msg::TermSend => {
                if let (Some(line), Some(link)) = (st.term_send(), self.link.clone()) {
                    run_terminal(link, line, scope.clone());
                }
            }
            Msg::TermHistory(up) => {
                if !st.term_history(up) {
                    return false;
                }
            }
            Msg::TermDone(r) => st.term_done(r),
            Msg::LogChanged => st.log_dirty.set(false),
            Msg::ExportLogText => {
                let text = log_text(&st.log.borrow());
                let _ = download("ryz014-log.txt", "text/plain", &text);
                return false;
            }
            Msg::ExportLogJson => {
                let text = log_json_lines(&st.log.borrow());
                let _ = download("ryz014-log.jsonl", "application/x-ndjson", &text);
                return false;
            }
            Msg::AutoProvision(v) => st.auto_provision = v,
            Msg::NextModule => {
                let next = st.next_module();
                if next == NextModule::Busy {
                    return false;
                }
                if let Some(link) = self.link.take() {
                    spawn_local(close_link(link));
                }
                self.query = None;
                if let NextModule::Sim(config) = next {
                    start_connect(st, To::Sim(config), scope);
                }
            }
            Msg::Plugged => {
                if !st.plugged() {
                    return false;
                }
                start_connect(st, To::Port(self.last_port.clone()), scope);
            }
            Msg::DownloadBatch => {
                if let Some(csv) = st.batch_csv() {
                    let r = download("ryz014-batch.csv", "text/csv", &csv);
                    st.batch_saved(r);
                }
            }
            Msg::RekeyAnyway => {
                st.rekey_confirmed = true;
                st.prov_error = None;
                scope.send_message(Msg::Provision);
            }
        }
        true
    }

    fn view(&self, ctx: &Context<Self>) -> Html {
        let props = PanelProps {
            state: self.state.clone(),
            send: ctx.link().callback(|m: Msg| m),
            sim: self.sim(),
        };
        html! {
            <>
            <header>
                <h1>{ TITLE }</h1>
            </header>
            <main>
                <ConnectionPanel ..props.clone() />
                <DevicePanel ..props.clone() />
                <StationPanel ..props.clone() />
                <ProvisionPanel ..props.clone() />
                <ResultPanel ..props.clone() />
                <ServerPanel ..props.clone() />
                <MonitorPanel ..props.clone() />
                <TerminalPanel ..props />
            </main>
            </>
        }
    }
}
