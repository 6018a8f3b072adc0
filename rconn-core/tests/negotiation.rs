//! Version negotiation for every pair of allowed sets in {1.0}, {1.3}, {1.0,1.3}, {1.4,1.5}, {1.0–1.5}:
//! the hellos each side sends, the version chosen or the exact HELLO_FAILED bytes, in a golden table.

mod support;

use bytes::Bytes;
use ofp_proto::{Instant, VersionBitmap};
use rconn_core::vconn::hello_failed_text;
use rconn_core::{Output, Rconn, RconnConfig, State, Vconn, VconnState};
use support::{check_golden, describe, hex, parse_versions};

const SETS: [&str; 5] = ["1.0", "1.3", "1.0,1.3", "1.4,1.5", "1.0-1.5"];

/// The first hello a side with `allowed` sends (xid 1, like the first message OVS numbers).
fn hello_of(allowed: VersionBitmap) -> Bytes {
    Vconn::accepted("peer".into(), allowed, 1).poll_transmit().unwrap()
}

/// An accepted rconn allowing `ours` receives `peer_hello`: the version, or the bytes sent before closing.
fn negotiate(ours: VersionBitmap, peer_hello: &[u8]) -> Result<u8, Bytes> {
    let t = Instant::ZERO;
    let mut rc = Rconn::new(RconnConfig { allowed_versions: ours, ..RconnConfig::default() }, t);
    rc.connect_unreliably(t, "tcp:127.0.0.1:1", None);
    assert_eq!(rc.poll_transmit(t), Some(hello_of(ours)));
    rc.handle_bytes(t, peer_hello);
    match rc.state() {
        State::Active => Ok(rc.version().unwrap()),
        State::Disconnected => match rc.poll_output() {
            Some(Output::Close { unsent, .. }) => Err(unsent),
            other => panic!("expected close, got {other:?}"),
        },
        s => panic!("unexpected state {s}"),
    }
}

#[test]
fn every_pair_of_allowed_sets() {
    let mut out = String::from(
        "# Hello negotiation between every pair of allowed version sets (ours, then the peer's).\n\
         # Each side's hello; then what we do with the peer's: the version negotiated, or the HELLO_FAILED\n\
         # error we write before closing (xid 0, in the peer's highest version).\n",
    );
    for ours in SETS {
        for peers in SETS {
            let (o, p) = (parse_versions(ours), parse_versions(peers));
            let (our_hello, peer_hello) = (hello_of(o), hello_of(p));
            out += &format!("ours {{{ours}}} peer {{{peers}}}\n");
            out += &format!("    our hello  {}\n", hex(&our_hello));
            out += &format!("    peer hello {}\n", hex(&peer_hello));
            let result = negotiate(o, &peer_hello);
            // Both ends must reach the same conclusion from each other's hello.
            let mirrored = negotiate(p, &our_hello);
            assert_eq!(result.is_ok(), mirrored.is_ok(), "{ours} vs {peers}");
            match result {
                Ok(v) => {
                    assert_eq!(Ok(v), mirrored);
                    assert_eq!(Some(v), o.intersect(p).highest());
                    out += &format!("    negotiated 0x{v:02x}\n");
                }
                Err(bytes) => {
                    out += &format!("    HELLO_FAILED {}\n      = {}\n", hex(&bytes), describe(&bytes));
                }
            }
        }
    }
    check_golden("negotiation", &out);
}

#[test]
fn hello_failed_bytes_written_out_by_hand() {
    // We allow only OF1.0; the peer allows only OF1.3 and says so with a bitmap element.
    let peer = [4, 0, 0, 16, 0, 0, 0, 0, 0, 1, 0, 8, 0, 0, 0, 0x10];
    let text = b"We support version 0x01, you support version 0x04, no common versions.";
    let mut want = vec![4, 1, 0, 12 + text.len() as u8, 0, 0, 0, 0, 0, 0, 0, 0];
    want.extend_from_slice(text);
    assert_eq!(want.len(), 0x52);
    assert_eq!(negotiate(VersionBitmap(1 << 1), &peer), Err(Bytes::from(want)));
}

#[test]
fn default_set_sends_a_plain_of15_hello() {
    assert_eq!(&hello_of(VersionBitmap::DEFAULT)[..], [6, 0, 0, 8, 0, 0, 0, 1]);
    assert_eq!(&hello_of(parse_versions("1.0-1.3"))[..], [4, 0, 0, 8, 0, 0, 0, 1]);
    assert_eq!(&hello_of(parse_versions("1.0,1.3"))[..], [4, 0, 0, 16, 0, 0, 0, 1, 0, 1, 0, 8, 0, 0, 0, 0x12]);
}

#[test]
fn texts_name_sets_as_ovs_does() {
    let t = hello_failed_text(parse_versions("1.0,1.3"), parse_versions("1.4,1.5"));
    assert_eq!(t, "We support versions 0x01, 0x04, you support versions 0x05, 0x06, no common versions.");
    let t = hello_failed_text(parse_versions("1.3"), parse_versions("1.0-1.2"));
    assert_eq!(t, "We support version 0x04, you support version 0x03 and earlier, no common versions.");
}

#[test]
fn hellos_are_numbered_across_connections_sharing_an_allocator() {
    let t = Instant::ZERO;
    let xids = rconn_core::XidAllocator::new();
    let mut a = Rconn::new(RconnConfig::default(), t);
    let mut b = Rconn::new(RconnConfig::default(), t);
    a.set_xid_allocator(xids.clone());
    b.set_xid_allocator(xids.clone());
    a.connect_unreliably(t, "tcp:127.0.0.1:1", None);
    b.connect_unreliably(t, "tcp:127.0.0.1:2", None);
    a.connect_unreliably(t, "tcp:127.0.0.1:3", None);
    let xid = |rc: &mut Rconn| ofp_proto::header::xid_of(&rc.poll_transmit(t).unwrap());
    assert_eq!((xid(&mut b), xid(&mut a)), (2, 3));
    assert_eq!(xids.next_xid(), 4);
}

#[test]
fn a_vconn_in_any_state_ignores_what_cannot_apply() {
    let mut v = Vconn::new("x".into(), VersionBitmap::DEFAULT);
    v.handle_bytes(&[4, 0, 0, 8, 0, 0, 0, 0]);
    v.handle_eof();
    assert_eq!(v.state(), VconnState::Connecting);
    assert_eq!(v.send(Bytes::from_static(&[4, 2, 0, 8, 0, 0, 0, 0])), Err(rconn_core::vconn::NotConnected));
    v.handle_connected(9);
    assert_eq!(v.poll_transmit().as_deref(), Some(&[6, 0, 0, 8, 0, 0, 0, 9][..]));
    v.handle_bytes(&[4, 0, 0, 8, 0, 0, 0, 0]);
    assert_eq!((v.state(), v.version()), (VconnState::Connected, Some(4)));
    v.handle_eof();
    assert_eq!(v.recv(), Some(Err(rconn_core::ConnError::Eof)));
    assert_eq!(v.recv(), None);
}
