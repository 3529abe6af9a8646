//! Portable page logic (no browser APIs, tested natively): the provisioning form and its inline
//! validation (the core's profile checks, one field at a time), the Coiote CSV, and the wire log
//! with its exports. Everything modem-specific is the core's: this module only shapes it for
//! the views.

use std::fmt::Write as _;

use ryz014_core::client::WireEvent;
use ryz014_core::describe::{decode_record, explain};
use ryz014_core::export::{self, ExportRecord, LineEnding};
use ryz014_core::parse::parse_line;
use ryz014_core::provision::{allowed_for, ProfileError, ProvisioningProfile};
use ryz014_core::psk::PskSecret;
use ryz014_core::redact::redact_line;
use ryz014_core::session::BAUD_ORDER;

/// The page's title.
pub const TITLE: &str = "RYZ014 provisioning and FOTA monitor";

/// The header of the Coiote device-import CSV (the core's: the CLI's `coiote-csv` export writes
/// the same).
pub use ryz014_core::export::COIOTE_CSV_HEADER;

/// The baud rates offered, the default first: the core's [`BAUD_ORDER`]
/// (docs/at-interface-decisions.md, baud rate: Renesas' driver runs the RYZ014 at 921600 baud
/// with CTS; other Monarch drivers use 115200).
pub const BAUD_RATES: &[u32] = &BAUD_ORDER;

/// The text fields of the provisioning form, one per key of the shared profile format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    /// `modem.profile`.
    Profile,
    /// `modem.endpoint_name` (optional).
    EndpointName,
    /// `bootstrap.uri`.
    Uri,
    /// `bootstrap.server_id`.
    ServerId,
    /// `bootstrap.hold_off_s`.
    HoldOff,
    /// `bootstrap.cid` (optional).
    Cid,
    /// `psk.identity`.
    Identity,
    /// `fota.mode`.
    FotaMode,
    /// `fota.report_state`.
    ReportState,
    /// `fota.report_download`.
    ReportDownload,
    /// `fota.timer_s` (optional).
    Timer,
    /// `fota.download_timeout_s` (optional).
    DownloadTimeout,
    /// `fota.certificate_id` (optional).
    Certificate,
}

impl Field {
    /// Every field, in form order.
    pub const ALL: [Field; 13] = [
        Field::Profile,
        Field::EndpointName,
        Field::Uri,
        Field::ServerId,
        Field::HoldOff,
        Field::Cid,
        Field::Identity,
        Field::FotaMode,
        Field::ReportState,
        Field::ReportDownload,
        Field::Timer,
        Field::DownloadTimeout,
        Field::Certificate,
    ];

    fn index(self) -> usize {
        self as usize
    }

    /// The label (the control's accessible name).
    pub fn label(self) -> &'static str {
        match self {
            Field::Profile => "DM profile",
            Field::EndpointName => "Endpoint name",
            Field::Uri => "Bootstrap server URI",
            Field::ServerId => "Server ID",
            Field::HoldOff => "Hold-off (s)",
            Field::Cid => "PDP context",
            Field::Identity => "PSK identity",
            Field::FotaMode => "FOTA mode",
            Field::ReportState => "Report state",
            Field::ReportDownload => "Report download (%)",
            Field::Timer => "FOTA timer (s)",
            Field::DownloadTimeout => "Download timeout (s)",
            Field::Certificate => "Certificate ID",
        }
    }

    /// The key's path in the profile format.
    pub fn path(self) -> &'static str {
        match self {
            Field::Profile => "modem.profile",
            Field::EndpointName => "modem.endpoint_name",
            Field::Uri => "bootstrap.uri",
            Field::ServerId => "bootstrap.server_id",
            Field::HoldOff => "bootstrap.hold_off_s",
            Field::Cid => "bootstrap.cid",
            Field::Identity => "psk.identity",
            Field::FotaMode => "fota.mode",
            Field::ReportState => "fota.report_state",
            Field::ReportDownload => "fota.report_download",
            Field::Timer => "fota.timer_s",
            Field::DownloadTimeout => "fota.download_timeout_s",
            Field::Certificate => "fota.certificate_id",
        }
    }

    /// What the key accepts (the core's wording).
    pub fn allowed(self) -> &'static str {
        allowed_for(self.path())
    }

    /// Whether the field may be left empty.
    pub fn optional(self) -> bool {
        matches!(
            self,
            Field::EndpointName
                | Field::Cid
                | Field::Timer
                | Field::DownloadTimeout
                | Field::Certificate
        )
    }

    /// Whether the field holds a number.
    pub fn numeric(self) -> bool {
        !matches!(
            self,
            Field::Profile | Field::EndpointName | Field::Uri | Field::Identity
        )
    }

    /// The field whose key path is `path`.
    pub fn from_path(path: &str) -> Option<Field> {
        Field::ALL.into_iter().find(|f| f.path() == path)
    }
}

