"""The `xsolla-contract` command line."""

from __future__ import annotations

import sys

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
@click.option(
    "--dereference",
    is_flag=True,
    help="Replace every $ref by its target (one large document without components) instead of "
    "keeping named components with internal $refs.",
)
def spec_bundle(out: str, spec_path: str | None, dereference: bool) -> None:
    """Write the spec as one file for other tools (Prism, Redoc, code generators).

    By default the file keeps the spec's named components (schemas, responses,
    parameters) and every $ref points inside the file. OUT's extension picks the
    format: .json, .yaml or .yml.
    """
    from pathlib import Path

    from .bundle import FORMATS, bundle, write_document

    fmt = FORMATS.get(Path(out).suffix.lower())
    if fmt is None:
        raise click.BadParameter(
            f"{out}: the extension picks the format; use {', '.join(FORMATS)}", param_hint="OUT"
        )
    if dereference:
        loaded = _load(spec_path)
        document, what = loaded.document, f"{len(loaded.operations)} operations, every $ref replaced by its target"
    else:
        from .spec import BUNDLED_SPEC

        try:
            document, stats = bundle(spec_path or BUNDLED_SPEC)
        except ContractError as exc:
            click.echo(str(exc), err=True)
            sys.exit(1)
        what = f"{stats.describe()}, internal $refs only"
    written = write_document(document, out)
    size = written.stat().st_size
    shown = f"{size / 1024 / 1024:.1f} MiB" if size >= 1024 * 1024 else f"{max(1, size // 1024)} KiB"
    click.echo(f"wrote {written} ({fmt.upper()}, {shown}): {what}")


@spec.command("info")
@click.argument("path", required=False, type=click.Path(dir_okay=False))
@click.option("--markdown", is_flag=True, help="Print the coverage table (as in the README).")
def spec_info(path: str | None, markdown: bool) -> None:
    """Operation counts per tag and per security scheme."""
    loaded = _load(path)
    if markdown:
        click.echo(coverage_table(loaded))
        return
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


def coverage_table(loaded) -> str:
    """The spec's coverage as a markdown table: operations per API and group, with their security."""
    from collections import Counter

    lines = ["| API | Group | Operations | Security |", "|---|---|---:|---|"]
    by_tag = loaded.by_tag()
    for api, tags in loaded.tag_groups.items():
        for tag in tags:
            schemes: Counter[str] = Counter()
            for op in loaded.operations.values():
                if op.tag != tag:
                    continue
                name = " or ".join(sorted(op.security_schemes - {"AuthForCartGuestId", "AuthForCartGuestUser"}))
                name = name or "none"
                if op.security and op.auth_optional:
                    name += " (optional)"
                schemes[name] += 1
            security = ", ".join(f"{n} {k}" for k, n in sorted(schemes.items()))
            lines.append(f"| {api} | {tag} | {by_tag[tag]} | {security} |")
        lines.append(f"| **{api}** | | **{sum(by_tag[t] for t in tags)}** | |")
    lines.append(f"| **Total** | | **{len(loaded.operations)}** | |")
    return "\n".join(lines)


# ------------------------------------------------------------------------ mock


