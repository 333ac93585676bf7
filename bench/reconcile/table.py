#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Markdown tables of bench.py's JSON lines (stdin): writes against the
minimum, times against the rate limit's floor, gate latency, the worker's
CPU and RSS."""
import json
import sys


def main():
    rows = [json.loads(line) for line in sys.stdin if line.startswith("{")]
    print("| run | step | object writes / minimum | ratio | status writes / changes seen"
          " | Events | apply to all bound s | to all Ready s | floor s: minimum / all writes"
          " | gate p50 / p99 ms"
          " | worker CPU s | kube-sim CPU s | worker RSS / peak MiB |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        if r["step"] == "idle":
            continue
        ch = sum(v["changes"] for v in r["status_changes_seen"].values())
        g = r.get("gate_latency_ms") or {}
        print("| %s | %s | %d / %d | %s | %d / %d | %d | %s | %s | %s / %s | %s / %s | %s | %s | %s / %s |"
              % (r["label"], r["step"], r["object_writes"], r["object_minimum"],
                 r["object_ratio"], r["status_writes"], ch, r["events"],
                 r.get("to_all_bound_s", "-"), r.get("to_all_ready_s", "-"),
                 r.get("minimum_floor_s", "-"), r["worker_requests_floor_s"],
                 g.get("p50", "-"), g.get("p99", "-"),
                 r["worker_cpu_s"], r["kube_sim_cpu_s"], r["worker_rss_mib"],
                 r["worker_peak_rss_mib"]))
    idle = [r for r in rows if r["step"] == "idle"]
    if idle:
        print()
        print("| run | pods cached | idle s | worker CPU s | worker RSS MiB | peak MiB | writes |")
        print("|---|---|---|---|---|---|---|")
        for r in idle:
            print("| %s | %d | %s | %s | %s | %s | %d |" % (
                r["label"], r["pods_cached"], r["seconds"], r["worker_cpu_s"],
                r["worker_rss_mib"], r["worker_peak_rss_mib"], r["writes"]))
    for r in rows:
        if r.get("refused") or r.get("gate_early") or r.get("repeated"):
            print("\n%s %s: refused %s, early gates %s, repeated %s" % (
                r["label"], r["step"], r.get("refused"), r.get("gate_early"),
                r.get("repeated")))


if __name__ == "__main__":
    main()
