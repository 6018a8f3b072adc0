//! Switch description, table statistics and port statistics multiparts, in every version's
//! layout, with OVS's text.

use std::fmt::Write;

use bytes::{BufMut, Bytes, BytesMut};

use crate::buf::{patch_len16, put_len16_placeholder, Reader};
use crate::errors::OfpErr;
use crate::mf::{header_class, header_field, MfBitmap, MfId, OXM_CLASS_BASIC};
use crate::msg::flow_removed::format_duration;
use crate::msg::ofpact_bits;
use crate::msg::table_features::{
    get_fixed_str, put_fixed_str, FeaturesPrinter, FeaturesView, TableCounters, TableMiss,
};
use crate::msg::{multipart, Body, Cx};
use crate::port_no;
use crate::prop::{self, PropType};
use crate::raw::MsgType;

const DESC_STR_LEN: usize = 256;
const SERIAL_NUM_LEN: usize = 32;
const TABLE_NAME_LEN: usize = 32;

/// OFPST_DESC reply: what the switch says it is.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DescStats {
    pub mfr_desc: String,
    pub hw_desc: String,
    pub sw_desc: String,
    pub serial_num: String,
    pub dp_desc: String,
}

impl Body for DescStats {
    fn decode(_cx: Cx, r: &mut Reader) -> Result<Self, OfpErr> {
        Ok(DescStats {
            mfr_desc: get_fixed_str(r, DESC_STR_LEN)?,
            hw_desc: get_fixed_str(r, DESC_STR_LEN)?,
            sw_desc: get_fixed_str(r, DESC_STR_LEN)?,
            serial_num: get_fixed_str(r, SERIAL_NUM_LEN)?,
            dp_desc: get_fixed_str(r, DESC_STR_LEN)?,
        })
    }

    fn encode(&self, _cx: Cx, buf: &mut BytesMut) {
        put_fixed_str(buf, &self.mfr_desc, DESC_STR_LEN);
        put_fixed_str(buf, &self.hw_desc, DESC_STR_LEN);
        put_fixed_str(buf, &self.sw_desc, DESC_STR_LEN);
        put_fixed_str(buf, &self.serial_num, SERIAL_NUM_LEN);
        put_fixed_str(buf, &self.dp_desc, DESC_STR_LEN);
    }

    fn print(&self, _cx: Cx, out: &mut String, _verbosity: u8) {
        let _ = write!(
            out,
            "\nManufacturer: {}\nHardware: {}\nSoftware: {}\nSerial Num: {}\nDP Description: {}\n",
            self.mfr_desc, self.hw_desc, self.sw_desc, self.serial_num, self.dp_desc
        );
    }
}

/// OFPST_PORT request: one port, or `port_no::ANY` for all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PortStatsRequest {
    pub port_no: u32,
}

impl PortStatsRequest {
    pub const ANY: u32 = port_no::ANY;
}

impl Body for PortStatsRequest {
    fn decode(cx: Cx, r: &mut Reader) -> Result<Self, OfpErr> {
        let port_no = if cx.version == 1 { port_no::ofp10_to_ofp11(r.u16()?) } else { port_no::from_ofp11(r.u32()?)? };
        Ok(PortStatsRequest { port_no })
    }

    fn encode(&self, cx: Cx, buf: &mut BytesMut) {
        if cx.version == 1 {
            buf.put_u16(port_no::to_ofp10_wire(self.port_no));
            buf.put_bytes(0, 6);
        } else {
            buf.put_u32(self.port_no);
            buf.put_bytes(0, 4);
        }
    }

    fn print(&self, _cx: Cx, out: &mut String, _verbosity: u8) {
        out.push_str(" port_no=");
        port_no::format_port(self.port_no, out);
    }
}

/// The Intel RFC 2819 counters OVS reports in OF1.4+ port statistics (experimenter property).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Rfc2819Stats {
    pub rx_1_to_64_packets: u64,
    pub rx_65_to_127_packets: u64,
    pub rx_128_to_255_packets: u64,
    pub rx_256_to_511_packets: u64,
    pub rx_512_to_1023_packets: u64,
    pub rx_1024_to_1522_packets: u64,
    pub rx_1523_to_max_packets: u64,
    pub tx_1_to_64_packets: u64,
    pub tx_65_to_127_packets: u64,
    pub tx_128_to_255_packets: u64,
    pub tx_256_to_511_packets: u64,
    pub tx_512_to_1023_packets: u64,
    pub tx_1024_to_1522_packets: u64,
    pub tx_1523_to_max_packets: u64,
    pub tx_multicast_packets: u64,
    pub rx_broadcast_packets: u64,
    pub tx_broadcast_packets: u64,
    pub rx_undersized_errors: u64,
    pub rx_oversize_errors: u64,
    pub rx_fragmented_errors: u64,
    pub rx_jabber_errors: u64,
}

impl Rfc2819Stats {
    /// The counters in wire order.
    fn counters_mut(&mut self) -> [&mut u64; 21] {
        [
            &mut self.rx_1_to_64_packets,
            &mut self.rx_65_to_127_packets,
            &mut self.rx_128_to_255_packets,
            &mut self.rx_256_to_511_packets,
            &mut self.rx_512_to_1023_packets,
            &mut self.rx_1024_to_1522_packets,
            &mut self.rx_1523_to_max_packets,
            &mut self.tx_1_to_64_packets,
            &mut self.tx_65_to_127_packets,
            &mut self.tx_128_to_255_packets,
            &mut self.tx_256_to_511_packets,
            &mut self.tx_512_to_1023_packets,
            &mut self.tx_1024_to_1522_packets,
            &mut self.tx_1523_to_max_packets,
            &mut self.tx_multicast_packets,
            &mut self.rx_broadcast_packets,
            &mut self.tx_broadcast_packets,
            &mut self.rx_undersized_errors,
            &mut self.rx_oversize_errors,
            &mut self.rx_fragmented_errors,
            &mut self.rx_jabber_errors,
        ]
    }

    fn counters(&self) -> [u64; 21] {
        let mut c = *self;
        c.counters_mut().map(|v| *v)
    }
}

