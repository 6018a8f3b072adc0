//! A connection's name for log lines and its target, kept in one shared allocation.
//!
//! OVS names a connection "BRIDGE<->TARGET" (`br0<->tcp:127.0.0.1:6653`), so the target is usually a
//! suffix of the name and needs no storage of its own; the rconn and its vconn share the text.

use std::fmt;
use std::sync::Arc;

#[derive(Clone)]
pub struct ConnName {
    text: Arc<str>,
    name_len: u32,
    target_start: u32,
}

impl ConnName {
    /// `name` defaults to the target itself.
    pub fn new(target: &str, name: Option<&str>) -> ConnName {
        let name = name.unwrap_or(target);
        let (text, target_start): (Arc<str>, usize) = match name.strip_suffix(target) {
            Some(head) => (name.into(), head.len()),
            None => ([name, target].concat().into(), name.len()),
        };
        match (u32::try_from(name.len()), u32::try_from(target_start)) {
            (Ok(name_len), Ok(target_start)) => ConnName { text, name_len, target_start },
            // Only names of gigabytes get here; nobody reads such a log line.
            _ => ConnName { text: "?".into(), name_len: 1, target_start: 0 },
        }
    }

    /// For log lines: "br0<->tcp:127.0.0.1:6653".
    pub fn name(&self) -> &str {
        &self.text[..self.name_len as usize]
    }

    /// What was connected to: "tcp:127.0.0.1:6653".
    pub fn target(&self) -> &str {
        &self.text[self.target_start as usize..]
    }
}

impl From<&str> for ConnName {
    fn from(target: &str) -> ConnName {
        ConnName::new(target, None)
    }
}

impl fmt::Debug for ConnName {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{:?} ({:?})", self.name(), self.target())
    }
}

impl fmt::Display for ConnName {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_target_that_ends_the_name_is_not_stored_twice() {
        let n = ConnName::new("tcp:127.0.0.1:6653", Some("br0<->tcp:127.0.0.1:6653"));
        assert_eq!((n.name(), n.target()), ("br0<->tcp:127.0.0.1:6653", "tcp:127.0.0.1:6653"));
        assert_eq!(n.text.len(), "br0<->tcp:127.0.0.1:6653".len());
    }

    #[test]
    fn any_other_name_is_kept_next_to_the_target() {
        let n = ConnName::new("tcp:127.0.0.1:6653", Some("controller"));
        assert_eq!((n.name(), n.target()), ("controller", "tcp:127.0.0.1:6653"));
        let n = ConnName::new("unix:/run/x", None);
        assert_eq!((n.name(), n.target()), ("unix:/run/x", "unix:/run/x"));
        // Multi-byte text splits on the boundaries it was built from.
        let n = ConnName::new("tcp:[::1]:6653", Some("пример"));
        assert_eq!((n.name(), n.target()), ("пример", "tcp:[::1]:6653"));
    }
}
