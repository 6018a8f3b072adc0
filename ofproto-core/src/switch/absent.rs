//! Queues, groups and meters, which this switch does not have: the replies and errors
//! ovs-vswitchd gives when none exist and none can be made — ports without queues (as OVS's dummy
//! and internal ports), a provider with no room for groups (`max_groups` 0) and no meter support
//! (`max_meters` 0). These messages stay opaque in the codec, so their fixed fields are read here;
//! group buckets and meter bands are not validated.

use bytes::{BufMut, Bytes, BytesMut};
use connmgr_core::{Disposition, Replies};
use ofp_proto::buf::Reader;
use ofp_proto::msg::multipart::MultipartBuilder;
use ofp_proto::{header, port_no, raw, MsgType, OfpErr, OfpMsg, Raw};

use super::ports::PortTable;
use super::requests::reply_raw;

/// "All queues" (`OFPQ_ALL`).
const OFPQ_ALL: u32 = 0xffff_ffff;
/// "All meters" (`OFPM13_ALL`).
const OFPM13_ALL: u32 = 0xffff_ffff;
/// OF1.0 spells "any port" OFPP_ALL in queue statistics requests.
const OFPP10_ALL: u16 = 0xfffc;

const OFPGC11_ADD: u16 = 0;
const OFPGC11_MODIFY: u16 = 1;
const OFPGC11_DELETE: u16 = 2;
const OFPGC15_INSERT_BUCKET: u16 = 3;
const OFPGC15_REMOVE_BUCKET: u16 = 4;
const OFPGC11_ADD_OR_MOD: u16 = 0x8000;
const OFPGT11_FF: u8 = 3;

const OFPMC13_DELETE: u16 = 2;
const OFPMF13_KBPS: u16 = 1;
const OFPMF13_PKTPS: u16 = 2;

/// Body lengths of the all-zero feature replies: `ofp12_group_features_stats` and
/// `ofp13_meter_features`.
const GROUP_FEATURES_LEN: usize = 40;
const METER_FEATURES_LEN: usize = 16;

/// Answers a queue, group or meter request (`t` is its type, `body` what follows its headers).
pub(crate) fn handle(ports: &PortTable, msg: &OfpMsg, t: MsgType, body: &Bytes, out: &mut Replies) -> Disposition {
    let result = match t {
        MsgType::QueueStatsRequest => {
            queue_stats(ports, msg, body).map(|()| empty_multipart(msg, MsgType::QueueStatsReply))
        }
        MsgType::QueueGetConfigRequest => queue_get_config(ports, msg, body),
        MsgType::GroupMod => check_group_mod_in(msg.version, body).map(|()| Vec::new()),
        MsgType::GroupStatsRequest => Ok(empty_multipart(msg, MsgType::GroupStatsReply)),
        MsgType::GroupDescStatsRequest => Ok(empty_multipart(msg, MsgType::GroupDescStatsReply)),
        MsgType::GroupFeaturesStatsRequest => {
            Ok(zeros_multipart(msg, MsgType::GroupFeaturesStatsReply, GROUP_FEATURES_LEN))
        }
        MsgType::MeterMod => meter_mod(body).map(|()| Vec::new()),
        MsgType::MeterStatsRequest => meter_request(body).map(|()| empty_multipart(msg, MsgType::MeterStatsReply)),
        MsgType::MeterConfigStatsRequest => {
            meter_request(body).map(|()| empty_multipart(msg, MsgType::MeterConfigStatsReply))
        }
        MsgType::MeterFeaturesStatsRequest => {
            Ok(zeros_multipart(msg, MsgType::MeterFeaturesStatsReply, METER_FEATURES_LEN))
        }
        _ => Err(if msg.raw.is_stat() { OfpErr::OFPBRC_BAD_STAT } else { OfpErr::OFPBRC_BAD_TYPE }),
    };
    match result {
        Ok(replies) => {
            replies.into_iter().for_each(|m| out.send(m));
            Disposition::Handled
        }
        Err(e) => Disposition::Error(e),
    }
}

fn empty_multipart(msg: &OfpMsg, t: MsgType) -> Vec<Bytes> {
    zeros_multipart(msg, t, 0)
}

/// A one-message multipart reply whose body is `len` zero bytes.
fn zeros_multipart(msg: &OfpMsg, t: MsgType, len: usize) -> Vec<Bytes> {
    let Some(raw) = reply_raw(msg.raw, t, msg.version) else { return Vec::new() };
    let mut b = MultipartBuilder::new(raw, msg.version, msg.xid);
    if len > 0 {
        // 16 or 40 bytes always fit in one message.
        let _ = b.append(&vec![0; len]);
    }
    b.finish()
}

/// A port number as the request carries it: OF1.0's 16 bits, else a validated OF1.1+ number.
fn pull_port(version: u8, r: &mut Reader) -> Result<u32, OfpErr> {
    if version == header::OFP10_VERSION {
        let p = r.u16()?;
        r.skip(2)?;
        Ok(if p == OFPP10_ALL { port_no::ANY } else { port_no::ofp10_to_ofp11(p) })
    } else {
        port_no::from_ofp11(r.u32()?)
    }
}

