#!/usr/bin/env python3
"""Regenerates ofp-proto's message and error tables from an Open vSwitch checkout.

The tables are facts about the OpenFlow wire protocol as OVS speaks it (message
numbers, version ranges, minimum body sizes, error type/code triplets per version).
Only those facts are emitted; no OVS code is carried over.

usage: gen_tables.py OVS_SRC_DIR OUT_DIR
  needs gcc (struct sizes are measured by compiling against OVS's public headers).
"""
import os
import re
import subprocess
import sys
import tempfile

VERSIONS = {"1.0": 1, "1.1": 2, "1.2": 3, "1.3": 4, "1.4": 5, "1.5": 6}
MAX_VERSION = 6


def camel(name):
    return "".join(p.capitalize() if not p[0].isdigit() else p for p in name.lower().split("_"))


def version_range(r):
    if r in VERSIONS:
        return VERSIONS[r], VERSIONS[r]
    if r.endswith("+"):
        return VERSIONS[r[:-1]], MAX_VERSION
    if r == "<all>":
        return 1, 0xFF
    a, b = r.split("-")
    return VERSIONS[a], VERSIONS[b]


def comments_and_names(text, enum_prefix):
    """Yields (comment, NAME) for each `/* comment */ PREFIX_NAME,` entry."""
    out = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i].strip()
        if line.startswith("/*") and not line.startswith("/* ##"):
            comment = line[2:].strip()
            while not comment.endswith("*/"):
                i += 1
                cont = lines[i].strip()
                if cont.startswith("*") and not cont.startswith("*/"):
                    cont = cont[1:].strip()
                comment += " " + cont
            comment = comment[:-2].strip()
            j = i + 1
            while j < len(lines) and not lines[j].strip():
                j += 1
            m = re.match(r"\s*" + enum_prefix + r"([A-Z0-9_]+)", lines[j]) if j < len(lines) else None
            if m:
                out.append((comment, m.group(1)))
                i = j
        i += 1
    return out


def struct_sizes(ovs, structs):
    with tempfile.TemporaryDirectory() as d:
        c = os.path.join(d, "s.c")
        with open(c, "w") as f:
            f.write('#include <stdio.h>\n#include <stddef.h>\n#include "openflow/openflow.h"\n'
                    '#include "openflow/nicira-ext.h"\n#include "openflow/intel-ext.h"\n'
                    '#include "openvswitch/ofp-errors.h"\nint main(void){\n')
            for s in structs:
                if " up to " in s:
                    st, member = s.split(" up to ")
                    f.write('printf("%%zu\\n", offsetof(struct %s, %s));\n' % (st, member))
                else:
                    f.write('printf("%%zu\\n", sizeof(struct %s));\n' % s)
            f.write("return 0;}\n")
        exe = os.path.join(d, "s")
        subprocess.check_call(["gcc", "-I", os.path.join(ovs, "include"), "-o", exe, c])
        sizes = subprocess.check_output([exe]).decode().split()
    return dict(zip(structs, map(int, sizes)))


def elem_size(elem, sizes):
    elem = elem.strip()
    m = re.match(r"uint8_t\[(\d+)\]", elem)
    if m:
        return int(m.group(1))
    if elem == "uint8_t":
        return 1
    if elem == "ovs_be32":
        return 4
    if elem == "ovs_be64":
        return 8
    return sizes[elem[len("struct "):]]


def gen_msgs(ovs):
    src = open(os.path.join(ovs, "include/openvswitch/ofp-msgs.h")).read()
    raw_text = src[src.index("enum ofpraw {"):src.index("\n};", src.index("enum ofpraw {"))]
    type_text = src[src.index("enum ofptype {"):src.index("\n};", src.index("enum ofptype {"))]

    raws = []
    for comment, name in comments_and_names(raw_text, "OFPRAW_"):
        m = re.match(r"([A-Z]+) ([-.+\d]+|<all>) \((\d+)\): ([^.]+)\.$", comment)
        if not m:
            continue
        family, versions, number, contents = m.groups()
        lo, hi = version_range(versions)
        raws.append(dict(name=name, family=family, lo=lo, hi=hi, number=int(number), contents=contents))

    structs = set()
    for r in raws:
        if r["contents"] == "void":
            continue
        for c in r["contents"].split(","):
            c = c.strip()
            base = c[:-2] if c.endswith("[]") else c
            if base.startswith("struct "):
                structs.add(base[len("struct "):])
    sizes = struct_sizes(ovs, sorted(structs))

    for r in raws:
        min_body, extra = 0, 0
        if r["contents"] != "void":
            for c in r["contents"].split(","):
                c = c.strip()
                if c.endswith("[]"):
                    extra = elem_size(c[:-2], sizes)
                else:
                    min_body += elem_size(c, sizes)
        r["min_body"], r["extra"] = min_body, extra
        fam, name = r["family"], r["name"]
        # OFPRAW_<FAMILY><vinfix>_<NAME>: the printed name drops the version infix.
        short = re.sub(r"^" + fam + r"\d*_", "", name)
        human = fam + "_" + short
        if fam.endswith("ST"):
            if human.endswith("_REQUEST"):
                human = human[:-8] + " request"
            elif human.endswith("_REPLY"):
                human = human[:-6] + " reply"
        r["human"] = human

    # ofptype: each type lists its raws.
    types = []
    for m in re.finditer(r"OFPTYPE_([A-Z0-9_]+),\s*/\*(.*?)\*/", type_text, re.S):
        tname, body = m.group(1), m.group(2)
        members = re.findall(r"OFPRAW_([A-Z0-9_]+)", body)
        types.append((tname, members))
    raw_to_type = {}
    for tname, members in types:
        for mname in members:
            raw_to_type[mname] = tname

    out = []
    out.append("// @generated by ofp-proto/gen/gen_tables.py from Open vSwitch's include/openvswitch/ofp-msgs.h.")
    out.append("// Facts only: message numbers, version ranges and body sizes. Do not edit by hand.\n")
    out.append("use super::{Family, RawInfo};\n")
    out.append("/// Every concrete message layout OVS knows (OVS `enum ofpraw`).")
    out.append("#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]")
    out.append("#[repr(u16)]")
    out.append("pub enum Raw {")
    for r in raws:
        out.append("    %s," % camel(r["name"]))
    out.append("}\n")
    out.append("/// Every message meaning OVS distinguishes (OVS `enum ofptype`).")
    out.append("#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]")
    out.append("pub enum MsgType {")
    for tname, _ in types:
        out.append("    %s," % camel(tname))
    out.append("}\n")
    out.append("pub(crate) static RAW_INFO: [RawInfo; %d] = [" % len(raws))
    for r in raws:
        out.append(
            "    RawInfo { raw: Raw::%s, name: %r, family: Family::%s, min_version: %d, max_version: %d, "
            "number: %d, min_body: %d, extra_multiple: %d, msg_type: MsgType::%s },"
            % (camel(r["name"]), r["human"], r["family"].capitalize(), r["lo"], r["hi"], r["number"],
               r["min_body"], r["extra"], camel(raw_to_type[r["name"]])))
    out.append("];")
    return "\n".join(out).replace("'", '"') + "\n"


