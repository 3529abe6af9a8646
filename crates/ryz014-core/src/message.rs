//! The typed form of every line the modem sends: final results, information lines and
//! unsolicited notifications (URCs). [`crate::parse::parse_line`] produces these; the models,
//! the client and the front ends consume them.

use serde::Serialize;

/// One line from the modem, classified and decoded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Message {
    /// An echoed command (`AT...`), seen when echo is on (`ATE1`).
    Command {
        /// The command text as echoed, without line end.
        text: String,
    },
    /// A final result: `OK`, `ERROR`, `+CME ERROR: <n>`, `+CMS ERROR: <n>`.
    Final(FinalResult),
    /// `+SQNFOTA: ...`, the FOTA client's state notification.
    Fota(FotaNotification),
    /// `+SQNDMST: ...`, one server's LwM2M registration status.
    DmStatus(DmStatusLine),
    /// `+SQNDMCFG: ...` (or the note's `+SQNDMCFG=...`), a read line of the DM configuration.
    DmConfig(DmConfigLine),
    /// `+SQNFOTACFG: ...` read line (the configuration that applies at the next reboot).
    FotaConfig(FotaConfigLine),
    /// `+SQNFOTACFG: 32,(0,1),...` test line, kept verbatim after the prefix.
    FotaConfigRange {
        /// The text after `+SQNFOTACFG: `.
        ranges: String,
    },
    /// `+SQNCTM: <mode>`, the operator (conformance) mode.
    OperatorMode {
        /// The mode name, e.g. `standard`, without quotes.
        mode: String,
    },
    /// `+SQNAUTOCONNECT: <n>`.
    AutoConnect {
        /// 1 when the modem attaches automatically after boot.
        enabled: u8,
    },
    /// `+CEREG: ...`, EPS network registration (both the URC and the read form).
    Registration(Registration),
    /// `+CMEE: <n>`, how errors are reported (0 plain `ERROR`, 1 numeric, 2 verbose).
    Cmee {
        /// The mode.
        mode: u8,
    },
    /// `+CFUN: <n>`, the functional level.
    Cfun {
        /// The functional level (1 full, 4 airplane, 5 manufacturing, ...).
        level: u8,
    },
    /// `+SYSSTART` or `+SHUTDOWN`.
    Boot {
        /// Which of the two.
        event: BootEvent,
    },
    /// `^EXIT: <file>@<line>` or `^EXIT: exception: …`: the module crashed and restarts on its own
    /// (`+SYSSTART` follows seconds later). Seen in public logs of Sequans Monarch modules, not in
    /// the note. Decoded as a `boot` record with event `crash`.
    Crash {
        /// The text after `^EXIT:` (a source location, or the exception), trimmed.
        report: String,
    },
    /// A bare 15-digit line: the IMEI (answer to `AT+CGSN`).
    Imei {
        /// The 15 digits.
        imei: String,
    },
    /// An `ATI1` line: `UE5.4.1.1` or `LR5.4.1.1-57857`.
    Firmware(FirmwareLine),
    /// `+SQNSUPGRADE: ...` (the read answer or the unsolicited status); values are not public, so kept verbatim.
    Upgrade {
        /// The text after `+SQNSUPGRADE: `.
        raw: String,
    },
    /// The `> ` data prompt.
    Prompt,
    /// Anything else, verbatim. Never dropped.
    Unknown {
        /// The line as received (lossily decoded to UTF-8).
        raw: String,
    },
}

/// A command's final result code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "result", content = "code", rename_all = "snake_case")]
pub enum FinalResult {
    /// `OK`.
    Ok,
    /// `ERROR`.
    Error,
    /// `+CME ERROR: <n>` (numeric) or the verbose text form, kept as [`ErrorCode::Text`].
    CmeError(ErrorCode),
    /// `+CMS ERROR: <n>`.
    CmsError(ErrorCode),
}

