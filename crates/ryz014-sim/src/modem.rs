//! The pure, deterministic state machine of the simulated modem: no I/O, no real time.
//!
//! The host side feeds bytes with [`Modem::receive`] and collects what the modem sends with
//! [`Modem::take_output`]; [`Modem::advance`] runs everything due by a virtual time and
//! [`Modem::next_deadline`] tells when something will happen next. The same inputs at the same
//! virtual times always give the same bytes.
//!
//! This file holds the line discipline, the event queue, power, boot and network attach; the
//! AT commands are in `commands.rs`, the LwM2M client in `lwm2m.rs`, FOTA and `AT+SQNSUPGRADE`
//! in `fota.rs`.

use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

use crate::at::{name_matches, tokenize, Arg, Form, SyntaxError};
use crate::config::{ConfigError, SimConfig};
use crate::fault::Fault;
use crate::fota::{FotaEvent, FotaRt, UpEvent, UpgradeRt};
use crate::lwm2m::{LwEvent, Lwm2m};
use crate::nv::{CommandRecord, DmProfile, InstallJob, NvState, Settings, Snapshot};
use crate::server::{FirmwareImage, Server, ServerError};

/// Longest command line kept; longer lines are discarded whole.
pub const MAX_LINE: usize = 2048;

/// Power state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Power {
    /// Up: commands are answered.
    On,
    /// Rebooting or installing: input is lost.
    Down,
    /// No power (power-loss fault): input is lost until power returns.
    Off,
    /// After `AT+SQNSSHDN`: off until [`Modem::power_on`].
    ShutDown,
}

/// Network registration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Net {
    /// Not registered, not searching (`stat` 0).
    Detached,
    /// Searching (`stat` 2).
    Searching,
    /// Registered on the home network (`stat` 1).
    Attached,
}

/// The level a boot ends in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BootLevel {
    /// 1 with autoconnect, else 0 (`AT^RESET`, power-up, unexpected reset).
    Auto,
    /// A given level (`AT+CFUN=<n>,1`, after an installation).
    Level(u8),
}

/// A command's final result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Fin {
    Ok,
    Error,
    Cme(u16),
    /// Answered later (a blocking command).
    Pending,
}

/// What happens after a final result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum After {
    Nothing,
    /// `+SHUTDOWN`, then a boot.
    Reboot(BootLevel),
    /// `+SHUTDOWN`, then off until powered on.
    PowerDown,
    /// Go down to install (blocking `AT+SQNSUPGRADE`).
    Install(InstallJob),
}

/// A command's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Reply {
    pub lines: Vec<String>,
    pub fin: Fin,
    pub after: After,
}

impl Reply {
    pub fn ok() -> Self {
        Reply::lines(Vec::new())
    }
    pub fn lines(lines: Vec<String>) -> Self {
        Reply {
            lines,
            fin: Fin::Ok,
            after: After::Nothing,
        }
    }
    pub fn cme(code: u16) -> Self {
        Reply {
            lines: Vec::new(),
            fin: Fin::Cme(code),
            after: After::Nothing,
        }
    }
    pub fn error() -> Self {
        Reply {
            lines: Vec::new(),
            fin: Fin::Error,
            after: After::Nothing,
        }
    }
}

/// `+CME ERROR` codes used by the simulator.
pub(crate) mod cme {
    pub const NOT_ALLOWED: u16 = 3;
    pub const NOT_SUPPORTED: u16 = 4;
    pub const INCORRECT_PARAMETERS: u16 = 50;
    pub const UPGRADE_CORRUPTED: u16 = 529;
    pub const UPGRADE_NETWORK: u16 = 531;
    pub const UPGRADE_IN_PROGRESS: u16 = 532;
    pub const UPGRADE_NOTHING_TO_CANCEL: u16 = 533;
}

