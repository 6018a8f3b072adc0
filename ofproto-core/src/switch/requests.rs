//! The switch-level requests (OVS `ofproto.c` handlers the flow tables do not take): features,
//! switch configuration, port mods, packet outs, description, port statistics and port
//! descriptions, with OVS's replies and errors; queues, groups and meters go to `absent`.

use bytes::Bytes;
use connmgr_core::{
    AsyncMsg, AsyncPacketIn, ConnInfo, ConnType, Disposition, Part, PortChange, Replies, Request, Role,
};
use log::warn;
use ofp_proto::actions::{check_actions, CheckParams};
use ofp_proto::flow::Flow;
use ofp_proto::msg::flow_mod::NO_BUFFER;
use ofp_proto::msg::port::{PortDescReply, PortMod, PortReason};
use ofp_proto::msg::stats::PortStatsReply;
use ofp_proto::msg::switch::{capabilities, FragHandling, SwitchConfig, SwitchFeatures, OF10_ACTIONS_ALL};
use ofp_proto::msg::PacketOut;
use ofp_proto::ofmatch::Match;
use ofp_proto::{header, port_no, Instant, Message, MsgType, OfpErr, OfpMsg, Raw};

use super::absent;
use super::bridge::{run, Bridge};
use super::support;
use super::xlate::{translate, Purpose, Start};
use crate::datapath::Datapath;
use crate::ofproto::OfProto;
use crate::owner::SwitchRequests;

/// What OVS's userspace bridge claims (`handle_features_request`), ARP_MATCH_IP included.
const CAPABILITIES: u32 = capabilities::FLOW_STATS
    | capabilities::TABLE_STATS
    | capabilities::PORT_STATS
    | capabilities::QUEUE_STATS
    | capabilities::GROUP_STATS
    | capabilities::BUNDLES
    | capabilities::ARP_MATCH_IP;

/// The reply layout for a multipart request: the request's own family (NXST for NXST), else the
/// version's standard one (OVS `ofpraw_stats_request_to_reply`).
pub(crate) fn reply_raw(request: Raw, t: MsgType, version: u8) -> Option<Raw> {
    let family = request.info().family;
    Raw::candidates(t, version).find(|r| r.info().family == family).or_else(|| Raw::for_type(t, version))
}

fn send_reply(out: &mut Replies, msg: &OfpMsg, body: Message) -> Disposition {
    match OfpMsg::try_new(msg.version, msg.xid, body) {
        Some(reply) => {
            out.send_msg(&reply);
            Disposition::Handled
        }
        None => Disposition::Error(OfpErr::OFPBRC_BAD_TYPE),
    }
}

/// A packet out that passed OVS's checks (`ofproto_packet_out_init`), ready to run.
pub(crate) struct PacketOutJob {
    flow: Flow,
    actions: Vec<ofp_proto::actions::Action>,
    packet: Bytes,
}

impl Bridge {
    /// The ports a request for `port` (ANY: all) is about, in order.
    fn selected(&self, port: u32) -> Vec<u32> {
        self.ports.iter().map(|p| p.desc.port_no).filter(|p| port == port_no::ANY || *p == port).collect()
    }

    fn features(&self, tables_visible: u8, version: u8) -> SwitchFeatures {
        SwitchFeatures {
            datapath_id: self.datapath_id,
            n_buffers: 0,
            n_tables: tables_visible,
            auxiliary_id: 0,
            capabilities: CAPABILITIES,
            actions: OF10_ACTIONS_ALL,
            ports: if version < header::OFP13_VERSION {
                self.ports.iter().map(|p| p.desc.clone()).collect()
            } else {
                Vec::new()
            },
        }
    }

    /// OVS `handle_set_config`: a secondary primary-type controller may not change fragment
    /// handling; reassembly is not supported (logged, kept as it was).
    fn set_config(&mut self, conn: &ConnInfo, cfg: &SwitchConfig) {
        if conn.conn_type == ConnType::Primary && conn.role == Role::Secondary {
            return;
        }
        if cfg.frag != self.frag {
            if cfg.frag == FragHandling::Reassemble {
                warn!(target: "ofproto", "{}: unsupported fragment handling mode {}", self.name, cfg.frag.name());
            } else {
                self.frag = cfg.frag;
            }
        }
    }

