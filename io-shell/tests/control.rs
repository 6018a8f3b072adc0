//! The control socket: `status` (text and JSON), `inject`, `reconnect`, its file mode and location,
//! and what happens with no agent, a stale socket or a second agent.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

mod common;

use std::os::unix::fs::{FileTypeExt, PermissionsExt};

use common::{run, text, Daemon, TempDir};

const LOCAL: &str = "ptcp:0:127.0.0.1";

fn ctl(d: &Daemon) -> &str {
    d.ctl.to_str().unwrap()
}

#[test]
fn status_json_round_trip() {
    let d = Daemon::start(&["--listen", LOCAL, "--bridge", "brx", "--datapath-id", "0x2a", "--ports", "2"]);
    let meta = std::fs::metadata(&d.ctl).unwrap();
    assert!(meta.file_type().is_socket());
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    let _peer = std::net::TcpStream::connect(("127.0.0.1", d.port())).unwrap();
    let s = d.status();
    assert_eq!(s["bridge"], "brx");
    assert_eq!(s["datapath_id"], "000000000000002a");
    assert_eq!(s["fail_mode"], "standalone");
    assert_eq!(s["fail_open_active"], false);
    assert_eq!(s["controllers"], serde_json::json!([]));
    // Standalone without controllers: OVS's priority-0 NORMAL flow.
    assert_eq!(s["flows"], 1);
    let ports = s["ports"].as_array().unwrap();
    let names: Vec<(u64, &str)> =
        ports.iter().map(|p| (p["port_no"].as_u64().unwrap(), p["name"].as_str().unwrap())).collect();
    assert_eq!(names, [(1, "p1"), (2, "p2"), (0xffff_fffe, "brx")]);
    assert_eq!(
        ports[1],
        serde_json::json!({"port_no": 2, "name": "p2", "rx_packets": 0, "tx_packets": 0, "rx_bytes": 0, "tx_bytes": 0,
                           "rx_dropped": 0, "tx_dropped": 0})
    );
    let l = &s["listeners"][0];
    assert_eq!(l["target"], LOCAL);
    assert_eq!(l["kind"], "service");
    assert_eq!(l["state"], "LISTENING");
    assert_eq!(l["is_connected"], true);
    assert!(l["bound"].as_str().unwrap().starts_with("ptcp:"));
    assert_eq!(s["upcalls"]["upcall_received"], 0);
    assert_eq!(s["queues"]["ofconns"], 1);
    assert_eq!(s["io"]["frames_out"], 0);
}

#[test]
fn status_text_shows_ovs_keys() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let target = format!("tcp:127.0.0.1:{port}");
    let mut d = Daemon::start(&["--listen", LOCAL, "--controller", &target]);
    d.wait_log("connection failed (Connection refused)");
    let out = run(&["status", "--control-socket", ctl(&d)]);
    assert!(out.status.success());
    let t = text(&out.stdout);
    let lines: Vec<&str> = t.lines().collect();
    assert_eq!(lines[0], "bridge br0: datapath_id 0000000000000001, fail_mode standalone");
    assert_eq!(lines[1], format!("controller {target}"));
    assert_eq!(lines[2], "    is_connected: false");
    assert!(lines.contains(&"    last_error: Connection refused"), "{t}");
    assert!(lines.contains(&"    state: BACKOFF"), "{t}");
    assert!(lines.contains(&format!("listener {LOCAL} (service)").as_str()), "{t}");
    // A controller is configured: no NORMAL flow.
    assert!(lines.contains(&"flows: 0"), "{t}");
    let p1 = "port 1 (p1): rx_packets=0 rx_bytes=0 rx_dropped=0 tx_packets=0 tx_bytes=0 tx_dropped=0";
    assert!(lines.contains(&p1), "{t}");
    assert!(lines.iter().any(|l| l.starts_with("port LOCAL (br0): ")), "{t}");
    assert!(lines.iter().any(|l| l.starts_with("upcalls: ") && l.contains(" upcall_received=0")), "{t}");
    assert!(lines.iter().any(|l| l.starts_with("io: connections=")), "{t}");
}

