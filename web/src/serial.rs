//! The Web Serial transport: a port's `ReadableStream`/`WritableStream` wrapped as
//! `futures::io::{AsyncRead, AsyncWrite}`, so the core's client drives a browser serial port
//! unchanged.
//!
//! The seam is the pair of JS streams: [`StreamReader::new`] and [`StreamWriter::new`] take any
//! `ReadableStream`/`WritableStream`, the ones of a `SerialPort` ([`open_port`]) or, in tests, a
//! fake port built from real JS streams. A stream error (the cable pulled out) or the stream's
//! end becomes an I/O error or the end of input, which the client reports as fatal.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use js_sys::{Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    ReadableStream, ReadableStreamDefaultReader, SerialOptions, SerialPort, WritableStream,
    WritableStreamDefaultWriter,
};

/// A readable text for a JS error value (an `Error`'s message, or the value as a string).
pub fn js_error_text(e: &JsValue) -> String {
    if let Some(err) = e.dyn_ref::<js_sys::Error>() {
        return String::from(err.message());
    }
    e.as_string().unwrap_or_else(|| format!("{e:?}"))
}

/// Awaits a promise without letting a rejection go unhandled.
fn settle_quietly(p: js_sys::Promise) {
    wasm_bindgen_futures::spawn_local(async move {
        let _ = JsFuture::from(p).await;
    });
}

/// The reading half: bytes from a `ReadableStream` of `Uint8Array` chunks.
pub struct StreamReader {
    reader: ReadableStreamDefaultReader,
    pending: Option<JsFuture>,
    chunk: Vec<u8>,
    pos: usize,
    ended: bool,
}

impl std::fmt::Debug for StreamReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamReader")
            .field("ended", &self.ended)
            .finish_non_exhaustive()
    }
}

impl StreamReader {
    /// Locks the stream for reading.
    pub fn new(stream: &ReadableStream) -> Result<StreamReader, String> {
        let reader = stream
            .get_reader()
            .dyn_into::<ReadableStreamDefaultReader>()
            .map_err(|e| format!("cannot read from the port: {}", js_error_text(&e)))?;
        Ok(StreamReader {
            reader,
            pending: None,
            chunk: Vec::new(),
            pos: 0,
            ended: false,
        })
    }
}

impl Drop for StreamReader {
    fn drop(&mut self) {
        // Cancel any read in flight and unlock the stream, so that the port can be closed.
        settle_quietly(self.reader.cancel());
        self.reader.release_lock();
    }
}

impl futures::io::AsyncRead for StreamReader {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        loop {
            if this.pos < this.chunk.len() {
                let n = buf.len().min(this.chunk.len() - this.pos);
                buf[..n].copy_from_slice(&this.chunk[this.pos..this.pos + n]);
                this.pos += n;
                return Poll::Ready(Ok(n));
            }
            if this.ended || buf.is_empty() {
                return Poll::Ready(Ok(0));
            }
            let reader = &this.reader;
            let fut = this
                .pending
                .get_or_insert_with(|| JsFuture::from(reader.read()));
            let result = match Pin::new(fut).poll(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(r) => r,
            };
            this.pending = None;
            let value = match result {
                Ok(v) => v,
                Err(e) => {
                    this.ended = true;
                    return Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::ConnectionAborted,
                        format!("the port failed: {}", js_error_text(&e)),
                    )));
                }
            };
            let done = Reflect::get(&value, &JsValue::from_str("done"))
                .ok()
                .and_then(|d| d.as_bool())
                .unwrap_or(true);
            if done {
                this.ended = true;
                return Poll::Ready(Ok(0));
            }
            let chunk = Reflect::get(&value, &JsValue::from_str("value")).unwrap_or_default();
            match chunk.dyn_into::<Uint8Array>() {
                Ok(bytes) => {
                    this.chunk = bytes.to_vec();
                    this.pos = 0;
                }
                Err(_) => {
                    this.ended = true;
                    return Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        "the port gave a chunk that is not bytes",
                    )));
                }
            }
        }
    }
}

/// The writing half: bytes to a `WritableStream` as `Uint8Array` chunks.
pub struct StreamWriter {
    writer: WritableStreamDefaultWriter,
    pending: Option<(JsFuture, usize)>,
    closing: Option<JsFuture>,
}

impl std::fmt::Debug for StreamWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamWriter").finish_non_exhaustive()
    }
}

impl StreamWriter {
    /// Locks the stream for writing.
    pub fn new(stream: &WritableStream) -> Result<StreamWriter, String> {
        let writer = stream
            .get_writer()
            .map_err(|e| format!("cannot write to the port: {}", js_error_text(&e)))?;
        Ok(StreamWriter {
            writer,
            pending: None,
            closing: None,
        })
    }

