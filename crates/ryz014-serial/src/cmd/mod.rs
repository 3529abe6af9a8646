//! One module per subcommand, each with its own clap arguments (`…Args`) and a
//! `run(&args, &Out) -> Result<(), CliError>`. A command imports [`crate::context`] (options,
//! output, errors, connecting) and [`crate::flows`] (procedures shared by commands), never another
//! command.

pub mod decode;
pub mod demo;
pub mod info;
pub mod inventory;
pub mod keygen;
pub mod monitor;
pub mod ports;
pub mod provision;
pub mod status;
pub mod term;
pub mod upgrade;
