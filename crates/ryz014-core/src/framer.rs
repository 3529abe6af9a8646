//! Incremental line framer for the modem's byte stream.
//!
//! [`Framer`] cuts the bytes read from the UART (in whatever chunks the transport delivers them)
//! into lines and reports them as [`FrameEvent`]s. The events depend only on the byte sequence,
//! never on how it was chunked: feeding a stream one byte at a time or 64 KiB at once yields the
//! same events.
//!
//! Rules:
//! - `\r\n`, a lone `\n` and a lone `\r` all end a line. Each of `\r` and `\n` ends the current
//!   line on its own and blank lines produce no event, so the three forms are equivalent.
//! - Blank lines (nothing left between two line ends) are skipped.
//! - ASCII control bytes (`0x00..=0x1F` except TAB, and `0x7F`) are dropped; TAB is kept.
//! - Bytes that are not UTF-8 are decoded lossily (each bad sequence becomes U+FFFD).
//! - The data prompt `> ` has no line end after it: as soon as the text of the current line is
//!   exactly `> `, a [`FrameEvent::Prompt`] is emitted and the line starts afresh. (So
//!   `> abc\r\n` gives `Prompt` then `Line("abc")`; a line `>` alone is an ordinary line.)
//! - A line longer than the cap (default [`DEFAULT_MAX_LINE`] bytes of text) is discarded up to
//!   its line end, where one [`FrameEvent::Overflow`] reports how many raw bytes it had; then the
//!   framer resynchronises on the next line. The internal buffer never holds more than the cap.
//!
//! Lines are handed out as `&str` borrowed from the framer (or straight from the input chunk
//! when a whole clean line is in it), so framing allocates nothing per line once warmed up.

use memchr::memchr2;

/// The default cap on a line's length, in bytes of text (4 KiB).
pub const DEFAULT_MAX_LINE: usize = 4096;

/// The smallest cap [`Framer::with_max_line`] accepts (room for the `> ` prompt).
pub const MIN_MAX_LINE: usize = 2;

/// One thing the framer found in the stream, borrowing the line's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameEvent<'a> {
    /// A complete, non-blank line without its line end, control bytes dropped, lossily decoded.
    Line(&'a str),
    /// The `> ` data prompt.
    Prompt,
    /// A line longer than the cap was discarded.
    Overflow {
        /// Raw bytes of the discarded line (control bytes included, line end excluded).
        discarded: usize,
    },
}

impl FrameEvent<'_> {
    /// An owned copy of this event.
    pub fn to_owned_event(&self) -> OwnedFrameEvent {
        match *self {
            FrameEvent::Line(l) => OwnedFrameEvent::Line(l.to_owned()),
            FrameEvent::Prompt => OwnedFrameEvent::Prompt,
            FrameEvent::Overflow { discarded } => OwnedFrameEvent::Overflow { discarded },
        }
    }
}

/// An owned [`FrameEvent`], as returned by [`Framer::push_collect`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum OwnedFrameEvent {
    /// A complete, non-blank line (see [`FrameEvent::Line`]).
    Line(String),
    /// The `> ` data prompt.
    Prompt,
    /// A line longer than the cap was discarded (see [`FrameEvent::Overflow`]).
    Overflow {
        /// Raw bytes of the discarded line (control bytes included, line end excluded).
        discarded: usize,
    },
}

impl OwnedFrameEvent {
    /// The borrowed form of this event.
    pub fn as_event(&self) -> FrameEvent<'_> {
        match self {
            OwnedFrameEvent::Line(l) => FrameEvent::Line(l),
            OwnedFrameEvent::Prompt => FrameEvent::Prompt,
            OwnedFrameEvent::Overflow { discarded } => FrameEvent::Overflow {
                discarded: *discarded,
            },
        }
    }
}

impl From<FrameEvent<'_>> for OwnedFrameEvent {
    fn from(ev: FrameEvent<'_>) -> Self {
        ev.to_owned_event()
    }
}

/// Incremental line framer; see the [module documentation](self) for the rules.
#[derive(Debug, Clone)]
pub struct Framer {
    /// Text of the current, unfinished line (control bytes already dropped); `len() <= max`.
    buf: Vec<u8>,
    /// Raw bytes seen in the current line so far (control bytes included).
    raw_len: usize,
    /// Whether the current line overflowed and is being discarded.
    discarding: bool,
    /// The cap on a line's text, in bytes.
    max: usize,
    /// Scratch space for lossy UTF-8 decoding of lines that are not valid UTF-8.
    scratch: String,
}

