//! The provisioning profile: what to write to every modem of a batch, read from TOML or JSON
//! (same keys), validated key by key, with templates (`{imei}`) for per-modem values.

use serde::{Deserialize, Serialize};

use crate::command::{
    CertificateId, Cid, DownloadTimeout, FotaMode, FotaTimer, Lifetime, ParamError, ProfileName,
    PskIdentity, ReportDownload, ReportState, ServerId, Url,
};
use crate::imei::Imei;
use crate::psk::{PskError, PskSecret};

/// The endpoint name used when the profile gives none: "standard" operator mode (§4.3.1).
pub const DEFAULT_ENDPOINT_NAME: &str = "urn:imei:{imei}";

/// The longest endpoint name Coiote accepts (`docs/at-interface-decisions.md`, "Coiote").
pub const MAX_ENDPOINT_NAME: usize = 200;

/// The placeholders a template may use.
pub const PLACEHOLDERS: &[&str] = &["imei"];

/// A provisioning profile. TOML and JSON share its keys; unknown keys are refused.
///
/// ```toml
/// [modem]
/// profile = "standard"            # the <dmProfile>/<upg_profile> name
/// autoconnect = true              # AT+SQNAUTOCONNECT=1
/// # endpoint_name = "urn:imei:{imei}"   # optional; this is the default
/// [bootstrap]
/// server_id = 100
/// uri = "coaps://eu.iot.avsystem.cloud:5694"
/// hold_off_s = 60                 # the lifetime/hold-off field of the "server" group
/// cid = 1                         # optional
/// [psk]
/// identity = "urn:imei:{imei}"
/// # secret = "…"                  # optional hex; default: 32 fresh random bytes per modem
/// [fota]
/// mode = 0
/// report_state = 2
/// report_download = 10
/// timer_s = 86400                 # optional
/// download_timeout_s = 600        # optional
/// certificate_id = 11             # optional
/// [factory]
/// save_restoration_point = true   # AT+SQNFACTORYSAVE="oem"
/// ```
///
/// `Debug` shows a fixed secret as its first 4 hex digits only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProvisioningProfile {
    /// `[modem]`.
    pub modem: ModemSection,
    /// `[bootstrap]`.
    pub bootstrap: BootstrapSection,
    /// `[psk]`.
    pub psk: PskSection,
    /// `[fota]`.
    pub fota: FotaSection,
    /// `[factory]`.
    pub factory: FactorySection,
}

/// `[modem]`: the DM profile and the modem's own settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModemSection {
    /// The DM / upgrade profile name (`<dmProfile>`, `<upg_profile>`); the operator mode
    /// (`AT+SQNCTM?`) must have the same name.
    pub profile: String,
    /// Send `AT+SQNAUTOCONNECT=1`.
    pub autoconnect: bool,
    /// The LwM2M endpoint name as a template (default [`DEFAULT_ENDPOINT_NAME`]); the modem
    /// derives it itself, the toolkit needs it to register the device on the server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint_name: Option<String>,
}

/// `[bootstrap]`: the LwM2M bootstrap server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BootstrapSection {
    /// Short server id, 1..65535.
    pub server_id: u16,
    /// Server URI, e.g. `coaps://eu.iot.avsystem.cloud:5694`.
    pub uri: String,
    /// The hold-off time, seconds (the "server" group's lifetime field), 0..32000000.
    pub hold_off_s: u32,
    /// PDP context id 1..8.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cid: Option<u8>,
}

/// `[psk]`: DTLS credentials.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PskSection {
    /// The PSK identity as a template, e.g. `urn:imei:{imei}`.
    pub identity: String,
    /// A fixed secret for every modem (discouraged); when absent each modem gets 32 fresh random
    /// bytes ([`ProvisioningProfile::resolve_secret`]).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "crate::psk::serde_expose::serialize_option"
    )]
    pub secret: Option<PskSecret>,
}

