//! Shared helpers of the end-to-end tests: start `ryz014-sim` on a pseudo-terminal and run the
//! built `ryz014` binary against it, with a watchdog so that a hang fails the test instead of
//! blocking it.
//!
//! Used by several test files; each uses a different part of it.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Output, Stdio};
use std::sync::{mpsc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime};

use serde_json::Value;

/// The simulator's default IMEI (the note's; Luhn-valid).
pub const SIM_IMEI: &str = "015770000031766";

/// Virtual seconds per real second for tests: the default boot (3 s) takes 150 ms, attach (2 s)
/// 100 ms.
pub const FAST: &str = "20";

/// How long one `ryz014` run may take before the watchdog kills it and fails the test.
pub const RUN_LIMIT: Duration = Duration::from_secs(120);

/// The built `ryz014` binary.
pub fn ryz014_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_ryz014"))
}

fn newest_source(dir: &Path) -> Option<SystemTime> {
    let mut newest = None;
    for entry in std::fs::read_dir(dir).ok()?.flatten() {
        let path = entry.path();
        let t = if path.is_dir() {
            newest_source(&path)
        } else {
            entry.metadata().ok().and_then(|m| m.modified().ok())
        };
        newest = newest.max(t);
    }
    newest
}

/// The `ryz014-sim` binary next to `ryz014` in the target directory; built (once per test
/// process) when it is missing or older than the simulator's sources.
pub fn sim_bin() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let dir = ryz014_bin()
            .parent()
            .expect("the binary has a directory")
            .to_path_buf();
        let bin = dir.join(format!("ryz014-sim{}", std::env::consts::EXE_SUFFIX));
        let sim_src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../ryz014-sim");
        let core_src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../ryz014-core/src");
        let built = std::fs::metadata(&bin).and_then(|m| m.modified()).ok();
        let sources = newest_source(&sim_src.join("src")).max(newest_source(&core_src));
        let stale = match (built, sources) {
            (None, _) => true,
            (Some(b), Some(s)) => s > b,
            (Some(_), None) => false,
        };
        if stale {
            let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
            let status = Command::new(cargo)
                .args(["build", "-p", "ryz014-sim", "--bin", "ryz014-sim"])
                .current_dir(env!("CARGO_MANIFEST_DIR"))
                .status()
                .expect("run cargo build -p ryz014-sim");
            assert!(
                status.success() || bin.exists(),
                "cargo build -p ryz014-sim failed"
            );
        }
        assert!(bin.exists(), "{} missing", bin.display());
        bin
    })
    .clone()
}

/// A running `ryz014-sim` on a pseudo-terminal. Dropping it kills the process.
pub struct Sim {
    /// The pseudo-terminal's path (`/dev/pts/N`): the `--port` to give `ryz014`.
    pub path: String,
    child: Child,
    _stdout: BufReader<ChildStdout>,
    state_out: PathBuf,
    _dir: tempfile::TempDir,
}

impl Sim {
    /// Starts the simulator with these extra arguments (`--time-scale` [`FAST`] unless given).
    pub fn start(args: &[&str]) -> Sim {
        let dir = tempfile::tempdir().expect("temp dir");
        let state_out = dir.path().join("sim-state.json");
        let mut cmd = Command::new(sim_bin());
        if !args.contains(&"--time-scale") {
            cmd.args(["--time-scale", FAST]);
        }
        cmd.args(args)
            .arg("--state-out")
            .arg(&state_out)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let mut child = cmd.spawn().expect("start ryz014-sim");
        let mut stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
        let mut first = String::new();
        stdout
            .read_line(&mut first)
            .expect("read the simulator's first line");
        let path = first
            .trim()
            .strip_prefix("PTY ")
            .unwrap_or_else(|| panic!("ryz014-sim printed {first:?}, not `PTY <path>`"))
            .to_string();
        Sim {
            path,
            child,
            _stdout: stdout,
            state_out,
            _dir: dir,
        }
    }

