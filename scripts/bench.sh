#!/usr/bin/env bash
# Benchmark (not a test): cached, negative and uncached answers, memory with many cached domains,
# side by side with Debian's postfix-mta-sts-resolver. Runs in its own network namespace so both
# servers resolve through the same DNSSEC test world. As root. Extra arguments go to the
# benchmark: --seconds N (per run, default 10), --connections N (16), --domains N (100000), --no-peer,
# --binary PATH (also time the start of a published binary, e.g. /usr/bin/portcullis), --pin,
# --hold N (keep the daemon N s after the memory fill, for a heap dump).
# The floor (bench/floor/floor.c, a fixed-reply epoll server) runs in the same run; every row is
# also printed as a ratio to it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-test-deps.sh >/dev/null
command -v mta-sts-daemon >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postfix-mta-sts-resolver >/dev/null
dotnet build bench/Portcullis.Bench -c Release --nologo -v q >/dev/null
command -v cc >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends gcc libc6-dev >/dev/null
floor=$(mktemp)
cc -O2 -pthread -o "$floor" bench/floor/floor.c
ns="portcullis-bench-$$"
cleanup() { ip netns del "$ns" 2>/dev/null || true; rm -rf "/etc/netns/$ns" "$floor"; }
trap cleanup EXIT
ip netns add "$ns"
mkdir -p "/etc/netns/$ns" && echo "nameserver 127.0.0.1" > "/etc/netns/$ns/resolv.conf"
ip netns exec "$ns" ip link set lo up
# The load client completes socket reads inline (it clears the variable before starting any server).
ip netns exec "$ns" env DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1 dotnet bench/Portcullis.Bench/bin/Release/net10.0/Portcullis.Bench.dll --floor "$floor" "$@"
