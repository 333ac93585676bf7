#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Checks that docs/api.md says what the code does, so it cannot drift.

    check_api_doc.py GROVED SOURCE_DIR

Compared, each as one check ("ok - ..." / "not ok - ..."):

  * rule IDs: the rules table of section 4 = the IDs the policy code
    declares in its comments (policy/, `V7`, `U2`, ...; ranges such as
    `V1..V20` are not declarations) = the rules that have golden cases
    (tests/golden/<id>-*); and every range `V1..Vn` / `U1..Un` written in
    any tracked file spans exactly the documented rules;
  * each rule's example message appears in the expected output of one of
    its golden cases, each warning's example in some golden case;
  * defaults: `groved serve` is started on loopback and its defaulting
    webhook is run on sample manifests of each form; the patch it returns
    must be exactly what the defaults table of section 3 predicts (every
    absent field whose object exists, with the documented value), every
    row must be exercised, and a second pass must patch nothing;
  * fields: the compact-form table lists exactly the keys the compact form
    accepts (policy/pol_model.c), the template-form table exactly the
    fields the CRD declares; defaults in both agree with section 3;
  * resources and printer columns (section 1) against deploy/crds/;
  * endpoints (section 8) against the hook table (server/srv_admission.h),
    the webhook names in deploy/base/webhooks.yaml, the default ports of
    `groved serve --help`, and the running server;
  * the denial shown in section 4.3 is what the validating webhook and
    `groved validate` answer for examples/invalid/startup-cycle.yaml;
  * every YAML example in the page passes `groved validate`;
  * links in the page lead to files and headings that exist;
  * no tracked file refers to the contract or style files outside the
    repository (the names are built below so this file passes its own
    check).

Python 3 and PyYAML only. Exit status 0 when every check passes.
"""
import base64
import http.client
import json
import os
import re
import shutil
import ssl
import subprocess
import sys
import tempfile
import time

import yaml

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import k8s_yaml  # noqa: E402

RESULTS = []


def check(name, errors):
    """Records one check; errors is a list of strings (empty: passed)."""
    RESULTS.append((name, list(errors)))
    print(("ok - " if not errors else "not ok - ") + name)
    for e in errors:
        print("    " + e)


def read(root, rel):
    with open(os.path.join(root, rel), encoding="utf-8") as f:
        return f.read()


# ---- reading the page ---------------------------------------------------

def split_sections(text):
    """{heading line without '#'s: body}, in order, for ## and ###."""
    out = {}
    current = None
    in_code = False
    for line in text.splitlines():
        if line.startswith("```"):
            in_code = not in_code
        m = None if in_code else re.match(r"^(#{2,3}) (.*)$", line)
        if m:
            current = m.group(2).strip()
            out[current] = []
        elif current is not None:
            out[current].append(line)
    return {k: "\n".join(v) for k, v in out.items()}


def section(sections, prefix):
    """The body of the one section whose heading starts with prefix."""
    hits = [k for k in sections if k.startswith(prefix)]
    if len(hits) != 1:
        raise SystemExit("docs/api.md: expected one heading starting with %r, found %r"
                         % (prefix, hits))
    return sections[hits[0]]


def tables(body):
    """Markdown tables of body: a list of (header, rows), rows as dicts."""
    out = []
    lines = body.splitlines()
    i = 0
    while i < len(lines):
        if (lines[i].startswith("|") and i + 1 < len(lines)
                and re.match(r"^\|[-| ]+\|$", lines[i + 1])):
            header = cells(lines[i])
            rows = []
            i += 2
            while i < len(lines) and lines[i].startswith("|"):
                row = cells(lines[i])
                if len(row) != len(header):
                    raise SystemExit("docs/api.md: a table row has %d cells, its header %d: %s"
                                     % (len(row), len(header), lines[i]))
                rows.append(dict(zip(header, row)))
                i += 1
            out.append((header, rows))
        else:
            i += 1
    return out


def cells(line):
    return [c.strip() for c in line.strip().strip("|").split("|")]


def table_with(body, column):
    """The first table of body that has the given column."""
    for header, rows in tables(body):
        if column in header:
            return rows
    raise SystemExit("docs/api.md: no table with a %r column" % column)


def code(cell):
    """The text between the backticks of a cell that is one code span."""
    m = re.match(r"^`([^`]+)`$", cell)
    return m.group(1) if m else None


def code_blocks(text, lang):
    return re.findall(r"^```%s\n(.*?)^```" % lang, text, re.S | re.M)


# ---- rule IDs -----------------------------------------------------------

RULE_RE = re.compile(r"\b([VU])(\d+)\b")
RANGE_RE = re.compile(r"\b([VU])(\d+)\.\.([VU])(\d+)\b")


def rule_key(r):
    return (r[0], int(r[1:]))


def c_comments(text):
    return re.findall(r"/\*.*?\*/|//[^\n]*", text, re.S)


