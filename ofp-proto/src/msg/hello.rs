//! OFPT_HELLO with version-bitmap elements, decoded exactly as OVS's `ofputil_decode_hello`.

use bytes::{BufMut, BytesMut};

use crate::buf::{round_up8, Reader};
use crate::header::VersionBitmap;

const OFPHET_VERSIONBITMAP: u16 = 1;

/// Anything in a peer's hello that OVS tolerates but reports ("unknown data in hello").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HelloJunk {
    /// Bytes after the last element too short for an element header, or an element whose length
    /// is below 4 or runs past the message (the walk stops there).
    Trailing,
    /// An element of a type other than VERSIONBITMAP.
    UnknownElement(u16),
    /// A bitmap element with no bitmap, or one not a multiple of 4 bytes (ignored).
    BadBitmapLength,
    /// A bitmap naming no version 1..31 (ignored: the header's version stands).
    EmptyBitmap,
}

/// A decoded hello: the versions the peer allows, and what was odd about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hello {
    pub versions: VersionBitmap,
    /// Whether the encoded form carries a bitmap element (decoded hellos: whether one was accepted).
    pub has_bitmap: bool,
    /// The peer claimed version 0 in its bitmap; the bit was cleared (OVS warns).
    pub claimed_version0: bool,
    pub junk: Vec<HelloJunk>,
}

impl Hello {
    /// The hello OVS sends for an allowed set: a bitmap element only when the set is not
    /// 1..=highest (`should_send_version_bitmap`).
    pub fn new(allowed: VersionBitmap) -> Hello {
        let contiguous = ((allowed.0 >> 1) + 1).is_power_of_two();
        Hello { versions: allowed, has_bitmap: !contiguous, claimed_version0: false, junk: Vec::new() }
    }

    /// The header version to send: the highest allowed version.
    pub fn header_version(&self) -> u8 {
        self.versions.highest().unwrap_or(1)
    }

    /// True if OVS's decoder would return "ok" (nothing to report).
    pub fn is_clean(&self) -> bool {
        self.junk.is_empty()
    }

    pub fn decode(header_version: u8, r: &mut Reader) -> Hello {
        let mut h = Hello {
            versions: VersionBitmap::up_to(header_version),
            has_bitmap: false,
            claimed_version0: false,
            junk: Vec::new(),
        };
        while !r.is_empty() {
            let (Ok(etype), Ok(len)) = (r.peek_u16(), r.peek_u32().map(|v| (v & 0xffff) as u16)) else {
                h.junk.push(HelloJunk::Trailing);
                break;
            };
            let len = usize::from(len);
            if len < 4 || r.remaining() < round_up8(len) {
                h.junk.push(HelloJunk::Trailing);
                break;
            }
            let mut elem = r.sub(round_up8(len)).expect("length checked above");
            if etype != OFPHET_VERSIONBITMAP {
                h.junk.push(HelloJunk::UnknownElement(etype));
                continue;
            }
            let bitmap_len = len - 4;
            if bitmap_len == 0 || bitmap_len % 4 != 0 {
                h.junk.push(HelloJunk::BadBitmapLength);
                continue;
            }
            let _ = elem.skip(4);
            // Only the first 32 bits matter: OpenFlow versions above 31 do not exist yet.
            let mut bits = elem.u32().expect("bitmap_len >= 4");
            if bits & 1 != 0 {
                h.claimed_version0 = true;
                bits &= !1;
            }
            if bits == 0 {
                h.junk.push(HelloJunk::EmptyBitmap);
                continue;
            }
            h.versions = VersionBitmap(bits);
            h.has_bitmap = true;
        }
        h
    }

    pub fn encode(&self, buf: &mut BytesMut) {
        if self.has_bitmap {
            buf.put_u16(OFPHET_VERSIONBITMAP);
            buf.put_u16(8);
            buf.put_u32(self.versions.0);
        }
    }

    /// OVS's text for a bitmap: "0x01, 0x04".
    pub fn format_bitmap(bitmap: VersionBitmap, out: &mut String) {
        let v: Vec<String> = bitmap.iter().map(|v| format!("0x{v:02x}")).collect();
        out.push_str(&v.join(", "));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn dec(version: u8, body: &[u8]) -> Hello {
        Hello::decode(version, &mut Reader::new(Bytes::copy_from_slice(body)))
    }

    #[test]
    fn header_version_alone_means_all_up_to_it() {
        let h = dec(4, &[]);
        assert_eq!(h.versions, VersionBitmap(0b11110));
        assert!(h.is_clean() && !h.has_bitmap);
    }

    #[test]
    fn bitmap_element_overrides_header() {
        let h = dec(4, &[0, 1, 0, 8, 0, 0, 0, 0x12]);
        assert_eq!(h.versions, VersionBitmap(0x12));
        assert!(h.is_clean());
    }

    #[test]
    fn bit_zero_is_cleared_and_empty_bitmap_keeps_header() {
        let h = dec(4, &[0, 1, 0, 8, 0, 0, 0, 0x13]);
        assert_eq!(h.versions, VersionBitmap(0x12));
        assert!(h.claimed_version0 && h.is_clean());
        let h = dec(1, &[0, 1, 0, 8, 0, 0, 0, 0]);
        assert_eq!(h.versions, VersionBitmap(0x2));
        assert_eq!(h.junk, [HelloJunk::EmptyBitmap]);
    }

    #[test]
    fn unknown_elements_and_trailing_bytes_are_tolerated() {
        let h = dec(4, &[0, 9, 0, 4, 0, 0, 0, 0, 0, 1, 0, 8, 0, 0, 0, 0x10, 1, 2]);
        assert_eq!(h.versions, VersionBitmap(0x10));
        assert_eq!(h.junk, [HelloJunk::UnknownElement(9), HelloJunk::Trailing]);
        // Element length running past the message stops the walk.
        let h = dec(4, &[0, 1, 0, 16, 0, 0, 0, 0x10]);
        assert_eq!(h.versions, VersionBitmap(0b11110));
        assert_eq!(h.junk, [HelloJunk::Trailing]);
    }

    #[test]
    fn bitmap_sent_only_for_non_contiguous_sets() {
        assert!(!Hello::new(VersionBitmap::DEFAULT).has_bitmap);
        assert!(!Hello::new(VersionBitmap(0b10)).has_bitmap);
        assert!(Hello::new(VersionBitmap(0x10)).has_bitmap);
        assert!(Hello::new(VersionBitmap(0x12)).has_bitmap);
        assert_eq!(Hello::new(VersionBitmap(0x12)).header_version(), 4);
    }
}
