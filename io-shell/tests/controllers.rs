//! The daemon as the switch of real active controllers: `ovs-testcontroller` (a learning switch that
//! installs flows on table misses, killed and restarted to show OVS's reconnection backoff), and a
//! controller written here that answers the hello and then stays silent (inactivity probe, then
//! disconnection). Timings are the daemon's real timers, read from its log's timestamps.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{installed, log_millis, run, text, Daemon, TempDir, TIMEOUT};

/// An ARP request from 00:00:00:00:00:01 (192.168.0.1) for 192.168.0.2, broadcast.
const ARP_REQUEST: &str = "ffffffffffff00000000000108060001080006040001000000000001c0a80001000000000000c0a80002";
/// The answer from 00:00:00:00:00:02, to 00:00:00:00:00:01.
const ARP_REPLY: &str = "00000000000100000000000208060001080006040002000000000002c0a80002000000000001c0a80001";

/// A TCP port nobody listens on right now.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn testcontroller(port: u16, rundir: &TempDir) -> Child {
    Command::new("ovs-testcontroller")
        .arg(format!("ptcp:{port}:127.0.0.1"))
        .env("OVS_RUNDIR", &rundir.0)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting ovs-testcontroller")
}

fn inject(d: &Daemon, port: u32, frame: &str) {
    let out = run(&["inject", "--control-socket", d.ctl.to_str().unwrap(), "--port", &port.to_string(), frame]);
    assert!(out.status.success(), "{}", text(&out.stderr));
}

/// Waits until `f` holds of `ofagent status --json`.
fn wait_status(d: &Daemon, what: &str, f: impl Fn(&serde_json::Value) -> bool) -> serde_json::Value {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        let s = d.status();
        if f(&s) {
            return s;
        }
        assert!(Instant::now() < deadline, "never {what}: {s:#}");
        std::thread::yield_now();
    }
}

/// Milliseconds between two log lines, checked to be `want` within the event loop's slack.
fn assert_gap(from: &str, to: &str, want: u64) {
    let gap = log_millis(to) as i64 - log_millis(from) as i64;
    assert!(gap.abs_diff(want as i64) <= 300, "{gap} ms, not {want} ms, between\n{from}\n{to}");
}

#[test]
fn ovs_testcontroller_installs_flows_and_is_reconnected_with_backoff() {
    if !installed("ovs-testcontroller") || !installed("ovs-ofctl") {
        return;
    }
    let rundir = TempDir::new("testcontroller");
    let port = free_port();
    let name = format!("br0<->tcp:127.0.0.1:{port}");
    let mut controller = testcontroller(port, &rundir);
    // Listening before the daemon starts, so that its first attempt connects (a probe connection
    // is one more switch that never says hello, to the controller).
    let deadline = Instant::now() + TIMEOUT;
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "ovs-testcontroller is not listening on {port}");
        std::thread::yield_now();
    }
    let mut d = Daemon::start(&["--listen", "ptcp:0:127.0.0.1", "--controller", &format!("tcp:127.0.0.1:{port}")]);
    d.wait_log(&format!("{name}: connected"));

    // A table miss goes to the controller, which learns 00:..:01 on port 1 and floods the request.
    inject(&d, 1, ARP_REQUEST);
    // (`ports` lists p1..p4, then LOCAL, which a flood includes.)
    wait_status(&d, "flooded", |s| (1..=4).all(|i| s["ports"][i]["tx_packets"] == 1));
    // The reply's destination is known now: the controller installs a flow and sends the frame to port 1.
    inject(&d, 2, ARP_REPLY);
    let s = wait_status(&d, "a flow installed", |s| s["flows"] != 0 && s["ports"][0]["tx_packets"] == 1);
    assert_eq!(s["controllers"][0]["role"], "other");
    let listener = format!("tcp:127.0.0.1:{}", d.port());
    let out = Command::new("ovs-ofctl").args(["-O", "OpenFlow13", "dump-flows", &listener]).output().unwrap();
    let dump = text(&out.stdout);
    // Its table-miss flow (installed on connection) and the flow it learned.
    let flows: Vec<&str> = dump.lines().skip(1).map(|l| l.split_once(" table=0, ").map_or(l, |(_, f)| f)).collect();
    assert_eq!(flows.len(), 2, "{dump}");
    assert!(flows[0].starts_with("n_packets=0, n_bytes=0, idle_timeout=60, priority=1,arp,in_port=2,"), "{dump}");
    assert!(flows[0].contains(",dl_src=00:00:00:00:00:02,dl_dst=00:00:00:00:00:01,"), "{dump}");
    assert!(flows[0].ends_with(" actions=output:1"), "{dump}");
    assert_eq!(flows[1], "n_packets=2, n_bytes=84, priority=0 actions=CONTROLLER:128");

    // A connection up for longer than the backoff (1 s) restarts the backoff from 1 s.
    wait_status(&d, "connected for 2 s", |s| s["controllers"][0]["sec_since_connect"].as_u64() >= Some(2));
    // Killed: the connection drops, and the daemon retries after 1, 2, 4 and then every 8 seconds
    // (max_backoff), logging as OVS's rconn does until the backoff reaches its maximum.
    controller.kill().unwrap();
    controller.wait().unwrap();
    let (at, closed) = d.wait_log_since(0, &format!("{name}: connection closed by peer"));
    let next = |d: &mut Daemon, what: &str| d.wait_log_since(at, &format!("{name}: {what}"));
    // A connection that lived longer than its backoff restarts the backoff at 1 s, silently (OVS's
    // rconn logs only the doubling).
    let (at1, try1) = next(&mut d, "connecting...");
    assert_gap(&closed, &try1, 1000);
    let (at2, wait2) = next(&mut d, "waiting 2 seconds before reconnect");
    assert!(at2 > at1 && !d.log_lines[at..].iter().any(|l| l.contains("waiting 1 seconds")));
    let (_, try2) = d.wait_log_since(at2, &format!("{name}: connecting..."));
    assert_gap(&wait2, &try2, 2000);
    let (at4, wait4) = next(&mut d, "waiting 4 seconds before reconnect");
    let (_, try3) = d.wait_log_since(at4, &format!("{name}: connecting..."));
    assert_gap(&wait4, &try3, 4000);
    let (at8, quiet) =
        next(&mut d, "continuing to retry connections in the background but suppressing further logging");
    let s = d.status();
    assert_eq!(
        (s["controllers"][0]["is_connected"].as_bool(), s["controllers"][0]["state"].as_str()),
        (Some(false), Some("BACKOFF"))
    );

    // Restarted: the next attempt, 8 s after the last, connects.
    let mut controller = testcontroller(port, &rundir);
    let (_, again) = d.wait_log_since(at8, &format!("{name}: connected"));
    assert_gap(&quiet, &again, 8000);
    wait_status(&d, "reconnected", |s| s["controllers"][0]["is_connected"] == true);
    controller.kill().unwrap();
    let _ = controller.wait();
}

