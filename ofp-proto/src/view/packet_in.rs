//! OFPT_PACKET_IN views (OF1.0, and the OXM forms of OF1.2 and OF1.3–1.5).

use crate::buf::{be16, be32, be64};
use crate::port_no;
use crate::raw::Raw;
use crate::view::matches::MatchView;

/// A packet-in, borrowed from the frame. Accessors return what the owned
/// [`crate::msg::PacketIn`] holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PacketInView<'a> {
    raw: Raw,
    /// The fixed fields before the match (OF1.0: before the packet).
    fixed: &'a [u8],
    metadata: Option<MatchView<'a>>,
    in_port: u32,
    data: &'a [u8],
}

impl<'a> PacketInView<'a> {
    /// The packet-in of layout `raw` in `body` (the bytes after the header), if it has one, and
    /// whether the owned decoder surely accepts it.
    #[inline]
    pub(crate) fn layout(raw: Raw, body: &'a [u8]) -> Option<(Self, bool)> {
        let fixed_len = match raw {
            Raw::Ofpt10PacketIn => {
                let (fixed, data) = body.split_at_checked(10)?;
                let in_port = port_no::ofp10_to_ofp11(be16(fixed, 6));
                return Some((PacketInView { raw, fixed, metadata: None, in_port, data }, true));
            }
            Raw::Ofpt12PacketIn => 8,
            Raw::Ofpt13PacketIn => 16,
            _ => return None,
        };
        let (fixed, rest) = body.split_at_checked(fixed_len)?;
        let (m @ MatchView::Oxm(_), padded) = MatchView::ofp11_layout(rest)? else { return None };
        let data = rest.get(padded + 2..)?;
        let checked = m.loose_in_port();
        let in_port = checked.unwrap_or_else(|| m.in_port());
        Some((PacketInView { raw, fixed, metadata: Some(m), in_port, data }, checked.is_some()))
    }

    #[inline]
    pub fn buffer_id(&self) -> u32 {
        be32(self.fixed, 0)
    }

    /// Length of the whole packet (the data may be truncated).
    #[inline]
    pub fn total_len(&self) -> u32 {
        be16(self.fixed, 4).into()
    }

    /// OFPR_* as on the wire.
    #[inline]
    pub fn reason(&self) -> u8 {
        if self.raw == Raw::Ofpt10PacketIn {
            self.fixed[8]
        } else {
            self.fixed[6]
        }
    }

    /// 0 in OF1.0, which does not say.
    #[inline]
    pub fn table_id(&self) -> u8 {
        if self.raw == Raw::Ofpt10PacketIn {
            0
        } else {
            self.fixed[7]
        }
    }

    /// The cookie of the flow that sent it; u64::MAX before OF1.3.
    #[inline]
    pub fn cookie(&self) -> u64 {
        if self.raw == Raw::Ofpt13PacketIn {
            be64(self.fixed, 8)
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
        self.metadata
    }

    /// The packet (or its first bytes).
    #[inline]
    pub fn data(&self) -> &'a [u8] {
        self.data
    }
}
