//! Action decoding: the (vendor, type, version) table of wire actions OVS knows and this codec
//! models, with their lengths, and the per-action decoders with OVS's errors
//! (`ofpact_pull_raw`, `decode_*` in OVS `ofp-actions.c`).

use bytes::Bytes;
use smallvec::SmallVec;

use super::*;
use crate::buf::{be16, be32, be64, Reader};
use crate::errors::{OfpErr, NX_VENDOR_ID, ONF_VENDOR_ID};
use crate::flow::{eth_type_vlan, IP_DSCP_MASK, IP_ECN_MASK, OFPVID12_PRESENT};
use crate::mf;
use crate::ofmatch::nxm::{self, Entry};
use crate::port_no;
use crate::prop::{self, PropType};

const OFPAT_VENDOR: u16 = 0xffff;

/// Wire action forms (OVS `enum ofp_raw_action_type`, the modelled subset).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Raw {
    Of10Output,
    Of11Output,
    Of10SetVlanVid,
    Of10SetVlanPcp,
    Of11SetVlanVid,
    Of11SetVlanPcp,
    Of11PushVlan,
    Of10StripVlan,
    Of11PopVlan,
    SetDlSrc,
    SetDlDst,
    SetNwSrc,
    SetNwDst,
    SetNwTos,
    Of11SetNwEcn,
    SetTpSrc,
    SetTpDst,
    Of10Enqueue,
    SetQueue,
    Group,
    Of11SetNwTtl,
    DecNwTtl,
    NxDecTtlCntIds,
    Of12SetField,
    Of15SetField,
    NxRegLoad,
    NxRegLoad2,
    Of15Meter,
    NxResubmit,
    NxResubmitTable,
    NxResubmitTableCt,
    NxSetTunnel,
    NxSetTunnel64,
    NxPopQueue,
    NxNote,
    NxExit,
    NxController,
    NxController2,
    NxWriteMetadata,
    NxOutputTrunc,
    NxCtClear,
}

/// One row of the action table: `raw` is (vendor, type) in versions `min..=max`.
pub(crate) struct RawInfo {
    pub raw: Raw,
    pub vendor: u32,
    pub atype: u16,
    pub min_version: u8,
    pub max_version: u8,
    pub min_len: u16,
    /// Variable-length actions may be longer than `min_len` (up to 65528).
    pub var_len: bool,
    /// For actions with one integer argument: its offset and length.
    pub arg: Option<(u8, u8)>,
}

const NX: u32 = NX_VENDOR_ID;

const fn r(
    raw: Raw,
    vendor: u32,
    atype: u16,
    v: (u8, u8),
    min_len: u16,
    var_len: bool,
    arg: Option<(u8, u8)>,
) -> RawInfo {
    RawInfo { raw, vendor, atype, min_version: v.0, max_version: v.1, min_len, var_len, arg }
}

/// Argument at offset 4 (OpenFlow actions) of `n` bytes.
const fn of_arg(n: u8) -> Option<(u8, u8)> {
    Some((4, n))
}

/// Argument after the 10-byte Nicira header, aligned to its size.
const fn nx_arg(n: u8) -> Option<(u8, u8)> {
    Some((10u8.div_ceil(n) * n, n))
}

