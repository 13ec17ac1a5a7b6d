#!/bin/sh
# Installs the external programs the integration tests drive: nsd, unbound and the ldns tools (DNSSEC
# test world), postfix (postmap and real deliveries), openssl/dig, redis-server and PostgreSQL (shared
# cache), curl, iproute2 (network namespaces), systemd's tools (unit verification, socket
# activation), debootstrap (Debian roots for another release's Postfix, e.g. trixie's 3.10), haproxy (PROXY
# protocol in front of policy-host), pebble and certbot (ACME issuance through policy-host's webroot), chromium,
# node and npm (the operator console in a real browser: playwright-core from tests/browser drives Debian's Chromium),
# knot (the authoritative server `rollout` updates by RFC 2136 with TSIG; nsupdate from dnsutils sends it).
# Idempotent: does nothing when all are present. Debian/Ubuntu, run as root.
set -eu

PATH="$PATH:/usr/sbin:/sbin"
missing=""
for bin in nsd unbound knotd nsupdate haproxy pebble certbot unbound-control ldns-keygen ldns-signzone ldns-key2ds postmap postconf openssl dig systemd-analyze systemd-socket-activate redis-server /usr/lib/postgresql/15/bin/initdb ip curl debootstrap lintian dpkg-shlibdeps chromium node npm; do
    command -v "$bin" >/dev/null 2>&1 || missing="$missing $bin"
done
# Native AOT links with clang (any version ILCompiler finds) against zlib.
command -v clang >/dev/null 2>&1 || ls /usr/bin/clang-[0-9]* >/dev/null 2>&1 || missing="$missing clang"
[ -f /usr/include/zlib.h ] || missing="$missing zlib1g-dev"
if [ -z "$missing" ]; then
    echo "install-test-deps: all present"
    exit 0
fi
echo "install-test-deps: missing:$missing"

if [ "$(id -u)" -ne 0 ]; then
    echo "install-test-deps: must run as root" >&2
    exit 1
fi

# Keep postfix's installer from asking questions or configuring a live mail system.
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends \
    nsd unbound ldnsutils postfix openssl dnsutils ca-certificates systemd redis-server postgresql iproute2 curl \
    debootstrap lintian dpkg-dev clang zlib1g-dev haproxy pebble certbot knot chromium
# Node.js and npm only when missing: a machine may already have them from another source (NodeSource's
# nodejs bundles npm and conflicts with Debian's npm package).
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    apt-get install -y --no-install-recommends nodejs npm
fi

# The tests run their own instances on random loopback ports; system services are not needed.
# Stopping them is best effort (there may be no systemd, e.g. in containers).
for svc in nsd unbound knot postfix redis-server postgresql haproxy certbot.timer; do
    if [ -d /run/systemd/system ]; then
        systemctl disable --now "$svc" >/dev/null 2>&1 || true
    fi
done
# playwright-core, pinned by tests/browser/package-lock.json (no browser download: it drives /usr/bin/chromium).
(cd "$(dirname "$0")/../tests/browser" && npm ci --no-audit --no-fund)
echo "install-test-deps: done"
