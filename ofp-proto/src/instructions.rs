//! Instruction sets (OF1.1+ `ofp11_instruction` TLVs; OF1.0 action lists) decoded into OVS's
//! canonical instruction order with OVS's errors (`ofpacts_pull_openflow_instructions`,
//! `ofpacts_put_openflow_instructions`).

use bytes::{BufMut, Bytes, BytesMut};
use smallvec::SmallVec;

use crate::actions::decode::{item_kind, verify, InstKind};
use crate::actions::encode::{encode_action, put_nx_goto_table, put_nx_write_metadata};
use crate::actions::{decode_action_set, decode_items, format_instructions, Action, ActionList, Item};
use crate::buf::{be32, be64, patch_len16};
use crate::errors::OfpErr;
use crate::header::{OFP10_VERSION, OFP13_VERSION, OFP14_VERSION, OFP15_VERSION};

pub const OFPIT11_GOTO_TABLE: u16 = 1;
pub const OFPIT11_WRITE_METADATA: u16 = 2;
pub const OFPIT11_WRITE_ACTIONS: u16 = 3;
pub const OFPIT11_APPLY_ACTIONS: u16 = 4;
pub const OFPIT11_CLEAR_ACTIONS: u16 = 5;
pub const OFPIT13_METER: u16 = 6;
pub const OFPIT11_EXPERIMENTER: u16 = 0xffff;

/// An instruction set in OVS's canonical order (meter, apply, clear, write, metadata, goto);
/// OF1.0 flows have `apply` plus what Nicira actions express (write_metadata, goto as resubmit).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Instructions {
    /// OF1.3/1.4 meter instruction (OF1.5 meters are `Action::Meter` in `apply`).
    pub meter: Option<u32>,
    pub apply: ActionList,
    pub clear_actions: bool,
    pub write_actions: Option<ActionList>,
    /// (metadata, mask)
    pub write_metadata: Option<(u64, u64)>,
    pub goto_table: Option<u8>,
}

impl Instructions {
    /// Just apply-actions.
    pub fn apply(actions: impl IntoIterator<Item = Action>) -> Instructions {
        Instructions { apply: actions.into_iter().collect(), ..Instructions::default() }
    }

    /// No instructions at all ("drop").
    pub fn is_empty(&self) -> bool {
        *self == Instructions::default()
    }