@main.command("mock")
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    envvar="XSOLLA_MOCK_HOST",
    help="Address to listen on (loopback by default).",
)
@click.option(
    "--port",
    default=8080,
    show_default=True,
    type=int,
    envvar="XSOLLA_MOCK_PORT",
    help="Port to listen on (0: any free port).",
)
@click.option("--seed", default=1, show_default=True, type=int, help="Seed of the generated project.")
@click.option("--state", default="memory", show_default=True, help="memory, or sqlite:PATH to persist state.")
@click.option(
    "--fixtures",
    type=click.Path(exists=True, dir_okay=False),
    help="YAML/JSON file of your own catalog and promotions, loaded instead of the seeded store "
    "(format: docs/fixtures.md; example: examples/fixtures/store.yaml).",
)
@click.option("--empty", is_flag=True, help="Start with no data at all.")
@click.option(
    "--spec", "spec_path", type=click.Path(exists=True, dir_okay=False), help="Spec to serve (default: bundled)."
)
@click.option("--project-id", default=44056, show_default=True, type=int, help="Project of the generated data.")
@click.option("--api-key", default=None, help="Only accept this API key in Basic credentials.")
@click.option("--jwt-secret", default=None, help="Verify HS256 user tokens with this secret.")
@click.option(
    "--latency",
    "latency_ms",
    metavar="MS|MIN-MAX",
    default="0",
    show_default=True,
    callback=lambda _ctx, _param, value: _latency(value),
    help="Delay every API answer: milliseconds (300) or a random delay in a range (50-200). "
    "Per operation: fault rules (POST /__mock__/faults).",
)
@click.option("--cors/--no-cors", default=True, show_default=True, help="Answer cross-origin browser requests.")
@click.option("--threads", default=8, show_default=True, type=int, help="Worker threads of the server.")
def mock_cmd(
    host: str,
    port: int,
    seed: int,
    state: str,
    fixtures: str | None,
    empty: bool,
    spec_path: str | None,
    project_id: int,
    api_key: str | None,
    jwt_secret: str | None,
    latency_ms: tuple[int, int],
    cors: bool,
    threads: int,
) -> None:
    """Serve the stateful mock of both APIs."""
    import base64

    from ..mocks import MockConfig, create_app, mint_token

    config = MockConfig(
        project_id=project_id,
        api_key=api_key,
        jwt_secret=jwt_secret,
        seed=seed,
        empty=empty,
        fixtures=fixtures,
        latency_ms=latency_ms[0],
        latency_max_ms=latency_ms[1],
        cors=cors,
    )
    spec_obj = _load(spec_path)
    try:
        app = create_app(spec_obj, store=state, config=config)
    except (ValueError, OSError, ContractError) as exc:
        click.echo(f"cannot start the mock: {exc}", err=True)
        sys.exit(1)
    server = _listen(app, "mock", host, port, threads, "xsolla-contract-mock")
    port = getattr(server, "effective_port", port)
    base = f"http://{host}:{port}/api"
    basic = base64.b64encode(f"{project_id}:{api_key or 'any-key'}".encode()).decode()
    token = mint_token("user-1", project=project_id, secret=jwt_secret, attributes={"tier": "gold", "level": 10})
    click.echo(f"Xsolla contract mock: {len(spec_obj.operations)} operations at {base}")
    click.echo(f"  state: {state}; data: {app.config['START_STATE']}")
    click.echo(f"  admin:  Authorization: Basic {basic}   (project {project_id})")
    click.echo(f"  user:   Authorization: Bearer {token}")
    if api_key is None:
        click.echo("  development mode: any non-empty API key is accepted (set --api-key to require one)")
    click.echo(
        f"  control: {base.rsplit('/api', 1)[0]}/__mock__/  "
        "(reset, state, requests, clock, orders, token, faults, coverage)"
    )
    _run(server)


@main.command("coverage")
@click.option(
    "--url", default="http://127.0.0.1:8080", show_default=True, help="The running mock (its base URL, /api or not)."
)
@click.option(
    "--scope",
    help="Operations the report is about: operationIds or patterns (get-virtual-*), tags (cart), "
    "APIs (Catalog, LiveOps), comma-separated (default: every operation of the spec).",
)
@click.option("--json", "json_path", type=click.Path(dir_okay=False), help="Also write the JSON report here.")
@click.option("--markdown", "markdown_path", type=click.Path(dir_okay=False), help="Also write a Markdown report here.")
@click.option(
    "--min",
    "minimum",
    type=float,
    metavar="PCT",
    help="Exit 1 when fewer than PCT percent of the operations were called.",
)
@click.option(
    "--min-responses",
    type=float,
    help="Exit 1 when fewer than PCT percent of their documented statuses were answered.",
)
def coverage_cmd(
    url: str,
    scope: str | None,
    json_path: str | None,
    markdown_path: str | None,
    minimum: float | None,
    min_responses: float | None,
) -> None:
    """What the calls to a running mock exercised: per operation, the documented statuses
    answered and missing (the mock's GET /__mock__/coverage). Exit 1 below a minimum."""
    from pathlib import Path

    import requests

    from .coverage import shortfalls, table, write_reports

    base = url.rstrip("/").removesuffix("/api")
    try:
        answer = requests.get(f"{base}/__mock__/coverage", params={"scope": scope} if scope else None, timeout=60)
        data = answer.json()
    except (requests.RequestException, ValueError) as exc:
        click.echo(f"coverage: no mock answers at {base}: {exc}", err=True)
        sys.exit(2)
    if answer.status_code != 200:
        click.echo(f"coverage: {data.get('errorMessage', answer.text)}", err=True)
        sys.exit(2)
    click.echo(table(data))
    for written in write_reports(data, *(Path(p) if p else None for p in (json_path, markdown_path))):
        click.echo(f"wrote {written}")
    problems = shortfalls(data, minimum, min_responses)
    for problem in problems:
        click.echo(f"FAILED: {problem}", err=True)
    sys.exit(1 if problems else 0)


