//! Table features multipart request and reply (OF1.3+): the wire form of each table's features
//! and properties, OVS's abstract view of them with OVS's decode rules and errors
//! (`ofputil_decode_table_features`), OVS's text, and the reply ovs-vswitchd sends.

use std::fmt::Write;

use bytes::{BufMut, Bytes, BytesMut};

use crate::buf::{patch_len16, put_len16_placeholder, Reader};
use crate::errors::OfpErr;
use crate::mf::{self, MfBitmap, MfId};
use crate::msg::multipart::{EntryTooLong, MultipartBuilder};
use crate::msg::ofpact_bits::{self, ALL_OFPACTS, ALL_OVSINSTS, OVSINST_GOTO_TABLE};
use crate::msg::{Body, Cx};
use crate::print::hex_alt;
use crate::prop;
use crate::raw::Raw;

pub const OFPTFPT_INSTRUCTIONS: u16 = 0;
pub const OFPTFPT_INSTRUCTIONS_MISS: u16 = 1;
pub const OFPTFPT_NEXT_TABLES: u16 = 2;
pub const OFPTFPT_NEXT_TABLES_MISS: u16 = 3;
pub const OFPTFPT_WRITE_ACTIONS: u16 = 4;
pub const OFPTFPT_WRITE_ACTIONS_MISS: u16 = 5;
pub const OFPTFPT_APPLY_ACTIONS: u16 = 6;
pub const OFPTFPT_APPLY_ACTIONS_MISS: u16 = 7;
pub const OFPTFPT_MATCH: u16 = 8;
pub const OFPTFPT_WILDCARDS: u16 = 10;
pub const OFPTFPT_WRITE_SETFIELD: u16 = 12;
pub const OFPTFPT_WRITE_SETFIELD_MISS: u16 = 13;
pub const OFPTFPT_APPLY_SETFIELD: u16 = 14;
pub const OFPTFPT_APPLY_SETFIELD_MISS: u16 = 15;
pub const OFPTFPT_EXPERIMENTER: u16 = 0xfffe;
pub const OFPTFPT_EXPERIMENTER_MISS: u16 = 0xffff;

/// Properties OpenFlow requires exactly once in every table's features.
const REQUIRED_PROPS: u32 = 1 << OFPTFPT_INSTRUCTIONS
    | 1 << OFPTFPT_NEXT_TABLES
    | 1 << OFPTFPT_WRITE_ACTIONS
    | 1 << OFPTFPT_APPLY_ACTIONS
    | 1 << OFPTFPT_MATCH
    | 1 << OFPTFPT_WILDCARDS
    | 1 << OFPTFPT_WRITE_SETFIELD
    | 1 << OFPTFPT_APPLY_SETFIELD;

/// OF1.4+ capability bits.
pub const OFPTC14_EVICTION: u32 = 1 << 2;
pub const OFPTC14_VACANCY_EVENTS: u32 = 1 << 3;

/// OF1.5 commands.
pub const OFPTFC15_REPLACE: u8 = 0;
pub const OFPTFC15_MODIFY: u8 = 1;
pub const OFPTFC15_ENABLE: u8 = 2;
pub const OFPTFC15_DISABLE: u8 = 3;

const OFPTT_ALL: u8 = 0xff;
const TABLE_FEATURES_LEN: usize = 64;
const TABLE_NAME_LEN: usize = 32;
const OF15: u8 = 6;

/// One instruction or action ID in a property: its type and whatever follows the 4-byte
/// type/length (an experimenter ID's experimenter number, for instance).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PropId {
    pub id_type: u16,
    pub data: Bytes,
}

impl PropId {
    pub fn new(id_type: u16) -> PropId {
        PropId { id_type, data: Bytes::new() }
    }
}

/// A property's content. Its shape follows from the property type: instruction and action IDs,
/// next-table ids, NXM/OXM headers, or raw bytes for experimenter and unknown properties.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PropValue {
    Ids(Vec<PropId>),
    Tables(Vec<u8>),
    /// Headers in OVS's 64-bit form (4-byte headers shifted up 32 bits), mask bit as sent.
    Oxms(Vec<u64>),
    /// Everything after the 4-byte type/length, without padding.
    Raw(Bytes),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableFeatureProp {
    pub prop_type: u16,
    pub value: PropValue,
}

/// One table's features as carried on the wire.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableFeatures {
    pub table_id: u8,
    /// `OFPTFC15_*` in OF1.5; padding (kept as sent) before.
    pub command: u8,
    pub name: String,
    pub metadata_match: u64,
    pub metadata_write: u64,
    /// OF1.3 `config` (no bits defined), OF1.4+ `capabilities` (`OFPTC14_*`).
    pub capabilities: u32,
    pub max_entries: u32,
    pub properties: Vec<TableFeatureProp>,
}

/// A table-features request (no tables: a query; otherwise the features to set) or reply.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TableFeaturesMsg {
    pub tables: Vec<TableFeatures>,
}

/// A set of next tables (ids 0..=254).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct TableSet([u64; 4]);

impl TableSet {
    pub fn insert(&mut self, id: u8) {
        self.0[usize::from(id / 64)] |= 1 << (id % 64);
    }

    pub fn contains(&self, id: u8) -> bool {
        self.0[usize::from(id / 64)] & (1 << (id % 64)) != 0
    }

    pub fn remove(&mut self, id: u8) {
        self.0[usize::from(id / 64)] &= !(1 << (id % 64));
    }

    pub fn is_empty(&self) -> bool {
        self.0.iter().all(|w| *w == 0)
    }

    pub fn iter(&self) -> impl Iterator<Item = u8> + '_ {
        (0..=254u8).filter(|id| self.contains(*id))
    }
}

/// What a set of actions can do: OVS action types (bits over OVS's action order) and the fields
/// set_field may write.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct ActionFeatures {
    pub ofpacts: u64,
    pub set_fields: MfBitmap,
}

/// Instruction capabilities for table-miss or other flows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct InstructionFeatures {
    pub next: TableSet,
    /// OVS instruction bits (see `ofpact_bits`).
    pub instructions: u32,
    pub write: ActionFeatures,
    pub apply: ActionFeatures,
}

/// A table's miss behaviour as OF1.1/1.2 table statistics state it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum TableMiss {
    #[default]
    Default,
    Controller,
    Continue,
    Drop,
}

impl TableMiss {
    fn name(self) -> &'static str {
        match self {
            TableMiss::Default => "default",
            TableMiss::Controller => "controller",
            TableMiss::Continue => "continue",
            TableMiss::Drop => "drop",
        }
    }
}

/// OVS's abstract view of one table's features (`struct ofputil_table_features`): what OVS
/// derives from table features or table statistics, checks, prints and encodes from.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FeaturesView {
    pub table_id: u8,
    pub command: u8,
    /// At most 31 bytes.
    pub name: String,
    pub metadata_match: u64,
    pub metadata_write: u64,
    pub miss_config: TableMiss,
    /// `None` where the version cannot say (before OF1.4).
    pub supports_eviction: Option<bool>,
    pub supports_vacancy_events: Option<bool>,
    pub max_entries: u32,
    pub any_properties: bool,
    pub nonmiss: InstructionFeatures,
    pub miss: InstructionFeatures,
    pub match_fields: MfBitmap,
    pub mask: MfBitmap,
    pub wildcard: MfBitmap,
}

