//! Ports: the version-independent port description (OVS `ofputil_phy_port`) in its OF1.0, OF1.1–1.3
//! and OF1.4+ layouts, and the messages that carry it: port status, port mod, port description.

use bytes::{BufMut, Bytes, BytesMut};

use crate::buf::Reader;
use crate::errors::OfpErr;
use crate::flow::EthAddr;
use crate::header::{OFP10_VERSION, OFP11_VERSION, OFP14_VERSION};
use crate::msg::{multipart, Body, Cx};
use crate::port_no;
use crate::print::put_bit_names;
use crate::prop;
use crate::raw::{MsgType, Raw};

/// Port config bits (OVS `OFPUTIL_PC_*`, the wire `OFPPC_*` values).
pub mod config {
    pub const PORT_DOWN: u32 = 1 << 0;
    /// OF1.0 only.
    pub const NO_STP: u32 = 1 << 1;
    pub const NO_RECV: u32 = 1 << 2;
    /// OF1.0 only.
    pub const NO_RECV_STP: u32 = 1 << 3;
    /// OF1.0 only.
    pub const NO_FLOOD: u32 = 1 << 4;
    pub const NO_FWD: u32 = 1 << 5;
    pub const NO_PACKET_IN: u32 = 1 << 6;

    /// The bits `version` can carry (`OFPPC10_ALL` / `OFPPC11_ALL`).
    pub fn all(version: u8) -> u32 {
        if version == crate::header::OFP10_VERSION {
            0x7f
        } else {
            PORT_DOWN | NO_RECV | NO_FWD | NO_PACKET_IN
        }
    }

    pub(crate) fn name(bit: u32) -> Option<&'static str> {
        Some(match bit {
            PORT_DOWN => "PORT_DOWN",
            NO_STP => "NO_STP",
            NO_RECV => "NO_RECV",
            NO_RECV_STP => "NO_RECV_STP",
            NO_FLOOD => "NO_FLOOD",
            NO_FWD => "NO_FWD",
            NO_PACKET_IN => "NO_PACKET_IN",
            _ => return None,
        })
    }
}

/// Port state bits (OVS `OFPUTIL_PS_*`): OF1.0 has the 2-bit STP field, OF1.1+ BLOCKED and LIVE.
pub mod state {
    pub const LINK_DOWN: u32 = 1 << 0;
    pub const BLOCKED: u32 = 1 << 1;
    pub const LIVE: u32 = 1 << 2;
    pub const STP_LISTEN: u32 = 0;
    pub const STP_LEARN: u32 = 1 << 8;
    pub const STP_FORWARD: u32 = 2 << 8;
    pub const STP_BLOCK: u32 = 3 << 8;
    pub const STP_MASK: u32 = 3 << 8;

    /// The bits `version` can carry (`OFPPS10_ALL` / `OFPPS11_ALL`).
    pub fn all(version: u8) -> u32 {
        if version == crate::header::OFP10_VERSION {
            LINK_DOWN | STP_MASK
        } else {
            LINK_DOWN | BLOCKED | LIVE
        }
    }

    /// OVS's text: the STP state first (nothing for STP_LISTEN, which is what 0 means), then the
    /// other bits; like OVS, no separator between the two parts.
    pub(crate) fn format(state: u32, out: &mut String) {
        let name = |bit| match bit {
            LINK_DOWN => Some("LINK_DOWN"),
            BLOCKED => Some("BLOCKED"),
            LIVE => Some("LIVE"),
            _ => None,
        };
        let stp = state & STP_MASK;
        let rest = state & !STP_MASK;
        if stp != 0 {
            out.push_str(match stp {
                STP_LEARN => "STP_LEARN",
                STP_FORWARD => "STP_FORWARD",
                _ => "STP_BLOCK",
            });
            if rest != 0 {
                crate::print::put_bit_names(out, rest, name, ' ');
            }
        } else {
            crate::print::put_bit_names(out, state, name, ' ');
        }
        out.push('\n');
    }
}

/// Link features (OVS `NETDEV_F_*`, laid out as OF1.1+ `OFPPF_*`).
pub mod features {
    pub const F_10MB_HD: u32 = 1 << 0;
    pub const F_10MB_FD: u32 = 1 << 1;
    pub const F_100MB_HD: u32 = 1 << 2;
    pub const F_100MB_FD: u32 = 1 << 3;
    pub const F_1GB_HD: u32 = 1 << 4;
    pub const F_1GB_FD: u32 = 1 << 5;
    pub const F_10GB_FD: u32 = 1 << 6;
    pub const F_40GB_FD: u32 = 1 << 7;
    pub const F_100GB_FD: u32 = 1 << 8;
    pub const F_1TB_FD: u32 = 1 << 9;
    pub const OTHER: u32 = 1 << 10;
    pub const COPPER: u32 = 1 << 11;
    pub const FIBER: u32 = 1 << 12;
    pub const AUTONEG: u32 = 1 << 13;
    pub const PAUSE: u32 = 1 << 14;
    pub const PAUSE_ASYM: u32 = 1 << 15;
    /// Every bit OF1.1+ can carry.
    pub const ALL: u32 = 0xffff;

