//! Interop with the real Open vSwitch: `ovs-ofctl probe` connects over TCP to a listener here, and an
//! unreliable `Rconn` fed with the socket's bytes does the hello exchange and answers the echo; and a
//! reliable `Rconn` connects to `ovs-testcontroller`. Runs when `ovs-ofctl` is on PATH; under
//! `CI=true` a missing `ovs-ofctl` is a failure.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

mod support;

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use bytes::Bytes;
use ofp_proto::{Framer, Instant, Message, OfpMsg, VersionBitmap};
use rconn_core::{ConnError, Output, Rconn, RconnConfig, State, Vconn};
use support::{describe, hex, parse_versions};

/// Allowed sets as ovs-ofctl's `-O` spells them, with the same sets in our notation.
const SETS: [(&str, &str); 5] = [
    ("1.0", "OpenFlow10"),
    ("1.3", "OpenFlow13"),
    ("1.0,1.3", "OpenFlow10,OpenFlow13"),
    ("1.4,1.5", "OpenFlow14,OpenFlow15"),
    ("1.0-1.5", "OpenFlow10,OpenFlow11,OpenFlow12,OpenFlow13,OpenFlow14,OpenFlow15"),
];

fn ofctl_available() -> bool {
    test_support::installed("ovs-ofctl")
}

/// What happened in one session with `ovs-ofctl -O PROTOCOLS probe`.
struct Session {
    /// The version our rconn negotiated, if it did.
    negotiated: Option<u8>,
    /// Bytes our rconn wrote before closing (its HELLO_FAILED error).
    our_farewell: Option<Bytes>,
    /// Every message ovs-ofctl sent, in order.
    from_ofctl: Vec<Bytes>,
    final_state: State,
    last_error: Option<ConnError>,
    ofctl_ok: bool,
    ofctl_stderr: String,
}

/// The connection from `child`; ovs-ofctl's own `-t` timer ends it (and so this wait) if it never
/// connects.
fn accept(listener: &TcpListener, child: &mut Child) -> TcpStream {
    listener.set_nonblocking(true).unwrap();
    loop {
        match listener.accept() {
            Ok((s, _)) => return s,
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                if let Some(status) = child.try_wait().unwrap() {
                    panic!("ovs-ofctl exited ({status}) before connecting");
                }
                std::thread::yield_now();
            }
            Err(e) => panic!("accept: {e}"),
        }
    }
}

