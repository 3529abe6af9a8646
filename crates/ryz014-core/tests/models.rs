//! The FOTA tracker, the registration model and the plain-words descriptions against the
//! application note's transcripts (§4.3.3, §4.5.2, §4.7.1, §6.3.3), plus the `decode --json`
//! record shape for every kind of line.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;
#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

use std::time::Duration;

use ryz014_core::describe::{decode_record, explain, redact_command_text};
use ryz014_core::fota::{FotaOutcome, FotaPhase, FotaTracker};
use ryz014_core::message::{
    BootEvent, DmConfigLine, DmStatusLine, ErrorCode, FinalResult, FirmwareLine, FotaConfigLine,
    FotaKeyword, FotaNotification, Message, Registration, ServerRole,
};
use ryz014_core::parse::parse_line;
use ryz014_core::registration::{RegistrationStatus, ServerStatus};
use serde_json::json;

// ---------------------------------------------------------------------------------------------
// Message builders (the parser is tested on its own; these keep the model tests independent).

fn fota(state: u32) -> Message {
    Message::Fota(FotaNotification {
        state: Some(state),
        ..Default::default()
    })
}

fn fota_cause(state: u32, cause: u32) -> Message {
    Message::Fota(FotaNotification {
        state: Some(state),
        cause: Some(cause),
        ..Default::default()
    })
}

fn fota_progress(pct: u32) -> Message {
    Message::Fota(FotaNotification {
        state: Some(5),
        cause: Some(3),
        progress: Some(pct),
        ..Default::default()
    })
}

fn fota_event(k: FotaKeyword) -> Message {
    Message::Fota(FotaNotification {
        event: Some(k),
        ..Default::default()
    })
}

fn fota_installed(version: &str) -> Message {
    Message::Fota(FotaNotification {
        event: Some(FotaKeyword::Installed),
        version: Some(version.into()),
        ..Default::default()
    })
}

fn boot(event: BootEvent) -> Message {
    Message::Boot { event }
}

fn lr(v: &str) -> Message {
    Message::Firmware(FirmwareLine::Lr(v.into()))
}

fn cereg(stat: u8) -> Message {
    Message::Registration(Registration {
        n: None,
        stat,
        tac: None,
        cell_id: None,
        act: None,
    })
}

fn dmst(role: ServerRole, id: u32, status: &str, timer: i64, update_in: i64) -> DmStatusLine {
    DmStatusLine {
        role,
        server_id: id,
        status: status.into(),
        timer,
        update_in,
    }
}

/// §4.5.2, from `ATI1` to the reconnection, as the modem sends it (the note's OCR errors
/// `+SONFOTA` corrected to `+SQNFOTA`; lines it wraps joined): `tests/fixtures/note-4-5-2.txt`.
const NOTE_4_5_2: &str = include_str!("../../../tests/fixtures/note-4-5-2.txt");

/// §4.7.1, the wrong-image log, without the note's `//` comments: `tests/fixtures/note-4-7-1.txt`.
const NOTE_4_7_1: &str = include_str!("../../../tests/fixtures/note-4-7-1.txt");

fn parse_all(text: &str) -> Vec<Message> {
    text.lines().map(parse_line).collect()
}

/// The §4.5.2 transcript, decoded by the parser.
fn note_4_5_2() -> Vec<Message> {
    parse_all(NOTE_4_5_2)
}

/// The §4.7.1 log, decoded by the parser.
fn note_4_7_1() -> Vec<Message> {
    parse_all(NOTE_4_7_1)
}

/// §4.5.2 built by hand: the shapes the models rely on.
fn note_4_5_2_built() -> Vec<Message> {
    let mut v = vec![
        Message::Command {
            text: "ATI1".into(),
        },
        Message::Firmware(FirmwareLine::Ue("5.4.1.1".into())),
        lr("5.4.1.1-57857"),
        Message::Final(FinalResult::Ok),
        fota(4),
        fota(3),
        fota_event(FotaKeyword::Available),
        fota(4),
        fota(3),
        fota(5),
    ];
    for pct in (0..=100).step_by(10) {
        v.push(fota_progress(pct));
    }
    v.extend([
        fota_event(FotaKeyword::Downloaded),
        fota(6),
        fota(7),
        fota_event(FotaKeyword::Install),
        boot(BootEvent::Sysstart),
        cereg(2),
        fota(8),
        fota_installed("5.4.1.1-57830"),
        Message::Registration(Registration {
            n: None,
            stat: 1,
            tac: Some("0002".into()),
            cell_id: Some("01A2D002".into()),
            act: Some(7),
        }),
    ]);
    v
}

/// §4.7.1 built by hand.
fn note_4_7_1_built() -> Vec<Message> {
    vec![
        fota_event(FotaKeyword::Downloaded),
        fota(6),
        fota(7),
        fota_event(FotaKeyword::Install),
        boot(BootEvent::Sysstart),
        fota(3),
        fota_cause(3, 8),
    ]
}

fn run(tracker: &mut FotaTracker, msgs: &[Message]) {
    for (i, m) in msgs.iter().enumerate() {
        tracker.apply(Duration::from_secs(i as u64), m);
    }
}

