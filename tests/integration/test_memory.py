#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Memory does not follow the input rate. Sustained overload: the sim source
offers 150,000 readings/s, more than the daemon and the broker take, for
several seconds; a QoS 1 consumer checks that what arrives comes in sequence
order with nothing missing. The daemon's peak resident memory (VmHWM) may
exceed what it had once ready and running at a trickle by little more than
its bounded parts (the stage of buffer.commit_batch readings, SQLite's page
cache, the send window), whatever the rate."""
import os
import re
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from broker import Broker  # noqa: E402
import fgtest  # noqa: E402
from fgtest import DaemonTestCase, sim_config  # noqa: E402
from seqorder import SeqConsumer, status  # noqa: E402

OVERLOAD_S = 8
# stage 1000 x 280 B, page cache 256 KiB, window 100 messages, library code
# that only overload reaches, allocator slack: about 1.3 MB measured, and a
# stage that followed the rate (commit_batch 100000) adds 28 MB.
GROWTH_BOUND_KB = 3 * 1024


def status_kb(pid, field):
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(rf"^{field}:\s+(\d+)", f.read(), re.M).group(1))


class MemoryTest(DaemonTestCase):
    def test_overload_keeps_memory_bounded_and_order(self):
        self.broker = Broker(self.dir, persistence=False)
        self.broker.start()
        self.sub = SeqConsumer(self.broker.port, client_id="itest-memory")
        self.sub.wait_subscribed()
        # Start at a trickle: the resident memory of a daemon doing its normal work.
        self.write_conf(sim_config(self.dir, devices=1, interval_ms=300) +
                        fgtest.mqtt_block(self.broker.port, commit_interval_ms=100))
        d = self.start_daemon()
        self.assertTrue(self.sub.wait_for_seq(5, 30), d.stderr()[-2000:])
        base = status_kb(d.proc.pid, "VmRSS")
        # The same daemon, the rate raised by a reload: 500 devices every 10 ms.
        self.write_conf(sim_config(self.dir, devices=500, interval_ms=10) +
                        fgtest.mqtt_block(self.broker.port, commit_interval_ms=100))
        st0 = status(self.conf)
        d.proc.send_signal(fgtest.signal.SIGHUP)
        end = time.monotonic() + OVERLOAD_S
        while time.monotonic() < end:
            self.sub.pump(0.1)
        st = status(self.conf)
        peak = status_kb(d.proc.pid, "VmHWM")
        offered = st["readings_in"] - st0["readings_in"]
        print(f"overload: {offered / OVERLOAD_S:.0f} readings/s in, "
              f"{st['published'] - st0['published']} messages acked, buffer depth "
              f"{st['buffer_depth']}; VmRSS at a trickle {base} kB, VmHWM {peak} kB",
              file=sys.stderr)
        # It was overload: the buffer holds what the broker did not take yet.
        self.assertGreater(st["buffer_depth"], 10000, st)
        self.assertEqual(st["dropped"], 0, st)
        if "ASAN_OPTIONS" in os.environ:
            print("AddressSanitizer build: its quarantine holds freed memory, bound not checked",
                  file=sys.stderr)
        else:
            self.assertLessEqual(peak - base, GROWTH_BOUND_KB,
                                 f"VmHWM {peak} kB against {base} kB at a trickle")
        # Back to a trickle; what arrives is in order and complete up to the consumer's top.
        self.write_conf(sim_config(self.dir, devices=1, interval_ms=300) +
                        fgtest.mqtt_block(self.broker.port, commit_interval_ms=100))
        d.proc.send_signal(fgtest.signal.SIGHUP)
        target = self.sub.highest() + 2000
        self.assertTrue(self.sub.wait_for_seq(target, 60),
                        f"consumer at {self.sub.highest()}, wanted {target}")
        top = self.sub.highest()
        self.assertEqual(self.sub.late[:20], [], "first arrivals out of sequence order")
        self.assertEqual(self.sub.missing(top)[:20], [])


if __name__ == "__main__":
    unittest.main()