def code_rule_ids(root):
    """Rule IDs named in the comments of the policy sources (not ranges)."""
    ids = {}
    for d in ("policy", os.path.join("include", "groved")):
        for name in sorted(os.listdir(os.path.join(root, d))):
            if not name.endswith((".c", ".h")):
                continue
            rel = os.path.join(d, name)
            for comment in c_comments(read(root, rel)):
                comment = RANGE_RE.sub(" ", comment)
                for m in RULE_RE.finditer(comment):
                    ids.setdefault(m.group(0), rel)
    return ids


def golden_rule_ids(root):
    ids = {}
    for name in sorted(os.listdir(os.path.join(root, "tests", "golden"))):
        m = re.match(r"^([vu]\d+)-", name)
        if m:
            ids.setdefault(m.group(1).upper(), []).append(name)
    return ids


def tracked_files(root):
    """Files tracked by git (every file outside build/ and .git/ without git)."""
    try:
        out = subprocess.run(["git", "-C", root, "ls-files", "-z"], check=True,
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL).stdout
        return [p for p in out.decode().split("\0") if p]
    except (OSError, subprocess.CalledProcessError):
        files = []
        for d, dirs, names in os.walk(root):
            dirs[:] = [x for x in dirs if x not in (".git", "build", "__pycache__")]
            files += [os.path.relpath(os.path.join(d, n), root) for n in names]
        return files


def text_of(root, rel):
    try:
        with open(os.path.join(root, rel), "rb") as f:
            data = f.read()
    except OSError:
        return None
    if b"\0" in data:
        return None
    return data.decode("utf-8", "replace")


def check_rules(root, doc_rules, page):
    doc = {r for r in doc_rules if re.match(r"^[VU][1-9]\d*$", r)}
    code_ids = code_rule_ids(root)
    golden = golden_rule_ids(root)
    errs = ["%r in the rules table is not a rule ID (V<n> or U<n>)" % r
            for r in doc_rules if r not in doc]
    for r in sorted(doc - set(code_ids), key=rule_key):
        errs.append("%s is documented but no comment of policy/ declares it" % r)
    for r in sorted(set(code_ids) - doc, key=rule_key):
        errs.append("%s is named in %s but not in the rules table of docs/api.md"
                    % (r, code_ids[r]))
    check("the documented rule IDs are the ones the policy code declares (%d)"
          % len(doc), errs)

    errs = []
    for r in sorted(doc - set(golden), key=rule_key):
        errs.append("%s is documented but has no golden case tests/golden/%s-*"
                    % (r, r.lower()))
    for r in sorted(set(golden) - doc, key=rule_key):
        errs.append("golden cases %s test rule %s, which docs/api.md does not list"
                    % (", ".join(golden[r][:3]), r))
    check("every documented rule has golden cases, and every golden rule is documented",
          errs)

    errs = []
    for letter in "VU":
        full = sorted(int(r[1:]) for r in doc if r[0] == letter)
        if full != list(range(1, len(full) + 1)):
            errs.append("the %s rules are not numbered 1..n: %s" % (letter, full))
    for rel in tracked_files(root):
        text = text_of(root, rel)
        if text is None:
            continue
        for m in RANGE_RE.finditer(text):
            a, lo, b, hi = m.group(1), int(m.group(2)), m.group(3), int(m.group(4))
            full = sorted(int(r[1:]) for r in doc if r[0] == a)
            if a != b or not full or (lo, hi) != (1, full[-1]):
                errs.append("%s says %s, the documented rules are %s1..%s%d"
                            % (rel, m.group(0), a, a, full[-1] if full else 0))
    check("every range of rules written in the repository (V1..Vn, U1..Un) is the documented set",
          errs)

    errs = []
    for m in RULE_RE.finditer(RANGE_RE.sub(" ", page)):
        if m.group(0) not in doc:
            errs.append("docs/api.md names %s, which is not in its rules table" % m.group(0))
    check("docs/api.md names no rule outside its rules table", sorted(set(errs)))
    return golden


def golden_expected(root, case):
    return read(root, os.path.join("tests", "golden", case, "expected"))


def check_examples(root, rules_rows, warning_rows, golden):
    errs = []
    for row in rules_rows:
        r = row["Rule"]
        ex = code(row["Example message"])
        if not ex:
            errs.append("%s: the example is not one code span: %s" % (r, row["Example message"]))
            continue
        if not any(ex in golden_expected(root, c) for c in golden.get(r, [])):
            errs.append("%s: no golden case tests/golden/%s-* prints %r"
                        % (r, r.lower(), ex))
    check("each rule's example message is what groved prints in one of its golden cases", errs)

    every = "\n".join(golden_expected(root, c)
                      for c in sorted(os.listdir(os.path.join(root, "tests", "golden")))
                      if os.path.isfile(os.path.join(root, "tests", "golden", c, "expected")))
    errs = []
    for row in warning_rows:
        ex = code(row["Example"])
        if not ex or ex not in every:
            errs.append("warning %r: no golden case prints %r" % (row["Warning"], ex))
    check("each warning's example is printed by a golden case", errs)


# ---- defaults ------------------------------------------------------------

