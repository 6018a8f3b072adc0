//! Upcalls as the datapath delivers them, and their classification (OVS `classify_upcall`).

use std::fmt;

use bytes::Bytes;

/// `DPIF_UC_MISS`: no datapath flow matched the packet.
pub const DPIF_UC_MISS: u32 = 0;
/// `DPIF_UC_ACTION`: a flow's `userspace` action sent the packet up, with a cookie in the userdata.
pub const DPIF_UC_ACTION: u32 = 1;

/// `enum user_action_cookie_type` values (first u16 of the cookie, host order).
pub const USER_ACTION_COOKIE_SFLOW: u16 = 1;
pub const USER_ACTION_COOKIE_SLOW_PATH: u16 = 2;
pub const USER_ACTION_COOKIE_FLOW_SAMPLE: u16 = 3;
pub const USER_ACTION_COOKIE_IPFIX: u16 = 4;

/// Sizes of the `union user_action_cookie` variants (2013 layout) and of the union itself.
pub const COOKIE_TYPE_SIZE: usize = 2;
pub const COOKIE_SFLOW_SIZE: usize = 8;
pub const COOKIE_SLOW_PATH_SIZE: usize = 8;
pub const COOKIE_FLOW_SAMPLE_SIZE: usize = 16;
pub const COOKIE_IPFIX_SIZE: usize = 2;
pub const COOKIE_MAX_SIZE: usize = 16;

/// One upcall as received from the datapath (OVS `struct dpif_upcall`). Zero-copy: every field is a slice of
/// the receive buffer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DpifUpcall {
    /// `DPIF_UC_*`; anything else is a bad upcall.
    pub kind: u32,
    /// Flow key: a run of `OVS_KEY_ATTR_*` netlink attributes (see [`crate::odp`]).
    pub key: Bytes,
    /// The packet, from its Ethernet header.
    pub packet: Bytes,
    /// Payload of `OVS_PACKET_ATTR_USERDATA` (the action cookie), if the datapath sent one.
    pub userdata: Option<Bytes>,
}

/// Where a well-formed upcall goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UpcallType {
    /// A flow miss, or a packet of a slow-pathed flow: goes to a handler.
    Miss,
    /// Per-bridge sFlow sample: goes to the main thread.
    SFlow,
    /// Per-flow sample: goes to the main thread.
    FlowSample,
    /// Per-bridge IPFIX sample: goes to the main thread.
    Ipfix,
}

/// Why an upcall was rejected; `Display` gives OVS's log text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BadUpcall {
    UnexpectedType(u32),
    MissingCookie,
    CookieSize(usize),
    InvalidCookie { cookie_type: u16, size: usize },
}

impl fmt::Display for BadUpcall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            BadUpcall::UnexpectedType(t) => write!(f, "upcall has unexpected type {t}"),
            BadUpcall::MissingCookie => f.write_str("action upcall missing cookie"),
            BadUpcall::CookieSize(n) => write!(f, "action upcall cookie has unexpected size {n}"),
            BadUpcall::InvalidCookie { cookie_type, size } => {
                write!(f, "invalid user cookie of type {cookie_type} and size {size}")
            }
        }
    }
}

/// Sorts an upcall by its type and, for action upcalls, by the cookie's type and exact size.
pub fn classify_upcall(upcall: &DpifUpcall) -> Result<UpcallType, BadUpcall> {
    match upcall.kind {
        DPIF_UC_MISS => return Ok(UpcallType::Miss),
        DPIF_UC_ACTION => {}
        other => return Err(BadUpcall::UnexpectedType(other)),
    }
    let cookie = upcall.userdata.as_deref().ok_or(BadUpcall::MissingCookie)?;
    let size = cookie.len();
    if !(COOKIE_TYPE_SIZE..=COOKIE_MAX_SIZE).contains(&size) {
        return Err(BadUpcall::CookieSize(size));
    }
    let cookie_type = u16::from_ne_bytes([cookie[0], cookie[1]]);
    match (cookie_type, size) {
        (USER_ACTION_COOKIE_SFLOW, COOKIE_SFLOW_SIZE) => Ok(UpcallType::SFlow),
        (USER_ACTION_COOKIE_SLOW_PATH, COOKIE_SLOW_PATH_SIZE) => Ok(UpcallType::Miss),
        (USER_ACTION_COOKIE_FLOW_SAMPLE, COOKIE_FLOW_SAMPLE_SIZE) => Ok(UpcallType::FlowSample),
        (USER_ACTION_COOKIE_IPFIX, COOKIE_IPFIX_SIZE) => Ok(UpcallType::Ipfix),
        _ => Err(BadUpcall::InvalidCookie { cookie_type, size }),
    }
}

/// A cookie of `cookie_type` padded to `size` bytes (for building action upcalls in tests and simulations).
pub fn cookie(cookie_type: u16, size: usize) -> Bytes {
    let mut c = vec![0u8; size.max(COOKIE_TYPE_SIZE)];
    c[..2].copy_from_slice(&cookie_type.to_ne_bytes());
    c.truncate(size);
    Bytes::from(c)
}

/// A non-miss upcall queued for the main thread.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Upcall {
    pub kind: UpcallType,
    pub upcall: DpifUpcall,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn action(userdata: Option<Bytes>) -> DpifUpcall {
        DpifUpcall { kind: DPIF_UC_ACTION, key: Bytes::new(), packet: Bytes::new(), userdata }
    }

    #[test]
    fn classifies_by_type_cookie_type_and_exact_size() {
        let miss = DpifUpcall { kind: DPIF_UC_MISS, key: Bytes::new(), packet: Bytes::new(), userdata: None };
        assert_eq!(classify_upcall(&miss), Ok(UpcallType::Miss));
        let cases = [
            (USER_ACTION_COOKIE_SFLOW, 8, Ok(UpcallType::SFlow)),
            (USER_ACTION_COOKIE_SLOW_PATH, 8, Ok(UpcallType::Miss)),
            (USER_ACTION_COOKIE_FLOW_SAMPLE, 16, Ok(UpcallType::FlowSample)),
            (USER_ACTION_COOKIE_IPFIX, 2, Ok(UpcallType::Ipfix)),
            (USER_ACTION_COOKIE_SFLOW, 16, Err(BadUpcall::InvalidCookie { cookie_type: 1, size: 16 })),
            (USER_ACTION_COOKIE_IPFIX, 8, Err(BadUpcall::InvalidCookie { cookie_type: 4, size: 8 })),
            (0, 8, Err(BadUpcall::InvalidCookie { cookie_type: 0, size: 8 })),
            (9, 2, Err(BadUpcall::InvalidCookie { cookie_type: 9, size: 2 })),
        ];
        for (t, size, want) in cases {
            assert_eq!(classify_upcall(&action(Some(cookie(t, size)))), want, "type {t} size {size}");
        }
    }

    #[test]
    fn rejects_bad_types_and_cookies_with_ovs_texts() {
        let odd = DpifUpcall { kind: 2, ..action(None) };
        let cases = [
            (odd, "upcall has unexpected type 2"),
            (action(None), "action upcall missing cookie"),
            (action(Some(Bytes::from_static(&[1]))), "action upcall cookie has unexpected size 1"),
            (action(Some(Bytes::from(vec![0u8; 17]))), "action upcall cookie has unexpected size 17"),
            (action(Some(cookie(USER_ACTION_COOKIE_SFLOW, 4))), "invalid user cookie of type 1 and size 4"),
        ];
        for (up, text) in cases {
            assert_eq!(classify_upcall(&up).unwrap_err().to_string(), text);
        }
    }
}
