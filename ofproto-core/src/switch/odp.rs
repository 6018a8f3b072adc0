//! Datapath actions (`OVS_ACTION_ATTR_*` netlink attributes, as translation hands them to the
//! datapath in `Xlated::actions`): the subset this switch emits, their encoding and decoding, and
//! their execution on a frame.

use bytes::Bytes;
use ofp_proto::flow::EthAddr;
use ofp_proto::flow::{IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP, VLAN_CFI};
use upcall_core::odp::{
    AttrBuilder, KeyAttrs, OVS_KEY_ATTR_ARP, OVS_KEY_ATTR_ETHERNET, OVS_KEY_ATTR_ICMP, OVS_KEY_ATTR_ICMPV6,
    OVS_KEY_ATTR_IPV4, OVS_KEY_ATTR_IPV6, OVS_KEY_ATTR_SCTP, OVS_KEY_ATTR_TCP, OVS_KEY_ATTR_UDP,
};

use super::packet;

pub const OVS_ACTION_ATTR_OUTPUT: u16 = 1;
pub const OVS_ACTION_ATTR_SET: u16 = 3;
pub const OVS_ACTION_ATTR_PUSH_VLAN: u16 = 4;
pub const OVS_ACTION_ATTR_POP_VLAN: u16 = 5;
pub const OVS_ACTION_ATTR_TRUNC: u16 = 13;

/// One datapath action. Set actions carry whole headers (OVS `commit_odp_actions` without
/// masks): every field of the header as the packet must leave.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DpAction {
    /// Send the frame to datapath port N.
    Output(u32),
    /// Cut the frame sent by the next output to at most N bytes.
    Trunc(u32),
    /// `tci` with VLAN_CFI set, as OVS's datapath wants it (the CFI bit is cleared on the wire).
    PushVlan {
        tpid: u16,
        tci: u16,
    },
    PopVlan,
    SetEth {
        src: EthAddr,
        dst: EthAddr,
    },
    SetIpv4 {
        src: u32,
        dst: u32,
        proto: u8,
        tos: u8,
        ttl: u8,
        frag: u8,
    },
    SetIpv6 {
        src: u128,
        dst: u128,
        label: u32,
        proto: u8,
        tclass: u8,
        hlimit: u8,
        frag: u8,
    },
    /// TCP, UDP or SCTP ports.
    SetPorts {
        proto: u8,
        src: u16,
        dst: u16,
    },
    /// ICMP or ICMPv6 type and code.
    SetIcmp {
        proto: u8,
        icmp_type: u8,
        code: u8,
    },
    SetArp {
        sip: u32,
        tip: u32,
        op: u16,
        sha: EthAddr,
        tha: EthAddr,
    },
}

fn l4_attr(proto: u8) -> Option<u16> {
    match proto {
        IPPROTO_TCP => Some(OVS_KEY_ATTR_TCP),
        IPPROTO_UDP => Some(OVS_KEY_ATTR_UDP),
        IPPROTO_SCTP => Some(OVS_KEY_ATTR_SCTP),
        _ => None,
    }
}

/// Appends `a` to a datapath action list.
pub(crate) fn put(b: &mut AttrBuilder, a: &DpAction) {
    let mut key = AttrBuilder::new();
    match *a {
        DpAction::Output(port) => {
            b.put_u32(OVS_ACTION_ATTR_OUTPUT, port);
            return;
        }
        DpAction::Trunc(len) => {
            b.put_u32(OVS_ACTION_ATTR_TRUNC, len);
            return;
        }
        DpAction::PushVlan { tpid, tci } => {
            let mut v = [0u8; 4];
            v[..2].copy_from_slice(&tpid.to_be_bytes());
            v[2..].copy_from_slice(&tci.to_be_bytes());
            b.put(OVS_ACTION_ATTR_PUSH_VLAN, &v);
            return;
        }
        DpAction::PopVlan => {
            b.put(OVS_ACTION_ATTR_POP_VLAN, &[]);
            return;
        }
        DpAction::SetEth { src, dst } => key.ethernet(src.0, dst.0),
        DpAction::SetIpv4 { src, dst, proto, tos, ttl, frag } => key.ipv4(src, dst, proto, tos, ttl, frag),
        DpAction::SetIpv6 { src, dst, label, proto, tclass, hlimit, frag } => {
            let mut v = [0u8; 40];
            v[..16].copy_from_slice(&src.to_be_bytes());
            v[16..32].copy_from_slice(&dst.to_be_bytes());
            v[32..36].copy_from_slice(&label.to_be_bytes());
            v[36..].copy_from_slice(&[proto, tclass, hlimit, frag]);
            key.put(OVS_KEY_ATTR_IPV6, &v)
        }
        DpAction::SetPorts { proto, src, dst } => match l4_attr(proto) {
            Some(t) => key.l4_ports(t, src, dst),
            None => return,
        },
        DpAction::SetIcmp { proto, icmp_type, code } => {
            let t = if proto == IPPROTO_ICMPV6 { OVS_KEY_ATTR_ICMPV6 } else { OVS_KEY_ATTR_ICMP };
            key.put(t, &[icmp_type, code])
        }
        DpAction::SetArp { sip, tip, op, sha, tha } => {
            let mut v = [0u8; 24];
            v[..4].copy_from_slice(&sip.to_be_bytes());
            v[4..8].copy_from_slice(&tip.to_be_bytes());
            v[8..10].copy_from_slice(&op.to_be_bytes());
            v[10..16].copy_from_slice(&sha.0);
            v[16..22].copy_from_slice(&tha.0);
            key.put(OVS_KEY_ATTR_ARP, &v)
        }
    };
    b.put(OVS_ACTION_ATTR_SET, &key.finish());
}

