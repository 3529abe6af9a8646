//! The connection panel: connect a modem over Web Serial (or reconnect after an unplug), or use
//! the simulated modem; baud rate, flow control and the simulation speed.

use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

use super::PanelProps;
use crate::app::Msg;
use crate::logic::BAUD_RATES;
use crate::state::{DEFAULT_SPEED, SPEEDS};

/// The connection panel: Web Serial or the simulated modem, baud rate, flow control, speed.
#[function_component(ConnectionPanel)]
pub fn connection_panel(p: &PanelProps) -> Html {
    let (s, send) = (&*p.state, &p.send);
    let support = if s.serial_ok {
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
    let banner = match &s.banner {
        Some(b) => html! {
            <div class="banner" role="alert">
                <p>{ b.clone() }</p>
                if s.last_port && !s.connected() {
                    <button type="button" onclick={send.reform(|_| Msg::Reconnect)}>{ "Reconnect" }</button>
                }
            </div>
        },
        None => html! {},
    };
    let status = match &s.link {
        Some(l) => format!("Connected to the {}.", l.label),
        None if s.connecting => "Connecting…".to_string(),
        None => "Not connected.".to_string(),
    };
    let on_baud = send.reform(|e: Event| {
        let s: HtmlSelectElement = e.target_unchecked_into();
        Msg::Baud(s.value().parse().unwrap_or(BAUD_RATES[0]))
    });
    let on_flow = send.reform(|e: Event| {
        let i: HtmlInputElement = e.target_unchecked_into();
        Msg::Flow(i.checked())
    });
    let on_speed = send.reform(|e: Event| {
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
                <select id="baud" onchange={on_baud} disabled={s.connected()}>
                    { for BAUD_RATES.iter().map(|b| html! {
                        <option value={b.to_string()} selected={*b == s.baud}>{ b.to_string() }</option>
                    }) }
                </select>
                <label><input type="checkbox" checked={s.flow} onchange={on_flow} disabled={s.connected()} />{ " RTS/CTS flow control" }</label>
                <label for="speed">{ "Simulation speed" }</label>
                <select id="speed" onchange={on_speed}>
                    { for SPEEDS.iter().map(|v| html! {
                        <option value={v.to_string()} selected={(*v - s.speed).abs() < f64::EPSILON}>{ format!("{v}×") }</option>
                    }) }
                </select>
            </div>
            <div class="controls">
                if s.connected() {
                    <button type="button" onclick={send.reform(|_| Msg::Disconnect)}>{ "Disconnect" }</button>
                } else {
                    <button type="button" disabled={!s.serial_ok || s.connecting}
                        onclick={send.reform(|_| Msg::ConnectSerial)}>{ "Connect modem" }</button>
                    <button type="button" disabled={s.connecting}
                        onclick={send.reform(|_| Msg::UseSim)}>{ "Use simulated modem" }</button>
                }
            </div>
        </section>
    }
}
