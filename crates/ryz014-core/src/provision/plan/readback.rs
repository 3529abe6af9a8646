//! The read-back checks that end a provisioning plan: which read command to send after the last
//! step and what its answer must show ([`ReadBackCheck::verify`]), a secret compared by its first
//! 4 hex digits only.

use std::fmt;

use super::{mismatch, Mismatch};
use crate::command::{Command, ServerRole};
use crate::message::{DmConfigLine, Message};

/// A stable name for each read-back check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CheckId {
    /// `AT+SQNDMCFG=<prof>,"service"`.
    Service,
    /// `AT+SQNDMCFG=<prof>,"server"`.
    Server,
    /// `AT+SQNDMCFG=<prof>,"psk"`.
    Psk,
    /// `AT+SQNFOTACFG?`.
    Fota,
}

impl CheckId {
    /// The id as kebab-case text.
    pub fn as_str(self) -> &'static str {
        match self {
            CheckId::Service => "read-back-service",
            CheckId::Server => "read-back-server",
            CheckId::Psk => "read-back-psk",
            CheckId::Fota => "read-back-fota",
        }
    }
}

impl fmt::Display for CheckId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a read-back must show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadBack {
    /// The service line of the profile.
    DmService {
        /// Profile name.
        profile: String,
        /// Expected autostart.
        autostart: u8,
    },
    /// A server line of the profile.
    DmServer {
        /// Profile name.
        profile: String,
        /// Short server id.
        server_id: u32,
        /// Lifetime / hold-off.
        lifetime: u32,
        /// URL.
        url: String,
        /// PDP context id; not compared when `None`.
        cid: Option<u8>,
        /// Server type.
        server_type: ServerRole,
    },
    /// A PSK line of the profile.
    DmPsk {
        /// Profile name.
        profile: String,
        /// Short server id.
        server_id: u32,
        /// PSK identity.
        identity: String,
        /// The secret's first 4 hex digits.
        secret_prefix: String,
    },
    /// The FOTA configuration line; optional values are compared only when planned.
    FotaConfig {
        /// Profile name.
        profile: String,
        /// Mode.
        mode: u8,
        /// State reporting level.
        report_state: u8,
        /// Download progress step.
        report_download: u8,
        /// Requested FOTA timer.
        timer: Option<u32>,
        /// Download timeout.
        download_timeout: Option<u32>,
        /// Certificate id.
        certificate: Option<u32>,
    },
}

/// One read-back command and what its answer must show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadBackCheck {
    /// Stable name.
    pub id: CheckId,
    /// What it checks (secret as its prefix only).
    pub description: String,
    /// The read command.
    pub command: Command,
    /// The expected answer.
    pub expect: ReadBack,
}

fn opt_text<T: fmt::Display>(v: Option<T>) -> String {
    v.map_or_else(|| "(empty)".to_string(), |v| v.to_string())
}

