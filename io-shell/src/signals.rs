//! SIGINT and SIGTERM as readable events: the handler writes the signal number to a pipe whose read
//! end the event loop polls (the self-pipe trick; mio has no signal support).

use std::io::{self, Read};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicI32, Ordering};

use mio::unix::pipe::{self, Receiver, Sender};

/// The pipe's write end, for the handler (-1 until installed).
static PIPE_FD: AtomicI32 = AtomicI32::new(-1);

pub struct Signals {
    pub receiver: Receiver,
    /// Kept open for the handler.
    _sender: Sender,
}

extern "C" fn on_signal(sig: libc::c_int) {
    let fd = PIPE_FD.load(Ordering::Relaxed);
    if fd >= 0 {
        let b = sig as u8;
        // SAFETY: write(2) is async-signal-safe; the buffer is a live local. A full pipe already
        // holds a wakeup, so a failed write loses nothing.
        unsafe { libc::write(fd, (&b as *const u8).cast(), 1) };
    }
}

impl Signals {
    /// Installs handlers for SIGINT and SIGTERM.
    pub fn install() -> io::Result<Signals> {
        let (sender, receiver) = pipe::new()?;
        PIPE_FD.store(sender.as_raw_fd(), Ordering::Relaxed);
        for sig in [libc::SIGINT, libc::SIGTERM] {
            // SAFETY: a zeroed sigaction is valid; the handler only calls async-signal-safe functions.
            unsafe {
                let mut sa: libc::sigaction = std::mem::zeroed();
                sa.sa_sigaction = on_signal as *const () as libc::sighandler_t;
                sa.sa_flags = libc::SA_RESTART;
                libc::sigemptyset(&mut sa.sa_mask);
                if libc::sigaction(sig, &sa, std::ptr::null_mut()) != 0 {
                    return Err(io::Error::last_os_error());
                }
            }
        }
        Ok(Signals { receiver, _sender: sender })
    }

    /// The signals received since the last call (empty if the wakeup was spurious).
    pub fn drain(&mut self) -> Vec<i32> {
        let mut buf = [0u8; 64];
        let mut got = Vec::new();
        loop {
            match self.receiver.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => got.extend(buf[..n].iter().map(|&b| i32::from(b))),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
        got
    }
}

/// "SIGTERM", "SIGINT".
pub fn name(sig: i32) -> String {
    match sig {
        libc::SIGINT => "SIGINT".into(),
        libc::SIGTERM => "SIGTERM".into(),
        n => format!("signal {n}"),
    }
}
