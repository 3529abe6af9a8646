//! The output sink: results and events in words or JSON lines on one writer (standard output),
//! diagnostics and warnings on another (standard error). Commands write only through an [`Out`],
//! so a test can hand them in-memory writers and look at exactly what they print.

use std::io::{self, IsTerminal, Write};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use serde_json::{json, Value};

use super::error::CliError;

/// One writer, shared by the threads of a command (one per port in `provision`).
type Shared = Arc<Mutex<Box<dyn Write + Send>>>;

/// Where results, events and diagnostics go.
#[derive(Clone)]
pub struct Out {
    /// JSON lines instead of words.
    pub json: bool,
    /// `-v` count.
    pub verbose: u8,
    /// Whether the diagnostics writer is a terminal (progress bars are drawn there).
    terminal: bool,
    stdout: Shared,
    stderr: Shared,
}

fn shared(w: impl Write + Send + 'static) -> Shared {
    Arc::new(Mutex::new(Box::new(w)))
}

fn lock(w: &Shared) -> MutexGuard<'_, Box<dyn Write + Send>> {
    w.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Out {
    /// The process's standard output and standard error.
    pub fn stdio(json: bool, verbose: u8) -> Out {
        Out {
            json,
            verbose,
            terminal: io::stderr().is_terminal(),
            stdout: shared(io::stdout()),
            stderr: shared(io::stderr()),
        }
    }

    /// Output to `stdout` and diagnostics to `stderr` (neither a terminal: no progress bars).
    #[cfg(test)]
    pub fn to_writers(
        json: bool,
        verbose: u8,
        stdout: impl Write + Send + 'static,
        stderr: impl Write + Send + 'static,
    ) -> Out {
        Out {
            json,
            verbose,
            terminal: false,
            stdout: shared(stdout),
            stderr: shared(stderr),
        }
    }

    /// Whether progress bars may be drawn: words mode and standard error a terminal.
    pub fn bars(&self) -> bool {
        !self.json && self.terminal
    }

    /// Prints one line of words (ignored in JSON mode).
    pub fn say(&self, line: &str) -> Result<(), CliError> {
        if self.json {
            return Ok(());
        }
        self.print(line)
    }

    /// Prints one JSON event (ignored in word mode).
    pub fn event(&self, value: &Value) -> Result<(), CliError> {
        if !self.json {
            return Ok(());
        }
        self.print(&value.to_string())
    }

    /// Prints one line as it is, in either mode.
    pub fn print(&self, line: &str) -> Result<(), CliError> {
        writeln!(lock(&self.stdout), "{line}").map_err(|e| CliError::output(&e))
    }

    /// Runs `f` with the output writer (held for the whole call), for bulk output.
    pub fn with_output<T>(&self, f: impl FnOnce(&mut dyn Write) -> T) -> T {
        let mut w = lock(&self.stdout);
        f(&mut **w)
    }

    /// A diagnostic on stderr, shown from verbosity `level` on (1 = `-v`, 2 = `-vv`).
    pub fn debug(&self, level: u8, line: &str) {
        if self.verbose >= level {
            self.diagnostic(&format!("ryz014: {line}"));
        }
    }

    /// A warning in words on stderr (`ryz014: warning: …`), in word mode only.
    pub fn warn(&self, message: &str) {
        if !self.json {
            self.diagnostic(&format!("ryz014: warning: {message}"));
        }
    }

    /// One line on stderr, as it is.
    pub fn diagnostic(&self, line: &str) {
        let _ = writeln!(lock(&self.stderr), "{line}");
    }

    /// Reports a failure: a JSON `error` event on stdout in JSON mode, words on stderr otherwise.
    pub fn error(&self, e: &CliError) {
        if e.quiet {
            return;
        }
        if self.json {
            let line = json!({"event": "error", "exit_code": e.exit as u8, "message": e.message});
            let _ = self.print(&line.to_string());
        } else {
            self.diagnostic(&format!("ryz014: error: {}", e.message));
        }
    }
}