/// `[fota]`: the FOTA client (`AT+SQNFOTACFG`, §6.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FotaSection {
    /// Mode, 0 (automatic) or 1.
    pub mode: u8,
    /// State reporting level, 0..2.
    pub report_state: u8,
    /// Download progress step in percent, 0..100.
    pub report_download: u8,
    /// FOTA timer, 60..32000000 s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timer_s: Option<u32>,
    /// Download timeout, 60..65535 s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub download_timeout_s: Option<u32>,
    /// Certificate id, 11..19.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_id: Option<u8>,
}

/// `[factory]`: the restoration point (§4.3.1.3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FactorySection {
    /// Send `AT+CFUN=5` and `AT+SQNFACTORYSAVE="oem"`.
    pub save_restoration_point: bool,
}

/// What is wrong with a profile. Every variant names where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProfileError {
    /// The text is not valid TOML / JSON.
    #[error("{format} syntax error{}: {message}", position(*.line, *.column))]
    Syntax {
        /// `TOML` or `JSON`.
        format: &'static str,
        /// 1-based line, when known.
        line: Option<usize>,
        /// 1-based column, when known.
        column: Option<usize>,
        /// What the parser said.
        message: String,
    },
    /// A key is unknown, missing, of the wrong type, or its value is out of range.
    #[error("{path}: {message} (allowed: {allowed})")]
    Key {
        /// The key's path, e.g. `bootstrap.server_id`.
        path: String,
        /// What is wrong (a PSK secret is never repeated).
        message: String,
        /// What the key accepts.
        allowed: String,
    },
    /// The profile could not be written out.
    #[error("could not write the profile as {format}: {message}")]
    Serialize {
        /// `TOML` or `JSON`.
        format: &'static str,
        /// What the serializer said.
        message: String,
    },
}

fn position(line: Option<usize>, column: Option<usize>) -> String {
    match (line, column) {
        (Some(l), Some(c)) => format!(" at line {l}, column {c}"),
        (Some(l), None) => format!(" at line {l}"),
        _ => String::new(),
    }
}

/// A remark about a valid profile that the user should see (e.g. a weak secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileWarning {
    /// The key concerned.
    pub path: &'static str,
    /// The remark.
    pub message: String,
}

impl std::fmt::Display for ProfileWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// What each key accepts, for error messages.
pub fn allowed_for(path: &str) -> &'static str {
    match path {
        "modem.profile" => "a string of 1..32 printable ASCII characters without '\"'",
        "modem.autoconnect" | "factory.save_restoration_point" => "true or false",
        "modem.endpoint_name" => {
            "a string of 1..200 printable ASCII characters without '\"' (placeholder: {imei}); optional"
        }
        "bootstrap.server_id" => "an integer 1..65535",
        "bootstrap.uri" => "a string of 1..256 printable ASCII characters without '\"'",
        "bootstrap.hold_off_s" => "an integer 0..32000000",
        "bootstrap.cid" => "an integer 1..8; optional",
        "psk.identity" => {
            "a string of 1..64 printable ASCII characters without '\"' or ',' (placeholder: {imei})"
        }
        "psk.secret" => {
            "even-length hex, 1..32 bytes; optional (default: 32 random bytes per modem)"
        }
        "fota.mode" => "an integer 0..1",
        "fota.report_state" => "an integer 0..2",
        "fota.report_download" => "an integer 0..100",
        "fota.timer_s" => "an integer 60..32000000; optional",
        "fota.download_timeout_s" => "an integer 60..65535; optional",
        "fota.certificate_id" => "an integer 11..19; optional",
        "modem" => "a table with the keys profile, autoconnect, endpoint_name",
        "bootstrap" => "a table with the keys server_id, uri, hold_off_s, cid",
        "psk" => "a table with the keys identity, secret",
        "fota" => {
            "a table with the keys mode, report_state, report_download, timer_s, download_timeout_s, certificate_id"
        }
        "factory" => "a table with the key save_restoration_point",
        _ => match path.split_once('.') {
            Some((section, _)) => allowed_keys_of(section),
            None => "the sections modem, bootstrap, psk, fota, factory",
        },
    }
}

