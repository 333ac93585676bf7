# SPDX-License-Identifier: Apache-2.0
"""Calling one admission webhook over HTTPS (clientConfig.url or .service),
with kube-apiserver's words for every way it can fail (CallError).
"""

import base64
import gzip
import http.client
import json
import socket
import ssl
import time
import urllib.parse

from . import state


class CallError(Exception):
    """webhookutil.ErrCallingWebhook: the webhook could not be called, or
    its answer is unusable.  The webhook's failurePolicy decides."""

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


# What client-go's rest client says about an HTTP error status with a body
# that is not a Status (errors.NewGenericServerResponse).
HTTP_ERROR_TEXT = {
    400: "the server rejected our request for an unknown reason",
    401: "the server has asked for the client to provide credentials",
    404: "the server could not find the requested resource",
    405: "the server does not allow this method on the requested resource",
    409: "the server reported a conflict",
    415: "the server responded with the status code 415 but did not return more information",
    422: "the server rejected our request due to an error in our request",
    429: "the server has received too many requests and has asked us to try again later",
    503: "the server is currently unable to handle the request",
    504: "the server was unable to return a response in the time allotted, but may still be "
         "processing the request",
}


def http_error_text(code, body):
    try:
        st = json.loads(body)
        if isinstance(st, dict) and st.get("kind") == "Status" and st.get("message"):
            return st["message"]
    except ValueError:
        pass
    if code == 500:
        return "an error on the server (%s) has prevented the request from succeeding" % (
            json.dumps(body.decode("utf-8", "replace").strip()[:256]),)
    if code == 403:
        return body.decode("utf-8", "replace").strip() or "forbidden"
    return HTTP_ERROR_TEXT.get(code, "the server responded with the status code %d but did "
                               "not return more information" % code)


def tls_error_text(e, server_name=""):
    """Python's certificate errors in the words of Go's crypto/tls."""
    code = getattr(e, "verify_code", None)
    if code in (18, 19, 20, 21, 2, 27, 28):
        why = "x509: certificate signed by unknown authority"
    elif code == 62:
        # Go lists the names the certificate is valid for; ssl cannot tell
        why = "x509: certificate is not valid for %s" % (server_name or "the requested name")
    elif code in (9, 10):
        why = "x509: certificate has expired or is not yet valid"
    else:
        why = "x509: %s" % (getattr(e, "verify_message", None) or e)
    return "tls: failed to verify certificate: " + why


def post_review(hook, review):
    """POST the review to the webhook over HTTPS; returns the decoded answer
    or raises CallError with the reason kube-apiserver would give."""
    cc = hook.spec.get("clientConfig") or {}
    q = "timeout=%ds" % hook.timeout
    if cc.get("url"):
        u = urllib.parse.urlsplit(cc["url"])
        host, port = u.hostname or "", u.port or 443
        server_name, connect = host, (host, port)
        path = (u.path or "/") + "?" + ((u.query + "&") if u.query else "") + q
        shown = urllib.parse.urlunsplit(("https", u.netloc, u.path or "/",
                                         ((u.query + "&") if u.query else "") + q, ""))
    elif cc.get("service"):
        svc = cc["service"]
        ns, name = svc.get("namespace") or "", svc.get("name") or ""
        port = int(svc.get("port") or 443)
        server_name = "%s.%s.svc" % (name, ns)
        path = (svc.get("path") or "/") + "?" + q
        shown = "https://%s:%d%s" % (server_name, port, path)
        with state.SIM.lock:
            connect = state.SIM.services.get((ns, name, port))
        if connect is None:
            # no cluster DNS here: an unmapped service is dialled as the real
            # service resolver would fail on it
            with state.STORE.cond:
                exists = ("", "services") in state.STORE.objs and \
                    (ns, name) in state.STORE.objs[("", "services")]
            why = ('no endpoints available for service "%s"' if exists
                   else 'service "%s" not found') % name
            raise CallError('failed to call webhook: Post "%s": %s' % (shown, why))
    else:
        raise CallError("could not get REST client: neither clientConfig.url nor "
                        "clientConfig.service is set")

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)   # verifies chain and name
    ctx.hostname_checks_common_name = False          # Go ignores the CN too
    ca = cc.get("caBundle") or ""
    if ca:
        # without a caBundle nothing is trusted here (the real server would
        # use the system roots, which never hold a test CA)
        try:
            # caBundle is a Go []byte: its base64 decoder skips '\r' and
            # '\n' (kustomize writes long values as wrapped YAML blocks)
            ca = ca.replace("\r", "").replace("\n", "")
            ctx.load_verify_locations(cadata=base64.b64decode(ca, validate=True).decode())
        except (ValueError, UnicodeDecodeError, ssl.SSLError):
            raise CallError("could not get REST client: unable to load root certificates: "
                            "unable to parse bytes as PEM block")
    data = json.dumps(review).encode()
    headers = {"User-Agent": "kube-apiserver-admission", "Content-Type": "application/json",
               "Accept": "application/json, */*", "Accept-Encoding": "gzip",
               "Content-Length": str(len(data))}
    deadline = time.monotonic() + hook.timeout
    conn = None
    try:
        sock = socket.create_connection(connect, timeout=hook.timeout)
        tls = ctx.wrap_socket(sock, server_hostname=server_name)
        # Host names the URL's (or the service's) port, not the dialled one
        conn = http.client.HTTPConnection(server_name, port, timeout=hook.timeout)
        conn.sock = tls
        conn.request("POST", path, body=data, headers=headers)
        tls.settimeout(max(deadline - time.monotonic(), 0.001))
        resp = conn.getresponse()
        raw = resp.read()
        if time.monotonic() > deadline:
            raise TimeoutError()
    except TimeoutError:
        raise CallError('failed to call webhook: Post "%s": context deadline exceeded' % shown)
    except ssl.SSLCertVerificationError as e:
        raise CallError('failed to call webhook: Post "%s": %s'
                        % (shown, tls_error_text(e, server_name)))
    except ssl.SSLError as e:
        raise CallError('failed to call webhook: Post "%s": remote error: tls: %s'
                        % (shown, (e.reason or str(e)).lower().replace("_", " ")))
    except ConnectionRefusedError:
        raise CallError('failed to call webhook: Post "%s": dial tcp %s:%d: connect: '
                        'connection refused' % (shown, connect[0], connect[1]))
    except (OSError, http.client.HTTPException) as e:
        # a connection closed without an answer is Go's io.EOF
        why = "EOF" if isinstance(e, (http.client.RemoteDisconnected, ConnectionResetError)) \
            else (getattr(e, "strerror", None) or str(e) or "EOF")
        raise CallError('failed to call webhook: Post "%s": %s' % (shown, why))
    finally:
        if conn is not None:
            conn.close()
    if (resp.getheader("Content-Encoding") or "").lower() == "gzip":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as e:
            raise CallError("failed to call webhook: %s" % e)
    if not 200 <= resp.status <= 206:
        raise CallError("failed to call webhook: " + http_error_text(resp.status, raw))
    try:
        return json.loads(raw)
    except ValueError as e:
        raise CallError("failed to call webhook: couldn't get version/kind; json parse "
                        "error: %s" % e)
