//! Property tests of the framer (native only: proptest does not run on wasm32): chunking never
//! changes the events, the framer agrees with a byte-at-a-time reference model of the rules,
//! arbitrary bytes never panic and never grow the buffer past the cap, `\r`/`\n`/`\r\n` are
//! equivalent, and an over-long line is reported once before the framer resynchronises.
#![cfg(not(target_arch = "wasm32"))]

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;
#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

use proptest::prelude::*;
use ryz014_core::framer::{Framer, OwnedFrameEvent, DEFAULT_MAX_LINE};
use ryz014_core::parse::parse_line;

/// The framing rules written the plainest way, one byte at a time, as the reference.
fn reference(bytes: &[u8], max: usize) -> Vec<OwnedFrameEvent> {
    let mut out = Vec::new();
    let mut line: Vec<u8> = Vec::new();
    let mut raw = 0usize;
    let mut over = false;
    for &b in bytes {
        if b == b'\r' || b == b'\n' {
            if over {
                out.push(OwnedFrameEvent::Overflow { discarded: raw });
            } else if !line.is_empty() {
                out.push(OwnedFrameEvent::Line(
                    String::from_utf8_lossy(&line).into_owned(),
                ));
            }
            line.clear();
            raw = 0;
            over = false;
            continue;
        }
        raw += 1;
        if over || (b < 0x20 && b != b'\t') || b == 0x7f {
            continue;
        }
        if line.len() == max {
            over = true;
            line.clear();
            continue;
        }
        line.push(b);
        if line == b"> " {
            out.push(OwnedFrameEvent::Prompt);
            line.clear();
            raw = 0;
        }
    }
    out
}

/// Feeds `bytes` in pieces of the given sizes (cycled), checking the cap after every push.
fn chunked(bytes: &[u8], sizes: &[usize], max: usize) -> Vec<OwnedFrameEvent> {
    let mut f = Framer::with_max_line(max);
    let mut out = Vec::new();
    let mut rest = bytes;
    let mut k = 0;
    while !rest.is_empty() {
        let n = sizes[k % sizes.len()].clamp(1, rest.len());
        k += 1;
        let (piece, tail) = rest.split_at(n);
        f.push(piece, |ev| out.push(ev.to_owned_event()));
        assert!(f.buffered() <= f.max_line(), "buffer past the cap");
        rest = tail;
    }
    out
}

fn one_push(bytes: &[u8], max: usize) -> Vec<OwnedFrameEvent> {
    Framer::with_max_line(max).push_collect(bytes)
}

/// Bytes biased towards what matters to the framer: line ends, the prompt, control bytes,
/// pieces of UTF-8 and plain text.
fn stream_bytes() -> impl Strategy<Value = Vec<u8>> {
    let byte = prop_oneof![
        4 => b'A'..=b'Z',
        2 => Just(b'\r'),
        2 => Just(b'\n'),
        2 => Just(b'>'),
        2 => Just(b' '),
        1 => Just(b'\t'),
        1 => Just(0u8),
        1 => Just(0x1b),
        1 => Just(0x7f),
        1 => Just(0xc3),
        1 => Just(0xa9),
        1 => Just(0xff),
        2 => any::<u8>(),
    ];
    prop::collection::vec(byte, 0..600)
}

/// Lines the modem really sends (no line-end characters inside).
fn modem_line() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("OK".to_owned()),
        Just("ERROR".to_owned()),
        Just("+SQNFOTA: \"installed\",\"5.4.1.1-57830\"".to_owned()),
        Just("+CEREG: 1,\"0002\",\"01A2D002\",7".to_owned()),
        Just("+SQNDMST: \"dm\",101,\"REGISTERED\",86400,84597".to_owned()),
        Just("AT+SQNFOTACFG=\"standard\",0,2,10,60,,60".to_owned()),
        (0u32..=100).prop_map(|p| format!("+SQNFOTA: 5,3,{p}")),
        "[ -~]{1,40}",
        "\\PC{1,20}",
    ]
    .prop_filter("no line ends", |l| !l.contains(['\r', '\n']))
}

