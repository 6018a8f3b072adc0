//! What the packet path carries out, checked when a flow mod adds or changes instructions and when
//! a packet out arrives (OVS `ofproto_check_ofpacts`): this switch has no groups and no meters, so
//! group actions fail as for a group that does not exist and meters as for a meter that does not
//! exist; actions the packet path does not implement are refused rather than silently ignored.

use ofp_proto::actions::Action;
use ofp_proto::instructions::Instructions;
use ofp_proto::mf::MfId;
use ofp_proto::OfpErr;

/// Fields `set_field` (and `load`) may write: the translation changes them in the flow, and the
/// datapath's set actions carry the changes to the frame.
pub(crate) fn settable(field: MfId) -> bool {
    use MfId::*;
    matches!(
        field,
        TunId
            | Metadata
            | InPort
            | InPortOxm
            | PktMark
            | Reg0
            | Reg1
            | Reg2
            | Reg3
            | Reg4
            | Reg5
            | Reg6
            | Reg7
            | Reg8
            | Reg9
            | Reg10
            | Reg11
            | Reg12
            | Reg13
            | Reg14
            | Reg15
            | Xreg0
            | Xreg1
            | Xreg2
            | Xreg3
            | Xreg4
            | Xreg5
            | Xreg6
            | Xreg7
            | EthSrc
            | EthDst
            | VlanTci
            | VlanVid
            | VlanPcp
            | Ipv4Src
            | Ipv4Dst
            | Ipv6Src
            | Ipv6Dst
            | Ipv6Label
            | IpDscp
            | IpDscpShifted
            | IpEcn
            | IpTtl
            | ArpOp
            | ArpSpa
            | ArpTpa
            | ArpSha
            | ArpTha
            | TcpSrc
            | TcpDst
            | UdpSrc
            | UdpDst
            | SctpSrc
            | SctpDst
            | Icmpv4Type
            | Icmpv4Code
            | Icmpv6Type
            | Icmpv6Code
    )
}

fn check_action(a: &Action) -> Result<(), OfpErr> {
    match a {
        Action::Group(_) => Err(OfpErr::OFPBAC_BAD_OUT_GROUP),
        Action::Meter(_) => Err(OfpErr::OFPMMFC_INVALID_METER),
        // Pausing needs continuations (NXT_RESUME), which this switch does not have.
        Action::Controller(c) if c.pause => Err(OfpErr::OFPBAC_BAD_TYPE),
        Action::SetField(sf) if !settable(sf.field) => Err(OfpErr::OFPBAC_BAD_SET_TYPE),
        _ => Ok(()),
    }
}

/// Checks `actions` (a packet out's) in order; the first problem wins, as in OVS.
pub(crate) fn check_actions(actions: &[Action]) -> Result<(), OfpErr> {
    actions.iter().try_for_each(check_action)
}

/// The [`crate::ActionCheck`] the switch gives its tables.
pub(crate) fn check_instructions(ins: &Instructions) -> Result<(), OfpErr> {
    if ins.meter.is_some() {
        return Err(OfpErr::OFPMMFC_INVALID_METER);
    }
    check_actions(&ins.apply)?;
    ins.write_actions.as_deref().map_or(Ok(()), check_actions)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ofp_proto::actions::{Controller, SetField};

    #[test]
    fn groups_meters_pauses_and_unwritable_fields_are_refused() {
        let out = Action::Output { port: 1, max_len: 0 };
        assert_eq!(check_actions(&[out.clone(), Action::Group(1)]), Err(OfpErr::OFPBAC_BAD_OUT_GROUP));
        assert_eq!(check_actions(&[Action::Meter(1)]), Err(OfpErr::OFPMMFC_INVALID_METER));
        let pause = Controller { pause: true, ..Controller::default() };
        assert_eq!(check_actions(&[Action::Controller(pause)]), Err(OfpErr::OFPBAC_BAD_TYPE));
        assert_eq!(
            check_actions(&[Action::SetField(SetField::new(MfId::MplsLabel, 5))]),
            Err(OfpErr::OFPBAC_BAD_SET_TYPE)
        );
        assert_eq!(check_actions(&[out.clone(), Action::SetField(SetField::new(MfId::Ipv4Dst, 1))]), Ok(()));
        let ins = Instructions { meter: Some(1), ..Instructions::apply([out.clone()]) };
        assert_eq!(check_instructions(&ins), Err(OfpErr::OFPMMFC_INVALID_METER));
        let ins =
            Instructions { write_actions: Some([Action::Group(3)].into_iter().collect()), ..Instructions::default() };
        assert_eq!(check_instructions(&ins), Err(OfpErr::OFPBAC_BAD_OUT_GROUP));
    }
}
