//! Action/match consistency (OVS `ofpacts_check`, `ofpacts_check_consistency`): ports within the
//! switch, goto-table forward only, meters in range, and actions that need header fields the
//! match guarantees (e.g. set_field ip_dst only on IPv4 flows). Also fills in the annotations
//! encoding needs (`flow_has_vlan`, `flow_ip_proto`).

use super::*;
use crate::errors::OfpErr;
use crate::flow::{Flow, VlanHeader, FLOW_NW_FRAG_LATER, IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP, VLAN_CFI};
use crate::flow::{ETH_TYPE_IP, FLOW_MAX_VLAN_HEADERS};
use crate::header::OFP10_VERSION;
use crate::instructions::Instructions;
use crate::mf;
use crate::ofmatch::Match;
use crate::port_no;

/// The switch limits actions are checked against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CheckParams {
    /// Ports at or above this (other than reserved ports) are invalid.
    pub max_ports: u32,
    /// Table the flow goes in (255: unknown); goto_table must go forward from it.
    pub table_id: u8,
    /// Number of tables (255: no limit checked).
    pub n_tables: u8,
}

impl Default for CheckParams {
    /// What `ovs-ofctl ofp-print` checks with: any port below OFPP_MAX, any table.
    fn default() -> Self {
        CheckParams { max_ports: port_no::MAX_PHYSICAL, table_id: 255, n_tables: 255 }
    }
}

/// OVS `ofpact_check_output_port`.
pub fn check_output_port(p: u32, max_ports: u32) -> Result<(), OfpErr> {
    match p {
        port_no::IN_PORT
        | port_no::TABLE
        | port_no::NORMAL
        | port_no::FLOOD
        | port_no::ALL
        | port_no::CONTROLLER
        | port_no::LOCAL => Ok(()),
        p if p != port_no::ANY && p < max_ports => Ok(()),
        _ => Err(OfpErr::OFPBAC_BAD_OUT_PORT),
    }
}

/// Checking state: the flow as the actions so far leave it, and whether an action needed
/// something the match does not guarantee.
struct Ck<'a> {
    flow: Flow,
    cp: &'a CheckParams,
    inconsistent: bool,
}

fn pop_vlan(flow: &mut Flow) {
    let n = flow.vlans.iter().take_while(|v| v.tci & VLAN_CFI != 0).count();
    if n > 1 {
        flow.vlans.copy_within(1..n, 0);
    }
    if n > 0 {
        flow.vlans[n - 1] = VlanHeader::default();
    }
}

