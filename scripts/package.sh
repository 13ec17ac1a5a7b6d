#!/usr/bin/env bash
# Builds the Debian package: dist/portcullis_VERSION_ARCH.deb, a Native AOT binary (no .NET
# runtime or SDK on the target; the build machine needs the .NET SDK, clang and zlib1g-dev) with the hardened systemd units, a commented configuration in
# /etc/portcullis/portcullis.yml (a conffile) and maintainer scripts using deb-systemd-helper.
# Usage: scripts/package.sh [--arch amd64|arm64] [--from DIR] [--lint]   (needs the .NET SDK, dpkg-dev)
#   --from DIR: package an existing `dotnet publish` output instead of publishing again
#   --out DIR: where the .deb goes (default dist/); its path is the last line printed
#   --publish-dir DIR: keep the native publish output there (the test suite runs that binary)
set -euo pipefail
cd "$(dirname "$0")/.."

arch=amd64
lint=0
from=""
out_arg=""
publish_dir=""
while [ $# -gt 0 ]; do
    case "$1" in
        --arch) arch="$2"; shift 2 ;;
        --lint) lint=1; shift ;;
        --from) from="$2"; shift 2 ;;
        --out) out_arg="$2"; shift 2 ;;
        --publish-dir) publish_dir="$2"; shift 2 ;;
        *) echo "package.sh: unknown argument '$1' (use --arch amd64|arm64, --lint)" >&2; exit 64 ;;
    esac
done
case "$arch" in
    amd64) rid=linux-x64; triple=x86_64-linux-gnu ;;
    arm64) rid=linux-arm64; triple=aarch64-linux-gnu ;;
    *) echo "package.sh: unsupported architecture '$arch' (amd64 or arm64)" >&2; exit 64 ;;
esac
# Cross-building (e.g. arm64 on amd64): clang links for the target triple against Debian's cross
# libraries (libc6-dev-arm64-cross, libgcc-12-dev-arm64-cross, libstdc++-12-dev-arm64-cross) with the
# target's binutils (binutils-aarch64-linux-gnu).
cross=()
strip=strip
if [ "$arch" != "$(dpkg --print-architecture)" ]; then
    clang=$(command -v clang || command -v clang-14 || true)
    [ -n "$clang" ] && command -v "$triple-objcopy" >/dev/null && [ -d "/usr/$triple/lib" ] || {
        echo "package.sh: cross-building for $arch needs clang, binutils-$triple and the $arch cross libc/libgcc/libstdc++ (apt-get install clang-14 binutils-$triple libc6-dev-$arch-cross libgcc-12-dev-$arch-cross libstdc++-12-dev-$arch-cross)" >&2
        exit 69
    }
    cross=(-p:CppCompilerAndLinker="$clang" -p:ObjCopyName="$triple-objcopy")
    strip="$triple-strip"
fi

version=$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' Directory.Build.props | head -1)
[ -n "$version" ] || { echo "package.sh: no <Version> in Directory.Build.props" >&2; exit 1; }
debversion="${version}-1"
out=${out_arg:-dist}
[ -z "$from" ] || [ -x "$from/portcullis" ] || { echo "package.sh: $from/portcullis is not an executable" >&2; exit 66; }
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
chmod 0755 "$stage"

if [ -n "$from" ]; then
    install -d "$stage/usr/lib/portcullis"
    install -m 0755 "$from/portcullis" "$stage/usr/lib/portcullis/portcullis"
    find "$from" -maxdepth 1 -name '*.so' -exec install -m 0644 {} "$stage/usr/lib/portcullis/" \;
else
    # Native AOT: one self-contained executable (no .NET runtime on the target) plus SQLite's library.
    # Warnings are errors, so any reflection left (IL2xxx/IL3xxx) fails the build here.
    pub=${publish_dir:-$stage/publish}
    echo "package.sh: publishing portcullis $version for $rid (Native AOT)" >&2
    dotnet publish src/Portcullis -c Release -r "$rid" -p:PublishAot=true -p:StripSymbols=true "${cross[@]}" \
        --nologo -v quiet -o "$pub" >&2
    install -d "$stage/usr/lib/portcullis"
    install -m 0755 "$pub/portcullis" "$stage/usr/lib/portcullis/portcullis"
    find "$pub" -maxdepth 1 -name '*.so' -exec install -m 0644 {} "$stage/usr/lib/portcullis/" \;
    [ -n "$publish_dir" ] || rm -rf "$pub"
fi

install -d "$stage/usr/bin" "$stage/etc/portcullis" "$stage/lib/systemd/system" \
    "$stage/usr/share/doc/portcullis" "$stage/usr/share/man/man1" "$stage/usr/share/lintian/overrides" "$stage/DEBIAN"
