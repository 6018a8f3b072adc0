//! The daemon around the real switch, with raw OpenFlow peers: a peer that sends without reading
//! meets TCP backpressure (the loop honours `may_read`) while others are served.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

mod common;

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::mpsc::channel;
use std::time::Duration;

use common::{Daemon, TIMEOUT};

/// An OpenFlow 1.3 message: type, xid, body.
fn msg(kind: u8, xid: u32, body: &[u8]) -> Vec<u8> {
    let len = u16::try_from(8 + body.len()).unwrap();
    let mut m = vec![4, kind];
    m.extend(len.to_be_bytes());
    m.extend(xid.to_be_bytes());
    m.extend_from_slice(body);
    m
}

const HELLO: u8 = 0;
const ECHO_REQUEST: u8 = 2;
const ECHO_REPLY: u8 = 3;

/// Reads one message: (type, xid, body).
fn recv(s: &mut TcpStream) -> (u8, u32, Vec<u8>) {
    let mut h = [0u8; 8];
    s.read_exact(&mut h).unwrap();
    let len = usize::from(u16::from_be_bytes([h[2], h[3]]));
    let mut body = vec![0; len - 8];
    s.read_exact(&mut body).unwrap();
    (h[1], u32::from_be_bytes([h[4], h[5], h[6], h[7]]), body)
}

/// A peer that has finished the hello exchange in OpenFlow 1.3.
fn peer(port: u16) -> TcpStream {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(TIMEOUT)).unwrap();
    s.write_all(&msg(HELLO, 1, &[])).unwrap();
    assert_eq!(recv(&mut s).0, HELLO);
    s
}

#[test]
fn a_peer_that_sends_without_reading_meets_backpressure() {
    // No inactivity probes: the other peer only expects answers.
    let d = Daemon::start(&["--listen", "ptcp:0:127.0.0.1", "--inactivity-probe", "0"]);
    let port = d.port();
    let flooder = peer(port);
    let mut w = flooder.try_clone().unwrap();
    w.set_write_timeout(Some(Duration::from_secs(2))).unwrap();
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        // Echo requests with 4 KiB payloads: each reply is as big as its request.
        let burst: Vec<u8> = (0..16).flat_map(|i| msg(ECHO_REQUEST, i, &[0x5a; 4096])).collect();
        let mut sent = 0usize;
        let r = loop {
            if sent >= 256 << 20 {
                break Ok(());
            }
            match w.write_all(&burst) {
                Ok(()) => sent += burst.len(),
                Err(e) => break Err(e.kind()),
            }
        };
        let _ = tx.send((r, sent));
    });

    // Others are answered while the flooder pushes.
    let mut other = peer(port);
    for xid in 100..150 {
        other.write_all(&msg(ECHO_REQUEST, xid, b"ping")).unwrap();
        assert_eq!(recv(&mut other), (ECHO_REPLY, xid, b"ping".to_vec()));
    }

    // The flooder's writes stall: its replies back up, the switch stops reading it, so does the
    // daemon, and the kernel's buffers fill.
    let (r, sent) = rx.recv_timeout(6 * TIMEOUT).unwrap();
    assert!(matches!(r, Err(ErrorKind::WouldBlock | ErrorKind::TimedOut)), "{r:?} after {sent} bytes");
    let s = d.status();
    let read = s["io"]["bytes_read"].as_u64().unwrap();
    // What was read is what went back out as replies into the kernel buffers, plus 64 KiB unread.
    let written = s["io"]["bytes_written"].as_u64().unwrap();
    assert!(read < written + (1 << 20) && read < 16 << 20, "read {read} of {sent}, wrote {written}");
    other.write_all(&msg(ECHO_REQUEST, 7, b"still here")).unwrap();
    assert_eq!(recv(&mut other), (ECHO_REPLY, 7, b"still here".to_vec()));
    drop(flooder);
}