impl FeaturesView {
    /// The features ovs-vswitchd 3.1 reports for table `table_id` of a bridge whose visible
    /// tables are 0..`n_tables` (`query_tables`): every instruction (no goto_table in the last
    /// table), every action, every writable field settable, every OXM field matchable and
    /// wildcardable, maskable ones with arbitrary masks, up to 1,000,000 flows.
    pub fn ovs_default(table_id: u8, n_tables: u8) -> FeaturesView {
        let mut next = TableSet::default();
        for j in table_id.saturating_add(1)..n_tables {
            next.insert(j);
        }
        let mut instructions = ALL_OVSINSTS;
        if next.is_empty() {
            instructions &= !OVSINST_GOTO_TABLE;
        }
        let write = ActionFeatures { ofpacts: ALL_OFPACTS, set_fields: MfBitmap::oxm_writable() };
        let nonmiss = InstructionFeatures { next, instructions, write, apply: write };
        let matchable = MfBitmap::oxm_matchable();
        FeaturesView {
            table_id,
            command: OFPTFC15_REPLACE,
            name: String::new(),
            metadata_match: u64::MAX,
            metadata_write: u64::MAX,
            miss_config: TableMiss::Default,
            supports_eviction: Some(false),
            supports_vacancy_events: Some(false),
            max_entries: 1_000_000,
            any_properties: true,
            nonmiss,
            miss: nonmiss,
            match_fields: matchable,
            mask: MfBitmap::oxm_maskable(),
            wildcard: matchable,
        }
    }
}

/// Reads NUL-padded text of fixed width (all of it if there is no NUL).
pub(crate) fn get_fixed_str(r: &mut Reader, width: usize) -> Result<String, OfpErr> {
    let b = r.bytes(width)?;
    let end = b.iter().position(|c| *c == 0).unwrap_or(width);
    Ok(String::from_utf8_lossy(&b[..end]).into_owned())
}

/// Writes `s` NUL-padded to `width` bytes, cut on a character boundary if longer (so that what
/// was written reads back as the same text).
pub(crate) fn put_fixed_str(buf: &mut BytesMut, s: &str, width: usize) {
    let b = char_prefix(s, width).as_bytes();
    buf.put_slice(b);
    buf.put_bytes(0, width - b.len());
}

/// `s` cut to at most `max` bytes on a character boundary (OVS's strlcpy into a fixed array).
pub(crate) fn truncate_name(s: &str, max: usize) -> String {
    char_prefix(s, max).to_string()
}

