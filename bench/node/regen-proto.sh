#!/bin/sh
# Regenerates protocols/serviceProto.ts and .json with the real tsrpc-cli 2.4.5 of tests/interop
# (run `npm ci` there first), keeping the ids of the committed serviceProto.ts (compatible mode).
# tsrpc-cli compiles the protocol files, which import `uint` from tsrpc-proto: a node_modules
# link to tests/interop's lets it resolve them; the link is removed afterwards.
set -eu
cd "$(dirname "$0")"
modules=../../tests/interop/node_modules
[ -x "$modules/.bin/tsrpc-cli" ] || { echo "run npm ci in tests/interop first" >&2; exit 1; }
[ -e node_modules ] && { echo "bench/node/node_modules exists: remove it first" >&2; exit 1; }
ln -s "$modules" node_modules
trap 'rm -f node_modules' EXIT
old=$(mktemp)
cp protocols/serviceProto.ts "$old"
node_modules/.bin/tsrpc-cli proto -i protocols -o protocols/serviceProto.ts -c "$old"
node_modules/.bin/tsrpc-cli proto -i protocols -o protocols/serviceProto.json -c protocols/serviceProto.ts
rm -f "$old"
