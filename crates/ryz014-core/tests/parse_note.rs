//! Every response and notification example of the Renesas note (AN0214EU0100) through
//! [`parse_line`], with the exact value expected; the §4.5.2 transcript as modem bytes through
//! the framer and the parser; edge cases (garbled lines stay `Unknown` with their text).
//!
//! The note came through OCR: it prints `+SONFOTA`, Cyrillic `ОК`/`ок`, `um:imei`, splits lines
//! across table cells and adds `// comments` to its logs. The modem sends none of that, so the
//! parser treats those lines as `Unknown`; tests that decode the note's text pass it through
//! [`normalise_ocr`] first (and check that the raw OCR forms really are `Unknown`).

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;
#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

use ryz014_core::framer::{Framer, OwnedFrameEvent};
use ryz014_core::message::{
    BootEvent, DmConfigLine, DmStatusLine, ErrorCode, FinalResult, FirmwareLine, FotaConfigLine,
    FotaKeyword, FotaNotification, Message, Registration, ServerRole,
};
use ryz014_core::parse::parse_line;

/// Undoes the note's OCR errors and annotations: `+SONFOTA` → `+SQNFOTA`, Cyrillic `ОК`/`ок` →
/// `OK`, `um:imei` → `urn:imei`, and drops a trailing `// comment`.
fn normalise_ocr(line: &str) -> String {
    let line = match line.find(" //") {
        Some(i) => &line[..i],
        None => line,
    };
    let line = line
        .replace("+SONFOTA", "+SQNFOTA")
        .replace("um:imei", "urn:imei");
    match line.trim() {
        "ОК" | "ок" => "OK".to_owned(),
        _ => line,
    }
}

fn ok() -> Message {
    Message::Final(FinalResult::Ok)
}

fn cmd(text: &str) -> Message {
    Message::Command { text: text.into() }
}

fn unknown(raw: &str) -> Message {
    Message::Unknown { raw: raw.into() }
}

fn boot(event: BootEvent) -> Message {
    Message::Boot { event }
}

fn fota(state: u32, cause: Option<u32>, progress: Option<u32>) -> Message {
    Message::Fota(FotaNotification {
        state: Some(state),
        cause,
        progress,
        ..FotaNotification::default()
    })
}

fn fota_kw(event: FotaKeyword, version: Option<&str>) -> Message {
    Message::Fota(FotaNotification {
        event: Some(event),
        version: version.map(str::to_owned),
        ..FotaNotification::default()
    })
}

fn cereg(n: Option<u8>, stat: u8, cell: Option<(&str, &str, u8)>) -> Message {
    Message::Registration(Registration {
        n,
        stat,
        tac: cell.map(|c| c.0.to_owned()),
        cell_id: cell.map(|c| c.1.to_owned()),
        act: cell.map(|c| c.2),
    })
}

fn dmst(role: ServerRole, id: u32, status: &str, timer: i64, update_in: i64) -> Message {
    Message::DmStatus(DmStatusLine {
        role,
        server_id: id,
        status: status.into(),
        timer,
        update_in,
    })
}

fn lr(v: &str) -> Message {
    Message::Firmware(FirmwareLine::Lr(v.into()))
}

fn ue(v: &str) -> Message {
    Message::Firmware(FirmwareLine::Ue(v.into()))
}

/// Asserts each `(line, expected)` pair.
fn check(cases: &[(&str, Message)]) {
    for (line, want) in cases {
        assert_eq!(&parse_line(line), want, "line {line:?}");
    }
}

// ----- §4.3.1.2 Device configuration -----------------------------------------------------

#[test]
fn s4_3_1_2_operator_mode() {
    check(&[
        ("AT+SQNCTM?", cmd("AT+SQNCTM?")),
        (
            "+SQNCTM: standard",
            Message::OperatorMode {
                mode: "standard".into(),
            },
        ),
        (
            r#"+SQNCTM: "standard""#,
            Message::OperatorMode {
                mode: "standard".into(),
            },
        ),
        ("OK", ok()),
        // The note's table cuts the value off: no mode, so not an operator-mode line.
        ("+SQNCTM:", unknown("+SQNCTM:")),
    ]);
}