def path_tokens(dotted):
    """`spec.podCliques[].replicas` -> ['spec', 'podCliques', '[]', 'replicas']."""
    out = []
    for part in dotted.split("."):
        if part.endswith("[]"):
            out += [part[:-2], "[]"]
        else:
            out.append(part)
    return out


def pattern_of(concrete):
    return tuple("[]" if isinstance(t, int) else t for t in concrete)


def get(doc, concrete):
    """(True, value) at the concrete path, or (False, None)."""
    node = doc
    for t in concrete:
        if isinstance(t, int):
            if not isinstance(node, list) or t >= len(node):
                return False, None
        elif not isinstance(node, dict) or t not in node:
            return False, None
        node = node[t]
    return node is not None, node


def instances(doc, tokens, prefix=()):
    """Every concrete path of doc matching tokens ('[]' = each element)."""
    if not tokens:
        yield prefix
        return
    t, rest = tokens[0], tokens[1:]
    ok, node = get(doc, prefix)
    if not ok:
        return
    if t == "[]":
        if isinstance(node, list):
            for i in range(len(node)):
                yield from instances(doc, rest, prefix + (i,))
    elif isinstance(node, dict) and node.get(t) is not None:
        yield from instances(doc, rest, prefix + (t,))


def pointer_tokens(pointer):
    out = []
    for t in pointer.split("/")[1:]:
        t = t.replace("~1", "/").replace("~0", "~")
        out.append(int(t) if t.isdigit() else t)
    return tuple(out)


def leaves(concrete, value):
    """An added value as (path, leaf) pairs: objects are flattened."""
    if isinstance(value, dict) and value:
        for k, v in value.items():
            yield from leaves(concrete + (k,), v)
    else:
        yield concrete, value


def apply_adds(doc, patch):
    doc = json.loads(json.dumps(doc))
    for op in patch:
        path = pointer_tokens(op["path"])
        parent = doc
        for t in path[:-1]:
            parent = parent[t]
        last = path[-1]
        if isinstance(parent, list):
            parent.insert(len(parent) if last == "-" else int(last), op["value"])
        else:
            parent[last] = op["value"]
    return doc


def parse_defaults(rows):
    """{(form, pattern tuple): row} from the defaults table."""
    out = {}
    for row in rows:
        field = code(row["Field"])
        if not field:
            raise SystemExit("docs/api.md: defaults table: field %r is not a code span" % row["Field"])
        out[(row["Form"], tuple(path_tokens(field)))] = row
    return out


def bind(tokens, concrete):
    """tokens with each '[]' replaced by the next index of concrete."""
    idx = [t for t in concrete if isinstance(t, int)]
    out = []
    for t in tokens:
        out.append(idx.pop(0) if t == "[]" else t)
    return tuple(out)


def expected_value(cell, concrete, given, defaulted):
    """The value docs/api.md says the default at concrete has: (ok, value or why)."""
    m = re.match(r"^`([^`]*)`$", cell)
    if m:
        return True, yaml.safe_load(m.group(1))
    m = re.match(r"^same as `([^`]+)`(?:, else `([^`]*)`)?$", cell)
    if m:
        ref = path_tokens(m.group(1))
        if ref[0] in ("spec", "metadata"):
            where = bind(ref, concrete)
        else:
            where = concrete[:-1] + tuple(ref)
        ok, v = get(defaulted, where)
        if ok:
            return True, v
        if m.group(2) is not None:
            return True, yaml.safe_load(m.group(2))
        return False, "%s is absent and the table gives no 'else'" % m.group(1)
    m = re.match(r"^the clique's ratio entry, else `([^`]*)`$", cell)
    if m:
        fallback = yaml.safe_load(m.group(1))
        _, name = get(given, concrete[:-1] + ("name",))
        for g in (given.get("spec", {}).get("scalingGroups") or []):
            if name in (g.get("cliques") or []):
                ratio = g.get("replicas")
                if not isinstance(ratio, list):
                    return True, fallback
                return True, ratio[g["cliques"].index(name)]
        return True, fallback
    return False, "cannot read the default %r" % cell


def predict(table, form, given, defaulted):
    """{concrete path: (row, expected value)} for the probe given."""
    out = {}
    for (f, tokens), row in table.items():
        if f != form:
            continue
        creates = "created when absent" in row["When absent"]
        parents = set(instances(given, list(tokens[:-1])))
        if creates:
            for gp in instances(given, list(tokens[:-2])):
                if not get(given, gp + (tokens[-2],))[0]:
                    parents.add(gp + (tokens[-2],))
        for p in sorted(parents, key=str):
            here = p + (tokens[-1],)
            if get(given, here)[0]:
                continue
            out[here] = (row, expected_value(row["Default"], here, given, defaulted))
    return out


def pcs(name, spec):
    return {"apiVersion": "grove.io/v1alpha1", "kind": "PodCliqueSet",
            "metadata": {"name": name, "namespace": "docs"}, "spec": spec}


CTR = [{"name": "main", "image": "example.com/app:1"}]