fn allowed_keys_of(section: &str) -> &'static str {
    match section {
        "modem" => "the keys profile, autoconnect, endpoint_name",
        "bootstrap" => "the keys server_id, uri, hold_off_s, cid",
        "psk" => "the keys identity, secret",
        "fota" => {
            "the keys mode, report_state, report_download, timer_s, download_timeout_s, certificate_id"
        }
        "factory" => "the key save_restoration_point",
        _ => "the sections modem, bootstrap, psk, fota, factory",
    }
}

/// The sections of a profile, each a table.
const SECTIONS: [&str; 5] = ["modem", "bootstrap", "psk", "fota", "factory"];

/// serde accepts a list in place of a table (fields by position): `psk = ["<secret>"]` would
/// silently become the PSK *identity*. Refuses a list (or any non-table) for the whole profile and
/// for every section, before the typed parse; never repeats what was given.
fn require_tables(kind: Kind) -> Result<(), ProfileError> {
    let not_table = |path: &str, what: &str| ProfileError::Key {
        path: path.to_string(),
        message: format!("is {what}; it must be a table"),
        allowed: allowed_for(path).to_string(),
    };
    match kind {
        Kind::Toml(table) => {
            for section in SECTIONS {
                match table.get(section) {
                    None | Some(toml::Value::Table(_)) => {}
                    Some(toml::Value::Array(_)) => return Err(not_table(section, "a list")),
                    Some(v) => return Err(not_table(section, &format!("a {}", v.type_str()))),
                }
            }
        }
        Kind::Json(value) => {
            let Some(map) = value.as_object() else {
                let what = if value.is_array() {
                    "a list"
                } else {
                    "not a table"
                };
                return Err(ProfileError::Key {
                    path: "profile".into(),
                    message: format!("is {what}; it must be a table (object)"),
                    allowed: allowed_for("").to_string(),
                });
            };
            for section in SECTIONS {
                match map.get(section) {
                    None | Some(serde_json::Value::Object(_)) => {}
                    Some(serde_json::Value::Array(_)) => return Err(not_table(section, "a list")),
                    Some(_) => return Err(not_table(section, "not a table")),
                }
            }
        }
    }
    Ok(())
}

