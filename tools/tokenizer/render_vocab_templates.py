#!/usr/bin/env python3
"""Renders the chat templates of every npm vocabulary in tests/fixtures/tokenizer/reference/VOCABS
(each named template of tokenizer_config.json: Command-R's default, rag and tool_use, ...) over
the fixture scenarios plus a RAG scenario with documents, the way transformers'
apply_chat_template calls Jinja2: messages, tools, documents (None when absent),
add_generation_prompt, and the tokenizer's special_tokens_map (only the tokens
tokenizer_config.json sets, as strings, additional_special_tokens as a list).
Writes tests/fixtures/tokenizer/templates/vocab_expected.json; chat_template_vocab_test compares.

  python3 tools/tokenizer/render_vocab_templates.py [--check] [ASSETS_DIR]
"""
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import render_templates as rt  # noqa: E402  (HF's Jinja2 environment; exits 77 without jinja2)

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests/fixtures/tokenizer"
SPECIAL = ["bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token",
           "mask_token"]
DOCUMENTS = {"name": "documents", "add_generation_prompt": True,
             "messages": [{"role": "user", "content": "Where is the order?"}],
             "documents": [{"title": "Shipping", "text": "Orders ship in 2 days."},
                           {"title": "Returns", "text": "Returns take 14 days."}]}


def token_text(t):
    return t["content"] if isinstance(t, dict) else t


def special_tokens_map(cfg):
    out = {}
    for key in SPECIAL:
        if cfg.get(key) is not None:
            out[key] = token_text(cfg[key])
    if cfg.get("additional_special_tokens"):
        out["additional_special_tokens"] = [token_text(t) for t in cfg["additional_special_tokens"]]
    return out


def templates(cfg):
    t = cfg.get("chat_template")
    if isinstance(t, str):
        return {"default": t}
    if isinstance(t, list):
        return {e["name"]: e["template"] for e in t}
    return {}


def render_all(assets):
    env = rt.make_env()
    scenarios = json.loads((FIXTURES / "templates/scenarios.json").read_text()) + [DOCUMENTS]
    out = {}
    for line in (FIXTURES / "reference/VOCABS").read_text().splitlines():
        if not line or line.startswith("#"):
            continue
        name, where = line.split("\t")
        kind, folder = where.split(":")
        if kind != "assets":
            continue
        cfg_path = assets / folder / "package/models/tokenizer_config.json"
        if not cfg_path.exists():
            print(f"render_vocab_templates.py: {cfg_path} missing; skipping")
            sys.exit(77)
        cfg = json.loads(cfg_path.read_text())
        tokens = special_tokens_map(cfg)
        for tname, source in sorted(templates(cfg).items()):
            template = env.from_string(source)
            results = {}
            for sc in scenarios:
                kwargs = dict(messages=sc["messages"], tools=sc.get("tools"),
                              documents=sc.get("documents"),
                              add_generation_prompt=sc["add_generation_prompt"])
                kwargs.update(tokens)
                kwargs.update(sc.get("extra", {}))
                try:
                    results[sc["name"]] = {"output": template.render(**kwargs)}
                except rt.TemplateError as e:
                    results[sc["name"]] = {"error": str(e), "raised": True}
                except Exception as e:  # noqa: BLE001 - any Jinja/Python failure is an expected error
                    results[sc["name"]] = {"error": f"{type(e).__name__}: {e}"}
            out.setdefault(name, {})[tname] = results
    return out


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    assets = Path(args[0]) if args else ROOT / ".assets/tokenizer"
    result = render_all(assets)
    text = json.dumps(result, ensure_ascii=False, indent=1, sort_keys=True) + "\n"
    path = FIXTURES / "templates/vocab_expected.json"
    if "--check" in sys.argv:
        same = path.exists() and path.read_text() == text
        print("vocab_expected.json is up to date" if same else "vocab_expected.json differs")
        sys.exit(0 if same else 1)
    path.write_text(text)
    n = sum(len(r) for t in result.values() for r in t.values())
    print(f"rendered {sum(len(t) for t in result.values())} templates of {len(result)} "
          f"vocabularies, {n} renderings, into {path}")


if __name__ == "__main__":
    main()
