//! Tests of the client: scripted transports, routing of lines and notifications, timeouts,
//! reboots and crashes mid-command, redaction, and the raw-line helpers.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use super::*;
use crate::message::{FotaNotification, Registration};
use futures::executor::block_on;
use futures::io::Cursor;
use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

/// A reader that hands out a script of chunks, then either ends or stays pending.
struct Script {
    chunks: VecDeque<Vec<u8>>,
    then_pending: bool,
}

impl AsyncRead for Script {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<std::io::Result<usize>> {
        match self.chunks.pop_front() {
            Some(mut c) => {
                let n = c.len().min(buf.len());
                buf[..n].copy_from_slice(&c[..n]);
                if n < c.len() {
                    let rest = c.split_off(n);
                    self.chunks.push_front(rest);
                }
                Poll::Ready(Ok(n))
            }
            None if self.then_pending => Poll::Pending,
            None => Poll::Ready(Ok(0)),
        }
    }
}

fn script(parts: &[&str], bytewise: bool, then_pending: bool) -> Script {
    let mut chunks = VecDeque::new();
    for p in parts {
        if bytewise {
            chunks.extend(p.bytes().map(|b| vec![b]));
        } else {
            chunks.push_back(p.as_bytes().to_vec());
        }
    }
    Script {
        chunks,
        then_pending,
    }
}

/// A timer whose sleeps fire at once (`Ready`) or never.
struct TestTimer {
    fires: bool,
}

struct Never;
impl Future for Never {
    type Output = ();
    fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
        Poll::Pending
    }
}

impl Timer for TestTimer {
    fn sleep(&self, _: Duration) -> Sleep {
        if self.fires {
            Box::pin(futures::future::ready(()))
        } else {
            Box::pin(Never)
        }
    }
}

fn client(s: Script, fires: bool) -> Client<Script, Cursor<Vec<u8>>> {
    Client::new(s, Cursor::new(Vec::new()), TestTimer { fires })
}

#[test]
fn notification_between_information_lines_goes_to_the_queue() {
    for bytewise in [false, true] {
        let s = script(
            &[
                "\r\n+SQNDMCFG: \"standard\",\"service\",1\r\n",
                "\r\n+SQNFOTA: 5,3,10\r\n",
                "\r\n+CEREG: 1,\"0002\",\"01A2D002\",7\r\n",
                "\r\nOK\r\n",
            ],
            bytewise,
            false,
        );
        let mut c = client(s, false);
        let r = block_on(c.execute_raw("AT+SQNDMCFG=\"standard\",\"service\"", DEFAULT_TIMEOUT))
            .unwrap();
        assert!(r.is_ok());
        assert_eq!(r.lines.len(), 1, "bytewise={bytewise}: {:?}", r.lines);
        assert!(matches!(r.lines[0], Message::DmConfig(_)));
        let n = c.drain_notifications();
        assert_eq!(n.len(), 2);
        assert!(matches!(
            &n[0],
            Message::Fota(FotaNotification {
                state: Some(5),
                progress: Some(10),
                ..
            })
        ));
        assert!(matches!(
            &n[1],
            Message::Registration(Registration { stat: 1, .. })
        ));
    }
}

#[test]
fn echo_is_skipped_and_bare_lines_are_information() {
    let s = script(&["AT+CGSN\r\r\n015770000031766\r\n\r\nOK\r\n"], true, false);
    let mut c = client(s, false);
    let r = block_on(c.execute_raw("AT+CGSN", DEFAULT_TIMEOUT)).unwrap();
    assert_eq!(
        r.lines,
        vec![Message::Imei {
            imei: "015770000031766".into()
        }]
    );
    assert!(c.drain_notifications().is_empty());
}

#[test]
fn cereg_read_form_is_the_answer_not_a_notification() {
    let s = script(
        &["\r\n+CEREG: 2,1,\"0002\",\"01A2D002\",7\r\n\r\nOK\r\n"],
        false,
        false,
    );
    let mut c = client(s, false);
    let r = block_on(c.execute_raw("AT+CEREG?", DEFAULT_TIMEOUT)).unwrap();
    assert_eq!(r.lines.len(), 1);
    assert!(c.drain_notifications().is_empty());
}

#[test]
fn error_results_are_returned_by_execute_raw() {
    let s = script(&["\r\n+CME ERROR: 3\r\n"], false, false);
    let mut c = client(s, false);
    let r = block_on(c.execute_raw("AT+SQNFACTORYSAVE=\"oem\"", DEFAULT_TIMEOUT)).unwrap();
    assert_eq!(
        r.result,
        FinalResult::CmeError(crate::message::ErrorCode::Number(3))
    );
}

