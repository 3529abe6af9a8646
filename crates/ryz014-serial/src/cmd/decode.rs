//! `ryz014 decode`: decodes a captured log or transcript offline, line by line.
//!
//! The input (a file, or standard input for `-`) is read in large blocks and streamed through the
//! core's [`Framer`] and [`parse_line`]; each non-blank line is printed with its explanation
//! ([`explain`]), or with `--json` as the core's [`decode_record`] (one object per line). Input
//! line numbers count `\n`; lines the framer splits at a lone `\r` share their line's number.
//! A trailing ` // comment` (as in the note's printed logs) is kept out of the decoded text.
//! Echoed `AT+SQNDMCFG` PSK commands are redacted ([`redact_command_text`]).
//!
//! Speed: real captures repeat the same few hundred lines millions of times, so the printed form
//! of a line (everything but its number) is computed once and kept in a bounded cache keyed by
//! the line's text; output goes through one large buffer.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufWriter, Read, Write};

use ryz014_core::describe::{decode_record, explain, redact_command_text};
use ryz014_core::framer::{FrameEvent, Framer};
use ryz014_core::parse::parse_line;
use ryz014_core::Message;
use serde_json::Value;

use crate::cli::{CliError, Exit, Out};

/// Bytes read from the input at once.
const READ_BLOCK: usize = 1 << 20;
/// Bytes of output buffered before a write.
const WRITE_BUFFER: usize = 1 << 20;
/// Lines longer than this are decoded every time instead of being cached.
const CACHE_MAX_LINE: usize = 256;
/// The most distinct lines kept in the cache (it stops growing once full).
const CACHE_MAX_ENTRIES: usize = 65_536;

/// Counts of what a decode saw.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct DecodeStats {
    /// Input lines (`\n`-terminated, plus an unterminated last one).
    pub input_lines: usize,
    /// Lines decoded and printed.
    pub decoded: usize,
    /// Lines that matched no known form (`unknown`).
    pub unknown: usize,
    /// Over-long lines the framer discarded.
    pub overflows: usize,
}

/// Runs `decode` on a file, or standard input for `-`.
pub fn run(file: &str, out: &Out) -> Result<(), CliError> {
    let stdout = io::stdout();
    let mut sink = BufWriter::with_capacity(WRITE_BUFFER, stdout.lock());
    let result = if file == "-" {
        let stdin = io::stdin();
        let input = stdin.lock();
        decode_stream(input, &mut sink, out.json)
    } else {
        let input = File::open(file).map_err(|e| {
            CliError::new(
                Exit::Usage,
                format!("cannot open the log file `{file}`: {e}"),
            )
        })?;
        decode_stream(input, &mut sink, out.json)
    };
    let stats = result
        .and_then(|s| sink.flush().map(|()| s).map_err(DecodeError::Write))
        .map_err(|e| match e {
            DecodeError::Read(e) => {
                CliError::new(Exit::Failed, format!("cannot read the log `{file}`: {e}"))
            }
            DecodeError::Write(e) => output_error(&e),
        })?;
    out.debug(
        1,
        &format!(
            "{} input line(s), {} decoded ({} unknown), {} over-long line(s) discarded",
            stats.input_lines, stats.decoded, stats.unknown, stats.overflows
        ),
    );
    Ok(())
}

fn output_error(e: &io::Error) -> CliError {
    CliError {
        exit: Exit::Failed,
        quiet: e.kind() == io::ErrorKind::BrokenPipe,
        message: format!("cannot write the output: {e}"),
    }
}

/// Why a decode stopped.
#[derive(Debug)]
pub enum DecodeError {
    /// Reading the input failed.
    Read(io::Error),
    /// Writing the output failed (e.g. a closed pipe).
    Write(io::Error),
}

impl From<DecodeError> for io::Error {
    fn from(e: DecodeError) -> Self {
        match e {
            DecodeError::Read(e) | DecodeError::Write(e) => e,
        }
    }
}

/// Decodes everything `input` holds into `output` (words, or JSON lines when `json`).
pub fn decode_stream<R: Read, W: Write>(
    mut input: R,
    output: &mut W,
    json: bool,
) -> Result<DecodeStats, DecodeError> {
    let mut decoder = Decoder::new(json);
    let mut buf = vec![0u8; READ_BLOCK];
    loop {
        let n = match input.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(DecodeError::Read(e)),
        };
        decoder
            .push(&buf[..n], output)
            .map_err(DecodeError::Write)?;
    }
    decoder.finish(output).map_err(DecodeError::Write)?;
    Ok(decoder.stats())
}

/// The streaming decoder: the framer, and what its events go to.
struct Decoder {
    framer: Framer,
    sink: Sink,
}

