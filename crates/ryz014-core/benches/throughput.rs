//! Throughput of the framer alone and of framer + parser over a deterministic, realistic modem
//! log of about 64 MB generated in memory: command echoes, `OK`/`ERROR`, `+SQNFOTA` progress,
//! `+SQNDMST`, `+CEREG`, `ATI1`, `+SQNDMCFG`/`+SQNFOTACFG` reads, the IMEI, the data prompt, and
//! some garbage (control bytes, bytes that are not UTF-8, unknown lines, an over-long line).
//! Fed in 4 KiB chunks, as a serial port read loop would.
//!
//! Run with `cargo bench -p ryz014-core`; criterion prints MB/s (`thrpt`).

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_main, Criterion, SamplingMode, Throughput};
use ryz014_core::framer::{FrameEvent, Framer};
use ryz014_core::parse::parse_line;
use ryz014_core::Message;

/// Size of the generated log.
const LOG_BYTES: usize = 64 << 20;
/// Size of each push, like a UART read buffer.
const CHUNK: usize = 4096;

/// xorshift64*: deterministic and dependency-free.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Appends one response line framed `\r\n<line>\r\n`.
fn resp(out: &mut Vec<u8>, line: &str) {
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(line.as_bytes());
    out.extend_from_slice(b"\r\n");
}

/// Appends a command echo (ends with the `\r` the host typed).
fn echo(out: &mut Vec<u8>, cmd: &str) {
    out.extend_from_slice(cmd.as_bytes());
    out.push(b'\r');
}

/// The realistic log: one "episode" after another until `LOG_BYTES` is reached.
fn realistic_log() -> Vec<u8> {
    let mut rng = Rng(0x5eed_0000_2014_0001);
    let mut out = Vec::with_capacity(LOG_BYTES + 4096);
    while out.len() < LOG_BYTES {
        match rng.below(100) {
            0..=19 => {
                for pct in (0..=100).step_by(10) {
                    resp(&mut out, &format!("+SQNFOTA: 5,3,{pct}"));
                }
            }
            20..=29 => {
                for s in [1, 2, 3, 4, 3] {
                    resp(&mut out, &format!("+SQNFOTA: {s}"));
                }
                resp(&mut out, "+SQNFOTA: \"available\"");
                resp(&mut out, "+SQNFOTA: \"downloaded\"");
                resp(&mut out, "+SQNFOTA: \"install\"");
                resp(&mut out, "+SYSSTART");
                resp(&mut out, "+SQNFOTA: \"installed\",\"5.4.1.1-57830\"");
            }
            30..=44 => {
                echo(&mut out, "AT+SQNDMST");
                let up = rng.below(90_000);
                resp(&mut out, "+SQNDMST: \"bs\",100,\"BS_FINISHED\",10,-1");
                resp(
                    &mut out,
                    &format!("+SQNDMST: \"dm\",102,\"REGISTERED\",2592000,{up}"),
                );
                resp(
                    &mut out,
                    &format!("+SQNDMST: \"dm\",101,\"REGISTERED\",86400,{}", up % 86400),
                );
                resp(&mut out, "OK");
            }
            45..=56 => {
                resp(&mut out, "+CEREG: 2");
                resp(&mut out, "+CEREG: 1,\"0002\",\"01A2D002\",7");
                echo(&mut out, "AT+CEREG?");
                resp(&mut out, "+CEREG: 2,1,\"0002\",\"01A2D002\",7");
                resp(&mut out, "OK");
            }
            57..=66 => {
                echo(&mut out, "ATI1");
                resp(&mut out, "UE5.4.1.1");
                resp(&mut out, "LR5.4.1.1-57857");
                resp(&mut out, "OK");
                echo(&mut out, "AT+CGSN");
                resp(&mut out, "015770000031766");
                resp(&mut out, "OK");
                echo(&mut out, "AT+SQNCTM?");
                resp(&mut out, "+SQNCTM: standard");
                resp(&mut out, "OK");
            }
            67..=76 => {
                echo(&mut out, "AT+SQNDMCFG=\"standard\",\"server\"");
                resp(
                    &mut out,
                    "+SQNDMCFG: \"standard\",\"server\",100,60,\"coaps://eu.iot.avsystem.cloud:5694\",1,\"bs\"",
                );
                resp(&mut out, "OK");
                echo(&mut out, "AT+SQNDMCFG=\"standard\",\"psk\"");
                resp(
                    &mut out,
                    "+SQNDMCFG: \"standard\",\"psk\",100,\"urn:imei:015770000031766\",\"8749\"",
                );
                resp(&mut out, "OK");
                echo(&mut out, "AT+SQNDMCFG=\"standard\",\"service\"");
                resp(&mut out, "+SQNDMCFG: \"standard\",\"service\",1");
                resp(&mut out, "OK");
            }
            77..=84 => {
                echo(&mut out, "AT+SQNFOTACFG?");
                resp(&mut out, "+SQNFOTACFG: \"standard\",0,2,10,60,60,,11");
                resp(&mut out, "OK");
                echo(&mut out, "AT+SQNFOTACFG=?");
                resp(
                    &mut out,
                    "+SQNFOTACFG: 32,(0,1),(0-2),(0-100),(60-32000000),(60-65535),(11-19)",
                );
                resp(&mut out, "OK");
            }
            85..=90 => {
                echo(&mut out, "AT+CFUN?");
                resp(&mut out, "+CFUN: 1");
                resp(&mut out, "OK");
                echo(&mut out, "AT+SQNAUTOCONNECT?");
                resp(&mut out, "+SQNAUTOCONNECT: 1");
                resp(&mut out, "OK");
                echo(&mut out, "AT+NOPE");
                resp(&mut out, "+CME ERROR: 4");
                resp(&mut out, "ERROR");
            }
            91..=94 => {
                echo(&mut out, "AT+SQNSMQTTPUBLISH=0,\"t\",1,5");
                out.extend_from_slice(b"\r\n> ");
                out.extend_from_slice(b"hello");
                resp(&mut out, "+SQNSUPGRADE: 0,\"in progress\"");
                resp(&mut out, "OK");
            }
            95..=98 => {
                // Line noise: control bytes, bytes that are not UTF-8, unknown lines.
                out.extend_from_slice(b"\x00\x00\r\n+SQN\xffFOTA: 5\x1b,3,40\r\n");
                resp(&mut out, "+SONFOTA: 5,3,70");
                out.extend_from_slice(b"\r\nSEQUANS \xc3\xa9\xc3 Communications\r\n");
                for _ in 0..rng.below(24) {
                    out.push((rng.next() & 0xff) as u8);
                }
                out.extend_from_slice(b"\r\n");
            }
            _ => {
                // An over-long line, discarded by the framer.
                out.extend_from_slice(b"\r\n");
                out.resize(out.len() + 5000, b'x');
                out.extend_from_slice(b"\r\n");
            }
        }
    }
    out
}

