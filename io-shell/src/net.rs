//! Sockets for OVS connection names: non-blocking connects and listeners for `tcp:`/`unix:` and
//! `ptcp:`/`punix:` targets, peer names as OVS writes them, DSCP marking.

use std::io::{self, IoSlice, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::os::fd::{AsRawFd, RawFd};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::BytesMut;
use mio::event::Source;
use mio::net::{TcpListener, TcpStream, UnixListener, UnixStream};
use rconn_core::Target;

/// A connected (or connecting) byte stream.
#[derive(Debug)]
pub enum Stream {
    Tcp(TcpStream),
    Unix(UnixStream),
}

impl Stream {
    pub fn source(&mut self) -> &mut dyn Source {
        match self {
            Stream::Tcp(s) => s,
            Stream::Unix(s) => s,
        }
    }

    /// A pending connection error (`SO_ERROR`), which also clears it.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        match self {
            Stream::Tcp(s) => s.take_error(),
            Stream::Unix(s) => s.take_error(),
        }
    }

    /// Whether a non-blocking connect has completed.
    pub fn is_connected(&self) -> bool {
        match self {
            Stream::Tcp(s) => s.peer_addr().is_ok(),
            Stream::Unix(s) => s.peer_addr().is_ok(),
        }
    }

    /// Reads at most `max` bytes into `buf`'s spare capacity (growing it first if it has less)
    /// and appends them: the socket's bytes land in their final buffer with no other copy, and
    /// without first zeroing memory the kernel then overwrites.
    pub fn read_buf(&mut self, buf: &mut BytesMut, max: usize) -> io::Result<usize> {
        buf.reserve(max);
        let spare = buf.spare_capacity_mut();
        let want = spare.len().min(max);
        let fd = match self {
            Stream::Tcp(s) => s.as_raw_fd(),
            Stream::Unix(s) => s.as_raw_fd(),
        };
        // SAFETY: recv(2) writes at most `want` bytes into the spare capacity, which `spare` owns
        // for this call, and returns how many it wrote.
        let n = unsafe { libc::recv(fd, spare.as_mut_ptr().cast(), want, 0) };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        let n = n as usize;
        // SAFETY: the first `n` bytes of the spare capacity were just written by recv(2).
        unsafe { buf.set_len(buf.len() + n) };
        Ok(n)
    }

    /// Sets the receive low-water mark (`SO_RCVLOWAT`): the poller reports the socket readable
    /// only once this many bytes are queued (or at the end of the stream). TCP only: `Ok(false)`
    /// for a Unix socket, whose readiness does not honour it.
    pub fn set_recv_lowat(&self, bytes: usize) -> io::Result<bool> {
        let Stream::Tcp(s) = self else { return Ok(false) };
        let v = libc::c_int::try_from(bytes).unwrap_or(libc::c_int::MAX);
        // SAFETY: a plain setsockopt(2) of an int option on a descriptor this stream owns.
        let r = unsafe {
            libc::setsockopt(
                s.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_RCVLOWAT,
                (&v as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
        if r < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(true)
    }

    pub fn shutdown(&self) {
        // The peer may already be gone; closing the descriptor follows anyway.
        let _ = match self {
            Stream::Tcp(s) => s.shutdown(Shutdown::Both),
            Stream::Unix(s) => s.shutdown(Shutdown::Both),
        };
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.read(buf),
            Stream::Unix(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.write(buf),
            Stream::Unix(s) => s.write(buf),
        }
    }

    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.write_vectored(bufs),
            Stream::Unix(s) => s.write_vectored(bufs),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A listening socket.
#[derive(Debug)]
pub enum Listener {
    Tcp(TcpListener),
    /// Removes its socket file when dropped, as OVS unlinks its punix files at exit.
    Unix(UnixListener, PathBuf),
}

impl Drop for Listener {
    fn drop(&mut self) {
        if let Listener::Unix(_, path) = self {
            let _ = std::fs::remove_file(path);
        }
    }
}

impl Listener {
    pub fn source(&mut self) -> &mut dyn Source {
        match self {
            Listener::Tcp(l) => l,
            Listener::Unix(l, _) => l,
        }
    }

    /// The bound address in OVS syntax, e.g. "ptcp:43121:127.0.0.1" when asked for port 0.
    pub fn bound_name(&self) -> Option<String> {
        match self {
            Listener::Tcp(l) => l.local_addr().ok().map(|a| Target::PTcp(a).to_string()),
            Listener::Unix(_, path) => Some(format!("punix:{}", path.display())),
        }
    }

    /// One pending connection and the peer's name ("tcp:IP:PORT", "unix:PATH" or "unix#N").
    pub fn accept(&self) -> io::Result<(Stream, String)> {
        match self {
            Listener::Tcp(l) => {
                let (s, addr) = l.accept()?;
                // OVS turns Nagle off on every OpenFlow TCP connection.
                s.set_nodelay(true)?;
                Ok((Stream::Tcp(s), Target::Tcp(addr).to_string()))
            }
            Listener::Unix(l, _) => {
                let (s, addr) = l.accept()?;
                let name = match addr.as_pathname() {
                    Some(p) => format!("unix:{}", p.display()),
                    None => unnamed_unix_peer(),
                };
                Ok((Stream::Unix(s), name))
            }
        }
    }
}

/// OVS names unbound Unix peers "unix#N" with a counter, to tell them apart in logs.
fn unnamed_unix_peer() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!("unix#{}", NEXT.fetch_add(1, Ordering::Relaxed))
}

fn unsupported(target: &str) -> io::Error {
    // OVS answers EAFNOSUPPORT for a connection type it cannot open.
    let e = io::Error::from_raw_os_error(libc::EAFNOSUPPORT);
    io::Error::new(e.kind(), format!("{target}: {e}"))
}

fn parse(target: &str) -> io::Result<Target> {
    Target::parse(target).map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e.to_string()))
}

