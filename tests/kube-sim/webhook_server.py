#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A scripted HTTPS admission webhook, test equipment for kube-sim's admission.

    hook = ScriptedWebhook(tmpdir)            # certificates made with openssl
    hook.script("/deny", {"allowed": False, "status": {"code": 403, ...}})
    hook.script("/patch", lambda req: {"patch": [{"op": "add", ...}]})
    ... point a webhook configuration at it (hook.ca_bundle, hook.url(path),
    or clientConfig.service test-ns/hook:443 with kube-sim's --resolve-service
    test-ns/hook:443=127.0.0.1:<hook.port>) ...
    hook.calls("/deny")                        # the AdmissionReview requests received
    hook.stop()

The serving certificate (ECDSA P-256, signed by its own CA) is valid for
DNS:hook.test-ns.svc and IP:127.0.0.1.  `other_ca_bundle` is a second CA that
did not sign it, for verification failures.

An answer is a dict (or a function of the AdmissionReview request returning
one) with these optional keys; the response's uid is the request's unless
"uid" says otherwise:
  allowed      default True
  status       the response's status (a metav1.Status) for a denial
  warnings     a list of strings
  patch        a list of JSON patch operations (sent base64, patchType JSONPatch)
  sleep        seconds to wait before answering
  http_status  answer with this HTTP status and the body "scripted failure"
  raw          answer 200 with exactly these bytes
  uid          the response uid to send
  apiVersion   the AdmissionReview apiVersion to send
Unscripted paths allow.  Routing is on the path alone (kube-apiserver adds
?timeout=Ns).

Standalone: webhook_server.py DIR prints `listening https://127.0.0.1:PORT`
and allows everything (answers can be scripted only in-process).
"""

import base64
import json
import os
import ssl
import subprocess
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SERVICE_DNS = "hook.test-ns.svc"


def _openssl(*args):
    subprocess.run(("openssl",) + args, check=True, capture_output=True)


def make_ca(d, name):
    key, crt = os.path.join(d, name + ".key"), os.path.join(d, name + ".crt")
    _openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", key)
    _openssl("req", "-x509", "-new", "-key", key, "-subj", "/CN=" + name, "-days", "30",
             "-out", crt, "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    return key, crt


def make_certs(d, dns_names=(SERVICE_DNS,)):
    """CA and serving certificate (ECDSA P-256) in d; returns the file names."""
    os.makedirs(d, exist_ok=True)
    p = lambda n: os.path.join(d, n)  # noqa: E731
    ca_key, ca_crt = make_ca(d, "hook-ca")
    _openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", p("hook.key"))
    _openssl("req", "-new", "-key", p("hook.key"), "-subj", "/CN=" + dns_names[0],
             "-out", p("hook.csr"))
    with open(p("hook.ext"), "w") as f:
        f.write("subjectAltName=%s,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n"
                "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n"
                % ",".join("DNS:" + n for n in dns_names))
    _openssl("x509", "-req", "-in", p("hook.csr"), "-CA", ca_crt, "-CAkey", ca_key,
             "-CAcreateserial", "-days", "30", "-out", p("hook.crt"), "-extfile", p("hook.ext"))
    _, other_crt = make_ca(d, "other-ca")
    return ca_crt, p("hook.crt"), p("hook.key"), other_crt


def b64file(path):
    with open(path, "rb") as f:
        return base64.b64encode(f.read()).decode()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    ssl_context = None

    def finish_request(self, request, client_address):
        # the TLS handshake in the request's thread: a client that rejects
        # our certificate must not stall the others
        try:
            request.settimeout(10)
            request = self.ssl_context.wrap_socket(request, server_side=True)
            request.settimeout(None)
        except (ssl.SSLError, OSError):
            return
        super().finish_request(request, client_address)


class ScriptedWebhook:
    def __init__(self, tmpdir):
        ca, crt, key, other = make_certs(tmpdir)
        self.ca_bundle = b64file(ca)
        self.other_ca_bundle = b64file(other)
        self.lock = threading.Lock()
        self.scripts = {}
        self.received = []      # (path, query, headers, review)
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                u = urllib.parse.urlsplit(self.path)
                try:
                    review = json.loads(body)
                except ValueError:
                    review = None
                with owner.lock:
                    owner.received.append((u.path, u.query, dict(self.headers.items()), review))
                    script = owner.scripts.get(u.path, {})
                req = (review or {}).get("request") or {}
                ans = script(req) if callable(script) else dict(script)
                ans = dict(ans or {})
                if ans.get("sleep"):
                    time.sleep(ans["sleep"])
                if ans.get("http_status"):
                    return self._send(ans["http_status"], b"scripted failure")
                if "raw" in ans:
                    return self._send(200, ans["raw"])
                resp = {"uid": ans.get("uid", req.get("uid")), "allowed": ans.get("allowed", True)}
                for k in ("status", "warnings"):
                    if k in ans:
                        resp[k] = ans[k]
                if ans.get("patch") is not None:
                    resp["patchType"] = "JSONPatch"
                    resp["patch"] = base64.b64encode(json.dumps(ans["patch"]).encode()).decode()
                out = {"apiVersion": ans.get("apiVersion", "admission.k8s.io/v1"),
                       "kind": "AdmissionReview", "response": resp}
                self._send(200, json.dumps(out).encode())

            def _send(self, code, data):
                try:
                    self.send_response(code)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass       # the caller gave up (a timeout test)

        self.server = _Server(("127.0.0.1", 0), Handler)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(crt, key)
        self.server.ssl_context = ctx
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       kwargs={"poll_interval": 0.1}, daemon=True)
        self.thread.start()

    def url(self, path):
        return "https://127.0.0.1:%d%s" % (self.port, path)

    def script(self, path, answer):
        with self.lock:
            self.scripts[path] = answer

    def calls(self, path=None):
        """The AdmissionReview requests received (for one path, or all)."""
        with self.lock:
            return [r["request"] for p, _, _, r in self.received
                    if (path is None or p == path) and r]

    def raw_calls(self, path):
        with self.lock:
            return [(q, h, r) for p, q, h, r in self.received if p == path]

    def clear(self):
        with self.lock:
            self.received.clear()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: webhook_server.py DIR")
    h = ScriptedWebhook(sys.argv[1])
    print("listening %s" % h.url(""), flush=True)
    try:
        h.thread.join()
    except KeyboardInterrupt:
        h.stop()
