#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# The three man pages, as generated for this build, pass mandoc's lint with no warning.
set -u
if [ -z "${MANDOC:-}" ]; then
	echo "mandoc not found: skipped"
	exit 77
fi
status=0
for page in fieldgated.8 fieldgatectl.1 fieldgate.conf.5; do
	out=$("$MANDOC" -Tlint -W warning "$FG_BUILDDIR/man/$page" 2>&1)
	if [ -n "$out" ]; then
		echo "$out"
		status=1
	else
		echo "ok: $page"
	fi
done
exit $status
