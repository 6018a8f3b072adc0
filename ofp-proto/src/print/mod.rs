//! Human-readable text in the words `ovs-ofctl ofp-print` uses (OVS `ofp_to_string`), and the
//! key fields of a message as plain values (`key_fields`).

mod keys;

use bytes::Bytes;

use crate::errors::{ErrorCode, ErrorMsg, OfpErr};
use crate::header::{Header, Version, HEADER_LEN};
use crate::msg::{Cx, Message, OfpMsg};
use crate::raw::{self, OFPSF_REPLY_MORE};

pub use keys::{key_fields, KeyValue};

/// The text `ovs-ofctl ofp-print` prints for one message given as raw bytes.
pub fn ofp_to_string(data: &[u8], verbosity: u8) -> String {
    let mut s = String::new();
    let Some(h) = Header::parse(data) else {
        if data.is_empty() {
            s.push_str("OpenFlow message is empty\n");
        } else {
            s.push_str(&format!("OpenFlow packet too short (only {} bytes):\n", data.len()));
            hex_dump(data, 0, &mut s);
        }
        return s;
    };
    let len = usize::from(h.length);
    if len > data.len() {
        if let Ok(raw) = raw::identify(data) {
            put_header_line(&h, raw, &mut s);
            s.push('\n');
        }
        s.push_str(&format!("(***truncated to {} bytes from {}***)\n", data.len(), len));
        hex_dump(data, 0, &mut s);
        return s;
    }
    if len < data.len() {
        s.push_str(&format!("(***only uses {} bytes out of {}***)\n", len, data.len()));
        hex_dump(data, 0, &mut s);
        return s;
    }

    let frame = Bytes::copy_from_slice(data);
    let error = match OfpMsg::decode(&frame) {
        Ok(msg) => {
            put_header_line(&h, msg.raw, &mut s);
            put_stats_flags(msg.raw, msg.version, msg.stats_flags, &mut s);
            match &msg.body {
                // OVS cannot print an error whose triplet it does not know, and says BAD_LEN.
                Message::Error(ErrorMsg { code: ErrorCode::Unknown { .. }, .. }) => {
                    s.push(' ');
                    Some(OfpErr::OFPBRC_BAD_LEN)
                }
                body => {
                    body.print_body(msg.cx(), &mut s, verbosity);
                    chomp(&mut s, ' ');
                    None
                }
            }
        }
        Err(e) => match (e.raw, raw::pull(data)) {
            // OVS prints the header line only if the message passed identification and its length
            // check; then, for some bodies, what it could print before the bad part.
            (Some(raw), Ok((_, hdrs_len))) => {
                put_header_line(&h, raw, &mut s);
                let header_len = s.len();
                put_stats_flags(raw, h.version, raw::stats_flags(data), &mut s);
                let cx = Cx { version: h.version, raw };
                let error = Message::print_undecodable(cx, frame.slice(hdrs_len..), e.error, &mut s, verbosity);
                if error.is_none() {
                    chomp(&mut s, ' ');
                } else if s.len() > header_len {
                    chomp(&mut s, ' ');
                    add_newline(&mut s);
                } else {
                    s.push(' ');
                }
                error
            }
            _ => Some(e.error),
        },
    };
    if let Some(err) = error {
        s.push_str(&format!("***decode error: {}***\n", err.name()));
    }
    if verbosity >= 5 || error.is_some() {
        add_newline(&mut s);
        hex_dump(data, 0, &mut s);
    }
    add_newline(&mut s);
    s
}

/// Only the first line of `ofp_to_string`, the part that must match `ovs-ofctl ofp-print` exactly.
pub fn first_line(data: &[u8]) -> String {
    ofp_to_string(data, 1).lines().next().unwrap_or("").to_string()
}

/// "NAME (OF1.x) (xid=0x..):" as OVS prints it (no version tag for OF1.0).
pub fn put_header_line(h: &Header, raw: raw::Raw, s: &mut String) {
    s.push_str(raw.name());
    match Version::from_wire(h.version) {
        Some(Version::Of10) => {}
        Some(v) => s.push_str(&format!(" ({v})")),
        None => s.push_str(&format!(" (OF 0x{:02x})", h.version)),
    }
    s.push_str(&format!(" (xid=0x{:x}):", h.xid));
}

fn put_stats_flags(raw: raw::Raw, version: u8, mut flags: u16, s: &mut String) {
    if flags == 0 {
        return;
    }
    s.push_str(" flags=");
    if (!raw.is_stat_request() || version >= 4) && flags & OFPSF_REPLY_MORE != 0 {
        s.push_str("[more]");
        flags &= !OFPSF_REPLY_MORE;
    }
    if flags != 0 {
        s.push_str(&format!("[***unknown flags 0x{flags:04x}***]"));
    }
}

/// OFPT_ERROR body text: the error name, then the HELLO_FAILED text or the embedded request.
pub(crate) fn format_error_msg(e: &ErrorMsg, _cx: Cx, out: &mut String) {
    let Some(err) = e.error() else { return };
    out.push_str(&format!(" {}\n", err.name()));
    if err.is_hello_failed() {
        put_printable(&e.data, out);
    } else {
        out.push_str(&ofp_to_string(&e.data, 1));
    }
}

/// C's `%#x` as OVS prints ids and masks: "0" for zero, "0x…" otherwise.
pub fn hex_alt(v: u64) -> String {
    if v == 0 {
        "0".to_string()
    } else {
        format!("{v:#x}")
    }
}