impl Ck<'_> {
    fn set_ip(&mut self) {
        if !self.flow.is_ip_any() {
            self.inconsistent = true;
        }
    }

    fn note_vlan(&mut self, push_vlan_if_needed: bool) -> bool {
        let has = self.flow.vlans[0].tci & VLAN_CFI != 0;
        if !has && !push_vlan_if_needed {
            self.inconsistent = true;
        }
        self.flow.vlans[0].tci |= VLAN_CFI;
        has
    }

    fn action(&mut self, a: &mut Action) -> Result<(), OfpErr> {
        let cp = self.cp;
        match a {
            Action::Output { port, .. } | Action::OutputTrunc { port, .. } => check_output_port(*port, cp.max_ports)?,
            Action::Enqueue { port: p, .. } => {
                if *p >= cp.max_ports && *p != port_no::IN_PORT && *p != port_no::LOCAL {
                    return Err(OfpErr::OFPBAC_BAD_OUT_PORT);
                }
            }
            Action::SetVlanVid { push_vlan_if_needed, flow_has_vlan, .. }
            | Action::SetVlanPcp { push_vlan_if_needed, flow_has_vlan, .. } => {
                *flow_has_vlan = self.note_vlan(*push_vlan_if_needed);
            }
            Action::StripVlan { .. } => {
                if self.flow.vlans[0].tci & VLAN_CFI == 0 {
                    self.inconsistent = true;
                }
                pop_vlan(&mut self.flow);
            }
            Action::PushVlan { .. } => {
                if self.flow.vlans[FLOW_MAX_VLAN_HEADERS - 1].tci & VLAN_CFI != 0 {
                    return Err(OfpErr::OFPBAC_BAD_TAG);
                }
                self.flow.vlans.copy_within(0..FLOW_MAX_VLAN_HEADERS - 1, 1);
                self.flow.vlans[0] = VlanHeader { tpid: 0, tci: VLAN_CFI };
            }
            Action::SetIpv4Src(_) | Action::SetIpv4Dst(_) => {
                if self.flow.dl_type() != ETH_TYPE_IP {
                    self.inconsistent = true;
                }
            }
            Action::SetIpDscp(_) | Action::SetIpEcn(_) | Action::SetIpTtl(_) | Action::DecTtl { .. } => self.set_ip(),
            Action::SetL4SrcPort { flow_ip_proto, .. } | Action::SetL4DstPort { flow_ip_proto, .. } => {
                let f = &self.flow;
                if !f.is_ip_any()
                    || f.nw_frag & FLOW_NW_FRAG_LATER != 0
                    || !matches!(f.nw_proto, IPPROTO_TCP | IPPROTO_UDP | IPPROTO_SCTP)
                {
                    self.inconsistent = true;
                }
                *flow_ip_proto = f.nw_proto;
            }
            Action::SetField(sf) => {
                let tci = self.flow.vlans[0].tci;
                if !mf::prereqs_ok(sf.field, &self.flow) || (sf.field == MfId::VlanVid && tci & VLAN_CFI == 0) {
                    return Err(OfpErr::OFPBAC_MATCH_INCONSISTENT);
                }
                sf.flow_has_vlan = tci & VLAN_CFI != 0;
                if sf.field == MfId::VlanTci {
                    self.flow.vlans[0].tci = sf.value as u16;
                }
            }
            Action::Resubmit { with_ct_orig: true, .. } => {
                // Needs a tracked connection in the match; no conntrack field is modelled.
                return Err(OfpErr::OFPBAC_MATCH_INCONSISTENT);
            }
            Action::Meter(m) => check_meter(*m)?,
            Action::Group(_)
            | Action::Controller(_)
            | Action::SetEthSrc(_)
            | Action::SetEthDst(_)
            | Action::SetTunnel { .. }
            | Action::SetQueue(_)
            | Action::PopQueue
            | Action::Resubmit { .. }
            | Action::Note(_)
            | Action::Exit
            | Action::CtClear => {}
        }
        Ok(())
    }
}

fn check_meter(m: u32) -> Result<(), OfpErr> {
    if m == 0 || m > OFPM13_MAX {
        Err(OfpErr::OFPMMFC_INVALID_METER)
    } else {
        Ok(())
    }
}

/// Checks `actions` against `m` for a message of `version`: hard errors always, and
/// OFPBAC_MATCH_INCONSISTENT for inconsistencies except in OF1.0, which tolerates them.
pub fn check_actions(actions: &mut [Action], m: &Match, version: u8, cp: &CheckParams) -> Result<(), OfpErr> {
    let mut ck = Ck { flow: m.flow, cp, inconsistent: false };
    for a in actions.iter_mut() {
        ck.action(a)?;
    }
    consistency(ck.inconsistent, version)
}

fn consistency(inconsistent: bool, version: u8) -> Result<(), OfpErr> {
    if inconsistent && version != OFP10_VERSION {
        Err(OfpErr::OFPBAC_MATCH_INCONSISTENT)
    } else {
        Ok(())
    }
}

