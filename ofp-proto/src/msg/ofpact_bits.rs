//! OpenFlow action and instruction type numbers per version, mapped to OVS's internal action
//! (`OFPACT_*`) and instruction (`OVSINST_*`) bitmaps, with the names OVS prints for them. Table
//! features and table statistics describe capabilities in these terms.

/// OVS's internal action types in OVS's order (`enum ofpact_type`); a bitmap bit is an index here.
const OFPACT_NAMES: [&str; 58] = [
    "output",
    "group",
    "controller",
    "enqueue",
    "output_reg",
    "bundle",
    "set_field",
    "set_vlan_vid",
    "set_vlan_pcp",
    "strip_vlan",
    "push_vlan",
    "mod_dl_src",
    "mod_dl_dst",
    "mod_nw_src",
    "mod_nw_dst",
    "mod_nw_tos",
    "mod_nw_ecn",
    "mod_nw_ttl",
    "mod_tp_src",
    "mod_tp_dst",
    "move",
    "push",
    "pop",
    "dec_ttl",
    "set_mpls_label",
    "set_mpls_tc",
    "set_mpls_ttl",
    "dec_mpls_ttl",
    "push_mpls",
    "pop_mpls",
    "dec_nsh_ttl",
    "delete_field",
    "encap",
    "decap",
    "set_tunnel",
    "set_queue",
    "pop_queue",
    "fin_timeout",
    "resubmit",
    "learn",
    "conjunction",
    "multipath",
    "note",
    "exit",
    "sample",
    "unroll_xlate",
    "ct",
    "ct_clear",
    "nat",
    "output_trunc",
    "clone",
    "debug_recirc",
    "debug_slow",
    "meter",
    "clear_actions",
    "write_actions",
    "write_metadata",
    "goto_table",
];

fn ofpact(name: &str) -> u8 {
    OFPACT_NAMES.iter().position(|n| *n == name).unwrap_or_else(|| panic!("no OFPACT {name}")) as u8
}

/// (OVS action name, OpenFlow action type) pairs OVS translates in a version (`get_ofpact_map`).
fn ofpat_map(version: u8) -> &'static [(&'static str, u8)] {
    const OF10: &[(&str, u8)] = &[
        ("output", 0),
        ("set_vlan_vid", 1),
        ("set_vlan_pcp", 2),
        ("strip_vlan", 3),
        ("mod_dl_src", 4),
        ("mod_dl_dst", 5),
        ("mod_nw_src", 6),
        ("mod_nw_dst", 7),
        ("mod_nw_tos", 8),
        ("mod_tp_src", 9),
        ("mod_tp_dst", 10),
        ("enqueue", 11),
    ];
    const OF11: &[(&str, u8)] = &[
        ("output", 0),
        ("set_vlan_vid", 1),
        ("set_vlan_pcp", 2),
        ("mod_dl_src", 3),
        ("mod_dl_dst", 4),
        ("mod_nw_src", 5),
        ("mod_nw_dst", 6),
        ("mod_nw_tos", 7),
        ("mod_nw_ecn", 8),
        ("mod_tp_src", 9),
        ("mod_tp_dst", 10),
        ("set_mpls_label", 13),
        ("set_mpls_tc", 14),
        ("set_mpls_ttl", 15),
        ("dec_mpls_ttl", 16),
        ("push_vlan", 17),
        ("strip_vlan", 18),
        ("push_mpls", 19),
        ("pop_mpls", 20),
        ("set_queue", 21),
        ("group", 22),
        ("mod_nw_ttl", 23),
        ("dec_ttl", 24),
    ];
    const OF12: &[(&str, u8)] = &[
        ("output", 0),
        ("set_mpls_ttl", 15),
        ("dec_mpls_ttl", 16),
        ("push_vlan", 17),
        ("strip_vlan", 18),
        ("push_mpls", 19),
        ("pop_mpls", 20),
        ("set_queue", 21),
        ("group", 22),
        ("mod_nw_ttl", 23),
        ("dec_ttl", 24),
        ("set_field", 25),
    ];
    match version {
        1 => OF10,
        2 => OF11,
        _ => OF12,
    }
}

/// OVS's action bitmap for a bitmap of OpenFlow action types (`ofpact_bitmap_from_openflow`).
pub(crate) fn ofpacts_from_openflow(ofpat_bits: u32, version: u8) -> u64 {
    ofpat_map(version)
        .iter()
        .filter(|(_, t)| ofpat_bits & (1 << t) != 0)
        .fold(0, |acc, (name, _)| acc | 1 << ofpact(name))
}

/// The OpenFlow action types for OVS's action bitmap (`ofpact_bitmap_to_openflow`).
pub(crate) fn ofpacts_to_openflow(ofpacts: u64, version: u8) -> u32 {
    ofpat_map(version).iter().filter(|(name, _)| ofpacts & (1 << ofpact(name)) != 0).fold(0, |acc, (_, t)| acc | 1 << t)
}

