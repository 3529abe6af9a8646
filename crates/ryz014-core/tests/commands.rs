//! Typed AT commands: the note's examples byte-exact in both directions, every range boundary,
//! redaction of the PSK secret, and parse(to_wire(c)) == c over generated commands.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;
#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

use ryz014_core::command::{
    CfunLevel, CmeeMode, Command, CommandParseError, FotaConfig, ParamError, ProfileName,
    ServerRole, UpgradeAction,
};
use ryz014_core::psk::PskSecret;

const URL: &str = "coaps://eu.iot.avsystem.cloud:5694";
const NOTE_SECRET: &str = "87493467538357";

/// Checks both directions: the command builds to exactly `wire`, and `wire` parses to it.
fn both_ways(cmd: Command, wire: &str) {
    assert_eq!(cmd.to_wire(), wire);
    assert_eq!(cmd.to_bytes(), format!("{wire}\r").into_bytes());
    assert_eq!(Command::parse(wire).unwrap(), cmd, "{wire}");
    assert_eq!(Command::parse(&format!("{wire}\r")).unwrap(), cmd, "{wire}");
}

fn note_secret() -> PskSecret {
    PskSecret::from_hex(NOTE_SECRET).unwrap()
}

fn note_fota() -> FotaConfig {
    FotaConfig::new("standard")
        .unwrap()
        .with_mode(0)
        .unwrap()
        .with_report_state(2)
        .unwrap()
        .with_report_download(10)
        .unwrap()
}

// ---------------------------------------------------------------------------------------------
// The note's examples, one test each

#[test]
fn autoconnect_on() {
    both_ways(Command::AutoConnect(true), "AT+SQNAUTOCONNECT=1");
}

#[test]
fn manufacturing_mode() {
    both_ways(Command::Cfun(CfunLevel::Manufacturing), "AT+CFUN=5");
    both_ways(Command::cfun(5).unwrap(), "AT+CFUN=5");
}

#[test]
fn dm_service_on() {
    both_ways(
        Command::dm_service("standard", true).unwrap(),
        r#"AT+SQNDMCFG="standard","service",1"#,
    );
}

#[test]
fn dm_bootstrap_server_as_in_the_note() {
    both_ways(
        Command::dm_server(
            "standard",
            100,
            Some(60),
            URL,
            Some(1),
            Some(ServerRole::Bs),
        )
        .unwrap(),
        r#"AT+SQNDMCFG="standard","server",100,"60","coaps://eu.iot.avsystem.cloud:5694","1","bs""#,
    );
}

#[test]
fn dm_server_without_cid() {
    both_ways(
        Command::dm_server("standard", 100, Some(60), URL, None, Some(ServerRole::Bs)).unwrap(),
        r#"AT+SQNDMCFG="standard","server",100,"60","coaps://eu.iot.avsystem.cloud:5694",,"bs""#,
    );
}

#[test]
fn dm_server_without_lifetime() {
    both_ways(
        Command::dm_server("standard", 100, None, URL, Some(1), Some(ServerRole::Bs)).unwrap(),
        r#"AT+SQNDMCFG="standard","server",100,,"coaps://eu.iot.avsystem.cloud:5694","1","bs""#,
    );
}

#[test]
fn dm_server_with_trailing_fields_omitted() {
    let c = Command::dm_server("standard", 101, Some(86400), URL, None, None).unwrap();
    both_ways(
        c.clone(),
        r#"AT+SQNDMCFG="standard","server",101,"86400","coaps://eu.iot.avsystem.cloud:5694""#,
    );
    match c {
        Command::DmServer(s) => assert_eq!(s.effective_server_type(), ServerRole::Dm),
        other => panic!("{other:?}"),
    }
    both_ways(
        Command::dm_server("standard", 101, Some(86400), URL, Some(2), None).unwrap(),
        r#"AT+SQNDMCFG="standard","server",101,"86400","coaps://eu.iot.avsystem.cloud:5694","2""#,
    );
}

#[test]
fn dm_server_numbers_may_be_bare() {
    let parsed = Command::parse(
        r#"at+sqndmcfg="standard","SERVER",100,60,"coaps://eu.iot.avsystem.cloud:5694",1,"BS""#,
    )
    .unwrap();
    assert_eq!(
        parsed,
        Command::dm_server(
            "standard",
            100,
            Some(60),
            URL,
            Some(1),
            Some(ServerRole::Bs)
        )
        .unwrap()
    );
}