    /// OF1.0 has no 40G/100G/1T/OTHER bits; its medium and pause bits sit 4 positions lower.
    pub fn from_ofp10(wire: u32) -> u32 {
        (wire & 0x7f) | ((wire & 0xf80) << 4)
    }

    pub fn to_ofp10(f: u32) -> u32 {
        (f & 0x7f) | ((f & 0xf800) >> 4)
    }

    /// The fastest rate in `f`, in kbps, 0 if none (OVS `netdev_features_to_bps` / 1000).
    pub fn speed_kbps(f: u32) -> u32 {
        if f & F_1TB_FD != 0 {
            1_000_000_000
        } else if f & F_100GB_FD != 0 {
            100_000_000
        } else if f & F_40GB_FD != 0 {
            40_000_000
        } else if f & F_10GB_FD != 0 {
            10_000_000
        } else if f & (F_1GB_HD | F_1GB_FD) != 0 {
            1_000_000
        } else if f & (F_100MB_HD | F_100MB_FD) != 0 {
            100_000
        } else if f & (F_10MB_HD | F_10MB_FD) != 0 {
            10_000
        } else {
            0
        }
    }

    /// OVS's `netdev_features_format`, with the trailing newline.
    pub(crate) fn format(f: u32, out: &mut String) {
        const NAMES: [&str; 16] = [
            "10MB-HD",
            "10MB-FD",
            "100MB-HD",
            "100MB-FD",
            "1GB-HD",
            "1GB-FD",
            "10GB-FD",
            "40GB-FD",
            "100GB-FD",
            "1TB-FD",
            "OTHER",
            "COPPER",
            "FIBER",
            "AUTO_NEG",
            "AUTO_PAUSE",
            "AUTO_PAUSE_ASYM",
        ];
        crate::print::put_bit_names(out, f, |b| NAMES.get(b.trailing_zeros() as usize).copied(), ' ');
        out.push('\n');
    }
}

const OFP10_PHY_PORT_LEN: usize = 48;
const OFP11_PORT_LEN: usize = 64;
const OFP14_PORT_LEN: usize = 40;
const OFP14_ETHERNET_PROP_LEN: usize = 32;
const OFPPDPT14_ETHERNET: u16 = 0;
const OFPPMPT14_ETHERNET: u16 = 0;
const NAME_LEN: usize = 16;

/// One port's description in any version (OVS `ofputil_phy_port`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Port {
    /// OF1.1+ numbering (see [`crate::port_no`]).
    pub port_no: u32,
    pub hw_addr: [u8; 6],
    pub name: PortName,
    /// [`config`] bits.
    pub config: u32,
    /// [`state`] bits.
    pub state: u32,
    /// [`features`] bits.
    pub curr: u32,
    pub advertised: u32,
    pub supported: u32,
    pub peer: u32,
    /// kbps. OF1.0 cannot carry speeds: decoding derives them from `curr` and `supported`.
    pub curr_speed: u32,
    pub max_speed: u32,
}

impl Port {
    /// Bytes one port takes in `version` (OF1.4+: with the one ethernet property OVS writes).
    pub fn encoded_len(version: u8) -> usize {
        match version {
            OFP10_VERSION => OFP10_PHY_PORT_LEN,
            v if v < OFP14_VERSION => OFP11_PORT_LEN,
            _ => OFP14_PORT_LEN + OFP14_ETHERNET_PROP_LEN,
        }
    }

    /// Decodes one port (`ofputil_pull_phy_port`); OF1.4+ properties other than ethernet are ignored.
    pub fn decode(version: u8, r: &mut Reader) -> Result<Port, OfpErr> {
        match version {
            OFP10_VERSION => Port::decode_ofp10(r),
            v if v < OFP14_VERSION => Port::decode_ofp11(r),
            _ => Port::decode_ofp14(r),
        }
    }

    fn decode_ofp10(r: &mut Reader) -> Result<Port, OfpErr> {
        let port_no = port_no::ofp10_to_ofp11(r.u16()?);
        let hw_addr = r.array()?;
        let name = PortName::from_bytes(&r.array::<NAME_LEN>()?);
        let config = r.u32()? & config::all(OFP10_VERSION);
        let state = r.u32()? & state::all(OFP10_VERSION);
        let [curr, advertised, supported, peer] = [r.u32()?, r.u32()?, r.u32()?, r.u32()?].map(features::from_ofp10);
        let (curr_speed, max_speed) = (features::speed_kbps(curr), features::speed_kbps(supported));
        Ok(Port { port_no, hw_addr, name, config, state, curr, advertised, supported, peer, curr_speed, max_speed })
    }

