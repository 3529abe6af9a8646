//! Provisioning profiles (TOML/JSON, validation with key paths and ranges, templates, warnings)
//! and the per-modem plan (order of the note's §4.3 commands, redaction, read-back verification).

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;
#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

use ryz014_core::imei::Imei;
use ryz014_core::message::{DmConfigLine, FirmwareLine, FotaConfigLine, Message, ServerRole};
use ryz014_core::provision::{
    expand_template, CheckId, Credentials, Expect, Plan, ProfileError, ProvisioningProfile, StepId,
};
use ryz014_core::psk::PskSecret;

const EXAMPLE_TOML: &str = include_str!("../../../profiles/coiote-standard.toml");
const EXAMPLE_JSON: &str = include_str!("../../../profiles/coiote-standard.json");
const IMEI: &str = "015770000031766";
const NOTE_SECRET: &str = "87493467538357";
const LONG_SECRET: &str = "e9891e446e07ba10519059db4ad9eb1b02c83d08dd80102982c27ec9e1bdebde";
const URL: &str = "coaps://eu.iot.avsystem.cloud:5694";

fn example() -> ProvisioningProfile {
    ProvisioningProfile::from_toml_str(EXAMPLE_TOML).unwrap()
}

fn imei() -> Imei {
    Imei::parse(IMEI).unwrap()
}

fn secret(hex: &str) -> PskSecret {
    PskSecret::from_hex(hex).unwrap()
}

fn wires(plan: &Plan) -> (Vec<String>, Vec<String>) {
    (
        plan.steps().iter().map(|s| s.command.to_wire()).collect(),
        plan.checks().iter().map(|c| c.command.to_wire()).collect(),
    )
}

// ---------------------------------------------------------------------------------------------
// The example profile

#[test]
fn the_example_profile_loads_from_toml_and_json_alike() {
    let t = example();
    let j = ProvisioningProfile::from_json_str(EXAMPLE_JSON).unwrap();
    assert_eq!(t, j);
    // The JSON file is exactly what the TOML profile writes as JSON: the twins stay in step.
    assert_eq!(t.to_json_string().unwrap(), EXAMPLE_JSON.trim_end());
    assert_eq!(t.modem.profile, "standard");
    assert!(t.modem.autoconnect);
    assert_eq!(t.modem.endpoint_name, None);
    assert_eq!(t.bootstrap.server_id, 100);
    assert_eq!(t.bootstrap.uri, URL);
    assert_eq!(t.bootstrap.hold_off_s, 60);
    assert_eq!(t.bootstrap.cid, Some(1));
    assert_eq!(t.psk.identity, "urn:imei:{imei}");
    assert!(t.psk.secret.is_none());
    assert_eq!(
        (t.fota.mode, t.fota.report_state, t.fota.report_download),
        (0, 2, 10)
    );
    assert_eq!(t.fota.timer_s, Some(86400));
    assert_eq!(t.fota.download_timeout_s, Some(600));
    assert_eq!(t.fota.certificate_id, Some(11));
    assert!(t.factory.save_restoration_point);
    assert!(t.warnings().is_empty(), "{:?}", t.warnings());
}

#[test]
fn the_plan_for_the_example_lists_the_notes_commands_in_order() {
    let plan = Plan::new(&example(), &imei(), &secret(NOTE_SECRET)).unwrap();
    let (steps, checks) = wires(&plan);
    assert_eq!(
        steps,
        [
            "AT+CGSN",
            "ATI1",
            "AT+SQNCTM?",
            "AT+SQNAUTOCONNECT=1",
            "AT+CFUN=5",
            r#"AT+SQNDMCFG="standard","delete-profile-config""#,
            r#"AT+SQNDMCFG="standard","service",1"#,
            r#"AT+SQNDMCFG="standard","server",100,"60","coaps://eu.iot.avsystem.cloud:5694","1","bs""#,
            r#"AT+SQNDMCFG="standard","psk",100,"urn:imei:015770000031766","87493467538357""#,
            "AT^RESET",
            "AT+CFUN=5",
            r#"AT+SQNFACTORYSAVE="oem""#,
            r#"AT+SQNFOTACFG="standard",0,2,10,86400,600,11"#,
            "AT+CFUN=1,1",
        ]
    );
    assert_eq!(
        checks,
        [
            r#"AT+SQNDMCFG="standard","service""#,
            r#"AT+SQNDMCFG="standard","server""#,
            r#"AT+SQNDMCFG="standard","psk""#,
            "AT+SQNFOTACFG?",
        ]
    );
    let ids: Vec<StepId> = plan.steps().iter().map(|s| s.id).collect();
    assert_eq!(
        ids,
        [
            StepId::ReadImei,
            StepId::ReadFirmware,
            StepId::CheckOperatorMode,
            StepId::EnableAutoconnect,
            StepId::EnterManufacturingMode,
            StepId::ClearDmProfile,
            StepId::EnableDmService,
            StepId::ConfigureBootstrapServer,
            StepId::ConfigurePsk,
            StepId::ResetToApply,
            StepId::EnterManufacturingModeAgain,
            StepId::SaveRestorationPoint,
            StepId::ConfigureFota,
            StepId::ResetToFullFunction,
        ]
    );
    let check_ids: Vec<CheckId> = plan.checks().iter().map(|c| c.id).collect();
    assert_eq!(
        check_ids,
        [
            CheckId::Service,
            CheckId::Server,
            CheckId::Psk,
            CheckId::Fota
        ]
    );
    assert_eq!(plan.commands().count(), 18);
}

