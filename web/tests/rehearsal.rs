//! The rehearsal the page offers with its simulated modem, run natively on the simulator's
//! virtual clock: provision with the page's simulator settings, then a good image scheduled on
//! the server and requested at once (network-initiated query, as "Schedule upgrade" does) is
//! watched to `installed`, then a wrong image to its failure with the core's advice.
#![cfg(not(target_arch = "wasm32"))]

use std::time::Duration;

use futures::executor::block_on;
use futures::io::AsyncReadExt;
use ryz014_core::client::Client;
use ryz014_core::fota::{FotaPhase, FotaTracker};
use ryz014_core::provision::Plan;
use ryz014_core::psk::PskSecret;
use ryz014_core::session::{self, MonitorEnd, Until};
use ryz014_core::timer::Timer;
use ryz014_sim::{FirmwareImage, ServerError, SimHandle, SimStream, SimTimer};
use ryz014_web::logic::{Field, ProfileForm};

type SimClient = Client<futures::io::ReadHalf<SimStream>, futures::io::WriteHalf<SimStream>>;

fn sim() -> (SimClient, SimHandle, SimTimer) {
    let (stream, timer, handle) = ryz014_sim::sim::new(ryz014_web::state::page_config()).unwrap();
    let (r, w) = stream.split();
    (Client::new(r, w, timer.clone()), handle, timer)
}

/// Asks the device to check now, retrying (as the page does every 500 ms) until it accepts.
fn query_until_accepted(h: &SimHandle, t: &SimTimer, endpoint: &str) {
    let deadline = h.now() + Duration::from_secs(3600);
    loop {
        match h.network_query(endpoint) {
            Ok(()) => return,
            Err(ServerError::NotRegistered(_) | ServerError::Busy(_)) => {
                assert!(h.now() < deadline, "the device never accepted the query");
                block_on(t.sleep(Duration::from_secs(5)));
            }
            Err(e) => panic!("{e}"),
        }
    }
}

fn watch(c: &mut SimClient, tracker: &mut FotaTracker, t: &SimTimer, until: Until) -> MonitorEnd {
    let t2 = t.clone();
    block_on(session::monitor(
        c,
        tracker,
        move || t2.now(),
        until,
        Duration::from_secs(3600),
        |_| {},
    ))
    .unwrap()
}

#[test]
fn provision_then_a_good_then_a_wrong_image() {
    let (mut c, h, t) = sim();
    let mut form = ProfileForm::default();
    form.set(Field::Uri, "coaps://bootstrap.example.test:5684");
    form.set(Field::ServerId, "123");
    form.set(Field::HoldOff, "30");
    let profile = form.to_profile().unwrap();
    let imei = block_on(session::read_imei(&mut c)).unwrap();
    let secret = PskSecret::generate().unwrap();
    let plan = Plan::new(&profile, &imei, &secret).unwrap();
    let creds = plan.credentials().clone();
    h.register_device(
        &creds.endpoint_name,
        &creds.psk_identity,
        &secret.expose_hex(),
    )
    .unwrap();
    let mut tracker = FotaTracker::new();
    let mut seen = Vec::new();
    block_on(session::provision(&mut c, &plan, |ev| {
        if let session::ProvisionEvent::Notification(m) = ev {
            seen.push(m.clone());
        }
    }))
    .unwrap();
    for m in &seen {
        tracker.apply(t.now(), m);
    }

    h.schedule_firmware(&creds.endpoint_name, FirmwareImage::good("5.4.1.1-57901"))
        .unwrap();
    query_until_accepted(&h, &t, &creds.endpoint_name);
    assert_eq!(
        watch(&mut c, &mut tracker, &t, Until::Done),
        MonitorEnd::Installed
    );
    assert_eq!(tracker.phase(), FotaPhase::Installed);
    assert_eq!(h.firmware(), "5.4.1.1-57901");

    h.schedule_firmware(&creds.endpoint_name, FirmwareImage::wrong("5.4.1.1-57902"))
        .unwrap();
    query_until_accepted(&h, &t, &creds.endpoint_name);
    assert_eq!(
        watch(&mut c, &mut tracker, &t, Until::Done),
        MonitorEnd::Failed
    );
    let cause = tracker.error().unwrap();
    assert_eq!(cause.cause, 8);
    assert!(
        cause
            .advice
            .to_lowercase()
            .contains("check the image uploaded"),
        "{}",
        cause.advice
    );
    assert_eq!(h.firmware(), "5.4.1.1-57901");
    eprintln!("virtual time used: {:?}", h.now());
}
