//! OpenFlow port numbers: the OF1.1+ 32-bit space this codec uses everywhere, its mapping to and
//! from OF1.0's 16-bit numbers, and the names `ovs-ofctl` prints for reserved ports.
//!
//! OVS keeps port numbers in OF1.0's 16-bit space and maps OF1.1+ wire values into it; this codec
//! keeps them in the OF1.1+ space instead. The two are equivalent because both sides accept the
//! same numbers: physical ports 0..0xff00 and the reserved block 0xffffff00.. (0xff00.. in OF1.0).
//! Numbers in between are never produced by a decoder (`from_ofp11` rejects them as OVS does).

use crate::errors::OfpErr;

/// First number of the reserved block; physical ports are below `MAX_PHYSICAL`.
pub const MAX: u32 = 0xffff_ff00;
/// Largest physical port number plus one (OF1.0 `OFPP_MAX`).
pub const MAX_PHYSICAL: u32 = 0xff00;
/// What must be added to an OF1.0 reserved port number to get its OF1.1+ number.
pub const OFP11_OFFSET: u32 = 0xffff_0000;

pub const UNSET: u32 = 0xffff_fff7;
pub const IN_PORT: u32 = 0xffff_fff8;
pub const TABLE: u32 = 0xffff_fff9;
pub const NORMAL: u32 = 0xffff_fffa;
pub const FLOOD: u32 = 0xffff_fffb;
pub const ALL: u32 = 0xffff_fffc;
pub const CONTROLLER: u32 = 0xffff_fffd;
pub const LOCAL: u32 = 0xffff_fffe;
/// `OFPP_ANY` in OF1.1+, `OFPP_NONE` in OF1.0.
pub const ANY: u32 = 0xffff_ffff;

/// OF1.0's `OFPP_NONE`, what an unrepresentable number becomes in an OF1.0 message.
pub const OFP10_NONE: u16 = 0xffff;

/// The OF1.1+ number for an OF1.0 wire port number.
pub fn ofp10_to_ofp11(port: u16) -> u32 {
    let p = u32::from(port);
    if p < MAX_PHYSICAL {
        p
    } else {
        p + OFP11_OFFSET
    }
}

/// The OF1.0 number for `port`, or `None` if `port` lies between the physical range and the
/// reserved block (OF1.0 cannot express it).
pub fn ofp11_to_ofp10(port: u32) -> Option<u16> {
    if port < MAX_PHYSICAL {
        Some(port as u16)
    } else if port >= MAX {
        Some((port - OFP11_OFFSET) as u16)
    } else {
        None
    }
}

/// What to write in an OF1.0 message for `port`: its OF1.0 number, or `OFPP_NONE` if it has none.
pub fn to_ofp10_wire(port: u32) -> u16 {
    ofp11_to_ofp10(port).unwrap_or(OFP10_NONE)
}

/// Validates an OF1.1+ wire port number as OVS does (`ofputil_port_from_ofp11`): numbers between
/// the physical range and the reserved block fail with OFPBAC_BAD_OUT_PORT.
pub fn from_ofp11(port: u32) -> Result<u32, OfpErr> {
    match ofp11_to_ofp10(port) {
        Some(_) => Ok(port),
        None => Err(OfpErr::OFPBAC_BAD_OUT_PORT),
    }
}

/// The name OVS gives a reserved port (`ofputil_port_get_reserved_name`), if `port` has one.
pub fn reserved_name(port: u32) -> Option<&'static str> {
    Some(match port {
        IN_PORT => "IN_PORT",
        TABLE => "TABLE",
        NORMAL => "NORMAL",
        FLOOD => "FLOOD",
        ALL => "ALL",
        CONTROLLER => "CONTROLLER",
        LOCAL => "LOCAL",
        ANY => "ANY",
        UNSET => "UNSET",
        _ => return None,
    })
}

/// Appends `port` as `ovs-ofctl` prints it: a reserved name, else the number OVS holds for it
/// (reserved-block numbers in their OF1.0 16-bit form, as OVS keeps them).
pub fn format_port(port: u32, out: &mut String) {
    match (reserved_name(port), ofp11_to_ofp10(port)) {
        (Some(name), _) => out.push_str(name),
        (None, Some(p16)) => out.push_str(&p16.to_string()),
        (None, None) => out.push_str(&port.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mapping_between_of10_and_of11() {
        assert_eq!(ofp10_to_ofp11(1), 1);
        assert_eq!(ofp10_to_ofp11(0xfeff), 0xfeff);
        assert_eq!(ofp10_to_ofp11(0xff00), 0xffff_ff00);
        assert_eq!(ofp10_to_ofp11(0xfffe), LOCAL);
        assert_eq!(ofp10_to_ofp11(0xffff), ANY);
        assert_eq!(ofp11_to_ofp10(LOCAL), Some(0xfffe));
        assert_eq!(ofp11_to_ofp10(0xff00), None);
        assert_eq!(ofp11_to_ofp10(0xffff_feff), None);
        assert_eq!(to_ofp10_wire(0x1_0000), 0xffff);
        for p in [0u16, 7, 0xfeff, 0xff00, 0xfff7, 0xffff] {
            assert_eq!(ofp11_to_ofp10(ofp10_to_ofp11(p)), Some(p));
        }
    }

    #[test]
    fn of11_numbers_in_the_gap_are_rejected_like_ovs() {
        assert_eq!(from_ofp11(0xfeff), Ok(0xfeff));
        assert_eq!(from_ofp11(0xff00), Err(OfpErr::OFPBAC_BAD_OUT_PORT));
        assert_eq!(from_ofp11(0xffff_feff), Err(OfpErr::OFPBAC_BAD_OUT_PORT));
        assert_eq!(from_ofp11(0xffff_ff00), Ok(0xffff_ff00));
    }

    #[test]
    fn names_as_ovs_prints_them() {
        let f = |p| {
            let mut s = String::new();
            format_port(p, &mut s);
            s
        };
        assert_eq!(f(3), "3");
        assert_eq!(f(LOCAL), "LOCAL");
        assert_eq!(f(ANY), "ANY");
        assert_eq!(f(CONTROLLER), "CONTROLLER");
        assert_eq!(f(IN_PORT), "IN_PORT");
        assert_eq!(f(UNSET), "UNSET");
        // Unnamed reserved numbers print in OVS's 16-bit form.
        assert_eq!(f(0xffff_ff00), "65280");
        assert_eq!(f(0x1_0000), "65536");
    }
}
