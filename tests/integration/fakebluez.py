# SPDX-License-Identifier: GPL-3.0-or-later
"""A stand-in for bluetoothd on a private bus: a dbus-daemon on a unix socket
in the test's directory and python3-dbusmock's bluez5 template on it as
org.bluez, plus a client to drive the mock (adapters, devices, advertisements).

available() says whether dbus-daemon and dbusmock are installed; tests skip
without them."""
import os
import shutil
import subprocess
import sys
import time

try:
    import dbus
    import dbusmock  # noqa: F401
    HAVE_DBUSMOCK = True
except ImportError:
    HAVE_DBUSMOCK = False

BLUEZ = "org.bluez"
MOCK_IFACE = "org.bluez.Mock"
DBUSMOCK_IFACE = "org.freedesktop.DBus.Mock"
ADAPTER_IFACE = "org.bluez.Adapter1"
DEVICE_IFACE = "org.bluez.Device1"
PROPS_IFACE = "org.freedesktop.DBus.Properties"
BASE_UUID = "-0000-1000-8000-00805f9b34fb"


def available():
    """None when everything is there, else why not."""
    if not shutil.which("dbus-daemon"):
        return "dbus-daemon is not installed"
    if not HAVE_DBUSMOCK:
        return "python3-dbusmock (and python3-dbus) is not installed"
    return None


def uuid16(short):
    """The 128-bit UUID string of a 16-bit one, as BlueZ writes ServiceData keys."""
    return f"0000{short:04x}{BASE_UUID}"


def _wait(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"{what} within {timeout}s")


