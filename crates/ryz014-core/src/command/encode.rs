//! The wire form of a [`Command`]: its name from the spec, then its form and arguments, exactly
//! as the note's examples write them; and the redacted form for logs and screens.

use std::fmt;

use super::{Command, FotaConfig};

impl Command {
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
        let mut out = self.name().to_string();
        out.push_str(&self.form_and_arguments(redact));
        out
    }

    /// What follows the name: `?`, `=?`, `=<arguments>`, or nothing.
    fn form_and_arguments(&self, redact: bool) -> String {
        match self {
            Command::At
            | Command::Cgsn
            | Command::Ati1
            | Command::Reset
            | Command::DmStatus
            | Command::FactoryReset => String::new(),
            Command::CmeeRead
            | Command::CfunRead
            | Command::OperatorModeRead
            | Command::AutoConnectRead
            | Command::FotaConfigRead
            | Command::CeregRead
            | Command::UpgradeRead => "?".into(),
            Command::DmConfigTest | Command::FotaConfigTest => "=?".into(),
            Command::Echo(on) => u8::from(*on).to_string(),
            Command::Cmee(m) => format!("={}", m.number()),
            Command::Cfun(l) => format!("={}", l.number()),
            Command::CfunReset => "=1,1".into(),
            Command::AutoConnect(on) => format!("={}", u8::from(*on)),
            Command::DmService { profile, autostart } => format!(
                "={},\"service\",{}",
                q(profile.as_str()),
                u8::from(*autostart)
            ),
            Command::DmServiceRead { profile } => format!("={},\"service\"", q(profile.as_str())),
            Command::DmServer(s) => {
                // Quoted numbers, exactly as the note's working example (§4.3.1.2).
                let mut out = format!(
                    "={},\"server\",{},{},{}",
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
            Command::DmServerRead { profile } => format!("={},\"server\"", q(profile.as_str())),
            Command::DmPsk(p) => {
                let secret = if redact {
                    p.secret.redacted()
                } else {
                    p.secret.expose_hex()
                };
                format!(
                    "={},\"psk\",{},{},{}",
                    q(p.profile.as_str()),
                    p.server_id,
                    q(p.identity.as_str()),
                    q(&secret)
                )
            }
            Command::DmPskRemove { profile, server_id } => {
                format!("={},\"psk\",{},\"\",\"\"", q(profile.as_str()), server_id)
            }
            Command::DmPskRead { profile } => format!("={},\"psk\"", q(profile.as_str())),
            Command::DmDeleteProfile { profile } => {
                format!("={},\"delete-profile-config\"", q(profile.as_str()))
            }
            Command::FotaConfig(c) => {
                let mut out = format!("={}", q(c.profile.as_str()));
                let fields = fota_fields(c);
                let last = fields.iter().rposition(Option::is_some);
                if let Some(last) = last {
                    for f in &fields[..=last] {
                        out.push(',');
                        out.push_str(&opt(f));
                    }
                }
                out
            }
            Command::FactorySave { tag } => format!("={}", q(tag.as_str())),
            Command::Upgrade(u) => {
                let (a, b, c) = u.action.tuple();
                let mut out = format!("={},{a},{b},{c}", q(u.url.as_str()));
                if let Some(sp) = u.security_profile {
                    out.push_str(&format!(",{sp}"));
                }
                out
            }
        }
    }
}

/// The numeric fields of `AT+SQNFOTACFG` after the profile, in their order.
fn fota_fields(c: &FotaConfig) -> [Option<u64>; 6] {
    [
        c.mode.map(|v| u64::from(v.get())),
        c.report_state.map(|v| u64::from(v.get())),
        c.report_download.map(|v| u64::from(v.get())),
        c.timer.map(|v| u64::from(v.get())),
        c.download_timeout.map(|v| u64::from(v.get())),
        c.certificate.map(|v| u64::from(v.get())),
    ]
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