    /// Decodes `data` as the instructions of an OF1.1+ message, or as the actions of an OF1.0
    /// message.
    pub fn decode(data: &Bytes, version: u8) -> Result<Instructions, OfpErr> {
        if version == OFP10_VERSION {
            let items = decode_items(data, version)?;
            verify(items.iter().map(item_kind), version, ALL)?;
            return Ok(fold(items));
        }
        if !data.len().is_multiple_of(8) {
            return Err(OfpErr::OFPBIC_BAD_LEN);
        }
        // Scanned in place; only action lists become (shared) `Bytes`, which costs reference
        // counting.
        let mut slots: [Option<(usize, usize)>; 6] = Default::default();
        let mut at = 0;
        while at < data.len() {
            let rest = &data[at..];
            let len = usize::from(u16::from_be_bytes([rest[2], rest[3]]));
            if len % 8 != 0 || len < 8 || len > rest.len() {
                return Err(OfpErr::OFPBIC_BAD_LEN);
            }
            let itype = u16::from_be_bytes([rest[0], rest[1]]);
            let (kind, fixed) = match itype {
                OFPIT11_EXPERIMENTER => return Err(OfpErr::OFPBIC_BAD_EXPERIMENTER),
                OFPIT13_METER => (InstKind::Meter, Some(8)),
                OFPIT11_APPLY_ACTIONS => (InstKind::Apply, None),
                OFPIT11_CLEAR_ACTIONS => (InstKind::Clear, Some(8)),
                OFPIT11_WRITE_ACTIONS => (InstKind::Write, None),
                OFPIT11_WRITE_METADATA => (InstKind::WriteMetadata, Some(24)),
                OFPIT11_GOTO_TABLE => (InstKind::GotoTable, Some(8)),
                _ => return Err(OfpErr::OFPBIC_UNKNOWN_INST),
            };
            if fixed.is_some_and(|n| n != len) {
                return Err(OfpErr::OFPBIC_BAD_LEN);
            }
            if kind == InstKind::Meter && version >= OFP15_VERSION {
                return Err(OfpErr::OFPBIC_UNKNOWN_INST);
            }
            let slot = &mut slots[kind as usize];
            if slot.is_some() {
                return Err(OfpErr::OFPBIC_DUP_INST);
            }
            *slot = Some((at, at + len));
            at += len;
        }

        let [meter, apply, clear, write, metadata, goto] = slots;
        let inst = |(from, to): (usize, usize)| &data[from..to];
        let actions = |(from, to): (usize, usize)| data.slice(from + 8..to);
        // Short instruction lists stay inline.
        let mut items: SmallVec<[(InstKind, Option<Item>); 8]> = SmallVec::new();
        if meter.is_some() {
            items.push((InstKind::Meter, None));
        }
        if let Some(a) = apply {
            for it in decode_items(&actions(a), version)? {
                items.push((item_kind(&it), Some(it)));
            }
        }
        if clear.is_some() {
            items.push((InstKind::Clear, None));
        }
        let write_actions = match write {
            Some(w) => {
                items.push((InstKind::Write, None));
                Some(decode_action_set(&actions(w), version)?)
            }
            None => None,
        };
        if metadata.is_some() {
            items.push((InstKind::WriteMetadata, None));
        }
        if goto.is_some() {
            items.push((InstKind::GotoTable, None));
        }
        verify(items.iter().map(|(k, _)| *k), version, ALL)?;

        let mut ins = fold(items.into_iter().filter_map(|(_, i)| i));
        ins.meter = meter.map(|m| be32(inst(m), 4));
        ins.clear_actions = clear.is_some();
        ins.write_actions = write_actions;
        if let Some(md) = metadata {
            ins.write_metadata = Some((be64(inst(md), 8), be64(inst(md), 16)));
        }
        ins.goto_table = goto.map(|g| inst(g)[4]);
        Ok(ins)
    }

    /// Appends the instructions in `version`'s form (OF1.0: as actions).
    pub fn encode(&self, version: u8, buf: &mut BytesMut) {
        if version == OFP10_VERSION {
            for a in &self.apply {
                encode_action(a, version, buf);
            }
            if let Some((md, mask)) = self.write_metadata {
                put_nx_write_metadata(buf, md, mask);
            }
            if let Some(t) = self.goto_table {
                put_nx_goto_table(buf, t);
            }
            return;
        }
        // Meters: an instruction in OF1.3/1.4, the first apply action in OF1.5, nothing before.
        let meter = self.meter.or_else(|| {
            self.apply.iter().find_map(|a| match a {
                Action::Meter(m) if version < OFP15_VERSION => Some(*m),
                _ => None,
            })
        });
        if let Some(m) = meter.filter(|_| version == OFP13_VERSION || version == OFP14_VERSION) {
            buf.put_u16(OFPIT13_METER);
            buf.put_u16(8);
            buf.put_u32(m);
        }
        let mut apply: ActionList = ActionList::new();
        if let Some(m) = self.meter.filter(|_| version >= OFP15_VERSION) {
            apply.push(Action::Meter(m));
        }
        apply.extend(self.apply.iter().filter(|a| version >= OFP15_VERSION || !matches!(a, Action::Meter(_))).cloned());
        put_actions_instruction(buf, OFPIT11_APPLY_ACTIONS, &apply, version);
        if self.clear_actions {
            buf.put_u16(OFPIT11_CLEAR_ACTIONS);
            buf.put_u16(8);
            buf.put_u32(0);
        }
        if let Some(w) = &self.write_actions {
            put_actions_instruction(buf, OFPIT11_WRITE_ACTIONS, w, version);
        }
        if let Some((md, mask)) = self.write_metadata {
            buf.put_u16(OFPIT11_WRITE_METADATA);
            buf.put_u16(24);
            buf.put_u32(0);
            buf.put_u64(md);
            buf.put_u64(mask);
        }
        if let Some(t) = self.goto_table {
            buf.put_u16(OFPIT11_GOTO_TABLE);
            buf.put_u16(8);
            buf.put_u8(t);
            buf.put_bytes(0, 3);
        }
    }