#[test]
fn dm_psk_as_in_the_note() {
    both_ways(
        Command::dm_psk("standard", 100, "urn:imei:015770000031766", note_secret()).unwrap(),
        r#"AT+SQNDMCFG="standard","psk",100,"urn:imei:015770000031766","87493467538357""#,
    );
}

#[test]
fn reset() {
    both_ways(Command::Reset, "AT^RESET");
    assert_eq!(Command::parse("at^reset").unwrap(), Command::Reset);
}

#[test]
fn imei_read() {
    both_ways(Command::Cgsn, "AT+CGSN");
}

#[test]
fn factory_save_oem() {
    both_ways(
        Command::factory_save("oem").unwrap(),
        r#"AT+SQNFACTORYSAVE="oem""#,
    );
}

#[test]
fn firmware_read() {
    both_ways(Command::Ati1, "ATI1");
    assert_eq!(Command::parse("ati1").unwrap(), Command::Ati1);
}

#[test]
fn cfun_reset() {
    both_ways(Command::CfunReset, "AT+CFUN=1,1");
}

#[test]
fn dm_status() {
    both_ways(Command::DmStatus, "AT+SQNDMST");
}

#[test]
fn fota_read_and_test_forms() {
    both_ways(Command::FotaConfigRead, "AT+SQNFOTACFG?");
    both_ways(Command::FotaConfigTest, "AT+SQNFOTACFG=?");
}

