//! Streaming framer: bytes in, whole OpenFlow messages out, whatever the chunking.

use std::fmt;

use bytes::{Bytes, BytesMut};

use crate::header::HEADER_LEN;

/// A header announcing fewer than 8 bytes: the stream cannot be resynchronised, so the
/// connection must be closed (OVS: "received too-short ofp_header", EPROTO).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FramingError {
    pub length: u16,
}

impl fmt::Display for FramingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "received too-short ofp_header ({} bytes)", self.length)
    }
}

impl std::error::Error for FramingError {}

/// Accumulates received bytes and splits off complete messages. A message is handed out as a
/// `Bytes` that shares the receive buffer, so payloads are never copied again.
#[derive(Debug, Default)]
pub struct Framer {
    buf: BytesMut,
    failed: Option<FramingError>,
}

impl Framer {
    pub fn new() -> Self {
        Framer::default()
    }

    /// Appends received bytes.
    pub fn push(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
    }

    /// The receive buffer, for callers that read from a socket straight into it.
    pub fn buffer_mut(&mut self) -> &mut BytesMut {
        &mut self.buf
    }

    /// Bytes received but not yet returned as a message.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// How many more bytes the next message needs before it is complete (at least 1 when waiting).
    pub fn wanted(&self) -> usize {
        match self.buf.get(2..4) {
            Some(l) => {
                let len = usize::from(u16::from_be_bytes([l[0], l[1]])).max(HEADER_LEN);
                len.saturating_sub(self.buf.len()).max(1)
            }
            None => HEADER_LEN - self.buf.len(),
        }
    }

    /// The next complete message, `Ok(None)` when more bytes are needed. After an error every
    /// further call returns the same error.
    pub fn next_frame(&mut self) -> Result<Option<Bytes>, FramingError> {
        if let Some(e) = self.failed {
            return Err(e);
        }
        if self.buf.len() < HEADER_LEN {
            return Ok(None);
        }
        let length = u16::from_be_bytes([self.buf[2], self.buf[3]]);
        if usize::from(length) < HEADER_LEN {
            let e = FramingError { length };
            self.failed = Some(e);
            return Err(e);
        }
        if self.buf.len() < usize::from(length) {
            if self.buf.capacity() < usize::from(length) {
                self.buf.reserve(usize::from(length) - self.buf.len());
            }
            return Ok(None);
        }
        Ok(Some(self.buf.split_to(usize::from(length)).freeze()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ECHO: [u8; 12] = [4, 2, 0, 12, 0, 0, 0, 7, b'a', b'b', b'c', b'd'];

    #[test]
    fn one_byte_at_a_time() {
        let mut f = Framer::new();
        let mut out = vec![];
        for b in ECHO.iter().chain(ECHO.iter()) {
            f.push(&[*b]);
            while let Some(m) = f.next_frame().unwrap() {
                out.push(m);
            }
        }
        assert_eq!(out.len(), 2);
        assert!(out.iter().all(|m| m[..] == ECHO));
        assert_eq!(f.buffered(), 0);
    }

    #[test]
    fn waits_for_the_announced_length() {
        let mut f = Framer::new();
        f.push(&ECHO[..10]);
        assert_eq!(f.next_frame(), Ok(None));
        assert_eq!(f.wanted(), 2);
        f.push(&ECHO[10..]);
        assert_eq!(f.next_frame().unwrap().as_deref(), Some(&ECHO[..]));
    }

    #[test]
    fn too_short_length_is_fatal_and_sticky() {
        let mut f = Framer::new();
        f.push(&[4, 0, 0, 7, 0, 0, 0, 0, 4, 0, 0, 8, 0, 0, 0, 0]);
        assert_eq!(f.next_frame(), Err(FramingError { length: 7 }));
        assert_eq!(f.next_frame(), Err(FramingError { length: 7 }));
        assert_eq!(FramingError { length: 7 }.to_string(), "received too-short ofp_header (7 bytes)");
    }
}
