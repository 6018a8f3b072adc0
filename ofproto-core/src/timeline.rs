//! Timelines: the line format `ofsim` scenarios are written in, and records of every input a switch
//! received (`ofagent run --record`, `ofsim replay`), parsed and written here so both binaries share
//! it without depending on each other.
//!
//! # Lines
//!
//! `TIME WORD...`: the time in seconds with up to three decimals (`12.500`), never earlier than the
//! line before, then words separated by blanks. A word starting with `#` starts a comment that runs
//! to the end of the line; blank lines are ignored. `key=value` words are options ([`Opts`]).
//! Durations are written `250ms`, `30s`, `1.5s`, `2m` or `1h` ([`parse_duration`]). Every error
//! names its line ([`LineError`]).
//!
//! # Records
//!
//! A [`Record`] is the switch's construction ([`Setup`], `setup` lines) followed by one line per
//! input in the order the switch received them ([`Input`]: what `io_shell::core::Input` carries),
//! each optionally followed by what it returned (`->` lines, [`Fed`]) and by the outputs drained
//! after it (`out` lines, [`Recorded`]):
//!
//! ```text
//! 0.000 setup bridge=br0 datapath_id=0000000000000001 n_ports=4 fail_mode=secure bundle_idle_timeout=0 seed=1 …
//! 0.000 setup controller tcp:10.0.0.1:6653 max_backoff=8 probe_interval=5
//! 0.000 out connect 1 tcp:10.0.0.1:6653 dscp=48
//! 0.031 connected 1
//! 0.031 transmit 1
//! 0.031 -> transmitted 0600000800000001
//! 0.062 bytes 1 0400000800000002
//! 0.062 timeout
//! 0.500 frame 1 ffffffffffff0000000000010800…
//! 0.500 -> frame ok
//! ```
//!
//! Replaying means building the switch from the setup and feeding it the inputs at their times;
//! with the same code it returns the same results and drains the same outputs.

use std::fmt::{self, Write as _};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use connmgr_core::{ConnId, ConnType, ControllerSettings, FailMode, Output};
use ofp_proto::{Instant, Version, VersionBitmap};
use rconn_core::ConnError;

// ----- lines -----

/// A line that could not be understood, by number (1-based).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineError {
    pub line: usize,
    pub message: String,
}

impl LineError {
    pub fn new(line: usize, message: impl Into<String>) -> LineError {
        LineError { line, message: message.into() }
    }
}

impl fmt::Display for LineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for LineError {}

/// One meaningful line: its number, its time and its words (comments removed).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line<'a> {
    pub number: usize,
    pub time: Instant,
    pub words: Vec<&'a str>,
}

impl<'a> Line<'a> {
    /// An error about this line.
    pub fn error(&self, message: impl Into<String>) -> LineError {
        LineError::new(self.number, message)
    }

    /// Word `i`, or an error saying what was expected there.
    pub fn word(&self, i: usize, what: &str) -> Result<&'a str, LineError> {
        self.words.get(i).copied().ok_or_else(|| self.error(format!("missing {what}")))
    }
}

/// Splits `text` into lines, dropping comments and blank lines, and reads each line's time.
pub fn lines(text: &str) -> Result<Vec<Line<'_>>, LineError> {
    let mut out: Vec<Line<'_>> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let number = i + 1;
        let words: Vec<&str> = raw.split_whitespace().take_while(|w| !w.starts_with('#')).collect();
        let Some((&first, rest)) = words.split_first() else { continue };
        let time = parse_time(first).map_err(|e| LineError::new(number, e))?;
        if let Some(prev) = out.last().filter(|p| p.time > time) {
            return Err(LineError::new(
                number,
                format!("time {time} is earlier than {} on line {}", prev.time, prev.number),
            ));
        }
        if rest.is_empty() {
            return Err(LineError::new(number, "nothing after the time"));
        }
        out.push(Line { number, time, words: rest.to_vec() });
    }
    Ok(out)
}

/// Seconds with up to three decimals: `12`, `12.5`, `12.500`.
pub fn parse_time(s: &str) -> Result<Instant, String> {
    parse_millis(s, 1000).map(Instant::from_millis).ok_or_else(|| format!("bad time `{s}` (seconds, e.g. 12.500)"))
}

/// `ms`, `s`, `m` or `h` after a number; `s` may have up to three decimals. `0` needs no unit.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let bad = || format!("bad duration `{s}` (e.g. 250ms, 30s, 1.5s, 2m, 1h)");
    let ms = if s == "0" {
        Some(0)
    } else if let Some(n) = s.strip_suffix("ms") {
        n.parse::<u64>().ok()
    } else if let Some(n) = s.strip_suffix('s') {
        parse_millis(n, 1000)
    } else if let Some(n) = s.strip_suffix('m') {
        n.parse::<u64>().ok().and_then(|n| n.checked_mul(60_000))
    } else if let Some(n) = s.strip_suffix('h') {
        n.parse::<u64>().ok().and_then(|n| n.checked_mul(3_600_000))
    } else {
        None
    };
    ms.map(Duration::from_millis).ok_or_else(bad)
}

