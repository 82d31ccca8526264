#!/usr/bin/env bash
# build-test-images.sh builds the local Docker images that conformance/servers
# starts through testcontainers-go when no server binary is on PATH:
#
#   limits-go/redis:test      redis-server (and redis-sentinel) from /usr/bin
#   limits-go/memcached:test  memcached from /usr/bin
#
# No registry is needed: each image is a tiny root filesystem — the binary, the
# shared libraries ldd lists, the dynamic loader and a minimal /etc/passwd —
# loaded with `docker import`. The images carry a fingerprint of the files they
# were built from, so a second run with unchanged binaries does nothing.
#
# Environment:
#   LIMITS_REDIS_IMAGE      tag of the Redis image      (default limits-go/redis:test)
#   LIMITS_MEMCACHED_IMAGE  tag of the memcached image  (default limits-go/memcached:test)
#   REDIS_SERVER_BIN        redis-server to package     (default /usr/bin/redis-server)
#   MEMCACHED_BIN           memcached to package        (default /usr/bin/memcached)
#   FORCE=1                 rebuild even when the fingerprint matches
set -euo pipefail

redis_image=${LIMITS_REDIS_IMAGE:-limits-go/redis:test}
memcached_image=${LIMITS_MEMCACHED_IMAGE:-limits-go/memcached:test}
redis_bin=${REDIS_SERVER_BIN:-/usr/bin/redis-server}
memcached_bin=${MEMCACHED_BIN:-/usr/bin/memcached}

die() {
	echo "build-test-images: $*" >&2
	exit 1
}

for tool in docker ldd tar sha256sum; do
	command -v "$tool" >/dev/null 2>&1 || die "$tool not found on PATH"
done
[[ -x $redis_bin ]] || die "$redis_bin not found: install it with 'apt-get install redis-server' (or set REDIS_SERVER_BIN)"
[[ -x $memcached_bin ]] || die "$memcached_bin not found: install it with 'apt-get install memcached' (or set MEMCACHED_BIN)"
docker info >/dev/null 2>&1 || die "the Docker engine does not answer ('docker info' failed)"

workdir=$(mktemp -d)
trap 'rm -rf "$workdir"' EXIT

# libs prints the absolute paths of the shared libraries and the loader a
# binary needs, as resolved by ldd on this machine.
libs() {
	ldd "$1" | awk '
		$2 == "=>" && $3 ~ /^\// { print $3; next }
		$1 ~ /^\// { print $1 }
	'
}

# populate copies binary $2 into root filesystem $1 as $3 (following
# symlinks: Debian's redis-server is a link to redis-check-rdb, which picks its
# personality from argv[0]), with its libraries at their usual paths.
populate() {
	local root=$1 bin=$2 dest=$3 lib
	mkdir -p "$root$(dirname "$dest")" "$root/etc" "$root/tmp" "$root/data"
	chmod 1777 "$root/tmp"
	chmod 0777 "$root/data"
	cp -L "$bin" "$root$dest"
	while read -r lib; do
		mkdir -p "$root$(dirname "$lib")"
		cp -L "$lib" "$root$lib"
	done < <(libs "$bin")
	# Debian resolves /lib64 and /lib through the usr-merge links; make sure
	# the loader is at the path written in the binary's ELF header.
	if [[ ! -e $root/lib64/ld-linux-x86-64.so.2 && -e /lib64/ld-linux-x86-64.so.2 ]]; then
		mkdir -p "$root/lib64"
		cp -L /lib64/ld-linux-x86-64.so.2 "$root/lib64/"
	fi
	printf '%s\n' 'root:x:0:0:root:/root:/nonexistent' 'nobody:x:65534:65534:nobody:/nonexistent:/nonexistent' >"$root/etc/passwd"
	printf '%s\n' 'root:x:0:' 'nogroup:x:65534:' >"$root/etc/group"
}

# fingerprint hashes every file of a root filesystem plus the image settings,
# so any change to the binaries or to this script's choices forces a rebuild.
fingerprint() {
	local root=$1
	shift
	{
		(cd "$root" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
		printf '%s\n' "$@"
	} | sha256sum | cut -d' ' -f1
}

# build imports root filesystem $2 as image $1 with the Dockerfile-style
# changes in the remaining arguments, unless an image with the same
# fingerprint already exists.
build() {
	local image=$1 root=$2
	shift 2
	local sum current
	sum=$(fingerprint "$root" "$@")
	current=$(docker image inspect --format '{{range .Config.Env}}{{println .}}{{end}}' "$image" 2>/dev/null |
		sed -n 's/^LIMITS_IMAGE_FINGERPRINT=//p' || true)
	if [[ ${FORCE:-0} != 1 && $current == "$sum" ]]; then
		echo "build-test-images: $image is up to date"
		return
	fi
	local args=() change
	for change in "$@"; do
		args+=(--change "$change")
	done
	args+=(--change "ENV LIMITS_IMAGE_FINGERPRINT=$sum")
	local old
	old=$(docker image inspect --format '{{.Id}}' "$image" 2>/dev/null || true)
	tar --numeric-owner --owner=0 --group=0 -C "$root" -c . |
		docker import "${args[@]}" - "$image" >/dev/null
	# Drop the image this one replaces rather than leave it dangling; one
	# a container still uses stays.
	if [[ -n $old && $old != "$(docker image inspect --format '{{.Id}}' "$image")" ]]; then
		docker rmi "$old" >/dev/null 2>&1 || true
	fi
	echo "build-test-images: built $image"
}

redis_root=$workdir/redis
populate "$redis_root" "$redis_bin" /usr/bin/redis-server
ln -s redis-server "$redis_root/usr/bin/redis-sentinel"
# Listen on every interface inside the container (Docker publishes the port)
# and keep nothing on disk: the container is thrown away after one test.
build "$redis_image" "$redis_root" \
	'USER 65534' \
	'WORKDIR /data' \
	'EXPOSE 6379' \
	'ENTRYPOINT ["/usr/bin/redis-server"]' \
	'CMD ["--bind", "0.0.0.0", "--protected-mode", "no", "--save", "", "--appendonly", "no"]'

memcached_root=$workdir/memcached
populate "$memcached_root" "$memcached_bin" /usr/bin/memcached
# -vv makes memcached log "server listening" once its socket is open, which is
# the readiness line conformance/servers waits for.
build "$memcached_image" "$memcached_root" \
	'USER 65534' \
	'EXPOSE 11211' \
	'ENTRYPOINT ["/usr/bin/memcached"]' \
	'CMD ["-vv", "-l", "0.0.0.0", "-p", "11211", "-U", "0"]'
