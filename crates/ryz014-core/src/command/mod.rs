//! Typed AT commands ([`Command`]) with validated parameters: every command the application note
//! uses, built byte-exact to its examples ([`Command::to_wire`]) and parsed back from text
//! ([`Command::parse`]).
//!
//! Parameter ranges are the note's §6 (see `at-interface.md`); where the note contradicts itself
//! the team's decisions apply (certificate id 11..19, PSK identity of printable ASCII without `"`
//! or `,`). A PSK secret never shows in `Display`, `Debug` or errors beyond its first 4 hex digits.

use std::fmt;
use std::time::Duration;

pub use crate::message::ServerRole;
use crate::psk::{PskError, PskSecret};

// ------------------------------------------------------------------------------------------------
// Errors

/// A parameter value outside what the modem accepts.
///
/// Displays as `<param>: <value> <problem> (allowed <allowed>[; <note>])`, e.g.
/// `certificate_id: 60 is out of range (allowed 11..19; the note's example 60 is outside its own range)`.
/// A PSK secret's value is shown redacted (first 4 characters and `…`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{param}: {value} {problem} (allowed {allowed}{})", note_suffix(*.note))]
pub struct ParamError {
    /// The parameter's name, e.g. `server_id`.
    pub param: &'static str,
    /// The value given, as text (quoted for strings, cut when long, redacted for a secret).
    pub value: String,
    /// What is wrong, e.g. `is out of range`.
    pub problem: String,
    /// The allowed values, e.g. `1..65535`.
    pub allowed: String,
    /// A remark on the note, when it matters.
    pub note: Option<&'static str>,
}

fn note_suffix(note: Option<&'static str>) -> String {
    note.map(|n| format!("; {n}")).unwrap_or_default()
}

impl ParamError {
    fn out_of_range(
        param: &'static str,
        value: u64,
        allowed: String,
        note: Option<&'static str>,
    ) -> Self {
        ParamError {
            param,
            value: value.to_string(),
            problem: "is out of range".into(),
            allowed,
            note,
        }
    }

    /// The error for a PSK secret, showing at most the first 4 characters of the text.
    pub fn psk_secret(text: &str, error: &PskError) -> Self {
        let shown: String = text.chars().take(4).collect();
        let problem = match error {
            PskError::Empty => "is empty".to_string(),
            PskError::OddLength { digits } => format!("has an odd number of hex digits ({digits})"),
            PskError::NotHex { position } => {
                format!("has a character that is not a hex digit at position {position}")
            }
            PskError::TooLong { bytes } => format!("is {bytes} bytes long"),
            PskError::Random(e) => format!("could not be generated: {e}"),
        };
        ParamError {
            param: "psk_secret",
            value: format!("\"{shown}…\""),
            problem,
            allowed: "even-length hex, 1..32 bytes".into(),
            note: None,
        }
    }
}

/// Why a text is not a supported, valid AT command.
///
/// The messages never repeat argument text that could be a PSK secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandParseError {
    /// The text does not start with `AT` (case-insensitive).
    #[error("not an AT command: it must start with \"AT\"")]
    NotAt,
    /// A command (or form of it) this crate does not model. Holds the command name and form
    /// only, e.g. `AT+XYZ=…`.
    #[error("unsupported command {0}")]
    Unsupported(String),
    /// The arguments do not have the command's shape.
    #[error("{command}: {detail}")]
    Syntax {
        /// The command name and form, e.g. `AT+SQNDMCFG=`.
        command: String,
        /// What is wrong.
        detail: String,
    },
    /// An argument is out of its range.
    #[error("{command}: {error}")]
    Param {
        /// The command name and form.
        command: String,
        /// The parameter error (boxed to keep the error small).
        error: Box<ParamError>,
    },
}

// ------------------------------------------------------------------------------------------------
// Validated parameter types

fn show_text(value: &str) -> String {
    const MAX: usize = 40;
    if value.chars().count() > MAX {
        let cut: String = value.chars().take(MAX).collect();
        format!("{:?}…", cut)
    } else {
        format!("{value:?}")
    }
}

/// Checks a text parameter: `min..=max` characters, printable ASCII (space to `~`), none of
/// `forbidden`. `allowed` describes the rule for the message.
fn check_text(
    param: &'static str,
    value: &str,
    min: usize,
    max: usize,
    forbidden: &[char],
    allowed: &str,
) -> Result<String, ParamError> {
    let err = |problem: String| ParamError {
        param,
        value: show_text(value),
        problem,
        allowed: allowed.to_string(),
        note: None,
    };
    let len = value.chars().count();
    if len < min {
        return Err(err(if len == 0 {
            "is empty".into()
        } else {
            format!("is too short ({len} characters)")
        }));
    }
    if len > max {
        return Err(err(format!("is too long ({len} characters)")));
    }
    if let Some(c) = value.chars().find(|c| !(' '..='~').contains(c)) {
        return Err(err(format!("contains {c:?}, which is not printable ASCII")));
    }
    if let Some(c) = value.chars().find(|c| forbidden.contains(c)) {
        return Err(err(format!("contains {c:?}")));
    }
    Ok(value.to_string())
}

macro_rules! text_param {
    ($(#[$doc:meta])* $name:ident, $param:literal, $min:expr, $max:expr, [$($forbidden:expr),*], $allowed:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            /// The parameter's name in error messages.
            pub const PARAM: &'static str = $param;
            /// The fewest characters allowed.
            pub const MIN_LEN: usize = $min;
            /// The most characters allowed.
            pub const MAX_LEN: usize = $max;
            /// A description of the allowed values.
            pub const ALLOWED: &'static str = $allowed;

            /// Validates the text.
            pub fn new(value: &str) -> Result<Self, ParamError> {
                check_text($param, value, $min, $max, &[$($forbidden),*], $allowed).map($name)
            }

            /// The text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl std::str::FromStr for $name {
            type Err = ParamError;
            fn from_str(s: &str) -> Result<Self, ParamError> {
                $name::new(s)
            }
        }
    };
}

text_param!(
    /// A DM / upgrade profile name (`<dmProfile>`, `<upg_profile>`): 1..32 printable ASCII
    /// characters without `"` (§6.1.3, §6.2.1.1), e.g. `standard`.
    ProfileName, "profile", 1, 32, ['"'], "1..32 printable ASCII characters without '\"'"
);
text_param!(
    /// A server or download URL: 1..256 printable ASCII characters without `"` (§6.2.2.1).
    Url, "url", 1, 256, ['"'], "1..256 printable ASCII characters without '\"'"
);
/// The URL schemes the application note allows for the image of `AT+SQNSUPGRADE` (§5: "firmware
/// files from an FTP or HTTP(S) server"), lower case; matched case-insensitively.
pub const UPGRADE_URL_SCHEMES: [&str; 3] = ["http", "https", "ftp"];

