#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The health record (issue 13, items 1 and 2): its schema, checked by a real
JSON Schema validator against man/fieldgate-health.schema.json, from a running
daemon in each state (broker down, clock unsynchronized, disk nearly full) and
from the buffer file; the retained QoS 1 stats message a new subscriber gets;
the metrics text, parsed by prometheus_client's parser; the textfile."""
import json
import os
import signal
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from broker import Broker, Subscriber, free_port  # noqa: E402
from fgtest import FIELDGATECTL, SRCDIR, DaemonTestCase, run, sim_config  # noqa: E402
from test_disk_full import avail, mount_tmpfs, umount  # noqa: E402

import jsonschema  # noqa: E402  python3-jsonschema
from prometheus_client.parser import text_string_to_metric_families  # noqa: E402

with open(os.path.join(SRCDIR, "man", "fieldgate-health.schema.json")) as f:
    SCHEMA = json.load(f)
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)

# The keys the Home Assistant diagnostic sensors read from the stats topic.
HA_KEYS = ("uptime_s", "buffer_depth", "oldest_age_s", "disk_free", "db_bytes", "readings_per_s",
           "published_per_s", "evicted", "dropped", "broker", "clock_synchronized", "version")
# What only the daemon knows may be null from the file, never from the daemon.
NULLABLE_FROM_DAEMON = {"time_ms", "sx130x_eui", "sx130x_temperature", "first_ack_mono_ms",
                        "last_ack_mono_ms"}


def check_record(test, rec, running=True):
    """rec is a valid health record, as the daemon (or the buffer file) makes it."""
    errors = [f"{'/'.join(map(str, e.path))}: {e.message}" for e in VALIDATOR.iter_errors(rec)]
    test.assertEqual(errors, [], rec)
    test.assertIs(rec["running"], running)
    for k in HA_KEYS:
        test.assertIn(k, rec)
    test.assertIsInstance(rec["clock_synchronized"], bool)
    if running:
        nulls = {k for k, v in rec.items() if v is None} - NULLABLE_FROM_DAEMON
        test.assertEqual(nulls, set(), rec)
        test.assertEqual(rec["evicted"], sum(rec["evictions"].values()))
        test.assertEqual(rec["dropped"], sum(rec["drops"].values()))
        test.assertEqual(rec["evicted_disk"], rec["evictions"]["disk"])


def check_acks(test, rec, started, now):
    """The first and latest PUBACK of a daemon that has had some: on CLOCK_MONOTONIC (as
    time.monotonic()), in order, between started and now (seconds, taken around the daemon)."""
    first, last = rec["first_ack_mono_ms"], rec["last_ack_mono_ms"]
    test.assertIsInstance(first, int, rec)
    test.assertIsInstance(last, int, rec)
    test.assertLessEqual(int(started * 1000), first)
    test.assertLessEqual(first, last)
    test.assertLessEqual(last, now * 1000)


def metrics(text):
    """The families prometheus_client's parser reads from text, by name."""
    return {f.name: f for f in text_string_to_metric_families(text)}


def sample(fams, family, **labels):
    for s in fams[family].samples:
        if all(s.labels.get(k) == v for k, v in labels.items()):
            return s.value
    raise KeyError((family, labels))