#[test]
fn s4_3_1_2_configuration_commands_answer_ok() {
    check(&[
        ("AT+SQNAUTOCONNECT=1", cmd("AT+SQNAUTOCONNECT=1")),
        ("AT+CFUN=5", cmd("AT+CFUN=5")),
        (
            r#"AT+SQNDMCFG="standard","service",1"#,
            cmd(r#"AT+SQNDMCFG="standard","service",1"#),
        ),
        (
            r#"AT+SQNDMCFG="standard","server",100,"60","coaps://eu.iot.avsystem.cloud:5694","1","bs""#,
            cmd(
                r#"AT+SQNDMCFG="standard","server",100,"60","coaps://eu.iot.avsystem.cloud:5694","1","bs""#,
            ),
        ),
        ("OK", ok()),
    ]);
}

#[test]
fn s4_3_1_2_reset_shuts_down_and_restarts() {
    check(&[
        ("AT^RESET", cmd("AT^RESET")),
        ("OK", ok()),
        ("+SHUTDOWN", boot(BootEvent::Shutdown)),
        ("+SYSSTART", boot(BootEvent::Sysstart)),
        // The OCR splits them over two table lines; the halves are not boot events.
        ("+SHUTDOW", unknown("+SHUTDOW")),
        ("+SYSSTAR", unknown("+SYSSTAR")),
    ]);
}

#[test]
fn s4_3_1_2_imei() {
    check(&[
        ("AT+CGSN", cmd("AT+CGSN")),
        (
            "015770000031766",
            Message::Imei {
                imei: "015770000031766".into(),
            },
        ),
        ("OK", ok()),
        // 14 or 16 digits are not an IMEI line.
        ("01577000003176", unknown("01577000003176")),
        ("0157700000317660", unknown("0157700000317660")),
    ]);
}

// ----- §4.3.1.3 Restoration point ---------------------------------------------------------

#[test]
fn s4_3_1_3_restoration_point() {
    check(&[
        ("AT+CFUN=5", cmd("AT+CFUN=5")),
        ("OK", ok()),
        (
            r#"AT+SQNFACTORYSAVE="oem""#,
            cmd(r#"AT+SQNFACTORYSAVE="oem""#),
        ),
        // The note prints a Cyrillic "ОК": the modem never sends it.
        ("ОК", unknown("ОК")),
    ]);
    assert_eq!(parse_line(&normalise_ocr("ОК")), ok());
}

// ----- §4.3.3 Register the device ---------------------------------------------------------

#[test]
fn s4_3_3_register_the_device() {
    check(&[
        (
            r#"AT+SQNFOTACFG="standard",0,2,10,60,,60"#,
            cmd(r#"AT+SQNFOTACFG="standard",0,2,10,60,,60"#),
        ),
        ("OK", ok()),
        ("AT+CFUN=1,1", cmd("AT+CFUN=1,1")),
        ("+SHUTDOWN", boot(BootEvent::Shutdown)),
        ("+SYSSTART", boot(BootEvent::Sysstart)),
        ("+CEREG: 2", cereg(None, 2, None)),
        (
            r#"+CEREG: 1,"0002","01A2D002",7"#,
            cereg(None, 1, Some(("0002", "01A2D002", 7))),
        ),
        ("+SQNFOTA: 1", fota(1, None, None)),
        ("+SQNFOTA: 2", fota(2, None, None)),
        ("+SQNFOTA: 3", fota(3, None, None)),
        ("ок", unknown("ок")),
    ]);
    assert_eq!(parse_line(&normalise_ocr("ок")), ok());
}

// ----- §4.5.2 Detailed FOTA procedure -----------------------------------------------------

/// The lines of the §4.5.2 table, as the note prints them (table cells joined into lines):
/// `tests/fixtures/note-4-5-2-as-printed.txt`.
fn s4_5_2_note() -> Vec<&'static str> {
    include_str!("../../../tests/fixtures/note-4-5-2-as-printed.txt")
        .lines()
        .collect()
}

/// What each line of [`s4_5_2_note`] means, once its OCR is normalised.
fn s4_5_2_expected() -> Vec<Message> {
    let mut v = vec![
        cmd(r#"AT+SQNFOTACFG="standard",0,2,10,60,,60"#),
        ok(),
        cmd("ATI1"),
        ue("5.4.1.1"),
        lr("5.4.1.1-57857"),
        ok(),
        fota(4, None, None),
        fota(3, None, None),
        fota_kw(FotaKeyword::Available, None),
        fota(4, None, None),
        fota(3, None, None),
        fota(5, None, None),
    ];
    v.extend((0..=10).map(|k| fota(5, Some(3), Some(k * 10))));
    v.extend([
        fota_kw(FotaKeyword::Downloaded, None),
        fota(6, None, None),
        fota(7, None, None),
        fota_kw(FotaKeyword::Install, None),
        boot(BootEvent::Sysstart),
        cereg(None, 2, None),
        fota(8, None, None),
        fota_kw(FotaKeyword::Installed, Some("5.4.1.1-57830")),
        cereg(None, 1, Some(("0002", "01A2D002", 7))),
    ]);
    v
}

#[test]
fn s4_5_2_each_line() {
    let want = s4_5_2_expected();
    let note = s4_5_2_note();
    assert_eq!(note.len(), want.len());
    for (line, want) in note.iter().zip(&want) {
        assert_eq!(&parse_line(&normalise_ocr(line)), want, "line {line:?}");
    }
}

#[test]
fn s4_5_2_ocr_forms_are_unknown_until_normalised() {
    for line in s4_5_2_note().iter().filter(|l| l.starts_with("+SONFOTA")) {
        assert_eq!(parse_line(line), unknown(line));
    }
}

/// The §4.5.2 transcript as the modem sends it with echo on: the echo ends with the `\r` the
/// host typed, every response line is framed `\r\n<line>\r\n`.
fn s4_5_2_modem_bytes() -> Vec<u8> {
    let mut bytes = Vec::new();
    for line in s4_5_2_note() {
        let line = normalise_ocr(line);
        if line.starts_with("AT") {
            bytes.extend_from_slice(line.as_bytes());
            bytes.push(b'\r');
        } else {
            bytes.extend_from_slice(b"\r\n");
            bytes.extend_from_slice(line.as_bytes());
            bytes.extend_from_slice(b"\r\n");
        }
    }
    bytes
}

#[test]
fn s4_5_2_transcript_through_framer_and_parser() {
    let bytes = s4_5_2_modem_bytes();
    let want_lines: Vec<OwnedFrameEvent> = s4_5_2_note()
        .iter()
        .map(|l| OwnedFrameEvent::Line(normalise_ocr(l)))
        .collect();
    let want_msgs = s4_5_2_expected();
    for chunk in [1, 2, 7, 64, bytes.len()] {
        let mut framer = Framer::new();
        let mut events = Vec::new();
        let mut msgs = Vec::new();
        for piece in bytes.chunks(chunk) {
            framer.push(piece, |ev| {
                events.push(ev.to_owned_event());
                if let ryz014_core::framer::FrameEvent::Line(l) = ev {
                    msgs.push(parse_line(l));
                }
            });
        }
        assert_eq!(events, want_lines, "chunks of {chunk}");
        assert_eq!(msgs, want_msgs, "chunks of {chunk}");
        assert_eq!(framer.buffered(), 0);
    }
}

// ----- §4.5.3 Verify ----------------------------------------------------------------------

#[test]
fn s4_5_3_verify() {
    check(&[
        ("ATI1", cmd("ATI1")),
        ("UE5.4.1.1", ue("5.4.1.1")),
        ("LR5.4.1.1-57830", lr("5.4.1.1-57830")),
        ("OK", ok()),
    ]);
}

// ----- §4.7.1 Wrong FOTA image ------------------------------------------------------------

#[test]
fn s4_7_1_wrong_image() {
    // The log as the note prints it (`tests/fixtures/note-4-7-1-as-printed.txt`), without the
    // line its first comment wraps onto (`package)`): every modem line starts with `+`.
    let log: Vec<&str> = include_str!("../../../tests/fixtures/note-4-7-1-as-printed.txt")
        .lines()
        .filter(|l| l.starts_with('+'))
        .collect();
    let want = [
        fota_kw(FotaKeyword::Downloaded, None),
        fota(6, None, None),
        fota(7, None, None),
        fota_kw(FotaKeyword::Install, None),
        boot(BootEvent::Sysstart),
        fota(3, None, None),
        fota(3, Some(8), None),
    ];
    for (line, want) in log.iter().zip(&want) {
        assert_eq!(&parse_line(&normalise_ocr(line)), want, "line {line:?}");
        if line.contains("//") {
            // The annotation is the note's, not the modem's: with it the line is not understood.
            assert_eq!(parse_line(line), unknown(line));
        }
    }
}

// ----- §6.1 AT+SQNFOTACFG -----------------------------------------------------------------

#[test]
fn s6_1_fotacfg_test_line() {
    let ranges = "32,(0,1),(0-2),(0-100),(60-32000000),(60-65535),(11-19)";
    check(&[
        (
            format!("+SQNFOTACFG: {ranges}").as_str(),
            Message::FotaConfigRange {
                ranges: ranges.into(),
            },
        ),
        (
            "+SQNFOTACFG: 32",
            Message::FotaConfigRange {
                ranges: "32".into(),
            },
        ),
    ]);
}

#[test]
fn s6_1_fotacfg_read_line() {
    let full = FotaConfigLine {
        profile: "standard".into(),
        mode: 0,
        report_state: 2,
        report_download: 10,
        timer_requested: Some(60),
        timer_actual: Some(60),
        download_timeout: None,
        certificate: Some(11),
    };
    check(&[
        (
            r#"+SQNFOTACFG: "standard",0,2,10,60,60,,11"#,
            Message::FotaConfig(full.clone()),
        ),
        (
            "+SQNFOTACFG: standard,0,2,10,60,60,,11",
            Message::FotaConfig(full.clone()),
        ),
        (
            r#"+SQNFOTACFG: "standard",0,2,10,,,,"#,
            Message::FotaConfig(FotaConfigLine {
                timer_requested: None,
                timer_actual: None,
                certificate: None,
                ..full.clone()
            }),
        ),
        (
            r#"+SQNFOTACFG: "standard",0,2,10"#,
            Message::FotaConfig(FotaConfigLine {
                timer_requested: None,
                timer_actual: None,
                certificate: None,
                ..full
            }),
        ),
    ]);
    for bad in [
        r#"+SQNFOTACFG: "standard",0,2"#,
        r#"+SQNFOTACFG: "standard",0,2,10,60,60,,11,9"#,
        r#"+SQNFOTACFG: "standard",0,2,300,60,60,,11"#,
        r#"+SQNFOTACFG: "standard",x,2,10,60,60,,11"#,
    ] {
        assert_eq!(parse_line(bad), unknown(bad), "{bad}");
    }
}

#[test]
fn s6_1_fotacfg_write_results() {
    check(&[
        ("OK", ok()),
        ("ERROR", Message::Final(FinalResult::Error)),
        (
            "+CME ERROR: 50",
            Message::Final(FinalResult::CmeError(ErrorCode::Number(50))),
        ),
        (
            "+CME ERROR: incorrect parameters",
            Message::Final(FinalResult::CmeError(ErrorCode::Text(
                "incorrect parameters".into(),
            ))),
        ),
        (
            "+CMS ERROR: 304",
            Message::Final(FinalResult::CmsError(ErrorCode::Number(304))),
        ),
    ]);
}

// ----- §6.2 AT+SQNDMCFG read lines --------------------------------------------------------

#[test]
fn s6_2_dmcfg_read_lines() {
    let server = DmConfigLine::Server {
        profile: "standard".into(),
        server_id: 100,
        lifetime: Some(60),
        url: "coaps://eu.iot.avsystem.cloud:5694".into(),
        cid: Some(1),
        server_type: ServerRole::Bs,
    };
    let psk = DmConfigLine::Psk {
        profile: "standard".into(),
        server_id: 100,
        identity: "urn:imei:015770000031766".into(),
        secret_prefix: "8749".into(),
    };
    let service = DmConfigLine::Service {
        profile: "standard".into(),
        autostart: 1,
    };
    check(&[
        (
            r#"+SQNDMCFG: "standard","server",100,60,"coaps://eu.iot.avsystem.cloud:5694",1,"bs""#,
            Message::DmConfig(server.clone()),
        ),
        // The note's notation (`=`) and quoted numbers.
        (
            r#"+SQNDMCFG="standard","server",100,"60","coaps://eu.iot.avsystem.cloud:5694","1","bs""#,
            Message::DmConfig(server.clone()),
        ),
        (
            r#"+SQNDMCFG: "standard","psk",100,"urn:imei:015770000031766","8749""#,
            Message::DmConfig(psk.clone()),
        ),
        (
            r#"+SQNDMCFG="standard","psk",100,"urn:imei:015770000031766","8749""#,
            Message::DmConfig(psk),
        ),
        (
            r#"+SQNDMCFG: "standard","service",1"#,
            Message::DmConfig(service.clone()),
        ),
        (
            r#"+SQNDMCFG="standard","service",1"#,
            Message::DmConfig(service),
        ),
        // Empty lifetime and cid, default type.
        (
            r#"+SQNDMCFG: "standard","server",101,,"coaps://dm.example:5684",,"#,
            Message::DmConfig(DmConfigLine::Server {
                profile: "standard".into(),
                server_id: 101,
                lifetime: None,
                url: "coaps://dm.example:5684".into(),
                cid: None,
                server_type: ServerRole::Dm,
            }),
        ),
        (
            r#"+SQNDMCFG: "standard","server",102,86400,"coaps://dm.example:5684""#,
            Message::DmConfig(DmConfigLine::Server {
                profile: "standard".into(),
                server_id: 102,
                lifetime: Some(86400),
                url: "coaps://dm.example:5684".into(),
                cid: None,
                server_type: ServerRole::Dm,
            }),
        ),
    ]);
    for bad in [
        r#"+SQNDMCFG: "standard","delete-profile-config""#,
        r#"+SQNDMCFG: "standard","server",100,60,"coaps://x",1,"xx""#,
        r#"+SQNDMCFG=(32), "service"[,(0,1)]"#,
        r#"+SQNDMCFG: "standard","service""#,
    ] {
        assert_eq!(parse_line(bad), unknown(bad), "{bad}");
    }
}

// ----- §6.3.3 AT+SQNDMST examples ---------------------------------------------------------

#[test]
fn s6_3_3_dmst_examples() {
    use ServerRole::{Bs, Dm};
    check(&[
        ("AT+SQNDMST", cmd("AT+SQNDMST")),
        (
            r#"+SQNDMST: "bs",100,"BS_HOLD_OFF",10,7"#,
            dmst(Bs, 100, "BS_HOLD_OFF", 10, 7),
        ),
        (
            r#"+SQNDMST: "dm",101,"DEREGISTERED",86400,86397"#,
            dmst(Dm, 101, "DEREGISTERED", 86400, 86397),
        ),
        (
            r#"+SQNDMST: "bs",100,"BS_INITIATED",10,-1"#,
            dmst(Bs, 100, "BS_INITIATED", 10, -1),
        ),
        (
            r#"+SQNDMST: "dm",101,"DEREGISTERED",86400,86363"#,
            dmst(Dm, 101, "DEREGISTERED", 86400, 86363),
        ),
        (
            r#"+SQNDMST: "bs",100,"BS_FINISHED",10,-1"#,
            dmst(Bs, 100, "BS_FINISHED", 10, -1),
        ),
        (
            r#"+SQNDMST: "dm",102,"DEREGISTERED",2592000,22"#,
            dmst(Dm, 102, "DEREGISTERED", 2592000, 22),
        ),
        (
            r#"+SQNDMST: "dm",101,"REG_PENDING",86400,-1"#,
            dmst(Dm, 101, "REG_PENDING", 86400, -1),
        ),
        (
            r#"+SQNDMST: "dm",102,"DEREGISTERED",2592000,18"#,
            dmst(Dm, 102, "DEREGISTERED", 2592000, 18),
        ),
        (
            r#"+SQNDMST: "dm",101,"REGISTERED",86400,84597"#,
            dmst(Dm, 101, "REGISTERED", 86400, 84597),
        ),
        (
            r#"+SQNDMST: "dm",102,"REGISTERED",2592000,2587603"#,
            dmst(Dm, 102, "REGISTERED", 2592000, 2587603),
        ),
        (
            r#"+SQNDMST: "dm",101,"REGISTERED",86400,81965"#,
            dmst(Dm, 101, "REGISTERED", 86400, 81965),
        ),
        (
            r#"+SQNDMST: "dm",101,"REG_UPDATE_PENDING",-1,-1"#,
            dmst(Dm, 101, "REG_UPDATE_PENDING", -1, -1),
        ),
        ("OK", ok()),
    ]);
    for bad in [
        r#"+SQNDMST: "xx",100,"BS_HOLD_OFF",10,7"#,
        r#"+SQNDMST: "bs",100,"BS_HOLD_OFF",10"#,
        r#"+SQNDMST: "bs",-100,"BS_HOLD_OFF",10,7"#,
        r#"+SQNDMST: "bs",100,"BS_HOLD_OFF",10,7,1"#,
    ] {
        assert_eq!(parse_line(bad), unknown(bad), "{bad}");
    }
}

// ----- Other forms the spec lists -----------------------------------------------------------

#[test]
fn fota_all_forms_and_unknown_values_are_kept() {
    check(&[
        ("+SQNFOTA: 9", fota(9, None, None)),
        ("+SQNFOTA: 3,12", fota(3, Some(12), None)),
        ("+SQNFOTA: 5,7,55", fota(5, Some(7), Some(55))),
        (r#"+SQNFOTA: "5",3,"10""#, fota(5, Some(3), Some(10))),
        (
            r#"+SQNFOTA: "installed""#,
            fota_kw(FotaKeyword::Installed, None),
        ),
        (
            r#"+SQNFOTA: "rollback","1.2""#,
            fota_kw(FotaKeyword::Other("rollback".into()), Some("1.2")),
        ),
        ("+SQNFOTA: available", fota_kw(FotaKeyword::Available, None)),
        ("+SQNFOTA:5", fota(5, None, None)),
    ]);
}

#[test]
fn registration_read_forms() {
    check(&[
        ("+CEREG: 0,1", cereg(Some(0), 1, None)),
        (
            r#"+CEREG: 2,1,"0002","01A2D002",7"#,
            cereg(Some(2), 1, Some(("0002", "01A2D002", 7))),
        ),
        (
            r#"+CEREG: 3,5,"0002","01A2D002",7,0,11"#,
            cereg(Some(3), 5, Some(("0002", "01A2D002", 7))),
        ),
        (
            r#"+CEREG: 4,1,"0002","01A2D002",7,,,"00100100","01000111""#,
            cereg(Some(4), 1, Some(("0002", "01A2D002", 7))),
        ),
        (
            r#"+CEREG: 1,"0002","01A2D002",7,,,"00100100","01000111""#,
            cereg(None, 1, Some(("0002", "01A2D002", 7))),
        ),
        (
            "+CEREG: 2,,,",
            Message::Registration(Registration {
                n: None,
                stat: 2,
                tac: None,
                cell_id: None,
                act: None,
            }),
        ),
    ]);
    for bad in [
        r#"+CEREG: 1,"00G2","01A2D002",7"#,
        "+CEREG: x",
        "+CEREG:",
        r#"+CEREG: 1,"0002","01A2D002",7,0,11 junk"#,
    ] {
        assert_eq!(parse_line(bad), unknown(bad), "{bad}");
    }
}

#[test]
fn small_status_lines() {
    check(&[
        ("+SQNAUTOCONNECT: 1", Message::AutoConnect { enabled: 1 }),
        ("+SQNAUTOCONNECT: 0", Message::AutoConnect { enabled: 0 }),
        ("+CFUN: 1", Message::Cfun { level: 1 }),
        ("+CFUN: 5", Message::Cfun { level: 5 }),
        ("+CFUN: 1,0", unknown("+CFUN: 1,0")),
        ("+CFUN: 300", unknown("+CFUN: 300")),
        (
            "+SQNCTM: 3gpp-conformance",
            Message::OperatorMode {
                mode: "3gpp-conformance".into(),
            },
        ),
        (
            "+SQNSUPGRADE: 0,\"done\",5",
            Message::Upgrade {
                raw: "0,\"done\",5".into(),
            },
        ),
        ("+SQNSUPGRADE: ", Message::Upgrade { raw: "".into() }),
        ("+SYSSTART 1", unknown("+SYSSTART 1")),
        (">", Message::Prompt),
        ("> ", Message::Prompt),
    ]);
}

#[test]
fn command_echo_is_case_insensitive() {
    check(&[
        ("at+cgsn", cmd("at+cgsn")),
        ("At", cmd("At")),
        ("AT", cmd("AT")),
        (
            r#"AT+SQNDMCFG="standard","psk",100,"urn:imei:015770000031766","87493467538357""#,
            cmd(r#"AT+SQNDMCFG="standard","psk",100,"urn:imei:015770000031766","87493467538357""#),
        ),
    ]);
}

#[test]
fn garbled_lines_are_unknown_verbatim() {
    for raw in [
        "+SONFOTA: 5,3,70",
        "um:imei:015770000031766",
        "SEQUANS Communications",
        "OK OK",
        "+SQNFOTA: 5,3,\u{fffd}",
        "\u{fffd}\u{fffd}+SQNFOTA: 5",
        "UE",
        "LRabc",
        "+",
        "+SQNDMST: \"bs\",100,\"BS_HOLD_OFF,10,7",
        "+SQNFOTA: \"installed\",\"5.4.1.1",
        "NO CARRIER",
    ] {
        assert_eq!(parse_line(raw), unknown(raw), "{raw:?}");
    }
    // Unknown keeps the line as given, surrounding spaces included.
    assert_eq!(parse_line("  hello \t"), unknown("  hello \t"));
}