/// A document parsed without types, for [`require_tables`].
enum Kind<'a> {
    Toml(&'a toml::Table),
    Json(&'a serde_json::Value),
}

/// Removes every quoted value from a deserializer message (`invalid type: string "…"` →
/// `invalid type: a string`; `` unknown variant `…` `` → `an unknown value`), so that a secret
/// pasted into any key is never repeated; long hex runs left anywhere are cut by the core's
/// redaction rule.
fn without_values(message: &str) -> String {
    // A single character shown in quotes (`contains '"'`) is not a value to hide.
    let message = message.replace("'\"'", "U+0022 (double quote)");
    let mut out = String::with_capacity(message.len());
    let mut rest = message.as_str();
    loop {
        let Some(i) = rest.find(['"', '`']) else {
            out.push_str(rest);
            break;
        };
        let quote = rest[i..].chars().next().unwrap_or('"');
        let Some(len) = rest[i + 1..].find(quote) else {
            // An unclosed quote: drop everything after it.
            out.push_str(&rest[..i]);
            out.push('…');
            break;
        };
        let before = &rest[..i];
        let before = before
            .strip_suffix("string ")
            .map(|b| format!("{b}a string"))
            .unwrap_or_else(|| format!("{before}a value"));
        out.push_str(&before);
        rest = &rest[i + 1 + len + 1..];
    }
    crate::redact::redact_hex_runs(&out)
}

/// Turns a serde error at `path` into a [`ProfileError::Key`]. `message` is the deserializer's
/// own text (without any document excerpt); values quoted in it are never repeated.
fn key_error(path: &serde_path_to_error::Path, message: &str) -> ProfileError {
    let mut path = path.to_string();
    let mut message = message.to_string();
    // "missing field `x`" is reported at the parent: point at the key itself.
    if let Some(field) = message
        .strip_prefix("missing field `")
        .and_then(|r| r.split('`').next())
    {
        path = if path == "." {
            field.to_string()
        } else {
            format!("{path}.{field}")
        };
        message = "is missing".into();
    } else if let Some(field) = message
        .strip_prefix("unknown field `")
        .and_then(|r| r.split('`').next())
    {
        // serde_path_to_error already ends the path with the unknown key; make sure.
        if !path.ends_with(field) {
            path = if path == "." {
                field.to_string()
            } else {
                format!("{path}.{field}")
            };
        }
        message = "is not a known key".into();
    }
    // Whatever the key, a string value given is not repeated (a secret may have been pasted
    // into the wrong key).
    message = without_values(&message);
    if path == "psk.secret" && !message.contains("PSK secret") {
        // Never repeat what was given for a secret.
        message = "must be a string of hex digits".into();
    }
    // The allowed values follow: drop the deserializer's own "expected u16" / "(allowed …)".
    for cut in [", expected ", " (allowed: "] {
        if message.starts_with("invalid ") || message.contains("PSK secret") {
            if let Some(i) = message.find(cut) {
                message.truncate(i);
            }
        }
    }
    let allowed = allowed_for(&path).to_string();
    ProfileError::Key {
        // A key name may be a pasted secret too.
        path: crate::redact::redact_hex_runs(&path),
        message,
        allowed,
    }
}

fn param_error(path: &str, e: ParamError) -> ProfileError {
    let allowed = match e.note {
        Some(n) => format!("{}; {n}", e.allowed),
        None => e.allowed.clone(),
    };
    // A string value is never repeated: a secret may have been pasted into any key.
    let value = if e.value.starts_with('"') {
        "the string given".to_string()
    } else {
        e.value
    };
    ProfileError::Key {
        path: path.to_string(),
        message: without_values(&format!("{value} {}", e.problem)),
        allowed,
    }
}

/// Why a template does not expand.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// `{name}` with a name that is not in [`PLACEHOLDERS`].
    #[error("unknown placeholder {{{0}}}; the only placeholder is {{imei}}")]
    UnknownPlaceholder(String),
    /// A `{` without its `}`, or a `}` without its `{`.
    #[error("unbalanced brace at position {0} (placeholders are written {{imei}})")]
    Unbalanced(usize),
}

/// Expands `{imei}` in a template.
pub fn expand_template(template: &str, imei: &Imei) -> Result<String, TemplateError> {
    let mut out = String::with_capacity(template.len() + 15);
    let mut rest = template;
    let mut offset = 0;
    while let Some(open) = rest.find(['{', '}']) {
        if rest[open..].starts_with('}') {
            return Err(TemplateError::Unbalanced(offset + open));
        }
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let close = after
            .find('}')
            .ok_or(TemplateError::Unbalanced(offset + open))?;
        let name = &after[..close];
        if name.contains('{') {
            return Err(TemplateError::Unbalanced(offset + open));
        }
        match name {
            "imei" => out.push_str(imei.as_str()),
            other => return Err(TemplateError::UnknownPlaceholder(other.to_string())),
        }
        let consumed = open + 1 + close + 1;
        offset += consumed;
        rest = &rest[consumed..];
    }
    out.push_str(rest);
    Ok(out)
}

/// An IMEI used only to check templates: every IMEI has 15 digits, so a template that is valid
/// with it is valid with any.
fn probe_imei() -> Result<Imei, ProfileError> {
    Imei::from_body("00000000000000").map_err(|e| ProfileError::Key {
        path: "modem".into(),
        message: e.to_string(),
        allowed: String::new(),
    })
}

fn template_error(path: &str, e: TemplateError) -> ProfileError {
    ProfileError::Key {
        path: path.to_string(),
        message: e.to_string(),
        allowed: allowed_for(path).to_string(),
    }
}