/// Line counter, cache of printed forms, counts: everything the framer's events update.
struct Sink {
    json: bool,
    /// The number of the input line being read (1-based).
    line_no: usize,
    /// Whether the current input line has any byte yet (for the count of an unterminated last line).
    line_open: bool,
    /// Line text → everything printed for it after its number.
    cache: HashMap<Box<str>, Cached>,
    /// Scratch for one uncached printed form.
    scratch: String,
    stats: DecodeStats,
    /// The first write error (the framer's callback cannot return one).
    failed: Option<io::Error>,
}

/// The printed form of one line text, minus its number.
struct Cached {
    tail: Box<str>,
    unknown: bool,
}

impl Decoder {
    fn new(json: bool) -> Self {
        Decoder {
            framer: Framer::new(),
            sink: Sink {
                json,
                line_no: 1,
                line_open: false,
                cache: HashMap::new(),
                scratch: String::new(),
                stats: DecodeStats::default(),
                failed: None,
            },
        }
    }

    fn stats(&self) -> DecodeStats {
        self.sink.stats
    }

    /// Feeds a block: one framer push per input line, so that every event knows its line number.
    fn push<W: Write>(&mut self, mut block: &[u8], output: &mut W) -> io::Result<()> {
        let sink = &mut self.sink;
        while !block.is_empty() {
            let (piece, rest, ends_line) = match block.iter().position(|&b| b == b'\n') {
                Some(i) => (&block[..=i], &block[i + 1..], true),
                None => (block, &[][..], false),
            };
            self.framer.push(piece, |ev| sink.event(ev, output));
            if let Some(e) = sink.failed.take() {
                return Err(e);
            }
            if ends_line {
                sink.stats.input_lines += 1;
                sink.line_no += 1;
                sink.line_open = false;
            } else {
                sink.line_open = true;
            }
            block = rest;
        }
        Ok(())
    }