#[test]
fn silence_times_out_with_the_command_named() {
    let s = script(&[], false, true);
    let mut c = client(s, true);
    let e = block_on(c.execute_raw("AT+SQNDMST", Duration::from_secs(3))).unwrap_err();
    assert!(matches!(e, ClientError::Timeout { .. }));
    assert_eq!(e.to_string(), "no answer to `AT+SQNDMST` within 3 s");
}

#[test]
fn end_of_stream_is_closed_not_a_hang() {
    let s = script(&["\r\n+SQNFOTA: 3\r\n"], false, false);
    let mut c = client(s, false);
    let e = block_on(c.execute_raw("AT", DEFAULT_TIMEOUT)).unwrap_err();
    assert!(matches!(e, ClientError::Closed));
    assert_eq!(
        c.drain_notifications().len(),
        1,
        "the URC read before EOF is kept"
    );
}

#[test]
fn a_reset_mid_command_is_reported_and_the_boot_kept() {
    let s = script(&["\r\n+SHUTDOWN\r\n"], false, true);
    let mut c = client(s, false);
    let e = block_on(c.execute_raw("AT+SQNDMST", DEFAULT_TIMEOUT)).unwrap_err();
    assert!(matches!(
        e,
        ClientError::Rebooted {
            event: BootEvent::Shutdown,
            ..
        }
    ));
    assert_eq!(c.drain_notifications().len(), 1);
}

#[test]
fn reset_command_waits_through_shutdown_and_sysstart() {
    let s = script(
        &["\r\nOK\r\n\r\n+SHUTDOWN\r\n", "\r\n+SYSSTART\r\n"],
        false,
        true,
    );
    let mut c = client(s, false);
    let r = block_on(c.execute_raw("AT^RESET", DEFAULT_TIMEOUT)).unwrap();
    assert!(r.is_ok());
    block_on(c.wait_for_sysstart(DEFAULT_TIMEOUT)).unwrap();
    // +SHUTDOWN stays queued for whoever watches notifications.
    assert_eq!(
        c.drain_notifications(),
        vec![Message::Boot {
            event: BootEvent::Shutdown
        }]
    );
}

#[test]
fn wait_for_keeps_other_notifications_in_order() {
    let s = script(
        &["\r\n+SQNFOTA: 1\r\n\r\n+SQNFOTA: 2\r\n\r\n+SYSSTART\r\n\r\n+SQNFOTA: 3\r\n"],
        false,
        true,
    );
    let mut c = client(s, false);
    block_on(c.wait_for_sysstart(DEFAULT_TIMEOUT)).unwrap();
    let states: Vec<_> = c
        .drain_notifications()
        .into_iter()
        .map(|m| match m {
            Message::Fota(f) => f.state,
            _ => None,
        })
        .collect();
    assert_eq!(states, vec![Some(1), Some(2)]);
    let next = block_on(c.next_notification(DEFAULT_TIMEOUT)).unwrap();
    assert!(matches!(
        next,
        Some(Message::Fota(FotaNotification { state: Some(3), .. }))
    ));
}

#[test]
fn observer_sees_sent_and_received_lines_with_the_secret_redacted() {
    let log = Rc::new(RefCell::new(Vec::new()));
    let sink = log.clone();
    let echo =
        "AT+SQNDMCFG=\"standard\",\"psk\",100,\"urn:imei:015770000031766\",\"87493467538357\"";
    let s = script(&[&format!("{echo}\r\r\nOK\r\n")], false, false);
    let mut c = client(s, false);
    c.set_observer(Box::new(move |e| sink.borrow_mut().push(e.clone())));
    block_on(c.execute_raw(echo, DEFAULT_TIMEOUT)).unwrap();
    let all = format!("{:?}", log.borrow());
    assert!(!all.contains("87493467538357"), "{all}");
    assert!(all.contains("8749"), "{all}");
    let (_, w) = c.into_inner();
    assert_eq!(w.into_inner(), format!("{echo}\r").into_bytes());
}