/// The shortest spelling [`parse_duration`] reads back.
pub fn format_duration(d: Duration) -> String {
    let ms = d.as_millis();
    match ms {
        0 => "0".into(),
        _ if ms.is_multiple_of(3_600_000) => format!("{}h", ms / 3_600_000),
        _ if ms.is_multiple_of(60_000) => format!("{}m", ms / 60_000),
        _ if ms.is_multiple_of(1000) => format!("{}s", ms / 1000),
        _ if ms < 1000 => format!("{ms}ms"),
        _ => {
            let frac = format!("{:03}", ms % 1000);
            format!("{}.{}s", ms / 1000, frac.trim_end_matches('0'))
        }
    }
}

/// `whole[.fraction]` scaled by `unit` (1000: up to three decimals), no sign, no exponent.
fn parse_millis(s: &str, unit: u64) -> Option<u64> {
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) || frac.len() > 3 {
        return None;
    }
    if !frac.bytes().all(|b| b.is_ascii_digit()) || (s.contains('.') && frac.is_empty()) {
        return None;
    }
    let mut f: u64 = if frac.is_empty() { 0 } else { frac.parse().ok()? };
    for _ in frac.len()..3 {
        f *= 10;
    }
    whole.parse::<u64>().ok()?.checked_mul(unit)?.checked_add(f * unit / 1000)
}

/// The `key=value` words of a line, taken one by one; whatever is left at the end is an error.
#[derive(Debug)]
pub struct Opts<'a> {
    line: usize,
    pairs: Vec<(&'a str, &'a str)>,
}

impl<'a> Opts<'a> {
    /// Splits the words of `line` from index `from` into plain words and options. A key given twice
    /// is an error.
    pub fn split(line: &Line<'a>, from: usize) -> Result<(Vec<&'a str>, Opts<'a>), LineError> {
        let mut plain = Vec::new();
        let mut pairs: Vec<(&str, &str)> = Vec::new();
        for w in line.words.iter().skip(from) {
            match w.split_once('=') {
                Some((k, _)) if pairs.iter().any(|(x, _)| *x == k) => {
                    return Err(line.error(format!("option `{k}` given twice")));
                }
                Some((k, v)) if !k.is_empty() => pairs.push((k, v)),
                _ => plain.push(*w),
            }
        }
        Ok((plain, Opts { line: line.number, pairs }))
    }

