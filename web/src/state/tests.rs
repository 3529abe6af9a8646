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

/// A connected simulated modem whose device panel read `imei`.
fn connected_with(imei: &str) -> PageState {
    let mut s = state();
    let id = s.begin_connect().unwrap();
    s.connected_to(sim_link(id));
    s.info = Some(DeviceInfo {
        imei: Some(imei.into()),
        ..DeviceInfo::default()
    });
    s
}

/// Provisions the connected module (the simulated server learns it), ending with `r`.
fn provision_module(s: &mut PageState, r: Result<ProvisionReport, ProvFailure>, time: &str) {
    let h = sim();
    s.begin_provision(Some(&h)).expect("a plan");
    s.prov_finished(r, time.into());
}

use ryz014_core::session::ProvisionReport;

fn report() -> ProvisionReport {
    ProvisionReport {
        firmware: None,
        steps: 1,
        checks: 1,
        attach_missing: 0,
    }
}

#[test]
fn review_and_provision_wait_while_the_device_is_read() {
    let mut s = state();
    let id = s.begin_connect().unwrap();
    s.connected_to(sim_link(id));
    s.info_loading = true;
    s.review_plan();
    assert_eq!(s.plan_error.as_deref(), Some(READING_REASON));
    assert!(!s.plan_error.as_deref().unwrap().contains("Connect a modem"));
    assert!(s.begin_provision(None).is_none());
    assert_eq!(s.plan_error.as_deref(), Some(READING_REASON));
    assert_eq!(s.prov_error, None);
    assert!(s.info_read(
        id,
        Ok(DeviceInfo {
            imei: Some(sim_imei(0)),
            ..DeviceInfo::default()
        })
    ));
    s.review_plan();
    assert!(s.plan.is_some() && s.plan_error.is_none());
}

#[test]
fn the_fota_phase_says_nothing_was_reported_before_any_notification() {
    let t = ryz014_core::fota::FotaTracker::new();
    assert_eq!(fota_phase_text(&t), NOTHING_REPORTED);
    assert!(!fota_phase_text(&t).contains("state 0"));
    let mut t = t;
    let m = ryz014_core::parse::parse_line("+SQNFOTA: 6,0");
    t.apply(Duration::from_secs(1), &m);
    assert!(t.has_fota_state());
    assert_eq!(fota_phase_text(&t), t.phase().meaning());
    assert_ne!(fota_phase_text(&t), NOTHING_REPORTED);
}

#[test]
fn simulated_modules_get_distinct_valid_imeis() {
    assert_eq!(sim_imei(0), "015770000031766");
    let imeis: Vec<String> = (0..5).map(sim_imei).collect();
    for (i, a) in imeis.iter().enumerate() {
        assert!(ryz014_core::imei::Imei::parse(a).is_ok(), "{a}");
        assert!(!imeis[i + 1..].contains(a));
    }
    assert_eq!(sim_module_config(2).imei, imeis[2]);
    assert_eq!(
        sim_module_config(2).download_bps,
        page_config().download_bps
    );
}