install -m 0644 deploy/debian/lintian-overrides "$stage/usr/share/lintian/overrides/portcullis"
ln -s ../lib/portcullis/portcullis "$stage/usr/bin/portcullis"
chmod 0755 "$stage/usr/lib/portcullis/portcullis"
find "$stage/usr/lib/portcullis" -type f -name '*.so' -exec chmod 0644 {} + -exec "$strip" --strip-unneeded {} +

# The configuration: README's complete example, every key commented at its default.
{
    echo "# Portcullis configuration (portcullis(1), /usr/share/doc/portcullis/README.md.gz)."
    echo "# Every key is shown commented at its default: uncomment and change what you need."
    echo "# Relative paths are resolved against data_dir (/var/lib/portcullis under systemd)."
    echo "# Reload overrides, maps and tlsrpt options with: systemctl reload portcullis"
    echo "#"
    awk '/Example with all defaults:/{f=1; next} f && /^```yaml/{p=1; next} p && /^```/{exit} p' README.md | sed 's/^/# /; s/ *$//'
} > "$stage/etc/portcullis/portcullis.yml"
chmod 0644 "$stage/etc/portcullis/portcullis.yml"

install -m 0644 deploy/debian/portcullis.service deploy/debian/portcullis.socket "$stage/lib/systemd/system/"
install -m 0644 deploy/debian/README.Debian deploy/debian/copyright "$stage/usr/share/doc/portcullis/"
gzip -9n < README.md > "$stage/usr/share/doc/portcullis/README.md.gz"
sed "s/@VERSION@/$version/" deploy/debian/portcullis.1 | gzip -9n > "$stage/usr/share/man/man1/portcullis.1.gz"
{
    echo "portcullis ($debversion) unstable; urgency=medium"
    echo
    echo "  * Release $version (built from $(git rev-parse --short HEAD 2>/dev/null || echo a source tree))."
    echo
    echo " -- Portcullis developers <portcullis@example.org>  $(date -R -u -d @"${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}")"
} | gzip -9n > "$stage/usr/share/doc/portcullis/changelog.Debian.gz"
chmod 0644 "$stage/usr/share/doc/portcullis/"* "$stage/usr/share/man/man1/portcullis.1.gz"

# Shared-library dependencies of the ELF files, as dpkg-shlibdeps computes them. OpenSSL is
# loaded at run time (TLS), so it is named explicitly: libssl3 on Debian 12, libssl3t64 on 13.
shlibs=$(cd "$stage" && mkdir -p debian && printf 'Source: portcullis\n\nPackage: portcullis\nArchitecture: any\n' > debian/control \
    && dpkg-shlibdeps -O -e usr/lib/portcullis/portcullis $(find usr/lib/portcullis -name '*.so') 2>/dev/null \
    | sed -n 's/^shlibs:Depends=//p'; rm -rf debian)
if [ -z "$shlibs" ] && [ ${#cross[@]} -gt 0 ]; then
    # dpkg-shlibdeps knows only this host's architecture: name the target's packages from the ELF files'
    # NEEDED entries and the newest glibc symbol version they use (the Debian package names are the same).
    elfs=("$stage/usr/lib/portcullis/portcullis" $(find "$stage/usr/lib/portcullis" -name '*.so'))
    glibc=$("$triple-objdump" -T "${elfs[@]}" | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -uV | tail -1)
    shlibs="libc6 (>= $glibc)"
    needed=$("$triple-readelf" -d "${elfs[@]}" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | sort -u)
    ! grep -qx 'libgcc_s.so.1' <<<"$needed" || shlibs="$shlibs, libgcc-s1"
    ! grep -qx 'libstdc++.so.6' <<<"$needed" || shlibs="$shlibs, libstdc++6"
    ! grep -qx 'libz.so.1' <<<"$needed" || shlibs="$shlibs, zlib1g"
fi
[ -n "$shlibs" ] || shlibs="libc6"
deps="$shlibs, libssl3 | libssl3t64, ca-certificates"
size=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
sed -e "s/@VERSION@/$debversion/" -e "s/@ARCH@/$arch/" -e "s/@SIZE@/$size/" -e "s/@SHLIBS@/$deps/" \
    deploy/debian/control > "$stage/DEBIAN/control"
install -m 0644 deploy/debian/conffiles "$stage/DEBIAN/conffiles"
install -m 0755 deploy/debian/postinst deploy/debian/prerm deploy/debian/postrm "$stage/DEBIAN/"
(cd "$stage" && find . -type f ! -path './DEBIAN/*' -printf '%P\0' | sort -z | xargs -0 md5sum) > "$stage/DEBIAN/md5sums"
chmod 0644 "$stage/DEBIAN/md5sums"

mkdir -p "$out"
deb="$out/portcullis_${debversion}_${arch}.deb"
dpkg-deb --root-owner-group -Zxz --build "$stage" "$deb" >/dev/null
echo "$deb"
if [ "$lint" -eq 1 ]; then
    lintian --fail-on error "$deb" >&2
fi
