//! `nom` parsers that turn one framed line from the modem into a [`Message`].
//!
//! [`parse_line`] never fails and never panics: a line that matches no known grammar becomes
//! [`Message::Unknown`] with the line verbatim. It first dispatches cheaply on the first bytes of
//! the line (`+NAME`, `OK`, `ERROR`, `AT…`, `UE…`, `LR…`, digits, `>`) and only then runs the
//! `nom` grammar of that one message, so an average line costs one short grammar run plus the
//! owned strings of the result.
//!
//! Leniency, everywhere: surrounding spaces/TABs of the line are ignored; spaces around commas
//! are allowed; numbers may be bare or quoted (`100` or `"100"`), strings quoted or bare; unknown
//! `+SQNFOTA` numbers and keywords are kept. Strictness: a known prefix whose arguments do not
//! fit its grammar (or carry trailing text) is `Unknown`, never half-parsed.
//!
//! Forms and choices worth knowing:
//! - `+SQNDMCFG` read lines are accepted with `: ` (modem style) and with `=` (the note's §6.2
//!   notation). A `"psk"` line keeps at most the first 4 characters of the secret field, so a
//!   full secret can never reach a [`Message`] even if a firmware printed it.
//! - `+SQNFOTACFG:` with parentheses (or a bare number) is the test line
//!   ([`Message::FotaConfigRange`]); otherwise it is the 8-field read line (trailing fields may be
//!   empty or missing).
//! - `+CEREG:` is told apart by its field count (3GPP TS 27.007): the URC has 1, 4, 6 or 8 fields
//!   (`<stat>[,<tac>,<ci>,<AcT>[,<cause_type>,<reject_cause>[,<active>,<tau>]]]`), the read answer
//!   2, 5, 7 or 9 (`<n>,<stat>…`). Cause and timer fields are checked for shape but not kept.
//! - The modem sends `+SQNFOTA`; the note's OCR'd `+SONFOTA` is `Unknown`, so tests that decode the
//!   note's text normalise its OCR errors first.

use nom::branch::alt;
use nom::bytes::complete::tag;
use nom::combinator::{eof, map, opt, success, value, verify};
use nom::sequence::preceded;
use nom::{IResult, Parser};

use crate::message::{
    BootEvent, DmConfigLine, DmStatusLine, ErrorCode, FinalResult, FirmwareLine, FotaConfigLine,
    FotaKeyword, FotaNotification, Message, Registration, ServerRole,
};

/// Parser result with a zero-cost error: we only need to know whether a grammar matched.
type Res<'a, T> = IResult<&'a str, T, ()>;

/// Classifies and decodes one line (without its line end). Never panics; a line that matches
/// nothing is [`Message::Unknown`] with the line verbatim.
pub fn parse_line(line: &str) -> Message {
    match parse_known(line) {
        Some(m) => m,
        None => Message::Unknown {
            raw: line.to_owned(),
        },
    }
}

/// The message for a line of a known form, `None` otherwise.
fn parse_known(line: &str) -> Option<Message> {
    let t = line.trim_ascii();
    let b = t.as_bytes();
    match *b.first()? {
        b'+' => parse_plus(t),
        b'O' if t == "OK" => Some(Message::Final(FinalResult::Ok)),
        b'E' if t == "ERROR" => Some(Message::Final(FinalResult::Error)),
        b'A' | b'a' if b.len() >= 2 && b[1].eq_ignore_ascii_case(&b'T') => {
            Some(Message::Command { text: t.to_owned() })
        }
        b'U' => run(preceded(tag("UE"), version), t)
            .map(|v| Message::Firmware(FirmwareLine::Ue(v.to_owned()))),
        b'L' => run(preceded(tag("LR"), version), t)
            .map(|v| Message::Firmware(FirmwareLine::Lr(v.to_owned()))),
        b'0'..=b'9' if b.len() == 15 && b.iter().all(u8::is_ascii_digit) => {
            Some(Message::Imei { imei: t.to_owned() })
        }
        b'>' if t == ">" => Some(Message::Prompt),
        b'^' => crash(t),
        _ => None,
    }
}

