//! OVS's text for actions and instruction sets (`ofpacts_format`): comma-separated, "drop" when
//! empty, e.g. "output:2,CONTROLLER:65535,set_field:192.168.74.1->ip_dst".

use std::fmt::Write;

use super::encode::load_segments;
use super::*;
use crate::flow::text;
use crate::instructions::Instructions;
use crate::mf;
use crate::port_no::{self, format_port};
use crate::print::hex_alt;

fn hex_arg(data: &[u8], out: &mut String) {
    for (i, b) in data.iter().enumerate() {
        if i > 0 {
            out.push('.');
        }
        let _ = write!(out, "{b:02x}");
    }
}

/// OVS `ofputil_packet_in_reason_to_string`.
pub fn packet_in_reason_name(reason: u8) -> String {
    match reason {
        OFPR_NO_MATCH => "no_match".into(),
        OFPR_ACTION => "action".into(),
        OFPR_INVALID_TTL => "invalid_ttl".into(),
        OFPR_ACTION_SET => "action_set".into(),
        OFPR_GROUP => "group".into(),
        OFPR_PACKET_OUT => "packet_out".into(),
        // OVS's internal explicit/implicit table-miss reasons print as nothing.
        6 | 7 => String::new(),
        r => r.to_string(),
    }
}

fn format_controller(c: &Controller, s: &mut String) {
    if c.reason == OFPR_ACTION && c.controller_id == 0 && c.userdata.is_empty() && !c.pause && c.meter_id == 0 {
        let _ = write!(s, "CONTROLLER:{}", c.max_len);
        return;
    }
    s.push_str("controller(");
    if c.reason != OFPR_ACTION {
        let _ = write!(s, "reason={},", packet_in_reason_name(c.reason));
    }
    if c.max_len != u16::MAX {
        let _ = write!(s, "max_len={},", c.max_len);
    }
    if c.controller_id != 0 {
        let _ = write!(s, "id={},", c.controller_id);
    }
    if !c.userdata.is_empty() {
        s.push_str("userdata=");
        hex_arg(&c.userdata, s);
        s.push(',');
    }
    if c.pause {
        s.push_str("pause,");
    }
    if c.meter_id != 0 {
        let _ = write!(s, "meter_id={},", c.meter_id);
    }
    if s.ends_with(',') {
        s.pop();
    }
    s.push(')');
}

fn format_set_field(sf: &SetField, s: &mut String) {
    if sf.raw == SetFieldRaw::RegLoad {
        let f = sf.field.field();
        let name = sf.field.nxm_name();
        for (i, (ofs, n_bits, v)) in load_segments(sf).into_iter().enumerate() {
            if i > 0 {
                s.push(',');
            }
            let _ = write!(s, "load:{}->{name}", hex_alt(v));
            if ofs == 0 && n_bits == f.n_bits {
                s.push_str("[]");
            } else if n_bits == 1 {
                let _ = write!(s, "[{ofs}]");
            } else {
                let _ = write!(s, "[{}..{}]", ofs, ofs + n_bits - 1);
            }
        }
    } else {
        s.push_str("set_field:");
        mf::format(sf.field, sf.value, Some(sf.mask), s);
        let _ = write!(s, "->{}", sf.field.field().name);
    }
}