/// Starts a non-blocking connection to an active target; completion shows as writability. A
/// failure already known (a refusal on the loopback interface is known at once) fails the open, as
/// OVS's `vconn_open` checks the connection right after starting it.
pub fn connect(target: &str, dscp: u8) -> io::Result<Stream> {
    let stream = match parse(target)? {
        Target::Tcp(addr) => {
            let s = TcpStream::connect(addr)?;
            set_dscp(s.as_raw_fd(), &addr, dscp)?;
            s.set_nodelay(true)?;
            Stream::Tcp(s)
        }
        Target::Unix(path) => Stream::Unix(UnixStream::connect(path)?),
        _ => return Err(unsupported(target)),
    };
    match stream.take_error()? {
        Some(e) => Err(e),
        None => Ok(stream),
    }
}

/// Listens on a passive target. An existing `punix:` file is replaced, as OVS does.
pub fn listen(target: &str, dscp: u8) -> io::Result<Listener> {
    match parse(target)? {
        Target::PTcp(addr) => {
            let l = TcpListener::bind(addr)?;
            set_dscp(l.as_raw_fd(), &addr, dscp)?;
            Ok(Listener::Tcp(l))
        }
        Target::PUnix(path) => {
            match std::fs::remove_file(&path) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
            let l = UnixListener::bind(&path)?;
            Ok(Listener::Unix(l, PathBuf::from(path)))
        }
        _ => Err(unsupported(target)),
    }
}

/// OVS `set_dscp`: the DSCP in the upper six bits of the IPv4 TOS / IPv6 traffic class.
fn set_dscp(fd: RawFd, addr: &SocketAddr, dscp: u8) -> io::Result<()> {
    let val: libc::c_int = libc::c_int::from(dscp) << 2;
    let (level, name) = match addr {
        SocketAddr::V4(_) => (libc::IPPROTO_IP, libc::IP_TOS),
        SocketAddr::V6(_) => (libc::IPPROTO_IPV6, libc::IPV6_TCLASS),
    };
    // SAFETY: `fd` is an open socket owned by the caller; the option value is a live c_int.
    let r = unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            (&val as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}