    fn poll_pending(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<Option<usize>>> {
        let Some((fut, n)) = self.pending.as_mut() else {
            return Poll::Ready(Ok(None));
        };
        let n = *n;
        match Pin::new(fut).poll(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(r) => {
                self.pending = None;
                Poll::Ready(r.map(|_| Some(n)).map_err(|e| {
                    io::Error::new(
                        io::ErrorKind::BrokenPipe,
                        format!("writing to the port failed: {}", js_error_text(&e)),
                    )
                }))
            }
        }
    }
}

impl Drop for StreamWriter {
    fn drop(&mut self) {
        self.writer.release_lock();
    }
}

impl futures::io::AsyncWrite for StreamWriter {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        if this.pending.is_none() {
            if buf.is_empty() {
                return Poll::Ready(Ok(0));
            }
            let chunk = Uint8Array::from(buf);
            let fut = JsFuture::from(this.writer.write_with_chunk(&chunk));
            this.pending = Some((fut, buf.len()));
        }
        match this.poll_pending(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Ok(n)) => Poll::Ready(Ok(n.unwrap_or(0))),
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
        }
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_pending(cx).map_ok(|_| ())
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if this.poll_pending(cx)?.is_pending() {
            return Poll::Pending;
        }
        let writer = &this.writer;
        let fut = this
            .closing
            .get_or_insert_with(|| JsFuture::from(writer.close()));
        Pin::new(fut).poll(cx).map(|r| {
            r.map(|_| ())
                .map_err(|e| io::Error::other(js_error_text(&e)))
        })
    }
}

/// Whether this browser offers Web Serial (`navigator.serial` in a secure context).
pub fn supported() -> bool {
    let Some(window) = web_sys::window() else {
        return false;
    };
    let has = Reflect::has(&window.navigator(), &JsValue::from_str("serial")).unwrap_or(false);
    has && window.is_secure_context()
}

/// Asks the user for a port (the browser's picker).
pub async fn request_port() -> Result<SerialPort, String> {
    let window = web_sys::window().ok_or("no window")?;
    let promise = window.navigator().serial().request_port();
    let port = JsFuture::from(promise)
        .await
        .map_err(|e| format!("no port chosen: {}", js_error_text(&e)))?;
    port.dyn_into::<SerialPort>()
        .map_err(|_| "the browser did not return a serial port".to_string())
}

/// Opens a port at `baud` (8N1; RTS/CTS when `flow_control`) and returns its two halves.
pub async fn open_port(
    port: &SerialPort,
    baud: u32,
    flow_control: bool,
) -> Result<(StreamReader, StreamWriter), String> {
    let options = SerialOptions::new(baud);
    if flow_control {
        options.set_flow_control(web_sys::FlowControlType::Hardware);
    }
    JsFuture::from(port.open(&options))
        .await
        .map_err(|e| format!("cannot open the port at {baud} baud: {}", js_error_text(&e)))?;
    let reader = StreamReader::new(&port.readable())?;
    let writer = StreamWriter::new(&port.writable())?;
    Ok((reader, writer))
}

/// Closes a port whose reader and writer were dropped; errors (an unplugged port) are ignored.
pub async fn close_port(port: &SerialPort) {
    let _ = JsFuture::from(port.close()).await;
}

fn usb_ids(port: &SerialPort) -> (Option<f64>, Option<f64>) {
    let info: JsValue = port.get_info().into();
    let get = |k: &str| {
        Reflect::get(&info, &JsValue::from_str(k))
            .ok()
            .and_then(|v| v.as_f64())
    };
    (get("usbVendorId"), get("usbProductId"))
}

/// The port to reopen after an unplug: among the ports this page may use
/// (`navigator.serial.getPorts()`), the one with the same USB vendor and product ids as `last`
/// (a re-plugged adapter may come back as a new object), else `last` itself.
pub async fn find_again(last: &SerialPort) -> SerialPort {
    let Some(window) = web_sys::window() else {
        return last.clone();
    };
    let want = usb_ids(last);
    let Ok(list) = JsFuture::from(window.navigator().serial().get_ports()).await else {
        return last.clone();
    };
    let ports: Vec<SerialPort> = js_sys::Array::from(&list)
        .iter()
        .map(|p| p.unchecked_into::<SerialPort>())
        .collect();
    if ports
        .iter()
        .any(|p| JsValue::from(p) == JsValue::from(last))
    {
        return last.clone();
    }
    ports
        .into_iter()
        .find(|p| want.0.is_some() && usb_ids(p) == want)
        .unwrap_or_else(|| last.clone())
}