    fn decode_ofp11(r: &mut Reader) -> Result<Port, OfpErr> {
        let mut r = r.sub(OFP11_PORT_LEN)?;
        let port_no = port_no::from_ofp11(r.u32()?)?;
        r.skip(4)?;
        let hw_addr = r.array()?;
        r.skip(2)?;
        let name = PortName::from_bytes(&r.array::<NAME_LEN>()?);
        let config = r.u32()? & config::all(OFP11_VERSION);
        let state = r.u32()? & state::all(OFP11_VERSION);
        let [curr, advertised, supported, peer] = [r.u32()?, r.u32()?, r.u32()?, r.u32()?].map(|f| f & features::ALL);
        let (curr_speed, max_speed) = (r.u32()?, r.u32()?);
        Ok(Port { port_no, hw_addr, name, config, state, curr, advertised, supported, peer, curr_speed, max_speed })
    }

    fn decode_ofp14(r: &mut Reader) -> Result<Port, OfpErr> {
        let mut h = r.sub(OFP14_PORT_LEN)?;
        let wire_port = h.u32()?;
        let len = usize::from(h.u16()?);
        if len < OFP14_PORT_LEN || len - OFP14_PORT_LEN > r.remaining() {
            return Err(OfpErr::OFPBRC_BAD_LEN);
        }
        let port_no = port_no::from_ofp11(wire_port)?;
        h.skip(2)?;
        let hw_addr = h.array()?;
        h.skip(2)?;
        let name = PortName::from_bytes(&h.array::<NAME_LEN>()?);
        let config = h.u32()? & config::all(OFP14_VERSION);
        let state = h.u32()? & state::all(OFP14_VERSION);
        let mut port = Port { port_no, hw_addr, name, config, state, ..Port::default() };
        let mut props = r.sub(len - OFP14_PORT_LEN)?;
        while !props.is_empty() {
            let mut p = prop::pull(&mut props, 0xffff)?;
            match p.ptype {
                prop::PropType::Std(OFPPDPT14_ETHERNET) => {
                    if p.len != OFP14_ETHERNET_PROP_LEN {
                        return Err(OfpErr::OFPBPC_BAD_LEN);
                    }
                    let r = &mut p.payload;
                    r.skip(4)?;
                    let f = [r.u32()?, r.u32()?, r.u32()?, r.u32()?].map(|f| f & features::ALL);
                    [port.curr, port.advertised, port.supported, port.peer] = f;
                    port.curr_speed = r.u32()?;
                    port.max_speed = r.u32()?;
                }
                t => prop::unknown(true, t)?,
            }
        }
        Ok(port)
    }

    /// Encodes the port as OVS does (`ofputil_put_phy_port`): bits `version` lacks are dropped.
    pub fn encode(&self, version: u8, buf: &mut BytesMut) {
        let cfg = self.config & config::all(version);
        let st = self.state & state::all(version);
        match version {
            OFP10_VERSION => {
                buf.put_u16(port_no::to_ofp10_wire(self.port_no));
                buf.put_slice(&self.hw_addr);
                self.name.put(buf);
                buf.put_u32(cfg);
                buf.put_u32(st);
                for f in [self.curr, self.advertised, self.supported, self.peer] {
                    buf.put_u32(features::to_ofp10(f));
                }
            }
            v if v < OFP14_VERSION => {
                buf.put_u32(self.port_no);
                buf.put_u32(0);
                buf.put_slice(&self.hw_addr);
                buf.put_u16(0);
                self.name.put(buf);
                buf.put_u32(cfg);
                buf.put_u32(st);
                self.put_features(buf);
            }
            _ => {
                buf.put_u32(self.port_no);
                buf.put_u16((OFP14_PORT_LEN + OFP14_ETHERNET_PROP_LEN) as u16);
                buf.put_u16(0);
                buf.put_slice(&self.hw_addr);
                buf.put_u16(0);
                self.name.put(buf);
                buf.put_u32(cfg);
                buf.put_u32(st);
                let at = prop::start(buf, OFPPDPT14_ETHERNET);
                buf.put_u32(0);
                self.put_features(buf);
                prop::finish(buf, at);
            }
        }
    }

    fn put_features(&self, buf: &mut BytesMut) {
        for f in [self.curr, self.advertised, self.supported, self.peer] {
            buf.put_u32(f & features::ALL);
        }
        buf.put_u32(self.curr_speed);
        buf.put_u32(self.max_speed);
    }

