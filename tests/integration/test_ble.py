#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""BLE end to end: python3-dbusmock's bluez5 template stands in for
bluetoothd on a private dbus-daemon (fakebluez.py), the real fieldgated
scans through it with sd-bus, and a real mosquitto subscriber gets the
readings. bluetoothd crashing and coming back, the adapter going away and
being powered off, and malformed signals leave the daemon running."""
import json
import os
import signal
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from broker import Broker, Subscriber  # noqa: E402
from fakebluez import FakeBluez, PrivateBus, available  # noqa: E402
from fgtest import FIELDGATECTL, Daemon, NotifySocket, run, tempdir  # noqa: E402

PORCH = "A4:C1:38:00:11:22"
STRANGER = "11:22:33:44:55:66"
ADAPTER = "/org/bluez/hci0"
# ATC1441: MAC, 21.5 C (0x00d7), 45 %, 87 %, 2950 mV (0x0b86), counter 1.
ATC = bytes.fromhex("a4c138001122" "00d7" "2d" "57" "0b86" "01")
# BTHome v2, unencrypted: temperature 25.00 C, humidity 50.55 %.
BTHOME = bytes.fromhex("4002c40903bf13")


def config(state, broker_port, bus, mode="active"):
    return f"""
gateway = {{ id = "itest"; state_dir = "{state}"; runtime_dir = "{state}";
  log_level = "info"; trust_system_clock = true; }};
