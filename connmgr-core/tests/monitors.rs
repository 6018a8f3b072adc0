//! Flow monitors, mirroring OVS `tests/ofproto.at` "flow monitoring", "flow monitoring with !own",
//! "flow monitoring with out_port", "OpenFlow14 flow monitoring with out_group", "flow monitoring
//! usable protocols" and "flow monitoring pause and resume" for OpenFlow 1.0–1.5 (a monitoring
//! service connection like `ovs-ofctl monitor`, changes made by the fake owner's toy flow table),
//! plus the monitor requests' errors, initial replies, seqnos, batches and disconnects.

mod common;

use common::*;
use connmgr_core::{ConnId, RuleEvent, RuleEventKind, RuleSnapshot, MONITOR_PAUSE_BYTES};
use ofp_proto::actions::Action;
use ofp_proto::instructions::Instructions;
use ofp_proto::msg::flow_mod::{FlowMod, FlowModCommand};
use ofp_proto::msg::monitor::{cancel_message, FlowMonitor, FlowMonitorRequest, MonitorCommand, MonitorFlags};
use ofp_proto::ofmatch::Match;
use ofp_proto::print::ofp_to_string;
use ofp_proto::{Message, OfpMsg};

const MGMT: &str = "punix:/run/openvswitch/br0.mgmt";

const INITIAL: u16 = MonitorFlags::INITIAL;
const ADD: u16 = MonitorFlags::ADD;
const REMOVED: u16 = MonitorFlags::REMOVED;
const MODIFY: u16 = MonitorFlags::MODIFY;
const ACTIONS: u16 = MonitorFlags::INSTRUCTIONS;
const OWN: u16 = MonitorFlags::ONLY_OWN;
/// What `ovs-ofctl monitor br0 watch:` asks for.
const WATCH: u16 = INITIAL | ADD | REMOVED | MODIFY | ACTIONS | OWN;

/// A switch with a monitoring service connection speaking `version` and another one (OF1.0, like
/// `ovs-ofctl add-flow`) making changes.
fn setup(version: u8) -> (Sw, ConnId, ConnId) {
    capture_logs();
    let mut sw = Sw::new();
    sw.set_controllers(&[(MGMT, settings())]);
    let mon = sw.accept(MGMT, "unix#1", version);
    let ctl = sw.accept(MGMT, "unix#2", 1);
    (sw, mon, ctl)
}

/// "in_port=P" plus "dl_vlan=V" and "dl_vlan_pcp=C" when given.
fn flow(in_port: u32, vlan: Option<u16>, pcp: Option<u8>) -> Match {
    let mut m = Match::catchall();
    m.set_in_port(in_port);
    if let Some(v) = vlan {
        m.set_dl_tci_masked(0x1000 | v, 0x1fff);
    }
    if let Some(p) = pcp {
        m.set_vlan_pcp(p);
    }
    m
}

/// "dl_vlan=V" alone (what `mod-flows dl_vlan=V` selects).
fn dl_vlan(vid: u16) -> Match {
    let mut m = Match::catchall();
    m.set_dl_tci_masked(0x1000 | vid, 0x1fff);
    m
}

fn output(port: u32) -> Instructions {
    Instructions::apply([Action::Output { port, max_len: 0 }])
}

fn add(match_: Match, actions: Instructions) -> FlowMod {
    FlowMod { match_, instructions: actions, ..FlowMod::default() }
}

/// A loose modify (OF1.0: the cookie field is the new cookie, all ones for "unchanged").
fn modify(match_: Match, actions: Instructions, new_cookie: u64) -> FlowMod {
    FlowMod { command: FlowModCommand::Modify, table_id: 0xff, new_cookie, ..add(match_, actions) }
}

fn delete(match_: Match) -> FlowMod {
    FlowMod { command: FlowModCommand::Delete, table_id: 0xff, ..add(match_, Instructions::default()) }
}

fn send_flow_mod(sw: &mut Sw, c: ConnId, version: u8, xid: u32, fm: FlowMod) {
    sw.send_msg(c, &OfpMsg::new(version, xid, Message::FlowMod(fm)));
}

fn request(sw: &mut Sw, c: ConnId, version: u8, xid: u32, monitors: Vec<FlowMonitor>) {
    let body = Message::FlowMonitorStatsRequest(FlowMonitorRequest { monitors });
    sw.send_msg(c, &OfpMsg::new(version, xid, body));
}

fn barrier(sw: &mut Sw, c: ConnId, version: u8) {
    sw.send_msg(c, &OfpMsg::new(version, 0x7777, Message::BarrierRequest));
}

/// The messages `c` received as `ovs-ofctl` prints them, nonzero xids left out (OVS's sed).
fn ovs_text(sw: &mut Sw, c: ConnId) -> String {
    sw.take(c).iter().map(|f| strip_nonzero_xid(&ofp_to_string(f, 1))).collect()
}

fn strip_nonzero_xid(s: &str) -> String {
    s.lines()
        .map(|l| match l.find(" (xid=0x") {
            Some(i) if !l[i..].starts_with(" (xid=0x0)") => {
                let end = l[i..].find(')').map_or(l.len(), |j| i + j + 1);
                format!("{}{}\n", &l[..i], &l[end..])
            }
            _ => format!("{l}\n"),
        })
        .collect()
}

/// OVS's `multiline_sort`: sorts runs of lines that start with a space.
fn multiline_sort(s: &str) -> String {
    let (mut out, mut run) = (String::new(), Vec::new());
    for l in s.lines() {
        if l.starts_with(' ') {
            run.push(l);
        } else {
            run.sort();
            run.drain(..).for_each(|r| out.push_str(&format!("{r}\n")));
            out.push_str(&format!("{l}\n"));
        }
    }
    run.sort();
    run.drain(..).for_each(|r| out.push_str(&format!("{r}\n")));
    out
}

/// The monitor reply's name and the version suffix, as in the OVS test's `$4 reply$3`.
fn reply_name(version: u8) -> String {
    let (name, sfx) = match version {
        1 => ("NXST_FLOW_MONITOR", ""),
        2 => ("NXST_FLOW_MONITOR", " (OF1.1)"),
        3 => ("NXST_FLOW_MONITOR", " (OF1.2)"),
        4 => ("ONFST_FLOW_MONITOR", " (OF1.3)"),
        5 => ("OFPST_FLOW_MONITOR", " (OF1.4)"),
        _ => ("OFPST_FLOW_MONITOR", " (OF1.5)"),
    };
    format!("{name} reply{sfx}")
}

fn barrier_reply(version: u8) -> String {
    let sfx = ["", "", " (OF1.1)", " (OF1.2)", " (OF1.3)", " (OF1.4)", " (OF1.5)"][usize::from(version)];
    format!("OFPT_BARRIER_REPLY{sfx}:\n")
}

