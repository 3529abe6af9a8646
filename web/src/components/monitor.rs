//! The FOTA monitor panel: the phase stepper, the download progress, the "keep powered"
//! warning, the failure's advice, versions and the timeline.

use ryz014_core::fota::{FotaPhase, PathStep};
use yew::prelude::*;

use super::{row, text_or_dash, PanelProps};
use crate::state::{fota_phase_text, title_case};

/// The FOTA monitor: phases, progress, warnings, timeline.
#[function_component(MonitorPanel)]
pub fn monitor_panel(p: &PanelProps) -> Html {
    let s = &*p.state;
    let t = &s.fota;
    let phase = t.phase();
    // The core's FOTA view model: the progress to show, the phase's label, the phase path.
    let pct: u8 = t.progress_to_show();
    let shown_phase = t.phase_label();
    let steps = t.path_steps().into_iter().map(|(p, step)| {
        html! {
            <li class={step.name()} aria-current={if step == PathStep::Current { "step" } else { "false" }}>{ title_case(p.name()) }</li>
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
    let registration = s
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
                { row("Phase", html! { { fota_phase_text(t) } }) }
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
