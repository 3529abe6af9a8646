//! Serial port listing and modem auto-selection.
//!
//! No USB vendor/product ID is documented for the RYZ014, so the choice cannot rely on one. Ports are
//! ranked instead: a USB port whose descriptor names the modem (Sequans, Renesas, RYZ014, Monarch)
//! first, then USB serial ports (adapters and bridges), then other ports that may carry a UART
//! (PCI, board UARTs such as `ttyAMA0`), and last the unlikely ones (Bluetooth, `ttyS*` without a
//! USB or PCI device behind it). A port is auto-selected only when exactly one port holds the best
//! rank and that rank is at least "USB serial"; otherwise the error explains the candidates.
//!
//! On Linux the list and the USB details come from sysfs (`/sys/class/tty/<name>/device/…`), as
//! pyserial's port lister reads them, so neither building nor running needs libudev.

use std::io;
use std::path::{Path, PathBuf};

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
pub enum ListError {
    /// The `serialport` crate's enumeration failed (platforms other than Linux).
    #[error("cannot list serial ports: {0}")]
    Serial(#[from] serialport::Error),
    /// The sysfs tty class could not be read (Linux).
    #[error("cannot list serial ports: cannot read {}: {source}", .path.display())]
    Sysfs {
        /// The directory that could not be read.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
}

/// Lists the serial ports of this machine (with USB details where the platform gives them).
///
/// On Linux the details come from sysfs ([`list_sysfs_ports`] on `/sys` and `/dev`), so no system
/// library (libudev) is needed to build or run; elsewhere from the `serialport` crate.
pub fn list_ports() -> Result<Vec<PortInfo>, ListError> {
    #[cfg(target_os = "linux")]
    {
        list_sysfs_ports(Path::new("/sys"), Path::new("/dev"))
    }
    #[cfg(not(target_os = "linux"))]
    {
        let ports = serialport::available_ports()?;
        Ok(ports.into_iter().map(from_serialport).collect())
    }
}

/// Lists the serial ports described by the sysfs tree at `sys` whose device nodes exist under
/// `dev`, sorted by path, as pyserial's Linux port lister does.
///
/// Every entry of `<sys>/class/tty` with a `device` link is a port (virtual consoles and
/// pseudo-terminals have none), except a serial-core port whose `type` reads 0 (a legacy `ttyS*`
/// with no UART behind it); `rfcomm*` entries are Bluetooth ports. The kind comes from the
/// subsystem of the device: `usb` (CDC-ACM: the device is the USB interface) and `usb-serial`
/// (USB-UART bridges: the interface is the device's parent) give a USB port, whose vendor and
/// product ids, serial number, manufacturer and product are read from the USB device (the
/// interface's parent) and its interface number from the interface; `pci` gives a PCI port;
/// anything else (board UARTs, `pnp`, `serial-base`, `amba`) a port of unknown kind.
pub fn list_sysfs_ports(sys: &Path, dev: &Path) -> Result<Vec<PortInfo>, ListError> {
    let class = sys.join("class").join("tty");
    let entries = std::fs::read_dir(&class).map_err(|source| ListError::Sysfs {
        path: class.clone(),
        source,
    })?;
    let mut ports = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let node = dev.join(name);
        if !node.exists() {
            continue;
        }
        if let Some((kind, usb)) = sysfs_port_kind(name, &entry.path()) {
            ports.push(PortInfo {
                path: node.to_string_lossy().into_owned(),
                kind,
                usb,
            });
        }
    }
    ports.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(ports)
}

/// The kind and USB details of the tty class entry `class_dir` named `name`, or `None` when it is
/// not a serial port.
fn sysfs_port_kind(name: &str, class_dir: &Path) -> Option<(PortKind, Option<UsbDetails>)> {
    if name.starts_with("rfcomm") {
        return Some((PortKind::Bluetooth, None));
    }
    let device = class_dir.join("device");
    let device = device.canonicalize().ok()?;
    if read_trimmed(class_dir, "type").as_deref() == Some("0") {
        return None;
    }
    let subsystem = device.join("subsystem").canonicalize().ok();
    let subsystem = subsystem
        .as_deref()
        .and_then(Path::file_name)
        .and_then(|s| s.to_str())
        .unwrap_or("");
    let interface = match subsystem {
        "usb" => device.as_path(),
        "usb-serial" => device.parent()?,
        "pci" => return Some((PortKind::Pci, None)),
        _ => return Some((PortKind::Unknown, None)),
    };
    Some((PortKind::Usb, usb_details(interface)))
}

/// The USB details of the interface directory `interface` (its device is the parent directory);
/// `None` when the vendor or product id cannot be read.
fn usb_details(interface: &Path) -> Option<UsbDetails> {
    let device = interface.parent()?;
    let hex16 = |file| u16::from_str_radix(&read_trimmed(device, file)?, 16).ok();
    Some(UsbDetails {
        vid: hex16("idVendor")?,
        pid: hex16("idProduct")?,
        serial_number: read_trimmed(device, "serial"),
        manufacturer: read_trimmed(device, "manufacturer"),
        product: read_trimmed(device, "product"),
        interface: read_trimmed(interface, "bInterfaceNumber")
            .and_then(|s| u8::from_str_radix(&s, 16).ok()),
    })
}

/// The trimmed text of `dir/file`, or `None` when it cannot be read or is empty.
fn read_trimmed(dir: &Path, file: &str) -> Option<String> {
    let text = std::fs::read_to_string(dir.join(file)).ok()?;
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_string())
}

