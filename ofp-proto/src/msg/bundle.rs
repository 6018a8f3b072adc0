//! Bundle control and bundle-add messages (OF1.4+ and ONF 1.3 experimenter 2300/2301), decoded
//! with OVS's checks on the embedded message (`ofputil_decode_bundle_ctrl`/`_add`).

use bytes::{BufMut, Bytes, BytesMut};

use crate::buf::Reader;
use crate::errors::OfpErr;
use crate::header::{Header, HEADER_LEN};
use crate::msg::{Body, Cx, Message, OfpMsg};
use crate::print::{hex_alt, ofp_to_string, put_bit_names};
use crate::raw::{self, MsgType};

/// Bundle flag: apply all or nothing.
pub const OFPBF_ATOMIC: u16 = 1 << 0;
/// Bundle flag: apply in the order added.
pub const OFPBF_ORDERED: u16 = 1 << 1;

/// A bundle control `type` (`OFPBCT_*`); values above 7 are kept as they came.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct BundleCtrlType(pub u16);

impl BundleCtrlType {
    pub const OPEN_REQUEST: BundleCtrlType = BundleCtrlType(0);
    pub const OPEN_REPLY: BundleCtrlType = BundleCtrlType(1);
    pub const CLOSE_REQUEST: BundleCtrlType = BundleCtrlType(2);
    pub const CLOSE_REPLY: BundleCtrlType = BundleCtrlType(3);
    pub const COMMIT_REQUEST: BundleCtrlType = BundleCtrlType(4);
    pub const COMMIT_REPLY: BundleCtrlType = BundleCtrlType(5);
    pub const DISCARD_REQUEST: BundleCtrlType = BundleCtrlType(6);
    pub const DISCARD_REPLY: BundleCtrlType = BundleCtrlType(7);

    /// OVS's text, e.g. `OPEN_REQUEST`; `None` for values above 7 (OVS prints nothing).
    pub fn name(self) -> Option<&'static str> {
        const NAMES: [&str; 8] = [
            "OPEN_REQUEST",
            "OPEN_REPLY",
            "CLOSE_REQUEST",
            "CLOSE_REPLY",
            "COMMIT_REQUEST",
            "COMMIT_REPLY",
            "DISCARD_REQUEST",
            "DISCARD_REPLY",
        ];
        NAMES.get(usize::from(self.0)).copied()
    }

    /// The type a switch answers this request with, or OFPBFC_BAD_TYPE for a reply type or an
    /// unknown value (OVS 3.1 leaves the reply type of unknown values uninitialised).
    pub fn reply_for_request(self) -> Result<BundleCtrlType, OfpErr> {
        match self.0 {
            t @ (0 | 2 | 4 | 6) => Ok(BundleCtrlType(t + 1)),
            _ => Err(OfpErr::OFPBFC_BAD_TYPE),
        }
    }
}

/// OFPT_BUNDLE_CONTROL / ONFT_BUNDLE_CONTROL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BundleCtrl {
    pub bundle_id: u32,
    pub ctrl_type: BundleCtrlType,
    /// `OFPBF_*` bits, unknown bits kept.
    pub flags: u16,
    /// Properties after the fixed part, kept as they came (OVS ignores them).
    pub properties: Bytes,
}

impl BundleCtrl {
    pub fn new(bundle_id: u32, ctrl_type: BundleCtrlType, flags: u16) -> BundleCtrl {
        BundleCtrl { bundle_id, ctrl_type, flags, properties: Bytes::new() }
    }
}

impl Body for BundleCtrl {
    fn decode(_cx: Cx, r: &mut Reader) -> Result<Self, OfpErr> {
        let bundle_id = r.u32()?;
        let ctrl_type = BundleCtrlType(r.u16()?);
        let flags = r.u16()?;
        Ok(BundleCtrl { bundle_id, ctrl_type, flags, properties: r.rest() })
    }

    fn encode(&self, _cx: Cx, buf: &mut BytesMut) {
        buf.put_u32(self.bundle_id);
        buf.put_u16(self.ctrl_type.0);
        buf.put_u16(self.flags);
        buf.put_slice(&self.properties);
    }

    fn print(&self, _cx: Cx, out: &mut String, _verbosity: u8) {
        out.push_str(&format!(
            "\n bundle_id={} type={} flags=",
            hex_alt(u64::from(self.bundle_id)),
            self.ctrl_type.name().unwrap_or("")
        ));
        put_flags(self.flags, out);
    }
}

