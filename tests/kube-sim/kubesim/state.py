# SPDX-License-Identifier: Apache-2.0
"""Process-wide state: the store (STORE, set by main) and everything else
(SIM: faults, tokens and users, the service map for webhooks, the
admission log).  Other modules read them as state.STORE and state.SIM.
"""

import collections
import copy
import threading

from .users import ADMIN, DEFAULT_TOKEN


ADMISSION_LOG_SIZE = 500


class Sim:
    """Process-wide state besides the store: faults, tokens and users, the
    service map for webhooks, the admission log."""

    def __init__(self):
        self.lock = threading.Lock()
        self.fail_count, self.fail_code = 0, 500
        self.latency_ms = 0
        self.gone_next = False   # /__sim/gone-next: the next resumed watch gets 410
        self.down_until = 0.0    # /__sim/restart: until then, connections are dropped
        self.hold_until = 0.0    # /__sim/hold-watches: until then, watch events wait
        self.last_token = None
        self.address = ""
        self.tokens = {DEFAULT_TOKEN: ADMIN}     # bearer token -> userInfo
        self.authorize = False   # --authorize: RBAC for users outside system:masters
        self.services = {}       # (ns, name, port) -> (host, port): --resolve-service
        self.admission_log = collections.deque(maxlen=ADMISSION_LOG_SIZE)

    def user_for(self, token):
        # An unknown token (or none) is the admin, as before users existed,
        # so that every client of older kube-sim versions keeps working.
        with self.lock:
            return copy.deepcopy(self.tokens.get(token or "", ADMIN))


STORE = None
SIM = Sim()
