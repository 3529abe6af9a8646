//! Serial port listing and modem auto-selection.
//!
//! No USB vendor/product ID is documented for the RYZ014, so the choice cannot rely on one. Ports are
//! ranked instead: a USB port whose descriptor names the modem (Sequans, Renesas, RYZ014, Monarch)
//! first, then USB serial ports (adapters and bridges), then other ports that may carry a UART
//! (PCI, board UARTs such as `ttyAMA0`), and last the unlikely ones (Bluetooth, `ttyS*` without a
//! USB or PCI device behind it). A port is auto-selected only when exactly one port holds the best
//! rank and that rank is at least "USB serial"; otherwise the error explains the candidates.

use serde::Serialize;

/// How a port is attached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PortKind {
    /// USB (CDC-ACM or a USB-UART bridge).
    Usb,
    /// A PCI serial card or on-board UART reported on PCI.
    Pci,
    /// Bluetooth RFCOMM.
    Bluetooth,
    /// Not known (board UARTs, legacy `ttyS*`, platforms without details).
    Unknown,
}

/// USB descriptor details of a port.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UsbDetails {
    /// Vendor ID.
    pub vid: u16,
    /// Product ID.
    pub pid: u16,
    /// Serial number, when the device reports one.
    pub serial_number: Option<String>,
    /// Manufacturer string.
    pub manufacturer: Option<String>,
    /// Product string.
    pub product: Option<String>,
    /// USB interface number (devices with several serial interfaces have one port per interface).
    pub interface: Option<u8>,
}

/// One serial port as the operating system reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PortInfo {
    /// Device path (`/dev/ttyUSB0`, `COM3`).
    pub path: String,
    /// How it is attached.
    pub kind: PortKind,
    /// USB details, for USB ports.
    pub usb: Option<UsbDetails>,
}

impl PortInfo {
    /// `vid:pid` in lowercase hex (`0403:6001`), for USB ports.
    pub fn vid_pid(&self) -> Option<String> {
        self.usb
            .as_ref()
            .map(|u| format!("{:04x}:{:04x}", u.vid, u.pid))
    }

    /// A one-line human description: path, kind and USB details.
    pub fn describe(&self) -> String {
        let mut s = self.path.clone();
        match &self.usb {
            Some(u) => {
                s.push_str(&format!(" usb {:04x}:{:04x}", u.vid, u.pid));
                let words: Vec<&str> = [&u.manufacturer, &u.product]
                    .into_iter()
                    .flatten()
                    .map(String::as_str)
                    .collect();
                if !words.is_empty() {
                    s.push_str(&format!(" \"{}\"", words.join(" ")));
                }
                if let Some(sn) = &u.serial_number {
                    s.push_str(&format!(" serial {sn}"));
                }
                if let Some(i) = u.interface {
                    s.push_str(&format!(" interface {i}"));
                }
            }
            None => s.push_str(match self.kind {
                PortKind::Usb => " usb",
                PortKind::Pci => " pci",
                PortKind::Bluetooth => " bluetooth",
                PortKind::Unknown => "",
            }),
        }
        s
    }
}

/// How likely a port is to be the modem, worst first (so `Ord` ranks them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Likelihood {
    /// Bluetooth, or a legacy `ttyS*` with no device behind it.
    Unlikely,
    /// A UART that may be wired to a modem (PCI, board UART, a debug probe's virtual port).
    Possible,
    /// A USB serial port.
    Likely,
    /// A USB port whose descriptor names the modem or its maker.
    Named,
}

/// A port with its rank and the reason for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RankedPort {
    /// The port.
    #[serde(flatten)]
    pub port: PortInfo,
    /// How likely it is to be the modem.
    pub likelihood: Likelihood,
    /// Why, in words.
    pub reason: String,
}

/// Why a port could not be chosen automatically.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SelectError {
    /// No port looks like a modem.
    #[error("no serial port looks like a modem{}; connect it or name it with --port", found(.0))]
    NoCandidate(Vec<RankedPort>),
    /// Several ports look equally likely.
    #[error("{} serial ports could be the modem:{}\nname one with --port", .0.len(), listing(.0))]
    Ambiguous(Vec<RankedPort>),
}

fn found(ports: &[RankedPort]) -> String {
    if ports.is_empty() {
        " (no serial ports found)".to_string()
    } else {
        format!(" (found:{})", listing(ports))
    }
}

fn listing(ports: &[RankedPort]) -> String {
    ports
        .iter()
        .map(|p| format!("\n  {} ({})", p.port.describe(), p.reason))
        .collect()
}

