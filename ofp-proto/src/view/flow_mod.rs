//! OFPT_FLOW_MOD views (OF1.0, and OF1.1+ with an OXM or standard match).

use crate::buf::{be16, be32, be64};
use crate::header::{OFP10_VERSION, OFP11_VERSION};
use crate::msg::flow_mod::{FlowModCommand, FlowModFlags, OFPTT_ALL};
use crate::ofmatch::ofp10::{OFP10_MATCH_LEN, OFPFW10_ALL};
use crate::port_no;
use crate::raw::Raw;
use crate::view::instructions::InstructionsView;
use crate::view::matches::MatchView;

/// Fixed fields of an OF1.0 flow mod after its match, and of an OF1.1+ one before its match.
const OFP10_FIXED: usize = 24;
const OFP11_FIXED: usize = 40;

/// A flow mod, borrowed from the frame. Accessors give the wire fields as the owned decode reads
/// them (OF1.0: the table id in the command's high byte, as with NXT_FLOW_MOD_TABLE_ID).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlowModView<'a> {
    version: u8,
    fixed: &'a [u8],
    command: FlowModCommand,
    match_: MatchView<'a>,
    instructions: InstructionsView<'a>,
}

impl<'a> FlowModView<'a> {
    #[inline]
    pub(crate) fn layout(raw: Raw, version: u8, body: &'a [u8]) -> Option<Self> {
        let (fixed, match_, rest, command) = match raw {
            Raw::Ofpt10FlowMod => {
                let (m, rest) = body.split_at_checked(OFP10_MATCH_LEN)?;
                let (fixed, rest) = rest.split_at_checked(OFP10_FIXED)?;
                (fixed, MatchView::Ofp10(m.try_into().ok()?), rest, be16(fixed, 8) & 0xff)
            }
            Raw::Ofpt11FlowMod => {
                let (fixed, rest) = body.split_at_checked(OFP11_FIXED)?;
                let (m, padded) = MatchView::ofp11_layout(rest)?;
                (fixed, m, &rest[padded..], fixed[17].into())
            }
            _ => return None,
        };
        let command = FlowModCommand::from_wire(command)?;
        Some(FlowModView { version, fixed, command, match_, instructions: InstructionsView::new(rest, version) })
    }

    /// True only if the owned decode (with the default `FlowModOpts`) surely accepts it.
    #[inline]
    pub(crate) fn surely_valid(&self) -> bool {
        // No flags (the common case) decode as no flags, and counter resets for OF1.0/1.1 adds.
        let flags_ok = self.flags() == 0
            || FlowModFlags::decode(self.flags(), self.command == FlowModCommand::Add, self.version)
                .is_ok_and(|f| !f.has(FlowModFlags::EMERG));
        let fixed_ok = if self.version == OFP10_VERSION {
            true
        } else {
            let table_ok = self.table_id() != OFPTT_ALL || (self.version != OFP11_VERSION && self.command.is_delete());
            table_ok && port_no::from_ofp11(be32(self.fixed, 28)).is_ok()
        };
        fixed_ok && flags_ok && self.match_.surely_valid(true) && self.instructions.surely_valid()
    }

    fn is10(&self) -> bool {
        self.version == OFP10_VERSION
    }

    /// The cookie field (OF1.0: the new cookie).
    #[inline]
    pub fn cookie(&self) -> u64 {
        be64(self.fixed, 0)
    }

    /// 0 in OF1.0.
    #[inline]
    pub fn cookie_mask(&self) -> u64 {
        if self.is10() {
            0
        } else {
            be64(self.fixed, 8)
        }
    }

    #[inline]
    pub fn command(&self) -> FlowModCommand {
        self.command
    }

    #[inline]
    pub fn table_id(&self) -> u8 {
        if self.is10() {
            self.fixed[8]
        } else {
            self.fixed[16]
        }
    }

    #[inline]
    pub fn idle_timeout(&self) -> u16 {
        be16(self.fixed, if self.is10() { 10 } else { 18 })
    }

    #[inline]
    pub fn hard_timeout(&self) -> u16 {
        be16(self.fixed, if self.is10() { 12 } else { 20 })
    }

    /// The priority; an OF1.0 exact-match flow always has the highest (as the owned decode says).
    #[inline]
    pub fn priority(&self) -> u16 {
        match self.match_ {
            MatchView::Ofp10(m) if be32(m, 0) & OFPFW10_ALL == 0 => u16::MAX,
            _ => be16(self.fixed, if self.is10() { 14 } else { 22 }),
        }
    }

    #[inline]
    pub fn buffer_id(&self) -> u32 {
        be32(self.fixed, if self.is10() { 16 } else { 24 })
    }

    /// The out port (OF1.1+ numbering).
    #[inline]
    pub fn out_port(&self) -> u32 {
        if self.is10() {
            port_no::ofp10_to_ofp11(be16(self.fixed, 20))
        } else {
            be32(self.fixed, 28)
        }
    }

    /// The out group field (OFPG_ANY in OF1.0).
    #[inline]
    pub fn out_group(&self) -> u32 {
        if self.is10() {
            crate::msg::flow_mod::OFPG_ANY
        } else {
            be32(self.fixed, 32)
        }
    }

    /// The flags as on the wire (see [`FlowModFlags::decode`]).
    #[inline]
    pub fn flags(&self) -> u16 {
        be16(self.fixed, if self.is10() { 22 } else { 36 })
    }

    /// The importance field (0 in OF1.0).
    #[inline]
    pub fn importance(&self) -> u16 {
        if self.is10() {
            0
        } else {
            be16(self.fixed, 38)
        }
    }

    #[inline]
    pub fn match_(&self) -> MatchView<'a> {
        self.match_
    }

    /// OF1.1+ instructions; OF1.0's action list reads as one apply-actions.
    #[inline]
    pub fn instructions(&self) -> InstructionsView<'a> {
        self.instructions
    }
}
