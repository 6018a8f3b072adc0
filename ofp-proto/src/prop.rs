//! OpenFlow TLV properties (OVS `ofp-prop`): pulling one from a body with the errors OVS reports,
//! reading its value, and writing properties padded to 8 bytes.

use bytes::{BufMut, Bytes, BytesMut};

use crate::buf::{pad8, patch_len16, Reader};
use crate::errors::OfpErr;

/// A property's type: standard, or experimenter (type field at or above the caller's threshold).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PropType {
    Std(u16),
    Exp { experimenter: u32, exp_type: u32 },
}

/// One property pulled from a body.
#[derive(Clone, Debug)]
pub struct Prop {
    pub ptype: PropType,
    /// The type field as on the wire (for experimenter properties, the value at or above the threshold).
    pub wire_type: u16,
    /// The property's length field: header included, trailing padding excluded.
    pub len: usize,
    /// Everything after the 4-byte type/length header, up to `len` (for an experimenter
    /// property, starting with its experimenter id and type).
    pub body: Bytes,
    /// What follows the standard (4-byte) or experimenter (12-byte) header, up to `len`; short
    /// reads fail with OFPBPC_BAD_LEN.
    pub payload: Reader,
}

impl Prop {
    /// An 8-bit value: the payload's first byte (`ofpprop_parse_u8` tolerates padding).
    pub fn u8(&mut self) -> Result<u8, OfpErr> {
        self.payload.u8()
    }

    /// A 16-bit value: the payload's first two bytes (OpenFlow pads 16-bit properties to 8).
    pub fn u16(&mut self) -> Result<u16, OfpErr> {
        self.payload.u16()
    }

    /// A 32-bit value filling the payload exactly (`ofpprop_parse_be32`/`_u32`).
    pub fn u32(&mut self) -> Result<u32, OfpErr> {
        if self.payload.remaining() != 4 {
            return Err(OfpErr::OFPBPC_BAD_LEN);
        }
        self.payload.u32()
    }

    /// A 64-bit value, which sits 8-byte aligned: 4 bytes of padding after the header, then
    /// exactly the value (`ofpprop_parse_u64`).
    pub fn u64(&mut self) -> Result<u64, OfpErr> {
        if self.payload.remaining() != 12 {
            return Err(OfpErr::OFPBPC_BAD_LEN);
        }
        self.payload.skip(4)?;
        self.payload.u64()
    }

    /// The nested properties of a property whose contents start 8-byte aligned
    /// (`ofpprop_parse_nested`).
    pub fn nested(&mut self) -> Result<Bytes, OfpErr> {
        self.payload.skip(4)?;
        Ok(self.payload.rest())
    }
}

/// Pulls the next property, padded to 8 bytes, from `r` (`ofpprop_pull__` with 8-byte alignment).
/// Types at or above `min_exp` are experimenter properties (0xffff for most messages).
pub fn pull(r: &mut Reader, min_exp: u16) -> Result<Prop, OfpErr> {
    pull_with(r, 8, min_exp.into())
}

/// `pull` with any alignment (1 for unpadded elements such as table-features ids) and any
/// experimenter threshold (0x10000: none).
pub fn pull_with(r: &mut Reader, alignment: usize, min_exp: u32) -> Result<Prop, OfpErr> {
    let bad_len = Err(OfpErr::OFPBPC_BAD_LEN);
    let (Ok(wire_type), Ok(tl)) = (r.peek_u16(), r.peek_u32()) else { return bad_len };
    let len = (tl & 0xffff) as usize;
    let padded = len.next_multiple_of(alignment);
    if len < 4 || padded > r.remaining() {
        return bad_len;
    }
    let whole = r.bytes(padded)?.slice(..len);
    let body = whole.slice(4..);
    let mut payload = Reader::new(body.clone()).with_error(OfpErr::OFPBPC_BAD_LEN);
    let ptype = if u32::from(wire_type) < min_exp {
        PropType::Std(wire_type)
    } else {
        if len < 12 {
            return bad_len;
        }
        let experimenter = payload.u32()?;
        if experimenter == 0 {
            // Experimenter 0 would be ambiguous with standard types.
            return Err(OfpErr::OFPBPC_BAD_EXPERIMENTER);
        }
        PropType::Exp { experimenter, exp_type: payload.u32()? }
    };
    Ok(Prop { ptype, wire_type, len, body, payload })
}

