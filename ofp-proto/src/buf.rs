//! Checked big-endian reading from a `Bytes` (nothing panics on short input) and length patching on encode.

use bytes::{BufMut, Bytes, BytesMut};

use crate::errors::OfpErr;

/// A cursor over a message body. Every read is bounds-checked and fails with a chosen error
/// (OFPBRC_BAD_LEN unless the caller asks for another); sub-slices share the input buffer.
#[derive(Clone, Debug)]
pub struct Reader {
    data: Bytes,
    pos: usize,
    err: OfpErr,
}

impl Reader {
    pub fn new(data: Bytes) -> Self {
        Reader { data, pos: 0, err: OfpErr::OFPBRC_BAD_LEN }
    }

    /// Same cursor, but short reads fail with `err` (e.g. OFPBAC_BAD_LEN inside an action list).
    pub fn with_error(mut self, err: OfpErr) -> Self {
        self.err = err;
        self
    }

    pub fn error(&self) -> OfpErr {
        self.err
    }

    pub fn remaining(&self) -> usize {
        self.data.len() - self.pos
    }

    pub fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    pub fn position(&self) -> usize {
        self.pos
    }

    /// The unread bytes, without consuming them.
    pub fn peek_rest(&self) -> &[u8] {
        &self.data[self.pos..]
    }

    fn need(&self, n: usize) -> Result<(), OfpErr> {
        if self.remaining() < n {
            Err(self.err)
        } else {
            Ok(())
        }
    }

    pub fn u8(&mut self) -> Result<u8, OfpErr> {
        self.need(1)?;
        let v = self.data[self.pos];
        self.pos += 1;
        Ok(v)
    }

    pub fn u16(&mut self) -> Result<u16, OfpErr> {
        Ok(u16::from_be_bytes(self.array()?))
    }

    pub fn u32(&mut self) -> Result<u32, OfpErr> {
        Ok(u32::from_be_bytes(self.array()?))
    }

    pub fn u64(&mut self) -> Result<u64, OfpErr> {
        Ok(u64::from_be_bytes(self.array()?))
    }

    pub fn array<const N: usize>(&mut self) -> Result<[u8; N], OfpErr> {
        self.need(N)?;
        let mut a = [0u8; N];
        a.copy_from_slice(&self.data[self.pos..self.pos + N]);
        self.pos += N;
        Ok(a)
    }

    pub fn skip(&mut self, n: usize) -> Result<(), OfpErr> {
        self.need(n)?;
        self.pos += n;
        Ok(())
    }

    /// `n` bytes as a zero-copy slice of the input.
    pub fn bytes(&mut self, n: usize) -> Result<Bytes, OfpErr> {
        self.need(n)?;
        let b = self.data.slice(self.pos..self.pos + n);
        self.pos += n;
        Ok(b)
    }

    /// A sub-reader over the next `n` bytes (same error), advancing this one past them.
    pub fn sub(&mut self, n: usize) -> Result<Reader, OfpErr> {
        Ok(Reader { data: self.bytes(n)?, pos: 0, err: self.err })
    }

    /// Everything left, as a zero-copy slice.
    pub fn rest(&mut self) -> Bytes {
        let b = self.data.slice(self.pos..);
        self.pos = self.data.len();
        b
    }

    pub fn peek_u16(&self) -> Result<u16, OfpErr> {
        self.need(2)?;
        Ok(u16::from_be_bytes([self.data[self.pos], self.data[self.pos + 1]]))
    }

    pub fn peek_u32(&self) -> Result<u32, OfpErr> {
        self.need(4)?;
        let p = self.pos;
        Ok(u32::from_be_bytes([self.data[p], self.data[p + 1], self.data[p + 2], self.data[p + 3]]))
    }
}

/// The big-endian 16-bit integer at `at` in a slice whose length the caller has checked.
#[inline]
pub(crate) fn be16(b: &[u8], at: usize) -> u16 {
    // One bounds check (the conversion of a 2-byte slice cannot fail).
    u16::from_be_bytes(b[at..at + 2].try_into().unwrap_or_default())
}

/// The big-endian 32-bit integer at `at` in a slice whose length the caller has checked.
#[inline]
pub(crate) fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes(b[at..at + 4].try_into().unwrap_or_default())
}

/// The big-endian 64-bit integer at `at` in a slice whose length the caller has checked.
#[inline]
pub(crate) fn be64(b: &[u8], at: usize) -> u64 {
    u64::from_be_bytes(b[at..at + 8].try_into().unwrap_or_default())
}

/// Writes a zeroed 16-bit length placeholder and returns where it is, for `patch_len16`.
pub fn put_len16_placeholder(buf: &mut BytesMut) -> usize {
    let at = buf.len();
    buf.put_u16(0);
    at
}

/// Stores `buf.len() - start` as a big-endian u16 at `at` (saturating at 65535).
pub fn patch_len16(buf: &mut BytesMut, at: usize, start: usize) {
    let len = u16::try_from(buf.len() - start).unwrap_or(u16::MAX);
    buf[at..at + 2].copy_from_slice(&len.to_be_bytes());
}

/// Pads with zeros to the next multiple of 8 counted from `start`.
pub fn pad8(buf: &mut BytesMut, start: usize) {
    let len = buf.len() - start;
    buf.put_bytes(0, (8 - len % 8) % 8);
}

/// Rounds `n` up to a multiple of 8.
pub const fn round_up8(n: usize) -> usize {
    (n + 7) & !7
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_reads_fail_with_the_chosen_error() {
        let mut r = Reader::new(Bytes::from_static(&[1, 2, 3]));
        assert_eq!(r.u16(), Ok(0x0102));
        assert_eq!(r.u16(), Err(OfpErr::OFPBRC_BAD_LEN));
        let mut r = Reader::new(Bytes::from_static(&[1])).with_error(OfpErr::OFPBAC_BAD_LEN);
        assert_eq!(r.u32(), Err(OfpErr::OFPBAC_BAD_LEN));
        assert_eq!(r.u8(), Ok(1));
        assert!(r.is_empty());
    }

    #[test]
    fn patching_lengths_and_padding() {
        let mut b = BytesMut::new();
        b.put_u16(7);
        let at = put_len16_placeholder(&mut b);
        b.put_u8(9);
        pad8(&mut b, 0);
        patch_len16(&mut b, at, 0);
        assert_eq!(&b[..], &[0, 7, 0, 8, 9, 0, 0, 0]);
    }
}