#[test]
fn steps_carry_expectations_reboots_and_timeouts() {
    let plan = Plan::new(&example(), &imei(), &secret(LONG_SECRET)).unwrap();
    let step = |id: StepId| plan.steps().iter().find(|s| s.id == id).unwrap();
    assert_eq!(step(StepId::ReadImei).expect, Expect::Imei(imei()));
    assert_eq!(step(StepId::ReadFirmware).expect, Expect::Firmware);
    assert_eq!(
        step(StepId::CheckOperatorMode).expect,
        Expect::OperatorMode("standard".into())
    );
    let rebooting: Vec<StepId> = plan
        .steps()
        .iter()
        .filter(|s| s.reboots())
        .map(|s| s.id)
        .collect();
    assert_eq!(
        rebooting,
        [StepId::ResetToApply, StepId::ResetToFullFunction]
    );
    let first = step(StepId::ResetToApply).after_reboot.unwrap();
    assert!(first.sysstart_timeout.as_secs() > 0);
    assert_eq!(first.attach_timeout, None);
    let last = step(StepId::ResetToFullFunction).after_reboot.unwrap();
    assert!(last.attach_timeout.is_some());
    for s in plan.steps() {
        assert_eq!(s.reboots(), s.command.reboots(), "{}", s.id);
        assert!(s.timeout.as_secs() >= 5, "{}", s.id);
        assert!(s.description.contains('§'), "{}: {}", s.id, s.description);
    }
    let ids: std::collections::HashSet<&str> = plan.steps().iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids.len(), plan.steps().len(), "step ids are unique");
}

#[test]
fn optional_steps_and_fields_follow_the_profile() {
    let mut p = example();
    p.modem.autoconnect = false;
    p.factory.save_restoration_point = false;
    p.bootstrap.cid = None;
    p.fota.timer_s = Some(60);
    p.fota.download_timeout_s = None;
    p.fota.certificate_id = None;
    let plan = Plan::new(&p, &imei(), &secret(NOTE_SECRET)).unwrap();
    let (steps, _) = wires(&plan);
    assert_eq!(
        steps,
        [
            "AT+CGSN",
            "ATI1",
            "AT+SQNCTM?",
            "AT+CFUN=5",
            r#"AT+SQNDMCFG="standard","delete-profile-config""#,
            r#"AT+SQNDMCFG="standard","service",1"#,
            r#"AT+SQNDMCFG="standard","server",100,"60","coaps://eu.iot.avsystem.cloud:5694",,"bs""#,
            r#"AT+SQNDMCFG="standard","psk",100,"urn:imei:015770000031766","87493467538357""#,
            "AT^RESET",
            r#"AT+SQNFOTACFG="standard",0,2,10,60"#,
            "AT+CFUN=1,1",
        ]
    );
}

