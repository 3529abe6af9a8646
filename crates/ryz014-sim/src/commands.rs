//! The AT commands the simulated modem answers, with the note's ranges (§6) and mode gating:
//! DM configuration writes and the restoration point need manufacturing mode (`AT+CFUN=5`),
//! otherwise `+CME ERROR: 3`. Bad parameters give `+CME ERROR: 50`, unknown commands
//! `+CME ERROR: 4` (both rendered per `AT+CMEE`: plain `ERROR` in mode 0).
//!
//! Read lines of `AT+SQNDMCFG` use the prefix `+SQNDMCFG: ` (the note's syntax tables print
//! `+SQNDMCFG=`, most likely a typesetting slip: every other read form of the note uses `: `).

use crate::at::{Arg, AtCommand, Form};
use crate::config::valid_version;
use crate::modem::{cme, After, BootLevel, Modem, Reply};
use crate::nv::{FotaConfig, PskEntry, RestorationPoint, Secret, ServerEntry, Settings};
use ryz014_core::message::ServerRole;

/// Manufacturer line (`AT+CGMI`, first line of `ATI`).
pub const MANUFACTURER: &str = "SEQUANS Communications";
/// Model line (`AT+CGMM`, second line of `ATI`): what Coiote shows for the note's device.
pub const MODEL: &str = "GM01Q";

const MAX_PROFILE: usize = 32;
const MAX_URL: usize = 256;
const MAX_PSK_ID: usize = 64;

type P<T> = Result<T, u16>;

fn bad<T>() -> P<T> {
    Err(cme::INCORRECT_PARAMETERS)
}

/// A required number in `lo..=hi` (quoted or bare).
fn num(arg: Option<&Arg>, lo: u64, hi: u64) -> P<u64> {
    match opt_num(arg, lo, hi)? {
        Some(v) => Ok(v),
        None => bad(),
    }
}

/// An optional number in `lo..=hi`; an empty field or a missing argument is `None`.
fn opt_num(arg: Option<&Arg>, lo: u64, hi: u64) -> P<Option<u64>> {
    let Some(t) = arg.and_then(Arg::text) else {
        return Ok(None);
    };
    let t = t.trim();
    if t.is_empty() {
        return Ok(None);
    }
    if !t.bytes().all(|b| b.is_ascii_digit()) || t.len() > 12 {
        return bad();
    }
    match t.parse::<u64>() {
        Ok(v) if (lo..=hi).contains(&v) => Ok(Some(v)),
        _ => bad(),
    }
}

fn as_u8(v: u64) -> u8 {
    u8::try_from(v).unwrap_or(u8::MAX)
}

fn as_u16(v: u64) -> u16 {
    u16::try_from(v).unwrap_or(u16::MAX)
}

fn as_u32(v: u64) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

/// A profile name: 1..32 printable characters, no quote.
fn profile_name(arg: Option<&Arg>) -> P<String> {
    match arg.and_then(Arg::text) {
        Some(t)
            if !t.is_empty()
                && t.len() <= MAX_PROFILE
                && t.bytes().all(|b| (0x20..0x7f).contains(&b) && b != b'"') =>
        {
            Ok(t.to_string())
        }
        _ => bad(),
    }
}

fn opt_str(o: Option<impl std::fmt::Display>) -> String {
    o.map(|v| v.to_string()).unwrap_or_default()
}

fn lines(v: Vec<String>) -> Reply {
    Reply::lines(v)
}

fn line(s: impl Into<String>) -> Reply {
    Reply::lines(vec![s.into()])
}

fn unwrap_reply(r: P<Reply>) -> Reply {
    r.unwrap_or_else(Reply::cme)
}

