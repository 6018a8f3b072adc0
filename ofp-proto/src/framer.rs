//! Streaming framer: bytes in, whole OpenFlow messages out, whatever the chunking.

use std::fmt;

use bytes::{Buf, Bytes, BytesMut};

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

/// Accumulates received bytes and splits off complete messages. A message is handed out either
/// as a `Bytes` that shares the receive buffer (`next_frame`: payloads are never copied again), or
/// borrowed from it (`next_frame_ref`: no reference counting at all, for parsing views).
#[derive(Debug, Default)]
pub struct Framer {
    buf: BytesMut,
    /// Bytes at the front of `buf` already handed out by `next_frame_ref`.
    lent: usize,
    failed: Option<FramingError>,
}

impl Framer {
    pub fn new() -> Self {
        Framer::default()
    }

    /// Appends received bytes.
    pub fn push(&mut self, data: &[u8]) {
        self.reclaim();
        self.buf.extend_from_slice(data);
    }

    /// The receive buffer, for callers that read from a socket straight into it.
    pub fn buffer_mut(&mut self) -> &mut BytesMut {
        self.reclaim();
        &mut self.buf
    }

    /// Drops the bytes `next_frame_ref` lent out (no longer borrowed once `self` is borrowed
    /// mutably again): moving the buffer's start is O(1), and an emptied buffer starts over.
    fn reclaim(&mut self) {
        if self.lent == self.buf.len() {
            self.buf.clear();
        } else {
            self.buf.advance(self.lent);
        }
        self.lent = 0;
    }

    /// The received bytes not yet returned as a message.
    fn pending(&self) -> &[u8] {
        &self.buf[self.lent..]
    }

    /// Bytes received but not yet returned as a message.
    pub fn buffered(&self) -> usize {
        self.pending().len()
    }

    /// How many more bytes the next message needs before it is complete (at least 1 when waiting).
    pub fn wanted(&self) -> usize {
        let pending = self.pending();
        match pending.get(2..4) {
            Some(l) => {
                let len = usize::from(u16::from_be_bytes([l[0], l[1]])).max(HEADER_LEN);
                len.saturating_sub(pending.len()).max(1)
            }
            None => HEADER_LEN - pending.len(),
        }
    }

    /// The length of the next complete message, `Ok(None)` when more bytes are needed (then
    /// making room for the whole message). After an error every further call returns it again.
    fn next_len(&mut self) -> Result<Option<usize>, FramingError> {
        if let Some(e) = self.failed {
            return Err(e);
        }
        let pending = self.pending();
        if pending.len() < HEADER_LEN {
            return Ok(None);
        }
        let length = u16::from_be_bytes([pending[2], pending[3]]);
        let len = usize::from(length);
        if len < HEADER_LEN {
            let e = FramingError { length };
            self.failed = Some(e);
            return Err(e);
        }
        if pending.len() < len {
            self.reclaim();
            if self.buf.capacity() < len {
                self.buf.reserve(len - self.buf.len());
            }
            return Ok(None);
        }
        Ok(Some(len))
    }

    /// The next complete message, `Ok(None)` when more bytes are needed. After an error every
    /// further call returns the same error.
    pub fn next_frame(&mut self) -> Result<Option<Bytes>, FramingError> {
        self.reclaim();
        Ok(self.next_len()?.map(|len| self.buf.split_to(len).freeze()))
    }

    /// Like `next_frame`, but the message is borrowed from the receive buffer until the framer is
    /// used again: no reference count is touched, so parsing it as a [`crate::view::MsgView`]
    /// costs no atomic operation.
    #[inline]
    pub fn next_frame_ref(&mut self) -> Result<Option<&[u8]>, FramingError> {
        // The common case in a few loads: a whole, well-framed message is pending.
        let start = self.lent;
        let whole = match (self.buf.get(start..), self.failed) {
            (Some(pending), None) => match pending.first_chunk::<4>() {
                Some(&[_, _, l0, l1]) => {
                    let len = usize::from(u16::from_be_bytes([l0, l1]));
                    (len >= HEADER_LEN && pending.len() >= len).then_some(len)
                }
                None => None,
            },
            _ => None,
        };
        match whole {
            Some(len) => {
                self.lent = start + len;
                Ok(self.buf.get(start..start + len))
            }
            None => self.next_frame_ref_slow(),
        }
    }

    /// `next_frame_ref` when no whole message is pending, or the stream failed.
    #[cold]
    fn next_frame_ref_slow(&mut self) -> Result<Option<&[u8]>, FramingError> {
        if self.lent == self.buf.len() && self.lent > 0 {
            self.reclaim();
        }
        let Some(len) = self.next_len()? else { return Ok(None) };
        let start = self.lent;
        self.lent += len;
        Ok(Some(&self.buf[start..start + len]))
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
    fn borrowed_frames_share_the_buffer_with_owned_ones() {
        let mut f = Framer::new();
        f.push(&ECHO);
        f.push(&ECHO[..5]);
        assert_eq!(f.next_frame_ref(), Ok(Some(&ECHO[..])));
        assert_eq!(f.next_frame_ref(), Ok(None));
        assert_eq!((f.buffered(), f.wanted()), (5, 7));
        f.push(&ECHO[5..]);
        f.push(&ECHO);
        assert_eq!(f.next_frame().unwrap().as_deref(), Some(&ECHO[..]));
        assert_eq!(f.next_frame_ref(), Ok(Some(&ECHO[..])));
        assert_eq!(f.buffered(), 0);
        // An emptied buffer starts over: no growth however many frames pass through.
        f.push(&ECHO);
        let cap = f.buffer_mut().capacity();
        for _ in 0..1000 {
            assert_eq!(f.next_frame_ref(), Ok(Some(&ECHO[..])));
            f.push(&ECHO);
        }
        assert_eq!(f.buffer_mut().capacity(), cap);
    }

    #[test]
    fn too_short_length_is_fatal_and_sticky() {
        let mut f = Framer::new();
        f.push(&[4, 0, 0, 7, 0, 0, 0, 0, 4, 0, 0, 8, 0, 0, 0, 0]);
        assert_eq!(f.next_frame(), Err(FramingError { length: 7 }));
        assert_eq!(f.next_frame(), Err(FramingError { length: 7 }));
        assert_eq!(f.next_frame_ref(), Err(FramingError { length: 7 }));
        assert_eq!(FramingError { length: 7 }.to_string(), "received too-short ofp_header (7 bytes)");
    }
}