/// Initial updates read INITIAL from OF1.4 on (OVS's test rewrites them to ADDED).
fn initial(version: u8) -> &'static str {
    if version >= 5 {
        "INITIAL"
    } else {
        "ADDED"
    }
}

#[test]
fn flow_monitoring_in_every_version() {
    for v in 1..=6 {
        let (mut sw, mon, ctl) = setup(v);
        let vlan = |vid, pcp| flow(0, Some(vid), pcp);
        send_flow_mod(&mut sw, ctl, 1, 1, add(vlan(123, None), output(1)));
        request(&mut sw, mon, v, 2, vec![FlowMonitor::new(0, MonitorFlags(WATCH))]);
        barrier(&mut sw, mon, v);
        let r = reply_name(v);
        assert_eq!(
            ovs_text(&mut sw, mon),
            format!(
                "{r}:\n event={} table=0 cookie=0 in_port=0,dl_vlan=123 actions=output:1\n{}",
                initial(v),
                barrier_reply(v)
            ),
            "OF version {v}"
        );

        let steps = [
            add(vlan(124, None), output(2)),
            add(vlan(123, None), output(5)),
            add(vlan(123, Some(0)), output(6)),
            add(vlan(123, Some(1)), output(7)),
            add(vlan(123, None), output(8)),
            add(flow(0, None, Some(1)), output(22)),
            add(flow(0, None, None), output(23)),
            modify(dl_vlan(123), output(3), u64::MAX),
            modify(dl_vlan(123), output(3), 5),
            delete(dl_vlan(123)),
            delete(Match::catchall()),
        ];
        for (i, fm) in steps.into_iter().enumerate() {
            send_flow_mod(&mut sw, ctl, 1, 10 + i as u32, fm);
        }
        barrier(&mut sw, mon, v);
        let added =
            |m: &str, port| format!("{r} (xid=0x0):\n event=ADDED table=0 cookie=0 {m} actions=output:{port}\n");
        let three = |event: &str, cookie: &str| {
            format!(
                "{r} (xid=0x0):\n event={event} table=0 cookie={cookie} in_port=0,dl_vlan=123 actions=output:3\n \
                 event={event} table=0 cookie={cookie} in_port=0,dl_vlan=123,dl_vlan_pcp=0 actions=output:3\n \
                 event={event} table=0 cookie={cookie} in_port=0,dl_vlan=123,dl_vlan_pcp=1 actions=output:3\n"
            )
        };
        let want = [
            added("in_port=0,dl_vlan=124", 2),
            added("in_port=0,dl_vlan=123", 5),
            added("in_port=0,dl_vlan=123,dl_vlan_pcp=0", 6),
            added("in_port=0,dl_vlan=123,dl_vlan_pcp=1", 7),
            added("in_port=0,dl_vlan=123", 8),
            added("in_port=0,dl_vlan_pcp=1", 22),
            added("in_port=0", 23),
            three("MODIFIED", "0"),
            three("MODIFIED", "0x5"),
            three("DELETED reason=delete", "0x5"),
            format!(
                "{r} (xid=0x0):\n event=DELETED reason=delete table=0 cookie=0 in_port=0 actions=output:23\n \
                 event=DELETED reason=delete table=0 cookie=0 in_port=0,dl_vlan=124 actions=output:2\n \
                 event=DELETED reason=delete table=0 cookie=0 in_port=0,dl_vlan_pcp=1 actions=output:22\n"
            ),
            barrier_reply(v),
        ]
        .concat();
        assert_eq!(multiline_sort(&ovs_text(&mut sw, mon)), want, "OF version {v}");

        // Our own changes are reported in full: the monitor asked for them ("own").
        send_flow_mod(&mut sw, mon, v, 0x21, add(flow(1, None, None), output(2)));
        send_flow_mod(&mut sw, mon, v, 0x22, add(flow(2, None, None), output(1)));
        send_flow_mod(&mut sw, mon, v, 0x1234_5678, FlowMod { table_id: 0, ..delete(Match::catchall()) });
        barrier(&mut sw, mon, v);
        assert_eq!(
            multiline_sort(&ovs_text(&mut sw, mon)),
            format!(
                "{r} (xid=0x0):\n event=ADDED table=0 cookie=0 in_port=1 actions=output:2\n\
                 {r} (xid=0x0):\n event=ADDED table=0 cookie=0 in_port=2 actions=output:1\n\
                 {r} (xid=0x0):\n event=DELETED reason=delete table=0 cookie=0 in_port=1 actions=output:2\n \
                 event=DELETED reason=delete table=0 cookie=0 in_port=2 actions=output:1\n{}",
                barrier_reply(v)
            ),
            "OF version {v}"
        );
        assert!(sw.owner.rules.rules().is_empty());
    }
}

#[test]
fn own_changes_are_one_abbrev_per_request_without_own() {
    for v in 1..=6 {
        let (mut sw, mon, ctl) = setup(v);
        send_flow_mod(&mut sw, ctl, 1, 1, add(flow(0, Some(123), None), output(1)));
        request(&mut sw, mon, v, 2, vec![FlowMonitor::new(0, MonitorFlags(WATCH & !OWN))]);
        barrier(&mut sw, mon, v);
        sw.take(mon);
        // Adds by another connection are full; our own delete of two flows is one ABBREV.
        send_flow_mod(&mut sw, ctl, 1, 3, add(flow(1, None, None), output(2)));
        send_flow_mod(&mut sw, ctl, 1, 4, add(flow(2, None, None), output(1)));
        barrier(&mut sw, mon, v);
        send_flow_mod(&mut sw, mon, v, 0x1234_5678, FlowMod { table_id: 0, ..delete(flow(1, None, None)) });
        send_flow_mod(&mut sw, mon, v, 0x1234_5679, FlowMod { table_id: 0, ..delete(Match::catchall()) });
        barrier(&mut sw, mon, v);
        let r = reply_name(v);
        let b = barrier_reply(v);
        assert_eq!(
            ovs_text(&mut sw, mon),
            format!(
                "{r} (xid=0x0):\n event=ADDED table=0 cookie=0 in_port=1 actions=output:2\n\
                 {r} (xid=0x0):\n event=ADDED table=0 cookie=0 in_port=2 actions=output:1\n{b}\
                 {r} (xid=0x0):\n event=ABBREV xid=0x12345678\n\
                 {r} (xid=0x0):\n event=ABBREV xid=0x12345679\n{b}"
            ),
            "OF version {v}"
        );
    }
    // The exact ABBREV updates: NXFME_ABBREV (3) before OF1.4, OFPFME_ABBREV (4) after.
    let abbrev = |v: u8| {
        let (mut sw, mon, _) = setup(v);
        request(&mut sw, mon, v, 2, vec![FlowMonitor::new(0, MonitorFlags(ADD | REMOVED))]);
        sw.take(mon);
        send_flow_mod(&mut sw, mon, v, 0x0a0b_0c0d, add(flow(1, None, None), output(2)));
        sw.take(mon).remove(0).to_vec()
    };
    assert_eq!(abbrev(1), hex("0111 0020 00000000 ffff0000 00002320 00000002 00000000 0008 0003 0a0b0c0d").to_vec());
    assert_eq!(abbrev(4), hex("0413 0020 00000000 ffff0000 00000000 4f4e4600 0000074e 0008 0003 0a0b0c0d").to_vec());
    assert_eq!(abbrev(6), hex("0613 0018 00000000 0010 0000 00000000 0008 0004 0a0b0c0d").to_vec());
}