    /// OVS's `ofputil_phy_port_format`.
    pub fn format(&self, out: &mut String) {
        out.push(' ');
        port_no::format_port(self.port_no, out);
        let printable: String =
            self.name.as_bytes().iter().take_while(|c| (0x20..0x7f).contains(*c)).map(|c| char::from(*c)).collect();
        out.push_str(&format!("({printable}): addr:{}\n", EthAddr(self.hw_addr)));
        out.push_str("     config:     ");
        put_bit_names(out, self.config, config::name, ' ');
        out.push('\n');
        out.push_str("     state:      ");
        state::format(self.state, out);
        for (label, f) in [
            ("current:    ", self.curr),
            ("advertised: ", self.advertised),
            ("supported:  ", self.supported),
            ("peer:       ", self.peer),
        ] {
            if f != 0 {
                out.push_str("     ");
                out.push_str(label);
                features::format(f, out);
            }
        }
        out.push_str(&format!("     speed: {} Mbps now, {} Mbps max\n", self.curr_speed / 1000, self.max_speed / 1000));
    }

    /// Decodes ports until `r` is empty (`ofputil_pull_phy_port` until EOF): in OF1.0–1.3 a tail
    /// shorter than one port ends the list, as in OVS.
    pub fn decode_list(version: u8, r: &mut Reader) -> Result<Vec<Port>, OfpErr> {
        match Port::decode_prefix(version, r) {
            (ports, None) => Ok(ports),
            (_, Some(e)) => Err(e),
        }
    }

    /// Like `decode_list`, but keeps the ports before the first bad one, with its error.
    fn decode_prefix(version: u8, r: &mut Reader) -> (Vec<Port>, Option<OfpErr>) {
        let fixed = if version < OFP14_VERSION { Port::encoded_len(version) } else { 1 };
        let mut ports = Vec::new();
        while r.remaining() >= fixed {
            match Port::decode(version, r) {
                Ok(p) => ports.push(p),
                Err(e) => return (ports, Some(e)),
            }
        }
        (ports, None)
    }

    /// What OVS prints for a port list that fails to decode: the good ports, sorted. Returns the error.
    pub(crate) fn format_list_prefix(version: u8, r: &mut Reader, out: &mut String) -> Option<OfpErr> {
        let (ports, err) = Port::decode_prefix(version, r);
        Port::format_list(&ports, out);
        err
    }

    /// Formats ports sorted by number, as `ofputil_phy_ports_format` does.
    pub fn format_list(ports: &[Port], out: &mut String) {
        let mut sorted: Vec<&Port> = ports.iter().collect();
        sorted.sort_by_key(|p| p.port_no);
        for p in sorted {
            p.format(out);
        }
    }
}

/// A port name as OpenFlow carries it (OVS `char name[16]`): at most 15 bytes, no NUL, usually
/// ASCII but not necessarily UTF-8.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PortName {
    len: u8,
    bytes: [u8; NAME_LEN - 1],
}

impl PortName {
    /// The bytes before the first NUL, cut to 15 (as OVS's `ovs_strlcpy_arrays` copies them).
    pub fn from_bytes(b: &[u8]) -> PortName {
        let end = b.iter().take(NAME_LEN - 1).position(|&c| c == 0).unwrap_or(b.len().min(NAME_LEN - 1));
        let mut bytes = [0; NAME_LEN - 1];
        bytes[..end].copy_from_slice(&b[..end]);
        PortName { len: end as u8, bytes }
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }

    pub fn to_string_lossy(&self) -> String {
        String::from_utf8_lossy(self.as_bytes()).into_owned()
    }

    fn put(&self, buf: &mut BytesMut) {
        buf.put_slice(self.as_bytes());
        buf.put_bytes(0, NAME_LEN - usize::from(self.len));
    }
}

impl From<&str> for PortName {
    fn from(s: &str) -> PortName {
        PortName::from_bytes(s.as_bytes())
    }
}

impl std::fmt::Debug for PortName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", self.to_string_lossy())
    }
}

impl std::fmt::Display for PortName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_string_lossy())
    }
}

/// Why a port status was sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PortReason {
    Add = 0,
    Delete = 1,
    Modify = 2,
}

impl PortReason {
    /// The word `ovs-ofctl` prints.
    pub fn name(self) -> &'static str {
        match self {
            PortReason::Add => "ADD",
            PortReason::Delete => "DEL",
            PortReason::Modify => "MOD",
        }
    }
}

/// OFPT_PORT_STATUS.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortStatus {
    pub reason: PortReason,
    pub desc: Port,
}