/// The verbose text of a `+CME ERROR` code (`AT+CMEE=2`). 528..533 are the Monarch 2 upgrade
/// codes (`docs/at-interface-decisions.md`, "Device-initiated upgrade"); their wording here is the
/// simulator's.
pub fn cme_text(code: u16) -> &'static str {
    match code {
        0 => "phone failure",
        1 => "no connection to phone",
        3 => "operation not allowed",
        4 => "operation not supported",
        10 => "SIM not inserted",
        30 => "no network service",
        50 => "incorrect parameters",
        100 => "unknown",
        528 => "upgrade general error",
        529 => "upgrade corrupted image",
        530 => "upgrade invalid signature",
        531 => "upgrade network error",
        532 => "upgrade already in progress",
        533 => "upgrade cancel failed - no upgrade in progress",
        _ => "unknown",
    }
}

/// Something scheduled in virtual time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Event {
    /// The boot ends: `+SYSSTART`.
    BootDone(BootLevel),
    /// The installation ends: the modem boots into the new firmware (or fails to).
    InstallDone,
    /// Power returns after a power loss.
    PowerOn,
    /// `+CEREG: 2`.
    Searching,
    /// `+CEREG: 1,...`.
    Attached,
    /// A delayed final result (fault `urc-between-lines`).
    FinalDue,
    /// Fault `reset-at`.
    FaultReset,
    /// Fault `crash-at`.
    FaultCrash,
    /// A server action planned in virtual time (e.g. `--schedule-fota`).
    Schedule {
        endpoint: String,
        image: FirmwareImage,
    },
    /// Power lost (faults `power-loss-*`).
    PowerLoss,
    /// The LwM2M client.
    Lw(LwEvent),
    /// The FOTA client.
    Fota(FotaEvent),
    /// `AT+SQNSUPGRADE`.
    Upgrade(UpEvent),
}

impl Event {
    /// Events that need the network (cancelled by a detach).
    fn needs_network(&self) -> bool {
        matches!(
            self,
            Event::Searching | Event::Attached | Event::Lw(_) | Event::Fota(_) | Event::Upgrade(_)
        )
    }

    /// Events that survive a reboot or power loss (planned from outside the modem).
    fn survives_reboot(&self) -> bool {
        matches!(
            self,
            Event::FaultReset | Event::FaultCrash | Event::Schedule { .. }
        )
    }
}

/// A command waiting for its final result; new commands queue meanwhile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Busy {
    DelayedFinal { fin: Fin, after: After },
    Blocking,
}

/// The settings and profiles that apply since the last boot.
#[derive(Debug, Clone)]
pub(crate) struct Active {
    pub dm: BTreeMap<String, DmProfile>,
    pub settings: Settings,
}

/// Result of an installation, reported after the boot that follows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Outcome {
    pub job: InstallJob,
    pub reported: bool,
}

/// The simulated RYZ014. See the module documentation.
#[derive(Debug)]
pub struct Modem {
    pub(crate) cfg: SimConfig,
    pub(crate) server: Server,
    pub(crate) nv: NvState,
    pub(crate) now: Duration,
    seq: u64,
    events: BTreeMap<(Duration, u64), Event>,
    pub(crate) power: Power,
    pub(crate) echo: bool,
    pub(crate) cmee: u8,
    pub(crate) cereg_mode: u8,
    pub(crate) cfun: u8,
    pub(crate) net: Net,
    pub(crate) active: Active,
    pub(crate) lwm2m: Option<Lwm2m>,
    pub(crate) fota: FotaRt,
    pub(crate) upgrade: UpgradeRt,
    pub(crate) install_ends_at: Option<Duration>,
    pub(crate) outcome: Option<Outcome>,
    line: Vec<u8>,
    line_overflow: bool,
    queued: VecDeque<String>,
    busy: Option<Busy>,
    out: VecDeque<(Duration, u8)>,
    out_free_at: Duration,
    lines_out: u64,
    rng: u64,
    commands: Vec<CommandRecord>,
    command_count: u32,
    pub(crate) fired: Vec<bool>,
    dropped_input: u64,
}

