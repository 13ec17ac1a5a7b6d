#!/bin/sh
# Installs Portcullis from this checkout the way a Debian admin gets it: builds the package
# (scripts/package.sh) and installs it with apt, which creates the portcullis user, the
# configuration /etc/portcullis/portcullis.yml and the units. Then enables it, optionally with
# socket activation, and starts it.
# Usage (as root, from the repository): scripts/install.sh [--socket]
set -eu
cd "$(dirname "$0")/.."

[ "$(id -u)" -eq 0 ] || { echo "install.sh: run as root" >&2; exit 77; }
command -v dotnet >/dev/null || { echo "install.sh: building the package needs the .NET 10 SDK (dotnet)" >&2; exit 69; }

deb=$(scripts/package.sh | tail -1)
DEBIAN_FRONTEND=noninteractive apt-get install -y "./$deb"
if [ "${1:-}" = "--socket" ]; then
    systemctl enable --now portcullis.socket
fi
systemctl start portcullis.service
echo "Portcullis installed ($deb). Add to /etc/postfix/main.cf (portcullis postfix-setup prints the lines for your Postfix):"
echo "  smtp_tls_policy_maps = socketmap:inet:127.0.0.1:8642:QUERY   (QUERYwithTLSRPT on Postfix 3.10+)"
echo "  smtp_dns_support_level = dnssec"
echo "  smtp_tls_security_level = dane"