impl ReadBackCheck {
    /// Compares the command's information lines with the plan. Lines of other profiles and other
    /// kinds are ignored; a server or a PSK of the profile for another server id than the planned
    /// one is a mismatch (a stale entry, perhaps with an old secret, must not stay on the modem).
    pub fn verify(&self, lines: &[Message]) -> Result<(), Mismatch> {
        let dm = || {
            lines.iter().filter_map(|m| match m {
                Message::DmConfig(c) => Some(c),
                _ => None,
            })
        };
        match &self.expect {
            ReadBack::DmService { profile, autostart } => {
                let found = dm().find_map(|c| match c {
                    DmConfigLine::Service {
                        profile: p,
                        autostart,
                    } if p == profile => Some(*autostart),
                    _ => None,
                });
                match found {
                    Some(a) if a == *autostart => Ok(()),
                    Some(a) => Err(mismatch(
                        format!("DM service of profile {profile}: autostart"),
                        autostart,
                        a,
                    )),
                    None => Err(mismatch(
                        format!("DM service of profile {profile}"),
                        format!("autostart {autostart}"),
                        "no service line",
                    )),
                }
            }
            ReadBack::DmServer {
                profile,
                server_id,
                lifetime,
                url,
                cid,
                server_type,
            } => {
                let servers: Vec<_> = dm()
                    .filter_map(|c| match c {
                        DmConfigLine::Server {
                            profile: p,
                            server_id,
                            lifetime,
                            url,
                            cid,
                            server_type,
                        } if p == profile => Some((*server_id, *lifetime, url, *cid, *server_type)),
                        _ => None,
                    })
                    .collect();
                let Some(&(_, l, u, c, t)) = servers.iter().find(|s| s.0 == *server_id) else {
                    let ids: Vec<String> = servers.iter().map(|s| s.0.to_string()).collect();
                    return Err(mismatch(
                        format!("server {server_id} of profile {profile}"),
                        "a server line",
                        if ids.is_empty() {
                            "no server line".to_string()
                        } else {
                            format!("servers {}", ids.join(", "))
                        },
                    ));
                };
                if let Some(other) = servers.iter().find(|s| s.0 != *server_id) {
                    return Err(mismatch(
                        format!("servers of profile {profile}"),
                        format!("only server {server_id}"),
                        format!("also server {} at {}", other.0, other.2),
                    ));
                }
                let what = |field: &str| format!("server {server_id} {field}");
                if t != *server_type {
                    return Err(mismatch(what("type"), server_type.as_str(), t.as_str()));
                }
                if u != url {
                    return Err(mismatch(what("URL"), url, u));
                }
                if l != Some(*lifetime) {
                    return Err(mismatch(what("lifetime"), lifetime, opt_text(l)));
                }
                if cid.is_some() && c != *cid {
                    return Err(mismatch(what("cid"), opt_text(*cid), opt_text(c)));
                }
                Ok(())
            }
            ReadBack::DmPsk {
                profile,
                server_id,
                identity,
                secret_prefix,
            } => {
                if let Some((other, shown)) = dm().find_map(|c| match c {
                    DmConfigLine::Psk {
                        profile: p,
                        server_id: id,
                        secret_prefix,
                        ..
                    } if p == profile && id != server_id => Some((*id, secret_prefix)),
                    _ => None,
                }) {
                    let shown: String = shown.chars().take(4).collect();
                    return Err(mismatch(
                        format!("PSKs of profile {profile}"),
                        format!("only the PSK of server {server_id}"),
                        format!("also a PSK for server {other} (secret {shown}…)"),
                    ));
                }
                let found = dm().find_map(|c| match c {
                    DmConfigLine::Psk {
                        profile: p,
                        server_id: id,
                        identity,
                        secret_prefix,
                    } if p == profile && id == server_id => Some((identity, secret_prefix)),
                    _ => None,
                });
                let Some((i, s)) = found else {
                    return Err(mismatch(
                        format!("PSK of server {server_id} (profile {profile})"),
                        "a psk line",
                        "no psk line",
                    ));
                };
                if i != identity {
                    return Err(mismatch(
                        format!("PSK identity of server {server_id}"),
                        identity,
                        i,
                    ));
                }
                if !s.trim().eq_ignore_ascii_case(secret_prefix) {
                    // Both are at most 4 hex digits: the modem itself shows no more.
                    let shown: String = s.chars().take(4).collect();
                    return Err(mismatch(
                        format!("PSK secret of server {server_id} (first 4 hex digits)"),
                        format!("{secret_prefix}…"),
                        format!("{shown}…"),
                    ));
                }
                Ok(())
            }
            ReadBack::FotaConfig {
                profile,
                mode,
                report_state,
                report_download,
                timer,
                download_timeout,
                certificate,
            } => {
                let Some(f) = lines.iter().find_map(|m| match m {
                    Message::FotaConfig(f) => Some(f),
                    _ => None,
                }) else {
                    return Err(mismatch("FOTA configuration", "a +SQNFOTACFG line", "none"));
                };
                let what = |field: &str| format!("FOTA configuration {field}");
                if f.profile != *profile {
                    return Err(mismatch(what("profile"), profile, &f.profile));
                }
                if f.mode != *mode {
                    return Err(mismatch(what("mode"), mode, f.mode));
                }
                if f.report_state != *report_state {
                    return Err(mismatch(what("report_state"), report_state, f.report_state));
                }
                if f.report_download != *report_download {
                    return Err(mismatch(
                        what("report_download"),
                        report_download,
                        f.report_download,
                    ));
                }
                if timer.is_some() && f.timer_requested != *timer {
                    return Err(mismatch(
                        what("requested timer"),
                        opt_text(*timer),
                        opt_text(f.timer_requested),
                    ));
                }
                if download_timeout.is_some() && f.download_timeout != *download_timeout {
                    return Err(mismatch(
                        what("download timeout"),
                        opt_text(*download_timeout),
                        opt_text(f.download_timeout),
                    ));
                }
                if certificate.is_some() && f.certificate != *certificate {
                    return Err(mismatch(
                        what("certificate"),
                        opt_text(*certificate),
                        opt_text(f.certificate),
                    ));
                }
                Ok(())
            }
        }
    }
}
