//! Switch description, table statistics and port statistics multiparts, in every version's
//! layout, with OVS's text.

use std::fmt::Write;

use bytes::{BufMut, BytesMut};

use crate::buf::{pad8, patch_len16, put_len16_placeholder, Reader};
use crate::errors::OfpErr;
use crate::msg::mf::{header_class, header_field, MfBitmap, MfId, OXM_CLASS_BASIC};
use crate::msg::ofpact_bits;
use crate::msg::table_features::{
    get_fixed_str, put_fixed_str, FeaturesPrinter, FeaturesView, TableCounters, TableMiss,
};
use crate::msg::{Body, Cx};

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

// OpenFlow 1.0 port numbers and their OF1.1+ 32-bit forms (OVS `ofputil_port_from_ofp11`).
const OFPP_MAX: u16 = 0xff00;
const OFPP11_MAX: u32 = 0xffff_ff00;
const OFPP11_OFFSET: u32 = 0xffff_0000;
const OFPP_NONE: u16 = 0xffff;

/// A 32-bit OF1.1+ port number as OVS's 16-bit port, or OFPBAC_BAD_OUT_PORT for the gap between.
fn port_from_ofp11(p: u32) -> Result<u16, OfpErr> {
    if p < u32::from(OFPP_MAX) {
        Ok(p as u16)
    } else if p >= OFPP11_MAX {
        Ok((p - OFPP11_OFFSET) as u16)
    } else {
        Err(OfpErr::OFPBAC_BAD_OUT_PORT)
    }
}

fn port_to_ofp11(p: u16) -> u32 {
    if p < OFPP_MAX {
        u32::from(p)
    } else {
        u32::from(p) + OFPP11_OFFSET
    }
}

/// OVS's name for a port: reserved ports by name, others in decimal.
fn port_name(p: u16) -> String {
    match p {
        0xfff7 => "UNSET".into(),
        0xfff8 => "IN_PORT".into(),
        0xfff9 => "TABLE".into(),
        0xfffa => "NORMAL".into(),
        0xfffb => "FLOOD".into(),
        0xfffc => "ALL".into(),
        0xfffd => "CONTROLLER".into(),
        0xfffe => "LOCAL".into(),
        OFPP_NONE => "ANY".into(),
        p => p.to_string(),
    }
}

/// OFPST_PORT request: one port, or OFPP_ANY (0xffff, OVS's OFPP_NONE) for all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PortStatsRequest {
    pub port_no: u16,
}

impl PortStatsRequest {
    pub const ANY: u16 = OFPP_NONE;
}

impl Body for PortStatsRequest {
    fn decode(cx: Cx, r: &mut Reader) -> Result<Self, OfpErr> {
        let port_no = if cx.version == 1 { r.u16()? } else { port_from_ofp11(r.u32()?)? };
        Ok(PortStatsRequest { port_no })
    }

    fn encode(&self, cx: Cx, buf: &mut BytesMut) {
        if cx.version == 1 {
            buf.put_u16(self.port_no);
            buf.put_bytes(0, 6);
        } else {
            buf.put_u32(port_to_ofp11(self.port_no));
            buf.put_bytes(0, 4);
        }
    }