fn format_action(a: &Action, s: &mut String) {
    match a {
        Action::Output { port: p, max_len } => {
            if *p < port_no::MAX_PHYSICAL {
                s.push_str("output:");
            }
            format_port(*p, s);
            if *p == port_no::CONTROLLER {
                let _ = write!(s, ":{max_len}");
            }
        }
        Action::Group(g) => {
            let _ = write!(s, "group:{g}");
        }
        Action::Controller(c) => format_controller(c, s),
        Action::Enqueue { port: p, queue } => {
            s.push_str("enqueue:");
            format_port(*p, s);
            let _ = write!(s, ":{queue}");
        }
        Action::OutputTrunc { port: p, max_len } => {
            s.push_str("output(port=");
            format_port(*p, s);
            let _ = write!(s, ",max_len={max_len})");
        }
        Action::SetVlanVid { vid, push_vlan_if_needed, .. } => {
            let _ = write!(s, "{}:{vid}", if *push_vlan_if_needed { "mod_vlan_vid" } else { "set_vlan_vid" });
        }
        Action::SetVlanPcp { pcp, push_vlan_if_needed, .. } => {
            let _ = write!(s, "{}:{pcp}", if *push_vlan_if_needed { "mod_vlan_pcp" } else { "set_vlan_pcp" });
        }
        Action::StripVlan { pop_vlan } => s.push_str(if *pop_vlan { "pop_vlan" } else { "strip_vlan" }),
        Action::PushVlan { ethertype } => {
            let _ = write!(s, "push_vlan:{}", hex_alt((*ethertype).into()));
        }
        Action::SetEthSrc(m) => {
            let _ = write!(s, "mod_dl_src:{m}");
        }
        Action::SetEthDst(m) => {
            let _ = write!(s, "mod_dl_dst:{m}");
        }
        Action::SetIpv4Src(ip) => {
            s.push_str("mod_nw_src:");
            text::ipv4(*ip, s);
        }
        Action::SetIpv4Dst(ip) => {
            s.push_str("mod_nw_dst:");
            text::ipv4(*ip, s);
        }
        Action::SetIpDscp(d) => {
            let _ = write!(s, "mod_nw_tos:{d}");
        }
        Action::SetIpEcn(e) => {
            let _ = write!(s, "mod_nw_ecn:{e}");
        }
        Action::SetIpTtl(t) => {
            let _ = write!(s, "mod_nw_ttl:{t}");
        }
        Action::SetL4SrcPort { port: p, .. } => {
            let _ = write!(s, "mod_tp_src:{p}");
        }
        Action::SetL4DstPort { port: p, .. } => {
            let _ = write!(s, "mod_tp_dst:{p}");
        }
        Action::SetField(sf) => format_set_field(sf, s),
        Action::DecTtl { cnt_ids, cnt_ids_form } => {
            s.push_str("dec_ttl");
            if *cnt_ids_form {
                let ids: Vec<String> = cnt_ids.iter().map(|i| i.to_string()).collect();
                let _ = write!(s, "({})", ids.join(","));
            }
        }
        Action::SetTunnel { tun_id, tun64 } => {
            let wide = *tun_id > u64::from(u32::MAX) || *tun64;
            let _ = write!(s, "set_tunnel{}:{}", if wide { "64" } else { "" }, hex_alt(*tun_id));
        }
        Action::SetQueue(q) => {
            let _ = write!(s, "set_queue:{q}");
        }
        Action::PopQueue => s.push_str("pop_queue"),
        Action::Resubmit { in_port, table_id, with_ct_orig, .. } => {
            if *in_port != port_no::IN_PORT && *table_id == 255 {
                s.push_str("resubmit:");
                format_port(*in_port, s);
            } else {
                s.push_str("resubmit(");
                if *in_port != port_no::IN_PORT {
                    format_port(*in_port, s);
                }
                s.push(',');
                if *table_id != 255 {
                    let _ = write!(s, "{table_id}");
                }
                if *with_ct_orig {
                    s.push_str(",ct");
                }
                s.push(')');
            }
        }
        Action::Note(data) => {
            s.push_str("note:");
            hex_arg(data, s);
        }
        Action::Exit => s.push_str("exit"),
        Action::Meter(m) => {
            let _ = write!(s, "meter:{m}");
        }
        Action::CtClear => s.push_str("ct_clear"),
    }
}

/// OVS's text for an action list ("drop" when empty).
pub fn format_actions(actions: &[Action], s: &mut String) {
    if actions.is_empty() {
        s.push_str("drop");
    }
    for (i, a) in actions.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        format_action(a, s);
    }
}

/// OVS's text for an instruction set, in the order OVS keeps it.
pub fn format_instructions(ins: &Instructions, s: &mut String) {
    let start = s.len();
    let sep = |s: &mut String| {
        if s.len() > start {
            s.push(',');
        }
    };
    if let Some(m) = ins.meter {
        let _ = write!(s, "meter:{m}");
    }
    for a in &ins.apply {
        sep(s);
        format_action(a, s);
    }
    if ins.clear_actions {
        sep(s);
        s.push_str("clear_actions");
    }
    if let Some(w) = &ins.write_actions {
        sep(s);
        s.push_str("write_actions(");
        format_actions(w, s);
        s.push(')');
    }
    if let Some((md, mask)) = ins.write_metadata {
        sep(s);
        let _ = write!(s, "write_metadata:{}", hex_alt(md));
        if mask != u64::MAX {
            let _ = write!(s, "/{}", hex_alt(mask));
        }
    }
    if let Some(t) = ins.goto_table {
        sep(s);
        let _ = write!(s, "goto_table:{t}");
    }
    if s.len() == start {
        s.push_str("drop");
    }
}
