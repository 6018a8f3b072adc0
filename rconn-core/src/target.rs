//! OpenFlow connection names in OVS syntax: `tcp:IP[:PORT]`, `ssl:IP[:PORT]`, `unix:PATH` (active) and
//! `ptcp:[PORT][:IP]`, `pssl:[PORT][:IP]`, `punix:PATH` (passive). Parsing only; no sockets here.

use core::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::fmt;

/// The IANA OpenFlow port, OVS's default for every TCP and SSL target.
pub const OFP_PORT: u16 = 6653;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Target {
    Tcp(SocketAddr),
    Ssl(SocketAddr),
    Unix(String),
    PTcp(SocketAddr),
    PSsl(SocketAddr),
    PUnix(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TargetError {
    /// No recognised `scheme:` prefix.
    UnknownScheme(String),
    /// The address part does not parse (e.g. a host name, a bad port).
    BadAddress(String, &'static str),
}

impl fmt::Display for TargetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TargetError::UnknownScheme(t) => {
                write!(f, "{t}: unknown connection type (expected tcp:, ssl:, unix:, ptcp:, pssl: or punix:)")
            }
            TargetError::BadAddress(t, why) => write!(f, "{t}: {why}"),
        }
    }
}

impl std::error::Error for TargetError {}

impl Target {
    pub fn parse(s: &str) -> Result<Target, TargetError> {
        let (scheme, rest) = s.split_once(':').ok_or_else(|| TargetError::UnknownScheme(s.to_string()))?;
        let bad = |why| TargetError::BadAddress(s.to_string(), why);
        match scheme {
            "tcp" => parse_active(rest).map(Target::Tcp).map_err(bad),
            "ssl" => parse_active(rest).map(Target::Ssl).map_err(bad),
            "ptcp" => parse_passive(rest).map(Target::PTcp).map_err(bad),
            "pssl" => parse_passive(rest).map(Target::PSsl).map_err(bad),
            "unix" | "punix" if rest.is_empty() => Err(bad("path must be specified")),
            "unix" => Ok(Target::Unix(rest.to_string())),
            "punix" => Ok(Target::PUnix(rest.to_string())),
            _ => Err(TargetError::UnknownScheme(s.to_string())),
        }
    }

    /// Passive targets listen and accept; active ones connect out.
    pub fn is_passive(&self) -> bool {
        matches!(self, Target::PTcp(_) | Target::PSsl(_) | Target::PUnix(_))
    }

    /// True for `unix:`/`punix:` — OVS turns inactivity probes off on local sockets.
    pub fn is_unix(&self) -> bool {
        matches!(self, Target::Unix(_) | Target::PUnix(_))
    }

    pub fn is_ssl(&self) -> bool {
        matches!(self, Target::Ssl(_) | Target::PSsl(_))
    }
}

impl fmt::Display for Target {
    /// The canonical name, e.g. `tcp:127.0.0.1:6653`, `ptcp:6634:127.0.0.1`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let host = |a: &SocketAddr| match a.ip() {
            IpAddr::V4(ip) => ip.to_string(),
            IpAddr::V6(ip) => format!("[{ip}]"),
        };
        match self {
            Target::Tcp(a) => write!(f, "tcp:{}:{}", host(a), a.port()),
            Target::Ssl(a) => write!(f, "ssl:{}:{}", host(a), a.port()),
            Target::Unix(p) => write!(f, "unix:{p}"),
            Target::PTcp(a) => write!(f, "ptcp:{}:{}", a.port(), host(a)),
            Target::PSsl(a) => write!(f, "pssl:{}:{}", a.port(), host(a)),
            Target::PUnix(p) => write!(f, "punix:{p}"),
        }
    }
}

/// Splits "HOST[:PORT]" or "[V6HOST][:PORT]".
fn host_port(s: &str) -> (&str, Option<&str>) {
    if let Some(rest) = s.strip_prefix('[') {
        if let Some((h, tail)) = rest.split_once(']') {
            return (h, tail.strip_prefix(':'));
        }
    }
    match s.split_once(':') {
        Some((h, p)) if !p.contains(':') => (h, Some(p)),
        Some(_) => (s, None),
        None => (s, None),
    }
}

fn parse_port(p: Option<&str>) -> Result<u16, &'static str> {
    match p {
        None | Some("") => Ok(OFP_PORT),
        Some(p) => p.parse().map_err(|_| "bad port number"),
    }
}

fn parse_active(s: &str) -> Result<SocketAddr, &'static str> {
    let (host, port) = host_port(s);
    if host.is_empty() {
        return Err("host must be specified");
    }
    let ip: IpAddr = host.parse().map_err(|_| "bad IP address (host names are not resolved)")?;
    Ok(SocketAddr::new(ip, parse_port(port)?))
}

/// `[PORT][:IP]`: port first, then an optional address to bind (any address by default).
fn parse_passive(s: &str) -> Result<SocketAddr, &'static str> {
    let (port, ip) = match s.split_once(':') {
        Some((p, ip)) => (p, Some(ip)),
        None => (s, None),
    };
    let port = parse_port(Some(port))?;
    let ip = match ip {
        None | Some("") => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        Some(ip) => ip.trim_start_matches('[').trim_end_matches(']').parse().map_err(|_| "bad IP address")?,
    };
    Ok(SocketAddr::new(ip, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> String {
        Target::parse(s).map(|t| t.to_string()).unwrap_or_else(|e| e.to_string())
    }

    #[test]
    fn ovs_syntax_and_defaults() {
        assert_eq!(t("tcp:127.0.0.1"), "tcp:127.0.0.1:6653");
        assert_eq!(t("tcp:10.0.0.1:6633"), "tcp:10.0.0.1:6633");
        assert_eq!(t("tcp:[::1]:6634"), "tcp:[::1]:6634");
        assert_eq!(t("ptcp:"), "ptcp:6653:0.0.0.0");
        assert_eq!(t("ptcp:6634:127.0.0.1"), "ptcp:6634:127.0.0.1");
        assert_eq!(t("ptcp:6634"), "ptcp:6634:0.0.0.0");
        assert_eq!(t("ptcp:6634:[::1]"), "ptcp:6634:[::1]");
        assert_eq!(t("unix:/run/x.sock"), "unix:/run/x.sock");
        assert!(Target::parse("punix:/tmp/a").unwrap().is_passive());
        assert!(Target::parse("ssl:1.2.3.4").unwrap().is_ssl());
    }

    #[test]
    fn errors_are_clear() {
        assert_eq!(
            t("udp:1.2.3.4"),
            "udp:1.2.3.4: unknown connection type (expected tcp:, ssl:, unix:, ptcp:, pssl: or punix:)"
        );
        assert_eq!(t("tcp:"), "tcp:: host must be specified");
        assert_eq!(t("tcp:example.com"), "tcp:example.com: bad IP address (host names are not resolved)");
        assert_eq!(t("tcp:1.2.3.4:99999"), "tcp:1.2.3.4:99999: bad port number");
        assert_eq!(t("unix:"), "unix:: path must be specified");
        assert_eq!(
            t("nonsense"),
            "nonsense: unknown connection type (expected tcp:, ssl:, unix:, ptcp:, pssl: or punix:)"
        );
    }
}