impl Body for PortStatus {
    fn decode(cx: Cx, r: &mut Reader) -> Result<Self, OfpErr> {
        let reason = match r.u8()? {
            0 => PortReason::Add,
            1 => PortReason::Delete,
            2 => PortReason::Modify,
            _ => return Err(OfpErr::NXBRC_BAD_REASON),
        };
        r.skip(7)?;
        Ok(PortStatus { reason, desc: Port::decode(cx.version, r)? })
    }

    fn encode(&self, cx: Cx, buf: &mut BytesMut) {
        buf.put_u8(self.reason as u8);
        buf.put_bytes(0, 7);
        self.desc.encode(cx.version, buf);
    }

    fn print(&self, _cx: Cx, out: &mut String, _verbosity: u8) {
        out.push(' ');
        out.push_str(self.reason.name());
        out.push(':');
        self.desc.format(out);
    }
}

/// OFPT_PORT_MOD (OVS `ofputil_port_mod`). `config` holds only bits also in `mask`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PortMod {
    pub port_no: u32,
    pub hw_addr: [u8; 6],
    /// [`config`] bits to set.
    pub config: u32,
    /// [`config`] bits to change.
    pub mask: u32,
    /// [`features`] to advertise; 0 leaves them unchanged.
    pub advertise: u32,
}

impl PortMod {
    /// `ofputil_decode_port_mod`: `loose` ignores unknown OF1.4+ properties instead of failing.
    fn decode_with(cx: Cx, r: &mut Reader, loose: bool) -> Result<PortMod, OfpErr> {
        let version = cx.version;
        let mut pm = if cx.raw == Raw::Ofpt10PortMod {
            let port_no = port_no::ofp10_to_ofp11(r.u16()?);
            let hw_addr = r.array()?;
            let (config, mask) = (r.u32()?, r.u32()?);
            let advertise = features::from_ofp10(r.u32()?);
            PortMod { port_no, hw_addr, config, mask, advertise }
        } else {
            let port_no = port_no::from_ofp11(r.u32()?)?;
            r.skip(4)?;
            let hw_addr = r.array()?;
            r.skip(2)?;
            let (config, mask) = (r.u32()?, r.u32()?);
            let mut pm = PortMod { port_no, hw_addr, config, mask, advertise: 0 };
            if cx.raw == Raw::Ofpt11PortMod {
                pm.advertise = r.u32()? & features::ALL;
            } else {
                while !r.is_empty() {
                    let mut p = prop::pull(r, 0xffff)?;
                    match p.ptype {
                        prop::PropType::Std(OFPPMPT14_ETHERNET) => pm.advertise = p.u32()? & features::ALL,
                        t => prop::unknown(loose, t)?,
                    }
                }
            }
            pm
        };
        pm.mask &= config::all(version);
        pm.config &= pm.mask;
        Ok(pm)
    }
}

impl Body for PortMod {
    /// Decodes as the switch does: an unknown OF1.4+ property is an error.
    fn decode(cx: Cx, r: &mut Reader) -> Result<Self, OfpErr> {
        PortMod::decode_with(cx, r, false)
    }

    /// Config bits outside `mask` are not sent (they mean nothing to the receiver).
    fn encode(&self, cx: Cx, buf: &mut BytesMut) {
        let mask = self.mask & config::all(cx.version);
        let cfg = self.config & mask;
        match cx.raw {
            Raw::Ofpt10PortMod => {
                buf.put_u16(port_no::to_ofp10_wire(self.port_no));
                buf.put_slice(&self.hw_addr);
                buf.put_u32(cfg);
                buf.put_u32(mask);
                buf.put_u32(features::to_ofp10(self.advertise));
                buf.put_u32(0);
            }
            raw => {
                buf.put_u32(self.port_no);
                buf.put_u32(0);
                buf.put_slice(&self.hw_addr);
                buf.put_u16(0);
                buf.put_u32(cfg);
                buf.put_u32(mask);
                if raw == Raw::Ofpt11PortMod {
                    buf.put_u32(self.advertise & features::ALL);
                    buf.put_u32(0);
                } else if self.advertise & features::ALL != 0 {
                    prop::put_u32(buf, OFPPMPT14_ETHERNET, self.advertise & features::ALL);
                }
            }
        }
    }

    fn print(&self, _cx: Cx, out: &mut String, _verbosity: u8) {
        out.push_str(" port: ");
        port_no::format_port(self.port_no, out);
        out.push_str(&format!(": addr:{}\n", EthAddr(self.hw_addr)));
        out.push_str("     config: ");
        put_bit_names(out, self.config, config::name, ' ');
        out.push_str("\n     mask:   ");
        put_bit_names(out, self.mask, config::name, ' ');
        out.push_str("\n     advertise: ");
        if self.advertise != 0 {
            features::format(self.advertise, out);
        } else {
            out.push_str("UNCHANGED\n");
        }
    }

