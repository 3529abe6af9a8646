//! `ryz014 decode`: decodes a captured log or transcript offline, line by line.
//!
//! The input (a file, or standard input for `-`) is read in large blocks and streamed through the
//! core's [`Framer`] and [`parse_line`]; each non-blank line is printed with its explanation
//! ([`explain`]), or with `--json` as the core's [`decode_record`] (one object per line). Input
//! line numbers count `\n`; lines the framer splits at a lone `\r` share their line's number.
//! A trailing ` // comment` (as in the note's printed logs) is kept out of the decoded text.
//! Echoed `AT+SQNDMCFG` PSK commands are redacted ([`redact_command_text`]).
//!
//! Speed: real captures repeat the same few hundred lines millions of times, so what the framer,
//! the parser and the explanation make of one whole input line (everything printed but the line
//! number) is computed once and replayed from a bounded cache keyed by the line's raw bytes; this
//! is exact because the framer's state is empty at each line start. Output goes through one
//! large buffer.

use std::collections::HashMap;
use std::fs::File;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher};
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
/// Input lines longer than this (bytes, line end included) are decoded every time, not cached.
const CACHE_MAX_LINE: usize = 256;
/// The most distinct lines kept in the cache (it starts again empty when full).
const CACHE_MAX_ENTRIES: usize = 1 << 17;
/// Slots of the seen-once filter (a power of two).
const SEEN_ONCE_SLOTS: usize = 1 << 16;

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
    /// Input lines that went through the framer and the parser (the others were replayed).
    pub pipeline_lines: usize,
}

