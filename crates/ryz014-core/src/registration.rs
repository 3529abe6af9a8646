//! The registration model: LwM2M server status from `AT+SQNDMST` lines (note §6.3), explained in
//! words the way the note's §6.3.3 explains its examples, and the EPS network registration of
//! `+CEREG` in words.

use serde::Serialize;

use crate::message::{DmStatusLine, Message, Registration, ServerRole};

/// A bootstrap server's status (`<bs Status>`, note §6.3.2).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BsStatus {
    /// `BS_HOLD_OFF`: waiting for the hold-off timer to expire before the bootstrap starts.
    HoldOff,
    /// `BS_INITIATED`: bootstrap request sent to the server.
    Initiated,
    /// `BS_FAILING`: bootstrap error.
    Failing,
    /// `BS_FAILED`: bootstrap failed.
    Failed,
    /// `BS_FINISHED`: bootstrap complete.
    Finished,
    /// Any other status, verbatim.
    Other(String),
}

impl BsStatus {
    /// Decodes a status string (case-insensitive, surrounding quotes and spaces ignored).
    pub fn parse(s: &str) -> BsStatus {
        let t = s.trim().trim_matches('"').trim();
        match t.to_ascii_uppercase().as_str() {
            "BS_HOLD_OFF" => BsStatus::HoldOff,
            "BS_INITIATED" => BsStatus::Initiated,
            "BS_FAILING" => BsStatus::Failing,
            "BS_FAILED" => BsStatus::Failed,
            "BS_FINISHED" => BsStatus::Finished,
            _ => BsStatus::Other(t.to_string()),
        }
    }

    /// The status as the modem spells it.
    pub fn as_str(&self) -> &str {
        match self {
            BsStatus::HoldOff => "BS_HOLD_OFF",
            BsStatus::Initiated => "BS_INITIATED",
            BsStatus::Failing => "BS_FAILING",
            BsStatus::Failed => "BS_FAILED",
            BsStatus::Finished => "BS_FINISHED",
            BsStatus::Other(s) => s,
        }
    }

    /// The note's meaning of the status (§6.3.2).
    pub fn meaning(&self) -> String {
        match self {
            BsStatus::HoldOff => {
                "Waiting for the hold-off timer to expire before starting the bootstrap process"
                    .into()
            }
            BsStatus::Initiated => "Bootstrap request message sent to the server".into(),
            BsStatus::Failing => "Bootstrap error".into(),
            BsStatus::Failed => "Bootstrap failed".into(),
            BsStatus::Finished => "Bootstrap is complete".into(),
            BsStatus::Other(s) => format!("Bootstrap status {s} (not documented)"),
        }
    }
}

/// A device-management server's status (`<dm Status>`, note §6.3.2).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DmStatus {
    /// `DEREGISTERED`: not registered.
    Deregistered,
    /// `REG_PENDING`: registration pending.
    RegPending,
    /// `REGISTERED`: successfully registered.
    Registered,
    /// `REG_FAILED`: the last registration failed.
    RegFailed,
    /// `REG_UPDATE_PENDING`: registration update pending.
    RegUpdatePending,
    /// `REG_UPDATE_NEEDED`: registration update required.
    RegUpdateNeeded,
    /// `DEREG_PENDING`: de-registration pending.
    DeregPending,
    /// `REG_NEEDED`: new registration required.
    RegNeeded,
    /// Any other status, verbatim.
    Other(String),
}

impl DmStatus {
    /// Decodes a status string (case-insensitive, surrounding quotes and spaces ignored).
    pub fn parse(s: &str) -> DmStatus {
        let t = s.trim().trim_matches('"').trim();
        match t.to_ascii_uppercase().as_str() {
            "DEREGISTERED" => DmStatus::Deregistered,
            "REG_PENDING" => DmStatus::RegPending,
            "REGISTERED" => DmStatus::Registered,
            "REG_FAILED" => DmStatus::RegFailed,
            "REG_UPDATE_PENDING" => DmStatus::RegUpdatePending,
            "REG_UPDATE_NEEDED" => DmStatus::RegUpdateNeeded,
            "DEREG_PENDING" => DmStatus::DeregPending,
            "REG_NEEDED" => DmStatus::RegNeeded,
            _ => DmStatus::Other(t.to_string()),
        }
    }

