//! Test harness: temporary directories, the `ofagent` binary started as a daemon (the switch, or the
//! fake core; its log lines streamed back so tests wait for them with a deadline), control-socket
//! queries, line-protocol peers for the fake core.
#![allow(dead_code, unused_imports, clippy::disallowed_methods, clippy::disallowed_types)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

pub const TIMEOUT: Duration = Duration::from_secs(10);

pub fn ofagent() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ofagent"))
}

/// Runs `ofagent ARGS` to completion.
pub fn run(args: &[&str]) -> Output {
    ofagent().args(args).stdin(Stdio::null()).output().expect("running ofagent")
}

pub use test_support::installed;

/// The time of day of an OVS-format log line (`2024-05-01T12:00:00.123Z|...`), in milliseconds.
pub fn log_millis(line: &str) -> u64 {
    let t = &line[11..23];
    let f = |r: std::ops::Range<usize>| t[r].parse::<u64>().unwrap_or_else(|_| panic!("no time in {line:?}"));
    ((f(0..2) * 60 + f(3..5)) * 60 + f(6..8)) * 1000 + f(9..12)
}

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A directory removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(name: &str) -> TempDir {
        static N: AtomicU32 = AtomicU32::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let p = std::env::temp_dir().join(format!("ofagent-test-{}-{n}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    pub fn write(&self, name: &str, contents: &str) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, contents).unwrap();
        p
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A running `ofagent run`, killed when dropped if still running.
pub struct Daemon {
    pub dir: TempDir,
    pub ctl: PathBuf,
    pub pid: i32,
    log: Receiver<String>,
    pub log_lines: Vec<String>,
    exit: Receiver<ExitStatus>,
    exited: Option<ExitStatus>,
}

impl Daemon {
    /// `ofagent run --control-socket DIR/ctl --log-level dbg ARGS`, waiting until it is ready.
    pub fn start(args: &[&str]) -> Daemon {
        let dir = TempDir::new("daemon");
        let ctl = dir.path("ctl");
        Daemon::start_at(dir, ctl, args)
    }

    /// `start` with the line-protocol stand-in core (`run --fake-core`).
    pub fn fake(args: &[&str]) -> Daemon {
        let mut a = vec!["--fake-core"];
        a.extend_from_slice(args);
        Daemon::start(&a)
    }

    /// The same with the control socket at `ctl`.
    pub fn start_at(dir: TempDir, ctl: PathBuf, args: &[&str]) -> Daemon {
        let mut cmd = ofagent();
        cmd.arg("run").arg("--control-socket").arg(&ctl).args(["--log-level", "dbg"]).args(args);
        Daemon::spawn(dir, ctl, cmd)
    }

    /// Without `--control-socket`, with `XDG_RUNTIME_DIR=rundir`: the socket is `rundir/ofagent/br0.ctl`.
    pub fn start_in_rundir(rundir: &Path, args: &[&str]) -> Daemon {
        let mut cmd = ofagent();
        cmd.args(["run", "--log-level", "dbg"]).args(args).env("XDG_RUNTIME_DIR", rundir);
        Daemon::spawn(TempDir::new("daemon"), rundir.join("ofagent/br0.ctl"), cmd)
    }

    fn spawn(dir: TempDir, ctl: PathBuf, mut cmd: Command) -> Daemon {
        let child = cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
        Daemon::attach(dir, ctl, child)
    }

    fn attach(dir: TempDir, ctl: PathBuf, mut child: Child) -> Daemon {
        let pid = child.id() as i32;
        let (log_tx, log) = channel();
        let stderr = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if log_tx.send(line).is_err() {
                    break;
                }
            }
        });
        let (exit_tx, exit) = channel();
        std::thread::spawn(move || {
            if let Ok(status) = child.wait() {
                let _ = exit_tx.send(status);
            }
        });
        let mut d = Daemon { dir, ctl, pid, log, log_lines: vec![], exit, exited: None };
        d.wait_log("ready, control socket");
        d
    }

    /// The first log line containing `needle`, waiting for it if not yet seen; panics at the deadline.
    pub fn wait_log(&mut self, needle: &str) -> String {
        self.wait_log_since(0, needle).1
    }

    /// The first log line at or after index `since` of [`Daemon::log_lines`] that contains `needle`,
    /// with its index, waiting for it with a deadline.
    pub fn wait_log_since(&mut self, since: usize, needle: &str) -> (usize, String) {
        if let Some((i, l)) = self.log_lines.iter().enumerate().skip(since).find(|(_, l)| l.contains(needle)) {
            return (i, l.clone());
        }
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.log.recv_timeout(left) {
                Ok(line) => {
                    self.log_lines.push(line.clone());
                    if line.contains(needle) && self.log_lines.len() > since {
                        return (self.log_lines.len() - 1, line);
                    }
                }
                Err(RecvTimeoutError::Timeout) | Err(RecvTimeoutError::Disconnected) => {
                    panic!("no log line with {needle:?} within {TIMEOUT:?}; log so far:\n{}", self.log_lines.join("\n"))
                }
            }
        }
    }

    /// `ofagent status --json` against this daemon.
    pub fn status(&self) -> serde_json::Value {
        let out = run(&["status", "--json", "--control-socket", self.ctl.to_str().unwrap()]);
        assert!(out.status.success(), "status failed: {}", text(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    }

    /// The port the first listener is bound to.
    pub fn port(&self) -> u16 {
        let s = self.status();
        let bound = s["listeners"][0]["bound"].as_str().expect("listener bound").to_string();
        bound.split(':').nth(1).unwrap().parse().unwrap()
    }

    pub fn connect(&self) -> Peer {
        Peer::tcp(self.port())
    }

    pub fn signal(&self, sig: i32) {
        // SAFETY: kill(2) on our own child's pid.
        assert_eq!(unsafe { libc::kill(self.pid, sig) }, 0);
    }

    /// Waits for the process to exit.
    pub fn wait_exit(&mut self) -> ExitStatus {
        if let Some(s) = self.exited {
            return s;
        }
        let s = self.exit.recv_timeout(TIMEOUT).expect("ofagent did not exit");
        self.exited = Some(s);
        s
    }

    /// CPU time the process has used (user + system), in clock ticks.
    pub fn cpu_ticks(&self) -> u64 {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid)).unwrap();
        let after_comm = &stat[stat.rfind(')').unwrap() + 2..];
        let f: Vec<&str> = after_comm.split(' ').collect();
        // Fields 14 and 15 of stat(5), counted from after the command name (field 3 is index 0).
        f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if self.exited.is_none() && self.exit.try_recv().is_err() {
            // SAFETY: as in `signal`.
            unsafe { libc::kill(self.pid, libc::SIGKILL) };
            let _ = self.exit.recv_timeout(TIMEOUT);
        }
    }
}