/// Runs `p` over the whole of `input`; `None` unless it matches and consumes everything.
#[inline]
fn run<'a, O>(mut p: impl Parser<&'a str, Output = O, Error = ()>, input: &'a str) -> Option<O> {
    match p.parse(input) {
        Ok(("", o)) => Some(o),
        _ => None,
    }
}

/// A line starting with `+`: dispatch on the name, then run that message's grammar.
fn parse_plus(t: &str) -> Option<Message> {
    let body = t.get(1..)?;
    let name_len = body
        .bytes()
        .position(|c| !(c.is_ascii_uppercase() || c.is_ascii_digit()))
        .unwrap_or(body.len());
    let (name, rest) = body.split_at_checked(name_len)?;
    match name {
        "CME" => final_error(rest).map(|c| Message::Final(FinalResult::CmeError(c))),
        "CMS" => final_error(rest).map(|c| Message::Final(FinalResult::CmsError(c))),
        "SYSSTART" if rest.is_empty() => Some(Message::Boot {
            event: BootEvent::Sysstart,
        }),
        "SHUTDOWN" if rest.is_empty() => Some(Message::Boot {
            event: BootEvent::Shutdown,
        }),
        "SQNFOTA" => fota(args(rest)?),
        "SQNDMST" => run(dm_status, args(rest)?).map(Message::DmStatus),
        "SQNDMCFG" => {
            let a = args(rest).or_else(|| Some(rest.strip_prefix('=')?.trim_ascii_start()))?;
            run(dm_config, a).map(Message::DmConfig)
        }
        "SQNFOTACFG" => fota_config(args(rest)?),
        "SQNCTM" => run(alt((quoted, token)), args(rest)?)
            .map(|m| Message::OperatorMode { mode: m.to_owned() }),
        "SQNAUTOCONNECT" => run(num_u8, args(rest)?).map(|n| Message::AutoConnect { enabled: n }),
        "CFUN" => run(num_u8, args(rest)?).map(|n| Message::Cfun { level: n }),
        "CMEE" => run(num_u8, args(rest)?).map(|n| Message::Cmee { mode: n }),
        "CEREG" => registration(args(rest)?).map(Message::Registration),
        "SQNSUPGRADE" => Some(Message::Upgrade {
            raw: args(rest)?.to_owned(),
        }),
        _ => None,
    }
}

/// `^EXIT: <file>@<line>` or `^EXIT: exception: …` (a crash report; the module restarts).
fn crash(t: &str) -> Option<Message> {
    let rest = t.strip_prefix("^EXIT")?.trim_ascii_start();
    let report = rest.strip_prefix(':')?.trim_ascii();
    if report.is_empty() {
        return None;
    }
    Some(Message::Crash {
        report: report.to_owned(),
    })
}

/// The arguments after `:` (and any spaces).
#[inline]
fn args(rest: &str) -> Option<&str> {
    Some(rest.strip_prefix(':')?.trim_ascii_start())
}

/// The code of `+CME ERROR: <n>` / `+CMS ERROR: <n>` (`rest` starts after `+CME`).
fn final_error(rest: &str) -> Option<ErrorCode> {
    let code = args(rest.strip_prefix(" ERROR")?)?;
    if code.is_empty() {
        return None;
    }
    Some(match run(dec_u32, code) {
        Some(n) => ErrorCode::Number(n),
        None => ErrorCode::Text(code.to_owned()),
    })
}

// ----- building blocks ---------------------------------------------------------------------
//
// The leaves are small hand-written `nom` parsers over bytes (the modem's lines are ASCII), so
// that the common lines cost a few byte comparisons; the grammars compose them with `nom`.

/// The `nom` error of this module: no details, only "did not match".
#[inline]
fn fail<T>() -> Res<'static, T> {
    Err(nom::Err::Error(()))
}

/// A field separator: a comma, optionally surrounded by spaces/TABs.
#[inline]
fn comma(i: &str) -> Res<'_, ()> {
    let b = i.as_bytes();
    let blank = |c: &u8| *c == b' ' || *c == b'\t';
    let k = b.iter().position(|c| !blank(c)).unwrap_or(b.len());
    if b.get(k) != Some(&b',') {
        return fail();
    }
    let k = k
        + 1
        + b[k + 1..]
            .iter()
            .position(|c| !blank(c))
            .unwrap_or(b.len() - k - 1);
    match i.get(k..) {
        Some(rest) => Ok((rest, ())),
        None => fail(),
    }
}