    /// The status as the modem spells it.
    pub fn as_str(&self) -> &str {
        match self {
            DmStatus::Deregistered => "DEREGISTERED",
            DmStatus::RegPending => "REG_PENDING",
            DmStatus::Registered => "REGISTERED",
            DmStatus::RegFailed => "REG_FAILED",
            DmStatus::RegUpdatePending => "REG_UPDATE_PENDING",
            DmStatus::RegUpdateNeeded => "REG_UPDATE_NEEDED",
            DmStatus::DeregPending => "DEREG_PENDING",
            DmStatus::RegNeeded => "REG_NEEDED",
            DmStatus::Other(s) => s,
        }
    }

    /// The note's meaning of the status (§6.3.2).
    pub fn meaning(&self) -> String {
        match self {
            DmStatus::Deregistered => "Not registered".into(),
            DmStatus::RegPending => "Registration pending".into(),
            DmStatus::Registered => "Successfully registered".into(),
            DmStatus::RegFailed => "Last registration failed".into(),
            DmStatus::RegUpdatePending => "Registration update pending".into(),
            DmStatus::RegUpdateNeeded => "Registration update required".into(),
            DmStatus::DeregPending => "De-registration pending".into(),
            DmStatus::RegNeeded => "New registration required".into(),
            DmStatus::Other(s) => format!("Registration status {s} (not documented)"),
        }
    }

    /// Whether the client holds a valid registration with the server in this status
    /// (`REGISTERED`, `REG_UPDATE_PENDING`, `REG_UPDATE_NEEDED`).
    pub fn is_registered(&self) -> bool {
        matches!(
            self,
            DmStatus::Registered | DmStatus::RegUpdatePending | DmStatus::RegUpdateNeeded
        )
    }
}

/// The decoded status of either kind of server.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "role", content = "status", rename_all = "snake_case")]
pub enum ServerState {
    /// A bootstrap server's status.
    Bs(BsStatus),
    /// A device-management server's status.
    Dm(DmStatus),
}

impl ServerState {
    /// The status as the modem spells it.
    pub fn as_str(&self) -> &str {
        match self {
            ServerState::Bs(s) => s.as_str(),
            ServerState::Dm(s) => s.as_str(),
        }
    }

    /// The note's meaning of the status.
    pub fn meaning(&self) -> String {
        match self {
            ServerState::Bs(s) => s.meaning(),
            ServerState::Dm(s) => s.meaning(),
        }
    }
}

/// One server's status, decoded from a `+SQNDMST` line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServerStatus {
    /// Bootstrap or device-management server.
    pub role: ServerRole,
    /// The short server id.
    pub server_id: u32,
    /// The decoded status.
    pub state: ServerState,
    /// Hold-off timer (bs) or registration lifetime (dm), seconds; -1: under way.
    pub timer: i64,
    /// Seconds until the bootstrap / registration (update) starts; -1: under way or done.
    pub update_in: i64,
}

impl ServerStatus {
    /// Decodes one `+SQNDMST` line.
    pub fn from_line(line: &DmStatusLine) -> ServerStatus {
        let state = match line.role {
            ServerRole::Bs => ServerState::Bs(BsStatus::parse(&line.status)),
            ServerRole::Dm => ServerState::Dm(DmStatus::parse(&line.status)),
        };
        ServerStatus {
            role: line.role,
            server_id: line.server_id,
            state,
            timer: line.timer,
            update_in: line.update_in,
        }
    }

    /// Whether this is a device-management server holding a valid registration.
    pub fn is_registered(&self) -> bool {
        matches!(&self.state, ServerState::Dm(s) if s.is_registered())
    }