impl Modem {
    /// A modem with factory NV state, up at time zero (or booting, per
    /// [`SimConfig::boot_at_start`]).
    pub fn new(config: SimConfig) -> Result<Self, ConfigError> {
        config.validate()?;
        let mut settings = Settings::factory(config.autoconnect);
        let mut nv = NvState {
            dm: BTreeMap::new(),
            settings: settings.clone(),
            restoration: None,
            firmware: config.firmware.clone(),
            pending_install: None,
        };
        if let Some(p) = &config.provisioned {
            nv.dm.insert(
                p.profile.clone(),
                DmProfile {
                    autostart: 1,
                    servers: vec![crate::nv::ServerEntry {
                        server_id: p.server_id,
                        lifetime: Some(p.hold_off),
                        url: p.bootstrap_url.clone(),
                        cid: Some(1),
                        role: ryz014_core::message::ServerRole::Bs,
                    }],
                    psks: vec![crate::nv::PskEntry {
                        server_id: p.server_id,
                        identity: p.psk_identity.clone(),
                        secret: crate::nv::Secret::new(p.psk_secret.clone()),
                    }],
                    accounts: Vec::new(),
                },
            );
            settings.autoconnect = true;
            nv.restoration = Some(crate::nv::RestorationPoint {
                tag: "oem".into(),
                settings: settings.clone(),
            });
            settings.fota = p.fota.clone();
            nv.settings = settings.clone();
        }
        let mut m = Modem {
            server: Server::new(config.server.clone()),
            active: Active {
                dm: nv.dm.clone(),
                settings: settings.clone(),
            },
            nv,
            now: Duration::ZERO,
            seq: 0,
            events: BTreeMap::new(),
            power: Power::On,
            echo: config.echo,
            cmee: config.cmee,
            cereg_mode: config.cereg_mode,
            cfun: u8::from(settings.autoconnect),
            net: Net::Detached,
            lwm2m: None,
            fota: FotaRt::default(),
            upgrade: UpgradeRt::default(),
            install_ends_at: None,
            outcome: None,
            line: Vec::new(),
            line_overflow: false,
            queued: VecDeque::new(),
            busy: None,
            out: VecDeque::new(),
            out_free_at: Duration::ZERO,
            lines_out: 0,
            rng: config.seed ^ 0x9E37_79B9_7F4A_7C15,
            commands: Vec::new(),
            command_count: 0,
            fired: vec![false; config.faults.len()],
            dropped_input: 0,
            cfg: config,
        };
        for f in m.cfg.faults.clone() {
            if let Fault::ResetAt { at } = f {
                m.schedule_at(at, Event::FaultReset);
            }
            if let Fault::CrashAt { at } = f {
                m.schedule_at(at, Event::FaultCrash);
            }
        }
        if m.cfg.boot_at_start {
            m.power = Power::Down;
            let boot = m.cfg.timings.boot;
            m.schedule(boot, Event::BootDone(BootLevel::Auto));
        } else if m.cfun == 1 {
            m.start_attach();
        }
        Ok(m)
    }

    // ------------------------------------------------------------------ host interface

    /// Bytes from the host arrive at virtual time `now` (processes everything due first).
    pub fn receive(&mut self, now: Duration, bytes: &[u8]) {
        self.advance(now);
        for &b in bytes {
            if self.power != Power::On {
                self.dropped_input += 1;
                continue;
            }
            if self.echo {
                if self.line.is_empty()
                    && !matches!(b, b'\r' | b'\n')
                    && self.cfg.faults.contains(&Fault::EchoNoise)
                {
                    self.push_bytes(&[0xFF]);
                }
                self.push_bytes(&[b]);
            }
            match b {
                b'\r' => {
                    let line = std::mem::take(&mut self.line);
                    let overflow = std::mem::replace(&mut self.line_overflow, false);
                    if !overflow {
                        self.on_line(String::from_utf8_lossy(&line).into_owned());
                    }
                }
                // `\n` after `\r` (or alone) carries no meaning: `\r` ends a command.
                b'\n' => {}
                0x08 | 0x7f => {
                    self.line.pop();
                }
                _ => {
                    if self.line.len() < MAX_LINE {
                        self.line.push(b);
                    } else {
                        self.line_overflow = true;
                    }
                }
            }
        }
    }

    /// Runs every internal event due by `now`, in order. Time never goes backwards.
    pub fn advance(&mut self, now: Duration) {
        let target = now.max(self.now);
        while let Some(entry) = self.events.first_entry() {
            if entry.key().0 > target {
                break;
            }
            let ((t, _), ev) = entry.remove_entry();
            self.now = self.now.max(t);
            self.handle(ev);
        }
        self.now = target;
    }

