//! Each injected fault happens, and the modem goes on afterwards.

mod common;

use std::time::Duration;

use common::*;
use ryz014_sim::{Fault, FirmwareImage, SimConfig, UpgradeStatus};

const MIN: Duration = Duration::from_secs(60);

fn with(faults: &[&str]) -> SimConfig {
    SimConfig {
        echo: false,
        faults: faults.iter().map(|f| f.parse::<Fault>().unwrap()).collect(),
        ..SimConfig::default()
    }
}

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

#[test]
fn garbage_bytes_come_between_lines() {
    let mut h = Host::new(with(&["garbage=1"]));
    h.send("AT");
    h.lines_for(Duration::from_secs(1));
    assert!(h.raw.ends_with(b"\r\nOK\r\n"), "{:?}", h.raw);
    let noise = &h.raw[..h.raw.len() - 6];
    assert!(!noise.is_empty() && noise.len() <= 4, "{noise:?}");
    assert!(noise
        .iter()
        .all(|b| [0x00, 0xFF, 0xFE, b'~', b'#', 0x7F].contains(b)));
    // Every line gets its noise; the answers are still there.
    let got = h.cmd("AT+CGSN");
    assert!(got.contains(&"015770000031766".to_string()), "{got:?}");
}

#[test]
fn dropped_bytes_lose_part_of_the_output() {
    let mut h = Host::new(with(&["drop=0.3"]));
    for _ in 0..50 {
        h.send("ATI1");
    }
    h.lines_for(Duration::from_secs(1));
    let full = 50 * "\r\nUE5.4.1.1\r\n\r\nLR5.4.1.1-57857\r\n\r\nOK\r\n".len();
    let got = h.raw.len();
    assert!(got > full / 2 && got < full * 9 / 10, "{got} of {full}");
}

#[test]
fn lone_cr_frames_lines() {
    let mut h = Host::new(with(&["lone-cr"]));
    h.send("ATI1");
    h.lines_for(Duration::from_secs(1));
    assert_eq!(h.raw, b"\rUE5.4.1.1\r\rLR5.4.1.1-57857\r\rOK\r");
}

#[test]
fn reset_at_a_given_time() {
    let mut h = Host::new(with(&["reset-at=5"]));
    assert_eq!(h.cmd("AT"), s(&["OK"]));
    let got = h.lines_for(Duration::from_secs(6));
    assert!(got.is_empty(), "{got:?}");
    assert_eq!(h.now(), Duration::from_secs(6));
    // Rebooting: input is lost.
    h.send("AT");
    assert_eq!(
        h.wait_line("+SYSSTART", MIN),
        s(&["+SYSSTART"]),
        "no +SHUTDOWN, no OK"
    );
    assert_eq!(h.now(), Duration::from_secs(8));
    assert_eq!(h.cmd("AT"), s(&["OK"]));
    assert!(h.handle.snapshot().dropped_input_bytes >= 3);
}

#[test]
fn reset_after_n_commands() {
    let mut h = Host::new(with(&["reset-after=2"]));
    assert_eq!(h.cmd("AT"), s(&["OK"]));
    h.send("AT+CGSN");
    assert_eq!(h.until(MIN, |l| l == "+SYSSTART"), s(&["+SYSSTART"]));
    assert_eq!(h.cmd("AT+CGSN"), s(&["015770000031766", "OK"]), "only once");
}

#[test]
fn no_answer_for_a_chosen_command() {
    let mut h = Host::new(with(&["no-answer=AT+CGSN"]));
    h.send("AT+CGSN");
    assert!(h.lines_for(MIN).is_empty());
    assert_eq!(h.cmd("AT"), s(&["OK"]));
    assert_eq!(h.handle.snapshot().commands.len(), 2);
}

