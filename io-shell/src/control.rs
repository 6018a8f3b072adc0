//! The control socket: where it lives, its protocol (one JSON request line, one JSON response line),
//! the daemon's side of one client, and the `status`, `inject` and `reconnect` subcommands.

use std::io::{self, Read, Write};
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use mio::net::{UnixListener, UnixStream};
use serde::{Deserialize, Serialize};

use crate::cli::{ControlArgs, InjectArgs, StatusArgs};
use crate::status::Status;

/// Longest request line the daemon reads.
const MAX_REQUEST: usize = 64 * 1024;
/// How long a client waits for the daemon's answer.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "kebab-case")]
pub enum Request {
    Status,
    /// `frame` in hex.
    Inject {
        port: u32,
        frame: String,
    },
    Reconnect,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Response {
    Status(Box<Status>),
    Done,
    Error(String),
}

/// The directory for control sockets: `$XDG_RUNTIME_DIR/ofagent`, else `/var/run/ofagent` for root,
/// else `/tmp/ofagent-UID`.
pub fn default_rundir() -> PathBuf {
    if let Some(dir) = std::env::var_os("XDG_RUNTIME_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir).join("ofagent");
    }
    // SAFETY: geteuid has no preconditions and cannot fail.
    match unsafe { libc::geteuid() } {
        0 => PathBuf::from("/var/run/ofagent"),
        uid => PathBuf::from(format!("/tmp/ofagent-{uid}")),
    }
}

/// `RUNDIR/BRIDGE.ctl`.
pub fn default_socket_path(bridge: &str) -> PathBuf {
    default_rundir().join(format!("{bridge}.ctl"))
}

/// Binds the control socket with mode 0600 (its directory, if created, 0700). A socket left behind
/// by a dead agent is replaced; one a live agent answers on is an error.
pub fn bind(path: &Path) -> io::Result<UnixListener> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty() && !d.exists()) {
        std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)?;
    }
    if path.exists() {
        if std::os::unix::net::UnixStream::connect(path).is_ok() {
            return Err(io::Error::new(io::ErrorKind::AddrInUse, "another ofagent is answering on it"));
        }
        std::fs::remove_file(path)?;
    }
    // Created with the umask in force: no window in which others could connect. The process is still
    // single-threaded here.
    // SAFETY: umask has no preconditions and cannot fail.
    let old = unsafe { libc::umask(0o177) };
    let bound = UnixListener::bind(path);
    // SAFETY: as above.
    unsafe { libc::umask(old) };
    let listener = bound?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    Ok(listener)
}

/// The daemon's side of one control connection: read a request line, write the response, close.
#[derive(Debug)]
pub struct ControlClient {
    pub stream: UnixStream,
    input: Vec<u8>,
    output: Vec<u8>,
    written: usize,
    answered: bool,
}

impl ControlClient {
    pub fn new(stream: UnixStream) -> ControlClient {
        ControlClient { stream, input: Vec::new(), output: Vec::new(), written: 0, answered: false }
    }

    /// Reads what is available; a complete request once its line is in. `Err`: drop the client.
    pub fn read(&mut self) -> io::Result<Option<Result<Request, String>>> {
        if self.answered {
            return Ok(None);
        }
        let mut buf = [0u8; 4096];
        loop {
            match self.stream.read(&mut buf) {
                Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
                Ok(n) => self.input.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
            if self.input.contains(&b'\n') {
                break;
            }
            if self.input.len() > MAX_REQUEST {
                return Err(io::Error::new(io::ErrorKind::InvalidData, "request too long"));
            }
        }
        let Some(end) = self.input.iter().position(|&b| b == b'\n') else { return Ok(None) };
        self.answered = true;
        Ok(Some(serde_json::from_slice(&self.input[..end]).map_err(|e| format!("bad request: {e}"))))
    }

    pub fn respond(&mut self, response: &Response) {
        self.output = serde_json::to_vec(response).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}").into_bytes());
        self.output.push(b'\n');
    }

    /// Writes what the socket takes. `Ok(true)`: the response is out, close the client.
    pub fn write(&mut self) -> io::Result<bool> {
        while self.written < self.output.len() {
            match self.stream.write(&self.output[self.written..]) {
                Ok(n) => self.written += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(self.answered && !self.output.is_empty())
    }
}

/// Sends one request to the agent on `path` and waits for its response.
pub fn request(path: &Path, req: &Request) -> Result<Response, String> {
    let fail = |what: &str, e: io::Error| format!("{}: {what} ({e})", path.display());
    let mut s = std::os::unix::net::UnixStream::connect(path).map_err(|e| fail("cannot connect", e))?;
    s.set_read_timeout(Some(CLIENT_TIMEOUT)).map_err(|e| fail("cannot set a timeout", e))?;
    let mut line = serde_json::to_vec(req).map_err(|e| format!("encoding request: {e}"))?;
    line.push(b'\n');
    s.write_all(&line).map_err(|e| fail("cannot send", e))?;
    let mut answer = Vec::new();
    s.read_to_end(&mut answer).map_err(|e| fail("no answer", e))?;
    serde_json::from_slice(&answer).map_err(|e| format!("{}: bad answer: {e}", path.display()))
}

fn socket_path(args: &ControlArgs) -> PathBuf {
    args.control_socket.clone().unwrap_or_else(|| default_socket_path(crate::config::DEFAULT_BRIDGE))
}

/// Runs a request for a subcommand: `Ok` with the response, or an error already printed.
fn call(args: &ControlArgs, req: &Request) -> Result<Response, ExitCode> {
    match request(&socket_path(args), req) {
        Ok(Response::Error(e)) => {
            eprintln!("ofagent: {e}");
            Err(ExitCode::FAILURE)
        }
        Ok(r) => Ok(r),
        Err(e) => {
            eprintln!("ofagent: {e}");
            Err(ExitCode::FAILURE)
        }
    }
}

pub fn status_cmd(args: &StatusArgs) -> ExitCode {
    match call(&args.control, &Request::Status) {
        Ok(Response::Status(s)) if args.json => {
            print_out(&format!("{}\n", serde_json::to_string_pretty(&s).unwrap_or_default()))
        }
        Ok(Response::Status(s)) => print_out(&s.to_string()),
        Ok(other) => unexpected(&other),
        Err(code) => code,
    }
}

pub fn inject_cmd(args: &InjectArgs) -> ExitCode {
    if ofp_proto::print::parse_hex(&args.frame).is_none() {
        eprintln!("ofagent: \"{}\" is not a frame in hex", args.frame);
        return ExitCode::from(2);
    }
    let req = Request::Inject { port: args.port, frame: args.frame.clone() };
    done(call(&args.control, &req))
}

pub fn reconnect_cmd(args: &ControlArgs) -> ExitCode {
    done(call(args, &Request::Reconnect))
}

fn done(r: Result<Response, ExitCode>) -> ExitCode {
    match r {
        Ok(Response::Done) => ExitCode::SUCCESS,
        Ok(other) => unexpected(&other),
        Err(code) => code,
    }
}

/// Writes to stdout; a reader that went away (`ofagent status | head`) is not an error.
fn print_out(text: &str) -> ExitCode {
    match std::io::stdout().write_all(text.as_bytes()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ofagent: stdout: {e}");
            ExitCode::FAILURE
        }
    }
}

fn unexpected(r: &Response) -> ExitCode {
    eprintln!("ofagent: unexpected answer {r:?}");
    ExitCode::FAILURE
}
