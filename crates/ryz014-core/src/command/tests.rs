//! Unit tests of the command module's private parts (argument splitting, numbers, secrets in
//! parse errors) and one table of every command form with all its facts.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use std::time::Duration;

use super::decode::{parse_u64, split_args, Arg};
use super::*;

#[test]
fn split_args_handles_quotes_empties_and_commas_in_quotes() {
    assert_eq!(
        split_args(r#""a,b",1,,"","x" , 7"#).unwrap(),
        vec![
            Arg::Quoted("a,b"),
            Arg::Bare("1"),
            Arg::Empty,
            Arg::Quoted(""),
            Arg::Quoted("x"),
            Arg::Bare("7")
        ]
    );
    assert_eq!(split_args("").unwrap(), vec![Arg::Empty]);
    assert_eq!(split_args("1,").unwrap(), vec![Arg::Bare("1"), Arg::Empty]);
    assert!(split_args(r#""abc"#).is_err());
    assert!(split_args(r#""abc"x,1"#).is_err());
}

#[test]
fn parse_u64_rejects_signs_and_spaces() {
    assert_eq!(parse_u64("0060"), Some(60));
    assert_eq!(parse_u64("-1"), None);
    assert_eq!(parse_u64("+1"), None);
    assert_eq!(parse_u64("99999999999999999999999"), None);
}

#[test]
fn parse_errors_do_not_echo_secrets() {
    let secret = "0123456789abcdef0123456789abcdef0";
    let err = Command::parse(&format!(
        r#"AT+SQNDMCFG="standard","psk",100,"id","{secret}""#
    ))
    .unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("psk_secret"), "{msg}");
    assert!(!msg.contains("01234"), "{msg}");
    assert!(!format!("{err:?}").contains("01234"));
}

/// A command form and its facts: wire text, name, response prefix, timeout in seconds, whether
/// it reboots, whether it carries a secret.
type Facts = (
    Command,
    &'static str,
    &'static str,
    Option<&'static str>,
    u64,
    bool,
    bool,
);

/// Every command form with its facts.
fn facts() -> Vec<Facts> {
    let p = || ProfileName::new("standard").unwrap();
    let secret = PskSecret::from_hex("87493467538357").unwrap();
    let url = "http://example.com/fw.dup";
    vec![
        (Command::At, "AT", "AT", None, 10, false, false),
        (Command::Echo(false), "ATE0", "ATE", None, 10, false, false),
        (Command::Echo(true), "ATE1", "ATE", None, 10, false, false),
        (
            Command::Cmee(CmeeMode::Numeric),
            "AT+CMEE=1",
            "AT+CMEE",
            None,
            10,
            false,
            false,
        ),
        (
            Command::CmeeRead,
            "AT+CMEE?",
            "AT+CMEE",
            Some("+CMEE"),
            10,
            false,
            false,
        ),
        (Command::Cgsn, "AT+CGSN", "AT+CGSN", None, 10, false, false),
        (Command::Ati1, "ATI1", "ATI1", None, 10, false, false),
        (
            Command::CfunRead,
            "AT+CFUN?",
            "AT+CFUN",
            Some("+CFUN"),
            10,
            false,
            false,
        ),
        (
            Command::Cfun(CfunLevel::Manufacturing),
            "AT+CFUN=5",
            "AT+CFUN",
            None,
            40,
            false,
            false,
        ),
        (
            Command::CfunReset,
            "AT+CFUN=1,1",
            "AT+CFUN",
            None,
            40,
            true,
            false,
        ),
        (
            Command::Reset,
            "AT^RESET",
            "AT^RESET",
            None,
            10,
            true,
            false,
        ),
        (
            Command::OperatorModeRead,
            "AT+SQNCTM?",
            "AT+SQNCTM",
            Some("+SQNCTM"),
            10,
            false,
            false,
        ),
        (
            Command::AutoConnect(true),
            "AT+SQNAUTOCONNECT=1",
            "AT+SQNAUTOCONNECT",
            None,
            10,
            false,
            false,
        ),
        (
            Command::AutoConnectRead,
            "AT+SQNAUTOCONNECT?",
            "AT+SQNAUTOCONNECT",
            Some("+SQNAUTOCONNECT"),
            10,
            false,
            false,
        ),
        (
            Command::DmConfigTest,
            "AT+SQNDMCFG=?",
            "AT+SQNDMCFG",
            Some("+SQNDMCFG"),
            10,
            false,
            false,
        ),
        (
            Command::DmService {
                profile: p(),
                autostart: true,
            },
            r#"AT+SQNDMCFG="standard","service",1"#,
            "AT+SQNDMCFG",
            None,
            10,
            false,
            false,
        ),
        (
            Command::DmServiceRead { profile: p() },
            r#"AT+SQNDMCFG="standard","service""#,
            "AT+SQNDMCFG",
            Some("+SQNDMCFG"),
            10,
            false,
            false,
        ),
        (
            Command::dm_server(
                "standard",
                100,
                Some(60),
                "coaps://x:5694",
                Some(1),
                Some(ServerRole::Bs),
            )
            .unwrap(),
            r#"AT+SQNDMCFG="standard","server",100,"60","coaps://x:5694","1","bs""#,
            "AT+SQNDMCFG",
            None,
            10,
            false,
            false,
        ),
        (
            Command::DmServerRead { profile: p() },
            r#"AT+SQNDMCFG="standard","server""#,
            "AT+SQNDMCFG",
            Some("+SQNDMCFG"),
            10,
            false,
            false,
        ),
        (
            Command::dm_psk("standard", 100, "urn:imei:1", secret).unwrap(),
            r#"AT+SQNDMCFG="standard","psk",100,"urn:imei:1","87493467538357""#,
            "AT+SQNDMCFG",
            None,
            10,
            false,
            true,
        ),
        (
            Command::DmPskRemove {
                profile: p(),
                server_id: ServerId::new(100).unwrap(),
            },
            r#"AT+SQNDMCFG="standard","psk",100,"","""#,
            "AT+SQNDMCFG",
            None,
            10,
            false,
            false,
        ),
        (
            Command::DmPskRead { profile: p() },
            r#"AT+SQNDMCFG="standard","psk""#,
            "AT+SQNDMCFG",
            Some("+SQNDMCFG"),
            10,
            false,
            false,
        ),
        (
            Command::DmDeleteProfile { profile: p() },
            r#"AT+SQNDMCFG="standard","delete-profile-config""#,
            "AT+SQNDMCFG",
            None,
            10,
            false,
            false,
        ),
        (
            Command::FotaConfig(FotaConfig::new("standard").unwrap().with_timer(60).unwrap()),
            r#"AT+SQNFOTACFG="standard",,,,60"#,
            "AT+SQNFOTACFG",
            None,
            10,
            false,
            false,
        ),
        (
            Command::FotaConfigRead,
            "AT+SQNFOTACFG?",
            "AT+SQNFOTACFG",
            Some("+SQNFOTACFG"),
            10,
            false,
            false,
        ),
        (
            Command::FotaConfigTest,
            "AT+SQNFOTACFG=?",
            "AT+SQNFOTACFG",
            Some("+SQNFOTACFG"),
            10,
            false,
            false,
        ),
        (
            Command::DmStatus,
            "AT+SQNDMST",
            "AT+SQNDMST",
            Some("+SQNDMST"),
            10,
            false,
            false,
        ),
        (
            Command::factory_save("oem").unwrap(),
            r#"AT+SQNFACTORYSAVE="oem""#,
            "AT+SQNFACTORYSAVE",
            None,
            30,
            false,
            false,
        ),
        (
            Command::FactoryReset,
            "AT+SQNSFACTORYRESET",
            "AT+SQNSFACTORYRESET",
            None,
            30,
            false,
            false,
        ),
        (
            Command::CeregRead,
            "AT+CEREG?",
            "AT+CEREG",
            Some("+CEREG"),
            10,
            false,
            false,
        ),
        (
            Command::upgrade(url, UpgradeAction::Start, None).unwrap(),
            r#"AT+SQNSUPGRADE="http://example.com/fw.dup",0,5,1"#,
            "AT+SQNSUPGRADE",
            None,
            10,
            false,
            false,
        ),
        (
            Command::upgrade(url, UpgradeAction::Cancel, Some(2)).unwrap(),
            r#"AT+SQNSUPGRADE="http://example.com/fw.dup",0,5,2,2"#,
            "AT+SQNSUPGRADE",
            None,
            10,
            false,
            false,
        ),
        (
            Command::upgrade(url, UpgradeAction::Blocking, None).unwrap(),
            r#"AT+SQNSUPGRADE="http://example.com/fw.dup",1,5,0"#,
            "AT+SQNSUPGRADE",
            None,
            3600,
            true,
            false,
        ),
        (
            Command::UpgradeRead,
            "AT+SQNSUPGRADE?",
            "AT+SQNSUPGRADE",
            Some("+SQNSUPGRADE"),
            10,
            false,
            false,
        ),
    ]
}

#[test]
fn every_command_form_keeps_its_facts() {
    for (c, wire, name, prefix, timeout, reboots, secret) in facts() {
        assert_eq!(c.to_wire(), wire);
        assert_eq!(c.name(), name, "{wire}");
        assert_eq!(c.response_prefix(), prefix, "{wire}");
        assert_eq!(c.typical_timeout(), Duration::from_secs(timeout), "{wire}");
        assert_eq!(c.reboots(), reboots, "{wire}");
        assert_eq!(c.has_secret(), secret, "{wire}");
        assert_eq!(Command::parse(wire).unwrap(), c, "{wire}");
    }
}