    /// Takes option `key`, parsed with `parse`; `None` if absent.
    pub fn take<T>(
        &mut self,
        key: &str,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Result<Option<T>, LineError> {
        let Some(i) = self.pairs.iter().position(|(k, _)| *k == key) else { return Ok(None) };
        let (_, v) = self.pairs.remove(i);
        parse(v).map(Some).map_err(|e| LineError::new(self.line, format!("{key}: {e}")))
    }

    /// Takes option `key` as a number (decimal, or hex after `0x`).
    pub fn number<T: TryFrom<u64>>(&mut self, key: &str) -> Result<Option<T>, LineError> {
        self.take(key, |v| parse_number(v).and_then(|n| T::try_from(n).map_err(|_| format!("{n} is out of range"))))
    }

    /// Fails on the first option nobody took.
    pub fn finish(self) -> Result<(), LineError> {
        match self.pairs.first() {
            Some((k, _)) => Err(LineError::new(self.line, format!("unknown option `{k}`"))),
            None => Ok(()),
        }
    }
}

/// A decimal number, or hexadecimal after `0x`.
pub fn parse_number(s: &str) -> Result<u64, String> {
    let r = match s.strip_prefix("0x") {
        Some(h) => u64::from_str_radix(h, 16),
        None => s.parse(),
    };
    r.map_err(|_| format!("bad number `{s}`"))
}

/// `on`/`off` (also `true`/`false`, `yes`/`no`).
pub fn parse_bool(s: &str) -> Result<bool, String> {
    match s {
        "on" | "true" | "yes" => Ok(true),
        "off" | "false" | "no" => Ok(false),
        _ => Err(format!("`{s}` is not on or off")),
    }
}

/// Versions as OVS's `protocols` column spells them (`OpenFlow10,OpenFlow13`), or as `1.0,1.3`.
pub fn parse_versions(s: &str) -> Result<VersionBitmap, String> {
    let mut vs = Vec::new();
    for name in s.split(',') {
        let v = Version::ALL
            .into_iter()
            .find(|v| v.ovs_name() == name || format!("1.{}", v.wire() - 1) == name)
            .ok_or_else(|| format!("unknown version `{name}` (OpenFlow10..OpenFlow15 or 1.0..1.5)"))?;
        vs.push(v);
    }
    Ok(VersionBitmap::from_versions(vs))
}

/// The spelling [`parse_versions`] reads: OVS's names, lowest first.
pub fn format_versions(b: VersionBitmap) -> String {
    let names: Vec<&str> = b.iter().filter_map(Version::from_wire).map(Version::ovs_name).collect();
    names.join(",")
}

/// Lowercase hex digits, no separators.
pub fn hex(data: &[u8]) -> String {
    let mut s = String::with_capacity(data.len() * 2);
    for b in data {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// Hex digits (either case) into bytes.
pub fn parse_hex(s: &str) -> Result<Bytes, String> {
    ofp_proto::print::parse_hex(s).map(Bytes::from).ok_or_else(|| "bad hex bytes".to_string())
}

/// Text as one word: `%XX` for blanks, `%`, `=`, `#` and control characters.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_whitespace() || c.is_control() || matches!(c, '%' | '=' | '#') {
            let mut buf = [0; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                let _ = write!(out, "%{b:02X}");
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The text [`escape`] wrote.
pub fn unescape(s: &str) -> Result<String, String> {
    let mut bytes = Vec::with_capacity(s.len());
    let mut it = s.bytes();
    while let Some(b) = it.next() {
        if b == b'%' {
            let hex = [it.next().unwrap_or(b'x'), it.next().unwrap_or(b'x')];
            let v = std::str::from_utf8(&hex).ok().and_then(|h| u8::from_str_radix(h, 16).ok());
            bytes.push(v.ok_or_else(|| format!("bad escape in `{s}`"))?);
        } else {
            bytes.push(b);
        }
    }
    String::from_utf8(bytes).map_err(|_| format!("`{s}` is not UTF-8"))
}

/// A transport error: `eof`, or an errno (Linux numbering).
pub fn parse_conn_error(s: &str) -> Result<ConnError, String> {
    match s {
        "eof" => Ok(ConnError::Eof),
        _ => s.parse().map(ConnError::Os).map_err(|_| format!("bad error `{s}` (eof or an errno)")),
    }
}

/// The spelling [`parse_conn_error`] reads.
pub fn format_conn_error(e: ConnError) -> String {
    match e {
        ConnError::Eof => "eof".into(),
        ConnError::Os(n) => n.to_string(),
    }
}

fn parse_conn(s: &str) -> Result<ConnId, String> {
    s.parse().map(ConnId).map_err(|_| format!("bad connection id `{s}`"))
}

// ----- records -----

/// How the switch was built: the switch's configuration, written as `setup` lines.
pub type Setup = crate::switch::Config;

/// One input to the switch (the variants of `io_shell::core::Input`, owning their data).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    Accept {
        listener: String,
        peer: String,
    },
    ListenError {
        target: String,
        err: ConnError,
    },
    Connected(ConnId),
    OpenFailed(ConnId, ConnError),
    Error(ConnId, ConnError),
    Bytes(ConnId, Bytes),
    Eof(ConnId),
    /// A `poll_transmit` (it changes the switch: a reply leaving may let reading resume).
    Transmit(ConnId),
    Timeout,
    Frame {
        port: u32,
        frame: Bytes,
    },
    Reconnect,
}

/// What an input returned, when it returns something (`io_shell::core::Fed`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fed {
    Accepted(Option<ConnId>),
    Transmit(Option<Bytes>),
    Frame(Result<(), String>),
}

/// Something drained from the switch after an input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Recorded {
    /// From `poll_output`.
    Output(Output),
    /// A frame the datapath sent out of `port`.
    PacketOut { port: u32, frame: Bytes },
}

/// One input with what came back from it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    /// Where the input is in the record.
    pub line: usize,
    pub time: Instant,
    pub input: Input,
    /// `None` if the record does not say (or the input returns nothing).
    pub fed: Option<Fed>,
    pub outputs: Vec<Recorded>,
}

/// A switch's whole run: its setup and its inputs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// When the switch was built.
    pub start: Instant,
    pub setup: Setup,
    /// Outputs drained right after the switch was built (before any input).
    pub initial_outputs: Vec<Recorded>,
    pub steps: Vec<Step>,
}

/// One line of a record, for writing: `writeln!(w, "{}", Entry::Input(now, &input))`.
#[derive(Clone, Copy, Debug)]
pub enum Entry<'a> {
    /// Every `setup` line.
    Setup(Instant, &'a Setup),
    Input(Instant, &'a Input),
    Fed(Instant, &'a Fed),
    Recorded(Instant, &'a Recorded),
}

impl fmt::Display for Entry<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Entry::Setup(t, s) => write_setup(f, t, s),
            Entry::Input(t, i) => write!(f, "{t} {i}"),
            Entry::Fed(t, r) => write!(f, "{t} -> {r}"),
            Entry::Recorded(t, r) => write!(f, "{t} out {r}"),
        }
    }
}

