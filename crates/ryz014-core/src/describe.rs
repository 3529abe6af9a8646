//! One place that explains any line from (or to) the modem in plain words: [`explain`] annotates
//! terminal lines, the CLI's `decode` and the web log; [`decode_record`] is the CLI's
//! `decode --json` record (a contract, see its doc); [`redact_command_text`] hides PSK secrets in
//! raw command lines. Secrets never leave this module: only their first 4 hex digits, as the modem
//! itself shows them.

use serde_json::{json, Map, Value};

use crate::fota::{
    explain_cause, progress_over_100_text, undocumented_cause_text, upgrade_error_text, FotaPhase,
};
use crate::message::{
    BootEvent, DmConfigLine, ErrorCode, FinalResult, FirmwareLine, FotaConfigLine, FotaKeyword,
    FotaNotification, Message, ServerRole,
};
use crate::registration::{duration_words, explain_registration, ServerStatus};

use crate::redact::{secret_head, split_fields, unquote};

/// The text of a `+CME ERROR` code: the 3GPP 27.007 codes, the `AT+SQNSUPGRADE` codes 528..=533
/// and the Sequans codes 540..=543, 589, 591 (`docs/at-interface-decisions.md`, "+CME ERROR
/// texts"). `None` for others.
pub fn cme_error_text(code: u32) -> Option<&'static str> {
    if let Some(t) = upgrade_error_text(code) {
        return Some(t);
    }
    Some(match code {
        0 => "phone failure",
        1 => "no connection to phone",
        2 => "phone-adaptor link reserved",
        3 => "operation not allowed",
        4 => "operation not supported",
        5 => "PH-SIM PIN required",
        6 => "PH-FSIM PIN required",
        7 => "PH-FSIM PUK required",
        10 => "SIM not inserted",
        11 => "SIM PIN required",
        12 => "SIM PUK required",
        13 => "SIM failure",
        14 => "SIM busy",
        15 => "SIM wrong",
        16 => "incorrect password",
        17 => "SIM PIN2 required",
        18 => "SIM PUK2 required",
        20 => "memory full",
        21 => "invalid index",
        22 => "not found",
        23 => "memory failure",
        24 => "text string too long",
        25 => "invalid characters in text string",
        26 => "dial string too long",
        27 => "invalid characters in dial string",
        30 => "no network service",
        31 => "network timeout",
        32 => "network not allowed, emergency calls only",
        40 => "network personalisation PIN required",
        41 => "network personalisation PUK required",
        42 => "network subset personalisation PIN required",
        43 => "network subset personalisation PUK required",
        44 => "service provider personalisation PIN required",
        45 => "service provider personalisation PUK required",
        46 => "corporate personalisation PIN required",
        47 => "corporate personalisation PUK required",
        48 => "hidden key required",
        49 => "EAP method not supported",
        50 => "incorrect parameters",
        60 => "system failure",
        100 => "unknown error",
        540 => "hardware configuration failed: general error",
        541 => "hardware configuration failed: invalid function",
        542 => "hardware configuration failed: invalid function parameter",
        543 => "hardware configuration failed: pins already assigned",
        589 => "dual mode not configured",
        591 => "the device is in active state (CFUN=1)",
        _ => return None,
    })
}

/// The text of a `+CMS ERROR` code (3GPP 27.005), for the common codes. `None` for others.
pub fn cms_error_text(code: u32) -> Option<&'static str> {
    Some(match code {
        300 => "ME failure",
        301 => "SMS service of ME reserved",
        302 => "operation not allowed",
        303 => "operation not supported",
        304 => "invalid PDU mode parameter",
        305 => "invalid text mode parameter",
        310 => "SIM not inserted",
        311 => "SIM PIN required",
        313 => "SIM failure",
        314 => "SIM busy",
        320 => "memory failure",
        321 => "invalid memory index",
        322 => "memory full",
        330 => "SMSC address unknown",
        331 => "no network service",
        332 => "network timeout",
        500 => "unknown error",
        _ => return None,
    })
}