# Sample manifests: every default of the table must fire in one of them,
# and counts differ from 1 so that "same as" and literals can be told apart.
PROBES = [
    ("compact", pcs("compact-plain", {"podCliques": [
        {"name": "a", "containers": CTR},
        {"name": "b", "replicas": 3, "containers": CTR}]})),
    ("compact", pcs("compact-groups", {
        "scaling": {"minReplicas": 2, "maxReplicas": 4},
        "scalingGroups": [{"name": "pd", "cliques": ["p", "d"], "replicas": [2, 3]},
                          {"name": "solo", "cliques": ["s"]}],
        "podCliques": [{"name": "router", "replicas": 2, "containers": CTR},
                       {"name": "p", "containers": CTR},
                       {"name": "d", "containers": CTR},
                       {"name": "s", "containers": CTR}]})),
    ("template", pcs("template-plain", {"template": {"cliques": [
        {"name": "a", "spec": {"podSpec": {"containers": CTR}}}]}})),
    ("template", pcs("template-full", {"replicas": 2, "template": {
        "headlessServiceConfig": {},
        "cliques": [
            {"name": "a", "spec": {"replicas": 3, "autoScalingConfig": {"maxReplicas": 5},
                                   "podSpec": {"containers": CTR}}},
            {"name": "b", "spec": {"roleName": "worker", "podSpec": {"containers": CTR}}},
            {"name": "g1", "spec": {"replicas": 2, "podSpec": {"containers": CTR}}},
            {"name": "g2", "spec": {"podSpec": {"containers": CTR}}}],
        "podCliqueScalingGroups": [
            {"name": "pg", "cliqueNames": ["g1"], "replicas": 2,
             "scaleConfig": {"maxReplicas": 4}},
            {"name": "ph", "cliqueNames": ["g2"]}]}})),
]

# "No default from an invalid value": these fields must stay unwritten.
INVALID_PROBE = (pcs("compact-invalid", {
    "scaling": {"minReplicas": 0},
    "podCliques": [{"name": "a", "replicas": 0, "containers": CTR}]}),
    [("spec", "replicas"), ("spec", "podCliques", 0, "minAvailable")])


def check_defaults(server, table):
    seen_rows = set()
    for form, given in PROBES:
        name = "%s (%s form)" % (given["metadata"]["name"], form)
        errs = []
        patch = server.defaults(given)
        if patch is None:
            check("defaults of " + name, ["the webhook answered no AdmissionReview"])
            continue
        got = {}
        for op in patch:
            if op.get("op") != "add":
                errs.append("operation %r is not an add" % op)
                continue
            where = pointer_tokens(op["path"])
            if get(given, where)[0]:
                errs.append("%s is written but was already set" % op["path"])
            if not get(given, where[:-1])[0]:
                errs.append("%s is written inside an object that does not exist" % op["path"])
            for leaf, value in leaves(where, op["value"]):
                got[leaf] = value
        defaulted = apply_adds(given, patch)
        want = predict(table, form, given, defaulted)
        for where, (row, (ok, value)) in sorted(want.items(), key=lambda x: str(x[0])):
            dotted = ".".join("[%d]" % t if isinstance(t, int) else t for t in where)
            dotted = dotted.replace(".[", "[")
            if not ok:
                errs.append("%s: %s" % (dotted, value))
            elif where not in got:
                errs.append("%s: docs/api.md defaults it to %r; the webhook wrote nothing"
                            % (dotted, value))
            elif got[where] != value:
                errs.append("%s: docs/api.md says %r (%s); the webhook wrote %r"
                            % (dotted, value, row["Default"], got[where]))
            seen_rows.add((form, pattern_of(where)))
        for where, value in sorted(got.items(), key=lambda x: str(x[0])):
            if where not in want:
                errs.append("the webhook writes %s = %r, which the defaults table of "
                            "docs/api.md does not list" % ("/".join(map(str, where)), value))
        again = server.defaults(defaulted)
        if again:
            errs.append("a second pass patches again: %s" % json.dumps(again))
        check("defaults of %s: the webhook's patch is what the table says" % name, errs)

    errs = []
    for key in sorted(set(table) - seen_rows, key=str):
        errs.append("%s %s: no sample manifest exercises this row (add one to PROBES)"
                    % (key[0], ".".join(key[1]).replace(".[]", "[]")))
    check("every row of the defaults table is exercised (%d rows)" % len(table), errs)

    given, unwritten = INVALID_PROBE
    patch = server.defaults(given) or []
    written = {pointer_tokens(op["path"]) for op in patch}
    check("no default is derived from an invalid value",
          ["%s was written from an invalid source" % "/".join(map(str, p))
           for p in unwritten if p in written])


# ---- fields ---------------------------------------------------------------

def c_string_array(text, name):
    m = re.search(r"\b%s\[\]\s*=\s*\{(.*?)\};" % re.escape(name), text, re.S)
    if not m:
        raise SystemExit("policy/pol_model.c: no array %s" % name)
    return set(re.findall(r'"([^"]*)"', re.sub(r"/\*.*?\*/", "", m.group(1), flags=re.S)))


