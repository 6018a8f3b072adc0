//! `ConnMgr::may_read`: the embedder stops reading a connection once 64 KiB wait unread (its
//! requests are blocked), and resumes when they have been read.

mod common;

use bytes::Bytes;
use common::*;
use connmgr_core::{ConnId, Disposition, MAX_UNREAD};
use ofp_proto::msg::PacketOut;
use ofp_proto::{Message, OfpMsg};

#[test]
fn reading_stops_at_64_kib_unread_and_resumes_once_read() {
    let mut sw = Sw::new();
    assert!(sw.set_controllers(&[("ptcp:6653", settings())]).is_empty());
    let c = sw.accept("ptcp:6653", "tcp:192.0.2.9:4000", 4);
    assert!(sw.mgr.may_read(c));
    assert!(!sw.mgr.may_read(ConnId(99)), "no such transport");

    // The owner holds the first packet out back: everything after it waits unread.
    sw.owner.handler = Some(Box::new(|_, _, _| Disposition::Postponed));
    let po = OfpMsg::new(4, 1, Message::PacketOut(PacketOut::new(1, Default::default(), Bytes::from(vec![0; 1000]))));
    let msg = po.to_bytes();
    let mut sent = 0;
    while sw.mgr.may_read(c) {
        sw.send_bytes(c, &msg);
        sent += msg.len();
    }
    // Reading stopped as soon as MAX_UNREAD bytes waited, and not before.
    let offered = sw.owner.requests.iter().filter(|r| r.0 == c).count();
    let unread = sent - offered * msg.len();
    assert!((MAX_UNREAD..MAX_UNREAD + msg.len()).contains(&unread), "{sent} sent, {offered} offered");

    sw.owner.handler = None;
    sw.mgr.retry();
    sw.run();
    assert!(sw.mgr.may_read(c));
    let offered_after = sw.owner.requests.iter().filter(|r| r.0 == c).count();
    assert_eq!(offered_after, offered + sent / msg.len(), "the blocked one again, then every other once");
}