#[test]
fn one_abbrev_per_batch_even_for_several_rules_and_monitors() {
    let (mut sw, mon, ctl) = setup(5);
    send_flow_mod(&mut sw, ctl, 1, 1, add(flow(1, None, None), output(1)));
    send_flow_mod(&mut sw, ctl, 1, 2, add(flow(2, None, None), output(1)));
    request(
        &mut sw,
        mon,
        5,
        3,
        vec![FlowMonitor::new(1, MonitorFlags(MODIFY)), FlowMonitor::new(2, MonitorFlags(MODIFY | ACTIONS))],
    );
    sw.take(mon);
    send_flow_mod(&mut sw, mon, 5, 0x44, modify(Match::catchall(), output(9), u64::MAX));
    assert_eq!(ovs_text(&mut sw, mon), format!("{} (xid=0x0):\n event=ABBREV xid=0x44\n", reply_name(5)));
    // A monitor that asks for its own changes makes them full, with the flags of every monitor.
    request(&mut sw, mon, 5, 4, vec![FlowMonitor { table_id: 0, ..FlowMonitor::new(3, MonitorFlags(MODIFY | OWN)) }]);
    sw.take(mon);
    send_flow_mod(&mut sw, mon, 5, 0x45, modify(Match::catchall(), output(8), u64::MAX));
    assert_eq!(
        ovs_text(&mut sw, mon),
        format!(
            "{} (xid=0x0):\n event=MODIFIED table=0 cookie=0 in_port=1 actions=output:8\n \
             event=MODIFIED table=0 cookie=0 in_port=2 actions=output:8\n",
            reply_name(5)
        )
    );
}

#[test]
fn out_port_filtering_sees_the_old_actions_of_a_modify() {
    for v in 1..=6 {
        let (mut sw, mon, ctl) = setup(v);
        let vlan = |vid| flow(0, Some(vid), None);
        let two =
            || Instructions::apply([Action::Output { port: 1, max_len: 0 }, Action::Output { port: 2, max_len: 0 }]);
        send_flow_mod(&mut sw, ctl, 1, 1, add(vlan(121), output(1)));
        send_flow_mod(&mut sw, ctl, 1, 2, add(vlan(122), output(1)));
        send_flow_mod(&mut sw, ctl, 1, 3, add(vlan(123), output(2)));
        request(&mut sw, mon, v, 4, vec![FlowMonitor { out_port: 2, ..FlowMonitor::new(0, MonitorFlags(WATCH)) }]);
        barrier(&mut sw, mon, v);
        let r = reply_name(v);
        let b = barrier_reply(v);
        assert_eq!(
            ovs_text(&mut sw, mon),
            format!("{r}:\n event={} table=0 cookie=0 in_port=0,dl_vlan=123 actions=output:2\n{b}", initial(v))
        );
        send_flow_mod(&mut sw, ctl, 1, 5, modify(dl_vlan(121), Instructions::default(), u64::MAX));
        send_flow_mod(&mut sw, ctl, 1, 6, modify(dl_vlan(122), two(), u64::MAX));
        barrier(&mut sw, mon, v);
        send_flow_mod(&mut sw, ctl, 1, 7, modify(dl_vlan(123), two(), u64::MAX));
        barrier(&mut sw, mon, v);
        send_flow_mod(&mut sw, ctl, 1, 8, modify(dl_vlan(122), output(1), u64::MAX));
        barrier(&mut sw, mon, v);
        send_flow_mod(&mut sw, ctl, 1, 9, modify(dl_vlan(123), output(2), u64::MAX));
        barrier(&mut sw, mon, v);
        let m = |vid, actions| {
            format!("{r} (xid=0x0):\n event=MODIFIED table=0 cookie=0 in_port=0,dl_vlan={vid} actions={actions}\n{b}")
        };
        assert_eq!(
            ovs_text(&mut sw, mon),
            [m(122, "output:1,output:2"), m(123, "output:1,output:2"), m(122, "output:1"), m(123, "output:2")].concat(),
            "OF version {v}"
        );
    }
}

#[test]
fn of14_out_group_filters_on_the_new_actions_only() {
    let (mut sw, mon, ctl) = setup(5);
    let group = |g| Instructions::apply([Action::Group(g)]);
    let vlan = |vid| flow(0, Some(vid), None);
    send_flow_mod(&mut sw, ctl, 1, 1, add(vlan(121), output(1)));
    send_flow_mod(&mut sw, ctl, 1, 2, add(vlan(122), group(1)));
    send_flow_mod(&mut sw, ctl, 1, 3, add(vlan(123), group(2)));
    request(&mut sw, mon, 5, 4, vec![FlowMonitor { out_group: 2, ..FlowMonitor::new(0, MonitorFlags(WATCH)) }]);
    barrier(&mut sw, mon, 5);
    assert_eq!(
        ovs_text(&mut sw, mon),
        "OFPST_FLOW_MONITOR reply (OF1.4):\n event=INITIAL table=0 cookie=0 in_port=0,dl_vlan=123 actions=group:2\n\
         OFPT_BARRIER_REPLY (OF1.4):\n"
    );
    send_flow_mod(&mut sw, ctl, 1, 5, modify(dl_vlan(121), group(2), u64::MAX));
    send_flow_mod(&mut sw, ctl, 1, 6, modify(dl_vlan(122), group(2), u64::MAX));
    send_flow_mod(&mut sw, ctl, 1, 7, modify(dl_vlan(123), group(1), u64::MAX));
    barrier(&mut sw, mon, 5);
    send_flow_mod(&mut sw, ctl, 1, 8, add(vlan(124), group(2)));
    assert_eq!(
        ovs_text(&mut sw, mon),
        "OFPST_FLOW_MONITOR reply (OF1.4) (xid=0x0):\n event=MODIFIED table=0 cookie=0 in_port=0,dl_vlan=121 actions=group:2\n\
         OFPST_FLOW_MONITOR reply (OF1.4) (xid=0x0):\n event=MODIFIED table=0 cookie=0 in_port=0,dl_vlan=122 actions=group:2\n\
         OFPT_BARRIER_REPLY (OF1.4):\n\
         OFPST_FLOW_MONITOR reply (OF1.4) (xid=0x0):\n event=ADDED table=0 cookie=0 in_port=0,dl_vlan=124 actions=group:2\n"
    );
}

