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
    /// The bytes after the header: at least the match and the fixed fields.
    body: &'a [u8],
    /// Where the instructions (OF1.0: the actions) start in `body` (bits 0–15), the version
    /// (16–23) and the command (24–31): one word (see [`super::BodyView`]).
    packed: u32,
}

impl<'a> FlowModView<'a> {
    #[inline]
    pub(crate) fn layout(raw: Raw, version: u8, body: &'a [u8]) -> Option<Self> {
        let (command, instructions_at) = match raw {
            Raw::Ofpt10FlowMod => {
                let fixed = body.get(OFP10_MATCH_LEN..OFP10_MATCH_LEN + OFP10_FIXED)?;
                (be16(fixed, 8) & 0xff, OFP10_MATCH_LEN + OFP10_FIXED)
            }
            Raw::Ofpt11FlowMod => {
                let fixed = body.get(..OFP11_FIXED)?;
                let (_, padded) = MatchView::ofp11_layout(&body[OFP11_FIXED..])?;
                (fixed[17].into(), OFP11_FIXED + padded)
            }
            _ => return None,
        };
        let command = FlowModCommand::from_wire(command)? as u32;
        let at = u32::from(u16::try_from(instructions_at).ok()?);
        Some(FlowModView { body, packed: at | u32::from(version) << 16 | command << 24 })
    }

    /// The fixed fields (after the match in OF1.0, before it after).
    #[inline]
    fn fixed(&self) -> &'a [u8] {
        if self.is10() {
            &self.body[OFP10_MATCH_LEN..OFP10_MATCH_LEN + OFP10_FIXED]
        } else {
            &self.body[..OFP11_FIXED]
        }
    }

    /// True only if the owned decode (with the default `FlowModOpts`) surely accepts it. (Out of
    /// line: the match and instruction checks inline into it.)
    #[inline(never)]
    pub(crate) fn surely_valid(&self) -> bool {
        let fixed = self.fixed();
        let (flags, fixed_ok) = if self.is10() {
            (be16(fixed, 22), true)
        } else {
            let table_ok = fixed[16] != OFPTT_ALL || (self.version() != OFP11_VERSION && self.command().is_delete());
            (be16(fixed, 36), table_ok && port_no::from_ofp11(be32(fixed, 28)).is_ok())
        };
        // No flags (the common case) decode as no flags, and counter resets for OF1.0/1.1 adds.
        let flags_ok = flags == 0
            || FlowModFlags::decode(flags, self.command() == FlowModCommand::Add, self.version())
                .is_ok_and(|f| !f.has(FlowModFlags::EMERG));
        fixed_ok && flags_ok && self.match_().surely_valid(true) && self.instructions().surely_valid()
    }

    fn instructions_at(&self) -> usize {
        usize::from(self.packed as u16)
    }

    fn version(&self) -> u8 {
        (self.packed >> 16) as u8
    }

    fn is10(&self) -> bool {
        self.version() == OFP10_VERSION
    }

    /// The cookie field (OF1.0: the new cookie).
    #[inline]
    pub fn cookie(&self) -> u64 {
        be64(self.fixed(), 0)
    }

    /// 0 in OF1.0.
    #[inline]
    pub fn cookie_mask(&self) -> u64 {
        if self.is10() {
            0
        } else {
            be64(self.fixed(), 8)
        }
    }

    #[inline]
    pub fn command(&self) -> FlowModCommand {
        // Always a command: `layout` stored one.
        FlowModCommand::from_wire((self.packed >> 24) as u16).unwrap_or(FlowModCommand::Add)
    }

    #[inline]
    pub fn table_id(&self) -> u8 {
        if self.is10() {
            self.fixed()[8]
        } else {
            self.fixed()[16]
        }
    }

    #[inline]
    pub fn idle_timeout(&self) -> u16 {
        be16(self.fixed(), if self.is10() { 10 } else { 18 })
    }

    #[inline]
    pub fn hard_timeout(&self) -> u16 {
        be16(self.fixed(), if self.is10() { 12 } else { 20 })
    }

    /// The priority; an OF1.0 exact-match flow always has the highest (as the owned decode says).
    #[inline]
    pub fn priority(&self) -> u16 {
        if self.is10() && be32(self.body, 0) & OFPFW10_ALL == 0 {
            u16::MAX
        } else {
            be16(self.fixed(), if self.is10() { 14 } else { 22 })
        }
    }

    #[inline]
    pub fn buffer_id(&self) -> u32 {
        be32(self.fixed(), if self.is10() { 16 } else { 24 })
    }

    /// The out port (OF1.1+ numbering).
    #[inline]
    pub fn out_port(&self) -> u32 {
        if self.is10() {
            port_no::ofp10_to_ofp11(be16(self.fixed(), 20))
        } else {
            be32(self.fixed(), 28)
        }
    }

    /// The out group field (OFPG_ANY in OF1.0).
    #[inline]
    pub fn out_group(&self) -> u32 {
        if self.is10() {
            crate::msg::flow_mod::OFPG_ANY
        } else {
            be32(self.fixed(), 32)
        }
    }

    /// The flags as on the wire (see [`FlowModFlags::decode`]).
    #[inline]
    pub fn flags(&self) -> u16 {
        be16(self.fixed(), if self.is10() { 22 } else { 36 })
    }

    /// The importance field (0 in OF1.0).
    #[inline]
    pub fn importance(&self) -> u16 {
        if self.is10() {
            0
        } else {
            be16(self.fixed(), 38)
        }
    }

    #[inline]
    pub fn match_(&self) -> MatchView<'a> {
        // Where parsing found it (an empty OXM match should it not be there).
        let m = if self.is10() {
            self.body.first_chunk::<OFP10_MATCH_LEN>().map(MatchView::Ofp10)
        } else {
            self.body.get(OFP11_FIXED..).and_then(MatchView::ofp11_layout).map(|(m, _)| m)
        };
        m.unwrap_or(MatchView::Oxm(&[]))
    }

    /// OF1.1+ instructions; OF1.0's action list reads as one apply-actions.
    #[inline]
    pub fn instructions(&self) -> InstructionsView<'a> {
        InstructionsView::new(self.body.get(self.instructions_at()..).unwrap_or_default(), self.version())
    }
}
