//! Framing and decoding a realistic mixed OpenFlow 1.3 stream, next to a plain copy of the same
//! bytes measured in the same run.
//!
//! The stream is what a controller connection carries in steady state: mostly packet-ins (128-byte
//! packets), some flow mods, echoes, barriers, and flow- and port-statistics replies. `decode`
//! pushes the stream into a long-lived `Framer` (as a socket read would), cuts every frame and
//! decodes it (every message decodes; checked before measuring); `view` pushes it the same way,
//! borrows every frame from the framer (`Framer::frames`), parses it as a `MsgView` and reads what
//! a consumer would (packet lengths and ports, match fields and actions of flow mods, counters of
//! statistics); `frame` only pushes and borrows the frames (what `view` pays before parsing);
//! `memcpy` copies the same bytes into a buffer of the same size. `view_received` and
//! `frame_received` are `view` and `frame` without the push: what a reader that reads the socket
//! straight into the framer's buffer (`Framer::buffer_mut`) pays, the kernel's receive being its only
//! copy. The stream is put in the buffer outside the timed part (and is warm in the cache, as right
//! after a read). The `ofagent` daemon reads that way: io-shell receives into the buffer the core
//! lends (`SwitchCore::recv_buffer`, the vconn's framer), so `view_received` is its path to a view.

use std::hint::black_box;

use bytes::{Bytes, BytesMut};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};

use ofp_proto::actions::Action;
use ofp_proto::flow::{ETH_TYPE_IP, IPPROTO_TCP};
use ofp_proto::instructions::Instructions;
use ofp_proto::msg::flow_mod::FlowMod;
use ofp_proto::msg::flow_stats::{FlowStats, FlowStatsReply};
use ofp_proto::msg::packet_in::PacketIn;
use ofp_proto::msg::stats::{PortStats, PortStatsReply};
use ofp_proto::ofmatch::Match;
use ofp_proto::view::{BodyView, MsgView};
use ofp_proto::{port_no, Framer, Message, OfpMsg};

const V13: u8 = 4;

/// A 128-byte TCP/IPv4 frame.
fn packet(i: u32) -> Bytes {
    let mut p = vec![0u8; 128];
    p[..6].copy_from_slice(&[0x50, 0x54, 0, 0, 0, 2]);
    p[6..12].copy_from_slice(&[0x50, 0x54, 0, 0, 0, 1]);
    p[12..14].copy_from_slice(&ETH_TYPE_IP.to_be_bytes());
    p[14] = 0x45;
    p[16..18].copy_from_slice(&114u16.to_be_bytes());
    p[22] = 64;
    p[23] = IPPROTO_TCP;
    p[26..30].copy_from_slice(&[10, 0, 0, 1]);
    p[30..34].copy_from_slice(&(0x0a00_0000 | i).to_be_bytes());
    p[34..36].copy_from_slice(&40000u16.to_be_bytes());
    p[36..38].copy_from_slice(&80u16.to_be_bytes());
    p[46] = 0x50;
    p[47] = 0x02;
    Bytes::from(p)
}

fn packet_in(i: u32) -> Message {
    let mut pin =
        PacketIn { reason: 0, table_id: 0, cookie: 0, data: packet(i), total_len: 128, ..PacketIn::default() };
    pin.metadata.set_in_port(1 + i % 8);
    Message::PacketIn(pin)
}

fn flow_match(i: u32) -> Match {
    let mut m = Match::catchall();
    m.set_in_port(1 + i % 8);
    m.set_dl_type(ETH_TYPE_IP);
    m.set_nw_dst_masked(0x0a00_0000 | i, u32::MAX);
    m.set_default_packet_type();
    m
}

fn flow_mod(i: u32) -> Message {
    Message::FlowMod(FlowMod {
        priority: 100,
        idle_timeout: 60,
        cookie: u64::from(i),
        match_: flow_match(i),
        instructions: Instructions::apply([Action::Output { port: 2 + i % 8, max_len: 0 }]),
        ..FlowMod::default()
    })
}

fn flow_stats(n: u32) -> Message {
    let entries = (0..n)
        .map(|i| FlowStats {
            match_: flow_match(i),
            priority: 100,
            cookie: u64::from(i),
            duration_sec: 30 + i,
            packet_count: 1000 * u64::from(i),
            byte_count: 64_000 * u64::from(i),
            instructions: Instructions::apply([Action::Output { port: 2, max_len: 0 }]),
            ..FlowStats::default()
        })
        .collect();
    Message::FlowStatsReply(FlowStatsReply { entries })
}

fn port_stats(n: u32) -> Message {
    let ports = (1..=n)
        .map(|p| {
            let mut s = PortStats::unknown(p);
            (s.rx_packets, s.tx_packets, s.rx_bytes, s.tx_bytes) = (1, 2, 3, 4);
            (s.duration_sec, s.duration_nsec) = (100, 0);
            s
        })
        .chain([PortStats::unknown(port_no::LOCAL)])
        .collect();
    Message::PortStatsReply(PortStatsReply { ports })
}