/// The captured `ovs-ofctl monitor` sessions against ovs-vswitchd 3.1 (vectors/sessions-ovs-3.1.txt,
/// conns 13 and 15–17): an OF1.4 monitor's empty initial reply, then the ADDED, MODIFIED and
/// DELETED updates another connection's flow mods cause, byte for byte, to an OF1.4 and an OF1.3
/// monitor.
#[test]
fn usable_protocols_byte_for_byte_as_ovs_vswitchd_sent_them() {
    let (mut sw, of14, _) = setup(5);
    let of13 = sw.accept(MGMT, "unix#3", 4);
    let ctl = sw.accept(MGMT, "unix#4", 4);
    sw.send(of14, "0512002800000002001000000000000000000000ffffffffffffffff005eff000001000400000000");
    assert_eq!(sw.take(of14), vec![hex("05130010000000020010000000000000")]);
    // The OF1.3 monitor without "initial": its reply is empty too.
    sw.send(of13, "0412003000000002ffff0000000000004f4e46000000074e00000000003e0004ffffffffff0000000001000400000000");
    let got = sw.take(of13);
    assert_eq!(ofp_to_string(&got[0], 1), "ONFST_FLOW_MONITOR reply (OF1.3) (xid=0x2):\n");

    sw.send(ctl, "040e00400000000200000000000000000000000000000000000000000000004dffffffffffffffffffffffff000000000001000a80000a020806000000000000");
    assert_eq!(sw.take(of14), vec![hex("0513003800000000001000000000000000280001000000000000004d0000000000000000000000000001000a80000a020806000000000000")]);
    assert_eq!(sw.take(of13), vec![hex("0413004000000000ffff0000000000004f4e46000000074e002800000000004d00000000000a000000000000000000000001000a80000a020806000000000000")]);

    sw.send(ctl, "040e005800000002000000000000000000000000000000000001000000008000ffffffffffffffffffffffff000000000001000a80000a020806000000000000000400180000000000000010000000030000000000000000");
    assert_eq!(sw.take(of14), vec![hex("0513005000000000001000000000000000400003000000000000004d0000000000000000000000000001000a80000a020806000000000000000400180000000000000010000000030000000000000000")]);
    assert_eq!(sw.take(of13), vec![hex("0413005800000000ffff0000000000004f4e46000000074e004000020000004d00000000000a000000000000000000000001000a80000a020806000000000000000400180000000000000010000000030000000000000000")]);

    sw.send(ctl, "040e00400000000200000000000000000000000000000000ff03000000008000ffffffffffffffffffffffff000000000001000a80000a020806000000000000");
    assert_eq!(sw.take(of14), vec![hex("0513005000000000001000000000000000400002000200000000004d0000000000000000000000000001000a80000a020806000000000000000400180000000000000010000000030000000000000000")]);
    assert_eq!(sw.take(of13), vec![hex("0413005800000000ffff0000000000004f4e46000000074e004000010002004d00000000000a000000000000000000000001000a80000a020806000000000000000400180000000000000010000000030000000000000000")]);
}

/// The error `c` got: its name as `ovs-ofctl` prints it, its xid, and the bytes it quotes.
fn error_of(sw: &mut Sw, c: ConnId) -> (String, u32, Vec<u8>) {
    let got = sw.take(c);
    assert_eq!(got.len(), 1, "one message: {got:?}");
    let m = OfpMsg::decode(&got[0]).unwrap();
    let Message::Error(e) = &m.body else { panic!("not an error: {m:?}") };
    let text = ofp_to_string(&got[0], 1);
    let name = text.lines().next().unwrap().rsplit(": ").next().unwrap().to_string();
    (name, m.xid, e.data.to_vec())
}

fn ids(sw: &Sw, c: ConnId) -> Vec<u32> {
    sw.mgr.flow_monitor_status(c).unwrap().monitors
}

#[test]
fn monitor_exists_and_the_request_is_undone() {
    for v in [1, 4, 5] {
        let (mut sw, mon, _) = setup(v);
        let m = |id| FlowMonitor::new(id, MonitorFlags(ADD));
        request(&mut sw, mon, v, 2, vec![m(1)]);
        sw.take(mon);
        request(&mut sw, mon, v, 3, vec![m(2), m(1)]);
        let (name, xid, quoted) = error_of(&mut sw, mon);
        assert_eq!((name.as_str(), xid), ("OFPMOFC_MONITOR_EXISTS", 3), "OF version {v}");
        let body = Message::FlowMonitorStatsRequest(FlowMonitorRequest { monitors: vec![m(2), m(1)] });
        let request = OfpMsg::new(v, 3, body).to_bytes();
        assert_eq!(quoted, request[..request.len().min(64)], "the request's first 64 bytes");
        assert_eq!(ids(&sw, mon), [1], "monitor 2 of the failed request is gone again");
    }
}

#[test]
fn cancels_and_deletes_of_unknown_monitors() {
    for v in 1..=6 {
        let (mut sw, mon, ctl) = setup(v);
        request(&mut sw, mon, v, 2, vec![FlowMonitor::new(7, MonitorFlags(ADD))]);
        sw.take(mon);
        // Cancel in the version's own form: NXT/ONFT_FLOW_MONITOR_CANCEL, or an OF1.4 delete entry.
        let cancel = |xid, id| cancel_message(v, xid, id).unwrap();
        sw.send_msg(mon, &cancel(3, 8));
        let (name, xid, quoted) = error_of(&mut sw, mon);
        assert_eq!((name.as_str(), xid, quoted), ("OFPMOFC_UNKNOWN_MONITOR", 3, cancel(3, 8).to_bytes().to_vec()));
        sw.send_msg(mon, &cancel(4, 7));
        let reply = sw.take(mon);
        if v >= 5 {
            assert_eq!(
                reply,
                vec![OfpMsg::decode(&hex(&format!("0{v}130010000000040010000000000000"))).unwrap().to_bytes()]
            );
        } else {
            assert!(reply.is_empty(), "a cancel has no reply before OF1.4");
        }
        assert!(ids(&sw, mon).is_empty());
        send_flow_mod(&mut sw, ctl, 1, 5, add(flow(1, None, None), output(1)));
        assert!(sw.take(mon).is_empty(), "a cancelled monitor reports nothing");
    }
}

