#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""fieldgated end to end: READY=1, readings on stdout, SIGHUP with a bad and a good
configuration, watchdog, SIGTERM within 2 s, command line and exit codes."""
import os
import signal
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fgtest import FIELDGATED, Daemon, NotifySocket, run, sim_config, tempdir  # noqa: E402


class DaemonTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempdir()
        self.dir = self.tmp.name
        self.conf = os.path.join(self.dir, "fieldgate.conf")
        self.write_conf(sim_config(self.dir))
        self.notify = NotifySocket(self.dir)
        self.daemon = None

    def tearDown(self):
        if self.daemon:
            self.daemon.kill()
        self.notify.close()
        self.tmp.cleanup()

    def write_conf(self, text):
        # Written to a new file and renamed over, as an editor would.
        tmp = self.conf + ".new"
        with open(tmp, "w") as f:
            f.write(text)
        os.chmod(tmp, 0o640)
        os.replace(tmp, self.conf)

    def start(self, **kw):
        self.daemon = Daemon(self.conf, notify=self.notify, **kw)
        self.notify.wait_for("READY=1")
        return self.daemon

    def test_ready_then_readings_on_stdout(self):
        d = self.start()
        readings = d.readings(12)
        devices = {r["device"] for r in readings}
        self.assertEqual(devices, {"sim-0001", "sim-0002"})
        quantities = {(r["quantity"], r["unit"]) for r in readings}
        self.assertEqual(quantities, {("temperature", "Cel"), ("humidity", "%RH"), ("battery", "%EL")})
        for r in readings:
            self.assertEqual(r["source"], "sim")
            self.assertIsInstance(r["value"], (int, float))
            # trust_system_clock is on: wall time is known and recent.
            self.assertLess(abs(r["time"] / 1000 - time.time()), 60)
            self.assertEqual(len(r["boot_id"]), 32)

    def test_status_line_counts_readings(self):
        d = self.start()
        d.readings(3)
        # The status timer runs every 5 s.
        deadline = time.monotonic() + 8
        status = None
        while time.monotonic() < deadline and status is None:
            d.pump(0.1)
            for m in self.notify.drain():
                for line in m.split("\n"):
                    if line.startswith("STATUS=readings in ") and not line.startswith("STATUS=readings in 0,"):
                        status = line
        self.assertIsNotNone(status, self.notify.messages)
        self.assertRegex(status, r"^STATUS=readings in [1-9]\d*, out [1-9]\d*, dropped 0; buffered 0; "
                                 r"broker: none \(dry run\)$")

    def test_sighup_with_bad_config_keeps_running_on_old_one(self):
        d = self.start()
        d.readings(3)
        self.write_conf(sim_config(self.dir) + "\nmqtt = { port = 70000; hots = \"x\"; };\n")
        d.signal(signal.SIGHUP)
        self.notify.wait_for("RELOADING=1")
        self.notify.wait_for("READY=1")
        d.wait_stderr("reload of '%s' refused, keeping the running configuration" % self.conf)
        err = d.stderr()
        lines = self.conf_lines(sim_config(self.dir))
        self.assertIn("error config: %s:%d: mqtt.port: expected an integer 1..65535, got 70000"
                      % (self.conf, lines + 2), err)
        self.assertIn("error config: %s:%d: mqtt.hots: unknown setting, did you mean 'mqtt.host'?"
                      % (self.conf, lines + 2), err)
        self.assertIsNone(d.proc.poll())
        # Still producing readings on the old configuration.
        after = d.readings(6)
        self.assertEqual({r["device"] for r in after}, {"sim-0001", "sim-0002"})

    @staticmethod
    def conf_lines(text):
        return text.count("\n")

    def test_sighup_with_good_config_applies_it(self):
        d = self.start()
        d.readings(3)
        self.write_conf(sim_config(self.dir, devices=3, interval_ms=60))
        d.signal(signal.SIGHUP)
        self.notify.wait_for("RELOADING=1")
        self.notify.wait_for("READY=1")
        d.wait_stderr("reloaded '%s'" % self.conf)
        seen = set()
        deadline = time.monotonic() + 10
        while "sim-0003" not in seen and time.monotonic() < deadline:
            seen |= {r["device"] for r in d.readings(3)}
        self.assertIn("sim-0003", seen)

    def test_sigterm_exits_zero_within_two_seconds(self):
        d = self.start()
        d.readings(3)
        t0 = time.monotonic()
        d.signal(signal.SIGTERM)
        rc = d.wait_exit(2.0)
        elapsed = time.monotonic() - t0
        self.assertEqual(rc, 0, d.stderr())
        self.assertLess(elapsed, 2.0)
        self.notify.wait_for("STOPPING=1", 1)
        self.assertIn("received Terminated, stopping", d.stderr())

    def test_sigint_exits_zero(self):
        d = self.start()
        d.signal(signal.SIGINT)
        self.assertEqual(d.wait_exit(2.0), 0, d.stderr())

    def test_watchdog_pings_when_asked(self):
        self.start(env={"WATCHDOG_USEC": "400000"})
        # sd-event pings at half the period; allow many periods.
        self.notify.wait_for("WATCHDOG=1", 5)

    def test_no_watchdog_without_watchdog_usec(self):
        d = self.start()
        d.readings(6)
        self.assertFalse(any("WATCHDOG=1" in m.split("\n") for m in self.notify.drain()))

    def test_start_with_bad_config_exits_1_naming_line_and_setting(self):
        self.write_conf("gateway = { log_level = \"verbose\"; };\n")
        r = run([FIELDGATED, "--dry-run", "-c", self.conf])
        self.assertEqual(r.returncode, 1)
        self.assertIn("%s:1: gateway.log_level: expected one of error, warning, notice, info, debug, "
                      "got 'verbose'" % self.conf, r.stderr)
        self.assertIn("configuration '%s' refused" % self.conf, r.stderr)

    def test_check_config_ok(self):
        r = run([FIELDGATED, "--check-config", "-c", self.conf])
        self.assertEqual((r.returncode, r.stdout, r.stderr), (0, "configuration OK\n", ""))

    def test_check_config_reports_every_error(self):
        self.write_conf("mqtt = {\n  hots = \"broker\";\n  port = 70000;\n};\n")
        r = run([FIELDGATED, "-t", "-c", self.conf])
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stdout, "")
        self.assertIn("%s:2: mqtt.hots: unknown setting, did you mean 'mqtt.host'?\n" % self.conf, r.stderr)
        self.assertIn("%s:3: mqtt.port: expected an integer 1..65535, got 70000\n" % self.conf, r.stderr)

    def test_sample_config_is_valid(self):
        sample = os.path.join(os.environ.get("FG_SRCDIR", "."), "conf", "fieldgate.conf")
        r = run([FIELDGATED, "--check-config", "-c", sample])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, "configuration OK\n")

    def test_without_broker_readings_are_buffered(self):
        # Nothing listens on the broker port: the daemon runs and buffers.
        import socket
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        sock.close()
        self.write_conf(sim_config(self.dir) + 'mqtt = { host = "127.0.0.1"; port = %d; };\n' % port)
        self.daemon = Daemon(self.conf, notify=self.notify, dry_run=False)
        self.notify.wait_for("READY=1")
        self.daemon.wait_stderr("connection to '127.0.0.1:%d' failed" % port)
        time.sleep(1.0)  # a few sim reports (every 100 ms) reach the buffer
        self.daemon.signal(signal.SIGTERM)
        self.assertEqual(self.daemon.wait_exit(5), 0, self.daemon.stderr())
        self.assertTrue(os.path.exists(os.path.join(self.dir, "buffer.db")))
        statuses = [l for m in self.notify.drain() for l in m.split("\n") if l.startswith("STATUS=")]
        self.assertRegex(statuses[-1], r"^STATUS=readings in [1-9]\d*, published 0, evicted 0; "
                                       r"buffered [1-9]\d*; broker: ")

    def test_usage_errors_exit_2(self):
        self.assertEqual(run([FIELDGATED, "--no-such-option"]).returncode, 2)
        self.assertEqual(run([FIELDGATED, "stray"]).returncode, 2)

    def test_version_and_help(self):
        r = run([FIELDGATED, "--version"])
        self.assertEqual(r.returncode, 0)
        self.assertRegex(r.stdout, r"^fieldgated \d+\.\d+\.\d+\n$")
        r = run([FIELDGATED, "--help"])
        self.assertEqual(r.returncode, 0)
        self.assertIn("--check-config", r.stdout)

    def test_verbose_flag_enables_debug_and_quiet_hides_info(self):
        d = self.start(extra_args=("-q",))
        d.readings(3)
        d.signal(signal.SIGTERM)
        self.assertEqual(d.wait_exit(2.0), 0)
        self.assertNotIn("info core:", d.stderr())
        self.assertNotIn("debug core:", d.stderr())
        d.kill()
        self.daemon = Daemon(self.conf, notify=self.notify, extra_args=("-v",))
        self.notify.wait_for("READY=1")
        self.daemon.readings(3)
        self.daemon.signal(signal.SIGTERM)
        self.assertEqual(self.daemon.wait_exit(2.0), 0)
        self.assertIn("info core: fieldgated", self.daemon.stderr())
        self.assertIn("debug core: 3 readings from sim-0001", self.daemon.stderr())

    def test_slow_reader_drops_readings_without_blocking_the_loop(self):
        # 50 devices every 10 ms is ~15,000 readings/s; nobody reads stdout for 3 s.
        self.write_conf(sim_config(self.dir, devices=50, interval_ms=10))
        d = self.start()
        time.sleep(3)
        # Still not reading stdout: a loop blocked in write() could not see SIGTERM.
        d.signal(signal.SIGTERM)
        self.assertEqual(d.proc.wait(timeout=2), 0)
        d.pump(0.5)
        self.assertIn("standard output is not keeping up, dropped", d.stderr())

    def test_closed_stdout_is_counted_not_fatal(self):
        d = self.start()
        d.readings(3)
        d.sel.unregister(d.proc.stdout)
        d.proc.stdout.close()
        d.wait_stderr("cannot write readings to standard output")
        self.assertIsNone(d.proc.poll())
        d.signal(signal.SIGTERM)
        self.assertEqual(d.wait_exit(2.0), 0, d.stderr())


if __name__ == "__main__":
    unittest.main(verbosity=2)
