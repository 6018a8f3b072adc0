//! Action encoding per OpenFlow version, choosing the wire form OVS chooses (`encode_*` in OVS
//! `ofp-actions.c`): legacy actions below OF1.2, set_field from OF1.2, Nicira forms where
//! OpenFlow has none.

use bytes::{BufMut, BytesMut};

use super::decode::{
    Raw, NXAC2PT_CONTROLLER_ID, NXAC2PT_MAX_LEN, NXAC2PT_METER_ID, NXAC2PT_PAUSE, NXAC2PT_REASON, NXAC2PT_USERDATA,
};
use super::*;
use crate::buf::patch_len16;
use crate::flow::{
    vlan_tci_to_pcp, vlan_tci_to_vid, ETH_TYPE_VLAN_8021Q, IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP, OFPVID12_PRESENT,
    VLAN_CFI,
};
use crate::header::{OFP10_VERSION, OFP11_VERSION, OFP12_VERSION, OFP15_VERSION};
use crate::ofmatch::nxm;
use crate::port_no;
use crate::prop;

/// Writes `raw`'s fixed part with its header and integer argument; returns where it starts.
/// Raws have an encoding in every version they are used with below.
pub(crate) fn put_raw(buf: &mut BytesMut, raw: Raw, version: u8, arg: u64) -> usize {
    let start = buf.len();
    // Every raw has a row; one from another version only stands in for callers' mistakes.
    let Some(info) = raw.info(version).or_else(|| super::decode::RAW_TABLE.iter().find(|i| i.raw == raw)) else {
        return start;
    };
    buf.put_bytes(0, usize::from(info.min_len));
    let a = &mut buf[start..];
    if info.vendor == 0 {
        a[0..2].copy_from_slice(&info.atype.to_be_bytes());
    } else {
        a[0..2].copy_from_slice(&0xffffu16.to_be_bytes());
        a[4..8].copy_from_slice(&info.vendor.to_be_bytes());
        a[8..10].copy_from_slice(&info.atype.to_be_bytes());
    }
    a[2..4].copy_from_slice(&info.min_len.to_be_bytes());
    if let Some((ofs, n)) = info.arg {
        let (ofs, n) = (usize::from(ofs), usize::from(n));
        a[ofs..ofs + n].copy_from_slice(&arg.to_be_bytes()[8 - n..]);
    }
    start
}

/// Pads a variable-length action that started at `start` to 8 bytes and sets its length.
fn finish_var(buf: &mut BytesMut, start: usize) {
    crate::buf::pad8(buf, start);
    patch_len16(buf, start + 2, start);
}

/// Appends `actions` as OpenFlow `version` actions (OVS `ofpacts_put_openflow_actions`).
pub fn encode_actions(actions: &[Action], version: u8, buf: &mut BytesMut) {
    for a in actions {
        encode_action(a, version, buf);
    }
}

fn put_set_field(buf: &mut BytesMut, version: u8, field: MfId, value: u128) {
    let start = put_raw(buf, Raw::Of12SetField, OFP12_VERSION, 0);
    buf.truncate(start + 4);
    nxm::put_entry(buf, field, version, value, None);
    finish_var(buf, start);
}

fn put_reg_load(buf: &mut BytesMut, field: MfId, ofs: u32, n_bits: u32, value: u64) {
    let start = put_raw(buf, Raw::NxRegLoad, OFP10_VERSION, 0);
    // Only fields with a 32-bit NXM header get here (see `set_field_to_nxast`).
    let header = (field.header(0).unwrap_or(0) >> 32) as u32;
    let a = &mut buf[start..];
    a[10..12].copy_from_slice(&((ofs << 6 | (n_bits - 1)) as u16).to_be_bytes());
    a[12..16].copy_from_slice(&header.to_be_bytes());
    a[16..24].copy_from_slice(&value.to_be_bytes());
}