/// What OVS does with a property it does not know (`ofpprop_unknown`): ignore it when `loose`,
/// else OFPBPC_BAD_TYPE (standard) or OFPBPC_BAD_EXP_TYPE (experimenter).
pub fn unknown(loose: bool, ptype: PropType) -> Result<(), OfpErr> {
    match (loose, ptype) {
        (true, _) => Ok(()),
        (false, PropType::Std(_)) => Err(OfpErr::OFPBPC_BAD_TYPE),
        (false, PropType::Exp { .. }) => Err(OfpErr::OFPBPC_BAD_EXP_TYPE),
    }
}

/// Starts a standard property of type `ptype`; returns where it starts, for `finish`.
pub fn start(buf: &mut BytesMut, ptype: u16) -> usize {
    let at = buf.len();
    buf.put_u16(ptype);
    buf.put_u16(0);
    at
}

/// Patches the length of the property started at `start` and pads it to 8 bytes.
pub fn finish(buf: &mut BytesMut, start: usize) {
    patch_len16(buf, start + 2, start);
    pad8(buf, start);
}

/// A property with `value` as its payload.
pub fn put(buf: &mut BytesMut, ptype: u16, value: &[u8]) {
    let at = start(buf, ptype);
    buf.put_slice(value);
    finish(buf, at);
}

pub fn put_u8(buf: &mut BytesMut, ptype: u16, v: u8) {
    put(buf, ptype, &[v]);
}

/// 16-bit values get two bytes of padding inside the property, as OpenFlow does.
pub fn put_u16(buf: &mut BytesMut, ptype: u16, v: u16) {
    let b = v.to_be_bytes();
    put(buf, ptype, &[b[0], b[1], 0, 0]);
}

/// A property holding one 32-bit value (`ofpprop_put_be32`): 8 bytes.
pub fn put_u32(buf: &mut BytesMut, ptype: u16, v: u32) {
    put(buf, ptype, &v.to_be_bytes());
}

/// 64-bit values start 8-byte aligned after 4 bytes of padding.
pub fn put_u64(buf: &mut BytesMut, ptype: u16, v: u64) {
    let at = start(buf, ptype);
    buf.put_u32(0);
    buf.put_u64(v);
    finish(buf, at);
}

