//! The `ryz014` command line: the top-level arguments (clap derive), the subcommands (each with
//! its own arguments in `cmd/`), and the dispatch.
//!
//! Exit codes: 0 success; 1 the modem refused or the operation failed; 2 bad usage, a bad
//! profile or a wrong file (told before any port is opened); 3 no answer in time; 4 the port
//! could not be opened or vanished (see [`crate::context::Exit`]).

use clap::{Parser, Subcommand};

use crate::cmd::{
    decode, demo, info, inventory, keygen, monitor, ports, provision, status, term, upgrade,
};
use crate::context::options::GlobalArgs;
use crate::context::{CliError, Out};

const MAIN_HELP: &str = "\
Exit codes:
  0  success
  1  the modem refused or the operation failed (the message names the step and the modem's answer)
  2  bad usage, a bad profile or a wrong file, told before any port is opened (the message
     names the key or file and what is allowed)
  3  no answer in time
  4  the port could not be opened or vanished

Examples:
  ryz014 ports                                   list serial ports; shows which one would be chosen
  ryz014 info                                    identify the only plugged-in modem
  ryz014 keygen --count 3                        three random 32-byte PSKs in hex
  ryz014 provision -p /dev/ttyUSB0 --profile coiote.toml
  ryz014 inventory export --format coiote-csv --out devices.csv
  ryz014 monitor -p /dev/ttyUSB0 --until installed
  ryz014 --json status -p /dev/ttyUSB0           one JSON object per line

PSK secrets never appear in output, logs or errors; only `keygen` and `inventory export` print them.";

/// ryz014: provision Renesas RYZ014 LTE-M modems for FOTA and watch upgrades live.
#[derive(Debug, Parser)]
#[command(name = "ryz014", version, after_help = MAIN_HELP)]
pub struct Cli {
    /// `--json` and `-v`.
    #[command(flatten)]
    pub global: GlobalArgs,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// List serial ports with their USB details and say which one would be auto-selected.
    Ports(ports::PortsArgs),

    /// Identify the modem: IMEI, firmware, operator mode and FOTA configuration.
    Info(info::InfoArgs),

    /// Generate random 32-byte PSK secrets (64 hex digits each). This output IS secret.
    Keygen(keygen::KeygenArgs),

    /// Provision modems for FOTA: read the IMEI, generate the PSK, record it, configure, verify.
    Provision(provision::ProvisionArgs),

    /// Look at the provisioning inventory or export it for the LwM2M server.
    #[command(subcommand)]
    Inventory(inventory::InventoryCommand),

    /// Watch a modem's FOTA and registration notifications live.
    Monitor(monitor::MonitorArgs),

    /// Show the modem's current registration and FOTA state once.
    Status(status::StatusArgs),

    /// Start a device-initiated upgrade from a URL (AT+SQNSUPGRADE) and follow it.
    Upgrade(upgrade::UpgradeArgs),

    /// An interactive AT terminal that explains every notification in plain words.
    Term(term::TermArgs),

    /// Explain a captured AT log (a file, or `-` for standard input) line by line.
    Decode(decode::DecodeArgs),

    /// Provision and upgrade a simulated modem, to see the whole flow without hardware.
    Demo(demo::DemoArgs),
}

/// Runs a parsed command line.
pub fn run(cli: &Cli, out: &Out) -> Result<(), CliError> {
    match &cli.command {
        Command::Ports(args) => ports::run(args, out),
        Command::Info(args) => info::run(args, out),
        Command::Keygen(args) => keygen::run(args, out),
        Command::Provision(args) => provision::run(args, out),
        Command::Inventory(command) => inventory::run(command, out),
        Command::Monitor(args) => monitor::run(args, out),
        Command::Status(args) => status::run(args, out),
        Command::Upgrade(args) => upgrade::run(args, out),
        Command::Term(args) => term::run(args, out),
        Command::Decode(args) => decode::run(args, out),
        Command::Demo(args) => demo::run(args, out),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