/// The code of a `+CME ERROR` / `+CMS ERROR` result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum ErrorCode {
    /// Numeric form (`AT+CMEE=1`).
    Number(u32),
    /// Verbose form (`AT+CMEE=2`), e.g. `operation not supported`.
    Text(String),
}

/// A `+SQNFOTA` notification in any of its forms.
///
/// `+SQNFOTA: <state>[,<cause>[,<progress>]]` fills the numeric fields;
/// `+SQNFOTA: "<event>"[,"<version>"]` fills `event` and `version`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct FotaNotification {
    /// The numeric state (1 onboarding, 2 stopped, 3 idle, 4 checking, 5 downloading, 6 downloaded,
    /// 7 installing, 8 installed; others kept as numbers).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<u32>,
    /// The second number: a cause (`3,8` = installation failure) or, with a progress, a sub-state (`5,3,<pct>`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause: Option<u32>,
    /// Download progress in percent (`5,3,<pct>`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub progress: Option<u32>,
    /// The quoted keyword form.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event: Option<FotaKeyword>,
    /// The version of `"installed","<version>"`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

/// The quoted keywords of `+SQNFOTA`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FotaKeyword {
    /// `"available"`: new software ready for upgrade.
    Available,
    /// `"downloaded"`: the image is downloaded.
    Downloaded,
    /// `"install"`: installation starts; the modem reboots.
    Install,
    /// `"installed"`: the new firmware runs.
    Installed,
    /// Any other keyword, verbatim.
    Other(String),
}

impl FotaKeyword {
    /// The keyword as the modem spells it.
    pub fn as_str(&self) -> &str {
        match self {
            FotaKeyword::Available => "available",
            FotaKeyword::Downloaded => "downloaded",
            FotaKeyword::Install => "install",
            FotaKeyword::Installed => "installed",
            FotaKeyword::Other(s) => s,
        }
    }
}

/// Bootstrap server (`"bs"`) or device-management server (`"dm"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ServerRole {
    /// `"bs"`: LwM2M bootstrap server.
    Bs,
    /// `"dm"`: LwM2M device-management server.
    Dm,
}

impl ServerRole {
    /// `bs` or `dm`, as on the wire.
    pub fn as_str(&self) -> &'static str {
        match self {
            ServerRole::Bs => "bs",
            ServerRole::Dm => "dm",
        }
    }
}

/// One `+SQNDMST` line: `"bs",<id>,"<status>",<hold_off>,<bs_update_in>` or
/// `"dm",<id>,"<status>",<lifetime>,<update_in>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DmStatusLine {
    /// Which kind of server.
    pub role: ServerRole,
    /// The short server id.
    pub server_id: u32,
    /// The status string, e.g. `BS_HOLD_OFF` or `REGISTERED`.
    pub status: String,
    /// Hold-off timer (bs) or lifetime (dm), seconds; -1 means "under way".
    pub timer: i64,
    /// Seconds until bootstrap / registration update starts; -1 means "under way or done".
    pub update_in: i64,
}

/// One read line of `AT+SQNDMCFG`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "group", rename_all = "snake_case")]
pub enum DmConfigLine {
    /// `<prof>,"service",<autostart>`.
    Service {
        /// Profile name.
        profile: String,
        /// 1 when the LwM2M client starts at power-on.
        autostart: u8,
    },
    /// `<prof>,"server",<id>,<lifetime>,<url>,<cid>,<type>`.
    Server {
        /// Profile name.
        profile: String,
        /// Short server id.
        server_id: u32,
        /// Lifetime (or hold-off, for a bootstrap server), seconds.
        lifetime: Option<u32>,
        /// Server URL.
        url: String,
        /// PDP context id, when set.
        cid: Option<u8>,
        /// Server type.
        server_type: ServerRole,
    },
    /// `<prof>,"psk",<id>,<identity>,<first 4 hex digits of the secret>`.
    Psk {
        /// Profile name.
        profile: String,
        /// Short server id.
        server_id: u32,
        /// PSK identity.
        identity: String,
        /// The first four hex digits of the secret, as the modem shows them.
        secret_prefix: String,
    },
}