impl Default for Framer {
    fn default() -> Self {
        Self::new()
    }
}

/// Whether `b` is a control byte that the framer drops (line ends are handled before this).
#[inline]
fn is_dropped(b: u8) -> bool {
    (b < 0x20 && b != b'\t') || b == 0x7f
}

/// Whether `seg` holds any byte that the framer drops.
#[inline]
fn has_dropped(seg: &[u8]) -> bool {
    seg.iter().any(|&b| is_dropped(b))
}

/// The index of the first line end or dropped control byte in `s` (any byte below 0x20, or
/// 0x7F, except TAB), scanning eight bytes at a time.
#[inline(always)]
fn find_special(s: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let mut base = 0;
    let mut words = s.chunks_exact(8);
    for w in &mut words {
        let mut word = [0u8; 8];
        word.copy_from_slice(w);
        let x = u64::from_le_bytes(word);
        // Bytes below 0x20, bytes equal to 0x7F: the classic "has less than" / "has zero"
        // tricks. Borrows only run upwards, so the lowest flagged byte is a true match.
        let below = x.wrapping_sub(ONES * 0x20) & !x & HIGHS;
        let del = x ^ (ONES * 0x7f);
        let del = del.wrapping_sub(ONES) & !del & HIGHS;
        let mask = below | del;
        if mask != 0 {
            let i = base + (mask.trailing_zeros() / 8) as usize;
            // A TAB is kept: look on past it byte by byte.
            return match s[i] {
                b'\t' => s[i + 1..]
                    .iter()
                    .position(|&b| is_special(b))
                    .map(|j| i + 1 + j),
                _ => Some(i),
            };
        }
        base += 8;
    }
    words
        .remainder()
        .iter()
        .position(|&b| is_special(b))
        .map(|j| base + j)
}

/// A line end or a dropped control byte.
#[inline]
fn is_special(b: u8) -> bool {
    b == b'\r' || b == b'\n' || is_dropped(b)
}

/// The longest prefix of `bytes` that is valid UTF-8.
fn valid_prefix(bytes: &[u8]) -> &str {
    match std::str::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => std::str::from_utf8(&bytes[..e.valid_up_to()]).unwrap_or_default(),
    }
}

/// Decodes `bytes` as UTF-8, borrowing when valid and decoding lossily into `scratch` otherwise.
fn decode<'a>(bytes: &'a [u8], scratch: &'a mut String) -> &'a str {
    match std::str::from_utf8(bytes) {
        Ok(s) => s,
        Err(_) => {
            scratch.clear();
            for chunk in bytes.utf8_chunks() {
                scratch.push_str(chunk.valid());
                if !chunk.invalid().is_empty() {
                    scratch.push(char::REPLACEMENT_CHARACTER);
                }
            }
            scratch
        }
    }
}

impl Framer {
    /// A framer with the default line cap ([`DEFAULT_MAX_LINE`]).
    pub fn new() -> Self {
        Self::with_max_line(DEFAULT_MAX_LINE)
    }

    /// A framer whose lines may hold at most `max` bytes of text (at least [`MIN_MAX_LINE`];
    /// smaller values are raised to it).
    pub fn with_max_line(max: usize) -> Self {
        let max = max.max(MIN_MAX_LINE);
        Framer {
            buf: Vec::with_capacity(max.min(256)),
            raw_len: 0,
            discarding: false,
            max,
            scratch: String::new(),
        }
    }

    /// The cap on a line's text, in bytes.
    pub fn max_line(&self) -> usize {
        self.max
    }

    /// Bytes of text held for the unfinished current line (never more than [`Self::max_line`]).
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// Whether the current line overflowed and is being discarded up to its line end.
    pub fn is_discarding(&self) -> bool {
        self.discarding
    }

    /// Forgets the unfinished current line (and any overflow in progress) without an event.
    pub fn reset(&mut self) {
        self.buf.clear();
        self.raw_len = 0;
        self.discarding = false;
    }

