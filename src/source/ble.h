/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/*
 * The BLE source: advertisements from BlueZ (bluetoothd) over D-Bus with
 * sd-bus, on the daemon's sd-event loop. No raw HCI sockets: they fight
 * bluetoothd.
 *
 * Scanning is passive through BlueZ's AdvertisementMonitor API
 * (org.bluez.AdvertisementMonitorManager1, an "or_patterns" monitor that
 * matches every advertisement) where the adapter offers it and mode is auto
 * or passive, else active: SetDiscoveryFilter({Transport: le, DuplicateData:
 * true}) and StartDiscovery. The mode in use is logged at start.
 *
 * Advertisements come from ObjectManager InterfacesAdded and from
 * PropertiesChanged on org.bluez.Device1 (ManufacturerData, ServiceData,
 * RSSI, AddressType): each change is handed over at once through fn.
 *
 * It survives its environment: bluetoothd going away and coming back
 * (NameOwnerChanged: scanning is set up again), the adapter powered off,
 * removed and added again, no adapter at start (logged once, retried every
 * few seconds); the daemon's other sources run on meanwhile. Devices that
 * `wanted` declines and that were not seen for forget_after_s are removed
 * from bluetoothd (Adapter1.RemoveDevice), so random-address advertisers do
 * not pile up in it.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <systemd/sd-event.h>

#include "codec/ble.h"
#include "config/config.h"

#define FG_BLE_DATA_MAX 8 /* service and manufacturer data entries per advertisement */

struct fg_ble_adv {
	const char *address;	/* "A4:C1:38:00:11:22", upper case */
	bool random_address;	/* AddressType "random" */
	bool has_rssi;
	int16_t rssi;
	const struct fg_ble_data *data; /* valid during the callback only */
	size_t n_data;
};

typedef void (*fg_ble_adv_fn)(const struct fg_ble_adv *adv, void *userdata);
/* Whether we use this advertiser (configured, or decodable with ble.unknown = decode). */
typedef bool (*fg_ble_wanted_fn)(const char *address, void *userdata);

struct fg_ble_stats {
	uint64_t adverts;	    /* advertisements handed over */
	uint64_t bluez_restarts;    /* bluetoothd came back */
	uint64_t devices_removed;   /* forgotten in bluetoothd */
	bool adapter_present;
	bool scanning;
	bool passive;		    /* AdvertisementMonitor in use */
};

struct fg_ble;

/*
 * Start on cfg->bus (NULL: the system bus; DBUS_SYSTEM_BUS_ADDRESS is
 * honoured by sd-bus), adapter cfg->adapter. cfg is copied. Returns 0 even
 * when bluetoothd or the adapter is missing (it keeps trying), or a negative
 * errno when the bus itself cannot be used, after logging why.
 */
int fg_ble_new(const struct fg_ble_source_config *cfg, uint32_t forget_after_s, sd_event *loop,
	       fg_ble_adv_fn fn, fg_ble_wanted_fn wanted, void *userdata, struct fg_ble **ret);
void fg_ble_free(struct fg_ble *b);
void fg_ble_get_stats(const struct fg_ble *b, struct fg_ble_stats *ret);