/// The `AT+SQNFOTACFG?` read line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FotaConfigLine {
    /// Upgrade profile name.
    pub profile: String,
    /// FOTA mode (0 automatic).
    pub mode: u8,
    /// State reporting level 0..2.
    pub report_state: u8,
    /// Download progress step 0..100.
    pub report_download: u8,
    /// FOTA timer requested by the user, seconds.
    pub timer_requested: Option<u32>,
    /// FOTA timer in use (the server may change it), seconds.
    pub timer_actual: Option<u32>,
    /// Download timeout, seconds.
    pub download_timeout: Option<u32>,
    /// Certificate id.
    pub certificate: Option<u32>,
}

/// `+CEREG`: the URC form `<stat>[,<tac>,<ci>,<act>]` or the read form `<n>,<stat>[,...]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Registration {
    /// The `<n>` reporting mode, present in the read form only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub n: Option<u8>,
    /// Registration status (1 home, 2 searching, 5 roaming, ...).
    pub stat: u8,
    /// Tracking area code, hex string.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tac: Option<String>,
    /// Cell id, hex string.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cell_id: Option<String>,
    /// Access technology (7 = E-UTRAN).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub act: Option<u8>,
}

/// `+SYSSTART` or `+SHUTDOWN`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BootEvent {
    /// `+SHUTDOWN`: the modem goes down for a reboot.
    Shutdown,
    /// `+SYSSTART`: the modem has booted.
    Sysstart,
}

/// An `ATI1` line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "component", content = "version", rename_all = "snake_case")]
pub enum FirmwareLine {
    /// `UE5.4.1.1` → `5.4.1.1`.
    Ue(String),
    /// `LR5.4.1.1-57857` → `5.4.1.1-57857`: the firmware version the server reports.
    Lr(String),
}

impl Message {
    /// Whether this line ends a command (`OK`, `ERROR`, `+CME ERROR`, `+CMS ERROR`).
    pub fn is_final(&self) -> bool {
        matches!(self, Message::Final(_))
    }

    /// Whether this line can only be unsolicited (never part of a command's answer):
    /// `+SQNFOTA`, `+SYSSTART`, `+SHUTDOWN`, `^EXIT`.
    pub fn is_always_unsolicited(&self) -> bool {
        matches!(
            self,
            Message::Fota(_) | Message::Boot { .. } | Message::Crash { .. }
        )
    }

    /// Whether this line may be unsolicited: the above, plus `+CEREG` in its URC form and
    /// `+SQNSUPGRADE` (which is also the answer to `AT+SQNSUPGRADE?`).
    pub fn may_be_unsolicited(&self) -> bool {
        self.is_always_unsolicited()
            || matches!(self, Message::Registration(r) if r.n.is_none())
            || matches!(self, Message::Upgrade { .. })
    }

    /// The `+XXX` prefix this line carries (e.g. `+CEREG`), if any.
    pub fn prefix(&self) -> Option<&'static str> {
        Some(match self {
            Message::Fota(_) => "+SQNFOTA",
            Message::DmStatus(_) => "+SQNDMST",
            Message::DmConfig(_) => "+SQNDMCFG",
            Message::FotaConfig(_) | Message::FotaConfigRange { .. } => "+SQNFOTACFG",
            Message::OperatorMode { .. } => "+SQNCTM",
            Message::AutoConnect { .. } => "+SQNAUTOCONNECT",
            Message::Registration(_) => "+CEREG",
            Message::Cfun { .. } => "+CFUN",
            Message::Cmee { .. } => "+CMEE",
            Message::Upgrade { .. } => "+SQNSUPGRADE",
            Message::Boot {
                event: BootEvent::Shutdown,
            } => "+SHUTDOWN",
            Message::Boot {
                event: BootEvent::Sysstart,
            } => "+SYSSTART",
            Message::Crash { .. } => "^EXIT",
            _ => return None,
        })
    }
}
