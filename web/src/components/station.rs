//! The station panel: the "Provisioned modules" table of this session, "Download batch CSV",
//! "Next module" and "Provision each new module automatically".

use web_sys::HtmlInputElement;
use yew::prelude::*;

use super::PanelProps;
use crate::app::Msg;

/// The production station: every module done in this session, and the next one.
#[function_component(StationPanel)]
pub fn station_panel(p: &PanelProps) -> Html {
    let (s, send) = (&*p.state, &p.send);
    let on_auto = send.reform(|e: Event| {
        let i: HtmlInputElement = e.target_unchecked_into();
        Msg::AutoProvision(i.checked())
    });
    let provisioned = s.station.iter().filter(|r| r.ok()).count();
    let rows = s.station.iter().map(|r| {
        html! {
            <tr class={if r.ok() { "ok" } else { "failed" }}>
                <td><code>{ r.imei.clone() }</code></td>
                <td><code>{ r.endpoint.clone() }</code></td>
                <td><code>{ r.identity.clone() }</code></td>
                <td><code>{ r.key_prefix() }</code></td>
                <td>{ r.result_text() }</td>
                <td>{ r.time.clone() }</td>
            </tr>
        }
    });
    html! {
        <section aria-labelledby="h-station" class="station">
            <h2 id="h-station">{ "Station" }</h2>
            <div class="controls">
                <label><input type="checkbox" checked={s.auto_provision} onchange={on_auto} />{ " Provision each new module automatically" }</label>
                <button type="button" disabled={s.prov_running || s.connecting}
                    onclick={send.reform(|_| Msg::NextModule)}>{ "Next module" }</button>
                <button type="button" disabled={provisioned == 0}
                    onclick={send.reform(|_| Msg::DownloadBatch)}>{ "Download batch CSV" }</button>
            </div>
            if let Some(n) = &s.station_note { <p role="status">{ n.clone() }</p> }
            <table>
                <caption>{ "Provisioned modules" }</caption>
                <thead><tr>
                    <th scope="col">{ "IMEI" }</th>
                    <th scope="col">{ "Endpoint" }</th>
                    <th scope="col">{ "PSK identity" }</th>
                    <th scope="col">{ "Key prefix" }</th>
                    <th scope="col">{ "Result" }</th>
                    <th scope="col">{ "Time" }</th>
                </tr></thead>
                <tbody>{ for rows }</tbody>
            </table>
            if s.station.is_empty() { <p class="hint">{ "No module provisioned in this session yet." }</p> }
            <p class="hint">{ format!("{provisioned} provisioned in this session{}. The keys stay in this page's memory only: download the batch CSV (Coiote device import) before leaving.",
                if s.unsaved.get() { ", not downloaded yet" } else { "" }) }</p>
        </section>
    }
}
