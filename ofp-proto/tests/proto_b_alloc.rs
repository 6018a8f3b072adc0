//! Decoding a packet-in, a packet-out with a short action list, an echo or a barrier allocates
//! nothing: packets and echo payloads stay slices of the frame the framer cut from the
//! connection's read buffer, standard messages are identified from a table built at compile
//! time (experimenter ones from an index built once), and the metadata match and short action
//! lists are stored inline. (Counted with a per-thread counting allocator.)

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use bytes::Bytes;
use ofp_proto::actions::{Action, ActionList};
use ofp_proto::framer::Framer;
use ofp_proto::mf::MfId;
use ofp_proto::msg::packet_in::PacketIn;
use ofp_proto::msg::packet_out::PacketOut;
use ofp_proto::{Message, OfpMsg, Raw};

struct Counting;

thread_local! {
    static ALLOCS: Cell<usize> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocations made by `f` on this thread.
fn allocations<T>(f: impl FnOnce() -> T) -> (usize, T) {
    let before = ALLOCS.with(Cell::get);
    let out = f();
    (ALLOCS.with(Cell::get) - before, out)
}

/// `msg` as a connection would receive it: bytes read into the framer's buffer, cut into a frame.
fn received(msg: &Bytes) -> Bytes {
    let mut framer = Framer::new();
    framer.push(msg);
    framer.next_frame().unwrap().unwrap()
}

fn packet_in(raw: Raw, version: u8) -> Bytes {
    let mut p =
        PacketIn { reason: 1, table_id: 2, data: Bytes::from(vec![0xab; 128]), total_len: 128, ..PacketIn::default() };
    p.metadata.set_in_port(3);
    if !matches!(raw, Raw::Ofpt10PacketIn | Raw::Ofpt11PacketIn) {
        p.metadata.set_metadata_masked(0x1234, u64::MAX);
        p.metadata.set(MfId::TunId, 0x99, u64::MAX.into());
        p.metadata.set(MfId::Reg0, 7, 0xffff_ffff);
        p.cookie = 5;
    }
    received(&OfpMsg::new(version, 1, Message::PacketIn(p)).with_raw(raw).to_bytes())
}

#[test]
fn decoding_packet_ins_and_outs_allocates_nothing() {
    let forms = [
        (Raw::Ofpt10PacketIn, 1),
        (Raw::Ofpt11PacketIn, 2),
        (Raw::Ofpt12PacketIn, 3),
        (Raw::Ofpt13PacketIn, 4),
        (Raw::Ofpt13PacketIn, 6),
        (Raw::NxtPacketIn, 1),
        (Raw::NxtPacketIn2, 4),
    ];
    // The first decode of an experimenter message builds the identification index for those
    // (once per process; standard messages are identified from a table built at compile time).
    OfpMsg::decode(&packet_in(Raw::NxtPacketIn, 1)).unwrap();
    for (raw, v) in forms {
        let frame = packet_in(raw, v);
        let (n, msg) = allocations(|| OfpMsg::decode(&frame).unwrap());
        let Message::PacketIn(p) = &msg.body else { panic!() };
        assert_eq!(n, 0, "{raw:?} v{v}: {n} allocations");
        // The packet is a slice of the frame.
        assert!(frame.as_ptr_range().contains(&p.data.as_ptr()), "{raw:?}: data copied");
    }
    // A packet-out with a few actions: the action list stays inline.
    for v in [1u8, 4, 6] {
        let acts: ActionList =
            [Action::Output { port: 1, max_len: 0 }, Action::Output { port: 2, max_len: 0 }].into_iter().collect();
        let po = PacketOut::new(ofp_proto::port_no::CONTROLLER, acts, Bytes::from(vec![0xcd; 64]));
        let frame = received(&OfpMsg::new(v, 1, Message::PacketOut(po)).to_bytes());
        let (n, msg) = allocations(|| OfpMsg::decode(&frame).unwrap());
        let Message::PacketOut(p) = &msg.body else { panic!() };
        assert!(frame.as_ptr_range().contains(&p.data.as_ptr()), "v{v}: data copied");
        assert_eq!(n, 0, "packet-out v{v}: {n} allocations");
    }
}

#[test]
fn decoding_echoes_and_barriers_allocates_nothing() {
    let payload = Bytes::from_static(b"keepalive payload");
    for v in 1u8..=6 {
        let bodies = [
            Message::EchoRequest(payload.clone()),
            Message::EchoReply(payload.clone()),
            Message::EchoRequest(Bytes::new()),
            Message::BarrierRequest,
            Message::BarrierReply,
        ];
        for body in bodies {
            let frame = received(&OfpMsg::new(v, 7, body.clone()).to_bytes());
            let (n, msg) = allocations(|| OfpMsg::decode(&frame).unwrap());
            assert_eq!(n, 0, "{body:?} v{v}: {n} allocations");
            assert_eq!(msg.body, body);
            if let Message::EchoRequest(p) | Message::EchoReply(p) = &msg.body {
                assert!(p.is_empty() || frame.as_ptr_range().contains(&p.as_ptr()), "v{v}: echo payload copied");
            }
        }
    }
}

#[test]
fn parsing_views_of_packet_ins_echoes_and_barriers_allocates_nothing() {
    use ofp_proto::view::{BodyView, MsgView};
    let mut frames = vec![];
    for (raw, v) in
        [(Raw::Ofpt10PacketIn, 1), (Raw::Ofpt12PacketIn, 3), (Raw::Ofpt13PacketIn, 4), (Raw::Ofpt13PacketIn, 6)]
    {
        frames.push(packet_in(raw, v));
    }
    for v in 1u8..=6 {
        for body in [
            Message::EchoRequest(Bytes::from_static(b"keepalive payload")),
            Message::EchoReply(Bytes::new()),
            Message::BarrierRequest,
            Message::BarrierReply,
        ] {
            frames.push(OfpMsg::new(v, 7, body).to_bytes());
        }
    }
    let mut framer = Framer::new();
    for frame in &frames {
        framer.push(frame);
        let (n, parsed) = allocations(|| {
            let f = framer.next_frame_ref().unwrap().unwrap();
            let v = MsgView::parse(f).unwrap();
            let typed = !matches!(v.body(), BodyView::Other(_));
            let data_in_place = match v.body() {
                BodyView::PacketIn(p) => f.as_ptr_range().contains(&p.data().as_ptr()),
                _ => true,
            };
            (typed, data_in_place)
        });
        assert_eq!(n, 0, "{frame:02x?}: {n} allocations");
        assert_eq!(parsed, (true, true), "{frame:02x?}");
    }
}

/// The common shapes of flow mods and statistics replies (simple matches, output actions) are
/// proven valid by the views themselves: parsing them allocates nothing, so the owned decoder
/// (which copies the frame) is not involved.
#[test]
fn parsing_views_of_common_flow_mods_and_stats_replies_allocates_nothing() {
    use ofp_proto::flow::ETH_TYPE_IP;
    use ofp_proto::instructions::Instructions;
    use ofp_proto::msg::flow_mod::FlowMod;
    use ofp_proto::msg::flow_stats::{FlowStats, FlowStatsReply};
    use ofp_proto::msg::stats::{PortStats, PortStatsReply};
    use ofp_proto::ofmatch::Match;
    use ofp_proto::view::{BodyView, MsgView};

    let mut m = Match::catchall();
    m.set_in_port(3);
    m.set_dl_type(ETH_TYPE_IP);
    m.set_nw_dst_masked(0x0a00_0001, 0xffff_ff00);
    m.set_default_packet_type();
    let ins = Instructions::apply([Action::Output { port: 2, max_len: 0 }, Action::Output { port: 5, max_len: 0 }]);
    let mut frames = vec![];
    for v in [1u8, 3, 4, 6] {
        let fm = FlowMod { match_: m, instructions: ins.clone(), priority: 7, ..FlowMod::default() };
        frames.push(OfpMsg::new(v, 1, Message::FlowMod(fm)).to_bytes());
    }
    for v in [3u8, 4, 5] {
        let e = FlowStats { match_: m, instructions: ins.clone(), ..FlowStats::default() };
        let body = Message::FlowStatsReply(FlowStatsReply { entries: vec![e.clone(), e] });
        frames.push(OfpMsg::new(v, 1, body).to_bytes());
    }
    for v in [1u8, 2, 4] {
        let body =
            Message::PortStatsReply(PortStatsReply { ports: vec![PortStats::unknown(1), PortStats::unknown(2)] });
        frames.push(OfpMsg::new(v, 1, body).to_bytes());
    }
    MsgView::parse(&frames[0]).unwrap();
    for frame in &frames {
        let (n, typed) = allocations(|| MsgView::parse(frame).map(|v| !matches!(v.body(), BodyView::Other(_))));
        assert_eq!(n, 0, "{frame:02x?}: {n} allocations");
        assert_eq!(typed, Ok(true), "{frame:02x?}");
    }
}
