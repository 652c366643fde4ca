#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# bench-report.sh -- figures.tsv (tools/bench-run.sh, bench/benchutil.h)
# to results.json and a Markdown table.
#
# Usage: tools/bench-report.sh FIGURES.TSV RESULTS.JSON RESULTS.MD
#
# results.json:
#   commit, date, cc, seconds     the run
#   machine                       nproc, model, kernel, hostname; start and
#                                 end: the cpu line of /proc/stat (jiffies)
#                                 and loadavg; over the run: steal_pct and
#                                 busy_pct of all CPU time
#   programs                      [{name, seconds, cpu_seconds, status}]:
#                                 cpu_seconds is user + system of the
#                                 program and its children
#   figures                       [{bench, name, unit, value, peer,
#                                 peer_value, ratio}]: peer names another
#                                 figure of the same bench; ratio says how
#                                 many times better ours is (peer / value
#                                 for times, sizes and counts; value / peer
#                                 for rates, units with "/s" or "x")
#   series                        [{bench, series, xunit, x, yunit, y}]:
#                                 the points make plots draws
#   targets                       [{bench, name, unit, value, op, goal,
#                                 verdict}]; verdict "not judged: noisy"
#                                 when the bench found the machine busy
# results.md: the machine line, then one table of the figures that have a
# peer (with the ratio), the targets, and the quiet figures.

set -eu