/// Runs `decode` on a file, or standard input for `-`.
pub fn run(file: &str, out: &Out) -> Result<(), CliError> {
    let stdout = io::stdout();
    let mut sink = BufWriter::with_capacity(WRITE_BUFFER, stdout.lock());
    let mut decoder = Decoder::new(out.json);
    let result = if file == "-" {
        let stdin = io::stdin();
        let input = stdin.lock();
        decode_with(&mut decoder, input, &mut sink)
    } else {
        let input = File::open(file).map_err(|e| {
            CliError::new(
                Exit::Usage,
                format!("cannot open the log file `{file}`: {e}"),
            )
        })?;
        decode_with(&mut decoder, input, &mut sink)
    };
    // The process ends right after: freeing the cache's many small allocations one by one would
    // only add time.
    std::mem::forget(decoder);
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
            "{} input line(s), {} decoded ({} unknown), {} over-long line(s) discarded; \
             {} line(s) through the parser, the others replayed from the cache",
            stats.input_lines, stats.decoded, stats.unknown, stats.overflows, stats.pipeline_lines
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
#[cfg(test)]
fn decode_stream<R: Read, W: Write>(
    input: R,
    output: &mut W,
    json: bool,
) -> Result<DecodeStats, DecodeError> {
    let mut decoder = Decoder::new(json);
    decode_with(&mut decoder, input, output)
}

fn decode_with<R: Read, W: Write>(
    decoder: &mut Decoder,
    mut input: R,
    output: &mut W,
) -> Result<DecodeStats, DecodeError> {
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
    /// Whether the framer is at a line start (the last byte it got was `\n`): its state is then
    /// empty, and what one whole input line produces depends on that line's bytes alone.
    at_line_start: bool,
    /// Raw input line (with its line end) → what the framer, the parser and the explanation made
    /// of it (the printed forms, minus the line number). Real captures repeat the same few
    /// hundred lines millions of times; each distinct line goes through the pipeline once.
    cache: HashMap<Box<[u8]>, Replay, BuildHasherDefault<FxHasher>>,
    /// Fingerprints of lines seen once (direct-mapped): a line enters the cache at its second
    /// sighting, so that lines seen once (changing timers, noise) cost no cache memory.
    seen_once: Vec<u64>,
}

/// What one input line printed, minus its line numbers.
struct Replay {
    /// The printed forms of the line's frame events (usually one; none for a blank line),
    /// separated by NUL (which no framed line and no explanation holds).
    tails: Box<str>,
    /// How many printed forms there are.
    count: u32,
    /// How many of them are `unknown` lines.
    unknown: u32,
}

/// Line counter, counts, output state: everything the framer's events update.
struct Sink {
    json: bool,
    /// The number of the input line being read (1-based).
    line_no: LineNumber,
    /// Whether the current input line has any byte yet (for the count of an unterminated last line).
    line_open: bool,
    /// Scratch for one printed form.
    scratch: String,
    /// Whether the printed forms of the current line are being recorded for the cache.
    recording: bool,
    /// The recorded printed forms, NUL-separated.
    recorded: String,
    /// How many printed forms were recorded.
    recorded_count: u32,
    /// Unknown lines seen while recording.
    recorded_unknown: u32,
    stats: DecodeStats,
    /// The first write error (the framer's callback cannot return one).
    failed: Option<io::Error>,
}

impl Decoder {
    fn new(json: bool) -> Self {
        Decoder {
            framer: Framer::new(),
            sink: Sink {
                json,
                line_no: LineNumber::one(),
                line_open: false,
                scratch: String::new(),
                recording: false,
                recorded: String::new(),
                recorded_count: 0,
                recorded_unknown: 0,
                stats: DecodeStats::default(),
                failed: None,
            },
            at_line_start: true,
            cache: HashMap::default(),
            seen_once: vec![0; SEEN_ONCE_SLOTS],
        }
    }

    fn stats(&self) -> DecodeStats {
        self.sink.stats
    }

    /// Feeds a block: one input line at a time, so that every event knows its line number.
    fn push<W: Write>(&mut self, mut block: &[u8], output: &mut W) -> io::Result<()> {
        while !block.is_empty() {
            let (piece, rest, ends_line) = match memchr::memchr(b'\n', block) {
                Some(i) => (&block[..=i], &block[i + 1..], true),
                None => (block, &[][..], false),
            };
            let cacheable = ends_line && self.at_line_start && piece.len() <= CACHE_MAX_LINE;
            if cacheable && matches!(piece, b"\r\n" | b"\n") {
                // A blank line at a line start: the framer would report nothing and stay empty.
            } else if cacheable {
                if let Some(r) = self.cache.get(piece) {
                    self.sink.replay(r, output)?;
                    self.next_line();
                    block = rest;
                    continue;
                }
                let hash = self.cache.hasher().hash_one(piece);
                let slot = (hash as usize) & (SEEN_ONCE_SLOTS - 1);
                if self.seen_once[slot] != hash {
                    // First sighting (as far as the filter knows): decode, remember the fingerprint.
                    self.seen_once[slot] = hash;
                    self.sink.stats.pipeline_lines += 1;
                    let sink = &mut self.sink;
                    self.framer.push(piece, |ev| sink.event(ev, output));
                } else {
                    self.sink.stats.pipeline_lines += 1;
                    let sink = &mut self.sink;
                    sink.recording = true;
                    sink.recorded.clear();
                    sink.recorded_count = 0;
                    sink.recorded_unknown = 0;
                    self.framer.push(piece, |ev| sink.event(ev, output));
                    sink.recording = false;
                    if self.cache.len() >= CACHE_MAX_ENTRIES {
                        self.cache.clear();
                    }
                    self.cache.insert(
                        piece.into(),
                        Replay {
                            tails: sink.recorded.as_str().into(),
                            count: sink.recorded_count,
                            unknown: sink.recorded_unknown,
                        },
                    );
                }
            } else {
                self.sink.stats.pipeline_lines += 1;
                let sink = &mut self.sink;
                self.framer.push(piece, |ev| sink.event(ev, output));
            }
            if let Some(e) = self.sink.failed.take() {
                return Err(e);
            }
            if ends_line {
                self.next_line();
            } else {
                self.at_line_start = false;
                self.sink.line_open = true;
            }
            block = rest;
        }
        Ok(())
    }

    /// The framer got a `\n`: the next input line starts.
    #[inline]
    fn next_line(&mut self) {
        self.at_line_start = true;
        self.sink.stats.input_lines += 1;
        self.sink.line_no.increment();
        self.sink.line_open = false;
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
    /// Prints a cached line's forms again, with the current line number.
    fn replay<W: Write>(&mut self, r: &Replay, output: &mut W) -> io::Result<()> {
        self.stats.decoded += r.count as usize;
        self.stats.unknown += r.unknown as usize;
        match r.count {
            0 => {}
            1 => write_numbered(output, &self.line_no, self.json, &r.tails)?,
            _ => {
                for tail in r.tails.split('\0') {
                    write_numbered(output, &self.line_no, self.json, tail)?;
                }
            }
        }
        Ok(())
    }

    fn event<W: Write>(&mut self, ev: FrameEvent<'_>, output: &mut W) {
        if self.failed.is_some() {
            return;
        }
        let mut tail = std::mem::take(&mut self.scratch);
        tail.clear();
        match ev {
            FrameEvent::Line(line) => self.line(line, &mut tail),
            FrameEvent::Prompt => self.line(">", &mut tail),
            FrameEvent::Overflow { discarded } => {
                self.stats.overflows += 1;
                if !self.json {
                    tail.push_str(&format!(
                        "  (an over-long line of {discarded} bytes was discarded)\n"
                    ));
                }
            }
        }
        if !tail.is_empty() {
            if let Err(e) = write_numbered(output, &self.line_no, self.json, &tail) {
                self.failed = Some(e);
            }
        }
        if self.recording && !tail.is_empty() {
            if self.recorded_count > 0 {
                self.recorded.push('\0');
            }
            self.recorded.push_str(&tail);
            self.recorded_count += 1;
        }
        self.scratch = tail;
    }

    fn line(&mut self, line: &str, tail: &mut String) {
        self.stats.decoded += 1;
        if printed_tail(line, self.json, tail) {
            self.stats.unknown += 1;
            if self.recording {
                self.recorded_unknown += 1;
            }
        }
    }
}

/// The Fx hash (as in rustc): a multiply and a rotate per 8 bytes. The cache's keys are log
/// lines, not attacker-chosen keys of a long-lived service, so a DoS-resistant hash buys nothing.
#[derive(Default, Clone, Copy)]
struct FxHasher(u64);

impl FxHasher {
    const K: u64 = 0x51_7c_c1_b7_27_22_0a_95;

    #[inline]
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(Self::K);
    }
}

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.add(u64::from_le_bytes(w));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(w));
        }
    }

    #[inline]
    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        // The multiply leaves the low bits weak; hashbrown picks buckets with them.
        self.0.rotate_left(26)
    }
}