fn write_setup(f: &mut fmt::Formatter<'_>, t: Instant, s: &Setup) -> fmt::Result {
    let fail_mode = match s.fail_mode {
        FailMode::Secure => "secure",
        FailMode::Standalone => "standalone",
    };
    write!(
        f,
        "{t} setup bridge={} datapath_id={:016x} n_ports={} fail_mode={fail_mode} bundle_idle_timeout={} seed={} \
         datapath_delay_ms={} n_handlers={} dp_desc={} serial_num={}",
        escape(&s.bridge),
        s.datapath_id,
        s.n_ports,
        s.bundle_idle_timeout,
        s.seed,
        s.datapath_delay_ms,
        s.n_handlers,
        escape(&s.dp_desc),
        escape(&s.serial_num)
    )?;
    for (target, c) in &s.controllers {
        write!(f, "\n{t} setup controller {target}")?;
        if let Some(ct) = c.conn_type {
            write!(f, " type={}", ct.name())?;
        }
        write!(
            f,
            " max_backoff={} probe_interval={} async={} versions={} queue_size={} rate_limit={} burst_limit={} dscp={}",
            c.max_backoff,
            c.probe_interval,
            if c.enable_async_msgs { "on" } else { "off" },
            format_versions(c.allowed_versions),
            c.controller_queue_size,
            c.rate_limit,
            c.burst_limit,
            c.dscp
        )?;
    }
    for target in &s.snoops {
        write!(f, "\n{t} setup snoop {target}")?;
    }
    Ok(())
}

impl fmt::Display for Input {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Input::Accept { listener, peer } => write!(f, "accept {listener} {peer}"),
            Input::ListenError { target, err } => write!(f, "listen-error {target} {}", format_conn_error(*err)),
            Input::Connected(c) => write!(f, "connected {}", c.0),
            Input::OpenFailed(c, e) => write!(f, "open-failed {} {}", c.0, format_conn_error(*e)),
            Input::Error(c, e) => write!(f, "error {} {}", c.0, format_conn_error(*e)),
            Input::Bytes(c, b) => write!(f, "bytes {} {}", c.0, hex(b)),
            Input::Eof(c) => write!(f, "eof {}", c.0),
            Input::Transmit(c) => write!(f, "transmit {}", c.0),
            Input::Timeout => f.write_str("timeout"),
            Input::Frame { port, frame } => write!(f, "frame {port} {}", hex(frame)),
            Input::Reconnect => f.write_str("reconnect"),
        }
    }
}

impl fmt::Display for Fed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fed::Accepted(Some(c)) => write!(f, "accepted {}", c.0),
            Fed::Accepted(None) => f.write_str("accepted none"),
            Fed::Transmit(Some(b)) => write!(f, "transmitted {}", hex(b)),
            Fed::Transmit(None) => f.write_str("transmitted none"),
            Fed::Frame(Ok(())) => f.write_str("frame ok"),
            Fed::Frame(Err(e)) => write!(f, "frame error {e}"),
        }
    }
}

impl fmt::Display for Recorded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Recorded::Output(Output::Connect { conn, target, dscp }) => {
                write!(f, "connect {} {target} dscp={dscp}", conn.0)
            }
            Recorded::Output(Output::Close { conn, error, unsent }) => {
                write!(f, "close {}", conn.0)?;
                if let Some(e) = error {
                    write!(f, " error={}", format_conn_error(*e))?;
                }
                if !unsent.is_empty() {
                    write!(f, " unsent={}", hex(unsent))?;
                }
                Ok(())
            }
            Recorded::Output(Output::Listen { target, dscp }) => write!(f, "listen {target} dscp={dscp}"),
            Recorded::Output(Output::Unlisten { target }) => write!(f, "unlisten {target}"),
            Recorded::PacketOut { port, frame } => write!(f, "packet-out {port} {}", hex(frame)),
        }
    }
}

impl fmt::Display for Record {
    /// The record as text, one [`Entry`] per line; [`Record::parse`] reads it back.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", Entry::Setup(self.start, &self.setup))?;
        for r in &self.initial_outputs {
            writeln!(f, "{}", Entry::Recorded(self.start, r))?;
        }
        for s in &self.steps {
            writeln!(f, "{}", Entry::Input(s.time, &s.input))?;
            if let Some(fed) = &s.fed {
                writeln!(f, "{}", Entry::Fed(s.time, fed))?;
            }
            for r in &s.outputs {
                writeln!(f, "{}", Entry::Recorded(s.time, r))?;
            }
        }
        Ok(())
    }
}

impl Record {
    /// Reads a record: `setup` lines first (the first one names the bridge), then inputs, each
    /// followed by its `->` and `out` lines.
    pub fn parse(text: &str) -> Result<Record, LineError> {
        let lines = lines(text)?;
        let mut iter = lines.iter().peekable();
        let first = iter.next().ok_or_else(|| LineError::new(1, "empty record: expected a setup line"))?;
        if first.words.first() != Some(&"setup") || first.words.get(1).is_some_and(|w| !w.contains('=')) {
            return Err(first.error("a record starts with `setup bridge=…`"));
        }
        let mut record =
            Record { start: first.time, setup: parse_setup(first)?, initial_outputs: Vec::new(), steps: Vec::new() };
        while let Some(line) = iter.next_if(|l| l.words[0] == "setup") {
            parse_setup_item(line, &mut record.setup)?;
        }
        for line in iter {
            match line.words[0] {
                "setup" => return Err(line.error("setup lines come before every input")),
                "->" => {
                    let step = record.steps.last_mut().ok_or_else(|| line.error("a result before any input"))?;
                    if step.fed.is_some() {
                        return Err(line.error("a second result for one input"));
                    }
                    step.fed = Some(parse_fed(line, &step.input)?);
                }
                "out" => {
                    let out = parse_recorded(line)?;
                    match record.steps.last_mut() {
                        Some(step) => step.outputs.push(out),
                        None => record.initial_outputs.push(out),
                    }
                }
                _ => {
                    let input = parse_input(line)?;
                    record.steps.push(Step {
                        line: line.number,
                        time: line.time,
                        input,
                        fed: None,
                        outputs: Vec::new(),
                    });
                }
            }
        }
        Ok(record)
    }

