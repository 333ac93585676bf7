# SPDX-License-Identifier: Apache-2.0
"""Service-account tokens: kube-controller-manager's token controller and
kube-apiserver's service-account token authenticators.

TokenController(store).start(), an in-process controller, does what the
real token controller does with Secrets of type
kubernetes.io/service-account-token:

- one whose annotation kubernetes.io/service-account.name names an
  existing ServiceAccount gets data.token, data.namespace and (when
  kube-sim serves HTTPS) data.ca.crt (kube-sim's CA), base64 as always,
  and the annotation kubernetes.io/service-account.uid;
- one whose ServiceAccount does not exist (or has another uid than the
  annotation says) is deleted, as the real controller deletes it: create
  the ServiceAccount first;
- when a ServiceAccount is deleted, its token Secrets are deleted.

The tokens are JWTs (HS256 with a key of this process; nobody outside
needs to verify them).  authenticate(store, token) is the API's
authenticator: a legacy token (from a Secret) is valid while its Secret
holds it and the ServiceAccount of the same uid exists; a bound token
(token_for) while its ServiceAccount of the same uid exists.  It returns
the user system:serviceaccount:NS:NAME (uid the ServiceAccount's; groups
system:serviceaccounts, system:serviceaccounts:NS, system:authenticated),
raises the 401 ApiError for a token of ours that is no longer valid (or
from another kube-sim process), and returns None for any other token,
which the caller then looks up among --token users.  Authorization is
kube-sim's RBAC (--authorize).

token_for(store, ns, sa) is what the kubelet mounts as a pod's own token
(a bound token, as the TokenRequest API makes them since 1.24): the
ServiceAccount `default` is created on demand, as kube-controller-manager's
serviceaccount controller would have made it; another missing
ServiceAccount raises TokenError('serviceaccounts "x" not found').

configure(ca_pem) sets the CA put in Secrets (main() passes kube-sim's
--tls-dir ca.crt); ca_pem() returns it (b"" without TLS).
"""

import base64
import copy
import hashlib
import hmac
import json
import os
import queue
import sys
import threading
import time

from .errors import ApiError


SECRET_TYPE = "kubernetes.io/service-account-token"
SA_NAME_KEY = "kubernetes.io/service-account.name"
SA_UID_KEY = "kubernetes.io/service-account.uid"
LEGACY_ISSUER = "kubernetes/serviceaccount"
BOUND_ISSUER = "https://kubernetes.default.svc.cluster.local"

_KEY = os.urandom(32)
_LOCK = threading.Lock()
_CA = [b""]
_BOUND = {}       # (ns, sa, sa uid) -> token


class TokenError(Exception):
    """No token can be made (the ServiceAccount does not exist)."""


def configure(ca_pem):
    _CA[0] = ca_pem or b""


def ca_pem():
    return _CA[0]