/// The contiguous runs of mask bits (at most 64 each) of a set-field, with their values, as
/// `load:` writes them (OVS `next_load_segment`).
pub(crate) fn load_segments(sf: &SetField) -> Vec<(u32, u32, u64)> {
    let n = sf.field.field().n_bits;
    let bit = |i: u32| sf.mask >> i & 1 != 0;
    let mut out = Vec::new();
    let mut start = 0;
    while start < n {
        let Some(ofs) = (start..n).find(|&i| bit(i)) else { break };
        let end = (ofs + 1..(ofs + 64).min(n)).find(|&i| !bit(i)).unwrap_or((ofs + 64).min(n));
        let n_bits = end - ofs;
        let v = (sf.value >> ofs) & ((1u128 << n_bits) - 1);
        out.push((ofs, n_bits, v as u64));
        start = end;
    }
    out
}

/// Set-field as Nicira reg_load (or reg_load2 when the field has no 32-bit header).
fn set_field_to_nxast(sf: &SetField, buf: &mut BytesMut) {
    if sf.raw == SetFieldRaw::RegLoad2 || sf.field.preferred(0).is_none_or(|h| h.is_experimenter()) {
        let start = put_raw(buf, Raw::NxRegLoad2, OFP10_VERSION, 0);
        buf.truncate(start + 10);
        let all = sf.field.all_ones();
        nxm::put_entry(buf, sf.field, 0, sf.value, (sf.mask != all).then_some(sf.mask));
        finish_var(buf, start);
    } else {
        for (ofs, n_bits, v) in load_segments(sf) {
            put_reg_load(buf, sf.field, ofs, n_bits, v);
        }
    }
}

fn set_field_to_set_field(sf: &SetField, version: u8, buf: &mut BytesMut) {
    let start = put_raw(buf, Raw::Of12SetField, OFP12_VERSION, 0);
    buf.truncate(start + 4);
    let all = sf.field.all_ones();
    nxm::put_entry(buf, sf.field, version, sf.value, (sf.mask != all).then_some(sf.mask));
    finish_var(buf, start);
}

/// OF1.0/1.1 have no set-field: use the legacy action for the field, or Nicira (OVS
/// `set_field_to_legacy_openflow`).
fn set_field_to_legacy(sf: &SetField, version: u8, buf: &mut BytesMut) {
    let v = sf.value;
    let of10 = version == OFP10_VERSION;
    let vid_raw = if of10 { Raw::Of10SetVlanVid } else { Raw::Of11SetVlanVid };
    let pcp_raw = if of10 { Raw::Of10SetVlanPcp } else { Raw::Of11SetVlanPcp };
    match sf.field {
        MfId::VlanTci => {
            let tci = v as u16;
            if tci & VLAN_CFI != 0 {
                if !of10 && !sf.flow_has_vlan {
                    put_raw(buf, Raw::Of11PushVlan, version, ETH_TYPE_VLAN_8021Q.into());
                }
                put_raw(buf, vid_raw, version, vlan_tci_to_vid(tci).into());
                put_raw(buf, pcp_raw, version, vlan_tci_to_pcp(tci).into());
            } else {
                put_raw(buf, if of10 { Raw::Of10StripVlan } else { Raw::Of11PopVlan }, version, 0);
            }
        }
        MfId::VlanVid => {
            put_raw(buf, vid_raw, version, (v as u64) & 0xfff);
        }
        MfId::VlanPcp => {
            put_raw(buf, pcp_raw, version, v as u64);
        }
        MfId::EthSrc | MfId::EthDst => {
            let raw = if sf.field == MfId::EthSrc { Raw::SetDlSrc } else { Raw::SetDlDst };
            let start = put_raw(buf, raw, version, 0);
            buf[start + 4..start + 10].copy_from_slice(&v.to_be_bytes()[10..]);
        }
        MfId::Ipv4Src => {
            put_raw(buf, Raw::SetNwSrc, version, v as u64);
        }
        MfId::Ipv4Dst => {
            put_raw(buf, Raw::SetNwDst, version, v as u64);
        }
        MfId::IpDscp => {
            put_raw(buf, Raw::SetNwTos, version, v as u64);
        }
        MfId::IpDscpShifted => {
            put_raw(buf, Raw::SetNwTos, version, (v as u64) << 2 & 0xff);
        }
        MfId::IpEcn => encode_action(&Action::SetIpEcn(v as u8), version, buf),
        MfId::TcpSrc | MfId::UdpSrc => {
            put_raw(buf, Raw::SetTpSrc, version, v as u64);
        }
        MfId::TcpDst | MfId::UdpDst => {
            put_raw(buf, Raw::SetTpDst, version, v as u64);
        }
        _ => set_field_to_nxast(sf, buf),
    }
}