    /// True if the record has `out` lines (so the outputs of a replay can be compared).
    pub fn has_outputs(&self) -> bool {
        !self.initial_outputs.is_empty() || self.steps.iter().any(|s| !s.outputs.is_empty())
    }
}

fn parse_setup(line: &Line<'_>) -> Result<Setup, LineError> {
    let (plain, mut o) = Opts::split(line, 1)?;
    if let Some(w) = plain.first() {
        return Err(line.error(format!("unexpected `{w}`")));
    }
    let mut s = Setup::default();
    s.bridge = o.take("bridge", unescape)?.unwrap_or(s.bridge);
    if let Some(d) = o.take("datapath_id", |v| u64::from_str_radix(v, 16).map_err(|_| format!("bad hex `{v}`")))? {
        s.datapath_id = d;
    }
    s.n_ports = o.number("n_ports")?.unwrap_or(s.n_ports);
    s.fail_mode = o.take("fail_mode", parse_fail_mode)?.unwrap_or(s.fail_mode);
    s.bundle_idle_timeout = o.number("bundle_idle_timeout")?.unwrap_or(s.bundle_idle_timeout);
    s.seed = o.number("seed")?.unwrap_or(s.seed);
    s.datapath_delay_ms = o.number("datapath_delay_ms")?.unwrap_or(s.datapath_delay_ms);
    s.n_handlers = o.number("n_handlers")?.unwrap_or(s.n_handlers);
    s.dp_desc = o.take("dp_desc", unescape)?.unwrap_or(s.dp_desc);
    s.serial_num = o.take("serial_num", unescape)?.unwrap_or(s.serial_num);
    o.finish()?;
    Ok(s)
}

/// `standalone` or `secure`.
pub fn parse_fail_mode(v: &str) -> Result<FailMode, String> {
    match v {
        "secure" => Ok(FailMode::Secure),
        "standalone" => Ok(FailMode::Standalone),
        _ => Err(format!("`{v}` is not standalone or secure")),
    }
}

fn parse_setup_item(line: &Line<'_>, s: &mut Setup) -> Result<(), LineError> {
    let kind = line.word(1, "setup item (controller or snoop)")?;
    let target = line.word(2, "target")?.to_string();
    match kind {
        "controller" => {
            let (plain, mut o) = Opts::split(line, 3)?;
            if let Some(w) = plain.first() {
                return Err(line.error(format!("unexpected `{w}`")));
            }
            let settings = parse_controller_settings(&mut o)?;
            o.finish()?;
            if s.controllers.insert(target.clone(), settings).is_some() {
                return Err(line.error(format!("controller {target} set up twice")));
            }
        }
        "snoop" => {
            if line.words.len() > 3 {
                return Err(line.error(format!("unexpected `{}`", line.words[3])));
            }
            s.snoops.insert(target);
        }
        other => return Err(line.error(format!("unknown setup item `{other}` (controller or snoop)"))),
    }
    Ok(())
}

/// The options of a `setup controller` line (OVS's defaults for those not given).
pub fn parse_controller_settings(o: &mut Opts<'_>) -> Result<ControllerSettings, LineError> {
    let mut c = ControllerSettings::default();
    if let Some(t) = o.take("type", |v| match v {
        "primary" => Ok(ConnType::Primary),
        "service" => Ok(ConnType::Service),
        _ => Err(format!("`{v}` is not primary or service")),
    })? {
        c.conn_type = Some(t);
    }
    c.max_backoff = o.number("max_backoff")?.unwrap_or(c.max_backoff);
    c.probe_interval = o.number("probe_interval")?.unwrap_or(c.probe_interval);
    c.enable_async_msgs = o.take("async", parse_bool)?.unwrap_or(c.enable_async_msgs);
    c.allowed_versions = o.take("versions", parse_versions)?.unwrap_or(c.allowed_versions);
    c.controller_queue_size = o.number("queue_size")?.unwrap_or(c.controller_queue_size);
    c.rate_limit = o.number("rate_limit")?.unwrap_or(c.rate_limit);
    c.burst_limit = o.number("burst_limit")?.unwrap_or(c.burst_limit);
    c.dscp = o.number("dscp")?.unwrap_or(c.dscp);
    Ok(c)
}

