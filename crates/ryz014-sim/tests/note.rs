//! Replays of the application note's transcripts (AN0214EU0100): the simulator answers each
//! command as the note shows, line for line (the note's OCR errors aside: `+SONFOTA`, `ОК`).

mod common;

use std::time::Duration;

use common::*;
use ryz014_sim::{DmServerSpec, FirmwareImage, SimConfig, UpgradeStatus};

const MIN: Duration = Duration::from_secs(60);

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

/// §4.3.1.2 Device Configuration, with echo on as at power-up: the exact bytes.
#[test]
fn section_4_3_1_2_device_configuration() {
    let mut h = Host::new(SimConfig::default());
    h.send("AT+SQNCTM?");
    h.until(MIN, is_final);
    assert_eq!(h.raw, b"AT+SQNCTM?\r\r\n+SQNCTM: standard\r\n\r\nOK\r\n");
    let table: [(&str, &[&str]); 5] = [
        ("AT+SQNAUTOCONNECT=1", &["OK"]),
        ("AT+CFUN=5", &["OK"]),
        (r#"AT+SQNDMCFG="standard","service",1"#, &["OK"]),
        (
            r#"AT+SQNDMCFG="standard","server",100,"60","coaps://eu.iot.avsystem.cloud:5694","1","bs""#,
            &["OK"],
        ),
        (
            r#"AT+SQNDMCFG="standard","psk",100,"urn:imei:015770000031766","87493467538357""#,
            &["OK"],
        ),
    ];
    for (cmd, want) in table {
        let mut got = h.cmd(cmd);
        assert_eq!(got.remove(0), cmd, "echo");
        assert_eq!(got, s(want), "{cmd}");
    }
    h.send("AT^RESET");
    let got = h.wait_line("+SYSSTART", MIN);
    assert_eq!(got, s(&["AT^RESET", "OK", "+SHUTDOWN", "+SYSSTART"]));
    let got = h.cmd("AT+CGSN");
    assert_eq!(got, s(&["AT+CGSN", "015770000031766", "OK"]));
    let tail = b"AT+CGSN\r\r\n015770000031766\r\n\r\nOK\r\n";
    assert!(h.raw.ends_with(tail));
}

/// §4.3.1.3 Create a Restoration Point.
#[test]
fn section_4_3_1_3_restoration_point() {
    let mut h = Host::quiet(SimConfig::default());
    assert_eq!(h.cmd("AT+CFUN=5"), s(&["OK"]));
    assert_eq!(h.cmd(r#"AT+SQNFACTORYSAVE="oem""#), s(&["OK"]));
    let snap = h.handle.snapshot();
    assert_eq!(snap.restoration_point.unwrap().tag, "oem");
}

/// §4.3.3 Register the Device: `AT+SQNFOTACFG`, `AT+CFUN=1,1`, then the notifications in order.
#[test]
fn section_4_3_3_register_the_device() {
    let mut h = Host::quiet(SimConfig::default());
    h.handle.register_device(EP, EP, SECRET).unwrap();
    h.ok("AT+SQNAUTOCONNECT=1");
    h.ok("AT+CFUN=5");
    h.ok(r#"AT+SQNDMCFG="standard","service",1"#);
    h.ok(&format!(
        r#"AT+SQNDMCFG="standard","server",100,"60","{BS_URL}","1","bs""#
    ));
    h.ok(&format!(
        r#"AT+SQNDMCFG="standard","psk",100,"{EP}","{SECRET}""#
    ));
    h.ok("AT^RESET");
    h.wait_line("+SYSSTART", MIN);

    assert_eq!(
        h.cmd(r#"AT+SQNFOTACFG="standard",0,2,10,60,,60"#),
        s(&["OK"])
    );
    h.send("AT+CFUN=1,1");
    let got = h.until(10 * MIN, |l| l == "+SQNFOTA: 3");
    assert_eq!(
        got,
        s(&[
            "OK",
            "+SHUTDOWN",
            "+SYSSTART",
            "+CEREG: 2",
            r#"+CEREG: 1,"0002","01A2D002",7"#,
            "+SQNFOTA: 1",
            "+SQNFOTA: 2",
            "+SQNFOTA: 3",
        ])
    );
    // `2` and `3` come once the device is registered, after the 60 s hold-off and the bootstrap.
    let st = h.handle.device_status(EP).unwrap();
    assert_eq!(st.bootstraps, 1);
    assert!(st.registered);
    assert_eq!(st.firmware_version.as_deref(), Some("5.4.1.1-57857"));
}

/// The lines of a transcript in `tests/fixtures/` (see its README.md), from line `from` on.
fn note_lines(text: &str, from: usize) -> Vec<String> {
    text.lines().skip(from).map(str::to_owned).collect()
}

/// §4.5.2 Detailed FOTA Procedure and §4.5.3 Verify.
#[test]
fn section_4_5_2_detailed_fota_procedure() {
    let mut h = provisioned(SimConfig::default(), r#""standard",0,2,10,60,,60"#);
    h.handle
        .schedule_firmware(
            EP,
            FirmwareImage {
                version: "5.4.1.1-57830".into(),
                size: 35_343,
                good: true,
            },
        )
        .unwrap();
    assert_eq!(h.ok("ATI1"), s(&["UE5.4.1.1", "LR5.4.1.1-57857"]));
    let got = h.until(5 * MIN, |l| l.starts_with("+CEREG: 1,"));
    // The note's transcript after `ATI1`'s answer (`UE…`, `LR…`, `OK`).
    let want = note_lines(include_str!("../../../tests/fixtures/note-4-5-2.txt"), 4);
    assert_eq!(got, want);
    // Back on the network, the FOTA client onboards again.
    assert_eq!(h.line(MIN).as_deref(), Some("+SQNFOTA: 1"));
    // §4.5.3: the new version shows in ATI1, and on the server once the device is back.
    assert_eq!(h.ok("ATI1"), s(&["UE5.4.1.1", "LR5.4.1.1-57830"]));
    assert_eq!(
        h.handle.device_status(EP).unwrap().upgrade,
        UpgradeStatus::Succeeded {
            version: "5.4.1.1-57830".into()
        }
    );
}

/// §4.7.1 Wrong FOTA Image: installation fails after the reboot, the old version stays.
#[test]
fn section_4_7_1_wrong_image() {
    let mut h = provisioned(SimConfig::default(), r#""standard",0,2,10,60,,60"#);
    h.handle
        .schedule_firmware(EP, FirmwareImage::wrong("5.4.1.1-57830"))
        .unwrap();
    h.wait_line(r#"+SQNFOTA: "downloaded""#, 5 * MIN);
    let got = h.until(MIN, |l| l == "+SQNFOTA: 3,8");
    // The note's log after `"downloaded"`.
    assert_eq!(
        got,
        note_lines(include_str!("../../../tests/fixtures/note-4-7-1.txt"), 1)
    );
    assert_eq!(h.ok("ATI1"), s(&["UE5.4.1.1", "LR5.4.1.1-57857"]));
    assert!(matches!(
        h.handle.device_status(EP).unwrap().upgrade,
        UpgradeStatus::Failed { .. }
    ));
}

/// §6.3.3 Examples: the four `AT+SQNDMST` shapes, at the note's own countdowns where they are
/// consistent with each other.
#[test]
fn section_6_3_3_dmst_examples() {
    let mut cfg = SimConfig::default();
    cfg.timings.bootstrap = Duration::from_secs(40);
    cfg.server.dm_servers = vec![DmServerSpec {
        server_id: 101,
        lifetime: 86_400,
        register_delay: Duration::ZERO,
    }];
    let mut h = Host::quiet(cfg);
    h.handle.register_device(EP, EP, SECRET).unwrap();
    h.ok("AT+SQNAUTOCONNECT=1");
    h.ok("AT+CFUN=5");
    h.ok(r#"AT+SQNDMCFG="standard","service",1"#);
    h.ok(&format!(
        r#"AT+SQNDMCFG="standard","server",100,10,"{BS_URL}",1,"bs""#
    ));
    h.ok(&format!(
        r#"AT+SQNDMCFG="standard","psk",100,"{EP}","{SECRET}""#
    ));
    h.ok("AT^RESET");
    // First attach: the bootstrap creates DM server 101.
    h.wait_line("+SYSSTART", MIN);
    h.until(MIN, |l| l.starts_with("+CEREG: 1,"));
    h.lines_for(2 * MIN);
    assert_eq!(h.handle.device_status(EP).unwrap().bootstraps, 1);

    // Second boot: 101 is known, the bootstrap server is held off again.
    h.ok("AT^RESET");
    h.until(MIN, |l| l.starts_with("+CEREG: 1,"));
    h.lines_for(Duration::from_secs(3));
    assert_eq!(
        h.ok("AT+SQNDMST"),
        s(&[
            r#"+SQNDMST: "bs",100,"BS_HOLD_OFF",10,7"#,
            r#"+SQNDMST: "dm",101,"DEREGISTERED",86400,86397"#,
        ])
    );
    h.lines_for(Duration::from_secs(34));
    assert_eq!(
        h.ok("AT+SQNDMST"),
        s(&[
            r#"+SQNDMST: "bs",100,"BS_INITIATED",10,-1"#,
            r#"+SQNDMST: "dm",101,"DEREGISTERED",86400,86363"#,
        ])
    );
    // This time the bootstrap server sets up two DM servers (the third example).
    h.handle.with_server(|s| {
        s.config_mut().dm_servers = vec![
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
        ]
    });
    // Bootstrap ends 50 s after attach; look half a second later.
    h.lines_for(Duration::from_millis(13_500));
    assert_eq!(
        h.ok("AT+SQNDMST"),
        s(&[
            r#"+SQNDMST: "bs",100,"BS_FINISHED",10,-1"#,
            r#"+SQNDMST: "dm",102,"DEREGISTERED",2592000,22"#,
            r#"+SQNDMST: "dm",101,"REG_PENDING",86400,-1"#,
        ])
    );
    h.lines_for(Duration::from_secs(4));
    assert_eq!(
        h.ok("AT+SQNDMST"),
        s(&[
            r#"+SQNDMST: "bs",100,"BS_FINISHED",10,-1"#,
            r#"+SQNDMST: "dm",102,"DEREGISTERED",2592000,18"#,
            r#"+SQNDMST: "dm",101,"REGISTERED",86400,86397"#,
        ])
    );
    h.lines_for(Duration::from_secs(20));
    assert_eq!(
        h.ok("AT+SQNDMST"),
        s(&[
            r#"+SQNDMST: "bs",100,"BS_FINISHED",10,-1"#,
            r#"+SQNDMST: "dm",102,"REGISTERED",2592000,2591999"#,
            r#"+SQNDMST: "dm",101,"REGISTERED",86400,86377"#,
        ])
    );
}