def field_rows(body):
    rows = table_with(body, "Field")
    out = []
    for row in rows:
        f = code(row["Field"])
        if not f:
            raise SystemExit("docs/api.md: field %r is not a code span" % row["Field"])
        out.append((f, row))
    return out


def check_compact_fields(root, rows):
    model = read(root, os.path.join("policy", "pol_model.c"))
    code_keys = {
        "spec": c_string_array(model, "compact_spec_keys"),
        "spec.scaling": c_string_array(model, "compact_scaling_keys"),
        "spec.scalingGroups[]": c_string_array(model, "compact_group_keys"),
        "spec.podCliques[]": c_string_array(model, "compact_clique_keys"),
    }
    doc_keys = {k: set() for k in code_keys}
    errs = []
    for f, _ in rows:
        parent, _, key = f.rpartition(".")
        if parent in doc_keys:
            doc_keys[parent].add(key)
        elif not any(f.startswith(p + ".") for p in code_keys):
            errs.append("%s is not a field of the compact form" % f)
    for parent in code_keys:
        for k in sorted(code_keys[parent] - doc_keys[parent]):
            errs.append("%s.%s is accepted by policy/pol_model.c but not documented" % (parent, k))
        for k in sorted(doc_keys[parent] - code_keys[parent]):
            errs.append("%s.%s is documented but the compact form refuses it (V1)" % (parent, k))
    check("the compact-form fields are the ones policy/pol_model.c accepts", errs)


def crd_paths(node, path, out):
    """Field paths of a CRD schema node, down to preserved (opaque) objects."""
    props = node.get("properties") or {}
    for k, v in props.items():
        p = path + "." + k if path else k
        out.add(p)
        if v.get("x-kubernetes-preserve-unknown-fields") and not v.get("properties"):
            continue
        if v.get("type") == "array":
            items = v.get("items") or {}
            if items.get("properties") and not items.get("x-kubernetes-preserve-unknown-fields"):
                crd_paths(items, p + "[]", out)
        else:
            crd_paths(v, p, out)
    return out


def pcs_crd(root):
    for doc in k8s_yaml.load_all(os.path.join(root, "deploy", "crds", "grove.io_podcliquesets.yaml")):
        if doc.get("kind") == "CustomResourceDefinition":
            return doc
    raise SystemExit("deploy/crds/grove.io_podcliquesets.yaml: no CRD")


