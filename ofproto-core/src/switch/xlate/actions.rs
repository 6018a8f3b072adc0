//! What each action does to the flow being translated (OVS `do_xlate_actions` and the output
//! family): outputs to ports, IN_PORT, TABLE, FLOOD and ALL, NORMAL (learning switch), controller
//! packet-ins, VLAN and header changes, set-field, TTL decrement, resubmit.

use bytes::Bytes;
use ofp_proto::actions::{Action, SetField, OFPR_ACTION, OFPR_ACTION_SET, OFPR_INVALID_TTL, OFPR_PACKET_OUT};
use ofp_proto::flow::{
    eth_type_vlan, EthAddr, Flow, VlanHeader, ETH_TYPE_IP, ETH_TYPE_VLAN_8021Q, FLOW_MAX_VLAN_HEADERS,
    FLOW_NW_FRAG_LATER, IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP, IP_DSCP_MASK, IP_ECN_MASK, VLAN_CFI, VLAN_PCP_MASK,
    VLAN_PCP_SHIFT, VLAN_VID_MASK,
};
use ofp_proto::mf::{self, MfId};
use ofp_proto::msg::packet_in::OFPR_EXPLICIT_MISS;
use ofp_proto::msg::port::config;
use ofp_proto::ofmatch::Match;
use ofp_proto::port_no;

use super::{Ctx, PinSpec, XAction};
use crate::datapath::Datapath;
use crate::switch::odp::DpAction;
use crate::switch::support;

impl<D: Datapath> Ctx<'_, '_, D> {
    /// One action; false stops the rest of the list (OVS: a TTL exception ends the table).
    pub(super) fn do_action(&mut self, a: &Action) -> bool {
        let f = &mut self.flow;
        match a {
            Action::Output { port, .. } => self.output(*port, true),
            Action::Controller(c) => {
                self.controller(c.reason, c.controller_id, c.userdata.clone());
            }
            Action::Enqueue { port, .. } => {
                // Queues only set a priority the datapath ignores: the packet goes out as usual.
                let port = *port;
                match port {
                    port_no::IN_PORT => self.output_to(self.in_port(), None),
                    p if p == self.in_port() => {}
                    p => self.output_to(p, None),
                }
            }
            Action::OutputTrunc { port, max_len } => self.output_trunc(*port, *max_len),
            Action::SetVlanVid { vid, push_vlan_if_needed, .. } => {
                if f.vlans[0].tci & VLAN_CFI != 0 || *push_vlan_if_needed {
                    if f.vlans[0].tci & VLAN_CFI == 0 && f.vlans[0].tpid == 0 {
                        f.vlans[0].tpid = ETH_TYPE_VLAN_8021Q;
                    }
                    f.vlans[0].tci = (f.vlans[0].tci & !VLAN_VID_MASK) | (vid & VLAN_VID_MASK) | VLAN_CFI;
                }
            }
            Action::SetVlanPcp { pcp, push_vlan_if_needed, .. } => {
                if f.vlans[0].tci & VLAN_CFI != 0 || *push_vlan_if_needed {
                    if f.vlans[0].tci & VLAN_CFI == 0 && f.vlans[0].tpid == 0 {
                        f.vlans[0].tpid = ETH_TYPE_VLAN_8021Q;
                    }
                    let pcp = (u16::from(*pcp) << VLAN_PCP_SHIFT) & VLAN_PCP_MASK;
                    f.vlans[0].tci = (f.vlans[0].tci & !VLAN_PCP_MASK) | pcp | VLAN_CFI;
                }
            }
            Action::StripVlan { .. } => {
                f.vlans.copy_within(1.., 0);
                f.vlans[FLOW_MAX_VLAN_HEADERS - 1] = VlanHeader::default();
            }
            Action::PushVlan { ethertype } => {
                f.vlans.copy_within(..FLOW_MAX_VLAN_HEADERS - 1, 1);
                f.vlans[0] = VlanHeader { tpid: *ethertype, tci: VLAN_CFI };
            }
            Action::SetEthSrc(a) => f.dl_src = *a,
            Action::SetEthDst(a) => f.dl_dst = *a,
            Action::SetIpv4Src(ip) if f.dl_type == ETH_TYPE_IP => f.nw_src = *ip,
            Action::SetIpv4Dst(ip) if f.dl_type == ETH_TYPE_IP => f.nw_dst = *ip,
            Action::SetIpDscp(dscp) if f.is_ip_any() => f.nw_tos = (f.nw_tos & !IP_DSCP_MASK) | (dscp & IP_DSCP_MASK),
            Action::SetIpEcn(ecn) if f.is_ip_any() => f.nw_tos = (f.nw_tos & !IP_ECN_MASK) | (ecn & IP_ECN_MASK),
            Action::SetIpTtl(ttl) if f.is_ip_any() => f.nw_ttl = *ttl,
            Action::SetL4SrcPort { port, .. } if has_ports(f) => f.tp_src = *port,
            Action::SetL4DstPort { port, .. } if has_ports(f) => f.tp_dst = *port,
            Action::SetField(sf) => set_field(f, sf),
            Action::DecTtl { cnt_ids, .. } => {
                if f.is_ip_any() {
                    if f.nw_ttl > 1 {
                        f.nw_ttl -= 1;
                    } else {
                        for id in cnt_ids.iter() {
                            self.controller(OFPR_INVALID_TTL, *id, Bytes::new());
                        }
                        return false;
                    }
                }
            }
            Action::SetTunnel { tun_id, .. } => f.tun_id = *tun_id,
            Action::Resubmit { in_port, table_id, .. } => {
                let in_port = match *in_port {
                    port_no::IN_PORT => self.in_port(),
                    p => p,
                };
                let table = if *table_id == 255 { self.table_id } else { *table_id };
                self.goto_table(table, in_port, false);
            }
            Action::Exit => self.exit = true,
            // Refused when the flow or packet out came in (see `support`).
            Action::Group(_) | Action::Meter(_) => {}
            // No effect on this datapath: queues, notes, conntrack; sets whose prerequisites the
            // packet lacks.
            Action::SetQueue(_)
            | Action::PopQueue
            | Action::Note(_)
            | Action::CtClear
            | Action::SetIpv4Src(_)
            | Action::SetIpv4Dst(_)
            | Action::SetIpDscp(_)
            | Action::SetIpEcn(_)
            | Action::SetIpTtl(_)
            | Action::SetL4SrcPort { .. }
            | Action::SetL4DstPort { .. } => {}
        }
        true
    }