    /// OVS `port_mod_start`.
    fn check_port_mod(&self, pm: &PortMod) -> Result<(), OfpErr> {
        let p = self.ports.get(pm.port_no).ok_or(OfpErr::OFPPMFC_BAD_PORT)?;
        if p.desc.hw_addr != pm.hw_addr {
            return Err(OfpErr::OFPPMFC_BAD_HW_ADDR);
        }
        Ok(())
    }

    /// OVS `port_mod_finish`: the config bits change (advertisements are not: the built-in ports
    /// have none), and a change is reported as a port status.
    fn port_mod(&mut self, conn: &ConnInfo, pm: &PortMod) -> Option<AsyncMsg> {
        let (old, new) = self.ports.modify_config(pm.port_no, pm.config, pm.mask)?;
        Some(AsyncMsg::PortStatus(PortChange {
            source: Some(conn.id),
            reason: PortReason::Modify,
            old: Some(old),
            new,
        }))
    }

    /// A port status for `port`'s change of link (no requester).
    pub fn set_link(&mut self, port: u32, up: bool) -> Option<AsyncMsg> {
        let (old, new) = self.ports.set_link(port, up)?;
        Some(AsyncMsg::PortStatus(PortChange { source: None, reason: PortReason::Modify, old: Some(old), new }))
    }

    /// OVS `ofproto_packet_out_init` and `ofproto_packet_out_start`'s action check.
    fn prepare_packet_out(&self, po: &PacketOut, version: u8, n_tables: u8) -> Result<PacketOutJob, OfpErr> {
        if po.buffer_id != NO_BUFFER {
            return Err(OfpErr::OFPBRC_BUFFER_UNKNOWN);
        }
        let meta = &po.metadata.flow;
        let mut flow = Flow::extract_typed(&po.data, meta.packet_type, meta.in_port);
        (flow.tun_id, flow.metadata, flow.regs, flow.pkt_mark) = (meta.tun_id, meta.metadata, meta.regs, meta.pkt_mark);
        let mut actions = po.actions.to_vec();
        let m = Match { flow, ..Match::catchall() };
        let cp = CheckParams { table_id: 0, n_tables, ..CheckParams::default() };
        check_actions(&mut actions, &m, version, &cp)?;
        support::check_actions(&actions)?;
        Ok(PacketOutJob { flow, actions, packet: po.data.clone() })
    }

    /// Runs a packet out through the same translation and execution as received packets.
    fn run_packet_out<D: Datapath>(
        &mut self,
        tables: &mut OfProto<D>,
        now: Instant,
        job: &PacketOutJob,
    ) -> Vec<AsyncPacketIn> {
        let mut pins = Vec::new();
        let (mut env, mut dpif) = self.parts(tables, now);
        let t = translate(
            &mut env,
            &job.flow,
            Purpose { stats: Some((1, job.packet.len() as u64)), learn: true, packet_out: true },
            Start::Actions(&job.actions),
        );
        let sent = run(&t, job.packet.clone(), Some(&mut dpif), &mut pins);
        self.pkt.packet_out_frames += sent as u64;
        self.pkt.packet_ins += pins.len() as u64;
        pins
    }

    fn port_stats(&self, msg: &OfpMsg, port: u32, now: Instant, out: &mut Replies) -> Disposition {
        let ports = (self.selected(port).into_iter())
            .filter_map(|p| self.ports.stats(p, &self.counters[self.ports.index(p)?], now))
            .collect();
        PortStatsReply { ports }.encode_multipart(msg.version, msg.xid).into_iter().for_each(|m| out.send(m));
        Disposition::Handled
    }

    fn port_desc(&self, msg: &OfpMsg, port: u32, out: &mut Replies) -> Disposition {
        let ports = self.selected(port).into_iter().filter_map(|p| self.ports.get(p).map(|p| p.desc.clone())).collect();
        PortDescReply { ports }.encode_multipart(msg.version, msg.xid).into_iter().for_each(|m| out.send(m));
        Disposition::Handled
    }
}