    /// This server's status in words, as the note's §6.3.3 words its examples, e.g.
    /// "The bootstrap process is delayed by the carrier's hold-off timer. It will start in 7
    /// seconds." or "Server 101 registration was successful. Registration update period is 24 h.
    /// The next registration update is scheduled in 84597 s."
    pub fn explain(&self) -> String {
        let id = self.server_id;
        let starts = (self.update_in >= 0).then_some(self.update_in as u64);
        match &self.state {
            ServerState::Bs(status) => match status {
                BsStatus::HoldOff => match starts {
                    Some(n) => format!(
                        "The bootstrap process is delayed by the carrier's hold-off timer. \
                         It will start in {}.",
                        seconds_words(n)
                    ),
                    None => {
                        "The bootstrap process is delayed by the carrier's hold-off timer.".into()
                    }
                },
                BsStatus::Initiated => match starts {
                    Some(n) => format!(
                        "The bootstrap request is being sent; the bootstrap starts in {}.",
                        seconds_words(n)
                    ),
                    None => "The bootstrap process is under way.".into(),
                },
                BsStatus::Finished => "The bootstrap process was successful.".into(),
                BsStatus::Failing => {
                    let mut s = "Bootstrap error: the bootstrap has not succeeded yet".to_string();
                    match starts {
                        Some(n) => s.push_str(&format!(
                            "; the next attempt starts in {}.",
                            seconds_words(n)
                        )),
                        None => s.push('.'),
                    }
                    s.push(' ');
                    s.push_str(BOOTSTRAP_ADVICE);
                    s
                }
                BsStatus::Failed => format!("The bootstrap failed. {BOOTSTRAP_ADVICE}"),
                BsStatus::Other(s) => {
                    format!("Bootstrap server {id} status {s} (not documented).")
                }
            },
            ServerState::Dm(status) => match status {
                DmStatus::Deregistered => match starts {
                    Some(n) => format!("Server {id} registration starts in {}.", seconds_words(n)),
                    None => format!("Server {id} is not registered."),
                },
                DmStatus::RegPending => match starts {
                    Some(n) => format!(
                        "Server {id} registration is pending; it starts in {}.",
                        seconds_words(n)
                    ),
                    None => format!("Server {id} registration is under way."),
                },
                DmStatus::Registered => {
                    let mut s = format!("Server {id} registration was successful.");
                    if self.timer >= 0 {
                        s.push_str(&format!(
                            " Registration update period is {}.",
                            duration_words(self.timer as u64)
                        ));
                    }
                    match starts {
                        Some(n) if self.timer >= 0 => s.push_str(&format!(
                            " The next registration update is scheduled in {} s.",
                            group_digits(n)
                        )),
                        _ => s.push_str(" The registration update is under way."),
                    }
                    s
                }
                DmStatus::RegFailed => match starts {
                    Some(n) => format!(
                        "Server {id}: the last registration failed; the next attempt starts in {}.",
                        seconds_words(n)
                    ),
                    None => format!("Server {id}: the last registration failed."),
                },
                DmStatus::RegUpdatePending => {
                    format!("Server {id}: registered; a registration update is pending.")
                }
                DmStatus::RegUpdateNeeded => {
                    format!("Server {id}: registered; a registration update is required.")
                }
                DmStatus::DeregPending => format!("Server {id}: de-registration is pending."),
                DmStatus::RegNeeded => format!("Server {id}: a new registration is required."),
                DmStatus::Other(s) => format!("Server {id} status {s} (not documented)."),
            },
        }
    }
}

const BOOTSTRAP_ADVICE: &str = "Check the bootstrap server URL, the PSK identity and secret \
     (AT+SQNDMCFG), and that the device is in the server's inventory with the same PSK (note §4.3.2).";

/// All servers' status from one `AT+SQNDMST` answer.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct RegistrationStatus {
    /// One entry per `+SQNDMST` line, in order.
    pub servers: Vec<ServerStatus>,
}

impl RegistrationStatus {
    /// Decodes the `+SQNDMST` lines of one answer.
    pub fn from_lines(lines: &[DmStatusLine]) -> RegistrationStatus {
        RegistrationStatus {
            servers: lines.iter().map(ServerStatus::from_line).collect(),
        }
    }

    /// Decodes the `+SQNDMST` lines among `messages` (other messages are skipped).
    pub fn from_messages(messages: &[Message]) -> RegistrationStatus {
        RegistrationStatus {
            servers: messages
                .iter()
                .filter_map(|m| match m {
                    Message::DmStatus(l) => Some(ServerStatus::from_line(l)),
                    _ => None,
                })
                .collect(),
        }
    }

    /// The servers, in the modem's order.
    pub fn servers(&self) -> &[ServerStatus] {
        &self.servers
    }

