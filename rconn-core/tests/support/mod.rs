//! Test support: a thread-local log capture, a timeline interpreter in the style of OVS
//! `tests/reconnect.at`, and golden-file comparison (set `GOLDEN_REGEN=1` to rewrite the files).
#![allow(dead_code, unused_imports)]

use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::PathBuf;
use std::time::Duration;

use bytes::Bytes;
use ofp_proto::msg::Hello;
use ofp_proto::msg::PacketIn;
use ofp_proto::print::{ofp_to_string, parse_hex};
use ofp_proto::{Instant, Message, OfpMsg, VersionBitmap};
use rconn_core::{ConnError, CounterId, Event, MonitorId, Output, PacketCount, Rconn, RconnConfig};

pub use test_support::{capture_logs, take_logs};

pub fn golden_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden").join(format!("{name}.txt"))
}

/// Compares `actual` with the checked-in golden file, or rewrites it under `GOLDEN_REGEN=1`.
#[allow(clippy::disallowed_methods)] // test support, not a core: golden files live on disk
pub fn check_golden(name: &str, actual: &str) {
    let path = golden_path(name);
    if std::env::var_os("GOLDEN_REGEN").is_some() {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    if expected != actual {
        let line = expected.lines().zip(actual.lines()).position(|(a, b)| a != b);
        let line = line.unwrap_or_else(|| expected.lines().count().min(actual.lines().count()));
        panic!(
            "{} differs from the transcript at line {}:\n  golden: {:?}\n  actual: {:?}\n--- full transcript ---\n{actual}",
            path.display(),
            line + 1,
            expected.lines().nth(line),
            actual.lines().nth(line)
        );
    }
}

pub fn hex(b: &[u8]) -> String {
    b.iter().map(|b| format!("{b:02x}")).collect()
}

/// `ovs-ofctl ofp-print`-style text of a message on one line.
pub fn describe(b: &[u8]) -> String {
    ofp_to_string(b, 1).trim_end().replace('\n', " | ")
}

pub fn parse_error(s: &str) -> ConnError {
    match s {
        "EOF" => ConnError::Eof,
        "EPROTO" => ConnError::PROTOCOL,
        "ECONNRESET" => ConnError::CONNECTION_RESET,
        "ETIMEDOUT" => ConnError::TIMED_OUT,
        "ECONNREFUSED" => ConnError::CONNECTION_REFUSED,
        "EHOSTUNREACH" => ConnError::Os(113),
        _ => panic!("unknown error name {s}"),
    }
}

/// Parses "1.0,1.3" or "1.0-1.5" into a version bitmap.
pub fn parse_versions(s: &str) -> VersionBitmap {
    let wire = |v: &str| -> u32 { v.strip_prefix("1.").and_then(|m| m.parse::<u32>().ok()).expect("1.x") + 1 };
    let mut bits = 0;
    for part in s.split(',') {
        match part.split_once('-') {
            Some((a, b)) => (wire(a)..=wire(b)).for_each(|v| bits |= 1 << v),
            None => bits |= 1 << wire(part),
        }
    }
    VersionBitmap(bits)
}

fn parse_time(s: &str) -> Instant {
    let (secs, ms) = s.split_once('.').unwrap_or((s, "0"));
    Instant::from_millis(secs.parse::<u64>().unwrap() * 1000 + format!("{ms:0<3}").parse::<u64>().unwrap())
}

fn parse_u32(s: &str) -> u32 {
    match s.strip_prefix("0x") {
        Some(h) => u32::from_str_radix(h, 16).unwrap(),
        None => s.parse().unwrap(),
    }
}

/// A message the peer sends, named as in the timelines: `hello V [bitmap=0x..]`, `echo-request V`,
/// `echo-reply V`, `barrier-request V`, `features-request V`, `hex HEX`.
pub fn peer_message(args: &[&str]) -> Bytes {
    let version = || args.get(1).map(|v| parse_u32(v) as u8).expect("version");
    let body = match args[0] {
        "hex" => return Bytes::from(parse_hex(&args[1..].concat()).expect("hex")),
        "hello" => {
            let bitmap = args.iter().find_map(|a| a.strip_prefix("bitmap=")).map(parse_u32);
            let h = match bitmap {
                Some(b) => Hello { has_bitmap: true, ..Hello::new(VersionBitmap(b)) },
                None => Hello::new(VersionBitmap::up_to(version())),
            };
            let msg = OfpMsg { version: version(), ..OfpMsg::new(1, 0, Message::Hello(h)) };
            return msg.to_bytes();
        }
        "echo-request" => Message::EchoRequest(Bytes::new()),
        "echo-reply" => Message::EchoReply(Bytes::new()),
        "barrier-request" => Message::BarrierRequest,
        "features-request" => Message::FeaturesRequest,
        other => panic!("unknown peer message {other}"),
    };
    let xid = args.get(2).map_or(0, |x| parse_u32(x));
    OfpMsg::new(version(), xid, body).to_bytes()
}

/// Runs a timeline against an `Rconn` and renders its transcript.
///
/// A timeline has `#` comments, one `config key=value…` line, and inputs `TIME COMMAND ARGS…`; after
/// each input the transcript lists (indented) the log lines, state changes, outputs, bytes transmitted,
/// messages received, counters, and the next deadline. Transmits and receives are drained at the same
/// instant unless `block` / `recv-off` hold them back.
pub struct Timeline {
    rc: Option<Rconn>,
    now: Instant,
    /// Counter names in the timeline, numbered in order of appearance.
    counters: BTreeMap<String, CounterId>,
    transmit: bool,
    receive: bool,
    notes: Vec<String>,
}

impl Timeline {
    /// Runs the inputs found in `script` (which may already contain a transcript) and returns the
    /// script with a fresh transcript.
    pub fn run(script: &str) -> String {
        capture_logs();
        let mut t = Timeline {
            rc: None,
            now: Instant::ZERO,
            counters: BTreeMap::new(),
            transmit: true,
            receive: true,
            notes: vec![],
        };
        let mut out = String::new();
        for line in script.lines() {
            if line.starts_with(' ') {
                continue;
            }
            out.push_str(line);
            out.push('\n');
            if line.starts_with("config") {
                t.configure(line);
            } else if line.starts_with(|c: char| c.is_ascii_digit()) {
                let words: Vec<&str> = line.split_whitespace().collect();
                t.now = parse_time(words[0]);
                t.input(&words[1..]);
                t.render(&mut out);
            }
        }
        out
    }

    fn configure(&mut self, line: &str) {
        let mut cfg = RconnConfig::default();
        for kv in line.split_whitespace().skip(1) {
            let (k, v) = kv.split_once('=').expect("key=value");
            match k {
                "probe_interval" => cfg.probe_interval = v.parse().unwrap(),
                "max_backoff" => cfg.max_backoff = v.parse().unwrap(),
                "dscp" => cfg.dscp = v.parse().unwrap(),
                "allowed" => cfg.allowed_versions = parse_versions(v),
                "start" => self.now = parse_time(v),
                _ => panic!("unknown config {k}"),
            }
        }
        self.rc = Some(Rconn::new(cfg, self.now));
        take_logs();
    }

    fn rc(&mut self) -> &mut Rconn {
        self.rc.as_mut().expect("config line first")
    }

    fn input(&mut self, w: &[&str]) {
        let now = self.now;
        match w[0] {
            "connect" => self.rc().connect(now, w[1], w.get(2).copied()),
            "accept" => self.rc().connect_unreliably(now, w[1], w.get(2).copied()),
            "connected" => self.rc().handle_connected(now),
            "open-failed" => self.rc().handle_open_failed(now, parse_error(w[1])),
            "error" => self.rc().handle_error(now, parse_error(w[1])),
            "eof" => self.rc().handle_eof(now),
            "run" => self.rc().handle_timeout(now),
            "peer" => {
                let msg = peer_message(&w[1..]);
                self.rc().handle_bytes(now, &msg);
            }
            "send" => self.send(&w[1..]),
            "block" => self.transmit = false,
            "unblock" => self.transmit = true,
            "recv-off" => self.receive = false,
            "recv-on" => self.receive = true,
            "set-max-backoff" => self.rc().set_max_backoff(now, w[1].parse().unwrap()),
            "set-probe-interval" => self.rc().set_probe_interval(w[1].parse().unwrap()),
            "disconnect" => self.rc().disconnect(now),
            "reconnect" => self.rc().reconnect(now),
            "add-monitor" => {
                let r = self.rc().add_monitor(MonitorId(w[1].parse().unwrap()), w[2]);
                self.notes.push(format!("add-monitor {}", if r.is_ok() { "ok" } else { "refused" }));
            }
            "status" => {
                let rc = self.rc();
                let t = |i: Option<Instant>| i.map_or("never".to_string(), |i| i.to_string());
                let note = format!(
                    "status {} seqno={} version={} admitted={} failure_duration={} last_connection={} \
                     last_disconnect={} last_error={} attempts={} successes={} connected_for={} backoff={}",
                    rc.state(),
                    rc.connection_seqno(),
                    rc.version().map_or("none".into(), |v| format!("0x{v:02x}")),
                    rc.is_admitted(),
                    rc.failure_duration(now),
                    t(rc.last_connection()),
                    t(rc.last_disconnect()),
                    rc.last_error().map_or("none".into(), |e| e.to_string()),
                    rc.n_attempted_connections(),
                    rc.n_successful_connections(),
                    fmt_dur(rc.total_time_connected(now)),
                    rc.backoff(),
                );
                self.notes.push(note);
            }
            "config?" => {
                let rc = self.rc();
                let note = format!(
                    "name={} target={} reliable={} alive={} probe_interval={} max_backoff={} dscp={}",
                    rc.name(),
                    rc.target(),
                    rc.is_reliable(),
                    rc.is_alive(),
                    rc.probe_interval(),
                    rc.max_backoff(),
                    rc.dscp()
                );
                self.notes.push(note);
            }
            "remove-monitor" => {
                let _ = self.rc().remove_monitor(MonitorId(w[1].parse().unwrap()), ConnError::Eof);
            }
            other => panic!("unknown input {other}"),
        }
    }

    /// `send [counter=NAME] [limit=N] MESSAGE`: MESSAGE is `barrier-reply`, `packet-in` (a 60-byte
    /// stand-in) or `hex HEX`, in the negotiated version.
    fn send(&mut self, w: &[&str]) {
        let now = self.now;
        let mut counter = None;
        let mut limit = None;
        let mut rest = w;
        while let Some((first, tail)) = rest.split_first() {
            if let Some(c) = first.strip_prefix("counter=") {
                let next = CounterId::nth(self.counters.len() as u8);
                counter = Some(*self.counters.entry(c.to_string()).or_insert(next));
            } else if let Some(l) = first.strip_prefix("limit=") {
                limit = Some(l.parse::<u32>().unwrap());
            } else {
                break;
            }
            rest = tail;
        }
        let version = self.rc().version().unwrap_or(1);
        let msg = match rest[0] {
            "barrier-reply" => OfpMsg::new(version, 0, Message::BarrierReply).to_bytes(),
            "packet-in" => {
                // A table-miss packet-in whose 26-byte packet makes the OF1.3 message 60 bytes long.
                let data = Bytes::from_static(&[0x5a; 26]);
                let pin = PacketIn { total_len: 26, data, ..PacketIn::default() };
                OfpMsg::new(version, 0, Message::PacketIn(pin)).to_bytes()
            }
            "hex" => Bytes::from(parse_hex(&rest[1..].concat()).expect("hex")),
            other => panic!("unknown message {other}"),
        };
        let r = match (limit, counter) {
            (Some(l), Some(c)) => self.rc().send_with_limit(now, msg, c, l),
            _ => self.rc().send(now, msg, counter),
        };
        if let Err(e) = r {
            self.notes.push(format!("send refused: {e:?}"));
        }
    }

    /// The transcript lines for one input: its effects, then each message received and the effects of
    /// receiving, then the bytes transmitted, the counters and the next deadline.
    fn render(&mut self, out: &mut String) {
        let now = self.now;
        let mut lines = Vec::new();
        let rc = self.rc.as_mut().expect("config line first");
        effects(rc, &mut lines);
        lines.append(&mut self.notes);
        if self.receive {
            while let Some(m) = rc.recv(now) {
                lines.push(match m.error_reply() {
                    Some(reply) => format!("recv {} -> error reply {}", describe(&m.bytes), hex(&reply)),
                    None => format!("recv {}", describe(&m.bytes)),
                });
                effects(rc, &mut lines);
            }
            effects(rc, &mut lines);
        }
        if self.transmit {
            while let Some(b) = rc.poll_transmit(now) {
                lines.push(format!("tx {}\n      = {}", hex(&b), describe(&b)));
            }
        }
        for (name, c) in &self.counters {
            let PacketCount { n_packets, n_bytes } = rc.queued(*c);
            lines.push(format!("counter {name}: {n_packets} packets, {n_bytes} bytes"));
        }
        if rc.txq_len() > 0 {
            lines.push(format!("queued {}", rc.txq_len()));
        }
        lines.push(match rc.poll_timeout() {
            Some(t) => format!("next {t} ({} in {})", rc.state(), fmt_dur(t - rc.state_entered())),
            None => format!("next never ({})", rc.state()),
        });
        for l in lines {
            let _ = writeln!(out, "    {l}");
        }
    }
}

/// Log lines (but "entering STATE", which the state lines show), state changes and outputs so far.
fn effects(rc: &mut Rconn, lines: &mut Vec<String>) {
    for l in take_logs() {
        if !l.contains(": entering ") {
            lines.push(format!("log {}", l.replace('\n', "\n        ")));
        }
    }
    while let Some(Event::StateChanged { from, to }) = rc.poll_event() {
        lines.push(format!("state {from} -> {to} (seqno {})", rc.connection_seqno()));
    }
    while let Some(o) = rc.poll_output() {
        lines.push(match o {
            Output::Connect { target, dscp } => format!("> connect {target} dscp={dscp}"),
            Output::Close { error, unsent } if unsent.is_empty() => {
                format!("> close ({})", error.map_or("requested".to_string(), |e| e.to_string()))
            }
            Output::Close { error, unsent } => format!(
                "> close ({}) after writing {}\n      = {}",
                error.map_or("requested".to_string(), |e| e.to_string()),
                hex(&unsent),
                describe(&unsent)
            ),
            Output::MonitorCopy { id, msg } => format!("> monitor {} {}", id.0, hex(&msg)),
        });
    }
}

fn fmt_dur(d: Duration) -> String {
    format!("{}.{:03}", d.as_secs(), d.subsec_millis())
}
