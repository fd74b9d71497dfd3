#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The control socket under exhaustion: a local client of the socket's group
that holds many idle connections, or that takes every file descriptor the
daemon may open, must neither lock others out for good nor make the loop
spin; the daemon answers status again once the connections go."""
import json
import os
import select
import socket
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fgtest import FIELDGATECTL, Daemon, NotifySocket, run, sim_config, tempdir  # noqa: E402

CAP = 32  # concurrent clients (fieldgated(8), CONTROL SOCKET)
REFUSAL = b'{"error":"too many clients"}\n'


def clock_ticks(pid):
    """utime + stime of pid, in clock ticks (proc(5), fields 14 and 15)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


class ControlTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempdir()
        self.dir = self.tmp.name
        self.conf = os.path.join(self.dir, "fieldgate.conf")
        self.sock = os.path.join(self.dir, "control")
        with open(self.conf, "w") as f:
            f.write(sim_config(self.dir, devices=1, interval_ms=1000))
        self.notify = NotifySocket(self.dir)
        self.daemon = None
        self.clients = []

    def tearDown(self):
        for c in self.clients:
            c.close()
        if self.daemon:
            self.daemon.kill()
        self.notify.close()
        self.tmp.cleanup()

    def start(self, prefix=()):
        self.daemon = Daemon(self.conf, notify=self.notify, prefix=prefix)
        self.notify.wait_for("READY=1")

    def connect(self, blocking=True):
        """A connected client. Blocking: retried while the listen backlog is full
        (AF_UNIX refuses with EAGAIN instead of waiting); else one try."""
        deadline = time.monotonic() + 10
        while True:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.setblocking(False)
            try:
                s.connect(self.sock)
            except BlockingIOError:
                s.close()
                if not blocking or time.monotonic() > deadline:
                    raise
                time.sleep(0.01)
                continue
            if blocking:
                s.settimeout(5)
            return s

    def ask(self, command=b"status\n", timeout=5):
        """Send command on a new connection; the whole answer (until the daemon closes)."""
        with self.connect() as s:
            try:
                s.sendall(command)
            except BrokenPipeError:
                pass  # refused and closed before it read: the answer is there all the same
            s.settimeout(timeout)
            out = b""
            while True:
                try:
                    data = s.recv(65536)
                except ConnectionResetError:
                    # Closed with our command unread (a refusal): the end, once it said something.
                    if out:
                        return out
                    raise
                if not data:
                    return out
                out += data

    def status(self, timeout=10):
        """fieldgatectl status, retried until the daemon answers it."""
        deadline = time.monotonic() + timeout
        while True:
            r = run([FIELDGATECTL, "-c", self.conf, "status", "--json"])
            if r.returncode == 0:
                return json.loads(r.stdout)
            if time.monotonic() > deadline:
                raise AssertionError(f"no status within {timeout}s: {r.stdout!r} {r.stderr!r}")
            time.sleep(0.1)

    @staticmethod
    def closed_by_daemon(s):
        """True when the daemon has closed s (EOF or reset), without waiting or reading."""
        readable, _, _ = select.select([s], [], [], 0)
        if not readable:
            return False
        try:
            return s.recv(1, socket.MSG_PEEK) == b""
        except ConnectionResetError:
            return True

    def test_clients_past_the_cap_are_refused_and_idle_ones_time_out(self):
        self.start()
        for attempt in range(3):
            idle = [self.connect() for _ in range(CAP)]
            self.clients += idle
            answer = self.ask()
            # Only meaningful if all CAP idle clients were still held (a very
            # slow machine might have let the first ones time out already).
            if not any(self.closed_by_daemon(s) for s in idle):
                break
        self.assertEqual(answer, REFUSAL, f"attempt {attempt}; daemon: {self.daemon.stderr()}")
        # fieldgatectl says so and fails, rather than print the refusal as a state.
        r = run([FIELDGATECTL, "-c", self.conf, "status", "--json"])
        if not any(self.closed_by_daemon(s) for s in idle):
            self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
            self.assertEqual(r.stdout, "")
            self.assertIn("refused: {\"error\":\"too many clients\"}", r.stderr)
        # The idle ones are closed by the daemon, without an answer...
        deadline = time.monotonic() + 10
        for s in idle:
            s.settimeout(max(0.1, deadline - time.monotonic()))
            self.assertEqual(s.recv(65536), b"", "an idle client was not timed out")
        # ...and then a new client gets its answer.
        st = self.status()
        self.assertGreaterEqual(st["control_refused"], 1)
        self.assertGreaterEqual(st["control_timeouts"], CAP)
        self.daemon.wait_stderr("too many control clients", 5)

    def test_a_client_that_never_reads_its_answer_holds_nothing(self):
        self.start()
        # Each asks and never reads; the daemon must not keep them (nor their answers).
        for _ in range(2 * CAP):
            s = self.connect()
            s.sendall(b"status\n")
            self.clients.append(s)
        st = self.status()
        self.assertLessEqual(st["control_clients"], 1)
        self.assertEqual(st["control_refused"], 0)

    def test_file_descriptor_exhaustion_does_not_spin_the_loop(self):
        # Start once to learn how many descriptors the daemon uses, then again
        # with room for only a few clients, well below the cap.
        self.start()
        used = len(os.listdir(f"/proc/{self.daemon.proc.pid}/fd"))
        self.daemon.kill()
        self.notify.close()
        os.unlink(self.notify.path)
        self.notify = NotifySocket(self.dir)
        limit = used + 4
        self.start(prefix=("prlimit", f"--nofile={limit}:{limit}", "--"))
        pid = self.daemon.proc.pid

        # Keep the daemon out of descriptors for a few seconds: hold many
        # connections, and replace each one it closes (timed out idle clients).
        held = []
        tick = os.sysconf("SC_CLK_TCK")
        start_wall = start_cpu = None
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            still = []
            for s in held:
                if self.closed_by_daemon(s):
                    s.close()
                else:
                    still.append(s)
            held = still
            while len(held) < 60:
                try:
                    held.append(self.connect(blocking=False))
                except (BlockingIOError, ConnectionRefusedError):
                    break  # the listen backlog is full
            if start_wall is None and len(os.listdir(f"/proc/{pid}/fd")) >= limit:
                # Exhausted from here on: measure the daemon's CPU time.
                start_wall, start_cpu = time.monotonic(), clock_ticks(pid)
            if start_wall is not None and time.monotonic() - start_wall >= 3:
                break
            self.daemon.pump(0.02)
        self.assertIsNotNone(start_wall, "could not exhaust the daemon's descriptors")
        wall = time.monotonic() - start_wall
        cpu = (clock_ticks(pid) - start_cpu) / tick
        for s in held:
            s.close()
        self.assertLess(cpu, 0.2 * wall,
                        f"the daemon used {cpu:.2f}s of CPU in {wall:.2f}s without descriptors")
        st = self.status()
        self.assertGreater(st["control_accept_failed"], 0, st)
        self.assertIn("cannot accept a control client", self.daemon.stderr())


if __name__ == "__main__":
    unittest.main()
