/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef FG_TEST_LORAGW_COM_H
#define FG_TEST_LORAGW_COM_H

/*
 * Test double of the SX1302 HAL's loragw_com.h (Lora-net/sx1302_hal V2.1.0):
 * only the bus type the board configuration names. Written for fieldgate's
 * tests; not Semtech's file.
 */

typedef enum com_type_e { LGW_COM_SPI, LGW_COM_USB, LGW_COM_UNKNOWN } lgw_com_type_t;

#endif