    fn finish<W: Write>(&mut self, output: &mut W) -> io::Result<()> {
        let sink = &mut self.sink;
        self.framer.flush(|ev| sink.event(ev, output));
        if sink.line_open {
            sink.stats.input_lines += 1;
            sink.line_open = false;
        }
        match sink.failed.take() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

impl Sink {
    fn event<W: Write>(&mut self, ev: FrameEvent<'_>, output: &mut W) {
        if self.failed.is_some() {
            return;
        }
        let res = match ev {
            FrameEvent::Line(line) => self.line(line, output),
            FrameEvent::Prompt => self.line(">", output),
            FrameEvent::Overflow { discarded } => {
                self.stats.overflows += 1;
                if self.json {
                    Ok(())
                } else {
                    writeln!(
                        output,
                        "{:>6}  (an over-long line of {discarded} bytes was discarded)",
                        self.line_no
                    )
                }
            }
        };
        if let Err(e) = res {
            self.failed = Some(e);
        }
    }

    fn line<W: Write>(&mut self, line: &str, output: &mut W) -> io::Result<()> {
        self.stats.decoded += 1;
        let n = self.line_no;
        if let Some(c) = self.cache.get(line) {
            if c.unknown {
                self.stats.unknown += 1;
            }
            return write_numbered(output, n, self.json, &c.tail);
        }
        let mut tail = std::mem::take(&mut self.scratch);
        tail.clear();
        let unknown = printed_tail(line, self.json, &mut tail);
        if unknown {
            self.stats.unknown += 1;
        }
        let res = write_numbered(output, n, self.json, &tail);
        if line.len() <= CACHE_MAX_LINE && self.cache.len() < CACHE_MAX_ENTRIES {
            self.cache.insert(
                line.into(),
                Cached {
                    tail: tail.as_str().into(),
                    unknown,
                },
            );
        }
        self.scratch = tail;
        res
    }
}

/// Writes the line number and the cached tail: `{"line":N,<tail>` in JSON, `  N  <tail>` in words.
fn write_numbered<W: Write>(output: &mut W, n: usize, json: bool, tail: &str) -> io::Result<()> {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    let mut v = n;
    loop {
        i -= 1;
        digits[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    let num = &digits[i..];
    if json {
        output.write_all(b"{\"line\":")?;
        output.write_all(num)?;
    } else {
        const PAD: &[u8] = b"      ";
        output.write_all(&PAD[..PAD.len().saturating_sub(num.len())])?;
        output.write_all(num)?;
    }
    output.write_all(tail.as_bytes())
}

/// Splits a trailing ` // comment` (the note's annotation style) off a line.
fn split_comment(line: &str) -> (&str, Option<&str>) {
    match line.find(" //") {
        Some(i) if !line[..i].trim().is_empty() => (&line[..i], Some(line[i + 3..].trim())),
        _ => (line, None),
    }
}

/// Appends the printed form of `line` minus its number to `tail`; returns whether the line is
/// unknown. JSON: the rest of [`decode_record`]'s object after `{"line":N`; words: the line
/// (redacted) and its explanation, indented.
fn printed_tail(line: &str, json: bool, tail: &mut String) -> bool {
    let (text, comment) = split_comment(line);
    let msg = parse_line(text);
    let unknown = matches!(msg, Message::Unknown { .. });
    if json {
        let mut record = decode_record(0, &msg);
        if let Value::Object(map) = &mut record {
            map.remove("line");
        }
        let body = record.to_string();
        // `{...}` without "line": continue `{"line":N` with `,` and the other fields.
        match body.strip_prefix('{') {
            Some(rest) if rest != "}" => {
                tail.push(',');
                tail.push_str(rest);
            }
            _ => tail.push('}'),
        }
        tail.push('\n');
    } else {
        tail.push_str("  ");
        tail.push_str(&shown_text(line, &msg));
        tail.push_str("\n        ");
        tail.push_str(&explain(&msg));
        if let Some(c) = comment.filter(|c| !c.is_empty()) {
            tail.push_str(" (log comment: ");
            tail.push_str(&redact_command_text(c));
            tail.push(')');
        }
        tail.push('\n');
    }
    unknown
}

/// The line as printed: a PSK secret in it is redacted.
fn shown_text<'a>(line: &'a str, msg: &Message) -> std::borrow::Cow<'a, str> {
    let might_hold_secret = match msg {
        Message::Command { .. } | Message::Unknown { .. } | Message::Upgrade { .. } => true,
        // The parser already keeps only 4 characters of a read line's secret, but the printed
        // line is the raw text.
        Message::DmConfig(_) => true,
        _ => false,
    };
    if might_hold_secret && line.bytes().any(|b| b == b'S' || b == b's') {
        std::borrow::Cow::Owned(redact_command_text(line))
    } else {
        std::borrow::Cow::Borrowed(line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(input: &[u8], json: bool) -> (String, DecodeStats) {
        let mut out = Vec::new();
        let stats = decode_stream(input, &mut out, json).unwrap();
        (String::from_utf8(out).unwrap(), stats)
    }

    #[test]
    fn line_numbers_count_newlines_and_blank_lines_are_skipped() {
        let (text, stats) = decode(b"AT+CGSN\r\r\n015770000031766\r\n\r\nOK\r\n", false);
        let numbered: Vec<&str> = text
            .lines()
            .filter(|l| !l.starts_with("        "))
            .collect();
        assert_eq!(
            numbered,
            vec!["     1  AT+CGSN", "     2  015770000031766", "     4  OK"]
        );
        assert_eq!(stats.input_lines, 4);
        assert_eq!(stats.decoded, 3);
    }

    #[test]
    fn json_records_match_the_core_record_whatever_the_cache() {
        let input = b"+SQNFOTA: 5,3,40\n+SQNFOTA: 5,3,40\n+SQNFOTA: 3,8\nnoise\n";
        let (text, stats) = decode(input, true);
        let lines: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 4);
        for (i, (rec, src)) in lines
            .iter()
            .zip([
                "+SQNFOTA: 5,3,40",
                "+SQNFOTA: 5,3,40",
                "+SQNFOTA: 3,8",
                "noise",
            ])
            .enumerate()
        {
            assert_eq!(rec, &decode_record(i + 1, &parse_line(src)));
        }
        assert_eq!(stats.unknown, 1);
    }

    #[test]
    fn a_line_split_across_blocks_keeps_its_number() {
        let mut d = Decoder::new(true);
        let mut out = Vec::new();
        d.push(b"OK\n+SQNFO", &mut out).unwrap();
        d.push(b"TA: 8\n+SYSST", &mut out).unwrap();
        d.push(b"ART", &mut out).unwrap();
        d.finish(&mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let recs: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(recs.len(), 3);
        assert_eq!(recs[1]["line"], 2);
        assert_eq!(recs[1]["state"], 8);
        assert_eq!(recs[2]["line"], 3);
        assert_eq!(recs[2]["event"], "sysstart");
        assert_eq!(d.stats().input_lines, 3);
    }

    #[test]
    fn comments_are_kept_out_of_the_decoded_text() {
        let (text, _) = decode(b"+SQNFOTA: 3,8 // Idle, installation failure\n", true);
        let rec: Value = serde_json::from_str(text.trim()).unwrap();
        assert_eq!(rec["kind"], "fota");
        assert_eq!(rec["phase"], "failed");
        assert_eq!(rec["cause"], 8);
    }

    #[test]
    fn psk_secrets_are_redacted_in_words_and_json() {
        let input = b"AT+SQNDMCFG=\"standard\",\"psk\",100,\"urn:imei:015770000031766\",\"87493467538357\"\r\r\nOK\r\n";
        for json in [false, true] {
            let (text, _) = decode(input, json);
            assert!(!text.contains("87493467538357"), "{text}");
            assert!(!text.contains("87493"), "{text}");
            assert!(text.contains("8749"), "{text}");
        }
    }
}