/// The rule for an upgrade URL, for messages.
pub const UPGRADE_URL_ALLOWED: &str = "an http://, https:// or ftp:// URL with a host (the note's \
     §5 allows FTP and HTTP(S) servers), 1..256 printable ASCII characters without '\"' or spaces";

impl Url {
    /// Validates the image URL of `AT+SQNSUPGRADE`: a [`Url`] whose scheme is one of
    /// [`UPGRADE_URL_SCHEMES`] (any case), followed by `://` and a non-empty host, without spaces.
    pub fn for_upgrade(value: &str) -> Result<Url, ParamError> {
        let err = |problem: String| ParamError {
            param: Url::PARAM,
            value: show_text(value),
            problem,
            allowed: UPGRADE_URL_ALLOWED.to_string(),
            note: None,
        };
        let url = Url::new(value).map_err(|e| ParamError {
            allowed: UPGRADE_URL_ALLOWED.to_string(),
            ..e
        })?;
        if value.contains(' ') {
            return Err(err("contains a space".into()));
        }
        let Some((scheme, rest)) = value.split_once("://") else {
            return Err(err("has no scheme (such as http://)".into()));
        };
        if !UPGRADE_URL_SCHEMES
            .iter()
            .any(|s| s.eq_ignore_ascii_case(scheme))
        {
            return Err(err(format!(
                "has the scheme {scheme:?}, which the application note does not list for AT+SQNSUPGRADE"
            )));
        }
        let host = rest.split(['/', '?', '#']).next().unwrap_or("");
        let host = host.rsplit('@').next().unwrap_or("");
        if host.is_empty() || host.starts_with(':') {
            return Err(err("has no host".into()));
        }
        Ok(url)
    }
}

text_param!(
    /// A PSK identity: 1..64 printable ASCII characters without `"` or `,` (team decision; the
    /// note's §6.2.3.1 "hexadecimal format" contradicts its own `urn:imei:` examples).
    PskIdentity, "psk_identity", 1, 64, ['"', ','],
    "1..64 printable ASCII characters without '\"' or ','"
);
text_param!(
    /// The restoration point's tag of `AT+SQNFACTORYSAVE` (`"oem"` in §4.3.1.3): 1..32 printable
    /// ASCII characters without `"`.
    FactoryTag, "tag", 1, 32, ['"'], "1..32 printable ASCII characters without '\"'"
);

macro_rules! ranged {
    ($(#[$doc:meta])* $name:ident, $ty:ty, $param:literal, $min:expr, $max:expr, $note:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name($ty);

        impl $name {
            /// The parameter's name in error messages.
            pub const PARAM: &'static str = $param;
            /// The smallest allowed value.
            pub const MIN: $ty = $min;
            /// The largest allowed value.
            pub const MAX: $ty = $max;

            /// Validates the value against `MIN..=MAX`.
            pub fn new(value: u64) -> Result<Self, ParamError> {
                if value < u64::from(Self::MIN) || value > u64::from(Self::MAX) {
                    return Err(ParamError::out_of_range(
                        $param,
                        value,
                        format!("{}..{}", Self::MIN, Self::MAX),
                        $note,
                    ));
                }
                <$ty>::try_from(value).map($name).map_err(|_| {
                    ParamError::out_of_range($param, value, format!("{}..{}", Self::MIN, Self::MAX), $note)
                })
            }

            /// The value.
            pub fn get(self) -> $ty {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }
    };
}

ranged!(
    /// A short server id, 1..65535 (§6.2.2.1).
    ServerId, u16, "server_id", 1, 65535, None
);
ranged!(
    /// A server lifetime (for a bootstrap server: its hold-off time), 0..32000000 s (§6.2.2.1).
    Lifetime, u32, "lifetime", 0, 32_000_000, None
);
ranged!(
    /// A PDP context id, 1..8 (§6.2.2.1).
    Cid, u8, "cid", 1, 8, None
);
ranged!(
    /// The FOTA client mode: 0 = automatic, the only mode the note describes; the test form
    /// lists (0,1), so 0..1 is accepted (§6.1.3).
    FotaMode, u8, "mode", 0, 1, None
);
ranged!(
    /// The `+SQNFOTA` state reporting level, 0..2 (2: state changes and intermediate errors).
    ReportState, u8, "report_state", 0, 2, None
);
ranged!(
    /// The download progress reporting step in percent, 0..100 (0: none).
    ReportDownload, u8, "report_download", 0, 100, None
);
ranged!(
    /// The FOTA periodic timer, 60..32000000 s.
    FotaTimer, u32, "fota_timer", 60, 32_000_000, None
);
ranged!(
    /// The download timeout, 60..65535 s.
    DownloadTimeout, u32, "download_timeout", 60, 65535, None
);
ranged!(
    /// The certificate index for the FOTA repository, 11..19 (§6.1.3 and the test form; the note's
    /// own example passes 60, which we reject).
    CertificateId, u8, "certificate_id", 11, 19,
    Some("the note's example 60 is outside its own range")
);
ranged!(
    /// The security profile (`AT+SQNSPCFG`) used for an HTTPS upgrade, 1..6.
    SecurityProfile, u8, "security_profile", 1, 6, None
);

/// `AT+CMEE=<n>`: how errors are reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CmeeMode {
    /// 0: plain `ERROR`.
    Disabled,
    /// 1: `+CME ERROR: <number>`.
    Numeric,
    /// 2: `+CME ERROR: <text>`.
    Verbose,
}

impl CmeeMode {
    /// From the numeric value 0..2.
    pub fn from_number(n: u64) -> Result<Self, ParamError> {
        match n {
            0 => Ok(CmeeMode::Disabled),
            1 => Ok(CmeeMode::Numeric),
            2 => Ok(CmeeMode::Verbose),
            _ => Err(ParamError::out_of_range("cmee", n, "0..2".into(), None)),
        }
    }

    /// The numeric value.
    pub fn number(self) -> u8 {
        match self {
            CmeeMode::Disabled => 0,
            CmeeMode::Numeric => 1,
            CmeeMode::Verbose => 2,
        }
    }
}

/// `AT+CFUN=<fun>`: the functional levels the toolkit sets (3GPP TS 27.007 §8.2 and the note).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CfunLevel {
    /// 0: minimum functionality.
    Minimum,
    /// 1: full functionality.
    Full,
    /// 4: transmit and receive circuits off ("airplane" mode).
    Airplane,
    /// 5: manufacturing mode (Sequans-specific; DM configuration and the restoration point are
    /// written in it, §4.3.1.2).
    Manufacturing,
}

