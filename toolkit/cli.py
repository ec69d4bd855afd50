"""The `xsolla-contract` command line."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .errors import ContractError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="xsolla-contract")
def main() -> None:
    """Contract testing for Xsolla's LiveOps and Catalog APIs."""


def _load(path: str | None, lenient: bool = False):
    from .spec import Spec

    try:
        return Spec.from_path(path, lenient=lenient)
    except ContractError as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)


# ------------------------------------------------------------------------ spec


@main.group()
def spec() -> None:
    """Check, bundle and describe the OpenAPI description."""


@spec.command("check")
@click.argument("path", required=False, type=click.Path(dir_okay=False))
@click.option("--lenient", is_flag=True, help="Accept unresolvable $refs as 'anything' (and say so).")
def spec_check(path: str | None, lenient: bool) -> None:
    """Resolve, validate and lint PATH (default: the bundled spec). Exit 1 on any problem."""
    from .lint import lint

    loaded = _load(path, lenient)
    for warning in loaded.warnings:
        click.echo(f"warning: {warning}", err=True)
    problems = lint(loaded)
    groups = loaded.tag_groups
    by_tag = loaded.by_tag()
    parts = [f"{name} {sum(by_tag[t] for t in tags)}" for name, tags in groups.items()]
    summary = f"{len(loaded.operations)} operations" + (f" ({', '.join(parts)})" if parts else "")
    if problems:
        for problem in problems:
            click.echo(f"  - {problem}", err=True)
        click.echo(f"{loaded.source}: {summary}; {len(problems)} problem(s)", err=True)
        sys.exit(1)
    click.echo(f"{loaded.source}: {summary}; resolved, valid, lint clean")


@spec.command("bundle")
@click.argument("out", type=click.Path(dir_okay=False))
@click.option("--spec", "spec_path", type=click.Path(dir_okay=False), help="Source spec (default: bundled).")
def spec_bundle(out: str, spec_path: str | None) -> None:
    """Write the resolved spec as one self-contained file (.json, or .yaml/.yml)."""
    from .spec import bundle_to

    written = bundle_to(_load(spec_path), out)
    click.echo(f"wrote {written} ({written.stat().st_size // 1024} KiB)")


@spec.command("info")
@click.argument("path", required=False, type=click.Path(dir_okay=False))
def spec_info(path: str | None) -> None:
    """Operation counts per tag and per security scheme."""
    loaded = _load(path)
    by_tag = loaded.by_tag()
    click.echo(f"{loaded.source}: {len(loaded.operations)} operations\n")
    grouped = loaded.tag_groups or {"": sorted(by_tag)}
    for group, tags in grouped.items():
        if group:
            click.echo(f"{group} ({sum(by_tag[t] for t in tags)})")
        for tag in tags:
            click.echo(f"  {tag:40} {by_tag[tag]:4}")
    click.echo("\nby security scheme (an operation with alternatives counts once per scheme)")
    for scheme, count in sorted(loaded.by_security().items()):
        click.echo(f"  {scheme:40} {count:4}")


# ------------------------------------------------------------------------ mock


@main.command("mock")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=int)
@click.option("--seed", default=1, show_default=True, type=int, help="Seed of the generated project.")
@click.option("--state", default="memory", show_default=True, help="memory, or sqlite:PATH to persist state.")
@click.option("--fixtures", type=click.Path(exists=True, dir_okay=False), help="YAML/JSON catalog and promotions to load.")
@click.option("--empty", is_flag=True, help="Start with no data at all.")
@click.option("--spec", "spec_path", type=click.Path(exists=True, dir_okay=False), help="Spec to serve (default: bundled).")
@click.option("--project-id", default=44056, show_default=True, type=int, help="Project of the generated data.")
@click.option("--api-key", default=None, help="Only accept this API key in Basic credentials.")
@click.option("--jwt-secret", default=None, help="Verify HS256 user tokens with this secret.")
@click.option("--latency", "latency_ms", default=0, type=int, help="Delay every API answer by this many ms.")
@click.option("--cors/--no-cors", default=True, show_default=True)
@click.option("--threads", default=8, show_default=True, type=int, help="Worker threads of the server.")
def mock_cmd(host: str, port: int, seed: int, state: str, fixtures: str | None, empty: bool, spec_path: str | None,
             project_id: int, api_key: str | None, jwt_secret: str | None, latency_ms: int, cors: bool,
             threads: int) -> None:
    """Serve the stateful mock of both APIs."""
    import base64

    from ..mocks import MockConfig, create_app, mint_token

    config = MockConfig(project_id=project_id, api_key=api_key, jwt_secret=jwt_secret, seed=seed, empty=empty,
                        fixtures=fixtures, latency_ms=latency_ms, cors=cors)
    spec_obj = _load(spec_path)
    try:
        app = create_app(spec_obj, store=state, config=config)
    except (ValueError, OSError, ContractError) as exc:
        click.echo(f"cannot start the mock: {exc}", err=True)
        sys.exit(1)
    base = f"http://{host}:{port}/api"
    basic = base64.b64encode(f"{project_id}:{api_key or 'any-key'}".encode()).decode()
    token = mint_token("user-1", project=project_id, secret=jwt_secret, attributes={"tier": "gold", "level": 10})
    click.echo(f"Xsolla contract mock: {len(spec_obj.operations)} operations at {base}")
    click.echo(f"  state: {state}; data: {'fixtures ' + fixtures if fixtures else 'empty' if empty else f'seed {seed}'}")
    click.echo(f"  admin:  Authorization: Basic {basic}   (project {project_id})")
    click.echo(f"  user:   Authorization: Bearer {token}")
    if api_key is None:
        click.echo("  development mode: any non-empty API key is accepted (set --api-key to require one)")
    click.echo(f"  control: {base.rsplit('/api', 1)[0]}/__mock__/  (reset, state, requests, clock, orders, token)")
    from waitress import serve

    serve(app, host=host, port=port, threads=threads, ident="xsolla-contract-mock", _quiet=True)


@main.command("token")
@click.option("--user", required=True, help="User ID (the token's sub).")
@click.option("--project", type=int, default=None, help="Project ID to put in the token.")
@click.option("--attr", "attrs", multiple=True, help="User attribute key=value (repeatable).")
@click.option("--ttl", default=30 * 24 * 3600, show_default=True, type=int, help="Lifetime in seconds.")
@click.option("--jwt-secret", default=None, help="Sign with this secret (the mock's --jwt-secret).")
@click.option("--email", default=None)
def token_cmd(user: str, project: int | None, attrs: tuple[str, ...], ttl: int, jwt_secret: str | None,
              email: str | None) -> None:
    """Mint a user JWT the mock accepts."""
    from ..mocks import mint_token

    attributes: dict[str, object] = {}
    for pair in attrs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{pair!r}: use key=value", param_hint="--attr")
        attributes[key] = int(value) if value.lstrip("-").isdigit() else value
    click.echo(mint_token(user, project=project, attributes=attributes or None, ttl=ttl, secret=jwt_secret,
                          email=email))


if __name__ == "__main__":  # pragma: no cover
    main()
