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

use std::collections::{HashMap, VecDeque};
use std::fs::File;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher};
use std::io::{self, BufWriter, Read, Write};
use std::rc::Rc;
use std::sync::mpsc;

use clap::Args;
use ryz014_core::describe::{decode_record, explain, redact_command_text};
use ryz014_core::framer::{FrameEvent, Framer};
use ryz014_core::parse::parse_line;
use ryz014_core::Message;
use serde_json::Value;

use crate::context::{CliError, Exit, Out};

/// `decode`'s options.
#[derive(Debug, Clone, Args)]
#[command(after_help = "\
Examples:
  ryz014 decode capture.log
  cat capture.log | ryz014 decode --json")]
pub struct DecodeArgs {
    /// The log file; `-` (the default) reads standard input.
    #[arg(value_name = "FILE|-", default_value = "-")]
    pub file: String,
}

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
pub fn run(args: &DecodeArgs, out: &Out) -> Result<(), CliError> {
    let file = args.file.as_str();
    if file == "-" {
        let stdin = io::stdin();
        decode_to(stdin.lock(), file, out)
    } else {
        let input = File::open(file).map_err(|e| {
            CliError::new(
                Exit::Usage,
                format!("cannot open the log file `{file}`: {e}"),
            )
        })?;
        // Opening a directory succeeds on Unix and only reading it fails: a wrong file is bad
        // usage (exit 2), told before anything is decoded.
        if input.metadata().is_ok_and(|m| m.is_dir()) {
            return Err(CliError::new(
                Exit::Usage,
                format!("cannot decode `{file}`: it is a directory (give a log file, or `-` for standard input)"),
            ));
        }
        decode_to(input, file, out)
    }
}

