/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/*
 * MESSAGE_IDs of the events an operator filters on, one 128-bit id each
 * (generated once with systemd-id128 new; never change one, never reuse one):
 *
 *   journalctl -u fieldgate MESSAGE_ID=465d87968e4f483ca400f4c5d93f14c1
 *
 * Each has an entry in conf/fieldgate.catalog (installed to systemd's catalog
 * directory, so `journalctl -x` explains it) and in fieldgated(8), JOURNAL;
 * tests/integration/test_journal.py checks that the three agree.
 */

/* The connection to the broker, once up, broke (FIELDGATE_BROKER, FIELDGATE_REASON). */
#define FG_MESSAGE_BROKER_LOST "465d87968e4f483ca400f4c5d93f14c1"
/* Connected again after a loss (FIELDGATE_BROKER, FIELDGATE_OUTAGE_SEC). */
#define FG_MESSAGE_BROKER_RESTORED "605c1a3800dd4d26b2a4c799b7ae72c9"
/* The buffer is full and an eviction episode began (FIELDGATE_EVICT_CAUSE, FIELDGATE_POLICY). */
#define FG_MESSAGE_EVICTION_STARTED "14e97549994c419982dbdf2158f447a1"
/* The episode ended (FIELDGATE_EVICTED, FIELDGATE_EVICTED_TOTAL). */
#define FG_MESSAGE_EVICTION_ENDED "e32c196a5810444f8727537d54cad47c"
/* An attempt to start the concentrator failed (FIELDGATE_ATTEMPT, FIELDGATE_RETRY_SEC). */
#define FG_MESSAGE_CONCENTRATOR_FAILED "b7d86ab8da0e4f90b7b02df02f10c232"
/* The concentrator started and receives (FIELDGATE_CHIP, FIELDGATE_EUI, FIELDGATE_SPI). */
#define FG_MESSAGE_CONCENTRATOR_STARTED "3774e5b91d0b4683a03a6dcd226930a8"
/* The buffer's filesystem is nearly full: below twice the free space kept (FIELDGATE_DISK_FREE). */
#define FG_MESSAGE_DISK_LOW "6ce6a81f4f6643cc82f32ffc159429fa"
/* The buffer's filesystem has room again (FIELDGATE_DISK_FREE). */
#define FG_MESSAGE_DISK_RECOVERED "860ab474c9074f108a73c97f3b095f35"
/* The wall clock became known (FIELDGATE_CLOCK_WAIT_SEC). */
#define FG_MESSAGE_CLOCK_SYNCHRONIZED "b89c054e71c64db79d82800c92905fdd"