fn arr<const N: usize>(p: &[u8], at: usize) -> Option<[u8; N]> {
    p.get(at..at + N)?.try_into().ok()
}

fn u32_at(p: &[u8], at: usize) -> Option<u32> {
    arr::<4>(p, at).map(u32::from_be_bytes)
}

fn set_action(attr: u16, v: &[u8]) -> Option<DpAction> {
    let fixed = upcall_core::odp::key_attr_len(attr)?;
    if v.len() != fixed {
        return None;
    }
    Some(match attr {
        OVS_KEY_ATTR_ETHERNET => DpAction::SetEth { src: EthAddr(arr(v, 0)?), dst: EthAddr(arr(v, 6)?) },
        OVS_KEY_ATTR_IPV4 => DpAction::SetIpv4 {
            src: u32_at(v, 0)?,
            dst: u32_at(v, 4)?,
            proto: v[8],
            tos: v[9],
            ttl: v[10],
            frag: v[11],
        },
        OVS_KEY_ATTR_IPV6 => DpAction::SetIpv6 {
            src: u128::from_be_bytes(arr(v, 0)?),
            dst: u128::from_be_bytes(arr(v, 16)?),
            label: u32_at(v, 32)?,
            proto: v[36],
            tclass: v[37],
            hlimit: v[38],
            frag: v[39],
        },
        OVS_KEY_ATTR_TCP | OVS_KEY_ATTR_UDP | OVS_KEY_ATTR_SCTP => {
            let proto = match attr {
                OVS_KEY_ATTR_TCP => IPPROTO_TCP,
                OVS_KEY_ATTR_UDP => IPPROTO_UDP,
                _ => IPPROTO_SCTP,
            };
            let [s0, s1, d0, d1] = arr(v, 0)?;
            DpAction::SetPorts { proto, src: u16::from_be_bytes([s0, s1]), dst: u16::from_be_bytes([d0, d1]) }
        }
        OVS_KEY_ATTR_ICMP | OVS_KEY_ATTR_ICMPV6 => {
            let proto = if attr == OVS_KEY_ATTR_ICMP { IPPROTO_ICMP } else { IPPROTO_ICMPV6 };
            DpAction::SetIcmp { proto, icmp_type: v[0], code: v[1] }
        }
        OVS_KEY_ATTR_ARP => DpAction::SetArp {
            sip: u32_at(v, 0)?,
            tip: u32_at(v, 4)?,
            op: u16::from_be_bytes(arr(v, 8)?),
            sha: EthAddr(arr(v, 10)?),
            tha: EthAddr(arr(v, 16)?),
        },
        _ => return None,
    })
}

/// The actions of a datapath action list, in order; attributes this switch does not emit (or
/// malformed ones) are skipped.
pub(crate) fn decode(actions: &[u8]) -> impl Iterator<Item = DpAction> + '_ {
    KeyAttrs::new(actions).filter_map(|(t, v)| match t {
        OVS_ACTION_ATTR_OUTPUT => {
            arr::<4>(v, 0).filter(|_| v.len() == 4).map(|b| DpAction::Output(u32::from_ne_bytes(b)))
        }
        OVS_ACTION_ATTR_TRUNC => {
            arr::<4>(v, 0).filter(|_| v.len() == 4).map(|b| DpAction::Trunc(u32::from_ne_bytes(b)))
        }
        OVS_ACTION_ATTR_PUSH_VLAN => {
            let [a, b, c, d] = arr(v, 0).filter(|_| v.len() == 4)?;
            Some(DpAction::PushVlan { tpid: u16::from_be_bytes([a, b]), tci: u16::from_be_bytes([c, d]) })
        }
        OVS_ACTION_ATTR_POP_VLAN => v.is_empty().then_some(DpAction::PopVlan),
        OVS_ACTION_ATTR_SET => KeyAttrs::new(v).next().and_then(|(k, kv)| set_action(k, kv)),
        _ => None,
    })
}

/// A frame being acted on: shared with the input until an action changes it.
#[derive(Clone, Debug)]
pub(crate) struct Frame {
    shared: Bytes,
    owned: Option<Vec<u8>>,
}

impl Frame {
    pub fn new(b: Bytes) -> Frame {
        Frame { shared: b, owned: None }
    }

    pub fn data(&self) -> &[u8] {
        self.owned.as_deref().unwrap_or(&self.shared)
    }

    fn make_mut(&mut self) -> &mut Vec<u8> {
        let shared = &self.shared;
        self.owned.get_or_insert_with(|| shared.to_vec())
    }