/// Every action type OVS implements (`(1 << N_OFPACTS) - 1`).
pub(crate) const ALL_OFPACTS: u64 = (1 << OFPACT_NAMES.len()) - 1;

/// OVS's text for an action bitmap: names in OVS's order, or "<none>".
pub(crate) fn format_ofpacts(ofpacts: u64, out: &mut String) {
    if ofpacts == 0 {
        out.push_str("<none>");
        return;
    }
    let names: Vec<&str> =
        OFPACT_NAMES.iter().enumerate().filter(|(i, _)| ofpacts & (1 << i) != 0).map(|(_, n)| *n).collect();
    out.push_str(&names.join(" "));
}

/// OVS's instruction types in its order (`enum ovs_instruction_type`), with OpenFlow's number.
const OVSINSTS: [(&str, u16); 6] = [
    ("meter", 6),
    ("apply_actions", 4),
    ("clear_actions", 5),
    ("write_actions", 3),
    ("write_metadata", 2),
    ("goto_table", 1),
];

pub(crate) const OVSINST_GOTO_TABLE: u32 = 1 << 5;

/// Every instruction OVS implements.
pub(crate) const ALL_OVSINSTS: u32 = (1 << OVSINSTS.len()) - 1;

/// OVS's instruction bit for an OpenFlow instruction type in any version, if OVS knows the type
/// (`ovs_instruction_type_from_inst_type`).
pub(crate) fn ovsinst_from_type(inst_type: u16) -> Option<u32> {
    OVSINSTS.iter().position(|(_, t)| *t == inst_type).map(|i| 1 << i)
}

/// Whether `version` has the meter instruction in OVS's map (OF1.3 and OF1.4 only).
fn has_meter_instruction(version: u8) -> bool {
    matches!(version, 4 | 5)
}

/// OVS's instruction bitmap for a bitmap of OpenFlow instruction types (`ovsinst_bitmap_from_openflow`).
pub(crate) fn ovsinsts_from_openflow(ofpit_bits: u32, version: u8) -> u32 {
    OVSINSTS
        .iter()
        .enumerate()
        .filter(|(_, (name, t))| (*name != "meter" || has_meter_instruction(version)) && ofpit_bits & (1 << t) != 0)
        .fold(0, |acc, (i, _)| acc | 1 << i)
}

/// The OpenFlow instruction types for OVS's instruction bitmap (`ovsinst_bitmap_to_openflow`).
pub(crate) fn ovsinsts_to_openflow(ovsinsts: u32, version: u8) -> u32 {
    OVSINSTS
        .iter()
        .enumerate()
        .filter(|(i, (name, _))| (*name != "meter" || has_meter_instruction(version)) && ovsinsts & (1 << i) != 0)
        .fold(0, |acc, (_, (_, t))| acc | 1 << t)
}

/// OVS's text for an instruction bitmap: names in OVS's order separated by spaces.
pub(crate) fn format_ovsinsts(ovsinsts: u32, out: &mut String) {
    let words: Vec<String> = (0..32)
        .filter(|i| ovsinsts & (1 << i) != 0)
        .map(|i| OVSINSTS.get(i).map_or_else(|| i.to_string(), |(n, _)| n.to_string()))
        .collect();
    out.push_str(&words.join(" "));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn action_maps_round_trip_and_name_like_ovs() {
        // What OVS 3.1 advertises in OF1.3: output and types 15..=25.
        let of13 = ofpacts_to_openflow(ALL_OFPACTS, 4);
        assert_eq!(of13, 1 | 0x7ff << 15);
        let mut s = String::new();
        format_ofpacts(ofpacts_from_openflow(of13, 4), &mut s);
        assert_eq!(
            s,
            concat!(
                "output group set_field strip_vlan push_vlan mod_nw_ttl dec_ttl ",
                "set_mpls_ttl dec_mpls_ttl push_mpls pop_mpls set_queue"
            )
        );
        // OF1.0: types 0..=11; type 12 is unknown and ignored.
        assert_eq!(ofpacts_to_openflow(ofpacts_from_openflow(0x1fff, 1), 1), 0xfff);
        // OF1.1 strip_vlan is type 18, not 3 as in OF1.0.
        assert_eq!(ofpacts_from_openflow(1 << 18, 2), 1 << ofpact("strip_vlan"));
        let mut s = String::new();
        format_ofpacts(0, &mut s);
        assert_eq!(s, "<none>");
    }

    #[test]
    fn instruction_maps_depend_on_version() {
        assert_eq!(ovsinsts_to_openflow(ALL_OVSINSTS, 4), 0b111_1110);
        assert_eq!(ovsinsts_to_openflow(ALL_OVSINSTS, 6), 0b11_1110);
        assert_eq!(ovsinsts_from_openflow(1 << 6, 3), 0);
        assert_eq!(ovsinst_from_type(6), Some(1));
        assert_eq!(ovsinst_from_type(7), None);
        let mut s = String::new();
        format_ovsinsts(ALL_OVSINSTS, &mut s);
        assert_eq!(s, "meter apply_actions clear_actions write_actions write_metadata goto_table");
    }
}
