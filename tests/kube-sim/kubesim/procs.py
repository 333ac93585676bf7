# SPDX-License-Identifier: Apache-2.0
"""Processes the kubelet runs for init containers (`groved initc`): at most
`limit` at once, each killed after `timeout` seconds, its stdout and
stderr in a log file, its exit reported through a callback.  A process
that cannot start (the binary is missing) is reported as an exit with
code 127 (what a shell says of a missing command) and its error in the log.
"""

import ctypes
import os
import signal
import subprocess
import threading
import time

try:
    _LIBC = ctypes.CDLL(None, use_errno=True)
    _LIBC.prctl
except (OSError, AttributeError):
    _LIBC = None
PR_SET_PDEATHSIG = 1


def _die_with_kube_sim():
    """In the child: killed when kube-sim dies, even by SIGKILL (Linux), so
    that no groved initc outlives it retrying a server that is gone."""
    if _LIBC is not None:
        _LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


class Procs:
    def __init__(self, limit=64, timeout=300.0):
        self.limit, self.timeout = limit, timeout
        self.lock = threading.Lock()
        self.running = {}          # key -> subprocess.Popen

    def busy(self):
        with self.lock:
            return len(self.running) >= self.limit

    def start(self, key, argv, env, log_path, on_exit):
        """Start argv; on_exit(key, code, timed_out) is called from a
        thread of its own when it ends.  False when `limit` processes run
        (start it later), True otherwise (started, or reported as failed)."""
        with self.lock:
            if len(self.running) >= self.limit:
                return False
            os.makedirs(os.path.dirname(log_path), exist_ok=True)
            log = open(log_path, "ab")
            try:
                p = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=log,
                                     stderr=subprocess.STDOUT, start_new_session=True,
                                     preexec_fn=_die_with_kube_sim)
            except OSError as e:
                log.write(("kube-sim kubelet: cannot start %r: %s\n" % (argv[0], e)).encode())
                log.close()
                threading.Thread(target=on_exit, args=(key, 127, False), daemon=True).start()
                return True
            log.close()
            self.running[key] = p
        threading.Thread(target=self._wait, args=(key, p, on_exit), daemon=True).start()
        return True

    def _wait(self, key, p, on_exit):
        timed_out = False
        try:
            p.wait(timeout=self.timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            self._signal(p, signal.SIGKILL)
            p.wait()
        with self.lock:
            mine = self.running.get(key) is p
            if mine:
                del self.running[key]
        if mine:
            code = p.returncode
            # killed by a signal: the container runtime's 128 + signal
            on_exit(key, 128 - code if code < 0 else code, timed_out)

    @staticmethod
    def _signal(p, sig):
        try:
            os.killpg(p.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass

    def kill(self, key):
        """Stop a process without reporting its exit (its pod is gone)."""
        with self.lock:
            p = self.running.pop(key, None)
        if p is not None:
            self._signal(p, signal.SIGKILL)
            threading.Thread(target=p.wait, daemon=True).start()

    def kill_all(self, grace=2.0):
        with self.lock:
            procs = list(self.running.values())
            self.running.clear()
        for p in procs:
            self._signal(p, signal.SIGTERM)
        end = time.monotonic() + grace
        for p in procs:
            try:
                p.wait(timeout=max(0.0, end - time.monotonic()))
            except subprocess.TimeoutExpired:
                self._signal(p, signal.SIGKILL)
