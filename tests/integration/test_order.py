#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The MQTT connection across broker restarts and reloads. Order per device:
after each reconnect the window that was in flight is resent before anything
new, so each message's first arrival at a persistent consumer comes in
sequence order. A SIGHUP that changes nothing the sink uses keeps the
connection and its counters; one that changes a broker setting reconnects."""
import os
import signal
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from broker import Broker  # noqa: E402
import fgtest  # noqa: E402
from fgtest import DaemonTestCase, sim_config  # noqa: E402
from seqorder import SeqConsumer, restart_broker, wait_status  # noqa: E402

RESTARTS = 6
PROGRESS = 200   # new messages the consumer sees between two restarts
STEP_TIMEOUT = 30


def mqtt_block(port, extra=""):
    return fgtest.mqtt_block(port, extra, commit_interval_ms=20)


class OrderTest(DaemonTestCase):
    def restarts_keep_order(self, extra):
        # Persistence keeps the consumer's session and queue across restarts; the broker's
        # queue for it is unbounded (max_queued_messages 0), so the broker drops nothing.
        self.broker = Broker(self.dir, persistence=True)
        self.broker.start()
        self.sub = SeqConsumer(self.broker.port, client_id="itest-order")
        self.sub.wait_subscribed()
        self.write_conf(sim_config(self.dir, devices=8, interval_ms=20) +
                        mqtt_block(self.broker.port, extra))
        d = self.start_daemon()
        for i in range(RESTARTS):
            # Connected again (i + 1 connections so far) and messages flowing before the next.
            st = wait_status(self.conf, lambda s: s["connects"] >= i + 1, STEP_TIMEOUT)
            self.assertGreaterEqual(st["connects"], i + 1, d.stderr()[-2000:])
            target = self.sub.highest() + PROGRESS
            self.assertTrue(self.sub.wait_for_seq(target, STEP_TIMEOUT),
                            f"restart {i}: consumer at {self.sub.highest()}, wanted {target}; "
                            f"{d.stderr()[-2000:]}")
            restart_broker(self.broker)
        # The backlog of the last outage and then some arrive.
        st = wait_status(self.conf, lambda s: s["connects"] >= RESTARTS + 1, STEP_TIMEOUT)
        self.assertGreaterEqual(st["connects"], RESTARTS + 1, d.stderr()[-2000:])
        target = self.sub.highest() + PROGRESS
        self.assertTrue(self.sub.wait_for_seq(target, STEP_TIMEOUT), d.stderr()[-2000:])
        top = self.sub.highest()
        print(f"{RESTARTS} broker restarts: {top} messages, {self.sub.duplicates} duplicates, "
              f"{len(self.sub.late)} first arrivals out of order", file=sys.stderr)
        self.assertEqual(self.sub.late[:20], [], "first arrivals out of sequence order "
                         "(seq, highest seen before it)")
        self.assertEqual(self.sub.missing(top), [])

    def test_broker_restarts_keep_first_arrivals_in_order_v311(self):
        self.restarts_keep_order('protocol = "v311";')

    def test_broker_restarts_keep_first_arrivals_in_order_v5(self):
        # A v5 broker's receive maximum (20 in mosquitto) is below the window (100):
        # libmosquitto queues the rest and must still resend in order.
        self.restarts_keep_order('protocol = "v5"; session_expiry = "1h";')


class ReloadTest(DaemonTestCase):
    def write_sim_conf(self, interval_ms, extra):
        self.write_conf(sim_config(self.dir, devices=2, interval_ms=interval_ms) +
                        mqtt_block(self.broker.port, extra))

    def broker_connections(self):
        """CONNECTs of the daemon the broker has logged."""
        return self.broker.log().count(" as fieldgate-itest ")

    def reload(self):
        """SIGHUP, then wait until the reload is done and messages flow again after it."""
        d = self.daemon
        done = d.stderr().count("reloaded '")
        d.signal(signal.SIGHUP)
        self.notify.wait_for("READY=1")
        deadline = time.monotonic() + STEP_TIMEOUT
        while d.stderr().count("reloaded '") <= done and time.monotonic() < deadline:
            d.pump(0.05)
        self.assertGreater(d.stderr().count("reloaded '"), done, d.stderr()[-2000:])
        # New messages reach the consumer: a reconnect, if there was one, is behind us.
        self.assertTrue(self.sub.wait_for_seq(self.sub.highest() + 20, STEP_TIMEOUT),
                        d.stderr()[-2000:])
        return wait_status(self.conf, lambda s: s["broker"] == "connected", STEP_TIMEOUT)

    def test_reload_keeps_the_connection_unless_a_broker_setting_changed(self):
        self.broker = Broker(self.dir)
        self.broker.start()
        self.sub = SeqConsumer(self.broker.port, client_id="itest-reload")
        self.sub.wait_subscribed()
        self.write_sim_conf(50, 'keepalive = "60s";')
        self.start_daemon()
        self.assertTrue(self.sub.wait_for_seq(20, STEP_TIMEOUT), self.daemon.stderr())
        before = wait_status(self.conf, lambda s: s["published"] >= 20, STEP_TIMEOUT)
        self.assertEqual(before["connects"], 1, before)
        self.assertEqual(self.broker_connections(), 1, self.broker.log()[-2000:])

        # Another sim interval, the same mqtt section: the connection and counters stay.
        self.write_sim_conf(40, 'keepalive = "60s";')
        after = self.reload()
        self.assertEqual(self.broker_connections(), 1, self.broker.log()[-2000:])
        self.assertEqual(after["connects"], 1, after)
        self.assertGreater(after["published"], before["published"], (before, after))
        self.assertGreaterEqual(after["last_acked_seq"], before["last_acked_seq"])
        self.assertIn("broker settings unchanged", self.daemon.stderr())

        # A broker setting changed: the daemon connects again with it.
        self.write_sim_conf(40, 'keepalive = "30s";')
        self.reload()
        self.assertIn("broker settings changed: reconnecting", self.daemon.stderr())
        self.assertEqual(self.broker_connections(), 2, self.broker.log()[-2000:])
        self.assertEqual(self.sub.late, [])
        self.assertEqual(self.sub.missing(self.sub.highest()), [])


if __name__ == "__main__":
    unittest.main()
