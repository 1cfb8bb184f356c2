//! A plugin's stdout and stderr, turned into tracing events.
//!
//! A plugin has no terminal and no files; what it prints is split into lines
//! and logged with the plugin's name and the stream it came from, stdout at
//! INFO and stderr at WARN (a Rust plugin's panic message arrives on stderr
//! just before its trap). A line is capped at [`MAX_LINE`] bytes so that a
//! plugin printing without newlines cannot grow the host's memory.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamResult};

/// The longest line kept; the rest of a longer line is cut and counted.
pub const MAX_LINE: usize = 4096;

/// Which of a plugin's streams the output came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

/// A stream that a store's WASI context writes a plugin's output to.
#[derive(Clone)]
pub struct PluginOutput {
    plugin: Arc<str>,
    stream: Stream,
}

impl PluginOutput {
    pub fn new(plugin: Arc<str>, stream: Stream) -> PluginOutput {
        PluginOutput { plugin, stream }
    }

    fn writer(&self) -> LineWriter {
        LineWriter {
            plugin: self.plugin.clone(),
            stream: self.stream,
            line: Vec::new(),
            cut: 0,
        }
    }
}

impl IsTerminal for PluginOutput {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for PluginOutput {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.writer())
    }

    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.writer())
    }
}

/// Collects bytes into lines and logs each complete line.
struct LineWriter {
    plugin: Arc<str>,
    stream: Stream,
    line: Vec<u8>,
    /// Bytes of the current line dropped past [`MAX_LINE`].
    cut: usize,
}

impl LineWriter {
    fn push(&mut self, mut bytes: &[u8]) {
        while let Some(end) = bytes.iter().position(|&b| b == b'\n') {
            self.append(&bytes[..end]);
            self.emit();
            bytes = &bytes[end + 1..];
        }
        self.append(bytes);
    }

    fn append(&mut self, bytes: &[u8]) {
        let room = MAX_LINE - self.line.len();
        let kept = bytes.len().min(room);
        self.line.extend_from_slice(&bytes[..kept]);
        self.cut += bytes.len() - kept;
    }

    fn emit(&mut self) {
        let text = String::from_utf8_lossy(&self.line);
        let plugin = &*self.plugin;
        match (self.stream, self.cut) {
            (Stream::Stdout, 0) => tracing::info!(plugin, stream = "stdout", "{text}"),
            (Stream::Stderr, 0) => tracing::warn!(plugin, stream = "stderr", "{text}"),
            (Stream::Stdout, cut) => tracing::info!(plugin, stream = "stdout", cut, "{text}"),
            (Stream::Stderr, cut) => tracing::warn!(plugin, stream = "stderr", cut, "{text}"),
        }
        self.line.clear();
        self.cut = 0;
    }
}

impl Drop for LineWriter {
    fn drop(&mut self) {
        if !self.line.is_empty() || self.cut > 0 {
            self.emit();
        }
    }
}

impl OutputStream for LineWriter {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        self.push(&bytes);
        Ok(())
    }

    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        Ok(64 * 1024)
    }
}

#[async_trait::async_trait]
impl Pollable for LineWriter {
    async fn ready(&mut self) {}
}

impl tokio::io::AsyncWrite for LineWriter {
    fn poll_write(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.push(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}