// ---------------------------------------------------------------------------------------------
// FOTA tracker

#[test]
fn the_parser_gives_the_shapes_the_models_expect() {
    assert_eq!(note_4_5_2(), note_4_5_2_built());
    assert_eq!(note_4_7_1(), note_4_7_1_built());
}

#[test]
fn note_4_5_2_good_image_ends_installed() {
    let mut t = FotaTracker::new();
    let mut powered_from = None;
    let mut progress_seen = Vec::new();
    for (i, m) in note_4_5_2().iter().enumerate() {
        let u = t.apply(Duration::from_secs(i as u64), m);
        if let Some(u) = u {
            if u.keep_powered && powered_from.is_none() {
                powered_from = Some(m.clone());
            }
            if u.phase == FotaPhase::Downloading {
                progress_seen.push(u.progress);
            }
            if u.phase == FotaPhase::Installing {
                assert!(u.keep_powered, "must stay powered while installing");
            }
        }
    }
    assert_eq!(
        *t.outcome(),
        FotaOutcome::Installed {
            version: Some("5.4.1.1-57830".into())
        }
    );
    assert!(t.is_done());
    assert!(!t.keep_powered());
    assert_eq!(t.phase(), FotaPhase::Installed);
    assert_eq!(t.target_version(), Some("5.4.1.1-57830"));
    assert_eq!(t.version_before(), Some("5.4.1.1-57857"));
    assert_eq!(t.version_after(), Some("5.4.1.1-57830"));
    assert_eq!(t.progress(), Some(100));
    assert_eq!(t.attempts(), 1);
    assert_eq!(t.error(), None);
    assert_eq!(powered_from, Some(fota_event(FotaKeyword::Downloaded)));
    // Bare 5 resets the progress, then 0, 10, ..., 100.
    let mut expected = vec![None];
    expected.extend((0..=100).step_by(10).map(|p| Some(p as u8)));
    assert_eq!(progress_seen, expected);
    let last = t.timeline().last().unwrap();
    assert_eq!(last.phase, FotaPhase::Installed);
    assert!(last.text.contains("5.4.1.1-57830"), "{}", last.text);
    assert!(last.text.contains("5.4.1.1-57857"), "{}", last.text);
    // The reboot during the installation is recognised as the expected one.
    assert!(t
        .timeline()
        .iter()
        .any(|e| e.text.contains("expected reboot")));
}

#[test]
fn note_4_7_1_wrong_image_ends_failed_with_advice() {
    let mut t = FotaTracker::new();
    let msgs = note_4_7_1();
    let mut powered = Vec::new();
    for (i, m) in msgs.iter().enumerate() {
        let u = t.apply(Duration::from_secs(i as u64), m).unwrap();
        powered.push(u.keep_powered);
    }
    // Powered from "downloaded" through the idle state after the reboot, released at 3,8.
    assert_eq!(powered, vec![true, true, true, true, true, true, false]);
    match t.outcome() {
        FotaOutcome::Failed {
            cause,
            explanation,
            advice,
        } => {
            assert_eq!(*cause, 8);
            assert_eq!(
                explanation,
                "Installation failed: the modem rejected the image."
            );
            assert_eq!(
                advice,
                "Check the image uploaded to the server (note §4.7.1): it must be the \
                 differential .dup for this firmware version."
            );
        }
        other => panic!("expected a failure, got {other:?}"),
    }
    assert_eq!(t.phase(), FotaPhase::Failed);
    assert!(t.is_done());
    assert_eq!(t.error().map(|e| e.cause), Some(8));
}

#[test]
fn note_4_3_3_activation_states() {
    let mut t = FotaTracker::new();
    let phases: Vec<FotaPhase> = [fota(1), fota(2), fota(3)]
        .iter()
        .map(|m| t.apply(Duration::ZERO, m).unwrap().phase)
        .collect();
    assert_eq!(
        phases,
        vec![FotaPhase::Onboarding, FotaPhase::Stopped, FotaPhase::Idle]
    );
    assert!(!t.is_done());
    assert!(!t.keep_powered());
}

#[test]
fn state_survives_unknown_and_out_of_order_lines() {
    let mut t = FotaTracker::new();
    run(&mut t, &note_4_7_1());
    let before = t.outcome().clone();
    let noise = [
        fota(42),
        fota_cause(9, 9),
        fota_event(FotaKeyword::Other("weird".into())),
        Message::Fota(FotaNotification::default()),
    ];
    // Unknown states and keywords change the reported phase at most, never the outcome.
    for m in &noise {
        let u = t.apply(Duration::ZERO, m).unwrap();
        assert!(u.done);
        assert_eq!(*t.outcome(), before);
        assert_eq!(t.error().map(|e| e.cause), Some(8));
    }
    assert_eq!(t.phase(), FotaPhase::Unknown(9));
    // Late progress during an installation is ignored.
    let mut t = FotaTracker::new();
    run(&mut t, &[fota(5), fota_progress(50), fota(6), fota(7)]);
    let u = t.apply(Duration::ZERO, &fota_progress(60)).unwrap();
    assert_eq!(u.phase, FotaPhase::Installing);
    assert_eq!(u.progress, Some(100));
    assert!(u.keep_powered);
    let u = t.apply(Duration::ZERO, &fota(5)).unwrap();
    assert_eq!(u.phase, FotaPhase::Installing);
    assert!(u.keep_powered);
}