fn char_prefix(s: &str, max: usize) -> &str {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Pulls one NXM/OXM header from a field list (OVS `nx_pull_header__` without the lookup).
fn pull_oxm_header(r: &mut Reader) -> Result<u64, OfpErr> {
    let bad_len = OfpErr::OFPBMC_BAD_LEN;
    let h = u64::from(r.peek_u32().map_err(|_| bad_len)?) << 32;
    if mf::is_experimenter(h) {
        let h = r.u64().map_err(|_| bad_len)?;
        if mf::header_length(h) < 4 {
            return Err(bad_len);
        }
        Ok(h)
    } else {
        r.skip(4)?;
        Ok(h)
    }
}

/// OVS `parse_oxms`: fields named in a list, split by mask bit. Lists that may not carry masks
/// (`masked` is `None`) fail with OFPBMC_BAD_MASK if a known field comes masked.
fn parse_oxms(
    payload: &Bytes,
    strict: bool,
    exact: &mut MfBitmap,
    masked: Option<&mut MfBitmap>,
) -> Result<Vec<u64>, OfpErr> {
    let mut r = Reader::new(payload.clone());
    let (mut ex, mut ma, mut headers) = (MfBitmap::new(), MfBitmap::new(), vec![]);
    while !r.is_empty() {
        let h = pull_oxm_header(&mut r)?;
        headers.push(h);
        match MfId::from_header(h) {
            Some(id) if mf::header_hasmask(h) => ma.insert(id),
            Some(id) => ex.insert(id),
            None if strict => return Err(OfpErr::OFPBMC_BAD_FIELD),
            None => {}
        }
    }
    *exact = ex;
    match masked {
        Some(m) => *m = ma,
        None if !ma.is_empty() => return Err(OfpErr::OFPBMC_BAD_MASK),
        None => {}
    }
    Ok(headers)
}

/// Instruction or action IDs: 4-byte type/length elements, not padded.
fn parse_ids(payload: &Bytes) -> Result<Vec<PropId>, OfpErr> {
    let mut r = Reader::new(payload.clone());
    let mut ids = vec![];
    while !r.is_empty() {
        let p = prop::pull_with(&mut r, 1, 0x10000)?;
        ids.push(PropId { id_type: p.wire_type, data: p.body });
    }
    Ok(ids)
}

fn parse_instructions(payload: &Bytes, strict: bool, out: &mut u32) -> Result<Vec<PropId>, OfpErr> {
    let ids = parse_ids(payload)?;
    *out = 0;
    for id in &ids {
        match ofpact_bits::ovsinst_from_type(id.id_type) {
            Some(bit) => *out |= bit,
            None if strict => return Err(OfpErr::OFPBIC_UNKNOWN_INST),
            None => {}
        }
    }
    Ok(ids)
}

fn parse_actions(payload: &Bytes, version: u8, out: &mut u64) -> Result<Vec<PropId>, OfpErr> {
    let ids = parse_ids(payload)?;
    let types = ids.iter().filter(|id| id.id_type < 32).fold(0u32, |acc, id| acc | 1 << id.id_type);
    *out = ofpact_bits::ofpacts_from_openflow(types, version);
    Ok(ids)
}

fn parse_next_tables(payload: &Bytes, out: &mut TableSet) -> Result<Vec<u8>, OfpErr> {
    *out = TableSet::default();
    for &id in payload.iter() {
        if id == OFPTT_ALL {
            return Err(OfpErr::OFPBPC_BAD_VALUE);
        }
        out.insert(id);
    }
    Ok(payload.to_vec())
}

/// One table's features from `r` (OVS `ofputil_decode_table_features`). `strict` is a switch
/// reading a controller's request (unknown properties, instructions and fields are errors);
/// otherwise, as a controller reading a reply, they are skipped.
fn parse_table(version: u8, r: &mut Reader, strict: bool) -> Result<(TableFeatures, FeaturesView), OfpErr> {
    let bad_len = OfpErr::OFPBPC_BAD_LEN;
    if r.remaining() < TABLE_FEATURES_LEN {
        return Err(bad_len);
    }
    let len = usize::from(r.peek_u16()?);
    if len < TABLE_FEATURES_LEN || len % 8 != 0 || len > r.remaining() {
        return Err(bad_len);
    }
    let mut e = r.sub(len)?;
    e.skip(2)?;
    let table_id = e.u8()?;
    let command = e.u8()?;
    e.skip(4)?;
    let name = get_fixed_str(&mut e, TABLE_NAME_LEN)?;
    let metadata_match = e.u64()?;
    let metadata_write = e.u64()?;
    let capabilities = e.u32()?;
    let max_entries = e.u32()?;

    let mut v = FeaturesView::default();
    if version >= OF15 {
        if command > OFPTFC15_DISABLE {
            return Err(OfpErr::OFPTFFC_BAD_COMMAND);
        }
        v.command = command;
    }
    if table_id == OFPTT_ALL {
        return Err(OfpErr::OFPTFFC_BAD_TABLE);
    }
    v.table_id = table_id;
    v.name = truncate_name(&name, TABLE_NAME_LEN - 1);
    v.metadata_match = metadata_match;
    v.metadata_write = metadata_write;
    if version >= 5 {
        v.supports_eviction = Some(capabilities & OFPTC14_EVICTION != 0);
        v.supports_vacancy_events = Some(capabilities & OFPTC14_VACANCY_EVENTS != 0);
    }
    v.max_entries = max_entries;
    v.any_properties = !e.is_empty();

    let mut properties = vec![];
    let mut seen = 0u32;
    while !e.is_empty() {
        let prop::Prop { wire_type: prop_type, body: payload, .. } = prop::pull(&mut e, 0xffff)?;
        if prop_type < 32 {
            if seen & (1 << prop_type) != 0 {
                return Err(OfpErr::OFPTFFC_BAD_FEATURES);
            }
            seen |= 1 << prop_type;
        }
        // OVS switches on the 64-bit experimenter property type cast to a 32-bit enum, so an
        // experimenter property is read as the standard property its exp_type names (without
        // counting as seen), and kept here as raw bytes.
        let experimenter = prop_type == OFPTFPT_EXPERIMENTER_MISS;
        let (kind, body) = if experimenter {
            (u32::from_be_bytes([payload[4], payload[5], payload[6], payload[7]]), payload.slice(8..))
        } else {
            (u32::from(prop_type), payload.clone())
        };
        let miss = kind & 1 != 0;
        let tif = if miss { &mut v.miss } else { &mut v.nonmiss };
        let value = match u16::try_from(kind).unwrap_or(OFPTFPT_EXPERIMENTER) {
            OFPTFPT_INSTRUCTIONS | OFPTFPT_INSTRUCTIONS_MISS => {
                PropValue::Ids(parse_instructions(&body, strict, &mut tif.instructions)?)
            }
            OFPTFPT_NEXT_TABLES | OFPTFPT_NEXT_TABLES_MISS => {
                PropValue::Tables(parse_next_tables(&body, &mut tif.next)?)
            }
            OFPTFPT_WRITE_ACTIONS | OFPTFPT_WRITE_ACTIONS_MISS => {
                PropValue::Ids(parse_actions(&body, version, &mut tif.write.ofpacts)?)
            }
            OFPTFPT_APPLY_ACTIONS | OFPTFPT_APPLY_ACTIONS_MISS => {
                PropValue::Ids(parse_actions(&body, version, &mut tif.apply.ofpacts)?)
            }
            OFPTFPT_MATCH => PropValue::Oxms(parse_oxms(&body, strict, &mut v.match_fields, Some(&mut v.mask))?),
            OFPTFPT_WILDCARDS => PropValue::Oxms(parse_oxms(&body, strict, &mut v.wildcard, None)?),
            OFPTFPT_WRITE_SETFIELD | OFPTFPT_WRITE_SETFIELD_MISS => {
                PropValue::Oxms(parse_oxms(&body, strict, &mut tif.write.set_fields, None)?)
            }
            OFPTFPT_APPLY_SETFIELD | OFPTFPT_APPLY_SETFIELD_MISS => {
                PropValue::Oxms(parse_oxms(&body, strict, &mut tif.apply.set_fields, None)?)
            }
            _ if strict && experimenter => return Err(OfpErr::OFPBPC_BAD_EXP_TYPE),
            _ if strict => return Err(OfpErr::OFPBPC_BAD_TYPE),
            _ => PropValue::Raw(payload.clone()),
        };
        let value = if experimenter { PropValue::Raw(payload) } else { value };
        properties.push(TableFeatureProp { prop_type, value });
    }

    // OF1.3 and OF1.4 require every required property; OF1.5 only when there are any.
    if seen & REQUIRED_PROPS != REQUIRED_PROPS && (v.any_properties || version < OF15) {
        return Err(OfpErr::OFPTFFC_BAD_FEATURES);
    }
    if v.any_properties {
        // A missing table-miss property means "same as for other flows".
        let absent = |t: u16| seen & (1 << t) == 0;
        if absent(OFPTFPT_INSTRUCTIONS_MISS) {
            v.miss.instructions = v.nonmiss.instructions;
        }
        if absent(OFPTFPT_NEXT_TABLES_MISS) {
            v.miss.next = v.nonmiss.next;
        }
        if absent(OFPTFPT_WRITE_ACTIONS_MISS) {
            v.miss.write.ofpacts = v.nonmiss.write.ofpacts;
        }
        if absent(OFPTFPT_APPLY_ACTIONS_MISS) {
            v.miss.apply.ofpacts = v.nonmiss.apply.ofpacts;
        }
        if absent(OFPTFPT_WRITE_SETFIELD_MISS) {
            v.miss.write.set_fields = v.nonmiss.write.set_fields;
        }
        if absent(OFPTFPT_APPLY_SETFIELD_MISS) {
            v.miss.apply.set_fields = v.nonmiss.apply.set_fields;
        }
    }
    // Maskable fields are matchable and wildcardable; only matchable fields are wildcardable.
    v.match_fields = v.match_fields.union(&v.mask);
    v.wildcard = v.wildcard.union(&v.mask).intersect(&v.match_fields);

    let t = TableFeatures {
        table_id,
        command,
        name,
        metadata_match,
        metadata_write,
        capabilities,
        max_entries,
        properties,
    };
    Ok((t, v))
}

fn parse_all(version: u8, r: &mut Reader, strict: bool) -> Result<Vec<(TableFeatures, FeaturesView)>, OfpErr> {
    let mut out = vec![];
    while !r.is_empty() {
        out.push(parse_table(version, r, strict)?);
    }
    Ok(out)
}

impl TableFeatureProp {
    fn encode(&self, buf: &mut BytesMut) {
        let start = prop::start(buf, self.prop_type);
        match &self.value {
            PropValue::Ids(ids) => {
                for id in ids {
                    buf.put_u16(id.id_type);
                    buf.put_u16(u16::try_from(4 + id.data.len()).unwrap_or(u16::MAX));
                    buf.put_slice(&id.data);
                }
            }
            PropValue::Tables(t) => buf.put_slice(t),
            PropValue::Oxms(hs) => {
                for h in hs {
                    buf.put_slice(&h.to_be_bytes()[..mf::header_wire_len(*h)]);
                }
            }
            PropValue::Raw(b) => buf.put_slice(b),
        }
        prop::finish(buf, start);
    }
}

/// Instruction or action IDs for the bits of an OpenFlow type bitmap (OVS `ofpprop_put_bitmap`).
fn ids_for_bits(bits: u32) -> PropValue {
    PropValue::Ids((0..32u16).filter(|t| bits & (1 << t) != 0).map(PropId::new).collect())
}

/// Headers for a field set as OVS writes them in `version` (`put_fields_property`).
fn oxms_for(fields: &MfBitmap, masks: Option<&MfBitmap>, version: u8) -> PropValue {
    PropValue::Oxms(
        fields
            .iter()
            .map(|id| {
                let h = id.header(version).unwrap_or(0);
                if masks.is_some_and(|m| m.contains(id)) {
                    mf::make_wild(h)
                } else {
                    h
                }
            })
            .collect(),
    )
}

impl TableFeatures {
    /// OVS's wire form of `v` in `version` (`ofputil_append_table_features`): properties in OVS's
    /// order, and none at all if `v.any_properties` is false.
    pub fn from_view(v: &FeaturesView, version: u8) -> TableFeatures {
        TableFeatures::from_view_like(v, version, None)
    }

    /// [`TableFeatures::from_view`], copying from `like` (built the same way from a view that
    /// differs from `v` at most in its table id, next tables and instructions) the properties that
    /// depend on nothing else.
    fn from_view_like(v: &FeaturesView, version: u8, like: Option<&TableFeatures>) -> TableFeatures {
        let mut properties: Vec<TableFeatureProp> = vec![];
        if v.any_properties {
            // A property `like` has at the same place, or `make`'s.
            let shared = |properties: &Vec<TableFeatureProp>, make: &dyn Fn() -> PropValue| {
                like.and_then(|l| l.properties.get(properties.len())).map_or_else(make, |p| p.value.clone())
            };
            for (tif, miss) in [(&v.nonmiss, 0), (&v.miss, 1)] {
                let mut put = |t: u16, value| properties.push(TableFeatureProp { prop_type: t + miss, value });
                put(OFPTFPT_INSTRUCTIONS, ids_for_bits(ofpact_bits::ovsinsts_to_openflow(tif.instructions, version)));
                put(OFPTFPT_NEXT_TABLES, PropValue::Tables(tif.next.iter().collect()));
                let value =
                    shared(&properties, &|| ids_for_bits(ofpact_bits::ofpacts_to_openflow(tif.write.ofpacts, version)));
                properties.push(TableFeatureProp { prop_type: OFPTFPT_WRITE_ACTIONS + miss, value });
                let value = shared(&properties, &|| oxms_for(&tif.write.set_fields, None, version));
                properties.push(TableFeatureProp { prop_type: OFPTFPT_WRITE_SETFIELD + miss, value });
                let value =
                    shared(&properties, &|| ids_for_bits(ofpact_bits::ofpacts_to_openflow(tif.apply.ofpacts, version)));
                properties.push(TableFeatureProp { prop_type: OFPTFPT_APPLY_ACTIONS + miss, value });
                let value = shared(&properties, &|| oxms_for(&tif.apply.set_fields, None, version));
                properties.push(TableFeatureProp { prop_type: OFPTFPT_APPLY_SETFIELD + miss, value });
            }
            let value = shared(&properties, &|| oxms_for(&v.match_fields, Some(&v.mask), version));
            properties.push(TableFeatureProp { prop_type: OFPTFPT_MATCH, value });
            let value = shared(&properties, &|| oxms_for(&v.wildcard, None, version));
            properties.push(TableFeatureProp { prop_type: OFPTFPT_WILDCARDS, value });
        }
        let mut capabilities = 0;
        if version >= 5 {
            if v.supports_eviction == Some(true) {
                capabilities |= OFPTC14_EVICTION;
            }
            if v.supports_vacancy_events == Some(true) {
                capabilities |= OFPTC14_VACANCY_EVENTS;
            }
        }
        TableFeatures {
            table_id: v.table_id,
            command: if version >= OF15 { v.command } else { 0 },
            name: truncate_name(&v.name, TABLE_NAME_LEN - 1),
            metadata_match: v.metadata_match,
            metadata_write: v.metadata_write,
            capabilities,
            max_entries: v.max_entries,
            properties,
        }
    }

    /// OVS's abstract view of these features as a controller reads them (unknown things skipped).
    /// Features that do not decode (e.g. built by hand with a duplicate property) give the error.
    pub fn view(&self, version: u8) -> Result<FeaturesView, OfpErr> {
        self.view_in(version, false)
    }

    /// The view a switch takes of these features in a set request: unknown properties,
    /// instructions and fields are errors, as OVS reports them.
    pub fn strict_view(&self, version: u8) -> Result<FeaturesView, OfpErr> {
        self.view_in(version, true)
    }

    fn view_in(&self, version: u8, strict: bool) -> Result<FeaturesView, OfpErr> {
        let mut b = BytesMut::new();
        self.encode(&mut b);
        parse_table(version, &mut Reader::new(b.freeze()), strict).map(|(_, v)| v)
    }

    pub fn encode(&self, buf: &mut BytesMut) {
        let start = buf.len();
        let at = put_len16_placeholder(buf);
        buf.put_u8(self.table_id);
        buf.put_u8(self.command);
        buf.put_bytes(0, 4);
        put_fixed_str(buf, &self.name, TABLE_NAME_LEN);
        buf.put_u64(self.metadata_match);
        buf.put_u64(self.metadata_write);
        buf.put_u32(self.capabilities);
        buf.put_u32(self.max_entries);
        for p in &self.properties {
            p.encode(buf);
        }
        patch_len16(buf, at, start);
    }
}

impl TableFeaturesMsg {
    /// The reply ovs-vswitchd 3.1 sends in `version` for a bridge with tables 0..`n_tables`.
    pub fn ovs_reply(version: u8, n_tables: u8) -> TableFeaturesMsg {
        let mut tables: Vec<TableFeatures> = Vec::with_capacity(n_tables.into());
        for i in 0..n_tables {
            // OVS's tables differ only in their ids and next tables: the first one's lists of
            // actions and fields serve for all.
            let t = TableFeatures::from_view_like(&FeaturesView::ovs_default(i, n_tables), version, tables.first());
            tables.push(t);
        }
        TableFeaturesMsg { tables }
    }

    /// The reply as OVS sends it: as many messages as 65535-byte limits need, a table never
    /// split across two, all but the last flagged "more".
    /// Fails only for a table whose properties alone exceed what one message can hold.
    pub fn encode_replies(&self, version: u8, xid: u32) -> Result<Vec<Bytes>, EntryTooLong> {
        let mut b = MultipartBuilder::new(Raw::Ofpst13TableFeaturesReply, version, xid);
        for t in &self.tables {
            b.append_with(|buf| t.encode(buf))?;
        }
        Ok(b.finish())
    }

    /// The views a switch takes of a set request, table by table; the first error stops it.
    pub fn strict_views(&self, version: u8) -> Result<Vec<FeaturesView>, OfpErr> {
        self.tables.iter().map(|t| t.strict_view(version)).collect()
    }
}

impl Body for TableFeaturesMsg {
    /// Decodes as OVS's printer does (unknown properties, instructions and fields skipped). A
    /// request that does not decode gets the error a switch would send, which reads it strictly.
    fn decode(cx: Cx, r: &mut Reader) -> Result<Self, OfpErr> {
        let start = r.clone();
        match parse_all(cx.version, r, false) {
            Ok(ts) => Ok(TableFeaturesMsg { tables: ts.into_iter().map(|(t, _)| t).collect() }),
            Err(e) if cx.raw == Raw::Ofpst13TableFeaturesRequest => {
                Err(parse_all(cx.version, &mut start.clone(), true).err().unwrap_or(e))
            }
            Err(e) => Err(e),
        }
    }

    fn encode(&self, _cx: Cx, buf: &mut BytesMut) {
        for t in &self.tables {
            t.encode(buf);
        }
    }

    fn print(&self, cx: Cx, out: &mut String, _verbosity: u8) {
        let mut p = FeaturesPrinter::default();
        for t in &self.tables {
            // Every table decoded once already, so the view is there.
            if let Ok(v) = t.view(cx.version) {
                p.table(out, v, None);
            }
        }
        p.finish(out);
    }
}

/// A table's counters, printed with its features in table statistics.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TableCounters {
    pub active_count: u32,
    pub lookup_count: u64,
    pub matched_count: u64,
}