/// Decodes `input` (named `file` in messages) to the output of `out`, words or JSON lines.
pub fn decode_to<R: Read>(input: R, file: &str, out: &Out) -> Result<(), CliError> {
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, MAX_WORKERS);
    let stats = out
        .with_output(|w| {
            let mut sink = BufWriter::with_capacity(WRITE_BUFFER, w);
            decode_parallel(input, &mut sink, out.json, workers)
                .and_then(|s| sink.flush().map(|()| s).map_err(DecodeError::Write))
        })
        .map_err(|e| match e {
            DecodeError::Read(e) => {
                CliError::new(Exit::Failed, format!("cannot read the log `{file}`: {e}"))
            }
            DecodeError::Write(e) => CliError::output(&e),
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

/// Input bytes per chunk handed to a worker.
const CHUNK: usize = 1 << 20;
/// The most decoding threads.
const MAX_WORKERS: usize = 4;
/// A line longer than this (no `\n` in sight) ends the parallel split: the rest of the input is
/// decoded in order on one thread.
const MAX_CARRY: usize = 8 << 20;

/// A chunk of whole input lines for a worker.
struct Job {
    data: Vec<u8>,
    /// A buffer for the output (recycled: fresh pages cost page faults).
    out: Vec<u8>,
    first_line: usize,
    /// The end of the input (the chunk may end without `\n`).
    last: bool,
}

/// A worker's result for one chunk.
struct Done {
    out: Vec<u8>,
    data: Vec<u8>,
    stats: DecodeStats,
}

impl DecodeStats {
    fn add(&mut self, o: DecodeStats) {
        self.input_lines += o.input_lines;
        self.decoded += o.decoded;
        self.unknown += o.unknown;
        self.overflows += o.overflows;
        self.pipeline_lines += o.pipeline_lines;
    }
}

/// Decodes on `workers` threads: the input is cut into chunks of whole lines (at a `\n` the
/// framer's state is empty, so a chunk decodes alone exactly as in one stream), each chunk goes
/// to the next worker with its first line number, and the outputs are written in input order.
fn decode_parallel<R: Read, W: Write>(
    mut input: R,
    output: &mut W,
    json: bool,
    workers: usize,
) -> Result<DecodeStats, DecodeError> {
    if workers <= 1 {
        let mut decoder = Decoder::new(json);
        let r = decode_with(&mut decoder, input, output);
        // The process ends soon after: freeing the cache's many small allocations one by one
        // would only add time.
        std::mem::forget(decoder);
        return r;
    }
    std::thread::scope(|scope| {
        let mut jobs = Vec::with_capacity(workers);
        let mut dones = Vec::with_capacity(workers);
        for _ in 0..workers {
            let (job_tx, job_rx) = mpsc::sync_channel::<Job>(1);
            let (done_tx, done_rx) = mpsc::sync_channel::<Done>(1);
            scope.spawn(move || {
                let mut decoder = Decoder::new(json);
                while let Ok(job) = job_rx.recv() {
                    let mut out = job.out;
                    out.clear();
                    decoder.restart_at(job.first_line);
                    // Writing to a Vec cannot fail.
                    let _ = decoder.push(&job.data, &mut out);
                    if job.last {
                        let _ = decoder.finish(&mut out);
                    }
                    let done = Done {
                        out,
                        data: job.data,
                        stats: decoder.stats(),
                    };
                    if done_tx.send(done).is_err() {
                        break;
                    }
                }
                std::mem::forget(decoder);
            });
            jobs.push(job_tx);
            dones.push(done_rx);
        }
        let mut total = DecodeStats::default();
        let mut pending: VecDeque<usize> = VecDeque::new();
        let mut next = 0usize;
        let mut spare: Vec<Vec<u8>> = Vec::new();
        let collect = |w: usize,
                       total: &mut DecodeStats,
                       spare: &mut Vec<Vec<u8>>,
                       output: &mut W|
         -> Result<(), DecodeError> {
            let done = dones[w]
                .recv()
                .map_err(|_| DecodeError::Write(io::Error::other("a decoding thread stopped")))?;
            output.write_all(&done.out).map_err(DecodeError::Write)?;
            total.add(done.stats);
            let mut data = done.data;
            data.clear();
            spare.push(data);
            let mut out = done.out;
            out.clear();
            spare.push(out);
            Ok(())
        };
        let mut carry: Vec<u8> = Vec::with_capacity(CHUNK + READ_BLOCK);
        let mut line = 1usize;
        let mut sequential: Option<Decoder> = None;
        loop {
            let len = carry.len();
            carry.resize(len + READ_BLOCK, 0);
            let n = loop {
                match input.read(&mut carry[len..]) {
                    Ok(n) => break n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(DecodeError::Read(e)),
                }
            };
            carry.truncate(len + n);
            if n == 0 {
                break;
            }
            if let Some(d) = sequential.as_mut() {
                d.push(&carry, output).map_err(DecodeError::Write)?;
                carry.clear();
                continue;
            }
            if carry.len() < CHUNK {
                continue;
            }
            match memchr::memrchr(b'\n', &carry) {
                Some(i) => {
                    let mut rest = spare.pop().unwrap_or_default();
                    rest.extend_from_slice(&carry[i + 1..]);
                    carry.truncate(i + 1);
                    let data = std::mem::replace(&mut carry, rest);
                    let lines = memchr::memchr_iter(b'\n', &data).count();
                    if pending.len() >= workers {
                        if let Some(w) = pending.pop_front() {
                            collect(w, &mut total, &mut spare, output)?;
                        }
                    }
                    let job = Job {
                        data,
                        out: spare.pop().unwrap_or_default(),
                        first_line: line,
                        last: false,
                    };
                    jobs[next].send(job).map_err(|_| {
                        DecodeError::Write(io::Error::other("a decoding thread stopped"))
                    })?;
                    pending.push_back(next);
                    next = (next + 1) % workers;
                    line += lines;
                }
                None if carry.len() > MAX_CARRY => {
                    while let Some(w) = pending.pop_front() {
                        collect(w, &mut total, &mut spare, output)?;
                    }
                    let mut d = Decoder::new(json);
                    d.restart_at(line);
                    d.push(&carry, output).map_err(DecodeError::Write)?;
                    carry.clear();
                    sequential = Some(d);
                }
                None => {}
            }
        }
        match sequential {
            Some(mut d) => {
                d.finish(output).map_err(DecodeError::Write)?;
                total.add(d.stats());
                std::mem::forget(d);
            }
            None => {
                if pending.len() >= workers {
                    if let Some(w) = pending.pop_front() {
                        collect(w, &mut total, &mut spare, output)?;
                    }
                }
                let job = Job {
                    data: carry,
                    out: spare.pop().unwrap_or_default(),
                    first_line: line,
                    last: true,
                };
                jobs[next].send(job).map_err(|_| {
                    DecodeError::Write(io::Error::other("a decoding thread stopped"))
                })?;
                pending.push_back(next);
                while let Some(w) = pending.pop_front() {
                    collect(w, &mut total, &mut spare, output)?;
                }
            }
        }
        drop(jobs);
        Ok(total)
    })
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
    cache: HashMap<Rc<[u8]>, u32, BuildHasherDefault<LineHasher>>,
    /// The cached lines; the cache maps a line to its index here.
    entries: Vec<Replay>,
    /// The entry of the previous non-blank line, if it was cached: captures repeat whole
    /// sequences, so the line that followed it last time is tried first, without hashing.
    prev: Option<u32>,
    /// Fingerprints of lines seen once (direct-mapped): a line enters the cache at its second
    /// sighting, so that lines seen once (changing timers, noise) cost no cache memory.
    seen_once: Vec<u64>,
}

/// What one input line printed, minus its line numbers.
struct Replay {
    /// The raw line, line end included.
    key: Rc<[u8]>,
    /// The entry of the line that followed this one last time.
    next: Option<u32>,
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
            entries: Vec::new(),
            prev: None,
            seen_once: vec![0; SEEN_ONCE_SLOTS],
        }
    }

    fn stats(&self) -> DecodeStats {
        self.sink.stats
    }

    /// Prepares for a chunk of whole lines starting at input line `line` (the framer is empty
    /// after a `\n`); the counts start again from zero.
    fn restart_at(&mut self, line: usize) {
        self.at_line_start = true;
        self.sink.line_no = LineNumber::at(line);
        self.sink.line_open = false;
        self.sink.stats = DecodeStats::default();
        self.prev = None;
    }

    /// Feeds a block: one input line at a time, so that every event knows its line number.
    fn push<W: Write>(&mut self, mut block: &[u8], output: &mut W) -> io::Result<()> {
        while !block.is_empty() {
            if self.at_line_start {
                // Blank lines (half the lines of a modem capture: `\r\n<line>\r\n`) make no event
                // and leave the framer empty.
                let blank = match block {
                    [b'\r', b'\n', ..] => 2,
                    [b'\n', ..] => 1,
                    _ => 0,
                };
                if blank > 0 {
                    block = &block[blank..];
                    self.next_line();
                    continue;
                }
                // The line that followed the previous one last time, compared in place: its key
                // ends with `\n`, so a matching prefix is exactly that whole line.
                let predicted = self
                    .prev
                    .and_then(|p| self.entries.get(p as usize))
                    .and_then(|e| e.next);
                if let Some(i) = predicted {
                    if let Some(e) = self.entries.get(i as usize) {
                        if block.starts_with(&e.key) {
                            self.sink.replay(e, output)?;
                            block = &block[e.key.len()..];
                            self.prev = Some(i);
                            self.next_line();
                            continue;
                        }
                    }
                }
            }
            let (piece, rest, ends_line) = match memchr::memchr(b'\n', block) {
                Some(i) => (&block[..=i], &block[i + 1..], true),
                None => (block, &[][..], false),
            };
            let cacheable = ends_line && self.at_line_start && piece.len() <= CACHE_MAX_LINE;
            if cacheable {
                if let Some(&i) = self.cache.get(piece) {
                    if let Some(e) = self.entries.get(i as usize) {
                        self.sink.replay(e, output)?;
                    }
                    if let Some(p) = self.prev.and_then(|p| self.entries.get_mut(p as usize)) {
                        p.next = Some(i);
                    }
                    self.prev = Some(i);
                    self.next_line();
                    block = rest;
                    continue;
                }
                self.prev = None;
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
                    if self.entries.len() >= CACHE_MAX_ENTRIES {
                        self.cache.clear();
                        self.entries.clear();
                    }
                    let key: Rc<[u8]> = piece.into();
                    let index = self.entries.len() as u32;
                    self.entries.push(Replay {
                        key: Rc::clone(&key),
                        next: None,
                        tails: sink.recorded.as_str().into(),
                        count: sink.recorded_count,
                        unknown: sink.recorded_unknown,
                    });
                    self.cache.insert(key, index);
                }
            } else {
                self.prev = None;
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

/// The cache's hash of a line: its length and four 8-byte words, the first 16 and the last 16
/// bytes (overlapping on short lines), mixed in parallel. Lines of a log differ at their start
/// (the prefix) or their end (numbers, quoted values); lines that differ only in the middle of a
/// long line share a hash and are told apart by the comparison hashbrown makes anyway. The
/// cache's keys are log lines, not attacker-chosen keys of a long-lived service, so a
/// DoS-resistant hash buys nothing here.
#[derive(Default, Clone, Copy)]
struct LineHasher(u64);

impl LineHasher {
    const K1: u64 = 0x9e37_79b9_7f4a_7c15;
    const K2: u64 = 0xc2b2_ae3d_27d4_eb4f;
    const K3: u64 = 0x1656_67b1_9e37_79f9;
    const K4: u64 = 0x85eb_ca77_c2b2_ae63;

    #[inline]
    fn word(bytes: &[u8], at: usize) -> u64 {
        let mut w = [0u8; 8];
        let end = (at + 8).min(bytes.len());
        if let Some(src) = bytes.get(at..end) {
            w[..src.len()].copy_from_slice(src);
        }
        u64::from_le_bytes(w)
    }
}

impl Hasher for LineHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let n = bytes.len();
        let tail = n.saturating_sub(16);
        let a = Self::word(bytes, 0).wrapping_mul(Self::K1);
        let b = Self::word(bytes, 8).wrapping_mul(Self::K2);
        let c = Self::word(bytes, tail).wrapping_mul(Self::K3);
        let d = Self::word(bytes, tail + 8).wrapping_mul(Self::K4);
        let h = (a ^ b.rotate_left(23)).wrapping_add(c ^ d.rotate_left(41)) ^ self.0;
        self.0 = (h ^ (h >> 29)).wrapping_mul(Self::K1);
    }

    #[inline]
    fn write_usize(&mut self, n: usize) {
        self.0 = (self.0 ^ n as u64).wrapping_mul(Self::K2);
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.0 ^ (self.0 >> 32)
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

    fn at(value: usize) -> Self {
        let value = value.max(1);
        let text = value.to_string();
        const WIDTH: usize = 24;
        let mut digits = [b' '; WIDTH];
        // A usize has at most 20 digits.
        let start = WIDTH.saturating_sub(text.len());
        digits[start..].copy_from_slice(&text.as_bytes()[..WIDTH - start]);
        LineNumber {
            digits,
            start,
            value,
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
    // Redacted before parsing (as the client does): nothing decoded from the line, its
    // explanation included, can hold a secret.
    let msg = parse_line(&shown_text(text));
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
        tail.push_str(&shown_text(line));
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

/// The line as printed: a PSK secret in it is redacted (the core's one rule, whatever the line's
/// kind: a modem may quote the secret in an error answer too).
fn shown_text(line: &str) -> std::borrow::Cow<'_, str> {
    // Every line the rule touches mentions `psk` or `SQNDMC`, so holds an `s` or `S`.
    if line.bytes().any(|b| b == b'S' || b == b's') {
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
                let mut m = LineNumber::at(v);
                assert_eq!(m.bare(), n.bare());
                m.increment();
                assert_eq!(m.bare(), (v + 1).to_string().as_bytes());
            }
            n.increment();
        }
        assert_eq!(
            LineNumber::at(usize::MAX).bare(),
            usize::MAX.to_string().as_bytes()
        );
    }

    /// The threaded decode writes exactly what one decoder writes, whatever the chunking.
    #[test]
    fn parallel_output_is_the_sequential_output() {
        let mut input = Vec::new();
        let mut seed = 0x2014u64;
        while input.len() < 3 * CHUNK + 12345 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            match seed % 7 {
                0 => input.extend_from_slice(b"\r\n+SQNFOTA: 5,3,40\r\n"),
                1 => input.extend_from_slice(
                    format!(
                        "\r\n+SQNDMST: \"dm\",101,\"REGISTERED\",86400,{}\r\n",
                        seed % 90_000
                    )
                    .as_bytes(),
                ),
                2 => input.extend_from_slice(b"AT+CGSN\r\r\n015770000031766\r\n\r\nOK\r\n"),
                3 => input.extend_from_slice(&seed.to_le_bytes()),
                4 => input.extend_from_slice(b"+SQNFOTA: 3,8 // failure\n"),
                5 => input.extend(std::iter::repeat_n(b'y', (seed % 6000) as usize)),
                _ => input.extend_from_slice(b"\r> \n"),
            }
        }
        input.extend_from_slice(b"+SQNFOTA: 8");
        for json in [false, true] {
            let (want, stats) = decode(&input, json);
            for workers in [2, 3] {
                let mut out = Vec::new();
                let got = decode_parallel(&input[..], &mut out, json, workers).unwrap();
                assert!(
                    String::from_utf8(out).unwrap() == want,
                    "workers {workers} json {json}"
                );
                assert_eq!(got.input_lines, stats.input_lines);
                assert_eq!(got.decoded, stats.decoded);
                assert_eq!(got.unknown, stats.unknown);
                assert_eq!(got.overflows, stats.overflows);
            }
        }
    }

    /// A line longer than the parallel split allows is decoded in order, exactly.
    #[test]
    fn a_giant_line_switches_to_one_thread() {
        let mut input = Vec::new();
        input.extend_from_slice(b"+SQNFOTA: 5,3,10\r\n".repeat(100_000).as_slice());
        input.extend(std::iter::repeat_n(b'z', MAX_CARRY + 3 * CHUNK));
        input.extend_from_slice(b"\r\n+SQNFOTA: 5,3,20\r\n+SYSSTART\r\n");
        let (want, _) = decode(&input, true);
        let mut out = Vec::new();
        decode_parallel(&input[..], &mut out, true, 2).unwrap();
        assert!(String::from_utf8(out).unwrap() == want);
        assert!(want.contains("\"event\":\"sysstart\""), "{want}");
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

    /// A short capture: provisioning commands (one with a PSK), their answers and notifications.
    fn capture() -> String {
        let secret = crate::testkit::SECRET;
        format!(
            "AT+CGSN\r\r\n015770000031766\r\n\r\nOK\r\n\
             AT+SQNDMCFG=\"standard\",\"psk\",100,\"urn:imei:015770000031766\",\"{secret}\"\r\r\nOK\r\n\
             +SYSSTART\r\n\
             +CEREG: 5,\"2C7E\",\"0001E240\",7 // roaming\n\
             AT+SQNDMST\r\r\n+SQNDMST: \"bs\",100,\"BS_FINISHED\",1,-1\r\n\r\nOK\r\n\
             +SQNFOTA: 2,0,45\r\n\
             +CME ERROR: 528\r\n\
             something else\n"
        )
    }

    #[test]
    fn decode_in_words() {
        let (out, stdout, _) = crate::testkit::Captured::out(false, 0);
        decode_to(capture().as_bytes(), "capture.log", &out).unwrap();
        let text = stdout.text();
        crate::testkit::assert_no_secret(&text);
        insta::assert_snapshot!(text);
    }

    #[test]
    fn decode_in_json() {
        let (out, stdout, _) = crate::testkit::Captured::out(true, 0);
        decode_to(capture().as_bytes(), "capture.log", &out).unwrap();
        let text = stdout.text();
        crate::testkit::assert_no_secret(&text);
        insta::assert_snapshot!(text);
    }
}