    /// Whether the bootstrap is done: a bootstrap server reports `BS_FINISHED`, or no bootstrap
    /// server is listed and a device-management server is registered.
    pub fn bootstrap_done(&self) -> bool {
        let mut any_bs = false;
        for s in &self.servers {
            if let ServerState::Bs(b) = &s.state {
                any_bs = true;
                if *b == BsStatus::Finished {
                    return true;
                }
            }
        }
        !any_bs && self.is_registered()
    }

    /// Whether the client is registered to at least one device-management server.
    pub fn is_registered(&self) -> bool {
        self.servers.iter().any(ServerStatus::is_registered)
    }

    /// The ids of the registered device-management servers.
    pub fn registered_servers(&self) -> Vec<u32> {
        self.servers
            .iter()
            .filter(|s| s.is_registered())
            .map(|s| s.server_id)
            .collect()
    }

    /// Each server's explanation, in the modem's order.
    pub fn explanations(&self) -> Vec<String> {
        self.servers.iter().map(ServerStatus::explain).collect()
    }

    /// One sentence on where the client stands.
    pub fn summary(&self) -> String {
        if self.servers.is_empty() {
            return "No LwM2M server status reported (AT+SQNDMST answers ERROR while the modem is \
                    not attached or the LwM2M client is disabled)."
                .into();
        }
        let registered = self.registered_servers();
        let dm_count = self
            .servers
            .iter()
            .filter(|s| s.role == ServerRole::Dm)
            .count();
        let bs = self.servers.iter().find_map(|s| match &s.state {
            ServerState::Bs(b) => Some((b, s.update_in)),
            _ => None,
        });
        if !registered.is_empty() {
            let ids = list_words(&registered);
            let noun = if registered.len() == 1 {
                "server"
            } else {
                "servers"
            };
            return if self.bootstrap_done() {
                format!("Bootstrap done; registered to device-management {noun} {ids}.")
            } else {
                format!("Registered to device-management {noun} {ids}.")
            };
        }
        match bs {
            Some((BsStatus::Finished, _)) => format!(
                "Bootstrap done; not yet registered to any of the {dm_count} device-management \
                 server{}.",
                if dm_count == 1 { "" } else { "s" }
            ),
            Some((BsStatus::HoldOff, n)) if n >= 0 => format!(
                "Bootstrap not started: waiting for the carrier's hold-off timer ({} left).",
                seconds_words(n as u64)
            ),
            Some((BsStatus::HoldOff, _)) => {
                "Bootstrap not started: waiting for the carrier's hold-off timer.".into()
            }
            Some((BsStatus::Initiated, _)) => "Bootstrap under way; not registered yet.".into(),
            Some((BsStatus::Failing, _)) => {
                "Bootstrap error; not registered (the client may retry).".into()
            }
            Some((BsStatus::Failed, _)) => "Bootstrap failed; not registered.".into(),
            Some((BsStatus::Other(s), _)) => {
                format!("Bootstrap status {s} (not documented); not registered.")
            }
            None => "Not registered to any device-management server.".into(),
        }
    }
}

/// "101", "101 and 102", "101, 102 and 103".
fn list_words(ids: &[u32]) -> String {
    match ids {
        [] => String::new(),
        [one] => one.to_string(),
        [init @ .., last] => {
            let head: Vec<String> = init.iter().map(u32::to_string).collect();
            format!("{} and {last}", head.join(", "))
        }
    }
}