fn encode_set_field(sf: &SetField, version: u8, buf: &mut BytesMut) {
    if version >= OFP15_VERSION {
        set_field_to_set_field(sf, version, buf);
    } else if sf.raw != SetFieldRaw::SetField {
        set_field_to_nxast(sf, buf);
    } else if version < OFP12_VERSION {
        set_field_to_legacy(sf, version, buf);
    } else if sf.mask == sf.field.all_ones() {
        set_field_to_set_field(sf, version, buf);
    } else {
        set_field_to_nxast(sf, buf);
    }
}

fn encode_controller(c: &Controller, buf: &mut BytesMut) {
    if !c.userdata.is_empty() || c.pause || c.meter_id != 0 || c.v2 {
        let start = put_raw(buf, Raw::NxController2, OFP10_VERSION, 0);
        if c.max_len != u16::MAX {
            prop::put_u16(buf, NXAC2PT_MAX_LEN, c.max_len);
        }
        if c.controller_id != 0 {
            prop::put_u16(buf, NXAC2PT_CONTROLLER_ID, c.controller_id);
        }
        if c.reason != OFPR_ACTION {
            prop::put_u8(buf, NXAC2PT_REASON, c.reason);
        }
        if !c.userdata.is_empty() {
            prop::put(buf, NXAC2PT_USERDATA, &c.userdata);
        }
        if c.pause {
            prop::put(buf, NXAC2PT_PAUSE, &[]);
        }
        if c.meter_id != 0 {
            prop::put_u32(buf, NXAC2PT_METER_ID, c.meter_id);
        }
        finish_var(buf, start);
    } else {
        let start = put_raw(buf, Raw::NxController, OFP10_VERSION, 0);
        let a = &mut buf[start..];
        a[10..12].copy_from_slice(&c.max_len.to_be_bytes());
        a[12..14].copy_from_slice(&c.controller_id.to_be_bytes());
        a[14] = c.reason;
    }
}

fn l4_field(proto: u8, src: bool) -> Option<MfId> {
    Some(match (proto, src) {
        (IPPROTO_TCP, true) => MfId::TcpSrc,
        (IPPROTO_TCP, false) => MfId::TcpDst,
        (IPPROTO_UDP, true) => MfId::UdpSrc,
        (IPPROTO_UDP, false) => MfId::UdpDst,
        (IPPROTO_SCTP, true) => MfId::SctpSrc,
        (IPPROTO_SCTP, false) => MfId::SctpDst,
        _ => return None,
    })
}

