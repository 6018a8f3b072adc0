//! OFPT_PACKET_IN views (OF1.0, and the OXM forms of OF1.2 and OF1.3–1.5).

use crate::buf::{be16, be32, be64, round_up8};
use crate::ofmatch::nxm::OFPMT_OXM;
use crate::port_no;
use crate::raw::Raw;
use crate::view::matches::MatchView;

/// A packet-in, borrowed from the frame. Accessors return what the owned
/// [`crate::msg::PacketIn`] holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PacketInView<'a> {
    /// The bytes after the header: fixed fields, the match (OF1.2+), the packet.
    body: &'a [u8],
    raw: Raw,
    /// Where the packet starts in `body`.
    data_at: u16,
    in_port: u32,
}

/// The fixed fields before an OF1.2 / OF1.3+ packet-in's match.
const OFP12_FIXED: usize = 8;
const OFP13_FIXED: usize = 16;

impl<'a> PacketInView<'a> {
    /// The packet-in of layout `raw` in `body` (the bytes after the header), if it has one, and
    /// whether the owned decoder surely accepts it.
    #[inline]
    pub(crate) fn layout(raw: Raw, body: &'a [u8]) -> Option<(Self, bool)> {
        let fixed_len = match raw {
            Raw::Ofpt10PacketIn => {
                let in_port = port_no::ofp10_to_ofp11(be16(body.get(..10)?, 6));
                return Some((PacketInView { body, raw, data_at: 10, in_port }, true));
            }
            Raw::Ofpt12PacketIn => OFP12_FIXED,
            Raw::Ofpt13PacketIn => OFP13_FIXED,
            _ => return None,
        };
        // An OXM match (as `MatchView::ofp11_layout` finds it), its padding, 2 pad bytes, the packet.
        let rest = body.get(fixed_len..)?;
        let &[t0, t1, l0, l1] = rest.first_chunk::<4>()?;
        let len = usize::from(u16::from_be_bytes([l0, l1]));
        let data_at = fixed_len + round_up8(len) + 2;
        if u16::from_be_bytes([t0, t1]) != OFPMT_OXM || len < 4 || data_at > body.len() {
            return None;
        }
        let m = MatchView::Oxm(&rest[4..len]);
        let checked = m.loose_in_port();
        let in_port = checked.unwrap_or_else(|| m.in_port());
        let view = PacketInView { body, raw, data_at: u16::try_from(data_at).ok()?, in_port };
        Some((view, checked.is_some()))
    }

    /// The view of the `body` of an OpenFlow 1.3 packet-in (its header says so; the caller
    /// checked) whose metadata is only a valid input port, the shape most packet-ins have: what
    /// the general layout finds for it, read directly (`None` for anything else).
    #[inline(always)]
    pub(crate) fn of13_in_port_only(body: &'a [u8]) -> Option<PacketInView<'a>> {
        // Header, fixed fields, an OXM match of 12 bytes (padded to 16) holding OXM_OF_IN_PORT,
        // 2 pad bytes, the packet: 8 + 34 bytes at least, more than OF1.3's minimum of 8 + 16.
        const MATCH_IN_PORT: [u8; 8] = [0, 1, 0, 12, 0x80, 0x00, 0x00, 0x04];
        const DATA_AT: usize = OFP13_FIXED + 16 + 2;
        let md = body.get(OFP13_FIXED..DATA_AT)?;
        if md[..8] != MATCH_IN_PORT {
            return None;
        }
        let in_port = be32(md, 8);
        port_no::from_ofp11(in_port).ok()?;
        Some(PacketInView { body, raw: Raw::Ofpt13PacketIn, data_at: DATA_AT as u16, in_port })
    }

    #[inline]
    pub fn buffer_id(&self) -> u32 {
        be32(self.body, 0)
    }

    /// Length of the whole packet (the data may be truncated).
    #[inline]
    pub fn total_len(&self) -> u32 {
        be16(self.body, 4).into()
    }

    /// OFPR_* as on the wire.
    #[inline]
    pub fn reason(&self) -> u8 {
        if self.raw == Raw::Ofpt10PacketIn {
            self.body[8]
        } else {
            self.body[6]
        }
    }

    /// 0 in OF1.0, which does not say.
    #[inline]
    pub fn table_id(&self) -> u8 {
        if self.raw == Raw::Ofpt10PacketIn {
            0
        } else {
            self.body[7]
        }
    }

    /// The cookie of the flow that sent it; u64::MAX before OF1.3.
    #[inline]
    pub fn cookie(&self) -> u64 {
        if self.raw == Raw::Ofpt13PacketIn {
            be64(self.body, 8)
        } else {
            u64::MAX
        }
    }

    /// The input port (OF1.1+ numbering), 0 if the metadata does not say.
    #[inline]
    pub fn in_port(&self) -> u32 {
        self.in_port
    }

    /// The pipeline metadata (OF1.2+): in_port, registers, tunnel id, …
    #[inline]
    pub fn metadata(&self) -> Option<MatchView<'a>> {
        let fixed_len = match self.raw {
            Raw::Ofpt12PacketIn => OFP12_FIXED,
            Raw::Ofpt13PacketIn => OFP13_FIXED,
            _ => return None,
        };
        MatchView::ofp11_layout(self.body.get(fixed_len..)?).map(|(m, _)| m)
    }

    /// The packet (or its first bytes).
    #[inline]
    pub fn data(&self) -> &'a [u8] {
        self.body.get(usize::from(self.data_at)..).unwrap_or_default()
    }
}