impl CfunLevel {
    /// From the numeric value: 0, 1, 4 or 5.
    pub fn from_number(n: u64) -> Result<Self, ParamError> {
        match n {
            0 => Ok(CfunLevel::Minimum),
            1 => Ok(CfunLevel::Full),
            4 => Ok(CfunLevel::Airplane),
            5 => Ok(CfunLevel::Manufacturing),
            _ => Err(ParamError {
                param: "cfun",
                value: n.to_string(),
                problem: "is not a supported level".into(),
                allowed: "0, 1, 4 or 5".into(),
                note: None,
            }),
        }
    }

    /// The numeric value.
    pub fn number(self) -> u8 {
        match self {
            CfunLevel::Minimum => 0,
            CfunLevel::Full => 1,
            CfunLevel::Airplane => 4,
            CfunLevel::Manufacturing => 5,
        }
    }
}

/// What an `AT+SQNSUPGRADE="<url>",a,b,c` call does: exactly the three tuples seen in Renesas'
/// driver (sources.md §2). The argument names are not public.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UpgradeAction {
    /// `…,0,5,1`: start in the background; `OK` at once.
    Start,
    /// `…,0,5,2`: cancel an upgrade under way.
    Cancel,
    /// `…,1,5,0`: blocking; `OK` only when done, then the modem reboots (`+SYSSTART`).
    Blocking,
}

impl UpgradeAction {
    /// The three numbers after the URL.
    pub fn tuple(self) -> (u8, u8, u8) {
        match self {
            UpgradeAction::Start => (0, 5, 1),
            UpgradeAction::Cancel => (0, 5, 2),
            UpgradeAction::Blocking => (1, 5, 0),
        }
    }

    /// The action for a tuple, if it is one of the three.
    pub fn from_tuple(t: (u64, u64, u64)) -> Option<Self> {
        match t {
            (0, 5, 1) => Some(UpgradeAction::Start),
            (0, 5, 2) => Some(UpgradeAction::Cancel),
            (1, 5, 0) => Some(UpgradeAction::Blocking),
            _ => None,
        }
    }
}

// ------------------------------------------------------------------------------------------------
// Commands with several parameters

/// `AT+SQNDMCFG=<prof>,"server",<id>,[<lifetime>],<url>[,[<cid>][,[<type>]]]`: add a server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DmServer {
    /// The DM profile.
    pub profile: ProfileName,
    /// The short server id.
    pub server_id: ServerId,
    /// The lifetime (the hold-off time of a bootstrap server); empty when `None`.
    pub lifetime: Option<Lifetime>,
    /// The server URL.
    pub url: Url,
    /// The PDP context id; empty when `None`.
    pub cid: Option<Cid>,
    /// `"bs"` or `"dm"`; omitted when `None` (the modem then assumes `dm`).
    pub server_type: Option<ServerRole>,
}

impl DmServer {
    /// The server type the modem uses: the given one, or `dm` by default.
    pub fn effective_server_type(&self) -> ServerRole {
        self.server_type.unwrap_or(ServerRole::Dm)
    }
}

/// `AT+SQNDMCFG=<prof>,"psk",<id>,<identity>,<secret>`: set the PSK of a server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DmPsk {
    /// The DM profile.
    pub profile: ProfileName,
    /// The short server id the PSK belongs to.
    pub server_id: ServerId,
    /// The PSK identity.
    pub identity: PskIdentity,
    /// The secret (its `Debug` shows only the first 4 hex digits).
    pub secret: PskSecret,
}

/// `AT+SQNFOTACFG=<prof>[,<mode>[,<report_state>[,<report_download>[,<timer>[,<dl_to>[,<cert>]]]]]]`.
///
/// Absent fields before a present one are sent empty (`…,60,,11`); trailing absent ones are
/// omitted. Build with [`FotaConfig::new`] and the `with_*` setters, each validating its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FotaConfig {
    /// The upgrade profile (the DM profile name).
    pub profile: ProfileName,
    /// FOTA mode.
    pub mode: Option<FotaMode>,
    /// State reporting level.
    pub report_state: Option<ReportState>,
    /// Download progress step.
    pub report_download: Option<ReportDownload>,
    /// FOTA periodic timer.
    pub timer: Option<FotaTimer>,
    /// Download timeout.
    pub download_timeout: Option<DownloadTimeout>,
    /// Certificate id.
    pub certificate: Option<CertificateId>,
}

impl FotaConfig {
    /// A configuration with only the profile name.
    pub fn new(profile: &str) -> Result<Self, ParamError> {
        Ok(FotaConfig {
            profile: ProfileName::new(profile)?,
            mode: None,
            report_state: None,
            report_download: None,
            timer: None,
            download_timeout: None,
            certificate: None,
        })
    }

    /// Sets the mode (0..1).
    pub fn with_mode(mut self, v: u64) -> Result<Self, ParamError> {
        self.mode = Some(FotaMode::new(v)?);
        Ok(self)
    }

    /// Sets the state reporting level (0..2).
    pub fn with_report_state(mut self, v: u64) -> Result<Self, ParamError> {
        self.report_state = Some(ReportState::new(v)?);
        Ok(self)
    }

    /// Sets the download progress step (0..100).
    pub fn with_report_download(mut self, v: u64) -> Result<Self, ParamError> {
        self.report_download = Some(ReportDownload::new(v)?);
        Ok(self)
    }

    /// Sets the FOTA timer (60..32000000 s).
    pub fn with_timer(mut self, v: u64) -> Result<Self, ParamError> {
        self.timer = Some(FotaTimer::new(v)?);
        Ok(self)
    }

    /// Sets the download timeout (60..65535 s).
    pub fn with_download_timeout(mut self, v: u64) -> Result<Self, ParamError> {
        self.download_timeout = Some(DownloadTimeout::new(v)?);
        Ok(self)
    }

    /// Sets the certificate id (11..19).
    pub fn with_certificate(mut self, v: u64) -> Result<Self, ParamError> {
        self.certificate = Some(CertificateId::new(v)?);
        Ok(self)
    }

    fn numeric_fields(&self) -> [Option<u64>; 6] {
        [
            self.mode.map(|v| u64::from(v.get())),
            self.report_state.map(|v| u64::from(v.get())),
            self.report_download.map(|v| u64::from(v.get())),
            self.timer.map(|v| u64::from(v.get())),
            self.download_timeout.map(|v| u64::from(v.get())),
            self.certificate.map(|v| u64::from(v.get())),
        ]
    }
}