/// A line number kept as decimal digits, incremented in place (no division per line).
#[derive(Debug, Clone)]
struct LineNumber {
    /// Right-aligned digits, space-padded to at least 6 columns: `     1`.
    digits: [u8; 24],
    /// Where the digits start.
    start: usize,
    value: usize,
}

impl LineNumber {
    const PAD: usize = 6;

    fn one() -> Self {
        let mut digits = [b' '; 24];
        digits[23] = b'1';
        LineNumber {
            digits,
            start: 23,
            value: 1,
        }
    }

    fn increment(&mut self) {
        self.value += 1;
        let mut i = self.digits.len();
        while i > 0 {
            i -= 1;
            match self.digits[i] {
                b'9' => self.digits[i] = b'0',
                b' ' => {
                    self.digits[i] = b'1';
                    self.start = self.start.min(i);
                    return;
                }
                d => {
                    self.digits[i] = d + 1;
                    return;
                }
            }
        }
    }

    /// The digits alone.
    fn bare(&self) -> &[u8] {
        &self.digits[self.start..]
    }

    /// The digits, space-padded to 6 columns.
    fn padded(&self) -> &[u8] {
        let from = self.start.min(self.digits.len() - Self::PAD);
        &self.digits[from..]
    }
}

/// Writes the line number and the cached tail: `{"line":N,<tail>` in JSON, `  N  <tail>` in words.
fn write_numbered<W: Write>(
    output: &mut W,
    n: &LineNumber,
    json: bool,
    tail: &str,
) -> io::Result<()> {
    if json {
        output.write_all(b"{\"line\":")?;
        output.write_all(n.bare())?;
    } else {
        output.write_all(n.padded())?;
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

    /// The same bytes give the same output whatever the read sizes (cache hits, misses, lines
    /// split across reads, lone CRs, control bytes, invalid UTF-8, an over-long line).
    #[test]
    fn output_does_not_depend_on_block_sizes_or_the_cache() {
        let mut input = Vec::new();
        for _ in 0..3 {
            input.extend_from_slice(b"AT+CGSN\r\r\n015770000031766\r\n\r\nOK\r\n");
            input.extend_from_slice(b"\x00\r\n+SQN\xffFOTA: 5\x1b,3,40\r\n\r+SQNFOTA: 3,8\r> ");
            input.extend_from_slice(b"+SQNFOTA: 6 // downloaded\n\n");
            input.extend(std::iter::repeat_n(b'x', 5000));
            input.extend_from_slice(b"\r\n+SYSSTART\n");
        }
        input.extend_from_slice(b"+SQNFOTA: 8");
        for json in [false, true] {
            let (whole, stats) = decode(&input, json);
            for size in [1, 2, 3, 7, 64] {
                let mut d = Decoder::new(json);
                let mut out = Vec::new();
                for chunk in input.chunks(size) {
                    d.push(chunk, &mut out).unwrap();
                }
                d.finish(&mut out).unwrap();
                assert_eq!(
                    String::from_utf8(out).unwrap(),
                    whole,
                    "size {size} json {json}"
                );
                let cached_or_not = |s: DecodeStats| DecodeStats {
                    pipeline_lines: 0,
                    ..s
                };
                assert_eq!(cached_or_not(d.stats()), cached_or_not(stats));
            }
            assert_eq!(stats.overflows, 3);
            let line22 = if json { "{\"line\":22," } else { "    22  " };
            assert!(whole.contains(line22), "{whole}");
        }
    }

    #[test]
    fn line_numbers_count_in_decimal() {
        let mut n = LineNumber::one();
        for v in 1..=1_000_123usize {
            if v % 997 == 1 || v < 12 || (v + 1) % 10_000 < 3 {
                assert_eq!(n.bare(), v.to_string().as_bytes(), "{v}");
                assert_eq!(n.padded(), format!("{v:>6}").as_bytes(), "{v}");
            }
            n.increment();
        }
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
