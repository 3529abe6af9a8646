//! Parsing a command line back into a [`Command`]: the forms without arguments by their own wire
//! text, the others argument by argument, every value validated as the builders do.

use super::params::show_text;
use super::spec::{AUTOCONNECT, CFUN, CMEE, DMCFG, FACTORY_SAVE, FOTACFG, UPGRADE};
use super::{
    CertificateId, Cid, Command, CommandParseError, DmPsk, DmServer, DownloadTimeout, FotaConfig,
    FotaMode, FotaTimer, Lifetime, ParamError, ProfileName, PskIdentity, ReportDownload,
    ReportState, ServerId, ServerRole, UpgradeAction, Url,
};
use crate::psk::PskSecret;

/// The command forms without arguments, each parsed from its own wire text (in any case).
/// `AT+CFUN=1,1` is not one of them: its arguments may be spaced or quoted.
const WITHOUT_ARGUMENTS: [Command; 17] = [
    Command::At,
    Command::Echo(false),
    Command::Echo(true),
    Command::CmeeRead,
    Command::Cgsn,
    Command::Ati1,
    Command::CfunRead,
    Command::Reset,
    Command::OperatorModeRead,
    Command::AutoConnectRead,
    Command::DmConfigTest,
    Command::FotaConfigRead,
    Command::FotaConfigTest,
    Command::DmStatus,
    Command::FactoryReset,
    Command::CeregRead,
    Command::UpgradeRead,
];

/// The command without arguments whose wire text is `upper` (upper case).
fn without_arguments(upper: &str) -> Option<Command> {
    WITHOUT_ARGUMENTS
        .iter()
        .find(|c| c.to_wire() == upper)
        .cloned()
}

impl Command {
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
        if !rest.starts_with(['+', '^']) {
            return without_arguments(&format!("AT{}", rest.to_ascii_uppercase())).ok_or_else(
                || {
                    CommandParseError::Unsupported(format!(
                        "AT{}",
                        rest.chars().take(16).collect::<String>()
                    ))
                },
            );
        }
        let name_end = rest.find(['=', '?']).unwrap_or(rest.len());
        let name = format!("AT{}", rest[..name_end].trim().to_ascii_uppercase());
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
            command: format!("{name}{}", form.suffix()),
        };
        let unsupported = || CommandParseError::Unsupported(ctx.command.clone());
        let a = match form {
            Form::Exec | Form::Read | Form::Test => {
                return without_arguments(&format!("{name}{tail}")).ok_or_else(unsupported)
            }
            Form::Bad => return Err(unsupported()),
            Form::Set(a) => a,
        };
        match name.as_str() {
            CMEE => {
                let a = ctx.args(a, 1, 1)?;
                let n = ctx.req_num(&a, 0, "cmee")?;
                Command::cmee(n).map_err(|e| ctx.param(e))
            }
            CFUN => {
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
            AUTOCONNECT => {
                let a = ctx.args(a, 1, 1)?;
                ctx.req_bool(&a, 0, "autoconnect").map(Command::AutoConnect)
            }
            DMCFG => ctx.parse_dmcfg(a),
            FOTACFG => ctx.parse_fotacfg(a),
            FACTORY_SAVE => {
                let a = ctx.args(a, 1, 1)?;
                let tag = ctx.req_text(&a, 0, "tag")?;
                Command::factory_save(tag).map_err(|e| ctx.param(e))
            }
            UPGRADE => {
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
            _ => Err(unsupported()),
        }
    }
}

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
pub(super) enum Arg<'a> {
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
pub(super) fn split_args(s: &str) -> Result<Vec<Arg<'_>>, String> {
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

pub(super) fn parse_u64(s: &str) -> Option<u64> {
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
        let profile = self.req_text(&a, 0, "profile")?;
        let mut c = FotaConfig::new(profile).map_err(|e| self.param(e))?;
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
