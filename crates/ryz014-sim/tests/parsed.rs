//! The simulator's output through the core's parser (`ryz014_core::parse::parse_line`) and its
//! models: every line the simulator sends is understood, and the FOTA tracker and the
//! registration model reach the states the note describes.

mod common;

use std::time::Duration;

use common::*;
use ryz014_core::fota::{FotaOutcome, FotaPhase, FotaTracker};
use ryz014_core::message::{
    BootEvent, DmConfigLine, FinalResult, FirmwareLine, FotaKeyword, Message, ServerRole,
};
use ryz014_core::parse::parse_line;
use ryz014_core::registration::{EpsStatus, RegistrationStatus};
use ryz014_sim::{DmServerSpec, FirmwareImage, SimConfig};

const MIN: Duration = Duration::from_secs(60);

fn parsed(lines: &[String]) -> Vec<Message> {
    let msgs: Vec<Message> = lines.iter().map(|l| parse_line(l)).collect();
    for (l, m) in lines.iter().zip(&msgs) {
        assert!(
            !matches!(m, Message::Unknown { .. }),
            "not understood: {l:?} → {m:?}"
        );
    }
    msgs
}

#[test]
fn provisioning_answers_parse_into_the_shared_messages() {
    let mut h = Host::new(SimConfig {
        cmee: 1,
        ..SimConfig::default()
    });
    let mut lines = Vec::new();
    for c in [
        "AT+CGSN",
        "ATI1",
        "AT+SQNCTM?",
        "AT+SQNAUTOCONNECT=1",
        "AT+CFUN=5",
        r#"AT+SQNDMCFG="standard","service",1"#,
        r#"AT+SQNDMCFG="standard","server",100,"60","coaps://eu.iot.avsystem.cloud:5694","1","bs""#,
        r#"AT+SQNDMCFG="standard","psk",100,"urn:imei:015770000031766","87493467538357""#,
        r#"AT+SQNDMCFG="standard""#,
        r#"AT+SQNFOTACFG="standard",0,2,10,60,,60"#,
        "AT+SQNFOTACFG?",
        "AT+SQNFOTACFG=?",
        "AT+CFUN?",
        "AT+CEREG?",
        "AT+SQNDMST",
        "AT+NOPE",
    ] {
        lines.extend(h.cmd(c));
    }
    let msgs = parsed(&lines);
    let has = |pred: &dyn Fn(&Message) -> bool| msgs.iter().any(pred);
    assert!(has(
        &|m| matches!(m, Message::Command { text } if text == "AT+CGSN")
    ));
    assert!(has(
        &|m| matches!(m, Message::Imei { imei } if imei == "015770000031766")
    ));
    assert!(has(
        &|m| matches!(m, Message::Firmware(FirmwareLine::Lr(v)) if v == "5.4.1.1-57857")
    ));
    assert!(has(
        &|m| matches!(m, Message::OperatorMode { mode } if mode == "standard")
    ));
    assert!(has(&|m| matches!(m, Message::Cfun { level: 5 })));
    assert!(has(&|m| matches!(
        m,
        Message::DmConfig(DmConfigLine::Server {
            server_id: 100,
            lifetime: Some(60),
            cid: Some(1),
            server_type: ServerRole::Bs,
            ..
        })
    )));
    assert!(has(&|m| matches!(
        m,
        Message::DmConfig(DmConfigLine::Psk { server_id: 100, secret_prefix, .. }) if secret_prefix == "8749"
    )));
    assert!(has(&|m| matches!(
        m,
        Message::FotaConfig(f) if f.report_download == 10 && f.timer_requested == Some(60) && f.certificate == Some(60) && f.download_timeout.is_none()
    )));
    assert!(has(&|m| matches!(m, Message::FotaConfigRange { .. })));
    assert!(has(
        &|m| matches!(m, Message::Registration(r) if r.n == Some(2) && r.stat == 0)
    ));
    assert!(
        has(&|m| matches!(m, Message::Final(FinalResult::Error))),
        "SQNDMST while detached"
    );
    assert!(msgs.iter().any(|m| m.is_final()));
    assert_eq!(
        msgs.last(),
        Some(&Message::Final(FinalResult::CmeError(
            ryz014_core::message::ErrorCode::Number(4)
        )))
    );
}

