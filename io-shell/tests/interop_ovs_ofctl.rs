//! The daemon against the real `ovs-ofctl` (and `ovs-testcontroller` for snooping), in OpenFlow 1.0,
//! 1.3, 1.4 and 1.5: features, port descriptions, probes, flow table edits (one flow, 10,000 from a
//! file, bundles), errors, flow monitors, packet-ins from `ofagent inject`, packet outs, snooping a
//! controller connection, and version negotiation failure. Outputs are compared exactly (durations
//! stripped); they were checked against ovs-vswitchd 3.1 with a dummy datapath, which prints the same
//! apart from datapath ids and port addresses.
//!
//! These tests need `ovs-ofctl` (and `ovs-testcontroller`) on PATH; without them they pass with a
//! note, except under `CI=true`, where they fail.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStderr, ChildStdout, Command, Output, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::Instant;

use common::{installed, run, text, Daemon, TempDir, TIMEOUT};

const VERSIONS: [&str; 4] = ["OpenFlow10", "OpenFlow13", "OpenFlow14", "OpenFlow15"];
const BUNDLE_VERSIONS: [&str; 3] = ["OpenFlow13", "OpenFlow14", "OpenFlow15"];
/// An ARP request from 00:00:00:00:00:01 (192.168.0.1) for 192.168.0.2, 42 bytes.
const ARP: &str = "ffffffffffff00000000000108060001080006040001000000000001c0a80001000000000000c0a80002";
/// How `ovs-ofctl` prints `ARP`.
const ARP_FLOW: &str = "arp,vlan_tci=0x0000,dl_src=00:00:00:00:00:01,dl_dst=ff:ff:ff:ff:ff:ff,arp_spa=192.168.0.1,\
                        arp_tpa=192.168.0.2,arp_op=1,arp_sha=00:00:00:00:00:01,arp_tha=00:00:00:00:00:00";

/// " (OF1.3)" as ovs-ofctl prints it after a message name; nothing for OpenFlow 1.0.
fn tag(version: &str) -> String {
    match version {
        "OpenFlow10" => String::new(),
        v => format!(" (OF1.{})", &v[9..]),
    }
}

/// A daemon (4 ports, standalone, no controller) on a port of its own, and `ovs-ofctl` pointed at it.
struct Switch {
    daemon: Daemon,
    /// OVS_RUNDIR for ovs-ofctl's own control sockets (monitor and snoop make one).
    rundir: TempDir,
    target: String,
}

impl Switch {
    fn start(args: &[&str]) -> Switch {
        let mut a = vec!["--listen", "ptcp:0:127.0.0.1"];
        a.extend_from_slice(args);
        let daemon = Daemon::start(&a);
        let target = format!("tcp:127.0.0.1:{}", daemon.port());
        Switch { daemon, rundir: TempDir::new("ovs-rundir"), target }
    }

    fn ofctl_cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new("ovs-ofctl");
        c.arg("--timeout=10").args(args.iter().map(|a| if *a == "TGT" { self.target.as_str() } else { a }));
        c.env("OVS_RUNDIR", &self.rundir.0).stdin(Stdio::null());
        c
    }

    /// `ovs-ofctl ARGS` ("TGT" stands for the switch), run to completion.
    fn ofctl(&self, args: &[&str]) -> Output {
        self.ofctl_cmd(args).output().expect("running ovs-ofctl")
    }

    /// `ovs-ofctl ARGS` that must succeed; its stdout.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.ofctl(args);
        assert!(out.status.success(), "ovs-ofctl {args:?}: {}", text(&out.stderr));
        assert_eq!(text(&out.stderr), "", "ovs-ofctl {args:?}");
        text(&out.stdout)
    }

    /// The flows as `dump-flows --no-stats` prints them, highest priority first.
    fn flows(&self, version: &str) -> String {
        self.ok(&["-O", version, "--no-stats", "--rsort", "dump-flows", "TGT"])
    }

    fn inject(&self, port: u32, frame: &str) {
        let ctl = self.daemon.ctl.to_str().unwrap();
        let out = run(&["inject", "--control-socket", ctl, "--port", &port.to_string(), frame]);
        assert!(out.status.success(), "{}", text(&out.stderr));
    }

    /// Waits until port `port`'s tx_packets in `ofagent status` reaches `n`.
    fn wait_tx(&self, port: u32, n: u64) {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let s = self.daemon.status();
            let p = s["ports"].as_array().unwrap().iter().find(|p| p["port_no"] == port).unwrap().clone();
            if p["tx_packets"] == n {
                return;
            }
            assert!(Instant::now() < deadline, "port {port} never sent {n} frames: {p}");
            std::thread::yield_now();
        }
    }
}

