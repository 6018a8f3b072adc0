//! Proptest strategies for flow-monitor messages, shared by the round-trip and interop tests.
//! Every value is canonical for its version and wire form: encoding then decoding gives it back.

#![allow(dead_code)]

use proptest::prelude::*;

use ofp_proto::instructions::Instructions;
use ofp_proto::msg::flow_mod::OFPG_ANY;
use ofp_proto::msg::monitor::{
    FlowMonitor, FlowMonitorReply, FlowMonitorRequest, FlowUpdate, FlowUpdateEvent, FlowUpdateFull, MonitorCommand,
    MonitorFlags,
};
use ofp_proto::port_no;
use ofp_proto::{Message, MsgType, OfpMsg, Raw};

use crate::proto_b_gen;

/// Every (raw, version) a monitor request or reply exists in.
pub fn forms(t: MsgType) -> impl Strategy<Value = (Raw, u8)> {
    prop::sample::select(proto_b_gen::all_forms(t))
}

/// Whether `raw` is one of the Nicira/ONF forms (no command, out_group, paused/resumed).
pub fn is_nx(raw: Raw) -> bool {
    !matches!(raw, Raw::Ofpst14FlowMonitorRequest | Raw::Ofpst14FlowMonitorReply)
}

/// Flags OVS accepts in a request: some event bit, nothing it rejects.
pub fn flags() -> impl Strategy<Value = MonitorFlags> {
    let bits = [
        MonitorFlags::INITIAL,
        MonitorFlags::ADD,
        MonitorFlags::REMOVED,
        MonitorFlags::MODIFY,
        MonitorFlags::INSTRUCTIONS,
        MonitorFlags::ONLY_OWN,
    ];
    (prop::sample::subsequence(bits.to_vec(), 0..=bits.len()), prop::sample::select(bits[1..4].to_vec()))
        .prop_map(|(v, event)| MonitorFlags(v.into_iter().fold(event, |a, b| a | b)))
}

/// Port numbers every form can carry: physical ports and the reserved block.
pub fn port() -> impl Strategy<Value = u32> {
    prop_oneof![0u32..port_no::MAX_PHYSICAL, port_no::MAX..=port_no::ANY]
}

pub fn monitor(raw: Raw) -> impl Strategy<Value = FlowMonitor> {
    let nx = is_nx(raw);
    let command = prop_oneof![
        Just(MonitorCommand::Add),
        Just(MonitorCommand::Modify),
        Just(MonitorCommand::Delete),
        (3u8..).prop_map(MonitorCommand::Other),
    ];
    (any::<u32>(), command, flags(), port(), any::<u32>(), any::<u8>(), proto_b_gen::oxm_match(), any::<(u16, u32)>())
        .prop_map(move |(id, command, flags, out_port, out_group, table_id, match_, (raw_flags, raw_port))| {
            let mut m = FlowMonitor { id, command, flags, out_port, out_group, table_id, match_ };
            if nx {
                (m.command, m.out_group) = (MonitorCommand::Add, OFPG_ANY);
            } else if m.command == MonitorCommand::Delete {
                // A delete's other fields travel unchecked.
                (m.flags, m.out_port) = (MonitorFlags(raw_flags), raw_port);
            }
            m
        })
}

pub fn request() -> impl Strategy<Value = (u8, Message)> {
    forms(MsgType::FlowMonitorStatsRequest)
        .prop_flat_map(|(raw, v)| (Just(v), proptest::collection::vec(monitor(raw), 0..4)))
        .prop_map(|(v, monitors)| (v, Message::FlowMonitorStatsRequest(FlowMonitorRequest { monitors })))
}

pub fn full_update(raw: Raw, version: u8) -> impl Strategy<Value = FlowUpdateFull> {
    let nx = is_nx(raw);
    let event = if nx {
        prop::sample::select(vec![FlowUpdateEvent::Added, FlowUpdateEvent::Removed, FlowUpdateEvent::Modified])
    } else {
        prop::sample::select(vec![
            FlowUpdateEvent::Initial,
            FlowUpdateEvent::Added,
            FlowUpdateEvent::Removed,
            FlowUpdateEvent::Modified,
        ])
    };
    let instructions = if matches!(raw, Raw::NxstFlowMonitorReply) {
        proto_b_gen::actions(version).prop_map(Instructions::apply).boxed()
    } else {
        proto_b_gen::instructions(version).boxed()
    };
    (event, any::<[u16; 4]>(), any::<(u8, u64)>(), proto_b_gen::oxm_match(), instructions).prop_map(
        move |(event, [reason, priority, idle_timeout, hard_timeout], (table_id, cookie), match_, instructions)| {
            FlowUpdateFull {
                event,
                reason: if nx { reason } else { reason & 0xff },
                priority,
                idle_timeout,
                hard_timeout,
                table_id,
                cookie,
                match_,
                instructions,
            }
        },
    )
}

pub fn update(raw: Raw, version: u8) -> BoxedStrategy<FlowUpdate> {
    let full = full_update(raw, version).prop_map(|f| FlowUpdate::Full(Box::new(f)));
    let abbrev = any::<u32>().prop_map(|xid| FlowUpdate::Abbrev { xid });
    if is_nx(raw) {
        prop_oneof![3 => full, 1 => abbrev].boxed()
    } else {
        prop_oneof![3 => full, 1 => abbrev, 1 => Just(FlowUpdate::Paused), 1 => Just(FlowUpdate::Resumed)].boxed()
    }
}

pub fn reply() -> impl Strategy<Value = (u8, Message)> {
    forms(MsgType::FlowMonitorStatsReply)
        .prop_flat_map(|(raw, v)| (Just(v), proptest::collection::vec(update(raw, v), 0..4)))
        .prop_map(|(v, updates)| (v, Message::FlowMonitorStatsReply(FlowMonitorReply { updates })))
}

/// Cancel, paused and resumed: the messages of their own (OF1.0–1.3).
pub fn small_message() -> impl Strategy<Value = (u8, Message)> {
    (1u8..=4, any::<u32>()).prop_flat_map(|(v, id)| {
        prop::sample::select(vec![
            (v, Message::FlowMonitorCancel(id)),
            (v, Message::FlowMonitorPaused),
            (v, Message::FlowMonitorResumed),
        ])
    })
}

/// Any flow-monitor message in the form OVS uses for its version.
pub fn message() -> impl Strategy<Value = OfpMsg> {
    (prop_oneof![request(), reply(), small_message()], any::<u32>())
        .prop_map(|((v, body), xid)| OfpMsg::new(v, xid, body))
}
