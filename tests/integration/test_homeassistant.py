# SPDX-License-Identifier: GPL-3.0-or-later
"""Home Assistant discovery against a real broker and the real daemon.

Every config a subscriber to homeassistant/# receives is checked against the
rules Home Assistant has today: no object_id (ignored from 2026.4) but
default_entity_id, availability on the gateway's status with its Last Will,
value templates that keep the state when a message lacks their quantity
(rendered with Jinja2 when python3-jinja2 is installed), origin, via_device
naming a device that is announced. Then: Home Assistant's birth message has
everything announced again; a device removed from the configuration has its
configs cleared (SIGHUP, and a restart); kill -9 makes the broker deliver the
Last Will, "offline", on the availability topic.
"""
import json
import os
import signal
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from broker import Broker, Subscriber  # noqa: E402
from fgtest import DaemonTestCase, mqtt_block  # noqa: E402

try:
    import jinja2
except ImportError:  # the rendering checks are skipped, the rest runs
    jinja2 = None

PREFIX = "homeassistant"
STATUS = "fieldgate/itest/status"
STATS = "fieldgate/itest/stats"
GATEWAY_KEYS = {"uptime_s", "buffer_depth", "oldest_age_s", "disk_free", "db_bytes",
                "readings_per_s", "published_per_s", "evicted", "dropped", "broker",
                "clock_synchronized", "version"}


class This:
    """What Home Assistant gives a template as `this`: the entity's current state."""

    def __init__(self, state):
        self.state = state


def render(template, payload, state="21.5"):
    """Render a value template as Home Assistant does for a JSON payload."""
    env = jinja2.Environment(undefined=jinja2.StrictUndefined)
    try:
        value_json = json.loads(payload)
    except ValueError:
        value_json = None
    return env.from_string(template).render(value=payload, value_json=value_json,
                                            this=This(state))


def check_config(case, topic, cfg):
    """The schema rules every config of ours follows."""
    case.assertNotIn("object_id", cfg, topic)
    domain = topic.split("/")[1]
    case.assertIn(domain, ("sensor", "binary_sensor"), topic)
    case.assertTrue(cfg["default_entity_id"].startswith(domain + "."), cfg)
    case.assertRegex(cfg["default_entity_id"], r"^[a-z_]+\.[a-z0-9_]+$")
    case.assertTrue(cfg["unique_id"])
    case.assertEqual(cfg["availability"], [{
        "topic": STATUS, "value_template": "{{ value_json.state }}",
        "payload_available": "online", "payload_not_available": "offline"}])
    case.assertEqual(cfg["origin"]["name"], "fieldgate")
    case.assertTrue(cfg["origin"]["sw_version"])
    case.assertTrue(cfg["device"]["identifiers"])
    if cfg.get("device_class") == "wind_direction":
        case.assertEqual(cfg["state_class"], "measurement_angle")
    if domain == "binary_sensor":
        case.assertEqual((cfg["payload_on"], cfg["payload_off"]), ("true", "false"))