/// A double-quoted string (no escapes: the modem has none), without its quotes.
#[inline]
fn quoted(i: &str) -> Res<'_, &str> {
    let Some(body) = i.strip_prefix('"') else {
        return fail();
    };
    let end = body.bytes().position(|c| c == b'"');
    match end.and_then(|e| Some((body.get(e + 1..)?, body.get(..e)?))) {
        Some(parts) => Ok(parts),
        None => fail(),
    }
}

/// An unquoted field: everything up to the next comma or quote (possibly empty), without
/// trailing spaces.
#[inline]
fn bare(i: &str) -> Res<'_, &str> {
    let end = i
        .bytes()
        .position(|c| c == b',' || c == b'"')
        .unwrap_or(i.len());
    match (i.get(..end), i.get(end..)) {
        (Some(field), Some(rest)) => Ok((rest, field.trim_ascii_end())),
        _ => fail(),
    }
}

/// A string field, quoted or bare.
#[inline]
fn text(i: &str) -> Res<'_, &str> {
    if i.starts_with('"') {
        quoted(i)
    } else {
        bare(i)
    }
}

/// An unsigned decimal number (no sign), checked for overflow.
#[inline]
fn dec_u32(i: &str) -> Res<'_, u32> {
    let b = i.as_bytes();
    let n = b
        .iter()
        .position(|c| !c.is_ascii_digit())
        .unwrap_or(b.len());
    if n == 0 {
        return fail();
    }
    let mut v: u32 = 0;
    for &c in &b[..n] {
        match v
            .checked_mul(10)
            .and_then(|v| v.checked_add(u32::from(c - b'0')))
        {
            Some(x) => v = x,
            None => return fail(),
        }
    }
    Ok((&i[n..], v))
}

/// A decimal number that fits a `u8`.
#[inline]
fn dec_u8(i: &str) -> Res<'_, u8> {
    let (rest, v) = dec_u32(i)?;
    match u8::try_from(v) {
        Ok(v) => Ok((rest, v)),
        Err(_) => fail(),
    }
}

/// A signed decimal number (`-1`).
#[inline]
fn dec_i64(i: &str) -> Res<'_, i64> {
    let (neg, digits) = match i.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, i),
    };
    let b = digits.as_bytes();
    let n = b
        .iter()
        .position(|c| !c.is_ascii_digit())
        .unwrap_or(b.len());
    if n == 0 {
        return fail();
    }
    let mut v: i64 = 0;
    for &c in &b[..n] {
        let d = i64::from(c - b'0');
        let next = v.checked_mul(10).and_then(|v| {
            if neg {
                v.checked_sub(d)
            } else {
                v.checked_add(d)
            }
        });
        match next {
            Some(x) => v = x,
            None => return fail(),
        }
    }
    Ok((&digits[n..], v))
}

/// `p`, optionally inside double quotes.
#[inline]
fn maybe_quoted<'a, O>(p: fn(&'a str) -> Res<'a, O>, i: &'a str) -> Res<'a, O> {
    match i.strip_prefix('"') {
        Some(inner) => {
            let (rest, v) = p(inner)?;
            match rest.strip_prefix('"') {
                Some(rest) => Ok((rest, v)),
                None => fail(),
            }
        }
        None => p(i),
    }
}

fn num_u8(i: &str) -> Res<'_, u8> {
    maybe_quoted(dec_u8, i)
}

fn num_u32(i: &str) -> Res<'_, u32> {
    maybe_quoted(dec_u32, i)
}

fn num_i64(i: &str) -> Res<'_, i64> {
    maybe_quoted(dec_i64, i)
}

