//! `ryz014`: the command-line tool. Parses the arguments, runs the command, and turns every failure
//! into a message and an exit code (see [`cli`]); it never panics on bad input.

mod cli;
mod cmd;
mod context;
mod flows;
#[cfg(test)]
mod testkit;

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use serde_json::json;

fn main() -> ExitCode {
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            if !e.use_stderr() {
                // --help or --version.
                let _ = e.print();
                return ExitCode::SUCCESS;
            }
            if std::env::args_os().any(|a| a == "--json") {
                let message = e.render().to_string();
                let line = json!({"event": "error", "exit_code": context::Exit::Usage as u8, "message": message.trim_end()});
                let _ = writeln!(std::io::stdout().lock(), "{line}");
            } else {
                let _ = e.print();
            }
            return ExitCode::from(context::Exit::Usage as u8);
        }
    };
    let out = context::Out::stdio(cli.global.json, cli.global.verbose);
    match cli::run(&cli, &out) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            out.error(&e);
            ExitCode::from(e.exit as u8)
        }
    }
}