fn line_end() -> impl Strategy<Value = &'static str> {
    prop_oneof![Just("\r\n"), Just("\n"), Just("\r")]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_chunking_gives_the_events_of_one_push(
        bytes in stream_bytes(),
        sizes in prop::collection::vec(1usize..40, 1..12),
        max in prop_oneof![2usize..12, Just(DEFAULT_MAX_LINE)],
    ) {
        let whole = one_push(&bytes, max);
        prop_assert_eq!(&chunked(&bytes, &sizes, max), &whole);
        prop_assert_eq!(&chunked(&bytes, &[1], max), &whole);
    }

    #[test]
    fn the_framer_follows_the_reference_rules(
        bytes in stream_bytes(),
        max in prop_oneof![2usize..16, Just(64usize), Just(DEFAULT_MAX_LINE)],
    ) {
        prop_assert_eq!(one_push(&bytes, max), reference(&bytes, max));
    }

    #[test]
    fn arbitrary_bytes_never_panic_nor_exceed_the_cap(
        bytes in prop::collection::vec(any::<u8>(), 0..2000),
        sizes in prop::collection::vec(1usize..300, 1..8),
        max in 0usize..200,
    ) {
        let mut f = Framer::with_max_line(max);
        let mut rest = &bytes[..];
        let mut k = 0;
        while !rest.is_empty() {
            let n = sizes[k % sizes.len()].min(rest.len());
            k += 1;
            f.push(&rest[..n], |ev| {
                if let ryz014_core::framer::FrameEvent::Line(l) = ev {
                    let _ = parse_line(l);
                }
            });
            prop_assert!(f.buffered() <= f.max_line());
            prop_assert!(f.max_line() >= max);
            rest = &rest[n..];
        }
    }

    #[test]
    fn lone_cr_lone_lf_and_crlf_are_equivalent(
        lines in prop::collection::vec((modem_line(), line_end()), 0..30),
    ) {
        let crlf: String = lines.iter().map(|(l, _)| format!("{l}\r\n")).collect();
        let mixed: String = lines.iter().map(|(l, e)| format!("{l}{e}")).collect();
        let want: Vec<OwnedFrameEvent> = lines
            .iter()
            .filter_map(|(l, _)| {
                let kept: String = l.chars().filter(|c| !c.is_ascii_control() || *c == '\t').collect();
                (!kept.is_empty()).then_some(kept)
            })
            .flat_map(|l| {
                // Each leading `> ` is a prompt; what follows is the line.
                let mut v = Vec::new();
                let mut rest = l.as_str();
                while let Some(r) = rest.strip_prefix("> ") {
                    v.push(OwnedFrameEvent::Prompt);
                    rest = r;
                }
                if !rest.is_empty() {
                    v.push(OwnedFrameEvent::Line(rest.to_owned()));
                }
                v
            })
            .collect();
        prop_assert_eq!(one_push(crlf.as_bytes(), DEFAULT_MAX_LINE), want.clone());
        prop_assert_eq!(one_push(mixed.as_bytes(), DEFAULT_MAX_LINE), want);
    }

    #[test]
    fn overflow_is_reported_once_then_the_framer_resyncs(
        long in prop::collection::vec(b' '..=b'~', 65..400),
        split in 1usize..64,
        after in prop::collection::vec(modem_line(), 1..5),
        end in line_end(),
    ) {
        // A line that starts with `> ` is the prompt followed by a shorter line (see the framer's
        // module doc), not an over-long line.
        prop_assume!(!long.starts_with(b"> "));
        let max = 64;
        let mut bytes = b"OK\r\n".to_vec();
        bytes.extend_from_slice(&long);
        bytes.extend_from_slice(end.as_bytes());
        let tail: Vec<&String> = after.iter().filter(|l| l.len() <= max && !l.starts_with("> ") && !l.chars().any(|c| c.is_ascii_control())).collect();
        for l in &tail {
            bytes.extend_from_slice(l.as_bytes());
            bytes.extend_from_slice(b"\r\n");
        }
        let mut want = vec![
            OwnedFrameEvent::Line("OK".into()),
            OwnedFrameEvent::Overflow { discarded: long.len() },
        ];
        want.extend(tail.iter().map(|l| OwnedFrameEvent::Line((*l).clone())));
        prop_assert_eq!(&one_push(&bytes, max), &want);
        prop_assert_eq!(&chunked(&bytes, &[split], max), &want);
    }
}