/// A numeric field that may be empty (`,,` or `""`): `None` then. (Anything else that is not
/// a number is left for the next parser, which then fails on it.)
#[inline]
fn optional<'a, O>(p: fn(&'a str) -> Res<'a, O>, i: &'a str) -> Res<'a, Option<O>> {
    if let Some(rest) = i.strip_prefix("\"\"") {
        return Ok((rest, None));
    }
    match p(i) {
        Ok((rest, v)) => Ok((rest, Some(v))),
        Err(_) => Ok((i, None)),
    }
}

fn opt_u32(i: &str) -> Res<'_, Option<u32>> {
    optional(num_u32, i)
}

fn opt_u8(i: &str) -> Res<'_, Option<u8>> {
    optional(num_u8, i)
}

/// `bs` or `dm`, quoted or bare.
fn role(i: &str) -> Res<'_, ServerRole> {
    let (rest, r) = text(i)?;
    match r {
        "bs" => Ok((rest, ServerRole::Bs)),
        "dm" => Ok((rest, ServerRole::Dm)),
        _ => fail(),
    }
}

/// A bare word: letters, digits, `_`, `-`, `.`.
#[inline]
fn token(i: &str) -> Res<'_, &str> {
    let end = i
        .bytes()
        .position(|c| !(c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.')))
        .unwrap_or(i.len());
    match (end, i.get(..end), i.get(end..)) {
        (1.., Some(word), Some(rest)) => Ok((rest, word)),
        _ => fail(),
    }
}

/// A version after `UE`/`LR`: starts with a digit; letters, digits, `.`, `-`, `_`.
fn version(i: &str) -> Res<'_, &str> {
    verify(token, |v: &str| {
        v.as_bytes().first().is_some_and(u8::is_ascii_digit)
    })
    .parse(i)
}

// ----- +SQNFOTA ----------------------------------------------------------------------------

/// `<state>[,<cause>[,<progress>]]` or `"<keyword>"[,"<version>"]`.
fn fota(a: &str) -> Option<Message> {
    let numeric = (
        num_u32,
        opt(preceded(comma, num_u32)),
        opt(preceded(comma, num_u32)),
    );
    if let Some((state, cause, progress)) = run(numeric, a) {
        return Some(Message::Fota(FotaNotification {
            state: Some(state),
            cause,
            progress,
            ..FotaNotification::default()
        }));
    }
    let keyword = verify(alt((quoted, token)), |k: &str| {
        k.as_bytes().first().is_some_and(u8::is_ascii_alphabetic)
    });
    let (event, version) = run((keyword, opt(preceded(comma, text))), a)?;
    let event = match event {
        "available" => FotaKeyword::Available,
        "downloaded" => FotaKeyword::Downloaded,
        "install" => FotaKeyword::Install,
        "installed" => FotaKeyword::Installed,
        other => FotaKeyword::Other(other.to_owned()),
    };
    Some(Message::Fota(FotaNotification {
        event: Some(event),
        version: version.map(str::to_owned),
        ..FotaNotification::default()
    }))
}

// ----- +SQNDMST ----------------------------------------------------------------------------

/// `"bs",<id>,"<status>",<hold_off>,<bs_update_in>` / `"dm",<id>,"<status>",<lifetime>,<update_in>`.
fn dm_status(i: &str) -> Res<'_, DmStatusLine> {
    map(
        (
            role, comma, num_u32, comma, text, comma, num_i64, comma, num_i64,
        ),
        |(role, _, server_id, _, status, _, timer, _, update_in)| DmStatusLine {
            role,
            server_id,
            status: status.to_owned(),
            timer,
            update_in,
        },
    )
    .parse(i)
}

// ----- +SQNDMCFG ---------------------------------------------------------------------------