#[test]
fn inject_hands_frames_to_the_switch() {
    let mut d = Daemon::start(&["--listen", LOCAL]);
    // An ARP broadcast on port 3: the standalone NORMAL flow floods it to every other port.
    let frame = "ffffffffffff00000000000108060001080006040001000000000001c0a80001000000000000c0a80002";
    let out = run(&["inject", "--control-socket", ctl(&d), "--port", "3", frame]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    d.wait_log("br0: port 4294967294: sent 42-byte frame");
    let s = d.status();
    let counts: Vec<(u64, u64, u64, u64)> = s["ports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let n = |k: &str| p[k].as_u64().unwrap();
            (n("rx_packets"), n("rx_bytes"), n("tx_packets"), n("tx_bytes"))
        })
        .collect();
    assert_eq!(counts, [(0, 0, 1, 42), (0, 0, 1, 42), (1, 42, 0, 0), (0, 0, 1, 42), (0, 0, 1, 42)]);
    assert_eq!(s["upcalls"]["upcall_received"], 1);
    assert_eq!(s["upcalls"]["frames_forwarded"], 1);
    assert_eq!(s["io"]["frames_out"], 4);

    let out = run(&["inject", "--control-socket", ctl(&d), "--port", "9", frame]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stderr), "ofagent: no such port 9\n");
    let out = run(&["inject", "--control-socket", ctl(&d), "--port", "1", "xyz"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(text(&out.stderr), "ofagent: \"xyz\" is not a frame in hex\n");
}

#[test]
fn clients_fail_clearly_without_an_agent() {
    let dir = TempDir::new("noagent");
    let path = dir.path("none.ctl");
    for args in [vec!["status"], vec!["reconnect"], vec!["inject", "--port", "1", "00"]] {
        let mut a = args.clone();
        a.extend(["--control-socket", path.to_str().unwrap()]);
        let out = run(&a);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = text(&out.stderr);
        assert!(err.starts_with(&format!("ofagent: {}: cannot connect (", path.display())), "{err}");
    }
}

#[test]
fn a_stale_socket_is_replaced_and_a_live_one_is_not() {
    let d = Daemon::start(&["--listen", LOCAL]);
    // A second agent on the same control socket refuses to start, and leaves the first alone.
    let out = run(&["run", "--listen", LOCAL, "--control-socket", ctl(&d)]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("another ofagent is answering on it"), "{}", text(&out.stderr));
    assert!(d.status()["bridge"].is_string());

    // A socket file nobody answers on is taken over.
    let dir = TempDir::new("stale");
    let path = dir.path("stale.ctl");
    drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
    assert!(path.exists());
    let d2 = Daemon::start_at(dir, path, &["--listen", LOCAL]);
    assert!(d2.status()["bridge"].is_string());
}

#[test]
fn the_default_socket_lives_in_the_runtime_directory() {
    let rt = TempDir::new("xdg");
    let rt_path = rt.0.clone();
    let mut cmd = common::ofagent();
    cmd.args(["run", "--listen", LOCAL, "--bridge", "brdef", "--dry-run"]).env("XDG_RUNTIME_DIR", &rt_path);
    let out = cmd.output().unwrap();
    let cfg: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let expected = rt_path.join("ofagent/brdef.ctl");
    assert_eq!(cfg["control_socket"], expected.to_str().unwrap());

    // Started without --control-socket, the agent answers there; clients look for br0's by default.
    let mut d = Daemon::start_in_rundir(&rt_path, &["--listen", LOCAL]);
    let out = common::ofagent().args(["status", "--json"]).env("XDG_RUNTIME_DIR", &rt_path).output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let dir_mode = std::fs::metadata(rt_path.join("ofagent")).unwrap().permissions().mode() & 0o777;
    assert_eq!(dir_mode, 0o700);
    d.signal(libc::SIGTERM);
    assert!(d.wait_exit().success());
}

#[test]
fn bad_requests_get_an_error_answer() {
    use std::io::{Read, Write};
    let d = Daemon::start(&["--listen", LOCAL]);
    let mut s = std::os::unix::net::UnixStream::connect(&d.ctl).unwrap();
    s.write_all(b"{\"command\":\"launch-missiles\"}\n").unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    let v: serde_json::Value = serde_json::from_str(&answer).unwrap();
    assert!(v["error"].as_str().unwrap().starts_with("bad request: unknown variant `launch-missiles`"), "{v}");
    // A client that says nothing and goes away costs nothing.
    drop(std::os::unix::net::UnixStream::connect(&d.ctl).unwrap());
    assert!(d.status()["bridge"].is_string());
}
