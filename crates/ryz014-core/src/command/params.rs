//! The validated parameter types: texts with their length and character rules, numbers with their
//! ranges (the note's §6, see `docs/at-interface-decisions.md`, "Parameter ranges"), and the
//! enumerated values of `AT+CMEE`, `AT+CFUN` and `AT+SQNSUPGRADE`.

use std::fmt;

use super::ParamError;

/// A text value for an error message: debug-quoted, cut after 40 characters.
pub(super) fn show_text(value: &str) -> String {
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
/// driver (`docs/at-interface-decisions.md`, "Device-initiated upgrade"). The argument names are
/// not public.
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