impl Modem {
    /// Answers one tokenized command.
    pub(crate) fn dispatch(&mut self, cmd: &AtCommand) -> Reply {
        let name = cmd.name.as_str();
        let form = &cmd.form;
        let set1 = |f: &Form| match f {
            Form::Set(a) if a.len() == 1 => a.first().and_then(Arg::text).map(str::to_string),
            _ => None,
        };
        match (name, form) {
            ("", Form::Action) => Reply::ok(),
            ("E", Form::Action) => {
                self.echo = false;
                Reply::ok()
            }
            ("E", Form::Set(_)) => match set1(form).as_deref() {
                Some("0") => {
                    self.echo = false;
                    Reply::ok()
                }
                Some("1") => {
                    self.echo = true;
                    Reply::ok()
                }
                _ => Reply::cme(cme::INCORRECT_PARAMETERS),
            },
            ("I", Form::Action) => self.ati(0),
            ("I", Form::Set(_)) => match set1(form).as_deref() {
                Some("0") => self.ati(0),
                Some("1") => self.ati(1),
                _ => Reply::cme(cme::INCORRECT_PARAMETERS),
            },
            ("Z", Form::Action) => Reply::ok(),
            ("+CGSN" | "+GSN", Form::Action) => line(self.cfg.imei.clone()),
            ("+CGSN", Form::Test) => line("+CGSN: (0-3)"),
            ("+CGSN", Form::Set(a)) => unwrap_reply(self.cgsn(a)),
            ("+CGMR", Form::Action) => line(format!("UE{}", self.cfg.ue_version)),
            ("+CGMI", Form::Action) => line(MANUFACTURER),
            ("+CGMM", Form::Action) => line(MODEL),
            ("+CMEE", Form::Read) => line(format!("+CMEE: {}", self.cmee)),
            ("+CMEE", Form::Test) => line("+CMEE: (0-2)"),
            ("+CMEE", Form::Set(a)) => unwrap_reply(num(a.first(), 0, 2).map(|v| {
                self.cmee = as_u8(v);
                Reply::ok()
            })),
            ("+SQNCTM", Form::Read) => line(format!("+SQNCTM: {}", self.nv.settings.operator_mode)),
            ("+SQNCTM", Form::Test) => line("+SQNCTM: (\"standard\",\"3gpp-conformance\")"),
            ("+SQNCTM", Form::Set(a)) => match a.first().and_then(Arg::text) {
                Some(m)
                    if a.len() == 1
                        && !m.is_empty()
                        && m.len() <= 32
                        && m.bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') =>
                {
                    self.nv.settings.operator_mode = m.to_string();
                    Reply::ok()
                }
                _ => Reply::cme(cme::INCORRECT_PARAMETERS),
            },
            ("+SQNAUTOCONNECT", Form::Read) => line(format!(
                "+SQNAUTOCONNECT: {}",
                u8::from(self.nv.settings.autoconnect)
            )),
            ("+SQNAUTOCONNECT", Form::Test) => line("+SQNAUTOCONNECT: (0,1)"),
            ("+SQNAUTOCONNECT", Form::Set(a)) => unwrap_reply(num(a.first(), 0, 1).map(|v| {
                self.nv.settings.autoconnect = v == 1;
                Reply::ok()
            })),
            ("+CFUN", Form::Read) => line(format!("+CFUN: {}", self.cfun)),
            ("+CFUN", Form::Test) => line("+CFUN: (0,1,4,5),(0,1)"),
            ("+CFUN", Form::Set(a)) => unwrap_reply(self.cfun_set(a)),
            ("+CEREG", Form::Read) => line(self.cereg_line(true)),
            ("+CEREG", Form::Test) => line("+CEREG: (0-5)"),
            ("+CEREG", Form::Set(a)) => unwrap_reply(num(a.first(), 0, 5).map(|v| {
                self.cereg_mode = as_u8(v);
                Reply::ok()
            })),
            ("^RESET", Form::Action) => Reply {
                lines: Vec::new(),
                fin: crate::modem::Fin::Ok,
                after: After::Reboot(BootLevel::Auto),
            },
            ("+SQNSSHDN", Form::Action) => Reply {
                lines: Vec::new(),
                fin: crate::modem::Fin::Ok,
                after: After::PowerDown,
            },
            ("+SQNDMCFG", _) => unwrap_reply(self.dmcfg(form)),
            ("+SQNDMST", Form::Action) => match self.dmst_lines() {
                Some(v) => lines(v),
                // The note: "The command returns ERROR if the UE is not attached ... or if LwM2M
                // client is not enabled" — plain ERROR whatever AT+CMEE says.
                None => Reply::error(),
            },
            ("+SQNFOTACFG", _) => unwrap_reply(self.fotacfg(form)),
            ("+SQNFACTORYSAVE", Form::Set(a)) => {
                if self.cfun != 5 {
                    return Reply::cme(cme::NOT_ALLOWED);
                }
                match a.first().and_then(Arg::text) {
                    Some(tag) if a.len() == 1 && !tag.is_empty() && tag.len() <= 32 => {
                        self.nv.restoration = Some(RestorationPoint {
                            tag: tag.to_string(),
                            settings: self.nv.settings.clone(),
                        });
                        Reply::ok()
                    }
                    _ => Reply::cme(cme::INCORRECT_PARAMETERS),
                }
            }
            ("+SQNSFACTORYRESET", Form::Action) => {
                self.nv.settings = match &self.nv.restoration {
                    Some(r) => r.settings.clone(),
                    None => Settings::factory(self.cfg.autoconnect),
                };
                Reply::ok()
            }
            ("+SQNSUPGRADE", Form::Read) => line(self.upgrade_line()),
            ("+SQNSUPGRADE", Form::Set(a)) => unwrap_reply(self.supgrade(a)),
            _ => Reply::cme(cme::NOT_SUPPORTED),
        }
    }