/// A property whose payload is `nested` (already-encoded properties), starting 8-byte aligned.
pub fn put_nested(buf: &mut BytesMut, ptype: u16, nested: &[u8]) {
    let at = start(buf, ptype);
    buf.put_u32(0);
    buf.put_slice(nested);
    finish(buf, at);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rd(b: &[u8]) -> Reader {
        Reader::new(Bytes::copy_from_slice(b))
    }

    #[test]
    fn pulls_standard_and_experimenter_properties() {
        let mut r = rd(&[0, 3, 0, 8, 0, 0, 0, 9, 0xff, 0xff, 0, 12, 0, 0, 0x23, 0x20, 0, 0, 0, 5, 0, 0, 0, 0]);
        let mut p = pull(&mut r, 0xffff).unwrap();
        assert_eq!((p.ptype, p.len), (PropType::Std(3), 8));
        assert_eq!(p.u32(), Ok(9));
        let p = pull(&mut r, 0xffff).unwrap();
        assert_eq!(p.ptype, PropType::Exp { experimenter: 0x2320, exp_type: 5 });
        assert_eq!(&p.body[..], &[0, 0, 0x23, 0x20, 0, 0, 0, 5]);
        assert!(p.payload.is_empty() && r.is_empty());
    }

    #[test]
    fn bad_lengths_and_experimenter_zero() {
        assert_eq!(pull(&mut rd(&[0, 3, 0]), 0xffff).unwrap_err(), OfpErr::OFPBPC_BAD_LEN);
        assert_eq!(pull(&mut rd(&[0, 3, 0, 3, 0, 0, 0, 0]), 0xffff).unwrap_err(), OfpErr::OFPBPC_BAD_LEN);
        // Length 12 needs 16 bytes with padding.
        let twelve = [0, 3, 0, 12, 0, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(pull(&mut rd(&twelve), 0xffff).unwrap_err(), OfpErr::OFPBPC_BAD_LEN);
        let short_exp = [0xff, 0xfe, 0, 8, 0, 0, 0, 1];
        assert_eq!(pull(&mut rd(&short_exp), 0xfffe).unwrap_err(), OfpErr::OFPBPC_BAD_LEN);
        let exp0 = [0xff, 0xff, 0, 12, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0];
        assert_eq!(pull(&mut rd(&exp0), 0xffff).unwrap_err(), OfpErr::OFPBPC_BAD_EXPERIMENTER);
        let mut p = pull(&mut rd(&[0, 1, 0, 6, 0, 0, 0, 0]), 0xffff).unwrap();
        assert_eq!(p.u32(), Err(OfpErr::OFPBPC_BAD_LEN));
        // Unpadded elements without experimenters (table-features ids).
        let mut r = rd(&[0xff, 0xff, 0, 5, 7, 0, 1, 0, 4]);
        let p = pull_with(&mut r, 1, 0x10000).unwrap();
        assert_eq!((p.ptype, &p.body[..]), (PropType::Std(0xffff), &[7][..]));
        assert_eq!(pull_with(&mut r, 1, 0x10000).unwrap().ptype, PropType::Std(1));
    }

    #[test]
    fn unknown_properties() {
        assert_eq!(unknown(true, PropType::Std(9)), Ok(()));
        assert_eq!(unknown(false, PropType::Std(9)), Err(OfpErr::OFPBPC_BAD_TYPE));
        let e = PropType::Exp { experimenter: 1, exp_type: 2 };
        assert_eq!(unknown(false, e), Err(OfpErr::OFPBPC_BAD_EXP_TYPE));
    }

    #[test]
    fn writes_padded_properties_that_read_back() {
        let mut b = BytesMut::new();
        put_u32(&mut b, 7, 0x0102_0304);
        let at = start(&mut b, 0);
        b.put_u8(0xaa);
        finish(&mut b, at);
        assert_eq!(&b[..], &[0, 7, 0, 8, 1, 2, 3, 4, 0, 0, 0, 5, 0xaa, 0, 0, 0]);

        let mut b = BytesMut::new();
        put_u16(&mut b, 0, 0x1234);
        put_u64(&mut b, 4, 9);
        put(&mut b, 7, b"abc");
        put_nested(&mut b, 8, &[0, 1, 0, 4, 0, 0, 0, 0]);
        assert_eq!(&b[..8], &[0, 0, 0, 8, 0x12, 0x34, 0, 0]);
        assert_eq!(&b[8..24], &[0, 4, 0, 16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9]);
        let mut r = Reader::new(b.freeze());
        assert_eq!(pull(&mut r, 0xffff).unwrap().u16(), Ok(0x1234));
        assert_eq!(pull(&mut r, 0xffff).unwrap().u64(), Ok(9));
        let p = pull(&mut r, 0xffff).unwrap();
        assert_eq!((p.ptype, &p.body[..]), (PropType::Std(7), &b"abc"[..]));
        assert_eq!(&pull(&mut r, 0xffff).unwrap().nested().unwrap()[..], &[0, 1, 0, 4, 0, 0, 0, 0]);
        assert!(r.is_empty());
    }
}
