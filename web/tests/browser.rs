//! Browser tests (wasm-bindgen-test in headless Chromium): the page renders with the controls
//! the end-to-end tests name, the form validates inline, the Web Serial adapter moves bytes both
//! ways over a fake port made of real `ReadableStream`/`WritableStream`s (also under the core's
//! client) and reports an unplug mid-command as fatal, and the simulated modem answers in real
//! time.
#![cfg(target_arch = "wasm32")]

use std::time::Duration;

use futures::io::{AsyncReadExt, AsyncWriteExt};
use ryz014_core::client::{Client, ClientError};
use ryz014_core::command::Command;
use ryz014_core::session;
use ryz014_core::timer::FuturesTimer;
use ryz014_web::serial::{StreamReader, StreamWriter};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{HtmlElement, HtmlInputElement};

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen(inline_js = r#"
export function fake_port(imei) {
  const enc = new TextEncoder();
  const dec = new TextDecoder();
  const written = [];
  let controller;
  let answer = true;
  const readable = new ReadableStream({ start(c) { controller = c; } });
  const send = (text) => {
    const bytes = enc.encode(text);
    // Split the answer into small chunks, as a UART would.
    for (let i = 0; i < bytes.length; i += 3) controller.enqueue(bytes.slice(i, i + 3));
  };
  let pending = '';
  const writable = new WritableStream({
    write(chunk) {
      for (const b of chunk) written.push(b);
      pending += dec.decode(chunk);
      let i;
      while ((i = pending.indexOf('\r')) >= 0) {
        const line = pending.slice(0, i);
        pending = pending.slice(i + 1);
        if (!answer) continue;
        if (line === 'AT') send('\r\nOK\r\n');
        else if (line === 'AT+CGSN') send(`\r\n${imei}\r\n\r\nOK\r\n`);
        else send('\r\nERROR\r\n');
      }
    },
  });
  return {
    readable,
    writable,
    written: () => Uint8Array.from(written),
    push: (text) => send(text),
    mute: () => { answer = false; },
    unplug: () => controller.error(new DOMException('The device has been lost.', 'NetworkError')),
    end: () => controller.close(),
  };
}
"#)]
extern "C" {
    type FakePort;
    fn fake_port(imei: &str) -> FakePort;
    #[wasm_bindgen(method, getter)]
    fn readable(this: &FakePort) -> web_sys::ReadableStream;
    #[wasm_bindgen(method, getter)]
    fn writable(this: &FakePort) -> web_sys::WritableStream;
    #[wasm_bindgen(method)]
    fn written(this: &FakePort) -> js_sys::Uint8Array;
    #[wasm_bindgen(method)]
    fn push(this: &FakePort, text: &str);
    #[wasm_bindgen(method)]
    fn mute(this: &FakePort);
    #[wasm_bindgen(method)]
    fn unplug(this: &FakePort);
    #[wasm_bindgen(method)]
    fn end(this: &FakePort);
}

/// A 15-digit IMEI with a valid Luhn check digit.
const IMEI: &str = "353760102345677";

fn halves(port: &FakePort) -> (StreamReader, StreamWriter) {
    (
        StreamReader::new(&port.readable()).unwrap(),
        StreamWriter::new(&port.writable()).unwrap(),
    )
}

async fn sleep_ms(ms: u64) {
    futures_timer::Delay::new(Duration::from_millis(ms)).await;
}

#[wasm_bindgen_test]
async fn the_adapter_moves_bytes_both_ways() {
    let port = fake_port(IMEI);
    let (mut r, mut w) = halves(&port);
    w.write_all(b"AT+CGSN\r").await.unwrap();
    w.flush().await.unwrap();
    assert_eq!(port.written().to_vec(), b"AT+CGSN\r".to_vec());
    let want = format!("\r\n{IMEI}\r\n\r\nOK\r\n");
    let mut got = vec![0u8; want.len()];
    r.read_exact(&mut got).await.unwrap();
    assert_eq!(String::from_utf8(got).unwrap(), want);
    // Arbitrary bytes (not only text) go through unchanged.
    w.write_all(&[0x00, 0xff, 0x1a]).await.unwrap();
    assert_eq!(&port.written().to_vec()[8..], &[0x00, 0xff, 0x1a]);
}

#[wasm_bindgen_test]
async fn the_end_of_the_stream_is_the_end_of_input() {
    let port = fake_port(IMEI);
    let (mut r, _w) = halves(&port);
    port.push("+SYSSTART\r\n");
    port.end();
    let mut all = Vec::new();
    r.read_to_end(&mut all).await.unwrap();
    assert_eq!(all, b"+SYSSTART\r\n".to_vec());
}

#[wasm_bindgen_test]
async fn the_core_client_runs_over_the_adapter() {
    let port = fake_port(IMEI);
    let (r, w) = halves(&port);
    let mut client = Client::new(r, w, FuturesTimer);
    client.sync(2, Duration::from_secs(1)).await.unwrap();
    let imei = session::read_imei(&mut client).await.unwrap();
    assert_eq!(imei.as_str(), IMEI);
    let text = String::from_utf8(port.written().to_vec()).unwrap();
    assert!(text.ends_with("AT+CGSN\r"), "{text:?}");
}

#[wasm_bindgen_test]
async fn an_unplug_mid_command_is_fatal_not_a_timeout() {
    let port = fake_port(IMEI);
    let (r, w) = halves(&port);
    let mut client = Client::new(r, w, FuturesTimer);
    client.sync(2, Duration::from_secs(1)).await.unwrap();
    port.mute();
    let unplug = async {
        sleep_ms(50).await;
        port.unplug();
    };
    let cmd = client.execute_with_timeout(&Command::Ati1, Duration::from_secs(30));
    let (result, ()) = futures::join!(cmd, unplug);
    let err = result.unwrap_err();
    assert!(err.is_fatal(), "{err}");
    assert!(matches!(err, ClientError::Io(_)), "{err}");
    // The command was written before the cable went.
    let text = String::from_utf8(port.written().to_vec()).unwrap();
    assert!(text.ends_with("ATI1\r"), "{text:?}");
}

#[wasm_bindgen_test]
async fn the_simulated_modem_answers_in_real_time() {
    let clock: ryz014_sim::paced::RealClock = std::rc::Rc::new(|| {
        let ms = web_sys::window().unwrap().performance().unwrap().now();
        Duration::from_secs_f64(ms / 1000.0)
    });
    let (port, ctl) = ryz014_sim::paced::new(
        ryz014_sim::SimConfig::default(),
        clock,
        std::rc::Rc::new(FuturesTimer),
        50.0,
    )
    .unwrap();
    let mut client = Client::new(port.clone(), port, FuturesTimer);
    client.sync(3, Duration::from_secs(2)).await.unwrap();
    let imei = session::read_imei(&mut client).await.unwrap();
    assert_eq!(imei.as_str(), "015770000031766");
    // A reboot: +SYSSTART arrives after the simulated boot time (3 s virtual, 60 ms real at 50×).
    client.execute(&Command::Reset).await.unwrap();
    client
        .wait_for_sysstart(Duration::from_secs(5))
        .await
        .unwrap();
    assert!(ctl.now() >= Duration::from_secs(3));
}

// ------------------------------------------------------------------------------------------
// The page

fn document() -> web_sys::Document {
    web_sys::window().unwrap().document().unwrap()
}

async fn mount() -> web_sys::Element {
    let root = document().create_element("div").unwrap();
    document().body().unwrap().append_child(&root).unwrap();
    yew::Renderer::<ryz014_web::app::App>::with_root(root.clone()).render();
    sleep_ms(30).await;
    root
}

fn buttons(root: &web_sys::Element) -> Vec<String> {
    let list = root.query_selector_all("button").unwrap();
    (0..list.length())
        .filter_map(|i| list.item(i))
        .map(|n| n.text_content().unwrap_or_default())
        .collect()
}

/// The input labelled `label` (through `<label for>`).
fn input_by_label(root: &web_sys::Element, label: &str) -> HtmlInputElement {
    let labels = root.query_selector_all("label").unwrap();
    for i in 0..labels.length() {
        let l: web_sys::Element = labels.item(i).unwrap().unchecked_into();
        if l.text_content().as_deref() == Some(label) {
            let id = l.get_attribute("for").unwrap();
            return document().get_element_by_id(&id).unwrap().unchecked_into();
        }
    }
    panic!("no input labelled {label}");
}

#[wasm_bindgen_test]
async fn the_page_renders_the_named_controls() {
    let root = mount().await;
    let names = buttons(&root);
    for want in [
        "Connect modem",
        "Use simulated modem",
        "Generate key",
        "Review plan",
        "Provision",
    ] {
        assert!(
            names.iter().any(|n| n == want),
            "{want} missing from {names:?}"
        );
    }
    for label in [
        "Bootstrap server URI",
        "Server ID",
        "Hold-off (s)",
        "PSK identity",
    ] {
        let input = input_by_label(&root, label);
        assert!(!input.value().is_empty(), "{label} has no default");
    }
    let bar = root.query_selector("[role=progressbar]").unwrap().unwrap();
    assert_eq!(bar.get_attribute("aria-valuenow").as_deref(), Some("0"));
    root.remove();
}

#[wasm_bindgen_test]
async fn the_form_names_the_allowed_range_inline() {
    let root = mount().await;
    let input = input_by_label(&root, "Server ID");
    input.set_value("70000");
    let init = web_sys::EventInit::new();
    init.set_bubbles(true);
    let ev = web_sys::Event::new_with_event_init_dict("input", &init).unwrap();
    input.dispatch_event(&ev).unwrap();
    sleep_ms(30).await;
    assert_eq!(input.get_attribute("aria-invalid").as_deref(), Some("true"));
    let err_id = input.get_attribute("aria-describedby").unwrap();
    let err: HtmlElement = document()
        .get_element_by_id(&err_id)
        .unwrap()
        .unchecked_into();
    let text = err.text_content().unwrap();
    assert!(text.contains("1..65535"), "{text}");
    assert!(text.contains("70000"), "{text}");
    // Back in range: the error goes.
    input.set_value("123");
    input.dispatch_event(&ev).unwrap();
    sleep_ms(30).await;
    assert_eq!(
        input.get_attribute("aria-invalid").as_deref(),
        Some("false")
    );
    root.remove();
}

#[wasm_bindgen_test]
async fn generate_key_fills_a_hidden_key() {
    let root = mount().await;
    let button: HtmlElement = {
        let list = root.query_selector_all("button").unwrap();
        (0..list.length())
            .filter_map(|i| list.item(i))
            .find(|n| n.text_content().as_deref() == Some("Generate key"))
            .unwrap()
            .unchecked_into()
    };
    button.click();
    sleep_ms(30).await;
    let key = input_by_label(&root, "PSK key (hex)");
    assert_eq!(key.type_(), "password");
    let hex = key.value();
    assert_eq!(hex.len(), 64);
    assert!(hex.chars().all(|c| c.is_ascii_hexdigit()));
    // Only the first 4 hex digits are shown as text.
    let text = root.text_content().unwrap();
    assert!(!text.contains(&hex));
    assert!(text.contains(&format!("{}…", &hex[..4])), "{text}");
    root.remove();
}

fn click_button(root: &web_sys::Element, name: &str) {
    let list = root.query_selector_all("button").unwrap();
    let b: HtmlElement = (0..list.length())
        .filter_map(|i| list.item(i))
        .find(|n| n.text_content().as_deref() == Some(name))
        .unwrap_or_else(|| panic!("no button {name}"))
        .unchecked_into();
    b.click();
}

/// Polls `probe` every 50 ms for up to `secs` seconds.
async fn until(secs: u64, mut probe: impl FnMut() -> bool) -> bool {
    for _ in 0..secs * 20 {
        if probe() {
            return true;
        }
        sleep_ms(50).await;
    }
    false
}

#[wasm_bindgen_test]
async fn the_simulated_modem_connects_reviews_a_plan_and_disconnects() {
    let root = mount().await;
    click_button(&root, "Use simulated modem");
    let text = || root.text_content().unwrap_or_default();
    assert!(
        until(20, || text().contains("015770000031766")).await,
        "{}",
        text()
    );
    assert!(buttons(&root).iter().any(|b| b == "Disconnect"));
    click_button(&root, "Generate key");
    sleep_ms(30).await;
    let key = input_by_label(&root, "PSK key (hex)").value();
    click_button(&root, "Review plan");
    assert!(until(5, || text().contains("AT^RESET")).await, "{}", text());
    let t = text();
    assert!(t.contains(r#"AT+SQNDMCFG="standard","server",100,"60","coaps://eu.iot.avsystem.cloud:5694","1","bs""#), "{t}");
    assert!(!t.contains(&key), "the plan shows the key");
    assert!(t.contains(&format!("\"{}…\"", &key[..4])), "{t}");
    click_button(&root, "Disconnect");
    assert!(
        until(5, || buttons(&root)
            .iter()
            .any(|b| b == "Use simulated modem"))
        .await,
        "{:?}",
        buttons(&root)
    );
    root.remove();
}