    /// Feeds `bytes` and calls `on_event` for each event they complete, in stream order.
    pub fn push(&mut self, bytes: &[u8], mut on_event: impl FnMut(FrameEvent<'_>)) {
        // A UTF-8 view of `bytes[text_at..text_at + text.len()]`. It is validated a region at a
        // time (from a line start up to the next invalid byte, or to the end of `bytes`), which
        // is much cheaper than validating every short line on its own.
        let mut text_at = 0usize;
        let mut text: &str = "";
        let mut pos = 0usize;
        while let Some(rest) = bytes.get(pos..).filter(|r| !r.is_empty()) {
            if self.buf.is_empty() && !self.discarding {
                // Fast path. Line ends with nothing before them end nothing but a run of
                // control bytes (already dropped): skip them all at once.
                if let [b'\r' | b'\n', ..] = rest {
                    self.raw_len = 0;
                    pos += rest
                        .iter()
                        .position(|&b| b != b'\r' && b != b'\n')
                        .unwrap_or(rest.len());
                    continue;
                }
                // One scan finds the first line end or control byte; when it is a line end,
                // the line before it is clean and can be handed out straight from `bytes`.
                if let Some(i) = find_special(rest) {
                    let end = rest[i];
                    if end == b'\r' || end == b'\n' {
                        let line = &rest[..i];
                        if line.len() <= self.max && !line.starts_with(b"> ") {
                            // (The unfinished line may have held control bytes only.)
                            self.raw_len = 0;
                            if pos >= text_at + text.len() {
                                text_at = pos;
                                text = valid_prefix(rest);
                            }
                            let rel = pos - text_at;
                            let s = match text.get(rel..rel + i) {
                                Some(s) => s,
                                None => decode(line, &mut self.scratch),
                            };
                            on_event(FrameEvent::Line(s));
                        } else {
                            self.segment(line, true, &mut on_event);
                        }
                        pos += i + 1;
                        continue;
                    }
                }
            }
            match memchr2(b'\r', b'\n', rest) {
                Some(i) => {
                    self.segment(&rest[..i], true, &mut on_event);
                    pos += i + 1;
                }
                None => {
                    self.segment(rest, false, &mut on_event);
                    break;
                }
            }
        }
    }

    /// Feeds `bytes` and returns the events they complete, owned.
    pub fn push_collect(&mut self, bytes: &[u8]) -> Vec<OwnedFrameEvent> {
        let mut out = Vec::new();
        self.push(bytes, |ev| out.push(ev.to_owned_event()));
        out
    }

    /// Ends the current line as if a line end had arrived (e.g. at the end of a log file that
    /// lacks the final line end), reporting it if it holds text or overflowed.
    pub fn flush(&mut self, mut on_event: impl FnMut(FrameEvent<'_>)) {
        self.end_line(&mut on_event);
    }

    /// Handles `seg` (free of line ends), followed by a line end when `ends_line`.
    #[inline]
    fn segment(&mut self, seg: &[u8], ends_line: bool, on_event: &mut impl FnMut(FrameEvent<'_>)) {
        if !self.discarding
            && ends_line
            && self.buf.is_empty()
            && seg.len() <= self.max
            && !seg.starts_with(b"> ")
            && !has_dropped(seg)
        {
            // Fast path: a whole clean line inside this chunk, nothing buffered.
            self.raw_len = 0;
            if !seg.is_empty() {
                on_event(FrameEvent::Line(decode(seg, &mut self.scratch)));
            }
            return;
        }
        // Split around dropped control bytes; each clean piece goes to `append`. (`seg` holds
        // no line end, so a "special" byte is a dropped one.)
        let mut rest = seg;
        while !rest.is_empty() {
            if self.discarding {
                self.note_raw(rest.len());
                break;
            }
            match find_special(rest) {
                Some(i) => {
                    self.append(&rest[..i], on_event);
                    self.note_raw(1);
                    rest = &rest[i + 1..];
                }
                None => {
                    self.append(rest, on_event);
                    break;
                }
            }
        }
        if ends_line {
            self.end_line(on_event);
        }
    }

    /// Counts `n` raw bytes of the current line.
    #[inline]
    fn note_raw(&mut self, n: usize) {
        self.raw_len = self.raw_len.saturating_add(n);
    }

    /// Appends clean text (no control bytes, no line ends) to the current line, emitting a
    /// prompt when the line becomes exactly `> ` and switching to discarding past the cap.
    fn append(&mut self, mut piece: &[u8], on_event: &mut impl FnMut(FrameEvent<'_>)) {
        // A prompt can only form while fewer than two bytes are buffered.
        while self.buf.len() < 2 && !self.discarding {
            let Some((&b, tail)) = piece.split_first() else {
                return;
            };
            piece = tail;
            self.buf.push(b);
            self.note_raw(1);
            if self.buf == b"> " {
                on_event(FrameEvent::Prompt);
                self.buf.clear();
                self.raw_len = 0;
            }
        }
        if piece.is_empty() {
            return;
        }
        self.note_raw(piece.len());
        if self.discarding {
            return;
        }
        let room = self.max - self.buf.len();
        if piece.len() <= room {
            if self.buf.capacity() < self.buf.len() + piece.len() {
                // Grow geometrically, but never beyond the cap.
                let want = (self.buf.capacity() * 2)
                    .max(self.buf.len() + piece.len())
                    .min(self.max);
                self.buf.reserve_exact(want - self.buf.len());
            }
            self.buf.extend_from_slice(piece);
        } else {
            self.buf.clear();
            self.discarding = true;
        }
    }

    /// Ends the current line: emits it (or the overflow) and starts a new one.
    fn end_line(&mut self, on_event: &mut impl FnMut(FrameEvent<'_>)) {
        if self.discarding {
            on_event(FrameEvent::Overflow {
                discarded: self.raw_len,
            });
        } else if !self.buf.is_empty() {
            on_event(FrameEvent::Line(decode(&self.buf, &mut self.scratch)));
        }
        self.buf.clear();
        self.raw_len = 0;
        self.discarding = false;
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    fn line(s: &str) -> OwnedFrameEvent {
        OwnedFrameEvent::Line(s.to_owned())
    }

    fn bytewise(f: &mut Framer, bytes: &[u8]) -> Vec<OwnedFrameEvent> {
        bytes.iter().flat_map(|b| f.push_collect(&[*b])).collect()
    }

    #[test]
    fn crlf_lf_and_cr_all_end_lines() {
        let mut f = Framer::new();
        assert_eq!(
            f.push_collect(b"\r\nOK\r\nA\nB\rC\r\n"),
            vec![line("OK"), line("A"), line("B"), line("C")]
        );
        assert_eq!(f.buffered(), 0);
    }

    #[test]
    fn blank_lines_give_no_event() {
        let mut f = Framer::new();
        assert!(f.push_collect(b"\r\n\r\n\n\n\r\r").is_empty());
        assert_eq!(f.push_collect(b"\r\n\r\nX\r\n\r\n"), vec![line("X")]);
    }

    #[test]
    fn a_line_split_over_chunks_is_kept_whole() {
        let mut f = Framer::new();
        assert!(f.push_collect(b"+SQNFO").is_empty());
        assert_eq!(f.buffered(), 6);
        assert!(f.push_collect(b"TA: 5,3").is_empty());
        assert_eq!(f.push_collect(b",10\r"), vec![line("+SQNFOTA: 5,3,10")]);
        assert!(f.push_collect(b"\n").is_empty());
    }

    #[test]
    fn control_bytes_are_dropped_but_tab_is_kept() {
        let mut f = Framer::new();
        assert_eq!(
            f.push_collect(b"O\0K\x1b\x7f\r\nA\tB\r\n\x00\x01\r\n"),
            vec![line("OK"), line("A\tB")]
        );
    }

    #[test]
    fn invalid_utf8_is_decoded_lossily() {
        let mut f = Framer::new();
        assert_eq!(
            f.push_collect(b"a\xffb\xc3\r\n\xc3\xa9\r\n"),
            vec![line("a\u{fffd}b\u{fffd}"), line("é")]
        );
        // A multi-byte character split over two chunks stays one character.
        let mut f = Framer::new();
        assert!(f.push_collect(b"\xc3").is_empty());
        assert_eq!(f.push_collect(b"\xa9\n"), vec![line("é")]);
    }

    #[test]
    fn prompt_without_line_end() {
        let mut f = Framer::new();
        assert_eq!(
            f.push_collect(b"AT+X=1\r\r\n> "),
            vec![line("AT+X=1"), OwnedFrameEvent::Prompt]
        );
        assert_eq!(f.buffered(), 0);
        // Byte by byte gives the same, and a line that only starts with `>` is a line.
        let mut g = Framer::new();
        assert_eq!(
            bytewise(&mut g, b"\r\n> >\r\n>x\r\n> abc\r\n"),
            vec![
                OwnedFrameEvent::Prompt,
                line(">"),
                line(">x"),
                OwnedFrameEvent::Prompt,
                line("abc")
            ]
        );
        let mut h = Framer::new();
        assert_eq!(
            h.push_collect(b"\r\n> >\r\n>x\r\n> abc\r\n"),
            bytewise(&mut Framer::new(), b"\r\n> >\r\n>x\r\n> abc\r\n")
        );
    }

    #[test]
    fn prompt_formed_across_dropped_control_bytes() {
        let mut f = Framer::new();
        assert_eq!(f.push_collect(b">\0 "), vec![OwnedFrameEvent::Prompt]);
    }

    #[test]
    fn overflow_is_reported_once_then_resyncs() {
        let mut f = Framer::with_max_line(8);
        assert_eq!(f.max_line(), 8);
        assert_eq!(f.push_collect(b"12345678\r\n"), vec![line("12345678")]);
        assert!(f.push_collect(b"123456789").is_empty());
        assert!(f.is_discarding());
        assert_eq!(f.buffered(), 0);
        assert!(f.push_collect(b"abcdef").is_empty());
        assert_eq!(
            f.push_collect(b"\0g\r\nOK\r\n"),
            vec![OwnedFrameEvent::Overflow { discarded: 17 }, line("OK")]
        );
        assert!(!f.is_discarding());
    }

    #[test]
    fn overflow_inside_one_chunk() {
        let mut f = Framer::with_max_line(4);
        assert_eq!(
            f.push_collect(b"OK\r\nabcdefgh\nERROR\nXY\n"),
            vec![
                line("OK"),
                OwnedFrameEvent::Overflow { discarded: 8 },
                OwnedFrameEvent::Overflow { discarded: 5 },
                line("XY")
            ]
        );
    }

    #[test]
    fn a_control_only_line_does_not_count_towards_the_next_overflow() {
        // Found by the chunking property test: the control byte's line ends on its own.
        let bytes = b"\x0e\r>\xc3\xc3>\r";
        let want = vec![OwnedFrameEvent::Overflow { discarded: 4 }];
        assert_eq!(Framer::with_max_line(2).push_collect(bytes), want);
        assert_eq!(bytewise(&mut Framer::with_max_line(2), bytes), want);
    }

    #[test]
    fn tiny_caps_are_raised_to_fit_the_prompt() {
        let mut f = Framer::with_max_line(0);
        assert_eq!(f.max_line(), MIN_MAX_LINE);
        assert_eq!(
            f.push_collect(b"> OK\nabc\n"),
            vec![
                OwnedFrameEvent::Prompt,
                line("OK"),
                OwnedFrameEvent::Overflow { discarded: 3 }
            ]
        );
    }

    #[test]
    fn flush_ends_the_last_line() {
        let mut f = Framer::new();
        assert_eq!(f.push_collect(b"OK\r\n+SYSSTART"), vec![line("OK")]);
        let mut got = Vec::new();
        f.flush(|e| got.push(e.to_owned_event()));
        assert_eq!(got, vec![line("+SYSSTART")]);
        f.flush(|e| got.push(e.to_owned_event()));
        assert_eq!(got.len(), 1, "nothing left to flush");
    }

    #[test]
    fn reset_forgets_the_partial_line() {
        let mut f = Framer::with_max_line(4);
        f.push_collect(b"abcdefg");
        assert!(f.is_discarding());
        f.reset();
        assert_eq!(f.push_collect(b"OK\n"), vec![line("OK")]);
    }

    #[test]
    fn owned_and_borrowed_events_round_trip() {
        for ev in [
            line("x"),
            OwnedFrameEvent::Prompt,
            OwnedFrameEvent::Overflow { discarded: 3 },
        ] {
            assert_eq!(OwnedFrameEvent::from(ev.as_event()), ev);
        }
    }
}
