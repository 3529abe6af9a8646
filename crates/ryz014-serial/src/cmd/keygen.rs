//! `ryz014 keygen`: random 32-byte PSK secrets in hex. Its output IS secret: printing them is
//! its whole purpose.

use clap::Args;
use serde_json::json;

use ryz014_core::psk::PskSecret;

use crate::context::{CliError, Exit, Out};

/// `keygen`'s options.
#[derive(Debug, Clone, Args)]
#[command(after_help = "\
The secrets come from the operating system's random source. `provision` generates its own
secret for each modem and stores it in the inventory; use keygen for other tools.

Examples:
  ryz014 keygen
  ryz014 keygen --count 10 --json")]
pub struct KeygenArgs {
    /// How many secrets to generate.
    #[arg(short = 'n', long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub count: u32,
}

/// Runs `keygen`.
pub fn run(args: &KeygenArgs, out: &Out) -> Result<(), CliError> {
    for index in 1..=args.count {
        let secret =
            PskSecret::generate().map_err(|e| CliError::new(Exit::Failed, e.to_string()))?;
        // keygen's whole purpose is to print the secret: an explicit secret output.
        let hex = secret.expose_hex();
        out.event(&json!({"event": "psk", "index": index, "psk_hex": hex}))?;
        out.say(&hex)?;
    }
    Ok(())
}