pub(crate) static RAW_TABLE: &[RawInfo] = &[
    r(Raw::Of10Output, 0, 0, (1, 1), 8, false, None),
    r(Raw::Of11Output, 0, 0, (2, 6), 16, false, None),
    r(Raw::Of10SetVlanVid, 0, 1, (1, 1), 8, false, of_arg(2)),
    r(Raw::Of10SetVlanPcp, 0, 2, (1, 1), 8, false, of_arg(1)),
    r(Raw::Of11SetVlanVid, 0, 1, (2, 6), 8, false, of_arg(2)),
    r(Raw::Of11SetVlanPcp, 0, 2, (2, 6), 8, false, of_arg(1)),
    r(Raw::Of11PushVlan, 0, 17, (2, 6), 8, false, of_arg(2)),
    r(Raw::Of10StripVlan, 0, 3, (1, 1), 8, false, None),
    r(Raw::Of11PopVlan, 0, 18, (2, 6), 8, false, None),
    r(Raw::SetDlSrc, 0, 4, (1, 1), 16, false, None),
    r(Raw::SetDlSrc, 0, 3, (2, 6), 16, false, None),
    r(Raw::SetDlDst, 0, 5, (1, 1), 16, false, None),
    r(Raw::SetDlDst, 0, 4, (2, 6), 16, false, None),
    r(Raw::SetNwSrc, 0, 6, (1, 1), 8, false, of_arg(4)),
    r(Raw::SetNwSrc, 0, 5, (2, 6), 8, false, of_arg(4)),
    r(Raw::SetNwDst, 0, 7, (1, 1), 8, false, of_arg(4)),
    r(Raw::SetNwDst, 0, 6, (2, 6), 8, false, of_arg(4)),
    r(Raw::SetNwTos, 0, 8, (1, 1), 8, false, of_arg(1)),
    r(Raw::SetNwTos, 0, 7, (2, 6), 8, false, of_arg(1)),
    r(Raw::Of11SetNwEcn, 0, 8, (2, 6), 8, false, of_arg(1)),
    r(Raw::SetTpSrc, 0, 9, (1, 6), 8, false, of_arg(2)),
    r(Raw::SetTpDst, 0, 10, (1, 6), 8, false, of_arg(2)),
    r(Raw::Of10Enqueue, 0, 11, (1, 1), 16, false, None),
    r(Raw::SetQueue, NX, 4, (1, 1), 16, false, nx_arg(4)),
    r(Raw::SetQueue, 0, 21, (2, 6), 8, false, of_arg(4)),
    r(Raw::Group, NX, 40, (1, 1), 16, false, nx_arg(4)),
    r(Raw::Group, 0, 22, (2, 6), 8, false, of_arg(4)),
    r(Raw::Of11SetNwTtl, 0, 23, (2, 6), 8, false, of_arg(1)),
    r(Raw::DecNwTtl, NX, 18, (1, 1), 16, false, None),
    r(Raw::DecNwTtl, 0, 24, (2, 6), 8, false, None),
    r(Raw::NxDecTtlCntIds, NX, 21, (1, 6), 16, true, None),
    r(Raw::Of12SetField, 0, 25, (3, 5), 8, true, None),
    r(Raw::Of15SetField, 0, 25, (6, 6), 8, true, None),
    r(Raw::NxRegLoad, NX, 7, (1, 5), 24, false, None),
    r(Raw::NxRegLoad2, NX, 33, (1, 5), 16, true, None),
    r(Raw::Of15Meter, 0, 29, (6, 6), 8, false, of_arg(4)),
    r(Raw::NxResubmit, NX, 1, (1, 6), 16, false, nx_arg(2)),
    r(Raw::NxResubmitTable, NX, 14, (1, 6), 16, false, None),
    r(Raw::NxResubmitTableCt, NX, 44, (1, 6), 16, false, None),
    r(Raw::NxSetTunnel, NX, 2, (1, 6), 16, false, nx_arg(4)),
    r(Raw::NxSetTunnel64, NX, 9, (1, 6), 24, false, nx_arg(8)),
    r(Raw::NxPopQueue, NX, 5, (1, 6), 16, false, None),
    r(Raw::NxNote, NX, 8, (1, 6), 16, true, None),
    r(Raw::NxExit, NX, 17, (1, 6), 16, false, None),
    r(Raw::NxController, NX, 20, (1, 6), 16, false, None),
    r(Raw::NxController2, NX, 37, (1, 6), 16, true, None),
    r(Raw::NxWriteMetadata, NX, 22, (1, 6), 32, false, None),
    r(Raw::NxOutputTrunc, NX, 39, (1, 6), 16, false, None),
    r(Raw::NxCtClear, NX, 43, (1, 6), 16, false, None),
];

impl Raw {
    /// The table row for sending this raw in `version` (None if that version lacks it).
    pub(crate) fn info(self, version: u8) -> Option<&'static RawInfo> {
        RAW_TABLE.iter().find(|i| i.raw == self && (i.min_version..=i.max_version).contains(&version))
    }
}

/// A decoded item of an action list: an action, or Nicira write_metadata, which OVS treats as
/// the write-metadata instruction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Item {
    Action(Action),
    WriteMetadata(u64, u64),
}

