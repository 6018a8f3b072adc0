//! Why a connection failed or closed: OVS's errno values (Linux numbering) and the texts it logs for them.

use std::fmt;

/// A connection error as OVS records it in `last_error`: a normal close by the peer, or an errno value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ConnError {
    /// The peer closed the connection in the normal way (OVS `EOF`).
    Eof,
    /// An errno value, Linux numbering.
    Os(i32),
}

impl ConnError {
    pub const PROTOCOL: ConnError = ConnError::Os(71);
    pub const CONNECTION_RESET: ConnError = ConnError::Os(104);
    pub const TIMED_OUT: ConnError = ConnError::Os(110);
    pub const CONNECTION_REFUSED: ConnError = ConnError::Os(111);

    /// The error a transport failure stands for: its errno when it has one, else the closest errno.
    pub fn from_io(e: &std::io::Error) -> ConnError {
        use std::io::ErrorKind as K;
        if let Some(errno) = e.raw_os_error() {
            return ConnError::Os(errno);
        }
        match e.kind() {
            K::UnexpectedEof => ConnError::Eof,
            K::ConnectionRefused => ConnError::CONNECTION_REFUSED,
            K::ConnectionReset => ConnError::CONNECTION_RESET,
            K::TimedOut => ConnError::TIMED_OUT,
            K::ConnectionAborted => ConnError::Os(103),
            K::NotConnected => ConnError::Os(107),
            K::BrokenPipe => ConnError::Os(32),
            K::AddrNotAvailable => ConnError::Os(99),
            _ => ConnError::PROTOCOL,
        }
    }

    /// The text glibc's `strerror` gives, as OVS prints it in "connection dropped (...)".
    pub fn text(self) -> std::borrow::Cow<'static, str> {
        let errno = match self {
            ConnError::Eof => return "End of file".into(),
            ConnError::Os(e) => e,
        };
        let s = match errno {
            1 => "Operation not permitted",
            2 => "No such file or directory",
            4 => "Interrupted system call",
            5 => "Input/output error",
            9 => "Bad file descriptor",
            11 => "Resource temporarily unavailable",
            12 => "Cannot allocate memory",
            13 => "Permission denied",
            22 => "Invalid argument",
            24 => "Too many open files",
            32 => "Broken pipe",
            71 => "Protocol error",
            90 => "Message too long",
            97 => "Address family not supported by protocol",
            98 => "Address already in use",
            99 => "Cannot assign requested address",
            100 => "Network is down",
            101 => "Network is unreachable",
            103 => "Software caused connection abort",
            104 => "Connection reset by peer",
            105 => "No buffer space available",
            107 => "Transport endpoint is not connected",
            110 => "Connection timed out",
            111 => "Connection refused",
            112 => "Host is down",
            113 => "No route to host",
            _ => return format!("Unknown error {errno}").into(),
        };
        s.into()
    }
}

impl fmt::Display for ConnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text())
    }
}

impl std::error::Error for ConnError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_match_glibc() {
        assert_eq!(ConnError::CONNECTION_REFUSED.to_string(), "Connection refused");
        assert_eq!(ConnError::TIMED_OUT.to_string(), "Connection timed out");
        assert_eq!(ConnError::PROTOCOL.to_string(), "Protocol error");
        assert_eq!(ConnError::CONNECTION_RESET.to_string(), "Connection reset by peer");
        assert_eq!(ConnError::Os(4242).to_string(), "Unknown error 4242");
    }

    #[test]
    fn io_errors_keep_their_errno() {
        let e = std::io::Error::from_raw_os_error(113);
        assert_eq!(ConnError::from_io(&e), ConnError::Os(113));
        let e = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        assert_eq!(ConnError::from_io(&e), ConnError::CONNECTION_REFUSED);
    }
}
