#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Rules between the readings and the outbox: simulated readings through a
rule set to a real mosquitto subscriber; LoRaWAN frames with known values
through report by exception, alerts, GPIO (the simulated chip) and windows,
checking the exact published sequence, and a reload keeping rule state;
rule mistakes at --check-config."""
import json
import os
import signal
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from broker import Broker, Subscriber  # noqa: E402
from broker import free_port  # noqa: E402
from fgtest import FIELDGATECTL, Daemon, NotifySocket, run, tempdir  # noqa: E402
from pktfwd import PacketForwarder  # noqa: E402
from test_lora import EUI, GATEWAY, config as lora_config, frame, rxpk  # noqa: E402

RULES = """
rules = (
  { name = "cold-only"; match = "sim/sim-0001/temperature"; drop_if = "value > -100"; },
  { name = "fahrenheit"; match = "sim/sim-0002/temperature"; set = "value * 9 / 5 + 32";
    quantity = "temperature_degF"; unit = ""; },
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
                    # No registered unit for Fahrenheit: no "u", the unit in the name.
                    self.assertEqual(sorted(names), ["battery_level", "temperature_degF"])
                    t = names["temperature_degF"]
                    self.assertNotIn("u", t)
                    self.assertTrue(32 < t["v"] < 100, t)  # simulated 5..35 C
        finally:
            sub.stop()
            broker.stop()

    def test_report_by_exception_alerts_gpio_windows_and_reload(self):
        rules = """
rules = (
  { name = "frost"; match = "lora/soil-1/temperature_1"; when = "value < 0.5";
    alert = { topic = "fieldgate/{gateway}/alerts/frost/{device}"; clear_when = "value > 1.5";
              severity = "critical"; };
    gpio = { chip = "sim"; line = 27; }; },
  { name = "quiet"; match = "lora/soil-1/temperature_1"; deadband = 1.0; },
  { name = "avg"; match = "lora/soil-1/humidity_2"; window = %d; emit = [ "mean", "count" ]; }
);
"""
        broker = Broker(self.dir)
        broker.start()
        sub = Subscriber(broker.port, topic="fieldgate/itest/#")
        port = free_port()
        fwd = None
        fcnt = [0]

        def send(payload_hex):
            fcnt[0] += 1
            self.assertIsNotNone(fwd.push([rxpk(frame(fcnt[0], payload_hex))]), "no PUSH_ACK")

        def temps():
            return [r["v"] for t, p in sub.readings() if "/lora/" in t
                    for r in p if r["n"] == "temperature_1"]

        def alerts():
            return [(t, p["state"], p["value"]) for t, p in sub.readings() if "/alerts/" in t]

        try:
            self.write(lora_config(self.dir, port, broker.port) + rules % 2)
            self.daemon = Daemon(self.conf, notify=self.notify, dry_run=False)
            self.notify.wait_for("READY=1")
            self.daemon.wait_stderr("listening for a packet forwarder", 10)
            fwd = PacketForwarder("127.0.0.1", port, GATEWAY)
            # Cayenne temperature on channel 1, 0.1 C steps: 3.0 0.4 0.3 1.6 1.7 5.0
            for v in ("001e", "0004", "0003", "0010", "0011", "0032"):
                send("0167" + v)
                time.sleep(0.1)  # one frame per commit: the order on the wire is the order sent
            self.assertTrue(sub.wait(lambda s: len(temps()) >= 4 and len(alerts()) >= 2, 15),
                            self.daemon.stderr())
            # Held back: 0.3 (0.1 from 0.4) and 1.7 (0.1 from 1.6).
            self.assertEqual(temps(), [3.0, 0.4, 1.6, 5.0])
            topic = f"fieldgate/itest/alerts/frost/{EUI}"
            self.assertEqual(alerts(), [(topic, "raised", 0.4), (topic, "cleared", 1.6)])
            alert = [p for t, p in sub.readings() if "/alerts/" in t][0]
            self.assertEqual(alert["alert"], "frost")
            self.assertEqual(alert["severity"], "critical")
            self.assertEqual(alert["device"], EUI)
            self.assertEqual(alert["name"], "soil-1")
            self.assertEqual(alert["unit"], "Cel")
            self.assertIsInstance(alert["time"], int)
            # The alert and the readings share the gateway's sequence, in order.
            seqs = [p[0]["seq"] if isinstance(p, list) else p["seq"] for _, p in sub.readings()]
            self.assertEqual(seqs, sorted(seqs))
            # The simulated GPIO line: off at start, on when raised, off when cleared.
            self.daemon.wait_stderr("rule 'frost': gpio sim line 27 set to 1 (raised)")
            self.daemon.wait_stderr("rule 'frost': gpio sim line 27 set to 0 (cleared)")
            # The last alert is retained: a new subscriber gets it at once.
            late = Subscriber(broker.port, topic="fieldgate/itest/alerts/#", client_id="late")
            try:
                self.assertTrue(late.wait(lambda s: len(s.messages) >= 1, 10))
                self.assertEqual(json.loads(late.messages[0][1])["state"], "cleared")
            finally:
                late.stop()
            # Windows: two humidity readings (40 %, 50 %) end up in 2 s windows by the clock.
            send("026850")
            send("026864")

            def window_stats(s):
                return [{r["n"]: r["v"] for r in p} for t, p in s.readings()
                        if isinstance(p, list) and any(r["n"] == "humidity_2_count" for r in p)]
            self.assertTrue(sub.wait(lambda s: sum(w["humidity_2_count"]
                                                   for w in window_stats(s)) >= 2, 15),
                            self.daemon.stderr())
            ws = window_stats(sub)
            self.assertEqual(sum(w["humidity_2_count"] for w in ws), 2)
            self.assertAlmostEqual(sum(w["humidity_2_mean"] * w["humidity_2_count"] for w in ws),
                                   90)
            self.assertFalse(any(r["n"] == "humidity_2" for _, p in sub.readings() for r in p
                                 if isinstance(p, list)))
            # Reload with only the window rule changed: the others keep their state.
            self.write(lora_config(self.dir, port, broker.port) + rules % 3)
            self.daemon.signal(signal.SIGHUP)
            self.daemon.wait_stderr("reloaded")
            send("0167" + "0037")  # 5.5: within the deadband of the 5.0 sent last
            send("0167" + "0002")  # 0.2: raises again (the alert was cleared)
            self.assertTrue(sub.wait(lambda s: len(alerts()) >= 3 and len(temps()) >= 5, 15),
                            self.daemon.stderr())
            self.assertEqual(alerts()[2], (topic, "raised", 0.2))
            self.assertEqual(temps(), [3.0, 0.4, 1.6, 5.0, 0.2])
            st = json.loads(run([FIELDGATECTL, "-c", self.conf, "status", "--json"]).stdout)
            self.assertEqual(st["rules_raised"], 1)
            self.assertEqual(st["rules_suppressed"], 1)
            self.assertEqual(st["gpio"], [{"rule": "frost", "chip": "sim", "line": 27,
                                           "level": 1, "failures": 0}])
        finally:
            if fwd:
                fwd.close()
            sub.stop()
            broker.stop()

    def test_home_assistant_discovery_comes_before_the_first_reading(self):
        broker = Broker(self.dir)
        broker.start()
        sub = Subscriber(broker.port, topic="#")
        try:
            self.write(f"""
gateway = {{ id = "itest"; state_dir = "{self.dir}"; runtime_dir = "{self.dir}";
  trust_system_clock = true; }};
buffer = {{ commit_interval_ms = 50; }};
mqtt = {{ host = "127.0.0.1"; port = {broker.port}; stats_interval = 0;
  homeassistant = true; homeassistant_prefix = "ha"; }};
sources = {{ sim = {{ enabled = true; devices = 1; interval_ms = 50; seed = 5; }}; }};
""")
            self.daemon = Daemon(self.conf, notify=self.notify, dry_run=False)
            self.notify.wait_for("READY=1")

            def readings(s):
                return [i for i, (t, _) in enumerate(s.messages) if t.startswith("fieldgate/")
                        and not t.endswith("/status")]
            self.assertTrue(sub.wait(lambda s: len(readings(s)) >= 3, 15), self.daemon.stderr())
            configs = {t: json.loads(p) for t, p in sub.messages if t.startswith("ha/")}
            topic = "ha/sensor/fieldgate_itest_sim-0001/temperature/config"
            self.assertIn(topic, configs, list(configs))
            cfg = configs[topic]
            self.assertEqual(cfg["state_topic"], "fieldgate/itest/sim/sim-0001")
            self.assertEqual(cfg["unit_of_measurement"], "°C")
            self.assertEqual(cfg["device_class"], "temperature")
            # One config per sensor, each before the first reading that needs it (the
            # gateway device's 12 diagnostic sensors come first, in the first commit).
            first = readings(sub)[0]
            device = [t for t in configs if "/fieldgate_itest_sim-0001/" in t]
            self.assertEqual(len(device), 3, list(configs))
            self.assertEqual(len(configs), 3 + 12, list(configs))
            self.assertTrue(all(i < first for i, (t, _) in enumerate(sub.messages)
                                if t.startswith("ha/")))
            st = json.loads(run([FIELDGATECTL, "-c", self.conf, "status", "--json"]).stdout)
            self.assertEqual(st["discovery_queued"], 3 + 12)
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