/// Identifies the action at the front of `data` (OVS `ofpact_decode_raw`).
fn lookup(data: &[u8], version: u8) -> Result<&'static RawInfo, OfpErr> {
    if data.len() < 8 {
        return Err(OfpErr::OFPBAC_BAD_LEN);
    }
    let (vendor, atype) = if be16(data, 0) == OFPAT_VENDOR {
        let vendor = be32(data, 4);
        if vendor != NX_VENDOR_ID && vendor != ONF_VENDOR_ID {
            return Err(OfpErr::OFPBAC_BAD_VENDOR);
        }
        if data.len() < 16 {
            return Err(OfpErr::OFPBAC_BAD_LEN);
        }
        (vendor, be16(data, 8))
    } else {
        (0, be16(data, 0))
    };
    RAW_TABLE
        .iter()
        .find(|i| i.vendor == vendor && i.atype == atype && (i.min_version..=i.max_version).contains(&version))
        .ok_or(if vendor != 0 { OfpErr::OFPBAC_BAD_VENDOR_TYPE } else { OfpErr::OFPBAC_BAD_TYPE })
}

/// Decodes a whole action list into items (OVS `ofpacts_decode`), without ordering checks.
pub(crate) fn decode_items(data: &Bytes, version: u8) -> Result<SmallVec<[Item; 4]>, OfpErr> {
    let mut out = SmallVec::new();
    let mut at = 0;
    while at < data.len() {
        let rest = &data[at..];
        let info = lookup(rest, version)?;
        let len = usize::from(be16(rest, 2));
        let max = if info.var_len { 65528 } else { usize::from(info.min_len) };
        if len > rest.len() || len < usize::from(info.min_len) || len > max || len % 8 != 0 {
            return Err(OfpErr::OFPBAC_BAD_LEN);
        }
        let a = data.slice(at..at + len);
        at += len;
        let arg = info.arg.map_or(0, |(ofs, n)| {
            a[usize::from(ofs)..usize::from(ofs + n)].iter().fold(0u64, |acc, &b| acc << 8 | u64::from(b))
        });
        out.push(decode_one(info.raw, &a, arg)?);
    }
    Ok(out)
}

fn act(a: Action) -> Result<Item, OfpErr> {
    Ok(Item::Action(a))
}

