//! Multipart reply views: flow statistics (OF1.1–1.4 layout) and port statistics (OF1.0–1.3
//! fixed layouts), each a list of entry views.

use crate::buf::{be16, be32, be64};
use crate::header::{OFP10_VERSION, OFP13_VERSION};
use crate::msg::flow_mod::FlowModFlags;
use crate::port_no;
use crate::raw::Raw;
use crate::view::instructions::InstructionsView;
use crate::view::matches::MatchView;

/// Fixed part of an `ofp11_flow_stats` / `ofp13_flow_stats` entry, before its match.
const FLOW_STATS_FIXED: usize = 48;

/// A flow statistics reply's entries, borrowed from the frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlowStatsReplyView<'a> {
    /// The version, as a word (see [`super::BodyView`]).
    version: u32,
    body: &'a [u8],
}

/// One flow's statistics.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlowStatsView<'a> {
    /// The whole entry, at least its fixed part; its match and instructions are where the
    /// reply's parsing found them (and, should they not be, read as empty).
    entry: &'a [u8],
    version: u8,
}

/// The entries in wire order.
#[derive(Clone, Debug)]
pub struct FlowStatsIter<'a> {
    rest: &'a [u8],
    version: u8,
}

impl<'a> FlowStatsView<'a> {
    /// The match and the instructions of the entry by its layout.
    #[inline]
    fn layout(&self) -> Option<(MatchView<'a>, InstructionsView<'a>)> {
        let rest = self.entry.get(FLOW_STATS_FIXED..)?;
        let (match_, padded) = MatchView::ofp11_layout(rest)?;
        Some((match_, InstructionsView::new(rest.get(padded..)?, self.version)))
    }
}

impl<'a> Iterator for FlowStatsIter<'a> {
    type Item = FlowStatsView<'a>;

    /// Splits the next entry off by its length (the reply's parsing checked the rest).
    #[inline]
    fn next(&mut self) -> Option<FlowStatsView<'a>> {
        let len = usize::from(u16::from_be_bytes(*self.rest.first_chunk::<2>()?));
        let Some(entry) = self.rest.get(..len).filter(|_| len >= FLOW_STATS_FIXED) else {
            self.rest = &[];
            return None;
        };
        self.rest = &self.rest[len..];
        Some(FlowStatsView { entry, version: self.version })
    }
}

impl<'a> FlowStatsReplyView<'a> {
    /// The reply by its layout, and whether the owned decoder surely accepts every entry.
    #[inline]
    pub(crate) fn layout(raw: Raw, version: u8, body: &'a [u8]) -> Option<(Self, bool)> {
        if !matches!(raw, Raw::Ofpst11FlowReply | Raw::Ofpst13FlowReply) {
            return None;
        }
        Some((FlowStatsReplyView { version: version.into(), body }, Self::entries_valid(raw, version, body)?))
    }

    /// Whether the owned decoder surely accepts every entry of `body`, `None` if they do not
    /// lay out. (Out of line: the entries' checks inline into their loop.)
    #[inline(never)]
    fn entries_valid(raw: Raw, version: u8, body: &[u8]) -> Option<bool> {
        let mut it = FlowStatsIter { rest: body, version };
        let mut valid = true;
        while !it.rest.is_empty() {
            let e = it.next()?;
            let (match_, instructions) = e.layout()?;
            valid = valid
                && (raw != Raw::Ofpst13FlowReply
                    || e.flags() == 0
                    || FlowModFlags::decode(e.flags(), false, version).is_ok())
                && match_.surely_valid(true)
                && instructions.surely_valid();
        }
        Some(valid)
    }

    #[inline]
    pub fn entries(&self) -> FlowStatsIter<'a> {
        FlowStatsIter { rest: self.body, version: self.version as u8 }
    }
}

impl<'a> FlowStatsView<'a> {
    #[inline]
    pub fn table_id(&self) -> u8 {
        self.entry[2]
    }

    #[inline]
    pub fn duration_sec(&self) -> u32 {
        be32(self.entry, 4)
    }

    #[inline]
    pub fn duration_nsec(&self) -> u32 {
        be32(self.entry, 8)
    }

    #[inline]
    pub fn priority(&self) -> u16 {
        be16(self.entry, 12)
    }

    #[inline]
    pub fn idle_timeout(&self) -> u16 {
        be16(self.entry, 14)
    }

    #[inline]
    pub fn hard_timeout(&self) -> u16 {
        be16(self.entry, 16)
    }

    /// The flags as on the wire (OF1.3+; see [`FlowModFlags::decode`]).
    #[inline]
    pub fn flags(&self) -> u16 {
        be16(self.entry, 18)
    }