/// Statistics of one port. Counters a version cannot carry, or a switch does not know, are
/// `u64::MAX` (printed "?"); the duration is `u32::MAX` where unknown (before OF1.3).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortStats {
    pub port_no: u32,
    pub duration_sec: u32,
    pub duration_nsec: u32,
    pub rx_packets: u64,
    pub tx_packets: u64,
    pub rx_bytes: u64,
    pub tx_bytes: u64,
    pub rx_dropped: u64,
    pub tx_dropped: u64,
    pub rx_errors: u64,
    pub tx_errors: u64,
    /// OF1.4+: from the Ethernet property (all `u64::MAX` if it is absent).
    pub rx_frame_err: u64,
    pub rx_over_err: u64,
    pub rx_crc_err: u64,
    pub collisions: u64,
    /// OF1.4+ Intel property; OVS always sends it, other switches may not.
    pub rfc2819: Option<Rfc2819Stats>,
    /// OF1.4+ Intel custom counters, name and value (names up to 63 bytes kept).
    pub custom: Vec<(String, u64)>,
}

impl PortStats {
    /// A port with every counter unknown.
    pub fn unknown(port_no: u32) -> PortStats {
        PortStats {
            port_no,
            duration_sec: u32::MAX,
            duration_nsec: u32::MAX,
            rx_packets: u64::MAX,
            tx_packets: u64::MAX,
            rx_bytes: u64::MAX,
            tx_bytes: u64::MAX,
            rx_dropped: u64::MAX,
            tx_dropped: u64::MAX,
            rx_errors: u64::MAX,
            tx_errors: u64::MAX,
            rx_frame_err: u64::MAX,
            rx_over_err: u64::MAX,
            rx_crc_err: u64::MAX,
            collisions: u64::MAX,
            rfc2819: None,
            custom: Vec::new(),
        }
    }

    fn basic_mut(&mut self) -> [&mut u64; 8] {
        [
            &mut self.rx_packets,
            &mut self.tx_packets,
            &mut self.rx_bytes,
            &mut self.tx_bytes,
            &mut self.rx_dropped,
            &mut self.tx_dropped,
            &mut self.rx_errors,
            &mut self.tx_errors,
        ]
    }

    fn ethernet_mut(&mut self) -> [&mut u64; 4] {
        [&mut self.rx_frame_err, &mut self.rx_over_err, &mut self.rx_crc_err, &mut self.collisions]
    }

    fn basic(&self) -> [u64; 8] {
        [
            self.rx_packets,
            self.tx_packets,
            self.rx_bytes,
            self.tx_bytes,
            self.rx_dropped,
            self.tx_dropped,
            self.rx_errors,
            self.tx_errors,
        ]
    }

    fn ethernet(&self) -> [u64; 4] {
        [self.rx_frame_err, self.rx_over_err, self.rx_crc_err, self.collisions]
    }

    /// OF1.0–1.3 fixed layout (104 bytes, 112 with the OF1.3 duration).
    fn decode_fixed(version: u8, r: &mut Reader) -> Result<PortStats, OfpErr> {
        let port_no = if version == 1 {
            let p = port_no::ofp10_to_ofp11(r.u16()?);
            r.skip(6)?;
            p
        } else {
            let p = port_no::from_ofp11(r.u32()?)?;
            r.skip(4)?;
            p
        };
        let mut ps = PortStats::unknown(port_no);
        for v in ps.basic_mut() {
            *v = r.u64()?;
        }
        for v in ps.ethernet_mut() {
            *v = r.u64()?;
        }
        if version == 4 {
            ps.duration_sec = r.u32()?;
            ps.duration_nsec = r.u32()?;
        }
        Ok(ps)
    }

    fn decode14(r: &mut Reader) -> Result<PortStats, OfpErr> {
        let bad_len = OfpErr::OFPBRC_BAD_LEN;
        if r.remaining() < PORT_STATS14_LEN {
            return Err(bad_len);
        }
        let len = usize::from(r.peek_u16()?);
        if len < PORT_STATS14_LEN || len - PORT_STATS14_LEN > r.remaining() - PORT_STATS14_LEN {
            return Err(bad_len);
        }
        let mut e = r.sub(len)?;
        e.skip(4)?;
        let mut ps = PortStats::unknown(port_no::from_ofp11(e.u32()?)?);
        ps.duration_sec = e.u32()?;
        ps.duration_nsec = e.u32()?;
        for v in ps.basic_mut() {
            *v = e.u64()?;
        }
        while !e.is_empty() {
            ps.decode_prop(&mut e)?;
        }
        Ok(ps)
    }

    /// One OF1.4 port statistics property; unknown ones are skipped, as OVS does.
    fn decode_prop(&mut self, e: &mut Reader) -> Result<(), OfpErr> {
        let bad_len = OfpErr::OFPBPC_BAD_LEN;
        let mut p = prop::pull(e, 0xffff)?;
        let r = &mut p.payload;
        match p.ptype {
            PropType::Std(OFPPSPT14_ETHERNET) => {
                if p.len != ETHERNET_PROP_LEN {
                    return Err(bad_len);
                }
                r.skip(4)?;
                for v in self.ethernet_mut() {
                    *v = r.u64()?;
                }
            }
            PropType::Exp { experimenter: INTEL_VENDOR_ID, exp_type: INTEL_PORT_STATS_RFC2819 } => {
                if p.len != RFC2819_PROP_LEN {
                    return Err(bad_len);
                }
                r.skip(4)?;
                let mut s = Rfc2819Stats::default();
                for v in s.counters_mut() {
                    *v = r.u64()?;
                }
                self.rfc2819 = Some(s);
            }
            PropType::Exp { experimenter: INTEL_VENDOR_ID, exp_type: INTEL_PORT_STATS_CUSTOM } => {
                r.skip(2)?;
                let n = r.u16()?;
                self.custom = (0..n)
                    .map(|_| {
                        let name_len = usize::from(r.u8()?);
                        let name = r.bytes(name_len)?;
                        let name = String::from_utf8_lossy(&name[..name_len.min(CUSTOM_NAME_MAX)]);
                        Ok((name.into_owned(), r.u64()?))
                    })
                    .collect::<Result<_, OfpErr>>()?;
            }
            _ => {}
        }
        Ok(())
    }