fn fota_run(image: FirmwareImage) -> (Vec<String>, FotaTracker) {
    let mut h = provisioned(SimConfig::default(), r#""standard",0,2,10,60,,60"#);
    h.handle.schedule_firmware(EP, image).unwrap();
    let mut lines = h.lines_for(5 * MIN);
    lines.extend(h.ok("ATI1"));
    let msgs = parsed(&lines);
    let mut tracker = FotaTracker::new();
    let mut kept_powered_at_install = false;
    for (i, m) in msgs.iter().enumerate() {
        if let Some(u) = tracker.apply(Duration::from_secs(i as u64), m) {
            if matches!(m, Message::Fota(n) if n.event == Some(FotaKeyword::Install)) {
                kept_powered_at_install = u.keep_powered;
            }
        }
    }
    assert!(
        kept_powered_at_install,
        "the tracker must say: keep powered"
    );
    (lines, tracker)
}

#[test]
fn a_good_upgrade_tracks_to_installed() {
    let (lines, tracker) = fota_run(FirmwareImage::good("5.4.1.1-57830"));
    let msgs = parsed(&lines);
    assert!(msgs.iter().any(|m| matches!(
        m,
        Message::Fota(n) if n.state == Some(5) && n.cause == Some(3) && n.progress == Some(50)
    )));
    assert!(msgs.iter().any(|m| matches!(
        m,
        Message::Boot {
            event: BootEvent::Sysstart
        }
    )));
    assert_eq!(
        tracker.outcome(),
        &FotaOutcome::Installed {
            version: Some("5.4.1.1-57830".into())
        }
    );
    assert_eq!(tracker.progress(), Some(100));
    assert!(!tracker.keep_powered());
}

#[test]
fn a_wrong_image_tracks_to_failure_cause_8() {
    let (_, tracker) = fota_run(FirmwareImage::wrong("5.4.1.1-57830"));
    assert!(matches!(
        tracker.outcome(),
        FotaOutcome::Failed { cause: 8, .. }
    ));
    assert!(!tracker.keep_powered());
}

#[test]
fn dmst_lines_feed_the_registration_model() {
    let mut cfg = SimConfig::default();
    cfg.server.dm_servers = vec![
        DmServerSpec {
            server_id: 102,
            lifetime: 2_592_000,
            register_delay: Duration::from_secs(22),
        },
        DmServerSpec {
            server_id: 101,
            lifetime: 86_400,
            register_delay: Duration::ZERO,
        },
    ];
    let mut h = provisioned(cfg, r#""standard",0,2,10"#);
    let early = parsed(&h.ok("AT+SQNDMST"));
    let status = RegistrationStatus::from_messages(&early);
    assert!(status.bootstrap_done());
    assert!(status.is_registered());
    assert_eq!(status.registered_servers(), vec![101]);
    h.lines_for(MIN);
    let later = parsed(&h.ok("AT+SQNDMST"));
    let mut ids = RegistrationStatus::from_messages(&later).registered_servers();
    ids.sort_unstable();
    assert_eq!(ids, vec![101, 102]);
}

#[test]
fn the_full_function_reset_parses_into_the_events_of_section_4_3_3() {
    let mut h = Host::quiet(SimConfig::default());
    h.handle.register_device(EP, EP, SECRET).unwrap();
    provision(&mut h, r#""standard",0,2,10,60,,60"#);
    // `provision` ends at `+SQNFOTA: 3`; do the last reboot again and parse everything it says.
    h.send("AT+CFUN=1,1");
    let lines = h.until(10 * MIN, |l| l == "+SQNFOTA: 3");
    let msgs = parsed(&lines);
    assert_eq!(msgs[0], Message::Final(FinalResult::Ok));
    assert_eq!(
        msgs[1..3],
        [
            Message::Boot {
                event: BootEvent::Shutdown
            },
            Message::Boot {
                event: BootEvent::Sysstart
            }
        ]
    );
    type Eps<'a> = (EpsStatus, Option<&'a str>, Option<&'a str>, Option<u8>);
    let eps: Vec<Eps> = msgs
        .iter()
        .filter_map(|m| match m {
            Message::Registration(r) => Some((
                EpsStatus::from_stat(r.stat),
                r.tac.as_deref(),
                r.cell_id.as_deref(),
                r.act,
            )),
            _ => None,
        })
        .collect();
    assert_eq!(
        eps,
        vec![
            (EpsStatus::Searching, None, None, None),
            (EpsStatus::Home, Some("0002"), Some("01A2D002"), Some(7)),
        ],
        "connecting, then attached (§4.3.3)"
    );
    let mut tracker = FotaTracker::new();
    let phases: Vec<FotaPhase> = msgs
        .iter()
        .enumerate()
        .filter(|(_, m)| matches!(m, Message::Fota(_)))
        .filter_map(|(i, m)| tracker.apply(Duration::from_secs(i as u64), m))
        .map(|u| u.phase)
        .collect();
    assert_eq!(
        phases,
        vec![FotaPhase::Onboarding, FotaPhase::Stopped, FotaPhase::Idle]
    );
    assert!(!tracker.keep_powered());
    assert_eq!(tracker.outcome(), &FotaOutcome::InProgress);
}