/// OVS's printer for a series of tables (`ofputil_table_features_format`): tables equal to the
/// one before are folded into "ditto" lines.
#[derive(Default)]
pub(crate) struct FeaturesPrinter {
    prev: Option<(FeaturesView, Option<TableCounters>)>,
    ditto: Option<(u8, u8)>,
}

impl FeaturesPrinter {
    pub(crate) fn table(&mut self, s: &mut String, f: FeaturesView, stats: Option<TableCounters>) {
        let prev = self.prev.take();
        let prev_f = prev.as_ref().map(|(f, _)| f);
        if prev.is_none() && f.command != OFPTFC15_REPLACE {
            let cmd = match f.command {
                OFPTFC15_MODIFY => "modify",
                OFPTFC15_ENABLE => "enable",
                OFPTFC15_DISABLE => "disable",
                _ => "***bad command***",
            };
            let _ = write!(s, "\n  command: {cmd}");
        }
        let same_stats = match (stats, prev.as_ref().map(|(_, st)| *st)) {
            (None, _) => true,
            (Some(a), Some(Some(b))) => a == b,
            _ => false,
        };
        let same_features = prev_f.is_some_and(|p| features_equal(&f, p));
        if same_stats && same_features && f.name.is_empty() {
            let first = self.ditto.map_or(f.table_id, |(first, _)| first);
            self.ditto = Some((first, f.table_id));
            self.prev = Some((f, stats));
            return;
        }
        self.finish(s);

        let _ = write!(s, "\n  table {}", f.table_id);
        if !f.name.is_empty() {
            let _ = write!(s, " (\"{}\")", f.name);
        }
        s.push(':');
        if same_stats && same_features {
            s.push_str(" ditto");
            self.prev = Some((f, stats));
            return;
        }
        s.push('\n');
        if let Some(st) = stats {
            let _ =
                writeln!(s, "    active={}, lookup={}, matched={}", st.active_count, st.lookup_count, st.matched_count);
        }
        if same_features {
            if !features_empty(&f) {
                s.push_str("    (same features)\n");
            }
            self.prev = Some((f, stats));
            return;
        }
        if f.metadata_match != 0 || f.metadata_write != 0 {
            let _ =
                writeln!(s, "    metadata: match={} write={}", hex_alt(f.metadata_match), hex_alt(f.metadata_write));
        }
        if f.miss_config != TableMiss::Default {
            let _ = writeln!(s, "    config={}", f.miss_config.name());
        }
        if let Some(e) = f.supports_eviction {
            let _ = writeln!(s, "    eviction: {}supported", if e { "" } else { "not " });
        }
        if let Some(e) = f.supports_vacancy_events {
            let _ = writeln!(s, "    vacancy events: {}supported", if e { "" } else { "not " });
        }
        if f.max_entries != 0 {
            let _ = writeln!(s, "    max_entries={}", f.max_entries);
        }

        let t = f.table_id;
        let prev_nonmiss = prev_f.map(|p| (&p.nonmiss, p.table_id));
        let prev_miss = prev_f.map(|p| (&p.miss, p.table_id));
        if let (Some((pn, pt)), Some((pm, _))) = (prev_nonmiss, prev_miss) {
            if instructions_equal(&f.nonmiss, t, pn, pt) && instructions_equal(&f.miss, t, pm, pt) {
                if !instructions_empty(&f.nonmiss) {
                    s.push_str("    (same instructions)\n");
                }
                self.print_matching(s, &f, prev_f);
                self.prev = Some((f, stats));
                return;
            }
        }
        if !instructions_equal(&f.nonmiss, t, &f.miss, t) {
            s.push_str("    instructions (other than table miss):\n");
            print_instructions(s, &f.nonmiss, prev_nonmiss.map(|(p, _)| p));
            s.push_str("    instructions (table miss):\n");
            print_instructions(s, &f.miss, prev_miss.map(|(p, _)| p));
        } else if !instructions_empty(&f.nonmiss) {
            s.push_str("    instructions (table miss and others):\n");
            print_instructions(s, &f.nonmiss, prev_nonmiss.map(|(p, _)| p));
        }
        self.print_matching(s, &f, prev_f);
        self.prev = Some((f, stats));
    }