/// Plain words for any message.
pub fn explain(msg: &Message) -> String {
    match msg {
        Message::Command { text } => explain_command(text),
        Message::Final(f) => explain_final(f),
        Message::Fota(n) => explain_fota(n),
        Message::DmStatus(l) => {
            let s = ServerStatus::from_line(l);
            let role = match l.role {
                ServerRole::Bs => "Bootstrap",
                ServerRole::Dm => "Device-management",
            };
            format!(
                "{role} server {} ({}): {}",
                l.server_id,
                s.state.as_str(),
                s.explain()
            )
        }
        Message::DmConfig(c) => explain_dm_config(c),
        Message::FotaConfig(c) => explain_fota_config(c),
        Message::FotaConfigRange { ranges } => format!(
            "Allowed AT+SQNFOTACFG values: {ranges} (profile name length, mode, state reporting, \
             download progress step, FOTA timer, download timeout, certificate id)."
        ),
        Message::OperatorMode { mode } => format!(
            "Operator mode: {mode}. The DM and FOTA profile name must be this mode's name."
        ),
        Message::AutoConnect { enabled } => match enabled {
            0 => "Automatic attach after boot is off.".into(),
            1 => "Automatic attach after boot is on.".into(),
            n => format!("Automatic attach setting {n} (not documented)."),
        },
        Message::Registration(r) => format!("Network registration: {}", explain_registration(r)),
        Message::Cfun { level } => format!("Functional level {level}: {}.", cfun_text(*level)),
        Message::Cmee { mode } => match mode {
            0 => "Errors are reported as a plain ERROR (AT+CMEE=0).".into(),
            1 => "Errors are reported with a number: +CME ERROR: <n> (AT+CMEE=1).".into(),
            2 => "Errors are reported in words: +CME ERROR: <text> (AT+CMEE=2).".into(),
            n => format!("Error reporting mode {n} (not documented)."),
        },
        Message::Boot { event } => match event {
            BootEvent::Shutdown => "The modem goes down for a reboot.".into(),
            BootEvent::Sysstart => "The modem has booted.".into(),
        },
        Message::Crash { report } => format!(
            "The modem crashed ({}) and restarts on its own; +SYSSTART follows (not in the note).",
            redact_command_text(report)
        ),
        Message::Imei { imei } => format!(
            "IMEI {imei}; the LwM2M endpoint name is urn:imei:{imei} in the \"standard\" operator mode."
        ),
        Message::Firmware(FirmwareLine::Ue(v)) => format!("UE software version {v}."),
        Message::Firmware(FirmwareLine::Lr(v)) => {
            format!("Firmware version {v} (the version the FOTA server reports).")
        }
        Message::Upgrade { raw } => format!(
            "Upgrade (AT+SQNSUPGRADE) status: {}; its values are not documented, kept verbatim.",
            redact_command_text(raw)
        ),
        Message::Prompt => "Data prompt: the modem waits for data.".into(),
        Message::Unknown { .. } => "Not recognised; kept verbatim.".into(),
    }
}

fn cfun_text(level: u8) -> &'static str {
    match level {
        0 => "minimum functionality",
        1 => "full functionality",
        4 => "airplane mode (radio off)",
        5 => "manufacturing mode",
        _ => "not documented",
    }
}

fn explain_final(f: &FinalResult) -> String {
    match f {
        FinalResult::Ok => "OK: the command succeeded.".into(),
        FinalResult::Error => "ERROR: the command failed (AT+CMEE=1 makes the modem give \
                               a numeric error code)."
            .into(),
        FinalResult::CmeError(ErrorCode::Number(n)) => match cme_error_text(*n) {
            Some(t) if t.ends_with('.') => format!("The command failed: +CME ERROR {n}: {t}"),
            Some(t) => format!("The command failed: +CME ERROR {n}: {t}."),
            None => format!("The command failed: +CME ERROR {n} (code not documented)."),
        },
        FinalResult::CmeError(ErrorCode::Text(t)) => {
            format!("The command failed: +CME ERROR: {t}.")
        }
        FinalResult::CmsError(ErrorCode::Number(n)) => match cms_error_text(*n) {
            Some(t) => format!("The command failed: +CMS ERROR {n}: {t}."),
            None => format!("The command failed: +CMS ERROR {n} (SMS error, code not documented)."),
        },
        FinalResult::CmsError(ErrorCode::Text(t)) => {
            format!("The command failed: +CMS ERROR: {t}.")
        }
    }
}