/// The port descriptions ovs-ofctl prints for the default switch (ports 1-4 and LOCAL br0).
fn port_descs(version: &str) -> String {
    let state = if version == "OpenFlow10" { "0" } else { "LIVE" };
    let ports = [("1(p1)", "aa:55:aa:55:00:01"), ("2(p2)", "aa:55:aa:55:00:02"), ("3(p3)", "aa:55:aa:55:00:03")];
    let ports = ports.into_iter().chain([("4(p4)", "aa:55:aa:55:00:04"), ("LOCAL(br0)", "00:00:00:00:00:01")]);
    ports
        .map(|(name, addr)| {
            format!(
                " {name}: addr:{addr}\n     config:     0\n     state:      {state}\n     speed: 0 Mbps now, 0 Mbps max\n"
            )
        })
        .collect()
}

/// A flow dump line without its `duration=` and `idle_age=` (which depend on timing).
fn without_times(line: &str) -> String {
    let parts: Vec<&str> =
        line.split(", ").filter(|p| !p.starts_with("duration=") && !p.starts_with("idle_age=")).collect();
    parts.join(", ")
}

/// An ovs-ofctl log line on stderr without its timestamp ("2024-...Z|00001|vconn|WARN|..." →
/// "vconn|WARN|...").
fn without_timestamp(line: &str) -> &str {
    match line.split_once('|').and_then(|(_, rest)| rest.split_once('|')) {
        Some((_, rest)) => rest,
        None => line,
    }
}

/// A long-running `ovs-ofctl monitor` or `snoop`: its stdout and stderr lines (echo requests and
/// replies left out), each waited for with a deadline.
struct Watcher {
    child: Child,
    out: Receiver<String>,
    err: Receiver<String>,
}

impl Watcher {
    fn spawn(mut cmd: Command) -> Watcher {
        let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("starting ovs-ofctl");
        let out = lines(child.stdout.take().unwrap());
        let err = lines(child.stderr.take().unwrap());
        Watcher { child, out, err }
    }

    fn next(rx: &Receiver<String>, what: &str) -> String {
        rx.recv_timeout(TIMEOUT).unwrap_or_else(|_| panic!("ovs-ofctl printed no further line on {what}"))
    }

    /// The next lines on stdout are exactly `want`.
    fn expect_out(&self, want: &[&str]) {
        for w in want {
            assert_eq!(Watcher::next(&self.out, "stdout"), *w);
        }
    }

    /// The next lines on stderr (where monitor and snoop print what they receive) are exactly `want`.
    fn expect_err(&self, want: &[&str]) {
        for w in want {
            assert_eq!(Watcher::next(&self.err, "stderr"), *w);
        }
    }

    /// Skips stderr lines until one satisfies `f`, and returns it.
    fn find_err(&self, f: impl Fn(&str) -> bool) -> String {
        loop {
            let l = Watcher::next(&self.err, "stderr");
            if f(&l) {
                return l;
            }
        }
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

trait Pipe: Read + Send + 'static {}
impl Pipe for ChildStdout {}
impl Pipe for ChildStderr {}

fn lines(pipe: impl Pipe) -> Receiver<String> {
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        for l in BufReader::new(pipe).lines().map_while(Result::ok) {
            // The switch's inactivity probes and their answers come whenever the link is idle.
            if l.starts_with("OFPT_ECHO_") {
                continue;
            }
            if tx.send(l).is_err() {
                break;
            }
        }
    });
    rx
}

