# SPDX-License-Identifier: GPL-3.0-or-later
"""A consumer that checks what a field consumer relies on: every message's
seq, first arrivals in order (a consumer keeping a high-water mark of seq
drops anything older than what it has seen), duplicates allowed, gaps not.
Also the fault drivers the order and fault tests share."""
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from broker import Subscriber, senml_seq  # noqa: E402
from fgtest import FIELDGATECTL, run  # noqa: E402


class SeqConsumer(Subscriber):
    """A persistent QoS 1 subscriber (mosquitto_sub -c, which reconnects by
    itself across broker restarts) that follows seq as messages arrive."""

    def __init__(self, port, client_id, topic="fieldgate/+/sim/#"):
        super().__init__(port, topic=topic, client_id=client_id)
        self.port = port
        self.seen = set()
        self.first = []       # seqs in order of first arrival
        self.late = []        # (seq, highest seen before it): first arrivals out of order
        self.duplicates = 0
        self.dup_seqs = []    # seqs that came again, in arrival order
        self.done = 0         # messages of self.messages already looked at
        self.top = 0          # the highest seq seen

    def pump(self, timeout=0.05):
        super().pump(timeout)
        for topic, payload in self.messages[self.done:]:
            if topic.endswith(("/status", "/stats", "/probe")):
                continue
            seq = senml_seq(json.loads(payload))
            if seq in self.seen:
                self.duplicates += 1
                self.dup_seqs.append(seq)
                continue
            if seq != self.top + 1:
                self.late.append((seq, self.top))
            self.seen.add(seq)
            self.first.append(seq)
            self.top = max(self.top, seq)
        self.done = len(self.messages)

    def highest(self):
        return self.top

    def missing(self, upto):
        return sorted(set(range(1, upto + 1)) - self.seen)

    def wait_for_seq(self, seq, timeout):
        return self.wait(lambda s: s.highest() >= seq, timeout)

    def wait_subscribed(self, timeout=10):
        """Publish probes until one comes back: the subscription is in place."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(self.port), "-q", "1",
                            "-t", "fieldgate/probe/sim/probe", "-m", '{"seq":0}'],
                           capture_output=True, timeout=10)
            if self.wait(lambda s: any(t.endswith("/probe") for t, _ in s.messages), 0.5):
                return
        raise AssertionError("the consumer did not see its probe")


def status(conf):
    """The daemon's status (fieldgatectl status --json through the control socket)."""
    out = run([FIELDGATECTL, "-c", conf, "status", "--json"])
    return json.loads(out.stdout)


def wait_status(conf, predicate, timeout):
    """Poll the status until predicate holds; the last status either way."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            st = status(conf)
        except (ValueError, subprocess.SubprocessError):
            st = None
        if st is not None and predicate(st):
            return st
        if time.monotonic() > deadline:
            return st
        time.sleep(0.1)


def restart_broker(broker):
    """SIGTERM the broker (it saves its persistence file) and start it again on its port."""
    broker.stop()
    broker.start()