    /// The bytes the modem has sent by the current virtual time (output pacing applies).
    pub fn take_output(&mut self) -> Vec<u8> {
        let mut v = Vec::new();
        while let Some(&(t, b)) = self.out.front() {
            if t > self.now {
                break;
            }
            v.push(b);
            self.out.pop_front();
        }
        v
    }

    /// The virtual time of the next internal event or of the next paced output byte.
    pub fn next_deadline(&self) -> Option<Duration> {
        let ev = self.events.keys().next().map(|k| k.0);
        let out = self.out.front().map(|o| o.0).filter(|t| *t > self.now);
        match (ev, out) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The current virtual time.
    pub fn now(&self) -> Duration {
        self.now
    }

    /// The LwM2M endpoint name, `urn:imei:<IMEI>`.
    pub fn endpoint(&self) -> String {
        self.cfg.endpoint()
    }

    /// The running firmware version.
    pub fn firmware(&self) -> &str {
        &self.nv.firmware
    }

    /// The configuration the modem was built from.
    pub fn config(&self) -> &SimConfig {
        &self.cfg
    }

    /// Whether the modem is up and answering commands.
    pub fn is_up(&self) -> bool {
        self.power == Power::On
    }

    /// The NV state and the commands received so far (secrets redacted).
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            imei: self.cfg.imei.clone(),
            firmware: self.nv.firmware.clone(),
            dm_profiles: self.nv.profile_views(),
            settings: self.nv.settings.clone(),
            restoration_point: self.nv.restoration.clone(),
            pending_install: self.nv.pending_install.clone(),
            commands: self.commands.clone(),
            dropped_input_bytes: self.dropped_input,
            at_ms: duration_ms(self.now),
            cfun: self.cfun,
            cmee: self.cmee,
        }
    }

    // ------------------------------------------------------------------ server side and bench

    /// The server side (read).
    pub fn server(&self) -> &Server {
        &self.server
    }

    /// The server side (register devices, schedule firmware, serve URLs).
    pub fn server_mut(&mut self) -> &mut Server {
        &mut self.server
    }

    /// Plans a firmware schedule on the server at a virtual time (e.g. `--schedule-fota`).
    pub fn schedule_firmware_at(&mut self, at: Duration, endpoint: &str, image: FirmwareImage) {
        self.schedule_at(
            at,
            Event::Schedule {
                endpoint: endpoint.to_string(),
                image,
            },
        );
    }

    /// A network-initiated query (note §4.5.1.2): the server asks the device's FOTA client to
    /// check for an image now. The device must be registered and its FOTA client idle.
    pub fn network_query(&mut self, now: Duration, endpoint: &str) -> Result<(), ServerError> {
        self.advance(now);
        if endpoint != self.endpoint() {
            return Err(ServerError::UnknownDevice(endpoint.to_string()));
        }
        if !self.lwm2m.as_ref().is_some_and(Lwm2m::registered) {
            return Err(ServerError::NotRegistered(endpoint.to_string()));
        }
        self.fota_network_query()
            .map_err(|()| ServerError::Busy(endpoint.to_string()))
    }

    /// Pulls the plug at `now` for `off`, then powers up again (a bench action).
    pub fn power_cycle(&mut self, now: Duration, off: Duration) {
        self.advance(now);
        self.power_loss_for(off);
    }

    /// Powers the modem up after `AT+SQNSSHDN` (the RESETN line on a board).
    pub fn power_on(&mut self, now: Duration) {
        self.advance(now);
        if self.power == Power::ShutDown {
            self.power = Power::Down;
            let boot = self.cfg.timings.boot;
            self.schedule(boot, Event::BootDone(BootLevel::Auto));
        }
    }

    // ------------------------------------------------------------------ scheduling

    pub(crate) fn schedule(&mut self, delay: Duration, ev: Event) {
        let at = self.now.saturating_add(delay);
        self.schedule_at(at, ev);
    }

    pub(crate) fn schedule_at(&mut self, at: Duration, ev: Event) {
        self.seq += 1;
        self.events.insert((at, self.seq), ev);
    }

    pub(crate) fn cancel(&mut self, pred: impl Fn(&Event) -> bool) {
        self.events.retain(|_, e| !pred(e));
    }

    fn handle(&mut self, ev: Event) {
        match ev {
            Event::BootDone(level) => self.boot_done(level),
            Event::InstallDone => self.install_done(),
            Event::PowerOn => {
                if self.power == Power::Off {
                    self.power = Power::Down;
                    let boot = self.cfg.timings.boot;
                    self.schedule(boot, Event::BootDone(BootLevel::Auto));
                }
            }
            Event::Searching => {
                self.net = Net::Searching;
                self.cereg_urc();
                self.report_outcome();
                let attach = self.cfg.timings.attach;
                self.schedule(attach, Event::Attached);
            }
            Event::Attached => {
                self.net = Net::Attached;
                self.cereg_urc();
                self.start_lwm2m();
            }
            Event::FinalDue => {
                if let Some(Busy::DelayedFinal { fin, after }) = self.busy.take() {
                    self.finish(fin, after);
                }
            }
            Event::FaultReset => self.sudden_reset(),
            Event::FaultCrash => {
                if self.power == Power::On {
                    self.push_line("^EXIT: exception: data abort at 0x0004f2a8");
                    self.sudden_reset();
                }
            }
            Event::Schedule { endpoint, image } => {
                // A plan from outside: ignore a refusal (unknown device) as a user would see it.
                let _ = self.server.schedule_firmware(&endpoint, image);
            }
            Event::PowerLoss => {
                let off = self.cfg.timings.power_off;
                self.power_loss_for(off);
            }
            Event::Lw(e) => self.lw_event(e),
            Event::Fota(e) => self.fota_event(e),
            Event::Upgrade(e) => self.upgrade_event(e),
        }
    }

    // ------------------------------------------------------------------ output

    fn next_random(&mut self) -> u64 {
        // splitmix64: tiny, seeded, identical on every platform.
        self.rng = self.rng.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn push_bytes(&mut self, bytes: &[u8]) {
        let drop_rate = self.cfg.faults.iter().find_map(|f| match f {
            Fault::DropBytes { rate } => Some(*rate),
            _ => None,
        });
        let byte_time = self.cfg.faults.iter().find_map(|f| match f {
            Fault::SlowOutput { baud } => Some(Duration::from_nanos(
                10_000_000_000 / u64::from((*baud).max(1)),
            )),
            _ => None,
        });
        for &b in bytes {
            if let Some(rate) = drop_rate {
                // 53 random bits give a uniform float in [0, 1).
                let r = (self.next_random() >> 11) as f64 / (1u64 << 53) as f64;
                if r < rate {
                    continue;
                }
            }
            let t = match byte_time {
                Some(bt) => {
                    let t = self.now.max(self.out_free_at) + bt;
                    self.out_free_at = t;
                    t
                }
                None => self.now,
            };
            self.out.push_back((t, b));
        }
    }

    /// Sends one framed line, `\r\n<line>\r\n` (or `\r<line>\r` with the `lone-cr` fault).
    pub(crate) fn push_line(&mut self, line: &str) {
        self.lines_out += 1;
        let garbage_every = self.cfg.faults.iter().find_map(|f| match f {
            Fault::Garbage { every } => Some(u64::from(*every)),
            _ => None,
        });
        if let Some(every) = garbage_every {
            if self.lines_out.is_multiple_of(every.max(1)) {
                const NOISE: [u8; 6] = [0x00, 0xFF, 0xFE, b'~', b'#', 0x7F];
                let n = 1 + (self.next_random() % 4) as usize;
                let mut g = Vec::with_capacity(n);
                for _ in 0..n {
                    g.push(NOISE[(self.next_random() % NOISE.len() as u64) as usize]);
                }
                self.push_bytes(&g);
            }
        }
        let lone_cr = self.cfg.faults.iter().any(|f| matches!(f, Fault::LoneCr));
        let eol: &[u8] = if lone_cr { b"\r" } else { b"\r\n" };
        let mut frame = Vec::with_capacity(line.len() + 4);
        frame.extend_from_slice(eol);
        frame.extend_from_slice(line.as_bytes());
        frame.extend_from_slice(eol);
        self.push_bytes(&frame);
    }

    // ------------------------------------------------------------------ commands

    fn on_line(&mut self, line: String) {
        let line = line.trim().to_string();
        if !line.get(..2).is_some_and(|p| p.eq_ignore_ascii_case("AT")) {
            // Modems ignore anything that does not start with AT.
            return;
        }
        if self.busy.is_some() {
            self.queued.push_back(line);
        } else {
            self.execute(&line);
        }
    }

    fn record(&mut self, line: &str) {
        let shown = redact_command(line);
        self.commands.push(CommandRecord {
            at_ms: duration_ms(self.now),
            line: shown,
        });
    }

    fn execute(&mut self, line: &str) {
        self.record(line);
        self.command_count += 1;
        for i in 0..self.cfg.faults.len() {
            if let Fault::ResetAfterCommands { count } = self.cfg.faults[i] {
                if !self.fired[i] && self.command_count >= count {
                    self.fired[i] = true;
                    self.sudden_reset();
                    return;
                }
            }
        }
        let cmd = match tokenize(line) {
            Ok(c) => c,
            Err(SyntaxError::NotAt) => return,
            Err(SyntaxError::BadSuffix) => return self.respond(Reply::cme(cme::NOT_SUPPORTED)),
            Err(_) => return self.respond(Reply::cme(cme::INCORRECT_PARAMETERS)),
        };
        let mut forced = None;
        for i in 0..self.cfg.faults.len() {
            if let Fault::Crash { command } = &self.cfg.faults[i] {
                if !self.fired[i] && name_matches(command, &cmd) {
                    self.fired[i] = true;
                    // A crash report (seen in public logs of Sequans Monarch modules), then the
                    // module restarts on its own: no answer, no `+SHUTDOWN`.
                    self.push_line("^EXIT: lte_main.c@1102");
                    self.sudden_reset();
                    return;
                }
            }
        }
        for f in &self.cfg.faults {
            match f {
                Fault::NoAnswer { command } if name_matches(command, &cmd) => return,
                Fault::CmeError { command, code } if name_matches(command, &cmd) => {
                    forced = Some(*code);
                    break;
                }
                _ => {}
            }
        }
        let reply = match forced {
            Some(code) => Reply::cme(code),
            None => self.dispatch(&cmd),
        };
        self.respond(reply);
    }

    fn respond(&mut self, reply: Reply) {
        let Reply { lines, fin, after } = reply;
        for l in &lines {
            self.push_line(l);
        }
        match fin {
            Fin::Pending => self.busy = Some(Busy::Blocking),
            fin => {
                let delay = self.cfg.faults.iter().find_map(|f| match f {
                    Fault::UrcBetweenLines { delay } => Some(*delay),
                    _ => None,
                });
                match delay {
                    Some(delay) if !lines.is_empty() => {
                        let urc = self.cereg_line(false);
                        self.push_line(&urc);
                        self.busy = Some(Busy::DelayedFinal { fin, after });
                        self.schedule(delay, Event::FinalDue);
                    }
                    _ => self.finish(fin, after),
                }
            }
        }
    }

    /// Sends a final result, runs what follows it, then the queued commands.
    pub(crate) fn finish(&mut self, fin: Fin, after: After) {
        self.busy = None;
        let text = match fin {
            Fin::Ok => Some("OK".to_string()),
            Fin::Error => Some("ERROR".to_string()),
            Fin::Cme(code) => Some(self.cme_line(code)),
            Fin::Pending => None,
        };
        if let Some(t) = text {
            self.push_line(&t);
        }
        match after {
            After::Nothing => {}
            After::Reboot(level) => {
                if self.cfg.faults.contains(&Fault::StaleCereg) {
                    self.push_line("+CEREG: 1");
                }
                self.push_line("+SHUTDOWN");
                self.start_boot(level);
            }
            After::PowerDown => {
                self.push_line("+SHUTDOWN");
                self.clear_for_reboot();
                self.power = Power::ShutDown;
            }
            After::Install(job) => self.go_down_for_install(job),
        }
        while self.busy.is_none() && self.power == Power::On {
            let Some(l) = self.queued.pop_front() else {
                break;
            };
            self.execute(&l);
        }
        if self.power != Power::On {
            self.queued.clear();
        }
    }

    fn cme_line(&self, code: u16) -> String {
        match self.cmee {
            0 => "ERROR".into(),
            1 => format!("+CME ERROR: {code}"),
            _ => format!("+CME ERROR: {}", cme_text(code)),
        }
    }

    // ------------------------------------------------------------------ power and boot

    /// Everything volatile is lost (reboot or power loss); planned external events stay.
    fn clear_for_reboot(&mut self) {
        self.events.retain(|_, e| e.survives_reboot());
        if self.lwm2m.take().is_some() {
            let ep = self.endpoint();
            let fw = self.nv.firmware.clone();
            self.server.set_registered(&ep, false, &fw);
        }
        self.net = Net::Detached;
        self.fota_lost();
        self.upgrade_lost();
        self.busy = None;
        self.queued.clear();
        self.line.clear();
        self.line_overflow = false;
        self.install_ends_at = None;
    }

    /// A reboot: down now, `+SYSSTART` after the boot delay.
    pub(crate) fn start_boot(&mut self, level: BootLevel) {
        self.clear_for_reboot();
        self.power = Power::Down;
        let boot = self.cfg.timings.boot;
        self.schedule(boot, Event::BootDone(level));
    }

    /// An unexpected reset: no answer, no `+SHUTDOWN`.
    fn sudden_reset(&mut self) {
        if self.power == Power::On {
            self.start_boot(BootLevel::Auto);
        }
    }

    fn auto_level(&self) -> u8 {
        if self.nv.settings.autoconnect {
            1
        } else {
            0
        }
    }

    /// Power lost now, back after `off`. An installation under way resumes at power-up.
    pub(crate) fn power_loss_for(&mut self, off: Duration) {
        if matches!(self.power, Power::Off | Power::ShutDown) {
            return;
        }
        if let (Some(end), Some(job)) = (self.install_ends_at, self.nv.pending_install.as_mut()) {
            job.remaining = end.saturating_sub(self.now);
        }
        let level = self.auto_level();
        if let Some(job) = self.nv.pending_install.as_mut() {
            job.level_after = level;
        }
        self.clear_for_reboot();
        self.power = Power::Off;
        self.schedule(off, Event::PowerOn);
    }

    fn boot_done(&mut self, level: BootLevel) {
        self.power = Power::On;
        self.push_line("+SYSSTART");
        self.active = Active {
            dm: self.nv.dm.clone(),
            settings: self.nv.settings.clone(),
        };
        self.echo = self.cfg.echo;
        self.cmee = self.cfg.cmee;
        self.cereg_mode = self.cfg.cereg_mode;
        self.cfun = match level {
            BootLevel::Auto => self.auto_level(),
            BootLevel::Level(l) => l,
        };
        if let Some(job) = self.nv.pending_install.clone() {
            // Power came back during an installation: it resumes (note §5), with another reset.
            if job.source == crate::nv::InstallSource::Fota {
                self.fota_urc("7");
            }
            self.go_down_for_install(job);
            return;
        }
        if let Some(o) = &self.outcome {
            if !o.job.image.good {
                self.report_outcome();
            }
        }
        if self.cfun == 1 {
            self.start_attach();
        } else {
            self.report_outcome();
        }
    }

    /// Down for an installation (input lost), `+SYSSTART` when done.
    pub(crate) fn go_down_for_install(&mut self, job: InstallJob) {
        self.clear_for_reboot();
        self.power = Power::Down;
        let remaining = job.remaining;
        self.nv.pending_install = Some(job);
        self.install_ends_at = Some(self.now.saturating_add(remaining));
        self.schedule(remaining, Event::InstallDone);
        if let Some(i) = self
            .cfg
            .faults
            .iter()
            .position(|f| matches!(f, Fault::PowerLossDuringInstall))
        {
            if !self.fired[i] {
                self.fired[i] = true;
                self.schedule(remaining / 2, Event::PowerLoss);
            }
        }
    }

    fn install_done(&mut self) {
        self.install_ends_at = None;
        let Some(job) = self.nv.pending_install.take() else {
            return;
        };
        if job.image.good {
            self.nv.firmware = job.image.version.clone();
        }
        self.install_finished(&job);
        let level = job.level_after;
        self.outcome = Some(Outcome {
            job,
            reported: false,
        });
        self.boot_done(BootLevel::Level(level));
    }

    // ------------------------------------------------------------------ network

    pub(crate) fn start_attach(&mut self) {
        if self.net == Net::Detached
            && !self
                .events
                .values()
                .any(|e| matches!(e, Event::Searching | Event::Attached))
        {
            let d = self.cfg.timings.search;
            self.schedule(d, Event::Searching);
        }
    }

    /// Leaves full functionality: the network, the LwM2M client and downloads stop.
    pub(crate) fn detach(&mut self) {
        let was = self.net;
        self.cancel(Event::needs_network);
        self.net = Net::Detached;
        if self.lwm2m.take().is_some() {
            let ep = self.endpoint();
            let fw = self.nv.firmware.clone();
            self.server.set_registered(&ep, false, &fw);
        }
        self.fota_lost();
        if let Some(reply) = self.upgrade_detached() {
            self.finish(reply.fin, reply.after);
        }
        if was != Net::Detached {
            self.cereg_urc();
        }
    }

    pub(crate) fn cereg_stat(&self) -> u8 {
        match self.net {
            Net::Detached => 0,
            Net::Searching => 2,
            Net::Attached => 1,
        }
    }

    /// The `+CEREG` URC for the current state (`force`: whatever the reporting mode).
    pub(crate) fn cereg_line(&self, with_mode: bool) -> String {
        let stat = self.cereg_stat();
        let mut s = if with_mode {
            format!("+CEREG: {},{stat}", self.cereg_mode)
        } else {
            format!("+CEREG: {stat}")
        };
        if (self.cereg_mode >= 2 || !with_mode) && stat == 1 {
            let n = &self.cfg.network;
            s.push_str(&format!(",\"{}\",\"{}\",{}", n.tac, n.cell_id, n.act));
        }
        s
    }

    fn cereg_urc(&mut self) {
        match self.cereg_mode {
            0 => {}
            1 => {
                let s = format!("+CEREG: {}", self.cereg_stat());
                self.push_line(&s);
            }
            _ => {
                let s = self.cereg_line(false);
                self.push_line(&s);
            }
        }
    }
}

