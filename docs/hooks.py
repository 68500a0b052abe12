"""MkDocs hook: pages generated from the code at build time, so they cannot drift from it.

``<!-- generated: cli -->`` becomes the help of every command (from the argparse parsers of
:mod:`trialmeta.cli.args`); ``<!-- generated: trial-schema -->`` and ``<!-- generated:
analyses-schema -->`` become field tables of the JSON Schemas of a trial file and of
``analyses.yaml`` (from the pydantic models).
"""

from __future__ import annotations

import os


def _cli() -> str:
    from trialmeta.cli.args import build_parser

    os.environ["COLUMNS"] = "100"  # argparse wraps help at the terminal width: fix it
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    parts = ["## trialmeta\n", "```text\n" + parser.format_help() + "```\n"]
    for name, command in sub.choices.items():
        parts += [f"## trialmeta {name}\n", "```text\n" + command.format_help() + "```\n"]
    return "\n".join(parts)


def _type(prop: dict) -> str:
    if "$ref" in prop:
        name = prop["$ref"].rsplit("/", 1)[-1]
        return f"[{name}](#{name.lower()})"
    if "anyOf" in prop:
        return " or ".join(_type(p) for p in prop["anyOf"] if p.get("type") != "null")
    if "enum" in prop:
        return "one of " + ", ".join(f"`{v}`" for v in prop["enum"])
    if prop.get("type") == "array":
        return "list of " + _type(prop.get("items", {}))
    if "const" in prop:
        return f"`{prop['const']}`"
    return str(prop.get("type", "any"))


def _table(schema: dict) -> str:
    required = set(schema.get("required", []))
    rows = ["| field | type | required | description |", "|---|---|---|---|"]
    for field, prop in schema.get("properties", {}).items():
        text = " ".join(str(prop.get("description", "")).split()).replace("|", "\\|")
        rows.append(f"| `{field}` | {_type(prop)} | {'yes' if field in required else ''} | {text} |")
    return "\n".join(rows) + "\n"


def _schema(schema: dict) -> str:
    parts = [_table(schema)]
    for name, sub in sorted(schema.get("$defs", {}).items()):
        if "properties" in sub:
            parts += [f"### {name}\n", " ".join(str(sub.get("description", "")).split()) + "\n", _table(sub)]
        elif "enum" in sub:
            parts += [f"### {name}\n", "One of " + ", ".join(f"`{v}`" for v in sub["enum"]) + ".\n"]
    return "\n".join(parts)


def on_page_markdown(markdown: str, page, config, files) -> str:
    if "<!-- generated: cli -->" in markdown:
        markdown = markdown.replace("<!-- generated: cli -->", _cli())
    if "<!-- generated: trial-schema -->" in markdown:
        from trialmeta.registry.schema import trial_json_schema

        markdown = markdown.replace("<!-- generated: trial-schema -->", _schema(trial_json_schema()))
    if "<!-- generated: analyses-schema -->" in markdown:
        from trialmeta.registry.scaffold import analyses_json_schema

        markdown = markdown.replace("<!-- generated: analyses-schema -->", _schema(analyses_json_schema()))
    return markdown