#[test]
fn cme_error_on_a_chosen_command() {
    let mut h = Host::new(with(&["cme=+SQNDMCFG:100"]));
    assert_eq!(h.cmd(r#"AT+SQNDMCFG="standard","server""#), s(&["ERROR"]));
    h.ok("AT+CMEE=1");
    assert_eq!(
        h.cmd(r#"AT+SQNDMCFG="standard","server""#),
        s(&["+CME ERROR: 100"])
    );
    h.ok("AT+CMEE=2");
    assert_eq!(
        h.cmd(r#"AT+SQNDMCFG="standard","server""#),
        s(&["+CME ERROR: unknown"])
    );
    assert_eq!(h.cmd("AT+CGSN"), s(&["015770000031766", "OK"]));
}

#[test]
fn slow_output_trickles_at_the_baud_rate() {
    let mut h = Host::new(with(&["slow-output=1200"]));
    h.send("AT");
    let t0 = h.now();
    // 10 bits a byte at 1200 baud: 8.33 ms each; the line is complete at its 5th byte
    // ("\r\nOK\r"), the whole frame after 50 ms.
    assert_eq!(h.line(Duration::from_millis(40)), None);
    assert_eq!(h.line(MIN).as_deref(), Some("OK"));
    assert_eq!(h.now() - t0, Duration::from_nanos(5 * 8_333_333));
    h.lines_for(Duration::from_millis(10));
    assert_eq!(h.raw, b"\r\nOK\r\n");
}

#[test]
fn urcs_come_between_information_lines_and_the_final_result() {
    let mut h = Host::new(with(&["urc-between-lines=20"]));
    h.send("ATI1");
    let t0 = h.now();
    assert_eq!(
        h.until(MIN, is_final),
        s(&["UE5.4.1.1", "LR5.4.1.1-57857", "+CEREG: 0", "OK"])
    );
    assert_eq!(h.now() - t0, Duration::from_millis(20));
    // Commands sent meanwhile are answered after the final result, in order.
    h.send("ATI1");
    h.send("AT");
    assert_eq!(
        h.until(MIN, |l| l == "OK"),
        s(&["UE5.4.1.1", "LR5.4.1.1-57857", "+CEREG: 0", "OK"])
    );
    assert_eq!(h.until(MIN, is_final), s(&["OK"]));
}

#[test]
fn power_loss_during_download_restarts_it_from_zero() {
    let cfg = with(&["power-loss-download=50"]);
    let mut h = provisioned(cfg, r#""standard",0,2,10,60"#);
    h.handle
        .schedule_firmware(EP, FirmwareImage::good("5.4.1.1-57830"))
        .unwrap();
    let got = h.until(10 * MIN, |l| l == "+SYSSTART");
    let pos40 = got.iter().position(|l| l == "+SQNFOTA: 5,3,40").unwrap();
    assert!(!got.iter().any(|l| l == "+SQNFOTA: 5,3,60"), "{got:?}");
    assert_eq!(&got[pos40 + 1..], ["+SQNFOTA: 5,3,50", "+SYSSTART"]);
    assert_eq!(
        h.handle.device_status(EP).unwrap().upgrade,
        UpgradeStatus::Scheduled {
            version: "5.4.1.1-57830".into()
        }
    );
    // Back up: the next check downloads from 0 again, and this time completes.
    let got = h.until(10 * MIN, |l| l.starts_with("+SQNFOTA: 5,3,"));
    assert_eq!(got.last().map(String::as_str), Some("+SQNFOTA: 5,3,0"));
    h.wait_line(r#"+SQNFOTA: "installed","5.4.1.1-57830""#, 10 * MIN);
}

#[test]
fn power_loss_during_install_resumes_at_power_up() {
    let mut h = provisioned(with(&["power-loss-install"]), r#""standard",0,2,10,60"#);
    h.handle
        .schedule_firmware(EP, FirmwareImage::good("5.4.1.1-57830"))
        .unwrap();
    h.wait_line(r#"+SQNFOTA: "install""#, 10 * MIN);
    let t_install = h.now();
    // The modem stays down while installing; half way through, the power goes.
    assert!(h.handle.snapshot().pending_install.is_some());
    let got = h.until(10 * MIN, |l| l.starts_with("+SQNFOTA: \"installed\""));
    assert_eq!(
        got,
        s(&[
            "+SYSSTART",
            "+SQNFOTA: 7",
            "+SYSSTART",
            "+CEREG: 2",
            "+SQNFOTA: 8",
            r#"+SQNFOTA: "installed","5.4.1.1-57830""#,
        ])
    );
    // 5 s of installation, 2 s without power, 3 s of boot, the remaining 5 s.
    assert_eq!(h.now() - t_install, Duration::from_millis(15_100));
    assert_eq!(h.handle.firmware(), "5.4.1.1-57830");
    assert!(h.handle.snapshot().pending_install.is_none());
}
