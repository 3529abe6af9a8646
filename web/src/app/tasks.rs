//! What the root component starts outside its `update`: the browser actions (a file download,
//! the page-wide `beforeunload` and Web Serial `connect` listeners) and the background tasks
//! (connecting, reading the device, provisioning, a terminal command), each reporting back to
//! the component as a [`Msg`].

use super::*;

/// Saves `text` as a file through a temporary link.
pub(super) fn download(name: &str, mime: &str, text: &str) -> Result<(), String> {
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

pub(super) fn make_observer(state: &PageState, scope: Scope<App>) -> Box<dyn FnMut(&WireEvent)> {
    let (log, dirty) = (state.log.clone(), state.log_dirty.clone());
    Box::new(move |ev| {
        push_log(&log, LogLine::from_wire(now_ms(), ev));
        if !dirty.replace(true) {
            scope.send_message(Msg::LogChanged);
        }
    })
}

/// Reads the device on `link` (the DM profile `profile`).
pub(super) fn refresh_info(state: &mut PageState, link: Option<&Rc<Link>>, scope: &Scope<App>) {
    let Some(link) = link.cloned() else {
        return;
    };
    state.info_loading = true;
    let profile = state.info_profile();
    let scope = scope.clone();
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
            link.missed(Message::Firmware(FirmwareLine::Lr(fw)));
        }
        scope.send_message(Msg::Info(link.id, r));
    });
}

/// The core's provisioning event as the page's update (`None`: a notification, kept for the
/// FOTA tracker).
pub(super) fn prov_update(ev: ProvisionEvent<'_>, link: &Link) -> Option<ProvUpdate> {
    Some(match ev {
        ProvisionEvent::StepStarted { index, .. } => ProvUpdate::Started {
            check: false,
            index,
        },
        ProvisionEvent::StepDone { index, .. } => ProvUpdate::Done {
            check: false,
            index,
        },
        ProvisionEvent::CheckStarted { index, .. } => ProvUpdate::Started { check: true, index },
        ProvisionEvent::CheckDone { index, .. } => ProvUpdate::Done { check: true, index },
        ProvisionEvent::Rebooting { step } => ProvUpdate::Note(format!(
            "{}: the modem reboots; waiting for +SYSSTART…",
            step.id.as_str()
        )),
        ProvisionEvent::Booted { step } => ProvUpdate::Note(format!(
            "{}: the modem is back (+SYSSTART).",
            step.id.as_str()
        )),
        ProvisionEvent::Attached { step } => {
            ProvUpdate::Note(format!("{}: registered on the network.", step.id.as_str()))
        }
        ProvisionEvent::AttachMissing { step, waited } => ProvUpdate::Note(format!(
            "{}: no network registration within {} s (the FOTA client starts once attached).",
            step.id.as_str(),
            waited.as_secs()
        )),
        ProvisionEvent::Notification(m) => {
            link.missed(m.clone());
            return None;
        }
    })
}

pub(super) fn run_provision(link: Rc<Link>, plan: Rc<Plan>, scope: Scope<App>) {
    spawn_local(async move {
        let r = link
            .run(async {
                let mut g = link.lock().await;
                match g.as_mut() {
                    Some(c) => {
                        let s = scope.clone();
                        provision(c, &plan, |ev| {
                            if let Some(u) = prov_update(ev, &link) {
                                s.send_message(Msg::Prov(u));
                            }
                        })
                        .await
                        .map_err(|e| ProvFailure::from_session(&e))
                    }
                    None => Err(ProvFailure::other("not connected")),
                }
            })
            .await
            .unwrap_or_else(|| Err(ProvFailure::other(CANCELLED)));
        scope.send_message(Msg::ProvDone(r));
    });
}

pub(super) fn run_terminal(link: Rc<Link>, line: String, scope: Scope<App>) {
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

/// Where to connect.
pub(super) enum To {
    /// The simulated modem with this configuration.
    Sim(Box<SimConfig>),
    /// A serial port: this one (reconnect), else one the user picks.
    Port(Option<SerialPort>),
}

/// Starts connecting (`false` when a connection is open or opening).
pub(super) fn start_connect(st: &mut PageState, to: To, scope: &Scope<App>) -> bool {
    let Some(id) = st.begin_connect() else {
        return false;
    };
    let observer = make_observer(st, scope.clone());
    let scope = scope.clone();
    match to {
        To::Sim(config) => {
            let speed = st.speed;
            spawn_local(async move {
                match connect_sim(id, *config, speed, observer).await {
                    Ok(l) => scope.send_message(Msg::Connected(Rc::new(l))),
                    Err(e) => scope.send_message(Msg::ConnectFailed(e)),
                }
            });
        }
        To::Port(port) => {
            let (baud, flow) = (st.baud, st.flow);
            let on_lost = scope.callback(|(id, reason)| Msg::Lost(id, reason));
            spawn_local(async move {
                match connect_serial(id, port, baud, flow, observer, on_lost).await {
                    Ok(l) => scope.send_message(Msg::Connected(Rc::new(l))),
                    Err(e) => scope.send_message(Msg::ConnectFailed(e)),
                }
            });
        }
    }
    true
}

/// The wall-clock time of day, as the station's table shows it (`14:03:27`).
pub(super) fn wall_time() -> String {
    String::from(js_sys::Date::new_0().to_locale_time_string("en-GB"))
}

/// The page-wide listeners, for the page's lifetime: `beforeunload` asks for confirmation while
/// provisioned modules are not downloaded (their keys live in memory only), and Web Serial's
/// `connect` event (a granted port plugged in) becomes [`Msg::Plugged`].
pub(super) fn listen_window(state: &PageState, scope: &Scope<App>) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let unsaved = state.unsaved.clone();
    let on_unload = Closure::<dyn FnMut(web_sys::Event)>::new(move |e: web_sys::Event| {
        if unsaved.get() {
            e.prevent_default();
            let _ = js_sys::Reflect::set(&e, &"returnValue".into(), &"".into());
        }
    });
    let _ =
        window.add_event_listener_with_callback("beforeunload", on_unload.as_ref().unchecked_ref());
    on_unload.forget();
    if state.serial_ok {
        let scope = scope.clone();
        let on_plug = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| {
            scope.send_message(Msg::Plugged);
        });
        let _ = window
            .navigator()
            .serial()
            .add_event_listener_with_callback("connect", on_plug.as_ref().unchecked_ref());
        on_plug.forget();
    }
}