/// Appends one action in `version`'s form.
pub(crate) fn encode_action(a: &Action, version: u8, buf: &mut BytesMut) {
    let of10 = version == OFP10_VERSION;
    let set_field_ok = version >= OFP12_VERSION;
    match a {
        Action::Output { port, max_len } => {
            if of10 {
                let s = put_raw(buf, Raw::Of10Output, version, 0);
                buf[s + 4..s + 6].copy_from_slice(&port_no::to_ofp10_wire(*port).to_be_bytes());
                buf[s + 6..s + 8].copy_from_slice(&max_len.to_be_bytes());
            } else {
                put_of11_output(buf, version, *port, *max_len);
            }
        }
        Action::Group(g) => {
            put_raw(buf, Raw::Group, version, (*g).into());
        }
        Action::Controller(c) => encode_controller(c, buf),
        Action::Enqueue { port, queue } => {
            if of10 {
                let s = put_raw(buf, Raw::Of10Enqueue, version, 0);
                buf[s + 4..s + 6].copy_from_slice(&port_no::to_ofp10_wire(*port).to_be_bytes());
                buf[s + 12..s + 16].copy_from_slice(&queue.to_be_bytes());
            } else {
                put_raw(buf, Raw::SetQueue, version, (*queue).into());
                put_of11_output(buf, version, *port, u16::MAX);
                put_raw(buf, Raw::NxPopQueue, version, 0);
            }
        }
        Action::OutputTrunc { port, max_len } => {
            let s = put_raw(buf, Raw::NxOutputTrunc, version, 0);
            buf[s + 10..s + 12].copy_from_slice(&port_no::to_ofp10_wire(*port).to_be_bytes());
            buf[s + 12..s + 16].copy_from_slice(&max_len.to_be_bytes());
        }
        Action::SetVlanVid { vid, push_vlan_if_needed, flow_has_vlan } => {
            if !of10 && *push_vlan_if_needed && !flow_has_vlan {
                put_raw(buf, Raw::Of11PushVlan, version, ETH_TYPE_VLAN_8021Q.into());
            }
            if version >= OFP12_VERSION {
                put_set_field(buf, version, MfId::VlanVid, u128::from(*vid | OFPVID12_PRESENT));
            } else {
                put_raw(buf, if of10 { Raw::Of10SetVlanVid } else { Raw::Of11SetVlanVid }, version, (*vid).into());
            }
        }
        Action::SetVlanPcp { pcp, push_vlan_if_needed, flow_has_vlan } => {
            if !of10 && *push_vlan_if_needed && !flow_has_vlan {
                put_raw(buf, Raw::Of11PushVlan, version, ETH_TYPE_VLAN_8021Q.into());
            }
            if version >= OFP12_VERSION {
                put_set_field(buf, version, MfId::VlanPcp, (*pcp).into());
            } else {
                put_raw(buf, if of10 { Raw::Of10SetVlanPcp } else { Raw::Of11SetVlanPcp }, version, (*pcp).into());
            }
        }
        Action::StripVlan { .. } => {
            put_raw(buf, if of10 { Raw::Of10StripVlan } else { Raw::Of11PopVlan }, version, 0);
        }
        Action::PushVlan { ethertype } => {
            // OF1.0 pushes implicitly in the set_vlan action that follows.
            if !of10 {
                put_raw(buf, Raw::Of11PushVlan, version, (*ethertype).into());
            }
        }
        Action::SetEthSrc(mac) | Action::SetEthDst(mac) => {
            let src = matches!(a, Action::SetEthSrc(_));
            if set_field_ok {
                let id = if src { MfId::EthSrc } else { MfId::EthDst };
                put_set_field(buf, version, id, mac.to_u64().into());
            } else {
                let s = put_raw(buf, if src { Raw::SetDlSrc } else { Raw::SetDlDst }, version, 0);
                buf[s + 4..s + 10].copy_from_slice(&mac.0);
            }
        }
        Action::SetIpv4Src(ip) | Action::SetIpv4Dst(ip) => {
            let src = matches!(a, Action::SetIpv4Src(_));
            if set_field_ok {
                put_set_field(buf, version, if src { MfId::Ipv4Src } else { MfId::Ipv4Dst }, (*ip).into());
            } else {
                put_raw(buf, if src { Raw::SetNwSrc } else { Raw::SetNwDst }, version, (*ip).into());
            }
        }
        Action::SetIpDscp(dscp) => {
            if set_field_ok {
                put_set_field(buf, version, MfId::IpDscpShifted, (dscp >> 2).into());
            } else {
                put_raw(buf, Raw::SetNwTos, version, (*dscp).into());
            }
        }
        Action::SetIpEcn(ecn) => match version {
            OFP10_VERSION => put_reg_load(buf, MfId::IpEcn, 0, 2, (*ecn).into()),
            OFP11_VERSION => {
                put_raw(buf, Raw::Of11SetNwEcn, version, (*ecn).into());
            }
            _ => put_set_field(buf, version, MfId::IpEcn, (*ecn).into()),
        },
        Action::SetIpTtl(ttl) => {
            if of10 {
                put_reg_load(buf, MfId::IpTtl, 0, 8, (*ttl).into());
            } else {
                put_raw(buf, Raw::Of11SetNwTtl, version, (*ttl).into());
            }
        }
        Action::SetL4SrcPort { port, flow_ip_proto } | Action::SetL4DstPort { port, flow_ip_proto } => {
            let src = matches!(a, Action::SetL4SrcPort { .. });
            match l4_field(*flow_ip_proto, src).filter(|_| set_field_ok) {
                Some(id) => put_set_field(buf, version, id, (*port).into()),
                None => {
                    put_raw(buf, if src { Raw::SetTpSrc } else { Raw::SetTpDst }, version, (*port).into());
                }
            }
        }
        Action::SetField(sf) => encode_set_field(sf, version, buf),
        Action::DecTtl { cnt_ids, cnt_ids_form } => {
            if *cnt_ids_form || cnt_ids.len() != 1 || cnt_ids[0] != 0 {
                let s = put_raw(buf, Raw::NxDecTtlCntIds, version, 0);
                buf[s + 10..s + 12].copy_from_slice(&(cnt_ids.len() as u16).to_be_bytes());
                for id in cnt_ids {
                    buf.put_u16(*id);
                }
                finish_var(buf, s);
            } else {
                put_raw(buf, Raw::DecNwTtl, version, 0);
            }
        }
        Action::SetTunnel { tun_id, tun64 } => {
            if set_field_ok {
                put_set_field(buf, version, MfId::TunId, (*tun_id).into());
            } else if *tun_id <= u64::from(u32::MAX) && !tun64 {
                put_raw(buf, Raw::NxSetTunnel, version, *tun_id);
            } else {
                put_raw(buf, Raw::NxSetTunnel64, version, *tun_id);
            }
        }
        Action::SetQueue(q) => {
            put_raw(buf, Raw::SetQueue, version, (*q).into());
        }
        Action::PopQueue => {
            put_raw(buf, Raw::NxPopQueue, version, 0);
        }
        Action::Resubmit { in_port, table_id, with_ct_orig, plain } => {
            if *table_id == 0xff && *plain {
                put_raw(buf, Raw::NxResubmit, version, port_no::to_ofp10_wire(*in_port).into());
            } else {
                let raw = if *with_ct_orig { Raw::NxResubmitTableCt } else { Raw::NxResubmitTable };
                let s = put_raw(buf, raw, version, 0);
                buf[s + 10..s + 12].copy_from_slice(&port_no::to_ofp10_wire(*in_port).to_be_bytes());
                buf[s + 12] = *table_id;
            }
        }
        Action::Note(data) => {
            let s = put_raw(buf, Raw::NxNote, version, 0);
            buf.truncate(s + 10);
            buf.put_slice(data);
            finish_var(buf, s);
        }
        Action::Exit => {
            put_raw(buf, Raw::NxExit, version, 0);
        }
        Action::CtClear => {
            put_raw(buf, Raw::NxCtClear, version, 0);
        }
        Action::Meter(m) => {
            // A meter action exists only in OF1.5; earlier versions carry the instruction.
            if version >= OFP15_VERSION {
                put_raw(buf, Raw::Of15Meter, version, (*m).into());
            }
        }
    }
}

