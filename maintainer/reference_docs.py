"""Regenerate the reference parts of docs/*.md from the code (`make docs`).

A docs file is written by hand around marked regions:

    <!-- generated: cli -->
    ...replaced by this script...
    <!-- end generated -->

Each region is rendered from the code that it documents, so the docs cannot drift:

    cli            every command, argument and option of `xsolla-contract` (click introspection)
    mock-settings  every MockConfig field and its XSOLLA_MOCK_<NAME> variable
    control-api    every /__mock__ endpoint of the mock's URL map, with its view's docstring
    pytest-options the pytest plugin's command-line options, ini keys and environment variables
    pytest-fixtures the plugin's public fixtures (docstrings) and the members of what they give
    pytest-markers the plugin's markers
    fixtures-sections the sections of a fixtures file, in load order, with the API call each entry goes through

New commands, options, control endpoints, settings, fixtures and sections appear by
themselves. A control view without a docstring, or a command or option without a help
text, is an error here (and so in the test that compares the committed docs with this
output): the reference would have a hole.

    .venv/bin/python maintainer/reference_docs.py          # rewrite docs/*.md
    .venv/bin/python maintainer/reference_docs.py --check  # exit 1 if any is stale
"""

from __future__ import annotations

import argparse
import dataclasses
import inspect
import io
import re
import sys
import tokenize
import typing
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
REGION = re.compile(r"(<!-- generated: (?P<name>[\w-]+) -->\n)(?P<body>.*?)(<!-- end generated -->)", re.S)


class DocsError(Exception):
    """Something the docs would have to leave out (a missing help text or docstring)."""


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _first_paragraph(doc: str | None) -> str:
    return " ".join((inspect.cleandoc(doc or "").split("\n\n")[0]).split())


def _rest(doc: str | None) -> str:
    parts = inspect.cleandoc(doc or "").split("\n\n", 1)
    return parts[1].strip() if len(parts) > 1 else ""


def _field_comments(cls: type) -> dict[str, str]:
    """Trailing `# comments` of the class body's `name: type = value` lines, by field name."""
    try:
        source = inspect.getsource(cls)
    except (OSError, TypeError):
        return {}
    comments: dict[str, str] = {}
    line_of: dict[int, str] = {}
    for number, line in enumerate(source.splitlines(), 1):
        match = re.match(r"\s{4}(\w+)\s*:", line)
        if match:
            line_of[number] = match.group(1)
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT and token.start[0] in line_of:
            comments[line_of[token.start[0]]] = token.string.lstrip("#").strip()
    return comments


# ------------------------------------------------------------------------ CLI


def _commands() -> list[tuple[object, object]]:
    """(command, click context) for every command, depth first, sub-commands in name order."""
    import click

    from xsolla_contract.toolkit.cli import main

    found = []

    def visit(command: click.Command, ctx: click.Context) -> None:
        found.append((command, ctx))
        if isinstance(command, click.Group):
            for name in command.list_commands(ctx):
                sub = command.get_command(ctx, name)
                if sub is not None and not sub.hidden:
                    visit(sub, click.Context(sub, info_name=name, parent=ctx))

    visit(main, click.Context(main, info_name="xsolla-contract"))
    return found


def _option_row(param, ctx) -> str:
    import click

    if isinstance(param, click.Argument):
        name = param.make_metavar(ctx)
        return f"| `{name}` | argument (see above) | {'required' if param.required else 'optional'} |"
    names = " / ".join(", ".join(opts) for opts in (param.opts, param.secondary_opts) if opts)
    if not param.is_flag:
        metavar = param.make_metavar(ctx)
        if isinstance(param.type, click.Choice):
            metavar = "|".join(str(c) for c in param.type.choices)
        names += f" {metavar}"
    if not param.help:
        raise DocsError(f"{ctx.command_path} {param.opts[0]}: an option without a help text")
    notes = []
    if param.required:
        notes.append("required")
    if param.multiple:
        notes.append("repeatable")
    default = param.get_default(ctx, call=False)
    unset = default is None or default is False or default in ((), "") or type(default).__name__ == "Sentinel"
    if param.is_flag and param.secondary_opts and default is not None:  # None: decided at run time
        notes.append(f"default: `{param.opts[0] if default else param.secondary_opts[0]}`")
    elif not unset and not callable(default):
        notes.append(f"default: `{default}`")
    if param.envvar:
        notes.append(f"env: `{param.envvar}`")
    return f"| `{_cell(names)}` | {_cell(param.help)} | {'; '.join(notes)} |"