#[test]
fn templates_and_credentials() {
    let mut p = example();
    p.psk.identity = "psk:{imei}:x".into();
    p.modem.endpoint_name = Some("ep-{imei}".into());
    let s = secret(LONG_SECRET);
    let plan = Plan::new(&p, &imei(), &s).unwrap();
    let c = plan.credentials();
    assert_eq!(c.imei, imei());
    assert_eq!(c.endpoint_name, "ep-015770000031766");
    assert_eq!(c.psk_identity, "psk:015770000031766:x");
    assert_eq!(c.secret.expose_hex(), LONG_SECRET);
    assert_eq!(c, &Credentials::new(&p, &imei(), &s).unwrap());
    assert!(plan.commands().any(|cmd| cmd
        .to_wire()
        .contains(r#","psk:015770000031766:x","e9891e"#)));

    let default = Credentials::new(&example(), &imei(), &s).unwrap();
    assert_eq!(default.endpoint_name, "urn:imei:015770000031766");
    assert_eq!(default.psk_identity, "urn:imei:015770000031766");
    let dbg = format!("{default:?}");
    assert!(dbg.contains("e989…") && !dbg.contains("e9891"), "{dbg}");

    assert_eq!(
        expand_template("{imei}{imei}", &imei()).unwrap(),
        "015770000031766015770000031766"
    );
    assert!(expand_template("{imei", &imei()).is_err());
    assert!(expand_template("imei}", &imei()).is_err());
    assert!(expand_template("{{imei}}", &imei()).is_err());
    assert!(expand_template("{IMEI}", &imei()).is_err());
}

#[test]
fn a_given_secret_is_used_and_the_profiles_secret_resolves() {
    let mut p = example();
    assert_eq!(p.resolve_secret().unwrap().len_bytes(), 32);
    assert_ne!(p.resolve_secret().unwrap(), p.resolve_secret().unwrap());
    p.psk.secret = Some(secret(LONG_SECRET));
    assert_eq!(p.resolve_secret().unwrap(), secret(LONG_SECRET));
}

// ---------------------------------------------------------------------------------------------
// Redaction

#[test]
fn display_and_debug_of_the_plan_show_only_the_prefix() {
    let plan = Plan::new(&example(), &imei(), &secret(LONG_SECRET)).unwrap();
    let shown = plan.to_string();
    assert!(shown.contains("e989…"), "{shown}");
    assert!(shown.contains("AT+SQNFOTACFG=\"standard\",0,2,10,86400,600,11"));
    assert!(shown.contains("configure-psk"));
    assert!(shown.contains("015770000031766"));
    for text in [
        shown,
        format!("{plan:?}"),
        format!("{plan:#?}"),
        format!("{:?}", plan.steps()),
        format!("{:?}", plan.checks()),
    ] {
        assert!(!text.contains("e9891"), "{text}");
    }
    // The note's short secret as well.
    let plan = Plan::new(&example(), &imei(), &secret(NOTE_SECRET)).unwrap();
    let text = format!("{plan}{plan:?}");
    assert!(text.contains("8749…"));
    assert!(!text.contains("87493"));
}

// ---------------------------------------------------------------------------------------------
// Validation: every failure names the key's path and what it allows

fn toml_err(from: &str, to: &str) -> ProfileError {
    assert!(EXAMPLE_TOML.contains(from), "{from}");
    let text = EXAMPLE_TOML.replacen(from, to, 1);
    ProvisioningProfile::from_toml_str(&text).unwrap_err()
}

fn json_err(from: &str, to: &str) -> ProfileError {
    assert!(EXAMPLE_JSON.contains(from), "{from}");
    let text = EXAMPLE_JSON.replacen(from, to, 1);
    ProvisioningProfile::from_json_str(&text).unwrap_err()
}

fn assert_key(err: ProfileError, want_path: &str, want_allowed: &str) {
    match &err {
        ProfileError::Key { path, allowed, .. } => {
            assert_eq!(path, want_path, "{err}");
            assert!(allowed.contains(want_allowed), "{err}");
            let msg = err.to_string();
            assert!(msg.starts_with(&format!("{want_path}: ")), "{msg}");
            assert!(msg.contains(want_allowed), "{msg}");
        }
        other => panic!("expected a key error at {want_path}, got {other:?}"),
    }
}

#[test]
fn each_range_names_its_path_and_range() {
    let cases = [
        (
            "server_id = 100",
            "server_id = 0",
            "bootstrap.server_id",
            "1..65535",
        ),
        (
            "server_id = 100",
            "server_id = 65536",
            "bootstrap.server_id",
            "1..65535",
        ),
        (
            "hold_off_s = 60",
            "hold_off_s = 32000001",
            "bootstrap.hold_off_s",
            "0..32000000",
        ),
        ("cid = 1", "cid = 0", "bootstrap.cid", "1..8"),
        ("cid = 1", "cid = 9", "bootstrap.cid", "1..8"),
        ("mode = 0", "mode = 2", "fota.mode", "0..1"),
        (
            "report_state = 2",
            "report_state = 3",
            "fota.report_state",
            "0..2",
        ),
        (
            "report_download = 10",
            "report_download = 101",
            "fota.report_download",
            "0..100",
        ),
        (
            "report_download = 10",
            "report_download = 300",
            "fota.report_download",
            "0..100",
        ),
        (
            "timer_s = 86400",
            "timer_s = 59",
            "fota.timer_s",
            "60..32000000",
        ),
        (
            "timer_s = 86400",
            "timer_s = 32000001",
            "fota.timer_s",
            "60..32000000",
        ),
        (
            "download_timeout_s = 600",
            "download_timeout_s = 59",
            "fota.download_timeout_s",
            "60..65535",
        ),
        (
            "download_timeout_s = 600",
            "download_timeout_s = 65536",
            "fota.download_timeout_s",
            "60..65535",
        ),
        (
            "certificate_id = 11",
            "certificate_id = 10",
            "fota.certificate_id",
            "11..19",
        ),
        (
            "certificate_id = 11",
            "certificate_id = 20",
            "fota.certificate_id",
            "11..19",
        ),
        (
            "certificate_id = 11",
            "certificate_id = 60",
            "fota.certificate_id",
            "the note's example 60",
        ),
        (
            "profile = \"standard\"",
            "profile = \"\"",
            "modem.profile",
            "1..32",
        ),
        (
            "profile = \"standard\"",
            &format!("profile = \"{}\"", "s".repeat(33)),
            "modem.profile",
            "1..32",
        ),
        (
            "uri = \"coaps://eu.iot.avsystem.cloud:5694\"",
            "uri = \"\"",
            "bootstrap.uri",
            "1..256",
        ),
        (
            "identity = \"urn:imei:{imei}\"",
            "identity = \"a,{imei}\"",
            "psk.identity",
            "1..64",
        ),
        (
            "identity = \"urn:imei:{imei}\"",
            &format!("identity = \"{}{{imei}}\"", "x".repeat(50)),
            "psk.identity",
            "1..64",
        ),
        (
            "# secret = \"…\"",
            "secret = \"8749346753835\"",
            "psk.secret",
            "1..32 bytes",
        ),
        (
            "# secret = \"…\"",
            &format!("secret = \"{}\"", "ab".repeat(33)),
            "psk.secret",
            "1..32 bytes",
        ),
        (
            "# endpoint_name = \"urn:imei:{imei}\"",
            &format!("endpoint_name = \"{}\"", "e".repeat(201)),
            "modem.endpoint_name",
            "1..200",
        ),
    ];
    for (from, to, path, allowed) in cases {
        assert_key(toml_err(from, to), path, allowed);
    }
    // The boundaries themselves are accepted.
    for (from, to) in [
        ("server_id = 100", "server_id = 65535"),
        ("server_id = 100", "server_id = 1"),
        ("hold_off_s = 60", "hold_off_s = 0"),
        ("hold_off_s = 60", "hold_off_s = 32000000"),
        ("cid = 1", "cid = 8"),
        ("timer_s = 86400", "timer_s = 60"),
        ("download_timeout_s = 600", "download_timeout_s = 65535"),
        ("certificate_id = 11", "certificate_id = 19"),
        ("report_download = 10", "report_download = 100"),
        ("mode = 0", "mode = 1"),
    ] {
        let text = EXAMPLE_TOML.replacen(from, to, 1);
        ProvisioningProfile::from_toml_str(&text).unwrap_or_else(|e| panic!("{to}: {e}"));
    }
}

#[test]
fn unknown_keys_are_refused_with_their_path() {
    assert_key(
        toml_err("cid = 1", "cid = 1\nport = 5694"),
        "bootstrap.port",
        "server_id, uri, hold_off_s, cid",
    );
    assert_key(
        toml_err("[factory]", "[extra]\nx = 1\n[factory]"),
        "extra",
        "modem, bootstrap, psk, fota, factory",
    );
    assert_key(
        json_err("\"mode\": 0,", "\"mode\": 0, \"modus\": 1,"),
        "fota.modus",
        "report_state",
    );
}

#[test]
fn missing_keys_are_named_by_their_path() {
    assert_key(
        toml_err("server_id = 100\n", ""),
        "bootstrap.server_id",
        "1..65535",
    );
    assert_key(
        toml_err("identity = \"urn:imei:{imei}\"\n", ""),
        "psk.identity",
        "1..64",
    );
    assert_key(
        toml_err("save_restoration_point = true", ""),
        "factory.save_restoration_point",
        "true or false",
    );
    assert_key(
        toml_err("[factory]\nsave_restoration_point = true", ""),
        "factory",
        "save_restoration_point",
    );
    assert_key(
        json_err("\"report_state\": 2,", ""),
        "fota.report_state",
        "0..2",
    );
    // Optional keys may be left out.
    let text = EXAMPLE_TOML
        .replacen("cid = 1", "", 1)
        .replacen("timer_s = 86400", "", 1)
        .replacen("download_timeout_s = 600", "", 1)
        .replacen("certificate_id = 11", "", 1);
    let p = ProvisioningProfile::from_toml_str(&text).unwrap();
    assert_eq!(
        (p.bootstrap.cid, p.fota.timer_s, p.fota.certificate_id),
        (None, None, None)
    );
}

#[test]
fn wrong_types_name_the_path_and_range() {
    assert_key(
        toml_err("server_id = 100", "server_id = \"100\""),
        "bootstrap.server_id",
        "1..65535",
    );
    assert_key(
        toml_err("autoconnect = true", "autoconnect = 1"),
        "modem.autoconnect",
        "true or false",
    );
    assert_key(
        toml_err("server_id = 100", "server_id = -1"),
        "bootstrap.server_id",
        "1..65535",
    );
    assert_key(
        json_err("\"hold_off_s\": 60", "\"hold_off_s\": \"60\""),
        "bootstrap.hold_off_s",
        "0..32000000",
    );
    assert_key(
        json_err("\"certificate_id\": 11", "\"certificate_id\": 60"),
        "fota.certificate_id",
        "11..19",
    );
}

#[test]
fn placeholders_are_checked() {
    let err = toml_err(
        "identity = \"urn:imei:{imei}\"",
        "identity = \"urn:{serial}\"",
    );
    assert_key(err.clone(), "psk.identity", "{imei}");
    assert!(
        err.to_string().contains("unknown placeholder {serial}"),
        "{err}"
    );
    assert_key(
        toml_err("identity = \"urn:imei:{imei}\"", "identity = \"urn:{imei\""),
        "psk.identity",
        "{imei}",
    );
    assert_key(
        toml_err(
            "# endpoint_name = \"urn:imei:{imei}\"",
            "endpoint_name = \"{sn}\"",
        ),
        "modem.endpoint_name",
        "{imei}",
    );
}

#[test]
fn syntax_errors_give_a_position() {
    match ProvisioningProfile::from_toml_str("[modem\nprofile = 1") {
        Err(ProfileError::Syntax {
            format: "TOML",
            line: Some(1),
            ..
        }) => {}
        other => panic!("{other:?}"),
    }
    match ProvisioningProfile::from_json_str("{\"modem\": {") {
        Err(ProfileError::Syntax {
            format: "JSON",
            line: Some(1),
            ..
        }) => {}
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        ProvisioningProfile::from_json_str(&format!("{EXAMPLE_JSON} {{}}")),
        Err(ProfileError::Syntax { .. })
    ));
}

#[test]
fn secrets_never_appear_in_profile_errors() {
    let bad = [
        format!("secret = \"{}1\"", LONG_SECRET),    // odd length
        format!("secret = \"{}\"", "ab".repeat(33)), // too long
        format!("secret = \"{}x\"", &LONG_SECRET[..20]),
        "secret = 874934675383571".to_string(), // wrong type
        format!("secret = \"{LONG_SECRET}\"\nsecret2 = 1"),
        format!("secret = \"{LONG_SECRET}\" junk"), // TOML syntax error on the secret's line
    ];
    for line in bad {
        let err = toml_err("# secret = \"…\"", &line);
        let text = format!("{err} {err:?}");
        for leak in ["e9891e", "ababab", "874934"] {
            assert!(!text.contains(leak), "{text}");
        }
    }
    let json = EXAMPLE_JSON.replacen(
        "\"identity\": \"urn:imei:{imei}\"",
        &format!("\"identity\": \"urn:imei:{{imei}}\", \"secret\": \"{LONG_SECRET}0\""),
        1,
    );
    let err = ProvisioningProfile::from_json_str(&json).unwrap_err();
    assert!(!format!("{err} {err:?}").contains("e9891e"), "{err}");
    assert_key(err, "psk.secret", "1..32 bytes");
}

#[test]
fn warnings_for_weak_or_fixed_secrets_and_plain_coap() {
    let text = EXAMPLE_TOML.replacen(
        "# secret = \"…\"",
        &format!("secret = \"{NOTE_SECRET}\""),
        1,
    );
    let p = ProvisioningProfile::from_toml_str(&text).unwrap();
    let w = p.warnings();
    assert_eq!(w.len(), 2, "{w:?}");
    assert!(w.iter().all(|w| w.path == "psk.secret"));
    assert!(w[0].to_string().contains("7 bytes"), "{}", w[0]);
    assert!(w[0].to_string().contains("8749…"), "{}", w[0]);
    assert!(!format!("{w:?}").contains("87493"));
    assert!(w[1].message.contains("shared by every modem"));

    let text = EXAMPLE_TOML.replacen(
        "# secret = \"…\"",
        &format!("secret = \"{LONG_SECRET}\""),
        1,
    );
    let p = ProvisioningProfile::from_toml_str(&text).unwrap();
    assert_eq!(p.warnings().len(), 1);

    let mut p = example();
    p.bootstrap.uri = "coap://leshan.local:5683".into();
    let w = p.warnings();
    assert_eq!(w.len(), 1);
    assert_eq!(w[0].path, "bootstrap.uri");
}

#[test]
fn invalid_profiles_build_no_plan() {
    let mut p = example();
    p.fota.certificate_id = Some(60);
    let err = Plan::new(&p, &imei(), &secret(NOTE_SECRET)).unwrap_err();
    assert_key(err, "fota.certificate_id", "11..19");
    let mut p = example();
    p.bootstrap.server_id = 0;
    assert_key(
        Plan::new(&p, &imei(), &secret(NOTE_SECRET)).unwrap_err(),
        "bootstrap.server_id",
        "1..65535",
    );
}

// ---------------------------------------------------------------------------------------------
// Round trips

#[test]
fn toml_and_json_round_trip() {
    let mut p = example();
    for _ in 0..2 {
        let toml = p.to_toml_string().unwrap();
        assert_eq!(
            ProvisioningProfile::from_toml_str(&toml).unwrap(),
            p,
            "{toml}"
        );
        let json = p.to_json_string().unwrap();
        assert_eq!(
            ProvisioningProfile::from_json_str(&json).unwrap(),
            p,
            "{json}"
        );
        // A fixed secret and an endpoint name survive too.
        p.psk.secret = Some(secret(LONG_SECRET));
        p.modem.endpoint_name = Some("ep:{imei}".into());
        p.bootstrap.cid = None;
    }
    let toml = p.to_toml_string().unwrap();
    assert!(
        toml.contains(LONG_SECRET),
        "a profile's own secret is written out"
    );
    assert!(!toml.contains("cid"), "{toml}");
}

// ---------------------------------------------------------------------------------------------
// Checking answers

fn plan() -> Plan {
    Plan::new(&example(), &imei(), &secret(NOTE_SECRET)).unwrap()
}

fn service(profile: &str, autostart: u8) -> Message {
    Message::DmConfig(DmConfigLine::Service {
        profile: profile.into(),
        autostart,
    })
}

fn server(id: u32, lifetime: Option<u32>, url: &str, cid: Option<u8>, t: ServerRole) -> Message {
    Message::DmConfig(DmConfigLine::Server {
        profile: "standard".into(),
        server_id: id,
        lifetime,
        url: url.into(),
        cid,
        server_type: t,
    })
}

fn psk(id: u32, identity: &str, prefix: &str) -> Message {
    Message::DmConfig(DmConfigLine::Psk {
        profile: "standard".into(),
        server_id: id,
        identity: identity.into(),
        secret_prefix: prefix.into(),
    })
}

fn fota_line() -> FotaConfigLine {
    FotaConfigLine {
        profile: "standard".into(),
        mode: 0,
        report_state: 2,
        report_download: 10,
        timer_requested: Some(86400),
        timer_actual: Some(3600),
        download_timeout: Some(600),
        certificate: Some(11),
    }
}

#[test]
fn verify_accepts_the_right_read_back() {
    let plan = plan();
    let check = |id: CheckId| plan.checks().iter().find(|c| c.id == id).unwrap();
    check(CheckId::Service)
        .verify(&[service("other", 0), service("standard", 1)])
        .unwrap();
    check(CheckId::Server)
        .verify(&[
            server(100, Some(60), URL, Some(1), ServerRole::Bs),
            Message::DmConfig(DmConfigLine::Server {
                profile: "other".into(),
                server_id: 7,
                lifetime: None,
                url: "coaps://elsewhere".into(),
                cid: None,
                server_type: ServerRole::Dm,
            }),
        ])
        .unwrap();
    check(CheckId::Psk)
        .verify(&[psk(100, "urn:imei:015770000031766", "8749")])
        .unwrap();
    check(CheckId::Psk)
        .verify(&[psk(100, "urn:imei:015770000031766", "8749")])
        .unwrap();
    // timer_actual may differ: the server sets it.
    check(CheckId::Fota)
        .verify(&[Message::FotaConfig(fota_line())])
        .unwrap();
}

#[test]
fn verify_rejects_wrong_read_back() {
    let plan = plan();
    let check = |id: CheckId| plan.checks().iter().find(|c| c.id == id).unwrap();

    let e = check(CheckId::Service)
        .verify(&[service("standard", 0)])
        .unwrap_err();
    assert_eq!((e.expected.as_str(), e.found.as_str()), ("1", "0"));
    assert!(check(CheckId::Service)
        .verify(&[service("other", 1)])
        .is_err());

    let e = check(CheckId::Server)
        .verify(&[server(101, Some(60), URL, Some(1), ServerRole::Dm)])
        .unwrap_err();
    assert!(e.to_string().contains("server 100"), "{e}");
    assert_eq!(e.found, "servers 101");
    let e = check(CheckId::Server).verify(&[]).unwrap_err();
    assert_eq!(e.found, "no server line");
    // A stale server of the profile, next to the planned one, fails the read-back.
    let e = check(CheckId::Server)
        .verify(&[
            server(101, Some(86400), "coaps://dm", None, ServerRole::Dm),
            server(100, Some(60), URL, Some(1), ServerRole::Bs),
        ])
        .unwrap_err();
    assert_eq!(e.found, "also server 101 at coaps://dm", "{e}");
    // So does a stale PSK (an old secret for another server), shown as its prefix only.
    let e = check(CheckId::Psk)
        .verify(&[
            psk(100, "urn:imei:015770000031766", "8749"),
            psk(101, "old-identity", "c0ff"),
        ])
        .unwrap_err();
    assert_eq!(e.found, "also a PSK for server 101 (secret c0ff…)", "{e}");
    let e = check(CheckId::Server)
        .verify(&[server(100, Some(60), "coaps://x", Some(1), ServerRole::Bs)])
        .unwrap_err();
    assert!(e.what.contains("URL"), "{e}");
    let e = check(CheckId::Server)
        .verify(&[server(100, Some(60), URL, Some(1), ServerRole::Dm)])
        .unwrap_err();
    assert!(e.what.contains("type"), "{e}");
    let e = check(CheckId::Server)
        .verify(&[server(100, None, URL, Some(1), ServerRole::Bs)])
        .unwrap_err();
    assert_eq!((e.expected.as_str(), e.found.as_str()), ("60", "(empty)"));
    let e = check(CheckId::Server)
        .verify(&[server(100, Some(60), URL, Some(2), ServerRole::Bs)])
        .unwrap_err();
    assert!(e.what.contains("cid"), "{e}");

    let e = check(CheckId::Psk)
        .verify(&[psk(100, "urn:imei:015770000031766", "8748")])
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "PSK secret of server 100 (first 4 hex digits): expected 8749…, found 8748…"
    );
    let e = check(CheckId::Psk)
        .verify(&[psk(100, "urn:imei:015770000031767", "8749")])
        .unwrap_err();
    assert!(e.what.contains("identity"), "{e}");
    assert!(check(CheckId::Psk)
        .verify(&[psk(101, "urn:imei:015770000031766", "8749")])
        .is_err());

    let fota = |f: fn(&mut FotaConfigLine)| {
        let mut l = fota_line();
        f(&mut l);
        check(CheckId::Fota).verify(&[Message::FotaConfig(l)])
    };
    assert!(fota(|l| l.report_download = 20)
        .unwrap_err()
        .what
        .contains("report_download"));
    assert!(fota(|l| l.report_state = 1).is_err());
    assert!(fota(|l| l.mode = 1).is_err());
    assert!(fota(|l| l.profile = "other".into()).is_err());
    assert!(fota(|l| l.timer_requested = Some(60))
        .unwrap_err()
        .what
        .contains("timer"));
    assert!(fota(|l| l.download_timeout = None).is_err());
    assert!(fota(|l| l.certificate = Some(12)).is_err());
    assert!(fota(|l| l.timer_actual = None).is_ok());
    assert!(check(CheckId::Fota).verify(&[]).is_err());
}

#[test]
fn optional_values_left_out_of_the_profile_are_not_compared() {
    let mut p = example();
    p.bootstrap.cid = None;
    p.fota.timer_s = None;
    p.fota.certificate_id = None;
    let plan = Plan::new(&p, &imei(), &secret(NOTE_SECRET)).unwrap();
    let check = |id: CheckId| plan.checks().iter().find(|c| c.id == id).unwrap();
    check(CheckId::Server)
        .verify(&[server(100, Some(60), URL, Some(3), ServerRole::Bs)])
        .unwrap();
    let mut l = fota_line();
    l.timer_requested = None;
    l.certificate = None;
    check(CheckId::Fota)
        .verify(&[Message::FotaConfig(l)])
        .unwrap();
}

#[test]
fn step_checks_for_imei_firmware_and_operator_mode() {
    let plan = plan();
    let step = |id: StepId| plan.steps().iter().find(|s| s.id == id).unwrap();
    let imei_line = |s: &str| Message::Imei { imei: s.into() };

    step(StepId::ReadImei).check(&[imei_line(IMEI)]).unwrap();
    let e = step(StepId::ReadImei)
        .check(&[imei_line("260531793113837")])
        .unwrap_err();
    assert_eq!(e.found, "260531793113837");
    assert_eq!(e.expected, IMEI);
    assert_eq!(
        step(StepId::ReadImei).check(&[]).unwrap_err().found,
        "no IMEI line"
    );

    let fw = [
        Message::Firmware(FirmwareLine::Ue("5.4.1.1".into())),
        Message::Firmware(FirmwareLine::Lr("5.4.1.1-57857".into())),
    ];
    step(StepId::ReadFirmware).check(&fw).unwrap();
    assert_eq!(
        ryz014_core::provision::firmware_version(&fw),
        Some("5.4.1.1-57857")
    );
    assert!(step(StepId::ReadFirmware).check(&fw[..1]).is_err());

    let mode = |m: &str| Message::OperatorMode { mode: m.into() };
    step(StepId::CheckOperatorMode)
        .check(&[mode("standard")])
        .unwrap();
    step(StepId::CheckOperatorMode)
        .check(&[mode("STANDARD")])
        .unwrap();
    let e = step(StepId::CheckOperatorMode)
        .check(&[mode("verizon")])
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "operator mode: expected standard, found verizon"
    );
    assert!(step(StepId::CheckOperatorMode).check(&[]).is_err());
    // Steps that expect only OK ignore lines.
    step(StepId::EnableDmService).check(&[mode("x")]).unwrap();
}

