//! OpenFlow TLV properties (OVS `ofp-prop`): 16-bit type and length, payload padded to 8 bytes,
//! type 0xffff carrying an experimenter id and type. Used by NXT_PACKET_IN2 and NXAST_CONTROLLER2.

use bytes::{BufMut, Bytes, BytesMut};

use crate::buf::pad8;
use crate::errors::OfpErr;

/// One property: its type and its payload after the 4-byte header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Prop {
    pub ptype: u16,
    pub payload: Bytes,
}

/// Pulls the next property from `data` (OVS `ofpprop_pull`), advancing past its padding.
pub fn pull(data: &mut Bytes) -> Result<Prop, OfpErr> {
    if data.len() < 4 {
        return Err(OfpErr::OFPBPC_BAD_LEN);
    }
    let ptype = u16::from_be_bytes([data[0], data[1]]);
    let len = usize::from(u16::from_be_bytes([data[2], data[3]]));
    let padded = crate::buf::round_up8(len);
    if len < 4 || padded > data.len() {
        return Err(OfpErr::OFPBPC_BAD_LEN);
    }
    if ptype == 0xffff {
        if len < 12 {
            return Err(OfpErr::OFPBPC_BAD_LEN);
        }
        if data[4..8] == [0; 4] {
            return Err(OfpErr::OFPBPC_BAD_EXPERIMENTER);
        }
    }
    let payload = data.slice(4..len);
    let _ = data.split_to(padded);
    Ok(Prop { ptype, payload })
}

/// The error for a property type the receiver does not know (OVS `ofpprop_unknown`, not loose).
pub fn unknown(ptype: u16) -> OfpErr {
    if ptype == 0xffff {
        OfpErr::OFPBPC_BAD_EXP_TYPE
    } else {
        OfpErr::OFPBPC_BAD_TYPE
    }
}

impl Prop {
    pub fn u8(&self) -> Result<u8, OfpErr> {
        self.payload.first().copied().ok_or(OfpErr::OFPBPC_BAD_LEN)
    }

    /// At least two bytes (OpenFlow pads 16-bit properties to 8).
    pub fn u16(&self) -> Result<u16, OfpErr> {
        match &self.payload[..] {
            [a, b, ..] => Ok(u16::from_be_bytes([*a, *b])),
            _ => Err(OfpErr::OFPBPC_BAD_LEN),
        }
    }

    /// Exactly four bytes.
    pub fn u32(&self) -> Result<u32, OfpErr> {
        let b: [u8; 4] = self.payload[..].try_into().map_err(|_| OfpErr::OFPBPC_BAD_LEN)?;
        Ok(u32::from_be_bytes(b))
    }

    /// A 64-bit value, which sits 8-byte aligned: 4 bytes of padding after the header.
    pub fn u64(&self) -> Result<u64, OfpErr> {
        if self.payload.len() != 12 {
            return Err(OfpErr::OFPBPC_BAD_LEN);
        }
        let b: [u8; 8] = self.payload[4..].try_into().map_err(|_| OfpErr::OFPBPC_BAD_LEN)?;
        Ok(u64::from_be_bytes(b))
    }

    /// The nested properties of a property whose contents start 8-byte aligned.
    pub fn nested(&self) -> Result<Bytes, OfpErr> {
        if self.payload.len() < 4 {
            return Err(OfpErr::OFPBPC_BAD_LEN);
        }
        Ok(self.payload.slice(4..))
    }
}

/// Appends a property with `value` as payload, padded to 8.
pub fn put(buf: &mut BytesMut, ptype: u16, value: &[u8]) {
    let start = buf.len();
    buf.put_u16(ptype);
    buf.put_u16((4 + value.len()) as u16);
    buf.put_slice(value);
    pad8(buf, start);
}

pub fn put_u8(buf: &mut BytesMut, ptype: u16, v: u8) {
    put(buf, ptype, &[v]);
}

/// 16-bit values get two bytes of padding inside the property, as OpenFlow does.
pub fn put_u16(buf: &mut BytesMut, ptype: u16, v: u16) {
    let b = v.to_be_bytes();
    put(buf, ptype, &[b[0], b[1], 0, 0]);
}

pub fn put_u32(buf: &mut BytesMut, ptype: u16, v: u32) {
    put(buf, ptype, &v.to_be_bytes());
}

/// 64-bit values start 8-byte aligned after 4 bytes of padding.
pub fn put_u64(buf: &mut BytesMut, ptype: u16, v: u64) {
    let mut b = [0u8; 12];
    b[4..].copy_from_slice(&v.to_be_bytes());
    put(buf, ptype, &b);
}

/// A property whose payload is `nested` (already-encoded properties), starting 8-byte aligned.
pub fn put_nested(buf: &mut BytesMut, ptype: u16, nested: &[u8]) {
    let mut v = Vec::with_capacity(4 + nested.len());
    v.extend_from_slice(&[0; 4]);
    v.extend_from_slice(nested);
    put(buf, ptype, &v);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_errors() {
        let mut b = BytesMut::new();
        put_u16(&mut b, 0, 0x1234);
        put_u64(&mut b, 4, 9);
        put(&mut b, 7, b"abc");
        assert_eq!(&b[..8], &[0, 0, 0, 8, 0x12, 0x34, 0, 0]);
        assert_eq!(&b[8..24], &[0, 4, 0, 16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9]);
        let mut d = b.freeze();
        assert_eq!(pull(&mut d).unwrap().u16(), Ok(0x1234));
        assert_eq!(pull(&mut d).unwrap().u64(), Ok(9));
        let p = pull(&mut d).unwrap();
        assert_eq!((p.ptype, &p.payload[..]), (7, &b"abc"[..]));
        assert!(d.is_empty());
        assert_eq!(pull(&mut Bytes::from_static(&[0, 1, 0, 3, 0, 0, 0, 0])), Err(OfpErr::OFPBPC_BAD_LEN));
        assert_eq!(pull(&mut Bytes::from_static(&[0, 1, 0, 12, 0, 0, 0, 0])), Err(OfpErr::OFPBPC_BAD_LEN));
        let exp0 = [0xff, 0xff, 0, 12, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0];
        assert_eq!(pull(&mut Bytes::copy_from_slice(&exp0)), Err(OfpErr::OFPBPC_BAD_EXPERIMENTER));
    }
}
