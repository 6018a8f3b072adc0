//! Fail-open through the whole switch: standalone mode with a controller that cannot be reached
//! for three probe intervals; NORMAL forwarding under the hidden fail-open flow; once a controller
//! connects without admitting the switch, bogus packet-ins every 2 s and every packet shown as a
//! NO_MATCH packet-in; the first admitting message ends it.

mod common;

use std::collections::BTreeMap;

use common::frames::{mac, tcp};
use common::pair::{config, Pair};
use connmgr_core::{ControllerSettings, FailMode};
use ofp_proto::actions::OFPR_NO_MATCH;
use ofp_proto::msg::flow_mod::FlowMod;
use ofp_proto::{port_no, Message, OfpMsg};
use rconn_core::ConnError;

impl Pair {
    /// Fails every connection attempt the switch asked for.
    fn refuse(&mut self) {
        while let Some((conn, _)) = self.connects.pop_front() {
            self.sw.handle_open_failed(self.now, conn, ConnError::CONNECTION_REFUSED);
        }
        self.run();
    }

    /// Lets `ms` pass a second at a time, refusing connections.
    fn unreachable_for(&mut self, ms: u64) {
        for _ in 0..ms / 1000 {
            self.refuse();
            self.advance(1000);
        }
        self.refuse();
    }
}

#[test]
fn unreachable_controller_fails_open_into_normal_forwarding_and_packet_ins() {
    let mut cfg = config(3);
    cfg.fail_mode = FailMode::Standalone;
    let settings = ControllerSettings { probe_interval: 5, max_backoff: 1, ..ControllerSettings::default() };
    cfg.controllers = BTreeMap::from([("tcp:127.0.0.1:6653".to_string(), settings)]);
    let mut p = Pair::new(&cfg);

    // Before 3 × 5 s nothing forwards: no flows, no controller.
    p.unreachable_for(14_000);
    assert!(!p.sw.status(p.now).fail_open_active);
    p.frame(1, &tcp(1, 2, b"dropped"));
    assert!(p.take_frames().is_empty());

    p.unreachable_for(2_000);
    let st = p.sw.status(p.now);
    assert!(st.fail_open_active);
    assert_eq!(st.flows, 0, "the fail-open flow is hidden");
    p.frame(1, &tcp(1, 2, b"flooded"));
    let ports: Vec<u32> = p.take_frames().into_iter().map(|(port, _)| port).collect();
    assert_eq!(ports, [2, 3, port_no::LOCAL]);

    // A controller connects but says nothing that admits the switch.
    p.advance(1_000);
    let c = p.connect(4);
    p.advance(2_000);
    let r = p.recv(c);
    let bogus: Vec<_> =
        r.iter().filter_map(|m| if let Message::PacketIn(pin) = &m.body { Some(pin) } else { None }).collect();
    assert_eq!(bogus.len(), 1, "{r:?}");
    assert_eq!((bogus[0].in_port(), bogus[0].cookie, bogus[0].reason), (port_no::LOCAL, u64::MAX, OFPR_NO_MATCH));
    assert_eq!(&bogus[0].data[12..14], &[0x80, 0x35], "a RARP");

    let f = tcp(2, 1, b"shown to the controller");
    p.frame(2, &f);
    let ports: Vec<u32> = p.take_frames().into_iter().map(|(port, _)| port).collect();
    assert_eq!(ports, [1], "host 1 was learned on p1");
    let r = p.recv(c);
    let Message::PacketIn(pin) = &r[0].body else { panic!("{r:?}") };
    assert_eq!((pin.in_port(), pin.cookie, pin.reason, pin.table_id), (2, 0, OFPR_NO_MATCH, 0));
    assert_eq!(pin.data, f);
    assert_eq!(&pin.data[6..12], &mac(2));

    // A flow mod admits the switch: fail-open ends and the controller's flows rule.
    p.send(c, &OfpMsg::new(4, 5, Message::FlowMod(FlowMod::default())));
    let st = p.sw.status(p.now);
    assert!(!st.fail_open_active);
    assert_eq!(st.flows, 1);
    p.frame(1, &tcp(1, 2, b"now dropped by the controller's empty flow"));
    assert!(p.take_frames().is_empty());
}