def check_template_fields(root, rows):
    spec = pcs_crd(root)["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]
    compact = ("spec.scaling", "spec.scalingGroups", "spec.podCliques")
    crd = {p for p in crd_paths(spec, "spec", set())
           if not p.startswith(compact)}
    doc = {f for f, _ in rows}
    errs = ["%s is in the PodCliqueSet CRD but not documented" % p for p in sorted(crd - doc)]
    errs += ["%s is documented but the CRD does not declare it" % p for p in sorted(doc - crd)]
    check("the template-form fields are the ones the CRD declares (%d)" % len(doc), errs)


def check_field_defaults(rows_by_form, table, doc_rules):
    errs = []
    for form, rows in rows_by_form.items():
        for f, row in rows:
            key = (form, tuple(path_tokens(f)))
            cell = row["Default"]
            if key in table:
                if cell != table[key]["Default"]:
                    errs.append("%s (%s): the field table says %r, section 3 says %r"
                                % (f, form, cell, table[key]["Default"]))
            elif cell not in ("-", "required"):
                errs.append("%s (%s): default %r is not in the defaults table of section 3"
                            % (f, form, cell))
            ids = [] if row["Rules"] == "-" else [r.strip() for r in row["Rules"].split(",")]
            for r in ids:
                if r not in doc_rules:
                    errs.append("%s: rule %r is not in the rules table" % (f, r))
    listed = {(form, tuple(path_tokens(f))) for form, rows in rows_by_form.items()
              for f, _ in rows}
    for form, tokens in table:
        # a field inside an opaque object (podSpec) is covered by its row
        if not any((form, tokens[:n]) in listed for n in range(len(tokens), 0, -1)):
            errs.append("%s %s has a default but no row in the field tables"
                        % (form, ".".join(tokens).replace(".[]", "[]")))
    check("the field tables agree with the defaults table and name documented rules", errs)


# ---- resources and endpoints --------------------------------------------------

def check_resources(root, res_rows, col_rows):
    crds = {}
    crd_dir = os.path.join(root, "deploy", "crds")
    for name in sorted(os.listdir(crd_dir)):
        if name.endswith(".yaml"):
            for d in k8s_yaml.load_all(os.path.join(crd_dir, name)):
                if d.get("kind") == "CustomResourceDefinition":
                    crds[d["spec"]["names"]["kind"]] = d["spec"]
    errs = []
    doc_kinds = set()
    for row in res_rows:
        kind = row["Kind"]
        doc_kinds.add(kind)
        s = crds.get(kind)
        if not s:
            errs.append("%s: no CRD in deploy/crds/" % kind)
            continue
        v = s["versions"][0]
        sub = v.get("subresources") or {}
        scale = sub.get("scale")
        want = {
            "API group/version": "%s/%s" % (s["group"], v["name"]),
            "Scope": s["scope"],
            "Short name": ", ".join("`%s`" % n for n in s["names"].get("shortNames", [])),
            "Subresources": ", ".join(k for k in ("status", "scale") if k in sub),
            "Scale: spec / status / selector": (
                "`%s` / `%s` / `%s`" % (scale["specReplicasPath"], scale["statusReplicasPath"],
                                        scale["labelSelectorPath"]) if scale else "-"),
        }
        for col, w in want.items():
            if row[col] != w:
                errs.append("%s %s: docs/api.md says %r, the CRD %r" % (kind, col, row[col], w))
    for kind in sorted(set(crds) - doc_kinds):
        errs.append("%s has a CRD but is not documented" % kind)
    for row in col_rows:
        s = crds.get(row["Kind"])
        if not s:
            errs.append("printer columns of %s: no CRD" % row["Kind"])
            continue
        cols = s["versions"][0].get("additionalPrinterColumns", [])
        normal = ", ".join(["NAME"] + [c["name"].upper() for c in cols if not c.get("priority")])
        wide = ", ".join(c["name"].upper() for c in cols if c.get("priority")) or "-"
        if row["Columns"] != normal or row["`-o wide` adds"] != wide:
            errs.append("printer columns of %s: docs/api.md says %r / %r, the CRD %r / %r"
                        % (row["Kind"], row["Columns"], row["`-o wide` adds"], normal, wide))
    check("section 1 (kinds, scopes, short names, subresources, scale, columns) matches deploy/crds/",
          errs)


def check_endpoints(root, groved, rows):
    hooks = set(re.findall(r'X\(SRV_HOOK_\w+,\s*"([^"]+)"',
                           read(root, os.path.join("server", "srv_admission.h"))))
    names = {}
    for d in k8s_yaml.load_all(os.path.join(root, "deploy", "base", "webhooks.yaml")):
        for w in d.get("webhooks", []):
            names.setdefault(w["clientConfig"]["service"]["path"], set()).add(w["name"])
    help_text = subprocess.run([groved, "serve", "--help"], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True).stdout
    ports = {}
    for what in ("webhook", "health", "metrics"):
        m = re.search(r"--%s-addr HOST:PORT\n(?:.*\n)*?.*\(default \":(\d+)\"\)" % what, help_text)
        ports[what] = m.group(1) if m else None
    errs = []
    doc_hooks = set()
    for row in rows:
        path = code(row["Path"])
        port = row["Port"].split()[0]
        if path in hooks or path.startswith("/webhooks/"):
            doc_hooks.add(path)
            if port != ports["webhook"]:
                errs.append("%s: port %s, groved serve's default is %s" % (path, port, ports["webhook"]))
            doc_names = set(re.findall(r"`([^`]+)`", row["Webhook name"]))
            if doc_names != names.get(path, set()):
                errs.append("%s: webhook names %s, deploy/base/webhooks.yaml has %s"
                            % (path, sorted(doc_names), sorted(names.get(path, set()))))
        elif path in ("/healthz", "/readyz"):
            if port != ports["health"]:
                errs.append("%s: port %s, groved serve's default is %s" % (path, port, ports["health"]))
        elif path == "/metrics":
            if port != ports["metrics"]:
                errs.append("%s: port %s, groved serve's default is %s" % (path, port, ports["metrics"]))
        else:
            errs.append("%s: not an endpoint of groved serve" % path)
    errs += ["%s is served (server/srv_admission.h) but not documented" % p for p in sorted(hooks - doc_hooks)]
    errs += ["%s is documented but not in the hook table" % p for p in sorted(doc_hooks - hooks)]
    check("section 8 lists the served webhook paths, their names and default ports", errs)
    return sorted(doc_hooks)


# ---- the running server ----------------------------------------------------------

class Server:
    """`groved serve` on loopback ephemeral ports with a self-signed pair."""

    def __init__(self, groved, tmp):
        self.log = os.path.join(tmp, "serve.log")
        self.certs = os.path.join(tmp, "certs")
        with open(self.log, "w") as log:
            self.proc = subprocess.Popen(
                [groved, "serve", "--webhook-addr", "127.0.0.1:0", "--health-addr", "127.0.0.1:0",
                 "--metrics-addr", "127.0.0.1:0", "--threads", "2", "--no-reconcile",
                 "--self-signed", self.certs], stdout=subprocess.DEVNULL, stderr=log)
        self.ports = {}
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and len(self.ports) < 3 and self.proc.poll() is None:
            with open(self.log) as f:
                for line in f:
                    try:
                        rec = json.loads(line)
                    except ValueError:
                        continue
                    if rec.get("msg") == "listening":
                        self.ports[rec["server"]] = rec["port"]
            time.sleep(0.05)
        self.ctx = ssl.create_default_context(cafile=os.path.join(self.certs, "ca.crt"))
        self.uid = 0

    def ok(self):
        return len(self.ports) == 3

    def request(self, server, method, path, body=None):
        if server == "webhooks":
            conn = http.client.HTTPSConnection("127.0.0.1", self.ports[server], context=self.ctx,
                                               timeout=10)
        else:
            conn = http.client.HTTPConnection("127.0.0.1", self.ports[server], timeout=10)
        try:
            conn.request(method, path, body=body,
                         headers={"Content-Type": "application/json"} if body else {})
            r = conn.getresponse()
            return r.status, r.read()
        finally:
            conn.close()

    def review(self, path, obj, kind=("grove.io", "v1alpha1", "PodCliqueSet"),
               resource="podcliquesets"):
        self.uid += 1
        meta = obj.get("metadata", {}) if isinstance(obj, dict) else {}
        req = {"uid": "docs-%d" % self.uid,
               "kind": dict(zip(("group", "version", "kind"), kind)),
               "resource": {"group": kind[0], "version": kind[1], "resource": resource},
               "name": meta.get("name", ""), "namespace": meta.get("namespace", "default"),
               "operation": "CREATE", "userInfo": {"username": "docs"}, "object": obj}
        body = json.dumps({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
                           "request": req})
        status, data = self.request("webhooks", "POST", path + "?timeout=10s", body)
        if status != 200:
            return None
        return json.loads(data).get("response")

    def defaults(self, obj):
        resp = self.review("/webhooks/default-podcliqueset", obj)
        if not resp or not resp.get("allowed"):
            return None
        if "patch" not in resp:
            return []
        return json.loads(base64.b64decode(resp["patch"]))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def check_live_endpoints(server, hook_paths):
    errs = []
    for path in hook_paths:
        resp = server.review(path, {"apiVersion": "v1", "kind": "ConfigMap",
                                    "metadata": {"name": "x", "namespace": "docs"}},
                             kind=("", "v1", "ConfigMap"), resource="configmaps")
        if resp is None or resp.get("uid") != "docs-%d" % server.uid:
            errs.append("POST %s: no AdmissionReview answer" % path)
    status, _ = server.request("webhooks", "POST", "/webhooks/not-a-hook", "{}")
    if status != 404:
        errs.append("POST /webhooks/not-a-hook: %d, not 404" % status)
    deadline = time.monotonic() + 10
    status = None
    while time.monotonic() < deadline:
        status, _ = server.request("health", "GET", "/readyz")
        if status == 200:
            break
        time.sleep(0.05)
    if status != 200:
        errs.append("GET /readyz: %s" % status)
    for srv, path in (("health", "/healthz"), ("metrics", "/metrics")):
        status, _ = server.request(srv, "GET", path)
        if status != 200:
            errs.append("GET %s: %d" % (path, status))
    check("the documented endpoints answer on a running groved serve", errs)


def check_denial(root, groved, server, body):
    blocks = code_blocks(body, "text")
    kubectl = [b.strip() for b in blocks if "error when creating" in b]
    validate = [b.strip() for b in blocks if b.startswith("examples/invalid/")]
    errs = []
    example = "examples/invalid/startup-cycle.yaml"
    obj = k8s_yaml.load_all(os.path.join(root, example))[0]
    resp = server.review("/webhooks/validate-podcliqueset", obj)
    if not resp or resp.get("allowed") is not False:
        errs.append("the validating webhook did not deny %s" % example)
    else:
        st = resp.get("status", {})
        want = ('Error from server (Forbidden): error when creating "%s": admission webhook '
                '"pcs.validating.webhooks.grove.io" denied the request: %s'
                % (example, st.get("message")))
        if st.get("code") != 403 or st.get("reason") != "Forbidden":
            errs.append("the denial is %s %s, the page says 403 Forbidden"
                        % (st.get("code"), st.get("reason")))
        if kubectl != [want]:
            errs.append("section 4.3 shows %r; with the webhook's message kubectl prints %r"
                        % (kubectl, want))
    out = subprocess.run([groved, "validate", "-f", example], cwd=root, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True)
    if out.returncode != 1 or validate != [out.stdout.strip()]:
        errs.append("section 4.3 shows %r; groved validate prints %r (exit %d)"
                    % (validate, out.stdout.strip(), out.returncode))
    check("the denial of section 4.3 is what the webhook and groved validate answer", errs)


def check_yaml_examples(root, groved, page, tmp):
    errs = []
    blocks = code_blocks(page, "yaml")
    for i, block in enumerate(blocks):
        path = os.path.join(tmp, "example-%d.yaml" % i)
        with open(path, "w") as f:
            f.write(block)
        out = subprocess.run([groved, "validate", "--strict", "-f", path, "-f",
                              os.path.join(root, "examples", "claim-templates.yaml")],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if out.returncode != 0:
            errs.append("YAML example %d (%s...) is refused:\n%s"
                        % (i + 1, block.splitlines()[1] if len(block.splitlines()) > 1 else "",
                           out.stdout))
    if not blocks:
        errs.append("no YAML example found")
    check("the %d YAML examples pass groved validate" % len(blocks), errs)


# ---- links and references ------------------------------------------------------

def slug(heading):
    s = heading.strip().lower()
    s = re.sub(r"[^\w\- ]", "", s)
    return s.replace(" ", "-")


def anchors(text):
    out = set()
    in_code = False
    for line in text.splitlines():
        if line.startswith("```"):
            in_code = not in_code
        m = None if in_code else re.match(r"^#{1,6} (.*)$", line)
        if m:
            out.add(slug(m.group(1)))
    return out


def check_links(root, page):
    errs = []
    here = os.path.join(root, "docs")
    for target in re.findall(r"\]\(([^)\s]+)\)", page):
        if re.match(r"^[a-z]+://", target):
            continue
        path, _, frag = target.partition("#")
        full = os.path.normpath(os.path.join(here, path)) if path else os.path.join(here, "api.md")
        if not full.startswith(root + os.sep) or not os.path.exists(full):
            errs.append("link %s leads to no file of the repository" % target)
            continue
        if frag and full.endswith(".md"):
            with open(full, encoding="utf-8") as f:
                if frag not in anchors(f.read()):
                    errs.append("link %s: no such heading" % target)
    check("the links of docs/api.md lead to files and headings of the repository", errs)

    errs = []
    api_anchors = anchors(page)
    for rel in ["README.md"] + ["docs/" + n for n in sorted(os.listdir(here))
                                if n.endswith(".md")]:
        text = text_of(root, rel)
        for frag in re.findall(r"\]\((?:docs/)?api\.md#([^)\s]+)\)", text or ""):
            if frag not in api_anchors:
                errs.append("%s links to api.md#%s: no such heading" % (rel, frag))
    check("links from README.md and docs/ into docs/api.md lead to its headings", errs)


# Built from parts so that this file does not match itself.
FORBIDDEN = re.compile(r"\b(?:%s)\.md\b|\.\./%s\b|/work/%s\b"
                       % ("API|STYLE|ARCHITECTURE", "shared", "shared"))


def check_references(root):
    me = os.path.relpath(os.path.abspath(__file__), root)
    errs = []
    for rel in tracked_files(root):
        if rel == me:
            continue
        try:
            with open(os.path.join(root, rel), "rb") as f:
                data = f.read()
        except OSError:
            continue
        if b"\0" in data:
            # a binary (stale bytecode, say) names them too
            if FORBIDDEN.search(data.decode("latin-1")):
                errs.append("%s: a binary file that names them" % rel)
            continue
        for n, line in enumerate(data.decode("utf-8", "replace").splitlines(), 1):
            if FORBIDDEN.search(line):
                errs.append("%s:%d: %s" % (rel, n, line.strip()[:120]))
    check("no tracked file refers to files outside the repository (contract, style notes)",
          errs)


# ---- main ---------------------------------------------------------------------------

def main():
    if len(sys.argv) != 3:
        print("usage: check_api_doc.py GROVED SOURCE_DIR", file=sys.stderr)
        return 2
    groved = os.path.abspath(sys.argv[1])
    root = os.path.abspath(sys.argv[2])
    page = read(root, os.path.join("docs", "api.md"))
    sections = split_sections(page)

    rules_rows = table_with(section(sections, "4. Validation"), "Rule")
    doc_rules = [r["Rule"] for r in rules_rows]
    warning_rows = table_with(section(sections, "4.2 Warnings"), "Warning")
    defaults = parse_defaults(table_with(section(sections, "3. Defaults"), "Form"))
    compact_rows = field_rows(section(sections, "2.1 Compact form"))
    template_rows = field_rows(section(sections, "2.2 Template form"))
    res = section(sections, "1. Resources")

    golden = check_rules(root, doc_rules, page)
    check_examples(root, rules_rows, warning_rows, golden)
    check_compact_fields(root, compact_rows)
    check_template_fields(root, template_rows)
    check_field_defaults({"compact": compact_rows, "template": template_rows}, defaults,
                         set(doc_rules))
    check_resources(root, table_with(res, "Scope"), table_with(res, "Columns"))
    hook_paths = check_endpoints(root, groved, table_with(section(sections, "8. Webhooks"), "Path"))
    check_links(root, page)
    check_references(root)

    tmp = tempfile.mkdtemp(prefix="gv-docs.")
    server = None
    try:
        check_yaml_examples(root, groved, page, tmp)
        server = Server(groved, tmp)
        if not server.ok():
            with open(server.log) as f:
                check("groved serve starts", ["no listening ports in its log:\n" + f.read()])
        else:
            check_defaults(server, defaults)
            check_live_endpoints(server, hook_paths)
            check_denial(root, groved, server, section(sections, "4.3 Denials"))
    finally:
        if server:
            server.stop()
        shutil.rmtree(tmp, ignore_errors=True)

    failed = [n for n, e in RESULTS if e]
    print("%d passed, %d failed" % (len(RESULTS) - len(failed), len(failed)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
