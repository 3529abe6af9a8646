//! `ryz014 ports`: the serial ports with their USB details, and which one would be auto-selected.

use clap::Args;
use serde_json::{json, Value};

use ryz014_serial::ports::{self, Likelihood, RankedPort, SelectError};

use crate::context::{CliError, Exit, Out};

/// `ports`' options (none).
#[derive(Debug, Clone, Args)]
#[command(after_help = "\
No USB vendor/product ID is documented for the RYZ014, so ports are ranked: a USB port whose
descriptor names Sequans, Renesas, RYZ014 or Monarch first, then USB serial ports, then board
UARTs; `ttyS*` ports without a device behind them are ignored. Commands that take --port choose
the port themselves only when exactly one port is the best candidate.

Examples:
  ryz014 ports
  ryz014 ports --json")]
pub struct PortsArgs {}

/// Runs `ports`.
pub fn run(_args: &PortsArgs, out: &Out) -> Result<(), CliError> {
    let list = ports::list_ports().map_err(|e| CliError::new(Exit::Port, e.to_string()))?;
    out.debug(1, &format!("{} serial port(s) found", list.len()));
    render(&ports::rank_ports(&list), ports::auto_select(&list), out)
}

/// Shows ranked ports and the auto-selection: one `port` event per port and an `auto_select`
/// event, or one line per port and the choice.
pub fn render(
    ranked: &[RankedPort],
    chosen: Result<RankedPort, SelectError>,
    out: &Out,
) -> Result<(), CliError> {
    if ranked.is_empty() {
        out.say("no serial ports found")?;
    }
    for r in ranked {
        let mut event = serde_json::to_value(r).unwrap_or(Value::Null);
        if let Value::Object(map) = &mut event {
            map.insert("event".into(), json!("port"));
            map.insert("vid_pid".into(), json!(r.port.vid_pid()));
        }
        out.event(&event)?;
        out.say(&format!(
            "{:<9} {}  ({})",
            likelihood_word(r.likelihood),
            r.port.describe(),
            r.reason
        ))?;
    }
    match chosen {
        Ok(chosen) => {
            out.event(
                &json!({"event": "auto_select", "port": chosen.port.path, "reason": chosen.reason}),
            )?;
            out.say(&format!("auto-selected: {}", chosen.port.path))?;
        }
        Err(e) => {
            out.event(&json!({"event": "auto_select", "port": null, "reason": e.to_string()}))?;
            out.say(&format!("no auto-selection: {e}"))?;
        }
    }
    Ok(())
}

fn likelihood_word(l: Likelihood) -> &'static str {
    match l {
        Likelihood::Named => "modem",
        Likelihood::Likely => "likely",
        Likelihood::Possible => "possible",
        Likelihood::Unlikely => "unlikely",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::Captured;
    use ryz014_serial::ports::{PortInfo, PortKind, UsbDetails};

    /// A modem on USB (its descriptor names Sequans), a USB-UART bridge and a board UART.
    fn bench() -> Vec<PortInfo> {
        let usb = |vid, pid, manufacturer: &str, product: &str| UsbDetails {
            vid,
            pid,
            serial_number: None,
            manufacturer: Some(manufacturer.into()),
            product: Some(product.into()),
            interface: Some(0),
        };
        vec![
            PortInfo {
                path: "/dev/ttyUSB1".into(),
                kind: PortKind::Usb,
                usb: Some(usb(0x0403, 0x6001, "FTDI", "FT232R USB UART")),
            },
            PortInfo {
                path: "/dev/ttyACM0".into(),
                kind: PortKind::Usb,
                usb: Some(usb(0x258d, 0x2000, "Sequans Communications", "Monarch")),
            },
            PortInfo {
                path: "/dev/ttyAMA0".into(),
                kind: PortKind::Unknown,
                usb: None,
            },
        ]
    }

    fn rendered(list: &[PortInfo], json: bool) -> String {
        let (out, stdout, _) = Captured::out(json, 0);
        render(&ports::rank_ports(list), ports::auto_select(list), &out).expect("rendered");
        stdout.text()
    }

    #[test]
    fn ports_in_words() {
        insta::assert_snapshot!(rendered(&bench(), false));
    }

    #[test]
    fn ports_in_json() {
        insta::assert_snapshot!(rendered(&bench(), true));
    }

    #[test]
    fn no_ports_in_words() {
        insta::assert_snapshot!(rendered(&[], false));
    }
}
