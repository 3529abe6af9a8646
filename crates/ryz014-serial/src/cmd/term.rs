//! `ryz014 term`: an interactive AT console with decoded annotations and redacted secrets.
//!
//! Lines typed at the prompt (rustyline: line editing and history) go to the modem through the
//! core's client ([`Client::execute_raw`]); every line the modem sends is printed as it arrives,
//! with its meaning ([`explain`]); notifications show up between commands too, above the prompt.
//! A PSK secret in a typed `AT+SQNDMCFG` (even a malformed one: missing quote, mistyped name,
//! missing identity) is redacted by the core's one rule ([`redact_command_text`]) in the echo on
//! the screen, in the modem's echo, in `--json` and in the history (memory and file): the history
//! keeps only the redacted form, and an existing history file is narrowed to mode 0600 and
//! rewritten redacted.
//!
//! When standard input is not a terminal, lines are read from it as they come (for scripts and
//! tests); each is shown as `> <command>` (redacted) before its answer.
//!
//! The port belongs to a worker thread that runs the client: it executes the typed commands one
//! at a time and, in between, keeps reading notifications.
//!
//! Environment: `RYZ014_HISTORY` (a history file; default `~/.ryz014_history` on a terminal,
//! empty for none); `--timeout` (seconds a command may take; default 10).