def render_cli() -> str:
    import click

    out = []
    for command, ctx in _commands():
        depth = ctx.command_path.count(" ")
        heading = "#" * min(2 + depth, 4)
        out.append(f"{heading} `{ctx.command_path}`\n")
        usage = " ".join([ctx.command_path, *command.collect_usage_pieces(ctx)])
        out.append(f"```text\n{usage}\n```\n")
        help_text = (command.help or "").split("\f")[0].replace("\b\n", "")
        if not help_text.strip():
            raise DocsError(f"{ctx.command_path}: a command without a help text")
        out.append(inspect.cleandoc(help_text) + "\n")
        if isinstance(command, click.Group):
            rows = [
                f"| [`{ctx.command_path} {name}`](#{_anchor(ctx.command_path + ' ' + name)}) | "
                f"{_cell(command.get_command(ctx, name).get_short_help_str(limit=200))} |"
                for name in command.list_commands(ctx)
            ]
            out.append("| Command | What it does |\n|---|---|\n" + "\n".join(rows) + "\n")
        params = [p for p in command.params if not getattr(p, "hidden", False)]
        if params:
            table = ["| Argument / option | What it does | Notes |", "|---|---|---|"]
            table += [_option_row(p, ctx) for p in params]
            out.append("\n".join(table) + "\n")
    return "\n".join(out)


def _anchor(title: str) -> str:
    """GitHub's heading anchor for a heading written as `title` (in backticks)."""
    return re.sub(r"[^\w\- ]", "", title.lower()).replace(" ", "-")


def render_mock_settings() -> str:
    import click

    from xsolla_contract.mocks import MockConfig
    from xsolla_contract.toolkit.cli import main

    mock = main.commands["mock"]
    by_dest = {p.name: p for p in mock.params if isinstance(p, click.Option)}
    comments = _field_comments(MockConfig)
    rows = ["| Variable | Default | Option | What it sets |", "|---|---|---|---|"]
    for field in dataclasses.fields(MockConfig):
        option = by_dest.get(field.name)
        what = comments.get(field.name) or (option.help if option is not None else "")  # the field's own words first
        default = field.default if field.default is not dataclasses.MISSING else field.default_factory()
        flag = f"`{option.opts[0]}`" if option is not None else ""
        rows.append(f"| `XSOLLA_MOCK_{field.name.upper()}` | `{default}` | {flag} | {_cell(what)} |")
    return "\n".join(rows) + "\n"


# ------------------------------------------------------------------ control API


def _control_rules(app) -> list[tuple[str, str, Callable]]:
    rules = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/__mock__"):
            continue
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            rules.append((path, method, app.view_functions[rule.endpoint]))
    order = {"GET": 0, "POST": 1, "PUT": 2, "PATCH": 3, "DELETE": 4}
    return sorted(rules, key=lambda r: (r[0], order.get(r[1], 9)))


def render_control_api() -> str:
    from xsolla_contract.mocks import MockConfig, create_app

    app = create_app(config=MockConfig(empty=True, seed=None), store="memory")
    rules = _control_rules(app)
    summary = ["| Method | Path | What it does |", "|---|---|---|"]
    details = []
    for path, method, view in rules:
        if not inspect.getdoc(view):
            raise DocsError(f"{method} {path}: the view {view.__qualname__} has no docstring")
        title = f"{method} {path}"
        summary.append(f"| `{method}` | [`{path}`](#{_anchor(title)}) | {_cell(_first_paragraph(view.__doc__))} |")
        details.append(f"### `{title}`\n\n{_first_paragraph(view.__doc__)}\n")
        if _rest(view.__doc__):
            details.append(_rest(view.__doc__) + "\n")
    return "\n".join(summary) + "\n\n" + "\n".join(details)


# ---------------------------------------------------------------- pytest plugin


def _plugin():
    from xsolla_contract.toolkit import pytest_plugin

    return pytest_plugin


def render_pytest_options() -> str:
    from _pytest.config.argparsing import Parser

    plugin = _plugin()
    parser = Parser(_ispytest=True)
    plugin.pytest_addoption(parser)
    settings = getattr(plugin, "SETTINGS", {})
    ini = dict(parser._inidict)
    rows = ["| Command line | ini key | Environment | What it does |", "|---|---|---|---|"]
    for group in parser._groups:
        for option in group.options:
            attrs = option.attrs()
            dest = attrs.get("dest") or option.names()[0].lstrip("-").replace("-", "_")
            if not attrs.get("help"):
                raise DocsError(f"pytest option {option.names()[0]}: no help text")
            key = dest.removeprefix("xsolla_")
            env = settings.get(key)
            ini_key = dest if dest in ini else ""
            ini.pop(dest, None)
            rows.append(
                f"| `{', '.join(option.names())}` | {f'`{ini_key}`' if ini_key else ''} | "
                f"{f'`{env}`' if env else ''} | {_cell(attrs['help'])} |"
            )
    for name, spec in ini.items():  # ini keys without a command-line option
        rows.append(f"| | `{name}` | | {_cell(spec[0])} |")
    return "\n".join(rows) + "\n"


def _fixture_definitions() -> list[tuple[str, Callable, str]]:
    plugin = _plugin()
    found = []
    for name, value in vars(plugin).items():
        marker = getattr(value, "_fixture_function_marker", None)
        if marker is None or name.startswith("_"):
            continue
        function = value._get_wrapped_function() if hasattr(value, "_get_wrapped_function") else value
        found.append((marker.name or name, function, marker.scope))
    return found