    fn ati(&self, n: u8) -> Reply {
        let ue = format!("UE{}", self.cfg.ue_version);
        if n == 1 {
            lines(vec![ue, format!("LR{}", self.nv.firmware)])
        } else {
            lines(vec![MANUFACTURER.into(), MODEL.into(), ue])
        }
    }

    fn cgsn(&self, a: &[Arg]) -> P<Reply> {
        if a.len() != 1 {
            return bad();
        }
        let imei = &self.cfg.imei;
        Ok(match num(a.first(), 0, 3)? {
            0 => line(imei.clone()),
            1 => line(format!("+CGSN: \"{imei}\"")),
            2 => line(format!("+CGSN: \"{}01\"", &imei[..14])),
            _ => line("+CGSN: \"01\""),
        })
    }

    fn cfun_set(&mut self, a: &[Arg]) -> P<Reply> {
        if a.is_empty() || a.len() > 2 {
            return bad();
        }
        let fun = as_u8(num(a.first(), 0, 5)?);
        if !matches!(fun, 0 | 1 | 4 | 5) {
            return bad();
        }
        let rst = opt_num(a.get(1), 0, 1)?.unwrap_or(0);
        if rst == 1 {
            return Ok(Reply {
                lines: Vec::new(),
                fin: crate::modem::Fin::Ok,
                after: After::Reboot(BootLevel::Level(fun)),
            });
        }
        let old = self.cfun;
        self.cfun = fun;
        if old == 1 && fun != 1 {
            self.detach();
        } else if fun == 1 && old != 1 {
            self.start_attach();
        }
        Ok(Reply::ok())
    }

    // ------------------------------------------------------------------ AT+SQNDMCFG

    fn dm_lines(&self, profile: &str, group: Option<&str>) -> Vec<String> {
        let Some(p) = self.nv.dm.get(profile) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        if group.is_none() || group == Some("service") {
            out.push(format!(
                "+SQNDMCFG: \"{profile}\",\"service\",{}",
                p.autostart
            ));
        }
        if group.is_none() || group == Some("server") {
            for s in &p.servers {
                out.push(format!(
                    "+SQNDMCFG: \"{profile}\",\"server\",{},{},\"{}\",{},\"{}\"",
                    s.server_id,
                    opt_str(s.lifetime),
                    s.url,
                    opt_str(s.cid),
                    s.role.as_str()
                ));
            }
        }
        if group.is_none() || group == Some("psk") {
            for k in &p.psks {
                out.push(format!(
                    "+SQNDMCFG: \"{profile}\",\"psk\",{},\"{}\",\"{}\"",
                    k.server_id,
                    k.identity,
                    if self.cfg.faults.contains(&crate::fault::Fault::PskReadFull) {
                        k.secret.hex()
                    } else {
                        k.secret.prefix()
                    }
                ));
            }
        }
        out
    }

