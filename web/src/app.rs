//! The Yew application: the views of the page.

use yew::prelude::*;

/// The root component.
#[function_component(App)]
pub fn app() -> Html {
    html! {
        <main>
            <h1>{ crate::logic::TITLE }</h1>
            <button type="button">{ "Connect modem" }</button>
            <button type="button">{ "Use simulated modem" }</button>
        </main>
    }
}