def _returned_class(function: Callable) -> type | None:
    """The class a fixture gives, when the plugin defines it (`-> MockHandle`, `-> Iterator[MockHandle]`)."""
    try:
        hint = typing.get_type_hints(function).get("return")
    except Exception:  # noqa: BLE001 - an annotation that does not resolve documents nothing
        return None
    for candidate in (hint, *typing.get_args(hint)):
        if inspect.isclass(candidate) and candidate.__module__ == _plugin().__name__:
            return candidate
    return None


def _parameters(function: Callable) -> str:
    """A method's parameters as a caller writes them: names and defaults, no annotations, no self."""
    parts = []
    for parameter in list(inspect.signature(function).parameters.values())[1:]:
        if parameter.kind is parameter.VAR_POSITIONAL:
            parts.append(f"*{parameter.name}")
        elif parameter.kind is parameter.VAR_KEYWORD:
            parts.append(f"**{parameter.name}")
        elif parameter.default is not parameter.empty:
            parts.append(f"{parameter.name}={parameter.default!r}")
        else:
            parts.append(parameter.name)
    return ", ".join(parts)


def _members(cls: type) -> list[str]:
    rows = []
    comments = _field_comments(cls)
    if dataclasses.is_dataclass(cls):
        for field in dataclasses.fields(cls):
            if not field.name.startswith("_") and comments.get(field.name):
                rows.append(f"| `.{field.name}` | {_cell(comments[field.name])} |")
    for name, member in inspect.getmembers(cls):
        if name.startswith("_"):
            continue
        if isinstance(member, property):
            doc = member.__doc__
            label = f"`.{name}`"
        elif inspect.isfunction(member):
            doc = member.__doc__
            label = f"`.{name}({_parameters(member)})`"
        else:
            continue
        rows.append(f"| {label} | {_cell(_first_paragraph(doc))} |")
    return rows


def render_pytest_fixtures() -> str:
    out = []
    for name, function, scope in _fixture_definitions():
        out.append(f"### `{name}` ({scope} scope)\n\n{inspect.cleandoc(function.__doc__ or '')}\n")
        cls = _returned_class(function)
        if cls is not None:
            rows = _members(cls)
            if rows:
                out.append(f"`{cls.__name__}`:\n\n| Member | What it does |\n|---|---|\n" + "\n".join(rows) + "\n")
    return "\n".join(out)


def render_pytest_markers() -> str:
    markers = getattr(_plugin(), "MARKERS", {})
    rows = ["| Marker | What it does |", "|---|---|"]
    rows += [f"| `@pytest.mark.{name}` | {_cell(text)} |" for name, text in markers.items()]
    return "\n".join(rows) + "\n"


# ------------------------------------------------------------------- fixtures


def render_fixtures_sections() -> str:
    from xsolla_contract.mocks.fixtures import SECTIONS
    from xsolla_contract.toolkit.spec import Spec

    spec = Spec.from_path()
    rows = ["| # | Section | Each entry is the body of | |", "|---:|---|---|---|"]
    for number, (section, operation_id) in enumerate(SECTIONS, 1):
        op = spec.operation(operation_id)
        rows.append(f"| {number} | `{section}` | `{op.method} {op.path}` (`{operation_id}`) | {_cell(op.summary)} |")
    return "\n".join(rows) + "\n"


RENDERERS: dict[str, Callable[[], str]] = {
    "cli": render_cli,
    "mock-settings": render_mock_settings,
    "control-api": render_control_api,
    "pytest-options": render_pytest_options,
    "pytest-fixtures": render_pytest_fixtures,
    "pytest-markers": render_pytest_markers,
    "fixtures-sections": render_fixtures_sections,
}


def render(text: str, source: str = "<text>") -> str:
    """The text with each generated region rendered anew."""
    cache: dict[str, str] = {}

    def replace(match: re.Match[str]) -> str:
        name = match.group("name")
        if name not in RENDERERS:
            raise DocsError(f"{source}: unknown generated region {name!r} (known: {', '.join(RENDERERS)})")
        if name not in cache:
            cache[name] = RENDERERS[name]().rstrip("\n") + "\n"
        return match.group(1) + cache[name] + match.group(4)

    return REGION.sub(replace, text)


def stale(docs: Path = DOCS) -> dict[Path, str]:
    """Docs files whose generated regions differ from the code, with what they should say."""
    changed = {}
    for path in sorted(docs.glob("*.md")):
        text = path.read_text(encoding="utf-8")
        fresh = render(text, str(path.relative_to(ROOT)))
        if fresh != text:
            changed[path] = fresh
    return changed


def main() -> None:
    parser = argparse.ArgumentParser(description="Regenerate the reference parts of docs/*.md from the code.")
    parser.add_argument("--check", action="store_true", help="only report stale files; exit 1 if any")
    args = parser.parse_args()
    try:
        changed = stale()
    except DocsError as exc:
        sys.exit(f"reference docs: {exc}")
    for path, fresh in changed.items():
        if not args.check:
            path.write_text(fresh, encoding="utf-8")
        print(f"{'stale' if args.check else 'updated'}: {path.relative_to(ROOT)}")
    if not changed:
        print("reference docs are up to date")
    sys.exit(1 if args.check and changed else 0)


if __name__ == "__main__":
    main()