/// The provisioning form's contents, as typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileForm {
    values: [String; 13],
    /// `modem.autoconnect`.
    pub autoconnect: bool,
    /// `factory.save_restoration_point`.
    pub save_restoration_point: bool,
}

/// The profile the form starts with: the repository's `profiles/coiote-standard.toml` (the
/// note's §4.3 values for Coiote in "standard" mode), as the core embeds it.
pub fn default_profile() -> ProvisioningProfile {
    ProvisioningProfile::coiote_standard()
}

impl Default for ProfileForm {
    fn default() -> Self {
        ProfileForm::from_profile(&default_profile())
    }
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

/// A value that does not fit its field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The field, or `None` for a problem of the whole profile.
    pub field: Option<Field>,
    /// The message: the key, the value given and what is allowed.
    pub message: String,
}

impl ProfileForm {
    /// The form showing a profile (its fixed secret, if any, is not part of the form: see
    /// [`KeyField`]).
    pub fn from_profile(p: &ProvisioningProfile) -> Self {
        let mut values: [String; 13] = Default::default();
        let mut set = |f: Field, v: String| values[f.index()] = v;
        set(Field::Profile, p.modem.profile.clone());
        set(
            Field::EndpointName,
            p.modem.endpoint_name.clone().unwrap_or_default(),
        );
        set(Field::Uri, p.bootstrap.uri.clone());
        set(Field::ServerId, p.bootstrap.server_id.to_string());
        set(Field::HoldOff, p.bootstrap.hold_off_s.to_string());
        set(Field::Cid, opt(p.bootstrap.cid));
        set(Field::Identity, p.psk.identity.clone());
        set(Field::FotaMode, p.fota.mode.to_string());
        set(Field::ReportState, p.fota.report_state.to_string());
        set(Field::ReportDownload, p.fota.report_download.to_string());
        set(Field::Timer, opt(p.fota.timer_s));
        set(Field::DownloadTimeout, opt(p.fota.download_timeout_s));
        set(Field::Certificate, opt(p.fota.certificate_id));
        ProfileForm {
            values,
            autoconnect: p.modem.autoconnect,
            save_restoration_point: p.factory.save_restoration_point,
        }
    }

    /// A field's text.
    pub fn get(&self, f: Field) -> &str {
        &self.values[f.index()]
    }

    /// Changes a field's text.
    pub fn set(&mut self, f: Field, value: impl Into<String>) {
        self.values[f.index()] = value.into();
    }

