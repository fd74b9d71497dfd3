#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Store and forward end to end: the real fieldgated, a real mosquitto, a real
SQLite buffer, a subscriber counting sequence numbers."""
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from broker import Broker, Subscriber, free_port, make_certs, senml_seq  # noqa: E402
import fgtest  # noqa: E402
from fgtest import FIELDGATECTL, Daemon, DaemonTestCase, run, sim_config  # noqa: E402
import json  # noqa: E402


def mqtt_block(broker_port, extra=""):
    return fgtest.mqtt_block(broker_port, extra, stats_interval="1s")


class PipelineTest(DaemonTestCase):
    def seqs(self):
        return [senml_seq(p) for _, p in self.sub.readings()]

    def assert_contiguous(self, seqs, upto=None):
        """Every sequence number from 1 to the highest seen (or upto) arrived; returns duplicates."""
        seen = set(seqs)
        top = upto or max(seen)
        missing = sorted(set(range(1, top + 1)) - seen)
        self.assertEqual(missing, [], f"gaps in the sequence (of {top})")
        return len(seqs) - len(seen)

    def test_steady_flow_plain_every_reading_in_order(self):
        self.broker = Broker(self.dir)
        self.broker.start()
        self.sub = Subscriber(self.broker.port)
        time.sleep(0.3)
        self.write_conf(sim_config(self.dir, devices=4, interval_ms=40) + mqtt_block(self.broker.port))
        self.start_daemon()
        self.assertTrue(self.sub.wait(lambda s: len(s.readings()) >= 200, 30), self.daemon.stderr())
        seqs = self.seqs()
        self.assertEqual(self.assert_contiguous(seqs), 0)
        self.assertEqual(seqs, sorted(seqs))
        topic, pack = self.sub.readings()[0]
        self.assertRegex(topic, r"^fieldgate/itest/sim/sim-000[1-4]$")
        names = [r.get("n") for r in pack]
        self.assertEqual(names, ["temperature", "humidity", "battery"])
        # Retained status and periodic stats.
        self.assertTrue(any(t == "fieldgate/itest/status" and '"online"' in p for t, p in self.sub.messages))
        self.assertTrue(self.sub.wait(lambda s: any(t == "fieldgate/itest/stats" for t, _ in s.messages), 5))
        stats = json.loads([p for t, p in self.sub.messages if t == "fieldgate/itest/stats"][-1])
        self.assertEqual((stats["schema"], stats["gateway"], stats["broker"]), (1, "itest", "connected"))
        # Rates and the creation -> PUBACK latency in the daemon's status. The broker
        # delivers a message to the subscriber before the daemon has read its PUBACK, so
        # the daemon's count may trail what the subscriber saw for a moment.
        deadline = time.monotonic() + 10
        while True:
            st = json.loads(run([FIELDGATECTL, "-c", self.conf, "status", "--json"]).stdout)
            if st["latency_count"] >= 200 or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        self.assertGreater(st["readings_per_s"], 0)
        self.assertGreater(st["published_per_s"], 0)
        self.assertGreaterEqual(st["latency_count"], 200)
        self.assertGreater(st["latency_p50_ms"], 0)
        self.assertLessEqual(st["latency_p50_ms"], st["latency_p99_ms"])
        self.assertLessEqual(st["latency_p99_ms"], st["latency_max_ms"])
        self.assertLess(st["latency_max_ms"], 30000)
        self.assertFalse(st["session_present"])  # a broker that never saw us

    def test_steady_flow_over_mutual_tls(self):
        certs = make_certs(self.dir)
        self.broker = Broker(self.dir, certs=certs)
        self.broker.start()
        self.sub = Subscriber(self.broker.port)
        time.sleep(0.3)
        extra = f'ca_file = "{certs["ca.crt"]}"; cert_file = "{certs["client.crt"]}"; key_file = "{certs["client.key"]}";'
        self.write_conf(sim_config(self.dir, devices=4, interval_ms=40) + mqtt_block(self.broker.mtls_port, extra))
        d = self.start_daemon()
        self.assertTrue(self.sub.wait(lambda s: len(s.readings()) >= 150, 30), d.stderr())
        seqs = self.seqs()
        self.assertEqual(self.assert_contiguous(seqs), 0)
        self.assertEqual(seqs, sorted(seqs))
        d.wait_stderr("over TLS", 5)

    def test_wrong_ca_is_refused_with_a_clear_line_and_buffer_kept(self):
        certs = make_certs(self.dir)
        self.broker = Broker(self.dir, certs=certs)
        self.broker.start()
        extra = f'ca_file = "{certs["otherca.crt"]}";'
        self.write_conf(sim_config(self.dir, devices=2, interval_ms=50) + mqtt_block(self.broker.tls_port, extra))
        d = self.start_daemon()
        d.wait_stderr("certificate verify failed: self-signed certificate in certificate chain", 15)
        self.assertIsNone(d.proc.poll())

    def test_expired_server_certificate_is_refused_and_buffer_kept(self):
        certs = make_certs(self.dir)
        self.broker = Broker(self.dir, certs=certs, server_cert="expired")
        self.broker.start()
        extra = f'ca_file = "{certs["ca.crt"]}";'
        self.write_conf(sim_config(self.dir, devices=2, interval_ms=50) + mqtt_block(self.broker.tls_port, extra))
        d = self.start_daemon()
        d.wait_stderr("certificate verify failed: certificate has expired", 15)
        self.assertIsNone(d.proc.poll())
        time.sleep(1.0)
        out = subprocess.run([FIELDGATECTL, "-c", self.conf, "status"], capture_output=True,
                             text=True, timeout=10)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertRegex(out.stdout, r"certificate has expired")
        d.signal(signal.SIGTERM)
        self.assertEqual(d.wait_exit(5), 0, d.stderr())
        statuses = [l for m in self.notify.drain() for l in m.split("\n") if l.startswith("STATUS=")]
        self.assertRegex(statuses[-1], r"published 0, evicted 0; buffered [1-9]")

    def session_after_restart(self, extra):
        """Start, stop and start the daemon again; the second CONNACK's session line."""
        self.broker = Broker(self.dir)
        self.broker.start()
        self.write_conf(sim_config(self.dir, devices=1, interval_ms=200) + mqtt_block(self.broker.port, extra))
        d = self.start_daemon()
        d.wait_stderr("connected to", 10)
        self.assertIn("new session", d.stderr())
        d.signal(signal.SIGTERM)
        self.assertEqual(d.wait_exit(5), 0, d.stderr())
        d = self.start_daemon()
        d.wait_stderr("connected to", 10)
        d.signal(signal.SIGTERM)
        self.assertEqual(d.wait_exit(5), 0, d.stderr())
        return [l for l in d.stderr().splitlines() if "connected to" in l][-1]

    def test_mqtt5_session_expiry_keeps_the_session_across_a_restart(self):
        # The broker keeps a v5 session only when CONNECT carries a session expiry.
        line = self.session_after_restart('protocol = "v5"; session_expiry = "1h";')
        self.assertIn("session present", line)

    def test_mqtt5_session_expiry_zero_ends_the_session(self):
        line = self.session_after_restart('protocol = "v5"; session_expiry = 0;')
        self.assertIn("new session", line)

    def test_mqtt311_keeps_the_session_across_a_restart(self):
        line = self.session_after_restart('protocol = "v311";')
        self.assertIn("session present", line)

    def test_server_certificate_for_another_name_is_refused(self):
        certs = make_certs(self.dir)
        self.broker = Broker(self.dir, certs=certs, server_cert="wrongname")
        self.broker.start()
        extra = f'ca_file = "{certs["ca.crt"]}";'
        self.write_conf(sim_config(self.dir, devices=2, interval_ms=50) + mqtt_block(self.broker.tls_port, extra))
        d = self.start_daemon()
        d.wait_stderr("host name verification failed", 15)
        self.assertIsNone(d.proc.poll())
        time.sleep(1.0)  # a few sim reports (every 50 ms) reach the buffer
        # The buffer keeps what cannot be delivered.
        d.signal(signal.SIGTERM)
        self.assertEqual(d.wait_exit(5), 0, d.stderr())
        statuses = [l for m in self.notify.drain() for l in m.split("\n") if l.startswith("STATUS=")]
        self.assertRegex(statuses[-1], r"published 0, evicted 0; buffered [1-9]")

    def test_bad_password_is_refused_with_the_brokers_reason(self):
        self.broker = Broker(self.dir, passwords={"gw": "right"})
        self.broker.start()
        self.write_conf(sim_config(self.dir, devices=2, interval_ms=50) +
                        mqtt_block(self.broker.port, 'username = "gw"; password = "wrong";'))
        d = self.start_daemon()
        d.wait_stderr("refused the connection", 15)
        self.assertRegex(d.stderr(), r"(not authori[sz]ed|bad user name or password)")

    def test_broker_outage_loses_nothing(self):
        self.broker = Broker(self.dir)
        self.broker.start()
        self.sub = Subscriber(self.broker.port, client_id="itest-outage")
        time.sleep(0.3)
        self.write_conf(sim_config(self.dir, devices=4, interval_ms=40) + mqtt_block(self.broker.port))
        d = self.start_daemon()
        self.assertTrue(self.sub.wait(lambda s: len(s.readings()) >= 50, 20), d.stderr())
        self.broker.stop()
        time.sleep(10)
        self.broker.start()
        # Readings made during the outage arrive after it.
        before = max(self.seqs())
        self.assertTrue(self.sub.wait(lambda s: len(set(self.seqs())) >= before + 300, 60), d.stderr())
        dups = self.assert_contiguous(self.seqs())
        print(f"broker outage: {len(set(self.seqs()))} messages, {dups} duplicates", file=sys.stderr)
        self.assertLessEqual(dups, 100)  # at most the inflight window

    def test_kill_9_and_restart_leaves_no_gap(self):
        self.broker = Broker(self.dir)
        self.broker.start()
        self.sub = Subscriber(self.broker.port, client_id="itest-kill")
        time.sleep(0.3)
        self.write_conf(sim_config(self.dir, devices=4, interval_ms=40) + mqtt_block(self.broker.port))
        d = self.start_daemon()
        self.assertTrue(self.sub.wait(lambda s: len(s.readings()) >= 100, 20), d.stderr())
        d.proc.send_signal(signal.SIGKILL)
        d.proc.wait()
        d.kill()
        self.daemon = None
        top = max(self.seqs())
        self.start_daemon()
        self.assertTrue(self.sub.wait(lambda s: max(self.seqs()) >= top + 100, 30), self.daemon.stderr())
        dups = self.assert_contiguous(self.seqs())
        print(f"kill -9: {len(set(self.seqs()))} messages, {dups} duplicates", file=sys.stderr)

    def test_messages_made_before_the_clock_was_set_get_their_time(self):
        # No RTC: until NTP syncs, readings carry no wall time. The seam makes
        # the clock unknown until the file exists; the broker is down meanwhile.
        self.broker = Broker(self.dir)
        sync = os.path.join(self.dir, "clock-synchronized")
        conf = sim_config(self.dir, devices=2, interval_ms=100).replace(
            "trust_system_clock = true", "trust_system_clock = false")
        self.write_conf(conf + mqtt_block(self.broker.port))
        started = time.time()
        self.daemon = Daemon(self.conf, notify=self.notify, dry_run=False,
                             env={"FIELDGATE_CLOCK_SYNC_FILE": sync})
        self.notify.wait_for("READY=1")
        time.sleep(1.5)
        st = json.loads(run([FIELDGATECTL, "-c", self.conf, "status", "--json"]).stdout)
        self.assertGreater(st["buffer_depth"], 5)
        self.assertEqual(st["oldest_age_s"], 0)  # unknown, not a minute-old guess
        open(sync, "w").close()
        self.daemon.wait_stderr("buffered messages made before it was now carry their time", 10)
        synced = time.time()
        self.broker.start()
        self.sub = Subscriber(self.broker.port)
        self.assertTrue(self.sub.wait(lambda s: len(s.readings()) >= 40, 30), self.daemon.stderr())
        packs = sorted(self.sub.readings(), key=lambda tp: senml_seq(tp[1]))
        self.assert_contiguous([senml_seq(p) for _, p in packs])
        times = [p[0].get("bt") for _, p in packs]
        self.assertNotIn(None, times, "a message without its time")
        early = [t for t in times if t < synced]
        self.assertGreater(len(early), 5)
        # Dated from their monotonic stamps: within the run, in creation order.
        self.assertGreaterEqual(min(times), started - 1)
        self.assertLessEqual(max(times), time.time() + 1)
        for a, b in zip(times, times[1:]):
            self.assertLessEqual(a, b + 0.05)

    def test_broker_by_name(self):
        self.broker = Broker(self.dir)
        self.broker.start()
        self.sub = Subscriber(self.broker.port)
        time.sleep(0.3)
        self.write_conf(sim_config(self.dir, devices=2, interval_ms=50) +
                        mqtt_block(self.broker.port).replace('"127.0.0.1"', '"localhost"'))
        self.start_daemon()
        self.assertTrue(self.sub.wait(lambda s: len(s.readings()) >= 20, 20), self.daemon.stderr())
        self.assert_contiguous(self.seqs())

    def test_a_resolver_that_does_not_answer_never_stalls_the_loop(self):
        # The broker's name goes to a DNS server that never answers (a socket
        # that reads and drops, named in a resolv.conf bind-mounted in a mount
        # namespace of the daemon's own): a lookup takes seconds, and the
        # daemon must keep answering meanwhile.
        if os.geteuid() != 0:
            self.skipTest("a mount namespace needs root")
        hole = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            hole.bind(("127.53.0.1", 53))
        except OSError as e:
            self.skipTest(f"cannot listen on 127.53.0.1:53: {e}")
        hole.settimeout(0.2)
        stop = threading.Event()
        queries = []

        def drop():
            while not stop.is_set():
                try:
                    queries.append(hole.recv(512))
                except socket.timeout:
                    pass
        t = threading.Thread(target=drop, daemon=True)
        t.start()
        self.addCleanup(lambda: (stop.set(), t.join(5), hole.close()))
        resolv = os.path.join(self.dir, "resolv.conf")
        with open(resolv, "w") as f:
            f.write("nameserver 127.53.0.1\noptions timeout:2 attempts:2\n")
        self.write_conf(sim_config(self.dir, devices=2, interval_ms=100) +
                        mqtt_block(1883).replace('"127.0.0.1"', '"broker.fieldgate-test"'))
        self.daemon = Daemon(self.conf, notify=self.notify, dry_run=False,
                             prefix=["unshare", "-m", "sh", "-c",
                                     'mount --bind "$0" /etc/resolv.conf && exec "$@"', resolv])
        self.notify.wait_for("READY=1")
        slowest, states = 0, set()
        deadline = time.monotonic() + 6
        while time.monotonic() < deadline:
            t0 = time.monotonic()
            out = run([FIELDGATECTL, "-c", self.conf, "status", "--json"]).stdout
            if not out.startswith("{"):
                self.fail(f"the daemon did not answer while resolving: {out}")
            st = json.loads(out)
            slowest = max(slowest, time.monotonic() - t0)
            states.add(st["broker"])
            time.sleep(0.2)
        self.assertTrue(queries, "the daemon never asked the resolver")
        self.assertIn("connecting", states)
        self.assertLess(slowest, 1.5, "the control socket waited on the resolver")
        self.daemon.wait_stderr("cannot resolve 'broker.fieldgate-test'", 30)
        st = json.loads(run([FIELDGATECTL, "-c", self.conf, "status", "--json"]).stdout)
        self.assertIn("cannot resolve 'broker.fieldgate-test'", st["broker_error"])
        self.assertGreater(st["buffer_depth"], 0)

    def test_corrupt_buffer_is_moved_aside(self):
        self.broker = Broker(self.dir)
        self.broker.start()
        with open(os.path.join(self.dir, "buffer.db"), "wb") as f:
            f.write(b"this is not a database" * 300)
        self.write_conf(sim_config(self.dir, devices=2, interval_ms=50) + mqtt_block(self.broker.port))
        d = self.start_daemon()
        d.wait_stderr("was corrupt: moved aside", 5)
        aside = [n for n in os.listdir(self.dir) if n.startswith("buffer.db.corrupt-")]
        self.assertEqual(len(aside), 1, os.listdir(self.dir))
        d.signal(signal.SIGTERM)
        self.assertEqual(d.wait_exit(5), 0, d.stderr())

    def test_bound_reached_during_outage_evicts_and_reports(self):
        # No broker listens; 20 devices every 20 ms make 1000 messages/s against max_rows 1000.
        self.write_conf(sim_config(self.dir, devices=20, interval_ms=20) +
                        mqtt_block(free_port()).replace("buffer = { commit_interval_ms = 50; };",
                                                        "buffer = { commit_interval_ms = 50; max_rows = 1000; };"))
        d = self.start_daemon()
        d.wait_stderr("buffer full (max_rows 1000 reached): evicting oldest messages", 15)
        self.assertIn("policy drop_oldest", d.stderr())
        time.sleep(1.0)
        d.pump(0.1)
        # Logged once per episode, not once per commit.
        self.assertEqual(d.stderr().count("buffer full ("), 1, d.stderr())
        st = json.loads(run([FIELDGATECTL, "-c", self.conf, "status", "--json"]).stdout)
        self.assertGreater(st["evicted"], 0)
        self.assertLessEqual(st["buffer_depth"], 1000 + 20)  # the bound, plus at most one commit of readings
        self.assertEqual(st["broker"], "waiting to reconnect")
        self.assertEqual(st["published"], 0)
        d.signal(signal.SIGTERM)
        self.assertEqual(d.wait_exit(5), 0, d.stderr())
        # With the daemon gone, status reads the buffer file.
        r = run([FIELDGATECTL, "-c", self.conf, "status"])
        self.assertEqual(r.returncode, 3, r.stderr)  # EXIT_NOT_RUNNING
        self.assertIn("not answering", r.stderr)
        self.assertIn("daemon: not running", r.stdout)
        self.assertRegex(r.stdout, r"messages waiting: (\d{3}|1000)\n")
        r = run([FIELDGATECTL, "-c", self.conf, "status", "--json"])
        self.assertEqual(r.returncode, 3, r.stderr)
        st = json.loads(r.stdout)
        self.assertIs(st["running"], False)
        self.assertGreaterEqual(st["buffer_depth"], 100)
        self.assertIsNone(st["published"])
        r = run([FIELDGATECTL, "-c", self.conf, "buffer"])
        self.assertEqual(r.returncode, 3, r.stderr)  # answered from the file: not running
        self.assertEqual(len(r.stdout.splitlines()), 1 + 20)  # header + one line per device topic


if __name__ == "__main__":
    unittest.main(verbosity=2)