#[test]
fn a_stray_install_after_the_end_opens_a_new_attempt() {
    let mut t = FotaTracker::new();
    run(&mut t, &[fota_installed("1.2.3"), fota(7)]);
    // A stray "install" after the end opens a new attempt rather than corrupting the old one.
    assert_eq!(t.attempts(), 2);
    assert!(t.keep_powered());
    run(&mut t, &[fota(8)]);
    assert!(t.is_done());
}

#[test]
fn ati1_after_installation_confirms_the_new_version() {
    let mut t = FotaTracker::new();
    run(
        &mut t,
        &[
            lr("5.4.1.1-57857"),
            fota_event(FotaKeyword::Available),
            fota(5),
            fota(6),
            fota(7),
            boot(BootEvent::Shutdown),
            boot(BootEvent::Sysstart),
        ],
    );
    assert!(!t.is_done());
    assert!(t.keep_powered());
    run(&mut t, &[lr("5.4.1.1-57830")]);
    assert_eq!(
        *t.outcome(),
        FotaOutcome::Installed {
            version: Some("5.4.1.1-57830".into())
        }
    );
    assert!(!t.keep_powered());
    assert_eq!(t.version_before(), Some("5.4.1.1-57857"));
}

#[test]
fn ati1_with_the_same_version_does_not_claim_success() {
    let mut t = FotaTracker::new();
    run(
        &mut t,
        &[
            lr("5.4.1.1-57857"),
            fota(5),
            fota(6),
            fota(7),
            lr("5.4.1.1-57857"),
        ],
    );
    assert_eq!(*t.outcome(), FotaOutcome::InProgress);
    assert!(t.keep_powered());
}

#[test]
fn a_retry_after_a_failure_is_a_new_attempt() {
    let mut t = FotaTracker::new();
    run(&mut t, &note_4_7_1());
    run(&mut t, &note_4_5_2());
    assert_eq!(t.attempts(), 2);
    assert!(matches!(t.outcome(), FotaOutcome::Installed { .. }));
    assert_eq!(t.error(), None);
}

/// Only `3,8` is documented as a failure (§4.7.1): another cause of state 3 is said as it is,
/// "state 3, cause N (not documented)", with the LwM2M reading marked as inferred, and is not a
/// failure.
#[test]
fn other_causes_of_state_3_are_not_called_failures() {
    for (cause, inferred) in [
        (5, Some("integrity")),
        (2, Some("flash")),
        (200, None),
        (0, Some("initial")),
    ] {
        let mut t = FotaTracker::new();
        run(&mut t, &[fota(5)]);
        let u = t
            .apply(Duration::from_secs(1), &fota_cause(3, cause))
            .expect("an update");
        assert_eq!(u.phase, FotaPhase::Idle, "cause {cause}");
        assert!(
            !matches!(t.outcome(), FotaOutcome::Failed { .. }),
            "cause {cause}"
        );
        assert!(
            u.text
                .contains(&format!("state 3, cause {cause} (not documented)")),
            "{}",
            u.text
        );
        assert!(!u.text.contains("upgrade failed"), "{}", u.text);
        assert!(!u.text.contains(".."), "{}", u.text);
        match inferred {
            Some(word) => {
                assert!(u.text.contains(word), "{}", u.text);
                assert!(u.text.contains("inferred"), "{}", u.text);
            }
            None => assert!(!u.text.contains("possibly"), "{}", u.text),
        }
        let e = explain(&fota_cause(3, cause));
        assert!(
            e.contains(&format!("state 3, cause {cause} (not documented)")),
            "{e}"
        );
        let r = decode_record(1, &fota_cause(3, cause));
        assert_eq!(r["phase"], "idle");
        assert!(r.get("advice").is_none(), "{r}");
    }
    // 3,8 stays the documented failure.
    let mut t = FotaTracker::new();
    run(&mut t, &[fota(5), fota_cause(3, 8)]);
    assert!(matches!(t.outcome(), FotaOutcome::Failed { cause: 8, .. }));
}

#[test]
fn progress_above_100_is_flagged_and_not_taken() {
    let mut t = FotaTracker::new();
    run(&mut t, &[fota(5), fota_progress(40)]);
    let u = t
        .apply(Duration::from_secs(1), &fota_progress(150))
        .expect("an update");
    assert!(u.text.contains("150 % is above 100 %"), "{}", u.text);
    assert_eq!(t.progress(), Some(40));
    assert!(explain(&fota_progress(150)).contains("above 100 %"));
    let r = decode_record(1, &fota_progress(150));
    assert_eq!(r["progress"], 150);
    assert_eq!(r["progress_invalid"], true);
    assert!(decode_record(1, &fota_progress(100))
        .get("progress_invalid")
        .is_none());
}

#[cfg(not(target_arch = "wasm32"))]
mod properties {
    use super::*;
    use proptest::prelude::*;

