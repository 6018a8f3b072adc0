//! OpenFlow TLV properties (OVS `ofp-prop`): pulling one from a body with the errors OVS reports,
//! and writing them padded to 8 bytes.

use bytes::{BufMut, BytesMut};

use crate::buf::{patch_len16, round_up8, Reader};
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
    /// What follows the standard (4-byte) or experimenter (12-byte) header, up to `len`.
    pub payload: Reader,
}

impl Prop {
    /// A 32-bit value filling the payload exactly (`ofpprop_parse_be32`/`_u32`).
    pub fn parse_u32(&mut self) -> Result<u32, OfpErr> {
        if self.payload.remaining() != 4 {
            return Err(OfpErr::OFPBPC_BAD_LEN);
        }
        self.payload.u32()
    }
}

/// Pulls the next property, padded to 8 bytes, from `r` (`ofpprop_pull__` with 8-byte alignment).
/// Types at or above `min_exp` are experimenter properties (0xffff for most messages).
pub fn pull(r: &mut Reader, min_exp: u16) -> Result<Prop, OfpErr> {
    let bad_len = Err(OfpErr::OFPBPC_BAD_LEN);
    let (Ok(wire_type), Ok(tl)) = (r.peek_u16(), r.peek_u32()) else { return bad_len };
    let len = (tl & 0xffff) as usize;
    if len < 4 || round_up8(len) > r.remaining() {
        return bad_len;
    }
    let mut whole = r.sub(round_up8(len))?.with_error(OfpErr::OFPBPC_BAD_LEN);
    let mut payload = whole.sub(len)?;
    payload.skip(4)?;
    let ptype = if wire_type < min_exp {
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
    Ok(Prop { ptype, wire_type, len, payload })
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
    crate::buf::pad8(buf, start);
}

/// A standard property holding one 32-bit value (`ofpprop_put_be32`): 8 bytes.
pub fn put_u32(buf: &mut BytesMut, ptype: u16, value: u32) {
    let at = start(buf, ptype);
    buf.put_u32(value);
    finish(buf, at);
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn rd(b: &[u8]) -> Reader {
        Reader::new(Bytes::copy_from_slice(b))
    }

    #[test]
    fn pulls_standard_and_experimenter_properties() {
        let mut r = rd(&[0, 3, 0, 8, 0, 0, 0, 9, 0xff, 0xff, 0, 12, 0, 0, 0x23, 0x20, 0, 0, 0, 5, 0, 0, 0, 0]);
        let mut p = pull(&mut r, 0xffff).unwrap();
        assert_eq!((p.ptype, p.len), (PropType::Std(3), 8));
        assert_eq!(p.parse_u32(), Ok(9));
        let p = pull(&mut r, 0xffff).unwrap();
        assert_eq!(p.ptype, PropType::Exp { experimenter: 0x2320, exp_type: 5 });
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
        assert_eq!(p.parse_u32(), Err(OfpErr::OFPBPC_BAD_LEN));
    }

    #[test]
    fn unknown_properties() {
        assert_eq!(unknown(true, PropType::Std(9)), Ok(()));
        assert_eq!(unknown(false, PropType::Std(9)), Err(OfpErr::OFPBPC_BAD_TYPE));
        let e = PropType::Exp { experimenter: 1, exp_type: 2 };
        assert_eq!(unknown(false, e), Err(OfpErr::OFPBPC_BAD_EXP_TYPE));
    }

    #[test]
    fn writes_padded_properties() {
        let mut b = BytesMut::new();
        put_u32(&mut b, 7, 0x0102_0304);
        let at = start(&mut b, 0);
        b.put_u8(0xaa);
        finish(&mut b, at);
        assert_eq!(&b[..], &[0, 7, 0, 8, 1, 2, 3, 4, 0, 0, 0, 5, 0xaa, 0, 0, 0]);
    }
}
