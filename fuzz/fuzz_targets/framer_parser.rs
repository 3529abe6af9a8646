//! Fuzz target: arbitrary bytes pushed through the framer in arbitrary chunkings, every line
//! parsed. Checks: nothing panics, the buffer never exceeds the cap, and the chunked events
//! equal the events of one push.
//!
//! Run with `cargo +nightly fuzz run framer_parser` from the repository root.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ryz014_core::framer::{FrameEvent, Framer, OwnedFrameEvent};
use ryz014_core::parse::parse_line;

fuzz_target!(|data: &[u8]| {
    // The first bytes choose the cap and the chunk sizes; the rest is the stream.
    let (cap, sizes, stream) = match data {
        [c, s0, s1, s2, rest @ ..] => (
            usize::from(*c) * 8,
            [usize::from(*s0), usize::from(*s1), usize::from(*s2)],
            rest,
        ),
        _ => (4096, [1, 1, 1], data),
    };

    let mut whole = Framer::with_max_line(cap);
    let mut want: Vec<OwnedFrameEvent> = Vec::new();
    whole.push(stream, |ev| want.push(ev.to_owned_event()));

    let mut framer = Framer::with_max_line(cap);
    let mut got: Vec<OwnedFrameEvent> = Vec::new();
    let mut rest = stream;
    let mut k = 0;
    while !rest.is_empty() {
        let n = sizes[k % sizes.len()].clamp(1, rest.len());
        k += 1;
        let (piece, tail) = rest.split_at(n);
        framer.push(piece, |ev| {
            if let FrameEvent::Line(line) = ev {
                let _ = parse_line(line);
            }
            got.push(ev.to_owned_event());
        });
        assert!(framer.buffered() <= framer.max_line());
        rest = tail;
    }
    assert_eq!(got, want);
    framer.flush(|ev| {
        if let FrameEvent::Line(line) = ev {
            let _ = parse_line(line);
        }
    });
});