fn explain_fota(n: &FotaNotification) -> String {
    let phase = FotaPhase::of_notification(n);
    let mut s = match (phase, &n.event) {
        (Some(p), _) => format!("FOTA {}", p.meaning()),
        (None, Some(FotaKeyword::Other(w))) => format!("FOTA event \"{w}\" (not documented)."),
        (None, _) => "FOTA notification without a state.".into(),
    };
    if let Some(pct) = n.progress {
        if pct > 100 {
            s.push_str(&format!(" Invalid: {}.", progress_over_100_text(pct)));
        } else {
            s.push_str(&format!(" Progress {pct} %."));
        }
    } else if let (Some(c), Some(state)) = (n.cause, n.state) {
        if phase == Some(FotaPhase::Failed) {
            let cause = explain_cause(c);
            s.push_str(&format!(
                " Cause {c}: {} {}",
                cause.explanation, cause.advice
            ));
        } else if state == 3 {
            s.push_str(&format!(
                " The modem reports {}.",
                undocumented_cause_text(c)
            ));
        } else {
            s.push_str(&format!(" Code {c} (meaning not documented)."));
        }
    }
    if let Some(v) = &n.version {
        s.push_str(&format!(" Version {v}."));
    }
    s
}

fn explain_dm_config(c: &DmConfigLine) -> String {
    match c {
        DmConfigLine::Service { profile, autostart } => match autostart {
            1 => format!(
                "DM profile \"{profile}\": the LwM2M client starts automatically at power-on."
            ),
            0 => format!("DM profile \"{profile}\": the LwM2M client is disabled at power-on."),
            n => format!("DM profile \"{profile}\": service autostart {n} (not documented)."),
        },
        DmConfigLine::Server {
            profile,
            server_id,
            lifetime,
            url,
            cid,
            server_type,
        } => {
            let mut s = match server_type {
                ServerRole::Bs => {
                    format!("DM profile \"{profile}\": bootstrap server {server_id} at {url}")
                }
                ServerRole::Dm => format!(
                    "DM profile \"{profile}\": device-management server {server_id} at {url}"
                ),
            };
            match (lifetime, server_type) {
                (Some(l), ServerRole::Bs) => {
                    s.push_str(&format!("; hold-off {}", duration_words(u64::from(*l))))
                }
                (Some(l), ServerRole::Dm) => {
                    s.push_str(&format!("; lifetime {}", duration_words(u64::from(*l))))
                }
                (None, _) => {}
            }
            match cid {
                Some(c) => s.push_str(&format!("; PDP context {c}")),
                None => s.push_str("; default PDP context"),
            }
            s.push('.');
            s
        }
        DmConfigLine::Psk {
            profile,
            server_id,
            identity,
            secret_prefix,
        } => format!(
            "DM profile \"{profile}\": PSK for server {server_id}, identity \"{identity}\", secret \
             starting {}… (the modem shows only the first 4 hex digits).",
            secret_head(secret_prefix)
        ),
    }
}

fn explain_fota_config(c: &FotaConfigLine) -> String {
    let mode = match c.mode {
        0 => "0 = automatic".to_string(),
        n => format!("{n} (not documented)"),
    };
    let report = match c.report_state {
        0 => "0 = no state reports".to_string(),
        1 => "1 = state changes".to_string(),
        2 => "2 = state changes and intermediate errors".to_string(),
        n => format!("{n} (not documented)"),
    };
    let download = match c.report_download {
        0 => "download progress not reported".to_string(),
        n => format!("download progress every {n} %"),
    };
    let secs = |v: Option<u32>| match v {
        Some(v) => duration_words(u64::from(v)),
        None => "not set".to_string(),
    };
    let timeout = match c.download_timeout {
        Some(v) => duration_words(u64::from(v)),
        None => "not set (the download resumes at the next FOTA timer)".to_string(),
    };
    let cert = match c.certificate {
        Some(v) => v.to_string(),
        None => "not set".to_string(),
    };
    format!(
        "FOTA configuration (applies at the next reboot): profile \"{}\"; mode {mode}; state \
         reports {report}; {download}; FOTA timer requested {}, in use {}; download timeout \
         {timeout}; certificate {cert}.",
        c.profile,
        secs(c.timer_requested),
        secs(c.timer_actual),
    )
}

