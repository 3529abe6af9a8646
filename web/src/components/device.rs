//! The device panel: what was read from the modem (IMEI, firmware, modes, FOTA and DM
//! configuration, network, LwM2M registration), and the read errors.

use ryz014_core::describe::explain;
use ryz014_core::message::Message;
use yew::prelude::*;

use super::{row, text_or_dash, PanelProps};
use crate::app::Msg;

/// The device panel: what was read from the modem.
#[function_component(DevicePanel)]
pub fn device_panel(p: &PanelProps) -> Html {
    let (s, send) = (&*p.state, &p.send);
    let body = match &s.info {
        None => {
            html! { <p>{ if s.info_loading { "Reading…" } else { "No modem read yet." } }</p> }
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
                    { row("LwM2M registration", text_or_dash(reg.or_else(|| i.registration_unavailable.as_ref().map(|u| u.summary().to_string())))) }
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
            if let Some(e) = &s.info_error { <p class="error" role="alert">{ e.clone() }</p> }
            <button type="button" disabled={!s.connected() || s.info_loading}
                onclick={send.reform(|_| Msg::RefreshInfo)}>{ "Refresh device" }</button>
        </section>
    }
}