    fn dmcfg(&mut self, form: &Form) -> P<Reply> {
        let args = match form {
            Form::Test => {
                return Ok(lines(vec![
                    "+SQNDMCFG: (32),\"service\"[,(0,1)]".into(),
                    "+SQNDMCFG: (32),\"server\"[,(1-65535),[(0-32000000)],(256)[,[(1-8)][,(\"bs\",\"dm\")]]]".into(),
                    "+SQNDMCFG: (32),\"psk\"[,(1-65535),(64),(64)]".into(),
                    "+SQNDMCFG: (32),\"delete-profile-config\"".into(),
                ]))
            }
            Form::Read => {
                let names: Vec<String> = self.nv.dm.keys().cloned().collect();
                return Ok(lines(
                    names.iter().flat_map(|n| self.dm_lines(n, None)).collect(),
                ));
            }
            Form::Action => return bad(),
            Form::Set(a) => a,
        };
        let profile = profile_name(args.first())?;
        let Some(group) = args.get(1) else {
            return Ok(lines(self.dm_lines(&profile, None)));
        };
        let group = group.text().unwrap_or("").to_ascii_lowercase();
        let manufacturing = self.cfun == 5;
        match group.as_str() {
            "service" => match args.len() {
                2 => Ok(lines(self.dm_lines(&profile, Some("service")))),
                3 => {
                    if !manufacturing {
                        return Err(cme::NOT_ALLOWED);
                    }
                    let v = as_u8(num(args.get(2), 0, 1)?);
                    self.nv.dm.entry(profile).or_default().autostart = v;
                    Ok(Reply::ok())
                }
                _ => bad(),
            },
            "server" => match args.len() {
                2 => Ok(lines(self.dm_lines(&profile, Some("server")))),
                5..=7 => {
                    if !manufacturing {
                        return Err(cme::NOT_ALLOWED);
                    }
                    let server_id = as_u16(num(args.get(2), 1, 65_535)?);
                    let lifetime = opt_num(args.get(3), 0, 32_000_000)?.map(as_u32);
                    let url = match args.get(4).and_then(Arg::text) {
                        Some(u)
                            if !u.is_empty()
                                && u.len() <= MAX_URL
                                && u.bytes().all(|b| (0x21..0x7f).contains(&b)) =>
                        {
                            u.to_string()
                        }
                        _ => return bad(),
                    };
                    let cid = opt_num(args.get(5), 1, 8)?.map(as_u8);
                    let role = match args.get(6).and_then(Arg::text) {
                        None | Some("") => ServerRole::Dm,
                        Some("bs") => ServerRole::Bs,
                        Some("dm") => ServerRole::Dm,
                        Some(_) => return bad(),
                    };
                    let entry = ServerEntry {
                        server_id,
                        lifetime,
                        url,
                        cid,
                        role,
                    };
                    let p = self.nv.dm.entry(profile).or_default();
                    match p.servers.iter_mut().find(|s| s.server_id == server_id) {
                        Some(s) => *s = entry,
                        None => p.servers.push(entry),
                    }
                    Ok(Reply::ok())
                }
                _ => bad(),
            },
            "psk" => match args.len() {
                2 => Ok(lines(self.dm_lines(&profile, Some("psk")))),
                5 => {
                    if !manufacturing {
                        return Err(cme::NOT_ALLOWED);
                    }
                    let server_id = as_u16(num(args.get(2), 1, 65_535)?);
                    let (id_blank, secret_blank) = (args[3].is_blank(), args[4].is_blank());
                    if id_blank && secret_blank {
                        if let Some(p) = self.nv.dm.get_mut(&profile) {
                            p.psks.retain(|k| k.server_id != server_id);
                        }
                        return Ok(Reply::ok());
                    }
                    let identity = args[3].text().unwrap_or("");
                    let secret = args[4].text().unwrap_or("");
                    let id_ok = !identity.is_empty()
                        && identity.len() <= MAX_PSK_ID
                        && identity
                            .bytes()
                            .all(|b| (0x20..0x7f).contains(&b) && b != b'"');
                    let secret_ok = !secret.is_empty()
                        && secret.len() <= 64
                        && secret.len() % 2 == 0
                        && secret.bytes().all(|b| b.is_ascii_hexdigit());
                    if !id_ok || !secret_ok {
                        return bad();
                    }
                    let entry = PskEntry {
                        server_id,
                        identity: identity.to_string(),
                        secret: Secret::new(secret),
                    };
                    let p = self.nv.dm.entry(profile).or_default();
                    match p.psks.iter_mut().find(|k| k.server_id == server_id) {
                        Some(k) => *k = entry,
                        None => p.psks.push(entry),
                    }
                    Ok(Reply::ok())
                }
                _ => bad(),
            },
            "delete-profile-config" => {
                if args.len() != 2 {
                    return bad();
                }
                if !manufacturing {
                    return Err(cme::NOT_ALLOWED);
                }
                self.nv.dm.remove(&profile);
                Ok(Reply::ok())
            }
            _ => bad(),
        }
    }