fn session(ours: VersionBitmap, ofctl_protocols: &str) -> Session {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut child = Command::new("ovs-ofctl")
        .args(["-t", "10", "-O", ofctl_protocols, "probe", &format!("tcp:127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn ovs-ofctl");
    let mut sock = accept(&listener, &mut child);
    sock.set_nonblocking(false).unwrap();
    sock.set_read_timeout(Some(Duration::from_millis(20))).unwrap();

    let start = std::time::Instant::now();
    let now = || Instant::from_millis(start.elapsed().as_millis() as u64);
    let mut rc = Rconn::new(RconnConfig { allowed_versions: ours, ..RconnConfig::default() }, now());
    let peer = sock.peer_addr().unwrap();
    rc.connect_unreliably(now(), &format!("tcp:{peer}"), None);

    let mut tap = Framer::new();
    let mut s = Session {
        negotiated: None,
        our_farewell: None,
        from_ofctl: vec![],
        final_state: State::Void,
        last_error: None,
        ofctl_ok: false,
        ofctl_stderr: String::new(),
    };
    let mut closed = false;
    let mut buf = [0u8; 4096];
    // Bounded by ovs-ofctl's `-t 10`: when it gives up, its socket closes and the loop ends.
    loop {
        while let Some(m) = rc.recv(now()) {
            if let Ok(OfpMsg { version, xid, body: Message::EchoRequest(payload), .. }) = m.msg.map(|b| *b) {
                let reply = OfpMsg::new(version, xid, Message::EchoReply(payload)).to_bytes();
                rc.send(now(), reply, None).unwrap();
            }
        }
        while let Some(out) = rc.poll_output() {
            if let Output::Close { unsent, .. } = out {
                sock.write_all(&unsent).unwrap();
                // Keep reading after our side is done, to see what ovs-ofctl says last.
                let _ = sock.shutdown(Shutdown::Write);
                s.our_farewell = Some(unsent);
                closed = true;
            }
        }
        while let Some(b) = rc.poll_transmit(now()) {
            sock.write_all(&b).unwrap();
        }
        if rc.is_connected() {
            s.negotiated = rc.version();
        }
        match sock.read(&mut buf) {
            Ok(0) => {
                if !closed {
                    rc.handle_eof(now());
                    continue;
                }
                break;
            }
            Ok(n) => {
                tap.push(&buf[..n]);
                while let Some(m) = tap.next_frame().unwrap() {
                    s.from_ofctl.push(m);
                }
                if !closed {
                    rc.handle_bytes(now(), &buf[..n]);
                }
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                if rc.poll_timeout().is_some_and(|t| t <= now()) {
                    rc.handle_timeout(now());
                }
            }
            Err(e) if e.kind() == ErrorKind::ConnectionReset && closed => break,
            Err(e) => panic!("read: {e}"),
        }
    }
    let out = child.wait_with_output().unwrap();
    s.ofctl_ok = out.status.success();
    s.ofctl_stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    s.final_state = rc.state();
    s.last_error = rc.last_error();
    s
}

/// The hello, and if negotiation fails the HELLO_FAILED error, that a side allowing `allowed`
/// sends after receiving `peer_hello`.
fn what_we_would_send(allowed: VersionBitmap, peer_hello: &[u8]) -> Vec<Bytes> {
    let mut v = Vconn::accepted("model".into(), allowed, 1);
    v.handle_bytes(peer_hello);
    std::iter::from_fn(|| v.poll_transmit()).collect()
}

#[test]
fn ofctl_probe_over_openflow13() {
    if !ofctl_available() {
        return;
    }
    let s = session(VersionBitmap::DEFAULT, "OpenFlow13");
    assert!(s.ofctl_ok, "ovs-ofctl probe failed: {}", s.ofctl_stderr);
    assert_eq!(s.negotiated, Some(4));
    // ovs-ofctl's hello for {1.3} is exactly what our Vconn sends for that set.
    let ofctl_hello = &s.from_ofctl[0];
    assert_eq!(hex(ofctl_hello), "04000010000000010001000800000010");
    assert_eq!(what_we_would_send(parse_versions("1.3"), &[6, 0, 0, 8, 0, 0, 0, 0])[0], ofctl_hello);
    // Then its echo request in OF1.3, answered by us; then it hangs up.
    assert_eq!(
        describe(&s.from_ofctl[1]),
        format!(
            "OFPT_ECHO_REQUEST (OF1.3) (xid=0x{:x}): 0 bytes of payload",
            ofp_proto::header::xid_of(&s.from_ofctl[1])
        )
    );
    assert_eq!(s.from_ofctl.len(), 2);
    assert_eq!((s.final_state, s.last_error), (State::Disconnected, Some(ConnError::Eof)));
}

#[test]
fn every_pair_of_allowed_sets_against_ofctl() {
    if !ofctl_available() {
        return;
    }
    for (ours, _) in SETS {
        for (theirs, protocols) in SETS {
            let (o, t) = (parse_versions(ours), parse_versions(theirs));
            let s = session(o, protocols);
            let ctx = format!("ours {{{ours}}} ovs-ofctl {{{theirs}}}: {}", s.ofctl_stderr);
            let ofctl_hello = &s.from_ofctl[0];
            let our_hello = what_we_would_send(o, ofctl_hello).remove(0);
            // ovs-ofctl's hello is byte for byte the one we send for the same set.
            assert_eq!(what_we_would_send(t, &our_hello)[0], ofctl_hello, "{ctx}");
            match o.intersect(t).highest() {
                Some(v) => {
                    assert!(s.ofctl_ok, "{ctx}");
                    assert_eq!(s.negotiated, Some(v), "{ctx}");
                }
                None => {
                    assert!(!s.ofctl_ok, "{ctx}");
                    assert_eq!(s.negotiated, None, "{ctx}");
                    assert_eq!(s.last_error, Some(ConnError::PROTOCOL), "{ctx}");
                    // Our HELLO_FAILED is what our model predicts …
                    let ours_err = &what_we_would_send(o, ofctl_hello)[1];
                    assert_eq!(s.our_farewell.as_ref(), Some(ours_err), "{ctx}");
                    // … and ovs-ofctl's own HELLO_FAILED to us, built by OVS's code, is byte for byte
                    // what our Vconn sends in its place: same version, xid, code and wording.
                    let theirs_err = &what_we_would_send(t, &our_hello)[1];
                    assert_eq!(s.from_ofctl.get(1), Some(theirs_err), "{ctx}\n{}", describe(theirs_err));
                    assert!(s.ofctl_stderr.contains("Protocol error"), "{ctx}");
                }
            }
        }
    }
}

/// A daemon this test started, ended by its pid when the test is done (or fails).
struct Daemon(String);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = Command::new("kill").arg(&self.0).status();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Opens the transport an `Output::Connect` asks for, as a shell would: a refusal on loopback is
/// immediate, which OVS reports as a failed open.
fn open(rc: &mut Rconn, now: Instant, target: &str) -> Option<TcpStream> {
    let addr = target.strip_prefix("tcp:").unwrap();
    match TcpStream::connect(addr) {
        Ok(s) => {
            s.set_read_timeout(Some(Duration::from_millis(20))).unwrap();
            rc.handle_connected(now);
            Some(s)
        }
        Err(e) => {
            rc.handle_open_failed(now, ConnError::from_io(&e));
            None
        }
    }
}

#[test]
fn reliable_connection_to_ovs_testcontroller() {
    if !test_support::installed("ovs-testcontroller") {
        return;
    }
    let port = free_port();
    let target = format!("tcp:127.0.0.1:{port}");
    let start = std::time::Instant::now();
    let now = || Instant::from_millis(start.elapsed().as_millis() as u64);
    let mut rc = Rconn::new(RconnConfig::default(), now());

    // Nobody listens yet: a real ECONNREFUSED, logged and backed off as OVS does.
    rc.connect(now(), &target, None);
    assert!(matches!(rc.poll_output(), Some(Output::Connect { .. })));
    assert!(open(&mut rc, now(), &target).is_none());
    assert_eq!(
        (rc.state(), rc.last_error(), rc.backoff()),
        (State::Backoff, Some(ConnError::CONNECTION_REFUSED), 1000)
    );

    // Start the controller (`--detach` returns once it listens) and connect again at once.
    let dir = std::env::temp_dir().join(format!("rconn-interop-{}-{port}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let pidfile = dir.join("tc.pid");
    let status = Command::new("ovs-testcontroller")
        .env("OVS_RUNDIR", &dir)
        .arg("--detach")
        .arg("--no-chdir")
        .arg(format!("--pidfile={}", pidfile.display()))
        .arg(format!("--log-file={}", dir.join("tc.log").display()))
        .args(["-O", "OpenFlow13", &format!("ptcp:{port}:127.0.0.1")])
        .status()
        .unwrap();
    assert!(status.success(), "ovs-testcontroller did not start");
    let controller = Daemon(std::fs::read_to_string(&pidfile).unwrap().trim().to_string());

    rc.connect(now(), &target, None);
    let mut sock = None;
    let mut tap = Framer::new();
    let mut from_controller = vec![];
    let mut echo_sent = false;
    let mut echo_answered = false;
    let mut buf = [0u8; 4096];
    while !echo_answered && start.elapsed() < Duration::from_secs(10) {
        while let Some(o) = rc.poll_output() {
            if let Output::Connect { target, .. } = o {
                sock = open(&mut rc, now(), &target);
            }
        }
        let s = sock.as_mut().expect("connected");
        while let Some(b) = rc.poll_transmit(now()) {
            s.write_all(&b).unwrap();
        }
        while let Some(m) = rc.recv(now()) {
            match m.msg.map(|b| *b) {
                Ok(OfpMsg { xid: 0x7777, body: Message::EchoReply(_), .. }) => echo_answered = true,
                Ok(OfpMsg { version, xid, body: Message::EchoRequest(p), .. }) => {
                    rc.send(now(), OfpMsg::new(version, xid, Message::EchoReply(p)).to_bytes(), None).unwrap();
                }
                _ => {}
            }
        }
        if rc.state() == State::Active && !echo_sent {
            // Once connected, ask the controller for an echo of our own.
            rc.send(now(), OfpMsg::new(4, 0x7777, Message::EchoRequest(Bytes::from_static(b"hi"))).to_bytes(), None)
                .unwrap();
            echo_sent = true;
            continue;
        }
        match s.read(&mut buf) {
            Ok(0) => panic!("controller closed the connection"),
            Ok(n) => {
                tap.push(&buf[..n]);
                while let Some(m) = tap.next_frame().unwrap() {
                    from_controller.push(m);
                }
                rc.handle_bytes(now(), &buf[..n]);
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => rc.handle_timeout(now()),
            Err(e) => panic!("read: {e}"),
        }
    }
    drop(controller);
    assert!(
        echo_answered,
        "no echo reply; controller sent {:?}",
        from_controller.iter().map(|m| describe(m)).collect::<Vec<_>>()
    );
    assert_eq!(rc.version(), Some(4));
    // The controller's hello is an OVS vconn's: OF1.3 with a bitmap element, numbered by its own counter.
    let hello = &from_controller[0];
    assert_eq!((hex(&hello[..4]), hex(&hello[8..])), ("04000010".to_string(), "0001000800000010".to_string()));
    assert_eq!((rc.n_attempted_connections(), rc.n_successful_connections()), (2, 1));

    // The controller is gone: the next read ends the connection. `connect` had restarted the backoff,
    // so the drop leaves it at 1 s.
    let s = sock.as_mut().unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    loop {
        match s.read(&mut buf) {
            Ok(0) => {
                rc.handle_eof(now());
                break;
            }
            Ok(n) => rc.handle_bytes(now(), &buf[..n]),
            Err(e) => {
                rc.handle_error(now(), ConnError::from_io(&e));
                break;
            }
        }
    }
    while rc.recv(now()).is_some() {}
    assert_eq!(rc.state(), State::Backoff);
    assert_eq!(rc.backoff(), 1000);
    assert!(matches!(rc.poll_output(), Some(Output::Close { .. })));
    let _ = std::fs::remove_dir_all(&dir);
}
