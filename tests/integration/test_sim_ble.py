#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Simulated BLE sensors through the real decoders to a real subscriber, and
fieldgatectl decode ble. (BlueZ itself is in test_ble.py.)"""
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from broker import Broker, Subscriber  # noqa: E402
from fgtest import FIELDGATECTL, Daemon, NotifySocket, run, tempdir  # noqa: E402


class SimBleTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempdir()
        self.dir = self.tmp.name
        self.notify = NotifySocket(self.dir)
        self.broker = Broker(self.dir)
        self.broker.start()
        self.sub = Subscriber(self.broker.port, topic="fieldgate/itest/ble/#")
        self.daemon = None

    def tearDown(self):
        if self.daemon:
            self.daemon.kill()
        self.sub.stop()
        self.broker.stop()
        self.notify.close()
        self.tmp.cleanup()

    def test_simulated_sensors_go_through_the_decoders(self):
        conf = os.path.join(self.dir, "fieldgate.conf")
        with open(conf, "w") as f:
            f.write(f"""
gateway = {{ id = "itest"; state_dir = "{self.dir}"; runtime_dir = "{self.dir}";
  trust_system_clock = true; }};
buffer = {{ commit_interval_ms = 50; }};
mqtt = {{ host = "127.0.0.1"; port = {self.broker.port}; stats_interval = 0; }};
sources = {{ sim = {{ enabled = true; devices = 1; interval_ms = 90; seed = 3; ble = true; }}; }};
ble = {{ min_interval = "0s"; devices = (
  {{ name = "porch"; address = "A4:C1:38:00:11:22"; codec = "bthome"; }},
  {{ name = "tag"; address = "C8:25:2D:8E:9C:2C"; codec = "ruuvi5"; }},
  {{ name = "attic"; address = "A4:C1:38:AA:BB:CC"; codec = "atc1441"; }} ); }};
""")
        os.chmod(conf, 0o600)
        self.daemon = Daemon(conf, notify=self.notify, dry_run=False)
        self.notify.wait_for("READY=1")

        def all_three(s):
            return {t.rsplit("/", 1)[1] for t, _ in s.readings()} >= {
                "a4c138001122", "c8252d8e9c2c", "a4c138aabbcc"}
        self.assertTrue(self.sub.wait(all_three, 15), self.daemon.stderr())
        by_device = {}
        for topic, pack in self.sub.readings():
            by_device.setdefault(topic.rsplit("/", 1)[1], pack)
        for dev in by_device.values():
            names = {r["n"]: r.get("u") for r in dev}
            self.assertEqual(names.get("temperature"), "Cel", dev)
            self.assertEqual(names.get("humidity"), "%RH", dev)
            temp = [r["v"] for r in dev if r["n"] == "temperature"][0]
            self.assertTrue(0 < temp < 40, dev)
        self.assertEqual(by_device["c8252d8e9c2c"][0]["bn"], "urn:dev:mac:c8252d8e9c2c:")
        self.assertIn("pressure", {r["n"] for r in by_device["c8252d8e9c2c"]})
        st = json.loads(run([FIELDGATECTL, "-c", conf, "status", "--json"]).stdout)
        self.assertGreaterEqual(st["ble_decoded"], 3)
        self.assertEqual(st["ble_malformed"], 0)

    def test_decode_ble_by_hand(self):
        out = run([FIELDGATECTL, "decode", "ble", "--service-data", "fcd2:4002c40903bf13"])
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(out.stdout, "service data: 0xfcd2, 7 bytes\nformat: bthome\nreadings:\n"
                                     "  temperature = 25 Cel\n  humidity = 50.55 %RH\n")
        # RuuviTag format 5, the protocol's "valid data" test vector.
        out = run([FIELDGATECTL, "decode", "ble", "--manufacturer-data",
                   "0499:0512FC5394C37C0004FFFC040CAC364200CDCBB8334C884F"])
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertIn("format: ruuvi5\n", out.stdout)
        self.assertIn("  temperature = 24.3 Cel\n", out.stdout)
        # Encrypted BTHome without its key is refused, and says why.
        out = run([FIELDGATECTL, "decode", "ble", "--service-data",
                   "fcd2:41e445f3c9962b332211006c7c4519"])
        self.assertEqual(out.returncode, 1)
        self.assertIn("refused: encrypted, no bindkey", out.stdout)
        out = run([FIELDGATECTL, "decode", "ble", "--service-data",
                   "fcd2:41e445f3c9962b332211006c7c4519", "--bindkey",
                   "231d39c1d7cc1ab1aee224cd096db932", "--address", "54:48:E6:8F:80:A5"])
        self.assertEqual(out.returncode, 0, out.stdout)
        self.assertIn("counter: ", out.stdout)


if __name__ == "__main__":
    unittest.main(verbosity=2)