use std::cell::RefCell;
use std::io::{self, BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::mpsc::{self, Receiver, Sender, TryRecvError};
use std::time::Duration;

use clap::Args;
use futures::executor::block_on;
use rustyline::error::ReadlineError;
use rustyline::{DefaultEditor, ExternalPrinter};
use ryz014_core::client::{ClientError, WireEvent};
use ryz014_core::describe::{decode_record, explain, redact_command_text};
use ryz014_core::parse::parse_line;
use ryz014_core::Message;
use serde_json::{json, Value};

use crate::context::options::parse_positive_secs;
use crate::context::{
    client_error, connect, CliError, Exit, Handshake, Out, PortArgs, SerialClient,
};

/// `term`'s options.
#[derive(Debug, Clone, Args)]
#[command(after_help = "\
Examples:
  ryz014 term -p /dev/ttyUSB0

Environment: RYZ014_HISTORY names the history file (default ~/.ryz014_history; empty: none).
Secrets typed in AT+SQNDMCFG are stored redacted; the file is created with mode 0600.")]
pub struct TermArgs {
    /// The port.
    #[command(flatten)]
    pub port: PortArgs,
    /// Seconds a command may take before the console stops waiting for its answer.
    #[arg(long, value_name = "SECS", default_value = "10", value_parser = parse_positive_secs)]
    pub timeout: Duration,
}

/// How often the worker checks for a typed command while it reads notifications.
const IDLE_POLL: Duration = Duration::from_millis(100);
/// How long notifications are still shown after the end of piped input.
const LINGER: Duration = Duration::from_millis(300);
/// The prompt.
const PROMPT: &str = "ryz014> ";

/// Where the worker prints: standard output, or above the prompt on a terminal.
type Printer = Box<dyn FnMut(String) + Send>;

/// What the worker tells the input side.
enum Reply {
    /// The port is open: commands may come.
    Ready(String),
    /// The command is done (its answer printed).
    Done,
    /// The worker stopped for good.
    Failed(CliError),
}

/// Runs `term`.
pub fn run(args: &TermArgs, out: &Out) -> Result<(), CliError> {
    let timeout = args.timeout;
    let interactive = io::stdin().is_terminal() && io::stdout().is_terminal() && !out.json;
    let mut editor = if interactive {
        Some(DefaultEditor::new().map_err(|e| {
            CliError::new(Exit::Failed, format!("cannot start the line editor: {e}"))
        })?)
    } else {
        None
    };
    let printer: Printer = match editor.as_mut().map(|ed| ed.create_external_printer()) {
        Some(Ok(mut p)) => Box::new(move |line: String| {
            let _ = p.print(line + "\n");
        }),
        _ => {
            let out = out.clone();
            Box::new(move |line: String| {
                let _ = out.print(&line);
            })
        }
    };

    let (cmd_tx, cmd_rx) = mpsc::channel::<String>();
    let (reply_tx, reply_rx) = mpsc::channel::<Reply>();
    let worker_out = out.clone();
    let worker_args = args.port.clone();
    let worker = std::thread::Builder::new()
        .name("ryz014-term".into())
        .spawn(move || {
            worker(
                &worker_args,
                &worker_out,
                timeout,
                printer,
                &cmd_rx,
                &reply_tx,
            )
        })
        .map_err(|e| CliError::new(Exit::Failed, format!("cannot start the terminal: {e}")))?;

    let path = match reply_rx.recv() {
        Ok(Reply::Ready(path)) => path,
        Ok(Reply::Failed(e)) => return Err(e),
        _ => return Err(CliError::new(Exit::Failed, "the terminal stopped at start")),
    };
    let result = match editor {
        Some(ed) => {
            out.say(&format!(
                "connected to {path}; type AT commands, `exit` or Ctrl-D to leave"
            ))?;
            interactive_loop(ed, &cmd_tx, &reply_rx)
        }
        None => piped_loop(out, &cmd_tx, &reply_rx),
    };
    drop(cmd_tx);
    let _ = worker.join();
    result
}

/// Whether a typed line asks to leave.
fn is_exit(line: &str) -> bool {
    matches!(line.trim().to_ascii_lowercase().as_str(), "exit" | "quit")
}

/// Sends a command and waits for its answer; `Err` when the worker stopped.
fn send(cmd_tx: &Sender<String>, reply_rx: &Receiver<Reply>, line: &str) -> Result<(), CliError> {
    if cmd_tx.send(line.to_string()).is_err() {
        return Err(CliError::new(
            Exit::Port,
            "the connection to the modem ended",
        ));
    }
    match reply_rx.recv() {
        Ok(Reply::Done) | Ok(Reply::Ready(_)) => Ok(()),
        Ok(Reply::Failed(e)) => Err(e),
        Err(_) => Err(CliError::new(
            Exit::Port,
            "the connection to the modem ended",
        )),
    }
}

fn interactive_loop(
    mut ed: DefaultEditor,
    cmd_tx: &Sender<String>,
    reply_rx: &Receiver<Reply>,
) -> Result<(), CliError> {
    let history = history_path();
    if let Some(p) = &history {
        secure_history(p);
        if let Ok(text) = std::fs::read_to_string(p) {
            for l in text.lines().filter(|l| !l.trim().is_empty()) {
                // The file only ever holds redacted lines; redact again in case it was edited.
                let _ = ed.add_history_entry(redact_command_text(l));
            }
        }
    }
    loop {
        let typed = match ed.readline(PROMPT) {
            Ok(l) => l,
            Err(ReadlineError::Interrupted) => continue,
            Err(ReadlineError::Eof) => return Ok(()),
            Err(e) => {
                return Err(CliError::new(
                    Exit::Failed,
                    format!("cannot read the input: {e}"),
                ))
            }
        };
        let line = typed.trim();
        if line.is_empty() {
            continue;
        }
        let shown = redact_command_text(line);
        if shown != line {
            // Replace the typed line left on the screen (it may have wrapped over several rows)
            // by its redacted form.
            let cols = ed
                .dimensions()
                .map(|(c, _)| c)
                .filter(|&c| c > 0)
                .unwrap_or(80);
            let width = PROMPT.chars().count() + typed.chars().count();
            let rows = width.div_ceil(cols).max(1);
            let mut so = io::stdout().lock();
            let _ = write!(so, "\x1b[{rows}A\r\x1b[J{PROMPT}{shown}\n");
            let _ = so.flush();
        }
        let _ = ed.add_history_entry(shown.as_str());
        if let Some(p) = &history {
            append_history(p, &shown);
        }
        if is_exit(line) {
            return Ok(());
        }
        send(cmd_tx, reply_rx, line)?;
    }
}

fn piped_loop(
    out: &Out,
    cmd_tx: &Sender<String>,
    reply_rx: &Receiver<Reply>,
) -> Result<(), CliError> {
    let stdin = io::stdin();
    for line in stdin.lock().lines() {
        let line = line
            .map_err(|e| CliError::new(Exit::Failed, format!("cannot read standard input: {e}")))?;
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if is_exit(line) {
            break;
        }
        let shown = redact_command_text(line);
        out.event(&json!({"event": "sent", "text": shown}))?;
        out.say(&format!("> {shown}"))?;
        send(cmd_tx, reply_rx, line)?;
    }
    // Notifications that follow the last answer.
    std::thread::sleep(LINGER);
    match reply_rx.try_recv() {
        Ok(Reply::Failed(e)) => Err(e),
        _ => Ok(()),
    }
}

/// The history file: `RYZ014_HISTORY` (empty: none), else `~/.ryz014_history`.
fn history_path() -> Option<PathBuf> {
    match std::env::var_os("RYZ014_HISTORY") {
        Some(p) if p.is_empty() => None,
        Some(p) => Some(PathBuf::from(p)),
        None => std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".ryz014_history")),
    }
}

/// Makes an existing history file safe: mode 0600 (a file from an older version or another tool may
/// be world-readable), and any line that still holds a secret rewritten redacted.
fn secure_history(path: &PathBuf) {
    if !path.exists() {
        return;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
    }
    let Ok(text) = std::fs::read_to_string(path) else {
        return;
    };
    let redacted: String = text
        .lines()
        .map(|l| format!("{}\n", redact_command_text(l)))
        .collect();
    if redacted.trim_end() != text.trim_end() {
        let _ = std::fs::write(path, redacted);
    }
}

