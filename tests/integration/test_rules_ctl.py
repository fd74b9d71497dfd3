#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""fieldgatectl rules test: readings (JSON lines) through the configured rules
offline, printing what the daemon would publish, the alerts and GPIO changes."""
import json
import os
import re
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fgtest import FIELDGATECTL, Daemon, run, sim_config, tempdir  # noqa: E402

T0 = 1764072000000  # ms, on a minute boundary (windows are aligned to UTC)
WINDOW_S = 60

RULES = f"""
rules = (
  {{ name = "plausible"; match = "*/temperature"; drop_if = "value < -40 || value > 85"; }},
  {{ name = "fahrenheit"; match = "sim/greenhouse/temperature"; set = "value * 9 / 5 + 32";
    quantity = "temperature_degF"; unit = ""; }},
  {{ name = "quiet"; match = "sim/*/humidity"; deadband = 2; }},
  {{ name = "soil-avg"; match = "lora/*/moisture"; window = {WINDOW_S};
    emit = [ "mean", "min", "max", "count" ]; }},
  {{ name = "frost"; match = "ble/*/temperature"; when = "value < 0.5";
    alert = {{ topic = "fieldgate/{{gateway}}/alerts/frost/{{device}}"; clear_when = "value > 1.5";
              severity = "critical"; }};
    gpio = {{ chip = "sim"; line = 27; on = 0; off = 1; }}; }}
);
"""

BLE = "A4:C1:38:00:00:01"
SOIL = "a840410000000001"


def reading(device, name, source, quantity, value, unit=None, t=None, frame=0):
    r = {"device": device, "name": name, "source": source, "quantity": quantity, "value": value}
    if unit is not None:
        r["unit"] = unit
    r["time"] = t
    r["frame"] = frame
    return r


# (reading, what the rules make of it), in file order.
READINGS = [
    # One frame of two readings: one message, temperature in Fahrenheit (named so).
    reading("sim-1", "greenhouse", "sim", "temperature", 20, "Cel", T0, 1),
    reading("sim-1", "greenhouse", "sim", "humidity", 50, "%RH", T0, 1),
    # Deadband 2: the first goes on, +1 is held back, +3 (from the last sent) goes on.
    reading("sim-2", "porch", "sim", "humidity", 60, "%RH", T0 + 1000, 2),
    reading("sim-2", "porch", "sim", "humidity", 61, "%RH", T0 + 2000, 3),
    reading("sim-2", "porch", "sim", "humidity", 63, "%RH", T0 + 3000, 4),
    # Two readings into the window [T0, T0 + 60 s).
    reading(SOIL, "soil-1", "lora", "moisture", 30, "%", T0 + 10000, 5),
    reading(SOIL, "soil-1", "lora", "moisture", 34, "%", T0 + 30000, 6),
    # Frost: raised at 0.2.
    reading(BLE, "porch-ble", "ble", "temperature", 0.2, "Cel", T0 + 40000, 7),
    # Implausible: dropped before anything else sees it.
    reading("sim-1", "greenhouse", "sim", "temperature", 99, "Cel", T0 + 50000, 8),
    # After the window's end: it is published first. 1.0 is not above 1.5: still raised.
    reading(BLE, "porch-ble", "ble", "temperature", 1.0, "Cel", T0 + 65000, 9),
    # 2.0 clears it.
    reading(BLE, "porch-ble", "ble", "temperature", 2.0, "Cel", T0 + 70000, 10),
    # Opens the window [T0 + 120 s, T0 + 180 s), still open at the end.
    reading(SOIL, "soil-1", "lora", "moisture", 40, "%", T0 + 125000, 11),
]


def parse_output(text):
    """stdout into ("publish", topic, retained, payload) and ("gpio", line) entries, and the summary."""
    lines = text.splitlines()
    assert lines, "no output"
    out = []
    for line in lines[:-1]:
        if line.startswith("publish "):
            topic, rest = line[len("publish "):].split(" ", 1)
            retained = rest.startswith("retained ")
            if retained:
                rest = rest[len("retained "):]
            out.append(("publish", topic, retained, json.loads(rest)))
        elif line.startswith("gpio "):
            out.append(("gpio", line))
        else:
            raise AssertionError(f"unexpected line {line!r}")
    return out, lines[-1]


def senml(pack):
    """A SenML pack as {name: record}, with the base time."""
    return {r["n"]: r for r in pack}, pack[0].get("bt")


class RulesCtlTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempdir()
        self.dir = self.tmp.name
        self.state = os.path.join(self.dir, "state")
        os.mkdir(self.state)
        self.scratch = os.path.join(self.dir, "tmp")
        os.mkdir(self.scratch)
        self.conf = os.path.join(self.dir, "fieldgate.conf")
        self.readings = os.path.join(self.dir, "readings.jsonl")
        self.env = dict(os.environ, TMPDIR=self.scratch)
        self.env.pop("JOURNAL_STREAM", None)

    def tearDown(self):
        self.tmp.cleanup()

    def write_config(self, rules=RULES):
        with open(self.conf, "w") as f:
            f.write(f'gateway = {{ id = "itest"; state_dir = "{self.state}"; '
                    f'runtime_dir = "{self.dir}"; }};\n{rules}')
        os.chmod(self.conf, 0o600)

    def write_readings(self, lines):
        with open(self.readings, "w") as f:
            for line in lines:
                f.write((line if isinstance(line, str) else json.dumps(line)) + "\n")

    def rules_test(self, *args, **kw):
        r = run([FIELDGATECTL, *args], env=self.env, **kw)
        # The scratch buffer is gone, and the configured one was never made.
        self.assertEqual(os.listdir(self.scratch), [], r.stderr)
        self.assertEqual(os.listdir(self.state), [], r.stderr)
        return r

    def assert_publish(self, entry, topic, retained):
        self.assertEqual(entry[0], "publish", entry)
        self.assertEqual((entry[1], entry[2]), (topic, retained), entry)
        return entry[3]

    def test_readings_go_through_the_rules_as_the_daemon_would(self):
        self.write_config()
        self.write_readings(READINGS)
        r = self.rules_test("rules", "test", "--config", self.conf, self.readings)
        self.assertEqual((r.returncode, r.stderr), (0, ""))
        out, summary = parse_output(r.stdout)
        self.assertEqual(len(out), 11, r.stdout)
        it = iter(out)

        # The greenhouse frame: one message, the temperature in Fahrenheit.
        recs, bt = senml(self.assert_publish(next(it), "fieldgate/itest/sim/sim-1", False))
        self.assertEqual(sorted(recs), ["humidity", "temperature_degF"])
        self.assertEqual(recs["temperature_degF"]["v"], 20 * 9 / 5 + 32)
        self.assertNotIn("u", recs["temperature_degF"])  # no registered unit: it is in the name
        self.assertEqual((recs["humidity"]["v"], recs["humidity"]["u"]), (50, "%RH"))
        self.assertEqual(bt * 1000, T0)

        # Deadband: 60 and 63 go on, 61 is held back.
        for v, t in ((60, T0 + 1000), (63, T0 + 3000)):
            recs, bt = senml(self.assert_publish(next(it), "fieldgate/itest/sim/sim-2", False))
            self.assertEqual(list(recs), ["humidity"])
            self.assertEqual(recs["humidity"]["v"], v)
            self.assertEqual(bt * 1000, t)

        # Frost raised: the retained alert first, then the reading, then the line.
        alert = self.assert_publish(next(it), f"fieldgate/itest/alerts/frost/{BLE}", True)
        self.assertEqual({k: alert[k] for k in ("alert", "state", "severity", "gateway", "source",
                                                "device", "name", "quantity", "value", "unit",
                                                "time")},
                         {"alert": "frost", "state": "raised", "severity": "critical",
                          "gateway": "itest", "source": "ble", "device": BLE, "name": "porch-ble",
                          "quantity": "temperature", "value": 0.2, "unit": "Cel",
                          "time": T0 + 40000})
        recs, _ = senml(self.assert_publish(next(it), f"fieldgate/itest/ble/{BLE}", False))
        self.assertEqual(recs["temperature"]["v"], 0.2)
        self.assertEqual(next(it), ("gpio", "gpio rule 'frost' sim line 27 -> 0 (raised)"))

        # The window, closed at its end before the next reading: stamped with its start.
        recs, bt = senml(self.assert_publish(next(it), f"fieldgate/itest/lora/{SOIL}", False))
        self.assertEqual({n: rec["v"] for n, rec in recs.items()},
                         {"moisture_mean": (30 + 34) / 2, "moisture_min": 30, "moisture_max": 34,
                          "moisture_count": 2})
        self.assertEqual(recs["moisture_mean"].get("u"), "%")
        self.assertNotIn("u", recs["moisture_count"])
        self.assertEqual(bt * 1000, T0)

        # 1.0: still raised (hysteresis), only the reading.
        recs, _ = senml(self.assert_publish(next(it), f"fieldgate/itest/ble/{BLE}", False))
        self.assertEqual(recs["temperature"]["v"], 1.0)

        # 2.0: cleared.
        alert = self.assert_publish(next(it), f"fieldgate/itest/alerts/frost/{BLE}", True)
        self.assertEqual((alert["state"], alert["value"], alert["time"]), ("cleared", 2, T0 + 70000))
        recs, _ = senml(self.assert_publish(next(it), f"fieldgate/itest/ble/{BLE}", False))
        self.assertEqual(recs["temperature"]["v"], 2.0)
        self.assertEqual(next(it), ("gpio", "gpio rule 'frost' sim line 27 -> 1 (cleared)"))

        # Every message has the next sequence number (invariant 2), from 1.
        seqs = [e[3]["seq"] if isinstance(e[3], dict) else e[3][0]["seq"]
                for e in out if e[0] == "publish"]
        self.assertEqual(seqs, list(range(1, len(seqs) + 1)))

        self.assertEqual(summary, f"{len(READINGS)} readings, 9 messages (2 alerts), 1 dropped, "
                                  "1 held back by deadband, 1 window still open")

    def test_the_global_config_option_and_stdin_give_the_same(self):
        self.write_config()
        self.write_readings(READINGS)
        first = self.rules_test("rules", "test", "--config", self.conf, self.readings)
        self.assertEqual(first.returncode, 0, first.stderr)
        second = self.rules_test("-c", self.conf, "rules", "test", self.readings)
        self.assertEqual((second.returncode, second.stderr), (0, ""))
        with open(self.readings) as f:
            third = self.rules_test("-c", self.conf, "rules", "test", "-", stdin=f)
        self.assertEqual((third.returncode, third.stderr), (0, ""))
        # Each run starts afresh: same sequence numbers, same alerts.
        self.assertEqual(second.stdout, first.stdout)
        self.assertEqual(third.stdout, first.stdout)

    def test_bad_lines_are_named_counted_and_skipped(self):
        self.write_config()
        lines = [json.dumps(r) for r in READINGS[:3]]
        lines.insert(1, "{this is not json")
        lines.insert(3, json.dumps({"device": "sim-3", "source": "sim", "quantity": "humidity"}))
        lines.insert(4, "")  # blank: skipped, not bad
        lines.append(json.dumps(dict(READINGS[0], source="mqtt")))
        self.write_readings(lines)
        r = self.rules_test("rules", "test", "--config", self.conf, self.readings)
        self.assertEqual(r.returncode, 1)
        err = r.stderr.splitlines()
        self.assertEqual(len(err), 3, r.stderr)
        self.assertRegex(err[0], r"^%s:2: not JSON: " % re.escape(self.readings))
        self.assertEqual(err[1], '%s:4: "value" is missing' % self.readings)
        self.assertEqual(err[2], "%s:7: \"source\": expected sim, lora, ble or gateway, got 'mqtt'"
                         % self.readings)
        # The good readings went through all the same.
        out, summary = parse_output(r.stdout)
        self.assertEqual([e[1] for e in out],
                         ["fieldgate/itest/sim/sim-1", "fieldgate/itest/sim/sim-2"])
        recs, _ = senml(out[0][3])
        self.assertEqual(sorted(recs), ["humidity", "temperature_degF"])
        self.assertEqual(summary, "3 readings, 2 messages (0 alerts), 0 dropped, "
                                  "0 held back by deadband, 0 windows still open, 3 bad lines")

    def test_a_line_over_64_kib_is_refused(self):
        self.write_config()
        long = dict(READINGS[0], padding="x" * (64 * 1024))
        self.write_readings([long, READINGS[2]])
        r = self.rules_test("rules", "test", "--config", self.conf, self.readings)
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stderr, "%s:1: line longer than 65536 bytes\n" % self.readings)
        out, summary = parse_output(r.stdout)
        self.assertEqual([e[1] for e in out], ["fieldgate/itest/sim/sim-2"])
        self.assertTrue(summary.startswith("1 reading, 1 message (0 alerts)"), summary)

    def test_readings_without_time_keep_the_time_before_them(self):
        self.write_config()
        untimed = dict(reading(SOIL, "soil-1", "lora", "moisture", 20, "%", None, 2))
        self.write_readings([
            reading(SOIL, "soil-1", "lora", "moisture", 10, "%", T0 + 5000, 1),
            untimed,  # at T0 + 5 s: the same window (the real clock is long past it)
            reading(SOIL, "soil-1", "lora", "moisture", 30, "%", T0 + WINDOW_S * 1000 + 1000, 3),
        ])
        r = self.rules_test("rules", "test", "--config", self.conf, self.readings)
        self.assertEqual((r.returncode, r.stderr), (0, ""))
        out, summary = parse_output(r.stdout)
        self.assertEqual(len(out), 1, r.stdout)
        recs, bt = senml(self.assert_publish(out[0], f"fieldgate/itest/lora/{SOIL}", False))
        self.assertEqual((recs["moisture_count"]["v"], recs["moisture_mean"]["v"]), (2, 15))
        self.assertEqual(bt * 1000, T0)
        self.assertTrue(summary.endswith(", 1 window still open"), summary)

    def test_a_frame_over_64_readings_is_split(self):
        self.write_config("")
        self.write_readings([reading("sim-9", "big", "sim", f"q{i}", i, None, T0, 5)
                             for i in range(70)])
        r = self.rules_test("rules", "test", "--config", self.conf, self.readings)
        self.assertEqual((r.returncode, r.stderr), (0, ""))
        out, summary = parse_output(r.stdout)
        self.assertEqual([len(e[3]) for e in out], [64, 6])
        names = [rec["n"] for e in out for rec in e[3]]
        self.assertEqual(names, [f"q{i}" for i in range(70)])
        self.assertEqual(summary, "70 readings, 2 messages (0 alerts), 0 dropped, "
                                  "0 held back by deadband, 0 windows still open")

    def test_what_the_daemon_prints_in_a_dry_run_reads_back(self):
        # fieldgated --dry-run writes readings with fg_reading_to_json: the input this command is for.
        daemon_conf = os.path.join(self.dir, "daemon.conf")
        with open(daemon_conf, "w") as f:
            f.write(sim_config(self.state, devices=2, interval_ms=50))
        with open(self.conf, "w") as f:
            f.write(sim_config(self.state, devices=2, interval_ms=50) + """
