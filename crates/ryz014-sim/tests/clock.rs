//! The virtual clock: time moves only when the host would wait, to the earliest of the modem's
//! next event and the earliest sleep; timeouts race reads exactly.

use std::time::Duration;

use futures::executor::block_on;
use futures::future::{join, select, Either};
use futures::io::{AsyncReadExt, AsyncWriteExt};
use ryz014_core::timer::Timer;
use ryz014_sim::{sim, SimConfig};

fn booting() -> SimConfig {
    SimConfig {
        boot_at_start: true,
        echo: false,
        ..SimConfig::default()
    }
}

#[test]
fn a_read_waits_in_virtual_time_for_the_next_output() {
    let (mut stream, timer, _h) = sim::new(booting()).unwrap();
    let mut buf = [0u8; 64];
    let n = block_on(stream.read(&mut buf)).unwrap();
    assert_eq!(&buf[..n], b"\r\n+SYSSTART\r\n");
    assert_eq!(timer.now(), Duration::from_secs(3));
}

#[test]
fn a_shorter_timeout_wins_over_a_later_output() {
    let (mut stream, timer, _h) = sim::new(booting()).unwrap();
    let mut buf = [0u8; 64];
    let mut sleep = timer.sleep(Duration::from_secs(1));
    let r = block_on(async {
        match select(stream.read(&mut buf), &mut sleep).await {
            Either::Left(_) => "read",
            Either::Right(_) => "timeout",
        }
    });
    assert_eq!(r, "timeout");
    assert_eq!(timer.now(), Duration::from_secs(1));
    // The output is still there afterwards, at its own time.
    let n = block_on(stream.read(&mut buf)).unwrap();
    assert_eq!(&buf[..n], b"\r\n+SYSSTART\r\n");
    assert_eq!(timer.now(), Duration::from_secs(3));
}

#[test]
fn an_earlier_output_wins_over_a_longer_timeout_and_the_sleep_survives() {
    let (mut stream, timer, _h) = sim::new(booting()).unwrap();
    let mut buf = [0u8; 64];
    let mut sleep = timer.sleep(Duration::from_secs(10));
    let first = block_on(async {
        match select(stream.read(&mut buf), &mut sleep).await {
            Either::Left((n, _)) => Some(n.unwrap()),
            Either::Right(_) => None,
        }
    });
    assert_eq!(first, Some(13));
    assert_eq!(timer.now(), Duration::from_secs(3));
    // Nothing more comes: the same sleep fires at its own deadline.
    block_on(&mut sleep);
    assert_eq!(timer.now(), Duration::from_secs(10));
}

#[test]
fn a_lone_sleep_runs_the_modem_meanwhile() {
    let (mut stream, timer, _h) = sim::new(booting()).unwrap();
    block_on(timer.sleep(Duration::from_secs(60)));
    assert_eq!(timer.now(), Duration::from_secs(60));
    let mut buf = [0u8; 64];
    block_on(stream.write_all(b"AT\r")).unwrap();
    let n = block_on(stream.read(&mut buf)).unwrap();
    // +SYSSTART was sent at 3 s and waited in the line; then the answer.
    assert_eq!(&buf[..n], b"\r\n+SYSSTART\r\n\r\nOK\r\n");
    assert_eq!(timer.now(), Duration::from_secs(60));
}

#[test]
fn a_dropped_sleep_does_not_hold_time_back() {
    let (mut stream, timer, _h) = sim::new(booting()).unwrap();
    let early = timer.sleep(Duration::from_secs(1));
    drop(early);
    let mut buf = [0u8; 64];
    block_on(stream.read(&mut buf)).unwrap();
    assert_eq!(timer.now(), Duration::from_secs(3));
}

#[test]
fn a_reader_and_a_sleeper_in_two_futures_interleave() {
    let (stream, timer, _h) = sim::new(booting()).unwrap();
    let mut reader = stream.clone();
    let mut writer = stream;
    let t2 = timer.clone();
    let read = async move {
        let mut buf = [0u8; 64];
        let mut got = Vec::new();
        while !got.ends_with(b"OK\r\n") {
            let n = reader.read(&mut buf).await.unwrap();
            got.extend_from_slice(&buf[..n]);
        }
        (got, t2.now())
    };
    let write = async {
        timer.sleep(Duration::from_secs(5)).await;
        writer.write_all(b"AT\r").await.unwrap();
    };
    let ((got, at), ()) = block_on(join(read, write));
    assert_eq!(got, b"\r\n+SYSSTART\r\n\r\nOK\r\n");
    // The reader went first and ran to +SYSSTART (3 s); the writer's 5 s sleep started then.
    assert_eq!(at, Duration::from_secs(8));
}

#[test]
fn the_handle_advances_time_and_keeps_output() {
    let (mut stream, timer, h) = sim::new(booting()).unwrap();
    h.advance(Duration::from_secs(4));
    assert_eq!(timer.now(), Duration::from_secs(4));
    assert!(h.is_up());
    let mut buf = [0u8; 64];
    let n = block_on(stream.read(&mut buf)).unwrap();
    assert_eq!(&buf[..n], b"\r\n+SYSSTART\r\n");
}

#[test]
fn a_forgotten_sleep_does_not_hang_a_read() {
    let (mut stream, timer, _h) = sim::new(booting()).unwrap();
    let forgotten = timer.sleep(Duration::from_secs(1));
    let mut buf = [0u8; 64];
    let n = block_on(stream.read(&mut buf)).unwrap();
    assert_eq!(&buf[..n], b"\r\n+SYSSTART\r\n");
    assert_eq!(timer.now(), Duration::from_secs(3));
    // Polled late, it is simply done.
    block_on(forgotten);
    assert_eq!(timer.now(), Duration::from_secs(3));
}

#[test]
fn a_sleeper_in_a_join_fires_at_its_own_time_while_the_modem_talks() {
    let (stream, timer, h) = sim::new(SimConfig {
        echo: false,
        autoconnect: true,
        ..SimConfig::default()
    })
    .unwrap();
    let mut reader = stream.clone();
    let mut writer = stream;
    // The modem searches at 0.1 s and attaches at 2.1 s; the writer asks at 1 s.
    let read = async move {
        let mut buf = [0u8; 64];
        let mut got = Vec::new();
        while !got.ends_with(b",7\r\n") {
            let n = reader.read(&mut buf).await.unwrap();
            got.extend_from_slice(&buf[..n]);
        }
        got
    };
    // The sleep starts now (a future's body only runs when first polled).
    let one_second = timer.sleep(Duration::from_secs(1));
    let t3 = timer.clone();
    let write = async move {
        one_second.await;
        let at = t3.now();
        writer.write_all(b"AT+CEREG?\r").await.unwrap();
        at
    };
    let (got, at) = block_on(join(read, write));
    assert_eq!(at, Duration::from_secs(1));
    assert_eq!(
        String::from_utf8(got).unwrap(),
        "\r\n+CEREG: 2\r\n\r\n+CEREG: 2,2\r\n\r\nOK\r\n\r\n+CEREG: 1,\"0002\",\"01A2D002\",7\r\n"
    );
    assert_eq!(h.now(), Duration::from_millis(2100));
}
