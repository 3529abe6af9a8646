//! No input makes the simulator panic or spin: random bytes, random command lines with random
//! arguments, in every mode, with time running.
#![cfg(not(target_arch = "wasm32"))]

use std::time::Duration;

use proptest::prelude::*;
use ryz014_sim::{Fault, Modem, SimConfig};

const NAMES: &[&str] = &[
    "",
    "E",
    "I",
    "Z",
    "+CGSN",
    "+CGMR",
    "+CMEE",
    "+SQNCTM",
    "+SQNAUTOCONNECT",
    "+CFUN",
    "+CEREG",
    "^RESET",
    "+SQNDMCFG",
    "+SQNDMST",
    "+SQNFOTACFG",
    "+SQNFACTORYSAVE",
    "+SQNSFACTORYRESET",
    "+SQNSUPGRADE",
    "+SQNSSHDN",
    "+XYZ",
];

fn arg() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        (0u64..70_000_000).prop_map(|n| n.to_string()),
        "[a-z0-9:/._-]{0,12}".prop_map(|s| format!("\"{s}\"")),
        prop::sample::select(vec![
            "\"standard\"",
            "\"service\"",
            "\"server\"",
            "\"psk\"",
            "\"delete-profile-config\"",
            "\"bs\"",
            "\"dm\"",
            "\"8749346753835\"",
            "\"\"",
            "\"é\"",
            "\"unterminated",
        ])
        .prop_map(str::to_string),
    ]
}

fn line() -> impl Strategy<Value = String> {
    (
        prop::sample::select(NAMES.to_vec()),
        prop::sample::select(vec!["", "?", "=?", "="]),
        prop::collection::vec(arg(), 0..8),
    )
        .prop_map(|(name, form, args)| {
            if form == "=" {
                format!("AT{name}={}", args.join(","))
            } else {
                format!("AT{name}{form}")
            }
        })
}

fn modem() -> Modem {
    let faults = [
        "urc-between-lines=10",
        "garbage=2",
        "power-loss-download=10",
    ]
    .iter()
    .map(|f| f.parse::<Fault>().unwrap())
    .collect();
    let mut cfg = SimConfig {
        autoconnect: true,
        faults,
        ..SimConfig::default()
    };
    cfg.server.trust_any = true;
    Modem::new(cfg).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, .. ProptestConfig::default() })]

    #[test]
    fn random_commands_never_panic(lines in prop::collection::vec((line(), 0u64..120_000), 1..40)) {
        let mut m = modem();
        // Manufacturing mode first, so that writes get through some of the time.
        m.receive(Duration::ZERO, b"AT+CFUN=5\r");
        let mut now = Duration::ZERO;
        for (l, gap_ms) in lines {
            now += Duration::from_millis(gap_ms);
            m.receive(now, format!("{l}\r").as_bytes());
            m.advance(now);
            let _ = m.take_output();
        }
        // Let an hour pass in steps: whatever was started runs to its end.
        for _ in 0..3600 {
            match m.next_deadline() {
                Some(t) if t <= now + Duration::from_secs(3600) => {
                    m.advance(t);
                    let _ = m.take_output();
                }
                _ => break,
            }
        }
        let _ = m.snapshot();
    }

    #[test]
    fn random_bytes_never_panic(chunks in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..64), 1..20)) {
        let mut m = modem();
        let mut now = Duration::ZERO;
        for c in chunks {
            now += Duration::from_millis(500);
            m.receive(now, &c);
            let _ = m.take_output();
        }
    }
}

#[test]
fn a_zero_lifetime_does_not_spin() {
    let mut cfg = SimConfig {
        autoconnect: true,
        echo: false,
        ..SimConfig::default()
    };
    cfg.server.trust_any = true;
    cfg.server.dm_servers[0].lifetime = 0;
    let mut m = Modem::new(cfg).unwrap();
    for l in [
        "AT+CFUN=5",
        r#"AT+SQNDMCFG="p","service",1"#,
        r#"AT+SQNDMCFG="p","server",100,0,"coaps://bs",,"bs""#,
        r#"AT+SQNDMCFG="p","server",7,0,"coaps://dm""#,
        r#"AT+SQNDMCFG="p","psk",100,"id","0011""#,
        "AT+CFUN=1,1",
    ] {
        m.receive(m.now(), format!("{l}\r").as_bytes());
    }
    m.advance(Duration::from_secs(3600));
    m.take_output();
    m.receive(m.now(), b"AT+SQNDMST\r");
    let out = String::from_utf8(m.take_output()).unwrap();
    assert!(out.contains(r#""dm",101,"REGISTERED",86400,"#), "{out}");
}
