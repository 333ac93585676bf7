# SPDX-License-Identifier: Apache-2.0
"""The HTTP(S) server, its certificates (openssl), and the kubeconfig
kube-sim writes.
"""

import base64
import os
import ssl
import subprocess
from http.server import ThreadingHTTPServer

import yaml

from .users import DEFAULT_TOKEN


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    ssl_context = None

    def finish_request(self, request, client_address):
        if self.ssl_context is not None:
            try:
                request.settimeout(10)
                request = self.ssl_context.wrap_socket(request, server_side=True)
                request.settimeout(None)
            except (ssl.SSLError, OSError):
                return
        super().finish_request(request, client_address)


def make_certs(d):
    os.makedirs(d, exist_ok=True)
    p = lambda n: os.path.join(d, n)  # noqa: E731
    if all(os.path.exists(p(n)) for n in ("ca.crt", "ca.key", "server.crt", "server.key")):
        return
    run = lambda *a: subprocess.run(a, check=True, capture_output=True)  # noqa: E731
    run("openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", p("ca.key"))
    run("openssl", "req", "-x509", "-new", "-key", p("ca.key"), "-subj", "/CN=kube-sim-ca",
        "-days", "3650", "-out", p("ca.crt"),
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    run("openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", p("server.key"))
    run("openssl", "req", "-new", "-key", p("server.key"), "-subj", "/CN=kube-sim",
        "-out", p("server.csr"))
    with open(p("server.ext"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n"
                "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n")
    run("openssl", "x509", "-req", "-in", p("server.csr"), "-CA", p("ca.crt"),
        "-CAkey", p("ca.key"), "-CAcreateserial", "-days", "3650", "-out", p("server.crt"),
        "-extfile", p("server.ext"))


def write_kubeconfig(path, server, ca_file):
    cluster = {"server": server}
    if ca_file:
        with open(ca_file, "rb") as f:
            cluster["certificate-authority-data"] = base64.b64encode(f.read()).decode()
    cfg = {"apiVersion": "v1", "kind": "Config",
           "clusters": [{"name": "kube-sim", "cluster": cluster}],
           "users": [{"name": "kube-sim", "user": {"token": DEFAULT_TOKEN}}],
           "contexts": [{"name": "kube-sim", "context": {"cluster": "kube-sim",
                                                        "user": "kube-sim",
                                                        "namespace": "default"}}],
           "current-context": "kube-sim", "preferences": {}}
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        yaml.safe_dump(cfg, f, default_flow_style=False)
    os.replace(tmp, path)
