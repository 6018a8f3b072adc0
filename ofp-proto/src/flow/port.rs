//! OpenFlow port numbers as OVS keeps them internally: the 16-bit OF1.0 space, with OF1.1+'s
//! 32-bit reserved ports (0xffffff00 and up) mapped onto 0xff00 and up.
//!
//! A minimal copy for the flow family; the connection-level port module may supersede it.

use crate::errors::OfpErr;

/// Ports below this are physical or logical switch ports.
pub const OFPP_MAX: u16 = 0xff00;
/// OXM_OF_ACTSET_OUTPUT only: no output action yet.
pub const OFPP_UNSET: u16 = 0xfff7;
pub const OFPP_IN_PORT: u16 = 0xfff8;
pub const OFPP_TABLE: u16 = 0xfff9;
pub const OFPP_NORMAL: u16 = 0xfffa;
pub const OFPP_FLOOD: u16 = 0xfffb;
pub const OFPP_ALL: u16 = 0xfffc;
pub const OFPP_CONTROLLER: u16 = 0xfffd;
pub const OFPP_LOCAL: u16 = 0xfffe;
/// "Any port" in requests; "no port" (OFPP_NONE) in OF1.0 terms.
pub const OFPP_ANY: u16 = 0xffff;
pub const OFPP_NONE: u16 = 0xffff;

/// First OF1.1+ reserved port number (maps to OFPP_MAX).
const OFPP11_MAX: u32 = 0xffff_ff00;
const OFPP11_OFFSET: u32 = 0xffff_0000;

/// An OF1.1+ 32-bit port number in the internal 16-bit space; ports between the two ranges are
/// not representable (OFPBAC_BAD_OUT_PORT, as OVS `ofputil_port_from_ofp11`).
pub fn from_ofp11(port: u32) -> Result<u16, OfpErr> {
    if port < u32::from(OFPP_MAX) {
        Ok(port as u16)
    } else if port >= OFPP11_MAX {
        Ok((port - OFPP11_OFFSET) as u16)
    } else {
        Err(OfpErr::OFPBAC_BAD_OUT_PORT)
    }
}

pub fn to_ofp11(port: u16) -> u32 {
    if port < OFPP_MAX {
        u32::from(port)
    } else {
        u32::from(port) + OFPP11_OFFSET
    }
}

/// The reserved name OVS prints for `port`, if it has one.
pub fn reserved_name(port: u16) -> Option<&'static str> {
    Some(match port {
        OFPP_IN_PORT => "IN_PORT",
        OFPP_TABLE => "TABLE",
        OFPP_NORMAL => "NORMAL",
        OFPP_FLOOD => "FLOOD",
        OFPP_ALL => "ALL",
        OFPP_CONTROLLER => "CONTROLLER",
        OFPP_LOCAL => "LOCAL",
        OFPP_ANY => "ANY",
        OFPP_UNSET => "UNSET",
        _ => return None,
    })
}

/// OVS `ofputil_format_port` without a port-name map.
pub fn format(port: u16, out: &mut String) {
    match reserved_name(port) {
        Some(n) => out.push_str(n),
        None => out.push_str(&port.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ofp11_mapping() {
        assert_eq!(from_ofp11(5), Ok(5));
        assert_eq!(from_ofp11(0xffff_fffe), Ok(OFPP_LOCAL));
        assert_eq!(from_ofp11(0xffff_ff00), Ok(OFPP_MAX));
        assert_eq!(from_ofp11(0xff00), Err(OfpErr::OFPBAC_BAD_OUT_PORT));
        assert_eq!(to_ofp11(OFPP_CONTROLLER), 0xffff_fffd);
        assert_eq!(to_ofp11(7), 7);
        let mut s = String::new();
        format(OFPP_ANY, &mut s);
        format(12, &mut s);
        assert_eq!(s, "ANY12");
    }
}