    /// `ovs-ofctl` reads port mods loosely, ignoring unknown properties.
    fn print_undecodable(cx: Cx, r: &mut Reader, _err: OfpErr, out: &mut String, verbosity: u8) -> Option<OfpErr> {
        match PortMod::decode_with(cx, r, true) {
            Ok(pm) => {
                pm.print(cx, out, verbosity);
                None
            }
            Err(e) => Some(e),
        }
    }
}

/// OFPST_PORT_DESC request: OF1.5 names a port (ANY for all); earlier versions always mean all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PortDescRequest {
    pub port_no: u32,
}

impl Default for PortDescRequest {
    fn default() -> Self {
        PortDescRequest { port_no: port_no::ANY }
    }
}

impl Body for PortDescRequest {
    fn decode(cx: Cx, r: &mut Reader) -> Result<Self, OfpErr> {
        if cx.raw == Raw::Ofpst15PortDescRequest {
            let port_no = port_no::from_ofp11(r.u32()?)?;
            r.skip(4)?;
            Ok(PortDescRequest { port_no })
        } else {
            Ok(PortDescRequest::default())
        }
    }

    fn encode(&self, cx: Cx, buf: &mut BytesMut) {
        if cx.raw == Raw::Ofpst15PortDescRequest {
            buf.put_u32(self.port_no);
            buf.put_u32(0);
        }
    }

    fn print(&self, _cx: Cx, out: &mut String, _verbosity: u8) {
        out.push_str(" port=");
        port_no::format_port(self.port_no, out);
    }
}

/// OFPST_PORT_DESC reply: the ports of one message, or of a whole reply to send with
/// [`PortDescReply::encode_multipart`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PortDescReply {
    pub ports: Vec<Port>,
}

impl PortDescReply {
    /// The reply as the messages OVS sends in `version` (see [`multipart::encode_entries`]).
    pub fn encode_multipart(&self, version: u8, xid: u32) -> Vec<Bytes> {
        let t = MsgType::PortDescStatsReply;
        multipart::encode_entries(t, version, xid, &self.ports, |p, _, buf| p.encode(version, buf))
    }
}

impl Body for PortDescReply {
    fn decode(cx: Cx, r: &mut Reader) -> Result<Self, OfpErr> {
        Ok(PortDescReply { ports: Port::decode_list(cx.version, r)? })
    }

    fn encode(&self, cx: Cx, buf: &mut BytesMut) {
        for p in &self.ports {
            p.encode(cx.version, buf);
        }
    }

    fn print(&self, _cx: Cx, out: &mut String, _verbosity: u8) {
        out.push('\n');
        Port::format_list(&self.ports, out);
    }