def _latency(value: str) -> tuple[int, int]:
    from ..mocks.faults import parse_latency

    try:
        return parse_latency(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@main.command("token")
@click.option("--user", required=True, help="User ID (the token's sub).")
@click.option("--project", type=int, default=None, help="Project ID to put in the token.")
@click.option("--attr", "attrs", multiple=True, help="User attribute key=value (repeatable).")
@click.option("--ttl", default=30 * 24 * 3600, show_default=True, type=int, help="Lifetime in seconds.")
@click.option("--jwt-secret", default=None, help="Sign with this secret (the mock's --jwt-secret).")
@click.option("--email", default=None, help="E-mail claim of the token (default: USER@example.com).")
def token_cmd(
    user: str, project: int | None, attrs: tuple[str, ...], ttl: int, jwt_secret: str | None, email: str | None
) -> None:
    """Mint a user JWT the mock accepts."""
    from ..mocks import mint_token

    attributes: dict[str, object] = {}
    for pair in attrs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{pair!r}: use key=value", param_hint="--attr")
        attributes[key] = int(value) if value.lstrip("-").isdigit() else value
    click.echo(
        mint_token(user, project=project, attributes=attributes or None, ttl=ttl, secret=jwt_secret, email=email)
    )


# ------------------------------------------------------------------------ fuzz


@main.command("fuzz")
@click.option(
    "--base-url",
    help="Server to test, e.g. http://127.0.0.1:8080/api or a sandbox project's https://store.xsolla.com/api. "
    "The suite WRITES to it: it creates, changes and deletes items, promotions, chains, carts and orders "
    "(use --read-only for GET calls only).",
)
@click.option("--app", type=click.Choice(["mock"]), help="Test the mock in this process (no socket).")
@click.option("--spec", "spec_path", type=click.Path(exists=True, dir_okay=False), help="Spec (default: bundled).")
@click.option("--auth-basic", help="PROJECT_ID:API_KEY for admin calls (env XSOLLA_BASIC).")
@click.option("--token", help="User JWT for client calls (env XSOLLA_TOKEN; minted for the mock when absent).")
@click.option("--include-tag", "tags", multiple=True, help="Only operations with this tag (repeatable).")
@click.option("--operation", "operations", multiple=True, help="Only this operationId (repeatable).")
@click.option(
    "--max-examples",
    default=5,
    show_default=True,
    type=click.IntRange(min=1),
    help="The budget of every phase: test cases per operation in the fuzzing phase; the examples and coverage "
    "phases keep 4x as many of theirs (spread over all they derive), and each stateful group runs 2x as many "
    "scenarios (unless --stateful-examples says otherwise).",
)
@click.option("--seed", type=int, help="Seed for reproducible runs.")
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(min=1),
    help="Concurrent calls: speeds up a live target (against --app mock, one process does the work anyway).",
)
@click.option("--stateful", is_flag=True, help="Also run stateful sequences through the spec's links, per API group.")
@click.option("--negative", is_flag=True, help="Also generate invalid data (must be rejected).")
@click.option("--read-only", is_flag=True, help="Only GET operations, and no workflows (safe for a shared project).")
@click.option(
    "--prepare/--no-prepare",
    default=None,
    help="Before the random phases, create through the admin API the items, promotions and chains the workflows "
    "need to reach every operation's success answer, run the workflows, and remove all of it afterwards. "
    "Default: on for --app mock, off for --base-url.",
)
@click.option(
    "--report-dir",
    default="fuzz-report",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Where the reports go: junit.xml, coverage.json and coverage.md (operation x status).",
)
@click.option("--junit", "junit_path", type=click.Path(dir_okay=False), help="Write the JUnit report here instead.")
@click.option(
    "--min-success-coverage",
    type=click.FloatRange(0, 100),
    help="Fail (exit 1) when fewer than PCT percent of the selected operations reached a documented 2xx.",
)
@click.option("--max-failures", type=int, help="Stop after this many failures.")
@click.option(
    "--stateful-examples",
    type=click.IntRange(min=1),
    help="Scenarios per stateful group (sequences of calls along the spec's links). Default: 2x --max-examples.",
)
@click.option(
    "--stateful-steps", default=10, show_default=True, type=click.IntRange(min=1), help="Calls per stateful scenario."
)
@click.option(
    "--stateful-time",
    default=3.0,
    show_default=True,
    type=click.FloatRange(min=0.1),
    help="Seconds a stateful group may run at most.",
)
@click.option(
    "--database",
    default="none",
    show_default=True,
    help="Where schemathesis keeps the examples it found: 'none' (each run depends only on --seed), "
    "':memory:', or a file path (replays earlier failures first).",
)
@click.option(
    "--phases",
    help="Only these phases, comma-separated: workflows, examples, coverage, fuzzing, stateful "
    "(default: all that apply; workflows need --prepare, stateful --stateful or its name here).",
)
@click.option(
    "--progress",
    type=click.Choice(["auto", "bar", "lines"]),
    default="auto",
    show_default=True,
    help="A progress bar (on a terminal, with auto) or only lines per phase and group (CI logs).",
)
def fuzz_cmd(
    base_url: str | None,
    app: str | None,
    spec_path: str | None,
    auth_basic: str | None,
    token: str | None,
    tags: tuple[str, ...],
    operations: tuple[str, ...],
    max_examples: int,
    seed: int | None,
    workers: int,
    stateful: bool,
    negative: bool,
    read_only: bool,
    prepare: bool | None,
    report_dir: str,
    junit_path: str | None,
    min_success_coverage: float | None,
    max_failures: int | None,
    stateful_examples: int | None,
    stateful_steps: int,
    stateful_time: float,
    database: str,
    phases: str | None,
    progress: str,
) -> None:
    """Property-based and stateful contract tests (schemathesis) against the mock or any server.

    A run has phases: workflows (with --prepare, or against --app mock: explicit sequences that
    reach every operation's success answer and check the API's stateful promises), then
    schemathesis' examples, coverage and fuzzing phases, then (--stateful) a state machine per
    API group. It ends with a per-operation summary and writes its reports to --report-dir.
    Exit code 1 on any failure.
    """
    from .fuzz import Credentials, FuzzOptions, run_fuzz

    try:
        credentials = Credentials.from_env(auth_basic, token)
        options = FuzzOptions(
            base_url=base_url,
            app=app,
            spec_path=spec_path,
            credentials=credentials,
            include_tags=tags,
            operations=operations,
            max_examples=max_examples,
            seed=seed,
            workers=workers,
            stateful=stateful,
            negative=negative,
            read_only=read_only,
            prepare=prepare,
            junit=junit_path,
            report_dir=report_dir,
            min_success_coverage=min_success_coverage,
            max_failures=max_failures,
            stateful_examples=stateful_examples,
            stateful_steps=stateful_steps,
            stateful_time=stateful_time,
            database=database,
            progress_bar={"auto": None, "bar": True, "lines": False}[progress],
            phases=tuple(p.strip() for p in (phases or "").split(",") if p.strip()),
        )
        result = run_fuzz(options)
    except (ValueError, ContractError) as exc:
        click.echo(f"fuzz: {exc}", err=True)
        sys.exit(2)
    click.echo(result.text)
    sys.exit(result.code)


