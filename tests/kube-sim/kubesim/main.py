# SPDX-License-Identifier: Apache-2.0
"""The command line (tests/kube-sim/kube-sim runs main())."""

import argparse
import os
import signal
import ssl
import threading

import yaml

from . import state, store, watch
from .http_api import Handler
from .load import load_manifests
from .server import Server, make_certs, write_kubeconfig
from .store import Store
from .users import parse_service_arg, parse_token_arg


def main():
    ap = argparse.ArgumentParser(description="a simulated Kubernetes API server")
    ap.add_argument("--addr", default="127.0.0.1:0")
    ap.add_argument("--tls-dir")
    ap.add_argument("--kubeconfig-out")
    ap.add_argument("--load", nargs="+", action="extend", default=[])
    ap.add_argument("--bookmark-interval", type=float, default=watch.BOOKMARK_INTERVAL)
    ap.add_argument("--history", type=int, default=store.HISTORY_SIZE)
    ap.add_argument("--authorize", action="store_true",
                    help="enforce RBAC from the stored roles and bindings for users "
                    "outside system:masters")
    ap.add_argument("--token", action="append", default=[], metavar="TOKEN=USER[:GROUPS]",
                    help="a bearer token and the user it authenticates (repeatable)")
    ap.add_argument("--resolve-service", action="append", default=[],
                    metavar="NS/NAME:PORT=HOST:PORT",
                    help="where webhooks of that service are dialled (repeatable)")
    # nodes and their GPUs (nodes.py)
    ap.add_argument("--nodes", metavar="FILE",
                    help="Nodes, their GPUs as ResourceSlices and the DeviceClass "
                    "gpu.nvidia.com, from a YAML file (README: Nodes, devices and DRA)")
    # the kubelet (kubelet.py)
    ap.add_argument("--no-kubelet", action="store_true",
                    help="no kubelet: bound pods get no status, deletion is immediate")
    ap.add_argument("--groved-image", action="append", default=[], metavar="IMAGE",
                    help="an image whose `initc` init container runs the real groved "
                    "(repeatable; default: deploy/'s Deployment image and the pod "
                    "webhook's default grove-initc image)")
    ap.add_argument("--groved-binary", metavar="PATH",
                    help="the groved run for `groved initc` (default: groved on PATH, "
                    "else build/release/groved)")
    ap.add_argument("--ready-after", type=float, default=1.0, metavar="SECONDS",
                    help="a started container turns Ready after this (default 1)")
    ap.add_argument("--time-scale", type=float, default=1.0,
                    help="grace periods, back-offs and --ready-after are multiplied by it")
    ap.add_argument("--no-scheduler", action="store_true",
                    help="no scheduler: pods stay Pending (bare API behaviour)")
    ap.add_argument("--scheduler-names", default="kai-scheduler", metavar="NAME[,NAME]",
                    help="the spec.schedulerName values the scheduler serves")
    args = ap.parse_args()
    try:
        state.SIM.authorize = args.authorize
        for t in args.token:
            token, user = parse_token_arg(t)
            state.SIM.tokens[token] = user
        for r in args.resolve_service:
            key, addr = parse_service_arg(*r.split("=", 1)) if "=" in r else \
                parse_service_arg(r, "")
            state.SIM.services[key] = addr
    except ValueError as e:
        ap.error(str(e))
    watch.BOOKMARK_INTERVAL = args.bookmark_interval
    store.HISTORY_SIZE = args.history

    state.STORE = Store()
    load_manifests(args.load)
    if args.nodes:
        from .nodes import load_nodes
        try:
            load_nodes(state.STORE, args.nodes)
        except (OSError, ValueError, yaml.YAMLError) as e:
            ap.error("--nodes: %s" % e)
    if not args.no_scheduler:
        from .scheduler import Scheduler
        Scheduler(state.STORE, [n for n in args.scheduler_names.split(",") if n]).start()

    host, _, port = args.addr.rpartition(":")
    httpd = Server((host or "127.0.0.1", int(port)), Handler)
    scheme = "http"
    ca = None
    if args.tls_dir:
        make_certs(args.tls_dir)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(os.path.join(args.tls_dir, "server.crt"),
                            os.path.join(args.tls_dir, "server.key"))
        httpd.ssl_context = ctx
        scheme, ca = "https", os.path.join(args.tls_dir, "ca.crt")
    bound = "%s:%d" % httpd.server_address[:2]
    state.SIM.address = bound
    url = "%s://%s" % (scheme, bound)
    if args.kubeconfig_out:
        write_kubeconfig(args.kubeconfig_out, url, ca)
    # kube-controller-manager's token and resource-claim controllers
    from . import tokens
    from .claims import ClaimController
    if ca:
        with open(ca, "rb") as f:
            tokens.configure(f.read())
    tokens.TokenController(state.STORE).start()
    if not getattr(args, "no_scheduler", False):
        ClaimController(state.STORE).start()
    kubelet = None
    if not args.no_kubelet:
        from .kubelet import Kubelet, default_images
        kubelet = Kubelet(state.STORE, api=bound, ca_file=ca,
                          images=args.groved_image or default_images(),
                          binary=args.groved_binary, ready_after=args.ready_after,
                          time_scale=args.time_scale).start()

    def stop(*_):
        with state.STORE.cond:
            state.STORE.stopping = True
            state.STORE.cond.notify_all()
        threading.Thread(target=httpd.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print("listening %s" % url, flush=True)
    httpd.serve_forever(poll_interval=0.2)
    httpd.server_close()
    if kubelet is not None:
        kubelet.stop()            # its init processes end with kube-sim