#[test]
fn of14_modify_replaces_a_monitor_and_other_commands_are_ignored() {
    let (mut sw, mon, ctl) = setup(5);
    send_flow_mod(&mut sw, ctl, 1, 1, add(flow(1, None, None), output(1)));
    send_flow_mod(&mut sw, ctl, 1, 2, add(flow(2, None, None), output(2)));
    let modify_entry = |id| FlowMonitor {
        command: MonitorCommand::Modify,
        out_port: 2,
        ..FlowMonitor::new(id, MonitorFlags(INITIAL | ADD | ACTIONS))
    };
    request(&mut sw, mon, 5, 3, vec![modify_entry(1)]);
    assert_eq!(error_of(&mut sw, mon).0, "OFPMOFC_UNKNOWN_MONITOR");
    request(&mut sw, mon, 5, 4, vec![FlowMonitor::new(1, MonitorFlags(REMOVED))]);
    sw.take(mon);
    // The modified monitor has its initial reply, for its new selection.
    request(&mut sw, mon, 5, 5, vec![modify_entry(1)]);
    assert_eq!(
        ovs_text(&mut sw, mon),
        "OFPST_FLOW_MONITOR reply (OF1.4):\n event=INITIAL table=0 cookie=0 in_port=2 actions=output:2\n"
    );
    // Command 9 is neither rejected nor carried out.
    request(
        &mut sw,
        mon,
        5,
        6,
        vec![FlowMonitor { command: MonitorCommand::Other(9), ..FlowMonitor::new(2, MonitorFlags(ADD)) }],
    );
    assert_eq!(ovs_text(&mut sw, mon), "OFPST_FLOW_MONITOR reply (OF1.4):\n");
    assert_eq!(ids(&sw, mon), [1]);
    send_flow_mod(&mut sw, ctl, 1, 7, delete(flow(2, None, None)));
    assert!(sw.take(mon).is_empty(), "monitor 1 no longer watches removals");
}

#[test]
fn tables_beyond_the_owners_are_bad_table_ids() {
    for v in [1, 4, 5] {
        let (mut sw, mon, _) = setup(v);
        sw.owner.n_tables = Some(10);
        let on = |id, table_id| FlowMonitor { table_id, ..FlowMonitor::new(id, MonitorFlags(ADD)) };
        request(&mut sw, mon, v, 2, vec![on(1, 9), on(2, 0xff)]);
        assert_eq!(sw.take(mon).len(), 1);
        request(&mut sw, mon, v, 3, vec![on(3, 10)]);
        let (name, xid, _) = error_of(&mut sw, mon);
        assert_eq!((name.as_str(), xid), ("OFPBRC_BAD_TABLE_ID", 3));
        assert_eq!(ids(&sw, mon), [1, 2]);
    }
    // A table id check comes first even for an OF1.4 delete.
    let (mut sw, mon, _) = setup(5);
    sw.owner.n_tables = Some(10);
    request(&mut sw, mon, 5, 2, vec![FlowMonitor::new(1, MonitorFlags(ADD))]);
    sw.take(mon);
    request(&mut sw, mon, 5, 3, vec![FlowMonitor { table_id: 12, ..FlowMonitor::delete(1) }]);
    assert_eq!(error_of(&mut sw, mon).0, "OFPBRC_BAD_TABLE_ID");
    assert_eq!(ids(&sw, mon), [1]);
}

#[test]
fn multipart_request_failing_in_its_second_part() {
    let (mut sw, mon, _) = setup(5);
    let m = |id| FlowMonitor::new(id, MonitorFlags(ADD));
    request(&mut sw, mon, 5, 2, vec![m(5), m(7)]);
    sw.take(mon);
    let part = |monitors, more: bool| {
        let mut b =
            OfpMsg::new(5, 9, Message::FlowMonitorStatsRequest(FlowMonitorRequest { monitors })).to_bytes().to_vec();
        b[11] = u8::from(more);
        b
    };
    let (first, second) = (part(vec![FlowMonitor::delete(5), m(6)], true), part(vec![m(8), m(6)], false));
    sw.send_bytes(mon, &first);
    assert!(sw.take(mon).is_empty(), "waits for the last part");
    sw.send_bytes(mon, &second);
    let (name, xid, quoted) = error_of(&mut sw, mon);
    assert_eq!((name.as_str(), xid), ("OFPMOFC_MONITOR_EXISTS", 9));
    assert_eq!(quoted, second, "quotes the part that failed");
    assert_eq!(ids(&sw, mon), [7], "6 and 8 are undone; the delete of 5 stays done");
    // Decode errors come from the codec, quoting the part too: no event flag is OFPMOFC_BAD_FLAGS.
    request(&mut sw, mon, 5, 10, vec![FlowMonitor::new(1, MonitorFlags(INITIAL))]);
    assert_eq!(error_of(&mut sw, mon).0, "OFPMOFC_BAD_FLAGS");
}

#[test]
fn monitors_are_per_connection_and_go_with_it() {
    let mut sw = Sw::new();
    sw.set_controllers(&[("tcp:192.0.2.1:6653", settings()), (MGMT, settings())]);
    let c = sw.connect("tcp:192.0.2.1:6653", 4);
    let ctl = sw.accept(MGMT, "unix#1", 1);
    request(&mut sw, c, 4, 2, vec![FlowMonitor::new(1, MonitorFlags(ADD))]);
    sw.take(c);
    assert_eq!(ids(&sw, ctl), Vec::<u32>::new(), "not on other connections");
    sw.hang_up(c);
    assert!(sw.mgr.flow_monitor_status(c).is_none());
    sw.advance(1000);
    let c2 = sw.connect("tcp:192.0.2.1:6653", 4);
    assert!(ids(&sw, c2).is_empty(), "the new connection starts without monitors");
    send_flow_mod(&mut sw, ctl, 1, 3, add(flow(1, None, None), output(1)));
    assert!(sw.take(c2).is_empty());
    // The id is free again on the new connection.
    request(&mut sw, c2, 4, 4, vec![FlowMonitor::new(1, MonitorFlags(ADD))]);
    assert_eq!(ovs_text(&mut sw, c2), "ONFST_FLOW_MONITOR reply (OF1.3):\n");
}

/// "reg1=I" (an NXM/OXM-only field, as in OVS's pause test).
fn reg1(i: u32) -> Match {
    let mut m = Match::catchall();
    m.set_reg_masked(1, i, u32::MAX);
    m
}

/// Many flow mods from `c` (OF1.3) in one write.
fn send_many(sw: &mut Sw, c: ConnId, first_xid: u32, fms: impl IntoIterator<Item = FlowMod>) {
    let mut bytes = Vec::new();
    for (i, fm) in fms.into_iter().enumerate() {
        bytes.extend_from_slice(&OfpMsg::new(4, first_xid + i as u32, Message::FlowMod(fm)).to_bytes());
    }
    sw.send_bytes(c, &bytes);
}