class PrivateBus:
    """dbus-daemon with the session policy (anyone may own any name) on DIR/bus."""

    def __init__(self, directory):
        self.path = os.path.join(directory, "bus")
        self.address = f"unix:path={self.path}"
        self.start()

    def start(self):
        if os.path.exists(self.path):
            os.unlink(self.path)
        self.proc = subprocess.Popen(
            ["dbus-daemon", "--session", "--nofork", "--nopidfile", f"--address={self.address}",
             "--print-address"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = self.proc.stdout.readline()  # printed once it listens
        if not line:
            raise AssertionError("dbus-daemon did not start")
        self.conn = dbus.bus.BusConnection(self.address)

    def has_owner(self, name):
        return bool(self.conn.name_has_owner(name))

    def stop(self):
        try:
            self.conn.close()
        except Exception:
            pass
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self.proc.stdout.close()


class FakeBluez:
    """python3-dbusmock's bluez5 template as org.bluez on the private bus."""

    def __init__(self, bus, directory):
        self.bus = bus
        self.log = os.path.join(directory, "bluez-mock.log")
        self.proc = None

    def start(self, timeout=10):
        env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=self.bus.address)
        env.pop("DBUS_SESSION_BUS_ADDRESS", None)
        with open(self.log, "a") as log:
            self.proc = subprocess.Popen([sys.executable, "-m", "dbusmock", "--system", "--template",
                                          "bluez5"], env=env, stdout=log, stderr=log)
        _wait(lambda: self.bus.has_owner(BLUEZ) or self.proc.poll() is not None, timeout,
              "the bluez mock took org.bluez")
        if self.proc.poll() is not None:
            raise AssertionError("the bluez mock died: " + self.read_log())

    def kill(self):
        """Die as bluetoothd would on a crash: no goodbye."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=5)
        _wait(lambda: not self.bus.has_owner(BLUEZ), 5, "org.bluez left the bus")

    def read_log(self):
        try:
            with open(self.log, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def obj(self, path):
        return self.bus.conn.get_object(BLUEZ, path)

    def add_adapter(self, name="hci0", monitor_api=False):
        path = self.obj("/").AddAdapter(name, "fieldgate-test", dbus_interface=MOCK_IFACE)
        if monitor_api:
            # BlueZ's AdvertisementMonitorManager1: RegisterMonitor accepts any app root.
            a = self.obj(path)
            a.AddProperties("org.bluez.AdvertisementMonitorManager1", {
                "SupportedMonitorTypes": dbus.Array(["or_patterns"], signature="s"),
                "SupportedFeatures": dbus.Array([], signature="s"),
            }, dbus_interface=DBUSMOCK_IFACE)
            a.AddMethods("org.bluez.AdvertisementMonitorManager1", [
                ("RegisterMonitor", "o", "", ""),
                ("UnregisterMonitor", "o", "", ""),
            ], dbus_interface=DBUSMOCK_IFACE)
        return path

    def remove_adapter(self, name="hci0"):
        self.obj("/").RemoveAdapter(name, dbus_interface=MOCK_IFACE)

    def add_device(self, address, alias="sensor", adapter="hci0", address_type="public",
                   rssi=-79, service_data=None):
        """A device as bluetoothd announces one (InterfacesAdded), with BlueZ's types.

        (The template's AddDevice sends ManufacturerData and ServiceData as
        aa{qv} and aa{sv}: see add_template_device.)"""
        path = f"/org/bluez/{adapter}/dev_" + address.replace(":", "_").upper()
        props = {
            "Address": dbus.String(address),
            "AddressType": dbus.String(address_type),
            "Alias": dbus.String(alias),
            "Adapter": dbus.ObjectPath(f"/org/bluez/{adapter}"),
            "Paired": dbus.Boolean(False),
            "Connected": dbus.Boolean(False),
            "RSSI": dbus.Int16(rssi),
            "ManufacturerData": dbus.Dictionary({}, signature="qv"),
            "ServiceData": dbus.Dictionary(
                {uuid16(u): dbus.ByteArray(v) for u, v in (service_data or {}).items()},
                signature="sv"),
        }
        root = self.obj("/")
        root.AddObject(path, DEVICE_IFACE, props, [], dbus_interface=DBUSMOCK_IFACE)
        root.EmitSignal("org.freedesktop.DBus.ObjectManager", "InterfacesAdded", "oa{sa{sv}}",
                        [dbus.ObjectPath(path),
                         dbus.Dictionary({DEVICE_IFACE: dbus.Dictionary(props, signature="sv")},
                                         signature="sa{sv}")],
                        dbus_interface=DBUSMOCK_IFACE)
        return path

    def add_template_device(self, address, alias="sensor", adapter="hci0"):
        """A device from the template's AddDevice (some properties of the wrong type)."""
        return self.obj("/").AddDevice(adapter, address, alias, dbus_interface=MOCK_IFACE)

    def calls(self, path, method):
        return self.obj(path).GetMethodCalls(method, dbus_interface=DBUSMOCK_IFACE)

    def adapter_property(self, path, name):
        return self.obj(path).Get(ADAPTER_IFACE, name, dbus_interface=PROPS_IFACE)

    def advertise(self, path, service_data=None, manufacturer_data=None, rssi=None):
        """Change a device's advertisement as bluetoothd does: one PropertiesChanged.

        service_data: {16-bit uuid: bytes}; manufacturer_data: {company id: bytes}."""
        props = {}
        if service_data is not None:
            props["ServiceData"] = dbus.Dictionary(
                {uuid16(u): dbus.ByteArray(v) for u, v in service_data.items()}, signature="sv")
        if manufacturer_data is not None:
            props["ManufacturerData"] = dbus.Dictionary(
                {dbus.UInt16(c): dbus.ByteArray(v) for c, v in manufacturer_data.items()},
                signature="qv")
        if rssi is not None:
            props["RSSI"] = dbus.Int16(rssi)
        # Not the mock's UpdateProperties: it cannot wrap a dict in a variant.
        self.emit_raw(path, props)

    def emit_raw(self, path, changed):
        """A PropertiesChanged with exactly these (possibly wrong) types."""
        self.obj(path).EmitSignal(PROPS_IFACE, "PropertiesChanged", "sa{sv}as",
                                  [DEVICE_IFACE, dbus.Dictionary(changed, signature="sv"),
                                   dbus.Array([], signature="s")],
                                  dbus_interface=DBUSMOCK_IFACE)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
