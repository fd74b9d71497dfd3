#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""TLS set-ups of the field, against a real TLS mosquitto and the real daemon.

Without mqtt.ca_file / ca_path the daemon verifies the broker against the
system's CA store. OpenSSL's default store follows SSL_CERT_FILE and
SSL_CERT_DIR, so the daemon's environment points them at the test's CA (or
at an unrelated one) and an empty directory: the system-store path runs for
real without touching the machine's store. And whatever start refuses about
the TLS files, both check-config commands refuse too, with the same words."""
import json
import os
import re
import select
import signal
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from broker import Broker, Subscriber, free_port, make_certs, port_open  # noqa: E402
from fgtest import (FIELDGATECTL, FIELDGATED, Daemon, DaemonTestCase, mqtt_block, run,  # noqa: E402
                    sim_config, tempdir)


class TlsTest(DaemonTestCase):
    def setUp(self):
        super().setUp()
        self.certs = make_certs(self.dir)
        self.empty = os.path.join(self.dir, "empty-ca-dir")
        os.mkdir(self.empty)

    def store(self, ca):
        """An environment whose system CA store holds only the given CA certificate."""
        return {"SSL_CERT_FILE": self.certs[ca], "SSL_CERT_DIR": self.empty}

    def start(self, extra, port_kind="tls", server_cert="server", ca="ca.crt", subscribe=True):
        self.broker = Broker(self.dir, certs=self.certs, server_cert=server_cert)
        self.broker.start()
        if subscribe:
            self.sub = Subscriber(self.broker.port)
        port = self.broker.mtls_port if port_kind == "mtls" else self.broker.tls_port
        self.write_conf(sim_config(self.dir, devices=2, interval_ms=50) + mqtt_block(port, extra))
        self.daemon = Daemon(self.conf, notify=self.notify, dry_run=False, env=self.store(ca))
        return self.daemon

    def assert_delivers(self, d):
        d.wait_stderr("connected to", 20)
        self.assertTrue(self.sub.wait(lambda s: len(s.readings()) >= 5, 30), d.stderr())
        self.assertIsNone(d.proc.poll(), d.stderr())

    def test_system_store_with_the_ca_connects_and_delivers(self):
        d = self.start("tls = true;")
        self.assert_delivers(d)
        self.assertIn("against the system's CA certificates", d.stderr())
        self.assertIn(self.certs["ca.crt"], d.stderr())

    def test_system_store_without_the_ca_is_refused_and_keeps_retrying(self):
        d = self.start("tls = true;", ca="otherca.crt", subscribe=False)
        cause = "certificate verify failed: self-signed certificate in certificate chain"
        # Still running, still trying, refused for the same reason each time.
        deadline = time.monotonic() + 30
        while d.stderr().count(cause + "), retrying") < 2 and time.monotonic() < deadline:
            d.pump(0.1)
        self.assertGreaterEqual(d.stderr().count(cause + "), retrying"), 2, d.stderr())
        self.assertGreaterEqual(self.broker.log().count("New connection from 127.0.0.1"), 2,
                                self.broker.log())
        self.assertIsNone(d.proc.poll(), d.stderr())
        st = json.loads(run([FIELDGATECTL, "-c", self.conf, "status", "--json"]).stdout)
        self.assertIn(cause, st["broker_error"])
        self.assertNotEqual(st["broker"], "connected")

    def test_system_store_reconnects_after_a_broker_restart(self):
        d = self.start("tls = true;")
        self.assert_delivers(d)
        self.broker.stop()
        d.wait_stderr("retrying in", 20)
        self.broker.start()
        deadline = time.monotonic() + 30
        while d.stderr().count("connected to") < 2 and time.monotonic() < deadline:
            d.pump(0.1)
        self.assertEqual(d.stderr().count("connected to"), 2, d.stderr())
        n = len(self.sub.readings())
        self.assertTrue(self.sub.wait(lambda s: len(s.readings()) >= n + 5, 30), d.stderr())

    def test_system_store_still_checks_the_host_name(self):
        d = self.start("tls = true;", server_cert="wrongname", subscribe=False)
        d.wait_stderr("host name verification failed", 20)
        self.assertIsNone(d.proc.poll(), d.stderr())

    def test_reload_with_an_unusable_tls_file_is_refused_and_delivery_goes_on(self):
        d = self.start(f'ca_file = "{self.certs["ca.crt"]}";')
        self.assert_delivers(d)
        path = os.path.join(self.dir, "nope.pem")
        with open(self.conf, "w") as f:
            f.write(sim_config(self.dir, devices=2, interval_ms=50)
                    + mqtt_block(self.broker.tls_port, f'ca_file = "{path}";'))
        d.signal(signal.SIGHUP)
        d.wait_stderr(f"reload of '{self.conf}' refused, keeping the running configuration", 20)
        self.assertRegex(d.stderr(), re.escape(self.conf) + r":\d+: mqtt.ca_file: cannot read "
                         + re.escape(f"'{path}'"))
        n = len(self.sub.readings())
        self.assertTrue(self.sub.wait(lambda s: len(s.readings()) >= n + 5, 30), d.stderr())
        self.assertIsNone(d.proc.poll(), d.stderr())

    def test_system_store_with_a_client_certificate_connects(self):
        extra = f'cert_file = "{self.certs["client.crt"]}"; key_file = "{self.certs["client.key"]}";'
        d = self.start(extra, port_kind="mtls")
        self.assert_delivers(d)

    def test_alpn_alone_starts_and_connects(self):
        d = self.start('alpn = "mqtt";')
        self.assert_delivers(d)

    def test_alpn_is_offered_in_the_handshake_with_the_system_store(self):
        # openssl s_server stands in for the broker: it reports the client's ALPN offer.
        port = free_port()
        server = subprocess.Popen(
            ["openssl", "s_server", "-accept", f"127.0.0.1:{port}", "-cert", self.certs["server.crt"],
             "-key", self.certs["server.key"], "-alpn", "x-fieldgate-test"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            os.set_blocking(server.stdout.fileno(), False)
            deadline = time.monotonic() + 10
            while not port_open(port) and time.monotonic() < deadline:
                time.sleep(0.05)
            with open(self.conf, "w") as f:
                f.write(sim_config(self.dir) + mqtt_block(port, 'alpn = "x-fieldgate-test";'))
            self.daemon = Daemon(self.conf, notify=self.notify, dry_run=False, env=self.store("ca.crt"))
            out = b""
            deadline = time.monotonic() + 20
            while b"x-fieldgate-test" not in out and time.monotonic() < deadline:
                select.select([server.stdout], [], [], 0.1)
                out += server.stdout.read() or b""
            self.assertIn(b"ALPN protocols advertised by the client: x-fieldgate-test", out,
                          self.daemon.stderr())
        finally:
            server.kill()
            server.wait(timeout=10)
            server.stdout.close()
            server.stdin.close()

    def test_tls_insecure_alone_starts_and_connects_to_another_name(self):
        # The peer is still verified against the system store; only the name is not checked.
        d = self.start("tls_insecure = true;", server_cert="wrongname")
        self.assert_delivers(d)
        self.assertIn("tls_insecure is set", d.stderr())


class TlsFilesTest(unittest.TestCase):
    """What the daemon's start refuses, fieldgated --check-config and fieldgatectl check-config refuse."""

    def setUp(self):
        self.tmp = tempdir()
        self.dir = self.tmp.name
        self.conf = os.path.join(self.dir, "fieldgate.conf")
        self.certs = make_certs(self.dir)
        self.junk = os.path.join(self.dir, "junk.pem")
        with open(self.junk, "w") as f:
            f.write("not a certificate\n")

    def tearDown(self):
        self.tmp.cleanup()

    def refusals(self, extra):
        """The error lines of fieldgated --check-config, fieldgatectl check-config and a real start."""
        with open(self.conf, "w") as f:
            # No broker needed: start refuses before it connects. The TLS settings on line 5.
            f.write("mqtt = {\n  host = \"127.0.0.1\";\n  port = 1;\n  tls = true;\n  "
                    + extra + "\n};\n" + sim_config(self.dir))
        os.chmod(self.conf, 0o600)
        out = []
        for args in ([FIELDGATED, "--check-config", "-c", self.conf],
                     [FIELDGATECTL, "check-config", self.conf],
                     [FIELDGATED, "-c", self.conf]):
            try:
                p = subprocess.run(args, capture_output=True, text=True, timeout=20,
                                   stdin=subprocess.DEVNULL)
            except subprocess.TimeoutExpired as e:
                self.fail(f"{args} accepted it and ran: {e.stderr}")
            self.assertNotEqual(p.returncode, 0, f"{args} accepted it: {p.stdout}{p.stderr}")
            self.assertNotIn("configuration OK", p.stdout)
            out.append(p.stderr)
        return out

    def assert_refused(self, extra, message):
        line = f"{self.conf}:5: {message}"
        check, ctl, start = self.refusals(extra)
        self.assertIn(line, check)
        self.assertIn(line, ctl)
        self.assertIn(line, start)  # the daemon logs the same words, then refuses

    def test_missing_ca_file(self):
        path = os.path.join(self.dir, "nope.pem")
        self.assert_refused(f'ca_file = "{path}";',
                            f"mqtt.ca_file: cannot read '{path}': No such file or directory")

    def test_ca_file_without_a_certificate(self):
        self.assert_refused(f'ca_file = "{self.junk}";',
                            f"mqtt.ca_file: '{self.junk}' holds no PEM certificate")

    def test_missing_ca_path(self):
        path = os.path.join(self.dir, "nodir")
        self.assert_refused(f'ca_path = "{path}";',
                            f"mqtt.ca_path: cannot open directory '{path}': No such file or directory")

    def test_cert_file_that_is_not_a_certificate(self):
        c = self.certs
        self.assert_refused(f'cert_file = "{c["client.key"]}"; key_file = "{c["client.key"]}";',
                            f"mqtt.cert_file: '{c['client.key']}' is not a PEM certificate")

    def test_missing_key_file(self):
        path = os.path.join(self.dir, "nope.key")
        self.assert_refused(f'cert_file = "{self.certs["client.crt"]}"; key_file = "{path}";',
                            f"mqtt.key_file: cannot read '{path}': No such file or directory")

    def test_key_of_another_certificate(self):
        c = self.certs
        self.assert_refused(f'cert_file = "{c["client.crt"]}"; key_file = "{c["server.key"]}";',
                            f"mqtt.key_file: '{c['server.key']}' is not the private key of the "
                            f"certificate in mqtt.cert_file '{c['client.crt']}'")

    def test_cert_file_without_key_file(self):
        c = self.certs
        self.assert_refused(f'cert_file = "{c["client.crt"]}";',
                            "mqtt.cert_file: is set without mqtt.key_file")


if __name__ == "__main__":
    unittest.main()