    fn print_undecodable(cx: Cx, r: &mut Reader, _err: OfpErr, out: &mut String, _verbosity: u8) -> Option<OfpErr> {
        out.push('\n');
        Port::format_list_prefix(cx.version, r, out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::print::{ofp_to_string, parse_hex};
    use crate::OfpMsg;
    use bytes::Bytes;

    fn dec<T: Body>(raw: Raw, version: u8, body: &[u8]) -> Result<T, OfpErr> {
        T::decode(Cx { version, raw }, &mut Reader::new(Bytes::copy_from_slice(body)))
    }

    fn enc<T: Body>(t: &T, raw: Raw, version: u8) -> Vec<u8> {
        let mut b = BytesMut::new();
        t.encode(Cx { version, raw }, &mut b);
        b.to_vec()
    }

    fn eth0() -> Port {
        Port {
            port_no: 3,
            hw_addr: [0x50, 0x54, 0, 0, 0, 1],
            name: "eth0".into(),
            config: 0,
            state: 0,
            curr: features::F_100MB_FD | features::AUTONEG,
            advertised: 0x280f,
            supported: 0x280f,
            peer: 0,
            curr_speed: 100_000,
            max_speed: 100_000,
        }
    }

    // eth0 as OVS lays it out: port 3, MAC, name, config 0, state 0, then features.
    const NAME: &str = "65746830000000000000000000000000";
    fn eth0_of10() -> Vec<u8> {
        // OF1.0 keeps COPPER and AUTONEG at bits 7 and 9.
        hex(&["0003", "505400000001", NAME, "00000000", "00000000", "00000208", "0000028f", "0000028f", "00000000"]
            .concat())
    }
    // curr, advertised, supported, peer, curr_speed, max_speed in OF1.1+.
    const FEATURES11: &str = "000020080000280f0000280f00000000000186a0000186a0";
    fn eth0_of11() -> Vec<u8> {
        hex(&["00000003", "00000000", "505400000001", "0000", NAME, "00000000", "00000000", FEATURES11].concat())
    }
    fn eth0_of14() -> Vec<u8> {
        let eth = ["0000", "0020", "00000000", FEATURES11].concat();
        hex(&["00000003", "0048", "0000", "505400000001", "0000", NAME, "00000000", "00000000", &eth].concat())
    }

    #[test]
    fn port_layouts_in_each_version() {
        let one = PortDescReply { ports: vec![eth0()] };
        for (raw, v, b) in [
            (Raw::Ofpst10PortDescReply, 1, eth0_of10()),
            (Raw::Ofpst11PortDescReply, 2, eth0_of11()),
            (Raw::Ofpst11PortDescReply, 4, eth0_of11()),
            (Raw::Ofpst14PortDescReply, 5, eth0_of14()),
            (Raw::Ofpst14PortDescReply, 6, eth0_of14()),
        ] {
            assert_eq!(b.len(), Port::encoded_len(v));
            assert_eq!(enc(&one, raw, v), b, "version {v}");
            assert_eq!(dec::<PortDescReply>(raw, v, &b), Ok(one.clone()), "version {v}");
        }
    }

    #[test]
    fn of10_speed_comes_from_features_and_names_stop_at_nul() {
        let mut b = eth0_of10();
        b[8..24].copy_from_slice(b"0123456789abcdef");
        let p = dec::<PortDescReply>(Raw::Ofpst10PortDescReply, 1, &b).unwrap().ports.remove(0);
        assert_eq!(p.name.as_bytes(), b"0123456789abcde");
        assert_eq!(PortName::from_bytes(b"ab\0cd").as_bytes(), b"ab");
        assert_eq!((p.curr_speed, p.max_speed), (100_000, 100_000));
    }

    #[test]
    fn of11_port_numbers_in_the_gap_are_rejected() {
        let mut b = eth0_of11();
        b[..4].copy_from_slice(&0xff00u32.to_be_bytes());
        assert_eq!(dec::<PortDescReply>(Raw::Ofpst11PortDescReply, 4, &b), Err(OfpErr::OFPBAC_BAD_OUT_PORT));
    }

    #[test]
    fn of14_port_length_and_properties() {
        let p = eth0_of14();
        // Length past the end.
        let mut b = p.clone();
        b[4..6].copy_from_slice(&80u16.to_be_bytes());
        assert_eq!(dec::<PortDescReply>(Raw::Ofpst14PortDescReply, 5, &b), Err(OfpErr::OFPBRC_BAD_LEN));
        // Ethernet property of the wrong size.
        let mut b = p.clone();
        b[42..44].copy_from_slice(&24u16.to_be_bytes());
        b[4..6].copy_from_slice(&64u16.to_be_bytes());
        b.truncate(64);
        assert_eq!(dec::<PortDescReply>(Raw::Ofpst14PortDescReply, 5, &b), Err(OfpErr::OFPBPC_BAD_LEN));
        // Unknown properties are ignored; without the ethernet property features are zero.
        let b =
            hex(&["00000003", "0030", "0000", "505400000001", "0000", NAME, "0000000000000000", "0005000800000000"]
                .concat());
        let got = dec::<PortDescReply>(Raw::Ofpst14PortDescReply, 5, &b).unwrap().ports.remove(0);
        assert_eq!(got, Port { curr: 0, advertised: 0, supported: 0, curr_speed: 0, max_speed: 0, ..eth0() });
    }

    #[test]
    fn port_status_reason_is_checked() {
        let mut b = hex("0200000000000000");
        b.extend(eth0_of11());
        let ps = dec::<PortStatus>(Raw::Ofpt11PortStatus, 4, &b).unwrap();
        assert_eq!(ps, PortStatus { reason: PortReason::Modify, desc: eth0() });
        assert_eq!(enc(&ps, Raw::Ofpt11PortStatus, 4), b);
        b[0] = 3;
        assert_eq!(dec::<PortStatus>(Raw::Ofpt11PortStatus, 4, &b), Err(OfpErr::NXBRC_BAD_REASON));
    }

    #[test]
    fn port_mod_in_each_version() {
        let pm = PortMod {
            port_no: 3,
            hw_addr: [0x50, 0x54, 0, 0, 0, 1],
            config: config::PORT_DOWN,
            mask: config::PORT_DOWN,
            advertise: features::F_10MB_HD,
        };
        let head11 = "00000003000000005054000000010000";
        let of10 = ["0003", "505400000001", "00000001", "00000001", "00000001", "00000000"].concat();
        let of11 = [head11, "00000001", "00000001", "00000001", "00000000"].concat();
        let of14 = [head11, "00000001", "00000001", "0000000800000001"].concat();
        for (raw, v, h) in [(Raw::Ofpt10PortMod, 1, of10), (Raw::Ofpt11PortMod, 3, of11), (Raw::Ofpt14PortMod, 5, of14)]
        {
            assert_eq!(enc(&pm, raw, v), hex(&h), "{raw:?}");
            assert_eq!(dec::<PortMod>(raw, v, &hex(&h)), Ok(pm.clone()), "{raw:?}");
        }
        // Config bits outside the mask are dropped; OF1.4 drops an absent advertise property.
        let b = hex("000000030000000050540000000100000000006500000001");
        let got = dec::<PortMod>(Raw::Ofpt14PortMod, 5, &b).unwrap();
        assert_eq!((got.config, got.mask, got.advertise), (config::PORT_DOWN, config::PORT_DOWN, 0));
        // The switch rejects unknown properties.
        let b = hex("0000000300000000505400000001000000000001000000010009000800000001");
        assert_eq!(dec::<PortMod>(Raw::Ofpt14PortMod, 5, &b), Err(OfpErr::OFPBPC_BAD_TYPE));
        // OF1.1+ port numbers in the gap.
        let b = hex("0000ff000000000050540000000100000000000100000001");
        assert_eq!(dec::<PortMod>(Raw::Ofpt14PortMod, 5, &b), Err(OfpErr::OFPBAC_BAD_OUT_PORT));
    }

    #[test]
    fn port_desc_request_carries_a_port_only_in_of15() {
        let r = PortDescRequest { port_no: port_no::LOCAL };
        assert_eq!(enc(&r, Raw::Ofpst15PortDescRequest, 6), hex("fffffffe00000000"));
        assert_eq!(dec::<PortDescRequest>(Raw::Ofpst15PortDescRequest, 6, &hex("fffffffe00000000")), Ok(r));
        assert_eq!(enc(&r, Raw::Ofpst10PortDescRequest, 5), Vec::<u8>::new());
        assert_eq!(dec::<PortDescRequest>(Raw::Ofpst10PortDescRequest, 5, &[]), Ok(PortDescRequest::default()));
        let bad = dec::<PortDescRequest>(Raw::Ofpst15PortDescRequest, 6, &hex("0001000000000000"));
        assert_eq!(bad, Err(OfpErr::OFPBAC_BAD_OUT_PORT));
    }

    #[test]
    fn prints_like_ovs() {
        let m = OfpMsg::new(4, 0, crate::Message::PortStatus(PortStatus { reason: PortReason::Add, desc: eth0() }));
        assert_eq!(
            ofp_to_string(&m.to_bytes(), 1),
            "OFPT_PORT_STATUS (OF1.3) (xid=0x0): ADD: 3(eth0): addr:50:54:00:00:00:01\n     config:     0\n     \
             state:      0\n     current:    100MB-FD AUTO_NEG\n     advertised: 10MB-HD 10MB-FD 100MB-HD 100MB-FD \
             COPPER AUTO_NEG\n     supported:  10MB-HD 10MB-FD 100MB-HD 100MB-FD COPPER AUTO_NEG\n     speed: 100 \
             Mbps now, 100 Mbps max\n"
        );
        let mut s = String::new();
        state::format(state::STP_FORWARD | state::LINK_DOWN, &mut s);
        assert_eq!(s, "STP_FORWARDLINK_DOWN\n");
    }

    #[test]
    fn port_mod_prints_loosely_like_ovs_ofctl() {
        // An unknown property (type 9) fails the switch's decode but not ovs-ofctl's printer.
        let b = hex(&[
            "0510003000000003",
            "000000030000000050540000000100000000000100000001",
            "0009000800000001",
            "00000008000000ff",
        ]
        .concat());
        assert_eq!(OfpMsg::decode(&Bytes::from(b.clone())).unwrap_err().error, OfpErr::OFPBPC_BAD_TYPE);
        assert_eq!(
            ofp_to_string(&b, 1),
            "OFPT_PORT_MOD (OF1.4) (xid=0x3): port: 3: addr:50:54:00:00:00:01\n     config: PORT_DOWN\n     \
             mask:   PORT_DOWN\n     advertise: 10MB-HD 10MB-FD 100MB-HD 100MB-FD 1GB-HD 1GB-FD 10GB-FD 40GB-FD\n"
        );
        // A malformed property still fails there.
        let b = hex(&[
            "0510003000000003",
            "000000030000000050540000000100000000000100000001",
            "0009000800000001",
            "0000000c00000001",
        ]
        .concat());
        assert!(
            ofp_to_string(&b, 1).starts_with("OFPT_PORT_MOD (OF1.4) (xid=0x3): ***decode error: OFPBPC_BAD_LEN***\n")
        );
    }

    fn hex(s: &str) -> Vec<u8> {
        parse_hex(s).unwrap()
    }
}