class HomeAssistantTest(DaemonTestCase):
    def conf_text(self, devices):
        return f"""
gateway = {{ id = "itest"; state_dir = "{self.dir}"; runtime_dir = "{self.dir}";
  trust_system_clock = true; }};
{mqtt_block(self.broker.port, 'homeassistant = true; keepalive = "5s";', stats_interval="1s")}
sources = {{ sim = {{ enabled = true; devices = {devices}; interval_ms = 100; seed = 3; }}; }};
rules = ( {{ name = "quiet"; match = "*/temperature"; deadband = 0.5; heartbeat = 900; }} );
"""

    def configs(self, sub, since=0):
        """The latest config per topic among messages since index `since` ("" when cleared)."""
        out = {}
        for t, p in sub.messages[since:]:
            if t.startswith(PREFIX + "/") and t.endswith("/config"):
                out[t] = p
        return out

    def device_topics(self, device):
        return {f"{PREFIX}/sensor/fieldgate_itest_{device}/{q}/config"
                for q in ("temperature", "humidity", "battery")}

    def gateway_topics(self):
        return {f"{PREFIX}/{'binary_sensor' if k == 'clock_synchronized' else 'sensor'}"
                f"/fieldgate_itest/{k}/config" for k in GATEWAY_KEYS}

    def retained(self, topic_filter="homeassistant/#"):
        """What a new subscriber gets retained: topic -> payload (mosquitto_sub --retained-only)."""
        out = subprocess.run(
            ["mosquitto_sub", "-h", "127.0.0.1", "-p", str(self.broker.port), "-t", topic_filter,
             "--retained-only", "-W", "2", "-F", "%t\t%p"],
            capture_output=True, text=True, timeout=30)
        got = {}
        for line in out.stdout.splitlines():
            t, _, p = line.partition("\t")
            got[t] = p
        return got

    def test_discovery_in_real_use(self):
        self.broker = Broker(self.dir)
        self.broker.start()
        self.sub = Subscriber(self.broker.port, topic=f"{PREFIX}/#", client_id="itest-ha",
                              extra=("-t", "fieldgate/#"))
        self.write_conf(self.conf_text(3))
        d = self.start_daemon()

        want = set().union(*(self.device_topics(f"sim-000{i}") for i in (1, 2, 3)),
                           self.gateway_topics())
        self.assertTrue(self.sub.wait(lambda s: want <= set(self.configs(s)), 20),
                        (sorted(want - set(self.configs(self.sub))), d.stderr()))
        configs = {t: json.loads(p) for t, p in self.configs(self.sub).items()}
        self.assertEqual(set(configs), want)
        # The gateway device before any device that names it as via_device.
        first = {}
        for i, (tp, _) in enumerate(self.sub.messages):
            first.setdefault(tp, i)
        self.assertLess(max(first[t] for t in self.gateway_topics()),
                        min(first[t] for t in want - self.gateway_topics()))

        # The schema rules, and via_device naming a device that is announced.
        devices = {i for c in configs.values() for i in c["device"]["identifiers"]}
        for topic, cfg in configs.items():
            check_config(self, topic, cfg)
            if "/fieldgate_itest/" in topic:
                self.assertEqual(cfg["device"]["identifiers"], ["fieldgate_itest"])
                self.assertEqual(cfg["entity_category"], "diagnostic")
                self.assertEqual(cfg["state_topic"], STATS)
                self.assertEqual(cfg["device"]["sw_version"], cfg["origin"]["sw_version"])
            else:
                self.assertEqual(cfg["device"]["via_device"], "fieldgate_itest")
                self.assertIn(cfg["device"]["via_device"], devices)
                self.assertTrue(cfg["state_topic"].startswith("fieldgate/itest/sim/"))
        t = configs[f"{PREFIX}/sensor/fieldgate_itest_sim-0001/temperature/config"]
        self.assertEqual(t["default_entity_id"], "sensor.sim_0001_temperature")
        self.assertEqual((t["unit_of_measurement"], t["device_class"], t["state_class"]),
                         ("°C", "temperature", "measurement"))

        # The availability topic says online (retained), as the template reads it.
        self.assertTrue(self.sub.wait(lambda s: any(
            tp == STATUS and json.loads(p)["state"] == "online" for tp, p in s.messages), 10))
        # Stats arrive on the gateway sensors' state topic.
        self.assertTrue(self.sub.wait(lambda s: any(tp == STATS for tp, _ in s.messages), 10))
        # Readings, some without temperature (the deadband holds it back).
        self.assertTrue(self.sub.wait(lambda s: sum(
            1 for tp, _ in s.messages if tp.startswith("fieldgate/itest/sim/")) >= 30, 20))

        if jinja2:
            readings = [(tp, p) for tp, p in self.sub.messages
                        if tp.startswith("fieldgate/itest/sim/")]
            lacking = 0
            for topic, cfg in configs.items():
                tmpl = cfg["value_template"]
                for tp, p in readings:
                    if tp != cfg["state_topic"]:
                        continue
                    names = {rec.get("n") for rec in json.loads(p)}
                    out = render(tmpl, p)
                    if cfg["name"] in names:
                        float(out)  # the value itself
                    else:
                        lacking += 1
                        self.assertEqual(out, "", (tmpl, p))  # HA keeps the state
                # A message of the device that holds none of its quantities.
                if not cfg["state_topic"] == STATS:
                    self.assertEqual(render(tmpl, '[{"bn":"x","n":"other","v":1}]'), "")
                else:
                    stats = [p for tp, p in self.sub.messages if tp == STATS][-1]
                    key = topic.split("/")[-2]
                    out = render(tmpl, stats, state="kept")
                    if key in json.loads(stats):
                        self.assertNotEqual(out, "")
                    else:
                        self.assertIn(out, ("", "kept"), (tmpl, stats))
                    self.assertIn(render(tmpl, "{}", state="kept"), ("", "kept"))
                avail = cfg["availability"][0]
                self.assertEqual(render(avail["value_template"],
                                        '{"state":"offline","gateway":"itest"}'), "offline")
            self.assertGreater(lacking, 0, "no reading left a quantity out: deadband not seen")

        # Home Assistant's birth message: everything announced again.
        mark = len(self.sub.messages)
        subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(self.broker.port), "-t",
                        f"{PREFIX}/status", "-m", "online"], check=True, timeout=30)
        self.assertTrue(self.sub.wait(lambda s: want <= set(self.configs(s, mark)), 20),
                        (sorted(want - set(self.configs(self.sub, mark))), d.stderr()))
        self.assertEqual({t: json.loads(p) for t, p in self.configs(self.sub, mark).items()},
                         configs)
        d.wait_stderr("Home Assistant is online: %d discovery configs announced again"
                      % len(want))

        # A device removed from the configuration, SIGHUP: its configs are cleared.
        mark = len(self.sub.messages)
        self.write_conf(self.conf_text(2))
        d.signal(signal.SIGHUP)
        gone = self.device_topics("sim-0003")
        self.assertTrue(self.sub.wait(lambda s: all(
            self.configs(s, mark).get(t) == "" for t in gone), 20),
            (self.configs(self.sub, mark), d.stderr()))
        kept = self.retained()
        self.assertFalse(gone & set(kept), kept)
        self.assertTrue(self.device_topics("sim-0002") <= set(kept), kept)

        # kill -9: the broker delivers the Last Will on the availability topic.
        mark = len(self.sub.messages)
        d.proc.send_signal(signal.SIGKILL)
        d.proc.wait(timeout=10)
        self.assertTrue(self.sub.wait(lambda s: any(
            tp == STATUS and json.loads(p)["state"] == "offline"
            for tp, p in s.messages[mark:]), 20), self.broker.log()[-2000:])
        self.assertEqual(json.loads(self.retained(STATUS)[STATUS])["state"], "offline")
        if jinja2:
            avail = configs[f"{PREFIX}/sensor/fieldgate_itest_sim-0001/temperature/config"][
                "availability"][0]
            self.assertEqual(render(avail["value_template"], self.retained(STATUS)[STATUS]),
                             avail["payload_not_available"])

        # Restart with one device fewer: cleared at start, the others stay.
        d.kill()
        mark = len(self.sub.messages)
        self.write_conf(self.conf_text(1))
        d = self.start_daemon()
        gone = self.device_topics("sim-0002")
        self.assertTrue(self.sub.wait(lambda s: all(
            self.configs(s, mark).get(t) == "" for t in gone), 20),
            (self.configs(self.sub, mark), d.stderr()))
        self.assertTrue(self.sub.wait(lambda s: any(
            tp == STATUS and json.loads(p)["state"] == "online"
            for tp, p in s.messages[mark:]), 10))
        kept = self.retained()
        self.assertEqual(set(kept), self.device_topics("sim-0001") | self.gateway_topics(), kept)

    def test_a_broker_that_lost_everything_gets_it_all_back_at_the_birth_message(self):
        """The subscription to homeassistant/status is renewed at reconnect: a broker
        restarted without persistence forgets our session, the retained configs and status."""
        self.broker = Broker(self.dir, persistence=False)
        self.broker.start()
        self.write_conf(self.conf_text(1))
        d = self.start_daemon()
        want = self.device_topics("sim-0001") | self.gateway_topics()
        self.sub = Subscriber(self.broker.port, topic=f"{PREFIX}/#", client_id="itest-ha1")
        self.assertTrue(self.sub.wait(lambda s: want <= set(self.configs(s)), 20), d.stderr())
        self.sub.stop()

        self.broker.stop()
        self.broker.start()
        self.assertEqual(self.retained(), {})
        # Wait for the reconnect: the status is retained again once we are back.
        self.sub = Subscriber(self.broker.port, topic=f"{PREFIX}/#", client_id="itest-ha2",
                              extra=("-t", STATUS))
        self.assertTrue(self.sub.wait(lambda s: any(
            tp == STATUS and json.loads(p)["state"] == "online" for tp, p in s.messages), 90),
            d.stderr())
        self.assertEqual(self.configs(self.sub), {})
        subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(self.broker.port), "-t",
                        f"{PREFIX}/status", "-m", "online"], check=True, timeout=30)
        self.assertTrue(self.sub.wait(lambda s: want <= set(self.configs(s)), 20),
                        (sorted(want - set(self.configs(self.sub))), d.stderr()))
        self.assertEqual(set(self.retained()), want)
        line = "Home Assistant is online: %d discovery configs announced again" % len(want)
        d.wait_stderr(line)

if __name__ == "__main__":
    unittest.main(verbosity=2)