    /// This port's entry in a reply in `version` (one `MultipartBuilder` entry).
    pub fn encode(&self, version: u8, buf: &mut BytesMut) {
        match version {
            1 => {
                buf.put_u16(port_no::to_ofp10_wire(self.port_no));
                buf.put_bytes(0, 6);
            }
            2..=4 => {
                buf.put_u32(self.port_no);
                buf.put_bytes(0, 4);
            }
            _ => return self.encode14(buf),
        }
        for v in self.basic().into_iter().chain(self.ethernet()) {
            buf.put_u64(v);
        }
        if version == 4 {
            buf.put_u32(self.duration_sec);
            buf.put_u32(self.duration_nsec);
        }
    }

    /// OVS's OF1.4 layout: the fixed part, the Ethernet property, then the Intel properties.
    fn encode14(&self, buf: &mut BytesMut) {
        let start = buf.len();
        let at = put_len16_placeholder(buf);
        buf.put_bytes(0, 2);
        buf.put_u32(self.port_no);
        buf.put_u32(self.duration_sec);
        buf.put_u32(self.duration_nsec);
        for v in self.basic() {
            buf.put_u64(v);
        }
        let p = prop::start(buf, OFPPSPT14_ETHERNET);
        buf.put_bytes(0, 4);
        for v in self.ethernet() {
            buf.put_u64(v);
        }
        prop::finish(buf, p);
        if let Some(s) = &self.rfc2819 {
            let p = start_intel_prop(buf, INTEL_PORT_STATS_RFC2819);
            buf.put_bytes(0, 4);
            for v in s.counters() {
                buf.put_u64(v);
            }
            prop::finish(buf, p);
        }
        if !self.custom.is_empty() {
            let p = start_intel_prop(buf, INTEL_PORT_STATS_CUSTOM);
            buf.put_bytes(0, 2);
            buf.put_u16(u16::try_from(self.custom.len()).unwrap_or(u16::MAX));
            for (name, value) in self.custom.iter().take(usize::from(u16::MAX)) {
                let name = &name.as_bytes()[..name.len().min(usize::from(u8::MAX))];
                buf.put_u8(name.len() as u8);
                buf.put_slice(name);
                buf.put_u64(*value);
            }
            prop::finish(buf, p);
        }
        patch_len16(buf, at, start);
    }

    fn print(&self, out: &mut String) {
        out.push_str("  port ");
        if self.port_no < 10 {
            out.push(' ');
        }
        port_no::format_port(self.port_no, out);
        let stat = |out: &mut String, leader: &str, v: u64, last: bool| {
            out.push_str(leader);
            if v == u64::MAX {
                out.push('?');
            } else {
                let _ = write!(out, "{v}");
            }
            out.push_str(if last { "\n" } else { ", " });
        };
        out.push_str(": rx ");
        stat(out, "pkts=", self.rx_packets, false);
        stat(out, "bytes=", self.rx_bytes, false);
        stat(out, "drop=", self.rx_dropped, false);
        stat(out, "errs=", self.rx_errors, false);
        stat(out, "frame=", self.rx_frame_err, false);
        stat(out, "over=", self.rx_over_err, false);
        stat(out, "crc=", self.rx_crc_err, true);
        out.push_str("           tx ");
        stat(out, "pkts=", self.tx_packets, false);
        stat(out, "bytes=", self.tx_bytes, false);
        stat(out, "drop=", self.tx_dropped, false);
        stat(out, "errs=", self.tx_errors, false);
        stat(out, "coll=", self.collisions, true);
        if self.duration_sec != u32::MAX {
            out.push_str("           duration=");
            format_duration(self.duration_sec, self.duration_nsec, out);
            out.push('\n');
        }
        let s = self.rfc2819.unwrap_or_else(|| {
            let mut s = Rfc2819Stats::default();
            s.counters_mut().into_iter().for_each(|v| *v = u64::MAX);
            s
        });
        let rx = [
            ("1_to_64_packets=", s.rx_1_to_64_packets),
            ("65_to_127_packets=", s.rx_65_to_127_packets),
            ("128_to_255_packets=", s.rx_128_to_255_packets),
            ("256_to_511_packets=", s.rx_256_to_511_packets),
            ("512_to_1023_packets=", s.rx_512_to_1023_packets),
            ("1024_to_1522_packets=", s.rx_1024_to_1522_packets),
            ("1523_to_max_packets=", s.rx_1523_to_max_packets),
            ("broadcast_packets=", s.rx_broadcast_packets),
            ("undersized_errors=", s.rx_undersized_errors),
            ("oversize_errors=", s.rx_oversize_errors),
            ("rx_fragmented_errors=", s.rx_fragmented_errors),
            ("rx_jabber_errors=", s.rx_jabber_errors),
        ];
        let tx = [
            ("1_to_64_packets=", s.tx_1_to_64_packets),
            ("65_to_127_packets=", s.tx_65_to_127_packets),
            ("128_to_255_packets=", s.tx_128_to_255_packets),
            ("256_to_511_packets=", s.tx_256_to_511_packets),
            ("512_to_1023_packets=", s.tx_512_to_1023_packets),
            ("1024_to_1522_packets=", s.tx_1024_to_1522_packets),
            ("1523_to_max_packets=", s.tx_1523_to_max_packets),
            ("multicast_packets=", s.tx_multicast_packets),
            ("broadcast_packets=", s.tx_broadcast_packets),
        ];
        for (title, list) in [("rx", &rx[..]), ("tx", &tx[..])] {
            let known: String = list.iter().filter(|(_, v)| *v != u64::MAX).map(|(l, v)| format!("{l}{v}, ")).collect();
            if !known.is_empty() {
                let _ = writeln!(out, "           {title} rfc2819 {known}");
            }
        }
        if !self.custom.is_empty() {
            out.push_str("           CUSTOM Statistics");
            for (i, (name, value)) in self.custom.iter().enumerate() {
                if name.is_empty() {
                    continue;
                }
                if i % 3 == 0 {
                    out.push_str("\n                      ");
                } else {
                    out.push(' ');
                }
                let _ = write!(out, "{name}={value},");
            }
            out.push('\n');
        }
    }
}