/// Printable ASCII as is, everything else (and `\`, `"`) as a 3-digit octal escape.
pub fn put_printable(data: &[u8], out: &mut String) {
    for &c in data {
        if !(0x20..=0x7e).contains(&c) || c == b'\\' || c == b'"' {
            out.push_str(&format!("\\{c:03o}"));
        } else {
            out.push(char::from(c));
        }
    }
}

/// A bitmap as OVS prints one (`ofp_print_bit_names`): names of set bits lowest first, joined by
/// `sep`; bits without a name as one trailing hex number; "0" for no bits.
pub fn put_bit_names(out: &mut String, bits: u32, name: impl Fn(u32) -> Option<&'static str>, sep: char) {
    if bits == 0 {
        out.push('0');
        return;
    }
    let mut rest = bits;
    let mut n = 0;
    for i in 0..32 {
        let bit = 1u32 << i;
        if bits & bit != 0 {
            if let Some(s) = name(bit) {
                if n > 0 {
                    out.push(sep);
                }
                n += 1;
                out.push_str(s);
                rest &= !bit;
            }
        }
    }
    if rest != 0 {
        if n > 0 {
            out.push(sep);
        }
        out.push_str(&format!("0x{rest:x}"));
    }
}

/// OVS's `ds_put_hex_dump` with ASCII column: 16 bytes a line, '-' after the 8th.
pub fn hex_dump(data: &[u8], mut ofs: usize, out: &mut String) {
    use std::fmt::Write;
    let mut rest = data;
    while !rest.is_empty() {
        let start = ofs % 16;
        let n = (16 - start).min(rest.len());
        let end = start + n;
        let _ = write!(out, "{:08x}  ", ofs - start);
        for _ in 0..start {
            out.push_str("   ");
        }
        for i in start..end {
            let _ = write!(out, "{:02x}{}", rest[i - start], if i == 7 { '-' } else { ' ' });
        }
        for _ in end..16 {
            out.push_str("   ");
        }
        out.push('|');
        for _ in 0..start {
            out.push(' ');
        }
        for &c in &rest[..n] {
            out.push(if (32..127).contains(&c) { char::from(c) } else { '.' });
        }
        for _ in end..16 {
            out.push(' ');
        }
        out.push_str("|\n");
        ofs += n;
        rest = &rest[n..];
    }
}

fn chomp(s: &mut String, c: char) {
    if s.ends_with(c) {
        s.pop();
    }
}

fn add_newline(s: &mut String) {
    if !s.is_empty() && !s.ends_with('\n') {
        s.push('\n');
    }
}

/// Convenience for tests and tools: parses a hex string (whitespace ignored).
pub fn parse_hex(s: &str) -> Option<Vec<u8>> {
    let digits: Vec<u8> = s.bytes().filter(|c| !c.is_ascii_whitespace()).collect();
    if !digits.len().is_multiple_of(2) {
        return None;
    }
    digits.chunks(2).map(|p| std::str::from_utf8(p).ok().and_then(|p| u8::from_str_radix(p, 16).ok())).collect()
}

/// True if `data` is at least a header long (used by callers deciding how to print).
pub fn has_header(data: &[u8]) -> bool {
    data.len() >= HEADER_LEN
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(hex: &str) -> String {
        ofp_to_string(&parse_hex(hex).unwrap(), 1)
    }

    #[test]
    fn hello_and_echo_match_ovs_text() {
        assert_eq!(
            p("04000010000000010001000800000012"),
            "OFPT_HELLO (OF1.3) (xid=0x1):\n version bitmap: 0x01, 0x04\n"
        );
        assert_eq!(p("0100000800000000"), "OFPT_HELLO (xid=0x0):\n version bitmap: 0x01\n");
        assert_eq!(p("0402000800000002"), "OFPT_ECHO_REQUEST (OF1.3) (xid=0x2): 0 bytes of payload\n");
    }

    #[test]
    fn decode_errors_print_like_ovs() {
        assert_eq!(
            p("0463000800000000"),
            "***decode error: OFPBRC_BAD_TYPE***\n00000000  04 63 00 08 00 00 00 00-                        |.c......        |\n"
        );
    }

    #[test]
    fn errors_embed_the_request() {
        assert_eq!(
            p("0401001000000000b0c2000000000000"),
            "OFPT_ERROR (OF1.3) (xid=0x0): ***decode error: OFPBRC_BAD_LEN***\n00000000  04 01 00 10 00 00 00 00-b0 c2 00 00 00 00 00 00 |................|\n"
        );
        let s = p("0401001400000000000100010463000800000000");
        assert!(
            s.starts_with("OFPT_ERROR (OF1.3) (xid=0x0): OFPBRC_BAD_TYPE\n***decode error: OFPBRC_BAD_TYPE***\n"),
            "{s}"
        );
    }

    #[test]
    fn bit_names() {
        let name = |b| match b {
            1 => Some("A"),
            4 => Some("C"),
            _ => None,
        };
        let f = |bits| {
            let mut s = String::new();
            put_bit_names(&mut s, bits, name, ' ');
            s
        };
        assert_eq!(f(0), "0");
        assert_eq!(f(5), "A C");
        assert_eq!(f(0x1c), "C 0x18");
        assert_eq!(f(2), "0x2");
    }

    #[test]
    fn hex_dump_partial_line() {
        let mut s = String::new();
        hex_dump(b"abcd", 0, &mut s);
        assert_eq!(s, "00000000  61 62 63 64                                     |abcd            |\n");
    }
}
