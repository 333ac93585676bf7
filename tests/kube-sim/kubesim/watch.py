# SPDX-License-Identifier: Apache-2.0
"""List (paging, tables) and watch (resume, 410 Gone, bookmarks, initial
events) over HTTP.  A mixin of Handler.
"""

import base64
import copy
import json
import ssl
import time

from . import state
from .errors import ApiError, bad_request
from .selectors import fields_match, labels_match, parse_field_selector, parse_label_selector
from .tables import table


BOOKMARK_INTERVAL = 2.0


class ListWatch:
    """Handler's list and watch."""

    def list(self, rt, version, ns, q):
        lsel = parse_label_selector(q.get("labelSelector"))
        fsel = parse_field_selector(q.get("fieldSelector"))
        items, rv = state.STORE.list(rt, ns, lsel, fsel)
        meta = {"resourceVersion": rv}
        cont = q.get("continue")
        if cont:
            try:
                tok = json.loads(base64.urlsafe_b64decode(cont.encode()))
                start = tuple(tok["after"])
            except (ValueError, KeyError, TypeError):
                raise bad_request("continue key is not valid")
            if int(tok.get("rv", 0)) < state.STORE.oldest:
                raise ApiError(410, "Expired", "The provided continue parameter is too old to "
                               "display a consistent list result.")
            items = [o for o in items if (o["metadata"].get("namespace", ""),
                                          o["metadata"]["name"]) > start]
            meta["resourceVersion"] = str(tok.get("rv", rv))
        limit = int(q.get("limit") or 0)
        if limit > 0 and len(items) > limit:
            last = items[limit - 1]["metadata"]
            meta["continue"] = base64.urlsafe_b64encode(json.dumps(
                {"rv": meta["resourceVersion"],
                 "after": [last.get("namespace", ""), last["name"]]}).encode()).decode()
            meta["remainingItemCount"] = len(items) - limit
            items = items[:limit]
        if "as=Table" in (self.headers.get("Accept") or ""):
            t = table(rt, version, items, meta["resourceVersion"])
            if "continue" in meta:
                t["metadata"]["continue"] = meta["continue"]
            return self.send_json(200, t)
        gv = rt.gv(version)
        for o in items:
            o["apiVersion"] = gv
        self.send_json(200, {"kind": rt.kind + "List", "apiVersion": gv, "metadata": meta,
                             "items": items})

    def write_chunk(self, data):
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def watch(self, rt, gv, ns, q):
        lsel = parse_label_selector(q.get("labelSelector"))
        fsel = parse_field_selector(q.get("fieldSelector"))
        timeout = float(q.get("timeoutSeconds") or 0)
        deadline = time.monotonic() + timeout if timeout > 0 else None
        bookmarks = q.get("allowWatchBookmarks") in ("true", "1")
        rv_param = q.get("resourceVersion") or ""
        initial = q.get("sendInitialEvents") in ("true", "1")
        key = (rt.group, rt.plural)

        def matches(o):
            if o is None:
                return False
            if ns and o["metadata"].get("namespace") != ns:
                return False
            return labels_match(lsel, o["metadata"].get("labels")) and fields_match(fsel, o)

        def event(etype, o):
            o = copy.deepcopy(o)
            o["apiVersion"] = gv
            return json.dumps({"type": etype, "object": o}).encode() + b"\n"

        def bookmark(rv, end_initial=False):
            meta = {"resourceVersion": rv}
            if end_initial:
                meta["annotations"] = {"k8s.io/initial-events-end": "true"}
            return json.dumps({"type": "BOOKMARK", "object": {
                "kind": rt.kind, "apiVersion": gv, "metadata": meta}}).encode() + b"\n"

        pending = []
        with state.STORE.cond:
            gen = state.STORE.drop_gen
            if rv_param in ("", "0") or initial:
                items, _ = state.STORE.list(rt, ns, lsel, fsel)
                pending = [event("ADDED", o) for o in items]
                last = state.STORE.rv
                if initial and bookmarks:
                    pending.append(bookmark(str(last), True))
            else:
                try:
                    last = int(rv_param)
                except ValueError:
                    raise bad_request("invalid resourceVersion %r" % rv_param)
                with state.SIM.lock:
                    forced = state.SIM.gone_next
                    state.SIM.gone_next = False
                if forced or last < state.STORE.oldest:
                    gone = ApiError(410, "Expired", "too old resource version: %d (%d)"
                                    % (last, state.STORE.oldest + 1)).status()
                    pending = [json.dumps({"type": "ERROR", "object": gone}).encode() + b"\n"]
                    last = None

        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Cache-Control", "no-cache, private")
        self.end_headers()
        self.close_connection = True
        try:
            for p in pending:
                self.write_chunk(p)
            next_bookmark = time.monotonic() + BOOKMARK_INTERVAL
            while last is not None:
                with state.STORE.cond:
                    if last < state.STORE.oldest:
                        gone = ApiError(410, "Expired", "too old resource version: %d (%d)"
                                        % (last, state.STORE.oldest + 1)).status()
                        out = [json.dumps({"type": "ERROR", "object": gone}).encode() + b"\n"]
                        last = None
                    else:
                        out = []
                        for (erv, etype, ekey, ens, obj, old) in state.STORE.history:
                            if erv <= last or ekey != key:
                                continue
                            now_m, old_m = matches(obj), matches(old)
                            if etype == "MODIFIED" and now_m and not old_m:
                                out.append(event("ADDED", obj))
                            elif etype == "MODIFIED" and old_m and not now_m:
                                out.append(event("DELETED", obj))
                            elif now_m:
                                out.append(event(etype, obj))
                        last = max(last, state.STORE.rv)
                    if not out:
                        wait = 1.0
                        if deadline:
                            wait = min(wait, max(deadline - time.monotonic(), 0.01))
                        state.STORE.cond.wait(wait)
                    stop = state.STORE.stopping or state.STORE.drop_gen != gen
                # /__sim/hold-watches: events wait, as on a slow watch,
                # while reads already see the new state
                while out and not stop:
                    with state.SIM.lock:
                        held = state.SIM.hold_until - time.monotonic()
                    if held <= 0:
                        break
                    time.sleep(min(held, 0.05))
                for p in out:
                    self.write_chunk(p)
                if stop or (deadline and time.monotonic() >= deadline):
                    break
                if bookmarks and last is not None and time.monotonic() >= next_bookmark:
                    self.write_chunk(bookmark(str(last)))
                    next_bookmark = time.monotonic() + BOOKMARK_INTERVAL
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
            pass
