# SPDX-License-Identifier: Apache-2.0
"""Users: bearer tokens mapped to users (--token, /__sim/token), the
default admin, and the --resolve-service argument.
"""

import re


DEFAULT_TOKEN = "kube-sim-token"          # the token of the kubeconfig kube-sim writes
ADMIN = {"username": "admin", "groups": ["system:masters", "system:authenticated"]}


def parse_user(spec):
    """USER[:GROUP1,GROUP2] -> a UserInfo.

    User and group names contain colons themselves, so USER is read as:
    system:serviceaccount:NS:NAME (4 fields), system:node:NAME (3 fields),
    any other system:X (2 fields), or else everything up to the first colon.
    What follows the next colon is the comma-separated group list.  As the
    real authenticators do, every user is in system:authenticated, and a
    service account given no groups is in system:serviceaccounts and
    system:serviceaccounts:NS."""
    parts = spec.split(":")
    n = 1
    if parts[0] == "system" and len(parts) > 1:
        n = {"serviceaccount": 4, "node": 3}.get(parts[1], 2)
    user = ":".join(parts[:n])
    if not user or (n == 4 and len(parts) < 4):
        raise ValueError("bad user %r" % spec)
    if len(parts) > n:
        groups = [g for g in ":".join(parts[n:]).split(",") if g]
    elif n == 4:
        groups = ["system:serviceaccounts", "system:serviceaccounts:" + parts[2]]
    else:
        groups = []
    if "system:authenticated" not in groups:
        groups.append("system:authenticated")
    return {"username": user, "groups": groups}


def parse_token_arg(arg):
    """--token TOKEN=USER[:GROUPS]"""
    token, sep, spec = arg.partition("=")
    if not sep or not token:
        raise ValueError("--token wants TOKEN=USER[:GROUP1,GROUP2], got %r" % arg)
    return token, parse_user(spec)


def parse_service_arg(service, addr):
    """NS/NAME:PORT and HOST:PORT -> ((ns, name, port), (host, port))."""
    m = re.match(r"^([^/]+)/([^:]+):(\d+)$", service or "")
    h, _, p = (addr or "").rpartition(":")
    if not m or not h or not p.isdigit():
        raise ValueError("want NS/NAME:PORT=HOST:PORT, got %r=%r" % (service, addr))
    return (m.group(1), m.group(2), int(m.group(3))), (h.strip("[]"), int(p))