rules = ( { name = "no-temp"; match = "sim/sim-0001/temperature"; drop_if = "value > -100"; } );
""")
        daemon = Daemon(daemon_conf)
        try:
            daemon.readings(30)
        finally:
            daemon.kill()
        lines = daemon.out.decode().splitlines(keepends=True)
        if not lines[-1].endswith("\n"):
            lines.pop()  # cut off by the kill
        for name in os.listdir(self.state):  # the daemon's own files: not ours to check
            os.unlink(os.path.join(self.state, name))
        with open(self.readings, "w") as f:
            f.writelines(lines)
        readings = [json.loads(line) for line in lines]
        frames = []
        for r in readings:
            key = (r["source"], r["device"], r["frame"])
            if not frames or frames[-1] != key:
                frames.append(key)
        r = self.rules_test("rules", "test", "--config", self.conf, self.readings)
        self.assertEqual((r.returncode, r.stderr), (0, ""))
        out, summary = parse_output(r.stdout)
        # One message per frame (none is wholly dropped: humidity and battery stay).
        self.assertEqual([e[1] for e in out], [f"fieldgate/itest/sim/{d}" for _, d, _ in frames])
        dropped = 0
        for e, (_, device, frame) in zip(out, frames):
            recs, bt = senml(e[3])
            sent = [x for x in readings if (x["device"], x["frame"]) == (device, frame)]
            kept = [x for x in sent if device != "sim-0001" or x["quantity"] != "temperature"]
            dropped += len(sent) - len(kept)
            self.assertEqual(sorted(recs), sorted(x["quantity"] for x in kept))
            for x in kept:
                self.assertAlmostEqual(recs[x["quantity"]]["v"], x["value"])
            self.assertEqual(round(bt * 1000), sent[0]["time"])
        self.assertGreater(dropped, 0)
        self.assertEqual(summary, f"{len(readings)} readings, {len(frames)} messages (0 alerts), "
                                  f"{dropped} dropped, 0 held back by deadband, 0 windows still open")

    def test_a_config_with_errors_is_refused(self):
        self.write_config("""