#[test]
fn the_notes_fota_example_is_rejected_for_its_certificate() {
    let err = note_fota()
        .with_timer(60)
        .unwrap()
        .with_certificate(60)
        .unwrap_err();
    assert_eq!(err.param, "certificate_id");
    assert_eq!(
        err.to_string(),
        "certificate_id: 60 is out of range (allowed 11..19; the note's example 60 is outside its own range)"
    );
    let parsed = Command::parse(r#"AT+SQNFOTACFG="standard",0,2,10,60,,60"#).unwrap_err();
    match &parsed {
        CommandParseError::Param { error, .. } => assert_eq!(**error, err),
        other => panic!("{other:?}"),
    }
    let msg = parsed.to_string();
    assert!(
        msg.starts_with("AT+SQNFOTACFG=…: certificate_id: 60"),
        "{msg}"
    );
    assert!(msg.contains("11..19"), "{msg}");
}

#[test]
fn the_notes_fota_example_with_a_valid_certificate() {
    let c = note_fota()
        .with_timer(60)
        .unwrap()
        .with_certificate(11)
        .unwrap();
    both_ways(
        Command::FotaConfig(c),
        r#"AT+SQNFOTACFG="standard",0,2,10,60,,11"#,
    );
}

#[test]
fn fota_trailing_fields_are_omitted() {
    both_ways(
        Command::FotaConfig(note_fota()),
        r#"AT+SQNFOTACFG="standard",0,2,10"#,
    );
    both_ways(
        Command::FotaConfig(FotaConfig::new("standard").unwrap()),
        r#"AT+SQNFOTACFG="standard""#,
    );
    both_ways(
        Command::FotaConfig(
            note_fota()
                .with_timer(86400)
                .unwrap()
                .with_download_timeout(600)
                .unwrap(),
        ),
        r#"AT+SQNFOTACFG="standard",0,2,10,86400,600"#,
    );
    both_ways(
        Command::FotaConfig(
            FotaConfig::new("standard")
                .unwrap()
                .with_certificate(19)
                .unwrap(),
        ),
        r#"AT+SQNFOTACFG="standard",,,,,,19"#,
    );
}

#[test]
fn dm_read_forms() {
    let p = || ProfileName::new("standard").unwrap();
    both_ways(
        Command::DmServiceRead { profile: p() },
        r#"AT+SQNDMCFG="standard","service""#,
    );
    both_ways(
        Command::DmServerRead { profile: p() },
        r#"AT+SQNDMCFG="standard","server""#,
    );
    both_ways(
        Command::DmPskRead { profile: p() },
        r#"AT+SQNDMCFG="standard","psk""#,
    );
    both_ways(Command::DmConfigTest, "AT+SQNDMCFG=?");
}

#[test]
fn dm_psk_remove_and_profile_delete() {
    let p = || ProfileName::new("standard").unwrap();
    both_ways(
        Command::DmPskRemove {
            profile: p(),
            server_id: ryz014_core::command::ServerId::new(100).unwrap(),
        },
        r#"AT+SQNDMCFG="standard","psk",100,"","""#,
    );
    both_ways(
        Command::DmDeleteProfile { profile: p() },
        r#"AT+SQNDMCFG="standard","delete-profile-config""#,
    );
    assert!(Command::parse(r#"AT+SQNDMCFG="standard","psk",100,"id","""#).is_err());
    assert!(Command::parse(r#"AT+SQNDMCFG="standard","psk",100,"","8749""#).is_err());
}

#[test]
fn other_simple_commands() {
    both_ways(Command::At, "AT");
    both_ways(Command::Echo(false), "ATE0");
    both_ways(Command::Echo(true), "ATE1");
    both_ways(Command::Cmee(CmeeMode::Verbose), "AT+CMEE=2");
    both_ways(Command::cmee(1).unwrap(), "AT+CMEE=1");
    both_ways(Command::CfunRead, "AT+CFUN?");
    both_ways(Command::cfun(0).unwrap(), "AT+CFUN=0");
    both_ways(Command::cfun(1).unwrap(), "AT+CFUN=1");
    both_ways(Command::cfun(4).unwrap(), "AT+CFUN=4");
    both_ways(Command::OperatorModeRead, "AT+SQNCTM?");
    both_ways(Command::AutoConnect(false), "AT+SQNAUTOCONNECT=0");
    both_ways(Command::AutoConnectRead, "AT+SQNAUTOCONNECT?");
    both_ways(Command::FactoryReset, "AT+SQNSFACTORYRESET");
    both_ways(Command::CeregRead, "AT+CEREG?");
    both_ways(
        Command::dm_service("standard", false).unwrap(),
        r#"AT+SQNDMCFG="standard","service",0"#,
    );
    assert_eq!(Command::parse("at").unwrap(), Command::At);
    assert_eq!(
        Command::parse("AT+CFUN=5,0").unwrap(),
        Command::cfun(5).unwrap()
    );
}

#[test]
fn upgrade_tuples() {
    let url = "http://example.com/fw/LR5.4.1.1-57830.dup";
    both_ways(
        Command::upgrade(url, UpgradeAction::Start, None).unwrap(),
        &format!(r#"AT+SQNSUPGRADE="{url}",0,5,1"#),
    );
    both_ways(
        Command::upgrade(url, UpgradeAction::Cancel, None).unwrap(),
        &format!(r#"AT+SQNSUPGRADE="{url}",0,5,2"#),
    );
    both_ways(
        Command::upgrade(url, UpgradeAction::Blocking, None).unwrap(),
        &format!(r#"AT+SQNSUPGRADE="{url}",1,5,0"#),
    );
    both_ways(
        Command::upgrade(url, UpgradeAction::Start, Some(3)).unwrap(),
        &format!(r#"AT+SQNSUPGRADE="{url}",0,5,1,3"#),
    );
    both_ways(Command::UpgradeRead, "AT+SQNSUPGRADE?");
    let err = Command::parse(&format!(r#"AT+SQNSUPGRADE="{url}",1,10,1,1"#)).unwrap_err();
    assert!(err.to_string().contains("0,5,1 start"), "{err}");
    let err = Command::upgrade(url, UpgradeAction::Start, Some(7)).unwrap_err();
    assert_eq!(err.param, "security_profile");
    assert!(err.to_string().contains("1..6"));
}

#[test]
fn upgrade_urls_are_http_https_or_ftp_with_a_host() {
    for good in [
        "http://192.0.2.10/LR5.4.1.1-57830.dup",
        "HTTPS://files.example:8443/a.dup?x=1",
        "ftp://user:pw@files.example/fw/a.dup",
    ] {
        let cmd = Command::upgrade(good, UpgradeAction::Start, None).unwrap();
        assert_eq!(Command::parse(&cmd.to_wire()).unwrap(), cmd, "{good}");
    }
    for (bad, problem) in [
        ("192.0.2.10/a.dup", "has no scheme"),
        ("not a url", "contains a space"),
        ("file:///etc/passwd", "scheme \"file\""),
        ("coaps://files.example/a.dup", "scheme \"coaps\""),
        ("ftps://files.example/a.dup", "scheme \"ftps\""),
        ("http://", "has no host"),
        ("http:///a.dup", "has no host"),
        ("https://:443/a.dup", "has no host"),
        ("http://files.example/a b.dup", "contains a space"),
        ("", "is empty"),
    ] {
        let err = Command::upgrade(bad, UpgradeAction::Start, None).unwrap_err();
        assert_eq!(err.param, "url", "{bad}");
        let text = err.to_string();
        assert!(text.contains(problem), "{bad}: {text}");
        assert!(
            text.contains("http://, https:// or ftp://"),
            "{bad}: {text}"
        );
        // Text read back from a log is held to the same rule.
        let wire = format!(r#"AT+SQNSUPGRADE="{bad}",0,5,1"#);
        assert!(Command::parse(&wire).is_err(), "{wire}");
    }
}

// ---------------------------------------------------------------------------------------------
// Behaviour

#[test]
fn response_prefixes() {
    let p = || ProfileName::new("standard").unwrap();
    assert_eq!(Command::CeregRead.response_prefix(), Some("+CEREG"));
    assert_eq!(
        Command::DmServerRead { profile: p() }.response_prefix(),
        Some("+SQNDMCFG")
    );
    assert_eq!(
        Command::DmPskRead { profile: p() }.response_prefix(),
        Some("+SQNDMCFG")
    );
    assert_eq!(
        Command::DmServiceRead { profile: p() }.response_prefix(),
        Some("+SQNDMCFG")
    );
    assert_eq!(
        Command::FotaConfigRead.response_prefix(),
        Some("+SQNFOTACFG")
    );
    assert_eq!(
        Command::FotaConfigTest.response_prefix(),
        Some("+SQNFOTACFG")
    );
    assert_eq!(Command::OperatorModeRead.response_prefix(), Some("+SQNCTM"));
    assert_eq!(Command::DmStatus.response_prefix(), Some("+SQNDMST"));
    assert_eq!(Command::CfunRead.response_prefix(), Some("+CFUN"));
    assert_eq!(Command::UpgradeRead.response_prefix(), Some("+SQNSUPGRADE"));
    assert_eq!(Command::At.response_prefix(), None);
    assert_eq!(Command::Cgsn.response_prefix(), None);
    assert_eq!(Command::Ati1.response_prefix(), None);
    assert_eq!(
        Command::dm_service("standard", true)
            .unwrap()
            .response_prefix(),
        None
    );
}

#[test]
fn which_commands_reboot() {
    let url = "http://example.com/x.dup";
    assert!(Command::Reset.reboots());
    assert!(Command::CfunReset.reboots());
    assert!(Command::upgrade(url, UpgradeAction::Blocking, None)
        .unwrap()
        .reboots());
    assert!(!Command::upgrade(url, UpgradeAction::Start, None)
        .unwrap()
        .reboots());
    assert!(!Command::cfun(5).unwrap().reboots());
    assert!(!Command::FactoryReset.reboots());
    assert!(!Command::At.reboots());
}

#[test]
fn psk_command_never_shows_the_secret() {
    let secret =
        PskSecret::from_hex("e9891e446e07ba10519059db4ad9eb1b02c83d08dd80102982c27ec9e1bdebde")
            .unwrap();
    let c = Command::dm_psk("standard", 100, "urn:imei:015770000031766", secret).unwrap();
    let full = "e9891e446e07ba10519059db4ad9eb1b02c83d08dd80102982c27ec9e1bdebde";
    assert!(c.to_wire().contains(full));
    assert!(c.has_secret());
    let red = c.redacted();
    assert_eq!(
        red,
        r#"AT+SQNDMCFG="standard","psk",100,"urn:imei:015770000031766","e989…""#
    );
    assert_eq!(c.to_string(), red);
    let dbg = format!("{c:?}");
    let alt = format!("{c:#?}");
    for shown in [&red, &dbg, &alt] {
        assert!(shown.contains("e989"), "{shown}");
        assert!(!shown.contains("e9891"), "{shown}");
    }
    // The note's short secret too.
    let c = Command::dm_psk("standard", 100, "id", note_secret()).unwrap();
    assert!(!format!("{c:?}{c}").contains("87493"));
}

#[test]
fn bad_psk_parameters() {
    let err = Command::dm_psk("standard", 100, "a,b", note_secret()).unwrap_err();
    assert_eq!(err.param, "psk_identity");
    assert!(err.to_string().contains("1..64"), "{err}");
    let err = Command::dm_psk("standard", 100, &"x".repeat(65), note_secret()).unwrap_err();
    assert!(err.to_string().contains("too long (65"), "{err}");
    assert!(Command::dm_psk("standard", 100, &"x".repeat(64), note_secret()).is_ok());
    let err = Command::dm_psk("standard", 100, "a\"b", note_secret()).unwrap_err();
    assert!(err.to_string().contains("'\"'"), "{err}");
    let err = Command::dm_psk("standard", 100, "", note_secret()).unwrap_err();
    assert!(err.to_string().contains("is empty"), "{err}");
    let err = Command::parse(r#"AT+SQNDMCFG="standard","psk",100,"id","8749346753835""#)
        .unwrap_err()
        .to_string();
    assert!(err.contains("odd number of hex digits (13)"), "{err}");
    assert!(err.contains("\"8749…\""), "{err}");
    assert!(!err.contains("87493"), "{err}");
}

#[test]
fn parse_errors() {
    assert_eq!(Command::parse("XT+CGSN"), Err(CommandParseError::NotAt));
    assert_eq!(Command::parse(""), Err(CommandParseError::NotAt));
    assert_eq!(Command::parse("é"), Err(CommandParseError::NotAt));
    assert!(matches!(
        Command::parse("AT+XYZ=1"),
        Err(CommandParseError::Unsupported(s)) if s == "AT+XYZ=…"
    ));
    assert!(matches!(
        Command::parse("AT+CGSN?"),
        Err(CommandParseError::Unsupported(_))
    ));
    let e = Command::parse(r#"AT+SQNDMCFG="standard","nope""#).unwrap_err();
    assert!(e.to_string().contains("unknown group"), "{e}");
    let e = Command::parse(r#"AT+SQNDMCFG="standard","server",100,"60""#).unwrap_err();
    assert!(
        e.to_string().contains("expected 5 to 7 arguments, got 4"),
        "{e}"
    );
    let e = Command::parse(r#"AT+SQNDMCFG="standard","server",abc,,"x""#).unwrap_err();
    assert!(
        e.to_string()
            .contains("server_id must be a non-negative number"),
        "{e}"
    );
    let e = Command::parse(r#"AT+SQNDMCFG="standard","server",100,,"x",,"xx""#).unwrap_err();
    assert!(e.to_string().contains("server_type"), "{e}");
    let e = Command::parse("AT+CFUN=4,1").unwrap_err();
    assert!(e.to_string().contains("only AT+CFUN=1,1"), "{e}");
    let e = Command::parse("AT+CFUN=3").unwrap_err();
    assert!(e.to_string().contains("0, 1, 4 or 5"), "{e}");
    let e = Command::parse(r#"AT+SQNDMCFG="standard","service",1"x"#).unwrap_err();
    assert!(matches!(e, CommandParseError::Syntax { .. }), "{e}");
}

// ---------------------------------------------------------------------------------------------
// Range boundaries

type Build = fn(u64) -> Result<Command, ParamError>;

fn fota_with(
    f: impl Fn(FotaConfig) -> Result<FotaConfig, ParamError>,
) -> Result<Command, ParamError> {
    f(FotaConfig::new("standard")?).map(Command::FotaConfig)
}

/// (parameter, min, max, build from a value)
fn numeric_params() -> Vec<(&'static str, u64, u64, Build)> {
    vec![
        ("server_id", 1, 65535, |v| {
            Command::dm_server("p", v, None, URL, None, None)
        }),
        ("lifetime", 0, 32_000_000, |v| {
            Command::dm_server("p", 1, Some(v), URL, None, None)
        }),
        ("cid", 1, 8, |v| {
            Command::dm_server("p", 1, None, URL, Some(v), None)
        }),
        ("server_id", 1, 65535, |v| {
            Command::dm_psk("p", v, "id", PskSecret::from_hex("00").unwrap())
        }),
        ("mode", 0, 1, |v| fota_with(|c| c.with_mode(v))),
        ("report_state", 0, 2, |v| {
            fota_with(|c| c.with_report_state(v))
        }),
        ("report_download", 0, 100, |v| {
            fota_with(|c| c.with_report_download(v))
        }),
        ("fota_timer", 60, 32_000_000, |v| {
            fota_with(|c| c.with_timer(v))
        }),
        ("download_timeout", 60, 65535, |v| {
            fota_with(|c| c.with_download_timeout(v))
        }),
        ("certificate_id", 11, 19, |v| {
            fota_with(|c| c.with_certificate(v))
        }),
        ("cmee", 0, 2, Command::cmee),
        ("security_profile", 1, 6, |v| {
            Command::upgrade("http://h/x.dup", UpgradeAction::Start, Some(v))
        }),
    ]
}

#[test]
fn every_numeric_boundary_names_the_parameter_and_range() {
    for (param, min, max, build) in numeric_params() {
        let range = format!("{min}..{max}");
        for ok in [min, max] {
            let c = build(ok).unwrap_or_else(|e| panic!("{param}={ok}: {e}"));
            // The accepted value also survives the wire.
            assert_eq!(Command::parse(&c.to_wire()).unwrap(), c);
        }
        let mut bad = vec![max + 1];
        if min > 0 {
            bad.push(min - 1);
        }
        for v in bad {
            let err = build(v).unwrap_err();
            assert_eq!(err.param, param);
            assert_eq!(err.value, v.to_string());
            let msg = err.to_string();
            assert!(
                msg.starts_with(&format!("{param}: {v} is out of range (allowed {range}")),
                "{msg}"
            );
        }
    }
}

#[test]
fn out_of_range_values_are_rejected_when_parsing_too() {
    let cases = [
        (
            r#"AT+SQNDMCFG="p","server",0,,"u""#,
            "server_id",
            "1..65535",
        ),
        (
            r#"AT+SQNDMCFG="p","server",65536,,"u""#,
            "server_id",
            "1..65535",
        ),
        (
            r#"AT+SQNDMCFG="p","server",1,"32000001","u""#,
            "lifetime",
            "0..32000000",
        ),
        (r#"AT+SQNDMCFG="p","server",1,,"u","9""#, "cid", "1..8"),
        (r#"AT+SQNDMCFG="p","server",1,,"u","0""#, "cid", "1..8"),
        (r#"AT+SQNDMCFG="p","service",2"#, "autostart", "0..1"),
        (r#"AT+SQNFOTACFG="p",2"#, "mode", "0..1"),
        (r#"AT+SQNFOTACFG="p",0,3"#, "report_state", "0..2"),
        (r#"AT+SQNFOTACFG="p",0,2,101"#, "report_download", "0..100"),
        (
            r#"AT+SQNFOTACFG="p",0,2,10,59"#,
            "fota_timer",
            "60..32000000",
        ),
        (
            r#"AT+SQNFOTACFG="p",0,2,10,,65536"#,
            "download_timeout",
            "60..65535",
        ),
        (
            r#"AT+SQNFOTACFG="p",0,2,10,,,10"#,
            "certificate_id",
            "11..19",
        ),
        ("AT+CMEE=3", "cmee", "0..2"),
        ("AT+SQNAUTOCONNECT=2", "autoconnect", "0..1"),
    ];
    for (wire, param, range) in cases {
        match Command::parse(wire) {
            Err(CommandParseError::Param { error, .. }) => {
                assert_eq!(error.param, param, "{wire}");
                assert_eq!(error.allowed, range, "{wire}");
            }
            other => panic!("{wire}: {other:?}"),
        }
    }
}

#[test]
fn cfun_levels() {
    for ok in [0, 1, 4, 5] {
        match Command::cfun(ok).unwrap() {
            Command::Cfun(level) => assert_eq!(u64::from(level.number()), ok),
            other => panic!("{other:?}"),
        }
    }
    for bad in [2, 3, 6] {
        let err = Command::cfun(bad).unwrap_err();
        assert_eq!(err.param, "cfun");
        assert!(err.to_string().contains("allowed 0, 1, 4 or 5"), "{err}");
    }
}

#[test]
fn text_length_boundaries() {
    // profile 1..32
    assert!(Command::dm_service(&"p".repeat(32), true).is_ok());
    let e = Command::dm_service(&"p".repeat(33), true).unwrap_err();
    assert_eq!(e.param, "profile");
    assert!(
        e.to_string()
            .contains("too long (33 characters) (allowed 1..32"),
        "{e}"
    );
    let e = Command::dm_service("", true).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("profile: \"\" is empty (allowed 1..32"),
        "{e}"
    );
    let e = Command::dm_service("st\"d", true).unwrap_err();
    assert!(e.to_string().contains("contains '\"'"), "{e}");
    // url 1..256
    let long = format!("coaps://{}", "a".repeat(248));
    assert_eq!(long.len(), 256);
    assert!(Command::dm_server("p", 1, None, &long, None, None).is_ok());
    let e = Command::dm_server("p", 1, None, &format!("{long}a"), None, None).unwrap_err();
    assert_eq!(e.param, "url");
    assert!(
        e.to_string()
            .contains("too long (257 characters) (allowed 1..256"),
        "{e}"
    );
    // A long value is cut in the message.
    assert!(e.value.len() < 60, "{}", e.value);
    let e = Command::dm_server("p", 1, None, "", None, None).unwrap_err();
    assert_eq!(e.param, "url");
    // tag
    let e = Command::factory_save("").unwrap_err();
    assert_eq!(e.param, "tag");
    let e = Command::factory_save("o\u{7}m").unwrap_err();
    assert!(e.to_string().contains("not printable ASCII"), "{e}");
}

// ---------------------------------------------------------------------------------------------
// Round trip over generated commands (native only)

#[cfg(not(target_arch = "wasm32"))]
mod props {
    use super::*;
    use proptest::prelude::*;
    use proptest::strategy::BoxedStrategy;

    // Printable ASCII without '"'.
    const TEXT: &str = "[ !#-~]";

    fn text(max: usize) -> BoxedStrategy<String> {
        proptest::string::string_regex(&format!("{TEXT}{{1,{max}}}"))
            .unwrap()
            .boxed()
    }

    /// An upgrade URL: an allowed scheme in any case, a host, a path without spaces or quotes.
    fn upgrade_url() -> BoxedStrategy<String> {
        proptest::string::string_regex("([hH][tT][tT][pP][sS]?|[fF][tT][pP])://[a-z0-9.-]{1,60}(:[0-9]{1,5})?(/[!#-~]{0,180})?")
            .unwrap()
            .boxed()
    }

    fn identity() -> BoxedStrategy<String> {
        proptest::string::string_regex("[ !#-+\\--~]{1,64}")
            .unwrap()
            .boxed()
    }

    fn secret() -> BoxedStrategy<PskSecret> {
        proptest::collection::vec(any::<u8>(), 1..=32)
            .prop_map(|b| PskSecret::from_bytes(&b).unwrap())
            .boxed()
    }

    fn role() -> BoxedStrategy<Option<ServerRole>> {
        prop_oneof![
            Just(None),
            Just(Some(ServerRole::Bs)),
            Just(Some(ServerRole::Dm))
        ]
        .boxed()
    }

    fn command() -> BoxedStrategy<Command> {
        let simple = prop_oneof![
            Just(Command::At),
            any::<bool>().prop_map(Command::Echo),
            (0u64..=2).prop_map(|n| Command::cmee(n).unwrap()),
            Just(Command::Cgsn),
            Just(Command::Ati1),
            Just(Command::CfunRead),
            prop::sample::select(vec![0u64, 1, 4, 5]).prop_map(|n| Command::cfun(n).unwrap()),
            Just(Command::CfunReset),
            Just(Command::Reset),
            Just(Command::OperatorModeRead),
            any::<bool>().prop_map(Command::AutoConnect),
            Just(Command::AutoConnectRead),
            Just(Command::DmConfigTest),
            Just(Command::FotaConfigRead),
            Just(Command::FotaConfigTest),
            Just(Command::DmStatus),
            Just(Command::FactoryReset),
            Just(Command::CeregRead),
            Just(Command::UpgradeRead),
        ];
        let dm = prop_oneof![
            (text(32), any::<bool>()).prop_map(|(p, a)| Command::dm_service(&p, a).unwrap()),
            (text(32), 0u8..4).prop_map(|(p, k)| {
                let profile = ProfileName::new(&p).unwrap();
                match k {
                    0 => Command::DmServiceRead { profile },
                    1 => Command::DmServerRead { profile },
                    2 => Command::DmPskRead { profile },
                    _ => Command::DmDeleteProfile { profile },
                }
            }),
            (
                text(32),
                1u64..=65535,
                proptest::option::of(0u64..=32_000_000),
                text(256),
                proptest::option::of(1u64..=8),
                role()
            )
                .prop_map(
                    |(p, id, l, u, cid, t)| Command::dm_server(&p, id, l, &u, cid, t).unwrap()
                ),
            (text(32), 1u64..=65535, identity(), secret())
                .prop_map(|(p, id, i, s)| Command::dm_psk(&p, id, &i, s).unwrap()),
            (text(32), 1u64..=65535).prop_map(|(p, id)| Command::DmPskRemove {
                profile: ProfileName::new(&p).unwrap(),
                server_id: ryz014_core::command::ServerId::new(id).unwrap(),
            }),
        ];
        let other = prop_oneof![
            (
                text(32),
                proptest::option::of(0u64..=1),
                proptest::option::of(0u64..=2),
                proptest::option::of(0u64..=100),
                proptest::option::of(60u64..=32_000_000),
                proptest::option::of(60u64..=65535),
                proptest::option::of(11u64..=19),
            )
                .prop_map(|(p, m, rs, rd, t, dl, c)| {
                    let mut f = FotaConfig::new(&p).unwrap();
                    if let Some(v) = m {
                        f = f.with_mode(v).unwrap();
                    }
                    if let Some(v) = rs {
                        f = f.with_report_state(v).unwrap();
                    }
                    if let Some(v) = rd {
                        f = f.with_report_download(v).unwrap();
                    }
                    if let Some(v) = t {
                        f = f.with_timer(v).unwrap();
                    }
                    if let Some(v) = dl {
                        f = f.with_download_timeout(v).unwrap();
                    }
                    if let Some(v) = c {
                        f = f.with_certificate(v).unwrap();
                    }
                    Command::FotaConfig(f)
                }),
            text(32).prop_map(|t| Command::factory_save(&t).unwrap()),
            (
                upgrade_url(),
                prop::sample::select(vec![
                    UpgradeAction::Start,
                    UpgradeAction::Cancel,
                    UpgradeAction::Blocking
                ]),
                proptest::option::of(1u64..=6)
            )
                .prop_map(|(u, a, sp)| Command::upgrade(&u, a, sp).unwrap()),
        ];
        prop_oneof![simple, dm, other].boxed()
    }

    proptest! {
        #[test]
        fn parse_of_to_wire_gives_the_command_back(c in command()) {
            let wire = c.to_wire();
            prop_assert_eq!(Command::parse(&wire).unwrap(), c.clone(), "{}", wire);
            // Lower-case "at" and the command name are accepted as well.
            let (head, tail) = split_name(&wire);
            let lowered = format!("{}{}", head.to_ascii_lowercase(), tail);
            prop_assert_eq!(Command::parse(&lowered).unwrap(), c);
        }

        #[test]
        fn redacted_forms_never_show_more_than_four_secret_digits(
            // No hex digits in the profile and identity, and at most 4 digits in the server id,
            // so any 5 hex digits in a row could only come from the secret.
            p in "[g-z]{1,32}", id in 1u64..=9999, i in "[g-z:]{1,64}", s in secret()
        ) {
            let c = Command::dm_psk(&p, id, &i, s.clone()).unwrap();
            let full = s.expose_hex();
            prop_assert!(c.to_wire().contains(&full));
            let shown = format!("{}|{:?}|{:#?}|{}", c, c, c, c.redacted());
            prop_assert!(shown.contains(&format!("{}…", s.prefix())), "{}", shown);
            if full.len() > 4 {
                prop_assert!(!shown.contains(&full[..5]), "{}", shown);
            }
        }

        #[test]
        fn parse_never_panics(s in any::<String>()) {
            let _ = Command::parse(&s);
            let _ = Command::parse(&format!("AT+SQNDMCFG={s}"));
            let _ = Command::parse(&format!("AT+SQNFOTACFG={s}"));
            let _ = Command::parse(&format!("AT+SQNSUPGRADE={s}"));
        }
    }

    /// Splits a wire command into its `AT<name>` head and the rest (`=…`, `?`).
    fn split_name(wire: &str) -> (&str, &str) {
        let end = wire.find(['=', '?']).unwrap_or(wire.len());
        wire.split_at(end)
    }
}