#[test]
fn show_port_descriptions_and_probe_in_every_version() {
    if !installed("ovs-ofctl") {
        return;
    }
    let sw = Switch::start(&[]);
    for v in VERSIONS {
        let t = tag(v);
        let features = match v {
            "OpenFlow10" => "capabilities: FLOW_STATS TABLE_STATS PORT_STATS QUEUE_STATS ARP_MATCH_IP\n\
                             actions: output enqueue set_vlan_vid set_vlan_pcp strip_vlan mod_dl_src mod_dl_dst \
                             mod_nw_src mod_nw_dst mod_nw_tos mod_tp_src mod_tp_dst\n"
                .to_string(),
            "OpenFlow13" => "capabilities: FLOW_STATS TABLE_STATS PORT_STATS GROUP_STATS QUEUE_STATS\n\
                             OFPST_PORT_DESC reply (OF1.3) (xid=0x3):\n"
                .to_string(),
            _ => format!(
                "capabilities: FLOW_STATS TABLE_STATS PORT_STATS GROUP_STATS QUEUE_STATS BUNDLES\n\
                 OFPST_PORT_DESC reply{t} (xid=0x3):\n"
            ),
        };
        let config_xid = if v == "OpenFlow10" { 4 } else { 5 };
        let show = format!(
            "OFPT_FEATURES_REPLY{t} (xid=0x2): dpid:0000000000000001\nn_tables:254, n_buffers:0\n{features}{}\
             OFPT_GET_CONFIG_REPLY{t} (xid=0x{config_xid}): frags=normal miss_send_len=0\n",
            port_descs(v)
        );
        assert_eq!(sw.ok(&["-O", v, "show", "TGT"]), show, "{v}");
        let descs = format!("OFPST_PORT_DESC reply{t} (xid=0x2):\n{}", port_descs(v));
        assert_eq!(sw.ok(&["-O", v, "dump-ports-desc", "TGT"]), descs, "{v}");
        assert_eq!(sw.ok(&["-O", v, "probe", "TGT"]), "", "{v}");
    }
}

#[test]
fn flow_table_edits_in_every_version() {
    if !installed("ovs-ofctl") {
        return;
    }
    for v in VERSIONS {
        let t = tag(v);
        let sw = Switch::start(&[]);
        // Standalone without controllers: OVS's NORMAL flow.
        let header = if v == "OpenFlow10" {
            "NXST_FLOW reply (xid=0x4):".to_string()
        } else {
            format!("OFPST_FLOW reply{t} (xid=0x2):")
        };
        let dump: Vec<String> = sw.ok(&["-O", v, "dump-flows", "TGT"]).lines().map(without_times).collect();
        assert_eq!(
            dump,
            [header, " cookie=0x0, table=0, n_packets=0, n_bytes=0, priority=0 actions=NORMAL".into()],
            "{v}"
        );

        sw.ok(&["-O", v, "add-flow", "TGT", "priority=100,in_port=1,ip,nw_dst=10.0.0.1,actions=output:2"]);
        sw.ok(&["-O", v, "add-flow", "TGT", "priority=200,tcp,tp_dst=80,actions=drop"]);
        assert_eq!(
            sw.flows(v),
            " priority=200,tcp,tp_dst=80 actions=drop\n priority=100,ip,in_port=1,nw_dst=10.0.0.1 actions=output:2\n \
             priority=0 actions=NORMAL\n",
            "{v}"
        );
        sw.ok(&["-O", v, "mod-flows", "TGT", "tcp,tp_dst=80,actions=output:3"]);
        sw.ok(&["-O", v, "--strict", "del-flows", "TGT", "priority=0"]);
        assert_eq!(
            sw.flows(v),
            " priority=200,tcp,tp_dst=80 actions=output:3\n priority=100,ip,in_port=1,nw_dst=10.0.0.1 actions=output:2\n",
            "{v}"
        );
        sw.ok(&["-O", v, "del-flows", "TGT", "tcp"]);
        assert_eq!(sw.flows(v), " priority=100,ip,in_port=1,nw_dst=10.0.0.1 actions=output:2\n", "{v}");
        sw.ok(&["-O", v, "del-flows", "TGT"]);
        assert_eq!(sw.flows(v), "", "{v}");
        assert_eq!(sw.daemon.status()["flows"], 0);

        // Table 254 is read-only.
        let out = sw.ofctl(&["-O", v, "add-flow", "TGT", "table=254,actions=drop"]);
        assert_eq!(out.status.code(), Some(1), "{v}");
        let err = text(&out.stderr);
        let lines: Vec<&str> = err.lines().collect();
        let xid = if v == "OpenFlow10" { 8 } else { 6 };
        assert_eq!(lines[0], format!("OFPT_ERROR{t} (xid=0x{xid}): OFPBRC_EPERM"), "{v}: {err}");
        if v != "OpenFlow10" {
            // (OpenFlow 1.0's flow mod with a table id is 72 bytes; the error quotes only 64.)
            assert_eq!(lines[1..], [format!("OFPT_FLOW_MOD{t} (xid=0x6): ADD table:254 actions=drop")], "{v}");
        }
    }
}