/// OVS `handle_queue_stats_request`: no port has queues, so "all queues" gives an empty reply
/// and any particular queue does not exist.
fn queue_stats(ports: &PortTable, msg: &OfpMsg, body: &Bytes) -> Result<(), OfpErr> {
    let mut r = Reader::new(body.clone());
    let port = pull_port(msg.version, &mut r)?;
    let queue = r.u32()?;
    if port != port_no::ANY && ports.get(port).is_none() {
        return Err(OfpErr::OFPQOFC_BAD_PORT);
    }
    if queue == OFPQ_ALL {
        Ok(())
    } else {
        Err(OfpErr::OFPQOFC_BAD_QUEUE)
    }
}

/// OVS `handle_queue_get_config_request` (OF1.0–1.3 message, OF1.4+ queue description).
fn queue_get_config(ports: &PortTable, msg: &OfpMsg, body: &Bytes) -> Result<Vec<Bytes>, OfpErr> {
    let mut r = Reader::new(body.clone());
    let (port, queue) = match msg.raw {
        Raw::Ofpt10QueueGetConfigRequest => {
            let p = r.u16()?;
            if u32::from(p) >= port_no::MAX_PHYSICAL {
                return Err(OfpErr::OFPQOFC_BAD_PORT);
            }
            (u32::from(p), OFPQ_ALL)
        }
        Raw::Ofpt11QueueGetConfigRequest => {
            let p = port_no::from_ofp11(r.u32()?)?;
            if p != port_no::ANY && p >= port_no::MAX_PHYSICAL {
                return Err(OfpErr::OFPQOFC_BAD_PORT);
            }
            (p, OFPQ_ALL)
        }
        _ => (port_no::from_ofp11(r.u32()?)?, r.u32()?),
    };
    if port != port_no::ANY && ports.get(port).is_none() {
        return Err(OfpErr::OFPQOFC_BAD_PORT);
    }
    if queue != OFPQ_ALL {
        return Err(OfpErr::OFPQOFC_BAD_QUEUE);
    }
    let reply_raw = match msg.raw {
        Raw::Ofpt10QueueGetConfigRequest => Raw::Ofpt10QueueGetConfigReply,
        Raw::Ofpt11QueueGetConfigRequest => Raw::Ofpt11QueueGetConfigReply,
        _ => return Ok(empty_multipart(msg, MsgType::QueueGetConfigReply)),
    };
    let mut b = BytesMut::new();
    let start = reply_raw.put_headers(msg.version, msg.xid, 0, &mut b);
    if msg.version == header::OFP10_VERSION {
        b.put_u16(port_no::to_ofp10_wire(port));
        b.put_bytes(0, 6);
    } else {
        b.put_u32(port);
        b.put_bytes(0, 4);
    }
    raw::finish_msg(&mut b, start);
    Ok(vec![b.freeze()])
}

/// A group mod's checks, as at bundle-add time: no group exists and none can be added.
pub(crate) fn check_group_mod(body: &Bytes) -> Result<(), OfpErr> {
    check_group_mod_in(header::OFP15_VERSION, body)
}

/// OVS's group mod decoding checks and `ofproto_group_mod_start` with `max_groups` 0: adds fail
/// with OFPGMFC_OUT_OF_GROUPS, changes to a group with OFPGMFC_UNKNOWN_GROUP, deletes succeed.
fn check_group_mod_in(version: u8, body: &Bytes) -> Result<(), OfpErr> {
    let mut r = Reader::new(body.clone());
    let command = r.u16()?;
    let group_type = r.u8()?;
    if group_type > OFPGT11_FF {
        return Err(OfpErr::OFPGMFC_BAD_TYPE);
    }
    let of15 = version >= header::OFP15_VERSION;
    match command {
        OFPGC11_ADD | OFPGC11_ADD_OR_MOD => Err(OfpErr::OFPGMFC_OUT_OF_GROUPS),
        OFPGC11_MODIFY => Err(OfpErr::OFPGMFC_UNKNOWN_GROUP),
        OFPGC15_INSERT_BUCKET | OFPGC15_REMOVE_BUCKET if of15 => Err(OfpErr::OFPGMFC_UNKNOWN_GROUP),
        OFPGC11_DELETE => Ok(()),
        _ => Err(OfpErr::OFPGMFC_BAD_COMMAND),
    }
}

/// OVS `handle_meter_mod` with `max_meters` 0: deletes succeed, everything else fails with
/// OFPMMFC_INVALID_METER after the decoder's command and flags checks.
fn meter_mod(body: &Bytes) -> Result<(), OfpErr> {
    let mut r = Reader::new(body.clone());
    let command = r.u16()?;
    let flags = r.u16()?;
    match command {
        OFPMC13_DELETE => Ok(()),
        c if c > OFPMC13_DELETE => Err(OfpErr::OFPMMFC_BAD_COMMAND),
        _ if flags & OFPMF13_KBPS != 0 && flags & OFPMF13_PKTPS != 0 => Err(OfpErr::OFPMMFC_BAD_FLAGS),
        _ => Err(OfpErr::OFPMMFC_INVALID_METER),
    }
}

/// OVS `handle_meter_request`: "all meters" lists none; any particular one does not exist.
fn meter_request(body: &Bytes) -> Result<(), OfpErr> {
    let meter_id = Reader::new(body.clone()).u32()?;
    if meter_id == OFPM13_ALL {
        Ok(())
    } else {
        Err(OfpErr::OFPMMFC_UNKNOWN_METER)
    }
}