impl<D: Datapath> SwitchRequests<D> for Bridge {
    fn handle_request(
        &mut self,
        tables: &mut OfProto<D>,
        now: Instant,
        req: &Request<'_>,
        out: &mut Replies,
    ) -> Disposition {
        let msg = req.msg();
        match &msg.body {
            Message::FeaturesRequest => {
                send_reply(out, msg, Message::FeaturesReply(self.features(tables.n_visible_tables(), msg.version)))
            }
            Message::GetConfigRequest => {
                let c = req.conn;
                let cfg = SwitchConfig {
                    frag: self.frag,
                    invalid_ttl_to_controller: c.invalid_ttl_to_controller,
                    miss_send_len: c.miss_send_len,
                };
                send_reply(out, msg, Message::GetConfigReply(cfg))
            }
            Message::SetConfig(cfg) => {
                self.set_config(req.conn, cfg);
                Disposition::Handled
            }
            Message::PortMod(pm) => match self.check_port_mod(pm) {
                Ok(()) => {
                    if let Some(status) = self.port_mod(req.conn, pm) {
                        out.notify(status);
                    }
                    Disposition::Handled
                }
                Err(e) => Disposition::Error(e),
            },
            Message::PacketOut(po) => match self.prepare_packet_out(po, msg.version, tables.config().n_tables) {
                Ok(job) => {
                    for pin in self.run_packet_out(tables, now, &job) {
                        out.notify(AsyncMsg::PacketIn(pin));
                    }
                    Disposition::Handled
                }
                Err(e) => Disposition::Error(e),
            },
            Message::DescStatsRequest => send_reply(out, msg, Message::DescStatsReply(self.desc.clone())),
            Message::PortStatsRequest(r) => self.port_stats(msg, r.port_no, now, out),
            Message::PortDescStatsRequest(r) => self.port_desc(msg, r.port_no, out),
            Message::Other(t, body) => absent::handle(&self.ports, msg, *t, body, out),
            _ => Disposition::Error(if msg.raw.is_stat() { OfpErr::OFPBRC_BAD_STAT } else { OfpErr::OFPBRC_BAD_TYPE }),
        }
    }

    fn check_bundle_entry(
        &mut self,
        tables: &mut OfProto<D>,
        _now: Instant,
        _conn: &ConnInfo,
        part: &Part,
    ) -> Result<(), OfpErr> {
        let msg = &part.msg;
        match &msg.body {
            Message::PortMod(pm) => self.check_port_mod(pm),
            Message::PacketOut(po) => self.prepare_packet_out(po, msg.version, tables.config().n_tables).map(|_| ()),
            Message::Other(MsgType::GroupMod, body) => absent::check_group_mod(body),
            _ => Err(OfpErr::OFPBFC_MSG_UNSUP),
        }
    }

    fn finish_bundle_entry(
        &mut self,
        tables: &mut OfProto<D>,
        now: Instant,
        conn: &ConnInfo,
        part: &Part,
        out: &mut Replies,
    ) {
        let msg = &part.msg;
        match &msg.body {
            Message::PortMod(pm) => {
                if let Some(status) = self.port_mod(conn, pm) {
                    out.notify(status);
                }
            }
            Message::PacketOut(po) => {
                if let Ok(job) = self.prepare_packet_out(po, msg.version, tables.config().n_tables) {
                    for pin in self.run_packet_out(tables, now, &job) {
                        out.notify(AsyncMsg::PacketIn(pin));
                    }
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_keep_the_request_family() {
        assert_eq!(reply_raw(Raw::NxstFlowRequest, MsgType::FlowStatsReply, 1), Some(Raw::NxstFlowReply));
        assert_eq!(
            reply_raw(Raw::Ofpst10FlowRequest, MsgType::FlowStatsReply, 1),
            Raw::for_type(MsgType::FlowStatsReply, 1)
        );
    }
}
