#!/usr/bin/env python3
"""Writes tests/data/chat_templates/expected.json: each chat template in this directory rendered by jinja2
the way transformers' apply_chat_template does (ImmutableSandboxedEnvironment with trim_blocks and
lstrip_blocks, raise_exception and its own tojson), for the conversations below.

Run from anywhere: python3 tests/data/make_chat_template_data.py (needs jinja2)."""
import json
from pathlib import Path

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

HERE = Path(__file__).resolve().parent / "chat_templates"


def raise_exception(message):
    raise jinja2.exceptions.TemplateError(message)


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    # transformers' override: no HTML escaping, json.dumps options exposed
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def environment():
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                        extensions=["jinja2.ext.loopcontrols"])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    return env


def m(role, content):
    return {"role": role, "content": content}


CONVERSATIONS = {
    "system_user": [m("system", "You are a helpful assistant."), m("user", "Hello!")],
    "multi_turn": [m("system", "Be brief."), m("user", "Hi, who are you?"), m("assistant", "An assistant."),
                   m("user", "What is 2+2?")],
    "no_system": [m("user", "Hi there"), m("assistant", "Hello. How can I help?"), m("user", "Tell me a joke?")],
    "whitespace_unicode": [m("user", "  leading and trailing spaces  \n"),
                           m("assistant", "line one\nline two\n\n  indented\tTab"),
                           m("user", "Ünïcödé ✓ 日本語 🚀 \"quotes\" 'single' \\backslash")],
    "single_user": [m("user", "Just one message.")],
}

WEATHER_TOOL = {"type": "function", "function": {
    "name": "get_weather", "description": "Get the weather in a city, in \"celsius\".",
    "parameters": {"type": "object", "properties": {"city": {"type": "string", "description": "City name"},
                                                     "days": {"type": "integer", "minimum": 1}},
                   "required": ["city"]}}}

TOOL_CONVERSATIONS = {
    "tools_system_user": [m("system", "You can call tools."), m("user", "Weather in Paris?")],
    "tools_tool_responses": [m("user", "Weather in Paris and Rome?"), m("assistant", "Let me check."),
                             m("tool", "{\"city\": \"Paris\", \"temp\": 21}"), m("tool", "{\"city\": \"Rome\", \"temp\": 25.5}"),
                             m("user", "Thanks")],
}

CONTEXTS = {
    "llama3_instruct": {"bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>"},
    "bitnet_b158_2b4t": {"bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>"},
    "qwen2_5": {"bos_token": None, "eos_token": "<|im_end|>"},
    "features": {"bos_token": "<s>", "eos_token": "</s>"},
    "whitespace": {"bos_token": "<s>", "eos_token": "</s>"},
}


def main():
    env = environment()
    cases = []
    for name, context in CONTEXTS.items():
        template = env.from_string((HERE / f"{name}.jinja").read_text(encoding="utf-8"))
        conversations = dict(CONVERSATIONS)
        if name == "qwen2_5":
            conversations.update({k: (v, [WEATHER_TOOL]) for k, v in TOOL_CONVERSATIONS.items()})
            conversations["qwen_tool_role_no_tools"] = TOOL_CONVERSATIONS["tools_tool_responses"]
        for conversation, value in conversations.items():
            messages, tools = value if isinstance(value, tuple) else (value, None)
            for add_generation_prompt in (True, False):
                variables = {"messages": messages, "add_generation_prompt": add_generation_prompt}
                variables.update({k: v for k, v in context.items() if v is not None})
                if tools is not None:
                    variables["tools"] = tools
                cases.append({"template": name, "conversation": conversation, "messages": messages,
                              "add_generation_prompt": add_generation_prompt, "context": context,
                              "tools": tools, "expected": template.render(**variables)})
    out = HERE / "expected.json"
    out.write_text(json.dumps({"cases": cases}, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {len(cases)} cases to {out}")


if __name__ == "__main__":
    main()
