#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""GWMP under a burst: a packet forwarder that flushes a backlog sends large
datagrams back to back while the daemon's loop is busy elsewhere (a slow SD
card commit). The socket's receive buffer must hold the burst, and whatever
the kernel still drops is counted: nothing vanishes unseen."""
import json
import os
import signal
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from broker import free_port  # noqa: E402
from fgtest import FIELDGATECTL, Daemon, NotifySocket, run, tempdir  # noqa: E402
from pktfwd import PacketForwarder, push_data  # noqa: E402

GATEWAY = "AA555A0000000001"
BURST = 20
DGRAM_BYTES = 59 * 1024  # lora_pkt_fwd's datagrams grow this large with many rxpk and a backlog


def config(state, gwmp_port):
    return f"""
gateway = {{ id = "itest"; state_dir = "{state}"; runtime_dir = "{state}";
  log_level = "info"; trust_system_clock = true; }};
sources = {{ gwmp = {{ enabled = true; listen = "127.0.0.1:{gwmp_port}"; }}; }};
lorawan = {{ region = "EU868"; }};
"""


def big_push(token):
    """A PUSH_DATA of DGRAM_BYTES: a stat object and padding the daemon ignores."""
    body = {"stat": {"rxnb": 1, "rxok": 1, "rxfw": 1}, "pad": ""}
    base = len(push_data(token, GATEWAY, body))
    body["pad"] = "x" * (DGRAM_BYTES - base)
    d = push_data(token, GATEWAY, body)
    assert len(d) == DGRAM_BYTES
    return d


class GwmpBurstTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempdir()
        self.dir = self.tmp.name
        self.conf = os.path.join(self.dir, "fieldgate.conf")
        self.notify = NotifySocket(self.dir)
        self.port = free_port()
        with open(self.conf, "w") as f:
            f.write(config(self.dir, self.port))
        self.daemon = Daemon(self.conf, notify=self.notify)
        self.notify.wait_for("READY=1")
        self.daemon.wait_stderr("listening for a packet forwarder", 10)
        self.fwd = PacketForwarder("127.0.0.1", self.port, GATEWAY)

    def tearDown(self):
        if self.daemon.proc.poll() is None:
            self.daemon.signal(signal.SIGCONT)
        self.daemon.kill()
        self.fwd.close()
        self.notify.close()
        self.tmp.cleanup()

    def status(self):
        r = run([FIELDGATECTL, "-c", self.conf, "status", "--json"])
        return json.loads(r.stdout)

    def burst(self, count):
        """Send count large datagrams while the loop is busy, then one PULL_DATA; the status
        once the daemon has read or been told of them all."""
        # The loop is busy (stopped) while the burst arrives: only the
        # socket's receive buffer holds it.
        self.daemon.signal(signal.SIGSTOP)
        try:
            for i in range(count):
                self.fwd.send_raw(big_push(i))
        finally:
            self.daemon.signal(signal.SIGCONT)
        # One more datagram after the burst: when its ack comes, the daemon
        # has read everything queued before it.
        self.assertIsNotNone(self.fwd.pull(), "no PULL_ACK after the burst")
        sent = count + 1
        deadline = time.monotonic() + 10
        while True:
            st = self.status()
            self.assertIn("gwmp_kernel_drops", st,
                          f"{st['gwmp_datagrams']} of {sent} datagrams arrived, drops not counted")
            if st["gwmp_datagrams"] + st["gwmp_kernel_drops"] >= sent or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        self.assertEqual(st["gwmp_datagrams"] + st["gwmp_kernel_drops"], sent, st)
        self.assertEqual(st["gwmp_refused"]["bad-json"], 0)
        return st

    def test_a_burst_of_large_datagrams_arrives_or_is_counted(self):
        st = self.burst(BURST)
        # Where the kernel grants the buffer asked for, the whole burst fits.
        if st["gwmp_receive_buffer"] >= 2 * 1024 * 1024:
            self.assertEqual(st["gwmp_datagrams"], BURST + 1, st)
            self.assertEqual(st["gwmp_kernel_drops"], 0, st)

    def test_datagrams_the_kernel_drops_are_counted_exactly(self):
        # More than any receive buffer here holds (net.core.rmem_max caps it).
        count = 100
        st = self.burst(count)
        if 2 * st["gwmp_receive_buffer"] < count * DGRAM_BYTES:
            self.assertGreater(st["gwmp_kernel_drops"], 0, st)
            self.daemon.wait_stderr("the kernel dropped", 10)

if __name__ == "__main__":
    unittest.main()