    /// Starts `n` simulators, each with its own IMEI (Luhn-valid, distinct) and these arguments.
    pub fn start_many(n: usize, args: &[&str]) -> Vec<Sim> {
        (0..n)
            .map(|i| {
                let imei = imei_with_body(&format!("{:014}", 35_000_000_000_000u64 + i as u64));
                let mut a: Vec<&str> = vec!["--imei", &imei];
                a.extend_from_slice(args);
                Sim::start(&a)
            })
            .collect()
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Stops the simulator (SIGTERM) and returns the state it wrote: NV contents and the commands
    /// it received (secrets as their first 4 hex digits).
    pub fn stop(mut self) -> Value {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            assert!(Instant::now() < deadline, "ryz014-sim ignored SIGTERM");
            std::thread::sleep(Duration::from_millis(20));
        }
        let text = std::fs::read_to_string(&self.state_out).expect("the simulator's state file");
        serde_json::from_str(&text).expect("the state file is JSON")
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A Luhn-valid IMEI from its 14-digit body.
pub fn imei_with_body(body: &str) -> String {
    assert_eq!(body.len(), 14, "an IMEI body has 14 digits");
    let sum: u32 = body
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 0 {
                let x = d * 2;
                if x > 9 {
                    x - 9
                } else {
                    x
                }
            } else {
                d
            }
        })
        .sum();
    format!("{body}{}", (10 - sum % 10) % 10)
}

/// A `ryz014` command with these arguments (stdin closed, output piped).
pub fn ryz014_command(args: &[&str]) -> Command {
    let mut cmd = Command::new(ryz014_bin());
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// Runs `ryz014` to the end (at most [`RUN_LIMIT`]; a hang fails the test).
pub fn run(args: &[&str]) -> Output {
    run_limited(args, RUN_LIMIT)
}

/// Runs `ryz014`, killing it and failing the test after `limit`.
pub fn run_limited(args: &[&str], limit: Duration) -> Output {
    let child = ryz014_command(args).spawn().expect("start ryz014");
    wait_limited(child, limit, &format!("ryz014 {}", args.join(" ")))
}

/// Waits for a child with a watchdog; kills it (SIGKILL) and panics after `limit`.
pub fn wait_limited(child: Child, limit: Duration, what: &str) -> Output {
    let pid = child.id();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(limit) {
        Ok(out) => out.expect("wait for ryz014"),
        Err(_) => {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
            let out = rx.recv_timeout(Duration::from_secs(5));
            let (so, se) = match out {
                Ok(Ok(o)) => (stdout(&o), stderr(&o)),
                _ => (String::new(), String::new()),
            };
            panic!("`{what}` hung for {limit:?}; stdout:\n{so}\nstderr:\n{se}");
        }
    }
}

/// A child's output read in the background (for runs that are killed part-way).
pub struct Reader {
    buf: std::sync::Arc<Mutex<Vec<u8>>>,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl Reader {
    /// Reads `r` to its end on a thread.
    pub fn spawn(mut r: impl Read + Send + 'static) -> Reader {
        let buf = std::sync::Arc::new(Mutex::new(Vec::new()));
        let b = std::sync::Arc::clone(&buf);
        let handle = std::thread::spawn(move || {
            let mut chunk = [0u8; 4096];
            loop {
                match r.read(&mut chunk) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => b.lock().unwrap().extend_from_slice(&chunk[..n]),
                }
            }
        });
        Reader {
            buf,
            handle: Some(handle),
        }
    }

    /// What was read so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.buf.lock().unwrap()).into_owned()
    }

    /// Waits for the end of the stream and returns everything.
    pub fn finish(mut self) -> String {
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
        self.text()
    }
}

/// Standard output as text.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Standard error as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Both streams, for assertion messages.
pub fn both(o: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}--- stderr\n{}",
        o.status.code(),
        stdout(o),
        stderr(o)
    )
}

/// Every stdout line parsed as JSON (panics on a line that is not).
pub fn json_lines(o: &Output) -> Vec<Value> {
    stdout(o)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

/// The events named `name` (`"event": name`).
pub fn events<'a>(lines: &'a [Value], name: &str) -> Vec<&'a Value> {
    lines.iter().filter(|v| v["event"] == name).collect()
}

/// Asserts that `text` shows neither `secret` (64 hex digits) nor any 8+ digit piece of it,
/// nor any 64-hex-digit run at all (`secret` may be empty: only the last check).
pub fn assert_no_secret(text: &str, secret: &str) {
    let lower = text.to_ascii_lowercase();
    let secret = secret.to_ascii_lowercase();
    for start in 0..(secret.len() + 1).saturating_sub(8) {
        let piece = &secret[start..start + 8];
        assert!(
            !lower.contains(piece),
            "output shows {piece}, a piece of the secret:\n{text}"
        );
    }
    let mut run = 0;
    for b in lower.bytes() {
        run = if b.is_ascii_hexdigit() { run + 1 } else { 0 };
        assert!(run < 64, "output holds a 64-hex-digit run:\n{text}");
    }
}

