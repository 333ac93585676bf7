# SPDX-License-Identifier: Apache-2.0
"""The /__sim/ endpoints: fault injection (errors, latency, dropped and
held watches, compaction, 410 on resume, restarts) and test hooks (last
token, rv, users, service map, admission log).  A mixin of Handler.
"""

import time

from . import state
from .errors import ApiError, bad_request
from .users import parse_service_arg, parse_user


class FaultEndpoints:
    """Handler's /__sim/ endpoints."""

    def admin(self, path, q):
        if path == "/__sim/fail":
            with state.SIM.lock:
                state.SIM.fail_count = int(q.get("count", "1"))
                state.SIM.fail_code = int(q.get("code", "500"))
        elif path == "/__sim/latency":
            with state.SIM.lock:
                state.SIM.latency_ms = int(q.get("ms", "0"))
        elif path == "/__sim/drop-watches":
            state.STORE.drop_watches()
        elif path == "/__sim/hold-watches":
            # watch events are held back for ms milliseconds (0 releases
            # them): a cache that lags the API server, deterministically
            with state.SIM.lock:
                state.SIM.hold_until = time.monotonic() + int(q.get("ms", "0")) / 1000.0
        elif path == "/__sim/compact":
            state.STORE.compact()
        elif path == "/__sim/gone-next":
            with state.SIM.lock:
                state.SIM.gone_next = True
        elif path == "/__sim/restart":
            # an API server restart with its state kept: every open
            # connection is cut and, for ms milliseconds, no request is
            # answered; storage and resourceVersions stay as they were
            with state.SIM.lock:
                state.SIM.down_until = time.monotonic() + int(q.get("ms", "500")) / 1000.0
            state.STORE.drop_watches()
        elif path == "/__sim/last-token":
            with state.SIM.lock:
                return self.send_json(200, {"token": state.SIM.last_token})
        elif path == "/__sim/rv":
            return self.send_json(200, {"resourceVersion": str(state.STORE.rv)})
        elif path == "/__sim/resolve-service":
            # where a webhook's clientConfig.service is dialled (no cluster DNS)
            try:
                key, addr = parse_service_arg(q.get("service"), q.get("addr"))
            except ValueError as e:
                raise bad_request(str(e))
            with state.SIM.lock:
                state.SIM.services[key] = addr
        elif path == "/__sim/token":
            try:
                user = parse_user(q.get("user") or "")
            except ValueError as e:
                raise bad_request(str(e))
            if q.get("groups") is not None:
                groups = [g for g in q["groups"].split(",") if g]
                if "system:authenticated" not in groups:
                    groups.append("system:authenticated")
                user["groups"] = groups
            if not q.get("token"):
                raise bad_request("token is required")
            with state.SIM.lock:
                state.SIM.tokens[q["token"]] = user
        elif path == "/__sim/admission-log":
            # GET: the last n webhook calls (all kept by default); POST or
            # DELETE: forget them
            with state.SIM.lock:
                if self.command != "GET":
                    state.SIM.admission_log.clear()
                    items = []
                else:
                    items = list(state.SIM.admission_log)
            n = int(q.get("n") or 0)
            if n > 0:
                items = items[-n:]
            return self.send_json(200, {"items": items})
        elif path in ("/__sim/scheduler", "/__sim/scheduler/hold",
                      "/__sim/scheduler/release"):
            # hold (or release) every scheduler; GET /__sim/scheduler:
            # held, counters, and what each waiting gang waits for
            from . import scheduler
            if path != "/__sim/scheduler":
                scheduler.hold(path.endswith("/hold"))
            return self.send_json(200, scheduler.info())
        elif path.startswith(("/__sim/pod-", "/__sim/node-")) or \
                path == "/__sim/kubelet-sync":
            return self.kubelet_admin(path, q)
        else:
            raise ApiError(404, "NotFound", "unknown admin endpoint %s" % path)
        self.send_json(200, {"ok": True})

    # -- pod and node faults (kubelet.py), and the init processes' logs

    def kubelet_admin(self, path, q):
        from . import kubelet
        what = path[len("/__sim/"):]
        kl = getattr(state.STORE, "kubelet", None)
        if what == "kubelet-sync":
            # a barrier: the kubelet has handled every store event before
            # this call (one queue), so a test can check what it did not do
            if kl is None:
                raise ApiError(409, "Conflict", "the kubelet is off (--no-kubelet)")
            kl.call(lambda: None)
            return self.send_json(200, {"ok": True})
        if what in ("pod-fail", "pod-crash", "pod-log"):
            if kl is None:
                raise ApiError(409, "Conflict", "the kubelet is off (--no-kubelet)")
            if not q.get("name"):
                raise bad_request("name is required")
            ns = q.get("namespace") or "default"
            if what == "pod-log":
                return self.send_text(200, kl.log(ns, q["name"], q.get("container"),
                                                  q.get("previous") in ("true", "1")))
            code = int(q.get("exitCode") or 1)
            if what == "pod-fail":
                obj = kl.fail_pod(ns, q["name"], q.get("reason"), q.get("message"), code)
            else:
                obj = kl.crash_container(ns, q["name"], q.get("container"), code)
            return self.send_json(200, obj)
        fn = {"node-notready": kubelet.node_not_ready,
              "node-unreachable": kubelet.node_unreachable,
              "node-cordon": kubelet.node_cordon, "node-restore": kubelet.node_restore,
              "node-delete": kubelet.node_delete}.get(what)
        if fn is None:
            raise ApiError(404, "NotFound", "unknown admin endpoint %s" % path)
        if not q.get("name"):
            raise bad_request("name is required")
        return self.send_json(200, fn(state.STORE, q["name"]))

    def send_text(self, code, text):
        data = text.encode()
        self.send_response(code)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