fn decode_one(raw: Raw, a: &Bytes, arg: u64) -> Result<Item, OfpErr> {
    use Raw::*;
    match raw {
        Of10Output => {
            let port = port_no::ofp10_to_ofp11(be16(a, 4));
            check_output_port(port, port_no::MAX_PHYSICAL)?;
            act(Action::Output { port, max_len: be16(a, 6) })
        }
        Of11Output => {
            let port = port_no::from_ofp11(be32(a, 4))?;
            check_output_port(port, port_no::MAX_PHYSICAL)?;
            act(Action::Output { port, max_len: be16(a, 8) })
        }
        Of10SetVlanVid | Of11SetVlanVid => {
            if arg & !0xfff != 0 {
                return Err(OfpErr::OFPBAC_BAD_ARGUMENT);
            }
            act(Action::SetVlanVid {
                vid: arg as u16,
                push_vlan_if_needed: raw == Of10SetVlanVid,
                flow_has_vlan: false,
            })
        }
        Of10SetVlanPcp | Of11SetVlanPcp => {
            if arg & !7 != 0 {
                return Err(OfpErr::OFPBAC_BAD_ARGUMENT);
            }
            act(Action::SetVlanPcp { pcp: arg as u8, push_vlan_if_needed: raw == Of10SetVlanPcp, flow_has_vlan: false })
        }
        Of11PushVlan => {
            if !eth_type_vlan(arg as u16) {
                return Err(OfpErr::OFPBAC_BAD_ARGUMENT);
            }
            act(Action::PushVlan { ethertype: arg as u16 })
        }
        Of10StripVlan => act(Action::StripVlan { pop_vlan: false }),
        Of11PopVlan => act(Action::StripVlan { pop_vlan: true }),
        SetDlSrc => act(Action::SetEthSrc(EthAddr([a[4], a[5], a[6], a[7], a[8], a[9]]))),
        SetDlDst => act(Action::SetEthDst(EthAddr([a[4], a[5], a[6], a[7], a[8], a[9]]))),
        SetNwSrc => act(Action::SetIpv4Src(arg as u32)),
        SetNwDst => act(Action::SetIpv4Dst(arg as u32)),
        SetNwTos => {
            if arg as u8 & !IP_DSCP_MASK != 0 {
                return Err(OfpErr::OFPBAC_BAD_ARGUMENT);
            }
            act(Action::SetIpDscp(arg as u8))
        }
        Of11SetNwEcn => {
            if arg as u8 & !IP_ECN_MASK != 0 {
                return Err(OfpErr::OFPBAC_BAD_ARGUMENT);
            }
            act(Action::SetIpEcn(arg as u8))
        }
        Of11SetNwTtl => act(Action::SetIpTtl(arg as u8)),
        SetTpSrc => act(Action::SetL4SrcPort { port: arg as u16, flow_ip_proto: 0 }),
        SetTpDst => act(Action::SetL4DstPort { port: arg as u16, flow_ip_proto: 0 }),
        Of10Enqueue => {
            let port = port_no::ofp10_to_ofp11(be16(a, 4));
            if port >= port_no::MAX_PHYSICAL && port != port_no::IN_PORT && port != port_no::LOCAL {
                return Err(OfpErr::OFPBAC_BAD_OUT_PORT);
            }
            act(Action::Enqueue { port, queue: be32(a, 12) })
        }
        SetQueue => act(Action::SetQueue(arg as u32)),
        Group => act(Action::Group(arg as u32)),
        DecNwTtl => act(Action::DecTtl { cnt_ids: SmallVec::from_slice(&[0]), cnt_ids_form: false }),
        NxDecTtlCntIds => {
            let n = usize::from(be16(a, 10));
            if a[12..16] != [0; 4] {
                return Err(OfpErr::NXBRC_MUST_BE_ZERO);
            }
            if a.len() - 16 < 2 * n {
                return Err(OfpErr::OFPBAC_BAD_LEN);
            }
            let cnt_ids = (0..n).map(|i| be16(a, 16 + 2 * i)).collect();
            act(Action::DecTtl { cnt_ids, cnt_ids_form: true })
        }
        Of12SetField | Of15SetField => decode_set_field(a, raw == Of15SetField),
        NxRegLoad => decode_reg_load(a),
        NxRegLoad2 => decode_reg_load2(a),
        Of15Meter => act(Action::Meter(arg as u32)),
        NxResubmit => act(Action::Resubmit {
            in_port: port_no::ofp10_to_ofp11(arg as u16),
            table_id: 0xff,
            with_ct_orig: false,
            plain: true,
        }),
        NxResubmitTable | NxResubmitTableCt => {
            if a[13..16] != [0; 3] {
                return Err(OfpErr::OFPBAC_BAD_ARGUMENT);
            }
            act(Action::Resubmit {
                in_port: port_no::ofp10_to_ofp11(be16(a, 10)),
                table_id: a[12],
                with_ct_orig: raw == NxResubmitTableCt,
                plain: false,
            })
        }
        NxSetTunnel => act(Action::SetTunnel { tun_id: arg, tun64: false }),
        NxSetTunnel64 => act(Action::SetTunnel { tun_id: arg, tun64: true }),
        NxPopQueue => act(Action::PopQueue),
        NxNote => act(Action::Note(a.slice(10..))),
        NxExit => act(Action::Exit),
        NxCtClear => act(Action::CtClear),
        NxController => act(Action::Controller(Controller {
            max_len: be16(a, 10),
            controller_id: be16(a, 12),
            reason: a[14],
            ..Controller::default()
        })),
        NxController2 => decode_controller2(a),
        NxWriteMetadata => {
            if a[10..16] != [0; 6] {
                return Err(OfpErr::NXBRC_MUST_BE_ZERO);
            }
            Ok(Item::WriteMetadata(be64(a, 16), be64(a, 24)))
        }
        NxOutputTrunc => {
            let max_len = be32(a, 12);
            if max_len < 14 {
                return Err(OfpErr::OFPBAC_BAD_ARGUMENT);
            }
            act(Action::OutputTrunc { port: port_no::ofp10_to_ofp11(be16(a, 10)), max_len })
        }
    }
}

