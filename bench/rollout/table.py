#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Markdown tables of bench.py's JSON lines (stdin): the rollout's time
against the budget's floor and the rate limit's, the unit's parts, the
invariant, writes against the minimum."""
import json
import sys


def g(d, *keys):
    for k in keys:
        if not isinstance(d, dict) or k not in d:
            return "-"
        d = d[k]
    return "-" if d is None else d


def main():
    rows = [json.loads(line) for line in sys.stdin if line.startswith("{")]
    roll = [r for r in rows if r.get("step") == "rollout"]
    print("| run | maxUnavailable | qps | rollout s | first unit s | unit p50 / p90 s"
          " | budget floor s (median unit / physical unit) | rollout / floor (median / physical)"
          " | rate floor s | reaction p50 / p90 / sum s | max units unavailable"
          " | rounds (busy s) | worker CPU s | kube-sim CPU s |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in roll:
        print("| %s | %s | %s | %s | %s | %s / %s | %s / %s | %s / %s | %s | %s / %s / %s"
              " | %s | %s (%s) | %s | %s |"
              % (r["label"], r["max_unavailable"], r["qps"], g(r, "rollout_s"),
                 g(r, "first_unit_s"), g(r, "unit_s", "p50"), g(r, "unit_s", "p90"),
                 g(r, "floor_s"), g(r, "floor_physical_s"), g(r, "rollout_over_floor"),
                 g(r, "rollout_over_floor_physical"), r["rate_floor_s"],
                 g(r, "reaction_s", "p50"), g(r, "reaction_s", "p90"),
                 g(r, "reaction_s", "sum"), r["max_units_unavailable"], g(r, "rounds"),
                 g(r, "round_busy_s"), r["worker_cpu_s"], r["kube_sim_cpu_s"]))
    print()
    print("| run | delete to gone | gone to created | created to ungated | ungated to bound"
          " | bound to Ready (p50 / p90 s) |")
    print("|---|---|---|---|---|---|")
    for r in roll:
        p = r.get("unit_parts_s") or {}
        print("| %s | %s |" % (r["label"], " | ".join(
            "%s / %s" % (g(p, k, "p50"), g(p, k, "p90"))
            for k in ("delete_to_gone", "gone_to_created", "created_to_ungated",
                      "ungated_to_bound", "bound_to_ready"))))
    print()
    print("| run | pod deletes | pod creates | pod patches (gates) | PodClique patches"
          " | other object writes | object writes / minimum | status writes / changes seen"
          " | Events written |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in roll:
        w = r["writes"]
        main_keys = ("DELETE pods", "POST pods", "PATCH pods", "PATCH podcliques")
        other = {k: v for k, v in w.items() if k not in main_keys
                 and not k.endswith("/status") and not k.endswith(" events")}
        ch = sum(v["changes"] for v in r["status_changes_seen"].values())
        mn = r["minimum"]
        print("| %s | %s / %s | %s / %s | %s / %s | %s / %s | %s | %d / %d | %d / %d | %d |"
              % (r["label"], w.get("DELETE pods", 0), mn["delete"].get("Pod", 0),
                 w.get("POST pods", 0), mn["create"].get("Pod", 0),
                 w.get("PATCH pods", 0), mn["gates"],
                 w.get("PATCH podcliques", 0), mn["patch"].get("PodClique", 0),
                 ", ".join("%s %d" % kv for kv in sorted(other.items())) or "0",
                 r["object_writes"], r["object_minimum"], r["status_writes"], ch,
                 r["event_writes"]))
    for r in roll:
        notes = {k: r.get(k) for k in ("refused", "repeated", "recreated_more_than_once",
                                       "not_rolled", "not_ready", "missing")
                 if r.get(k)}
        if notes or not r.get("done") or r.get("max_units_unavailable", 0) > r["max_unavailable"] \
                or r.get("events_two_templates_ready_in_a_unit"):
            print("\n%s: done %s, max units unavailable %s, two templates Ready in a unit %s, %s"
                  % (r["label"], r.get("done"), r.get("max_units_unavailable"),
                     r.get("events_two_templates_ready_in_a_unit"), json.dumps(notes)))
        print("\n%s: Events %s" % (r["label"], json.dumps(r.get("events_by_reason"))))
        print("\n%s: status fields changed %s" % (r["label"],
                                                json.dumps(r.get("status_fields_changed"))))


if __name__ == "__main__":
    main()