/// The secrets of an inventory, via `ryz014 inventory export --format json` (the one explicit
/// way a secret leaves it): `(imei, secret hex)`.
pub fn exported_secrets(inventory: &Path) -> Vec<(String, String)> {
    let inv = inventory.to_str().expect("UTF-8 path");
    let o = run(&[
        "inventory",
        "export",
        "--format",
        "json",
        "--inventory",
        inv,
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", both(&o));
    let v: Value = serde_json::from_slice(&o.stdout).expect("export is JSON");
    v.as_array()
        .expect("an array")
        .iter()
        .map(|d| {
            let imei = find_key(d, "endpointName")
                .unwrap_or_default()
                .trim_start_matches("urn:imei:")
                .to_string();
            let secret = find_hex64(d).unwrap_or_default();
            (imei, secret)
        })
        .collect()
}

fn find_key(v: &Value, key: &str) -> Option<String> {
    match v {
        Value::Object(m) => match m.get(key).and_then(Value::as_str) {
            Some(s) => Some(s.to_string()),
            None => m.values().find_map(|x| find_key(x, key)),
        },
        Value::Array(a) => a.iter().find_map(|x| find_key(x, key)),
        _ => None,
    }
}

fn find_hex64(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()) => {
            Some(s.clone())
        }
        Value::Object(m) => m.values().find_map(find_hex64),
        Value::Array(a) => a.iter().find_map(find_hex64),
        _ => None,
    }
}

/// Every inventory record (`inventory list --json`), secrets redacted.
pub fn records(inventory: &Path) -> Vec<Value> {
    let inv = inventory.to_str().expect("UTF-8 path");
    let o = run(&["inventory", "list", "--json", "--inventory", inv]);
    assert_eq!(o.status.code(), Some(0), "{}", both(&o));
    json_lines(&o)
        .into_iter()
        .filter(|v| v["event"] == "record")
        .collect()
}

/// The path of the shipped default profile.
pub fn default_profile() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../profiles/coiote-standard.toml")
}

/// The `info` event of `ryz014 info --json -p PORT`, read again (up to 5 times) while its
/// `errors` list holds anything but the refusal of `AT+SQNDMST` (refused while the modem is not
/// registered, which says nothing of the reads before it): a read spoiled by the modem's faults
/// (a reset or a garbled line in the middle of `info`) says nothing about what the modem holds.
pub fn clean_info(port: &str) -> Value {
    for _ in 0..5 {
        let o = run(&["info", "--json", "-p", port]);
        assert_eq!(o.status.code(), Some(0), "info: {}", both(&o));
        let v = json_lines(&o)
            .into_iter()
            .find(|v| v["event"] == "info")
            .expect("an info event");
        let clean = v["errors"].as_array().is_none_or(|e| {
            e.iter()
                .all(|e| e.as_str().is_some_and(|e| e.contains("`AT+SQNDMST`")))
        });
        if clean {
            return v;
        }
    }
    panic!("info on {port} kept reading with errors");
}

/// The PSK entries of an `info` event's DM configuration.
pub fn psk_lines(info: &Value) -> impl Iterator<Item = &Value> {
    info["dm_config"]
        .as_array()
        .expect("dm_config")
        .iter()
        .filter(|l| l["group"] == "psk")
}

/// The secret prefixes (lower case) of the PSK entries the modem on `port` holds.
pub fn held_prefixes(port: &str) -> Vec<String> {
    psk_lines(&clean_info(port))
        .map(|l| l["secret_prefix"].as_str().unwrap().to_ascii_lowercase())
        .collect()
}

/// `ryz014 provision --json --profile P --inventory INV --station S -p …` for every port.
pub fn station_provision_args<'a>(
    inventory: &'a str,
    profile: &'a str,
    station: &'a str,
    ports: &'a [String],
) -> Vec<&'a str> {
    let mut a = vec![
        "provision",
        "--json",
        "--profile",
        profile,
        "--inventory",
        inventory,
        "--station",
        station,
    ];
    for p in ports {
        a.extend(["-p", p.as_str()]);
    }
    a
}