/// `add-flows` of 10,000 flows from a file, the dump of all of them, and their deletion.
#[test]
fn ten_thousand_flows_from_a_file() {
    if !installed("ovs-ofctl") {
        return;
    }
    let sw = Switch::start(&[]);
    let flow = |i: u32| (i % 1000 + 1, format!("ip,nw_src=10.0.{}.{}", i / 256, i % 256), i % 4 + 1);
    let file: String =
        (0..10_000).map(flow).map(|(prio, m, port)| format!("priority={prio},{m},actions=output:{port}\n")).collect();
    let path = sw.rundir.write("flows.txt", &file);
    let mut want: Vec<String> =
        (0..10_000).map(flow).map(|(prio, m, port)| format!(" priority={prio},{m} actions=output:{port}")).collect();
    want.sort();
    for v in VERSIONS {
        let started = Instant::now();
        sw.ok(&["-O", v, "del-flows", "TGT"]);
        sw.ok(&["-O", v, "add-flows", "TGT", path.to_str().unwrap()]);
        assert_eq!(sw.daemon.status()["flows"], 10_000, "{v}");
        let dump = sw.ok(&["-O", v, "--no-stats", "dump-flows", "TGT"]);
        let mut got: Vec<&str> = dump.lines().collect();
        got.sort_unstable();
        assert!(got == want, "{v}: the dump differs from the file ({} lines)", got.len());
        eprintln!("{v}: 10,000 flows added and dumped in {:?}", started.elapsed());
    }
    sw.ok(&["del-flows", "TGT"]);
    assert_eq!(sw.daemon.status()["flows"], 0);
}