buffer = {{ commit_interval_ms = 50; }};
mqtt = {{ host = "127.0.0.1"; port = {broker_port}; stats_interval = 0; }};
sources = {{ ble = {{ enabled = true; adapter = "hci0"; mode = "{mode}"; bus = "{bus}"; }}; }};
ble = {{
  unknown = "decode";
  min_interval = 0;
  devices = ( {{ name = "porch"; address = "{PORCH}"; codec = "atc1441"; }} );
}};
"""


def topic(address):
    return "fieldgate/itest/ble/" + address.replace(":", "").lower()


def values(pack):
    return {r["n"]: r.get("v") for r in pack}


@unittest.skipIf(available(), available())
class BleTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempdir()
        self.dir = self.tmp.name
        self.conf = os.path.join(self.dir, "fieldgate.conf")
        self.notify = NotifySocket(self.dir)
        self.broker = Broker(self.dir)
        self.broker.start()
        self.sub = Subscriber(self.broker.port, topic="fieldgate/itest/ble/#")
        self.bus = PrivateBus(self.dir)
        self.bluez = FakeBluez(self.bus, self.dir)
        self.daemon = None

    def tearDown(self):
        if self.daemon:
            self.daemon.kill()
        self.bluez.stop()
        self.bus.stop()
        self.sub.stop()
        self.broker.stop()
        self.notify.close()
        self.tmp.cleanup()

    def start(self, mode="active", wait_for="scanning actively (discovery) on 'hci0'"):
        with open(self.conf, "w") as f:
            f.write(config(self.dir, self.broker.port, self.bus.address, mode))
        os.chmod(self.conf, 0o600)
        self.daemon = Daemon(self.conf, notify=self.notify, dry_run=False)
        self.notify.wait_for("READY=1")
        if wait_for:
            self.daemon.wait_stderr(wait_for, 10)
        return self.daemon

    def status(self):
        out = run([FIELDGATECTL, "-c", self.conf, "status", "--json"])
        self.assertEqual(out.returncode, 0, out.stderr)
        return json.loads(out.stdout)

    def wait_status(self, predicate, timeout=10):
        deadline = time.monotonic() + timeout
        st = self.status()
        while not predicate(st) and time.monotonic() < deadline:
            time.sleep(0.1)
            st = self.status()
        self.assertTrue(predicate(st), st)
        return st

    def wait_count(self, text, count, timeout=10):
        deadline = time.monotonic() + timeout
        while self.daemon.stderr().count(text) < count and time.monotonic() < deadline:
            self.daemon.pump(0.05)
        self.assertGreaterEqual(self.daemon.stderr().count(text), count, self.daemon.stderr())

    def readings_for(self, address):
        return [p for t, p in self.sub.readings() if t == topic(address)]

    def wait_reading(self, address, name, value, timeout=10):
        def got(_):
            return any(values(p).get(name) == value for p in self.readings_for(address))
        ok = self.sub.wait(got, timeout)
        self.assertTrue(ok, f"no {name}={value} from {address}; got {self.sub.readings()};"
                            f" stderr: {self.daemon.stderr()}")

    def test_advertisements_become_readings(self):
        self.bluez.start()
        self.bluez.add_adapter()
        porch = self.bluez.add_device(PORCH, "ATC_001122")
        stranger = self.bluez.add_device(STRANGER, "bthome")
        d = self.start()
        # Active scanning: an LE filter with duplicates, then discovery.
        filters = self.bluez.calls(ADAPTER, "SetDiscoveryFilter")
        self.assertEqual(len(filters), 1)
        self.assertEqual(str(filters[0][1][0]["Transport"]), "le")
        self.assertTrue(bool(filters[0][1][0]["DuplicateData"]))
        self.assertEqual(len(self.bluez.calls(ADAPTER, "StartDiscovery")), 1)
        self.assertTrue(self.bluez.adapter_property(ADAPTER, "Discovering"))
        st = self.wait_status(lambda s: s["ble_scanning"] == "active")
        self.assertTrue(st["ble_adapter"])

        self.bluez.advertise(porch, service_data={0x181A: ATC}, rssi=-61)
        self.wait_reading(PORCH, "temperature", 21.5)
        pack = self.readings_for(PORCH)[-1]
        self.assertEqual(values(pack)["humidity"], 45)
        self.bluez.advertise(stranger, service_data={0xFCD2: BTHOME}, rssi=-70)
        self.wait_reading(STRANGER, "humidity", 50.55)
        self.assertEqual(values(self.readings_for(STRANGER)[-1])["temperature"], 25.0)

        # Wrong types (ServiceData as a{ss}, RSSI as a string) are counted and skipped...
        import dbus
        self.bluez.emit_raw(porch, {"ServiceData": dbus.Dictionary(
            {"0000181a-0000-1000-8000-00805f9b34fb": "oops"}, signature="ss")})
        self.bluez.emit_raw(porch, {"RSSI": dbus.String("loud")})
        d.wait_stderr("PropertiesChanged from bluetoothd for "
                      "'/org/bluez/hci0/dev_A4_C1_38_00_11_22' has properties of the wrong type")
        # ... and manufacturer data alone carries the cached service data along.
        before = len(self.readings_for(PORCH))
        self.bluez.advertise(porch, manufacturer_data={0x0059: b"\x01\x02"})
        self.assertTrue(self.sub.wait(lambda _: len(self.readings_for(PORCH)) > before, 10),
                        d.stderr())
        st = self.status()
        self.assertGreaterEqual(st["ble_adverts"], 3)
        self.assertGreaterEqual(st["ble_decoded"], 3)
        self.assertIsNone(d.proc.poll())

        # SIGHUP starts the source again on a new connection; SIGTERM stops discovery.
        d.signal(signal.SIGHUP)
        self.notify.wait_for("READY=1")
        self.wait_count("scanning actively (discovery) on 'hci0'", 2)
        self.assertEqual(len(self.bluez.calls(ADAPTER, "StopDiscovery")), 1)
        self.bluez.advertise(porch, service_data={0x181A: ATC[:12] + b"\x02"})
        self.assertTrue(self.sub.wait(lambda _: len(self.readings_for(PORCH)) > before + 1, 10),
                        d.stderr())
        d.signal(signal.SIGTERM)
        self.assertEqual(d.wait_exit(10), 0, d.stderr())
        self.assertEqual(len(self.bluez.calls(ADAPTER, "StopDiscovery")), 2)

    def test_values_of_the_wrong_type_are_skipped(self):
        self.bluez.start()
        self.bluez.add_adapter()
        d = self.start()
        # The template's device has ServiceData as aa{sv}: the rest of it is still used.
        odd = self.bluez.add_template_device(STRANGER, "odd")
        d.wait_stderr(f"InterfacesAdded from bluetoothd for '{odd}' has properties of the wrong"
                      " type, skipping them")
        self.bluez.advertise(odd, service_data={0xFCD2: BTHOME}, rssi=-50)
        self.wait_reading(STRANGER, "temperature", 25.0)
        # A broken message (a string where the ObjectManager sends an object path) is dropped.
        import dbus
        self.bluez.obj("/").EmitSignal("org.freedesktop.DBus.ObjectManager", "InterfacesAdded",
                                       "sa{sa{sv}}",
                                       ["not a path", dbus.Dictionary({}, signature="sa{sv}")],
                                       dbus_interface="org.freedesktop.DBus.Mock")
        d.wait_stderr("malformed InterfacesAdded from bluetoothd")
        self.bluez.advertise(odd, service_data={0xFCD2: bytes.fromhex("4002f00a")})  # 28.00 C
        self.wait_reading(STRANGER, "temperature", 28.0)
        self.assertIsNone(d.proc.poll())

    def test_power_cycle_scans_again(self):
        self.bluez.start()
        self.bluez.add_adapter()
        porch = self.bluez.add_device(PORCH)
        d = self.start()
        adapter = self.bluez.obj(ADAPTER)
        import dbus
        adapter.UpdateProperties("org.bluez.Adapter1", {"Powered": dbus.Boolean(False)},
                                 dbus_interface="org.freedesktop.DBus.Mock")
        d.wait_stderr("adapter 'hci0' is powered off; BLE scans again when it is powered on")
        self.wait_status(lambda s: s["ble_scanning"] == "no")
        adapter.UpdateProperties("org.bluez.Adapter1", {"Powered": dbus.Boolean(True)},
                                 dbus_interface="org.freedesktop.DBus.Mock")
        d.wait_stderr("adapter 'hci0' is powered on")
        self.wait_status(lambda s: s["ble_scanning"] == "active")
        self.assertEqual(len(self.bluez.calls(ADAPTER, "StartDiscovery")), 2)
        self.bluez.advertise(porch, service_data={0x181A: ATC})
        self.wait_reading(PORCH, "battery", 87)

    def test_bluetoothd_restart_and_adapter_removal(self):
        self.bluez.start()
        self.bluez.add_adapter()
        porch = self.bluez.add_device(PORCH)
        d = self.start()
        self.bluez.advertise(porch, service_data={0x181A: ATC})
        self.wait_reading(PORCH, "temperature", 21.5)

        # bluetoothd crashes: the daemon notices and waits.
        self.bluez.kill()
        d.wait_stderr("bluetoothd left the bus; BLE waits for it to come back")
        st = self.wait_status(lambda s: s["ble_scanning"] == "no")
        self.assertFalse(st["ble_adapter"])

        # It comes back, with the adapter and the device: readings resume.
        self.bluez.start()
        self.bluez.add_adapter()
        porch = self.bluez.add_device(PORCH)
        d.wait_stderr("bluetoothd is back; setting BLE up again")
        self.wait_count("scanning actively (discovery) on 'hci0'", 2)
        st = self.wait_status(lambda s: s["ble_scanning"] == "active")
        self.assertEqual(st["ble_bluez_restarts"], 1)
        warmer = bytearray(ATC)
        warmer[6:8] = (230).to_bytes(2, "big")  # 23.0 C
        self.bluez.advertise(porch, service_data={0x181A: bytes(warmer)})
        self.wait_reading(PORCH, "temperature", 23.0)

        # The adapter goes away: logged, the daemon answers and runs on.
        self.bluez.remove_adapter()
        d.wait_stderr("adapter 'hci0' is gone; BLE waits for it to come back")
        st = self.wait_status(lambda s: not s["ble_adapter"])
        self.assertEqual(st["ble_scanning"], "no")
        self.assertIsNone(d.proc.poll())
        # And back: scanning again.
        self.bluez.add_adapter()
        d.wait_stderr("adapter 'hci0' is here")
        self.wait_status(lambda s: s["ble_adapter"] and s["ble_scanning"] == "active")

    def test_reconnects_when_the_bus_restarts(self):
        self.bluez.start()
        self.bluez.add_adapter()
        d = self.start()
        self.bluez.stop()
        self.bus.stop()
        d.wait_stderr("lost the connection to D-Bus; reconnecting in 5s")
        self.bus.start()
        self.bluez.start()
        self.bluez.add_adapter()
        porch = self.bluez.add_device(PORCH)
        d.wait_stderr("connected to D-Bus again", 15)
        self.wait_count("scanning actively (discovery) on 'hci0'", 2)
        self.bluez.advertise(porch, service_data={0x181A: ATC})
        self.wait_reading(PORCH, "temperature", 21.5)

    def test_waits_for_bluetoothd_and_the_adapter(self):
        d = self.start(wait_for="bluetoothd is not running; BLE waits for it")
        st = self.status()
        self.assertFalse(st["ble_adapter"])
        self.assertEqual(st["ble_scanning"], "no")
        self.bluez.start()
        d.wait_stderr("no adapter 'hci0'; BLE waits for it")
        self.bluez.add_adapter()
        d.wait_stderr("scanning actively (discovery) on 'hci0'")
        self.assertEqual(d.stderr().count("no adapter 'hci0'"), 1)
        porch = self.bluez.add_device(PORCH)
        self.bluez.advertise(porch, service_data={0x181A: ATC})
        self.wait_reading(PORCH, "temperature", 21.5)
        # The first appearance of bluetoothd is no restart.
        self.assertEqual(self.status()["ble_bluez_restarts"], 0)

    def test_passive_scanning_with_an_advertisement_monitor(self):
        self.bluez.start()
        self.bluez.add_adapter(monitor_api=True)
        porch = self.bluez.add_device(PORCH)
        d = self.start(mode="auto", wait_for="scanning passively (AdvertisementMonitor) on 'hci0'")
        calls = self.bluez.calls(ADAPTER, "RegisterMonitor")
        self.assertEqual([str(c[1][0]) for c in calls], ["/org/fieldgate/ble"])
        self.assertEqual(self.bluez.calls(ADAPTER, "StartDiscovery"), [])
        self.wait_status(lambda s: s["ble_scanning"] == "passive")
        # The monitor the daemon exports, as bluetoothd reads it.
        monitor = self.find_monitor()
        self.assertEqual(str(monitor["Type"]), "or_patterns")
        patterns = [(int(p[0]), int(p[1]), bytes(p[2])) for p in monitor["Patterns"]]
        self.assertIn((0, 0x16, b"\xd2\xfc"), patterns)
        self.assertIn((0, 0x16, b"\x1a\x18"), patterns)
        self.bluez.advertise(porch, service_data={0x181A: ATC})
        self.wait_reading(PORCH, "temperature", 21.5)
        self.assertIsNone(d.proc.poll())
        d.signal(signal.SIGTERM)
        self.assertEqual(d.wait_exit(10), 0, d.stderr())
        calls = self.bluez.calls(ADAPTER, "UnregisterMonitor")
        self.assertEqual([str(c[1][0]) for c in calls], ["/org/fieldgate/ble"])

    def test_passive_mode_without_the_api_falls_back_to_discovery(self):
        self.bluez.start()
        self.bluez.add_adapter()
        d = self.start(mode="passive")
        d.wait_stderr("offers no AdvertisementMonitor API")
        self.wait_status(lambda s: s["ble_scanning"] == "active")

    def find_monitor(self):
        """The monitor's properties from the daemon's ObjectManager at the app root."""
        conn = self.bus.conn
        for name in conn.list_names():
            if not name.startswith(":") or name == conn.get_unique_name():
                continue
            try:
                objs = conn.get_object(name, "/org/fieldgate/ble").GetManagedObjects(
                    dbus_interface="org.freedesktop.DBus.ObjectManager", timeout=2)
            except Exception:
                continue
            for _, ifaces in objs.items():
                if "org.bluez.AdvertisementMonitor1" in ifaces:
                    return ifaces["org.bluez.AdvertisementMonitor1"]
        self.fail("no advertisement monitor on the bus")


if __name__ == "__main__":
    unittest.main(verbosity=2)