    /// Writes one field's text into `p`; a text that is not a number of the key's type is an
    /// error naming the allowed range.
    fn apply(&self, f: Field, p: &mut ProvisioningProfile) -> Result<(), FieldError> {
        let raw = self.get(f);
        let text = if f.numeric() { raw.trim() } else { raw };
        let bad = || FieldError {
            field: Some(f),
            message: format!(
                "{}: {:?} is not valid (allowed: {})",
                f.path(),
                raw,
                f.allowed()
            ),
        };
        fn num<T: std::str::FromStr>(t: &str) -> Option<T> {
            t.parse().ok()
        }
        fn num_opt<T: std::str::FromStr>(t: &str) -> Result<Option<T>, ()> {
            if t.is_empty() {
                Ok(None)
            } else {
                t.parse().map(Some).map_err(|_| ())
            }
        }
        match f {
            Field::Profile => p.modem.profile = text.to_string(),
            Field::EndpointName => {
                p.modem.endpoint_name = (!text.is_empty()).then(|| text.to_string())
            }
            Field::Uri => p.bootstrap.uri = text.to_string(),
            Field::ServerId => p.bootstrap.server_id = num(text).ok_or_else(bad)?,
            Field::HoldOff => p.bootstrap.hold_off_s = num(text).ok_or_else(bad)?,
            Field::Cid => p.bootstrap.cid = num_opt(text).map_err(|()| bad())?,
            Field::Identity => p.psk.identity = text.to_string(),
            Field::FotaMode => p.fota.mode = num(text).ok_or_else(bad)?,
            Field::ReportState => p.fota.report_state = num(text).ok_or_else(bad)?,
            Field::ReportDownload => p.fota.report_download = num(text).ok_or_else(bad)?,
            Field::Timer => p.fota.timer_s = num_opt(text).map_err(|()| bad())?,
            Field::DownloadTimeout => {
                p.fota.download_timeout_s = num_opt(text).map_err(|()| bad())?
            }
            Field::Certificate => p.fota.certificate_id = num_opt(text).map_err(|()| bad())?,
        }
        Ok(())
    }

    /// Every field's problem, each checked on its own against the core's rules (the other
    /// fields at their defaults), then the whole profile.
    pub fn errors(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        for f in Field::ALL {
            let mut p = default_profile();
            if let Err(e) = self.apply(f, &mut p) {
                errors.push(e);
                continue;
            }
            if let Err(e) = p.validate() {
                errors.push(profile_error(e));
            }
        }
        if errors.is_empty() {
            if let Err(e) = self.to_profile() {
                errors.extend(e);
            }
        }
        errors
    }

    /// The error of one field, if any.
    pub fn error_of(&self, f: Field) -> Option<String> {
        let mut p = default_profile();
        if let Err(e) = self.apply(f, &mut p) {
            return Some(e.message);
        }
        match p.validate() {
            Ok(()) => None,
            Err(e) => Some(profile_error(e).message),
        }
    }

    /// The profile the form describes (without a secret), validated by the core.
    pub fn to_profile(&self) -> Result<ProvisioningProfile, Vec<FieldError>> {
        let mut p = default_profile();
        let mut errors = Vec::new();
        for f in Field::ALL {
            if let Err(e) = self.apply(f, &mut p) {
                errors.push(e);
            }
        }
        p.modem.autoconnect = self.autoconnect;
        p.factory.save_restoration_point = self.save_restoration_point;
        if !errors.is_empty() {
            return Err(errors);
        }
        p.validate().map_err(|e| vec![profile_error(e)])?;
        Ok(p)
    }
}

/// A profile error as a field error (the field found from the key path).
pub fn profile_error(e: ProfileError) -> FieldError {
    let field = match &e {
        ProfileError::Key { path, .. } => Field::from_path(path),
        _ => None,
    };
    FieldError {
        field,
        message: e.to_string(),
    }
}

/// The PSK secret field: empty (a fresh key is drawn at provisioning), or a key typed, imported
/// or generated. The key itself is only ever shown on request.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct KeyField {
    text: String,
}

impl std::fmt::Debug for KeyField {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl KeyField {
    /// A field holding `secret`.
    pub fn from_secret(secret: &PskSecret) -> Self {
        KeyField {
            text: secret.expose_hex(),
        }
    }

    /// A field holding what the user typed.
    pub fn from_text(text: impl Into<String>) -> Self {
        KeyField { text: text.into() }
    }

    /// The text as typed (for the password input's value only).
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Whether nothing was entered.
    pub fn is_empty(&self) -> bool {
        self.text.trim().is_empty()
    }

    /// The key, or `None` when empty; an error names the rule, never the value.
    pub fn secret(&self) -> Result<Option<PskSecret>, String> {
        if self.is_empty() {
            return Ok(None);
        }
        PskSecret::from_hex(self.text.trim())
            .map(Some)
            .map_err(|e| format!("psk.secret: {e} (allowed: {})", allowed_for("psk.secret")))
    }