rules = (
  { name = "typo"; match = "*/temperature";
    drop_if = "vlaue > 85"; }
);
""")
        self.write_readings(READINGS)
        with open(self.conf) as f:
            line = next(i for i, text in enumerate(f, 1) if "vlaue" in text)
        r = self.rules_test("rules", "test", "--config", self.conf, self.readings)
        self.assertEqual((r.returncode, r.stdout), (1, ""))
        self.assertRegex(r.stderr, r"^%s:%d: rules: rule 'typo': drop_if, column 1: unknown "
                                   r"variable 'vlaue'" % (re.escape(self.conf), line))
        self.assertTrue(r.stderr.endswith("fieldgatectl: cannot use configuration '%s'\n" % self.conf),
                        r.stderr)

    def test_usage(self):
        self.write_config()
        for args in (["rules"], ["rules", "frobnicate"], ["rules", "test"],
                     ["rules", "test", "a.jsonl", "b.jsonl"], ["rules", "test", "--bogus", "a"]):
            r = self.rules_test("-c", self.conf, *args)
            self.assertEqual((r.returncode, r.stdout), (2, ""), args)
            self.assertIn("fieldgatectl: usage: rules test [--config FILE] [--json] READINGS.jsonl|-\n",
                          r.stderr, args)
        missing = os.path.join(self.dir, "nope.jsonl")
        r = self.rules_test("-c", self.conf, "rules", "test", missing)
        self.assertEqual(r.returncode, 1)
        self.assertIn("cannot open '%s'" % missing, r.stderr)
        r = run([FIELDGATECTL, "--help"])
        self.assertIn("rules test", r.stdout)


if __name__ == "__main__":
    unittest.main(verbosity=2)
