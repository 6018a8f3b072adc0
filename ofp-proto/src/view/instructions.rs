//! Instruction and action views: OF1.1+ instruction TLVs and action lists iterated in place, and
//! the conservative check that the owned decoder accepts them.

use crate::actions::check_output_port;
use crate::buf::{be16, be32, be64};
use crate::header::OFP10_VERSION;
use crate::instructions::{
    OFPIT11_APPLY_ACTIONS, OFPIT11_CLEAR_ACTIONS, OFPIT11_GOTO_TABLE, OFPIT11_WRITE_ACTIONS, OFPIT11_WRITE_METADATA,
    OFPIT13_METER,
};
use crate::port_no;

/// OFPAT_OUTPUT, in every version.
const OFPAT_OUTPUT: u16 = 0;

/// A message's instructions (OF1.1+) or action list (OF1.0), borrowed from the frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InstructionsView<'a> {
    data: &'a [u8],
    version: u8,
}

/// One instruction. An OF1.0 action list reads as a single `ApplyActions`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InstructionView<'a> {
    GotoTable(u8),
    WriteMetadata {
        metadata: u64,
        mask: u64,
    },
    WriteActions(ActionsView<'a>),
    ApplyActions(ActionsView<'a>),
    ClearActions,
    Meter(u32),
    /// A type this view does not name (the message parsed, so the owned decode knows it).
    Other {
        itype: u16,
        body: &'a [u8],
    },
}

/// The instructions in wire order.
#[derive(Clone, Debug)]
pub struct InstructionIter<'a> {
    rest: &'a [u8],
    version: u8,
}

impl<'a> Iterator for InstructionIter<'a> {
    type Item = InstructionView<'a>;

    #[inline]
    fn next(&mut self) -> Option<InstructionView<'a>> {
        if self.version == OFP10_VERSION {
            let all = std::mem::take(&mut self.rest);
            return (!all.is_empty()).then_some(InstructionView::ApplyActions(ActionsView::new(all, self.version)));
        }
        let len = usize::from(u16::from_be_bytes([*self.rest.get(2)?, *self.rest.get(3)?]));
        let Some(inst) = self.rest.get(..len).filter(|_| len >= 8) else {
            self.rest = &[];
            return None;
        };
        self.rest = &self.rest[len..];
        let body = &inst[4..];
        let actions = || ActionsView::new(&inst[8..], self.version);
        Some(match be16(inst, 0) {
            OFPIT11_GOTO_TABLE => InstructionView::GotoTable(inst[4]),
            OFPIT11_WRITE_METADATA if len >= 24 => {
                InstructionView::WriteMetadata { metadata: be64(inst, 8), mask: be64(inst, 16) }
            }
            OFPIT11_WRITE_ACTIONS => InstructionView::WriteActions(actions()),
            OFPIT11_APPLY_ACTIONS => InstructionView::ApplyActions(actions()),
            OFPIT11_CLEAR_ACTIONS => InstructionView::ClearActions,
            OFPIT13_METER => InstructionView::Meter(be32(inst, 4)),
            itype => InstructionView::Other { itype, body },
        })
    }
}

impl<'a> InstructionsView<'a> {
    pub(crate) fn new(data: &'a [u8], version: u8) -> Self {
        InstructionsView { data, version }
    }

    /// The raw bytes.
    #[inline]
    pub fn as_bytes(&self) -> &'a [u8] {
        self.data
    }

    #[inline]
    pub fn iter(&self) -> InstructionIter<'a> {
        InstructionIter { rest: self.data, version: self.version }
    }

    /// The apply-actions list, if any.
    #[inline]
    pub fn apply_actions(&self) -> Option<ActionsView<'a>> {
        // What `iter().find_map(..)` finds, reading only the instructions' headers.
        if self.version == OFP10_VERSION {
            return (!self.data.is_empty()).then_some(ActionsView::new(self.data, self.version));
        }
        let mut rest = self.data;
        while let Some(&[t0, t1, l0, l1]) = rest.first_chunk::<4>() {
            let len = usize::from(u16::from_be_bytes([l0, l1]));
            let inst = rest.get(..len).filter(|_| len >= 8)?;
            if u16::from_be_bytes([t0, t1]) == OFPIT11_APPLY_ACTIONS {
                return Some(ActionsView::new(&inst[8..], self.version));
            }
            rest = &rest[len..];
        }
        None
    }

    /// True only if the owned decoder (and a flow mod's checks with the default options) surely
    /// accept these instructions: nothing, or one apply-actions of output actions to valid
    /// ports, the common shape. Anything else is left to the owned decoder.
    #[inline]
    pub(crate) fn surely_valid(&self) -> bool {
        if self.version == OFP10_VERSION {
            return ActionsView::new(self.data, self.version).surely_valid();
        }
        // The commonest shape first, read as one array: a single apply-actions holding a single
        // output action (what the general test below accepts for it, in fewer steps).
        if let Ok(&[0, 4, 0, 24, _, _, _, _, 0, 0, 0, 16, p0, p1, p2, p3, ..]) = <&[u8; 24]>::try_from(self.data) {
            return output_port_ok(u32::from_be_bytes([p0, p1, p2, p3]));
        }
        match self.data.len() {
            0 => true,
            len => {
                len >= 8
                    && usize::from(be16(self.data, 2)) == len
                    && len.is_multiple_of(8)
                    && be16(self.data, 0) == OFPIT11_APPLY_ACTIONS
                    && ActionsView::new(&self.data[8..], self.version).surely_valid()
            }
        }
    }
}

