//! The serial transport against pseudo-terminals opened by the test: data both ways, baud probing
//! and its fallback, and a port that vanishes (the other end closes) during a read or before a write.
#![cfg(unix)]

use std::io::{Read, Write};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use futures::executor::block_on;
use futures::io::{AsyncReadExt, AsyncWriteExt};
use ryz014_serial::transport::{self, Baud, SerialConfig, SerialTransport, TransportError};
use serialport::{SerialPort, TTYPort};

/// Runs `f` on a thread and fails the test if it does not finish within 10 s (a hang is a failure,
/// not a stuck test run).
fn within_deadline<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(Duration::from_secs(10))
        .expect("the operation hung (no result within 10 s)")
}

fn pair() -> (TTYPort, TTYPort) {
    TTYPort::pair().expect("open a pseudo-terminal pair")
}

/// Reads from the master side until `want` bytes arrived.
fn read_exact_master(master: &mut TTYPort, want: usize) -> Vec<u8> {
    let mut got = Vec::new();
    let mut buf = [0u8; 256];
    let deadline = Instant::now() + Duration::from_secs(5);
    while got.len() < want && Instant::now() < deadline {
        match master.read(&mut buf) {
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {}
            Err(e) => panic!("master read failed: {e}"),
        }
    }
    got
}

#[test]
fn bytes_flow_both_ways() {
    let (mut master, slave) = pair();
    let mut t = SerialTransport::from_port(Box::new(slave), 921_600).unwrap();
    assert_eq!(t.baud(), Some(921_600));

    master.write_all(b"\r\n+SYSSTART\r\n").unwrap();
    let got = within_deadline(move || {
        let mut buf = vec![0u8; 13];
        block_on(t.read_exact(&mut buf)).unwrap();
        block_on(async {
            t.write_all(b"AT+CGSN\r").await.unwrap();
            t.flush().await.unwrap();
        });
        (buf, t)
    });
    assert_eq!(got.0, b"\r\n+SYSSTART\r\n");
    assert_eq!(read_exact_master(&mut master, 8), b"AT+CGSN\r");
    drop(got.1);
}

#[test]
fn a_large_write_is_delivered_in_order() {
    let (mut master, slave) = pair();
    let mut t = SerialTransport::from_port(Box::new(slave), 115_200).unwrap();
    // More than the transport buffers at once, so poll_write has to wait for the writer thread.
    let data: Vec<u8> = (0..100_000u32).map(|i| b'a' + (i % 26) as u8).collect();
    let expected = data.clone();
    let reader = thread::spawn(move || read_exact_master(&mut master, expected.len()));
    within_deadline(move || {
        block_on(async {
            t.write_all(&data).await.unwrap();
            t.flush().await.unwrap();
        });
    });
    let got = reader.join().unwrap();
    assert_eq!(got.len(), 100_000);
    assert!(got
        .iter()
        .enumerate()
        .all(|(i, b)| *b == b'a' + (i % 26) as u8));
}

#[test]
fn other_end_closing_mid_read_is_an_error_not_a_hang() {
    let (master, slave) = pair();
    let mut t = SerialTransport::from_port(Box::new(slave), 921_600).unwrap();
    let (started_tx, started_rx) = mpsc::channel();
    let handle = thread::spawn(move || {
        let mut buf = [0u8; 16];
        let _ = started_tx.send(());
        let r = block_on(t.read(&mut buf));
        (r.map_err(|e| e.kind()), t)
    });
    started_rx.recv().unwrap();
    thread::sleep(Duration::from_millis(100)); // let the read be pending
    drop(master);
    let (result, t) = within_deadline(move || handle.join().unwrap());
    assert!(
        result.is_err(),
        "a read on a vanished port must fail, got {result:?}"
    );
    // Writes and flushes fail too, and both threads exit.
    let t = within_deadline(move || {
        let mut t = t;
        let w = block_on(t.write_all(b"AT\r"));
        assert!(w.is_err(), "a write on a vanished port must fail");
        let e = t.failure().expect("the failure is kept");
        assert!(e.to_string().contains("vanished"), "{e}");
        while !t.threads_finished() {
            thread::sleep(Duration::from_millis(10));
        }
        t
    });
    assert!(t.threads_finished());
}

#[test]
fn data_received_before_the_port_vanished_is_still_delivered() {
    let (mut master, slave) = pair();
    let mut t = SerialTransport::from_port(Box::new(slave), 921_600).unwrap();
    master.write_all(b"OK\r\n").unwrap();
    // Wait until the reader thread has the bytes, then close the other end.
    thread::sleep(Duration::from_millis(200));
    drop(master);
    within_deadline(move || {
        let mut buf = [0u8; 4];
        block_on(t.read_exact(&mut buf)).unwrap();
        assert_eq!(&buf, b"OK\r\n");
        let mut more = [0u8; 4];
        assert!(block_on(t.read(&mut more)).is_err());
    });
}

