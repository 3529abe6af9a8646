//! The simulated DM server panel: choose a good or a wrong image and schedule it; what the
//! server knows of the device.

use yew::prelude::*;

use super::PanelProps;
use crate::app::Msg;
use crate::state::ImageKind;

/// The simulated DM server panel (shown on the simulated modem only).
#[function_component(ServerPanel)]
pub fn server_panel(p: &PanelProps) -> Html {
    let (s, send) = (&*p.state, &p.send);
    let Some(sim) = &p.sim else {
        return html! {};
    };
    let status = sim.device_status(&sim.endpoint()).map(|d| {
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
                <label><input type="radio" name="image" checked={s.image == ImageKind::Good}
                    onchange={send.reform(|_| Msg::Image(ImageKind::Good))} />{ " Good image" }</label>
                <label><input type="radio" name="image" checked={s.image == ImageKind::Wrong}
                    onchange={send.reform(|_| Msg::Image(ImageKind::Wrong))} />{ " Wrong image" }</label>
            </fieldset>
            <button type="button" onclick={send.reform(|_| Msg::ScheduleUpgrade)}>{ "Schedule upgrade" }</button>
            if let Some(n) = &s.server_note { <p role="status">{ n.clone() }</p> }
            if let Some(s) = status { <p class="hint">{ s }</p> }
        </section>
    }
}
