//! The options several commands share (clap derive): the global `--json` and `-v`, the port
//! (`-p`, `--baud`, `--rtscts`) and the inventory file, with their value parsers.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use ryz014_serial::net::Address;
use ryz014_serial::transport::{Baud, MAX_BAUD, MIN_BAUD};

/// The inventory file used when `--inventory` is not given.
pub const DEFAULT_INVENTORY: &str = "ryz014-inventory.sqlite";

/// The options of every command.
#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// Print one JSON object per line per event on stdout instead of words (errors too:
    /// `{"event":"error","exit_code":N,"message":…}`).
    #[arg(long, global = true)]
    pub json: bool,

    /// More detail on stderr: -v shows each step, -vv every AT line (secrets stay redacted).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
}

/// Serial port options shared by the commands that talk to one modem.
#[derive(Debug, Clone, Args)]
pub struct PortArgs {
    /// The serial port (`/dev/ttyUSB0`, `COM3`), or a serial-to-network bridge:
    /// `socket://HOST:PORT` (raw TCP) or `rfc2217://HOST:PORT` (Telnet COM port control). Without
    /// it, the only likely modem port is used.
    #[arg(short, long, value_name = "PORT", value_parser = parse_port)]
    pub port: Option<String>,
    /// Baud rate, or `auto` to try 921600 then 115200 with `AT` (through `socket://` the bridge's
    /// own rate applies).
    #[arg(long, value_name = "RATE|auto", default_value = "auto", value_parser = parse_baud)]
    pub baud: Baud,
    /// Use RTS/CTS hardware flow control (negotiated through `rfc2217://`; the bridge's own
    /// setting applies through `socket://`).
    #[arg(long)]
    pub rtscts: bool,
}

/// `--inventory FILE|URL` and `--station NAME`.
#[derive(Debug, Clone, Args)]
pub struct InventoryArg {
    /// The inventory: a SQLite file, or a shared PostgreSQL database
    /// (`postgres://user@host/db`).
    #[arg(
        long = "inventory",
        value_name = "DB",
        env = "RYZ014_INVENTORY",
        hide_env_values = true,
        default_value = DEFAULT_INVENTORY
    )]
    pub path: PathBuf,
    /// The name this station writes into the records (default: the host name).
    #[arg(long = "station", value_name = "NAME", env = "RYZ014_STATION")]
    pub station: Option<String>,
}

/// Seconds (decimals allowed) as a duration: 0 up to about 31 years.
pub fn parse_secs(s: &str) -> Result<Duration, String> {
    match s.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && (0.0..=1e9).contains(&v) => Ok(Duration::from_secs_f64(v)),
        _ => Err("seconds must be a number in 0..=1000000000 (decimals allowed)".to_string()),
    }
}

/// Like [`parse_secs`], but more than zero.
pub fn parse_positive_secs(s: &str) -> Result<Duration, String> {
    match parse_secs(s) {
        Ok(d) if !d.is_zero() => Ok(d),
        _ => Err("seconds must be a number greater than 0, at most 1000000000".to_string()),
    }
}

/// A port as given to `-p`: a device path, or a well-formed `socket://` or `rfc2217://` URL.
pub fn parse_port(s: &str) -> Result<String, String> {
    Address::parse(s)
        .map(|_| s.to_string())
        .map_err(|e| e.to_string())
}

/// `--baud`: `auto`, or a rate the transport accepts.
pub fn parse_baud(s: &str) -> Result<Baud, String> {
    if s.eq_ignore_ascii_case("auto") {
        return Ok(Baud::Auto);
    }
    match s.parse::<u32>() {
        Ok(b) if (MIN_BAUD..=MAX_BAUD).contains(&b) => Ok(Baud::Fixed(b)),
        _ => Err(format!(
            "baud must be `auto` or a rate in {MIN_BAUD}..={MAX_BAUD}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn baud_accepts_auto_and_the_range() {
        assert_eq!(parse_baud("auto"), Ok(Baud::Auto));
        assert_eq!(parse_baud("115200"), Ok(Baud::Fixed(115_200)));
        let e = parse_baud("99").unwrap_err();
        assert!(e.contains("1200..=4000000"), "{e}");
        assert!(parse_baud("fast").is_err());
    }

    #[test]
    fn seconds_accept_decimals_and_name_the_range() {
        assert_eq!(parse_secs("0.5"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_secs("0"), Ok(Duration::ZERO));
        for bad in ["-1", "NaN", "inf", "1e10", "soon"] {
            let e = parse_secs(bad).unwrap_err();
            assert!(e.contains("0..=1000000000"), "{bad}: {e}");
        }
        assert!(parse_positive_secs("0").is_err());
        assert_eq!(parse_positive_secs("3600"), Ok(Duration::from_secs(3600)));
    }
}
