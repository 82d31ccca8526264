#!/usr/bin/env bash
# Dry run of a lockstep release: checks what RELEASING.md asks of every
# released module's go.mod and prints the tags the release would create.
# It creates, edits and pushes nothing.
#
#   scripts/release-dry-run.sh v1.2.3
#
# Checks, for each released module:
#   - its go.mod declares github.com/limits-go/limits/<dir>;
#   - every sibling it requires is itself released (never examples, bench
#     or reliability) and has a replace to its relative directory, which
#     holds that module;
#   - every replace of a sibling points at that sibling's directory;
#   - the tag <dir>/VERSION does not exist yet.
# Sibling requires not yet at VERSION are listed as the edits the release
# commit must make (they do not fail the dry run). Exits 1 if a check fails.
# RELEASE_ROOT overrides the repository root (for tests).
set -euo pipefail

root="${RELEASE_ROOT:-$(cd "$(dirname "$0")/.." && pwd)}"
prefix="github.com/limits-go/limits"
released=(limiter storage/memory storage/redis storage/memcached conformance chilimit)

usage() {
	echo "usage: $0 vMAJOR.MINOR.PATCH[-PRERELEASE]" >&2
	exit 2
}
[ $# -eq 1 ] || usage
version="$1"
if ! [[ "$version" =~ ^v(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z.-]+)?$ ]]; then
	echo "release: version $version is not a semantic version such as v1.2.3" >&2
	usage
fi
if [[ "$version" =~ ^v([2-9]|[1-9][0-9]+)\. ]]; then
	echo "release: $version needs /vN module paths (Go's major version suffix); not supported by this script" >&2
	exit 1
fi

is_released() {
	local d
	for d in "${released[@]}"; do
		[ "$d" = "$1" ] && return 0
	done
	return 1
}

# modfile prints the module path, then "require PATH VERSION" and
# "replace OLD NEW" lines, from go mod edit -json.
modfile() {
	(cd "$1" && go mod edit -json) | awk '
		/"Module": \{/ { sec = "module"; next }
		/"Require": \[/ { sec = "require"; next }
		/"Replace": \[/ { sec = "replace"; next }
		/"(Exclude|Retract|Tool|Ignore|Godebug)":/ { sec = "" }
		/"Old": \{/ { side = "old" }
		/"New": \{/ { side = "new" }
		/"Path":/ {
			gsub(/[",]/, "", $2)
			if (sec == "module") { print "module", $2; sec = "" }
			else if (sec == "require") path = $2
			else if (sec == "replace" && side == "old") old = $2
			else if (sec == "replace" && side == "new") print "replace", old, $2
		}
		/"Version":/ && sec == "require" { gsub(/[",]/, "", $2); print "require", path, $2 }
	'
}

failed=0
fail() {
	echo "FAIL: $*"
	failed=1
}
edits=()
tags=()

for dir in "${released[@]}"; do
	gomod="$root/$dir/go.mod"
	if [ ! -f "$gomod" ]; then
		fail "$dir: no go.mod"
		continue
	fi
	want="$prefix/$dir"
	declare -A replaced=()
	while read -r kind a b; do
		case "$kind" in
		module)
			[ "$a" = "$want" ] || fail "$dir/go.mod: module $a, want $want"
			;;
		replace)
			case "$a" in
			"$prefix"/*)
				sib="${a#"$prefix"/}"
				replaced[$sib]=1
				target=""
				if [ -d "$root/$dir/$b" ]; then
					target="$(cd "$root/$dir/$b" && pwd)"
				fi
				if [ "$target" != "$root/$sib" ]; then
					fail "$dir/go.mod: replace $a => $b does not point at $sib/"
				fi
				;;
			esac
			;;
		esac
	done < <(modfile "$root/$dir")
	while read -r kind a b; do
		[ "$kind" = require ] || continue
		case "$a" in
		"$prefix"/*) ;;
		*) continue ;;
		esac
		sib="${a#"$prefix"/}"
		if ! is_released "$sib"; then
			fail "$dir/go.mod: requires $a, which is never released"
			continue
		fi
		[ -n "${replaced[$sib]:-}" ] || fail "$dir/go.mod: requires $a without a replace => its relative directory"
		if [ "$b" != "$version" ]; then
			edits+=("$dir/go.mod: require $a $b -> $version")
		fi
	done < <(modfile "$root/$dir")
	unset replaced
	tag="$dir/$version"
	if git -C "$root" rev-parse -q --verify "refs/tags/$tag" >/dev/null 2>&1; then
		fail "tag $tag exists already"
	fi
	tags+=("$tag")
done

if [ ${#edits[@]} -gt 0 ]; then
	echo "The release commit must set these sibling requires (see RELEASING.md):"
	printf '  %s\n' "${edits[@]}"
fi
if [ "$failed" -ne 0 ]; then
	echo "release $version: dry run failed; no tags would be created"
	exit 1
fi
echo "Tags the release would create on the release commit (nothing was created):"
printf '  %s\n' "${tags[@]}"
