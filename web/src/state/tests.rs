//! Native tests of the page's state transitions ([`super::PageState`]).

use super::*;
use ryz014_core::timer::{Sleep, Timer};
use ryz014_sim::{PacedHandle, ServerError};
use std::time::Duration;

fn state() -> PageState {
    PageState::new(true, Rc::new(|| 0.0))
}

fn sim_link(id: u32) -> LinkInfo {
    LinkInfo {
        id,
        label: "simulated modem",
        sim: true,
    }
}

struct NoWait;

impl Timer for NoWait {
    fn sleep(&self, _: Duration) -> Sleep {
        Box::pin(std::future::ready(()))
    }
}

fn sim() -> PacedHandle {
    let clock: ryz014_sim::paced::RealClock = Rc::new(|| Duration::ZERO);
    ryz014_sim::paced::new(page_config(), clock, Rc::new(NoWait), 1.0)
        .unwrap()
        .1
}

#[test]
fn one_connection_at_a_time_and_old_messages_are_ignored() {
    let mut s = state();
    let id = s.begin_connect().unwrap();
    assert_eq!(s.begin_connect(), None);
    s.connected_to(sim_link(id));
    assert!(s.connected() && !s.connecting && !s.last_port);
    assert!(!s.info_read(id + 1, Err("old".into())));
    assert!(s.info_read(id, Err("no".into())));
    assert_eq!(s.info_error.as_deref(), Some("no"));
    assert!(!s.lost(id + 1, "gone".into()));
    assert!(s.lost(id, "Gone.".into()));
    assert!(!s.connected());
    assert_eq!(
        s.banner.as_deref(),
        Some("Gone. Nothing is being sent to it any more. Plug it back in and press Reconnect.")
    );
    let log = s.log.borrow();
    assert_eq!(log[0].text, "connected to the simulated modem");
}

#[test]
fn a_lost_link_during_provisioning_says_it_can_be_run_again() {
    let mut s = state();
    let id = s.begin_connect().unwrap();
    s.connected_to(LinkInfo {
        id,
        label: "Web Serial port",
        sim: false,
    });
    assert!(s.last_port);
    s.prov_running = true;
    assert!(s.lost(id, "Unplugged.".into()));
    assert!(!s.prov_running);
    assert!(s.banner.unwrap().contains("Provisioning was interrupted"));
}

#[test]
fn provisioning_needs_a_connection_and_an_imei() {
    let mut s = state();
    assert!(s.begin_provision(None).is_none());
    assert_eq!(
        s.prov_error.as_deref(),
        Some("Connect a modem (or the simulated one) first.")
    );
    let id = s.begin_connect().unwrap();
    s.connected_to(sim_link(id));
    assert!(s.begin_provision(None).is_none());
    assert!(s.plan_error.unwrap().contains("plan is made for its IMEI"));
}

#[test]
fn provisioning_registers_the_device_on_the_simulated_server_and_tracks_steps() {
    let mut s = state();
    let id = s.begin_connect().unwrap();
    s.connected_to(sim_link(id));
    s.info = Some(DeviceInfo {
        imei: Some("015770000031766".into()),
        ..DeviceInfo::default()
    });
    let h = sim();
    let plan = s.begin_provision(Some(&h)).expect("a plan");
    assert!(h.device_status(&h.endpoint()).is_some());
    assert!(s.prov_running);
    assert_eq!(s.steps.len(), plan.steps().len());
    s.prov_update(ProvUpdate::Started {
        check: false,
        index: 0,
    });
    s.prov_update(ProvUpdate::Done {
        check: false,
        index: 0,
    });
    s.prov_update(ProvUpdate::Started {
        check: false,
        index: 1,
    });
    s.prov_update(ProvUpdate::Note("rebooting".into()));
    assert!(!s.prov_done(Err("timeout".into())));
    assert_eq!(s.steps[0], StepState::Done);
    assert_eq!(s.steps[1], StepState::Failed);
    assert_eq!(s.prov_notes, vec!["rebooting".to_string()]);
    assert_eq!(s.prov_error.as_deref(), Some("timeout"));
}

#[test]
fn an_upgrade_is_scheduled_on_the_simulated_server_only() {
    let mut s = state();
    assert!(!s.schedule_upgrade(None));
    assert_eq!(
        s.server_note.as_deref(),
        Some("Use the simulated modem first.")
    );
    let id = s.begin_connect().unwrap();
    s.connected_to(sim_link(id));
    assert!(!s.schedule_upgrade(None));
    assert!(s
        .server_note
        .as_deref()
        .unwrap()
        .contains("simulated modem only"));
    let h = sim();
    assert!(!s.schedule_upgrade(Some(&h)));
    assert!(s
        .server_note
        .as_deref()
        .unwrap()
        .contains("does not know this modem yet"));
    let ep = h.endpoint();
    h.register_device(&ep, &ep, &"11".repeat(32)).unwrap();
    assert!(s.schedule_upgrade(Some(&h)));
    assert!(!s.schedule_upgrade(Some(&h)), "the tick already runs");
    let (query, again) = s.server_tick(Some(&h));
    assert_eq!(query.as_deref(), Some(ep.as_str()));
    assert!(!again && !s.ticking);
    assert_eq!(
        s.server_note.as_deref(),
        Some("Image 5.4.1.1-57901 (good) scheduled for urn:imei:015770000031766; asking the modem to check for it…")
    );
    assert!(query_refused_note(&ServerError::Busy(ep.clone())).contains("busy"));
    s.query_done(Err(ServerError::UnknownDevice("x".into())));
    assert_eq!(
        s.server_note.as_deref(),
        Some("server: no device with endpoint name `x`")
    );
}

#[test]
fn the_terminal_history_is_redacted_and_browsable() {
    let mut s = state();
    s.term_input = "AT".into();
    assert_eq!(s.term_send(), None);
    assert_eq!(s.term_error.as_deref(), Some("Not connected."));
    let id = s.begin_connect().unwrap();
    s.connected_to(sim_link(id));
    assert_eq!(s.term_send().as_deref(), Some("AT"));
    assert!(s.term_busy && s.term_input.is_empty());
    s.term_done(Ok(()));
    s.term_input = "ATI1".into();
    s.term_send();
    s.term_done(Err("timeout".into()));
    assert_eq!(s.term_error.as_deref(), Some("timeout"));
    assert!(s.term_history(true));
    assert_eq!(s.term_input, "ATI1");
    s.term_history(true);
    assert_eq!(s.term_input, "AT");
    s.term_history(false);
    assert_eq!(s.term_input, "ATI1");
    s.term_history(false);
    assert_eq!(s.term_input, "");
}

#[test]
fn the_log_keeps_its_last_lines() {
    let log = RefCell::new(Vec::new());
    for i in 0..LOG_KEEP + 3 {
        push_log(&log, LogLine::note(0.0, i.to_string()));
    }
    let log = log.borrow();
    assert_eq!(log.len(), LOG_KEEP);
    assert_eq!(log[0].text, "3");
}

#[test]
fn small_helpers() {
    assert_eq!(title_case("downloading"), "Downloading");
    assert_eq!(title_case(""), "");
    assert_eq!(page_config().download_bps, 8_000);
}
