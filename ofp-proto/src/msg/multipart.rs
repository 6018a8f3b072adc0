//! Splitting a multipart body into messages that each fit the 16-bit OpenFlow length (OVS `ofpmp_*`).
//!
//! Entries are appended one at a time; an entry that would push the current message past 65535
//! bytes starts a new message with the same headers, and every message but the last carries the
//! "more" flag. An entry is never split across messages.

use std::fmt;

use bytes::{BufMut, Bytes, BytesMut};

use crate::buf::Reader;
use crate::errors::OfpErr;
use crate::header::MAX_MSG_LEN;
use crate::raw::{self, MsgType, Raw, OFPSF_REPLY_MORE};

/// Multipart request flag: more requests with this xid follow (same bit as `OFPSF_REPLY_MORE`).
pub const OFPSF_REQ_MORE: u16 = 1;

/// Offset of the 16-bit multipart flags in every multipart header (OF1.0 and OF1.1+ alike).
const FLAGS_OFS: usize = 10;

/// An entry too long to fit in any message, even alone after the headers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EntryTooLong {
    pub len: usize,
    pub max: usize,
}

impl fmt::Display for EntryTooLong {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "multipart entry of {} bytes exceeds the {}-byte room of one message", self.len, self.max)
    }
}

impl std::error::Error for EntryTooLong {}

/// Builds the messages of one multipart request or reply.
#[derive(Debug)]
pub struct MultipartBuilder {
    /// The headers every message starts with (length and flags patched at the end).
    hdrs: Bytes,
    done: Vec<BytesMut>,
    cur: BytesMut,
}

impl MultipartBuilder {
    /// Starts a series for `raw` (a multipart raw) in `version` with `xid`; even with no entries
    /// it produces one (empty) message, as OVS does.
    pub fn new(raw: Raw, version: u8, xid: u32) -> MultipartBuilder {
        debug_assert!(raw.is_stat(), "{raw:?} is not a multipart message");
        let mut cur = BytesMut::with_capacity(1024);
        raw.put_headers(version, xid, 0, &mut cur);
        MultipartBuilder { hdrs: Bytes::copy_from_slice(&cur), done: Vec::new(), cur }
    }

    /// The most bytes one entry may have.
    pub fn max_entry_len(&self) -> usize {
        MAX_MSG_LEN - self.hdrs.len()
    }

    /// Appends the entry that `put` writes, moving it into a new message if the current one would
    /// exceed 65535 bytes (OVS `ofpmp_postappend`). On error nothing is appended.
    pub fn append_with(&mut self, put: impl FnOnce(&mut BytesMut)) -> Result<(), EntryTooLong> {
        let start = self.cur.len();
        put(&mut self.cur);
        let len = self.cur.len() - start;
        if len > self.max_entry_len() {
            self.cur.truncate(start);
            return Err(EntryTooLong { len, max: self.max_entry_len() });
        }
        if self.cur.len() > MAX_MSG_LEN {
            let entry = self.cur.split_off(start);
            let mut next = BytesMut::with_capacity(self.hdrs.len() + entry.len().max(1024));
            next.put_slice(&self.hdrs);
            next.put_slice(&entry);
            self.done.push(std::mem::replace(&mut self.cur, next));
        }
        Ok(())
    }

    /// Appends an already encoded entry.
    pub fn append(&mut self, entry: &[u8]) -> Result<(), EntryTooLong> {
        self.append_with(|b| b.put_slice(entry))
    }

    /// The finished messages: lengths set, the "more" flag on all but the last.
    pub fn finish(self) -> Vec<Bytes> {
        let MultipartBuilder { mut done, cur, .. } = self;
        done.push(cur);
        let n = done.len();
        done.into_iter()
            .enumerate()
            .map(|(i, mut m)| {
                if i + 1 < n {
                    let flags = u16::from_be_bytes([m[FLAGS_OFS], m[FLAGS_OFS + 1]]) | OFPSF_REPLY_MORE;
                    m[FLAGS_OFS..FLAGS_OFS + 2].copy_from_slice(&flags.to_be_bytes());
                }
                raw::finish_msg(&mut m, 0);
                m.freeze()
            })
            .collect()
    }
}

