//! The 8-byte OpenFlow header, protocol versions and version bitmaps.

use std::fmt;

use bytes::{BufMut, BytesMut};

pub const OFP10_VERSION: u8 = 0x01;
pub const OFP11_VERSION: u8 = 0x02;
pub const OFP12_VERSION: u8 = 0x03;
pub const OFP13_VERSION: u8 = 0x04;
pub const OFP14_VERSION: u8 = 0x05;
pub const OFP15_VERSION: u8 = 0x06;

/// The largest message an OpenFlow header can describe.
pub const MAX_MSG_LEN: usize = 65535;
pub const HEADER_LEN: usize = 8;

/// A protocol version this codec implements.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum Version {
    Of10 = 1,
    Of11 = 2,
    Of12 = 3,
    Of13 = 4,
    Of14 = 5,
    Of15 = 6,
}

impl Version {
    pub const ALL: [Version; 6] =
        [Version::Of10, Version::Of11, Version::Of12, Version::Of13, Version::Of14, Version::Of15];

    pub fn from_wire(v: u8) -> Option<Version> {
        Version::ALL.get(usize::from(v).wrapping_sub(1)).copied()
    }

    pub fn wire(self) -> u8 {
        self as u8
    }

    /// OVS's protocol name, e.g. `OpenFlow13`.
    pub fn ovs_name(self) -> &'static str {
        match self {
            Version::Of10 => "OpenFlow10",
            Version::Of11 => "OpenFlow11",
            Version::Of12 => "OpenFlow12",
            Version::Of13 => "OpenFlow13",
            Version::Of14 => "OpenFlow14",
            Version::Of15 => "OpenFlow15",
        }
    }

    pub fn from_ovs_name(s: &str) -> Option<Version> {
        Version::ALL.into_iter().find(|v| v.ovs_name().eq_ignore_ascii_case(s))
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v = *self as u8;
        write!(f, "OF1.{}", v - 1)
    }
}

/// A set of wire versions 0..=31 as a bitmap (bit N = version N), the form HELLO elements carry.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct VersionBitmap(pub u32);

impl VersionBitmap {
    /// OF1.0 through OF1.5, the default allowed set.
    pub const DEFAULT: VersionBitmap = VersionBitmap(0b111_1110);

    /// Versions 1..=`v` (a HELLO without a bitmap element means exactly this).
    pub fn up_to(v: u8) -> VersionBitmap {
        let v = u32::from(v.min(31));
        VersionBitmap(((1u64 << (v + 1)) - 2) as u32)
    }

    pub fn single(v: u8) -> VersionBitmap {
        VersionBitmap(if v < 32 { 1 << v } else { 0 })
    }

    pub fn from_versions(vs: impl IntoIterator<Item = Version>) -> VersionBitmap {
        VersionBitmap(vs.into_iter().fold(0, |m, v| m | 1 << (v as u8)))
    }

    pub fn contains(self, v: u8) -> bool {
        v < 32 && self.0 & (1 << v) != 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn highest(self) -> Option<u8> {
        (self.0 != 0).then(|| 31 - self.0.leading_zeros() as u8)
    }

    pub fn intersect(self, other: VersionBitmap) -> VersionBitmap {
        VersionBitmap(self.0 & other.0)
    }

    pub fn iter(self) -> impl Iterator<Item = u8> {
        (0..32u8).filter(move |v| self.contains(*v))
    }
}

/// The fixed header. `length` is the whole message including these 8 bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Header {
    pub version: u8,
    pub msg_type: u8,
    pub length: u16,
    pub xid: u32,
}

impl Header {
    /// Reads a header from the first 8 bytes, if there are 8.
    pub fn parse(b: &[u8]) -> Option<Header> {
        let h: &[u8; 8] = b.get(..8)?.try_into().ok()?;
        Some(Header {
            version: h[0],
            msg_type: h[1],
            length: u16::from_be_bytes([h[2], h[3]]),
            xid: u32::from_be_bytes([h[4], h[5], h[6], h[7]]),
        })
    }

    pub fn put(&self, buf: &mut BytesMut) {
        buf.put_u8(self.version);
        buf.put_u8(self.msg_type);
        buf.put_u16(self.length);
        buf.put_u32(self.xid);
    }
}

/// Reads the xid of a (possibly truncated) message, 0 if it is too short to have one.
pub fn xid_of(msg: &[u8]) -> u32 {
    Header::parse(msg).map_or(0, |h| h.xid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bitmaps() {
        assert_eq!(VersionBitmap::up_to(4), VersionBitmap(0b11110));
        assert_eq!(VersionBitmap::up_to(6), VersionBitmap::DEFAULT);
        assert_eq!(VersionBitmap::up_to(31).highest(), Some(31));
        assert_eq!(VersionBitmap(0x12).iter().collect::<Vec<_>>(), [1, 4]);
        assert_eq!(VersionBitmap::from_versions([Version::Of10, Version::Of13]), VersionBitmap(0x12));
    }

    #[test]
    fn versions() {
        assert_eq!(Version::from_wire(4), Some(Version::Of13));
        assert_eq!(Version::from_wire(0), None);
        assert_eq!(Version::from_wire(7), None);
        assert_eq!(Version::Of13.to_string(), "OF1.3");
        assert_eq!(Version::from_ovs_name("openflow14"), Some(Version::Of14));
    }
}