/// `<prof>,"service",<autostart>` / `<prof>,"server",<id>,<lifetime>,<url>[,<cid>[,<type>]]` /
/// `<prof>,"psk",<id>,<identity>,<secret prefix>`.
fn dm_config(i: &str) -> Res<'_, DmConfigLine> {
    let (i, (profile, _, group)) = (text, comma, text).parse(i)?;
    match group {
        "service" => map(preceded(comma, num_u8), |autostart| DmConfigLine::Service {
            profile: profile.to_owned(),
            autostart,
        })
        .parse(i),
        "server" => map(
            (
                preceded(comma, num_u32),
                preceded(comma, opt_u32),
                preceded(comma, text),
                opt(preceded(comma, opt_u8)),
                opt(preceded(
                    comma,
                    alt((map(role, Some), value(None, tag("\"\"")), success(None))),
                )),
            ),
            |(server_id, lifetime, url, cid, server_type)| DmConfigLine::Server {
                profile: profile.to_owned(),
                server_id,
                lifetime,
                url: url.to_owned(),
                cid: cid.flatten(),
                server_type: server_type.flatten().unwrap_or(ServerRole::Dm),
            },
        )
        .parse(i),
        "psk" => map(
            (
                preceded(comma, num_u32),
                preceded(comma, text),
                preceded(comma, text),
            ),
            |(server_id, identity, secret)| DmConfigLine::Psk {
                profile: profile.to_owned(),
                server_id,
                identity: identity.to_owned(),
                secret_prefix: secret.chars().take(4).collect(),
            },
        )
        .parse(i),
        _ => Err(nom::Err::Error(())),
    }
}

// ----- +SQNFOTACFG -------------------------------------------------------------------------

/// The test line (`32,(0,1),…`) or the read line
/// `<prof>,<mode>,<report_state>,<report_download>,<timer_req>,<timer_act>,<dl_to>,<cert>`.
fn fota_config(a: &str) -> Option<Message> {
    if a.contains('(') || (!a.is_empty() && a.bytes().all(|c| c.is_ascii_digit())) {
        return Some(Message::FotaConfigRange {
            ranges: a.to_owned(),
        });
    }
    let tail = || opt(preceded(comma, opt_u32));
    let line = (
        (text, comma, num_u8, comma, num_u8, comma, num_u8),
        (tail(), tail(), tail(), tail()),
    );
    let ((profile, _, mode, _, report_state, _, report_download), (t_req, t_act, dl_to, cert)) =
        run(line, a)?;
    Some(Message::FotaConfig(FotaConfigLine {
        profile: profile.to_owned(),
        mode,
        report_state,
        report_download,
        timer_requested: t_req.flatten(),
        timer_actual: t_act.flatten(),
        download_timeout: dl_to.flatten(),
        certificate: cert.flatten(),
    }))
}

// ----- +CEREG ------------------------------------------------------------------------------

/// The most fields a `+CEREG` line has (read form with cause and PSM timers).
const MAX_CEREG_FIELDS: usize = 9;

/// Splits `a` into at most `N` fields with `nom`, without allocating.
fn split_fields<const N: usize>(a: &str) -> Option<([&str; N], usize)> {
    let mut out = [""; N];
    let mut n = 0;
    let mut i = a;
    loop {
        if n == N {
            return None;
        }
        let (rest, f) = text(i).ok()?;
        out[n] = f;
        n += 1;
        if eof::<_, ()>(rest).is_ok() {
            return Some((out, n));
        }
        let (rest, ()) = comma(rest).ok()?;
        i = rest;
    }
}

/// A hex string field (TAC, cell id); empty means absent.
fn hex_field(f: &str) -> Option<Option<String>> {
    if f.is_empty() {
        return Some(None);
    }
    f.bytes()
        .all(|c| c.is_ascii_hexdigit())
        .then(|| Some(f.to_owned()))
}

/// A number field that may be empty.
fn opt_num_field(f: &str) -> Option<Option<u8>> {
    if f.is_empty() {
        Some(None)
    } else {
        run(dec_u8, f).map(Some)
    }
}

