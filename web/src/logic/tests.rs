//! Tests of the page's pure logic (the profile form, the key field, the log, the CSV).

use super::*;

#[test]
fn the_default_form_is_the_standard_profile_and_valid() {
    let form = ProfileForm::default();
    assert_eq!(form.errors(), vec![]);
    assert_eq!(form.to_profile().unwrap(), default_profile());
}

#[test]
fn an_out_of_range_server_id_names_the_range() {
    let mut form = ProfileForm::default();
    form.set(Field::ServerId, "70000");
    let e = form.error_of(Field::ServerId).unwrap();
    assert!(e.contains("1..65535"), "{e}");
    assert!(e.contains("70000"), "{e}");
    let all = form.errors();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].field, Some(Field::ServerId));
    form.set(Field::ServerId, "0");
    let e = form.error_of(Field::ServerId).unwrap();
    assert!(e.contains("1..65535"), "{e}");
    form.set(Field::ServerId, "123");
    assert_eq!(form.error_of(Field::ServerId), None);
}

#[test]
fn each_field_reports_its_own_problem() {
    let mut form = ProfileForm::default();
    form.set(Field::Certificate, "60");
    form.set(Field::Identity, "urn:imei:{serial}");
    form.set(Field::HoldOff, "-1");
    let errors = form.errors();
    let fields: Vec<_> = errors.iter().map(|e| e.field).collect();
    assert_eq!(
        fields,
        vec![
            Some(Field::HoldOff),
            Some(Field::Identity),
            Some(Field::Certificate)
        ]
    );
    assert!(
        errors[2].message.contains("11..19"),
        "{}",
        errors[2].message
    );
    assert!(form.to_profile().is_err());
}

#[test]
fn optional_fields_may_be_empty() {
    let mut form = ProfileForm::default();
    for f in [
        Field::Cid,
        Field::Timer,
        Field::DownloadTimeout,
        Field::Certificate,
    ] {
        form.set(f, "");
    }
    let p = form.to_profile().unwrap();
    assert_eq!(p.bootstrap.cid, None);
    assert_eq!(p.fota.timer_s, None);
    form.set(Field::Uri, "");
    assert!(form.error_of(Field::Uri).is_some());
}

#[test]
fn the_form_round_trips_a_profile() {
    let mut p = default_profile();
    p.bootstrap.server_id = 321;
    p.modem.endpoint_name = Some("dev-{imei}".into());
    p.fota.timer_s = None;
    p.modem.autoconnect = false;
    let form = ProfileForm::from_profile(&p);
    assert_eq!(form.to_profile().unwrap(), p);
}

#[test]
fn the_key_field_never_shows_the_key_in_debug() {
    let s = PskSecret::from_hex(&"ab".repeat(32)).unwrap();
    let k = KeyField::from_secret(&s);
    assert_eq!(format!("{k:?}"), "abab…");
    assert_eq!(k.secret().unwrap().unwrap(), s);
    let bad = KeyField::from_text("xyz1");
    let e = bad.secret().unwrap_err();
    assert!(!e.contains("xyz1"), "{e}");
    assert!(KeyField::default().secret().unwrap().is_none());
}

#[test]
fn the_csv_has_the_coiote_header_and_quotes_when_needed() {
    let s = PskSecret::from_hex("00112233").unwrap();
    let csv = coiote_csv("urn:imei:353760102345672", "id,1", &s);
    assert_eq!(
        csv,
        "endpointName,dtlsIdentity,dtlsPskHex\nurn:imei:353760102345672,\"id,1\",00112233\n"
    );
}

#[test]
fn log_lines_are_explained_and_exported() {
    let lines = vec![
        LogLine::from_wire(1.0, &WireEvent::Sent("AT+CGSN".into())),
        LogLine::note(2.0, "connected"),
        LogLine::from_wire(3.0, &WireEvent::Received("+SQNFOTA: 3,8".into())),
    ];
    assert_eq!(lines[0].dir, Direction::Sent);
    assert!(!lines[2].meaning.is_empty());
    let text = log_text(&lines);
    assert_eq!(text.lines().count(), 3);
    assert!(text.contains(">> AT+CGSN"));
    let json = log_json_lines(&lines);
    let records: Vec<serde_json::Value> = json
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records.len(), 2);
    assert_eq!(records[1]["line"], 2);
    assert_eq!(records[1]["kind"], "fota");
}

#[test]
fn log_lines_never_show_a_secret_whatever_their_kind() {
    let secret = "e9891e446e07ba10c1a5d2f3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7";
    let echo = format!("~AT+SQNDMCFG=\"standard\",\"psk\",100,\"id\",\"{secret}\"");
    for ev in [
        WireEvent::Received(echo.clone()),
        WireEvent::Stray(echo.clone()),
        WireEvent::Sent(echo),
    ] {
        let l = LogLine::from_wire(1.0, &ev);
        let shown = format!("{} {}", l.text, l.meaning);
        assert!(!shown.contains(&secret[..16]), "{shown}");
        assert!(shown.contains("e989…"), "{shown}");
    }
}