/// Why the operating system's port list could not be read.
#[derive(Debug, thiserror::Error)]
#[error("cannot list serial ports: {0}")]
pub struct ListError(#[from] serialport::Error);

/// Lists the serial ports of this machine (with USB details where the platform gives them).
pub fn list_ports() -> Result<Vec<PortInfo>, ListError> {
    let ports = serialport::available_ports()?;
    Ok(ports.into_iter().map(from_serialport).collect())
}

fn from_serialport(p: serialport::SerialPortInfo) -> PortInfo {
    use serialport::SerialPortType as T;
    let (kind, usb) = match p.port_type {
        T::UsbPort(u) => (
            PortKind::Usb,
            Some(UsbDetails {
                vid: u.vid,
                pid: u.pid,
                serial_number: u.serial_number,
                manufacturer: u.manufacturer,
                product: u.product,
                interface: u.interface,
            }),
        ),
        T::PciPort => (PortKind::Pci, None),
        T::BluetoothPort => (PortKind::Bluetooth, None),
        T::Unknown => (PortKind::Unknown, None),
    };
    PortInfo {
        path: p.port_name,
        kind,
        usb,
    }
}

/// Words in a USB descriptor that name the modem or its maker.
const MODEM_WORDS: [&str; 4] = ["ryz014", "sequans", "monarch", "renesas"];

/// USB vendors whose serial ports belong to debug probes rather than to a modem.
const DEBUG_PROBE_VIDS: [(u16, &str); 3] = [
    (0x1366, "SEGGER J-Link"),
    (0x0483, "ST-Link"),
    (0x0d28, "CMSIS-DAP"),
];

/// Well-known USB-UART bridge vendors (named in the reason only).
const BRIDGE_VIDS: [(u16, &str); 5] = [
    (0x0403, "FTDI"),
    (0x10c4, "Silicon Labs CP210x"),
    (0x1a86, "WCH CH34x"),
    (0x067b, "Prolific"),
    (0x04d8, "Microchip"),
];

/// Ranks one port.
pub fn rank(port: &PortInfo) -> RankedPort {
    let (likelihood, reason) = rank_reason(port);
    RankedPort {
        port: port.clone(),
        likelihood,
        reason,
    }
}

fn rank_reason(port: &PortInfo) -> (Likelihood, String) {
    let base = port.path.rsplit(['/', '\\']).next().unwrap_or(&port.path);
    if let Some(u) = &port.usb {
        let text = [&u.manufacturer, &u.product]
            .into_iter()
            .flatten()
            .map(|s| s.to_lowercase())
            .collect::<Vec<_>>()
            .join(" ");
        if let Some(word) = MODEM_WORDS.iter().find(|w| text.contains(*w)) {
            return (
                Likelihood::Named,
                format!("USB descriptor mentions \"{word}\""),
            );
        }
        if let Some((_, name)) = DEBUG_PROBE_VIDS.iter().find(|(v, _)| *v == u.vid) {
            return (
                Likelihood::Possible,
                format!("virtual serial port of a {name} debug probe"),
            );
        }
        if let Some((_, name)) = BRIDGE_VIDS.iter().find(|(v, _)| *v == u.vid) {
            return (Likelihood::Likely, format!("{name} USB-UART bridge"));
        }
        return (Likelihood::Likely, "USB serial port".to_string());
    }
    match port.kind {
        PortKind::Usb => (Likelihood::Likely, "USB serial port".to_string()),
        PortKind::Bluetooth => (Likelihood::Unlikely, "Bluetooth serial port".to_string()),
        PortKind::Pci => (Likelihood::Possible, "PCI serial port".to_string()),
        PortKind::Unknown if base.starts_with("ttyS") => (
            Likelihood::Unlikely,
            "legacy serial port without a USB or PCI device".to_string(),
        ),
        PortKind::Unknown => (
            Likelihood::Possible,
            "serial port of unknown kind (a board UART?)".to_string(),
        ),
    }
}

/// Ranks every port, best first (ties keep the path order).
pub fn rank_ports(ports: &[PortInfo]) -> Vec<RankedPort> {
    let mut ranked: Vec<RankedPort> = ports.iter().map(rank).collect();
    ranked.sort_by(|a, b| {
        b.likelihood
            .cmp(&a.likelihood)
            .then_with(|| a.port.path.cmp(&b.port.path))
    });
    ranked
}

/// Chooses the modem's port: the single port of the best rank, if that rank is at least
/// [`Likelihood::Likely`].
pub fn auto_select(ports: &[PortInfo]) -> Result<RankedPort, SelectError> {
    let ranked = rank_ports(ports);
    let Some(best) = ranked.first().map(|r| r.likelihood) else {
        return Err(SelectError::NoCandidate(ranked));
    };
    if best < Likelihood::Likely {
        return Err(SelectError::NoCandidate(ranked));
    }
    let mut top: Vec<RankedPort> = ranked
        .into_iter()
        .filter(|r| r.likelihood == best)
        .collect();
    if top.len() == 1 {
        Ok(top.remove(0))
    } else {
        Err(SelectError::Ambiguous(top))
    }
}

/// Why no port could be chosen by [`choose_port`].
#[derive(Debug, thiserror::Error)]
pub enum ChooseError {
    /// The port list could not be read.
    #[error(transparent)]
    List(#[from] ListError),
    /// No single port looks like the modem.
    #[error(transparent)]
    Select(#[from] SelectError),
}

/// The port to use: `explicit` when given (not checked against the list: pseudo-terminals and
/// unusual drivers are not always enumerated), otherwise the auto-selected one.
pub fn choose_port(explicit: Option<&str>) -> Result<RankedPort, ChooseError> {
    if let Some(path) = explicit {
        return Ok(RankedPort {
            port: PortInfo {
                path: path.to_string(),
                kind: PortKind::Unknown,
                usb: None,
            },
            likelihood: Likelihood::Named,
            reason: "named with --port".to_string(),
        });
    }
    Ok(auto_select(&list_ports()?)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usb(path: &str, vid: u16, product: Option<&str>) -> PortInfo {
        PortInfo {
            path: path.into(),
            kind: PortKind::Usb,
            usb: Some(UsbDetails {
                vid,
                pid: 0x6001,
                serial_number: Some("A1".into()),
                manufacturer: None,
                product: product.map(str::to_string),
                interface: None,
            }),
        }
    }

    fn plain(path: &str, kind: PortKind) -> PortInfo {
        PortInfo {
            path: path.into(),
            kind,
            usb: None,
        }
    }

    #[test]
    fn single_usb_port_is_selected_over_legacy_uarts() {
        let ports = [
            plain("/dev/ttyS0", PortKind::Unknown),
            usb("/dev/ttyUSB0", 0x0403, Some("FT232R USB UART")),
            plain("/dev/ttyS1", PortKind::Unknown),
        ];
        let chosen = auto_select(&ports).unwrap();
        assert_eq!(chosen.port.path, "/dev/ttyUSB0");
        assert!(chosen.reason.contains("FTDI"), "{}", chosen.reason);
    }

    #[test]
    fn named_port_wins_over_other_usb_ports() {
        let ports = [
            usb("/dev/ttyACM0", 0x1234, Some("Sequans Monarch")),
            usb("/dev/ttyUSB0", 0x10c4, None),
        ];
        assert_eq!(auto_select(&ports).unwrap().port.path, "/dev/ttyACM0");
    }

    #[test]
    fn two_usb_ports_are_ambiguous_and_listed() {
        let ports = [
            usb("/dev/ttyUSB1", 0x0403, None),
            usb("/dev/ttyUSB0", 0x1a86, None),
        ];
        let err = auto_select(&ports).unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, SelectError::Ambiguous(ref v) if v.len() == 2));
        assert!(
            text.contains("/dev/ttyUSB0") && text.contains("/dev/ttyUSB1"),
            "{text}"
        );
        assert!(text.contains("--port"), "{text}");
    }

    #[test]
    fn only_unlikely_or_possible_ports_select_nothing() {
        let ports = [
            plain("/dev/ttyS0", PortKind::Unknown),
            plain("/dev/ttyAMA0", PortKind::Unknown),
            usb("/dev/ttyACM0", 0x1366, Some("J-Link")),
        ];
        let err = auto_select(&ports).unwrap_err();
        assert!(matches!(err, SelectError::NoCandidate(ref v) if v.len() == 3));
        let text = err.to_string();
        assert!(text.contains("/dev/ttyAMA0"), "{text}");
        assert!(text.contains("debug probe"), "{text}");
        assert!(matches!(auto_select(&[]), Err(SelectError::NoCandidate(v)) if v.is_empty()));
    }

    #[test]
    fn ranking_orders_best_first() {
        let ports = [
            plain("/dev/rfcomm0", PortKind::Bluetooth),
            plain("/dev/ttyS0", PortKind::Unknown),
            plain("/dev/ttyAMA0", PortKind::Unknown),
            usb("/dev/ttyUSB0", 0x9999, None),
        ];
        let order: Vec<Likelihood> = rank_ports(&ports).iter().map(|r| r.likelihood).collect();
        assert_eq!(
            order,
            [
                Likelihood::Likely,
                Likelihood::Possible,
                Likelihood::Unlikely,
                Likelihood::Unlikely
            ]
        );
    }

    #[test]
    fn an_explicit_port_is_used_as_given() {
        let chosen = choose_port(Some("/dev/pts/7")).unwrap();
        assert_eq!(chosen.port.path, "/dev/pts/7");
        assert_eq!(chosen.reason, "named with --port");
    }

    #[test]
    fn describe_shows_usb_details() {
        let mut p = usb("/dev/ttyUSB0", 0x0403, Some("FT232R"));
        if let Some(u) = p.usb.as_mut() {
            u.interface = Some(2);
        }
        assert_eq!(p.vid_pid().as_deref(), Some("0403:6001"));
        assert_eq!(
            p.describe(),
            "/dev/ttyUSB0 usb 0403:6001 \"FT232R\" serial A1 interface 2"
        );
    }
}