#[test]
fn the_station_table_collects_modules_and_exports_the_provisioned_ones() {
    let mut s = connected_with(&sim_imei(0));
    provision_module(&mut s, Ok(report()), "10:00:00");
    assert!(s.unsaved.get());
    assert!(s.key.is_empty(), "the next module draws its own key");
    assert_eq!(s.station.len(), 1);
    assert_eq!(s.station[0].imei, sim_imei(0));
    assert_eq!(s.station[0].result_text(), "provisioned");
    assert_eq!(s.station[0].key_prefix().chars().count(), 5);
    let first_key = s.station[0].secret.expose_hex();

    // "Next module" on the simulated modem: a new IMEI, the view cleared, auto armed.
    match s.next_module() {
        NextModule::Sim(cfg) => assert_eq!(cfg.imei, sim_imei(1)),
        other => panic!("{other:?}"),
    }
    assert!(!s.connected() && s.info.is_none() && s.result.is_none() && s.auto_armed);
    let id = s.begin_connect().unwrap();
    s.connected_to(sim_link(id));
    s.info = Some(DeviceInfo {
        imei: Some(sim_imei(1)),
        ..DeviceInfo::default()
    });
    assert!(!s.take_auto_provision(), "automatic provisioning is off");
    provision_module(&mut s, Ok(report()), "10:01:00");

    // A module that fails keeps its row with the step and the answer.
    s.next_module();
    let id = s.begin_connect().unwrap();
    s.connected_to(sim_link(id));
    s.info = Some(DeviceInfo {
        imei: Some(sim_imei(2)),
        ..DeviceInfo::default()
    });
    let failure = ProvFailure {
        step: "configure-psk".into(),
        answer: "ERROR".into(),
        text: "step `configure-psk` failed: ERROR".into(),
    };
    provision_module(&mut s, Err(failure), "10:02:00");
    assert!(s.key.is_empty(), "a failed module's key is not reused");
    assert_eq!(s.station.len(), 3);
    assert_eq!(s.station[2].result_text(), "failed at configure-psk: ERROR");
    assert!(s
        .station_note
        .as_deref()
        .unwrap()
        .contains("failed at configure-psk: its row stays"));
    assert!(s.prov_error.as_deref().unwrap().contains("configure-psk"));
    assert!(!s.prov_running, "the station carries on");

    let csv = s.batch_csv().unwrap();
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(rows[0], ryz014_core::export::COIOTE_CSV_HEADER);
    assert_eq!(
        rows.len(),
        3,
        "the header and the two provisioned modules: {rows:?}"
    );
    assert!(rows[1].starts_with(&format!("urn:imei:{},", sim_imei(0))));
    assert!(rows[1].ends_with(&first_key));
    assert!(rows[2].starts_with(&format!("urn:imei:{},", sim_imei(1))));
    assert_ne!(rows[1].rsplit(',').next(), rows[2].rsplit(',').next());
    s.batch_saved(Ok(()));
    assert!(!s.unsaved.get());
    assert!(s.station_note.as_deref().unwrap().contains("2 module(s)"));
}

#[test]
fn a_module_already_in_the_table_is_not_rekeyed_without_confirmation() {
    let mut s = connected_with(&sim_imei(0));
    provision_module(&mut s, Ok(report()), "10:00:00");
    assert!(s.rekey_needs_confirmation());
    let h = sim();
    assert!(s.begin_provision(Some(&h)).is_none());
    assert!(s.prov_error.as_deref().unwrap().contains("Re-key anyway"));
    // Plugged in again with automatic provisioning: recognised, not re-keyed.
    s.auto_provision = true;
    s.auto_armed = true;
    assert!(!s.take_auto_provision());
    assert!(s
        .station_note
        .as_deref()
        .unwrap()
        .contains("already in the table"));
    // Confirmed: re-keyed, one row with the new key.
    let old = s.station[0].secret.expose_hex();
    s.rekey_confirmed = true;
    provision_module(&mut s, Ok(report()), "10:05:00");
    assert_eq!(s.station.len(), 1);
    assert_ne!(s.station[0].secret.expose_hex(), old);
    assert_eq!(s.station[0].time, "10:05:00");
}

#[test]
fn a_replugged_port_reconnects_only_when_the_station_waits_for_it() {
    let mut s = state();
    let id = s.begin_connect().unwrap();
    s.connected_to(LinkInfo {
        id,
        label: "Web Serial port",
        sim: false,
    });
    assert!(!s.plugged(), "connected: nothing to do");
    assert!(s.lost(id, "Unplugged.".into()));
    assert!(!s.plugged(), "a plain unplug waits for Reconnect");
    s.auto_provision = true;
    assert!(s.plugged());
    assert!(s.auto_armed);
    s.auto_provision = false;
    s.auto_armed = false;
    // "Next module" on a port: wait for the next plug.
    let id = s.begin_connect().unwrap();
    s.connected_to(LinkInfo {
        id,
        label: "Web Serial port",
        sim: false,
    });
    assert_eq!(s.next_module(), NextModule::WaitForPlug);
    assert!(!s.connected() && s.awaiting_next);
    assert!(s.plugged());
    assert!(!s.awaiting_next);
}

#[test]
fn automatic_provisioning_starts_once_per_new_module() {
    let mut s = state();
    s.auto_provision = true;
    let id = s.begin_connect().unwrap();
    s.connected_to(sim_link(id));
    assert!(s.auto_armed);
    assert!(s.info_read(
        id,
        Ok(DeviceInfo {
            imei: Some(sim_imei(3)),
            ..DeviceInfo::default()
        })
    ));
    assert!(s.take_auto_provision());
    assert!(!s.take_auto_provision(), "once per connection");
}