#[test]
fn dropping_the_transport_stops_its_threads() {
    let (_master, slave) = pair();
    let t = SerialTransport::from_port(Box::new(slave), 921_600).unwrap();
    // Drop joins both threads; a hang here is a failure.
    within_deadline(move || drop(t));
}

/// Answers `OK` to `AT\r` on the master side, but only while the port runs at `answer_at` baud
/// (a pseudo-terminal shares its settings between both sides). Returns how many probes it saw.
fn responder(
    mut master: TTYPort,
    answer_at: u32,
    stop: mpsc::Receiver<()>,
) -> thread::JoinHandle<usize> {
    thread::spawn(move || {
        let mut seen = Vec::new();
        let mut probes = 0;
        let mut buf = [0u8; 64];
        while stop.try_recv().is_err() {
            match master.read(&mut buf) {
                Ok(n) => seen.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::TimedOut => continue,
                Err(_) => break,
            }
            while let Some(pos) = seen.windows(3).position(|w| w == b"AT\r") {
                seen.drain(..pos + 3);
                probes += 1;
                if master.baud_rate().ok() == Some(answer_at) {
                    let _ = master.write_all(b"AT\r\r\nOK\r\n");
                }
            }
        }
        probes
    })
}

fn config(path: &str) -> SerialConfig {
    SerialConfig {
        probe_timeout: Duration::from_millis(200),
        ..SerialConfig::new(path)
    }
}

#[test]
fn probing_finds_the_default_rate() {
    let (master, slave) = pair();
    let path = slave.name().unwrap();
    let (stop, stop_rx) = mpsc::channel();
    let r = responder(master, 921_600, stop_rx);
    let t = within_deadline(move || transport::open(&config(&path)));
    let t = t.unwrap();
    assert_eq!(t.baud(), Some(921_600));
    drop(t);
    let _ = stop.send(());
    assert_eq!(
        r.join().unwrap(),
        1,
        "one probe suffices when the first rate answers"
    );
    drop(slave);
}

#[test]
fn probing_falls_back_to_115200() {
    let (master, slave) = pair();
    let path = slave.name().unwrap();
    let (stop, stop_rx) = mpsc::channel();
    let r = responder(master, 115_200, stop_rx);
    let t = within_deadline(move || transport::open(&config(&path))).unwrap();
    assert_eq!(t.baud(), Some(115_200));
    drop(t);
    let _ = stop.send(());
    // Two unanswered probes at 921600, then one answered at 115200.
    assert_eq!(r.join().unwrap(), 3);
    drop(slave);
}

#[test]
fn silence_at_every_rate_is_no_answer() {
    let (master, slave) = pair();
    let path = slave.name().unwrap();
    let (stop, stop_rx) = mpsc::channel();
    let r = responder(master, 9_600, stop_rx); // never the rate in use
    let err = within_deadline(move || transport::open(&config(&path))).unwrap_err();
    let _ = stop.send(());
    match &err {
        TransportError::NoAnswer { tried, .. } => assert_eq!(tried, &[921_600, 115_200]),
        other => panic!("expected NoAnswer, got {other:?}"),
    }
    assert_eq!(r.join().unwrap(), 4);
    drop(slave);
}

#[test]
fn a_fixed_rate_is_used_without_probing() {
    let (master, slave) = pair();
    let path = slave.name().unwrap();
    let (stop, stop_rx) = mpsc::channel();
    let r = responder(master, 921_600, stop_rx);
    let cfg = SerialConfig {
        baud: Baud::Fixed(57_600),
        ..config(&path)
    };
    let t = within_deadline(move || transport::open(&cfg)).unwrap();
    assert_eq!(t.baud(), Some(57_600));
    drop(t);
    let _ = stop.send(());
    assert_eq!(r.join().unwrap(), 0);
    drop(slave);
}

#[test]
fn opening_a_missing_port_fails_with_its_path() {
    let err = transport::open(&config("/dev/ryz014-no-such-port")).unwrap_err();
    assert!(matches!(err, TransportError::Open { .. }), "{err:?}");
    assert!(err.to_string().contains("/dev/ryz014-no-such-port"));
    let err = transport::open(&SerialConfig {
        baud: Baud::Fixed(10),
        ..config("/dev/null")
    })
    .unwrap_err();
    assert!(
        matches!(err, TransportError::BadBaud { baud: 10 }),
        "{err:?}"
    );
}