impl<'a> IntoIterator for &InstructionsView<'a> {
    type Item = InstructionView<'a>;
    type IntoIter = InstructionIter<'a>;

    fn into_iter(self) -> InstructionIter<'a> {
        self.iter()
    }
}

/// An action list, borrowed from the frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ActionsView<'a> {
    data: &'a [u8],
    version: u8,
}

/// One action in its wire form.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ActionView<'a> {
    bytes: &'a [u8],
    version: u8,
}

/// The actions in wire order.
#[derive(Clone, Debug)]
pub struct ActionIter<'a> {
    rest: &'a [u8],
    version: u8,
}

impl<'a> Iterator for ActionIter<'a> {
    type Item = ActionView<'a>;

    #[inline]
    fn next(&mut self) -> Option<ActionView<'a>> {
        let len = usize::from(u16::from_be_bytes([*self.rest.get(2)?, *self.rest.get(3)?]));
        let Some(bytes) = self.rest.get(..len).filter(|_| len >= 8) else {
            self.rest = &[];
            return None;
        };
        self.rest = &self.rest[len..];
        Some(ActionView { bytes, version: self.version })
    }
}

impl<'a> ActionsView<'a> {
    fn new(data: &'a [u8], version: u8) -> Self {
        ActionsView { data, version }
    }

    #[inline]
    pub fn as_bytes(&self) -> &'a [u8] {
        self.data
    }

    #[inline]
    pub fn iter(&self) -> ActionIter<'a> {
        ActionIter { rest: self.data, version: self.version }
    }

    /// Every action is an output to a port the owned decoder accepts, in its exact length.
    #[inline]
    fn surely_valid(&self) -> bool {
        if self.version == OFP10_VERSION {
            self.data.len().is_multiple_of(8)
                && self.data.chunks_exact(8).all(|a| {
                    be32(a, 0) == u32::from(OFPAT_OUTPUT) << 16 | 8
                        && check_output_port(port_no::ofp10_to_ofp11(be16(a, 4)), port_no::MAX_PHYSICAL).is_ok()
                })
        } else {
            self.data.len().is_multiple_of(16)
                && self
                    .data
                    .chunks_exact(16)
                    .all(|a| be32(a, 0) == u32::from(OFPAT_OUTPUT) << 16 | 16 && output_port_ok(be32(a, 4)))
        }
    }
}

/// The owned decoder accepts an OF1.1+ output action to `port` (with the default checks).
#[inline]
fn output_port_ok(port: u32) -> bool {
    port_no::from_ofp11(port).is_ok() && check_output_port(port, port_no::MAX_PHYSICAL).is_ok()
}

impl<'a> IntoIterator for &ActionsView<'a> {
    type Item = ActionView<'a>;
    type IntoIter = ActionIter<'a>;

    fn into_iter(self) -> ActionIter<'a> {
        self.iter()
    }
}

impl<'a> ActionView<'a> {
    /// OFPAT_* (OFPAT_VENDOR/EXPERIMENTER 0xffff for extensions).
    #[inline]
    pub fn action_type(&self) -> u16 {
        be16(self.bytes, 0)
    }

    /// The whole action, header included.
    #[inline]
    pub fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// (port, max_len) of an output action, the port in OF1.1+ numbering.
    #[inline]
    pub fn output(&self) -> Option<(u32, u16)> {
        if self.action_type() != OFPAT_OUTPUT {
            return None;
        }
        if self.version == OFP10_VERSION {
            Some((port_no::ofp10_to_ofp11(be16(self.bytes, 4)), be16(self.bytes, 6)))
        } else {
            let b = self.bytes.get(..16)?;
            Some((be32(b, 4), be16(b, 8)))
        }
    }
}