    fn any_message() -> impl Strategy<Value = Message> {
        prop_oneof![
            (0u32..12).prop_map(fota),
            (0u32..12, 0u32..15).prop_map(|(s, c)| fota_cause(s, c)),
            (0u32..130).prop_map(fota_progress),
            prop_oneof![
                Just(FotaKeyword::Available),
                Just(FotaKeyword::Downloaded),
                Just(FotaKeyword::Install),
                Just(FotaKeyword::Installed),
                "[a-z]{0,6}".prop_map(FotaKeyword::Other),
            ]
            .prop_map(fota_event),
            "[0-9.-]{0,12}".prop_map(|v| fota_installed(&v)),
            Just(boot(BootEvent::Shutdown)),
            Just(boot(BootEvent::Sysstart)),
            "[0-9.-]{0,12}".prop_map(|v| lr(&v)),
            (0u8..6).prop_map(cereg),
        ]
    }

    proptest! {
        #[test]
        fn tracker_invariants_hold_for_any_sequence(
            msgs in proptest::collection::vec(any_message(), 0..80),
        ) {
            let mut t = FotaTracker::with_timeline_capacity(16);
            for (i, m) in msgs.iter().enumerate() {
                let u = t.apply(Duration::from_millis(i as u64), m);
                if let Some(u) = u {
                    prop_assert_eq!(u.phase, t.phase());
                    prop_assert_eq!(u.keep_powered, t.keep_powered());
                    prop_assert_eq!(u.done, t.is_done());
                }
                prop_assert!(t.progress().unwrap_or(0) <= 100);
                prop_assert!(t.timeline().len() <= 16);
                // An ended upgrade never asks to keep the modem powered.
                if t.is_done() {
                    prop_assert!(!t.keep_powered());
                }
                if let FotaOutcome::Failed { cause, .. } = t.outcome() {
                    prop_assert_eq!(t.error().map(|e| e.cause), Some(*cause));
                }
                // Every explanation and record is produced without panicking.
                let _ = explain(m);
                let rec = decode_record(i + 1, m);
                prop_assert!(rec["explanation"].is_string());
            }
        }

        #[test]
        fn redaction_never_leaks_more_than_four_secret_digits(
            secret in "[0-9a-f]{5,64}",
            prefix in "(AT\\+SQNDMCFG=|at\\+sqndmcfg=|\\+SQNDMCFG: )",
            quoted in any::<bool>(),
        ) {
            let q = if quoted { "\"" } else { "" };
            let line = format!("{prefix}{q}standard{q},{q}psk{q},100,{q}urn:imei:015770000031766{q},{q}{secret}{q}");
            let r = redact_command_text(&line);
            prop_assert!(!r.contains(&secret[..5]));
            let expected_tail = format!(",{q}{}…{q}", &secret[..4]);
            prop_assert!(r.ends_with(&expected_tail), "{}", r);
        }

        #[test]
        fn redaction_never_panics(s in any::<String>()) {
            let _ = redact_command_text(&s);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Registration (note §6.3.3, every example)

#[test]
fn note_6_3_3_hold_off() {
    let s = RegistrationStatus::from_lines(&[
        dmst(ServerRole::Bs, 100, "BS_HOLD_OFF", 10, 7),
        dmst(ServerRole::Dm, 101, "DEREGISTERED", 86400, 86397),
    ]);
    assert_eq!(
        s.servers()[0].explain(),
        "The bootstrap process is delayed by the carrier's hold-off timer. It will start in 7 seconds."
    );
    assert!(!s.bootstrap_done());
    assert!(!s.is_registered());
    assert_eq!(
        s.summary(),
        "Bootstrap not started: waiting for the carrier's hold-off timer (7 seconds left)."
    );
}

#[test]
fn note_6_3_3_bootstrap_under_way() {
    let s = RegistrationStatus::from_lines(&[
        dmst(ServerRole::Bs, 100, "BS_INITIATED", 10, -1),
        dmst(ServerRole::Dm, 101, "DEREGISTERED", 86400, 86363),
    ]);
    assert_eq!(
        s.servers()[0].explain(),
        "The bootstrap process is under way."
    );
    assert!(!s.bootstrap_done());
    assert!(!s.is_registered());
    assert_eq!(s.summary(), "Bootstrap under way; not registered yet.");
}

#[test]
fn note_6_3_3_bootstrap_done_registration_pending() {
    let s = RegistrationStatus::from_lines(&[
        dmst(ServerRole::Bs, 100, "BS_FINISHED", 10, -1),
        dmst(ServerRole::Dm, 102, "DEREGISTERED", 2592000, 22),
        dmst(ServerRole::Dm, 101, "REG_PENDING", 86400, -1),
    ]);
    assert_eq!(
        s.explanations(),
        vec![
            "The bootstrap process was successful.".to_string(),
            "Server 102 registration starts in 22 seconds.".to_string(),
            "Server 101 registration is under way.".to_string(),
        ]
    );
    assert!(s.bootstrap_done());
    assert!(!s.is_registered());
    assert_eq!(
        s.summary(),
        "Bootstrap done; not yet registered to any of the 2 device-management servers."
    );
}

#[test]
fn note_6_3_3_one_server_registered() {
    let s = RegistrationStatus::from_lines(&[
        dmst(ServerRole::Bs, 100, "BS_FINISHED", 10, -1),
        dmst(ServerRole::Dm, 102, "DEREGISTERED", 2592000, 18),
        dmst(ServerRole::Dm, 101, "REGISTERED", 86400, 84597),
    ]);
    assert_eq!(
        s.explanations()[1..],
        [
            "Server 102 registration starts in 18 seconds.".to_string(),
            "Server 101 registration was successful. Registration update period is 24 h. \
             The next registration update is scheduled in 84597 s."
                .to_string(),
        ]
    );
    assert!(s.is_registered());
    assert_eq!(s.registered_servers(), vec![101]);
    assert_eq!(
        s.summary(),
        "Bootstrap done; registered to device-management server 101."
    );
}

#[test]
fn note_6_3_3_both_servers_registered() {
    let s = RegistrationStatus::from_lines(&[
        dmst(ServerRole::Bs, 100, "BS_FINISHED", 10, -1),
        dmst(ServerRole::Dm, 102, "REGISTERED", 2592000, 2587603),
        dmst(ServerRole::Dm, 101, "REGISTERED", 86400, 81965),
    ]);
    assert_eq!(
        s.explanations()[1..],
        [
            "Server 102 registration was successful. Registration update period is 30 days \
             (2,592,000 seconds). The next registration update is scheduled in 2,587,603 s."
                .to_string(),
            // The note writes "81,965 s" here but "84597 s" above; we group digits from six on.
            "Server 101 registration was successful. Registration update period is 24 h. \
             The next registration update is scheduled in 81965 s."
                .to_string(),
        ]
    );
    assert_eq!(s.registered_servers(), vec![102, 101]);
    assert_eq!(
        s.summary(),
        "Bootstrap done; registered to device-management servers 102 and 101."
    );
}

#[test]
fn registration_from_messages_skips_other_lines() {
    let msgs = vec![
        Message::Command {
            text: "AT+SQNDMST".into(),
        },
        Message::DmStatus(dmst(ServerRole::Bs, 100, "BS_FINISHED", 10, -1)),
        Message::DmStatus(dmst(ServerRole::Dm, 101, "REGISTERED", 86400, 84597)),
        Message::Final(FinalResult::Ok),
    ];
    let s = RegistrationStatus::from_messages(&msgs);
    assert_eq!(s.servers().len(), 2);
    assert!(s.is_registered());
    assert!(RegistrationStatus::from_messages(&[])
        .summary()
        .contains("ERROR"));
}

#[test]
fn failing_and_unknown_statuses_explain_without_inventing() {
    let failed = ServerStatus::from_line(&dmst(ServerRole::Bs, 100, "BS_FAILED", 10, -1));
    assert!(failed.explain().starts_with("The bootstrap failed."));
    assert!(failed.explain().contains("PSK"));
    let other = ServerStatus::from_line(&dmst(ServerRole::Dm, 7, "SOMETHING_NEW", 1, 2));
    assert_eq!(
        other.explain(),
        "Server 7 status SOMETHING_NEW (not documented)."
    );
    assert!(!other.is_registered());
}

// ---------------------------------------------------------------------------------------------
// describe: explain and decode_record

#[test]
fn explain_fota_lines() {
    let e = explain(&fota_cause(3, 8));
    assert!(e.contains("Failed"), "{e}");
    assert!(e.contains("Installation failed: the modem rejected the image."));
    assert!(e.contains(".dup"));
    let e = explain(&fota_progress(40));
    assert!(e.contains("Downloading") && e.contains("40 %"), "{e}");
    let e = explain(&fota(4));
    assert!(e.contains("not confirmed"), "{e}");
    let e = explain(&fota_installed("5.4.1.1-57830"));
    assert!(
        e.contains("Installed") && e.contains("5.4.1.1-57830"),
        "{e}"
    );
}

#[test]
fn explain_other_lines() {
    assert_eq!(
        explain(&Message::DmStatus(dmst(
            ServerRole::Dm,
            101,
            "REGISTERED",
            86400,
            84597
        ))),
        "Device-management server 101 (REGISTERED): Server 101 registration was successful. \
         Registration update period is 24 h. The next registration update is scheduled in 84597 s."
    );
    let psk = Message::DmConfig(DmConfigLine::Psk {
        profile: "standard".into(),
        server_id: 100,
        identity: "urn:imei:015770000031766".into(),
        secret_prefix: "87493467538357".into(),
    });
    let e = explain(&psk);
    assert!(e.contains("8749…"), "{e}");
    assert!(!e.contains("87493"), "{e}");
    let cfg = Message::FotaConfig(FotaConfigLine {
        profile: "standard".into(),
        mode: 0,
        report_state: 2,
        report_download: 10,
        timer_requested: Some(60),
        timer_actual: Some(86400),
        download_timeout: None,
        certificate: Some(11),
    });
    let e = explain(&cfg);
    for part in [
        "automatic",
        "intermediate errors",
        "every 10 %",
        "requested 1 min",
        "in use 24 h",
        "download timeout not set",
        "certificate 11",
    ] {
        assert!(e.contains(part), "{part} missing in {e}");
    }
    assert_eq!(
        explain(&Message::Registration(Registration {
            n: None,
            stat: 1,
            tac: Some("0002".into()),
            cell_id: Some("01A2D002".into()),
            act: Some(7),
        })),
        "Network registration: Registered on the home network (TAC 0002, cell 01A2D002, E-UTRAN)."
    );
    assert_eq!(
        explain(&Message::Unknown {
            raw: "garbage".into()
        }),
        "Not recognised; kept verbatim."
    );
    assert!(explain(&boot(BootEvent::Sysstart)).contains("booted"));
    assert!(explain(&Message::Imei {
        imei: "015770000031766".into()
    })
    .contains("urn:imei:015770000031766"));
    assert!(explain(&lr("5.4.1.1-57857")).contains("5.4.1.1-57857"));
    assert!(
        explain(&Message::Final(FinalResult::CmeError(ErrorCode::Number(
            532
        ))))
        .contains("already in progress")
    );
}

#[test]
fn record_command_redacts_the_secret() {
    let m = Message::Command {
        text: r#"AT+SQNDMCFG="standard","psk",100,"urn:imei:015770000031766","87493467538357""#
            .into(),
    };
    let r = decode_record(3, &m);
    assert_eq!(r["line"], json!(3));
    assert_eq!(r["kind"], json!("command"));
    assert_eq!(
        r["text"],
        json!(r#"AT+SQNDMCFG="standard","psk",100,"urn:imei:015770000031766","8749…""#)
    );
    assert!(!r.to_string().contains("87493467538357"));
    assert!(!r.to_string().contains("874934"));
}

#[test]
fn record_final() {
    let r = decode_record(1, &Message::Final(FinalResult::Ok));
    assert_eq!(r["kind"], json!("final"));
    assert_eq!(r["result"], json!("ok"));
    assert!(r.get("code").is_none_or(serde_json::Value::is_null));
    let r = decode_record(
        2,
        &Message::Final(FinalResult::CmeError(ErrorCode::Number(4))),
    );
    assert_eq!(r["result"], json!("cme_error"));
    assert_eq!(r["code"], json!(4));
    assert!(r["explanation"]
        .as_str()
        .unwrap()
        .contains("operation not supported"));
    let r = decode_record(
        2,
        &Message::Final(FinalResult::CmeError(ErrorCode::Text(
            "operation not supported".into(),
        ))),
    );
    assert_eq!(r["code"], json!("operation not supported"));
    let r = decode_record(
        2,
        &Message::Final(FinalResult::CmsError(ErrorCode::Number(500))),
    );
    assert_eq!(r["result"], json!("cms_error"));
    assert_eq!(r["code"], json!(500));
    assert_eq!(
        decode_record(2, &Message::Final(FinalResult::Error))["result"],
        json!("error")
    );
}

#[test]
fn record_fota_phase_from_the_line_alone() {
    let r = decode_record(7, &fota_progress(40));
    assert_eq!(r["kind"], json!("fota"));
    assert_eq!(r["state"], json!(5));
    assert_eq!(r["cause"], json!(3));
    assert_eq!(r["progress"], json!(40));
    assert_eq!(r["phase"], json!("downloading"));
    assert!(r.get("event").is_none_or(serde_json::Value::is_null));

    let r = decode_record(8, &fota_installed("5.4.1.1-57830"));
    assert_eq!(r["phase"], json!("installed"));
    assert_eq!(r["event"], json!("installed"));
    assert_eq!(r["version"], json!("5.4.1.1-57830"));
    assert!(r.get("state").is_none_or(serde_json::Value::is_null));

    let r = decode_record(9, &fota_cause(3, 8));
    assert_eq!(r["phase"], json!("failed"));
    assert_eq!(r["state"], json!(3));
    assert_eq!(r["cause"], json!(8));
    assert!(r["advice"].as_str().unwrap().contains(".dup"));

    assert_eq!(decode_record(1, &fota(4))["phase"], json!("checking"));
    assert_eq!(decode_record(1, &fota(77))["phase"], json!("unknown"));
    assert_eq!(
        decode_record(1, &fota_event(FotaKeyword::Other("odd".into())))["phase"],
        json!("unknown")
    );
    assert_eq!(
        decode_record(1, &fota_event(FotaKeyword::Install))["phase"],
        json!("installing")
    );
}

#[test]
fn record_dm_status() {
    let r = decode_record(
        4,
        &Message::DmStatus(dmst(ServerRole::Bs, 100, "BS_HOLD_OFF", 10, 7)),
    );
    assert_eq!(
        r,
        json!({
            "line": 4,
            "kind": "dm_status",
            "role": "bs",
            "server_id": 100,
            "status": "BS_HOLD_OFF",
            "timer": 10,
            "update_in": 7,
            "explanation": "Bootstrap server 100 (BS_HOLD_OFF): The bootstrap process is delayed \
                            by the carrier's hold-off timer. It will start in 7 seconds.",
        })
    );
}

#[test]
fn record_dm_config_groups() {
    let r = decode_record(
        1,
        &Message::DmConfig(DmConfigLine::Service {
            profile: "standard".into(),
            autostart: 1,
        }),
    );
    assert_eq!(r["kind"], json!("dm_config"));
    assert_eq!(r["group"], json!("service"));
    assert_eq!(r["autostart"], json!(1));
    let r = decode_record(
        1,
        &Message::DmConfig(DmConfigLine::Server {
            profile: "standard".into(),
            server_id: 100,
            lifetime: Some(60),
            url: "coaps://eu.iot.avsystem.cloud:5694".into(),
            cid: Some(1),
            server_type: ServerRole::Bs,
        }),
    );
    assert_eq!(r["group"], json!("server"));
    assert_eq!(r["server_type"], json!("bs"));
    assert_eq!(r["lifetime"], json!(60));
    assert_eq!(r["cid"], json!(1));
    assert!(r["explanation"]
        .as_str()
        .unwrap()
        .contains("hold-off 1 min"));
    let r = decode_record(
        1,
        &Message::DmConfig(DmConfigLine::Psk {
            profile: "standard".into(),
            server_id: 100,
            identity: "urn:imei:015770000031766".into(),
            secret_prefix: "87493467538357".into(),
        }),
    );
    assert_eq!(r["group"], json!("psk"));
    assert_eq!(r["secret_prefix"], json!("8749"));
    assert!(!r.to_string().contains("87493"));
}

#[test]
fn record_fota_config_registration_boot_info_unknown() {
    let r = decode_record(
        1,
        &Message::FotaConfig(FotaConfigLine {
            profile: "standard".into(),
            mode: 0,
            report_state: 2,
            report_download: 10,
            timer_requested: Some(60),
            timer_actual: None,
            download_timeout: None,
            certificate: Some(11),
        }),
    );
    assert_eq!(r["kind"], json!("fota_config"));
    assert_eq!(r["report_download"], json!(10));
    assert_eq!(r["timer_actual"], json!(null));
    assert_eq!(r["certificate"], json!(11));

    let r = decode_record(1, &cereg(2));
    assert_eq!(r["kind"], json!("registration"));
    assert_eq!(r["stat"], json!(2));
    assert_eq!(r["registered"], json!(false));

    let r = decode_record(1, &boot(BootEvent::Shutdown));
    assert_eq!(r["kind"], json!("boot"));
    assert_eq!(r["event"], json!("shutdown"));
    assert_eq!(
        decode_record(1, &boot(BootEvent::Sysstart))["event"],
        json!("sysstart")
    );

    let infos = [
        (
            Message::Imei {
                imei: "015770000031766".into(),
            },
            "imei",
            "imei",
            json!("015770000031766"),
        ),
        (
            lr("5.4.1.1-57857"),
            "firmware",
            "version",
            json!("5.4.1.1-57857"),
        ),
        (
            Message::OperatorMode {
                mode: "standard".into(),
            },
            "operator_mode",
            "mode",
            json!("standard"),
        ),
        (Message::Cfun { level: 5 }, "cfun", "level", json!(5)),
        (
            Message::AutoConnect { enabled: 1 },
            "autoconnect",
            "enabled",
            json!(1),
        ),
        (
            Message::Upgrade { raw: "1,2".into() },
            "upgrade",
            "raw",
            json!("1,2"),
        ),
        (
            Message::FotaConfigRange {
                ranges: "32,(0,1)".into(),
            },
            "fota_config_range",
            "ranges",
            json!("32,(0,1)"),
        ),
    ];
    for (m, info, field, value) in infos {
        let r = decode_record(5, &m);
        assert_eq!(r["kind"], json!("info"), "{m:?}");
        assert_eq!(r["info"], json!(info), "{m:?}");
        assert_eq!(r[field], value, "{m:?}");
        assert!(r["explanation"].is_string());
    }
    let r = decode_record(5, &Message::Prompt);
    assert_eq!(r["kind"], json!("info"));
    assert_eq!(r["info"], json!("prompt"));
    assert_eq!(
        decode_record(5, &Message::Firmware(FirmwareLine::Ue("5.4.1.1".into())))["component"],
        json!("ue")
    );

    let r = decode_record(6, &Message::Unknown { raw: "??".into() });
    assert_eq!(
        r,
        json!({"line": 6, "kind": "unknown", "raw": "??", "explanation": "Not recognised; kept verbatim."})
    );
}

#[test]
fn every_record_has_line_kind_and_explanation() {
    let all = note_4_5_2();
    for (i, m) in all.iter().enumerate() {
        let r = decode_record(i + 1, m);
        assert_eq!(r["line"], json!(i + 1));
        assert!(r["kind"].is_string());
        assert_eq!(r["explanation"], json!(explain(m)));
    }
}

#[test]
fn redaction_of_typed_commands() {
    assert_eq!(
        redact_command_text(
            r#"at+sqndmcfg="standard","PSK",100,"urn:imei:015770000031766","e9891e446e07ba10519059db4ad9eb1b""#
        ),
        r#"at+sqndmcfg="standard","PSK",100,"urn:imei:015770000031766","e989…""#
    );
    let server =
        r#"AT+SQNDMCFG="standard","server",100,"60","coaps://eu.iot.avsystem.cloud:5694","1","bs""#;
    assert_eq!(redact_command_text(server), server);
}

// ---------------------------------------------------------------------------------------------
// From text lines, through the parser

#[test]
fn note_6_3_3_from_text() {
    let answer = r#"AT+SQNDMST
+SQNDMST: "bs",100,"BS_FINISHED",10,-1
+SQNDMST: "dm",102,"DEREGISTERED",2592000,22
+SQNDMST: "dm",101,"REG_PENDING",86400,-1
OK"#;
    let s = RegistrationStatus::from_messages(&parse_all(answer));
    assert_eq!(
        s.explanations(),
        vec![
            "The bootstrap process was successful.".to_string(),
            "Server 102 registration starts in 22 seconds.".to_string(),
            "Server 101 registration is under way.".to_string(),
        ]
    );
    let answer = r#"+SQNDMST: "bs",100,"BS_HOLD_OFF",10,7
+SQNDMST: "dm",101,"DEREGISTERED",86400,86397
OK"#;
    let s = RegistrationStatus::from_messages(&parse_all(answer));
    assert_eq!(
        s.servers()[0].explain(),
        "The bootstrap process is delayed by the carrier's hold-off timer. It will start in 7 seconds."
    );
    let answer = r#"+SQNDMST: "bs",100,"BS_FINISHED",10,-1
+SQNDMST: "dm",102,"REGISTERED",2592000,2587603
+SQNDMST: "dm",101,"REGISTERED",86400,81965"#;
    let s = RegistrationStatus::from_messages(&parse_all(answer));
    assert_eq!(
        s.servers()[1].explain(),
        "Server 102 registration was successful. Registration update period is 30 days \
         (2,592,000 seconds). The next registration update is scheduled in 2,587,603 s."
    );
    assert!(s.is_registered() && s.bootstrap_done());
}

#[test]
fn decode_records_from_text_lines() {
    let lines = [
        (
            r#"AT+SQNDMCFG="standard","psk",100,"urn:imei:015770000031766","87493467538357""#,
            json!({"kind": "command", "text": r#"AT+SQNDMCFG="standard","psk",100,"urn:imei:015770000031766","8749…""#}),
        ),
        ("OK", json!({"kind": "final", "result": "ok"})),
        (
            "+CME ERROR: 50",
            json!({"kind": "final", "result": "cme_error", "code": 50}),
        ),
        (
            "+SQNFOTA: 5,3,40",
            json!({"kind": "fota", "state": 5, "cause": 3, "progress": 40, "phase": "downloading"}),
        ),
        (
            "+SQNFOTA: 3,8",
            json!({"kind": "fota", "state": 3, "cause": 8, "phase": "failed"}),
        ),
        (
            r#"+SQNFOTA: "installed","5.4.1.1-57830""#,
            json!({"kind": "fota", "event": "installed", "version": "5.4.1.1-57830", "phase": "installed"}),
        ),
        (
            r#"+SQNDMST: "dm",101,"REGISTERED",86400,84597"#,
            json!({"kind": "dm_status", "role": "dm", "server_id": 101, "status": "REGISTERED", "timer": 86400, "update_in": 84597}),
        ),
        (
            r#"+CEREG: 1,"0002","01A2D002",7"#,
            json!({"kind": "registration", "stat": 1, "tac": "0002", "cell_id": "01A2D002", "act": 7}),
        ),
        ("+SHUTDOWN", json!({"kind": "boot", "event": "shutdown"})),
        (
            "015770000031766",
            json!({"kind": "info", "info": "imei", "imei": "015770000031766"}),
        ),
        (
            "LR5.4.1.1-57857",
            json!({"kind": "info", "info": "firmware", "component": "lr", "version": "5.4.1.1-57857"}),
        ),
        (
            "+SONFOTA: 5,3,70",
            json!({"kind": "unknown", "raw": "+SONFOTA: 5,3,70"}),
        ),
    ];
    for (i, (line, expected)) in lines.iter().enumerate() {
        let msg = parse_line(line);
        let rec = decode_record(i + 1, &msg);
        assert_eq!(rec["line"], json!(i + 1));
        assert_eq!(rec["explanation"], json!(explain(&msg)));
        for (k, v) in expected.as_object().unwrap() {
            assert_eq!(&rec[k], v, "{line}: field {k} in {rec}");
        }
    }
}

#[test]
fn a_psk_read_line_never_shows_more_than_four_digits() {
    let msg = parse_line(r#"+SQNDMCFG: "standard","psk",100,"urn:imei:015770000031766","8749""#);
    let rec = decode_record(1, &msg);
    assert_eq!(rec["kind"], json!("dm_config"));
    assert_eq!(rec["group"], json!("psk"));
    assert_eq!(rec["secret_prefix"], json!("8749"));
    assert!(rec["explanation"].as_str().unwrap().contains("8749…"));
}
