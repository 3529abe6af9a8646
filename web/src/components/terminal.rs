//! The terminal and log panel: send AT commands by hand (with history), the wire log with each
//! line's meaning, and its export.

use web_sys::HtmlInputElement;
use yew::prelude::*;

use super::PanelProps;
use crate::app::Msg;
use crate::logic::Direction;
use crate::state::LOG_SHOW;

/// The terminal and the wire log.
#[function_component(TerminalPanel)]
pub fn terminal_panel(p: &PanelProps) -> Html {
    let (s, send) = (&*p.state, &p.send);
    let oninput = send.reform(|e: InputEvent| {
        let i: HtmlInputElement = e.target_unchecked_into();
        Msg::TermInput(i.value())
    });
    let keys = send.clone();
    let onkeydown = Callback::from(move |e: KeyboardEvent| {
        let msg = match e.key().as_str() {
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
        };
        if let Some(m) = msg {
            keys.emit(m);
        }
    });
    let log = s.log.borrow();
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
                <input id="term" type="text" value={s.term_input.clone()} {oninput} {onkeydown}
                    disabled={!s.connected()} autocomplete="off" spellcheck="false" placeholder="AT+CEREG?" />
                <button type="button" disabled={!s.connected() || s.term_busy}
                    onclick={send.reform(|_| Msg::TermSend)}>{ "Send" }</button>
            </div>
            if let Some(e) = &s.term_error { <p class="error" role="alert">{ e.clone() }</p> }
            <div class="controls">
                <button type="button" onclick={send.reform(|_| Msg::ExportLogText)}>{ "Export log (text)" }</button>
                <button type="button" onclick={send.reform(|_| Msg::ExportLogJson)}>{ "Export log (JSON lines)" }</button>
            </div>
        </section>
    }
}
