//! The one async modem client every transport shares (serial port, Web Serial, the simulator).
//!
//! It writes commands, frames and parses what comes back, and separates a command's information
//! lines and final result from the unsolicited notifications (URCs) that may arrive at any moment,
//! even between a response's lines. Notifications are queued, never dropped. It runs on any
//! executor: it only needs `futures::io::{AsyncRead, AsyncWrite}` and a [`Timer`] for timeouts.

use std::collections::VecDeque;
use std::fmt;
use std::time::Duration;

use futures::future::{select, Either};
use futures::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::command::Command;
use crate::framer::{FrameEvent, Framer};
use crate::message::{BootEvent, FinalResult, Message};
use crate::parse::parse_line;
use crate::redact::Redactor;
use crate::timer::{Sleep, Timer};

/// How long a command may take by default before the client gives up on it.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// The most notifications kept while nobody reads them; the oldest are counted as overflowed.
pub const MAX_QUEUED_NOTIFICATIONS: usize = 10_000;

/// What went wrong while talking to the modem.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// No final result (or awaited notification) arrived in time.
    #[error("no answer to `{command}` within {}", fmt_duration(*.waited))]
    Timeout {
        /// The command (secrets redacted) or what was awaited.
        command: String,
        /// How long the client waited.
        waited: Duration,
    },
    /// The modem answered `ERROR`, `+CME ERROR` or `+CMS ERROR`.
    #[error("the modem refused `{command}`: {}", describe_final(.result))]
    Refused {
        /// The command, secrets redacted.
        command: String,
        /// The final result the modem sent.
        result: FinalResult,
        /// The information lines that came before it.
        lines: Vec<Message>,
    },
    /// The modem rebooted (`+SHUTDOWN` / `+SYSSTART`) while a command was waiting for its answer.
    #[error("the modem reset while `{command}` was waiting for its answer ({event:?})")]
    Rebooted {
        /// The command, secrets redacted.
        command: String,
        /// What the modem sent.
        event: BootEvent,
    },
    /// The modem crashed (`^EXIT: …`) while a command was waiting: it restarts on its own and
    /// `+SYSSTART` follows; the command's effect is unknown.
    #[error("the modem crashed and restarted while `{command}` was waiting for its answer (^EXIT: {report})")]
    Crashed {
        /// The command, secrets redacted.
        command: String,
        /// The crash report (the text after `^EXIT:`).
        report: String,
    },
    /// The byte stream ended: the port was closed or vanished.
    #[error("the connection to the modem closed")]
    Closed,
    /// Reading or writing failed (port unplugged, ...).
    #[error("I/O error talking to the modem: {0}")]
    Io(#[from] std::io::Error),
}

impl ClientError {
    /// True for errors after which the connection cannot be used any more.
    pub fn is_fatal(&self) -> bool {
        matches!(self, ClientError::Closed | ClientError::Io(_))
    }
}

fn fmt_duration(d: Duration) -> String {
    if d.as_millis().is_multiple_of(1000) {
        format!("{} s", d.as_secs())
    } else {
        format!("{} ms", d.as_millis())
    }
}

/// A final result as the modem wrote it: `OK`, `ERROR`, `+CME ERROR: <code>` or
/// `+CMS ERROR: <code>` (the code as a number or the modem's text). Every error message that
/// quotes the modem's answer uses it.
pub fn describe_final(result: &FinalResult) -> String {
    match result {
        FinalResult::Ok => "OK".into(),
        FinalResult::Error => "ERROR".into(),
        FinalResult::CmeError(c) => format!("+CME ERROR: {}", code_text(c)),
        FinalResult::CmsError(c) => format!("+CMS ERROR: {}", code_text(c)),
    }
}

fn code_text(code: &crate::message::ErrorCode) -> String {
    match code {
        crate::message::ErrorCode::Number(n) => n.to_string(),
        crate::message::ErrorCode::Text(t) => t.clone(),
    }
}

