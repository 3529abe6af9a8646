//! The page's connection to a modem: a [`Link`] over Web Serial or the simulated modem
//! (`ryz014_sim::paced`), the background FOTA [`watch`] that lends the client to any other
//! procedure, and [`close_link`]. It reports through callbacks, not to a component.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use futures::future::{AbortHandle, Abortable};
use futures::io::{AsyncRead, AsyncWrite};
use futures::lock::{Mutex, MutexGuard};
use ryz014_core::client::{Client, WireEvent};
use ryz014_core::fota::FotaTracker;
use ryz014_core::message::Message;
use ryz014_core::session::{
    bauds_to_try, connect, monitor, ErrorMode, MonitorEvent, SyncBudget, Until, BAUD_ORDER,
};
use ryz014_core::timer::FuturesTimer;
use ryz014_sim::paced::{self, RealClock};
use ryz014_sim::{PacedHandle, SimConfig};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::SerialPort;
use yew::Callback;

use crate::serial;
use crate::state::LinkInfo;

type BoxRead = Box<dyn AsyncRead + Unpin>;
type BoxWrite = Box<dyn AsyncWrite + Unpin>;
/// The client every view shares, over either transport.
pub type ModemClient = Client<BoxRead, BoxWrite>;

/// The error of a procedure cut short by a disconnection.
pub const CANCELLED: &str = "cancelled: the connection to the modem was closed";
/// How long the background FOTA watch holds the client before lending it out.
const WATCH_SLICE: Duration = Duration::from_millis(300);

/// Real time in milliseconds since the page opened (`performance.now()`).
pub fn now_ms() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map(|p| p.now())
        .unwrap_or(0.0)
}

/// [`now_ms`] as a [`Duration`].
pub fn now_dur() -> Duration {
    Duration::try_from_secs_f64(now_ms() / 1000.0).unwrap_or_default()
}

/// Waits `d` (`setTimeout`).
pub async fn sleep(d: Duration) {
    futures_timer::Delay::new(d).await;
}

/// Which transport a link uses.
enum Transport {
    Serial(SerialPort),
    Sim(PacedHandle),
}

/// One open connection to a modem.
pub struct Link {
    /// The connection's number.
    pub id: u32,
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
    fn new(id: u32, client: ModemClient, transport: Transport) -> Link {
        Link {
            id,
            client: Mutex::new(Some(client)),
            transport,
            alive: Cell::new(true),
            wanted: Cell::new(0),
            missed: RefCell::new(Vec::new()),
            _on_disconnect: None,
            running: RefCell::new(Vec::new()),
        }
    }

    /// The client, once the procedures before are done with it (`None` after close).
    pub async fn lock(&self) -> MutexGuard<'_, Option<ModemClient>> {
        self.wanted.set(self.wanted.get() + 1);
        let g = self.client.lock().await;
        self.wanted.set(self.wanted.get().saturating_sub(1));
        g
    }

    /// Runs a procedure that [`close_link`] can cancel; `None` when it was.
    pub async fn run<T>(&self, fut: impl std::future::Future<Output = T>) -> Option<T> {
        let (handle, registration) = AbortHandle::new_pair();
        self.track(handle);
        Abortable::new(fut, registration).await.ok()
    }

    /// Cancels `handle` when the link closes.
    pub fn track(&self, handle: AbortHandle) {
        let mut running = self.running.borrow_mut();
        running.retain(|h| !h.is_aborted());
        running.push(handle);
    }

    fn cancel_all(&self) {
        for h in self.running.borrow_mut().drain(..) {
            h.abort();
        }
    }

    /// Keeps a notification a procedure saw, for the FOTA tracker.
    pub fn missed(&self, m: Message) {
        self.missed.borrow_mut().push(m);
    }

    /// The simulated modem's server side, on the simulated modem.
    pub fn sim(&self) -> Option<&PacedHandle> {
        match &self.transport {
            Transport::Sim(c) => Some(c),
            Transport::Serial(_) => None,
        }
    }

    /// The serial port, on Web Serial.
    pub fn port(&self) -> Option<&SerialPort> {
        match &self.transport {
            Transport::Serial(p) => Some(p),
            Transport::Sim(_) => None,
        }
    }

    /// What the page shows of it.
    pub fn info(&self) -> LinkInfo {
        LinkInfo {
            id: self.id,
            label: match self.transport {
                Transport::Serial(_) => "Web Serial port",
                Transport::Sim(_) => "simulated modem",
            },
            sim: self.sim().is_some(),
        }
    }
}

