#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Rules between the readings and the outbox: simulated readings through a
rule set to a real mosquitto subscriber; rule mistakes at --check-config."""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from broker import Broker, Subscriber  # noqa: E402
from fgtest import FIELDGATECTL, Daemon, NotifySocket, run, tempdir  # noqa: E402

RULES = """
rules = (
  { name = "cold-only"; match = "sim/sim-0001/temperature"; drop_if = "value > -100"; },
  { name = "fahrenheit"; match = "sim/sim-0002/temperature"; set = "value * 9 / 5 + 32";
    unit = "Fel"; },
  { name = "rename"; match = "sim/*/battery"; quantity = "battery_level"; },
  { name = "humid-drop"; match = "sim/sim-0002/humidity"; drop_if = "value >= 0"; }
);
"""


class RulesTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempdir()
        self.dir = self.tmp.name
        self.conf = os.path.join(self.dir, "fieldgate.conf")
        self.notify = NotifySocket(self.dir)
        self.daemon = None

    def tearDown(self):
        if self.daemon:
            self.daemon.kill()
        self.notify.close()
        self.tmp.cleanup()

    def write(self, text):
        with open(self.conf, "w") as f:
            f.write(text)
        os.chmod(self.conf, 0o600)

    def test_readings_go_through_the_rules(self):
        broker = Broker(self.dir)
        broker.start()
        sub = Subscriber(broker.port, topic="fieldgate/itest/sim/#")
        try:
            self.write(f"""
gateway = {{ id = "itest"; state_dir = "{self.dir}"; runtime_dir = "{self.dir}";
  trust_system_clock = true; }};
buffer = {{ commit_interval_ms = 50; }};
mqtt = {{ host = "127.0.0.1"; port = {broker.port}; stats_interval = 0; }};
sources = {{ sim = {{ enabled = true; devices = 2; interval_ms = 50; seed = 5; }}; }};
{RULES}""")
            self.daemon = Daemon(self.conf, notify=self.notify, dry_run=False)
            self.notify.wait_for("READY=1")
            self.assertTrue(sub.wait(lambda s: len(s.readings()) >= 10, 15), self.daemon.stderr())
            for topic, pack in sub.readings():
                device = topic.rsplit("/", 1)[1]
                names = {r["n"]: r for r in pack}
                self.assertIn("battery_level", names, pack)
                self.assertNotIn("battery", names)
                if device == "sim-0001":
                    # Every temperature dropped; humidity and battery stay.
                    self.assertEqual(sorted(names), ["battery_level", "humidity"])
                else:
                    self.assertEqual(sorted(names), ["battery_level", "temperature"])
                    t = names["temperature"]
                    self.assertEqual(t["u"], "Fel")
                    self.assertTrue(32 < t["v"] < 100, t)  # simulated 5..35 C
        finally:
            sub.stop()
            broker.stop()

    def test_a_rule_mistake_names_file_line_rule_and_column(self):
        self.write("""
rules = (
  { name = "ok"; match = "*/temperature"; drop_if = "value > 85"; },
  { name = "typo"; match = "*/temperature";
    drop_if = "vlaue > 85"; }
);
""")
        out = run([FIELDGATECTL, "check-config", self.conf])
        self.assertEqual(out.returncode, 1)
        self.assertRegex(out.stderr, r"fieldgate.conf:5: rules: rule 'typo': drop_if, column 1: "
                                     r"unknown variable 'vlaue'")


if __name__ == "__main__":
    unittest.main(verbosity=2)
