//! The event loop, through the real binary driving the fake core (`run --fake-core`): accepting, moving bytes both ways
//! with partial writes, timers from `poll_timeout`, closes the core asks for, controllers connecting
//! and reconnecting, Unix sockets, fairness and backpressure, and clean exit on signals.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

mod common;

use std::io::{ErrorKind, Write};
use std::net::TcpListener;
use std::os::unix::net::UnixListener;
use std::sync::mpsc::channel;
use std::time::{Duration, Instant};

use common::{Daemon, Peer, TIMEOUT};

const LOCAL: &str = "ptcp:0:127.0.0.1";

fn daemon(extra: &[&str]) -> Daemon {
    let mut args = vec!["--listen", LOCAL];
    args.extend_from_slice(extra);
    Daemon::fake(&args)
}

/// Accepts one connection on `l`, failing after `TIMEOUT`.
fn accept_within(l: &TcpListener) -> Peer {
    l.set_nonblocking(false).unwrap();
    let l = l.try_clone().unwrap();
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        let _ = tx.send(l.accept().map(|(s, _)| s));
    });
    let s = rx.recv_timeout(TIMEOUT).expect("no connection from ofagent").unwrap();
    s.set_read_timeout(Some(TIMEOUT)).unwrap();
    let r = s.try_clone().unwrap();
    Peer::from_stream(s, r)
}

#[test]
fn accepts_and_moves_bytes_both_ways() {
    let d = daemon(&[]);
    let mut a = d.connect();
    let mut b = d.connect();
    let (ida, idb) = (a.hello(), b.hello());
    assert_ne!(ida, idb);
    a.send("echo one\necho two\n");
    b.send("echo three\n");
    a.expect("one");
    a.expect("two");
    b.expect("three");
    // A command split across writes is reassembled by the core, not the loop.
    a.send("ec");
    a.send("ho split\n");
    a.expect("split");
    let s = d.status();
    assert_eq!(s["listeners"][0]["n_connections"], 2);
    assert_eq!(s["listeners"][0]["is_connected"], true);
    assert_eq!(s["io"]["accepted"], 2);
    assert_eq!(s["io"]["connections"], 2);
}

#[test]
fn partial_writes_to_a_slow_reader_keep_order_and_block_only_that_peer() {
    let d = daemon(&[]);
    let mut slow = d.connect();
    slow.hello();
    const N: usize = 24 << 20;
    slow.send(&format!("flood {N}\necho after flood\n"));
    // While `slow` reads nothing, another peer is served at once.
    let mut quick = d.connect();
    quick.hello();
    for i in 0..20 {
        quick.send(&format!("echo {i}\n"));
        quick.expect(&i.to_string());
    }
    // The flood is far larger than the socket buffers: it cannot all have been written yet.
    let s = d.status();
    assert!(s["io"]["bytes_written"].as_u64().unwrap() < N as u64, "{s}");
    // Now read slowly, in small pieces: every byte arrives once, in order.
    let mut got = 0usize;
    while got < N {
        let n = (N - got).min(1000);
        let chunk = slow.read_exact(n);
        assert!(chunk.iter().enumerate().all(|(i, &c)| c == b'a' + ((got + i) % 26) as u8), "pattern broken at {got}");
        got += n;
    }
    slow.expect("");
    slow.expect("after flood");
    let s = d.status();
    assert!(s["io"]["write_calls"].as_u64().unwrap() > 1, "{s}");
}

#[test]
fn timers_fire_through_poll_timeout_without_spinning() {
    let d = daemon(&[]);
    let mut p = d.connect();
    p.hello();
    let cpu_before = d.cpu_ticks();
    let t0 = Instant::now();
    p.send("after 1000 late\nafter 300 early\necho now\n");
    p.expect("now");
    p.expect("early");
    let early = t0.elapsed();
    p.expect("late");
    let late = t0.elapsed();
    // The core's clock counts whole milliseconds, so a deadline may fall up to 1 ms early.
    assert!(early >= Duration::from_millis(299) && early < Duration::from_millis(900), "{early:?}");
    assert!(late >= Duration::from_millis(999), "{late:?}");
    // A second of waiting costs (almost) no CPU: the loop sleeps until the core's deadline.
    let used = d.cpu_ticks() - cpu_before;
    assert!(used <= 20, "{used} ticks of CPU in {late:?}");
}