/// `AT+SQNSUPGRADE="<url>",a,b,c[,<security profile>]`: a device-initiated upgrade (§5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upgrade {
    /// The HTTP(S)/FTP URL of the differential image.
    pub url: Url,
    /// Start, cancel or blocking start.
    pub action: UpgradeAction,
    /// The security profile for HTTPS; omitted when `None`.
    pub security_profile: Option<SecurityProfile>,
}

// ------------------------------------------------------------------------------------------------
// The command

/// One AT command in one of its forms, holding validated values.
///
/// `Display` is [`Command::redacted`]; `Debug` shows the fields, with a PSK secret as its first 4
/// hex digits only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `AT`: is anybody there?
    At,
    /// `ATE0` (false) / `ATE1` (true): command echo.
    Echo(bool),
    /// `AT+CMEE=<n>`.
    Cmee(CmeeMode),
    /// `AT+CMEE?`: how errors are reported now.
    CmeeRead,
    /// `AT+CGSN`: the IMEI as a bare line.
    Cgsn,
    /// `ATI1`: firmware versions (`UE…` and `LR…` lines).
    Ati1,
    /// `AT+CFUN?`.
    CfunRead,
    /// `AT+CFUN=<level>`.
    Cfun(CfunLevel),
    /// `AT+CFUN=1,1`: reset, then full functionality (§4.3.3).
    CfunReset,
    /// `AT^RESET`: reboot.
    Reset,
    /// `AT+SQNCTM?`: the operator mode.
    OperatorModeRead,
    /// `AT+SQNAUTOCONNECT=<0|1>`.
    AutoConnect(bool),
    /// `AT+SQNAUTOCONNECT?`.
    AutoConnectRead,
    /// `AT+SQNDMCFG=?`.
    DmConfigTest,
    /// `AT+SQNDMCFG=<prof>,"service",<0|1>`.
    DmService {
        /// The DM profile.
        profile: ProfileName,
        /// Start the LwM2M client at power-on.
        autostart: bool,
    },
    /// `AT+SQNDMCFG=<prof>,"service"`.
    DmServiceRead {
        /// The DM profile.
        profile: ProfileName,
    },
    /// `AT+SQNDMCFG=<prof>,"server",…`.
    DmServer(DmServer),
    /// `AT+SQNDMCFG=<prof>,"server"`: one read line per server.
    DmServerRead {
        /// The DM profile.
        profile: ProfileName,
    },
    /// `AT+SQNDMCFG=<prof>,"psk",<id>,<identity>,<secret>`.
    DmPsk(DmPsk),
    /// `AT+SQNDMCFG=<prof>,"psk",<id>,"",""`: remove a server's PSK.
    DmPskRemove {
        /// The DM profile.
        profile: ProfileName,
        /// The server whose PSK goes.
        server_id: ServerId,
    },
    /// `AT+SQNDMCFG=<prof>,"psk"`: one read line per PSK (secret: first 4 hex digits).
    DmPskRead {
        /// The DM profile.
        profile: ProfileName,
    },
    /// `AT+SQNDMCFG=<prof>,"delete-profile-config"`.
    DmDeleteProfile {
        /// The DM profile to delete.
        profile: ProfileName,
    },
    /// `AT+SQNFOTACFG=…`.
    FotaConfig(FotaConfig),
    /// `AT+SQNFOTACFG?`.
    FotaConfigRead,
    /// `AT+SQNFOTACFG=?`.
    FotaConfigTest,
    /// `AT+SQNDMST`: LwM2M registration status.
    DmStatus,
    /// `AT+SQNFACTORYSAVE="<tag>"`: save the restoration point (manufacturing mode).
    FactorySave {
        /// The tag, `oem` in the note.
        tag: FactoryTag,
    },
    /// `AT+SQNSFACTORYRESET`: back to the restoration point (a reboot commits it).
    FactoryReset,
    /// `AT+CEREG?`.
    CeregRead,
    /// `AT+SQNSUPGRADE="<url>",…`.
    Upgrade(Upgrade),
    /// `AT+SQNSUPGRADE?`.
    UpgradeRead,
}

fn q(s: &str) -> String {
    format!("\"{s}\"")
}

fn opt<T: fmt::Display>(v: &Option<T>) -> String {
    v.as_ref().map(|v| v.to_string()).unwrap_or_default()
}

fn opt_quoted<T: fmt::Display>(v: &Option<T>) -> String {
    v.as_ref().map(|v| q(&v.to_string())).unwrap_or_default()
}

impl Command {
    // --- convenience constructors from raw values --------------------------------------------

    /// `AT+CMEE=<n>`, n in 0..2.
    pub fn cmee(n: u64) -> Result<Command, ParamError> {
        CmeeMode::from_number(n).map(Command::Cmee)
    }

    /// `AT+CFUN=<level>`, level 0, 1, 4 or 5.
    pub fn cfun(level: u64) -> Result<Command, ParamError> {
        CfunLevel::from_number(level).map(Command::Cfun)
    }

    /// `AT+SQNDMCFG="<profile>","service",<0|1>`.
    pub fn dm_service(profile: &str, autostart: bool) -> Result<Command, ParamError> {
        Ok(Command::DmService {
            profile: ProfileName::new(profile)?,
            autostart,
        })
    }

    /// `AT+SQNDMCFG="<profile>","server",…`.
    pub fn dm_server(
        profile: &str,
        server_id: u64,
        lifetime: Option<u64>,
        url: &str,
        cid: Option<u64>,
        server_type: Option<ServerRole>,
    ) -> Result<Command, ParamError> {
        Ok(Command::DmServer(DmServer {
            profile: ProfileName::new(profile)?,
            server_id: ServerId::new(server_id)?,
            lifetime: lifetime.map(Lifetime::new).transpose()?,
            url: Url::new(url)?,
            cid: cid.map(Cid::new).transpose()?,
            server_type,
        }))
    }

    /// `AT+SQNDMCFG="<profile>","psk",<id>,"<identity>","<secret>"`.
    pub fn dm_psk(
        profile: &str,
        server_id: u64,
        identity: &str,
        secret: PskSecret,
    ) -> Result<Command, ParamError> {
        Ok(Command::DmPsk(DmPsk {
            profile: ProfileName::new(profile)?,
            server_id: ServerId::new(server_id)?,
            identity: PskIdentity::new(identity)?,
            secret,
        }))
    }

    /// `AT+SQNFACTORYSAVE="<tag>"`.
    pub fn factory_save(tag: &str) -> Result<Command, ParamError> {
        Ok(Command::FactorySave {
            tag: FactoryTag::new(tag)?,
        })
    }