    fn print_matching(&self, s: &mut String, f: &FeaturesView, prev: Option<&FeaturesView>) {
        if f.match_fields.is_empty() {
            return;
        }
        if prev.is_some_and(|p| p.match_fields == f.match_fields) {
            s.push_str("    (same matching)\n");
            return;
        }
        s.push_str("    matching:\n");
        let print = |s: &mut String, mask: bool, wc: bool, title: &str| {
            let m = if mask { f.mask } else { f.mask.complement() };
            let w = if wc { f.wildcard } else { f.wildcard.complement() };
            let bm = f.match_fields.intersect(&m.intersect(&w));
            if !bm.is_empty() {
                let _ = write!(s, "      {title}:");
                bm.format(s);
                s.push('\n');
            }
        };
        print(s, true, true, "arbitrary mask");
        print(s, false, true, "exact match or wildcard");
        print(s, false, false, "must exact match");
    }

    /// Closes a pending run of "ditto" tables (`ofputil_table_features_format_finish`).
    pub(crate) fn finish(&mut self, s: &mut String) {
        match self.ditto.take() {
            None => {}
            Some((a, b)) if a == b => {
                let _ = writeln!(s, "\n  table {a}: ditto");
            }
            Some((a, b)) => {
                let _ = writeln!(s, "\n  tables {a}...{b}: ditto");
            }
        }
    }
}

fn print_action_features(s: &mut String, a: &ActionFeatures) {
    if a.ofpacts != 0 {
        s.push_str("        actions: ");
        ofpact_bits::format_ofpacts(a.ofpacts, s);
        s.push('\n');
    }
    if !a.set_fields.is_empty() {
        s.push_str("        supported on Set-Field:");
        a.set_fields.format(s);
        s.push('\n');
    }
}