/// A peer speaking the fake core's line protocol.
pub struct Peer<S: Read + Write = TcpStream> {
    pub stream: S,
    reader: BufReader<S>,
}

impl Peer<TcpStream> {
    pub fn tcp(port: u16) -> Peer<TcpStream> {
        let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.set_read_timeout(Some(TIMEOUT)).unwrap();
        let r = s.try_clone().unwrap();
        Peer { stream: s, reader: BufReader::new(r) }
    }
}

impl Peer<std::os::unix::net::UnixStream> {
    pub fn unix(path: &Path) -> Peer<std::os::unix::net::UnixStream> {
        let s = std::os::unix::net::UnixStream::connect(path).unwrap();
        s.set_read_timeout(Some(TIMEOUT)).unwrap();
        let r = s.try_clone().unwrap();
        Peer { stream: s, reader: BufReader::new(r) }
    }
}

impl<S: Read + Write> Peer<S> {
    pub fn from_stream(stream: S, reader: S) -> Peer<S> {
        Peer { stream, reader: BufReader::new(reader) }
    }

    pub fn send(&mut self, s: &str) {
        self.stream.write_all(s.as_bytes()).unwrap();
    }

    /// The next line, without its '\n' (fails after `TIMEOUT`).
    pub fn line(&mut self) -> String {
        let mut l = String::new();
        self.reader.read_line(&mut l).unwrap();
        assert!(l.ends_with('\n'), "connection ended or timed out after {l:?}");
        l.pop();
        l
    }

    pub fn expect(&mut self, want: &str) {
        assert_eq!(self.line(), want);
    }

    /// `hello N`: the core's greeting.
    pub fn hello(&mut self) -> u64 {
        let l = self.line();
        l.strip_prefix("hello ").and_then(|n| n.parse().ok()).unwrap_or_else(|| panic!("not a greeting: {l:?}"))
    }

    pub fn read_exact(&mut self, n: usize) -> Vec<u8> {
        let mut b = vec![0; n];
        self.reader.read_exact(&mut b).unwrap();
        b
    }

    /// Reads until the peer closes; panics if that takes longer than `TIMEOUT`.
    pub fn read_to_end(&mut self) -> Vec<u8> {
        let mut b = vec![];
        self.reader.read_to_end(&mut b).unwrap();
        b
    }
}
