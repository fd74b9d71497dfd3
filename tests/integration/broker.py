# SPDX-License-Identifier: GPL-3.0-or-later
"""A real mosquitto broker for the integration tests, on free loopback ports,
with certificates made by the test (CA, server, client), and a subscriber
(mosquitto_sub) that records what arrives."""
import json
import os
import select
import signal
import socket
import subprocess
import time


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def port_open(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
        return True
    except OSError:
        return False


def _openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def make_certs(directory, days=30):
    """A CA, a server certificate for 127.0.0.1/localhost, a client certificate,
    a second, unrelated CA, and an expired server certificate."""
    d = directory
    ext = os.path.join(d, "san.ext")
    with open(ext, "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    for ca in ("ca", "otherca"):
        _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{ca}.key",
                 "-out", f"{ca}.crt", "-days", str(days), "-subj", f"/CN=fieldgate test {ca}", cwd=d)
    for name, cn in (("server", "localhost"), ("client", "fieldgate-itest"), ("wrongname", "example.invalid"),
                     ("expired", "localhost")):
        _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.csr",
                 "-subj", f"/CN={cn}", cwd=d)
        # "expired": valid for the right names, but its notAfter is a day before now.
        args = ["x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
                "-CAcreateserial", "-out", f"{name}.crt", "-days", "-1" if name == "expired" else str(days)]
        if name in ("server", "expired"):
            args += ["-extfile", ext]
        _openssl(*args, cwd=d)
    return {k: os.path.join(d, k) for k in
            ("ca.crt", "otherca.crt", "server.crt", "server.key", "client.crt", "client.key",
             "wrongname.crt", "wrongname.key", "expired.crt", "expired.key")}


class Broker:
    """mosquitto with a plain, a TLS and a mutual-TLS listener (TLS ones when certs are given)."""

    def __init__(self, directory, certs=None, passwords=None, persistence=True,
                 server_cert="server", log_all=True):
        self.dir = directory
        self.port = free_port()
        self.tls_port = free_port() if certs else None
        self.mtls_port = free_port() if certs else None
        self.conf = os.path.join(directory, "mosquitto.conf")
        lines = ["per_listener_settings true", f"listener {self.port} 127.0.0.1"]
        if passwords:
            pwfile = os.path.join(directory, "passwd")
            open(pwfile, "w").close()
            for user, pw in passwords.items():
                subprocess.run(["mosquitto_passwd", "-b", pwfile, user, pw], check=True, timeout=30)
            lines += ["allow_anonymous false", f"password_file {pwfile}"]
        else:
            lines += ["allow_anonymous true"]
        if certs:
            c = certs
            lines += [f"listener {self.tls_port} 127.0.0.1", "allow_anonymous true",
                      f"cafile {c['ca.crt']}", f"certfile {c[server_cert + '.crt']}",
                      f"keyfile {c[server_cert + '.key']}", "tls_version tlsv1.2",
                      f"listener {self.mtls_port} 127.0.0.1", "allow_anonymous true",
                      f"cafile {c['ca.crt']}", f"certfile {c[server_cert + '.crt']}",
                      f"keyfile {c[server_cert + '.key']}", "require_certificate true",
                      "use_identity_as_username true"]
        if persistence:
            lines += ["persistence true", f"persistence_location {directory}/",
                      "autosave_interval 1"]
        # Tests read the log (every packet); a benchmark's broker logs as a production one does.
        lines += [f"log_dest file {directory}/mosquitto.log",
                  "log_type all" if log_all else "log_type warning",
                  "max_queued_messages 0"]
        if os.getuid() == 0:
            lines.append("user root")
        with open(self.conf, "w") as f:
            f.write("\n".join(lines) + "\n")
        self.proc = None

    def start(self, timeout=10):
        self.proc = subprocess.Popen(["mosquitto", "-c", self.conf], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while not port_open(self.port):
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise AssertionError("mosquitto did not start: " + self.log())
            time.sleep(0.02)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=10)
        self.proc = None

    def log(self):
        try:
            with open(os.path.join(self.dir, "mosquitto.log"), errors="replace") as f:
                return f.read()
        except OSError:
            return ""


class Subscriber:
    """mosquitto_sub with a persistent session at QoS 1; records (topic, payload) lines."""

    def __init__(self, port, topic="fieldgate/#", client_id="itest-sub", extra=()):
        self.proc = subprocess.Popen(
            ["mosquitto_sub", "-h", "127.0.0.1", "-p", str(port), "-t", topic, "-q", "1", "-c",
             "-i", client_id, "-F", "%t\t%p", *extra],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        os.set_blocking(self.proc.stdout.fileno(), False)
        self.buf = b""
        self.messages = []

    def pump(self, timeout=0.05):
        r, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if r:
            data = self.proc.stdout.read()
            if data:
                self.buf += data
        while b"\n" in self.buf:
            line, self.buf = self.buf.split(b"\n", 1)
            topic, _, payload = line.decode(errors="replace").partition("\t")
            self.messages.append((topic, payload))

    def readings(self):
        """Payloads on reading topics (not status/stats), parsed."""
        out = []
        for topic, payload in self.messages:
            if topic.endswith("/status") or topic.endswith("/stats"):
                continue
            out.append((topic, json.loads(payload)))
        return out

    def wait(self, predicate, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.pump()
            if predicate(self):
                return True
        self.pump()
        return predicate(self)

    def stop(self):
        # Closing our end first: a subscriber blocked writing to a full pipe then dies too.
        self.proc.stdout.close()
        self.proc.stderr.close()
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)


def senml_seq(payload):
    """The sequence number of a SenML pack (first record's 'seq') or a flat JSON object."""
    if isinstance(payload, list):
        return payload[0]["seq"]
    return payload["seq"]