/// A command's answer: its information lines and its final result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// Information lines, in order, without echo and without notifications.
    pub lines: Vec<Message>,
    /// The final result code.
    pub result: FinalResult,
}

impl Response {
    /// Whether the final result is `OK`.
    pub fn is_ok(&self) -> bool {
        self.result == FinalResult::Ok
    }
}

/// Everything that crosses the wire, for logs and terminals. Every line, sent or received, of every
/// kind, has already been through the one redaction rule ([`crate::redact`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WireEvent {
    /// A command line the client wrote (PSK secret redacted to its first 4 hex digits).
    Sent(String),
    /// A line received from the modem (PSK secrets redacted, whatever the line's kind).
    Received(String),
    /// The `> ` prompt.
    Prompt,
    /// An over-long line was discarded.
    Overflow {
        /// How many bytes were discarded.
        discarded: usize,
    },
    /// A final result or line that arrived while no command was waiting (e.g. after a timeout).
    Stray(String),
}

/// A callback that sees every [`WireEvent`].
pub type Observer = Box<dyn FnMut(&WireEvent)>;

/// The async modem client. `R` and `W` are the two halves of the transport.
pub struct Client<R, W> {
    reader: R,
    writer: W,
    timer: Box<dyn Timer>,
    framer: Framer,
    /// Parsed lines not routed yet, each with the boot it belongs to (see `boots`).
    inbox: VecDeque<(u64, Message)>,
    /// Queued notifications, each with the boot it belongs to.
    notifications: VecDeque<(u64, Message)>,
    dropped_notifications: u64,
    /// How many `+SYSSTART` lines were parsed: a line belongs to the boot whose `+SYSSTART`
    /// came last before it.
    boots: u64,
    /// The boot of the line [`Client::next_message`] returned last.
    last_boot: u64,
    buf: Vec<u8>,
    default_timeout: Duration,
    observer: Option<Observer>,
    redactor: Redactor,
}

impl<R, W> fmt::Debug for Client<R, W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("queued_notifications", &self.notifications.len())
            .field("default_timeout", &self.default_timeout)
            .finish_non_exhaustive()
    }
}

/// Who a line belongs to while a command waits for its answer.
enum Route {
    Echo,
    Final(FinalResult),
    Info(Message),
    Notification(Message),
    Reboot(BootEvent),
    Crash(String),
}

