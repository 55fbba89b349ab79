#!/usr/bin/env bash
# Idempotent set-up for the end-to-end suite (test/e2e/run.mjs): Debian packages for a real
# VS Code workbench (code-server) driven by Debian's Chromium, then code-server 4.100.3 and
# playwright-core installed with npm into .cache/e2e/tools/ (never the real home).
# A second run only checks markers and returns in well under a second.
# Never runs `playwright install`: Debian's /usr/bin/chromium is the browser.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT="$PWD"
CACHE="$ROOT/.cache/e2e"
TOOLS="$CACHE/tools"
CODE_SERVER_VERSION=4.100.3
PLAYWRIGHT_VERSION=1.65.1
RG_CACHE_VERSION=1.15.11   # @vscode/ripgrep bundled with code-server 4.100.3
RG_ASSET=ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz

# 1. Debian packages: apt-get update only when something is missing.
pkgs=(ripgrep chromium libkrb5-dev libxkbfile-dev libsecret-1-dev libx11-dev pkg-config golang-go)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "e2e setup: installing ${missing[*]} with apt-get" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
for bin in rg chromium go gofmt; do
  command -v "$bin" >/dev/null || { echo "e2e setup: $bin is still missing after apt-get" >&2; exit 1; }
done

# 2. The repo's own npm dependencies (esbuild, vsce, mocha, ...): scripts/setup.sh installs them on a
#    fresh clone. Not re-run when they are present, so a shared node_modules is never reinstalled.
for m in esbuild @vscode/vsce mocha @vscode/test-electron web-tree-sitter; do
  if [ ! -f "node_modules/$m/package.json" ]; then bash scripts/setup.sh; break; fi
done

# 3. code-server + playwright-core in the repo's cache folder.
stamp="code-server@$CODE_SERVER_VERSION playwright-core@$PLAYWRIGHT_VERSION node@$(node -v)"
if [ -f "$TOOLS/.installed" ] && [ "$(cat "$TOOLS/.installed")" = "$stamp" ] \
   && [ -f "$TOOLS/node_modules/code-server/out/node/entry.js" ] \
   && [ -f "$TOOLS/node_modules/playwright-core/package.json" ]; then
  exit 0
fi

echo "e2e setup: installing code-server@$CODE_SERVER_VERSION and playwright-core@$PLAYWRIGHT_VERSION into .cache/e2e/tools (about a minute)" >&2
rm -rf "$TOOLS"
mkdir -p "$TOOLS" "$CACHE/home" "$CACHE/tmp" "$CACHE/npm-cache"
# Its own package.json makes .cache/e2e/tools the npm prefix, so the repo's .npmrc
# (ignore-scripts=true) does not apply: code-server's native modules need their install scripts.
cat > "$TOOLS/package.json" <<JSON
{ "name": "racelens-e2e-tools", "private": true, "version": "0.0.0" }
JSON

# @vscode/ripgrep downloads rg from GitHub at install time, which is unreachable here. It looks
# in \$TMPDIR/vscode-ripgrep-cache-<version>/ first: seed that with Debian's rg under the asset name.
export TMPDIR="$CACHE/tmp"
rgdir="$TMPDIR/vscode-ripgrep-cache-$RG_CACHE_VERSION"
if [ ! -f "$rgdir/$RG_ASSET" ]; then
  mkdir -p "$rgdir" "$TMPDIR/rgtar"
  cp "$(command -v rg)" "$TMPDIR/rgtar/rg"
  tar czf "$rgdir/$RG_ASSET" -C "$TMPDIR/rgtar" rg
fi

# Keep npm's cache and node-gyp's files out of the real home as well.
(
  cd "$TOOLS"
  export HOME="$CACHE/home" XDG_CACHE_HOME="$CACHE/home/.cache" XDG_CONFIG_HOME="$CACHE/home/.config"
  export npm_config_cache="$CACHE/npm-cache" npm_config_userconfig="$CACHE/home/.npmrc"
  export npm_config_unsafe_perm=true npm_config_yes=true npm_config_nodedir=/usr
  export npm_config_ignore_scripts=false npm_config_audit=false npm_config_fund=false npm_config_update_notifier=false
  npm install --no-save --loglevel=error "code-server@$CODE_SERVER_VERSION" "playwright-core@$PLAYWRIGHT_VERSION"
)
[ -f "$TOOLS/node_modules/code-server/out/node/entry.js" ] || { echo "e2e setup: code-server did not install" >&2; exit 1; }
[ -x "$TOOLS/node_modules/@vscode/ripgrep/bin/rg" ] || [ -x "$TOOLS/node_modules/code-server/lib/vscode/node_modules/@vscode/ripgrep/bin/rg" ] \
  || echo "e2e setup: warning: code-server's ripgrep binary not found (search in the workbench may not work)" >&2
echo "$stamp" > "$TOOLS/.installed"
echo "e2e setup: done" >&2