    /// OVS `xlate_output_action`.
    fn output(&mut self, port: u32, may_packet_in: bool) {
        match port {
            port_no::IN_PORT => self.output_to(self.in_port(), None),
            port_no::TABLE => self.goto_table(0, self.in_port(), may_packet_in),
            port_no::NORMAL => self.normal(),
            port_no::FLOOD => self.flood(false),
            port_no::ALL => self.flood(true),
            port_no::CONTROLLER => {
                let reason = if self.purpose.packet_out {
                    OFPR_PACKET_OUT
                } else if self.in_action_set {
                    OFPR_ACTION_SET
                } else {
                    OFPR_ACTION
                };
                self.controller(reason, 0, Bytes::new());
            }
            port_no::ANY => {}
            p if p == self.in_port() => {}
            p => self.output_to(p, None),
        }
    }

    /// OVS `xlate_output_trunc_action`: only to a real port.
    fn output_trunc(&mut self, port: u32, max_len: u32) {
        let port = match port {
            port_no::IN_PORT => self.in_port(),
            port_no::TABLE | port_no::NORMAL | port_no::FLOOD | port_no::ALL | port_no::CONTROLLER | port_no::ANY => {
                return
            }
            p if p == self.in_port() => return,
            p => p,
        };
        self.output_to(port, Some(max_len));
    }

    /// OVS `compose_output_action`: to an existing port that forwards (NO_FWD unset), after the
    /// header changes so far. A port that is down still gets the action; the datapath drops.
    fn output_to(&mut self, port: u32, trunc: Option<u32>) {
        let Some(p) = self.env.ports.get(port) else { return };
        if p.desc.config & config::NO_FWD != 0 {
            return;
        }
        let Some(odp) = self.env.ports.odp_port(port) else { return };
        self.commit();
        if let Some(n) = trunc {
            self.push(XAction::Dp(DpAction::Trunc(n)));
        }
        self.push(XAction::Dp(DpAction::Output(odp)));
    }