#[test]
fn no_received_line_kind_carries_the_secret_out() {
    let secret = "e9891e446e07ba10c1a5d2f3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7";
    let cmd = format!(r#"AT+SQNDMCFG="standard","psk",100,"urn:imei:015770000031766","{secret}""#);
    let read = format!(r#"+SQNDMCFG: "standard","psk",100,"urn:imei:015770000031766","{secret}""#);
    // A noise byte before the echo (so it is not parsed as a command), the secret in a read
    // line, then an error answer quoting it without saying `psk`.
    let s = script(
        &[&format!(
            "~{cmd}\r\r\n{read}\r\n\r\n+CME ERROR: {secret}\r\n"
        )],
        true,
        false,
    );
    let log = Rc::new(RefCell::new(Vec::new()));
    let sink = log.clone();
    let mut c = client(s, false);
    c.set_observer(Box::new(move |e| sink.borrow_mut().push(e.clone())));
    let r = block_on(c.execute_raw(&cmd, DEFAULT_TIMEOUT)).unwrap();
    let all = format!("{:?} {r:?} {:?}", log.borrow(), c.drain_notifications());
    assert!(!all.contains(&secret[..16]), "{all}");
    assert!(!all.contains(&secret[30..50]), "{all}");
    assert_eq!(log.borrow().len(), 4, "{all}");
    assert!(all.contains("e989…"), "{all}");
}

#[test]
fn a_crash_report_ends_the_command_at_once() {
    // The sleep never fires: before crash reports were known this waited forever.
    let s = script(
        &["\r\n^EXIT: lte_main.c@1102\r\n", "\r\n+SYSSTART\r\n"],
        false,
        true,
    );
    let mut c = client(s, false);
    let e = block_on(c.execute_raw("AT+SQNDMST", DEFAULT_TIMEOUT)).unwrap_err();
    assert!(
        matches!(&e, ClientError::Crashed { report, .. } if report == "lte_main.c@1102"),
        "{e:?}"
    );
    assert_eq!(
        e.to_string(),
        "the modem crashed and restarted while `AT+SQNDMST` was waiting for its answer \
         (^EXIT: lte_main.c@1102)"
    );
    assert!(!e.is_fatal());
    block_on(c.wait_for_sysstart(DEFAULT_TIMEOUT)).unwrap();
    assert_eq!(
        c.drain_notifications(),
        vec![Message::Crash {
            report: "lte_main.c@1102".into()
        }]
    );
}

#[test]
fn notifications_before_sysstart_belong_to_the_previous_boot() {
    let is_attach = |m: &Message| matches!(m, Message::Registration(r) if r.stat == 1);
    // In one chunk and byte by byte: the tag follows the line, not the read.
    for bytewise in [false, true] {
        let s = script(
            &["\r\n+CEREG: 1\r\n\r\n+SHUTDOWN\r\n\r\n+SYSSTART\r\n"],
            bytewise,
            false,
        );
        let mut c = client(s, true);
        block_on(c.wait_for_sysstart(DEFAULT_TIMEOUT)).unwrap();
        let e = block_on(c.wait_for_since_boot("attach", DEFAULT_TIMEOUT, is_attach));
        assert!(matches!(e, Err(ClientError::Closed)), "{e:?}");
        // The stale line stays queued for whoever reports it.
        assert_eq!(c.drain_notifications().len(), 2, "bytewise={bytewise}");
    }
    // A registration after the +SYSSTART counts (queued, or read while waiting).
    let s = script(
        &[
            "\r\n+CEREG: 1\r\n\r\n+SYSSTART\r\n\r\n+CEREG: 2\r\n",
            "\r\n+CEREG: 1,\"0002\",\"01A2D002\",7\r\n",
        ],
        false,
        true,
    );
    let mut c = client(s, false);
    block_on(c.wait_for_sysstart(DEFAULT_TIMEOUT)).unwrap();
    let m = block_on(c.wait_for_since_boot("attach", DEFAULT_TIMEOUT, is_attach)).unwrap();
    assert!(matches!(m, Message::Registration(r) if r.tac.is_some()));
    // Plain wait_for still takes whatever is queued.
    let s = script(&["\r\n+CEREG: 1\r\n\r\n+SYSSTART\r\n"], false, true);
    let mut c = client(s, false);
    block_on(c.wait_for_sysstart(DEFAULT_TIMEOUT)).unwrap();
    assert!(block_on(c.wait_for("attach", DEFAULT_TIMEOUT, is_attach)).is_ok());
}

#[test]
fn raw_prefix_and_reboot_detection() {
    assert_eq!(raw_prefix("AT+CEREG?").as_deref(), Some("+CEREG"));
    assert_eq!(
        raw_prefix("at+sqndmcfg=\"x\"").as_deref(),
        Some("+SQNDMCFG")
    );
    assert_eq!(raw_prefix("ATI1"), None);
    assert!(raw_reboots("at^reset"));
    assert!(raw_reboots("AT+CFUN=1, 1"));
    assert!(!raw_reboots("AT+CFUN=5"));
    // The same answer as the typed command's spec: only the blocking upgrade reboots.
    assert!(raw_reboots(
        r#"AT+SQNSUPGRADE="http://example.com/fw.dup",1,5,0"#
    ));
    assert!(!raw_reboots(
        r#"AT+SQNSUPGRADE="http://example.com/fw.dup",0,5,1"#
    ));
    assert!(!raw_reboots("AT+NOTACOMMAND=1"));
}