const PORT_STATS14_LEN: usize = 80;
const OFPPSPT14_ETHERNET: u16 = 0;
const OFPPSPT14_EXPERIMENTER: u16 = 0xffff;
const ETHERNET_PROP_LEN: usize = 40;
const RFC2819_PROP_LEN: usize = 184;
const INTEL_VENDOR_ID: u32 = 0x0000_aa01;
const INTEL_PORT_STATS_RFC2819: u32 = 1;
const INTEL_PORT_STATS_CUSTOM: u32 = 2;
/// OVS keeps custom counter names in a 64-byte array.
const CUSTOM_NAME_MAX: usize = 63;

/// Starts an Intel experimenter property, for `prop::finish`.
fn start_intel_prop(buf: &mut BytesMut, exp_type: u32) -> usize {
    let at = prop::start(buf, OFPPSPT14_EXPERIMENTER);
    buf.put_u32(INTEL_VENDOR_ID);
    buf.put_u32(exp_type);
    at
}

/// OFPST_PORT reply: statistics for some ports.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PortStatsReply {
    pub ports: Vec<PortStats>,
}

impl PortStatsReply {
    /// The reply as the messages OVS sends in `version` (see [`multipart::encode_entries`]).
    pub fn encode_multipart(&self, version: u8, xid: u32) -> Vec<Bytes> {
        let t = MsgType::PortStatsReply;
        multipart::encode_entries(t, version, xid, &self.ports, |p, _, buf| p.encode(version, buf))
    }
}

impl Body for PortStatsReply {
    fn decode(cx: Cx, r: &mut Reader) -> Result<Self, OfpErr> {
        let ports = multipart::decode_list(r, |r| {
            if cx.version >= 5 {
                PortStats::decode14(r)
            } else {
                PortStats::decode_fixed(cx.version, r)
            }
        })?;
        Ok(PortStatsReply { ports })
    }

    fn encode(&self, cx: Cx, buf: &mut BytesMut) {
        for p in &self.ports {
            p.encode(cx.version, buf);
        }
    }

    fn print(&self, _cx: Cx, out: &mut String, _verbosity: u8) {
        let _ = writeln!(out, " {} ports", self.ports.len());
        for p in &self.ports {
            p.print(out);
        }
    }
}

/// One table's statistics in any version's layout. What a version does not carry is 0 (the
/// name empty) when decoded and left out when encoded.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TableStats {
    pub table_id: u8,
    /// OF1.0–1.2.
    pub name: String,
    /// Wildcardable fields: OF1.0 `OFPFW10_*`, OF1.1 `OFPFMF11_*` (32 bits); OF1.2 OXM field bits.
    pub wildcards: u64,
    /// Matchable fields: OF1.1 `OFPFMF11_*`, OF1.2 OXM field bits.
    pub match_fields: u64,
    /// OF1.1–1.2 bitmaps of OpenFlow action types.
    pub write_actions: u32,
    pub apply_actions: u32,
    /// OF1.2 OXM field bits.
    pub write_setfields: u64,
    pub apply_setfields: u64,
    /// OF1.2.
    pub metadata_match: u64,
    pub metadata_write: u64,
    /// OF1.1–1.2 bitmap of OpenFlow instruction types.
    pub instructions: u32,
    /// OF1.1–1.2 `OFPTC11_*`.
    pub config: u32,
    /// OF1.0–1.2.
    pub max_entries: u32,
    pub active_count: u32,
    pub lookup_count: u64,
    pub matched_count: u64,
}

/// OF1.0 wildcard bits and the fields they stand for (OVS `ofp10_wc_map`).
const OF10_WC_MAP: [(u32, MfId); 12] = [
    (1 << 0, MfId::InPort),
    (1 << 1, MfId::VlanVid),
    (1 << 2, MfId::EthSrc),
    (1 << 3, MfId::EthDst),
    (1 << 4, MfId::EthType),
    (1 << 5, MfId::IpProto),
    (1 << 6, MfId::TcpSrc),
    (1 << 7, MfId::TcpDst),
    (0x3f << 8, MfId::Ipv4Src),
    (0x3f << 14, MfId::Ipv4Dst),
    (1 << 20, MfId::VlanPcp),
    (1 << 21, MfId::IpDscp),
];

/// OF1.1 match-field bits and their fields (OVS `ofp11_wc_map`; OFPFMF11_TYPE has none).
const OF11_WC_MAP: [(u32, MfId); 15] = [
    (1 << 0, MfId::InPort),
    (1 << 1, MfId::VlanVid),
    (1 << 2, MfId::VlanPcp),
    (1 << 3, MfId::EthType),
    (1 << 4, MfId::IpDscp),
    (1 << 5, MfId::IpProto),
    (1 << 6, MfId::TcpSrc),
    (1 << 7, MfId::TcpDst),
    (1 << 8, MfId::MplsLabel),
    (1 << 9, MfId::MplsTc),
    (1 << 11, MfId::EthSrc),
    (1 << 12, MfId::EthDst),
    (1 << 13, MfId::Ipv4Src),
    (1 << 14, MfId::Ipv4Dst),
    (1 << 15, MfId::Metadata),
];

fn fields_from_bits(map: &[(u32, MfId)], bits: u32) -> MfBitmap {
    MfBitmap::from_ids(map.iter().filter(|(b, _)| bits & b != 0).map(|(_, id)| *id))
}

fn fields_to_bits(map: &[(u32, MfId)], fields: &MfBitmap) -> u32 {
    map.iter().filter(|(_, id)| fields.contains(*id)).fold(0, |acc, (b, _)| acc | b)
}