    /// OVS `flood_packets`: every port but the input port that is up (and, for FLOOD, does not
    /// have NO_FLOOD).
    fn flood(&mut self, all: bool) {
        let in_port = self.in_port();
        let targets: Vec<u32> = (self.env.ports.iter())
            .filter(|p| p.desc.port_no != in_port && p.is_up() && (all || p.desc.config & config::NO_FLOOD == 0))
            .map(|p| p.desc.port_no)
            .collect();
        for p in targets {
            self.output_to(p, None);
        }
    }

    /// The NORMAL action (OVS `xlate_normal` without bonds, mirrors, STP or multicast snooping:
    /// every port a trunk): learn the source, forward to the learned port of the destination, or
    /// flood.
    fn normal(&mut self) {
        let in_port = self.in_port();
        if self.env.ports.get(in_port).is_none() {
            return; // no input bundle
        }
        let f = &self.flow;
        if eth_type_vlan(f.dl_type) && f.vlans[0].tci & VLAN_CFI == 0 {
            return; // partial VLAN tag
        }
        if is_reserved(f.dl_dst) {
            return; // 01:80:c2:00:00:0x is not forwarded (no forward-bpdu)
        }
        let vlan = if f.vlans[0].tci & VLAN_CFI != 0 { f.vlans[0].tci & VLAN_VID_MASK } else { 0 };
        let (src, dst, now) = (f.dl_src, f.dl_dst, self.env.now);
        if self.purpose.learn && f.is_ethernet() {
            self.env.mac.learn(now, src, vlan, in_port);
        }
        match self.env.mac.lookup(now, dst, vlan) {
            Some(p) if p != in_port => self.output_to(p, None),
            Some(_) => {} // learned port is the input port
            None => self.flood(false),
        }
    }

    /// OVS `xlate_controller_action`: a packet-in of the whole frame as it is now (without buffering,
    /// OVS 3.1 ignores the action's max_len).
    pub(super) fn controller(&mut self, reason: u8, controller_id: u16, userdata: Bytes) {
        self.commit();
        let reason = if reason == OFPR_ACTION && self.rule.table_miss { OFPR_EXPLICIT_MISS } else { reason };
        let spec = PinSpec {
            reason,
            controller_id,
            table_id: self.table_id,
            cookie: self.rule.cookie,
            userdata,
            metadata: pin_metadata(&self.flow),
            in_port: self.in_port(),
        };
        self.push(XAction::Controller(Box::new(spec)));
    }
}

fn has_ports(f: &Flow) -> bool {
    f.is_ip_any()
        && f.nw_frag & FLOW_NW_FRAG_LATER == 0
        && matches!(f.nw_proto, IPPROTO_TCP | IPPROTO_UDP | IPPROTO_SCTP)
}

/// 01:80:c2:00:00:00 through 01:80:c2:00:00:0f (OVS `eth_addr_is_reserved`, the common part).
fn is_reserved(mac: EthAddr) -> bool {
    mac.0[..5] == [0x01, 0x80, 0xc2, 0x00, 0x00] && mac.0[5] < 0x10
}

/// OVS's set-field: only when the packet has the field, keeping the bits outside the mask.
fn set_field(f: &mut Flow, sf: &SetField) {
    if !support::settable(sf.field) || !mf::prereqs_ok(sf.field, f) {
        return;
    }
    match sf.field {
        MfId::VlanVid | MfId::VlanPcp if f.vlans[0].tci & VLAN_CFI == 0 => {}
        MfId::VlanVid => {
            let vid_mask = sf.mask as u16 & VLAN_VID_MASK;
            f.vlans[0].tci = (f.vlans[0].tci & !vid_mask) | (sf.value as u16 & vid_mask) | VLAN_CFI;
        }
        field => {
            let new = (mf::get(field, f) & !sf.mask) | (sf.value & sf.mask);
            mf::set_flow_value(field, new, f);
        }
    }
}

/// The pipeline fields a packet-in reports: the input port always, the others when set.
pub(crate) fn pin_metadata(f: &Flow) -> Match {
    let mut m = Match::catchall();
    m.set_in_port(f.in_port);
    if f.tun_id != 0 {
        m.set_tun_id_masked(f.tun_id, u64::MAX);
    }
    if f.metadata != 0 {
        m.set_metadata_masked(f.metadata, u64::MAX);
    }
    for (i, r) in f.regs.iter().enumerate().filter(|(_, r)| **r != 0) {
        m.set_reg_masked(i, *r, u32::MAX);
    }
    if f.pkt_mark != 0 {
        m.set_exact(MfId::PktMark, u128::from(f.pkt_mark));
    }
    m
}