#[test]
fn closes_when_the_core_asks_after_flushing() {
    let d = daemon(&[]);
    let mut p = d.connect();
    p.hello();
    p.send("echo last words\nclose\necho never\n");
    p.expect("last words");
    p.expect("bye");
    assert_eq!(p.read_to_end(), b"");
    let s = d.status();
    assert_eq!(s["io"]["connections"], 0);
    assert_eq!(s["listeners"][0]["n_connections"], 0);
}

#[test]
fn a_peer_that_closes_is_reported_and_forgotten() {
    let d = daemon(&[]);
    let mut p = d.connect();
    p.hello();
    drop(p);
    // The fake closes on EOF; a fresh peer proves the loop goes on, and the old one is gone.
    let mut q = d.connect();
    q.hello();
    q.send("echo alive\n");
    q.expect("alive");
    assert_eq!(d.status()["io"]["connections"], 1);
}

#[test]
fn overlong_line_closes_only_that_connection() {
    let d = daemon(&[]);
    let mut bad = d.connect();
    let mut good = d.connect();
    bad.hello();
    good.hello();
    bad.send(&"x".repeat(5000));
    bad.expect("error line too long");
    assert_eq!(bad.read_to_end(), b"");
    good.send("echo fine\n");
    good.expect("fine");
}

#[test]
fn a_peer_that_sends_without_reading_meets_backpressure() {
    let d = daemon(&[]);
    let mut flooder = d.connect();
    flooder.hello();
    let mut w = flooder.stream.try_clone().unwrap();
    w.set_write_timeout(Some(Duration::from_secs(2))).unwrap();
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        let line = format!("echo {}\n", "y".repeat(1000));
        let chunk = line.repeat(64);
        let mut sent = 0usize;
        let r = loop {
            if sent >= 128 << 20 {
                break Ok(());
            }
            match w.write_all(chunk.as_bytes()) {
                Ok(()) => sent += chunk.len(),
                Err(e) => break Err(e.kind()),
            }
        };
        let _ = tx.send((r, sent));
    });
    // Others are served while the flooder pushes.
    let mut other = d.connect();
    other.hello();
    for i in 0..50 {
        other.send(&format!("echo {i}\n"));
        other.expect(&i.to_string());
    }
    // The flooder's writes stall: the daemon stops reading a peer whose replies it cannot send.
    let (r, sent) = rx.recv_timeout(6 * TIMEOUT).unwrap();
    assert!(matches!(r, Err(ErrorKind::WouldBlock | ErrorKind::TimedOut)), "{r:?} after {sent} bytes");
    let s = d.status();
    let read = s["io"]["bytes_read"].as_u64().unwrap();
    assert!(read < 64 << 20, "read {read} of {sent}");
    assert!(s["queues"]["input_bytes"].as_u64().unwrap() <= 128 << 10, "{s}");
    other.send("echo still here\n");
    other.expect("still here");
}

#[test]
fn writes_are_coalesced() {
    let d = daemon(&[]);
    let mut p = d.connect();
    p.hello();
    let before = d.status()["io"]["write_calls"].as_u64().unwrap();
    let burst: String = (0..200).map(|i| format!("echo {i}\n")).collect();
    p.send(&burst);
    for i in 0..200 {
        p.expect(&i.to_string());
    }
    // 200 replies, handed over 50 per core step: a handful of writes, not 200.
    let writes = d.status()["io"]["write_calls"].as_u64().unwrap() - before;
    assert!(writes <= 12, "{writes} writes for 200 replies");
}

#[test]
fn many_connections_are_served() {
    let d = daemon(&[]);
    let mut peers: Vec<Peer> = (0..64).map(|_| d.connect()).collect();
    for p in &mut peers {
        p.hello();
    }
    for (i, p) in peers.iter_mut().enumerate() {
        p.send(&format!("echo {i}\n"));
    }
    for (i, p) in peers.iter_mut().enumerate() {
        p.expect(&i.to_string());
    }
    assert_eq!(d.status()["io"]["connections"], 64);
}