fn put_of11_output(buf: &mut BytesMut, version: u8, p: u32, max_len: u16) {
    let s = put_raw(buf, Raw::Of11Output, version, 0);
    buf[s + 4..s + 8].copy_from_slice(&p.to_be_bytes());
    buf[s + 8..s + 10].copy_from_slice(&max_len.to_be_bytes());
}

/// Nicira write_metadata (the OF1.0 form of the write-metadata instruction).
pub(crate) fn put_nx_write_metadata(buf: &mut BytesMut, metadata: u64, mask: u64) {
    let s = put_raw(buf, Raw::NxWriteMetadata, OFP10_VERSION, 0);
    buf[s + 16..s + 24].copy_from_slice(&metadata.to_be_bytes());
    buf[s + 24..s + 32].copy_from_slice(&mask.to_be_bytes());
}

/// Nicira resubmit to a table (the OF1.0 form of goto-table).
pub(crate) fn put_nx_goto_table(buf: &mut BytesMut, table_id: u8) {
    let s = put_raw(buf, Raw::NxResubmitTable, OFP10_VERSION, 0);
    buf[s + 10..s + 12].copy_from_slice(&port_no::to_ofp10_wire(port_no::IN_PORT).to_be_bytes());
    buf[s + 12] = table_id;
}