/// The OF1.2 bitmap of OXM_OF_* field numbers for a field set (OVS `oxm_bitmap_from_mf_bitmap`).
fn oxm12_from_fields(fields: &MfBitmap) -> u64 {
    fields
        .iter()
        .filter_map(|id| id.header(3))
        .filter(|h| header_class(*h) == OXM_CLASS_BASIC && header_field(*h) < 64)
        .fold(0, |acc, h| acc | 1 << header_field(h))
}

/// The field set for an OF1.2 OXM bitmap (OVS `oxm_bitmap_to_mf_bitmap`): only fields whose
/// OF1.2 header exists in OF1.2.
fn oxm12_to_fields(bits: u64) -> MfBitmap {
    MfBitmap::from_ids(MfId::all().filter(|id| {
        id.preferred(3)
            .is_some_and(|h| h.version <= 3 && h.class == OXM_CLASS_BASIC && h.field < 64 && bits & (1 << h.field) != 0)
    }))
}

/// OVS's reading of an OF1.1/1.2 `config` (`ofputil_decode_table_miss`).
fn table_miss_from_config(config: u32) -> TableMiss {
    match config & 3 {
        1 => TableMiss::Continue,
        2 => TableMiss::Drop,
        _ => TableMiss::Controller,
    }
}

impl TableStats {
    /// The entry OVS sends in `version` for a table with features `f` and these counters
    /// (`ofputil_append_table_stats_reply`), including OVS's quirks: OF1.1 `config` carries OVS's
    /// internal miss value, and OF1.0/1.1 wildcards also list fields the table cannot match.
    pub fn from_view(
        f: &FeaturesView,
        active_count: u32,
        lookup_count: u64,
        matched_count: u64,
        version: u8,
    ) -> TableStats {
        let mut t =
            TableStats { table_id: f.table_id, active_count, lookup_count, matched_count, ..Default::default() };
        if version <= 3 {
            t.name = f.name.clone();
            t.max_entries = f.max_entries;
        }
        let wild_or_nonmatchable = f.match_fields.complement().union(&f.wildcard);
        match version {
            1 => t.wildcards = u64::from(fields_to_bits(&OF10_WC_MAP, &wild_or_nonmatchable)),
            2 => {
                t.wildcards = u64::from(fields_to_bits(&OF11_WC_MAP, &wild_or_nonmatchable));
                t.match_fields = u64::from(fields_to_bits(&OF11_WC_MAP, &f.match_fields));
                t.instructions = ofpact_bits::ovsinsts_to_openflow(f.nonmiss.instructions, 2);
                t.write_actions = ofpact_bits::ofpacts_to_openflow(f.nonmiss.write.ofpacts, 2);
                t.apply_actions = ofpact_bits::ofpacts_to_openflow(f.nonmiss.apply.ofpacts, 2);
                t.config = f.miss_config as u32;
            }
            3 => {
                t.match_fields = oxm12_from_fields(&f.match_fields);
                t.wildcards = oxm12_from_fields(&f.wildcard);
                t.write_actions = ofpact_bits::ofpacts_to_openflow(f.nonmiss.write.ofpacts, 3);
                t.apply_actions = ofpact_bits::ofpacts_to_openflow(f.nonmiss.apply.ofpacts, 3);
                t.write_setfields = oxm12_from_fields(&f.nonmiss.write.set_fields);
                t.apply_setfields = oxm12_from_fields(&f.nonmiss.apply.set_fields);
                t.metadata_match = f.metadata_match;
                t.metadata_write = f.metadata_write;
                t.instructions = ofpact_bits::ovsinsts_to_openflow(f.nonmiss.instructions, 3);
                t.config = match f.miss_config {
                    TableMiss::Continue => 1,
                    TableMiss::Drop => 2,
                    TableMiss::Default | TableMiss::Controller => 0,
                };
            }
            _ => {}
        }
        t
    }

    /// OVS's reading of this entry as table features (`ofputil_decode_table_stats_reply`),
    /// including its OF1.1 quirk of taking apply-actions from the write-actions bitmap.
    pub fn view(&self, version: u8) -> FeaturesView {
        let mut f = FeaturesView { table_id: self.table_id, ..Default::default() };
        if version > 3 {
            return f;
        }
        f.name = crate::msg::table_features::truncate_name(&self.name, TABLE_NAME_LEN - 1);
        f.max_entries = self.max_entries;
        match version {
            1 => {
                f.match_fields = fields_from_bits(&OF10_WC_MAP, self.wildcards as u32);
                f.wildcard = f.match_fields;
            }
            2 => {
                f.nonmiss.instructions = ofpact_bits::ovsinsts_from_openflow(self.instructions, 2);
                f.nonmiss.write.ofpacts = ofpact_bits::ofpacts_from_openflow(self.write_actions, 2);
                f.nonmiss.apply.ofpacts = ofpact_bits::ofpacts_from_openflow(self.write_actions, 2);
                f.miss = f.nonmiss;
                f.miss_config = table_miss_from_config(self.config);
                f.wildcard = fields_from_bits(&OF11_WC_MAP, self.wildcards as u32);
                f.match_fields = fields_from_bits(&OF11_WC_MAP, self.match_fields as u32).union(&f.wildcard);
            }
            _ => {
                f.metadata_match = self.metadata_match;
                f.metadata_write = self.metadata_write;
                f.miss_config = table_miss_from_config(self.config);
                f.nonmiss.instructions = ofpact_bits::ovsinsts_from_openflow(self.instructions, 3);
                f.nonmiss.write.ofpacts = ofpact_bits::ofpacts_from_openflow(self.write_actions, 3);
                f.nonmiss.apply.ofpacts = ofpact_bits::ofpacts_from_openflow(self.apply_actions, 3);
                f.nonmiss.write.set_fields = oxm12_to_fields(self.write_setfields);
                f.nonmiss.apply.set_fields = oxm12_to_fields(self.apply_setfields);
                f.miss = f.nonmiss;
                f.wildcard = oxm12_to_fields(self.wildcards);
                f.match_fields = oxm12_to_fields(self.match_fields).union(&f.wildcard);
            }
        }
        f
    }