/// The messages of a reply of type `t` whose entries `put` writes one at a time, in the layout OVS
/// uses for `t` in `version` (given to `put`): as many as 65535-byte limits need, an entry never
/// split, all but the last flagged "more". An entry too long for any message is left out, since
/// no message can carry it. Empty if `version` has no such reply.
pub(crate) fn encode_entries<E>(
    t: MsgType,
    version: u8,
    xid: u32,
    entries: &[E],
    put: impl Fn(&E, Raw, &mut BytesMut),
) -> Vec<Bytes> {
    let Some(raw) = Raw::for_type(t, version) else { return Vec::new() };
    let mut b = MultipartBuilder::new(raw, version, xid);
    for e in entries {
        let _ = b.append_with(|buf| put(e, raw, buf));
    }
    b.finish()
}

/// Decodes a reply body's entries until it is empty. After the first entry it reserves room for
/// as many more of the same size as the rest could hold (at most `MAX_LIST_RESERVE`), so long
/// lists of large entries are not copied as the list grows.
pub(crate) fn decode_list<E>(
    r: &mut Reader,
    mut entry: impl FnMut(&mut Reader) -> Result<E, OfpErr>,
) -> Result<Vec<E>, OfpErr> {
    let mut out = Vec::new();
    while !r.is_empty() {
        let before = r.remaining();
        out.push(entry(r)?);
        if out.len() == 1 {
            let used = (before - r.remaining()).max(1);
            out.reserve((r.remaining() / used).min(MAX_LIST_RESERVE));
        }
    }
    Ok(out)
}

/// What `decode_list` reserves at most: a peer's short entries cannot make it reserve much.
const MAX_LIST_RESERVE: usize = 256;