fn read_msg(s: &mut TcpStream) -> Vec<u8> {
    let mut h = [0u8; 8];
    s.read_exact(&mut h).expect("a message header");
    let len = usize::from(u16::from_be_bytes([h[2], h[3]]));
    let mut m = h.to_vec();
    m.resize(len, 0);
    s.read_exact(&mut m[8..]).expect("a message body");
    m
}

#[test]
fn a_silent_controller_is_probed_then_dropped() {
    let server = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = server.local_addr().unwrap().port();
    let name = format!("br0<->tcp:127.0.0.1:{port}");
    let mut d = Daemon::start(&["--listen", "ptcp:0:127.0.0.1", "--controller", &format!("tcp:127.0.0.1:{port}")]);
    let (mut c, _) = server.accept().unwrap();
    c.set_read_timeout(Some(TIMEOUT)).unwrap();
    let hello = read_msg(&mut c);
    assert_eq!(&hello[..2], [0x06, 0x00], "an OpenFlow 1.5 hello: {hello:02x?}");
    c.write_all(&[0x04, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0x01]).unwrap();
    let sent = Instant::now();
    d.wait_log(&format!("{name}: connected"));

    // Nothing for the 5 s probe interval (the default), then an echo request with xid 0.
    let echo = read_msg(&mut c);
    let probed = sent.elapsed();
    assert_eq!(echo, [0x04, 0x02, 0x00, 0x08, 0x00, 0x00, 0x00, 0x00]);
    assert!((Duration::from_millis(4700)..Duration::from_millis(6500)).contains(&probed), "{probed:?}");
    let idle = d.wait_log(&format!("{name}: idle 5 seconds, sending inactivity probe"));

    // Unanswered for another interval: disconnected, and the socket is closed.
    let mut rest = Vec::new();
    c.read_to_end(&mut rest).expect("the daemon closes the connection");
    assert!(rest.is_empty(), "{rest:02x?}");
    let dropped = sent.elapsed();
    assert!((Duration::from_millis(9700)..Duration::from_millis(11500)).contains(&dropped), "{dropped:?}");
    let gone = d.wait_log(&format!("{name}: no response to inactivity probe after 5 seconds, disconnecting"));
    assert_gap(&idle, &gone, 5000);
}