    fn decode(version: u8, r: &mut Reader) -> Result<TableStats, OfpErr> {
        let mut t = TableStats { table_id: r.u8()?, ..Default::default() };
        match version {
            1 => {
                r.skip(3)?;
                t.name = get_fixed_str(r, TABLE_NAME_LEN)?;
                t.wildcards = u64::from(r.u32()?);
                t.max_entries = r.u32()?;
            }
            2 => {
                r.skip(7)?;
                t.name = get_fixed_str(r, TABLE_NAME_LEN)?;
                t.wildcards = u64::from(r.u32()?);
                t.match_fields = u64::from(r.u32()?);
                t.instructions = r.u32()?;
                t.write_actions = r.u32()?;
                t.apply_actions = r.u32()?;
                t.config = r.u32()?;
                t.max_entries = r.u32()?;
            }
            3 => {
                r.skip(7)?;
                t.name = get_fixed_str(r, TABLE_NAME_LEN)?;
                t.match_fields = r.u64()?;
                t.wildcards = r.u64()?;
                t.write_actions = r.u32()?;
                t.apply_actions = r.u32()?;
                t.write_setfields = r.u64()?;
                t.apply_setfields = r.u64()?;
                t.metadata_match = r.u64()?;
                t.metadata_write = r.u64()?;
                t.instructions = r.u32()?;
                t.config = r.u32()?;
                t.max_entries = r.u32()?;
            }
            _ => r.skip(3)?,
        }
        t.active_count = r.u32()?;
        t.lookup_count = r.u64()?;
        t.matched_count = r.u64()?;
        Ok(t)
    }

    fn encode(&self, version: u8, buf: &mut BytesMut) {
        buf.put_u8(self.table_id);
        match version {
            1 => {
                buf.put_bytes(0, 3);
                put_fixed_str(buf, &self.name, TABLE_NAME_LEN);
                buf.put_u32(self.wildcards as u32);
                buf.put_u32(self.max_entries);
            }
            2 => {
                buf.put_bytes(0, 7);
                put_fixed_str(buf, &self.name, TABLE_NAME_LEN);
                buf.put_u32(self.wildcards as u32);
                buf.put_u32(self.match_fields as u32);
                buf.put_u32(self.instructions);
                buf.put_u32(self.write_actions);
                buf.put_u32(self.apply_actions);
                buf.put_u32(self.config);
                buf.put_u32(self.max_entries);
            }
            3 => {
                buf.put_bytes(0, 7);
                put_fixed_str(buf, &self.name, TABLE_NAME_LEN);
                buf.put_u64(self.match_fields);
                buf.put_u64(self.wildcards);
                buf.put_u32(self.write_actions);
                buf.put_u32(self.apply_actions);
                buf.put_u64(self.write_setfields);
                buf.put_u64(self.apply_setfields);
                buf.put_u64(self.metadata_match);
                buf.put_u64(self.metadata_write);
                buf.put_u32(self.instructions);
                buf.put_u32(self.config);
                buf.put_u32(self.max_entries);
            }
            _ => buf.put_bytes(0, 3),
        }
        buf.put_u32(self.active_count);
        buf.put_u64(self.lookup_count);
        buf.put_u64(self.matched_count);
    }
}

/// OFPST_TABLE reply: one entry per table.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TableStatsReply {
    pub tables: Vec<TableStats>,
}

impl TableStatsReply {
    /// The reply as the messages OVS sends in `version` (see [`multipart::encode_entries`]).
    pub fn encode_multipart(&self, version: u8, xid: u32) -> Vec<Bytes> {
        let t = MsgType::TableStatsReply;
        multipart::encode_entries(t, version, xid, &self.tables, |e, _, buf| e.encode(version, buf))
    }
}

impl Body for TableStatsReply {
    fn decode(cx: Cx, r: &mut Reader) -> Result<Self, OfpErr> {
        Ok(TableStatsReply { tables: multipart::decode_list(r, |r| TableStats::decode(cx.version, r))? })
    }

    fn encode(&self, cx: Cx, buf: &mut BytesMut) {
        for t in &self.tables {
            t.encode(cx.version, buf);
        }
    }

