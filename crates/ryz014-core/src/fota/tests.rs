//! The FOTA model's tests: phases, causes, upgrade errors and the tracker.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use std::time::Duration;

use super::*;
use crate::message::Message;

fn state(s: u32) -> Message {
    Message::Fota(FotaNotification {
        state: Some(s),
        ..Default::default()
    })
}

fn state_cause(s: u32, c: u32) -> Message {
    Message::Fota(FotaNotification {
        state: Some(s),
        cause: Some(c),
        ..Default::default()
    })
}

fn progress(p: u32) -> Message {
    Message::Fota(FotaNotification {
        state: Some(5),
        cause: Some(3),
        progress: Some(p),
        ..Default::default()
    })
}

fn keyword(k: FotaKeyword) -> Message {
    Message::Fota(FotaNotification {
        event: Some(k),
        ..Default::default()
    })
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

#[test]
fn from_state_maps_documented_states_and_keeps_others() {
    let expected = [
        (1, "onboarding"),
        (2, "stopped"),
        (3, "idle"),
        (4, "checking"),
        (5, "downloading"),
        (6, "downloaded"),
        (7, "installing"),
        (8, "installed"),
    ];
    for (s, name) in expected {
        assert_eq!(FotaPhase::from_state(s).name(), name);
    }
    assert_eq!(FotaPhase::from_state(0), FotaPhase::Unknown(0));
    assert_eq!(FotaPhase::from_state(42), FotaPhase::Unknown(42));
    assert_eq!(FotaPhase::Unknown(42).name(), "unknown");
    assert!(FotaPhase::Unknown(42).meaning().contains("42"));
}

#[test]
fn checking_meaning_says_the_name_is_unconfirmed() {
    assert!(FotaPhase::Checking.meaning().contains("not confirmed"));
}

#[test]
fn phase_of_a_notification_alone() {
    let n = |m: Message| match m {
        Message::Fota(n) => FotaPhase::of_notification(&n),
        _ => None,
    };
    assert_eq!(n(progress(40)), Some(FotaPhase::Downloading));
    assert_eq!(n(state_cause(3, 8)), Some(FotaPhase::Failed));
    assert_eq!(n(state_cause(3, 0)), Some(FotaPhase::Idle));
    assert_eq!(
        n(keyword(FotaKeyword::Installed)),
        Some(FotaPhase::Installed)
    );
    assert_eq!(
        n(keyword(FotaKeyword::Install)),
        Some(FotaPhase::Installing)
    );
    assert_eq!(n(keyword(FotaKeyword::Other("x".into()))), None);
}

#[test]
fn cause_8_is_the_documented_wrong_image() {
    let c = explain_cause(8);
    assert!(c.documented);
    assert_eq!(
        c.explanation,
        "Installation failed: the modem rejected the image."
    );
    assert!(c.advice.contains("§4.7.1"));
    assert!(c.advice.contains(".dup"));
}

#[test]
fn other_causes_are_marked_inferred_or_undocumented() {
    for c in [2, 3, 4, 5, 6, 7, 9, 10, 11] {
        let e = explain_cause(c);
        assert!(!e.documented);
        assert!(e.explanation.contains("inferred"), "{c}: {}", e.explanation);
    }
    assert_eq!(explain_cause(77).explanation, "cause 77 (not documented)");
}

#[test]
fn upgrade_error_codes_round_trip() {
    for code in 528..=533 {
        let e = UpgradeError::from_code(code).unwrap();
        assert_eq!(e.code(), code);
        assert_eq!(upgrade_error_text(code), Some(e.text()));
    }
    assert_eq!(UpgradeError::from_code(527), None);
    assert_eq!(upgrade_error_text(534), None);
    assert!(upgrade_error_text(532)
        .unwrap()
        .contains("already in progress"));
}

#[test]
fn progress_resets_on_a_new_download_and_is_100_when_downloaded() {
    let mut t = FotaTracker::new();
    t.apply(secs(0), &state(5));
    t.apply(secs(1), &progress(30));
    assert_eq!(t.progress(), Some(30));
    t.apply(secs(2), &keyword(FotaKeyword::Downloaded));
    assert_eq!(t.progress(), Some(100));
    assert!(t.keep_powered());
    t.apply(secs(3), &state(7));
    t.apply(secs(4), &state_cause(3, 8));
    assert!(t.is_done());
    assert!(!t.keep_powered());
    let u = t.apply(secs(5), &state(5)).unwrap();
    assert_eq!(u.progress, None);
    assert!(!u.done, "a new download opens a new attempt");
    assert_eq!(t.attempts(), 2);
    assert_eq!(t.error(), None);
}

#[test]
fn late_progress_after_downloaded_keeps_state() {
    let mut t = FotaTracker::new();
    t.apply(secs(0), &progress(90));
    t.apply(secs(1), &state(6));
    let u = t.apply(secs(2), &progress(40)).unwrap();
    assert_eq!(u.phase, FotaPhase::Downloaded);
    assert_eq!(u.progress, Some(100));
    assert!(u.keep_powered);
    assert!(!u.changed);
}

#[test]
fn an_empty_installed_version_is_no_version() {
    let mut t = FotaTracker::new();
    t.apply(
        secs(0),
        &Message::Fota(FotaNotification {
            event: Some(FotaKeyword::Installed),
            version: Some(String::new()),
            ..Default::default()
        }),
    );
    assert_eq!(*t.outcome(), FotaOutcome::Installed { version: None });
    assert_eq!(t.target_version(), None);
}

#[test]
fn unrelated_messages_are_ignored() {
    let mut t = FotaTracker::new();
    assert_eq!(t.apply(secs(0), &Message::Prompt), None);
    assert!(t.timeline().is_empty());
}

#[test]
fn timeline_is_bounded() {
    let mut t = FotaTracker::with_timeline_capacity(3);
    for i in 0..10 {
        t.apply(secs(i), &progress(i as u32 * 10));
    }
    assert_eq!(t.timeline().len(), 3);
    assert_eq!(t.dropped_entries(), 7);
    assert_eq!(t.timeline()[0].at, secs(7));
    assert_eq!(t.timeline()[2].text, "Download 90 %.");
}

#[test]
fn phase_serializes_as_its_name() {
    assert_eq!(
        serde_json::to_value(FotaPhase::Checking).unwrap(),
        serde_json::json!("checking")
    );
}

#[test]
fn the_view_follows_an_upgrade_along_the_phase_path() {
    let mut t = FotaTracker::new();
    assert_eq!(t.phase_label(), NO_FOTA_YET);
    assert!(!t.has_report());
    assert_eq!(t.progress_to_show(), 0);
    assert!(!t.is_in_progress());
    assert!(t.path_steps().iter().all(|(_, s)| *s == PathStep::Future));
    t.apply(secs(1), &state(3));
    assert!(t.has_report());
    assert_eq!(t.phase_label(), "idle");
    assert!(!t.is_in_progress());
    t.apply(secs(2), &state(5));
    t.apply(secs(3), &progress(40));
    assert_eq!(t.phase_label(), "downloading");
    assert_eq!(t.progress_to_show(), 40);
    assert!(t.is_in_progress());
    let steps = t.path_steps();
    assert_eq!(steps[2], (FotaPhase::Available, PathStep::Past));
    assert_eq!(steps[3], (FotaPhase::Downloading, PathStep::Current));
    assert_eq!(steps[4], (FotaPhase::Downloaded, PathStep::Future));
    t.apply(secs(4), &state(7));
    assert_eq!(t.progress_to_show(), 100);
    assert!(t.is_in_progress());
    t.apply(secs(5), &state(8));
    assert_eq!(t.progress_to_show(), 100);
    assert!(!t.is_in_progress());
    assert_eq!(t.phase().path_index(), Some(6));
    t.apply(secs(6), &state_cause(3, 8));
    assert_eq!(t.phase_label(), "failed");
    assert_eq!(t.phase().path_index(), None);
    assert!(t.path_steps().iter().all(|(_, s)| *s == PathStep::Future));
}

#[test]
fn the_phase_path_is_the_normal_upgrade_in_order() {
    let names: Vec<_> = phase_path().iter().map(|p| p.name()).collect();
    assert_eq!(
        names,
        [
            "idle",
            "checking",
            "available",
            "downloading",
            "downloaded",
            "installing",
            "installed"
        ]
    );
    let busy: Vec<_> = PHASE_PATH.iter().filter(|p| p.is_in_progress()).collect();
    assert_eq!(busy.len(), 5);
    assert!(!FotaPhase::Failed.is_in_progress() && !FotaPhase::Unknown(9).is_in_progress());
    assert_eq!(PathStep::Current.name(), "current");
}
