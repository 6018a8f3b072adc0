//! NORMAL as a learning switch: standalone mode with no controller, hosts learning each other,
//! unknown and broadcast destinations flooded, entries aging out after exactly 300 s, NO_FLOOD
//! honoured, a host moving ports.

mod common;

use std::collections::BTreeMap;

use common::frames::{arp_request, tcp};
use common::pair::{config, Pair};
use connmgr_core::ControllerSettings;
use ofp_proto::msg::port::{config as pc, PortMod};
use ofp_proto::{port_no, Message};

const LOCAL: u32 = port_no::LOCAL;

fn ports_of(p: &mut Pair) -> Vec<u32> {
    p.take_frames().into_iter().map(|(port, _)| port).collect()
}

/// A standalone switch with no controller (just an `ovs-ofctl`-style listener).
fn standalone(n: u16) -> Pair {
    let mut cfg = config(n);
    cfg.controllers = BTreeMap::from([("ptcp:6634".to_string(), ControllerSettings::default())]);
    let p = Pair::new(&cfg);
    assert_eq!(p.sw.status(p.now).flows, 1, "standalone mode's NORMAL flow");
    p
}

#[test]
fn two_hosts_learn_each_other_and_unknown_destinations_flood() {
    let mut p = standalone(3);
    p.frame(1, &tcp(1, 2, b"to 2, unknown"));
    assert_eq!(ports_of(&mut p), [2, 3, LOCAL]);
    p.frame(2, &tcp(2, 1, b"to 1, learned"));
    assert_eq!(ports_of(&mut p), [1]);
    p.frame(1, &tcp(1, 2, b"to 2, learned now"));
    assert_eq!(ports_of(&mut p), [2]);
    p.frame(3, &arp_request(3, 1));
    assert_eq!(ports_of(&mut p), [1, 2, LOCAL], "broadcast floods");
    p.frame(3, &tcp(3, 3, b"to itself"));
    assert_eq!(ports_of(&mut p), Vec::<u32>::new(), "learned port is the input port: dropped");
    let st = p.sw.status(p.now);
    assert_eq!(st.queues["mac_entries"], 3);
    assert_eq!(st.upcalls["frames_forwarded"], 4);
    assert_eq!(st.upcalls["frames_unsent"] + st.upcalls["miss_no_actions"], 1);
}

#[test]
fn entries_age_out_after_exactly_300_seconds() {
    let mut p = standalone(3);
    p.frame(2, &tcp(2, 1, b"2 is on p2"));
    ports_of(&mut p);
    p.advance(299_999);
    p.frame(1, &tcp(1, 2, b"still known"));
    assert_eq!(ports_of(&mut p), [2]);
    p.advance(1);
    p.frame(1, &tcp(1, 2, b"forgotten"));
    assert_eq!(ports_of(&mut p), [2, 3, LOCAL]);
    assert_eq!(p.sw.status(p.now).queues["mac_entries"], 1, "only host 1 is left");
}

#[test]
fn a_host_that_moves_is_followed() {
    let mut p = standalone(3);
    p.frame(2, &tcp(2, 1, b""));
    p.frame(3, &tcp(2, 1, b"moved to p3"));
    ports_of(&mut p);
    p.frame(1, &tcp(1, 2, b""));
    assert_eq!(ports_of(&mut p), [3]);
}

#[test]
fn normal_floods_skip_no_flood_ports() {
    let mut p = standalone(4);
    let c = p.accept("ptcp:6634", 1);
    let pm = PortMod {
        port_no: 3,
        hw_addr: [0xaa, 0x55, 0xaa, 0x55, 0, 3],
        config: pc::NO_FLOOD,
        mask: pc::NO_FLOOD,
        advertise: 0,
    };
    let r = p.request(c, 1, 9, Message::PortMod(pm));
    assert!(r.is_empty(), "{r:?}");
    p.frame(1, &arp_request(1, 2));
    assert_eq!(ports_of(&mut p), [2, 4, LOCAL]);
    p.frame(2, &tcp(2, 3, b""));
    assert_eq!(ports_of(&mut p), [1, 4, LOCAL]);
}