    fn print(&self, cx: Cx, out: &mut String, _verbosity: u8) {
        let mut p = FeaturesPrinter::default();
        for t in &self.tables {
            let counters = TableCounters {
                active_count: t.active_count,
                lookup_count: t.lookup_count,
                matched_count: t.matched_count,
            };
            p.table(out, t.view(cx.version), Some(counters));
        }
        p.finish(out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::msg::{Message, OfpMsg};
    use crate::print::ofp_to_string;
    use bytes::Bytes;

    fn be64s(vs: impl IntoIterator<Item = u64>) -> Vec<u8> {
        vs.into_iter().flat_map(|v| v.to_be_bytes()).collect()
    }

    /// A multipart reply (`mp_type`) or request with xid 2.
    fn mp(version: u8, request: bool, mp_type: u16, body: &[u8]) -> Bytes {
        let hdr_len = if version == 1 { 12 } else { 16 };
        let t = match (version, request) {
            (1, true) => 16,
            (1, false) => 17,
            (_, true) => 18,
            (_, false) => 19,
        };
        let mut b = vec![version, t];
        b.extend(((hdr_len + body.len()) as u16).to_be_bytes());
        b.extend([0, 0, 0, 2]);
        b.extend(mp_type.to_be_bytes());
        b.extend([0; 2]);
        if version > 1 {
            b.extend([0; 4]);
        }
        b.extend(body);
        Bytes::from(b)
    }

    fn decode(m: &Bytes) -> Result<Message, OfpErr> {
        OfpMsg::decode(m).map(|m| m.body).map_err(|e| e.error)
    }

    /// An OF1.4 port entry for port 1 (or `port`): counters 1..=8, duration 5.5 s, then `props`.
    fn entry14(port: u32, props: &[u8], length: Option<u16>) -> Vec<u8> {
        let mut b = vec![0, 0, 0, 0];
        b.extend(port.to_be_bytes());
        b.extend([0, 0, 0, 5, 0x1d, 0xcd, 0x65, 0]);
        b.extend(be64s(1..=8));
        b.extend(props);
        let len = length.unwrap_or(b.len() as u16);
        b[..2].copy_from_slice(&len.to_be_bytes());
        b
    }

    fn ethernet_prop() -> Vec<u8> {
        [vec![0, 0, 0, 40, 0, 0, 0, 0], be64s(11..=14)].concat()
    }

    fn intel_prop(exp_type: u32, payload: &[u8]) -> Vec<u8> {
        let len = 12 + payload.len();
        let mut b = vec![0xff, 0xff];
        b.extend((len as u16).to_be_bytes());
        b.extend(0xaa01u32.to_be_bytes());
        b.extend(exp_type.to_be_bytes());
        b.extend(payload);
        b.resize(len.next_multiple_of(8), 0);
        b
    }

    #[test]
    fn desc_strings_are_nul_padded_fields() {
        let d = DescStats {
            mfr_desc: "Nicira, Inc.".into(),
            hw_desc: "Open vSwitch".into(),
            sw_desc: "3.1.0".into(),
            serial_num: "None".into(),
            dp_desc: "x".repeat(256),
        };
        let m = OfpMsg::new(4, 2, Message::DescStatsReply(d.clone())).to_bytes();
        assert_eq!(m.len(), 16 + 1056);
        assert_eq!(&m[16..29], b"Nicira, Inc.\0");
        assert_eq!(m[16 + 3 * 256..16 + 3 * 256 + 5], *b"None\0");
        assert_eq!(decode(&m), Ok(Message::DescStatsReply(d)));
        assert!(ofp_to_string(&m, 1).starts_with(concat!(
            "OFPST_DESC reply (OF1.3) (xid=0x2):\nManufacturer: Nicira, Inc.\nHardware: Open vSwitch\n",
            "Software: 3.1.0\nSerial Num: None\nDP Description: xxx"
        )));
    }

    #[test]
    fn port_request_numbers_per_version() {
        let of10 = mp(1, true, 4, &[0xff, 0xfe, 0, 0, 0, 0, 0, 0]);
        assert_eq!(decode(&of10), Ok(Message::PortStatsRequest(PortStatsRequest { port_no: port_no::LOCAL })));
        assert_eq!(ofp_to_string(&of10, 1), "OFPST_PORT request (xid=0x2): port_no=LOCAL\n");
        let any = mp(3, true, 4, &[0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]);
        assert_eq!(decode(&any), Ok(Message::PortStatsRequest(PortStatsRequest { port_no: PortStatsRequest::ANY })));
        assert_eq!(OfpMsg::decode(&any).unwrap().to_bytes(), any);
        let seven = mp(4, true, 4, &[0, 0, 0, 7, 0, 0, 0, 0]);
        assert_eq!(ofp_to_string(&seven, 1), "OFPST_PORT request (OF1.3) (xid=0x2): port_no=7\n");
        // 32-bit numbers between the 16-bit range and the reserved ones are refused.
        for p in [0xff00u32, 0xffff_feff] {
            let m = mp(5, true, 4, &[&p.to_be_bytes()[..], &[0; 4]].concat());
            assert_eq!(decode(&m), Err(OfpErr::OFPBAC_BAD_OUT_PORT), "{p:#x}");
        }
    }

    #[test]
    fn port_reply_fixed_layouts() {
        // OF1.0: 16-bit port, 12 counters.
        let e10 = [&[0u8, 3, 0, 0, 0, 0, 0, 0][..], &be64s(1..=12)].concat();
        let m = mp(1, false, 4, &e10);
        let Ok(Message::PortStatsReply(r)) = decode(&m) else { panic!() };
        assert_eq!((r.ports[0].port_no, r.ports[0].rx_packets, r.ports[0].collisions), (3, 1, 12));
        assert_eq!(r.ports[0].duration_sec, u32::MAX);
        assert_eq!(OfpMsg::decode(&m).unwrap().to_bytes(), m);
        assert_eq!(
            ofp_to_string(&m, 1),
            "OFPST_PORT reply (xid=0x1): 1 ports\n".replace("0x1", "0x2")
                + "  port  3: rx pkts=1, bytes=3, drop=5, errs=7, frame=9, over=10, crc=11\n"
                + "           tx pkts=2, bytes=4, drop=6, errs=8, coll=12\n"
        );
        // OF1.3 adds the duration after the counters.
        let e13 = [&[0u8, 0, 0, 10, 0, 0, 0, 0][..], &be64s(1..=12), &[0, 0, 0, 1, 0, 0, 0, 5]].concat();
        let m = mp(4, false, 4, &e13);
        let Ok(Message::PortStatsReply(r)) = decode(&m) else { panic!() };
        assert_eq!((r.ports[0].duration_sec, r.ports[0].duration_nsec), (1, 5));
        assert!(ofp_to_string(&m, 1).ends_with("           duration=1.000000005s\n"));
        assert_eq!(OfpMsg::decode(&m).unwrap().to_bytes(), m);
        // A length that is not a whole number of entries.
        assert_eq!(decode(&mp(4, false, 4, &e13[..104])), Err(OfpErr::OFPBRC_BAD_LEN));
    }

    #[test]
    fn port_reply_of14_properties() {
        let custom = [&[0u8, 0, 0, 2, 3][..], b"abc", &be64s([7]), &[0], &be64s([8])].concat();
        let rfc = [&[0u8; 4][..], &be64s(100..121)].concat();
        let body = entry14(0xffff_fffe, &[ethernet_prop(), intel_prop(1, &rfc), intel_prop(2, &custom)].concat(), None);
        let m = mp(5, false, 4, &body);
        let Ok(Message::PortStatsReply(r)) = decode(&m) else { panic!() };
        let p = &r.ports[0];
        assert_eq!((p.port_no, p.duration_sec, p.duration_nsec, p.tx_errors), (port_no::LOCAL, 5, 500_000_000, 8));
        assert_eq!((p.rx_frame_err, p.collisions), (11, 14));
        assert_eq!(p.rfc2819.map(|s| (s.rx_1_to_64_packets, s.rx_jabber_errors)), Some((100, 120)));
        assert_eq!(p.custom, [("abc".to_string(), 7), (String::new(), 8)]);
        assert_eq!(OfpMsg::decode(&m).unwrap().to_bytes(), m);
        let text = ofp_to_string(&m, 1);
        assert!(
            text.contains("  port LOCAL: rx pkts=1, bytes=3, drop=5, errs=7, frame=11, over=12, crc=13\n"),
            "{text}"
        );
        assert!(text.contains("           duration=5.500s\n           rx rfc2819 1_to_64_packets=100, "), "{text}");
        assert!(text.ends_with("           CUSTOM Statistics\n                      abc=7,\n"), "{text}");
        // Without properties the Ethernet counters are unknown.
        let m = mp(5, false, 4, &entry14(2, &[], None));
        assert!(ofp_to_string(&m, 1).contains("errs=7, frame=?, over=?, crc=?\n"));
        // Unknown properties, and unknown Intel ones, are skipped.
        let skipped = [vec![0, 5, 0, 8, 0, 0, 0, 0], intel_prop(9, &[]), ethernet_prop()].concat();
        let Ok(Message::PortStatsReply(r)) = decode(&mp(5, false, 4, &entry14(1, &skipped, None))) else { panic!() };
        assert_eq!(r.ports[0].rx_frame_err, 11);
    }

    #[test]
    fn port_reply_of14_errors_match_ovs() {
        let eth32 = [vec![0, 0, 0, 32, 0, 0, 0, 0], be64s(1..=3)].concat();
        let rfc_short = [&[0u8; 4][..], &be64s(100..120)].concat();
        let custom_short = [&[0u8, 0, 0, 3, 3][..], b"abc", &be64s([7])].concat();
        let cases: [(&str, Vec<u8>, OfpErr); 9] = [
            ("ethernet length 32", entry14(1, &eth32, None), OfpErr::OFPBPC_BAD_LEN),
            ("rfc2819 short", entry14(1, &intel_prop(1, &rfc_short), None), OfpErr::OFPBPC_BAD_LEN),
            ("custom truncated", entry14(1, &intel_prop(2, &custom_short), None), OfpErr::OFPBPC_BAD_LEN),
            ("custom header short", entry14(1, &intel_prop(2, &[0, 0]), None), OfpErr::OFPBPC_BAD_LEN),
            (
                "experimenter 0",
                entry14(1, &[0xff, 0xff, 0, 12, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0], None),
                OfpErr::OFPBPC_BAD_EXPERIMENTER,
            ),
            ("entry length 72", entry14(1, &[], Some(72)), OfpErr::OFPBRC_BAD_LEN),
            ("entry length past end", entry14(1, &[], Some(88)), OfpErr::OFPBRC_BAD_LEN),
            ("port in the gap", entry14(0xff00, &[], None), OfpErr::OFPBAC_BAD_OUT_PORT),
            ("property past entry", entry14(1, &[0, 0, 0, 40, 0, 0, 0, 0], None), OfpErr::OFPBPC_BAD_LEN),
        ];
        for (name, body, err) in cases {
            assert_eq!(decode(&mp(5, false, 4, &body)), Err(err), "{name}");
        }
    }

    #[test]
    fn table_stats_layouts_and_ovs_quirks() {
        let view = FeaturesView::ovs_default(0, 2);
        for (version, len) in [(1, 64), (2, 88), (3, 128), (4, 24), (6, 24)] {
            let t = TableStats::from_view(&view, 3, 20, 10, version);
            let m = OfpMsg::new(version, 2, Message::TableStatsReply(TableStatsReply { tables: vec![t.clone()] }));
            let b = m.to_bytes();
            assert_eq!(b.len() - if version == 1 { 12 } else { 16 }, len, "version {version}");
            assert_eq!(decode(&b), Ok(Message::TableStatsReply(TableStatsReply { tables: vec![t] })));
        }
        // OF1.0: every wildcard bit, including the full IP masks.
        let t = TableStats::from_view(&view, 0, 0, 0, 1);
        assert_eq!(t.wildcards, 0x3f_ffff);
        // OF1.1: the config word carries OVS's internal miss value; apply-actions are read from
        // the write-actions bitmap.
        let mut v = view.clone();
        v.miss_config = TableMiss::Drop;
        v.nonmiss.apply.ofpacts = 0;
        let t = TableStats::from_view(&v, 0, 0, 0, 2);
        assert_eq!((t.config, t.apply_actions), (3, 0));
        let back = t.view(2);
        assert_eq!(back.miss_config, TableMiss::Controller);
        assert_eq!(back.nonmiss.apply.ofpacts, back.nonmiss.write.ofpacts);
        // OF1.2: OXM bits for fields with an OF1.2 header only.
        let t = TableStats::from_view(&view, 0, 0, 0, 3);
        assert_eq!(t.match_fields & (1 << 44), 1 << 44, "packet_type is written");
        assert!(!t.view(3).match_fields.contains(MfId::PacketType), "but not read back");
    }

    #[test]
    fn table_stats_of10_vector_prints_like_ovs() {
        let m = Bytes::from(
            crate::print::parse_hex(concat!(
                "0111004c000000010003000000000000636c61737369666965720000000000000000000000000000",
                "0000000000000000003fffff001000000000000b00000000000000000000000000000000"
            ))
            .unwrap(),
        );
        assert_eq!(
            ofp_to_string(&m, 1),
            concat!(
                "OFPST_TABLE reply (xid=0x1):\n",
                "  table 0 (\"classifier\"):\n",
                "    active=11, lookup=0, matched=0\n",
                "    max_entries=1048576\n",
                "    matching:\n",
                "      exact match or wildcard: in_port eth_{src,dst,type} vlan_{vid,pcp} ip_{src,dst} nw_{proto,tos} ",
                "tcp_{src,dst}\n"
            )
        );
        assert_eq!(OfpMsg::decode(&m).unwrap().to_bytes(), m);
    }
}