/// `+CEREG`: URC `<stat>[,<tac>,<ci>,<AcT>[,…]]` or read `<n>,<stat>[,<tac>,<ci>,<AcT>[,…]]`.
fn registration(a: &str) -> Option<Registration> {
    let (f, count) = split_fields::<MAX_CEREG_FIELDS>(a)?;
    let num = |s: &str| run(num_u8, s);
    let (n, rest) = match count {
        1 | 4 | 6 | 8 => (None, &f[..count]),
        2 | 5 | 7 | 9 => (Some(num(f[0])?), &f[1..count]),
        _ => return None,
    };
    // Cause/timer fields: numbers or empty, or a quoted bit string (PSM timers).
    for extra in rest.iter().skip(4) {
        if !extra.bytes().all(|c| c.is_ascii_alphanumeric()) {
            return None;
        }
    }
    let stat = num(rest[0])?;
    let (tac, cell_id, act) = if rest.len() >= 4 {
        (
            hex_field(rest[1])?,
            hex_field(rest[2])?,
            opt_num_field(rest[3])?,
        )
    } else {
        (None, None, None)
    };
    Some(Registration {
        n,
        stat,
        tac,
        cell_id,
        act,
    })
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    fn unknown(s: &str) -> Message {
        Message::Unknown { raw: s.to_owned() }
    }

    #[test]
    fn crash_reports() {
        assert_eq!(
            parse_line("^EXIT: lte_main.c@1102"),
            Message::Crash {
                report: "lte_main.c@1102".into()
            }
        );
        assert_eq!(
            parse_line("^EXIT: exception: data abort at 0x0004f2a8"),
            Message::Crash {
                report: "exception: data abort at 0x0004f2a8".into()
            }
        );
        assert_eq!(parse_line("^EXIT:"), unknown("^EXIT:"));
        assert_eq!(parse_line("^EXITED: x"), unknown("^EXITED: x"));
        assert_eq!(parse_line("^RESET"), unknown("^RESET"));
        assert!(parse_line("^EXIT: x").is_always_unsolicited());
    }

    #[test]
    fn finals() {
        assert_eq!(parse_line("OK"), Message::Final(FinalResult::Ok));
        assert_eq!(parse_line(" OK "), Message::Final(FinalResult::Ok));
        assert_eq!(parse_line("ERROR"), Message::Final(FinalResult::Error));
        assert_eq!(
            parse_line("+CME ERROR: 4"),
            Message::Final(FinalResult::CmeError(ErrorCode::Number(4)))
        );
        assert_eq!(
            parse_line("+CME ERROR: operation not supported"),
            Message::Final(FinalResult::CmeError(ErrorCode::Text(
                "operation not supported".into()
            )))
        );
        assert_eq!(
            parse_line("+CMS ERROR: 500"),
            Message::Final(FinalResult::CmsError(ErrorCode::Number(500)))
        );
        assert_eq!(
            parse_line("+CME ERROR: 99999999999"),
            Message::Final(FinalResult::CmeError(ErrorCode::Text("99999999999".into())))
        );
        assert_eq!(parse_line("+CME ERROR:"), unknown("+CME ERROR:"));
        assert_eq!(parse_line("+CME ERRORS: 4"), unknown("+CME ERRORS: 4"));
        assert_eq!(parse_line("OKAY"), unknown("OKAY"));
    }

    #[test]
    fn fota_rejects_shapes_it_cannot_hold() {
        for l in [
            "+SQNFOTA: 5,3,10,1",
            "+SQNFOTA: 5,x",
            "+SQNFOTA:",
            "+SQNFOTA: -1",
            "+SQNFOTA: 5 // comment",
        ] {
            assert_eq!(parse_line(l), unknown(l), "{l}");
        }
    }

    #[test]
    fn psk_secret_is_cut_to_four_characters() {
        match parse_line(r#"+SQNDMCFG: "standard","psk",100,"urn:imei:1","87493467538357""#) {
            Message::DmConfig(DmConfigLine::Psk { secret_prefix, .. }) => {
                assert_eq!(secret_prefix, "8749")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn cereg_field_counts() {
        assert_eq!(parse_line("+CEREG: 1,2,3"), unknown("+CEREG: 1,2,3"));
        let ten = "+CEREG: 1,1,1,1,1,1,1,1,1,1";
        assert_eq!(parse_line(ten), unknown(ten));
        match parse_line(r#"+CEREG: 5,"0002","01A2D002",7,0,11"#) {
            Message::Registration(r) => {
                assert_eq!((r.n, r.stat, r.act), (None, 5, Some(7)));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn non_ascii_never_panics() {
        for l in [
            "+",
            "+é",
            "Aé",
            "Ué",
            "LRé",
            "+SQNFOTA: \"é\"",
            "é",
            ">é",
            "+CEREG: é",
        ] {
            let _ = parse_line(l);
        }
    }
}
