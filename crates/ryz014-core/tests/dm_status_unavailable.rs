//! `info` on a modem that gives no LwM2M status: the registration is typed as unavailable (no
//! front end matches `SQNDMST` in error text), while the read errors keep their line.

use futures::executor::block_on;
use futures::io::AsyncReadExt;
use ryz014_core::client::Client;
use ryz014_core::session::{self, DmStatusUnavailable};
use ryz014_sim::{SimConfig, SimHandle, SimStream, SimTimer};

#[test]
fn a_modem_without_lwm2m_status_reads_as_registration_unavailable() {
    let (stream, timer, _h): (SimStream, SimTimer, SimHandle) =
        ryz014_sim::sim::new(SimConfig::default()).unwrap();
    let (r, w) = stream.split();
    let mut c = Client::new(r, w, timer);
    let info = block_on(session::device_info(&mut c, "standard")).unwrap();
    assert!(info.registration.is_none(), "{info:?}");
    let u = info.registration_unavailable.clone().expect("unavailable");
    assert!(u.error.contains("SQNDMST"), "{u:?}");
    assert!(info.errors.contains(&u.error), "{:?}", info.errors);
    assert!(info.other_errors().all(|e| e != &u.error));
    assert_eq!(u.summary(), DmStatusUnavailable::SUMMARY);
    let json = serde_json::to_value(&info).unwrap();
    assert!(json.get("registration_unavailable").is_none(), "{json}");
}
