//! The binary on a real pseudo-terminal, driven by the `serialport` crate as a user's tool would.
#![cfg(not(target_arch = "wasm32"))]

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Sim {
    child: Child,
    path: String,
}

impl Sim {
    fn spawn(args: &[&str]) -> Sim {
        let mut child = Command::new(env!("CARGO_BIN_EXE_ryz014-sim"))
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        let path = first.trim().strip_prefix("PTY ").unwrap().to_string();
        Sim { child, path }
    }

    fn terminate(mut self) -> std::process::ExitStatus {
        let st = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(st.success());
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                return st;
            }
            assert!(Instant::now() < deadline, "simulator did not exit");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Port {
    port: Box<dyn serialport::SerialPort>,
    pending: Vec<u8>,
}

impl Port {
    fn open(path: &str) -> Port {
        let port = serialport::new(path, 115_200)
            .timeout(Duration::from_millis(100))
            .open()
            .unwrap();
        Port {
            port,
            pending: Vec::new(),
        }
    }

    /// Lines up to and including the first final result.
    fn cmd(&mut self, cmd: &str) -> Vec<String> {
        self.port.write_all(format!("{cmd}\r").as_bytes()).unwrap();
        self.until(|l| l == "OK" || l == "ERROR" || l.starts_with("+CME ERROR"))
    }

    fn until(&mut self, pred: impl Fn(&str) -> bool) -> Vec<String> {
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut lines = Vec::new();
        loop {
            while let Some(pos) = self.pending.iter().position(|b| *b == b'\r' || *b == b'\n') {
                let l: Vec<u8> = self.pending.drain(..=pos).collect();
                let l = String::from_utf8_lossy(&l[..l.len() - 1]).into_owned();
                if l.is_empty() {
                    continue;
                }
                let hit = pred(&l);
                lines.push(l);
                if hit {
                    return lines;
                }
            }
            assert!(Instant::now() < deadline, "timed out; got {lines:?}");
            let mut buf = [0u8; 256];
            match self.port.read(&mut buf) {
                Ok(n) => self.pending.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {}
                Err(e) => panic!("read: {e}"),
            }
        }
    }
}

#[test]
fn serves_a_serial_client_on_a_pty_and_writes_state_on_sigterm() {
    let dir = std::env::temp_dir().join(format!("ryz014-sim-pty-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let state = dir.join("state.json");
    let sim = Sim::spawn(&[
        "--boot-ms",
        "200",
        "--echo",
        "0",
        "--firmware",
        "5.4.1.1-57830",
        "--state-out",
        state.to_str().unwrap(),
    ]);
    assert!(sim.path.starts_with("/dev/"), "{}", sim.path);
    let mut p = Port::open(&sim.path);
    assert_eq!(p.cmd("AT"), ["OK"]);
    assert_eq!(p.cmd("AT+CGSN"), ["015770000031766", "OK"]);
    assert_eq!(p.cmd("ATI1"), ["UE5.4.1.1", "LR5.4.1.1-57830", "OK"]);
    assert_eq!(p.cmd("AT+SQNAUTOCONNECT=1"), ["OK"]);
    assert_eq!(p.cmd("AT+CFUN=5"), ["OK"]);
    assert_eq!(p.cmd(r#"AT+SQNDMCFG="standard","service",1"#), ["OK"]);
    assert_eq!(
        p.cmd(r#"AT+SQNDMCFG="standard","server",100,"60","coaps://eu.iot.avsystem.cloud:5694","1","bs""#),
        ["OK"]
    );
    assert_eq!(
        p.cmd(r#"AT+SQNDMCFG="standard","psk",100,"urn:imei:015770000031766","87493467538357""#),
        ["OK"]
    );
    assert_eq!(
        p.cmd(r#"AT+SQNDMCFG="standard","psk""#),
        [
            r#"+SQNDMCFG: "standard","psk",100,"urn:imei:015770000031766","8749""#,
            "OK"
        ]
    );
    assert_eq!(p.cmd("AT^RESET"), ["OK"]);
    assert_eq!(p.until(|l| l == "+SYSSTART"), ["+SHUTDOWN", "+SYSSTART"]);
    assert_eq!(p.cmd("AT+CFUN?"), ["+CFUN: 1", "OK"]);
    drop(p);

    let status = sim.terminate();
    assert!(status.success(), "{status:?}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&state).unwrap()).unwrap();
    let profile = &json["dm_profiles"]["standard"];
    assert_eq!(profile["autostart"], 1);
    assert_eq!(profile["psks"][0]["secret_prefix"], "8749");
    assert_eq!(profile["psks"][0]["secret_bytes"], 7);
    assert_eq!(json["settings"]["autoconnect"], true);
    let commands: Vec<&str> = json["commands"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["line"].as_str().unwrap())
        .collect();
    assert_eq!(commands.first(), Some(&"AT"));
    assert!(commands.contains(&"AT^RESET"));
    let text = std::fs::read_to_string(&state).unwrap();
    assert!(!text.contains("87493467538357"), "secret leaked");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_provisioned_modem_upgrades_itself_in_scaled_real_time() {
    // 1000× real time: hold-off 60 s, FOTA timer 60 s, download and installation take well
    // under a second of real time.
    let sim = Sim::spawn(&[
        "--provisioned",
        "--fota-timer",
        "60",
        "--schedule-fota",
        "good:5.4.1.1-57830@1",
        "--time-scale",
        "1000",
        "--echo",
        "0",
    ]);
    let mut p = Port::open(&sim.path);
    let got = p.until(|l| l.starts_with("+SQNFOTA: \"installed\""));
    assert!(got.contains(&"+SQNFOTA: 3".to_string()), "{got:?}");
    assert!(got.contains(&"+SQNFOTA: 5,3,100".to_string()), "{got:?}");
    assert!(got.contains(&"+SYSSTART".to_string()), "{got:?}");
    assert_eq!(
        got.last().map(String::as_str),
        Some(r#"+SQNFOTA: "installed","5.4.1.1-57830""#)
    );
    // At 1000× the attach (`+CEREG: 1`) and the LwM2M restart (`+SQNFOTA: 1`) that follow the
    // installation may come while ATI1 is answered: leave those notifications out.
    let ati: Vec<String> = p
        .cmd("ATI1")
        .into_iter()
        .filter(|l| !l.starts_with("+CEREG") && !l.starts_with("+SQNFOTA"))
        .collect();
    assert_eq!(ati, ["UE5.4.1.1", "LR5.4.1.1-57830", "OK"]);
    assert!(sim.terminate().success());
}
