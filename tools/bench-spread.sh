#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# bench-spread.sh -- the median and spread of every figure and target over
# several make bench runs, as a Markdown table.
#
# Usage: tools/bench-spread.sh RESULTS.JSON... > SPREAD.MD
#
# One run on this kind of machine (a shared 2-vCPU VM) can be off by 2x;
# what survives is the median over runs and how far the runs spread.  Each
# RESULTS.JSON is one run's tools/bench-report.sh output, which writes one
# figure or target per line: that is all this script relies on.  For a
# target it also counts the runs that met it, missed it, and could not
# judge it (the bench found the machine busy).

set -u

[ $# -ge 1 ] || { echo "usage: $0 RESULTS.JSON..." >&2; exit 2; }

awk '
# The string value of "key" on this line, or "".
function str(key,    m) {
	if (!match($0, "\"" key "\": \"([^\"\\\\]|\\\\.)*\""))
		return ""
	m = substr($0, RSTART, RLENGTH)
	sub("^\"" key "\": \"", "", m)
	sub("\"$", "", m)
	gsub(/\\"/, "\"", m)		# the names may quote: getaddrinfo("...")
	return m
}
# The numeric value of "key" on this line, or "" (null).
function num(key,    m) {
	if (!match($0, "\"" key "\": -?[0-9.eE+-]+"))
		return ""
	m = substr($0, RSTART, RLENGTH)
	sub("^\"" key "\": ", "", m)
	return m + 0
}
function sortn(a, n,    i, j, t) {		# insertion sort, n is small
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && a[j - 1] > a[j]; j--) {
			t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
		}
}
function median(a, n) {
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
FNR == 1 {
	runs++
	if (commit == "") { commit = "?"; first = 1 }
}
/"commit": / && first { commit = str("commit"); first = 0 }
/"verdict": / {
	k = str("bench") SUBSEP str("name")
	if (!(k in tunit)) { torder[++nt] = k; tunit[k] = str("unit") }
	tgoal[k] = str("op") " " num("goal")
	tv[k, ++tn[k]] = num("value")
	v = str("verdict")
	if (v == "met") tmet[k]++
	else if (v == "missed") tmiss[k]++
	else tnoisy[k]++
	next
}
/"unit": / && /"value": / && !/"series": / {
	k = str("bench") SUBSEP str("name")
	if (!(k in funit)) { forder[++nf] = k; funit[k] = str("unit") }
	fv[k, ++fn[k]] = num("value")
}
function row(k, vals, cnt, unit, extra,    a, i, n, b) {
	n = cnt
	for (i = 1; i <= n; i++)
		a[i] = vals[k, i]
	sortn(a, n)
	split(k, b, SUBSEP)
	printf "| %s | %s | %g | %g | %g | %d%s |\n", b[1], b[2], median(a, n),
	    a[1], a[n], n, extra
}
END {
	printf "# make bench: %d runs (first commit %s)\n\n", runs, commit
	printf "Median, lowest and highest value of each figure over the runs.\n\n"
	printf "| bench | figure | median | min | max | runs |\n"
	printf "|---|---|---:|---:|---:|---:|\n"
	for (i = 1; i <= nf; i++) {
		k = forder[i]
		row(k, fv, fn[k], funit[k], "")
	}
	printf "\n## Targets\n\n"
	printf "| bench | target | median | min | max | runs | goal | met / missed / not judged |\n"
	printf "|---|---|---:|---:|---:|---:|---|---|\n"
	for (i = 1; i <= nt; i++) {
		k = torder[i]
		row(k, tv, tn[k], tunit[k], sprintf(" | %s %s | %d / %d / %d",
		    tgoal[k], tunit[k], tmet[k], tmiss[k], tnoisy[k]))
	}
}
' "$@"
