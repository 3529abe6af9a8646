//! Smoke tests of the core on `wasm32-unknown-unknown`, run in headless Chromium by
//! `scripts/test-all.sh` (and natively as ordinary tests): the shared `message` types serialize
//! to the JSON the front ends read, and `getrandom` (the PSK generator's only OS call) works in
//! the browser.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

use ryz014_core::message::{
    BootEvent, DmConfigLine, DmStatusLine, ErrorCode, FinalResult, FirmwareLine, FotaKeyword,
    FotaNotification, Message, ServerRole,
};
use serde_json::{json, Value};

fn to_json(message: &Message) -> Value {
    serde_json::to_value(message).unwrap()
}

#[test]
fn fota_failure_notification_serializes_with_kind_and_numbers_only() {
    // `+SQNFOTA: 3,8`: back to idle after an installation failure.
    let message = Message::Fota(FotaNotification {
        state: Some(3),
        cause: Some(8),
        ..FotaNotification::default()
    });
    assert_eq!(
        to_json(&message),
        json!({"kind": "fota", "state": 3, "cause": 8})
    );

    // `+SQNFOTA: "installed","5.4.1.1-57830"`.
    let message = Message::Fota(FotaNotification {
        event: Some(FotaKeyword::Installed),
        version: Some("5.4.1.1-57830".into()),
        ..FotaNotification::default()
    });
    assert_eq!(
        to_json(&message),
        json!({"kind": "fota", "event": "installed", "version": "5.4.1.1-57830"})
    );
}

#[test]
fn final_results_serialize_with_result_and_code() {
    assert_eq!(
        to_json(&Message::Final(FinalResult::Ok)),
        json!({"kind": "final", "result": "ok"})
    );
    assert_eq!(
        to_json(&Message::Final(FinalResult::CmeError(ErrorCode::Number(4)))),
        json!({"kind": "final", "result": "cme_error", "code": 4})
    );
    assert_eq!(
        to_json(&Message::Final(FinalResult::CmeError(ErrorCode::Text(
            "operation not supported".into()
        )))),
        json!({"kind": "final", "result": "cme_error", "code": "operation not supported"})
    );
}

#[test]
fn registration_and_config_lines_serialize_with_their_fields() {
    let status = Message::DmStatus(DmStatusLine {
        role: ServerRole::Dm,
        server_id: 1,
        status: "REGISTERED".into(),
        timer: 86_400,
        update_in: -1,
    });
    assert_eq!(
        to_json(&status),
        json!({"kind": "dm_status", "role": "dm", "server_id": 1, "status": "REGISTERED",
               "timer": 86400, "update_in": -1})
    );

    let psk = Message::DmConfig(DmConfigLine::Psk {
        profile: "coiote".into(),
        server_id: 100,
        identity: "urn:imei:015770000031766".into(),
        secret_prefix: "8749".into(),
    });
    assert_eq!(
        to_json(&psk),
        json!({"kind": "dm_config", "group": "psk", "profile": "coiote", "server_id": 100,
               "identity": "urn:imei:015770000031766", "secret_prefix": "8749"})
    );

    assert_eq!(
        to_json(&Message::Firmware(FirmwareLine::Lr("5.4.1.1-57857".into()))),
        json!({"kind": "firmware", "component": "lr", "version": "5.4.1.1-57857"})
    );
    assert_eq!(
        to_json(&Message::Boot {
            event: BootEvent::Sysstart
        }),
        json!({"kind": "boot", "event": "sysstart"})
    );
    assert_eq!(to_json(&Message::Prompt), json!({"kind": "prompt"}));
}

#[test]
fn getrandom_fills_buffers_with_fresh_bytes() {
    let mut first = [0u8; 32];
    let mut second = [0u8; 32];
    getrandom::getrandom(&mut first).unwrap();
    getrandom::getrandom(&mut second).unwrap();
    // 2^-256 chance of a false failure each.
    assert_ne!(first, [0u8; 32]);
    assert_ne!(second, [0u8; 32]);
    assert_ne!(first, second);
}

/// Proves the wasm tests run in a browser page (not Node): a `document` exists.
#[cfg(target_arch = "wasm32")]
#[test]
fn runs_in_a_browser_page() {
    use wasm_bindgen::prelude::wasm_bindgen;

    #[wasm_bindgen(inline_js = "export function browser_user_agent() { \
        return typeof document === 'undefined' ? '' : navigator.userAgent; }")]
    extern "C" {
        fn browser_user_agent() -> String;
    }

    let agent = browser_user_agent();
    wasm_bindgen_test::console_log!("user agent: {agent}");
    assert!(
        !agent.is_empty(),
        "no `document`: not running in a browser page"
    );
}