/// A monitor with `flags` in `version` whose controller stopped reading, a changing
/// connection in OF1.0 and one in OF1.3.
fn stalled(version: u8, flags: u16) -> (Sw, ConnId, ConnId, ConnId) {
    let (mut sw, mon, ctl) = setup(version);
    let ctl13 = sw.accept(MGMT, "unix#3", 4);
    request(&mut sw, mon, version, 2, vec![FlowMonitor::new(0, MonitorFlags(flags))]);
    sw.take(mon);
    sw.peers.get_mut(&mon).unwrap().reading = false;
    (sw, mon, ctl, ctl13)
}

fn unblock(sw: &mut Sw, c: ConnId) -> Vec<bytes::Bytes> {
    sw.peers.get_mut(&c).unwrap().reading = true;
    sw.take(c)
}

/// OVS "flow monitoring pause and resume": a controller that stops reading while thousands of
/// flows are added gets updates until 128 KiB are unsent, then PAUSED; while paused only the
/// removal of flows added before the pause; once it has read everything, the refresh (what was
/// added or modified meanwhile) and RESUMED.
#[test]
fn flow_monitoring_pause_and_resume() {
    for v in 1..=6 {
        let (mut sw, mon, ctl, ctl13) = stalled(v, WATCH);
        let n = 3000;
        send_flow_mod(&mut sw, ctl, 1, 1, add(flow(2, None, None), output(2)));
        send_many(
            &mut sw,
            ctl13,
            100,
            (0..n).map(|i| FlowMod { new_cookie: 1, ..add(reg1(i), Instructions::default()) }),
        );
        let status = sw.mgr.flow_monitor_status(mon).unwrap();
        let paused_at = status.paused.expect("paused");
        assert!(status.unsent_bytes > MONITOR_PAUSE_BYTES, "{status:?}");
        send_flow_mod(
            &mut sw,
            ctl,
            1,
            2,
            FlowMod { new_cookie: 3, ..add(flow(1, None, None), Instructions::default()) },
        );
        send_flow_mod(&mut sw, ctl, 1, 3, modify(flow(2, None, None), output(2), 2));
        let unsent = sw.mgr.flow_monitor_status(mon).unwrap().unsent_msgs;
        assert_eq!(unsent, status.unsent_msgs, "nothing is added while paused but removals");
        send_many(&mut sw, ctl13, 9000, [FlowMod { cookie: 1, cookie_mask: u64::MAX, ..delete(Match::catchall()) }]);
        assert!(sw.owner.rules.rules().len() == 2);

        let got = unblock(&mut sw, mon);
        assert_eq!(sw.mgr.flow_monitor_status(mon).unwrap().paused, None, "resumed");
        let paused = ofp_proto::msg::monitor::paused_message(v).unwrap().to_bytes();
        let resumed = ofp_proto::msg::monitor::resumed_message(v).unwrap().to_bytes();
        assert_eq!(got.iter().filter(|m| **m == paused).count(), 1, "one PAUSED");
        assert_eq!(got.last(), Some(&resumed), "RESUMED last");
        let text: String = got.iter().map(|f| strip_xid(&ofp_to_string(f, 1))).collect();
        let adds = text.lines().filter(|l| l.contains("ADDED") && l.contains("reg1=")).count();
        let deletes = text.lines().filter(|l| l.contains("DELETED") && l.contains("reg1=")).count();
        assert!(adds > 100 && adds < n as usize, "adds={adds}");
        assert_eq!(adds, deletes, "every flow reported added is reported deleted");
        // Between PAUSED and RESUMED: removals, then the refresh.
        let normalized = text
            .replace("NXT_FLOW_MONITOR", "FLOW_MONITOR")
            .replace("ONFT_FLOW_MONITOR", "FLOW_MONITOR")
            .replace(&format!("{}:\n event=PAUSED", reply_name(v)), "FLOW_MONITOR_PAUSED:")
            .replace(&format!("{}:\n event=RESUMED", reply_name(v)), "FLOW_MONITOR_RESUMED:")
            .replace(" (OF1.1)", "")
            .replace(" (OF1.2)", "")
            .replace(" (OF1.3)", "")
            .replace(" (OF1.4)", "")
            .replace(" (OF1.5)", "");
        let subset: Vec<&str> = normalized
            .lines()
            .filter(|l| {
                l.ends_with("reg1=0x22")
                    || l.contains("cookie=0x2")
                    || l.contains("cookie=0x3")
                    || l.starts_with("FLOW_MONITOR_")
            })
            .collect();
        let without =
            |word: &str| subset.iter().filter(|l| !l.contains(word)).map(|l| format!("{l}\n")).collect::<String>();
        assert_eq!(
            without("MODIFIED"),
            " event=ADDED table=0 cookie=0x1 reg1=0x22\nFLOW_MONITOR_PAUSED:\n \
             event=DELETED reason=delete table=0 cookie=0x1 reg1=0x22\n \
             event=ADDED table=0 cookie=0x3 in_port=1\nFLOW_MONITOR_RESUMED:\n",
            "OF version {v}"
        );
        assert_eq!(
            without("ADDED"),
            "FLOW_MONITOR_PAUSED:\n event=DELETED reason=delete table=0 cookie=0x1 reg1=0x22\n \
             event=MODIFIED table=0 cookie=0x2 in_port=2 actions=output:2\nFLOW_MONITOR_RESUMED:\n",
            "OF version {v}"
        );
        assert!(sw.mgr.monitor_seqno() > paused_at);
    }
}

/// The pause comes with the first update that leaves more than 128 KiB unsent: OF1.4 ADDED updates
/// of "in_port=N" are 56 bytes each, so 2340 of them (131040 bytes) do not pause, the 2341st does.
#[test]
fn pause_exactly_above_128_kib_unsent() {
    let (mut sw, mon, _, ctl13) = stalled(5, WATCH);
    let k = (MONITOR_PAUSE_BYTES / 56) as u16;
    assert_eq!(k, 2340);
    let port = |i: u16| add(flow(i.into(), None, None), Instructions::default());
    send_many(&mut sw, ctl13, 100, (0..k).map(port));
    let status = sw.mgr.flow_monitor_status(mon).unwrap();
    assert_eq!((status.paused, status.unsent_msgs, status.unsent_bytes), (None, 2340, 131_040));
    let seqno = sw.mgr.monitor_seqno();
    assert_eq!(seqno, 1 + 2340, "one seqno per add, starting at 1");
    send_many(&mut sw, ctl13, 5000, [port(k)]);
    let status = sw.mgr.flow_monitor_status(mon).unwrap();
    assert_eq!(status.paused, Some(seqno + 1), "the pause takes the seqno after the add's");
    assert_eq!((status.unsent_msgs, status.unsent_bytes), (2342, 131_096 + 24));

    // Reading all but the last message does not resume; reading that one does, at the next step.
    for _ in 0..2341 {
        sw.mgr.poll_transmit(sw.now, mon).unwrap();
    }
    sw.run();
    assert!(sw.mgr.flow_monitor_status(mon).unwrap().paused.is_some());
    assert_eq!(sw.mgr.poll_transmit(sw.now, mon).unwrap(), hex("051300180000000000100000000000000008000500000000"));
    assert!(sw.mgr.poll_timeout().is_some_and(|t| t <= sw.now), "a resume is due");
    let got = unblock(&mut sw, mon);
    assert_eq!(got, vec![hex("051300180000000000100000000000000008000600000000")], "no refresh: nothing changed");
    assert!(sw.mgr.flow_monitor_status(mon).unwrap().paused.is_none());
}