/// OFPT_BUNDLE_ADD_MESSAGE / ONFT_BUNDLE_ADD_MESSAGE: a bundlable message to add to a bundle.
#[derive(Clone, Debug, PartialEq)]
pub struct BundleAdd {
    pub bundle_id: u32,
    pub flags: u16,
    /// The embedded message, exactly the bytes its own header's length covers: its header was
    /// checked (version, length, xid, a bundlable type), its body was not (see [`BundleAdd::inner`]).
    pub msg: Bytes,
    /// Bytes after the embedded message (OF1.4 properties), kept as they came; OVS ignores them.
    pub properties: Bytes,
}

/// Whether OVS accepts a message type inside a bundle (`ofputil_is_bundlable`).
pub fn is_bundlable(t: MsgType) -> bool {
    matches!(t, MsgType::PortMod | MsgType::FlowMod | MsgType::GroupMod | MsgType::PacketOut)
}

impl BundleAdd {
    /// Wraps `inner` for bundle `bundle_id`. The outer message takes the inner one's version and
    /// xid, as OpenFlow requires; `None` if that version has no bundles (before OF1.3).
    pub fn wrap(bundle_id: u32, flags: u16, inner: OfpMsg) -> Option<OfpMsg> {
        let (version, xid) = (inner.version, inner.xid);
        let msg = inner.to_bytes();
        let add = BundleAdd { bundle_id, flags, msg, properties: Bytes::new() };
        OfpMsg::try_new(version, xid, Message::BundleAddMessage(add))
    }

    /// The embedded message decoded, or the error decoding its body gives (what a switch answers
    /// the add with). Decoding is left to the receiver, which may check the body more cheaply
    /// (`view::MsgView::parse` gives the same errors) or decode it with its own options.
    pub fn inner(&self) -> Result<OfpMsg, OfpErr> {
        OfpMsg::decode(&self.msg).map_err(|e| e.error)
    }

    /// Decodes the body of a bundle add whose outer header had `xid`, with OVS's checks in OVS's order.
    pub(crate) fn decode(cx: Cx, xid: u32, r: &mut Reader) -> Result<BundleAdd, OfpErr> {
        let bundle_id = r.u32()?;
        r.skip(2)?; // "type": unused in bundle add.
        let flags = r.u16()?;
        let rest = r.peek_rest();
        let Some(h) = Header::parse(rest) else { return Err(OfpErr::OFPBFC_MSG_BAD_LEN) };
        if h.version != cx.version {
            return Err(OfpErr::OFPBFC_BAD_VERSION);
        }
        let inner_len = usize::from(h.length);
        if inner_len < HEADER_LEN || inner_len > rest.len() {
            return Err(OfpErr::OFPBFC_MSG_BAD_LEN);
        }
        if h.xid != xid {
            return Err(OfpErr::OFPBFC_MSG_BAD_XID);
        }
        let msg = r.bytes(inner_len)?;
        // OVS reports any failure to identify the embedded message as "unsupported".
        match raw::pull(&msg) {
            Ok((raw, _)) if is_bundlable(raw.msg_type()) => {}
            _ => return Err(OfpErr::OFPBFC_MSG_UNSUP),
        }
        Ok(BundleAdd { bundle_id, flags, msg, properties: r.rest() })
    }

    pub(crate) fn encode(&self, _cx: Cx, buf: &mut BytesMut) {
        buf.put_u32(self.bundle_id);
        buf.put_u16(0);
        buf.put_u16(self.flags);
        buf.put_slice(&self.msg);
        buf.put_slice(&self.properties);
    }

    pub(crate) fn print(&self, _cx: Cx, out: &mut String, verbosity: u8) {
        out.push_str(&format!("\n bundle_id={} flags=", hex_alt(u64::from(self.bundle_id))));
        put_flags(self.flags, out);
        out.push('\n');
        out.push_str(&ofp_to_string(&self.msg, verbosity));
    }
}

/// Bundle flags as OVS prints them: names separated by spaces, leftover bits in hex.
fn put_flags(flags: u16, out: &mut String) {
    put_bit_names(out, flags.into(), bundle_flag_name, ' ');
}

