//! Behaviour beyond the note's transcripts: error modes, gating, NV persistence, read forms,
//! LwM2M failure paths, FOTA options, `AT+SQNSUPGRADE`, determinism and long timers.

mod common;

use std::time::Duration;

use common::*;
use ryz014_sim::{FirmwareImage, SimConfig, UpgradeStatus};

const MIN: Duration = Duration::from_secs(60);
const DAY: Duration = Duration::from_secs(86_400);

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

#[test]
fn error_reporting_follows_cmee() {
    let mut h = Host::quiet(SimConfig::default());
    assert_eq!(h.cmd("AT+NOPE"), s(&["ERROR"]));
    assert_eq!(h.cmd("AT+CFUN=7"), s(&["ERROR"]));
    h.ok("AT+CMEE=1");
    assert_eq!(h.ok("AT+CMEE?"), s(&["+CMEE: 1"]));
    assert_eq!(h.cmd("AT+NOPE"), s(&["+CME ERROR: 4"]));
    assert_eq!(h.cmd("AT+CFUN=7"), s(&["+CME ERROR: 50"]));
    assert_eq!(
        h.cmd(r#"AT+SQNDMCFG="standard","service",1"#),
        s(&["+CME ERROR: 3"])
    );
    h.ok("AT+CMEE=2");
    assert_eq!(
        h.cmd("AT+NOPE"),
        s(&["+CME ERROR: operation not supported"])
    );
    assert_eq!(h.cmd("AT+CFUN=7"), s(&["+CME ERROR: incorrect parameters"]));
    assert_eq!(
        h.cmd(r#"AT+SQNFACTORYSAVE="oem""#),
        s(&["+CME ERROR: operation not allowed"])
    );
    // Lines that do not start with AT are ignored, `\r\n` ends a command too.
    h.write(b"hello\rAT\r\n");
    assert_eq!(h.lines_for(Duration::from_secs(1)), s(&["OK"]));
}

#[test]
fn echo_and_identity() {
    let mut h = Host::new(SimConfig::default());
    assert_eq!(h.cmd("ATE0"), s(&["ATE0", "OK"]));
    assert_eq!(h.cmd("AT"), s(&["OK"]));
    assert_eq!(h.cmd("ATE1"), s(&["OK"]));
    assert_eq!(
        h.cmd("AT+CGSN=1"),
        s(&["AT+CGSN=1", r#"+CGSN: "015770000031766""#, "OK"])
    );
    h.ok("ATE0");
    assert_eq!(h.ok("AT+SQNAUTOCONNECT?"), s(&["+SQNAUTOCONNECT: 0"]));
    assert_eq!(h.ok("AT+CFUN?"), s(&["+CFUN: 0"]));
    assert_eq!(h.ok("AT+CEREG?"), s(&["+CEREG: 2,0"]));
    assert_eq!(h.ok("AT+CGMR"), s(&["UE5.4.1.1"]));
    assert_eq!(
        h.ok("AT+SQNFOTACFG=?"),
        s(&["+SQNFOTACFG: 32,(0,1),(0-2),(0-100),(60-32000000),(60-65535),(11-19)"])
    );
}

#[test]
fn manufacturing_mode_gates_dm_writes_and_the_restoration_point() {
    let mut h = Host::quiet(SimConfig {
        cmee: 1,
        ..SimConfig::default()
    });
    let writes = [
        r#"AT+SQNDMCFG="standard","service",1"#,
        r#"AT+SQNDMCFG="standard","server",100,60,"coaps://x",1,"bs""#,
        r#"AT+SQNDMCFG="standard","psk",100,"id","0011""#,
        r#"AT+SQNDMCFG="standard","delete-profile-config""#,
        r#"AT+SQNFACTORYSAVE="oem""#,
    ];
    for w in writes {
        assert_eq!(h.cmd(w), s(&["+CME ERROR: 3"]), "{w}");
    }
    // Reads are allowed in any mode.
    assert_eq!(h.cmd(r#"AT+SQNDMCFG="standard","server""#), s(&["OK"]));
    h.ok("AT+CFUN=5");
    for w in writes {
        assert_eq!(h.cmd(w), s(&["OK"]), "{w}");
    }
    h.ok("AT+CFUN=1");
    assert_eq!(h.cmd(writes[0]), s(&["+CME ERROR: 3"]));
}

#[test]
fn dm_configuration_validates_ranges() {
    let mut h = Host::quiet(SimConfig {
        cmee: 1,
        ..SimConfig::default()
    });
    h.ok("AT+CFUN=5");
    let bad = [
        r#"AT+SQNDMCFG="standard","service",2"#,
        r#"AT+SQNDMCFG="standard","server",0,60,"coaps://x",1,"bs""#,
        r#"AT+SQNDMCFG="standard","server",65536,60,"coaps://x""#,
        r#"AT+SQNDMCFG="standard","server",100,32000001,"coaps://x""#,
        r#"AT+SQNDMCFG="standard","server",100,60,"coaps://x",9"#,
        r#"AT+SQNDMCFG="standard","server",100,60,"coaps://x",1,"xx""#,
        r#"AT+SQNDMCFG="standard","server",100,60,"""#,
        r#"AT+SQNDMCFG="standard","psk",100,"id","abc""#,
        r#"AT+SQNDMCFG="standard","psk",100,"id","zz""#,
        r#"AT+SQNDMCFG="standard","psk",100,"","0011""#,
        r#"AT+SQNDMCFG="a-profile-name-longer-than-32-chars","service",1"#,
        r#"AT+SQNDMCFG="standard","nope""#,
    ];
    for b in bad {
        assert_eq!(h.cmd(b), s(&["+CME ERROR: 50"]), "{b}");
    }
    let long_url = format!(
        r#"AT+SQNDMCFG="standard","server",100,60,"coaps://{}""#,
        "a".repeat(250)
    );
    assert_eq!(h.cmd(&long_url), s(&["+CME ERROR: 50"]));
    // Optional fields: empty lifetime and cid, default type dm; a second write replaces.
    h.ok(r#"AT+SQNDMCFG="standard","server",1,,"coaps://dm""#);
    h.ok(r#"AT+SQNDMCFG="standard","server",100,"60","coaps://bs","1","bs""#);
    h.ok(r#"AT+SQNDMCFG="standard","server",100,"10","coaps://bs2","1","bs""#);
    assert_eq!(
        h.ok(r#"AT+SQNDMCFG="standard","server""#),
        s(&[
            r#"+SQNDMCFG: "standard","server",1,,"coaps://dm",,"dm""#,
            r#"+SQNDMCFG: "standard","server",100,10,"coaps://bs2",1,"bs""#,
        ])
    );
}

#[test]
fn psk_read_shows_four_hex_digits_and_empty_fields_remove_the_entry() {
    let mut h = Host::quiet(SimConfig::default());
    h.ok("AT+CFUN=5");
    h.ok(&format!(
        r#"AT+SQNDMCFG="standard","psk",100,"{EP}","{SECRET}""#
    ));
    h.ok(r#"AT+SQNDMCFG="standard","psk",101,"other","e9891e446e07ba10519059db4ad9eb1b02c83d08dd80102982c27ec9e1bdebde""#);
    let got = h.ok(r#"AT+SQNDMCFG="standard","psk""#);
    assert_eq!(
        got,
        s(&[
            r#"+SQNDMCFG: "standard","psk",100,"urn:imei:015770000031766","8749""#,
            r#"+SQNDMCFG: "standard","psk",101,"other","e989""#,
        ])
    );
    h.ok(r#"AT+SQNDMCFG="standard","psk",100,"","""#);
    assert_eq!(
        h.ok(r#"AT+SQNDMCFG="standard","psk""#),
        s(&[r#"+SQNDMCFG: "standard","psk",101,"other","e989""#])
    );
    // Nothing of the secrets in the log or the snapshot beyond the prefix.
    let json = serde_json::to_string(&h.handle.snapshot()).unwrap();
    assert!(!json.contains("67538357"), "{json}");
    assert!(!json.contains("1e446e07"), "{json}");
    assert!(json.contains("8749…"), "{json}");
}

#[test]
fn delete_profile_config_removes_everything_of_the_profile() {
    let mut h = Host::quiet(SimConfig::default());
    h.ok("AT+CFUN=5");
    h.ok(r#"AT+SQNDMCFG="standard","service",1"#);
    h.ok(&format!(
        r#"AT+SQNDMCFG="standard","server",100,60,"{BS_URL}",1,"bs""#
    ));
    h.ok(&format!(
        r#"AT+SQNDMCFG="standard","psk",100,"{EP}","{SECRET}""#
    ));
    h.ok(r#"AT+SQNDMCFG="other","service",1"#);
    assert_eq!(h.ok(r#"AT+SQNDMCFG="standard""#).len(), 3);
    h.ok(r#"AT+SQNDMCFG="standard","delete-profile-config""#);
    assert!(h.ok(r#"AT+SQNDMCFG="standard""#).is_empty());
    assert!(h.ok(r#"AT+SQNDMCFG="standard","psk""#).is_empty());
    assert_eq!(
        h.ok(r#"AT+SQNDMCFG="other","service""#),
        s(&[r#"+SQNDMCFG: "other","service",1"#])
    );
}

#[test]
fn dm_configuration_survives_every_kind_of_reset_and_factory_reset_rewinds_the_rest() {
    let mut h = provisioned(SimConfig::default(), r#""standard",0,2,10,60,,60"#);
    let dm_read = |h: &mut Host| {
        let mut v = h.ok(r#"AT+SQNDMCFG="standard""#);
        v.retain(|l| l.starts_with("+SQNDMCFG"));
        v
    };
    let before = dm_read(&mut h);
    assert_eq!(before.len(), 3);
    assert_eq!(
        h.ok("AT+SQNFOTACFG?")
            .into_iter()
            .filter(|l| l.starts_with("+SQNFOTACFG"))
            .collect::<Vec<_>>(),
        s(&[r#"+SQNFOTACFG: "standard",0,2,10,60,60,,60"#])
    );
    // AT^RESET, AT+CFUN=1,1, a power cut, an upgrade.
    h.ok("AT^RESET");
    h.wait_line("+SYSSTART", MIN);
    assert_eq!(dm_read(&mut h), before);
    h.ok("AT+CFUN=1,1");
    h.wait_line("+SYSSTART", MIN);
    assert_eq!(dm_read(&mut h), before);
    h.handle.power_cycle(Duration::from_secs(5));
    h.wait_line("+SYSSTART", MIN);
    assert_eq!(dm_read(&mut h), before);
    h.handle
        .schedule_firmware(EP, FirmwareImage::good("5.4.1.1-57830"))
        .unwrap();
    h.wait_line(r#"+SQNFOTA: "installed","5.4.1.1-57830""#, 10 * MIN);
    assert_eq!(dm_read(&mut h), before);
    assert!(h
        .ok("AT+SQNFOTACFG?")
        .iter()
        .any(|l| l.starts_with(r#"+SQNFOTACFG: "standard",0,2,10,60"#)));

    // Factory reset: back to the restoration point, saved before AT+SQNFOTACFG (§4.3.3: "The
    // procedure has to be done once after each factory reset"); DM configuration untouched.
    h.ok("AT+SQNSFACTORYRESET");
    h.ok("AT^RESET");
    h.wait_line("+SYSSTART", MIN);
    let fota: Vec<String> = h
        .ok("AT+SQNFOTACFG?")
        .into_iter()
        .filter(|l| l.starts_with("+SQNFOTACFG"))
        .collect();
    assert!(fota.is_empty(), "{fota:?}");
    assert_eq!(dm_read(&mut h), before);
    assert!(h
        .ok("AT+SQNAUTOCONNECT?")
        .contains(&"+SQNAUTOCONNECT: 1".to_string()));
}

#[test]
fn fota_configuration_applies_at_the_next_reboot_only() {
    let mut h = provisioned(SimConfig::default(), r#""standard",0,2,10,3600"#);
    // Reporting off from the next reboot on; the running configuration still reports.
    h.ok(r#"AT+SQNFOTACFG="standard",0,0,0,3600"#);
    h.handle
        .schedule_firmware(EP, FirmwareImage::good("5.4.1.1-57830"))
        .unwrap();
    h.handle.network_query(EP).unwrap();
    let got = h.until(10 * MIN, |l| l == "+SYSSTART");
    assert!(got.contains(&"+SQNFOTA: 5,3,100".to_string()), "{got:?}");
    assert!(
        got.contains(&r#"+SQNFOTA: "install""#.to_string()),
        "{got:?}"
    );
    // The installation reboot applied the new configuration: no more +SQNFOTA.
    let got = h.lines_for(10 * MIN);
    assert!(got.iter().any(|l| l.starts_with("+CEREG: 1,")), "{got:?}");
    assert!(!got.iter().any(|l| l.starts_with("+SQNFOTA")), "{got:?}");
    assert_eq!(h.handle.firmware(), "5.4.1.1-57830");
}

#[test]
fn fotacfg_validates_against_the_note_and_needs_a_dm_profile() {
    let mut h = Host::quiet(SimConfig {
        cmee: 1,
        ..SimConfig::default()
    });
    assert_eq!(
        h.cmd(r#"AT+SQNFOTACFG="standard",0,2,10,60,,11"#),
        s(&["+CME ERROR: 50"]),
        "no DM profile yet"
    );
    h.ok("AT+CFUN=5");
    h.ok(r#"AT+SQNDMCFG="standard","service",1"#);
    for b in [
        r#"AT+SQNFOTACFG="standard",2"#,
        r#"AT+SQNFOTACFG="standard",0,3"#,
        r#"AT+SQNFOTACFG="standard",0,2,101"#,
        r#"AT+SQNFOTACFG="standard",0,2,10,59"#,
        r#"AT+SQNFOTACFG="standard",0,2,10,32000001"#,
        r#"AT+SQNFOTACFG="standard",0,2,10,60,65536"#,
        r#"AT+SQNFOTACFG="standard",0,2,10,60,60,11,1"#,
    ] {
        assert_eq!(h.cmd(b), s(&["+CME ERROR: 50"]), "{b}");
    }
    // Defaults for omitted values: mode 0, report_state 2, report_download 0.
    h.ok(r#"AT+SQNFOTACFG="standard""#);
    assert_eq!(
        h.ok("AT+SQNFOTACFG?"),
        s(&[r#"+SQNFOTACFG: "standard",0,2,0,,,,"#])
    );
    // The note's own certificate id 60 is accepted unless strict.
    h.ok(r#"AT+SQNFOTACFG="standard",0,2,10,60,,60"#);
    let mut strict = Host::quiet(SimConfig {
        cmee: 1,
        strict_certificate: true,
        ..SimConfig::default()
    });
    strict.ok("AT+CFUN=5");
    strict.ok(r#"AT+SQNDMCFG="standard","service",1"#);
    assert_eq!(
        strict.cmd(r#"AT+SQNFOTACFG="standard",0,2,10,60,,60"#),
        s(&["+CME ERROR: 50"])
    );
    strict.ok(r#"AT+SQNFOTACFG="standard",0,2,10,60,,19"#);
}

#[test]
fn dmst_errors_when_not_attached_or_the_client_is_disabled() {
    let mut h = Host::quiet(SimConfig {
        cmee: 1,
        ..SimConfig::default()
    });
    assert_eq!(h.cmd("AT+SQNDMST"), s(&["ERROR"]));
    // Attached, but no DM service enabled.
    h.ok("AT+CFUN=1");
    h.until(MIN, |l| l.starts_with("+CEREG: 1,"));
    assert_eq!(h.cmd("AT+SQNDMST"), s(&["ERROR"]));
    // Enabled (applies at the next boot), then attached: answers.
    h.ok("AT+CFUN=5");
    h.ok(r#"AT+SQNDMCFG="standard","service",1"#);
    h.ok(&format!(
        r#"AT+SQNDMCFG="standard","server",100,60,"{BS_URL}",1,"bs""#
    ));
    h.ok("AT+CFUN=1,1");
    h.wait_line("+SYSSTART", MIN);
    assert_eq!(
        h.cmd("AT+SQNDMST"),
        s(&["ERROR"]),
        "booted but not attached"
    );
    h.until(MIN, |l| l.starts_with("+CEREG: 1,"));
    assert_eq!(
        h.ok("AT+SQNDMST"),
        s(&[r#"+SQNDMST: "bs",100,"BS_HOLD_OFF",60,60"#])
    );
}

#[test]
fn bootstrap_fails_when_the_server_does_not_know_the_device() {
    let mut h = Host::quiet(SimConfig::default());
    // Known endpoint, wrong secret on the server side.
    h.handle.register_device(EP, EP, "00112233").unwrap();
    h.ok("AT+SQNAUTOCONNECT=1");
    h.ok("AT+CFUN=5");
    h.ok(r#"AT+SQNDMCFG="standard","service",1"#);
    h.ok(&format!(
        r#"AT+SQNDMCFG="standard","server",100,10,"{BS_URL}",1,"bs""#
    ));
    h.ok(&format!(
        r#"AT+SQNDMCFG="standard","psk",100,"{EP}","{SECRET}""#
    ));
    h.ok(r#"AT+SQNFOTACFG="standard",0,2,10"#);
    h.ok("AT^RESET");
    h.until(MIN, |l| l.starts_with("+CEREG: 1,"));
    // Hold-off 10 s, bootstrap 1 s, then failing with a 10 s retry.
    h.lines_for(Duration::from_secs(12));
    assert_eq!(
        h.ok("AT+SQNDMST"),
        s(&[r#"+SQNDMST: "bs",100,"BS_FAILING",10,9"#])
    );
    let got = h.lines_for(MIN);
    assert_eq!(got, s(&["+SQNFOTA: 2"]), "stopped, never idle");
    assert_eq!(
        h.ok("AT+SQNDMST"),
        s(&[r#"+SQNDMST: "bs",100,"BS_FAILED",10,-1"#])
    );
    let st = h.handle.device_status(EP).unwrap();
    assert_eq!((st.bootstraps, st.failed_bootstraps), (0, 3));
    assert!(!st.registered);
}

#[test]
fn report_download_zero_suppresses_progress_and_report_state_zero_everything() {
    let mut h = provisioned(SimConfig::default(), r#""standard",0,2,0,60"#);
    h.handle
        .schedule_firmware(EP, FirmwareImage::good("5.4.1.1-57830"))
        .unwrap();
    let got = h.until(5 * MIN, |l| l.starts_with("+SQNFOTA: \"installed\""));
    assert!(got.contains(&"+SQNFOTA: 5".to_string()));
    assert!(
        !got.iter().any(|l| l.starts_with("+SQNFOTA: 5,3")),
        "{got:?}"
    );

    let cfg = SimConfig {
        download_bps: 1_000_000,
        ..SimConfig::default()
    };
    let mut h = Host::quiet(cfg);
    h.handle.register_device(EP, EP, SECRET).unwrap();
    h.ok("AT+SQNAUTOCONNECT=1");
    h.ok("AT+CFUN=5");
    h.ok(r#"AT+SQNDMCFG="standard","service",1"#);
    h.ok(&format!(
        r#"AT+SQNDMCFG="standard","server",100,0,"{BS_URL}",1,"bs""#
    ));
    h.ok(&format!(
        r#"AT+SQNDMCFG="standard","psk",100,"{EP}","{SECRET}""#
    ));
    h.ok(r#"AT+SQNFOTACFG="standard",0,0,10,60"#);
    h.handle
        .schedule_firmware(EP, FirmwareImage::good("5.4.1.1-57830"))
        .unwrap();
    h.ok("AT+CFUN=1,1");
    let got = h.lines_for(10 * MIN);
    assert!(!got.iter().any(|l| l.starts_with("+SQNFOTA")), "{got:?}");
    assert_eq!(h.handle.firmware(), "5.4.1.1-57830");
}

#[test]
fn network_initiated_query_checks_at_once() {
    let mut h = provisioned(SimConfig::default(), r#""standard",0,2,25,32000000"#);
    let t0 = h.now();
    h.handle
        .schedule_firmware(EP, FirmwareImage::good("5.4.1.1-57830"))
        .unwrap();
    h.handle.network_query(EP).unwrap();
    let got = h.until(MIN, |l| l == "+SQNFOTA: 5");
    assert_eq!(
        got,
        s(&[
            "+SQNFOTA: 4",
            "+SQNFOTA: 3",
            r#"+SQNFOTA: "available""#,
            "+SQNFOTA: 4",
            "+SQNFOTA: 3",
            "+SQNFOTA: 5"
        ])
    );
    assert!(h.now() - t0 < Duration::from_secs(2));
    // A query while busy is refused; the server sees the progress.
    assert!(h.handle.network_query(EP).is_err());
    assert_eq!(
        h.line(MIN).as_deref(),
        Some("+SQNFOTA: 5,3,0"),
        "steps of 25"
    );
    h.wait_line("+SQNFOTA: 5,3,25", MIN);
    assert_eq!(
        h.handle.device_status(EP).unwrap().upgrade,
        UpgradeStatus::Downloading {
            version: "5.4.1.1-57830".into(),
            percent: 25
        }
    );
    let got = h.until(MIN, |l| l == r#"+SQNFOTA: "downloaded""#);
    assert_eq!(
        got,
        s(&[
            "+SQNFOTA: 5,3,50",
            "+SQNFOTA: 5,3,75",
            "+SQNFOTA: 5,3,100",
            r#"+SQNFOTA: "downloaded""#
        ])
    );
}

#[test]
fn a_thirty_day_fota_timer_runs_in_virtual_time() {
    let mut h = provisioned(SimConfig::default(), r#""standard",0,2,10,2592000"#);
    let idle_at = h.now();
    h.handle
        .schedule_firmware(EP, FirmwareImage::good("5.4.1.1-57830"))
        .unwrap();
    // Daily registration updates come and go silently; the check comes after 30 days.
    h.wait_line("+SQNFOTA: 4", 31 * DAY);
    assert_eq!(h.now() - idle_at, 30 * DAY);
    h.wait_line(r#"+SQNFOTA: "installed","5.4.1.1-57830""#, MIN);
    assert_eq!(h.handle.device_status(EP).unwrap().checks, 1);
}

#[test]
fn the_default_fota_period_is_the_servers_lifetime() {
    let mut h = provisioned(SimConfig::default(), r#""standard",0,2,10"#);
    let idle_at = h.now();
    assert!(h
        .ok("AT+SQNFOTACFG?")
        .contains(&r#"+SQNFOTACFG: "standard",0,2,10,,86400,,"#.to_string()));
    h.wait_line("+SQNFOTA: 4", 2 * DAY);
    assert_eq!(h.now() - idle_at, DAY);
}

#[test]
fn a_download_timeout_pauses_and_the_next_check_resumes() {
    // 35346 bytes at 2000 bit/s: 141 s; timeout 60 s → 42 % done.
    let cfg = SimConfig {
        download_bps: 2_000,
        ..SimConfig::default()
    };
    let mut h = provisioned(cfg, r#""standard",0,2,10,300,60"#);
    h.handle
        .schedule_firmware(EP, FirmwareImage::good("5.4.1.1-57830"))
        .unwrap();
    let got = h.until(10 * MIN, |l| l == "+SQNFOTA: 5,3,40");
    assert!(got.contains(&"+SQNFOTA: 5,3,0".to_string()));
    assert_eq!(h.line(MIN).as_deref(), Some("+SQNFOTA: 3"), "paused");
    let got = h.until(10 * MIN, |l| l.starts_with("+SQNFOTA: 5,3,"));
    assert_eq!(
        got.last().map(String::as_str),
        Some("+SQNFOTA: 5,3,40"),
        "resumed"
    );
    h.wait_line(r#"+SQNFOTA: "installed","5.4.1.1-57830""#, 10 * MIN);
}

#[test]
fn device_initiated_upgrade_non_blocking() {
    let cfg = SimConfig {
        cmee: 1,
        autoconnect: true,
        ..SimConfig::default()
    };
    let mut h = Host::quiet(cfg);
    let url = "http://files.example/to_LOWER_FFF_PXL.dup";
    h.handle
        .serve_url(url, FirmwareImage::good("5.4.1.1-57830"));
    h.until(MIN, |l| l.starts_with("+CEREG: 1,"));
    assert_eq!(h.ok("AT+SQNSUPGRADE?"), s(&[r#"+SQNSUPGRADE: "idle""#]));
    assert_eq!(
        h.cmd(&format!(r#"AT+SQNSUPGRADE="{url}",0,5,2"#)),
        s(&["+CME ERROR: 533"])
    );
    assert_eq!(
        h.cmd(r#"AT+SQNSUPGRADE="http://nowhere/x.dup",0,5,1"#),
        s(&["+CME ERROR: 531"])
    );
    let t0 = h.now();
    assert_eq!(
        h.cmd(&format!(r#"AT+SQNSUPGRADE="{url}",0,5,1"#)),
        s(&["OK"])
    );
    assert_eq!(h.now(), t0, "OK at once");
    assert_eq!(
        h.cmd(&format!(r#"AT+SQNSUPGRADE="{url}",0,5,1"#)),
        s(&["+CME ERROR: 532"])
    );
    h.lines_for(Duration::from_secs(1));
    let st = h.ok("AT+SQNSUPGRADE?");
    assert!(
        st[0].starts_with(r#"+SQNSUPGRADE: "downloading","#),
        "{st:?}"
    );
    h.wait_line("+SYSSTART", 10 * MIN);
    assert_eq!(h.ok("ATI1"), s(&["UE5.4.1.1", "LR5.4.1.1-57830"]));
    assert_eq!(
        h.ok("AT+SQNSUPGRADE?"),
        s(&[r#"+SQNSUPGRADE: "success","5.4.1.1-57830""#])
    );
    // Cancel of one in progress.
    h.until(MIN, |l| l.starts_with("+CEREG: 1,"));
    h.ok(&format!(r#"AT+SQNSUPGRADE="{url}",0,5,1"#));
    h.ok(&format!(r#"AT+SQNSUPGRADE="{url}",0,5,2"#));
    assert_eq!(
        h.ok("AT+SQNSUPGRADE?"),
        s(&[r#"+SQNSUPGRADE: "cancelled""#])
    );
    assert!(h.lines_for(10 * MIN).iter().all(|l| l != "+SYSSTART"));
}

#[test]
fn device_initiated_upgrade_blocking() {
    let cfg = SimConfig {
        cmee: 1,
        autoconnect: true,
        ..SimConfig::default()
    };
    let mut h = Host::quiet(cfg);
    let good = "https://files.example/good.dup";
    let wrong = "https://files.example/wrong.dup";
    h.handle
        .serve_url(good, FirmwareImage::good("5.4.1.1-57830"));
    h.handle
        .serve_url(wrong, FirmwareImage::wrong("5.4.1.1-00000"));
    h.until(MIN, |l| l.starts_with("+CEREG: 1,"));
    // 35346 bytes at 100 kbit/s: 2.83 s before the answer.
    let t0 = h.now();
    assert_eq!(
        h.cmd(&format!(r#"AT+SQNSUPGRADE="{wrong}",1,5,0"#)),
        s(&["+CME ERROR: 529"])
    );
    assert_eq!(h.now() - t0, Duration::from_nanos(2_827_680_000));
    let t0 = h.now();
    // Commands sent meanwhile wait for the blocking one.
    h.send(&format!(r#"AT+SQNSUPGRADE="{good}",1,5,0"#));
    h.send("AT");
    assert_eq!(h.until(MIN, is_final), s(&["OK"]));
    assert!(h.now() - t0 >= Duration::from_secs(2));
    assert_eq!(
        h.until(MIN, |l| l == "+SYSSTART"),
        s(&["+SYSSTART"]),
        "the queued AT is lost"
    );
    assert_eq!(h.handle.firmware(), "5.4.1.1-57830");
}

#[test]
fn same_run_twice_gives_identical_bytes() {
    let run = || {
        let cfg = SimConfig {
            faults: vec!["garbage=3".parse().unwrap(), "drop=0.01".parse().unwrap()],
            ..SimConfig::default()
        };
        let mut h = provisioned_lenient(cfg);
        h.handle
            .schedule_firmware(EP, FirmwareImage::good("5.4.1.1-57830"))
            .unwrap();
        h.lines_for(10 * MIN);
        (h.raw, h.handle.snapshot())
    };
    let (a, sa) = run();
    let (b, sb) = run();
    assert!(a.len() > 1000);
    assert_eq!(a, b);
    assert_eq!(sa, sb);
}

/// Provisioning without asserting answers (for runs with byte-level faults).
fn provisioned_lenient(cfg: SimConfig) -> Host {
    let mut h = Host::quiet(cfg);
    h.handle.register_device(EP, EP, SECRET).unwrap();
    for c in [
        "AT+SQNAUTOCONNECT=1".to_string(),
        "AT+CFUN=5".into(),
        r#"AT+SQNDMCFG="standard","service",1"#.into(),
        format!(r#"AT+SQNDMCFG="standard","server",100,10,"{BS_URL}",1,"bs""#),
        format!(r#"AT+SQNDMCFG="standard","psk",100,"{EP}","{SECRET}""#),
        r#"AT+SQNFOTACFG="standard",0,2,10,60"#.into(),
        "AT+CFUN=1,1".into(),
    ] {
        h.send(&c);
        h.lines_for(Duration::from_secs(1));
    }
    h
}

#[test]
fn a_preset_provisioning_starts_like_the_note_left_it() {
    let mut cfg = SimConfig {
        echo: false,
        provisioned: Some(ryz014_sim::Provisioning::note_example(
            "015770000031766",
            SECRET,
            Some(60),
        )),
        ..SimConfig::default()
    };
    cfg.server.trust_any = true;
    assert!(!format!("{cfg:?}").contains("67538357"), "secret in Debug");
    let mut h = Host::new(cfg);
    let got = h.until(5 * MIN, |l| l == "+SQNFOTA: 3");
    assert_eq!(
        got,
        s(&[
            "+CEREG: 2",
            r#"+CEREG: 1,"0002","01A2D002",7"#,
            "+SQNFOTA: 1",
            "+SQNFOTA: 2",
            "+SQNFOTA: 3"
        ])
    );
    assert_eq!(
        h.ok(r#"AT+SQNDMCFG="standard""#),
        s(&[
            r#"+SQNDMCFG: "standard","service",1"#,
            r#"+SQNDMCFG: "standard","server",100,60,"coaps://eu.iot.avsystem.cloud:5694",1,"bs""#,
            r#"+SQNDMCFG: "standard","psk",100,"urn:imei:015770000031766","8749""#,
        ])
    );
    assert_eq!(
        h.ok("AT+SQNFOTACFG?"),
        s(&[r#"+SQNFOTACFG: "standard",0,2,10,60,60,,"#])
    );
    // The restoration point predates the FOTA configuration, as in the note's order.
    h.ok("AT+SQNSFACTORYRESET");
    h.ok("AT^RESET");
    h.wait_line("+SYSSTART", MIN);
    assert!(h
        .ok("AT+SQNFOTACFG?")
        .iter()
        .all(|l| !l.starts_with("+SQNFOTACFG")));
}

#[test]
fn detach_and_shutdown() {
    let mut h = provisioned(SimConfig::default(), r#""standard",0,2,10,60"#);
    assert!(h.handle.device_status(EP).unwrap().registered);
    h.send("AT+CFUN=4");
    assert_eq!(h.until(MIN, is_final), s(&["+CEREG: 0", "OK"]));
    assert_eq!(h.cmd("AT+SQNDMST"), s(&["ERROR"]));
    assert!(!h.handle.device_status(EP).unwrap().registered);
    // Back to full function: attach, then the LwM2M client starts over.
    h.ok("AT+CFUN=1");
    h.until(MIN, |l| l.starts_with("+CEREG: 1,"));
    assert_eq!(h.line(MIN).as_deref(), Some("+SQNFOTA: 1"));
    // AT+SQNSSHDN: off until the board powers the modem again.
    assert_eq!(h.cmd("AT+SQNSSHDN"), s(&["OK"]));
    assert_eq!(h.line(MIN).as_deref(), Some("+SHUTDOWN"));
    h.send("AT");
    assert!(h.lines_for(10 * MIN).is_empty());
    h.handle.power_on();
    assert_eq!(h.line(MIN).as_deref(), Some("+SYSSTART"));
    assert_eq!(h.cmd("AT"), s(&["OK"]));
}