/// The stream and its number of messages: per round of 20, 12 packet-ins, 3 flow mods, an echo
/// request and reply, a barrier request and reply, and a flow- or port-statistics reply.
fn mixed_of13() -> (Bytes, u64) {
    let mut out = BytesMut::new();
    let mut n = 0;
    for round in 0..50u32 {
        let mut msgs = vec![];
        msgs.extend((0..12).map(|i| packet_in(round * 12 + i)));
        msgs.extend((0..3).map(|i| flow_mod(round * 3 + i)));
        msgs.push(Message::EchoRequest(Bytes::from_static(b"keepalive")));
        msgs.push(Message::EchoReply(Bytes::from_static(b"keepalive")));
        msgs.push(Message::BarrierRequest);
        msgs.push(Message::BarrierReply);
        msgs.push(if round % 2 == 0 { flow_stats(10) } else { port_stats(8) });
        for body in msgs {
            OfpMsg::new(V13, round, body).encode(&mut out);
            n += 1;
        }
    }
    (out.freeze(), n)
}

/// Frames and decodes every message of `stream` with `framer`; the number of messages.
fn decode_all(framer: &mut Framer, stream: &[u8]) -> u64 {
    framer.push(stream);
    let mut n = 0;
    while let Ok(Some(frame)) = framer.next_frame() {
        black_box(&OfpMsg::decode(&frame));
        n += 1;
    }
    n
}

/// What a consumer reads of a message view: a sum that depends on every field it touched.
fn touch(v: &MsgView) -> u64 {
    let fields = match v.body() {
        BodyView::PacketIn(p) => u64::from(p.total_len()) + p.data().len() as u64 + u64::from(p.in_port()),
        BodyView::FlowMod(f) => {
            let outputs = f.instructions().apply_actions().map_or(0, |a| a.iter().filter_map(|a| a.output()).count());
            f.match_().fields().count() as u64 + outputs as u64 + u64::from(f.priority())
        }
        BodyView::EchoRequest(p) | BodyView::EchoReply(p) => p.len() as u64,
        BodyView::BarrierRequest | BodyView::BarrierReply => 1,
        BodyView::FlowStatsReply(s) => s.entries().map(|e| e.packet_count()).sum(),
        BodyView::PortStatsReply(s) => s.ports().map(|p| p.rx_packets()).sum(),
        BodyView::Other(_) => 0,
    };
    fields + u64::from(v.xid())
}

/// Frames every message of `stream` by reference and reads it through a view; the number of
/// messages.
fn view_all(framer: &mut Framer, stream: &[u8]) -> u64 {
    framer.push(stream);
    view_received(framer)
}

/// Frames every message the framer holds by reference and reads it through a view; the number of
/// messages.
fn view_received(framer: &mut Framer) -> u64 {
    let mut n = 0;
    for frame in framer.frames().map_while(Result::ok) {
        if let Ok(v) = MsgView::parse(frame) {
            black_box(touch(&v));
        }
        n += 1;
    }
    n
}

/// `view_all` without the views: what pushing and cutting the frames costs.
fn frame_all(framer: &mut Framer, stream: &[u8]) -> u64 {
    framer.push(stream);
    frame_received(framer)
}

/// `view_received` without the views: what cutting the frames costs.
fn frame_received(framer: &mut Framer) -> u64 {
    let mut n = 0;
    for frame in framer.frames().map_while(Result::ok) {
        black_box(frame);
        n += 1;
    }
    n
}

fn bench(c: &mut Criterion) {
    let (stream, n_msgs) = mixed_of13();
    let mut framer = Framer::new();
    framer.push(&stream);
    while let Some(frame) = framer.next_frame().expect("valid stream") {
        OfpMsg::decode(&frame).expect("valid message");
    }
    framer.push(&stream);
    for frame in framer.frames() {
        let v = MsgView::parse(frame.expect("valid stream")).expect("valid message");
        assert!(!matches!(v.body(), BodyView::Other(_)), "every message of the stream has a view");
    }
    assert_eq!((view_all(&mut framer, &stream), frame_all(&mut framer, &stream)), (n_msgs, n_msgs));
    let mut received = Framer::new();
    received.push(&stream);
    assert_eq!(view_received(&mut received), n_msgs);
    let throughput = Throughput::ElementsAndBytes { elements: n_msgs, bytes: stream.len() as u64 };

    let mut group = c.benchmark_group("decode");
    group.throughput(throughput.clone());
    group.bench_function("mixed_of13", |b| b.iter(|| decode_all(&mut framer, black_box(&stream))));
    group.finish();

    let mut group = c.benchmark_group("view");
    group.throughput(throughput.clone());
    group.bench_function("mixed_of13", |b| b.iter(|| view_all(&mut framer, black_box(&stream))));
    group.finish();

    let mut group = c.benchmark_group("frame");
    group.throughput(throughput.clone());
    group.bench_function("mixed_of13", |b| b.iter(|| frame_all(&mut framer, black_box(&stream))));
    group.finish();

    // A framer holding the whole stream, as after the socket read into its buffer.
    let received = || {
        let mut f = Framer::new();
        f.push(&stream);
        f
    };
    let mut group = c.benchmark_group("view_received");
    group.throughput(throughput.clone());
    group.bench_function("mixed_of13", |b| {
        b.iter_batched_ref(received, |f| view_received(black_box(f)), BatchSize::PerIteration)
    });
    group.finish();

    let mut group = c.benchmark_group("frame_received");
    group.throughput(throughput.clone());
    group.bench_function("mixed_of13", |b| {
        b.iter_batched_ref(received, |f| frame_received(black_box(f)), BatchSize::PerIteration)
    });
    group.finish();

    let mut group = c.benchmark_group("memcpy");
    group.throughput(throughput);
    let mut dst = vec![0u8; stream.len()];
    group.bench_function("mixed_of13", |b| {
        b.iter(|| {
            dst.copy_from_slice(black_box(&stream));
            black_box(&mut dst);
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