#[test]
fn the_largest_message_is_read_whole_across_reads() {
    let d = Daemon::start(&["--listen", "ptcp:0:127.0.0.1", "--inactivity-probe", "0"]);
    let mut s = peer(d.port());
    // 65,535 bytes in all: far more than the first reads ask for.
    let payload: Vec<u8> = (0..65_527u32).map(|i| (i % 251) as u8).collect();
    s.write_all(&msg(ECHO_REQUEST, 9, &payload)).unwrap();
    assert_eq!(recv(&mut s), (ECHO_REPLY, 9, payload));
    s.write_all(&msg(ECHO_REQUEST, 10, b"after")).unwrap();
    assert_eq!(recv(&mut s), (ECHO_REPLY, 10, b"after".to_vec()));
}

#[test]
fn a_close_right_behind_the_last_bytes_is_noticed() {
    let d = Daemon::start(&["--listen", "ptcp:0:127.0.0.1", "--inactivity-probe", "0"]);
    let mut s = peer(d.port());
    // The close arrives with (or right after) the data: the reads that take the data may be short,
    // and the end of the stream must still be read.
    s.write_all(&msg(ECHO_REQUEST, 3, &[7; 3000])).unwrap();
    s.shutdown(Shutdown::Write).unwrap();
    let mut rest = Vec::new();
    s.read_to_end(&mut rest).expect("the daemon closes its side");
    let s = d.status();
    assert_eq!(s["listeners"][0]["n_connections"], 0, "{s}");
}

/// An OpenFlow 1.3 flow mod adding a catch-all flow of priority `priority` with no instructions.
fn add_flow(xid: u32, priority: u16) -> Vec<u8> {
    let mut body = vec![0; 16]; // cookie, cookie mask
    body.extend([0, 0]); // table 0, OFPFC_ADD
    body.extend([0; 4]); // idle and hard timeouts
    body.extend(priority.to_be_bytes());
    body.extend([0xff; 4]); // no buffer
    body.extend([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]); // out_port, out_group: any
    body.extend([0; 4]); // flags, pad
    body.extend([0, 1, 0, 4, 0, 0, 0, 0]); // an empty OXM match
    msg(FLOW_MOD, xid, &body)
}

const FLOW_MOD: u8 = 14;
const BARRIER_REQUEST: u8 = 20;
const BARRIER_REPLY: u8 = 21;

#[test]
fn a_peer_streaming_without_waiting_is_read_in_batches_and_loses_nothing() {
    let d = Daemon::start(&["--listen", "ptcp:0:127.0.0.1", "--inactivity-probe", "0", "--fail-mode", "secure"]);
    let mut s = peer(d.port());
    s.set_nodelay(true).unwrap();
    let batches = |d: &Daemon| d.status()["io"]["read_batches"].as_u64().unwrap();
    // Whether a stream gets batched depends on how fast the daemon keeps up (a loaded machine reads
    // it in large chunks anyway: see `batch.rs` for the decisions); on a quiet one, the first round.
    let mut priority = 0u16;
    for round in 0..20u32 {
        // One write per message, as ovs-ofctl sends bundle adds: each may be its own read.
        for _ in 0..500 {
            priority += 1;
            s.write_all(&add_flow(priority.into(), priority)).unwrap();
        }
        // The last request of a stream is answered although it alone never fills a batch.
        s.write_all(&msg(BARRIER_REQUEST, 90_000 + round, &[])).unwrap();
        assert_eq!(recv(&mut s), (BARRIER_REPLY, 90_000 + round, vec![]));
        if batches(&d) > 0 {
            break;
        }
    }
    assert_eq!(d.status()["flows"], u64::from(priority));
    // A request-reply peer afterwards is answered at once, every time.
    for xid in 0..20 {
        s.write_all(&msg(ECHO_REQUEST, xid, b"x")).unwrap();
        assert_eq!(recv(&mut s), (ECHO_REPLY, xid, b"x".to_vec()));
    }
}