/// Appends one (already redacted) line to the history file, created with mode 0600.
fn append_history(path: &PathBuf, line: &str) {
    let mut opts = std::fs::OpenOptions::new();
    opts.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    if let Ok(mut f) = opts.open(path) {
        let _ = writeln!(f, "{line}");
    }
}

/// One received line, annotated: `  <line>   # <meaning>`, or a JSON `received` event.
fn annotate(json: bool, line: &str) -> String {
    let msg = parse_line(line);
    if json {
        let mut v = decode_record(0, &msg);
        if let Value::Object(map) = &mut v {
            map.remove("line");
            map.insert("event".into(), json!("received"));
            map.insert("text".into(), json!(redact_command_text(line)));
        }
        return v.to_string();
    }
    format!("  {:<34} # {}", redact_command_text(line), explain(&msg))
}

/// The worker: opens the port, then runs commands and shows notifications until the input side
/// hangs up.
fn worker(
    args: &PortArgs,
    out: &Out,
    timeout: Duration,
    printer: Printer,
    cmd_rx: &Receiver<String>,
    reply_tx: &Sender<Reply>,
) {
    let (mut client, path) = match connect(args, out, false, Handshake::None) {
        Ok(c) => c,
        Err(e) => {
            let _ = reply_tx.send(Reply::Failed(e));
            return;
        }
    };
    let printer = Rc::new(RefCell::new(printer));
    let json = out.json;
    let verbose = out.verbose;
    {
        let printer = Rc::clone(&printer);
        client.set_observer(Box::new(move |ev: &WireEvent| {
            let text = match ev {
                WireEvent::Received(line) => {
                    // The modem's echo of the command (already redacted by the client) is shown
                    // only with -v: the command is on the screen already.
                    if matches!(parse_line(line), Message::Command { .. }) && verbose == 0 {
                        return;
                    }
                    annotate(json, line)
                }
                WireEvent::Stray(line) => annotate(json, line),
                WireEvent::Overflow { discarded } => {
                    if json {
                        json!({"event": "overflow", "discarded": discarded}).to_string()
                    } else {
                        format!("  (an over-long line of {discarded} bytes was discarded)")
                    }
                }
                WireEvent::Prompt => {
                    if json {
                        json!({"event": "prompt"}).to_string()
                    } else {
                        "  >                                  # data prompt".to_string()
                    }
                }
                WireEvent::Sent(_) => return,
            };
            (printer.borrow_mut())(text);
        }));
    }
    // "ready" is printed here, before this thread reads anything, so that it comes first.
    if let Err(e) = out.event(&json!({"event": "ready", "port": path})) {
        let _ = reply_tx.send(Reply::Failed(e));
        return;
    }
    if reply_tx.send(Reply::Ready(path)).is_err() {
        return;
    }
    loop {
        match cmd_rx.try_recv() {
            Ok(line) => {
                if !run_one(&mut client, &line, timeout, json, &printer, reply_tx) {
                    return;
                }
            }
            Err(TryRecvError::Disconnected) => return,
            Err(TryRecvError::Empty) => {
                // Idle: read notifications (printed by the observer as they are framed).
                if let Err(e) = block_on(client.next_notification(IDLE_POLL)) {
                    let _ = reply_tx.send(Reply::Failed(client_error("reading notifications", &e)));
                    return;
                }
                client.drain_notifications();
            }
        }
    }
}

/// Runs one command; false when the port is gone (the failure was sent).
fn run_one(
    client: &mut SerialClient,
    line: &str,
    timeout: Duration,
    json: bool,
    printer: &Rc<RefCell<Printer>>,
    reply_tx: &Sender<Reply>,
) -> bool {
    let shown = redact_command_text(line);
    match block_on(client.execute_raw(line, timeout)) {
        Ok(_) => {
            // Every line was printed as it arrived; the notifications were shown with them.
            client.drain_notifications();
            let _ = reply_tx.send(Reply::Done);
            true
        }
        Err(e) if e.is_fatal() => {
            let _ = reply_tx.send(Reply::Failed(client_error(&shown, &e)));
            false
        }
        Err(e) => {
            let text = match &e {
                ClientError::Timeout { waited, .. } => {
                    format!("no answer to `{shown}` within {} s", waited.as_secs_f64())
                }
                other => other.to_string(),
            };
            let line = if json {
                json!({"event": "no_answer", "command": shown, "message": text}).to_string()
            } else {
                format!("  ({text})")
            };
            (printer.borrow_mut())(line);
            client.drain_notifications();
            let _ = reply_tx.send(Reply::Done);
            true
        }
    }
}
