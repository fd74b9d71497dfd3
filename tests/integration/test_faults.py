#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Faults under load, as the field has them: the daemon killed with SIGKILL
and started again, the broker restarted, in turns, while the sim source
keeps producing. Afterwards nothing is lost (every seq from 1 to the last
the daemon published arrived), first arrivals came in order, and the
daemon's own counters agree with what the consumer saw."""
import os
import signal
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from broker import Broker  # noqa: E402
from fgtest import DaemonTestCase, mqtt_block, sim_config  # noqa: E402
from seqorder import SeqConsumer, restart_broker, wait_status  # noqa: E402

FAULTS = ("kill", "broker") * 4
PROGRESS = 300     # new messages the consumer sees before each fault
STEP_TIMEOUT = 30


def config(state_dir, port, sim=True):
    text = sim_config(state_dir, devices=8, interval_ms=25) + mqtt_block(port, commit_interval_ms=20)
    return text if sim else text.replace("enabled = true;", "enabled = false;", 1)


class FaultTest(DaemonTestCase):
    def write_sim_conf(self, sim):
        self.write_conf(config(self.dir, self.broker.port, sim))

    def connected(self):
        st = wait_status(self.conf, lambda s: s["broker"] == "connected", STEP_TIMEOUT)
        self.assertEqual(st and st["broker"], "connected", self.daemon.stderr()[-2000:])
        return st

    def progress(self, n=PROGRESS):
        target = self.sub.highest() + n
        self.assertTrue(self.sub.wait_for_seq(target, STEP_TIMEOUT),
                        f"consumer at {self.sub.highest()}, wanted {target}; "
                        f"{self.daemon.stderr()[-2000:]}")

    def reload(self, sim):
        self.write_sim_conf(sim)
        self.daemon.signal(signal.SIGHUP)
        self.notify.wait_for("RELOADING=1")
        self.notify.wait_for("READY=1")

    def drained(self):
        """Sources off: wait until the buffer is empty and nothing is in flight."""
        self.reload(sim=False)
        st = wait_status(self.conf, lambda s: s["buffer_depth"] == 0 and s["inflight"] == 0,
                         STEP_TIMEOUT)
        self.assertEqual((st["buffer_depth"], st["inflight"]), (0, 0), st)
        # What the broker has acked reaches the consumer.
        self.assertTrue(self.sub.wait_for_seq(st["last_acked_seq"], STEP_TIMEOUT))
        return st

    def test_kills_and_broker_restarts_lose_nothing_and_keep_order(self):
        self.broker = Broker(self.dir, persistence=True)
        self.broker.start()
        self.sub = SeqConsumer(self.broker.port, client_id="itest-faults")
        self.sub.wait_subscribed()
        self.write_sim_conf(sim=True)
        self.start_daemon()
        for fault in FAULTS:
            self.connected()
            self.progress()
            if fault == "kill":
                self.daemon.proc.send_signal(signal.SIGKILL)
                self.daemon.proc.wait(timeout=10)
                self.daemon.kill()
                self.start_daemon()
            else:
                restart_broker(self.broker)
        self.connected()
        self.progress()

        st = self.drained()
        n = st["last_acked_seq"]
        print(f"{len(FAULTS)} faults: {n} messages, {self.sub.duplicates} duplicates",
              file=sys.stderr)
        self.assertGreater(n, PROGRESS * len(FAULTS))
        self.assertEqual(self.sub.missing(n), [], "lost messages")
        self.assertEqual(self.sub.late[:20], [], "first arrivals out of sequence order")
        self.assertEqual(self.sub.highest(), n, "the consumer saw more than the daemon published")
        self.assertEqual((st["evicted"], st["dropped"]), (0, 0), st)

        # Without faults, the counters and the consumer agree exactly: the sim runs
        # again for a while (a reload: the connection and counters stay), then drains.
        dup_before = self.sub.duplicates
        self.reload(sim=True)
        self.progress()
        st2 = self.drained()
        n2 = st2["last_acked_seq"]
        self.assertGreater(n2, n)
        self.assertEqual(st2["connects"], st["connects"], "a reload reconnected")
        self.assertEqual(st2["published"] - st["published"], n2 - n, (st, st2))
        self.assertEqual(self.sub.missing(n2), [])
        self.assertEqual(self.sub.highest(), n2)
        self.assertEqual(self.sub.late[:20], [])
        self.assertEqual(self.sub.duplicates, dup_before, "duplicates without a fault")


if __name__ == "__main__":
    unittest.main()