/// Splits already encoded entries into as few messages as greedy packing in order gives.
pub fn split_entries<E: AsRef<[u8]>>(
    raw: Raw,
    version: u8,
    xid: u32,
    entries: impl IntoIterator<Item = E>,
) -> Result<Vec<Bytes>, EntryTooLong> {
    let mut b = MultipartBuilder::new(raw, version, xid);
    for e in entries {
        b.append(e.as_ref())?;
    }
    Ok(b.finish())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::raw::identify;

    fn flags(m: &[u8]) -> u16 {
        u16::from_be_bytes([m[10], m[11]])
    }

    #[test]
    fn empty_series_is_one_empty_message() {
        let msgs = split_entries::<&[u8]>(Raw::Ofpst13TableReply, 4, 7, []).unwrap();
        assert_eq!(msgs.len(), 1);
        assert_eq!(&msgs[0][..], &[4, 19, 0, 16, 0, 0, 0, 7, 0, 3, 0, 0, 0, 0, 0, 0]);
    }

    #[test]
    fn split_happens_exactly_at_the_limit() {
        // OF1.3 headers are 16 bytes: 65519 bytes of entries fit, one more byte does not.
        let a = vec![1u8; 65519 - 8];
        let b = [2u8; 8];
        let msgs = split_entries(Raw::Ofpst13TableFeaturesReply, 4, 1, [&a[..], &b[..]]).unwrap();
        assert_eq!(msgs.len(), 1);
        assert_eq!(msgs[0].len(), 65535);
        assert_eq!(&msgs[0][2..4], &[0xff, 0xff]);

        let c = [3u8; 9];
        let msgs = split_entries(Raw::Ofpst13TableFeaturesReply, 4, 1, [&a[..], &c[..]]).unwrap();
        assert_eq!(msgs.iter().map(|m| m.len()).collect::<Vec<_>>(), [65527, 25]);
        assert_eq!((flags(&msgs[0]), flags(&msgs[1])), (OFPSF_REPLY_MORE, 0));
        assert_eq!(&msgs[1][16..], &c[..]);
        for m in &msgs {
            assert_eq!(identify(m), Ok(Raw::Ofpst13TableFeaturesReply));
            assert_eq!(&m[4..8], &[0, 0, 0, 1]);
        }
    }

    #[test]
    fn of10_headers_are_twelve_bytes() {
        let e = [0u8; 104];
        let n = (65535 - 12) / 104;
        let msgs = split_entries(Raw::Ofpst10PortReply, 1, 9, std::iter::repeat_n(&e[..], n + 1)).unwrap();
        assert_eq!(msgs.iter().map(|m| m.len()).collect::<Vec<_>>(), [12 + n * 104, 12 + 104]);
        assert_eq!(flags(&msgs[0]), OFPSF_REPLY_MORE);
    }

    #[test]
    fn requests_split_with_req_more_and_decode_it_as_flags() {
        use crate::msg::{Message, OfpMsg};
        // A set-features request for 254 tables needs several messages.
        let tables = crate::msg::TableFeaturesMsg::ovs_reply(4, 254).tables;
        let mut b = MultipartBuilder::new(Raw::Ofpst13TableFeaturesRequest, 4, 3);
        for t in &tables {
            b.append_with(|buf| t.encode(buf)).unwrap();
        }
        let msgs = b.finish();
        assert_eq!(msgs.len(), 20);
        let mut n = 0;
        for (i, m) in msgs.iter().enumerate() {
            let d = OfpMsg::decode(m).unwrap();
            assert_eq!(d.stats_flags, if i + 1 < msgs.len() { OFPSF_REQ_MORE } else { 0 });
            let Message::TableFeaturesStatsRequest(tf) = d.body else { panic!() };
            n += tf.tables.len();
        }
        assert_eq!(n, 254);
        assert!(crate::print::first_line(&msgs[0]).ends_with("(xid=0x3): flags=[more]"));
    }

    #[test]
    fn list_replies_split_themselves() {
        use crate::msg::port::Port;
        use crate::msg::stats::{PortStats, TableStats};
        use crate::msg::{Message, OfpMsg, PortDescReply, PortStatsReply, TableStatsReply};

        // Decodes a series, checking xids, "more" flags and sizes; returns the messages' bodies.
        fn bodies(msgs: &[Bytes]) -> Vec<Message> {
            msgs.iter()
                .enumerate()
                .map(|(i, m)| {
                    let d = OfpMsg::decode(m).unwrap();
                    assert!(m.len() <= MAX_MSG_LEN);
                    assert_eq!((d.xid, d.stats_flags), (9, if i + 1 < msgs.len() { OFPSF_REPLY_MORE } else { 0 }));
                    d.body
                })
                .collect()
        }

        // 700 OF1.0 port-stats entries of 104 bytes: 630 fit after the 12-byte headers.
        let stats = PortStatsReply { ports: (0..700).map(PortStats::unknown).collect() };
        let msgs = stats.encode_multipart(1, 9);
        assert_eq!(msgs.iter().map(|m| m.len()).collect::<Vec<_>>(), [12 + 630 * 104, 12 + 70 * 104]);
        let back: Vec<_> = bodies(&msgs)
            .into_iter()
            .flat_map(|b| match b {
                Message::PortStatsReply(r) => r.ports,
                b => panic!("{b:?}"),
            })
            .collect();
        assert_eq!(back, stats.ports);

        let desc = PortDescReply { ports: (1..=1000).map(|port_no| Port { port_no, ..Port::default() }).collect() };
        let back: Vec<_> = bodies(&desc.encode_multipart(5, 9))
            .into_iter()
            .flat_map(|b| match b {
                Message::PortDescStatsReply(r) => r.ports,
                b => panic!("{b:?}"),
            })
            .collect();
        assert_eq!(back, desc.ports);

        let tables =
            TableStatsReply { tables: (0..3).map(|table_id| TableStats { table_id, ..Default::default() }).collect() };
        assert_eq!(bodies(&tables.encode_multipart(4, 9)), [Message::TableStatsReply(tables.clone())]);
        // An empty reply is one empty message; a version without the reply has none.
        assert_eq!(bodies(&TableStatsReply::default().encode_multipart(6, 9)).len(), 1);
        assert!(tables.encode_multipart(7, 9).is_empty());

        // An entry no message can carry is left out.
        let mut huge = PortStats::unknown(1);
        huge.custom = (0..1200).map(|i| (format!("{i:063}"), 0)).collect();
        let msgs = PortStatsReply { ports: vec![PortStats::unknown(2), huge] }.encode_multipart(5, 9);
        let [Message::PortStatsReply(r)] = &bodies(&msgs)[..] else { panic!() };
        assert_eq!(r.ports.iter().map(|p| p.port_no).collect::<Vec<_>>(), [2]);
    }

    #[test]
    fn oversized_entry_is_refused_and_leaves_the_series_intact() {
        let mut b = MultipartBuilder::new(Raw::Ofpst13TableFeaturesReply, 4, 1);
        b.append(&[5; 64]).unwrap();
        assert_eq!(b.append(&vec![0; 65520]), Err(EntryTooLong { len: 65520, max: 65519 }));
        let msgs = b.finish();
        assert_eq!(msgs.len(), 1);
        assert_eq!(&msgs[0][16..], &[5; 64]);
    }
}
