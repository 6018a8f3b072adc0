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
/// borrowed from it (`next_frame_ref`, or all of them at once with `frames`: no reference
/// counting at all, for parsing views).
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

    /// The receive buffer, for callers that read from a socket straight into it: it has room for
    /// the whole of a message whose start is pending.
    pub fn buffer_mut(&mut self) -> &mut BytesMut {
        self.reclaim();
        self.make_room();
        &mut self.buf
    }

    /// Grows the buffer (after `reclaim`) to hold the whole of a message whose header is pending,
    /// so that one read can complete it.
    fn make_room(&mut self) {
        if let Some(&[_, _, l0, l1]) = self.buf.first_chunk::<4>() {
            let len = usize::from(u16::from_be_bytes([l0, l1]));
            if self.buf.capacity() < len {
                self.buf.reserve(len - self.buf.len());
            }
        }
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

    /// `reclaim` once every byte was lent out: the buffer then starts over instead of growing.
    #[inline]
    fn reclaim_if_drained(&mut self) {
        if self.lent == self.buf.len() && self.lent > 0 {
            self.reclaim();
        }
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
            self.make_room();
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
            (Some(pending), None) => whole_frame_len(pending),
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
        self.reclaim_if_drained();
        let Some(len) = self.next_len()? else { return Ok(None) };
        let start = self.lent;
        self.lent += len;
        Ok(Some(&self.buf[start..start + len]))
    }

    /// Every complete message pending, borrowed from the receive buffer (as `next_frame_ref`
    /// gives them one by one, at a lower cost per message: the position stays in a register).
    /// The iteration ends where more bytes are needed (room for the whole message is made when
    /// the buffer is next used), or with the framing error, which the framer keeps: every later
    /// call returns it again (and `frames` yields it once). What it did not yield stays pending.
    #[inline]
    pub fn frames(&mut self) -> Frames<'_> {
        self.reclaim_if_drained();
        let (rest, end) = match self.failed {
            None => (self.buf.get(self.lent..).unwrap_or_default(), self.buf.len()),
            Some(_) => (&[][..], self.lent),
        };
        Frames { rest, end, lent: &mut self.lent, failed: &mut self.failed, done: false }
    }
}

/// The length of the well-framed message at the start of `pending`, if it is all there.
#[inline(always)]
fn whole_frame_len(pending: &[u8]) -> Option<usize> {
    let &[_, _, l0, l1] = pending.first_chunk::<4>()?;
    let len = usize::from(u16::from_be_bytes([l0, l1]));
    (len >= HEADER_LEN && len <= pending.len()).then_some(len)
}

/// The complete messages pending in a [`Framer`]: see [`Framer::frames`].
#[derive(Debug)]
pub struct Frames<'a> {
    /// The pending bytes not yet yielded.
    rest: &'a [u8],
    /// Where `rest` ends in the framer's buffer (what `lent` becomes once it is all yielded).
    end: usize,
    lent: &'a mut usize,
    failed: &'a mut Option<FramingError>,
    /// The iteration ended with an error.
    done: bool,
}

impl<'a> Iterator for Frames<'a> {
    type Item = Result<&'a [u8], FramingError>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if let Some(len) = whole_frame_len(self.rest) {
            let (frame, rest) = self.rest.split_at(len);
            self.rest = rest;
            return Some(Ok(frame));
        }
        self.end_or_fail()
    }
}

impl<'a> Frames<'a> {
    /// `next` when no whole message is pending: the framing error once, else the end.
    #[cold]
    fn end_or_fail(&mut self) -> Option<Result<&'a [u8], FramingError>> {
        if self.done {
            return None;
        }
        if let Some(e) = *self.failed {
            self.done = true;
            return Some(Err(e));
        }
        let &[_, _, l0, l1, _, _, _, _] = self.rest.first_chunk::<HEADER_LEN>()?;
        let length = u16::from_be_bytes([l0, l1]);
        if usize::from(length) >= HEADER_LEN {
            return None;
        }
        let e = FramingError { length };
        *self.failed = Some(e);
        self.done = true;
        Some(Err(e))
    }
}