#[cfg(not(target_os = "linux"))]
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

    /// The sysfs lister over fake trees (symbolic links: Unix only).
    #[cfg(unix)]
    mod sysfs {
        use super::*;

        /// A fake sysfs tree (`sys/`) and device directory (`dev/`) in a temporary directory.
        struct FakeSys {
            dir: tempfile::TempDir,
        }

        impl FakeSys {
            fn new() -> FakeSys {
                let f = FakeSys {
                    dir: tempfile::tempdir().unwrap(),
                };
                for d in [
                    "sys/class/tty",
                    "sys/bus/usb",
                    "sys/bus/usb-serial",
                    "sys/bus/pci",
                ] {
                    std::fs::create_dir_all(f.sys().join(d.trim_start_matches("sys/"))).unwrap();
                }
                for d in ["sys/bus/serial-base", "sys/bus/platform", "dev"] {
                    std::fs::create_dir_all(f.dir.path().join(d)).unwrap();
                }
                f
            }

            fn sys(&self) -> PathBuf {
                self.dir.path().join("sys")
            }

            fn dev(&self) -> PathBuf {
                self.dir.path().join("dev")
            }

            fn write(&self, path: &Path, file: &str, text: &str) {
                std::fs::create_dir_all(path).unwrap();
                std::fs::write(path.join(file), text).unwrap();
            }

            /// A device directory under `sys/devices` in `subsystem`.
            fn device(&self, rel: &str, subsystem: &str) -> PathBuf {
                let d = self.sys().join("devices").join(rel);
                std::fs::create_dir_all(&d).unwrap();
                std::os::unix::fs::symlink(
                    self.sys().join("bus").join(subsystem),
                    d.join("subsystem"),
                )
                .unwrap();
                d
            }

            /// A tty class entry `name` (linked to `device` when given) with its `/dev` node.
            fn tty(&self, name: &str, device: Option<&Path>, node: bool) -> PathBuf {
                let c = self.sys().join("class/tty").join(name);
                std::fs::create_dir_all(&c).unwrap();
                if let Some(d) = device {
                    std::os::unix::fs::symlink(d, c.join("device")).unwrap();
                }
                if node {
                    std::fs::write(self.dev().join(name), "").unwrap();
                }
                c
            }

            /// A USB device `1-<n>` with these descriptor files and interface 1-<n>:1.<iface>.
            fn usb_device(&self, n: u8, files: &[(&str, &str)], iface: u8) -> PathBuf {
                let dev = self
                    .sys()
                    .join(format!("devices/pci0000:00/0000:00:14.0/usb1/1-{n}"));
                for (f, t) in files {
                    self.write(&dev, f, &format!("{t}\n"));
                }
                let interface = self.device(
                    &format!("pci0000:00/0000:00:14.0/usb1/1-{n}/1-{n}:1.{iface}"),
                    "usb",
                );
                self.write(&interface, "bInterfaceNumber", &format!("{iface:02x}\n"));
                interface
            }

            fn list(&self) -> Vec<PortInfo> {
                list_sysfs_ports(&self.sys(), &self.dev()).unwrap()
            }
        }

        #[test]
        fn sysfs_usb_serial_bridge_has_its_usb_details() {
            let f = FakeSys::new();
            let interface = f.usb_device(
                2,
                &[
                    ("idVendor", "0403"),
                    ("idProduct", "6001"),
                    ("serial", "A50285BI"),
                    ("manufacturer", "FTDI"),
                    ("product", "FT232R USB UART"),
                ],
                1,
            );
            let tty = f.device(
                "pci0000:00/0000:00:14.0/usb1/1-2/1-2:1.1/ttyUSB0",
                "usb-serial",
            );
            assert!(interface.is_dir());
            f.tty("ttyUSB0", Some(&tty), true);
            let ports = f.list();
            assert_eq!(ports.len(), 1, "{ports:?}");
            let p = &ports[0];
            assert_eq!(p.kind, PortKind::Usb);
            assert_eq!(p.path, f.dev().join("ttyUSB0").to_string_lossy());
            assert_eq!(
                p.usb,
                Some(UsbDetails {
                    vid: 0x0403,
                    pid: 0x6001,
                    serial_number: Some("A50285BI".into()),
                    manufacturer: Some("FTDI".into()),
                    product: Some("FT232R USB UART".into()),
                    interface: Some(1),
                })
            );
            assert!(p.describe().ends_with(
                "ttyUSB0 usb 0403:6001 \"FTDI FT232R USB UART\" serial A50285BI interface 1"
            ));
            assert!(rank(p).reason.contains("FTDI"));
        }

        #[test]
        fn sysfs_cdc_acm_port_names_the_modem() {
            let f = FakeSys::new();
            // CDC-ACM: the tty's device is the USB interface itself; no serial number.
            let interface = f.usb_device(
                3,
                &[
                    ("idVendor", "258d"),
                    ("idProduct", "2000"),
                    ("manufacturer", "Sequans Communications"),
                    ("product", "Monarch LTE"),
                    ("serial", "  "),
                ],
                2,
            );
            f.tty("ttyACM0", Some(&interface), true);
            let ports = f.list();
            assert_eq!(ports.len(), 1, "{ports:?}");
            let u = ports[0].usb.as_ref().expect("USB details");
            assert_eq!((u.vid, u.pid, u.interface), (0x258d, 0x2000, Some(2)));
            assert_eq!(u.serial_number, None, "a blank serial is no serial");
            assert_eq!(
                auto_select(&ports).unwrap().likelihood,
                Likelihood::Named,
                "{ports:?}"
            );
        }

        #[test]
        fn sysfs_skips_virtual_ttys_missing_nodes_and_uarts_without_hardware() {
            let f = FakeSys::new();
            let pci = f.device("pci0000:00/0000:00:16.3", "pci");
            let pnp = f.device("platform/serial8250/serial8250:0.0", "serial-base");
            let none = f.device("platform/serial8250/serial8250:0.1", "serial-base");
            let board = f.device("platform/fe201000.serial", "platform");
            f.tty("tty0", None, true); // a virtual console: no device link
            f.tty("ptmx", None, true);
            f.tty("ttyS4", Some(&pci), true);
            let s0 = f.tty("ttyS0", Some(&pnp), true);
            f.write(&s0, "type", "4\n");
            let s1 = f.tty("ttyS1", Some(&none), true);
            f.write(&s1, "type", "0\n"); // no UART behind it
            f.tty("ttyAMA0", Some(&board), true);
            f.tty("ttyS9", Some(&pci), false); // no /dev node
            f.tty("rfcomm0", None, true);
            let got: Vec<(String, PortKind)> = f
                .list()
                .into_iter()
                .map(|p| {
                    let name = p.path.rsplit('/').next().unwrap().to_string();
                    assert!(p.usb.is_none());
                    (name, p.kind)
                })
                .collect();
            assert_eq!(
                got,
                [
                    ("rfcomm0".to_string(), PortKind::Bluetooth),
                    ("ttyAMA0".to_string(), PortKind::Unknown),
                    ("ttyS0".to_string(), PortKind::Unknown),
                    ("ttyS4".to_string(), PortKind::Pci),
                ]
            );
        }

        #[test]
        fn sysfs_usb_port_without_readable_ids_is_usb_without_details() {
            let f = FakeSys::new();
            let interface = f.usb_device(4, &[("idVendor", "zz01"), ("idProduct", "6001")], 0);
            f.tty("ttyACM3", Some(&interface), true);
            let ports = f.list();
            assert_eq!(ports.len(), 1);
            assert_eq!(
                (ports[0].kind, ports[0].usb.is_none()),
                (PortKind::Usb, true)
            );
            assert_eq!(rank(&ports[0]).likelihood, Likelihood::Likely);
        }

        #[test]
        fn sysfs_without_a_tty_class_is_an_error_naming_it() {
            let dir = tempfile::tempdir().unwrap();
            let err = list_sysfs_ports(dir.path(), dir.path()).unwrap_err();
            let text = err.to_string();
            assert!(
                text.contains("cannot list serial ports") && text.contains("class/tty"),
                "{text}"
            );
        }
    }
}
