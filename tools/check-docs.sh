#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# check-docs.sh -- every identifier the docs put in backticks exists in
# the code, so that a rename or a removal cannot leave the docs naming
# something that is gone.
#
# Usage: tools/check-docs.sh DOC.md...
#
# An inline code span counts as an identifier when, after dropping a
# leading struct/enum/union, '&' or '*', a trailing '()', '(args)' or
# '[]', it is NAME or NAME.NAME / NAME->NAME (each NAME is then checked);
# NAME is [A-Za-z_][A-Za-z0-9_]*.  Anything else is prose, a command, a
# path, a pattern or an expression and is skipped: spans with a space,
# '/', '=', '*', '<', a leading '-' or a file extension (proc.c).
# Fenced code blocks are skipped whole.
#
# "The code" is runtime/, preload/, include/, tests/, bench/, examples/,
# tools/ and the Makefile with their comments stripped: a name that only
# a comment mentions does not count; a GPI_ constant also counts under
# its shorter names (below).  Names from outside (glibc, the
# kernel, liburcu, BSD, tools) are on the allow-list,
# tools/check-docs.allow.  Exit status 1 when a name is missing, with one
# "file:line: name" per missing name.

set -u

here=$(dirname "$0")
allow="$here/check-docs.allow"
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM

[ $# -gt 0 ] || { echo "usage: $0 DOC.md..." >&2; exit 2; }

# ---------------------------------------------------------------- code
# C-like files lose their /* */ and // comments (string and character
# literals are kept: a name in a string, an environment variable's, is
# code); shell, make, python and linker-map files lose what follows '#'.
strip_c='
FNR == 1 { incomment = 0 }
{
	out = ""; n = length($0); i = 1
	while (i <= n) {
		c = substr($0, i, 1); c2 = substr($0, i, 2)
		if (incomment) {
			if (c2 == "*/") { incomment = 0; out = out " "; i += 2 }
			else i++
		} else if (quote != "") {
			if (c == "\\") { out = out c2; i += 2; continue }
			if (c == quote) quote = ""
			out = out c; i++
		} else if (c2 == "/*") { incomment = 1; i += 2
		} else if (c2 == "//") { break
		} else {
			if (c == "\"" || c == "\047") quote = c
			out = out c; i++
		}
	}
	quote = ""
	print out
}'
find runtime preload include tests bench examples tools -type f \
    \( -name '*.[chS]' -o -name '*.cc' \) -exec awk "$strip_c" {} + > "$tmp/code"
for f in Makefile $(find runtime preload tools -type f \( -name '*.sh' \
    -o -name '*.py' -o -name '*.map' -o -name '*.supp' \) 2>/dev/null); do
	sed 's/#.*//' "$f"
done >> "$tmp/code"
tr -c 'A-Za-z0-9_' '\n' < "$tmp/code" | grep '^[A-Za-z_]' | sort -u > "$tmp/names"
# The docs name a flag or state without its GPI_ prefix and group
# (`WEXIT` for GPI_P_WEXIT, `DEAD` for GPI_J_DEAD, `RT_UP` or `UP` for
# GPI_RT_UP): each GPI_ constant also stands for its shorter forms.
sed -n 's/^GPI_\([A-Z0-9_]*\)$/\1/p' "$tmp/names" |
    awk '{ print; n = split($0, w, "_"); s = $0
	for (i = 1; i < n; i++) { s = substr(s, length(w[i]) + 2); print s } }' \
    >> "$tmp/names"

# The allow-list: one name per line, '#' starts a comment.
sed 's/#.*//; s/[[:space:]]//g; /^$/d' "$allow" | sort -u > "$tmp/allow"
sort -u "$tmp/names" "$tmp/allow" > "$tmp/known"

# ---------------------------------------------------------------- docs
# Print "file:line<TAB>span" for each inline code span outside fences.
# A span may run over a line break; it is reported at its first line.
awk '
FNR == 1 { fence = 0; open = 0 }
/^[[:space:]]*```/ { fence = !fence; open = 0; next }
fence { next }
{
	line = $0
	while (line != "") {
		i = index(line, "`")
		if (i == 0) {
			if (open) span = span " " line
			break
		}
		if (open) {
			span = span (span_started ? " " : "") substr(line, 1, i - 1)
			print at "\t" span
			open = 0
		} else {
			open = 1; span = ""; span_started = 0
			at = FILENAME ":" FNR
		}
		line = substr(line, i + 1)
		# A span that opens here and goes on: join the next line.
		if (open && index(line, "`") == 0) {
			span = line; span_started = 1; line = ""
		}
	}
}
/^[[:space:]]*$/ { open = 0 }
' "$@" > "$tmp/spans"

# Reduce each span to the names it checks (tab-separated location first).
sed -n '
s/\t\(struct\|enum\|union\) /\t/
s/\t[&*]*/\t/
s/(\([^()]*\))$//
s/\[\]$//
/\t[A-Za-z_][A-Za-z0-9_]*\(\(\.\|->\)[A-Za-z_][A-Za-z0-9_]*\)*$/!d
/\.\(c\|h\|S\|cc\|md\|py\|sh\|so\|a\|go\|pc\|map\|txt\)$/d
s/->/./g
p
' "$tmp/spans" |
awk -F '\t' '{ n = split($2, part, "."); for (i = 1; i <= n; i++) print $1 "\t" part[i] }' |
sort -t '	' -k2,2 > "$tmp/used"

awk -F '\t' 'NR == FNR { known[$1] = 1; next } !($2 in known) { print $1 ": " $2 }' \
    "$tmp/known" "$tmp/used" | sort -t: -k1,1 -k2,2n > "$tmp/missing"

if [ -s "$tmp/missing" ]; then
	echo "check-docs: these names in backticks are not in the code" \
	    "(outside comments) nor on $allow:" >&2
	cat "$tmp/missing" >&2
	exit 1
fi
echo "check-docs: ok ($(cut -f2 "$tmp/used" | sort -u | wc -l) names in $# files)"