    /// OVS's text, as after "actions=".
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        format_instructions(self, &mut s);
        s
    }

    /// Every action the instructions may run: apply-actions, then write-actions (OVS
    /// `OFPACT_FOR_EACH_FLATTENED` over a rule's actions).
    pub fn actions(&self) -> impl Iterator<Item = &Action> {
        self.apply.iter().chain(self.write_actions.iter().flatten())
    }

    /// OVS `ofpacts_output_to_port`: an output or enqueue to `port`, or a controller action when
    /// `port` is OFPP_CONTROLLER.
    pub fn outputs_to_port(&self, port: u32) -> bool {
        self.actions().any(|a| match a {
            Action::Output { port: p, .. } | Action::Enqueue { port: p, .. } => *p == port,
            Action::Controller(_) => port == crate::port_no::CONTROLLER,
            _ => false,
        })
    }

    /// OVS `ofpacts_output_to_group`.
    pub fn outputs_to_group(&self, group: u32) -> bool {
        self.actions().any(|a| matches!(a, Action::Group(g) if *g == group))
    }
}

/// Every instruction kind is allowed in a flow's instruction set.
const ALL: u32 = (1 << 6) - 1;

/// Folds a verified flat item list (apply actions and Nicira write_metadata) into a set.
fn fold(items: impl IntoIterator<Item = Item>) -> Instructions {
    let mut ins = Instructions::default();
    for it in items {
        match it {
            Item::Action(a) => ins.apply.push(a),
            Item::WriteMetadata(md, mask) => ins.write_metadata = Some((md, mask)),
        }
    }
    ins
}