#[test]
fn controllers_are_connected_and_reconnected() {
    let ctl = TcpListener::bind("127.0.0.1:0").unwrap();
    let target = format!("tcp:127.0.0.1:{}", ctl.local_addr().unwrap().port());
    let d = daemon(&["--controller", &target]);
    let mut c = accept_within(&ctl);
    c.hello();
    c.send("echo to controller\n");
    c.expect("to controller");
    let s = d.status();
    let cs = &s["controllers"][0];
    assert_eq!(cs["target"], target.as_str());
    assert_eq!(
        (cs["is_connected"].clone(), cs["state"].clone(), cs["role"].clone()),
        (true.into(), "ACTIVE".into(), "other".into())
    );
    assert_eq!(s["io"]["connects"], 1);

    // The controller hangs up: the core backs off and asks again.
    drop(c);
    let mut c = accept_within(&ctl);
    c.hello();
    let cs = d.status()["controllers"][0].clone();
    assert_eq!(cs["last_error"], "End of file");
    assert!(cs["sec_since_disconnect"].is_u64());

    // `ofagent reconnect` drops the connection and makes a new one.
    let out = common::run(&["reconnect", "--control-socket", d.ctl.to_str().unwrap()]);
    assert!(out.status.success(), "{}", common::text(&out.stderr));
    assert_eq!(c.read_to_end(), b"");
    let mut c = accept_within(&ctl);
    c.hello();
    assert_eq!(d.status()["io"]["connects"], 3);
}

#[test]
fn refused_controller_connections_are_reported() {
    // A port nobody listens on: bind one, note it, close it.
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut d = daemon(&["--controller", &format!("tcp:127.0.0.1:{port}")]);
    d.wait_log("connect failed");
    let cs = d.status()["controllers"][0].clone();
    assert_eq!(cs["last_error"], "Connection refused");
    assert_eq!(cs["is_connected"], false);
}

#[test]
fn unix_listeners_controllers_and_snoops() {
    let dir = common::TempDir::new("unix");
    let ctl_path = dir.path("controller.sock");
    let ctl = UnixListener::bind(&ctl_path).unwrap();
    let listen = dir.path("of.sock");
    let snoop = dir.path("snoop.sock");
    // A stale file where the listener goes is replaced, as OVS does.
    std::fs::write(&listen, "stale").unwrap();
    let mut d = Daemon::fake(&[
        "--listen",
        &format!("punix:{}", listen.display()),
        "--snoop",
        &format!("punix:{}", snoop.display()),
        "--controller",
        &format!("unix:{}", ctl_path.display()),
    ]);
    let mut p = Peer::unix(&listen);
    p.hello();
    p.send("echo over unix\n");
    p.expect("over unix");
    let (s, _) = ctl.accept().unwrap();
    s.set_read_timeout(Some(TIMEOUT)).unwrap();
    let mut c = Peer::from_stream(s.try_clone().unwrap(), s);
    c.hello();
    let st = d.status();
    let kinds: Vec<(&str, &str)> = st["listeners"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["kind"].as_str().unwrap(), l["state"].as_str().unwrap()))
        .collect();
    assert_eq!(kinds, [("service", "LISTENING"), ("snoop", "LISTENING")]);
    assert_eq!(st["controllers"][0]["is_connected"], true);
    d.signal(libc::SIGTERM);
    assert!(d.wait_exit().success());
    assert!(!listen.exists() && !snoop.exists(), "punix files are removed at exit");
}

#[test]
fn sigterm_and_sigint_close_connections_and_exit_zero() {
    for sig in [libc::SIGTERM, libc::SIGINT] {
        let mut d = daemon(&[]);
        let mut p = d.connect();
        p.hello();
        d.signal(sig);
        assert_eq!(p.read_to_end(), b"", "peers see the connection closed");
        let status = d.wait_exit();
        assert_eq!(status.code(), Some(0), "signal {sig}");
        d.wait_log("exiting on");
        assert!(!d.ctl.exists(), "the control socket is removed");
    }
}

#[test]
fn listen_failures_are_reported_and_the_rest_runs() {
    let busy = TcpListener::bind("127.0.0.1:0").unwrap();
    let taken = format!("ptcp:{}:127.0.0.1", busy.local_addr().unwrap().port());
    let mut d = Daemon::fake(&["--listen", &taken, "--listen", LOCAL]);
    d.wait_log("cannot listen");
    let s = d.status();
    let failed = s["listeners"].as_array().unwrap().iter().find(|l| l["target"] == taken.as_str()).unwrap().clone();
    assert_eq!(failed["state"], "FAILED");
    assert!(failed["last_error"].as_str().unwrap().contains("in use"), "{failed}");
    let ok = s["listeners"].as_array().unwrap().iter().find(|l| l["target"] == LOCAL).unwrap().clone();
    let port: u16 = ok["bound"].as_str().unwrap().split(':').nth(1).unwrap().parse().unwrap();
    let mut p = Peer::tcp(port);
    p.hello();
    drop(busy);
    let mut w = p.stream.try_clone().unwrap();
    w.write_all(b"echo ok\n").unwrap();
    p.expect("ok");
}