impl Drop for Frames<'_> {
    /// What was yielded is lent out (reclaimed when the framer is next used).
    fn drop(&mut self) {
        *self.lent = self.end - self.rest.len();
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

    /// The frames `frames` yields, copied.
    fn batch(f: &mut Framer) -> Vec<Result<Vec<u8>, FramingError>> {
        f.frames().map(|r| r.map(<[u8]>::to_vec)).collect()
    }

    #[test]
    fn frames_one_byte_at_a_time() {
        let mut f = Framer::new();
        let mut out = vec![];
        for b in ECHO.iter().chain(ECHO.iter()) {
            f.push(&[*b]);
            out.extend(batch(&mut f));
        }
        assert_eq!(out, [Ok(ECHO.to_vec()), Ok(ECHO.to_vec())]);
        assert_eq!(f.buffered(), 0);
    }

    #[test]
    fn frames_stop_at_a_partial_message_and_make_room_for_it() {
        let mut big = vec![4, 2, 0x01, 0x2c, 0, 0, 0, 9];
        big.resize(300, 0xab);
        let mut f = Framer::new();
        f.push(&ECHO);
        f.push(&ECHO);
        f.push(&big[..20]);
        assert_eq!(batch(&mut f), [Ok(ECHO.to_vec()), Ok(ECHO.to_vec())]);
        assert_eq!(batch(&mut f), []);
        assert_eq!((f.buffered(), f.wanted()), (20, 280));
        let buf = f.buffer_mut();
        assert_eq!(&buf[..], &big[..20]);
        assert!(buf.capacity() >= 300, "{}", buf.capacity());
        f.push(&big[20..]);
        assert_eq!(batch(&mut f), [Ok(big.clone())]);
        // The same room when `next_frame_ref` finds the partial message.
        let mut f = Framer::new();
        f.push(&big[..9]);
        assert_eq!(f.next_frame_ref(), Ok(None));
        assert!(f.buffer_mut().capacity() >= 300);
    }

    #[test]
    fn frames_mix_with_single_frames() {
        let mut f = Framer::new();
        let other = [4, 3, 0, 8, 0, 0, 0, 1];
        for _ in 0..2 {
            f.push(&ECHO);
            f.push(&other);
        }
        assert_eq!(f.next_frame_ref(), Ok(Some(&ECHO[..])));
        // Stopping early leaves the rest pending.
        assert_eq!(f.frames().next(), Some(Ok(&other[..])));
        assert_eq!(f.buffered(), 20);
        assert_eq!(f.next_frame().unwrap().as_deref(), Some(&ECHO[..]));
        assert_eq!(batch(&mut f), [Ok(other.to_vec())]);
        assert_eq!((f.buffered(), f.next_frame()), (0, Ok(None)));
        // An emptied buffer starts over: no growth however many batches pass through.
        f.push(&ECHO);
        let cap = f.buffer_mut().capacity();
        for _ in 0..1000 {
            assert_eq!(batch(&mut f), [Ok(ECHO.to_vec())]);
            f.push(&ECHO);
        }
        assert_eq!(f.buffer_mut().capacity(), cap);
    }

    #[test]
    fn frames_end_with_the_framing_error_which_sticks() {
        let mut f = Framer::new();
        f.push(&ECHO);
        f.push(&[4, 0, 0, 7]);
        // Half a header: not yet an error, as with `next_frame`.
        assert_eq!(batch(&mut f), [Ok(ECHO.to_vec())]);
        assert_eq!(f.next_frame(), Ok(None));
        f.push(&[0, 0, 0, 0]);
        f.push(&ECHO);
        let e = FramingError { length: 7 };
        let mut frames = f.frames();
        assert_eq!((frames.next(), frames.next(), frames.next()), (Some(Err(e)), None, None));
        drop(frames);
        assert_eq!(f.buffered(), 20, "nothing after the error is taken");
        assert_eq!(f.next_frame(), Err(e));
        assert_eq!(batch(&mut f), [Err(e)]);
        assert_eq!(f.next_frame_ref(), Err(e));
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