/// While paused: removals only for flows added before the pause (in full, even the controller's
/// own); flows added and removed during the pause never show; additions and modifications wait for
/// the refresh, which follows the monitor flags as OVS does (a flow added during the pause reads
/// ADDED even where only a monitor of modifications selects it).
#[test]
fn while_paused_only_removals_of_older_flows() {
    let (mut sw, mon, _, ctl13) = stalled(4, WATCH & !OWN);
    send_many(&mut sw, ctl13, 100, (0..2400).map(|i| add(flow(i, None, None), output(1))));
    let before = sw.mgr.flow_monitor_status(mon).unwrap();
    assert!(before.paused.is_some());
    // A monitor of modifications in table 0 added during the pause: its (empty) initial reply is a
    // reply, not a monitor message.
    request(&mut sw, mon, 4, 3, vec![FlowMonitor { table_id: 0, ..FlowMonitor::new(1, MonitorFlags(MODIFY)) }]);
    send_many(&mut sw, ctl13, 9000, [add(flow(9000, None, None), output(1))]);
    send_many(&mut sw, ctl13, 9001, [FlowMod { table_id: 0, ..delete(flow(9000, None, None)) }]);
    send_many(&mut sw, ctl13, 9002, [add(flow(9001, None, None), output(1))]);
    send_many(&mut sw, ctl13, 9003, [FlowMod { table_id: 0, ..modify(flow(5, None, None), output(2), u64::MAX) }]);
    assert_eq!(sw.mgr.flow_monitor_status(mon).unwrap().unsent_msgs, before.unsent_msgs, "nothing yet");
    send_flow_mod(&mut sw, mon, 4, 0x77, FlowMod { table_id: 0, ..delete(flow(6, None, None)) });
    assert_eq!(sw.mgr.flow_monitor_status(mon).unwrap().unsent_msgs, before.unsent_msgs + 1);
    let got = unblock(&mut sw, mon);
    let text: String = got.iter().map(|f| strip_nonzero_xid(&ofp_to_string(f, 1))).collect();
    let (before_pause, tail) = text.split_at(text.find("ONFT_FLOW_MONITOR_PAUSED").unwrap());
    // The flows added after the pause come back in the refresh, after the modified one.
    let reported = before_pause.lines().filter(|l| l.contains("event=ADDED")).count() as u16;
    assert!(reported > 1000 && reported < 2400, "{reported}");
    let added = |p| format!(" event=ADDED table=0 cookie=0 in_port={p} actions=output:1\n");
    assert_eq!(
        tail,
        [
            "ONFT_FLOW_MONITOR_PAUSED (OF1.3) (xid=0x0):\n\
             ONFST_FLOW_MONITOR reply (OF1.3):\n\
             ONFST_FLOW_MONITOR reply (OF1.3) (xid=0x0):\n \
             event=DELETED reason=delete table=0 cookie=0 in_port=6 actions=output:1\n\
             ONFST_FLOW_MONITOR reply (OF1.3) (xid=0x0):\n \
             event=MODIFIED table=0 cookie=0 in_port=5 actions=output:2\n"
                .to_string(),
            (reported..2400).chain([9001]).map(added).collect(),
            "ONFT_FLOW_MONITOR_RESUMED (OF1.3) (xid=0x0):\n".to_string(),
        ]
        .concat()
    );
    // The refresh asked the owner for what changed since the pause, once per monitor.
    let since = before.paused.unwrap();
    assert_eq!(sw.owner.queries[sw.owner.queries.len() - 2..], [(0xff, since), (0, since)]);
}

#[test]
fn monitors_and_pauses_go_with_the_connection() {
    let (mut sw, mon, _, ctl13) = stalled(5, WATCH);
    send_many(&mut sw, ctl13, 100, (0..2400).map(|i| add(flow(i, None, None), Instructions::default())));
    assert!(sw.mgr.flow_monitor_status(mon).unwrap().paused.is_some());
    sw.hang_up(mon);
    assert!(sw.mgr.flow_monitor_status(mon).is_none());
    let again = sw.accept(MGMT, "unix#9", 5);
    let status = sw.mgr.flow_monitor_status(again).unwrap();
    assert_eq!((status.monitors.len(), status.paused, status.unsent_msgs), (0, None, 0));
}

fn snapshot(in_port: u32, cookie: u64) -> RuleSnapshot {
    RuleSnapshot {
        table_id: 0,
        priority: 0x8000,
        match_: flow(in_port, None, None),
        cookie,
        idle_timeout: 0,
        hard_timeout: 0,
        instructions: std::sync::Arc::new(output(1)),
        add_seqno: 0,
        modify_seqno: 0,
    }
}

fn rule_event(kind: RuleEventKind, rule: RuleSnapshot, conn: Option<ConnId>, xid: u32) -> RuleEvent {
    RuleEvent { kind, rule, old_instructions: None, conn, xid }
}