/// OFPAT_SET_FIELD: one OXM entry (masked only in OF1.5) then zero padding.
fn decode_set_field(a: &Bytes, may_mask: bool) -> Result<Item, OfpErr> {
    let mut b = &a[4..];
    let entry = match nxm::pull_entry(&mut b, false, true, may_mask) {
        Err(OfpErr::OFPBMC_BAD_MASK) => return Err(OfpErr::OFPBAC_BAD_SET_MASK),
        e => e?,
    };
    let Entry::Field { id, value, mask, .. } = entry else { return Err(OfpErr::OFPBAC_BAD_SET_TYPE) };
    if b.iter().any(|&x| x != 0) || id == MfId::InPortOxm || !id.field().writable {
        return Err(OfpErr::OFPBAC_BAD_SET_ARGUMENT);
    }
    let present = u128::from(OFPVID12_PRESENT);
    if !mf::is_value_valid(id, value) || (id == MfId::VlanVid && (mask & present == 0 || value & present == 0)) {
        return Err(OfpErr::OFPBAC_BAD_SET_ARGUMENT);
    }
    act(Action::SetField(SetField { field: id, value, mask, raw: SetFieldRaw::SetField, flow_has_vlan: false }))
}

/// NXAST_REG_LOAD: `value` into bits `ofs..ofs+n_bits` of the field named by a 32-bit header.
fn decode_reg_load(a: &Bytes) -> Result<Item, OfpErr> {
    let ofs_nbits = be16(a, 10);
    let (ofs, n_bits) = (u32::from(ofs_nbits >> 6), u32::from(ofs_nbits & 0x3f) + 1);
    let h = be32(a, 12);
    let class = (h >> 16) as u16;
    // A 32-bit header cannot name an experimenter field.
    let id = (class != mf::OXM_CLASS_EXPERIMENTER)
        .then(|| MfId::from_header(u64::from(h) << 32))
        .flatten()
        .filter(|id| id.in_flow())
        .ok_or(OfpErr::OFPBAC_BAD_SET_TYPE)?;
    check_dst(id, ofs, n_bits)?;
    let value = be64(a, 16);
    if n_bits < 64 && value >> n_bits != 0 {
        return Err(OfpErr::OFPBAC_BAD_ARGUMENT);
    }
    let bits = if n_bits >= 64 { u128::from(u64::MAX) } else { (1u128 << n_bits) - 1 };
    act(Action::SetField(SetField {
        field: id,
        value: u128::from(value) << ofs,
        mask: bits << ofs,
        raw: SetFieldRaw::RegLoad,
        flow_has_vlan: false,
    }))
}

/// OVS `mf_check_dst` without a match.
pub(crate) fn check_dst(id: MfId, ofs: u32, n_bits: u32) -> Result<(), OfpErr> {
    let f = id.field();
    if n_bits == 0 || ofs >= f.n_bits || ofs + n_bits > f.n_bits {
        return Err(OfpErr::OFPBAC_BAD_SET_LEN);
    }
    if !f.writable {
        return Err(OfpErr::OFPBAC_BAD_SET_ARGUMENT);
    }
    Ok(())
}

/// NXAST_REG_LOAD2: one NXM/OXM entry (mask allowed) after the 10-byte header.
fn decode_reg_load2(a: &Bytes) -> Result<Item, OfpErr> {
    let mut b = &a[10..];
    let Entry::Field { id, value, mask, .. } = nxm::pull_entry(&mut b, false, true, true)? else {
        return Err(OfpErr::OFPBAC_BAD_SET_TYPE);
    };
    if b.iter().any(|&x| x != 0) || !id.field().writable {
        return Err(OfpErr::OFPBAC_BAD_SET_ARGUMENT);
    }
    act(Action::SetField(SetField { field: id, value, mask, raw: SetFieldRaw::RegLoad2, flow_has_vlan: false }))
}

/// NXAST_CONTROLLER2 properties.
pub(crate) const NXAC2PT_MAX_LEN: u16 = 0;
pub(crate) const NXAC2PT_CONTROLLER_ID: u16 = 1;
pub(crate) const NXAC2PT_REASON: u16 = 2;
pub(crate) const NXAC2PT_USERDATA: u16 = 3;
pub(crate) const NXAC2PT_PAUSE: u16 = 4;
pub(crate) const NXAC2PT_METER_ID: u16 = 5;