/// What a command does, by its (upper-case) prefix; longer prefixes first.
const COMMANDS: &[(&str, &str)] = &[
    ("AT+SQNDMCFG=?", "list the DM configuration syntax"),
    (
        "AT+SQNFOTACFG=?",
        "list the allowed FOTA configuration values",
    ),
    ("AT+SQNFOTACFG?", "read the FOTA client configuration"),
    (
        "AT+SQNFOTACFG=",
        "configure the FOTA client (applies at the next reboot)",
    ),
    ("AT+SQNDMST", "read the LwM2M servers' registration status"),
    (
        "AT+SQNSUPGRADE?",
        "read the device-initiated upgrade status",
    ),
    (
        "AT+SQNSUPGRADE=",
        "start or cancel a device-initiated upgrade",
    ),
    ("AT+SQNCTM?", "read the operator mode"),
    (
        "AT+SQNCTM=",
        "set the operator mode (applies after a reboot)",
    ),
    ("AT+SQNAUTOCONNECT?", "read the automatic attach setting"),
    ("AT+SQNAUTOCONNECT=", "set automatic attach after boot"),
    (
        "AT+SQNFACTORYSAVE",
        "save the restoration point (manufacturing mode)",
    ),
    (
        "AT+SQNSFACTORYRESET",
        "go back to the restoration point (a reboot is needed)",
    ),
    ("AT+CFUN=1,1", "reset, then full functionality"),
    ("AT+CFUN=5", "enter manufacturing mode"),
    ("AT+CFUN=4", "airplane mode (radio off)"),
    ("AT+CFUN=1", "full functionality"),
    ("AT+CFUN=0", "minimum functionality"),
    ("AT+CFUN?", "read the functional level"),
    ("AT^RESET", "reset the modem"),
    ("AT+CGSN", "read the IMEI"),
    ("ATI1", "read the firmware version"),
    ("AT+CEREG?", "read the network registration"),
    ("AT+CEREG=", "set network registration reporting"),
    ("AT+CMEE=", "set error reporting (1 numeric, 2 verbose)"),
    ("ATE0", "echo off"),
    ("ATE1", "echo on"),
];

fn explain_command(text: &str) -> String {
    let shown = redact_command_text(text);
    let upper = text.trim().to_ascii_uppercase();
    let what = if upper.starts_with("AT+SQNDMCFG") {
        Some(dm_config_command_text(&upper))
    } else if upper == "AT" {
        Some("check that the modem answers")
    } else {
        COMMANDS
            .iter()
            .find(|(prefix, _)| upper.starts_with(prefix))
            .map(|(_, what)| *what)
    };
    match what {
        Some(w) => format!("Command {}: {w}.", shown.trim()),
        None => format!("Command {}.", shown.trim()),
    }
}

fn dm_config_command_text(upper: &str) -> &'static str {
    if upper.starts_with("AT+SQNDMCFG=?") {
        return "list the DM configuration syntax";
    }
    let fields = split_fields(upper, upper.find('=').map_or(upper.len(), |i| i + 1));
    let group = fields
        .get(1)
        .map(|&(s, e)| unquote(&upper[s..e]))
        .unwrap_or("");
    let n = fields.len();
    match group {
        "SERVICE" if n >= 3 => "set whether the LwM2M client starts at power-on",
        "SERVICE" => "read whether the LwM2M client starts at power-on",
        "SERVER" if n >= 3 => "add an LwM2M server",
        "SERVER" => "read the LwM2M servers",
        "PSK" if n >= 3 => "set the PSK identity and secret for a server",
        "PSK" => "read the PSK identities (the modem shows only the first 4 hex digits of secrets)",
        "DELETE-PROFILE-CONFIG" => "delete the whole DM profile",
        _ => "device-management configuration",
    }
}

/// Redacts PSK secrets in one line: the same rule as [`crate::redact::redact_line`] (kept under
/// this name for the front ends that already call it).
pub fn redact_command_text(text: &str) -> String {
    crate::redact::redact_line(text)
}

