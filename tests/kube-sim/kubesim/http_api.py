# SPDX-License-Identifier: Apache-2.0
"""The HTTP API: the request handler (plumbing, faults applied to every
request, authentication, routing, RBAC).  The rest of the handler is in
mixins: faults.py (/__sim/), discovery.py, writes.py (writes through
admission, scale), watch.py (list and watch).
"""

import json
import os
import re
import sys
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler

import yaml

from . import state, tokens
from .binding import bind_request
from .discovery import Discovery
from .errors import ApiError, bad_request
from .faults import FaultEndpoints
from .rbac import rbac_allows, request_verb
from .selectors import parse_field_selector, parse_label_selector
from .tables import table
from .users import ADMIN
from .watch import ListWatch
from .writes import AdmittedWrites


class Handler(FaultEndpoints, Discovery, AdmittedWrites, ListWatch,
              BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # headers and body go out in separate writes: without TCP_NODELAY a
    # keep-alive client waits out delayed ACKs (40 ms a request)
    disable_nagle_algorithm = True
    server_version = "kube-sim/1"

    def log_message(self, fmt, *args):
        if os.environ.get("KUBE_SIM_VERBOSE"):
            sys.stderr.write("kube-sim: %s\n" % (fmt % args))

    # -- plumbing

    def send_json(self, code, body, headers=None):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_warnings()
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def send_warnings(self):
        """The webhooks' warnings, one `Warning: 299 - "text"` header each
        (deduplicated), on success and on failure alike."""
        seen = set()
        for w in getattr(self, "warnings", None) or []:
            if w in seen:
                continue
            seen.add(w)
            text = "".join(" " if ord(c) < 32 or ord(c) == 127 else c for c in w)
            text = text.replace("\\", "\\\\").replace('"', '\\"')
            # header bytes are UTF-8, as Go sends them
            self.send_header("Warning", ('299 - "%s"' % text).encode().decode("latin-1"))

    def read_raw_body(self):
        """Read the whole request body up front, so that an early error reply
        never leaves unread bytes on a keep-alive connection."""
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            raw = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return raw
                raw += self.rfile.read(size)
                self.rfile.readline()
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def read_body(self):
        raw = self.raw_body
        if not raw:
            return None
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip()
        if "protobuf" in ctype or "cbor" in ctype:
            # JSON and YAML only; the real answer to a media type the
            # server cannot decode, on which client-go retries with JSON
            raise ApiError(415, "UnsupportedMediaType", "the body of the request was in "
                           "an unknown format - accepted media types include: "
                           "application/json, application/yaml")
        try:
            if "yaml" in ctype:
                return yaml.safe_load(raw)
            return json.loads(raw)
        except (ValueError, yaml.YAMLError) as e:
            raise bad_request("unable to decode the request body: %s" % e)

    def do_GET(self):
        self.dispatch()

    def do_POST(self):
        self.dispatch()

    def do_PUT(self):
        self.dispatch()

    def do_PATCH(self):
        self.dispatch()

    def do_DELETE(self):
        self.dispatch()

    def dispatch(self):
        url = urllib.parse.urlsplit(self.path)
        q = {k: v[-1] for k, v in urllib.parse.parse_qs(url.query, keep_blank_values=True).items()}
        self.warnings = []       # from admission webhooks, sent with the response
        self.user = ADMIN
        try:
            self.raw_body = self.read_raw_body()
        except (ValueError, OSError):
            self.close_connection = True
            return self.send_json(400, bad_request("malformed request body").status())
        try:
            if url.path.startswith("/__sim/"):
                return self.admin(url.path, q)
            with state.SIM.lock:
                down = time.monotonic() < state.SIM.down_until
            if down:
                # restarting: the connection ends with no answer
                self.close_connection = True
                return
            auth = self.headers.get("Authorization") or ""
            token = None
            if auth.lower().startswith("bearer "):
                token = auth[7:].strip()
                with state.SIM.lock:
                    state.SIM.last_token = token
            # a service-account token (tokens.py) or a --token user
            self.user = tokens.authenticate(state.STORE, token) or state.SIM.user_for(token)
            with state.SIM.lock:
                latency = state.SIM.latency_ms
                fail = state.SIM.fail_count > 0
                if fail:
                    state.SIM.fail_count -= 1
                    code = state.SIM.fail_code
            if latency:
                time.sleep(latency / 1000.0)
            if fail:
                if code == 429:
                    raise ApiError(429, "TooManyRequests", "Too many requests, please try "
                                   "again later. (injected by kube-sim)",
                                   headers={"Retry-After": "1"})
                raise ApiError(code, "InternalError", "Internal error occurred: injected "
                               "by kube-sim")
            self.route(url.path, q)
        except ApiError as e:
            self.send_json(e.code, e.status(), e.headers)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception as e:
            import traceback
            traceback.print_exc()
            self.send_json(500, ApiError(500, "InternalError", "Internal error occurred: %r"
                                         % e).status())

    # -- routing

    def route(self, path, q):
        parts = [urllib.parse.unquote(p) for p in path.strip("/").split("/") if p]
        if self.command == "GET":
            if parts in (["healthz"], ["readyz"], ["livez"]):
                data = b"ok"
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(data)
                return
            d = self.discovery(parts)
            if d is not None:
                return self.send_json(200, d)
        if parts[:1] == ["api"] and len(parts) >= 3:
            group, version, rest = "", parts[1], parts[2:]
        elif parts[:1] == ["apis"] and len(parts) >= 4:
            group, version, rest = parts[1], parts[2], parts[3:]
        else:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        watch = q.get("watch") in ("true", "1")
        if rest[0] == "watch":
            watch, rest = True, rest[1:]
        ns = None
        if rest[:1] == ["namespaces"] and len(rest) >= 3 and not (
                len(rest) == 3 and rest[2] in ("status", "finalize")):
            ns, rest = rest[1], rest[2:]
        if not rest or len(rest) > 3:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        plural = rest[0]
        name = rest[1] if len(rest) > 1 else None
        sub = rest[2] if len(rest) > 2 else None
        with state.STORE.cond:
            rt = state.STORE.find_type(group, version, plural)
        if rt is None or (ns is not None and not rt.namespaced):
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        if sub == "finalize" and plural == "namespaces":
            sub = None
        if sub == "binding" and (rt.group, rt.plural) == ("", "pods") and not watch:
            # the scheduler's subresource (binding.py): create only
            if state.SIM.authorize:
                self.authorize(rt, ns, name, sub, watch, q)
            if self.command != "POST":
                raise ApiError(405, "MethodNotAllowed", "the server does not allow this "
                               "method on the requested resource")
            return bind_request(self, ns, name, q)
        if sub == "log" and (rt.group, rt.plural) == ("", "pods") and not watch and \
                self.command == "GET" and getattr(state.STORE, "kubelet", None) is not None:
            # kubectl logs: what the kubelet's init processes printed (kubelet.py)
            if state.SIM.authorize:
                self.authorize(rt, ns, name, sub, watch, q)
            return self.send_text(200, state.STORE.kubelet.log(
                ns, name, q.get("container"), q.get("previous") in ("true", "1")))
        if sub not in (None, "status", "scale") or (sub == "status" and not rt.status) or \
                (sub == "scale" and not rt.scale):
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        gv = rt.gv(version)
        dry = q.get("dryRun") == "All"
        m = self.command
        if state.SIM.authorize:
            self.authorize(rt, ns, name, sub, watch, q)

        def out(obj):
            obj["apiVersion"] = gv
            return obj

        if name is None:
            if m == "GET" and watch:
                return self.watch(rt, gv, ns, q)
            if m == "GET":
                return self.list(rt, version, ns, q)
            if m == "POST":
                if rt.namespaced and ns is None:
                    raise ApiError(405, "MethodNotAllowed", "the server does not allow this "
                                   "method on the requested resource")
                return self.send_json(201, out(self.create(rt, version, ns, q, dry)))
            if m == "DELETE":
                opts = self.delete_options(q)
                items, _ = state.STORE.list(rt, ns, parse_label_selector(q.get("labelSelector")),
                                      parse_field_selector(q.get("fieldSelector")))
                # one DELETE admission per object, as the real DeleteCollection;
                # the first error (other than an object already gone) fails
                # the request, after the others were tried
                deleted, first_err = [], None
                for o in items:
                    try:
                        deleted.append(out(self.delete(rt, version, o["metadata"].get(
                            "namespace"), o["metadata"]["name"], opts, q, dry, collection=True,
                            url_ns=ns)))
                    except ApiError as e:
                        if e.code != 404 and first_err is None:
                            first_err = e
                if first_err is not None:
                    raise first_err
                return self.send_json(200, {"kind": rt.kind + "List", "apiVersion": gv,
                                            "metadata": {"resourceVersion": str(state.STORE.rv)},
                                            "items": deleted})
            raise ApiError(405, "MethodNotAllowed", "the server does not allow this method on "
                           "the requested resource")
        if watch:
            q["fieldSelector"] = "metadata.name=" + name
            return self.watch(rt, gv, ns, q)
        if sub == "scale":
            return self.scale(rt, version, ns, name, q, dry)
        if m == "GET":
            obj = state.STORE.get(rt, ns, name)
            if "as=Table" in (self.headers.get("Accept") or ""):
                return self.send_json(200, table(rt, version, [obj], obj["metadata"][
                    "resourceVersion"]))
            return self.send_json(200, out(obj))
        if m == "PATCH" and sub is None and self.is_apply():
            # server-side apply (a shortcut): a missing object is created
            # from the applied configuration; an existing one takes it as a
            # merge patch. No managedFields, no field ownership, no
            # conflicts: `kubectl apply --server-side` of an install works,
            # field-manager semantics are not simulated
            try:
                state.STORE.get(rt, ns, name)
            except ApiError as e:
                if e.code != 404:
                    raise
                return self.send_json(201, out(self.create(rt, version, ns, q, dry)))
        if m in ("PUT", "PATCH"):
            return self.send_json(200, out(self.update(rt, version, ns, name, sub, q, dry)))
        if m == "DELETE" and sub is None:
            opts = self.delete_options(q)
            return self.send_json(200, out(self.delete(rt, version, ns, name, opts, q, dry)))
        raise ApiError(405, "MethodNotAllowed", "the server does not allow this method on the "
                       "requested resource")

    def authorize(self, rt, ns, name, sub, watch, q):
        """403 unless RBAC grants the request (--authorize).  A list or
        watch with fieldSelector metadata.name=X is checked as for the name
        X, as kube-apiserver does, so resourceNames can allow it."""
        verb = request_verb(self.command, name, watch)
        if name is None and verb in ("list", "watch"):
            m = re.match(r"^metadata\.name==?([^,]+)$", q.get("fieldSelector") or "")
            if m:
                name = m.group(1)
        resource = rt.plural + ("/" + sub if sub else "")
        with state.STORE.cond:
            ok = rbac_allows(self.user, rt.group, resource, ns, name, verb)
        if ok:
            return
        # apierrors.NewForbidden: `<resource>.<group> "<name>" is forbidden: ...`
        where = " in the namespace \"%s\"" % ns if ns else " at the cluster scope"
        qualified = rt.plural + ("." + rt.group if rt.group else "")
        what = "%s \"%s\"" % (qualified, name) if name else qualified
        raise ApiError(403, "Forbidden", "%s is forbidden: User \"%s\" cannot %s resource "
                       "\"%s\" in API group \"%s\"%s" % (
                           what, self.user["username"], verb, resource, rt.group or "", where),
                       name=name, kind=rt.plural, group=rt.group)