fn decode_controller2(a: &Bytes) -> Result<Item, OfpErr> {
    if a[10..16] != [0; 6] {
        return Err(OfpErr::NXBRC_MUST_BE_ZERO);
    }
    let mut c = Controller { v2: true, ..Controller::default() };
    let mut props = Reader::new(a.slice(16..));
    while !props.is_empty() {
        let mut p = prop::pull(&mut props, 0xffff)?;
        match p.ptype {
            PropType::Std(NXAC2PT_MAX_LEN) => c.max_len = p.u16()?,
            PropType::Std(NXAC2PT_CONTROLLER_ID) => c.controller_id = p.u16()?,
            PropType::Std(NXAC2PT_REASON) => c.reason = p.u8()?,
            PropType::Std(NXAC2PT_USERDATA) => c.userdata = p.body,
            PropType::Std(NXAC2PT_PAUSE) => c.pause = true,
            PropType::Std(NXAC2PT_METER_ID) => c.meter_id = p.u32()?,
            t => prop::unknown(false, t)?,
        }
    }
    act(Action::Controller(c))
}

/// Instruction slots, in the order OpenFlow requires (OVS `enum ovs_instruction_type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum InstKind {
    Meter = 0,
    Apply = 1,
    Clear = 2,
    Write = 3,
    WriteMetadata = 4,
    GotoTable = 5,
}

impl InstKind {
    pub(crate) fn bit(self) -> u32 {
        1 << self as u32
    }
}

/// OVS `ofpacts_verify` over the instruction kinds of a flat list: kinds must not go backwards
/// (apply may repeat), and each must be in `allowed`.
pub(crate) fn verify(kinds: impl IntoIterator<Item = InstKind>, version: u8, allowed: u32) -> Result<(), OfpErr> {
    let mut inst = InstKind::Meter;
    for (i, next) in kinds.into_iter().enumerate() {
        if i > 0 && (if inst == InstKind::Apply { next < inst } else { next <= inst }) {
            return Err(OfpErr::OFPBAC_UNSUPPORTED_ORDER);
        }
        if allowed & next.bit() == 0 {
            return Err(if next == InstKind::Meter && version >= crate::header::OFP15_VERSION {
                OfpErr::OFPBAC_BAD_TYPE
            } else {
                OfpErr::OFPBIC_UNSUP_INST
            });
        }
        inst = next;
    }
    Ok(())
}

pub(crate) fn item_kind(item: &Item) -> InstKind {
    match item {
        Item::Action(_) => InstKind::Apply,
        Item::WriteMetadata(..) => InstKind::WriteMetadata,
    }
}

/// Decodes the actions of a packet-out (or any bare action list): no instructions allowed
/// (OVS `ofpacts_pull_openflow_actions`).
pub fn decode_actions(data: &Bytes, version: u8) -> Result<ActionList, OfpErr> {
    let items = decode_items(data, version)?;
    verify(items.iter().map(item_kind), version, InstKind::Apply.bit() | InstKind::Meter.bit())?;
    Ok(items
        .into_iter()
        .filter_map(|i| match i {
            Item::Action(a) => Some(a),
            Item::WriteMetadata(..) => None,
        })
        .collect())
}

/// Decodes a write-actions list: only actions an action set can hold (OFPBAC_BAD_TYPE).
pub fn decode_action_set(data: &Bytes, version: u8) -> Result<ActionList, OfpErr> {
    decode_items(data, version)?
        .into_iter()
        .map(|i| match i {
            Item::Action(a) if a.allowed_in_action_set() => Ok(a),
            _ => Err(OfpErr::OFPBAC_BAD_TYPE),
        })
        .collect()
}

impl Action {
    /// Whether OpenFlow lets this action sit in an action set (OVS `action_set_classify`).
    pub fn allowed_in_action_set(&self) -> bool {
        !matches!(
            self,
            Action::Controller(_)
                | Action::Enqueue { .. }
                | Action::OutputTrunc { .. }
                | Action::PopQueue
                | Action::Note(_)
                | Action::Exit
                | Action::Meter(_)
        )
    }
}
