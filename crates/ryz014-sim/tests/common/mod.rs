//! A small byte-level host for the simulator tests: writes commands, splits what comes back into
//! lines, waits in virtual time with the simulator's own timer.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::time::Duration;

use futures::executor::block_on;
use futures::future::{select, Either};
use futures::io::{AsyncReadExt, AsyncWriteExt};
use ryz014_core::timer::Timer;
use ryz014_sim::{sim, SimConfig, SimHandle, SimStream, SimTimer};

pub const EP: &str = "urn:imei:015770000031766";
pub const SECRET: &str = "87493467538357";
pub const BS_URL: &str = "coaps://eu.iot.avsystem.cloud:5694";

pub struct Host {
    pub stream: SimStream,
    pub timer: SimTimer,
    pub handle: SimHandle,
    /// Every byte received, for exact assertions.
    pub raw: Vec<u8>,
    partial: Vec<u8>,
    lines: VecDeque<String>,
}

pub fn is_final(l: &str) -> bool {
    l == "OK" || l == "ERROR" || l.starts_with("+CME ERROR:")
}

impl Host {
    pub fn new(cfg: SimConfig) -> Self {
        let (stream, timer, handle) = sim::new(cfg).unwrap();
        Host {
            stream,
            timer,
            handle,
            raw: Vec::new(),
            partial: Vec::new(),
            lines: VecDeque::new(),
        }
    }

    /// Echo off, numeric errors: the quiet setup most tests want.
    pub fn quiet(cfg: SimConfig) -> Self {
        let mut h = Host::new(SimConfig { echo: false, ..cfg });
        h.drain();
        h
    }

    pub fn now(&self) -> Duration {
        self.handle.now()
    }

    pub fn write(&mut self, bytes: &[u8]) {
        block_on(self.stream.write_all(bytes)).unwrap();
    }

    pub fn send(&mut self, cmd: &str) {
        self.write(format!("{cmd}\r").as_bytes());
    }

    fn feed(&mut self, bytes: &[u8]) {
        self.raw.extend_from_slice(bytes);
        for &b in bytes {
            if b == b'\r' || b == b'\n' {
                if !self.partial.is_empty() {
                    let l = String::from_utf8_lossy(&self.partial).into_owned();
                    self.lines.push_back(l);
                    self.partial.clear();
                }
            } else {
                self.partial.push(b);
            }
        }
    }

    /// Reads whatever arrives before `sleep` fires; false if it fired.
    fn read_once(&mut self, sleep: &mut ryz014_core::timer::Sleep) -> bool {
        let mut buf = [0u8; 512];
        let stream = &mut self.stream;
        let r = block_on(async {
            match select(stream.read(&mut buf), sleep).await {
                Either::Left((res, _)) => Some(res.unwrap()),
                Either::Right(_) => None,
            }
        });
        match r {
            Some(n) => {
                assert!(n > 0, "stream closed");
                let chunk = buf[..n].to_vec();
                self.feed(&chunk);
                true
            }
            None => false,
        }
    }

    /// The next line within `timeout` (virtual).
    pub fn line(&mut self, timeout: Duration) -> Option<String> {
        let mut sleep = self.timer.sleep(timeout);
        loop {
            if let Some(l) = self.lines.pop_front() {
                return Some(l);
            }
            if !self.read_once(&mut sleep) {
                return self.lines.pop_front();
            }
        }
    }

    /// Every line within `d` (virtual).
    pub fn lines_for(&mut self, d: Duration) -> Vec<String> {
        let mut sleep = self.timer.sleep(d);
        while self.read_once(&mut sleep) {}
        self.lines.drain(..).collect()
    }

    /// Reads and discards what is pending now (no time passes).
    pub fn drain(&mut self) -> Vec<String> {
        self.lines_for(Duration::ZERO)
    }

    /// Lines up to and including the first one matching `pred`; panics after `timeout`.
    pub fn until(&mut self, timeout: Duration, pred: impl Fn(&str) -> bool) -> Vec<String> {
        let mut got = Vec::new();
        let mut sleep = self.timer.sleep(timeout);
        loop {
            while let Some(l) = self.lines.pop_front() {
                let hit = pred(&l);
                got.push(l);
                if hit {
                    return got;
                }
            }
            if !self.read_once(&mut sleep) {
                panic!("timed out after {timeout:?}; got {got:?}");
            }
        }
    }

    /// Sends a command and returns every line up to and including its final result.
    pub fn cmd(&mut self, cmd: &str) -> Vec<String> {
        self.send(cmd);
        self.until(Duration::from_secs(5), is_final)
    }

    /// Sends a command, asserts the final result is `OK`, returns the lines before it.
    pub fn ok(&mut self, cmd: &str) -> Vec<String> {
        let mut v = self.cmd(cmd);
        assert_eq!(v.last().map(String::as_str), Some("OK"), "{cmd} → {v:?}");
        v.pop();
        v
    }

    /// Waits for a line equal to `want`; returns the lines before and including it.
    pub fn wait_line(&mut self, want: &str, timeout: Duration) -> Vec<String> {
        self.until(timeout, |l| l == want)
    }
}

/// The note's device provisioned as in §4.3.1.2, §4.3.1.3 and §4.3.3 (without the reads), with
/// the server knowing the device. The modem is attached and the FOTA client idle at return.
pub fn provisioned(cfg: SimConfig, fota: &str) -> Host {
    let mut h = Host::quiet(cfg);
    h.handle.register_device(EP, EP, SECRET).unwrap();
    provision(&mut h, fota);
    h
}

pub fn provision(h: &mut Host, fota: &str) {
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
    h.wait_line("+SYSSTART", Duration::from_secs(10));
    h.ok("AT+CFUN=5");
    h.ok(r#"AT+SQNFACTORYSAVE="oem""#);
    h.ok(&format!("AT+SQNFOTACFG={fota}"));
    h.ok("AT+CFUN=1,1");
    h.wait_line("+SQNFOTA: 3", Duration::from_secs(600));
}