fn frame_only(log: &[u8]) -> usize {
    let mut f = Framer::new();
    let mut n = 0usize;
    for chunk in log.chunks(CHUNK) {
        f.push(chunk, |ev| {
            if let FrameEvent::Line(l) = ev {
                n += l.len();
            } else {
                n += 1;
            }
        });
    }
    n
}

fn frame_and_parse(log: &[u8]) -> usize {
    let mut f = Framer::new();
    let mut unknown = 0usize;
    for chunk in log.chunks(CHUNK) {
        f.push(chunk, |ev| {
            if let FrameEvent::Line(l) = ev {
                if matches!(black_box(parse_line(l)), Message::Unknown { .. }) {
                    unknown += 1;
                }
            }
        });
    }
    unknown
}

fn throughput(c: &mut Criterion) {
    let log = realistic_log();
    {
        let mut f = Framer::new();
        let (mut lines, mut bytes, mut other) = (0usize, 0usize, 0usize);
        f.push(&log, |ev| match ev {
            FrameEvent::Line(l) => {
                lines += 1;
                bytes += l.len();
            }
            _ => other += 1,
        });
        eprintln!(
            "log: {} bytes, {lines} lines ({bytes} bytes of text), {other} other events",
            log.len()
        );
    }
    let mut g = c.benchmark_group("modem_log");
    g.throughput(Throughput::Bytes(log.len() as u64));
    g.sampling_mode(SamplingMode::Flat);
    g.sample_size(10);
    g.warm_up_time(Duration::from_secs(1));
    g.measurement_time(Duration::from_secs(4));
    g.bench_function("framer", |b| b.iter(|| frame_only(black_box(&log))));
    g.bench_function("framer+parser", |b| {
        b.iter(|| frame_and_parse(black_box(&log)))
    });
    g.finish();
}

// In a private module: `criterion_group!` makes a `pub fn` without documentation.
mod group {
    criterion::criterion_group!(benches, super::throughput);
}
criterion_main!(group::benches);