impl<R, W> Client<R, W>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    /// A client over a reader, a writer and a timer.
    pub fn new(reader: R, writer: W, timer: impl Timer + 'static) -> Self {
        Client {
            reader,
            writer,
            timer: Box::new(timer),
            framer: Framer::new(),
            inbox: VecDeque::new(),
            notifications: VecDeque::new(),
            dropped_notifications: 0,
            boots: 0,
            last_boot: 0,
            buf: vec![0; 4096],
            default_timeout: DEFAULT_TIMEOUT,
            observer: None,
            redactor: Redactor::new(),
        }
    }

    /// Changes the timeout [`Client::execute`] uses.
    pub fn set_default_timeout(&mut self, timeout: Duration) {
        self.default_timeout = timeout;
    }

    /// The timeout [`Client::execute`] uses.
    pub fn default_timeout(&self) -> Duration {
        self.default_timeout
    }

    /// Installs a callback that sees every line sent and received.
    pub fn set_observer(&mut self, observer: Observer) {
        self.observer = Some(observer);
    }

    /// Gives the transport halves back.
    pub fn into_inner(self) -> (R, W) {
        (self.reader, self.writer)
    }

    /// Sends a typed command and waits for its final result with the default timeout.
    /// `ERROR`/`+CME ERROR` become [`ClientError::Refused`].
    pub async fn execute(&mut self, command: &Command) -> Result<Response, ClientError> {
        let timeout = self.default_timeout;
        self.execute_with_timeout(command, timeout).await
    }

    /// Like [`Client::execute`] with an explicit timeout.
    pub async fn execute_with_timeout(
        &mut self,
        command: &Command,
        timeout: Duration,
    ) -> Result<Response, ClientError> {
        let response = self
            .transact(
                &command.to_wire(),
                &command.redacted(),
                command.response_prefix(),
                command.reboots(),
                timeout,
            )
            .await?;
        if response.is_ok() {
            Ok(response)
        } else {
            Err(ClientError::Refused {
                command: command.redacted(),
                result: response.result,
                lines: response.lines,
            })
        }
    }

    /// Sends a raw command line (as typed in a terminal) and returns whatever final result comes,
    /// `ERROR` included. The line is redacted in logs if it carries a PSK secret.
    pub async fn execute_raw(
        &mut self,
        line: &str,
        timeout: Duration,
    ) -> Result<Response, ClientError> {
        let line = line.trim_end_matches(['\r', '\n']);
        let redacted = crate::describe::redact_command_text(line);
        let prefix = raw_prefix(line);
        let reboots = raw_reboots(line);
        self.transact(line, &redacted, prefix.as_deref(), reboots, timeout)
            .await
    }

    async fn transact(
        &mut self,
        wire: &str,
        redacted: &str,
        prefix: Option<&str>,
        reboots: bool,
        timeout: Duration,
    ) -> Result<Response, ClientError> {
        // Lines read before this command was sent cannot belong to it.
        while let Some((boot, msg)) = self.inbox.pop_front() {
            self.last_boot = boot;
            self.unsolicited(msg);
        }
        let mut bytes = Vec::with_capacity(wire.len() + 1);
        bytes.extend_from_slice(wire.as_bytes());
        bytes.push(b'\r');
        // The caller's redacted text, through the one rule too (a mistyped PSK command in a raw
        // line); the rule also remembers a PSK write for the lines that answer it.
        self.redactor.sent(wire);
        let redacted = crate::redact::redact_line(redacted);
        let redacted = redacted.as_str();
        self.emit(WireEvent::Sent(redacted.to_string()));
        self.writer.write_all(&bytes).await?;
        self.writer.flush().await?;

        let mut sleep = self.timer.sleep(timeout);
        let mut lines = Vec::new();
        loop {
            let Some(msg) = self.next_message(&mut sleep).await? else {
                return Err(ClientError::Timeout {
                    command: redacted.to_string(),
                    waited: timeout,
                });
            };
            match route(msg, wire, prefix) {
                Route::Echo => {}
                Route::Final(result) => return Ok(Response { lines, result }),
                Route::Info(m) => lines.push(m),
                Route::Notification(m) => self.queue_notification(m),
                Route::Crash(report) => {
                    // Shown to whoever watches notifications; the command ends at once instead
                    // of timing out.
                    self.queue_notification(Message::Crash {
                        report: report.clone(),
                    });
                    return Err(ClientError::Crashed {
                        command: redacted.to_string(),
                        report,
                    });
                }
                Route::Reboot(event) => {
                    self.queue_notification(Message::Boot { event });
                    if !reboots {
                        return Err(ClientError::Rebooted {
                            command: redacted.to_string(),
                            event,
                        });
                    }
                }
            }
        }
    }

    /// The notifications received so far, oldest first, removing them from the queue.
    pub fn drain_notifications(&mut self) -> Vec<Message> {
        self.notifications.drain(..).map(|(_, m)| m).collect()
    }

    /// How many notifications were discarded because nobody read them (queue bound exceeded).
    pub fn dropped_notifications(&self) -> u64 {
        self.dropped_notifications
    }

    /// The next notification: a queued one at once, otherwise the next one the modem sends
    /// within `timeout` (`Ok(None)` when none came).
    pub async fn next_notification(
        &mut self,
        timeout: Duration,
    ) -> Result<Option<Message>, ClientError> {
        if let Some((_, m)) = self.notifications.pop_front() {
            return Ok(Some(m));
        }
        let mut sleep = self.timer.sleep(timeout);
        loop {
            match self.next_message(&mut sleep).await? {
                None => return Ok(None),
                Some(m) => {
                    self.unsolicited(m);
                    if let Some((_, m)) = self.notifications.pop_front() {
                        return Ok(Some(m));
                    }
                }
            }
        }
    }

    /// Waits for a notification matching `pred`; the others stay queued, in order.
    pub async fn wait_for(
        &mut self,
        what: &str,
        timeout: Duration,
        pred: impl FnMut(&Message) -> bool,
    ) -> Result<Message, ClientError> {
        self.wait_for_in(what, timeout, false, pred).await
    }

    /// Like [`Client::wait_for`], but only a notification of the current boot matches: one that
    /// came after the last `+SYSSTART` received so far. Notifications the modem sent before that
    /// `+SYSSTART` belong to the previous boot (a `+CEREG: 1` queued just before a reset is not
    /// the attach after it); they stay queued, in order, for whoever reports them.
    pub async fn wait_for_since_boot(
        &mut self,
        what: &str,
        timeout: Duration,
        pred: impl FnMut(&Message) -> bool,
    ) -> Result<Message, ClientError> {
        self.wait_for_in(what, timeout, true, pred).await
    }

    async fn wait_for_in(
        &mut self,
        what: &str,
        timeout: Duration,
        this_boot_only: bool,
        mut pred: impl FnMut(&Message) -> bool,
    ) -> Result<Message, ClientError> {
        let current = self.boots;
        let found = self
            .notifications
            .iter()
            .position(|(boot, m)| (!this_boot_only || *boot == current) && pred(m));
        if let Some(pos) = found {
            if let Some((_, m)) = self.notifications.remove(pos) {
                return Ok(m);
            }
        }
        let mut sleep = self.timer.sleep(timeout);
        loop {
            let Some(m) = self.next_message(&mut sleep).await? else {
                return Err(ClientError::Timeout {
                    command: what.to_string(),
                    waited: timeout,
                });
            };
            if m.is_final() || matches!(m, Message::Command { .. }) {
                self.unsolicited(m);
                continue;
            }
            if (!this_boot_only || self.last_boot == self.boots) && pred(&m) {
                return Ok(m);
            }
            self.queue_notification(m);
        }
    }

    /// Waits for `+SYSSTART` (the modem has booted).
    pub async fn wait_for_sysstart(&mut self, timeout: Duration) -> Result<(), ClientError> {
        self.wait_for("+SYSSTART", timeout, |m| {
            matches!(
                m,
                Message::Boot {
                    event: BootEvent::Sysstart
                }
            )
        })
        .await
        .map(|_| ())
    }

    /// Sends `AT` until the modem answers `OK` (at most `attempts` times, `each` apart), to get in
    /// step after opening a port or after a reboot.
    pub async fn sync(&mut self, attempts: u32, each: Duration) -> Result<(), ClientError> {
        let mut last = None;
        for _ in 0..attempts.max(1) {
            match self.transact("AT", "AT", None, false, each).await {
                Ok(r) if r.is_ok() => return Ok(()),
                Ok(r) => {
                    last = Some(ClientError::Refused {
                        command: "AT".into(),
                        result: r.result,
                        lines: r.lines,
                    })
                }
                Err(e) if e.is_fatal() => return Err(e),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or(ClientError::Timeout {
            command: "AT".into(),
            waited: each,
        }))
    }

    fn emit(&mut self, event: WireEvent) {
        if let Some(obs) = self.observer.as_mut() {
            obs(&event);
        }
    }

    /// A line that arrived while no command was waiting for it.
    fn unsolicited(&mut self, msg: Message) {
        match msg {
            Message::Final(_) | Message::Command { .. } => {
                let text = match &msg {
                    Message::Final(r) => describe_final(r),
                    Message::Command { text } => crate::describe::redact_command_text(text),
                    _ => String::new(),
                };
                self.emit(WireEvent::Stray(text));
            }
            other => self.queue_notification(other),
        }
    }

    fn queue_notification(&mut self, msg: Message) {
        if self.notifications.len() >= MAX_QUEUED_NOTIFICATIONS {
            self.notifications.pop_front();
            self.dropped_notifications += 1;
        }
        self.notifications.push_back((self.last_boot, msg));
    }

    /// The next parsed line, reading from the transport as needed; `None` when `sleep` fired first.
    async fn next_message(&mut self, sleep: &mut Sleep) -> Result<Option<Message>, ClientError> {
        loop {
            if let Some((boot, m)) = self.inbox.pop_front() {
                self.last_boot = boot;
                return Ok(Some(m));
            }
            let n = {
                let read = self.reader.read(&mut self.buf);
                match select(read, &mut *sleep).await {
                    Either::Left((res, _)) => res?,
                    Either::Right(((), _)) => return Ok(None),
                }
            };
            if n == 0 {
                return Err(ClientError::Closed);
            }
            let mut events = Vec::new();
            self.framer.push(&self.buf[..n], |ev| match ev {
                FrameEvent::Line(line) => events.push(Ok(line.to_string())),
                FrameEvent::Prompt => events.push(Err(None)),
                FrameEvent::Overflow { discarded } => events.push(Err(Some(discarded))),
            });
            for ev in events {
                match ev {
                    Ok(line) => {
                        // Redacted before anything else sees it: the parsed message (handed to
                        // callers, shown by `term` and `monitor`) never holds a secret either.
                        let line = self.redactor.received(&line);
                        let msg = parse_line(&line);
                        if matches!(
                            msg,
                            Message::Boot {
                                event: BootEvent::Sysstart
                            }
                        ) {
                            self.boots += 1;
                        }
                        self.emit(WireEvent::Received(line));
                        self.inbox.push_back((self.boots, msg));
                    }
                    Err(None) => {
                        self.emit(WireEvent::Prompt);
                        self.inbox.push_back((self.boots, Message::Prompt));
                    }
                    Err(Some(discarded)) => self.emit(WireEvent::Overflow { discarded }),
                }
            }
        }
    }
}