    /// `AT+SQNSUPGRADE="<url>",…`. The URL must be one the modem downloads from
    /// ([`Url::for_upgrade`]: http, https or ftp with a host).
    pub fn upgrade(
        url: &str,
        action: UpgradeAction,
        security_profile: Option<u64>,
    ) -> Result<Command, ParamError> {
        Ok(Command::Upgrade(Upgrade {
            url: Url::for_upgrade(url)?,
            action,
            security_profile: security_profile.map(SecurityProfile::new).transpose()?,
        }))
    }

    // --- wire form ------------------------------------------------------------------------------

    /// The exact command text, without the trailing `\r`, e.g.
    /// `AT+SQNDMCFG="standard","service",1`. Contains a PSK secret in full: send it, never show it.
    pub fn to_wire(&self) -> String {
        self.render(false)
    }

    /// [`Command::to_wire`] followed by `\r`: the bytes to write to the modem.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut b = self.to_wire().into_bytes();
        b.push(b'\r');
        b
    }

    /// The wire text with any PSK secret cut to its first 4 hex digits and `…`: for logs and screens.
    pub fn redacted(&self) -> String {
        self.render(true)
    }

    fn render(&self, redact: bool) -> String {
        match self {
            Command::At => "AT".into(),
            Command::Echo(on) => format!("ATE{}", u8::from(*on)),
            Command::Cmee(m) => format!("AT+CMEE={}", m.number()),
            Command::CmeeRead => "AT+CMEE?".into(),
            Command::Cgsn => "AT+CGSN".into(),
            Command::Ati1 => "ATI1".into(),
            Command::CfunRead => "AT+CFUN?".into(),
            Command::Cfun(l) => format!("AT+CFUN={}", l.number()),
            Command::CfunReset => "AT+CFUN=1,1".into(),
            Command::Reset => "AT^RESET".into(),
            Command::OperatorModeRead => "AT+SQNCTM?".into(),
            Command::AutoConnect(on) => format!("AT+SQNAUTOCONNECT={}", u8::from(*on)),
            Command::AutoConnectRead => "AT+SQNAUTOCONNECT?".into(),
            Command::DmConfigTest => "AT+SQNDMCFG=?".into(),
            Command::DmService { profile, autostart } => format!(
                "AT+SQNDMCFG={},\"service\",{}",
                q(profile.as_str()),
                u8::from(*autostart)
            ),
            Command::DmServiceRead { profile } => {
                format!("AT+SQNDMCFG={},\"service\"", q(profile.as_str()))
            }
            Command::DmServer(s) => {
                // Quoted numbers, exactly as the note's working example (§4.3.1.2).
                let mut out = format!(
                    "AT+SQNDMCFG={},\"server\",{},{},{}",
                    q(s.profile.as_str()),
                    s.server_id,
                    opt_quoted(&s.lifetime),
                    q(s.url.as_str())
                );
                if s.cid.is_some() || s.server_type.is_some() {
                    out.push(',');
                    out.push_str(&opt_quoted(&s.cid));
                }
                if let Some(t) = s.server_type {
                    out.push(',');
                    out.push_str(&q(t.as_str()));
                }
                out
            }
            Command::DmServerRead { profile } => {
                format!("AT+SQNDMCFG={},\"server\"", q(profile.as_str()))
            }
            Command::DmPsk(p) => {
                let secret = if redact {
                    p.secret.redacted()
                } else {
                    p.secret.expose_hex()
                };
                format!(
                    "AT+SQNDMCFG={},\"psk\",{},{},{}",
                    q(p.profile.as_str()),
                    p.server_id,
                    q(p.identity.as_str()),
                    q(&secret)
                )
            }
            Command::DmPskRemove { profile, server_id } => format!(
                "AT+SQNDMCFG={},\"psk\",{},\"\",\"\"",
                q(profile.as_str()),
                server_id
            ),
            Command::DmPskRead { profile } => {
                format!("AT+SQNDMCFG={},\"psk\"", q(profile.as_str()))
            }
            Command::DmDeleteProfile { profile } => format!(
                "AT+SQNDMCFG={},\"delete-profile-config\"",
                q(profile.as_str())
            ),
            Command::FotaConfig(c) => {
                let mut out = format!("AT+SQNFOTACFG={}", q(c.profile.as_str()));
                let fields = c.numeric_fields();
                let last = fields.iter().rposition(Option::is_some);
                if let Some(last) = last {
                    for f in &fields[..=last] {
                        out.push(',');
                        out.push_str(&opt(f));
                    }
                }
                out
            }
            Command::FotaConfigRead => "AT+SQNFOTACFG?".into(),
            Command::FotaConfigTest => "AT+SQNFOTACFG=?".into(),
            Command::DmStatus => "AT+SQNDMST".into(),
            Command::FactorySave { tag } => format!("AT+SQNFACTORYSAVE={}", q(tag.as_str())),
            Command::FactoryReset => "AT+SQNSFACTORYRESET".into(),
            Command::CeregRead => "AT+CEREG?".into(),
            Command::Upgrade(u) => {
                let (a, b, c) = u.action.tuple();
                let mut out = format!("AT+SQNSUPGRADE={},{a},{b},{c}", q(u.url.as_str()));
                if let Some(sp) = u.security_profile {
                    out.push_str(&format!(",{sp}"));
                }
                out
            }
            Command::UpgradeRead => "AT+SQNSUPGRADE?".into(),
        }
    }

    // --- what to expect -------------------------------------------------------------------------

    /// The command's name as on the wire, without its form: `AT`, `ATE`, `ATI1`, `AT+SQNDMCFG`, ….
    pub fn name(&self) -> &'static str {
        match self {
            Command::At => "AT",
            Command::Echo(_) => "ATE",
            Command::Cmee(_) | Command::CmeeRead => "AT+CMEE",
            Command::Cgsn => "AT+CGSN",
            Command::Ati1 => "ATI1",
            Command::CfunRead | Command::Cfun(_) | Command::CfunReset => "AT+CFUN",
            Command::Reset => "AT^RESET",
            Command::OperatorModeRead => "AT+SQNCTM",
            Command::AutoConnect(_) | Command::AutoConnectRead => "AT+SQNAUTOCONNECT",
            Command::DmConfigTest
            | Command::DmService { .. }
            | Command::DmServiceRead { .. }
            | Command::DmServer(_)
            | Command::DmServerRead { .. }
            | Command::DmPsk(_)
            | Command::DmPskRemove { .. }
            | Command::DmPskRead { .. }
            | Command::DmDeleteProfile { .. } => "AT+SQNDMCFG",
            Command::FotaConfig(_) | Command::FotaConfigRead | Command::FotaConfigTest => {
                "AT+SQNFOTACFG"
            }
            Command::DmStatus => "AT+SQNDMST",
            Command::FactorySave { .. } => "AT+SQNFACTORYSAVE",
            Command::FactoryReset => "AT+SQNSFACTORYRESET",
            Command::CeregRead => "AT+CEREG",
            Command::Upgrade(_) | Command::UpgradeRead => "AT+SQNSUPGRADE",
        }
    }

    /// The prefix of the information lines this command answers with (`+CEREG` for `AT+CEREG?`,
    /// `+SQNDMCFG` for the DM configuration reads and test form, …). `None` for commands answered
    /// by bare lines (`AT+CGSN`, `ATI1`) or by a final result only.
    pub fn response_prefix(&self) -> Option<&'static str> {
        Some(match self {
            Command::CfunRead => "+CFUN",
            Command::CmeeRead => "+CMEE",
            Command::OperatorModeRead => "+SQNCTM",
            Command::AutoConnectRead => "+SQNAUTOCONNECT",
            Command::DmConfigTest
            | Command::DmServiceRead { .. }
            | Command::DmServerRead { .. }
            | Command::DmPskRead { .. } => "+SQNDMCFG",
            Command::FotaConfigRead | Command::FotaConfigTest => "+SQNFOTACFG",
            Command::DmStatus => "+SQNDMST",
            Command::CeregRead => "+CEREG",
            Command::UpgradeRead => "+SQNSUPGRADE",
            _ => return None,
        })
    }

    /// Whether the modem reboots after answering (`+SHUTDOWN`, then `+SYSSTART`): `AT^RESET`,
    /// `AT+CFUN=1,1`, and a blocking `AT+SQNSUPGRADE` (it ends with the new firmware's boot).
    pub fn reboots(&self) -> bool {
        match self {
            Command::Reset | Command::CfunReset => true,
            Command::Upgrade(u) => u.action == UpgradeAction::Blocking,
            _ => false,
        }
    }

    /// Whether the command carries a PSK secret.
    pub fn has_secret(&self) -> bool {
        matches!(self, Command::DmPsk(_))
    }

    /// How long to wait for the final result, from the drivers' budgets (sources.md §3): 40 s for
    /// `AT+CFUN` writes, 60 minutes for a blocking upgrade, 30 s for the restoration point and
    /// factory reset, 10 s for the rest. The wait for `+SYSSTART` after a reboot is separate.
    pub fn typical_timeout(&self) -> Duration {
        match self {
            Command::Cfun(_) | Command::CfunReset => Duration::from_secs(40),
            Command::FactorySave { .. } | Command::FactoryReset => Duration::from_secs(30),
            Command::Upgrade(u) if u.action == UpgradeAction::Blocking => {
                Duration::from_secs(60 * 60)
            }
            _ => Duration::from_secs(10),
        }
    }

    // --- parsing --------------------------------------------------------------------------------

    /// Parses a command line (with or without its trailing `\r`).
    ///
    /// `AT` and the command name are case-insensitive, as are the group names and server types;
    /// numbers may be quoted or bare; optional fields may be empty; every value is validated.
    pub fn parse(line: &str) -> Result<Command, CommandParseError> {
        let s = line.trim_matches(|c: char| c == '\r' || c == '\n' || c == ' ');
        if s.len() < 2 || !s.is_char_boundary(2) || !s[..2].eq_ignore_ascii_case("AT") {
            return Err(CommandParseError::NotAt);
        }
        let rest = &s[2..];
        if rest.is_empty() {
            return Ok(Command::At);
        }
        if !rest.starts_with(['+', '^']) {
            return match rest.to_ascii_uppercase().as_str() {
                "E0" => Ok(Command::Echo(false)),
                "E1" => Ok(Command::Echo(true)),
                "I1" => Ok(Command::Ati1),
                _ => Err(CommandParseError::Unsupported(format!(
                    "AT{}",
                    rest.chars().take(16).collect::<String>()
                ))),
            };
        }
        let name_end = rest.find(['=', '?']).unwrap_or(rest.len());
        let name = rest[..name_end].trim().to_ascii_uppercase();
        let tail = &rest[name_end..];
        let form = if tail.is_empty() {
            Form::Exec
        } else if tail == "?" {
            Form::Read
        } else if tail == "=?" {
            Form::Test
        } else if let Some(args) = tail.strip_prefix('=') {
            Form::Set(args)
        } else {
            Form::Bad
        };
        let ctx = Ctx {
            command: format!("AT{name}{}", form.suffix()),
        };
        let unsupported = || Err(CommandParseError::Unsupported(ctx.command.clone()));
        match (name.as_str(), form) {
            ("+CMEE", Form::Set(a)) => {
                let a = ctx.args(a, 1, 1)?;
                let n = ctx.req_num(&a, 0, "cmee")?;
                Command::cmee(n).map_err(|e| ctx.param(e))
            }
            ("+CGSN", Form::Exec) => Ok(Command::Cgsn),
            ("+CFUN", Form::Read) => Ok(Command::CfunRead),
            ("+CMEE", Form::Read) => Ok(Command::CmeeRead),
            ("+CFUN", Form::Set(a)) => {
                let a = ctx.args(a, 1, 2)?;
                let level = ctx.req_num(&a, 0, "cfun")?;
                let rst = ctx.opt_num(&a, 1, "rst")?;
                match rst {
                    None | Some(0) => Command::cfun(level).map_err(|e| ctx.param(e)),
                    Some(1) if level == 1 => Ok(Command::CfunReset),
                    Some(1) => Err(ctx.syntax("only AT+CFUN=1,1 combines a reset with a level")),
                    Some(n) => {
                        Err(ctx.param(ParamError::out_of_range("rst", n, "0..1".into(), None)))
                    }
                }
            }
            ("^RESET", Form::Exec) => Ok(Command::Reset),
            ("+SQNCTM", Form::Read) => Ok(Command::OperatorModeRead),
            ("+SQNAUTOCONNECT", Form::Read) => Ok(Command::AutoConnectRead),
            ("+SQNAUTOCONNECT", Form::Set(a)) => {
                let a = ctx.args(a, 1, 1)?;
                ctx.req_bool(&a, 0, "autoconnect").map(Command::AutoConnect)
            }
            ("+SQNDMCFG", Form::Test) => Ok(Command::DmConfigTest),
            ("+SQNDMCFG", Form::Set(a)) => ctx.parse_dmcfg(a),
            ("+SQNFOTACFG", Form::Read) => Ok(Command::FotaConfigRead),
            ("+SQNFOTACFG", Form::Test) => Ok(Command::FotaConfigTest),
            ("+SQNFOTACFG", Form::Set(a)) => ctx.parse_fotacfg(a),
            ("+SQNDMST", Form::Exec) => Ok(Command::DmStatus),
            ("+SQNFACTORYSAVE", Form::Set(a)) => {
                let a = ctx.args(a, 1, 1)?;
                let tag = ctx.req_text(&a, 0, "tag")?;
                Command::factory_save(tag).map_err(|e| ctx.param(e))
            }
            ("+SQNSFACTORYRESET", Form::Exec) => Ok(Command::FactoryReset),
            ("+CEREG", Form::Read) => Ok(Command::CeregRead),
            ("+SQNSUPGRADE", Form::Read) => Ok(Command::UpgradeRead),
            ("+SQNSUPGRADE", Form::Set(a)) => {
                let a = ctx.args(a, 4, 5)?;
                let url = ctx.req_text(&a, 0, "url")?;
                let t = (
                    ctx.req_num(&a, 1, "upgrade argument 2")?,
                    ctx.req_num(&a, 2, "upgrade argument 3")?,
                    ctx.req_num(&a, 3, "upgrade argument 4")?,
                );
                let action = UpgradeAction::from_tuple(t).ok_or_else(|| {
                    ctx.syntax(&format!(
                        "the arguments {},{},{} are not a known form (allowed: 0,5,1 start; 0,5,2 cancel; 1,5,0 blocking)",
                        t.0, t.1, t.2
                    ))
                })?;
                let sp = ctx.opt_num(&a, 4, "security_profile")?;
                Command::upgrade(url, action, sp).map_err(|e| ctx.param(e))
            }
            _ => unsupported(),
        }
    }
}