# -------------------------------------------------------------- validate, proxy


@main.command("validate")
@click.argument("traffic", type=click.Path(exists=True, dir_okay=False))
@click.option("--spec", "spec_path", type=click.Path(exists=True, dir_okay=False), help="Spec (default: bundled).")
@click.option("--junit", "junit_path", type=click.Path(dir_okay=False), help="Also write a JUnit XML report here.")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True, help="Report format."
)
@click.option("--all-entries", is_flag=True, help="Also check entries whose path is not /v2/... or /v3/...")
def validate_cmd(traffic: str, spec_path: str | None, junit_path: str | None, fmt: str, all_entries: bool) -> None:
    """Validate every request/response pair of a HAR file. Exit 1 on any violation."""
    import json

    from .har import HarError, read_har, validate_pairs
    from .junit import write_junit
    from .validation import Validator

    validator = Validator(_load(spec_path))
    try:
        pairs = read_har(traffic)
    except HarError as exc:
        click.echo(str(exc), err=True)
        sys.exit(2)
    report = validate_pairs(validator, pairs, only_api=not all_entries)
    click.echo(json.dumps(report.as_dict(), indent=1) if fmt == "json" else report.text())
    if junit_path:
        cases = [
            (
                op,
                report.exchanges[op],
                [f"entry {i}: {v.where}: {v.message}" for i, v in report.by_operation.get(op, [])],
            )
            for op in sorted(report.exchanges)
        ]
        if report.unmatched:
            cases.append(("(no operation)", len(report.unmatched), [f"entry {i}: {m}" for i, m in report.unmatched]))
        write_junit(junit_path, "xsolla-contract validate", cases)
    sys.exit(0 if report.ok else 1)