#[test]
fn only_the_steps_before_the_dm_profile_is_cleared_leave_the_credentials_untouched() {
    let plan = plan();
    let ids: Vec<&str> = plan.steps().iter().map(|s| s.id.as_str()).collect();
    let clear = ids.iter().position(|i| *i == "clear-dm-profile").unwrap();
    assert_eq!(ids[clear - 1], "enter-manufacturing-mode");
    for (i, id) in ids.iter().enumerate() {
        assert_eq!(plan.may_have_written_credentials(id), i >= clear, "{id}");
    }
    assert!(!plan.may_have_written_credentials("sync"));
    assert!(!plan.may_have_written_credentials("cmee"));
    for check in plan.checks() {
        assert!(plan.may_have_written_credentials(check.id.as_str()));
    }
    assert!(plan.may_have_written_credentials("restore-cmee"));
    assert!(plan.may_have_written_credentials("something else"));
}

/// Issue 9, point 7: a secret pasted anywhere in a profile (the top-level `psk` key, any other
/// key, a key name) is never repeated by the error, in TOML or in JSON.
#[test]
fn a_secret_pasted_in_the_wrong_place_is_never_echoed() {
    let toml_cases = [
        // `psk = "<secret>"` at the top level (in place of the [psk] table).
        (
            format!(
                "psk = \"{LONG_SECRET}\"\n{}",
                EXAMPLE_TOML.replacen("[psk]", "[psk_]", 1)
            ),
            "psk",
        ),
        (
            EXAMPLE_TOML.replacen(
                "profile = \"standard\"",
                &format!("profile = \"{LONG_SECRET}\""),
                1,
            ),
            "modem.profile",
        ),
        (
            EXAMPLE_TOML.replacen(
                "autoconnect = true",
                &format!("autoconnect = \"{LONG_SECRET}\""),
                1,
            ),
            "modem.autoconnect",
        ),
        (
            EXAMPLE_TOML.replacen(
                "server_id = 100",
                &format!("server_id = \"{LONG_SECRET}\""),
                1,
            ),
            "bootstrap.server_id",
        ),
        (
            EXAMPLE_TOML.replacen("mode = 0", &format!("mode = \"{LONG_SECRET}\""), 1),
            "fota.mode",
        ),
        (
            EXAMPLE_TOML.replacen("[factory]", &format!("[factory]\n{LONG_SECRET} = 1"), 1),
            "factory",
        ),
    ];
    for (text, path) in toml_cases {
        let err = ProvisioningProfile::from_toml_str(&text).unwrap_err();
        let shown = format!("{err} {err:?}");
        assert!(!shown.contains(&LONG_SECRET[..8]), "{shown}");
        assert!(!shown.contains(&LONG_SECRET[20..28]), "{shown}");
        assert!(shown.contains(path), "{path}: {shown}");
    }
    let json = EXAMPLE_JSON.replacen(
        "\"profile\": \"standard\"",
        &format!("\"profile\": \"{LONG_SECRET}\""),
        1,
    );
    let err = ProvisioningProfile::from_json_str(&json).unwrap_err();
    let shown = format!("{err} {err:?}");
    assert!(!shown.contains(&LONG_SECRET[..8]), "{shown}");
    assert!(shown.contains("modem.profile"), "{shown}");
}