/// Apply/write-actions instruction; an empty one is left out, as OVS does.
/// Appends an actions instruction; an empty apply-actions is left out (as OVS does), an empty
/// write-actions is kept (it is a distinct, meaningful instruction).
fn put_actions_instruction(buf: &mut BytesMut, itype: u16, actions: &[Action], version: u8) {
    let start = buf.len();
    buf.put_u16(itype);
    buf.put_u16(8);
    buf.put_u32(0);
    for a in actions {
        encode_action(a, version, buf);
    }
    if buf.len() == start + 8 && itype == OFPIT11_APPLY_ACTIONS {
        buf.truncate(start);
    } else {
        patch_len16(buf, start + 2, start);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::print::parse_hex;

    fn dec(hex: &str, version: u8) -> Result<Instructions, OfpErr> {
        Instructions::decode(&Bytes::from(parse_hex(hex).unwrap()), version)
    }

    fn enc(ins: &Instructions, version: u8) -> String {
        let mut b = BytesMut::new();
        ins.encode(version, &mut b);
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    #[test]
    fn instruction_errors() {
        assert_eq!(dec("0001000803000000", 4).unwrap().goto_table, Some(3));
        assert_eq!(dec("00010008030000", 4), Err(OfpErr::OFPBIC_BAD_LEN));
        assert_eq!(dec("0001001003000000", 4), Err(OfpErr::OFPBIC_BAD_LEN));
        assert_eq!(dec("0009000800000000", 4), Err(OfpErr::OFPBIC_UNKNOWN_INST));
        assert_eq!(dec("ffff000800000000", 4), Err(OfpErr::OFPBIC_BAD_EXPERIMENTER));
        assert_eq!(dec("00010008030000000001000804000000", 4), Err(OfpErr::OFPBIC_DUP_INST));
        assert_eq!(dec("0006000800000001", 6), Err(OfpErr::OFPBIC_UNKNOWN_INST));
        assert_eq!(dec("0006000800000001", 4).unwrap().meter, Some(1));
        // Unknown action inside apply-actions.
        assert_eq!(dec("00040010000000000063000800000000", 4), Err(OfpErr::OFPBAC_BAD_TYPE));
        // Controller action not allowed in an action set.
        assert_eq!(dec("0003001800000000ffff0010000023200014ffff00000100", 4), Err(OfpErr::OFPBAC_BAD_TYPE));
    }

    #[test]
    fn empty_write_actions_is_kept_and_empty_apply_is_not() {
        let ins = Instructions { write_actions: Some(ActionList::new()), ..Instructions::default() };
        assert_eq!(enc(&ins, 2), "0003000800000000");
        assert_eq!(dec("0003000800000000", 2).unwrap(), ins);
        assert_eq!(enc(&Instructions::default(), 4), "");
        assert_eq!(dec("0004000800000000", 4).unwrap(), Instructions::default());
    }

    #[test]
    fn of10_nicira_instructions_must_come_last() {
        // write_metadata then output: out of order.
        let wm = "ffff002000002320001600000000000000000000000000010000000000000001";
        assert_eq!(dec(&format!("{wm}0000000800010000"), 1), Err(OfpErr::OFPBAC_UNSUPPORTED_ORDER));
        let ins = dec(&format!("0000000800010000{wm}"), 1).unwrap();
        assert_eq!(ins.write_metadata, Some((1, 1)));
        assert_eq!(ins.to_text(), "output:1,write_metadata:0x1/0x1");
        // In a packet-out (actions only) it is an instruction where none is allowed.
        let b = Bytes::from(parse_hex(wm).unwrap());
        assert_eq!(crate::actions::decode_actions(&b, 1), Err(OfpErr::OFPBIC_UNSUP_INST));
    }

    #[test]
    fn encodes_per_version() {
        let ins = Instructions {
            meter: Some(7),
            apply: ActionList::from_vec(vec![Action::Output { port: 2, max_len: 0 }]),
            clear_actions: true,
            goto_table: Some(3),
            ..Instructions::default()
        };
        assert_eq!(
            enc(&ins, 4),
            "00060008000000070004001800000000000000100000000200000000000000000005000800000000\
             0001000803000000"
        );
        // OF1.5: meter is the first apply action.
        assert_eq!(
            enc(&ins, 6),
            "0004002000000000001d0008000000070000001000000002000000000000000000050008000000000001000803000000"
        );
        // OF1.0: goto becomes resubmit(,3); clear and meter have no form.
        assert_eq!(enc(&ins, 1), "0000000800020000ffff001000002320000efff803000000");
        assert_eq!(ins.to_text(), "meter:7,output:2,clear_actions,goto_table:3");
        assert_eq!(Instructions::default().to_text(), "drop");
        assert_eq!(
            Instructions::decode(&parse_hex(&enc(&ins, 1)).unwrap().into(), 1).unwrap().to_text(),
            "output:2,resubmit(,3)"
        );
        for v in [2, 3, 4, 5, 6] {
            let mut b = BytesMut::new();
            ins.encode(v, &mut b);
            let back = Instructions::decode(&b.freeze(), v).unwrap();
            assert_eq!(back.goto_table, Some(3), "version {v}");
        }
    }
    #[test]
    fn outputs_to_port_and_group_look_into_write_actions() {
        use crate::actions::Controller;
        use crate::port_no::{CONTROLLER as OFPP_CONTROLLER, LOCAL as OFPP_LOCAL};
        let ins = Instructions {
            apply: ActionList::from_vec(vec![Action::Enqueue { port: 3, queue: 1 }, Action::SetQueue(9)]),
            write_actions: Some(ActionList::from_vec(vec![Action::Output { port: 7, max_len: 0 }, Action::Group(4)])),
            ..Instructions::default()
        };
        assert_eq!(ins.actions().count(), 4);
        assert!(ins.outputs_to_port(3) && ins.outputs_to_port(7));
        assert!(!ins.outputs_to_port(9) && !ins.outputs_to_port(OFPP_CONTROLLER));
        assert!(ins.outputs_to_group(4) && !ins.outputs_to_group(3));
        let to_controller = Instructions::apply([Action::Controller(Controller::default())]);
        assert!(to_controller.outputs_to_port(OFPP_CONTROLLER));
        assert!(!to_controller.outputs_to_port(OFPP_LOCAL));
        // An output_trunc is not an output for OVS's filters.
        assert!(!Instructions::apply([Action::OutputTrunc { port: 3, max_len: 100 }]).outputs_to_port(3));
    }
}