/// `check_actions` for a whole instruction set, including goto-table direction and meters.
pub fn check_instructions(ins: &mut Instructions, m: &Match, version: u8, cp: &CheckParams) -> Result<(), OfpErr> {
    if let Some(meter) = ins.meter {
        check_meter(meter)?;
    }
    let mut ck = Ck { flow: m.flow, cp, inconsistent: false };
    for a in ins.apply.iter_mut() {
        ck.action(a)?;
    }
    if let Some(w) = ins.write_actions.as_mut() {
        // An action set's effects are not sequential, so only hard errors count.
        let mut nested = Ck { flow: ck.flow, cp, inconsistent: false };
        for a in w.iter_mut() {
            nested.action(a)?;
        }
    }
    if let Some(t) = ins.goto_table {
        if (cp.table_id != 255 && t <= cp.table_id) || (cp.n_tables != 255 && t >= cp.n_tables) {
            return Err(OfpErr::OFPBIC_BAD_TABLE_ID);
        }
    }
    consistency(ck.inconsistent, version)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::ETH_TYPE_ARP;

    #[test]
    fn output_ports() {
        assert_eq!(check_output_port(3, port_no::MAX_PHYSICAL), Ok(()));
        assert_eq!(check_output_port(port_no::CONTROLLER, 10), Ok(()));
        assert_eq!(check_output_port(port_no::ANY, port_no::MAX_PHYSICAL), Err(OfpErr::OFPBAC_BAD_OUT_PORT));
        assert_eq!(check_output_port(0xff00, port_no::MAX_PHYSICAL), Err(OfpErr::OFPBAC_BAD_OUT_PORT));
        assert_eq!(check_output_port(10, 10), Err(OfpErr::OFPBAC_BAD_OUT_PORT));
    }

    #[test]
    fn set_field_needs_its_prerequisites() {
        let mut arp = Match::catchall();
        arp.set_dl_type(ETH_TYPE_ARP);
        let mut acts = [Action::SetField(SetField::new(MfId::Ipv4Dst, 1))];
        let cp = CheckParams::default();
        assert_eq!(check_actions(&mut acts, &arp, 4, &cp), Err(OfpErr::OFPBAC_MATCH_INCONSISTENT));
        let mut ip = Match::catchall();
        ip.set_dl_type(ETH_TYPE_IP);
        assert_eq!(check_actions(&mut acts, &ip, 4, &cp), Ok(()));
        // Legacy actions: inconsistency tolerated only in OF1.0.
        let mut acts = [Action::SetIpv4Dst(1)];
        assert_eq!(check_actions(&mut acts, &arp, 1, &cp), Ok(()));
        assert_eq!(check_actions(&mut acts, &arp, 2, &cp), Err(OfpErr::OFPBAC_MATCH_INCONSISTENT));
    }

    #[test]
    fn vlan_annotations_and_tags() {
        let mut m = Match::catchall();
        m.set_vlan_vid_masked(0x1005, 0x1fff);
        let mut acts = [
            Action::SetVlanVid { vid: 1, push_vlan_if_needed: true, flow_has_vlan: false },
            Action::PushVlan { ethertype: 0x8100 },
            Action::PushVlan { ethertype: 0x8100 },
        ];
        assert_eq!(check_actions(&mut acts, &m, 4, &CheckParams::default()), Err(OfpErr::OFPBAC_BAD_TAG));
        assert_eq!(acts[0], Action::SetVlanVid { vid: 1, push_vlan_if_needed: true, flow_has_vlan: true });
    }

    #[test]
    fn goto_table_and_meter() {
        let cp = CheckParams { max_ports: 10, table_id: 3, n_tables: 10 };
        let m = Match::catchall();
        let mut ins = Instructions { goto_table: Some(3), ..Instructions::default() };
        assert_eq!(check_instructions(&mut ins, &m, 4, &cp), Err(OfpErr::OFPBIC_BAD_TABLE_ID));
        ins.goto_table = Some(4);
        assert_eq!(check_instructions(&mut ins, &m, 4, &cp), Ok(()));
        ins.meter = Some(0);
        assert_eq!(check_instructions(&mut ins, &m, 4, &cp), Err(OfpErr::OFPMMFC_INVALID_METER));
    }
}