impl fmt::Display for Command {
    /// The redacted wire form ([`Command::redacted`]).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl std::str::FromStr for Command {
    type Err = CommandParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Command::parse(s)
    }
}

// ------------------------------------------------------------------------------------------------
// Parsing helpers

#[derive(Clone, Copy)]
enum Form<'a> {
    Exec,
    Read,
    Test,
    Set(&'a str),
    Bad,
}

impl Form<'_> {
    fn suffix(&self) -> &'static str {
        match self {
            Form::Exec => "",
            Form::Read => "?",
            Form::Test => "=?",
            Form::Set(_) => "=…",
            Form::Bad => "…",
        }
    }
}

/// One comma-separated argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Arg<'a> {
    /// Nothing between the commas.
    Empty,
    /// `"…"`, without the quotes.
    Quoted(&'a str),
    /// Anything else, trimmed.
    Bare(&'a str),
}

impl<'a> Arg<'a> {
    /// The text, `None` for an empty field or `""`.
    fn value(self) -> Option<&'a str> {
        match self {
            Arg::Empty | Arg::Quoted("") => None,
            Arg::Quoted(s) | Arg::Bare(s) => Some(s),
        }
    }
}

/// Splits an argument list at commas outside quotes. Errors on an unterminated quote or text
/// after a closing quote.
fn split_args(s: &str) -> Result<Vec<Arg<'_>>, String> {
    let mut out = Vec::new();
    let mut i = 0;
    let bytes = s.as_bytes();
    loop {
        while i < bytes.len() && bytes[i] == b' ' {
            i += 1;
        }
        if i < bytes.len() && bytes[i] == b'"' {
            let start = i + 1;
            let end = s[start..]
                .find('"')
                .map(|p| start + p)
                .ok_or_else(|| format!("argument {} has no closing quote", out.len() + 1))?;
            out.push(Arg::Quoted(&s[start..end]));
            i = end + 1;
            while i < bytes.len() && bytes[i] == b' ' {
                i += 1;
            }
            if i < bytes.len() && bytes[i] != b',' {
                return Err(format!(
                    "argument {} has text after its closing quote",
                    out.len()
                ));
            }
        } else {
            let end = s[i..].find(',').map(|p| i + p).unwrap_or(s.len());
            let t = s[i..end].trim();
            out.push(if t.is_empty() {
                Arg::Empty
            } else {
                Arg::Bare(t)
            });
            i = end;
        }
        if i >= bytes.len() {
            return Ok(out);
        }
        // bytes[i] == b','
        i += 1;
    }
}

