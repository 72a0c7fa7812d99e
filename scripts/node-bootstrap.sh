#!/usr/bin/env sh
# Makes sure the project runs on its pinned Node.js line (.node-version).
#
# Prints the home of the Node.js to put first on PATH, or nothing when the
# machine's own `node` is already of the pinned major. Otherwise installs the
# official binaries that the npm registry serves as `node-linux-<arch>`
# (infra/node/node.lock pins the package and its sha512) into
# .blackwell/tools/node-<version>, verifying the tarball before unpacking it.
# Progress and errors go to stderr; exit 1 when it cannot provide the runtime.
#
#   NODE_HOME=$(scripts/node-bootstrap.sh) || exit 1
#   [ -n "$NODE_HOME" ] && PATH="$NODE_HOME/bin:$PATH"
#
# BLACKWELL_NODE_BOOTSTRAP=always installs and uses the pinned version even
# when the machine's node is of the right major.
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
want=$(tr -d ' \n\r' < "$root/.node-version")
want_major=${want%%.*}
say() { printf 'node-bootstrap: %s\n' "$*" >&2; }

if [ "${BLACKWELL_NODE_BOOTSTRAP:-}" != "always" ] && command -v node >/dev/null 2>&1; then
  have=$(node --version 2>/dev/null || true)
  have_major=${have#v}; have_major=${have_major%%.*}
  if [ "$have_major" = "$want_major" ]; then exit 0; fi
fi

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) platform=linux-x64 ;;
  Linux-aarch64 | Linux-arm64) platform=linux-arm64 ;;
  *) say "no pinned Node.js $want for $(uname -s) $(uname -m): install Node.js $want_major yourself (.node-version names the version)"; exit 1 ;;
esac

line=$(grep -E "^$platform[[:space:]]" "$root/infra/node/node.lock" || true)
spec=$(printf '%s' "$line" | awk '{print $2}')
integrity=$(printf '%s' "$line" | awk '{print $3}')
if [ "$spec" != "node-$platform@$want" ] || [ -z "$integrity" ]; then
  say "infra/node/node.lock has no entry node-$platform@$want (it must match .node-version)"
  exit 1
fi

home="$root/.blackwell/tools/node-$want"
if [ -x "$home/bin/node" ] && [ "$("$home/bin/node" --version 2>/dev/null || true)" = "v$want" ]; then
  printf '%s\n' "$home"
  exit 0
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
started=$(date +%s)
say "installing Node.js $want ($spec from the npm registry, about 50 MB) into .blackwell/tools/"
if command -v npm >/dev/null 2>&1; then
  # npm pack honours the user's registry, proxy and CA settings.
  (cd "$tmp" && npm pack --silent "$spec" >/dev/null) || { say "npm pack $spec failed"; exit 1; }
else
  registry=${NPM_CONFIG_REGISTRY:-${npm_config_registry:-https://registry.npmjs.org}}
  curl -fsSL -o "$tmp/node-$platform-$want.tgz" "${registry%/}/node-$platform/-/node-$platform-$want.tgz" ||
    { say "download of $spec from $registry failed"; exit 1; }
fi
tarball="$tmp/node-$platform-$want.tgz"
got="sha512-$(openssl dgst -sha512 -binary "$tarball" | base64 | tr -d '\n')"
if [ "$got" != "$integrity" ]; then
  say "integrity mismatch for $spec: expected $integrity, got $got; nothing installed"
  exit 1
fi

mkdir -p "$tmp/unpacked"
tar xzf "$tarball" -C "$tmp/unpacked" --strip-components=1
if [ "$("$tmp/unpacked/bin/node" --version)" != "v$want" ]; then
  say "the unpacked $spec does not run as v$want"
  exit 1
fi
mkdir -p "$root/.blackwell/tools"
rm -rf "$home"
mv "$tmp/unpacked" "$home"
say "Node.js $want ready in $(( $(date +%s) - started )) s ($home)"
printf '%s\n' "$home"