class HealthTest(DaemonTestCase):
    def conf_text(self, port, extra="", mqtt_extra="", sim_extra=""):
        return sim_config(self.dir, devices=2, interval_ms=100) + f"""
mqtt = {{ host = "127.0.0.1"; port = {port}; stats_interval = "1s"; {mqtt_extra} }};
buffer = {{ commit_interval_ms = 50; }};
{extra}
"""

    def status(self, *args, code=0):
        r = run([FIELDGATECTL, "-c", self.conf, "status", "--json", *args])
        self.assertEqual(r.returncode, code, r.stdout + r.stderr)
        return json.loads(r.stdout)

    def wait_status(self, pred, timeout, what):
        deadline = time.monotonic() + timeout
        while True:
            st = self.status()
            if pred(st):
                return st
            if time.monotonic() > deadline:
                self.fail(f"{what} not within {timeout}s: {st}; {self.daemon.stderr()}")
            self.daemon.pump(0.2)

    def test_record_with_the_broker_down_and_from_the_file_has_one_schema(self):
        self.write_conf(self.conf_text(free_port()))
        d = self.start_daemon()
        st = self.wait_status(lambda s: s["broker_failures"] > 0 and s["readings_in"] > 0, 20,
                              "a refused connection")
        check_record(self, st)
        self.assertIn(st["broker"], ("connecting", "waiting to reconnect"))
        self.assertEqual((st["schema"], st["gateway"], st["connects"]), (1, "itest", 0))
        self.assertEqual((st["first_ack_mono_ms"], st["last_ack_mono_ms"]), (None, None))
        self.assertRegex(st["boot_id"], r"^[0-9a-f]{32}$")
        self.assertEqual(st["sources"]["sim"]["state"], "running")
        self.assertGreater(st["sources"]["sim"]["received"], 0)
        self.assertEqual(st["sources"]["gwmp"]["state"], "off")
        # Plain status is for people.
        r = run([FIELDGATECTL, "-c", self.conf, "status"])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("daemon: running", r.stdout)
        self.assertRegex(r.stdout, r"buffer: \d+ messages waiting")
        d.signal(signal.SIGTERM)
        self.assertEqual(d.wait_exit(10), 0, d.stderr())
        # No daemon: the buffer file's part of the same record, exit 3.
        fst = self.status(code=3)
        check_record(self, fst, running=False)
        self.assertEqual(set(fst) - {"next_seq"}, set(st))
        self.assertEqual(fst["gateway"], "itest")
        self.assertGreater(fst["buffer_depth"], 0)
        self.assertIsNone(fst["readings_in"])
        self.assertIsNone(fst["sources"]["sim"]["received"])
        r = run([FIELDGATECTL, "-c", self.conf, "status"])
        self.assertEqual(r.returncode, 3, r.stderr)
        self.assertIn("not answering", r.stderr)
        self.assertIn("daemon: not running", r.stdout)
        # Neither the daemon nor a configuration: nothing to answer from, still 3.
        r = run([FIELDGATECTL, "-c", os.path.join(self.dir, "none.conf"), "-s",
                 os.path.join(self.dir, "none.sock"), "status", "--json"])
        self.assertEqual(r.returncode, 3, r.stderr)
        self.assertEqual(r.stdout, "")

    def test_record_says_when_the_clock_is_not_synchronized(self):
        sync = os.path.join(self.dir, "synchronized")
        conf = self.conf_text(free_port()).replace("trust_system_clock = true;",
                                                   "trust_system_clock = false;")
        self.write_conf(conf)
        self.start_daemon(env={"FIELDGATE_CLOCK_SYNC_FILE": sync})
        st = self.status()
        check_record(self, st)
        self.assertIs(st["clock_synchronized"], False)
        self.assertIsNone(st["time_ms"])  # never a 1970 (or any unsynchronized) time
        open(sync, "w").close()
        st = self.wait_status(lambda s: s["clock_synchronized"], 10, "the clock known")
        check_record(self, st)
        self.assertGreater(st["time_ms"], 1_600_000_000_000)

    def tearDown(self):
        # The daemon goes before the small filesystem it writes on, and that before the directory.
        if self.daemon:
            self.daemon.kill()
            self.daemon = None
        if getattr(self, "mounted", None):
            umount(self.mounted)
        super().tearDown()

    def test_record_on_a_nearly_full_disk(self):
        state = os.path.join(self.dir, "state")
        os.mkdir(state)
        why = mount_tmpfs(state, "6m")
        if why:
            self.skipTest(why)
        self.mounted = state
        # Leave about 1.2 MiB: past the buffer's 1 MiB reserve within a few hundred messages.
        with open(os.path.join(state, "filler"), "wb") as f:
            f.write(b"\0" * (avail(state) - 1200 * 1024))
        conf = self.conf_text(free_port(), extra='buffer = { commit_interval_ms = 50; '
                              'min_free = 0; };').replace(
            "buffer = { commit_interval_ms = 50; };\n", "")
        conf = conf.replace(f'state_dir = "{self.dir}"', f'state_dir = "{state}"')
        self.write_conf(conf)
        self.start_daemon()
        st = self.wait_status(lambda s: s["evictions"]["disk"] > 0, 90, "a disk-full eviction")
        check_record(self, st)
        self.assertLess(st["disk_free"], 2 * 1024 * 1024)
        self.assertEqual(st["evicted"], st["evictions"]["disk"])
        fams = metrics(run([FIELDGATECTL, "-c", self.conf, "metrics"]).stdout)
        self.assertGreater(sample(fams, "fieldgate_evicted", cause="disk"), 0)
        self.assertLess(sample(fams, "fieldgate_buffer_disk_free_bytes"), 2 * 1024 * 1024)

    def test_stats_are_retained_at_qos_1_for_a_new_subscriber(self):
        self.broker = Broker(self.dir)
        self.broker.start()
        self.write_conf(self.conf_text(self.broker.port))
        self.start_daemon()
        self.sub = Subscriber(self.broker.port, topic="fieldgate/itest/stats")
        self.assertTrue(self.sub.wait(lambda s: len(s.messages) >= 1, 15), self.daemon.stderr())
        # A subscriber that comes later gets the last record at once, as a retained message.
        r = subprocess.run(["mosquitto_sub", "-h", "127.0.0.1", "-p", str(self.broker.port),
                            "-t", "fieldgate/itest/stats", "-q", "1", "-C", "1", "-W", "10",
                            "-i", "itest-late", "-F", "%r\t%q\t%p"],
                           capture_output=True, text=True, timeout=20)
        self.assertEqual(r.returncode, 0, r.stderr)
        retained, qos, payload = r.stdout.rstrip("\n").split("\t", 2)
        self.assertEqual((retained, qos), ("1", "1"))
        rec = json.loads(payload)
        check_record(self, rec)
        self.assertEqual(rec["broker"], "connected")
        self.assertGreaterEqual(rec["connects"], 1)

    def test_stats_topic_is_configurable(self):
        self.broker = Broker(self.dir)
        self.broker.start()
        self.write_conf(self.conf_text(self.broker.port,
                                       mqtt_extra='stats_topic = "site/{gateway}/health";'))
        self.start_daemon()
        self.sub = Subscriber(self.broker.port, topic="site/#")
        self.assertTrue(self.sub.wait(lambda s: any(t == "site/itest/health" for t, _ in s.messages),
                                      15), self.daemon.stderr())
        check_record(self, json.loads([p for t, p in self.sub.messages if t == "site/itest/health"][-1]))

    def test_stats_topic_takes_only_the_gateway_placeholder(self):
        self.write_conf(self.conf_text(1, mqtt_extra='stats_topic = "x/{device}/stats";'))
        r = run([FIELDGATECTL, "check-config", self.conf])
        self.assertEqual(r.returncode, 1)
        self.assertIn("mqtt.stats_topic", r.stderr)
        self.assertIn("only {gateway}", r.stderr)

    def test_metrics_parse_as_prometheus_text_and_agree_with_the_record(self):
        self.broker = Broker(self.dir)
        self.broker.start()
        self.write_conf(self.conf_text(self.broker.port))
        started = time.monotonic()
        self.start_daemon()
        st = self.wait_status(lambda s: s["published"] > 0, 20, "published messages")
        check_record(self, st)
        check_acks(self, st, started, time.monotonic())
        # More acks: the first stays, the latest moves on.
        st2 = self.wait_status(lambda s: s["published"] > st["published"], 20, "more acks")
        check_acks(self, st2, started, time.monotonic())
        self.assertEqual(st2["first_ack_mono_ms"], st["first_ack_mono_ms"])
        self.assertGreaterEqual(st2["last_ack_mono_ms"], st["last_ack_mono_ms"])
        r = run([FIELDGATECTL, "-c", self.conf, "metrics"])
        self.assertEqual(r.returncode, 0, r.stderr)
        fams = metrics(r.stdout)
        # Names, types, units, the prefix; counters' samples end _total.
        for name, f in fams.items():
            self.assertTrue(name.startswith("fieldgate_"), name)
            self.assertTrue(f.documentation, name)
            for s in f.samples:
                if f.type == "counter":
                    self.assertTrue(s.name.endswith("_total"), s.name)
                else:
                    self.assertFalse(s.name.endswith("_total"), s.name)
        self.assertEqual(sample(fams, "fieldgate_up"), 1)
        self.assertEqual(sample(fams, "fieldgate_info", version=st["version"], gateway="itest"), 1)
        self.assertEqual(fams["fieldgate_readings"].type, "counter")
        self.assertEqual(fams["fieldgate_buffer_messages"].type, "gauge")
        self.assertEqual(sample(fams, "fieldgate_broker_connected"), 1)
        self.assertGreaterEqual(sample(fams, "fieldgate_published"), st["published"])
        self.assertGreater(sample(fams, "fieldgate_source_received", source="sim"), 0)
        self.assertEqual(sample(fams, "fieldgate_source_refused", source="gwmp",
                                reason="too-short"), 0)
        self.assertEqual(sample(fams, "fieldgate_source_state", source="sim", state="running"), 1)
        self.assertEqual(sample(fams, "fieldgate_clock_synchronized"), 1)
        # Every refusal reason of the record is a labelled sample.
        for src, body in st["sources"].items():
            for reason in body["refused"]:
                sample(fams, "fieldgate_source_refused", source=src, reason=reason)

    def test_metrics_from_the_buffer_file_when_no_daemon_runs(self):
        self.write_conf(self.conf_text(free_port()))
        d = self.start_daemon()
        self.wait_status(lambda s: s["buffer_depth"] > 0, 20, "a buffered message")
        d.signal(signal.SIGTERM)
        self.assertEqual(d.wait_exit(10), 0, d.stderr())
        r = run([FIELDGATECTL, "-c", self.conf, "metrics"])
        self.assertEqual(r.returncode, 3, r.stderr)
        fams = metrics(r.stdout)
        self.assertEqual(sample(fams, "fieldgate_up"), 0)
        self.assertGreater(sample(fams, "fieldgate_buffer_messages"), 0)
        self.assertNotIn("fieldgate_readings", fams)  # unknown from the file: left out

    def test_textfile_is_replaced_atomically_and_failures_are_counted(self):
        prom = os.path.join(self.dir, "fieldgate.prom")
        self.write_conf(self.conf_text(free_port(),
                                       extra=f'metrics = {{ textfile = "{prom}"; interval = "5s"; }};'))
        self.start_daemon()
        st = self.wait_status(lambda s: s["metrics_textfile_writes"] >= 1, 20, "a textfile")
        first = os.stat(prom)
        with open(prom) as f:
            fams = metrics(f.read())
        self.assertEqual(sample(fams, "fieldgate_up"), 1)
        self.assertEqual(os.listdir(self.dir).count("fieldgate.prom.tmp"), 0)
        # The next write is a new file renamed over the old one, never the old one rewritten.
        self.wait_status(lambda s: s["metrics_textfile_writes"] >= st["metrics_textfile_writes"] + 1,
                         30, "a second textfile")
        self.assertNotEqual(os.stat(prom).st_ino, first.st_ino)
        self.assertEqual(os.stat(prom).st_mode & 0o777, 0o644)
        self.assertFalse(os.path.exists(prom + ".tmp"))

    def test_textfile_failure_is_logged_and_counted(self):
        prom = os.path.join(self.dir, "missing", "fieldgate.prom")
        self.write_conf(self.conf_text(free_port(),
                                       extra=f'metrics = {{ textfile = "{prom}"; interval = "5s"; }};'))
        d = self.start_daemon()
        d.wait_stderr(f"cannot write the metrics to '{prom}'", 20)
        st = self.wait_status(lambda s: s["metrics_textfile_failures"] >= 1, 10, "a failure")
        check_record(self, st)
        self.assertEqual(st["metrics_textfile_writes"], 0)
        self.assertIsNone(d.proc.poll())


if __name__ == "__main__":
    unittest.main(verbosity=2)