fn parse_u64(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

struct Ctx {
    command: String,
}

impl Ctx {
    fn syntax(&self, detail: &str) -> CommandParseError {
        CommandParseError::Syntax {
            command: self.command.clone(),
            detail: detail.to_string(),
        }
    }

    fn param(&self, error: ParamError) -> CommandParseError {
        CommandParseError::Param {
            command: self.command.clone(),
            error: Box::new(error),
        }
    }

    fn args<'a>(
        &self,
        s: &'a str,
        min: usize,
        max: usize,
    ) -> Result<Vec<Arg<'a>>, CommandParseError> {
        let a = split_args(s).map_err(|d| self.syntax(&d))?;
        self.count(&a, min, max)?;
        Ok(a)
    }

    fn count(&self, a: &[Arg<'_>], min: usize, max: usize) -> Result<(), CommandParseError> {
        if a.len() < min || a.len() > max {
            let want = if min == max {
                format!("{min}")
            } else {
                format!("{min} to {max}")
            };
            return Err(self.syntax(&format!("expected {want} arguments, got {}", a.len())));
        }
        Ok(())
    }

    fn opt_num(
        &self,
        a: &[Arg<'_>],
        i: usize,
        param: &str,
    ) -> Result<Option<u64>, CommandParseError> {
        match a.get(i).and_then(|x| x.value()) {
            None => Ok(None),
            Some(v) => parse_u64(v)
                .map(Some)
                .ok_or_else(|| self.syntax(&format!("{param} must be a non-negative number"))),
        }
    }

    fn req_num(&self, a: &[Arg<'_>], i: usize, param: &str) -> Result<u64, CommandParseError> {
        self.opt_num(a, i, param)?
            .ok_or_else(|| self.syntax(&format!("{param} is missing")))
    }

    fn req_bool(
        &self,
        a: &[Arg<'_>],
        i: usize,
        param: &'static str,
    ) -> Result<bool, CommandParseError> {
        match self.req_num(a, i, param)? {
            0 => Ok(false),
            1 => Ok(true),
            n => Err(self.param(ParamError::out_of_range(param, n, "0..1".into(), None))),
        }
    }

    fn req_text<'a>(
        &self,
        a: &[Arg<'a>],
        i: usize,
        param: &str,
    ) -> Result<&'a str, CommandParseError> {
        a.get(i)
            .and_then(|x| x.value())
            .ok_or_else(|| self.syntax(&format!("{param} is missing")))
    }

    fn profile(&self, a: &[Arg<'_>]) -> Result<ProfileName, CommandParseError> {
        let p = self.req_text(a, 0, "profile")?;
        ProfileName::new(p).map_err(|e| self.param(e))
    }

    fn parse_dmcfg(&self, s: &str) -> Result<Command, CommandParseError> {
        let a = split_args(s).map_err(|d| self.syntax(&d))?;
        let profile = self.profile(&a)?;
        let group = self.req_text(&a, 1, "group")?.to_ascii_lowercase();
        match group.as_str() {
            "service" => {
                self.count(&a, 2, 3)?;
                if a.len() == 2 {
                    return Ok(Command::DmServiceRead { profile });
                }
                let autostart = self.req_bool(&a, 2, "autostart")?;
                Ok(Command::DmService { profile, autostart })
            }
            "server" => {
                if a.len() == 2 {
                    return Ok(Command::DmServerRead { profile });
                }
                self.count(&a, 5, 7)?;
                let server_id = ServerId::new(self.req_num(&a, 2, "server_id")?)
                    .map_err(|e| self.param(e))?;
                let lifetime = self
                    .opt_num(&a, 3, "lifetime")?
                    .map(Lifetime::new)
                    .transpose()
                    .map_err(|e| self.param(e))?;
                let url = Url::new(self.req_text(&a, 4, "url")?).map_err(|e| self.param(e))?;
                let cid = self
                    .opt_num(&a, 5, "cid")?
                    .map(Cid::new)
                    .transpose()
                    .map_err(|e| self.param(e))?;
                let server_type = match a.get(6).and_then(|x| x.value()) {
                    None => None,
                    Some(t) if t.eq_ignore_ascii_case("bs") => Some(ServerRole::Bs),
                    Some(t) if t.eq_ignore_ascii_case("dm") => Some(ServerRole::Dm),
                    Some(t) => {
                        return Err(self.param(ParamError {
                            param: "server_type",
                            value: show_text(t),
                            problem: "is not a server type".into(),
                            allowed: "\"bs\" or \"dm\"".into(),
                            note: None,
                        }))
                    }
                };
                Ok(Command::DmServer(DmServer {
                    profile,
                    server_id,
                    lifetime,
                    url,
                    cid,
                    server_type,
                }))
            }
            "psk" => {
                if a.len() == 2 {
                    return Ok(Command::DmPskRead { profile });
                }
                self.count(&a, 5, 5)?;
                let server_id = ServerId::new(self.req_num(&a, 2, "server_id")?)
                    .map_err(|e| self.param(e))?;
                match (a[3].value(), a[4].value()) {
                    (None, None) => Ok(Command::DmPskRemove { profile, server_id }),
                    (Some(identity), Some(secret)) => {
                        let identity = PskIdentity::new(identity).map_err(|e| self.param(e))?;
                        let secret = PskSecret::from_hex(secret)
                            .map_err(|e| self.param(ParamError::psk_secret(secret, &e)))?;
                        Ok(Command::DmPsk(DmPsk {
                            profile,
                            server_id,
                            identity,
                            secret,
                        }))
                    }
                    (None, Some(_)) => Err(self.syntax(
                        "psk_identity is empty but psk_secret is not (both empty removes the entry)",
                    )),
                    (Some(_), None) => Err(self.syntax(
                        "psk_secret is empty but psk_identity is not (both empty removes the entry)",
                    )),
                }
            }
            "delete-profile-config" => {
                self.count(&a, 2, 2)?;
                Ok(Command::DmDeleteProfile { profile })
            }
            _ => Err(self.syntax(&format!(
                "unknown group {} (allowed: \"service\", \"server\", \"psk\", \"delete-profile-config\")",
                show_text(&group)
            ))),
        }
    }

    fn parse_fotacfg(&self, s: &str) -> Result<Command, CommandParseError> {
        let a = self.args(s, 1, 7)?;
        let mut c = FotaConfig {
            profile: self.profile(&a)?,
            mode: None,
            report_state: None,
            report_download: None,
            timer: None,
            download_timeout: None,
            certificate: None,
        };
        let p = |e| self.param(e);
        c.mode = self
            .opt_num(&a, 1, "mode")?
            .map(FotaMode::new)
            .transpose()
            .map_err(p)?;
        c.report_state = self
            .opt_num(&a, 2, "report_state")?
            .map(ReportState::new)
            .transpose()
            .map_err(p)?;
        c.report_download = self
            .opt_num(&a, 3, "report_download")?
            .map(ReportDownload::new)
            .transpose()
            .map_err(p)?;
        c.timer = self
            .opt_num(&a, 4, "fota_timer")?
            .map(FotaTimer::new)
            .transpose()
            .map_err(p)?;
        c.download_timeout = self
            .opt_num(&a, 5, "download_timeout")?
            .map(DownloadTimeout::new)
            .transpose()
            .map_err(p)?;
        c.certificate = self
            .opt_num(&a, 6, "certificate_id")?
            .map(CertificateId::new)
            .transpose()
            .map_err(p)?;
        Ok(Command::FotaConfig(c))
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    #[test]
    fn split_args_handles_quotes_empties_and_commas_in_quotes() {
        assert_eq!(
            split_args(r#""a,b",1,,"","x" , 7"#).unwrap(),
            vec![
                Arg::Quoted("a,b"),
                Arg::Bare("1"),
                Arg::Empty,
                Arg::Quoted(""),
                Arg::Quoted("x"),
                Arg::Bare("7")
            ]
        );
        assert_eq!(split_args("").unwrap(), vec![Arg::Empty]);
        assert_eq!(split_args("1,").unwrap(), vec![Arg::Bare("1"), Arg::Empty]);
        assert!(split_args(r#""abc"#).is_err());
        assert!(split_args(r#""abc"x,1"#).is_err());
    }

    #[test]
    fn parse_u64_rejects_signs_and_spaces() {
        assert_eq!(parse_u64("0060"), Some(60));
        assert_eq!(parse_u64("-1"), None);
        assert_eq!(parse_u64("+1"), None);
        assert_eq!(parse_u64("99999999999999999999999"), None);
    }

    #[test]
    fn parse_errors_do_not_echo_secrets() {
        let secret = "0123456789abcdef0123456789abcdef0";
        let err = Command::parse(&format!(
            r#"AT+SQNDMCFG="standard","psk",100,"id","{secret}""#
        ))
        .unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("psk_secret"), "{msg}");
        assert!(!msg.contains("01234"), "{msg}");
        assert!(!format!("{err:?}").contains("01234"));
    }
}