pub(crate) fn duration_ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// The command as logged: a PSK secret is cut to its first four hex digits.
pub fn redact_command(line: &str) -> String {
    if let Ok(cmd) = tokenize(line) {
        if cmd.name == "+SQNDMCFG" {
            if let Form::Set(args) = &cmd.form {
                let is_psk = args
                    .get(1)
                    .and_then(Arg::text)
                    .is_some_and(|g| g.eq_ignore_ascii_case("psk"));
                if is_psk && args.len() >= 4 {
                    // The secret is the 5th argument; a malformed line may carry it elsewhere,
                    // so every argument after the identity's position is cut, and the identity
                    // too when the line is too short to be sure which is which.
                    let first = if args.len() == 5 { 4 } else { 3 };
                    let mut args = args.clone();
                    for a in args.iter_mut().skip(first) {
                        if let Some(t) = a.text().filter(|t| !t.is_empty()) {
                            let prefix: String = t.chars().take(4).collect();
                            *a = Arg::Quoted(format!("{prefix}…"));
                        }
                    }
                    return crate::at::AtCommand {
                        name: cmd.name,
                        form: Form::Set(args),
                    }
                    .to_string();
                }
            }
        }
    } else if line.to_ascii_uppercase().contains("PSK") {
        // Unparseable but PSK-ish: keep only the command name.
        return line.chars().take(12).collect::<String>() + "…";
    }
    line.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_psk_secrets_in_the_command_log() {
        let l = r#"AT+SQNDMCFG="standard","psk",100,"urn:imei:015770000031766","87493467538357""#;
        let r = redact_command(l);
        assert_eq!(
            r,
            r#"AT+SQNDMCFG="standard","psk",100,"urn:imei:015770000031766","8749…""#
        );
        assert_eq!(redact_command("AT+CGSN"), "AT+CGSN");
        assert!(
            !redact_command(r#"AT+SQNDMCFG="x","psk",1,"a","87493467538357"#).contains("67538357")
        );
    }
}