/// Issue 9, point 8: serde reads a list as a table by field order, so `"psk": ["<secret>"]` became
/// the PSK identity (sent in clear during DTLS). Every table refuses a list, and says so.
#[test]
fn a_list_in_place_of_a_table_is_refused() {
    let obj = |json: &str| serde_json::from_str::<serde_json::Value>(json).unwrap();
    let example = obj(EXAMPLE_JSON);
    for section in ["modem", "bootstrap", "psk", "fota", "factory"] {
        let mut v = example.clone();
        let fields: Vec<serde_json::Value> =
            v[section].as_object().unwrap().values().cloned().collect();
        v[section] = serde_json::Value::Array(fields);
        let err = ProvisioningProfile::from_json_str(&v.to_string()).unwrap_err();
        match &err {
            ProfileError::Key { path, message, .. } => {
                assert_eq!(path, section);
                assert!(message.contains("list"), "{err}");
            }
            other => panic!("{section}: {other:?}"),
        }
    }
    let mut v = example.clone();
    v["psk"] = serde_json::json!([LONG_SECRET]);
    let err = ProvisioningProfile::from_json_str(&v.to_string()).unwrap_err();
    assert!(
        !format!("{err} {err:?}").contains(&LONG_SECRET[..8]),
        "{err}"
    );
    assert_key(err, "psk", "identity, secret");
    // The whole profile as a list.
    let list = serde_json::Value::Array(example.as_object().unwrap().values().cloned().collect());
    assert!(ProvisioningProfile::from_json_str(&list.to_string()).is_err());
    // TOML: `psk = ["<secret>"]` and an array of tables.
    let text = format!(
        "psk = [\"{LONG_SECRET}\"]\n{}",
        EXAMPLE_TOML.replacen("[psk]", "[psk_]", 1)
    );
    let err = ProvisioningProfile::from_toml_str(&text).unwrap_err();
    assert!(
        !format!("{err} {err:?}").contains(&LONG_SECRET[..8]),
        "{err}"
    );
    assert!(
        matches!(&err, ProfileError::Key { path, .. } if path == "psk"),
        "{err:?}"
    );
    let text = EXAMPLE_TOML.replacen("[factory]", "[[factory]]", 1);
    let err = ProvisioningProfile::from_toml_str(&text).unwrap_err();
    assert!(
        matches!(&err, ProfileError::Key { path, .. } if path == "factory"),
        "{err:?}"
    );
}