[ $# -eq 3 ] || { echo "usage: $0 FIGURES.TSV RESULTS.JSON RESULTS.MD" >&2; exit 2; }

awk -F '\t' -v json="$2" -v md="$3" '
function esc(s) {
	gsub(/\\/, "\\\\", s); gsub(/"/, "\\\"", s); gsub(/\t/, " ", s)
	return "\"" s "\""
}
function num(s) {
	if (s == "")
		return "null"
	return (s ~ /^-?[0-9.]+(e[-+]?[0-9]+)?$/) ? s + 0 : esc(s)
}
# higher is better for rates and speedups
function higher(unit) { return unit ~ /\/s/ || unit == "x" }
function kv(line, what,    n, i, a, p, o) {
	n = split(line, a, " ")
	o = ""
	for (i = 1; i <= n; i++) {
		split(a[i], p, "=")
		o = o (o == "" ? "" : ", ") esc(p[1]) ": " num(p[2])
		snapv[what, p[1]] = p[2]
	}
	return "{" o "}"
}
function share(f,    tot, d, k, n, keys) {
	n = split("user nice system idle iowait irq softirq steal", keys, " ")
	tot = 0
	for (k = 1; k <= n; k++)
		tot += snapv["end", keys[k]] - snapv["start", keys[k]]
	if (tot <= 0)
		return -1
	if (f == "busy")
		d = (snapv["end", "user"] + snapv["end", "nice"] + snapv["end", "system"] + \
		    snapv["end", "irq"] + snapv["end", "softirq"]) - \
		    (snapv["start", "user"] + snapv["start", "nice"] + snapv["start", "system"] + \
		    snapv["start", "irq"] + snapv["start", "softirq"])
	else
		d = snapv["end", f] - snapv["start", f]
	return sprintf("%.1f", 100 * d / tot)
}
function ratiofmt(x) { return x >= 100 ? sprintf("%.0f", x) : sprintf("%.3g", x) }
function fmt(v, unit) {
	if (v == "")
		return "n/a"
	if (v + 0 >= 100000 || unit ~ /instr/)
		return sprintf("%.0f", v)
	if (v + 0 >= 100)
		return sprintf("%.0f", v)
	if (v + 0 >= 10)
		return sprintf("%.1f", v)
	return sprintf("%.2f", v)
}
$1 == "machine" || $1 == "run" { info[$1, $2] = $3; next }
$1 == "snap" { snap[$2] = kv($3, $2); next }
$1 == "prog" { np++; pname[np] = $2; psec[np] = $3; pst[np] = $4; pcpu[np] = $5; next }
$1 == "fig" {
	nf++; fb[nf] = $2; fn[nf] = $3; fu[nf] = $4; fv[nf] = $5; fp[nf] = $6
	val[$2, $3] = $5
	next
}
$1 == "point" {
	ns++; sb[ns] = $2; ss[ns] = $3; sxu[ns] = $4; sx[ns] = $5; syu[ns] = $6; sy[ns] = $7
	next
}
$1 == "target" {
	nt++; tb[nt] = $2; tn[nt] = $3; tu[nt] = $4; tv[nt] = $5; top[nt] = $6
	tg[nt] = $7; tver[nt] = $8
	next
}
END {
	steal = share("steal"); busy = share("busy")
	printf "{\n" > json
	printf "  \"commit\": %s,\n  \"date\": %s,\n  \"cc\": %s,\n  \"seconds\": %s,\n", \
	    esc(info["run", "commit"]), esc(info["run", "date"]), esc(info["run", "cc"]), \
	    num(info["run", "seconds"]) > json
	printf "  \"machine\": {\n    \"nproc\": %s,\n    \"model\": %s,\n    \"kernel\": %s,\n" \
	    "    \"hostname\": %s,\n    \"start\": %s,\n    \"end\": %s,\n" \
	    "    \"steal_pct\": %s,\n    \"busy_pct\": %s\n  },\n", \
	    num(info["machine", "nproc"]), esc(info["machine", "model"]), \
	    esc(info["machine", "kernel"]), esc(info["machine", "hostname"]), \
	    snap["start"] == "" ? "null" : snap["start"], \
	    snap["end"] == "" ? "null" : snap["end"], steal, busy > json
	printf "  \"programs\": [" > json
	for (i = 1; i <= np; i++)
		printf "%s\n    {\"name\": %s, \"seconds\": %s, \"cpu_seconds\": %s, \"status\": %s}", \
		    (i > 1 ? "," : ""), esc(pname[i]), num(psec[i]), num(pcpu[i]), esc(pst[i]) > json
	printf "\n  ],\n  \"figures\": [" > json
	for (i = 1; i <= nf; i++) {
		pv = ""; r = ""
		if (fp[i] != "" && ((fb[i], fp[i]) in val)) {
			pv = val[fb[i], fp[i]]
			if (fv[i] + 0 > 0 && pv + 0 > 0)
				r = ratiofmt(higher(fu[i]) ? fv[i] / pv : pv / fv[i])
		}
		ratio[i] = r; peerv[i] = pv
		printf "%s\n    {\"bench\": %s, \"name\": %s, \"unit\": %s, \"value\": %s, " \
		    "\"peer\": %s, \"peer_value\": %s, \"ratio\": %s}", (i > 1 ? "," : ""), \
		    esc(fb[i]), esc(fn[i]), esc(fu[i]), num(fv[i]), \
		    fp[i] == "" ? "null" : esc(fp[i]), pv == "" ? "null" : num(pv), \
		    r == "" ? "null" : num(r) > json
	}
	printf "\n  ],\n  \"series\": [" > json
	for (i = 1; i <= ns; i++)
		printf "%s\n    {\"bench\": %s, \"series\": %s, \"xunit\": %s, \"x\": %s, " \
		    "\"yunit\": %s, \"y\": %s}", (i > 1 ? "," : ""), esc(sb[i]), esc(ss[i]), \
		    esc(sxu[i]), num(sx[i]), esc(syu[i]), num(sy[i]) > json
	printf "\n  ],\n  \"targets\": [" > json
	for (i = 1; i <= nt; i++)
		printf "%s\n    {\"bench\": %s, \"name\": %s, \"unit\": %s, \"value\": %s, " \
		    "\"op\": %s, \"goal\": %s, \"verdict\": %s}", (i > 1 ? "," : ""), esc(tb[i]), \
		    esc(tn[i]), esc(tu[i]), num(tv[i]), esc(top[i]), num(tg[i]), \
		    esc(tver[i]) > json
	printf "\n  ]\n}\n" > json

	printf "Machine: %s, %s CPUs, %s; %s; commit %s, %s.", \
	    info["machine", "model"], info["machine", "nproc"], info["machine", "kernel"], \
	    info["run", "cc"], info["run", "commit"], info["run", "date"] > md
	if (snap["start"] != "")
		printf "  %s s in all; steal %s %%, busy %s %% of all CPU time over the " \
		    "run (ours included); loadavg %s at the start, %s at the end.", \
		    info["run", "seconds"], steal, busy, snapv["start", "load1"], \
		    snapv["end", "load1"] > md
	printf "\n\n" > md
	printf "| bench | figure | value | peer | peer value | ratio |\n" > md
	printf "|---|---|---:|---|---:|---:|\n" > md
	for (i = 1; i <= nf; i++) {
		if (fp[i] == "")
			continue
		printf "| %s | %s | %s %s | %s | %s %s | %s |\n", fb[i], fn[i], \
		    fmt(fv[i], fu[i]), fu[i], fp[i], fmt(peerv[i], fu[i]), fu[i], \
		    ratio[i] == "" ? "n/a" : ratio[i] "x" > md
	}
	printf "\nRatio: how many times better the figure is than its peer (peer / " \
	    "figure for times, sizes and counts; figure / peer for rates).\n\n" > md
	if (nt > 0) {
		printf "| bench | target | measured | goal | verdict |\n|---|---|---:|---:|---|\n" > md
		for (i = 1; i <= nt; i++)
			printf "| %s | %s | %s %s | %s %s %s | %s |\n", tb[i], tn[i], \
			    fmt(tv[i], tu[i]), tu[i], top[i], tg[i], tu[i], tver[i] > md
		printf "\n" > md
	}
	if (np == 0)
		exit
	printf "| bench | seconds | CPU seconds | steal %% | other work %% CPU | loadavg start | loadavg end |\n" > md
	printf "|---|---:|---:|---:|---:|---:|---:|\n" > md
	for (i = 1; i <= np; i++)
		printf "| %s | %s | %s | %s | %s | %s | %s |\n", pname[i], psec[i], \
		    (pcpu[i] == "" ? "n/a" : pcpu[i]), \
		    fmt(val[pname[i], "steal time"]), fmt(val[pname[i], "other work on the machine"]), \
		    val[pname[i], "loadavg at start"], val[pname[i], "loadavg at end"] > md
}' "$1"