    /// The frame's first `max` bytes (all of it when shorter).
    pub fn head(&self, max: usize) -> Bytes {
        let n = self.data().len().min(max);
        match &self.owned {
            Some(v) => Bytes::copy_from_slice(&v[..n]),
            None => self.shared.slice(..n),
        }
    }

    /// Applies a header-changing action (outputs and truncation are the executor's).
    fn apply(&mut self, a: &DpAction) {
        match *a {
            DpAction::Output(_) | DpAction::Trunc(_) => {}
            DpAction::PushVlan { tpid, tci } => packet::push_vlan(self.make_mut(), tpid, tci & !VLAN_CFI),
            DpAction::PopVlan => packet::pop_vlan(self.make_mut()),
            DpAction::SetEth { src, dst } => packet::set_eth(self.make_mut(), src.0, dst.0),
            DpAction::SetIpv4 { src, dst, tos, ttl, .. } => packet::set_ipv4(self.make_mut(), src, dst, tos, ttl),
            DpAction::SetIpv6 { src, dst, label, tclass, hlimit, .. } => {
                packet::set_ipv6(self.make_mut(), src, dst, label, tclass, hlimit)
            }
            DpAction::SetPorts { proto, src, dst } => packet::set_ports(self.make_mut(), proto, src, dst),
            DpAction::SetIcmp { proto, icmp_type, code } => packet::set_icmp(self.make_mut(), proto, icmp_type, code),
            DpAction::SetArp { sip, tip, op, sha, tha } => packet::set_arp(self.make_mut(), op, sip, tip, sha.0, tha.0),
        }
    }
}

/// Runs datapath actions on a frame, one at a time.
#[derive(Clone, Debug)]
pub(crate) struct Executor {
    frame: Frame,
    /// Set by a truncate action, used up by the next output.
    trunc: Option<usize>,
}

impl Executor {
    pub fn new(frame: Bytes) -> Executor {
        Executor { frame: Frame::new(frame), trunc: None }
    }

    pub fn frame(&self) -> &Frame {
        &self.frame
    }

    /// Carries out `a`; an output hands (datapath port, frame as sent) to `out`.
    pub fn step(&mut self, a: &DpAction, out: impl FnOnce(u32, Bytes)) {
        match *a {
            DpAction::Output(port) => out(port, self.frame.head(self.trunc.take().unwrap_or(usize::MAX))),
            DpAction::Trunc(n) => self.trunc = Some(n as usize),
            _ => self.frame.apply(a),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_round_trips_through_netlink() {
        let all = [
            DpAction::Output(3),
            DpAction::Trunc(64),
            DpAction::PushVlan { tpid: 0x8100, tci: 0x1005 },
            DpAction::PopVlan,
            DpAction::SetEth { src: EthAddr([1, 2, 3, 4, 5, 6]), dst: EthAddr([6, 5, 4, 3, 2, 1]) },
            DpAction::SetIpv4 { src: 1, dst: 2, proto: 6, tos: 4, ttl: 63, frag: 0 },
            DpAction::SetIpv6 { src: 1 << 100, dst: 7, label: 0x12345, proto: 17, tclass: 1, hlimit: 2, frag: 0 },
            DpAction::SetPorts { proto: IPPROTO_TCP, src: 80, dst: 443 },
            DpAction::SetPorts { proto: IPPROTO_UDP, src: 1, dst: 2 },
            DpAction::SetPorts { proto: IPPROTO_SCTP, src: 3, dst: 4 },
            DpAction::SetIcmp { proto: IPPROTO_ICMP, icmp_type: 8, code: 0 },
            DpAction::SetIcmp { proto: IPPROTO_ICMPV6, icmp_type: 128, code: 0 },
            DpAction::SetArp { sip: 1, tip: 2, op: 2, sha: EthAddr([9; 6]), tha: EthAddr([8; 6]) },
        ];
        let mut b = AttrBuilder::new();
        all.iter().for_each(|a| put(&mut b, a));
        let bytes = b.finish();
        assert_eq!(decode(&bytes).collect::<Vec<_>>(), all);
        // Output is a host-order u32, as OVS's netlink actions are.
        let mut output = 8u16.to_ne_bytes().to_vec();
        output.extend_from_slice(&OVS_ACTION_ATTR_OUTPUT.to_ne_bytes());
        output.extend_from_slice(&3u32.to_ne_bytes());
        assert_eq!(&bytes[..8], &output[..]);
    }

    #[test]
    fn truncation_applies_to_the_next_output_only() {
        let mut ex = Executor::new(Bytes::from_static(&[7; 100]));
        let mut sent = Vec::new();
        for a in [DpAction::Trunc(20), DpAction::Output(1), DpAction::Output(2)] {
            ex.step(&a, |p, b| sent.push((p, b.len())));
        }
        assert_eq!(sent, [(1, 20), (2, 100)]);
    }

    #[test]
    fn garbage_decodes_to_nothing_without_panicking() {
        let junk = [4u8, 0, 3, 0, 0xff, 9, 9, 9, 12, 0, 1, 0, 1, 2];
        assert_eq!(decode(&junk).count(), 0);
    }
}