def _b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64url(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def _jwt(claims):
    head = _b64url(json.dumps({"alg": "HS256", "kid": "kube-sim"}, separators=(",", ":"))
                   .encode())
    body = _b64url(json.dumps(claims, separators=(",", ":"), sort_keys=True).encode())
    sig = hmac.new(_KEY, ("%s.%s" % (head, body)).encode(), hashlib.sha256).digest()
    return "%s.%s.%s" % (head, body, _b64url(sig))


def _claims(token):
    """The claims of a JWT, or None when it is not a JWT at all."""
    parts = (token or "").split(".")
    if len(parts) != 3:
        return None
    try:
        claims = json.loads(_unb64url(parts[1]))
        sig = _unb64url(parts[2])
    except (ValueError, TypeError):
        return None
    if not isinstance(claims, dict):
        return None
    claims["__valid_sig"] = hmac.compare_digest(
        sig, hmac.new(_KEY, ("%s.%s" % (parts[0], parts[1])).encode(), hashlib.sha256).digest())
    return claims


def legacy_token(ns, sa, sa_uid, secret):
    return _jwt({"iss": LEGACY_ISSUER,
                 "kubernetes.io/serviceaccount/namespace": ns,
                 "kubernetes.io/serviceaccount/secret.name": secret,
                 "kubernetes.io/serviceaccount/service-account.name": sa,
                 "kubernetes.io/serviceaccount/service-account.uid": sa_uid,
                 "sub": "system:serviceaccount:%s:%s" % (ns, sa)})


def sa_user(ns, sa, uid):
    return {"username": "system:serviceaccount:%s:%s" % (ns, sa), "uid": uid,
            "groups": ["system:serviceaccounts", "system:serviceaccounts:" + ns,
                       "system:authenticated"]}


def _unauthorized():
    return ApiError(401, "Unauthorized", "Unauthorized")


def _live(store, plural, ns, name):
    rt = store.types[("", plural)]
    try:
        obj = store.get(rt, ns, name)
    except ApiError:
        return None
    return None if obj["metadata"].get("deletionTimestamp") else obj


def authenticate(store, token):
    """The user of a service-account token of ours, None for another
    token, the 401 ApiError for one of ours that is not valid (any more)."""
    claims = _claims(token)
    if claims is None or claims.get("iss") not in (LEGACY_ISSUER, BOUND_ISSUER):
        return None
    if not claims["__valid_sig"]:
        raise _unauthorized()
    if claims.get("iss") == LEGACY_ISSUER:
        ns = claims.get("kubernetes.io/serviceaccount/namespace", "")
        sa = claims.get("kubernetes.io/serviceaccount/service-account.name", "")
        uid = claims.get("kubernetes.io/serviceaccount/service-account.uid", "")
        secret = _live(store, "secrets", ns,
                       claims.get("kubernetes.io/serviceaccount/secret.name", ""))
        held = ((secret or {}).get("data") or {}).get("token", "")
        try:
            held = base64.b64decode(held).decode()
        except (ValueError, TypeError):
            held = ""
        if secret is None or held != token:
            raise _unauthorized()
    else:
        k = claims.get("kubernetes.io") or {}
        ns = k.get("namespace", "")
        sa = (k.get("serviceaccount") or {}).get("name", "")
        uid = (k.get("serviceaccount") or {}).get("uid", "")
    account = _live(store, "serviceaccounts", ns, sa)
    if account is None or account["metadata"]["uid"] != uid:
        raise _unauthorized()
    return sa_user(ns, sa, uid)


def token_for(store, ns, sa):
    """A bound token of the ServiceAccount (the pod's own token)."""
    rt = store.types[("", "serviceaccounts")]
    try:
        account = store.get(rt, ns, sa)
    except ApiError:
        if sa != "default":
            raise TokenError('serviceaccounts "%s" not found' % sa)
        try:
            account = store.create(rt, ns, {"apiVersion": "v1", "kind": "ServiceAccount",
                                            "metadata": {"name": sa, "namespace": ns}})
        except ApiError:
            account = store.get(rt, ns, sa)
    uid = account["metadata"]["uid"]
    key = (ns, sa, uid)
    with _LOCK:
        tok = _BOUND.get(key)
        if tok is None:
            now = int(time.time())
            tok = _jwt({"aud": [BOUND_ISSUER], "iat": now, "nbf": now,
                        "exp": now + 365 * 86400, "iss": BOUND_ISSUER,
                        "kubernetes.io": {"namespace": ns,
                                          "serviceaccount": {"name": sa, "uid": uid}},
                        "sub": "system:serviceaccount:%s:%s" % (ns, sa)})
            _BOUND[key] = tok
        return tok


class TokenController:
    def __init__(self, store):
        self.store = store
        self.q = queue.Queue()
        self.secrets_rt = store.types[("", "secrets")]
        self.sa_rt = store.types[("", "serviceaccounts")]

    def start(self):
        self.store.subscribe("", "serviceaccounts", self.q, replay=True)
        self.store.subscribe("", "secrets", self.q, replay=True)
        threading.Thread(target=self.run, name="token-controller", daemon=True).start()
        return self

    def stop(self):
        self.store.unsubscribe(self.q)
        self.q.put(None)

    def run(self):
        while True:
            ev = self.q.get()
            if ev is None:
                return
            try:
                if ev.resource[1] == "secrets":
                    if ev.type != "DELETED" and ev.obj.get("type") == SECRET_TYPE:
                        self.sync_secret(ev.obj)
                elif ev.type == "DELETED":
                    self.delete_tokens(ev.obj)
                else:
                    self.sync_account(ev.obj)
            except Exception as e:  # keep the controller alive
                print("kube-sim: token controller: %r" % e, file=sys.stderr)

    def sync_account(self, sa):
        """A (new) ServiceAccount: its waiting token Secrets get filled."""
        ns, name = sa["metadata"].get("namespace", ""), sa["metadata"]["name"]
        items, _ = self.store.list(self.secrets_rt, ns, [], [])
        for s in items:
            if s.get("type") == SECRET_TYPE and \
                    (s["metadata"].get("annotations") or {}).get(SA_NAME_KEY) == name:
                self.sync_secret(s)

    def delete_tokens(self, sa):
        ns, name = sa["metadata"].get("namespace", ""), sa["metadata"]["name"]
        items, _ = self.store.list(self.secrets_rt, ns, [], [])
        for s in items:
            ann = s["metadata"].get("annotations") or {}
            if s.get("type") == SECRET_TYPE and ann.get(SA_NAME_KEY) == name and \
                    ann.get(SA_UID_KEY, sa["metadata"]["uid"]) == sa["metadata"]["uid"]:
                self._delete(s)

    def _delete(self, s):
        try:
            self.store.delete(self.secrets_rt, s["metadata"]["namespace"], s["metadata"]["name"],
                              {"preconditions": {"uid": s["metadata"]["uid"]}})
        except ApiError:
            pass

    def sync_secret(self, secret):
        ns, name = secret["metadata"].get("namespace", ""), secret["metadata"]["name"]
        for _ in range(20):
            try:
                cur = self.store.get(self.secrets_rt, ns, name)
            except ApiError:
                return
            if cur["metadata"]["uid"] != secret["metadata"]["uid"] or \
                    cur["metadata"].get("deletionTimestamp"):
                return
            ann = cur["metadata"].get("annotations") or {}
            sa_name = ann.get(SA_NAME_KEY)
            if not sa_name:
                return       # the real API server refuses such a Secret
            try:
                sa = self.store.get(self.sa_rt, ns, sa_name)
            except ApiError:
                sa = None
            if sa is None or (ann.get(SA_UID_KEY) and ann[SA_UID_KEY] != sa["metadata"]["uid"]):
                self._delete(cur)
                return
            uid = sa["metadata"]["uid"]
            data = dict(cur.get("data") or {})
            want = {"namespace": base64.b64encode(ns.encode()).decode()}
            if ca_pem():
                want["ca.crt"] = base64.b64encode(ca_pem()).decode()
            if not data.get("token"):
                want["token"] = base64.b64encode(
                    legacy_token(ns, sa_name, uid, name).encode()).decode()
            if all(data.get(k) == v for k, v in want.items()) and ann.get(SA_UID_KEY) == uid:
                return
            new = copy.deepcopy(cur)
            new["data"] = dict(data, **want)
            new["metadata"]["annotations"] = dict(ann, **{SA_UID_KEY: uid})
            try:
                self.store.update(self.secrets_rt, ns, name, new)
                return
            except ApiError as e:
                if e.code != 409:
                    return