/// `--bundle`: OpenFlow 1.4+ bundle messages, and ONF's bundle extension in OpenFlow 1.3. All of a
/// bundle applies, or nothing.
#[test]
fn bundles_apply_all_or_nothing() {
    if !installed("ovs-ofctl") {
        return;
    }
    for v in BUNDLE_VERSIONS {
        let t = tag(v);
        let sw = Switch::start(&[]);
        let good = sw.rundir.write(
            "good.txt",
            "priority=3,ip,nw_src=10.0.0.3,actions=output:3\npriority=2,ip,nw_src=10.0.0.2,actions=output:2\n\
             delete_strict priority=0\n",
        );
        sw.ok(&["-O", v, "--bundle", "add-flows", "TGT", good.to_str().unwrap()]);
        let flows =
            " priority=3,ip,nw_src=10.0.0.3 actions=output:3\n priority=2,ip,nw_src=10.0.0.2 actions=output:2\n";
        assert_eq!(sw.flows(v), flows, "{v}");

        // The last flow cannot be added: the bundle fails on it and nothing changes.
        let bad = sw.rundir.write(
            "bad.txt",
            "priority=4,ip,nw_src=10.0.0.4,actions=output:4\ndelete_strict priority=3,ip,nw_src=10.0.0.3\ntable=254,priority=5,actions=drop\n",
        );
        let out = sw.ofctl(&["-O", v, "--bundle", "add-flows", "TGT", bad.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(1), "{v}");
        assert_eq!(
            text(&out.stderr),
            format!(
                "Error OFPBRC_EPERM for: OFPT_FLOW_MOD{t} (xid=0x8): ADD table:254 priority=5 actions=drop\n\
                 ovs-ofctl: talking to {} (Protocol error)\n",
                sw.target
            ),
            "{v}"
        );
        assert_eq!(sw.flows(v), flows, "{v}");

        sw.ok(&["-O", v, "--bundle", "del-flows", "TGT"]);
        assert_eq!(sw.flows(v), "", "{v}");
    }
}

/// `ovs-ofctl monitor SWITCH 65535 watch:` sees its initial flows, every later change, and the
/// packet-ins a controller action makes of frames from `ofagent inject` (as NXT_PACKET_IN2, which
/// stock ovs-ofctl asks for).
#[test]
fn monitor_sees_flow_updates_and_packet_ins() {
    if !installed("ovs-ofctl") {
        return;
    }
    for v in VERSIONS {
        let t = tag(v);
        let sw = Switch::start(&[]);
        let mon = Watcher::spawn(sw.ofctl_cmd(&["-O", v, "monitor", "TGT", "65535", "watch:"]));
        let monitor_reply = match v {
            "OpenFlow10" => "NXST_FLOW_MONITOR reply".to_string(),
            "OpenFlow13" => "ONFST_FLOW_MONITOR reply (OF1.3)".to_string(),
            _ => format!("OFPST_FLOW_MONITOR reply{t}"),
        };
        // OpenFlow 1.4 calls the flows present at the start INITIAL; the extensions before it, ADDED.
        let initial = if matches!(v, "OpenFlow10" | "OpenFlow13") { "ADDED" } else { "INITIAL" };
        mon.expect_out(&[
            &format!("{monitor_reply} (xid=0x9):"),
            &format!(" event={initial} table=0 cookie=0 actions=NORMAL"),
        ]);
        let update = format!("{monitor_reply} (xid=0x0):");

        sw.ok(&["-O", v, "add-flow", "TGT", "in_port=1,actions=controller,output:2"]);
        mon.expect_err(&[&update, " event=ADDED table=0 cookie=0 in_port=1 actions=CONTROLLER:65535,output:2"]);

        sw.inject(1, ARP);
        let pin = format!(
            "NXT_PACKET_IN2{t} (xid=0x0): cookie=0x0 total_len=42 in_port=1 (via action) data_len=42 (unbuffered)"
        );
        mon.expect_err(&[&pin, ARP_FLOW]);
        sw.wait_tx(2, 1);

        sw.ok(&["-O", v, "mod-flows", "TGT", "in_port=1,actions=output:3"]);
        mon.expect_err(&[&update, " event=MODIFIED table=0 cookie=0 in_port=1 actions=output:3"]);
        sw.ok(&["-O", v, "del-flows", "TGT", "in_port=1"]);
        mon.expect_err(&[&update, " event=DELETED reason=delete table=0 cookie=0 in_port=1 actions=output:3"]);
    }
}

#[test]
fn packet_out_sends_frames_and_refuses_groups() {
    if !installed("ovs-ofctl") {
        return;
    }
    for v in VERSIONS {
        let t = tag(v);
        let sw = Switch::start(&[]);
        sw.ok(&["-O", v, "packet-out", "TGT", &format!("in_port=controller packet={ARP} actions=output:2")]);
        // ovs-ofctl waits for a barrier: the frame has left by now.
        let s = sw.daemon.status();
        let tx: Vec<u64> = s["ports"].as_array().unwrap().iter().map(|p| p["tx_packets"].as_u64().unwrap()).collect();
        assert_eq!(tx, [0, 1, 0, 0, 0], "{v}");
        assert_eq!(s["ports"][1]["tx_bytes"], 42);
        assert_eq!(s["io"]["frames_out"], 1);

        let out =
            sw.ofctl(&["-O", v, "packet-out", "TGT", &format!("in_port=controller packet={ARP} actions=group:7")]);
        assert_eq!(out.status.code(), Some(1), "{v}");
        let err = text(&out.stderr);
        assert_eq!(err.lines().next(), Some(format!("OFPT_ERROR{t} (xid=0x6): OFPBAC_BAD_OUT_GROUP").as_str()), "{v}");
    }
}

/// `ovs-ofctl snoop unix:PATH` on a `--snoop punix:PATH` listener sees the controller connection's
/// traffic: the packet-in of an injected frame and the controller's packet out.
#[test]
fn snoop_shows_the_controller_connection() {
    if !installed("ovs-ofctl") || !installed("ovs-testcontroller") {
        return;
    }
    let dir = TempDir::new("snoop");
    let ctl_sock = dir.path("controller.sock");
    let snoop_sock = dir.path("snoop.sock");
    let mut controller = Command::new("ovs-testcontroller")
        .arg(format!("punix:{}", ctl_sock.display()))
        .env("OVS_RUNDIR", &dir.0)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting ovs-testcontroller");
    let deadline = Instant::now() + TIMEOUT;
    while !ctl_sock.exists() {
        assert!(Instant::now() < deadline, "ovs-testcontroller did not listen");
        std::thread::yield_now();
    }
    let mut sw = Switch::start(&[
        "--controller",
        &format!("unix:{}", ctl_sock.display()),
        "--snoop",
        &format!("punix:{}", snoop_sock.display()),
    ]);
    sw.daemon.wait_log(&format!("br0<->unix:{}: connected", ctl_sock.display()));
    let snoop = Watcher::spawn(sw.ofctl_cmd(&["snoop", &format!("unix:{}", snoop_sock.display())]));
    sw.daemon.wait_log("new monitor connection from");

    // No flows with a controller configured: the frame is a table miss, sent to the controller,
    // which floods it with a packet out.
    sw.inject(1, ARP);
    let pin = "OFPT_PACKET_IN (OF1.5) (xid=0x0): cookie=0x0 total_len=42 in_port=1 (via no_match) data_len=42 \
               (unbuffered)";
    snoop.find_err(|l| l == pin);
    snoop.expect_err(&[ARP_FLOW]);
    let out = snoop.find_err(|l| l.starts_with("OFPT_PACKET_OUT"));
    assert!(
        out.starts_with("OFPT_PACKET_OUT (OF1.5) (xid=0x") && out.ends_with("): in_port=1 actions=FLOOD data_len=42"),
        "{out}"
    );
    snoop.expect_err(&[ARP_FLOW]);
    sw.wait_tx(2, 1);
    let _ = controller.kill();
    let _ = controller.wait();
}

/// A daemon limited to OpenFlow 1.3 refuses OpenFlow 1.0 peers: ovs-ofctl reports the failed
/// negotiation, and a raw peer sees our hello and then HELLO_FAILED/INCOMPATIBLE.
#[test]
fn incompatible_versions_are_refused_with_hello_failed() {
    if !installed("ovs-ofctl") {
        return;
    }
    let mut sw = Switch::start(&["--protocols", "OpenFlow13"]);
    for args in [&["-O", "OpenFlow10", "show", "TGT"][..], &["show", "TGT"]] {
        let out = sw.ofctl(args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = text(&out.stderr);
        let lines: Vec<&str> = err.lines().map(without_timestamp).collect();
        assert_eq!(
            lines,
            [
                format!(
                    "vconn|WARN|{}: version negotiation failed (we support version 0x01, peer supports version 0x04)",
                    sw.target
                ),
                format!("ovs-ofctl: {}: failed to connect to socket (Protocol error)", sw.target),
            ],
            "{args:?}"
        );
    }
    sw.daemon.wait_log("version negotiation failed (we support version 0x04, peer supports version 0x01)");

    let mut peer = std::net::TcpStream::connect(sw.target.strip_prefix("tcp:").unwrap()).unwrap();
    peer.set_read_timeout(Some(TIMEOUT)).unwrap();
    peer.write_all(&[1, 0, 0, 8, 0, 0, 0, 1]).unwrap();
    let mut got = Vec::new();
    peer.read_to_end(&mut got).unwrap();
    let mut printed = Vec::new();
    while got.len() >= 4 {
        let len = usize::from(u16::from_be_bytes([got[2], got[3]])).clamp(8, got.len());
        let hex: String = got.drain(..len).map(|b| format!("{b:02x}")).collect();
        let out = Command::new("ovs-ofctl").args(["ofp-print", &hex]).output().unwrap();
        printed.push(text(&out.stdout));
    }
    assert_eq!(printed.len(), 2, "{printed:?}");
    assert!(printed[0].starts_with("OFPT_HELLO (OF1.3) (xid=0x"), "{printed:?}");
    assert!(printed[0].ends_with("):\n version bitmap: 0x04\n"), "{printed:?}");
    assert_eq!(
        printed[1],
        "OFPT_ERROR (xid=0x0): OFPHFC_INCOMPATIBLE\nWe support version 0x04, you support version 0x01, no common \
         versions.\n"
    );
}

/// Stock ovs-ofctl: no `-O` (OpenFlow 1.0), and port names accepted (it fetches the port
/// descriptions, and table features, to look them up) and, with `--names`, shown.
#[test]
fn stock_ovs_ofctl_with_port_names() {
    if !installed("ovs-ofctl") {
        return;
    }
    let sw = Switch::start(&[]);
    sw.ok(&["add-flow", "TGT", "priority=10,in_port=p1,actions=output:p2"]);
    let dump: Vec<String> = sw.ok(&["dump-flows", "TGT"]).lines().map(without_times).collect();
    assert_eq!(
        dump,
        [
            "NXST_FLOW reply (xid=0x4):",
            " cookie=0x0, table=0, n_packets=0, n_bytes=0, priority=10,in_port=1 actions=output:2",
            " cookie=0x0, table=0, n_packets=0, n_bytes=0, priority=0 actions=NORMAL"
        ]
    );
    let show = sw.ok(&["show", "TGT"]);
    assert!(show.starts_with("OFPT_FEATURES_REPLY (xid=0x2): dpid:0000000000000001\n"), "{show}");
    sw.inject(1, ARP);
    sw.wait_tx(2, 1);
    // An OpenFlow 1.0 add always resets counters: OpenFlow 1.3 shows the flag, as OVS does.
    for (version, flags) in [(&[][..], ""), (&["-O", "OpenFlow13"], "reset_counts ")] {
        let mut args = version.to_vec();
        args.extend(["--names", "dump-flows", "TGT", "in_port=p1"]);
        let dump: Vec<String> = sw.ok(&args).lines().map(without_times).collect();
        let flow =
            format!(" cookie=0x0, table=0, n_packets=1, n_bytes=42, {flags}priority=10,in_port=p1 actions=output:p2");
        assert_eq!(dump, [flow], "{args:?}");
    }
}

/// A flow's idle timeout fires on the daemon's clock: the monitor sees it deleted and, for
/// `send_flow_rem`, the flow removed message (which OVS sends to a service connection that set a
/// miss send length).
#[test]
fn monitor_sees_idle_expiry_and_flow_removed() {
    if !installed("ovs-ofctl") {
        return;
    }
    let sw = Switch::start(&[]);
    let mon = Watcher::spawn(sw.ofctl_cmd(&["-O", "OpenFlow13", "monitor", "TGT", "65535", "watch:"]));
    mon.expect_out(&["ONFST_FLOW_MONITOR reply (OF1.3) (xid=0x9):", " event=ADDED table=0 cookie=0 actions=NORMAL"]);
    let added = Instant::now();
    sw.ok(&["-O", "OpenFlow13", "add-flow", "TGT", "idle_timeout=1,send_flow_rem,priority=7,actions=drop"]);
    let update = "ONFST_FLOW_MONITOR reply (OF1.3) (xid=0x0):";
    mon.expect_err(&[update, " event=ADDED table=0 idle_timeout=1 cookie=0"]);
    mon.expect_err(&[update, " event=DELETED reason=idle table=0 idle_timeout=1 cookie=0"]);
    let removed = Watcher::next(&mon.err, "stderr");
    let elapsed = added.elapsed();
    assert!(elapsed.as_millis() >= 1000, "expired after {elapsed:?}");
    let (head, tail) = removed.split_once("duration").unwrap();
    assert_eq!(head, "OFPT_FLOW_REMOVED (OF1.3) (xid=0x0): priority=7 reason=idle table_id=0 ");
    // At least the idle timeout; more if the daemon was kept from running on time.
    let (secs, rest) = tail.split_once('s').unwrap();
    assert!(secs.parse::<f64>().unwrap() >= 1.0, "{removed}");
    assert_eq!(rest, " idle1 pkts0 bytes0");
    assert_eq!(sw.flows("OpenFlow13"), " priority=0 actions=NORMAL\n");
}

/// `run --record`: a session of flow edits, a flow monitor, packet-ins and frames sent out is
/// written as a record that the simulator's replay (what `ofsim replay` runs) reproduces exactly.
#[test]
fn a_recorded_run_replays_bit_for_bit() {
    if !installed("ovs-ofctl") {
        return;
    }
    let dir = TempDir::new("record");
    let path = dir.path("run.rec");
    let mut sw = Switch::start(&["--record", path.to_str().unwrap(), "--seed", "7"]);
    let mon = Watcher::spawn(sw.ofctl_cmd(&["-O", "OpenFlow13", "monitor", "TGT", "65535", "watch:"]));
    mon.expect_out(&["ONFST_FLOW_MONITOR reply (OF1.3) (xid=0x9):", " event=ADDED table=0 cookie=0 actions=NORMAL"]);
    sw.ok(&["-O", "OpenFlow13", "add-flow", "TGT", "in_port=1,actions=controller,output:2"]);
    mon.expect_err(&[
        "ONFST_FLOW_MONITOR reply (OF1.3) (xid=0x0):",
        " event=ADDED table=0 cookie=0 in_port=1 actions=CONTROLLER:65535,output:2",
    ]);
    sw.inject(1, ARP);
    mon.expect_err(&[
        "NXT_PACKET_IN2 (OF1.3) (xid=0x0): cookie=0x0 total_len=42 in_port=1 (via action) data_len=42 (unbuffered)",
        ARP_FLOW,
    ]);
    sw.wait_tx(2, 1);
    sw.ok(&["-O", "OpenFlow10", "del-flows", "TGT", "in_port=1"]);
    sw.daemon.signal(libc::SIGTERM);
    assert!(sw.daemon.wait_exit().success());

    let text = std::fs::read_to_string(&path).unwrap();
    let record = ofproto_core::timeline::Record::parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert!(text.starts_with("0.000 setup bridge=br0 datapath_id=0000000000000001 n_ports=4 fail_mode=standalone"));
    assert!(text.contains(" seed=7 "), "{}", text.lines().next().unwrap());
    assert!(text.contains(&format!(" frame 1 {ARP}\n")), "the injected frame is an input");
    assert!(text.contains(&format!(" out packet-out 2 {ARP}\n")), "the frame sent to port 2 is recorded");
    let report = sim::replay::replay::<ofproto_core::Switch>(&record);
    assert!(report.is_identical(), "{:#?}", report.differences);
    assert!(report.inputs > 20 && report.results_compared > 10 && report.outputs_compared > 2, "{report:?}");
}
