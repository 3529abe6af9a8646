//! Typed AT commands ([`Command`]) with validated parameters: every command the application note
//! uses, built byte-exact to its examples ([`Command::to_wire`]) and parsed back from text
//! ([`Command::parse`]).
//!
//! Parameter ranges are the note's §6; where the note contradicts itself the team's decisions
//! apply (certificate id 11..19, PSK identity of printable ASCII without `"` or `,`): see
//! `docs/at-interface-decisions.md`, "Parameter ranges and where the note contradicts itself". A
//! PSK secret never shows in `Display`, `Debug` or errors beyond its first 4 hex digits.
//!
//! The parts: the command and its builders here; each command's facts (name, answer prefix,
//! timeout, reboot, secret) in one place in `spec`; the wire form in `encode`; parsing in
//! `decode`; the parameter types in `params` and the errors in `error`.

use std::fmt;

use crate::psk::PskSecret;

mod decode;
mod encode;
mod error;
mod params;
mod spec;
#[cfg(test)]
mod tests;

pub use crate::message::ServerRole;
pub use error::{CommandParseError, ParamError};
pub use params::{
    CertificateId, CfunLevel, Cid, CmeeMode, DownloadTimeout, FactoryTag, FotaMode, FotaTimer,
    Lifetime, ProfileName, PskIdentity, ReportDownload, ReportState, SecurityProfile, ServerId,
    UpgradeAction, Url, UPGRADE_URL_ALLOWED, UPGRADE_URL_SCHEMES,
};

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

impl Command {
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
