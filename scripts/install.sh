#!/bin/sh
# Installs Portcullis as a systemd service on Debian: builds it, creates the portcullis user,
# installs the units and a default configuration (kept if present), then starts it.
# Usage (as root, from the repository): scripts/install.sh [--socket]   (--socket: socket activation)
set -eu
cd "$(dirname "$0")/.."

command -v dotnet >/dev/null || { echo "install.sh: the .NET 10 SDK (dotnet) is required" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "install.sh: run as root" >&2; exit 1; }

dotnet publish src/Portcullis -c Release -o /opt/portcullis --nologo
cp README.md /opt/portcullis/
id portcullis >/dev/null 2>&1 || useradd --system --home-dir /var/lib/portcullis --shell /usr/sbin/nologin portcullis
install -d -m 0755 /etc/portcullis
[ -f /etc/portcullis/portcullis.yaml ] || install -m 0644 deploy/portcullis.yaml /etc/portcullis/portcullis.yaml
install -m 0644 deploy/portcullis.service deploy/portcullis.socket /etc/systemd/system/
systemctl daemon-reload
if [ "${1:-}" = "--socket" ]; then
    systemctl enable --now portcullis.socket
else
    systemctl enable --now portcullis.service
fi
echo "Portcullis installed. Add to /etc/postfix/main.cf:"
echo "  smtp_tls_policy_maps = socketmap:inet:127.0.0.1:8642:QUERY"
echo "  smtp_dns_support_level = dnssec"
echo "  smtp_tls_security_level = dane"