/// A value parsed from a word of `line`, or the error naming the line.
fn at<T>(line: &Line<'_>, r: Result<T, String>) -> Result<T, LineError> {
    r.map_err(|m| line.error(m))
}

fn exact_words(line: &Line<'_>, n: usize) -> Result<(), LineError> {
    match line.words.get(n) {
        Some(w) => Err(line.error(format!("unexpected `{w}`"))),
        None if line.words.len() < n => Err(line.error(format!("`{}` needs {} arguments", line.words[0], n - 1))),
        None => Ok(()),
    }
}

fn parse_input(line: &Line<'_>) -> Result<Input, LineError> {
    let w = |i| line.words.get(i).copied().unwrap_or("");
    let (input, n) = match line.words[0] {
        "accept" => (Input::Accept { listener: w(1).into(), peer: w(2).into() }, 3),
        "listen-error" => (Input::ListenError { target: w(1).into(), err: at(line, parse_conn_error(w(2)))? }, 3),
        "connected" => (Input::Connected(at(line, parse_conn(w(1)))?), 2),
        "open-failed" => (Input::OpenFailed(at(line, parse_conn(w(1)))?, at(line, parse_conn_error(w(2)))?), 3),
        "error" => (Input::Error(at(line, parse_conn(w(1)))?, at(line, parse_conn_error(w(2)))?), 3),
        "bytes" => (Input::Bytes(at(line, parse_conn(w(1)))?, at(line, parse_hex(w(2)))?), 3),
        "eof" => (Input::Eof(at(line, parse_conn(w(1)))?), 2),
        "transmit" => (Input::Transmit(at(line, parse_conn(w(1)))?), 2),
        "timeout" => (Input::Timeout, 1),
        "frame" => {
            let port =
                at(line, parse_number(w(1)).and_then(|n| u32::try_from(n).map_err(|_| "port out of range".into())))?;
            (Input::Frame { port, frame: at(line, parse_hex(w(2)))? }, 3)
        }
        "reconnect" => (Input::Reconnect, 1),
        other => return Err(line.error(format!("unknown input `{other}`"))),
    };
    exact_words(line, n)?;
    Ok(input)
}

fn parse_fed(line: &Line<'_>, input: &Input) -> Result<Fed, LineError> {
    let what = line.word(1, "result")?;
    let arg = line.word(2, "result value")?;
    let fed = match (what, input) {
        ("accepted", Input::Accept { .. }) => {
            exact_words(line, 3)?;
            Fed::Accepted(if arg == "none" { None } else { Some(parse_conn(arg).map_err(|m| line.error(m))?) })
        }
        ("transmitted", Input::Transmit(_)) => {
            exact_words(line, 3)?;
            Fed::Transmit(if arg == "none" { None } else { Some(parse_hex(arg).map_err(|m| line.error(m))?) })
        }
        ("frame", Input::Frame { .. }) if arg == "ok" => {
            exact_words(line, 3)?;
            Fed::Frame(Ok(()))
        }
        ("frame", Input::Frame { .. }) if arg == "error" => Fed::Frame(Err(line.words[3..].join(" "))),
        _ => return Err(line.error(format!("`-> {what}` does not answer `{input}`"))),
    };
    Ok(fed)
}

