#!/usr/bin/env bash
# Regenerates api/src/gen/ from api/proto/ with ts-proto. The generated code is committed,
# so a normal build needs neither protoc nor this script; run it after editing a .proto.
set -euo pipefail
cd "$(dirname "$0")/.."
plugin=./node_modules/.bin/protoc-gen-ts_proto
command -v protoc >/dev/null || { echo "gen-api: protoc not found (apt-get install protobuf-compiler)" >&2; exit 1; }
[ -x "$plugin" ] || { echo "gen-api: $plugin missing (run npm install)" >&2; exit 1; }
rm -rf api/src/gen
mkdir -p api/src/gen
mapfile -t protos < <(cd api/proto && find . -name '*.proto' | sed 's|^\./||' | sort)
protoc \
  --plugin="$plugin" \
  --proto_path=api/proto \
  --ts_proto_out=api/src/gen \
  --ts_proto_opt=esModuleInterop=true,importSuffix=.js,outputServices=grpc-js,env=node,useExactTypes=false \
  "${protos[@]}"
echo "gen-api: generated $(find api/src/gen -name '*.ts' | wc -l) files in api/src/gen"