/// Groups the digits of numbers of six digits or more in thousands: `84597` → `84597`,
/// `2592000` → `2,592,000` (as the note writes them).
pub fn group_digits(n: u64) -> String {
    let digits = n.to_string();
    if digits.len() < 6 {
        return digits;
    }
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A countdown in words: "1 second", "7 seconds", "7,200 seconds (about 2 h)".
pub fn seconds_words(n: u64) -> String {
    let unit = if n == 1 { "second" } else { "seconds" };
    if n >= 3600 {
        format!("{} {unit} (about {})", group_digits(n), approx_words(n))
    } else {
        format!("{} {unit}", group_digits(n))
    }
}

/// A period in words, as the note writes them: 86400 → "24 h", 2592000 → "30 days (2,592,000
/// seconds)", 60 → "1 min", 90 → "90 s"; other long periods get an approximation.
pub fn duration_words(secs: u64) -> String {
    const DAY: u64 = 86_400;
    if secs >= 2 * DAY && secs.is_multiple_of(DAY) {
        return format!("{} days ({} seconds)", secs / DAY, group_digits(secs));
    }
    if secs >= 3600 && secs.is_multiple_of(3600) {
        return format!("{} h", secs / 3600);
    }
    if (60..3600).contains(&secs) && secs.is_multiple_of(60) {
        return format!("{} min", secs / 60);
    }
    if secs >= 3600 {
        return format!("{} s (about {})", group_digits(secs), approx_words(secs));
    }
    format!("{secs} s")
}

/// A rounded duration of an hour or more: "2 h", "1 h 30 min", "3 days".
fn approx_words(secs: u64) -> String {
    const DAY: u64 = 86_400;
    if secs >= 2 * DAY {
        let days = (secs + DAY / 2) / DAY;
        return format!("{days} days");
    }
    let minutes = (secs + 30) / 60;
    let (h, m) = (minutes / 60, minutes % 60);
    if m == 0 {
        format!("{h} h")
    } else {
        format!("{h} h {m} min")
    }
}

/// The `<stat>` of `+CEREG` (3GPP 27.007).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EpsStatus {
    /// 0: not registered, not searching.
    NotRegistered,
    /// 1: registered on the home network.
    Home,
    /// 2: not registered, searching for a network.
    Searching,
    /// 3: registration denied.
    Denied,
    /// 4: unknown (e.g. out of coverage).
    Unknown,
    /// 5: registered, roaming.
    Roaming,
    /// Any other value (27.007 defines 6..10 for SMS-only, emergency-only and CSFB cases).
    Other(u8),
}

impl EpsStatus {
    /// Decodes a `<stat>` value.
    pub fn from_stat(stat: u8) -> EpsStatus {
        match stat {
            0 => EpsStatus::NotRegistered,
            1 => EpsStatus::Home,
            2 => EpsStatus::Searching,
            3 => EpsStatus::Denied,
            4 => EpsStatus::Unknown,
            5 => EpsStatus::Roaming,
            n => EpsStatus::Other(n),
        }
    }

    /// The `<stat>` value.
    pub fn stat(&self) -> u8 {
        match self {
            EpsStatus::NotRegistered => 0,
            EpsStatus::Home => 1,
            EpsStatus::Searching => 2,
            EpsStatus::Denied => 3,
            EpsStatus::Unknown => 4,
            EpsStatus::Roaming => 5,
            EpsStatus::Other(n) => *n,
        }
    }

    /// Whether the modem is registered (home or roaming) and can reach the LwM2M servers.
    pub fn is_registered(&self) -> bool {
        matches!(self, EpsStatus::Home | EpsStatus::Roaming)
    }

    /// The status in plain words.
    pub fn text(&self) -> String {
        match self {
            EpsStatus::NotRegistered => "Not registered and not searching for a network".into(),
            EpsStatus::Home => "Registered on the home network".into(),
            EpsStatus::Searching => "Not registered; searching for a network".into(),
            EpsStatus::Denied => "Registration denied by the network".into(),
            EpsStatus::Unknown => "Registration state unknown (for example out of coverage)".into(),
            EpsStatus::Roaming => "Registered, roaming".into(),
            EpsStatus::Other(6) => "Registered for SMS only, home network".into(),
            EpsStatus::Other(7) => "Registered for SMS only, roaming".into(),
            EpsStatus::Other(8) => "Attached for emergency bearer services only".into(),
            EpsStatus::Other(9) => "Registered (CSFB not preferred), home network".into(),
            EpsStatus::Other(10) => "Registered (CSFB not preferred), roaming".into(),
            EpsStatus::Other(n) => format!("Registration status {n} (not documented)"),
        }
    }
}

/// The access technology `<AcT>` of `+CEREG` in words (3GPP 27.007; 7 = E-UTRAN, LTE-M).
pub fn act_name(act: u8) -> String {
    match act {
        0 => "GSM".into(),
        2 => "UTRAN".into(),
        3 => "GSM with EGPRS".into(),
        4 => "UTRAN with HSDPA".into(),
        5 => "UTRAN with HSUPA".into(),
        6 => "UTRAN with HSDPA and HSUPA".into(),
        7 => "E-UTRAN".into(),
        8 => "EC-GSM-IoT".into(),
        9 => "E-UTRAN (NB-S1 mode)".into(),
        n => format!("access technology {n}"),
    }
}