fn parse_recorded(line: &Line<'_>) -> Result<Recorded, LineError> {
    let kind = line.word(1, "output kind")?;
    let (plain, mut o) = Opts::split(line, 2)?;
    let arg =
        |i: usize| plain.get(i).copied().ok_or_else(|| line.error(format!("`out {kind}` is missing an argument")));
    let n_plain;
    let out = match kind {
        "connect" => {
            n_plain = 2;
            let conn = at(line, parse_conn(arg(0)?))?;
            let target: Arc<str> = arg(1)?.into();
            Recorded::Output(Output::Connect { conn, target, dscp: o.number("dscp")?.unwrap_or(0) })
        }
        "close" => {
            n_plain = 1;
            let conn = at(line, parse_conn(arg(0)?))?;
            let error = o.take("error", parse_conn_error)?;
            let unsent = o.take("unsent", parse_hex)?.unwrap_or_default();
            Recorded::Output(Output::Close { conn, error, unsent })
        }
        "listen" => {
            n_plain = 1;
            Recorded::Output(Output::Listen { target: arg(0)?.into(), dscp: o.number("dscp")?.unwrap_or(0) })
        }
        "unlisten" => {
            n_plain = 1;
            Recorded::Output(Output::Unlisten { target: arg(0)?.into() })
        }
        "packet-out" => {
            n_plain = 2;
            let port =
                at(line, parse_number(arg(0)?).and_then(|n| u32::try_from(n).map_err(|_| "port out of range".into())))?;
            Recorded::PacketOut { port, frame: at(line, parse_hex(arg(1)?))? }
        }
        other => return Err(line.error(format!("unknown output `{other}`"))),
    };
    if let Some(w) = plain.get(n_plain) {
        return Err(line.error(format!("unexpected `{w}`")));
    }
    o.finish()?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_skip_comments_and_check_time() {
        let text = "# header\n\n0.000 a b # note\n  1.5 c=d   \n";
        let ls = lines(text).unwrap();
        assert_eq!(ls.len(), 2);
        assert_eq!((ls[0].number, ls[0].time, ls[0].words.clone()), (3, Instant::ZERO, vec!["a", "b"]));
        assert_eq!((ls[1].number, ls[1].time), (4, Instant::from_millis(1500)));
        assert_eq!(lines("2 a\n1 b").unwrap_err(), LineError::new(2, "time 1.000 is earlier than 2.000 on line 1"));
        assert_eq!(lines("x a").unwrap_err().to_string(), "line 1: bad time `x` (seconds, e.g. 12.500)");
        assert_eq!(lines("1.2345 a").unwrap_err().line, 1);
        assert_eq!(lines("3\n").unwrap_err(), LineError::new(1, "nothing after the time"));
    }

    #[test]
    fn times_and_durations() {
        assert_eq!(parse_time("12.5"), Ok(Instant::from_millis(12_500)));
        assert_eq!(parse_time("0.007"), Ok(Instant::from_millis(7)));
        for bad in ["", ".5", "1.", "-1", "1e3", "1.2.3", "1.0001"] {
            assert!(parse_time(bad).is_err(), "{bad}");
        }
        let cases = [("250ms", 250), ("30s", 30_000), ("1.5s", 1500), ("2m", 120_000), ("1h", 3_600_000), ("0", 0)];
        for (s, ms) in cases {
            assert_eq!(parse_duration(s), Ok(Duration::from_millis(ms)), "{s}");
            assert_eq!(format_duration(Duration::from_millis(ms)), s);
        }
        assert_eq!(format_duration(Duration::from_millis(1250)), "1.25s");
        for bad in ["5", "s", "1.5m", "x ms", "1.2345s"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn options_are_taken_once_and_unknown_ones_fail() {
        let ls = lines("0 x a k=1 v=0x10 b").unwrap();
        let (plain, mut o) = Opts::split(&ls[0], 1).unwrap();
        assert_eq!(plain, ["a", "b"]);
        assert_eq!(o.number::<u8>("v").unwrap(), Some(16));
        assert_eq!(o.number::<u8>("missing").unwrap(), None);
        assert_eq!(o.finish().unwrap_err().message, "unknown option `k`");
        let ls = lines("0 x k=1 k=2").unwrap();
        assert_eq!(Opts::split(&ls[0], 1).unwrap_err().message, "option `k` given twice");
        let ls = lines("0 x n=300").unwrap();
        let (_, mut o) = Opts::split(&ls[0], 1).unwrap();
        assert_eq!(o.number::<u8>("n").unwrap_err().message, "n: 300 is out of range");
    }

    fn sample() -> Record {
        let mut setup = Setup {
            seed: 7,
            n_ports: 2,
            fail_mode: FailMode::Secure,
            datapath_id: 1,
            dp_desc: "rack 7 #2 = 100%".into(),
            ..Setup::default()
        };
        let c = ControllerSettings {
            max_backoff: 4,
            allowed_versions: VersionBitmap::from_versions([Version::Of13, Version::Of14]),
            rate_limit: 100,
            burst_limit: 25,
            conn_type: Some(ConnType::Primary),
            ..ControllerSettings::default()
        };
        setup.controllers.insert("tcp:10.0.0.1:6653".into(), c);
        setup.controllers.insert("ptcp:6634:127.0.0.1".into(), ControllerSettings::default());
        setup.snoops.insert("punix:/tmp/snoop".into());
        let t = Instant::from_millis;
        let conn = ConnId(1);
        let step = |ms, input, fed, outputs| Step { line: 0, time: t(ms), input, fed, outputs };
        Record {
            start: t(0),
            setup,
            initial_outputs: vec![
                Recorded::Output(Output::Listen { target: "ptcp:6634:127.0.0.1".into(), dscp: 48 }),
                Recorded::Output(Output::Connect { conn, target: "tcp:10.0.0.1:6653".into(), dscp: 48 }),
            ],
            steps: vec![
                step(31, Input::Connected(conn), None, vec![]),
                step(
                    31,
                    Input::Transmit(conn),
                    Some(Fed::Transmit(Some(Bytes::from_static(&[6, 0, 0, 8, 0, 0, 0, 1])))),
                    vec![],
                ),
                step(31, Input::Transmit(conn), Some(Fed::Transmit(None)), vec![]),
                step(62, Input::Bytes(conn, Bytes::from_static(&[4, 0, 0, 8, 0, 0, 0, 2])), None, vec![]),
                step(62, Input::Timeout, None, vec![]),
                step(
                    70,
                    Input::Accept { listener: "ptcp:6634:127.0.0.1".into(), peer: "tcp:127.0.0.1:5000".into() },
                    Some(Fed::Accepted(Some(ConnId(2)))),
                    vec![],
                ),
                step(
                    80,
                    Input::Frame { port: 1, frame: Bytes::from_static(&[0xff; 14]) },
                    Some(Fed::Frame(Ok(()))),
                    vec![Recorded::PacketOut { port: 2, frame: Bytes::from_static(&[0xff; 14]) }],
                ),
                step(
                    81,
                    Input::Frame { port: 9, frame: Bytes::from_static(&[1]) },
                    Some(Fed::Frame(Err("no port 9".into()))),
                    vec![],
                ),
                step(
                    90,
                    Input::Error(conn, ConnError::CONNECTION_RESET),
                    None,
                    vec![Recorded::Output(Output::Close {
                        conn,
                        error: Some(ConnError::CONNECTION_RESET),
                        unsent: Bytes::from_static(&[1, 2]),
                    })],
                ),
                step(
                    95,
                    Input::Eof(ConnId(2)),
                    None,
                    vec![Recorded::Output(Output::Close { conn: ConnId(2), error: None, unsent: Bytes::new() })],
                ),
                step(
                    96,
                    Input::OpenFailed(ConnId(3), ConnError::CONNECTION_REFUSED),
                    None,
                    vec![Recorded::Output(Output::Unlisten { target: "ptcp:6634:127.0.0.1".into() })],
                ),
                step(
                    97,
                    Input::ListenError { target: "ptcp:1:127.0.0.1".into(), err: ConnError::Os(98) },
                    None,
                    vec![],
                ),
                step(98, Input::Reconnect, None, vec![]),
            ],
        }
    }

    #[test]
    fn a_record_reads_back_as_written() {
        let r = sample();
        let text = r.to_string();
        let mut back = Record::parse(&text).unwrap();
        // Line numbers are where the inputs ended up in the text.
        for s in &mut back.steps {
            assert_eq!(
                text.lines().nth(s.line - 1).unwrap().split_whitespace().nth(1).unwrap(),
                s.input.to_string().split(' ').next().unwrap()
            );
            s.line = 0;
        }
        assert_eq!(back, r);
        assert!(back.has_outputs());
        assert!(text.starts_with(
            "0.000 setup bridge=br0 datapath_id=0000000000000001 n_ports=2 fail_mode=secure bundle_idle_timeout=0 seed=7 \
             datapath_delay_ms=0 n_handlers=1 dp_desc=rack%207%20%232%20%3D%20100%25 serial_num=None\n\
             0.000 setup controller ptcp:6634:127.0.0.1 max_backoff=8 probe_interval=5 async=on versions=OpenFlow10,OpenFlow11,OpenFlow12,OpenFlow13,OpenFlow14,OpenFlow15 queue_size=100 rate_limit=0 burst_limit=0 dscp=48\n\
             0.000 setup controller tcp:10.0.0.1:6653 type=primary max_backoff=4 probe_interval=5 async=on versions=OpenFlow13,OpenFlow14 queue_size=100 rate_limit=100 burst_limit=25 dscp=48\n\
             0.000 setup snoop punix:/tmp/snoop\n\
             0.000 out listen ptcp:6634:127.0.0.1 dscp=48\n"
        ));
        assert!(text.contains("\n0.031 transmit 1\n0.031 -> transmitted 0600000800000001\n"));
        assert!(text.contains("\n0.081 -> frame error no port 9\n"));
        assert!(text.contains("\n0.090 out close 1 error=104 unsent=0102\n"));
    }

    #[test]
    fn record_errors_name_the_line() {
        let head = "0 setup bridge=br0\n";
        let err = |body: &str| Record::parse(&format!("{head}{body}")).unwrap_err();
        assert_eq!(err("1 bytes 1 zz"), LineError::new(2, "bad hex bytes"));
        assert_eq!(err("1 connected x"), LineError::new(2, "bad connection id `x`"));
        assert_eq!(err("1 timeout\n2 warp 9"), LineError::new(3, "unknown input `warp`"));
        assert_eq!(err("1 eof 1 2"), LineError::new(2, "unexpected `2`"));
        assert_eq!(err("1 error 1"), LineError::new(2, "bad error `` (eof or an errno)"));
        assert_eq!(err("1 -> accepted 1"), LineError::new(2, "a result before any input"));
        assert_eq!(err("1 timeout\n1 -> accepted 1"), LineError::new(3, "`-> accepted` does not answer `timeout`"));
        assert_eq!(err("1 timeout\n2 setup snoop x"), LineError::new(3, "setup lines come before every input"));
        assert_eq!(err("0 setup controller tcp:1.2.3.4 probe=5"), LineError::new(2, "unknown option `probe`"));
        assert_eq!(err("1 out close 1 error=x"), LineError::new(2, "error: bad error `x` (eof or an errno)"));
        assert_eq!(Record::parse("0 timeout").unwrap_err(), LineError::new(1, "a record starts with `setup bridge=…`"));
        assert_eq!(
            Record::parse("0 setup fail_mode=open").unwrap_err().message,
            "fail_mode: `open` is not standalone or secure"
        );
    }
}