fn print_instructions(s: &mut String, tif: &InstructionFeatures, prev: Option<&InstructionFeatures>) {
    if !tif.next.is_empty() {
        s.push_str("      next tables: ");
        let ids: Vec<u8> = tif.next.iter().collect();
        let mut i = 0;
        while i < ids.len() {
            let mut j = i;
            while j + 1 < ids.len() && ids[j + 1] == ids[j] + 1 {
                j += 1;
            }
            if i == j {
                let _ = write!(s, "{},", ids[i]);
            } else {
                let _ = write!(s, "{}-{},", ids[i], ids[j]);
            }
            i = j + 1;
        }
        s.pop();
        s.push('\n');
    }
    if tif.instructions != 0 {
        if prev.is_some_and(|p| p.instructions == tif.instructions) {
            s.push_str("      (same instructions)\n");
        } else {
            s.push_str("      instructions: ");
            ofpact_bits::format_ovsinsts(tif.instructions, s);
            s.push('\n');
        }
    }
    if prev.is_some_and(|p| p.write == tif.write && p.apply == tif.apply && !tif.write.set_fields.is_empty()) {
        s.push_str("      (same actions)\n");
    } else if tif.write != tif.apply {
        s.push_str("      Write-Actions features:\n");
        print_action_features(s, &tif.write);
        s.push_str("      Apply-Actions features:\n");
        print_action_features(s, &tif.apply);
    } else if tif.write.ofpacts != 0 || !tif.write.set_fields.is_empty() {
        s.push_str("      Write-Actions and Apply-Actions features:\n");
        print_action_features(s, &tif.write);
    }
}

/// Next-table sets compare equal if they differ only in that the later table cannot go to
/// itself (OpenFlow forbids goto_table backwards), so consecutive tables can be "ditto".
fn next_equal(a: &TableSet, a_id: u8, b: &TableSet, b_id: u8) -> bool {
    if u16::from(b_id) == u16::from(a_id) + 1 && a.contains(b_id) && !b.contains(b_id) {
        let mut a = *a;
        a.remove(b_id);
        a == *b
    } else if u16::from(a_id) == u16::from(b_id) + 1 {
        next_equal(b, b_id, a, a_id)
    } else {
        a == b
    }
}

fn instructions_equal(a: &InstructionFeatures, a_id: u8, b: &InstructionFeatures, b_id: u8) -> bool {
    next_equal(&a.next, a_id, &b.next, b_id)
        && a.instructions == b.instructions
        && a.write == b.write
        && a.apply == b.apply
}

fn instructions_empty(t: &InstructionFeatures) -> bool {
    t.next.is_empty() && t.instructions == 0 && t.write == ActionFeatures::default() && t.apply == t.write
}

fn features_equal(a: &FeaturesView, b: &FeaturesView) -> bool {
    a.metadata_match == b.metadata_match
        && a.metadata_write == b.metadata_write
        && a.miss_config == b.miss_config
        && a.supports_eviction == b.supports_eviction
        && a.supports_vacancy_events == b.supports_vacancy_events
        && a.max_entries == b.max_entries
        && instructions_equal(&a.nonmiss, a.table_id, &b.nonmiss, b.table_id)
        && instructions_equal(&a.miss, a.table_id, &b.miss, b.table_id)
        && a.match_fields == b.match_fields
}