    fn print(&self, _cx: Cx, out: &mut String, _verbosity: u8) {
        let _ = write!(out, " port_no={}", port_name(self.port_no));
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
    pub port_no: u16,
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
    pub fn unknown(port_no: u16) -> PortStats {
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
            let p = r.u16()?;
            r.skip(6)?;
            p
        } else {
            let p = port_from_ofp11(r.u32()?)?;
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
        let mut ps = PortStats::unknown(port_from_ofp11(e.u32()?)?);
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
        if e.remaining() < 4 {
            return Err(bad_len);
        }
        let prop_type = e.peek_u16()?;
        let len = usize::from(e.peek_u32()? as u16);
        if len < 4 || len.next_multiple_of(8) > e.remaining() {
            return Err(bad_len);
        }
        let mut p = e.sub(len.next_multiple_of(8))?.sub(len)?.with_error(bad_len);
        p.skip(4)?;
        match prop_type {
            OFPPSPT14_ETHERNET => {
                if len != ETHERNET_PROP_LEN {
                    return Err(bad_len);
                }
                p.skip(4)?;
                for v in self.ethernet_mut() {
                    *v = p.u64()?;
                }
            }
            OFPPSPT14_EXPERIMENTER => {
                if len < 12 {
                    return Err(bad_len);
                }
                let (exp, exp_type) = (p.u32()?, p.u32()?);
                if exp == 0 {
                    return Err(OfpErr::OFPBPC_BAD_EXPERIMENTER);
                }
                match (exp, exp_type) {
                    (INTEL_VENDOR_ID, INTEL_PORT_STATS_RFC2819) => {
                        if len != RFC2819_PROP_LEN {
                            return Err(bad_len);
                        }
                        p.skip(4)?;
                        let mut s = Rfc2819Stats::default();
                        for v in s.counters_mut() {
                            *v = p.u64()?;
                        }
                        self.rfc2819 = Some(s);
                    }
                    (INTEL_VENDOR_ID, INTEL_PORT_STATS_CUSTOM) => {
                        p.skip(2)?;
                        let n = p.u16()?;
                        self.custom = (0..n)
                            .map(|_| {
                                let name_len = usize::from(p.u8()?);
                                let name = p.bytes(name_len)?;
                                let name = String::from_utf8_lossy(&name[..name_len.min(CUSTOM_NAME_MAX)]);
                                Ok((name.into_owned(), p.u64()?))
                            })
                            .collect::<Result<_, OfpErr>>()?;
                    }
                    _ => {}
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn encode(&self, version: u8, buf: &mut BytesMut) {
        match version {
            1 => {
                buf.put_u16(self.port_no);
                buf.put_bytes(0, 6);
            }
            2..=4 => {
                buf.put_u32(port_to_ofp11(self.port_no));
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
        buf.put_u32(port_to_ofp11(self.port_no));
        buf.put_u32(self.duration_sec);
        buf.put_u32(self.duration_nsec);
        for v in self.basic() {
            buf.put_u64(v);
        }
        buf.put_u16(OFPPSPT14_ETHERNET);
        buf.put_u16(ETHERNET_PROP_LEN as u16);
        buf.put_bytes(0, 4);
        for v in self.ethernet() {
            buf.put_u64(v);
        }
        if let Some(s) = &self.rfc2819 {
            let p = buf.len();
            let plen = start_intel_prop(buf, INTEL_PORT_STATS_RFC2819);
            buf.put_bytes(0, 4);
            for v in s.counters() {
                buf.put_u64(v);
            }
            patch_len16(buf, plen, p);
        }
        if !self.custom.is_empty() {
            let p = buf.len();
            let plen = start_intel_prop(buf, INTEL_PORT_STATS_CUSTOM);
            buf.put_bytes(0, 2);
            buf.put_u16(u16::try_from(self.custom.len()).unwrap_or(u16::MAX));
            for (name, value) in self.custom.iter().take(usize::from(u16::MAX)) {
                let name = &name.as_bytes()[..name.len().min(usize::from(u8::MAX))];
                buf.put_u8(name.len() as u8);
                buf.put_slice(name);
                buf.put_u64(*value);
            }
            patch_len16(buf, plen, p);
            pad8(buf, p);
        }
        patch_len16(buf, at, start);
    }

    fn print(&self, out: &mut String) {
        out.push_str("  port ");
        if self.port_no < 10 {
            out.push(' ');
        }
        out.push_str(&port_name(self.port_no));
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
            put_duration(out, self.duration_sec, self.duration_nsec);
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

/// Starts an Intel experimenter property; returns where its length goes.
fn start_intel_prop(buf: &mut BytesMut, exp_type: u32) -> usize {
    buf.put_u16(OFPPSPT14_EXPERIMENTER);
    let at = put_len16_placeholder(buf);
    buf.put_u32(INTEL_VENDOR_ID);
    buf.put_u32(exp_type);
    at
}

/// OVS `ofp_print_duration`: seconds, then milliseconds if exact, else nanoseconds trimmed.
fn put_duration(out: &mut String, sec: u32, nsec: u32) {
    let _ = write!(out, "{sec}");
    if nsec > 0 {
        let msec = nsec / 1_000_000;
        if msec * 1_000_000 == nsec {
            let _ = write!(out, ".{msec:03}");
        } else {
            let frac = format!("{nsec:09}");
            out.push('.');
            out.push_str(frac.trim_end_matches('0'));
        }
    }
    out.push('s');
}

/// OFPST_PORT reply: statistics for some ports.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PortStatsReply {
    pub ports: Vec<PortStats>,
}

impl PortStatsReply {
    /// One port's entry as it goes into a reply in `version` (for `MultipartBuilder`).
    pub fn encode_entry(ps: &PortStats, version: u8, buf: &mut BytesMut) {
        ps.encode(version, buf);
    }
}

impl Body for PortStatsReply {
    fn decode(cx: Cx, r: &mut Reader) -> Result<Self, OfpErr> {
        let mut ports = vec![];
        while !r.is_empty() {
            ports.push(if cx.version >= 5 { PortStats::decode14(r)? } else { PortStats::decode_fixed(cx.version, r)? });
        }
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
const OF10_WC_MAP: [(u32, &str); 12] = [
    (1 << 0, "in_port"),
    (1 << 1, "vlan_vid"),
    (1 << 2, "eth_src"),
    (1 << 3, "eth_dst"),
    (1 << 4, "eth_type"),
    (1 << 5, "nw_proto"),
    (1 << 6, "tcp_src"),
    (1 << 7, "tcp_dst"),
    (0x3f << 8, "ip_src"),
    (0x3f << 14, "ip_dst"),
    (1 << 20, "vlan_pcp"),
    (1 << 21, "nw_tos"),
];

/// OF1.1 match-field bits and their fields (OVS `ofp11_wc_map`; OFPFMF11_TYPE has none).
const OF11_WC_MAP: [(u32, &str); 15] = [
    (1 << 0, "in_port"),
    (1 << 1, "vlan_vid"),
    (1 << 2, "vlan_pcp"),
    (1 << 3, "eth_type"),
    (1 << 4, "nw_tos"),
    (1 << 5, "nw_proto"),
    (1 << 6, "tcp_src"),
    (1 << 7, "tcp_dst"),
    (1 << 8, "mpls_label"),
    (1 << 9, "mpls_tc"),
    (1 << 11, "eth_src"),
    (1 << 12, "eth_dst"),
    (1 << 13, "ip_src"),
    (1 << 14, "ip_dst"),
    (1 << 15, "metadata"),
];

fn fields_from_bits(map: &[(u32, &str)], bits: u32) -> MfBitmap {
    MfBitmap::from_ids(map.iter().filter(|(b, _)| bits & b != 0).map(|(_, n)| MfId::named(n)))
}

fn fields_to_bits(map: &[(u32, &str)], fields: &MfBitmap) -> u32 {
    map.iter().filter(|(_, n)| fields.contains(MfId::named(n))).fold(0, |acc, (b, _)| acc | b)
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
        id.preferred(3).is_some_and(|n| {
            n.version <= 3
                && header_class(n.header) == OXM_CLASS_BASIC
                && header_field(n.header) < 64
                && bits & (1 << header_field(n.header)) != 0
        })
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

impl Body for TableStatsReply {
    fn decode(cx: Cx, r: &mut Reader) -> Result<Self, OfpErr> {
        let mut tables = vec![];
        while !r.is_empty() {
            tables.push(TableStats::decode(cx.version, r)?);
        }
        Ok(TableStatsReply { tables })
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