@main.command("proxy")
@click.option("--upstream", required=True, help="Base URL to forward to, e.g. https://store.xsolla.com/api")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (loopback by default).")
@click.option("--port", default=8081, show_default=True, type=int, help="Port to listen on (0: any free port).")
@click.option("--strict", is_flag=True, help="Answer requests that break the contract with 422 instead of forwarding.")
@click.option(
    "--har", "har_path", type=click.Path(dir_okay=False), help="Write the traffic that passed to this HAR file."
)
@click.option("--spec", "spec_path", type=click.Path(exists=True, dir_okay=False), help="Spec (default: bundled).")
@click.option("--threads", default=8, show_default=True, type=int, help="Worker threads of the server.")
def proxy_cmd(
    upstream: str, host: str, port: int, strict: bool, har_path: str | None, spec_path: str | None, threads: int
) -> None:
    """A validating reverse proxy; GET /__proxy__/report summarises violations per operation."""
    from .proxy import ValidatingProxy
    from .validation import Validator

    proxy = ValidatingProxy(Validator(_load(spec_path)), upstream, strict=strict, har_path=har_path)
    server = _listen(proxy, "proxy", host, port, threads, "xsolla-contract-proxy")
    port = getattr(server, "effective_port", port)
    click.echo(
        f"validating proxy http://{host}:{port} -> {upstream}{' (strict)' if strict else ''}; "
        f"report: http://{host}:{port}/__proxy__/report"
    )
    try:
        _run(server)  # a polite stop (SIGTERM) flushes the HAR file too
    finally:
        proxy.flush()


# ---------------------------------------------------------------- serving


def _listen(app, what: str, host: str, port: int, threads: int, ident: str):
    """A waitress server bound to host:port, or one clear line and exit 1 when it cannot listen there.

    SIGTERM stops the server cleanly (exit 0) from here on."""
    import errno
    import signal

    from waitress.server import create_server

    try:
        server = create_server(app, host=host, port=port, threads=threads, ident=ident)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            reason = f"port {port} is already in use (another {what} still running?); choose another with --port"
        elif exc.errno == errno.EACCES:
            reason = f"no permission to use port {port}; choose one above 1023 with --port"
        else:
            reason = exc.strerror or str(exc)
        click.echo(f"xsolla-contract {what}: cannot listen on {host}:{port}: {reason}", err=True)
        sys.exit(1)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # a polite stop, from the banner on
    return server


def _run(server) -> None:
    """Serve until Ctrl-C or SIGTERM."""
    server.run()


if __name__ == "__main__":  # pragma: no cover
    main()