fn features_empty(f: &FeaturesView) -> bool {
    f.metadata_match == 0
        && f.metadata_write == 0
        && f.miss_config == TableMiss::Default
        && f.supports_eviction.is_none()
        && f.supports_vacancy_events.is_none()
        && f.max_entries == 0
        && instructions_empty(&f.nonmiss)
        && instructions_empty(&f.miss)
        && f.match_fields.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::msg::{Message, OfpMsg};
    use OfpErr::*;

    fn prop(t: u16, payload: &[u8]) -> Vec<u8> {
        let mut b = [&t.to_be_bytes()[..], &(4 + payload.len() as u16).to_be_bytes(), payload].concat();
        b.resize(b.len().next_multiple_of(8), 0);
        b
    }

    /// The eight required properties (empty unless overridden), minus `drop`, then `extra`.
    fn props(over: &[(u16, Vec<u8>)], drop: &[u16], extra: &[Vec<u8>]) -> Vec<u8> {
        let mut out = vec![];
        for t in [0, 2, 4, 6, 8, 10, 12, 14] {
            if !drop.contains(&t) {
                out.extend(prop(t, over.iter().find(|(o, _)| *o == t).map_or(&[][..], |(_, p)| p)));
            }
        }
        extra.iter().for_each(|e| out.extend(e));
        out
    }

    fn entry_with(ps: &[u8], table_id: u8, command: u8, length: Option<u16>) -> Vec<u8> {
        let mut b = vec![0, 0, table_id, command, 0, 0, 0, 0];
        b.extend([0; 32]);
        b.extend([0xff; 16]);
        b.extend(0u32.to_be_bytes());
        b.extend(1_000_000u32.to_be_bytes());
        b.extend(ps);
        let len = length.unwrap_or(b.len() as u16);
        b[..2].copy_from_slice(&len.to_be_bytes());
        b
    }

    fn entry(ps: &[u8]) -> Vec<u8> {
        entry_with(ps, 0, 0, None)
    }

    fn msg(version: u8, mp_type: u8, body: &[u8]) -> Bytes {
        let len = (16 + body.len()) as u16;
        let mut b = vec![version, mp_type];
        b.extend(len.to_be_bytes());
        b.extend([0, 0, 0, 2, 0, 12, 0, 0, 0, 0, 0, 0]);
        b.extend(body);
        Bytes::from(b)
    }

    fn be32s(vs: &[u32]) -> Vec<u8> {
        vs.iter().flat_map(|v| v.to_be_bytes()).collect()
    }

    fn ids(ts: &[u16]) -> Vec<u8> {
        ts.iter().flat_map(|t| [t.to_be_bytes(), 4u16.to_be_bytes()].concat()).collect()
    }

    fn exp(exp_type: u32, rest: &[u8]) -> Vec<u8> {
        prop(0xffff, &[&be32s(&[0x2320, exp_type])[..], rest].concat())
    }

    /// Name, version, body, error reading it loosely, error reading it strictly.
    type Case = (&'static str, u8, Vec<u8>, Option<OfpErr>, Option<OfpErr>);

    /// Cases and the errors OVS 3.1 gave: `ovs-ofctl ofp-print` (a controller's loose reading)
    /// and ovs-vswitchd answering the same bytes as a set request (its strict reading; a
    /// request that decodes there fails later for other reasons, which is `None` here).
    fn cases() -> Vec<Case> {
        let unknown_field = be32s(&[0x8000_7e04]);
        let eth_src_w = be32s(&[0x8000_090c]);
        let pad_prop_past = [&9u16.to_be_bytes()[..], &64u16.to_be_bytes(), &[0; 4]].concat();
        vec![
            ("valid", 4, entry(&props(&[], &[], &[])), None, None),
            (
                "missing wildcards",
                4,
                entry(&props(&[], &[10], &[])),
                Some(OFPTFFC_BAD_FEATURES),
                Some(OFPTFFC_BAD_FEATURES),
            ),
            (
                "duplicate property",
                4,
                entry(&props(&[], &[], &[prop(0, &[])])),
                Some(OFPTFFC_BAD_FEATURES),
                Some(OFPTFFC_BAD_FEATURES),
            ),
            ("unknown property 9", 4, entry(&props(&[], &[], &[prop(9, &[])])), None, Some(OFPBPC_BAD_TYPE)),
            (
                "property 0xfffe",
                4,
                entry(&props(&[], &[], &[prop(0xfffe, &be32s(&[0x2320, 1]))])),
                None,
                Some(OFPBPC_BAD_TYPE),
            ),
            ("experimenter read as instructions-miss", 4, entry(&props(&[], &[], &[exp(1, &[])])), None, None),
            (
                "experimenter 0",
                4,
                entry(&props(&[], &[], &[prop(0xffff, &be32s(&[0, 1]))])),
                Some(OFPBPC_BAD_EXPERIMENTER),
                Some(OFPBPC_BAD_EXPERIMENTER),
            ),
            (
                "experimenter too short",
                4,
                entry(&props(&[], &[], &[prop(0xffff, &be32s(&[0x2320]))])),
                Some(OFPBPC_BAD_LEN),
                Some(OFPBPC_BAD_LEN),
            ),
            (
                "experimenter read as match",
                4,
                entry(&props(&[], &[], &[exp(8, &unknown_field)])),
                None,
                Some(OFPBMC_BAD_FIELD),
            ),
            (
                "experimenter read as instructions",
                4,
                entry(&props(&[], &[], &[exp(0, &ids(&[7]))])),
                None,
                Some(OFPBIC_UNKNOWN_INST),
            ),
            (
                "experimenter read as next tables",
                4,
                entry(&props(&[], &[], &[exp(2, &[255])])),
                Some(OFPBPC_BAD_VALUE),
                Some(OFPBPC_BAD_VALUE),
            ),
            (
                "experimenter type 0xffff",
                4,
                entry(&props(&[], &[], &[exp(0xffff, &[])])),
                None,
                Some(OFPBPC_BAD_EXP_TYPE),
            ),
            (
                "experimenter type 0xfffe",
                4,
                entry(&props(&[], &[], &[exp(0xfffe, &[])])),
                None,
                Some(OFPBPC_BAD_EXP_TYPE),
            ),
            ("experimenter type 9", 4, entry(&props(&[], &[], &[exp(9, &[])])), None, Some(OFPBPC_BAD_EXP_TYPE)),
            (
                "experimenter does not count as seen",
                4,
                entry(&props(&[], &[0], &[exp(0, &[])])),
                Some(OFPTFFC_BAD_FEATURES),
                Some(OFPTFFC_BAD_FEATURES),
            ),
            ("experimenter twice", 4, entry(&props(&[], &[], &[exp(0, &[]), exp(0, &[])])), None, None),
            ("unknown instruction", 4, entry(&props(&[(0, ids(&[1, 7]))], &[], &[])), None, Some(OFPBIC_UNKNOWN_INST)),
            (
                "instruction id length 3",
                4,
                entry(&props(&[(0, be32s(&[0x0001_0003]))], &[], &[])),
                Some(OFPBPC_BAD_LEN),
                Some(OFPBPC_BAD_LEN),
            ),
            (
                "experimenter action id",
                4,
                entry(&props(&[(4, [ids(&[0]), be32s(&[0xffff_0008, 0x2320])].concat())], &[], &[])),
                None,
                None,
            ),
            (
                "next table 255",
                4,
                entry(&props(&[(2, vec![1, 255])], &[], &[])),
                Some(OFPBPC_BAD_VALUE),
                Some(OFPBPC_BAD_VALUE),
            ),
            (
                "unknown match field",
                4,
                entry(&props(&[(8, unknown_field.clone())], &[], &[])),
                None,
                Some(OFPBMC_BAD_FIELD),
            ),
            ("masked match field", 4, entry(&props(&[(8, be32s(&[0x8000_090c, 0x8000_0a02]))], &[], &[])), None, None),
            (
                "masked wildcard",
                4,
                entry(&props(&[(10, eth_src_w.clone())], &[], &[])),
                Some(OFPBMC_BAD_MASK),
                Some(OFPBMC_BAD_MASK),
            ),
            (
                "masked unknown wildcard",
                4,
                entry(&props(&[(10, be32s(&[0x8000_7f08]))], &[], &[])),
                None,
                Some(OFPBMC_BAD_FIELD),
            ),
            (
                "masked set-field",
                4,
                entry(&props(&[(12, eth_src_w.clone())], &[], &[])),
                Some(OFPBMC_BAD_MASK),
                Some(OFPBMC_BAD_MASK),
            ),
            (
                "partial field header",
                4,
                entry(&props(&[(8, vec![0x80, 0])], &[], &[])),
                Some(OFPBMC_BAD_LEN),
                Some(OFPBMC_BAD_LEN),
            ),
            (
                "experimenter field length 2",
                4,
                entry(&props(&[(8, be32s(&[0xffff_0202, 0x2320]))], &[], &[])),
                Some(OFPBMC_BAD_LEN),
                Some(OFPBMC_BAD_LEN),
            ),
            (
                "experimenter field truncated",
                4,
                entry(&props(&[(8, be32s(&[0xffff_0208]))], &[], &[])),
                Some(OFPBMC_BAD_LEN),
                Some(OFPBMC_BAD_LEN),
            ),
            (
                "table 255",
                4,
                entry_with(&props(&[], &[], &[]), 255, 0, None),
                Some(OFPTFFC_BAD_TABLE),
                Some(OFPTFFC_BAD_TABLE),
            ),
            (
                "entry length 60",
                4,
                entry_with(&props(&[], &[], &[]), 0, 0, Some(60)),
                Some(OFPBPC_BAD_LEN),
                Some(OFPBPC_BAD_LEN),
            ),
            (
                "entry length past the end",
                4,
                entry_with(&props(&[], &[], &[]), 0, 0, Some(256)),
                Some(OFPBPC_BAD_LEN),
                Some(OFPBPC_BAD_LEN),
            ),
            (
                "property past the entry",
                4,
                entry(&props(&[], &[], std::slice::from_ref(&pad_prop_past))),
                Some(OFPBPC_BAD_LEN),
                Some(OFPBPC_BAD_LEN),
            ),
            (
                "property length 3",
                4,
                entry(&props(&[], &[], &[[9u16.to_be_bytes(), 3u16.to_be_bytes(), [0; 2], [0; 2]].concat()])),
                Some(OFPBPC_BAD_LEN),
                Some(OFPBPC_BAD_LEN),
            ),
            ("OF1.3 without properties", 4, entry(&[]), Some(OFPTFFC_BAD_FEATURES), Some(OFPTFFC_BAD_FEATURES)),
            ("OF1.5 without properties", 6, entry(&[]), None, None),
            (
                "OF1.5 bad command",
                6,
                entry_with(&props(&[], &[], &[]), 0, 4, None),
                Some(OFPTFFC_BAD_COMMAND),
                Some(OFPTFFC_BAD_COMMAND),
            ),
            ("OF1.5 modify", 6, entry_with(&props(&[], &[], &[]), 0, 1, None), None, None),
            ("OF1.4", 5, entry(&props(&[], &[], &[])), None, None),
            // The two readings stop at different properties.
            (
                "unknown field, then bad length",
                4,
                entry(&props(&[(8, unknown_field.clone())], &[], &[pad_prop_past])),
                Some(OFPBPC_BAD_LEN),
                Some(OFPBMC_BAD_FIELD),
            ),
            (
                "masked wildcard, then unknown field",
                4,
                entry(&props(&[(10, [eth_src_w, unknown_field].concat())], &[], &[])),
                Some(OFPBMC_BAD_MASK),
                Some(OFPBMC_BAD_FIELD),
            ),
            (
                "second table bad",
                4,
                [entry(&props(&[], &[], &[])), entry_with(&props(&[], &[], &[]), 255, 0, None)].concat(),
                Some(OFPTFFC_BAD_TABLE),
                Some(OFPTFFC_BAD_TABLE),
            ),
            ("less than one table", 4, vec![0; 56], Some(OFPBPC_BAD_LEN), Some(OFPBPC_BAD_LEN)),
        ]
    }

    #[test]
    fn decode_errors_match_ovs_in_both_readings() {
        for (name, version, body, loose, strict) in cases() {
            let req = msg(version, 18, &body);
            match (OfpMsg::decode(&req), loose) {
                (Ok(m), None) => {
                    let Message::TableFeaturesStatsRequest(tf) = &m.body else { panic!("{name}: {m:?}") };
                    assert_eq!(tf.strict_views(version).err(), strict, "{name}: strict reading");
                    assert_eq!(m.to_bytes(), req, "{name}: re-encoding");
                }
                // A request that does not decode gets the switch's (strict) error.
                (Err(e), Some(_)) => assert_eq!(Some(e.error), strict, "{name}: request error"),
                (r, _) => panic!("{name}: {r:?}, expected loose {loose:?}"),
            }
            if body.len() >= TABLE_FEATURES_LEN {
                let reply = OfpMsg::decode(&msg(version, 19, &body)).err().map(|e| e.error);
                assert_eq!(reply, loose, "{name}: reply");
            }
        }
    }

    #[test]
    fn views_follow_ovs_rules() {
        // Matching on eth_src with a mask, ip_proto exactly; eth_type only wildcarded (not
        // matchable, so dropped from the wildcards); write-actions given for table miss only.
        let body = entry(&props(
            &[(8, be32s(&[0x8000_090c, 0x8000_1401])), (10, be32s(&[0x8000_0a02])), (0, ids(&[1, 4]))],
            &[],
            &[prop(OFPTFPT_WRITE_ACTIONS_MISS, &ids(&[0, 22]))],
        ));
        let m = OfpMsg::decode(&msg(4, 19, &body)).unwrap();
        let Message::TableFeaturesStatsReply(tf) = m.body else { panic!() };
        let v = tf.tables[0].view(4).unwrap();
        let names = |b: &MfBitmap| b.iter().map(MfId::name).collect::<Vec<_>>();
        assert_eq!(names(&v.match_fields), ["eth_src", "nw_proto"]);
        assert_eq!(names(&v.mask), ["eth_src"]);
        assert_eq!(names(&v.wildcard), ["eth_src"]);
        assert_eq!(v.nonmiss.instructions, v.miss.instructions);
        let mut s = String::new();
        ofpact_bits::format_ovsinsts(v.nonmiss.instructions, &mut s);
        assert_eq!(s, "apply_actions goto_table");
        assert_eq!(v.nonmiss.write.ofpacts, 0);
        assert_eq!(v.miss.write.ofpacts, ofpact_bits::ofpacts_from_openflow(1 | 1 << 22, 4));
        assert_eq!((v.supports_eviction, v.max_entries, v.metadata_match), (None, 1_000_000, u64::MAX));
    }

    #[test]
    fn ovs_reply_shares_lists_but_not_next_tables() {
        for version in 4..=6 {
            for n_tables in [1, 2, 255] {
                let each =
                    (0..n_tables).map(|i| TableFeatures::from_view(&FeaturesView::ovs_default(i, n_tables), version));
                let want = TableFeaturesMsg { tables: each.collect() };
                assert_eq!(
                    TableFeaturesMsg::ovs_reply(version, n_tables),
                    want,
                    "OF version {version}, {n_tables} tables"
                );
            }
        }
    }

    #[test]
    fn ovs_default_reply_round_trips_through_views() {
        for version in 4..=6 {
            let reply = TableFeaturesMsg::ovs_reply(version, 3);
            let views: Vec<FeaturesView> = reply.tables.iter().map(|t| t.view(version).unwrap()).collect();
            let expect: Vec<FeaturesView> = (0..3).map(|i| FeaturesView::ovs_default(i, 3)).collect();
            // Only the actions and instructions the version has a type for survive; before OF1.4 the capability
            // bits cannot be expressed.
            let expressible =
                ofpact_bits::ofpacts_from_openflow(ofpact_bits::ofpacts_to_openflow(ALL_OFPACTS, version), version);
            let expect: Vec<FeaturesView> = expect
                .into_iter()
                .map(|mut v| {
                    for tif in [&mut v.nonmiss, &mut v.miss] {
                        let insts = ofpact_bits::ovsinsts_to_openflow(tif.instructions, version);
                        tif.instructions = ofpact_bits::ovsinsts_from_openflow(insts, version);
                        tif.write.ofpacts = expressible;
                        tif.apply.ofpacts = expressible;
                    }
                    if version < 5 {
                        v.supports_eviction = None;
                        v.supports_vacancy_events = None;
                    }
                    v
                })
                .collect();
            assert_eq!(views, expect, "version {version}");
            assert!(!views[2].nonmiss.next.contains(2) && views[0].nonmiss.next.iter().eq([1, 2]));
            assert_eq!(views[2].nonmiss.instructions & OVSINST_GOTO_TABLE, 0);
        }
    }

    #[test]
    fn fixed_width_text_is_cut_on_a_character_boundary() {
        // A name that decoded lossily can hold multi-byte characters; cutting one in half would
        // make it read back differently.
        let mut b = BytesMut::new();
        put_fixed_str(&mut b, "ab\u{fffd}", 4);
        assert_eq!(&b[..], b"ab\0\0");
        assert_eq!(get_fixed_str(&mut Reader::new(b.freeze()), 4), Ok("ab".to_string()));
    }

    #[test]
    fn query_is_an_empty_request() {
        let m = OfpMsg::decode(&msg(4, 18, &[])).unwrap();
        assert_eq!(m.body, Message::TableFeaturesStatsRequest(TableFeaturesMsg::default()));
        assert_eq!(crate::print::first_line(&m.to_bytes()), "OFPST_TABLE_FEATURES request (OF1.3) (xid=0x2):");
    }

    #[test]
    fn replies_split_between_tables() {
        let msgs = TableFeaturesMsg::ovs_reply(4, 254).encode_replies(4, 9).unwrap();
        assert_eq!(msgs.len(), 20);
        let mut tables = 0;
        for (i, m) in msgs.iter().enumerate() {
            assert!(m.len() <= 65535);
            let d = OfpMsg::decode(m).unwrap();
            assert_eq!(d.stats_flags, u16::from(i + 1 < msgs.len()), "message {i}");
            let Message::TableFeaturesStatsReply(tf) = d.body else { panic!() };
            assert!(tf
                .tables
                .iter()
                .all(|t| usize::from(t.table_id) == tables + tf.tables.iter().position(|x| x == t).unwrap()));
            tables += tf.tables.len();
        }
        assert_eq!(tables, 254);
    }
}