    /// The first 4 hex digits and `…`, as the modem shows a PSK.
    pub fn redacted(&self) -> String {
        match self.secret() {
            Ok(Some(s)) => s.redacted(),
            Ok(None) => "(none: 32 random bytes at provisioning)".into(),
            Err(_) => "(invalid)".into(),
        }
    }
}

/// Quotes a CSV field when it holds a comma, a quote or a line break (RFC 4180): the core's.
pub use ryz014_core::export::csv_field;

/// The Coiote device-import CSV for one provisioned modem: header, then one row with the
/// endpoint name, the PSK identity and the key in hex (lines ended with `\n`; the core writes
/// it).
pub fn coiote_csv(endpoint: &str, identity: &str, secret: &PskSecret) -> String {
    let record = ExportRecord {
        endpoint,
        psk_identity: identity,
        secret,
    };
    export::coiote_csv(&[record], LineEnding::Lf)
}

/// Who a log line comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Written to the modem.
    Sent,
    /// Received from the modem.
    Received,
    /// A remark of the page (connection opened, lost, ...).
    Note,
}

impl Direction {
    /// A short marker for text exports and the terminal.
    pub fn marker(self) -> &'static str {
        match self {
            Direction::Sent => ">>",
            Direction::Received => "<<",
            Direction::Note => "--",
        }
    }
}

/// One line of the wire log: always redacted (the client redacts what it sends and echoes).
#[derive(Debug, Clone, PartialEq)]
pub struct LogLine {
    /// Milliseconds since the page opened.
    pub at_ms: f64,
    /// Who sent it.
    pub dir: Direction,
    /// The line (PSK secrets redacted).
    pub text: String,
    /// Its meaning in plain words (the core's `explain`).
    pub meaning: String,
}

impl LogLine {
    /// A log line for a wire event.
    pub fn from_wire(at_ms: f64, ev: &WireEvent) -> LogLine {
        // The client already redacts every line; the core's one rule again costs nothing and
        // keeps the log safe whoever built the event.
        let (dir, text) = match ev {
            WireEvent::Sent(t) => (Direction::Sent, redact_line(t)),
            WireEvent::Received(t) => (Direction::Received, redact_line(t)),
            WireEvent::Prompt => (Direction::Received, "> ".to_string()),
            WireEvent::Overflow { discarded } => (
                Direction::Note,
                format!("an over-long line was discarded ({discarded} bytes)"),
            ),
            WireEvent::Stray(t) => (Direction::Received, redact_line(t)),
        };
        let meaning = match dir {
            Direction::Note => String::new(),
            _ => explain(&parse_line(&text)),
        };
        let meaning = if matches!(ev, WireEvent::Stray(_)) {
            format!("(arrived while no command was waiting) {meaning}")
        } else {
            meaning
        };
        LogLine {
            at_ms,
            dir,
            text,
            meaning,
        }
    }

    /// A remark of the page.
    pub fn note(at_ms: f64, text: impl Into<String>) -> LogLine {
        LogLine {
            at_ms,
            dir: Direction::Note,
            text: text.into(),
            meaning: String::new(),
        }
    }
}

/// The log as text: time, direction, line, meaning.
pub fn log_text(lines: &[LogLine]) -> String {
    let mut out = String::new();
    for l in lines {
        let _ = write!(
            out,
            "{:>10.3} {} {}",
            l.at_ms / 1000.0,
            l.dir.marker(),
            l.text
        );
        if !l.meaning.is_empty() {
            let _ = write!(out, "    # {}", l.meaning);
        }
        out.push('\n');
    }
    out
}

/// The log as JSON lines, one record per line exchanged in the shape of the CLI's
/// `decode --json` (page remarks are left out).
pub fn log_json_lines(lines: &[LogLine]) -> String {
    let mut out = String::new();
    for (i, l) in lines
        .iter()
        .filter(|l| l.dir != Direction::Note)
        .enumerate()
    {
        let record = decode_record(i + 1, &parse_line(&l.text));
        out.push_str(&record.to_string());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests;