    // ------------------------------------------------------------------ AT+SQNFOTACFG

    fn fotacfg(&mut self, form: &Form) -> P<Reply> {
        match form {
            Form::Test => Ok(line(
                "+SQNFOTACFG: 32,(0,1),(0-2),(0-100),(60-32000000),(60-65535),(11-19)",
            )),
            Form::Read => Ok(match &self.nv.settings.fota {
                None => Reply::ok(),
                Some(f) => line(format!(
                    "+SQNFOTACFG: \"{}\",{},{},{},{},{},{},{}",
                    f.profile,
                    f.mode,
                    f.report_state,
                    f.report_download,
                    opt_str(f.timer),
                    opt_str(self.fota_timer_actual()),
                    opt_str(f.download_timeout),
                    opt_str(f.certificate)
                )),
            }),
            Form::Action => bad(),
            Form::Set(a) => {
                if a.len() > 7 {
                    return bad();
                }
                let profile = profile_name(a.first())?;
                if !self.nv.dm.contains_key(&profile) {
                    // §6.1.3: the profile must reference a valid DM configuration profile.
                    return bad();
                }
                let (cert_lo, cert_hi) = if self.cfg.strict_certificate {
                    (11, 19)
                } else {
                    (0, 65_535)
                };
                let cfg = FotaConfig {
                    profile,
                    mode: as_u8(opt_num(a.get(1), 0, 1)?.unwrap_or(0)),
                    report_state: as_u8(opt_num(a.get(2), 0, 2)?.unwrap_or(2)),
                    report_download: as_u8(opt_num(a.get(3), 0, 100)?.unwrap_or(0)),
                    timer: opt_num(a.get(4), 60, 32_000_000)?.map(as_u32),
                    download_timeout: opt_num(a.get(5), 60, 65_535)?.map(as_u32),
                    certificate: opt_num(a.get(6), cert_lo, cert_hi)?.map(as_u32),
                };
                self.nv.settings.fota = Some(cfg);
                Ok(Reply::ok())
            }
        }
    }

    // ------------------------------------------------------------------ AT+SQNSUPGRADE

    fn supgrade(&mut self, a: &[Arg]) -> P<Reply> {
        if !(4..=5).contains(&a.len()) {
            return bad();
        }
        let url = match a.first() {
            Some(Arg::Quoted(u)) if !u.is_empty() && u.len() <= MAX_URL => u.clone(),
            _ => return bad(),
        };
        let sync = num(a.get(1), 0, 1)?;
        let _retries = num(a.get(2), 0, 255)?;
        let action = num(a.get(3), 0, 2)?;
        let _profile = opt_num(a.get(4), 1, 6)?;
        Ok(if action == 2 {
            self.cancel_upgrade()
        } else {
            self.start_upgrade(&url, sync == 1)
        })
    }
}

/// Whether a firmware string is acceptable (for the binary's flags).
pub fn valid_firmware(s: &str) -> bool {
    valid_version(s)
}