/// The seqno counter starts at 1 and is shared by events reported directly and through a request's
/// replies; removals take none. Direct events form a batch until `flow_monitor_flush` (or the next
/// step): one ABBREV per batch for the connection that made the changes.
#[test]
fn seqnos_and_batches_of_direct_events() {
    let (mut sw, mon, ctl) = setup(5);
    assert_eq!(sw.mgr.monitor_seqno(), 1);
    request(&mut sw, mon, 5, 2, vec![FlowMonitor::new(0, MonitorFlags(ADD | REMOVED | MODIFY))]);
    sw.take(mon);
    let now = sw.now;
    let mine = Some(mon);
    assert_eq!(sw.mgr.flow_monitor_event(rule_event(RuleEventKind::Added, snapshot(1, 0), mine, 0x51)), 1);
    assert_eq!(sw.mgr.flow_monitor_event(rule_event(RuleEventKind::Modified, snapshot(1, 0), mine, 0x51)), 2);
    let removed = rule_event(RuleEventKind::Removed { reason: 0 }, snapshot(1, 0), mine, 0x51);
    assert_eq!(sw.mgr.flow_monitor_event(removed), 0);
    assert_eq!(sw.mgr.flow_monitor_status(mon).unwrap().pending_updates, 1, "one ABBREV for the batch");
    assert!(sw.mgr.poll_transmit(now, mon).is_none(), "nothing before the flush");
    sw.mgr.flow_monitor_flush(now);
    assert_eq!(ovs_text(&mut sw, mon), "OFPST_FLOW_MONITOR reply (OF1.4) (xid=0x0):\n event=ABBREV xid=0x51\n");
    // Another batch, left to the next step: changes by nobody are in full.
    sw.mgr.flow_monitor_event(rule_event(RuleEventKind::Added, snapshot(2, 7), None, 0));
    sw.mgr.flow_monitor_event(rule_event(RuleEventKind::Added, snapshot(3, 8), None, 0));
    assert!(sw.mgr.poll_timeout().is_some_and(|t| t <= now), "pending updates are due");
    assert_eq!(
        ovs_text(&mut sw, mon),
        "OFPST_FLOW_MONITOR reply (OF1.4) (xid=0x0):\n event=ADDED table=0 cookie=0x7 in_port=2\n \
         event=ADDED table=0 cookie=0x8 in_port=3\n"
    );
    // A request's flow mod takes the next seqno, and the owner keeps it on the rule.
    send_flow_mod(&mut sw, ctl, 1, 9, add(flow(4, None, None), output(1)));
    let r = &sw.owner.rules.rules()[0];
    assert_eq!((r.add_seqno, r.modify_seqno), (5, 5));
    send_flow_mod(&mut sw, ctl, 1, 10, modify(flow(4, None, None), output(2), u64::MAX));
    let r = &sw.owner.rules.rules()[0];
    assert_eq!((r.add_seqno, r.modify_seqno, sw.mgr.monitor_seqno()), (5, 6, 7));
}

#[test]
fn initial_replies_select_and_merge_like_ovs() {
    let (mut sw, mon, ctl) = setup(5);
    send_flow_mod(&mut sw, ctl, 1, 1, add(flow(1, None, None), output(1)));
    send_flow_mod(&mut sw, ctl, 1, 2, add(flow(2, None, None), output(2)));
    send_flow_mod(&mut sw, ctl, 1, 3, FlowMod { table_id: 1, ..add(flow(1, None, None), output(3)) });
    // No "initial": an empty reply, and the owner is not even asked.
    request(&mut sw, mon, 5, 4, vec![FlowMonitor::new(1, MonitorFlags(ADD))]);
    assert_eq!(ovs_text(&mut sw, mon), "OFPST_FLOW_MONITOR reply (OF1.4):\n");
    assert!(sw.owner.queries.is_empty());
    // Two monitors selecting a rule report it once, with the flags of both (actions from one).
    let a = FlowMonitor { table_id: 0, ..FlowMonitor::new(2, MonitorFlags(INITIAL | ADD)) };
    let b = FlowMonitor { match_: flow(1, None, None), ..FlowMonitor::new(3, MonitorFlags(INITIAL | ADD | ACTIONS)) };
    // And what the owner returns beyond a monitor's selection is left out.
    sw.owner.query_returns_everything = true;
    request(&mut sw, mon, 5, 5, vec![a, b]);
    assert_eq!(
        ovs_text(&mut sw, mon),
        "OFPST_FLOW_MONITOR reply (OF1.4):\n event=INITIAL table=0 cookie=0 in_port=1 actions=output:1\n \
         event=INITIAL table=0 cookie=0 in_port=2\n event=INITIAL table=1 cookie=0 in_port=1 actions=output:3\n"
    );
    assert_eq!(sw.owner.queries, [(0, 0), (0xff, 0)]);
    let c = FlowMonitor { out_port: 3, ..FlowMonitor::new(4, MonitorFlags(INITIAL | ADD)) };
    request(&mut sw, mon, 5, 6, vec![c]);
    assert_eq!(
        ovs_text(&mut sw, mon),
        "OFPST_FLOW_MONITOR reply (OF1.4):\n event=INITIAL table=1 cookie=0 in_port=1\n"
    );
}

#[test]
fn long_initial_replies_are_split_with_the_request_xid() {
    let (mut sw, mon, _) = setup(4);
    let ctl13 = sw.accept(MGMT, "unix#3", 4);
    send_many(&mut sw, ctl13, 100, (0..3000).map(|i| add(reg1(i), output(1))));
    request(&mut sw, mon, 4, 0x99, vec![FlowMonitor::new(1, MonitorFlags(INITIAL | ADD | ACTIONS))]);
    let got = sw.take(mon);
    assert!(got.len() > 2, "{} messages", got.len());
    let mut n = 0;
    for (i, m) in got.iter().enumerate() {
        assert!(m.len() <= 65535);
        let d = OfpMsg::decode(m).unwrap();
        assert_eq!((d.xid, d.stats_flags), (0x99, u16::from(i + 1 < got.len())), "part {i}");
        let Message::FlowMonitorStatsReply(r) = d.body else { panic!() };
        n += r.updates.len();
    }
    assert_eq!(n, 3000);
}

/// A bundle commit's changes are one batch, flushed before the commit's reply: one ABBREV (the
/// first change's xid) for the committing connection, one reply with every update for the others.
#[test]
fn a_bundle_commit_is_one_batch_ahead_of_its_reply() {
    use ofp_proto::msg::bundle::{BundleAdd, BundleCtrl, BundleCtrlType};
    let (mut sw, mon, _) = setup(5);
    let other = sw.accept(MGMT, "unix#3", 4);
    request(&mut sw, mon, 5, 2, vec![FlowMonitor::new(0, MonitorFlags(ADD))]);
    request(&mut sw, other, 4, 2, vec![FlowMonitor::new(0, MonitorFlags(ADD))]);
    sw.take(mon);
    sw.take(other);
    for (xid, port) in [(0x61, 1), (0x62, 2)] {
        let fm = OfpMsg::new(5, xid, Message::FlowMod(add(flow(port, None, None), output(port))));
        sw.send_msg(mon, &BundleAdd::wrap(1, 0, fm).unwrap());
    }
    let commit = BundleCtrl::new(1, BundleCtrlType::COMMIT_REQUEST, 0);
    sw.send_msg(mon, &OfpMsg::new(5, 0x63, Message::BundleControl(commit)));
    assert_eq!(
        ovs_text(&mut sw, mon),
        "OFPST_FLOW_MONITOR reply (OF1.4) (xid=0x0):\n event=ABBREV xid=0x61\n\
         OFPT_BUNDLE_CONTROL (OF1.4):\n bundle_id=0x1 type=COMMIT_REPLY flags=0\n"
    );
    assert_eq!(
        ovs_text(&mut sw, other),
        "ONFST_FLOW_MONITOR reply (OF1.3) (xid=0x0):\n event=ADDED table=0 cookie=0 in_port=1\n \
         event=ADDED table=0 cookie=0 in_port=2\n"
    );
}