/// The name of one bundle flag bit.
pub fn bundle_flag_name(bit: u32) -> Option<&'static str> {
    match u16::try_from(bit) {
        Ok(OFPBF_ATOMIC) => Some("atomic"),
        Ok(OFPBF_ORDERED) => Some("ordered"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::print::{first_line, parse_hex};
    use crate::raw::Raw;

    fn decode(hex: &str) -> Result<OfpMsg, OfpErr> {
        OfpMsg::decode(&Bytes::from(parse_hex(hex).unwrap())).map_err(|e| e.error)
    }

    fn add_body(m: &OfpMsg) -> &BundleAdd {
        match &m.body {
            Message::BundleAddMessage(b) => b,
            b => panic!("not a bundle add: {b:?}"),
        }
    }

    #[test]
    fn control_decodes_every_field_and_prints_like_ovs() {
        let m = decode("05210010000000090000000100000003").unwrap();
        assert_eq!(m.raw, Raw::Ofpt14BundleControl);
        assert_eq!(m.body, Message::BundleControl(BundleCtrl::new(1, BundleCtrlType::OPEN_REQUEST, 3)));
        assert_eq!(
            crate::print::ofp_to_string(&m.to_bytes(), 1),
            "OFPT_BUNDLE_CONTROL (OF1.4) (xid=0x9):\n bundle_id=0x1 type=OPEN_REQUEST flags=atomic ordered\n"
        );
        // ONF 1.3 form, bundle 0, no flags.
        let m = decode("04040018000000034f4e4600000008fc0000000000010000").unwrap();
        assert_eq!(m.raw, Raw::Onft13BundleControl);
        assert_eq!(m.body, Message::BundleControl(BundleCtrl::new(0, BundleCtrlType::OPEN_REPLY, 0)));
        let text = crate::print::ofp_to_string(&m.to_bytes(), 1);
        assert_eq!(text, "ONFT_BUNDLE_CONTROL (OF1.3) (xid=0x3):\n bundle_id=0 type=OPEN_REPLY flags=0\n");
    }

    #[test]
    fn control_with_unknown_type_flags_and_properties() {
        let hex = "0521001800000000000000ff0009000c0000000800000000";
        let m = decode(hex).unwrap();
        let Message::BundleControl(c) = &m.body else { panic!() };
        assert_eq!((c.ctrl_type, c.flags, c.properties.len()), (BundleCtrlType(9), 12, 8));
        assert_eq!(m.to_bytes(), Bytes::from(parse_hex(hex).unwrap()));
        let text = crate::print::ofp_to_string(&m.to_bytes(), 1);
        assert_eq!(text, "OFPT_BUNDLE_CONTROL (OF1.4) (xid=0x0):\n bundle_id=0xff type= flags=0xc\n");
        // Properties must be a multiple of 8 bytes.
        assert_eq!(decode("0521001400000000000000ff0009000c00000008"), Err(OfpErr::OFPBRC_BAD_LEN));
    }

    #[test]
    fn reply_types_follow_ovs_handler() {
        assert_eq!(BundleCtrlType::OPEN_REQUEST.reply_for_request(), Ok(BundleCtrlType::OPEN_REPLY));
        assert_eq!(BundleCtrlType::CLOSE_REQUEST.reply_for_request(), Ok(BundleCtrlType::CLOSE_REPLY));
        assert_eq!(BundleCtrlType::COMMIT_REQUEST.reply_for_request(), Ok(BundleCtrlType::COMMIT_REPLY));
        assert_eq!(BundleCtrlType::DISCARD_REQUEST.reply_for_request(), Ok(BundleCtrlType::DISCARD_REPLY));
        for t in [1, 3, 5, 7, 8, 0xffff] {
            assert_eq!(BundleCtrlType(t).reply_for_request(), Err(OfpErr::OFPBFC_BAD_TYPE), "type {t}");
        }
    }

    /// An OF1.4 port mod with xid 3 (40 bytes).
    const PORT_MOD_14: &str = "05100028000000030000000300000000505400000001000000000001000000010000000800000001";

    fn add(outer_version: u8, outer_xid: u32, inner: &str) -> String {
        let inner_len = inner.len() / 2;
        format!("{outer_version:02x}22{:04x}{outer_xid:08x}0000000100000001{inner}", 16 + inner_len)
    }

    #[test]
    fn add_keeps_the_inner_message_and_its_decode() {
        let hex = add(5, 3, PORT_MOD_14);
        let m = decode(&hex).unwrap();
        let b = add_body(&m);
        assert_eq!((b.bundle_id, b.flags), (1, OFPBF_ATOMIC));
        assert_eq!(b.msg, Bytes::from(parse_hex(PORT_MOD_14).unwrap()));
        let inner = b.inner().unwrap();
        assert_eq!((inner.version, inner.xid, inner.raw), (5, 3, Raw::Ofpt14PortMod));
        assert!(b.properties.is_empty());
        assert_eq!(m.to_bytes(), Bytes::from(parse_hex(&hex).unwrap()));
        let text = crate::print::ofp_to_string(&m.to_bytes(), 1);
        assert!(
            text.starts_with(concat!(
                "OFPT_BUNDLE_ADD_MESSAGE (OF1.4) (xid=0x3):\n",
                " bundle_id=0x1 flags=atomic\n",
                "OFPT_PORT_MOD (OF1.4) (xid=0x3):"
            )),
            "{text}"
        );
    }

    #[test]
    fn add_misuse_gets_ovs_errors() {
        // Nothing after the bundle header, or less than a header.
        assert_eq!(decode("05220010000000030000000100000001"), Err(OfpErr::OFPBFC_MSG_BAD_LEN));
        assert_eq!(decode("05220017000000030000000100000001050e0028000000"), Err(OfpErr::OFPBFC_MSG_BAD_LEN));
        // Inner version differs (checked before the inner length).
        assert_eq!(decode(&add(5, 3, "040e0fff00000003")), Err(OfpErr::OFPBFC_BAD_VERSION));
        // Inner length below a header, or past the end.
        assert_eq!(decode(&add(5, 3, "0514000700000003")), Err(OfpErr::OFPBFC_MSG_BAD_LEN));
        assert_eq!(decode(&add(5, 3, "0514000900000003")), Err(OfpErr::OFPBFC_MSG_BAD_LEN));
        // Inner xid differs from the outer one.
        assert_eq!(decode(&add(5, 4, PORT_MOD_14)), Err(OfpErr::OFPBFC_MSG_BAD_XID));
        // Not bundlable: hello, barrier, echo, bundle control, a multipart request.
        for inner in ["0500000800000003", "0514000800000003", "0502000800000003", "05210010000000030000000100000003"] {
            assert_eq!(decode(&add(5, 3, inner)), Err(OfpErr::OFPBFC_MSG_UNSUP), "{inner}");
        }
        assert_eq!(decode(&add(5, 3, "05120010000000030000000000000000")), Err(OfpErr::OFPBFC_MSG_UNSUP));
        // Unidentifiable or badly sized inner messages are "unsupported" too, not their own error.
        assert_eq!(decode(&add(5, 3, "0563000800000003")), Err(OfpErr::OFPBFC_MSG_UNSUP));
        assert_eq!(decode(&add(5, 3, "0510000c0000000300000003")), Err(OfpErr::OFPBFC_MSG_UNSUP));
    }

    #[test]
    fn a_bad_inner_body_is_the_receivers_error_to_report() {
        // An OF1.4 flow mod matching on an unknown OXM field (`ovs-ofctl ofp-print`: "decode error:
        // OFPBMC_BAD_FIELD"): its header passes, so the add decodes; its body does not, and OVS
        // answers the add with the flow mod's own error.
        let fm = concat!(
            "050e004000000003",
            "00000000000000000000000000000000",
            "0000000000008000",
            "ffffffffffffffff",
            "ffffffff00000000",
            "0001000c0000020401020304",
            "00000000"
        );
        let m = decode(&add(5, 3, fm)).unwrap();
        assert_eq!(add_body(&m).inner(), Err(OfpErr::OFPBMC_BAD_FIELD));
        let view = crate::view::MsgView::parse(&add_body(&m).msg);
        assert_eq!(view.map(|_| ()).map_err(|e| e.error), Err(OfpErr::OFPBMC_BAD_FIELD));
    }

    #[test]
    fn inner_trailing_bytes_are_properties() {
        let hex = add(5, 3, &format!("{PORT_MOD_14}0000000000000000"));
        let m = decode(&hex).unwrap();
        assert_eq!(add_body(&m).properties.len(), 8);
        assert_eq!(m.to_bytes(), Bytes::from(parse_hex(&hex).unwrap()));
    }

    #[test]
    fn wrap_uses_the_inner_xid_and_version_form() {
        let inner = decode(PORT_MOD_14).unwrap();
        let m = BundleAdd::wrap(7, OFPBF_ORDERED, inner.clone()).unwrap();
        assert_eq!((m.version, m.xid, m.raw), (5, 3, Raw::Ofpt14BundleAddMessage));
        assert_eq!(decode(&hex(&m.to_bytes())).unwrap(), m);
        assert_eq!(first_line(&m.to_bytes()), "OFPT_BUNDLE_ADD_MESSAGE (OF1.4) (xid=0x3):");
        let mut of10 = inner;
        of10.version = 1;
        assert_eq!(BundleAdd::wrap(7, 0, of10), None);
    }

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }
}
