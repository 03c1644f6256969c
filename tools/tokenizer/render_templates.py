#!/usr/bin/env python3
"""Renders every chat template fixture over every scenario with Python's Jinja2, the way HF
transformers' apply_chat_template does, and writes the expected outputs the C++ test compares
against: tests/fixtures/tokenizer/templates/expected.json.

HF's setup (transformers.utils.chat_template_utils): ImmutableSandboxedEnvironment with
trim_blocks=True, lstrip_blocks=True and the loopcontrols extension; a tojson filter that is
json.dumps(x, ensure_ascii=False, indent=indent, separators=separators, sort_keys=sort_keys);
raise_exception and strftime_now globals; render(messages=..., tools=..., documents=...,
add_generation_prompt=..., bos_token, eos_token, **extra). A {% generation %} block (HF's
AssistantTracker) renders its body.

  python3 tools/tokenizer/render_templates.py [--check]   (--check: compare, do not write)
"""
import json
import sys
from datetime import datetime, timezone
from pathlib import Path

try:
    import jinja2
    from jinja2 import nodes
    from jinja2.ext import Extension
    from jinja2.sandbox import ImmutableSandboxedEnvironment
except ImportError:  # the live ctest skips (77) where Jinja2 is not installed
    print("render_templates.py: Python's jinja2 is not installed; skipping")
    sys.exit(77)

HERE = Path(__file__).resolve().parents[2] / "tests/fixtures/tokenizer/templates"


class GenerationBlock(Extension):
    tags = {"generation"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(["name:endgeneration"], drop_needle=True)
        return nodes.Scope(body).set_lineno(lineno)


class TemplateError(Exception):
    pass


# strftime_now's time in the renderings (UTC): fixed, so that the committed expectations do not
# depend on the day they are checked (chat_template_vocab_test passes the same time).
RENDER_TIME = datetime(2026, 12, 7, 12, 0, 0, tzinfo=timezone.utc)

def raise_exception(message):
    raise TemplateError(message)


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators,
                      sort_keys=sort_keys)


def make_env():
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                        extensions=[GenerationBlock, jinja2.ext.loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = lambda fmt: RENDER_TIME.strftime(fmt)
    return env


def read_sources():
    tokens = {}
    for line in (HERE / "SOURCES").read_text().splitlines():
        if not line or line.startswith("#"):
            continue
        name, _source, bos, eos = line.split("\t")
        tokens[name] = (bos, eos)
    return tokens


def render_all():
    env = make_env()
    scenarios = json.loads((HERE / "scenarios.json").read_text())
    out = {}
    for name, (bos, eos) in sorted(read_sources().items()):
        template = env.from_string((HERE / name).read_text())
        results = {}
        for sc in scenarios:
            kwargs = dict(messages=sc["messages"], tools=sc.get("tools"), documents=None,
                          add_generation_prompt=sc["add_generation_prompt"])
            if bos:
                kwargs["bos_token"] = bos
            if eos:
                kwargs["eos_token"] = eos
            kwargs.update(sc.get("extra", {}))
            try:
                results[sc["name"]] = {"output": template.render(**kwargs)}
            except TemplateError as e:
                results[sc["name"]] = {"error": str(e), "raised": True}
            except Exception as e:  # noqa: BLE001 - any Jinja/Python failure is an expected error
                results[sc["name"]] = {"error": f"{type(e).__name__}: {e}"}
        out[name] = results
    return out


def main():
    result = render_all()
    text = json.dumps(result, ensure_ascii=False, indent=1, sort_keys=True) + "\n"
    path = HERE / "expected.json"
    if "--check" in sys.argv:
        same = path.exists() and path.read_text() == text
        print("expected.json is up to date" if same else "expected.json differs")
        sys.exit(0 if same else 1)
    path.write_text(text)
    n_err = sum("error" in r for t in result.values() for r in t.values())
    print(f"rendered {len(result)} templates x {len(next(iter(result.values())))} scenarios "
          f"({n_err} errors) into {path}")


if __name__ == "__main__":
    main()