    /// The importance field as on the wire (meaningful in OF1.4).
    #[inline]
    pub fn importance(&self) -> u16 {
        be16(self.entry, 20)
    }

    #[inline]
    pub fn cookie(&self) -> u64 {
        be64(self.entry, 24)
    }

    #[inline]
    pub fn packet_count(&self) -> u64 {
        be64(self.entry, 32)
    }

    #[inline]
    pub fn byte_count(&self) -> u64 {
        be64(self.entry, 40)
    }

    #[inline]
    pub fn match_(&self) -> MatchView<'a> {
        self.layout().map_or(MatchView::Oxm(&[]), |(m, _)| m)
    }

    #[inline]
    pub fn instructions(&self) -> InstructionsView<'a> {
        self.layout().map_or(InstructionsView::new(&[], self.version), |(_, i)| i)
    }
}

/// A port statistics reply's entries (OF1.0–1.3), borrowed from the frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PortStatsReplyView<'a> {
    /// The version, as a word (see [`super::BodyView`]).
    version: u32,
    body: &'a [u8],
}

/// One port's counters, as the owned [`crate::msg::stats::PortStats`] holds them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PortStatsView<'a> {
    version: u8,
    bytes: &'a [u8],
}

/// Length of a port statistics entry in `version` (OF1.3 adds the duration).
fn port_stats_len(version: u8) -> usize {
    if version == OFP13_VERSION {
        112
    } else {
        104
    }
}

impl<'a> PortStatsReplyView<'a> {
    #[inline]
    pub(crate) fn layout(raw: Raw, version: u8, body: &'a [u8]) -> Option<Self> {
        let fixed = matches!(raw, Raw::Ofpst10PortReply | Raw::Ofpst11PortReply | Raw::Ofpst13PortReply);
        (fixed && body.len().is_multiple_of(port_stats_len(version)))
            .then_some(PortStatsReplyView { version: version.into(), body })
    }

    #[inline]
    pub(crate) fn surely_valid(&self) -> bool {
        self.version == u32::from(OFP10_VERSION) || self.ports().all(|p| port_no::from_ofp11(be32(p.bytes, 0)).is_ok())
    }

    #[inline]
    pub fn ports(&self) -> impl ExactSizeIterator<Item = PortStatsView<'a>> + use<'a> {
        let version = self.version as u8;
        self.body.chunks_exact(port_stats_len(version)).map(move |bytes| PortStatsView { version, bytes })
    }
}

impl PortStatsView<'_> {
    /// OF1.1+ numbering.
    #[inline]
    pub fn port_no(&self) -> u32 {
        if self.version == OFP10_VERSION {
            port_no::ofp10_to_ofp11(be16(self.bytes, 0))
        } else {
            be32(self.bytes, 0)
        }
    }

    #[inline]
    fn counter(&self, i: usize) -> u64 {
        be64(self.bytes, 8 + 8 * i)
    }

    #[inline]
    pub fn rx_packets(&self) -> u64 {
        self.counter(0)
    }
    #[inline]
    pub fn tx_packets(&self) -> u64 {
        self.counter(1)
    }
    #[inline]
    pub fn rx_bytes(&self) -> u64 {
        self.counter(2)
    }
    #[inline]
    pub fn tx_bytes(&self) -> u64 {
        self.counter(3)
    }
    #[inline]
    pub fn rx_dropped(&self) -> u64 {
        self.counter(4)
    }
    #[inline]
    pub fn tx_dropped(&self) -> u64 {
        self.counter(5)
    }
    #[inline]
    pub fn rx_errors(&self) -> u64 {
        self.counter(6)
    }
    #[inline]
    pub fn tx_errors(&self) -> u64 {
        self.counter(7)
    }
    #[inline]
    pub fn rx_frame_err(&self) -> u64 {
        self.counter(8)
    }
    #[inline]
    pub fn rx_over_err(&self) -> u64 {
        self.counter(9)
    }
    #[inline]
    pub fn rx_crc_err(&self) -> u64 {
        self.counter(10)
    }
    #[inline]
    pub fn collisions(&self) -> u64 {
        self.counter(11)
    }

    /// (seconds, nanoseconds) alive; OF1.3 only, `(u32::MAX, u32::MAX)` (unknown) before.
    #[inline]
    pub fn duration(&self) -> (u32, u32) {
        if self.version == OFP13_VERSION {
            (be32(self.bytes, 104), be32(self.bytes, 108))
        } else {
            (u32::MAX, u32::MAX)
        }
    }
}