impl ProvisioningProfile {
    /// Reads and validates a TOML profile.
    pub fn from_toml_str(text: &str) -> Result<Self, ProfileError> {
        let table: toml::Table = toml::from_str(text).map_err(|e| toml_syntax(text, &e))?;
        require_tables(Kind::Toml(&table))?;
        let de = toml::Deserializer::parse(text).map_err(|e| toml_syntax(text, &e))?;
        let profile: ProvisioningProfile = serde_path_to_error::deserialize(de)
            .map_err(|e| key_error(e.path(), e.inner().message()))?;
        profile.validate()?;
        Ok(profile)
    }

    /// Reads and validates a JSON profile.
    pub fn from_json_str(text: &str) -> Result<Self, ProfileError> {
        if let Ok(value) = serde_json::from_str::<serde_json::Value>(text) {
            require_tables(Kind::Json(&value))?;
        }
        let mut de = serde_json::Deserializer::from_str(text);
        let profile: ProvisioningProfile = match serde_path_to_error::deserialize(&mut de) {
            Ok(p) => p,
            Err(e) => {
                let inner = e.inner();
                return Err(match inner.classify() {
                    serde_json::error::Category::Data => {
                        key_error(e.path(), &strip_json_position(&inner.to_string()))
                    }
                    _ => ProfileError::Syntax {
                        format: "JSON",
                        line: Some(inner.line()),
                        column: Some(inner.column()),
                        message: without_values(&strip_json_position(&inner.to_string())),
                    },
                });
            }
        };
        de.end().map_err(|e| ProfileError::Syntax {
            format: "JSON",
            line: Some(e.line()),
            column: Some(e.column()),
            message: without_values(&strip_json_position(&e.to_string())),
        })?;
        profile.validate()?;
        Ok(profile)
    }

    /// Writes the profile as TOML (a fixed secret is written in full: it is part of the profile).
    pub fn to_toml_string(&self) -> Result<String, ProfileError> {
        toml::to_string(self).map_err(|e| ProfileError::Serialize {
            format: "TOML",
            message: e.to_string(),
        })
    }

    /// Writes the profile as pretty JSON (a fixed secret is written in full).
    pub fn to_json_string(&self) -> Result<String, ProfileError> {
        serde_json::to_string_pretty(self).map_err(|e| ProfileError::Serialize {
            format: "JSON",
            message: e.to_string(),
        })
    }

    /// Checks every value against its range; the first problem is returned with its key's path.
    pub fn validate(&self) -> Result<(), ProfileError> {
        ProfileName::new(&self.modem.profile).map_err(|e| param_error("modem.profile", e))?;
        let probe = probe_imei()?;
        let endpoint = self.endpoint_name_for(&probe)?;
        check_endpoint_name(&endpoint)?;
        ServerId::new(self.bootstrap.server_id.into())
            .map_err(|e| param_error("bootstrap.server_id", e))?;
        Url::new(&self.bootstrap.uri).map_err(|e| param_error("bootstrap.uri", e))?;
        Lifetime::new(self.bootstrap.hold_off_s.into())
            .map_err(|e| param_error("bootstrap.hold_off_s", e))?;
        if let Some(cid) = self.bootstrap.cid {
            Cid::new(cid.into()).map_err(|e| param_error("bootstrap.cid", e))?;
        }
        let identity = self.psk_identity_for(&probe)?;
        PskIdentity::new(&identity).map_err(|e| param_error("psk.identity", e))?;
        let f = &self.fota;
        FotaMode::new(f.mode.into()).map_err(|e| param_error("fota.mode", e))?;
        ReportState::new(f.report_state.into()).map_err(|e| param_error("fota.report_state", e))?;
        ReportDownload::new(f.report_download.into())
            .map_err(|e| param_error("fota.report_download", e))?;
        if let Some(t) = f.timer_s {
            FotaTimer::new(t.into()).map_err(|e| param_error("fota.timer_s", e))?;
        }
        if let Some(t) = f.download_timeout_s {
            DownloadTimeout::new(t.into())
                .map_err(|e| param_error("fota.download_timeout_s", e))?;
        }
        if let Some(c) = f.certificate_id {
            CertificateId::new(c.into()).map_err(|e| param_error("fota.certificate_id", e))?;
        }
        Ok(())
    }