/// Decides where a line goes while `wire` waits for its answer.
fn route(msg: Message, wire: &str, prefix: Option<&str>) -> Route {
    match msg {
        Message::Command { .. } => Route::Echo,
        Message::Final(r) => Route::Final(r),
        Message::Boot { event } => Route::Reboot(event),
        Message::Crash { report } => Route::Crash(report),
        m if m.is_always_unsolicited() => Route::Notification(m),
        m => {
            let expected = prefix.is_some() && m.prefix() == prefix;
            if expected {
                return Route::Info(m);
            }
            if m.may_be_unsolicited() {
                return Route::Notification(m);
            }
            // A `+XXX:` line of another command's family is a notification we do not know;
            // bare lines (IMEI, ATI1, unknown text) belong to the command.
            match m.prefix() {
                Some(_) => Route::Notification(m),
                None => {
                    if let Message::Unknown { raw } = &m {
                        if raw.starts_with('+') && !starts_with_prefix(raw, wire) {
                            return Route::Notification(m);
                        }
                    }
                    Route::Info(m)
                }
            }
        }
    }
}

/// Whether `line`'s `+XXX` prefix is the one of the command `wire`.
fn starts_with_prefix(line: &str, wire: &str) -> bool {
    let name = line.split([':', '=']).next().unwrap_or(line);
    raw_prefix(wire).is_some_and(|p| p.eq_ignore_ascii_case(name.trim()))
}

/// The `+XXX` prefix a raw command line's answer carries (`AT+CEREG?` → `+CEREG`).
fn raw_prefix(line: &str) -> Option<String> {
    let upper = line.trim().to_ascii_uppercase();
    let rest = upper.strip_prefix("AT")?;
    if !rest.starts_with('+') {
        return None;
    }
    let end = rest.find(['=', '?']).unwrap_or(rest.len());
    Some(rest[..end].to_string())
}

/// Whether a raw command line reboots the modem: what the command's spec says
/// ([`Command::reboots`]) when the line is a command the core knows, else no.
fn raw_reboots(line: &str) -> bool {
    Command::parse(line).is_ok_and(|c| c.reboots())
}

#[cfg(test)]
mod tests;
