//! The page's panels, one function component each (as Yew's `function_todomvc` example has its
//! `components/`). Each gets the page's state ([`PageState`]), the root's message callback and,
//! on the simulated modem, its server side; they render and send messages, nothing more.

use std::rc::Rc;

use ryz014_sim::PacedHandle;
use yew::prelude::*;

use crate::app::Msg;
use crate::state::PageState;

mod connection;
mod device;
mod monitor;
mod provision;
mod server;
mod station;
mod terminal;

pub use connection::ConnectionPanel;
pub use device::DevicePanel;
pub use monitor::MonitorPanel;
pub use provision::{ProvisionPanel, ResultPanel};
pub use server::ServerPanel;
pub use station::StationPanel;
pub use terminal::TerminalPanel;

/// What every panel gets.
#[derive(Properties, Clone)]
pub struct PanelProps {
    /// The page's state.
    pub state: Rc<PageState>,
    /// Sends a message to the root component.
    pub send: Callback<Msg>,
    /// The simulated modem's server side (on the simulated modem only).
    pub sim: Option<PacedHandle>,
}

impl PartialEq for PanelProps {
    /// Never equal: the panels render whenever the root does (the simulated server's view and
    /// the log live outside the state), as the single component did.
    fn eq(&self, _: &Self) -> bool {
        false
    }
}

/// A `<dt>`/`<dd>` pair.
fn row(label: &str, value: Html) -> Html {
    html! { <><dt>{ label.to_string() }</dt><dd>{ value }</dd></> }
}

/// The text, or a dash when there is none.
fn text_or_dash(v: Option<String>) -> Html {
    html! { { v.unwrap_or_else(|| "—".into()) } }
}