/// Opens a serial port (asking for one when `port` is `None`) and gets in step with `AT`;
/// at the first rate of the core's `BAUD_ORDER` (921600) without an answer, tries the next
/// (docs/at-interface-decisions.md, serial port and baud rate). `on_lost` hears of an
/// unplug, with the link's id.
pub async fn connect_serial(
    id: u32,
    port: Option<SerialPort>,
    baud: u32,
    flow: bool,
    observer: Box<dyn FnMut(&WireEvent)>,
    on_lost: Callback<(u32, String)>,
) -> Result<Link, String> {
    let port = match port {
        Some(last) => serial::find_again(&last).await,
        None => serial::request_port().await?,
    };
    // The first rate of the core's order stands for "auto": try them all.
    let bauds = bauds_to_try((baud != BAUD_ORDER[0]).then_some(baud));
    let mut observer = Some(observer);
    let mut last = String::new();
    for b in bauds {
        let (r, w) = serial::open_port(&port, b, flow).await?;
        let mut client: ModemClient = Client::new(Box::new(r), Box::new(w), FuturesTimer);
        match connect(&mut client, SyncBudget::page_serial(), ErrorMode::Keep).await {
            Ok(()) => {
                if let Some(o) = observer.take() {
                    client.set_observer(o);
                }
                let lost = on_lost.clone();
                let on_disconnect = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| {
                    lost.emit((
                        id,
                        "The modem was disconnected (unplugged or powered off).".into(),
                    ));
                });
                port.set_ondisconnect(Some(on_disconnect.as_ref().unchecked_ref()));
                let mut link = Link::new(id, client, Transport::Serial(port));
                link._on_disconnect = Some(on_disconnect);
                return Ok(link);
            }
            Err(e) => {
                last = format!("no answer to AT at {b} baud ({})", e.client_error());
                drop(client);
                serial::close_port(&port).await;
            }
        }
    }
    Err(format!(
        "The port opened but the modem did not answer: {last}. Check the cable, the baud rate and the power."
    ))
}

/// Starts the simulated modem `config` (the page's: `crate::state::sim_module_config`) at
/// `speed` and gets in step with `AT`.
pub async fn connect_sim(
    id: u32,
    config: SimConfig,
    speed: f64,
    observer: Box<dyn FnMut(&WireEvent)>,
) -> Result<Link, String> {
    let clock: RealClock = Rc::new(now_dur);
    let (port, ctl) = paced::new(config, clock, Rc::new(FuturesTimer), speed)
        .map_err(|e| format!("simulator: {e}"))?;
    let mut client: ModemClient = Client::new(Box::new(port.clone()), Box::new(port), FuturesTimer);
    client.set_observer(observer);
    connect(&mut client, SyncBudget::page_simulator(), ErrorMode::Keep)
        .await
        .map_err(|e| format!("the simulated modem did not answer: {}", e.client_error()))?;
    Ok(Link::new(id, client, Transport::Sim(ctl)))
}

/// Lets the FOTA tracker follow the modem's notifications while nothing else uses the client;
/// `on_fota` gets the tracker when it changed, `on_lost` a fatal error.
pub async fn watch(
    link: Rc<Link>,
    on_fota: Callback<FotaTracker>,
    on_lost: Callback<(u32, String)>,
) {
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
            on_fota.emit(tracker.clone());
        }
        if let Err(e) = result {
            if e.is_fatal() {
                on_lost.emit((
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
pub async fn close_link(link: Rc<Link>) {
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