    /// Remarks on a valid profile: a fixed secret (shared by every modem), one under 16 bytes,
    /// a bootstrap URI that is not `coaps://` (a PSK needs DTLS).
    pub fn warnings(&self) -> Vec<ProfileWarning> {
        let mut w = Vec::new();
        if let Some(s) = &self.psk.secret {
            if s.is_weak() {
                w.push(ProfileWarning {
                    path: "psk.secret",
                    message: format!(
                        "the secret {} has only {} bytes; the note asks for 32 random bytes (§4.3.1), 16 at the least",
                        s.redacted(),
                        s.len_bytes()
                    ),
                });
            }
            w.push(ProfileWarning {
                path: "psk.secret",
                message: "a fixed secret is shared by every modem provisioned with this profile; leave it out to draw 32 random bytes per modem".into(),
            });
        }
        if !self
            .bootstrap
            .uri
            .get(..8)
            .is_some_and(|s| s.eq_ignore_ascii_case("coaps://"))
        {
            w.push(ProfileWarning {
                path: "bootstrap.uri",
                message: format!(
                    "{:?} is not a coaps:// URI; the PSK is only used over DTLS",
                    self.bootstrap.uri
                ),
            });
        }
        w
    }

    /// The secret for one modem: the profile's fixed one, or 32 fresh random bytes.
    pub fn resolve_secret(&self) -> Result<PskSecret, PskError> {
        match &self.psk.secret {
            Some(s) => Ok(s.clone()),
            None => PskSecret::generate(),
        }
    }

    /// The PSK identity for a modem (`{imei}` expanded).
    pub fn psk_identity_for(&self, imei: &Imei) -> Result<String, ProfileError> {
        expand_template(&self.psk.identity, imei).map_err(|e| template_error("psk.identity", e))
    }

    /// The endpoint name for a modem (`{imei}` expanded; default `urn:imei:<IMEI>`).
    pub fn endpoint_name_for(&self, imei: &Imei) -> Result<String, ProfileError> {
        let t = self
            .modem
            .endpoint_name
            .as_deref()
            .unwrap_or(DEFAULT_ENDPOINT_NAME);
        expand_template(t, imei).map_err(|e| template_error("modem.endpoint_name", e))
    }
}

fn check_endpoint_name(name: &str) -> Result<(), ProfileError> {
    let len = name.chars().count();
    let bad = if len == 0 {
        Some("is empty".to_string())
    } else if len > MAX_ENDPOINT_NAME {
        Some(format!("is too long ({len} characters)"))
    } else if name.chars().any(|c| !(' '..='~').contains(&c) || c == '"') {
        Some("contains a character that is not printable ASCII, or '\"'".to_string())
    } else {
        None
    };
    match bad {
        Some(message) => Err(ProfileError::Key {
            path: "modem.endpoint_name".into(),
            message,
            allowed: allowed_for("modem.endpoint_name").into(),
        }),
        None => Ok(()),
    }
}

/// A TOML syntax error: the parser's message and position, never the document's text (it could
/// hold a secret).
fn toml_syntax(text: &str, e: &toml::de::Error) -> ProfileError {
    let (line, column) = match e.span() {
        Some(span) => {
            let before = text.get(..span.start).unwrap_or(text);
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            (Some(line), Some(column))
        }
        None => (None, None),
    };
    ProfileError::Syntax {
        format: "TOML",
        line,
        column,
        message: without_values(e.message().trim()),
    }
}

/// serde_json appends " at line L column C" to its messages; the position is kept separately.
fn strip_json_position(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg.to_string(),
    }
}