/// A `+CEREG` line in words, e.g. "Registered on the home network (TAC 0002, cell 01A2D002,
/// E-UTRAN)."
pub fn explain_registration(r: &Registration) -> String {
    let mut s = EpsStatus::from_stat(r.stat).text();
    let mut details = Vec::new();
    if let Some(tac) = &r.tac {
        details.push(format!("TAC {tac}"));
    }
    if let Some(ci) = &r.cell_id {
        details.push(format!("cell {ci}"));
    }
    if let Some(act) = r.act {
        details.push(act_name(act));
    }
    if !details.is_empty() {
        s.push_str(&format!(" ({})", details.join(", ")));
    }
    s.push('.');
    s
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    #[test]
    fn digits_are_grouped_from_six_digits_on() {
        assert_eq!(group_digits(7), "7");
        assert_eq!(group_digits(84597), "84597");
        assert_eq!(group_digits(100000), "100,000");
        assert_eq!(group_digits(2587603), "2,587,603");
        assert_eq!(group_digits(32_000_000), "32,000,000");
    }

    #[test]
    fn durations_in_words() {
        assert_eq!(duration_words(86400), "24 h");
        assert_eq!(duration_words(2_592_000), "30 days (2,592,000 seconds)");
        assert_eq!(duration_words(3600), "1 h");
        assert_eq!(duration_words(60), "1 min");
        assert_eq!(duration_words(90), "90 s");
        assert_eq!(duration_words(5400), "5400 s (about 1 h 30 min)");
        assert_eq!(duration_words(0), "0 s");
        assert_eq!(seconds_words(1), "1 second");
        assert_eq!(seconds_words(22), "22 seconds");
        assert_eq!(seconds_words(7200), "7200 seconds (about 2 h)");
    }

    #[test]
    fn status_strings_decode_case_insensitively_and_keep_unknowns() {
        assert_eq!(BsStatus::parse("bs_hold_off"), BsStatus::HoldOff);
        assert_eq!(BsStatus::parse("\"BS_FINISHED\""), BsStatus::Finished);
        assert_eq!(BsStatus::parse("BS_NEW"), BsStatus::Other("BS_NEW".into()));
        assert_eq!(
            DmStatus::parse("REG_UPDATE_NEEDED"),
            DmStatus::RegUpdateNeeded
        );
        assert_eq!(DmStatus::parse("X").as_str(), "X");
        for s in [
            "DEREGISTERED",
            "REG_PENDING",
            "REGISTERED",
            "REG_FAILED",
            "REG_UPDATE_PENDING",
            "REG_UPDATE_NEEDED",
            "DEREG_PENDING",
            "REG_NEEDED",
        ] {
            let d = DmStatus::parse(s);
            assert!(!matches!(d, DmStatus::Other(_)), "{s}");
            assert_eq!(d.as_str(), s);
        }
        for s in [
            "BS_HOLD_OFF",
            "BS_INITIATED",
            "BS_FAILING",
            "BS_FAILED",
            "BS_FINISHED",
        ] {
            let b = BsStatus::parse(s);
            assert!(!matches!(b, BsStatus::Other(_)), "{s}");
            assert_eq!(b.as_str(), s);
        }
    }

    #[test]
    fn cereg_in_words() {
        let r = Registration {
            n: None,
            stat: 1,
            tac: Some("0002".into()),
            cell_id: Some("01A2D002".into()),
            act: Some(7),
        };
        assert_eq!(
            explain_registration(&r),
            "Registered on the home network (TAC 0002, cell 01A2D002, E-UTRAN)."
        );
        let r = Registration {
            n: None,
            stat: 2,
            tac: None,
            cell_id: None,
            act: None,
        };
        assert_eq!(
            explain_registration(&r),
            "Not registered; searching for a network."
        );
        assert!(EpsStatus::from_stat(5).is_registered());
        assert!(!EpsStatus::from_stat(3).is_registered());
        assert_eq!(EpsStatus::from_stat(42).stat(), 42);
    }
}
