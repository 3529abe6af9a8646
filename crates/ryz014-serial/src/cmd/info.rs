//! `ryz014 info`: IMEI, firmware, operator mode, FOTA and DM configuration (the PSK as its first
//! 4 hex digits, as the modem shows it), network and LwM2M registration in words.

use clap::Args;
use futures::io::{AsyncRead, AsyncWrite};
use serde_json::{json, Value};

use ryz014_core::client::Client;
use ryz014_core::command::Command;
use ryz014_core::describe::explain;
use ryz014_core::message::{DmConfigLine, Message};
use ryz014_core::session::{self, DeviceInfo};

use crate::context::{client_error, connect, session_error, CliError, Handshake, Out, PortArgs};

/// `info`'s options.
#[derive(Debug, Clone, Args)]
#[command(after_help = "\
Examples:
  ryz014 info                       the only plugged-in modem
  ryz014 info -p /dev/ttyUSB0 --baud 115200")]
pub struct InfoArgs {
    /// The port.
    #[command(flatten)]
    pub port: PortArgs,
}

/// The DM profile read when the modem does not report its operator mode.
const DEFAULT_PROFILE: &str = "standard";

/// The PSK as the modem shows it, and never more: its first 4 hex digits.
fn psk_prefix(shown: &str) -> String {
    let p: String = shown.trim().chars().take(4).collect();
    format!("{p}…")
}

/// The info with every PSK line narrowed to 4 hex digits.
fn narrowed(mut info: DeviceInfo) -> DeviceInfo {
    for line in &mut info.dm_config {
        if let DmConfigLine::Psk { secret_prefix, .. } = line {
            *secret_prefix = secret_prefix.trim().chars().take(4).collect();
        }
    }
    info
}

/// Runs `info`.
pub fn run(args: &InfoArgs, out: &Out) -> Result<(), CliError> {
    let (mut client, path) = connect(&args.port, out, true, Handshake::Sync)?;
    let info = futures::executor::block_on(read(&mut client))?;
    render(info, &path, out)
}

/// Reads what `info` shows: the operator mode, then the core's [`session::device_info`] for its
/// DM profile.
pub async fn read<R, W>(client: &mut Client<R, W>) -> Result<DeviceInfo, CliError>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    // The DM profile carries the operator mode's name (§4.3.1.2).
    let profile = match client.execute(&Command::OperatorModeRead).await {
        Ok(r) => r
            .lines
            .iter()
            .find_map(|m| match m {
                Message::OperatorMode { mode } => Some(mode.clone()),
                _ => None,
            })
            .unwrap_or_else(|| DEFAULT_PROFILE.to_string()),
        Err(e) if e.is_fatal() => return Err(client_error("reading the operator mode", &e)),
        Err(_) => DEFAULT_PROFILE.to_string(),
    };
    session::device_info(client, &profile)
        .await
        .map_err(|e| session_error(&e))
}

/// Shows the info of the modem on `path` (every PSK narrowed to its first 4 hex digits): one
/// `info` event, or a table of words.
pub fn render(info: DeviceInfo, path: &str, out: &Out) -> Result<(), CliError> {
    let info = narrowed(info);
    let mut event = serde_json::to_value(&info).unwrap_or(Value::Null);
    if let Value::Object(m) = &mut event {
        m.insert("event".into(), json!("info"));
        m.insert("port".into(), json!(path));
        if let Some(r) = &info.registration {
            m.insert("registered".into(), json!(r.is_registered()));
            m.insert("registration_summary".into(), json!(r.summary()));
        }
    }
    out.event(&event)?;
    if out.json {
        return Ok(());
    }
    let row = |k: &str, v: &str| out.say(&format!("{k:<17} {v}"));
    row("Port", path)?;
    row("IMEI", info.imei.as_deref().unwrap_or("(not read)"))?;
    let fw = match (&info.firmware, info.firmware_lines.is_empty()) {
        (Some(v), false) => format!("{v}  ({})", info.firmware_lines.join(", ")),
        (Some(v), true) => v.clone(),
        (None, false) => info.firmware_lines.join(", "),
        (None, true) => "(not read)".into(),
    };
    row("Firmware", &fw)?;
    row(
        "Operator mode",
        info.operator_mode.as_deref().unwrap_or("(not read)"),
    )?;
    if let Some(level) = info.cfun {
        row(
            "Functional level",
            &format!(
                "{level} ({})",
                explain(&Message::Cfun { level })
                    .split_once(": ")
                    .map_or("", |(_, t)| t)
                    .trim_end_matches('.')
            ),
        )?;
    }
    if let Some(a) = info.autoconnect {
        row(
            "Autoconnect",
            if a { "on (attaches after boot)" } else { "off" },
        )?;
    }
    match &info.fota_config {
        Some(f) => row("FOTA", &explain(&Message::FotaConfig(f.clone())))?,
        None => row("FOTA", "(not read)")?,
    }
    if info.dm_config.is_empty() {
        row("DM configuration", "(none for this profile)")?;
    }
    for line in &info.dm_config {
        let (key, text) = match line {
            DmConfigLine::Service { .. } => (
                "DM service".to_string(),
                explain(&Message::DmConfig(line.clone())),
            ),
            DmConfigLine::Server { server_id, .. } => (
                format!("DM server {server_id}"),
                explain(&Message::DmConfig(line.clone())),
            ),
            DmConfigLine::Psk {
                server_id,
                identity,
                secret_prefix,
                ..
            } => (
                format!("DM PSK {server_id}"),
                format!("identity {identity}, secret {}", psk_prefix(secret_prefix)),
            ),
        };
        row(&key, &text)?;
    }
    row("Network", info.eps.as_deref().unwrap_or("(not read)"))?;
    match &info.registration {
        Some(r) => {
            row("LwM2M", &r.summary())?;
            for s in r.explanations() {
                row("", &s)?;
            }
        }
        None => row(
            "LwM2M",
            "no status: AT+SQNDMST answered ERROR (the modem is not attached, or its LwM2M client is not enabled)",
        )?,
    }
    for e in info.other_errors() {
        out.debug(1, &format!("could not read: {e}"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::{assert_no_secret, registered_sim, Captured, SECRET};

    /// The info of the provisioned simulator once it has registered.
    fn info() -> DeviceInfo {
        let (mut client, _handle) = registered_sim();
        futures::executor::block_on(read(&mut client)).expect("info read")
    }

    #[test]
    fn info_in_words_shows_4_hex_digits_of_the_psk() {
        let (out, stdout, _) = Captured::out(false, 0);
        render(info(), "sim", &out).expect("rendered");
        let text = stdout.text();
        assert!(
            text.contains(&format!("secret {}…", &SECRET[..4])),
            "{text}"
        );
        assert_no_secret(&text);
        insta::assert_snapshot!(text);
    }

    #[test]
    fn info_in_json_shows_4_hex_digits_of_the_psk() {
        let (out, stdout, _) = Captured::out(true, 0);
        render(info(), "sim", &out).expect("rendered");
        let text = stdout.text();
        assert!(text.contains(&format!("\"{}\"", &SECRET[..4])), "{text}");
        assert_no_secret(&text);
        insta::assert_snapshot!(text);
    }
}