def gen_errors(ovs):
    src = open(os.path.join(ovs, "include/openvswitch/ofp-errors.h")).read()
    vendors = {"OF": 0}
    common = open(os.path.join(ovs, "include/openflow/openflow-common.h")).read()
    for m in re.finditer(r"#define\s+([A-Z0-9_]+)_VENDOR_ID\s+(0x[0-9a-fA-F]+|[0-9]+)", common):
        vendors[m.group(1)] = int(m.group(2), 0)
    text = src[src.index("enum ofperr {"):src.index("\n};", src.index("enum ofperr {"))]
    errors = []
    for comment, name in comments_and_names(text, "OFPERR_"):
        if comment.startswith("Expected:"):
            continue
        m = re.match(r"((?:.(?!\.  ))+.)\.\s+(.*)$", comment)
        if not m:
            continue
        dsts, desc = m.groups()
        desc = re.sub(r"\[[^]]*\]", "", desc).strip()
        triplets = []
        for dst in dsts.split(", "):
            d = re.match(r"([A-Z]+)([0-9.]+)(\+|-[0-9.]+)?\((\d+)(?:,(\d+))?\)$", dst)
            vname, v1, v2, typ, code = d.groups()
            lo = VERSIONS[v1]
            hi = lo if v2 is None else MAX_VERSION if v2 == "+" else VERSIONS[v2[1:]]
            triplets.append((lo, hi, vendors[vname], int(typ), int(code) if code else 0))
        errors.append((name, desc, triplets))

    out = []
    out.append("// @generated by ofp-proto/gen/gen_tables.py from Open vSwitch's include/openvswitch/ofp-errors.h.")
    out.append("// Facts only: which (vendor, type, code) each error is in each OpenFlow version. Do not edit.\n")
    out.append("use super::Triplet;\n")
    out.append("/// Every OpenFlow error OVS can send or recognise, named as OVS names it (`OFPERR_*`).")
    out.append("#[allow(non_camel_case_types)]")
    out.append("#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]")
    out.append("#[repr(u16)]")
    out.append("pub enum OfpErr {")
    for name, desc, _ in errors:
        out.append("    /// %s" % desc.replace("  ", " "))
        out.append("    %s," % name)
    out.append("}\n")
    out.append("pub(crate) const N_ERRORS: usize = %d;\n" % len(errors))
    out.append("pub(crate) static ALL: [OfpErr; N_ERRORS] = [")
    for name, _, _ in errors:
        out.append("    OfpErr::%s," % name)
    out.append("];\n")
    out.append("pub(crate) static NAMES: [&str; N_ERRORS] = [")
    for name, _, _ in errors:
        out.append('    "%s",' % name)
    out.append("];\n")
    out.append("/// Per error: (first version, last version, vendor, type, code), in OVS's declaration order.")
    out.append("pub(crate) static TRIPLETS: [&[Triplet]; N_ERRORS] = [")
    for name, _, trips in errors:
        inner = ", ".join("Triplet { min_version: %d, max_version: %d, vendor: %#x, etype: %d, code: %d }" % t
                          for t in trips)
        out.append("    &[%s]," % inner)
    out.append("];")
    return "\n".join(out) + "\n"


def main():
    ovs, out_dir = sys.argv[1], sys.argv[2]
    with open(os.path.join(out_dir, "raw/table.rs"), "w") as f:
        f.write(gen_msgs(ovs))
    with open(os.path.join(out_dir, "errors/table.rs"), "w") as f:
        f.write(gen_errors(ovs))


if __name__ == "__main__":
    main()
