//! The provisioning panel (the profile form, its import and export, the plan and its progress)
//! and the result panel (credentials, key, the Coiote CSV).

use web_sys::HtmlInputElement;
use yew::prelude::*;

use super::{row, text_or_dash, PanelProps};
use crate::app::Msg;
use crate::logic::Field;
use crate::state::{PageState, StepState, READING_REASON};

/// One text field of the form, with its hint or error.
fn field_input(s: &PageState, send: &Callback<Msg>, f: Field) -> Html {
    let id = format!("f-{}", f.path().replace('.', "-"));
    let err_id = format!("{id}-err");
    let error = s.form.error_of(f);
    let oninput = send.reform(move |e: InputEvent| {
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
            <input id={id} type="text" value={s.form.get(f).to_string()} {oninput}
                inputmode={if f.numeric() { "numeric" } else { "text" }}
                aria-invalid={if error.is_some() { "true" } else { "false" }}
                aria-describedby={err_id.clone()} autocomplete="off" spellcheck="false" />
            <small id={err_id} class={if error.is_some() { "error" } else { "hint" }}>
                { error.unwrap_or(hint) }
            </small>
        </div>
    }
}

/// The plan reviewed or running, each step with how far it got.
fn plan_view(s: &PageState) -> Html {
    let Some(plan) = &s.plan else {
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
    let done = s
        .steps
        .iter()
        .chain(s.checks.iter())
        .filter(|s| **s == StepState::Done)
        .count();
    let total = plan.steps().len() + plan.checks().len();
    let pct = (done * 100).checked_div(total).unwrap_or(0);
    html! {
        <div class="plan">
            <h3>{ format!("Plan for {} ({} steps, {} read-back checks; key {})",
                plan.credentials().endpoint_name, plan.steps().len(), plan.checks().len(), plan.credentials().secret.redacted()) }</h3>
            if s.prov_running || !s.steps.is_empty() {
                <progress max="100" value={pct.to_string()} aria-label="Provisioning progress">{ format!("{pct} %") }</progress>
            }
            <ol class="steps">
                { for plan.steps().iter().enumerate().map(|(i, step)| row(&s.steps, i, step.command.redacted(), &step.description)) }
            </ol>
            <h4>{ "Read-back" }</h4>
            <ol class="steps">
                { for plan.checks().iter().enumerate().map(|(i, c)| row(&s.checks, i, c.command.redacted(), &c.description)) }
            </ol>
            if !s.prov_notes.is_empty() {
                <ul class="notes" aria-live="polite">{ for s.prov_notes.iter().map(|n| html! { <li>{ n.clone() }</li> }) }</ul>
            }
            if let Some(e) = &s.prov_error { <p class="error" role="alert">{ format!("Provisioning stopped: {e}") }</p> }
        </div>
    }
}

/// The provisioning panel: the profile form, the plan and its progress.
#[function_component(ProvisionPanel)]
pub fn provision_panel(p: &PanelProps) -> Html {
    let (s, send) = (&*p.state, &p.send);
    let on_key = send.reform(|e: InputEvent| {
        let i: HtmlInputElement = e.target_unchecked_into();
        Msg::KeyText(i.value())
    });
    let on_show = send.reform(|e: Event| {
        let i: HtmlInputElement = e.target_unchecked_into();
        Msg::ShowFormKey(i.checked())
    });
    let on_auto = send.reform(|e: Event| {
        let i: HtmlInputElement = e.target_unchecked_into();
        Msg::Autoconnect(i.checked())
    });
    let on_restore = send.reform(|e: Event| {
        let i: HtmlInputElement = e.target_unchecked_into();
        Msg::Restore(i.checked())
    });
    let on_import = send.reform(|e: Event| {
        let i: HtmlInputElement = e.target_unchecked_into();
        match i.files().and_then(|f| f.get(0)) {
            Some(file) => Msg::Import(file),
            None => Msg::Noop,
        }
    });
    let key_error = s.key.secret().err();
    // The plan is made for the IMEI: wait until the device is read.
    let reading = s.connected() && s.info_loading;
    let group = |title: &str, fields: &[Field]| {
        html! {
            <fieldset>
                <legend>{ title.to_string() }</legend>
                { for fields.iter().map(|f| field_input(s, send, *f)) }
            </fieldset>
        }
    };
    html! {
        <section aria-labelledby="h-provision">
            <h2 id="h-provision">{ "Provision" }</h2>
            <form onsubmit={send.reform(|e: SubmitEvent| { e.prevent_default(); Msg::Noop })} novalidate=true>
                { group("Modem", &[Field::Profile, Field::EndpointName]) }
                <div class="field">
                    <label><input type="checkbox" checked={s.form.autoconnect} onchange={on_auto} />{ " Autoconnect at boot (AT+SQNAUTOCONNECT=1)" }</label>
                </div>
                { group("Bootstrap server", &[Field::Uri, Field::ServerId, Field::HoldOff, Field::Cid]) }
                <fieldset>
                    <legend>{ "DTLS pre-shared key" }</legend>
                    { field_input(s, send, Field::Identity) }
                    <div class="field">
                        <label for="f-psk-secret">{ "PSK key (hex)" }</label>
                        <input id="f-psk-secret" type={if s.show_form_key { "text" } else { "password" }}
                            value={s.key.text().to_string()} oninput={on_key} autocomplete="off" spellcheck="false"
                            aria-describedby="f-psk-secret-err" aria-invalid={if key_error.is_some() { "true" } else { "false" }} />
                        <small id="f-psk-secret-err" class={if key_error.is_some() { "error" } else { "hint" }}>
                            { key_error.unwrap_or_else(|| format!("{}; now: {}", "empty: 32 random bytes are drawn for the modem", s.key.redacted())) }
                        </small>
                        <div class="controls">
                            <button type="button" onclick={send.reform(|_| Msg::GenerateKey)}>{ "Generate key" }</button>
                            <label><input type="checkbox" checked={s.show_form_key} onchange={on_show} />{ " Show key" }</label>
                        </div>
                    </div>
                </fieldset>
                { group("FOTA client", &[Field::FotaMode, Field::ReportState, Field::ReportDownload, Field::Timer, Field::DownloadTimeout, Field::Certificate]) }
                <div class="field">
                    <label><input type="checkbox" checked={s.form.save_restoration_point} onchange={on_restore} />{ " Save a restoration point (AT+SQNFACTORYSAVE=\"oem\")" }</label>
                </div>
                <div class="controls">
                    <label for="f-import">{ "Import profile (TOML or JSON)" }</label>
                    <input id="f-import" type="file" accept=".toml,.json,application/json,application/toml,text/plain" onchange={on_import} />
                    <button type="button" onclick={send.reform(|_| Msg::ExportToml)}>{ "Export TOML" }</button>
                    <button type="button" onclick={send.reform(|_| Msg::ExportJson)}>{ "Export JSON" }</button>
                </div>
                if let Some(n) = &s.form_note { <p role="status">{ n.clone() }</p> }
                <div class="controls">
                    <button type="button" disabled={reading} aria-describedby={reading.then_some("reading-reason")}
                        onclick={send.reform(|_| Msg::ReviewPlan)}>{ "Review plan" }</button>
                    <button type="button" class="primary" disabled={s.prov_running || !s.connected() || reading}
                        aria-describedby={reading.then_some("reading-reason")}
                        onclick={send.reform(|_| Msg::Provision)}>{ "Provision" }</button>
                    if s.prov_error.is_some() && s.rekey_needs_confirmation() && !s.prov_running {
                        <button type="button" onclick={send.reform(|_| Msg::RekeyAnyway)}>{ "Re-key anyway" }</button>
                    }
                </div>
                if reading { <p id="reading-reason" class="hint" role="status">{ READING_REASON }</p> }
            </form>
            if let Some(e) = &s.plan_error { <p class="error" role="alert">{ e.clone() }</p> }
            { plan_view(s) }
        </section>
    }
}

/// The result of the last provisioning: credentials, key, CSV.
#[function_component(ResultPanel)]
pub fn result_panel(p: &PanelProps) -> Html {
    let (s, send) = (&*p.state, &p.send);
    let Some(r) = &s.result else {
        return html! {};
    };
    let key = if s.reveal {
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
                <button type="button" aria-pressed={if s.reveal { "true" } else { "false" }}
                    onclick={send.reform(|_| Msg::RevealKey)}>{ if s.reveal { "Hide key" } else { "Reveal key" } }</button>
                <button type="button" onclick={send.reform(|_| Msg::CopyKey)}>{ "Copy key" }</button>
                <button type="button" onclick={send.reform(|_| Msg::DownloadCsv)}>{ "Download CSV" }</button>
            </div>
            if let Some(n) = &s.copy_note { <p role="status">{ n.clone() }</p> }
            <p class="hint">{ "The CSV is in the Coiote device-import shape (endpointName, dtlsIdentity, dtlsPskHex). It carries the key: keep it safe." }</p>
        </section>
    }
}