/// The CLI's `decode --json` record for one line: a contract.
///
/// Always: `"line"` (1-based, as given), `"kind"` and `"explanation"` ([`explain`]). By kind:
/// - `command`: `"text"` (PSK secret redacted, [`redact_command_text`]);
/// - `final`: `"result"` (`ok`, `error`, `cme_error`, `cms_error`), `"code"` (number, or the
///   verbose text) for the error kinds;
/// - `fota`: `"state"`, `"cause"`, `"progress"`, `"event"` (the quoted keyword), `"version"` (each
///   only when present), `"phase"` (always: the name of the phase the line reports on its own,
///   `unknown` for an unrecognised keyword), `"advice"` for a failure (only `3,8`: other causes
///   of state 3 are not documented and not failures), and `"progress_invalid": true` when the
///   progress is above 100;
/// - `dm_status`: `"role"` (`bs`|`dm`), `"server_id"`, `"status"`, `"timer"`, `"update_in"`;
/// - `dm_config`: `"group"` (`service`|`server`|`psk`), `"profile"`, then `"autostart"`, or
///   `"server_id"`, `"lifetime"`, `"url"`, `"cid"`, `"server_type"`, or `"server_id"`,
///   `"identity"`, `"secret_prefix"` (at most 4 characters);
/// - `fota_config`: `"profile"`, `"mode"`, `"report_state"`, `"report_download"`,
///   `"timer_requested"`, `"timer_actual"`, `"download_timeout"`, `"certificate"` (null when unset);
/// - `registration`: `"stat"`, `"registered"` (bool), and `"n"`, `"tac"`, `"cell_id"`, `"act"` when present;
/// - `boot`: `"event"` (`shutdown`|`sysstart`|`crash`), and `"report"` (the text after `^EXIT:`)
///   for a crash;
/// - `info`: `"info"` names it: `imei` (`"imei"`), `firmware` (`"component"` `ue`|`lr`,
///   `"version"`), `operator_mode` (`"mode"`), `cfun` (`"level"`), `autoconnect` (`"enabled"`),
///   `prompt`, `upgrade` (`"raw"`), `fota_config_range` (`"ranges"`);
/// - `unknown`: `"raw"` (verbatim, except that a PSK secret is redacted).
pub fn decode_record(line_no: usize, msg: &Message) -> Value {
    let mut m = Map::new();
    m.insert("line".into(), json!(line_no));
    let kind = match msg {
        Message::Command { text } => {
            m.insert("text".into(), json!(redact_command_text(text)));
            "command"
        }
        Message::Final(f) => {
            let (result, code) = match f {
                FinalResult::Ok => ("ok", None),
                FinalResult::Error => ("error", None),
                FinalResult::CmeError(c) => ("cme_error", Some(c)),
                FinalResult::CmsError(c) => ("cms_error", Some(c)),
            };
            m.insert("result".into(), json!(result));
            if let Some(code) = code {
                let v = match code {
                    ErrorCode::Number(n) => json!(n),
                    ErrorCode::Text(t) => json!(t),
                };
                m.insert("code".into(), v);
            }
            "final"
        }
        Message::Fota(n) => {
            let phase = FotaPhase::of_notification(n);
            if let Some(s) = n.state {
                m.insert("state".into(), json!(s));
            }
            m.insert("phase".into(), json!(phase.map_or("unknown", |p| p.name())));
            if let Some(c) = n.cause {
                m.insert("cause".into(), json!(c));
            }
            if let Some(p) = n.progress {
                m.insert("progress".into(), json!(p));
                if p > 100 {
                    m.insert("progress_invalid".into(), json!(true));
                }
            }
            if let Some(e) = &n.event {
                m.insert("event".into(), json!(e.as_str()));
            }
            if let Some(v) = &n.version {
                m.insert("version".into(), json!(v));
            }
            if let (Some(FotaPhase::Failed), Some(c)) = (phase, n.cause) {
                m.insert("advice".into(), json!(explain_cause(c).advice));
            }
            "fota"
        }
        Message::DmStatus(l) => {
            m.insert("role".into(), json!(l.role.as_str()));
            m.insert("server_id".into(), json!(l.server_id));
            m.insert("status".into(), json!(l.status));
            m.insert("timer".into(), json!(l.timer));
            m.insert("update_in".into(), json!(l.update_in));
            "dm_status"
        }
        Message::DmConfig(c) => {
            match c {
                DmConfigLine::Service { profile, autostart } => {
                    m.insert("group".into(), json!("service"));
                    m.insert("profile".into(), json!(profile));
                    m.insert("autostart".into(), json!(autostart));
                }
                DmConfigLine::Server {
                    profile,
                    server_id,
                    lifetime,
                    url,
                    cid,
                    server_type,
                } => {
                    m.insert("group".into(), json!("server"));
                    m.insert("profile".into(), json!(profile));
                    m.insert("server_id".into(), json!(server_id));
                    m.insert("lifetime".into(), json!(lifetime));
                    m.insert("url".into(), json!(url));
                    m.insert("cid".into(), json!(cid));
                    m.insert("server_type".into(), json!(server_type.as_str()));
                }
                DmConfigLine::Psk {
                    profile,
                    server_id,
                    identity,
                    secret_prefix,
                } => {
                    m.insert("group".into(), json!("psk"));
                    m.insert("profile".into(), json!(profile));
                    m.insert("server_id".into(), json!(server_id));
                    m.insert("identity".into(), json!(identity));
                    m.insert("secret_prefix".into(), json!(secret_head(secret_prefix)));
                }
            }
            "dm_config"
        }
        Message::FotaConfig(c) => {
            m.insert("profile".into(), json!(c.profile));
            m.insert("mode".into(), json!(c.mode));
            m.insert("report_state".into(), json!(c.report_state));
            m.insert("report_download".into(), json!(c.report_download));
            m.insert("timer_requested".into(), json!(c.timer_requested));
            m.insert("timer_actual".into(), json!(c.timer_actual));
            m.insert("download_timeout".into(), json!(c.download_timeout));
            m.insert("certificate".into(), json!(c.certificate));
            "fota_config"
        }
        Message::Registration(r) => {
            m.insert("stat".into(), json!(r.stat));
            m.insert(
                "registered".into(),
                json!(crate::registration::EpsStatus::from_stat(r.stat).is_registered()),
            );
            if let Some(n) = r.n {
                m.insert("n".into(), json!(n));
            }
            if let Some(t) = &r.tac {
                m.insert("tac".into(), json!(t));
            }
            if let Some(c) = &r.cell_id {
                m.insert("cell_id".into(), json!(c));
            }
            if let Some(a) = r.act {
                m.insert("act".into(), json!(a));
            }
            "registration"
        }
        Message::Boot { event } => {
            let e = match event {
                BootEvent::Shutdown => "shutdown",
                BootEvent::Sysstart => "sysstart",
            };
            m.insert("event".into(), json!(e));
            "boot"
        }
        Message::Crash { report } => {
            m.insert("event".into(), json!("crash"));
            m.insert("report".into(), json!(redact_command_text(report)));
            "boot"
        }
        Message::Imei { imei } => {
            m.insert("info".into(), json!("imei"));
            m.insert("imei".into(), json!(imei));
            "info"
        }
        Message::Firmware(f) => {
            let (component, version) = match f {
                FirmwareLine::Ue(v) => ("ue", v),
                FirmwareLine::Lr(v) => ("lr", v),
            };
            m.insert("info".into(), json!("firmware"));
            m.insert("component".into(), json!(component));
            m.insert("version".into(), json!(version));
            "info"
        }
        Message::OperatorMode { mode } => {
            m.insert("info".into(), json!("operator_mode"));
            m.insert("mode".into(), json!(mode));
            "info"
        }
        Message::Cfun { level } => {
            m.insert("info".into(), json!("cfun"));
            m.insert("level".into(), json!(level));
            "info"
        }
        Message::Cmee { mode } => {
            m.insert("info".into(), json!("cmee"));
            m.insert("mode".into(), json!(mode));
            "info"
        }
        Message::AutoConnect { enabled } => {
            m.insert("info".into(), json!("autoconnect"));
            m.insert("enabled".into(), json!(enabled));
            "info"
        }
        Message::Prompt => {
            m.insert("info".into(), json!("prompt"));
            "info"
        }
        Message::Upgrade { raw } => {
            m.insert("info".into(), json!("upgrade"));
            m.insert("raw".into(), json!(redact_command_text(raw)));
            "info"
        }
        Message::FotaConfigRange { ranges } => {
            m.insert("info".into(), json!("fota_config_range"));
            m.insert("ranges".into(), json!(ranges));
            "info"
        }
        Message::Unknown { raw } => {
            m.insert("raw".into(), json!(redact_command_text(raw)));
            "unknown"
        }
    };
    m.insert("kind".into(), json!(kind));
    m.insert("explanation".into(), json!(explain(msg)));
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    #[test]
    fn redacts_the_note_example() {
        let cmd = r#"AT+SQNDMCFG="standard","psk",100,"urn:imei:015770000031766","87493467538357""#;
        assert_eq!(
            redact_command_text(cmd),
            r#"AT+SQNDMCFG="standard","psk",100,"urn:imei:015770000031766","8749…""#
        );
    }

    #[test]
    fn redaction_is_case_insensitive_and_handles_unquoted_and_unclosed() {
        assert_eq!(
            redact_command_text("at+sqndmcfg=standard,PSK,100,id,e9891e446e07ba10\r"),
            "at+sqndmcfg=standard,PSK,100,id,e989…\r"
        );
        assert_eq!(
            redact_command_text(r#"AT+SQNDMCFG="s","psk",1,"id","e9891e446e07"#),
            r#"AT+SQNDMCFG="s","psk",1,"id","e989…"#
        );
        // Extra garbage fields after the secret are hidden too.
        assert_eq!(
            redact_command_text(r#"AT+SQNDMCFG="s","psk",1,"id","abcdef01","0123456789""#),
            r#"AT+SQNDMCFG="s","psk",1,"id","abcd…","0123…""#
        );
    }

    #[test]
    fn redaction_leaves_other_text_alone() {
        for s in [
            "AT+CGSN",
            r#"AT+SQNDMCFG="standard","server",100,"60","coaps://x:5694","1","bs""#,
            r#"AT+SQNDMCFG="standard","psk""#,
            r#"AT+SQNDMCFG="standard","psk",100,"id","""#,
            "SQNDMCFG",
            "SQNDMCFG garbage, psk, 1, 2, 3",
            "",
            "é+SQNDMCFG=ü",
        ] {
            assert_eq!(redact_command_text(s), s);
        }
        // The modem's own read line shows 4 digits: nothing more to hide.
        let read = r#"+SQNDMCFG: "standard","psk",100,"urn:imei:015770000031766","8749""#;
        assert_eq!(redact_command_text(read), read);
    }

    #[test]
    fn redaction_handles_several_commands_on_a_line() {
        let s =
            r#"AT+SQNDMCFG="a","psk",1,"i","1111222233";+SQNDMCFG="b","psk",2,"j","5555666677""#;
        let r = redact_command_text(s);
        assert_eq!(
            r,
            r#"AT+SQNDMCFG="a","psk",1,"i","1111…";+SQNDMCFG="b","psk",2,"j","5555…""#
        );
        assert!(!r.contains("2233") && !r.contains("6677"));
    }

    #[test]
    fn cme_texts_cover_the_listed_codes() {
        assert_eq!(cme_error_text(4), Some("operation not supported"));
        assert_eq!(cme_error_text(50), Some("incorrect parameters"));
        assert!(cme_error_text(529).unwrap().contains("corrupted"));
        assert_eq!(cme_error_text(550), None);
        assert_eq!(
            explain(&Message::Final(FinalResult::CmeError(ErrorCode::Number(3)))),
            "The command failed: +CME ERROR 3: operation not allowed."
        );
        assert_eq!(
            explain(&Message::Final(FinalResult::CmeError(ErrorCode::Number(
                999
            )))),
            "The command failed: +CME ERROR 999 (code not documented)."
        );
    }

    #[test]
    fn command_explanations_redact_and_describe() {
        let e = explain(&Message::Command {
            text: r#"AT+SQNDMCFG="standard","psk",100,"urn:imei:1","87493467538357""#.into(),
        });
        assert!(e.contains("8749…"));
        assert!(!e.contains("87493467"));
        assert!(e.contains("set the PSK identity and secret"), "{e}");
        assert_eq!(
            explain(&Message::Command {
                text: "AT+CFUN=5".into()
            }),
            "Command AT+CFUN=5: enter manufacturing mode."
        );
        assert_eq!(
            explain(&Message::Command {
                text: "AT+CFUN=1,1".into()
            }),
            "Command AT+CFUN=1,1: reset, then full functionality."
        );
        assert_eq!(
            explain(&Message::Command {
                text: "AT+XYZ".into()
            }),
            "Command AT+XYZ."
        );
    }
}
