"""The `xsolla-contract` command line."""

from __future__ import annotations

import functools
import os
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
    """Resolve, validate and lint PATH (default: the bundled spec and its webhooks). Exit 1 on any problem."""
    from .spec import BUNDLED_WEBHOOKS

    ok = _check_spec(path, lenient)
    if path is None:
        ok = _check_spec(str(BUNDLED_WEBHOOKS), lenient) and ok
    sys.exit(0 if ok else 1)


def _check_spec(path: str | None, lenient: bool) -> bool:
    from .lint import lint

    loaded = _load(path, lenient)
    for warning in loaded.warnings:
        click.echo(f"warning: {warning}", err=True)
    problems = lint(loaded)
    groups = loaded.tag_groups
    by_tag = loaded.by_tag()
    parts = [f"{name} {sum(by_tag[t] for t in tags)}" for name, tags in groups.items()]
    summary = f"{len(loaded.operations)} operations" + (f" ({', '.join(parts)})" if parts else "")
    if loaded.webhooks:
        hooks = f"{len(loaded.webhooks)} webhooks ({', '.join(loaded.webhooks)})"
        summary = f"{summary}, {hooks}" if loaded.operations else hooks
    if problems:
        for problem in problems:
            click.echo(f"  - {problem}", err=True)
        click.echo(f"{loaded.source}: {summary}; {len(problems)} problem(s)", err=True)
        return False
    click.echo(f"{loaded.source}: {summary}; resolved, valid, lint clean")
    return True


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
        raise click.BadParameter(f"{out}: the extension picks the format; use {', '.join(FORMATS)}", param_hint="OUT")
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


def _positive(flag: str, default: int, help_text: str, name: str | None = None):
    names = [flag, name] if name else [flag]
    return click.option(*names, default=default, show_default=True, type=click.IntRange(min=1), help=help_text)


def _exposure_options(fn):
    """Options the mock and the proxy share: who may reach them, how much they take, how they serve.
    The command gets them as `exposure` (allow_hosts, cors_origins, control_token, max_body_bytes)
    and `serving` (the arguments of `serving.create_server`)."""
    from .exposure import DEFAULT_MAX_BODY_BYTES
    from .serving import DEFAULT_CONNECTION_LIMIT, DEFAULT_IDLE_TIMEOUT, DEFAULT_THREADS

    options = [
        click.option(
            "--allow-host",
            "allow_hosts",
            multiple=True,
            help="Also accept this name in the Host header (repeatable; '.example.com' for a domain and its "
            "subdomains, '*' for any). By default only names of the address the server is bound to.",
        ),
        click.option(
            "--cors-origin",
            "cors_origins",
            multiple=True,
            help="Let browser pages from this origin call the API (repeatable, e.g. http://192.168.1.20:5173); "
            "loopback origins always may. '*': any origin, without credentials.",
        ),
        click.option(
            "--control-token",
            default=None,
            help="Require 'Authorization: Bearer TOKEN' on the control endpoints. Bound to a non-loopback "
            "address, a token is generated (and printed) when none is given.",
        ),
        _positive(
            "--max-body",
            DEFAULT_MAX_BODY_BYTES,
            "Largest request body in bytes; larger ones get 413.",
            "max_body_bytes",
        ),
        _positive(
            "--connection-limit",
            DEFAULT_CONNECTION_LIMIT,
            "Open connections at most; at the limit, the connections idle the longest are closed.",
        ),
        _positive("--idle-timeout", DEFAULT_IDLE_TIMEOUT, "Close keep-alive connections idle for this many seconds."),
        _positive("--threads", DEFAULT_THREADS, "Worker threads."),
    ]
    names = ("allow_hosts", "cors_origins", "control_token", "max_body_bytes", "connection_limit", "idle_timeout")

    @functools.wraps(fn)
    def packed(**kwargs):
        exposure = {name: kwargs.pop(name) for name in names}
        serving = {"threads": kwargs.pop("threads")}
        serving.update({n: exposure.pop(n) for n in ("connection_limit", "idle_timeout")})
        serving["max_body_bytes"] = exposure["max_body_bytes"]
        return fn(exposure=exposure, serving=serving, **kwargs)

    for option in reversed(options):
        packed = option(packed)
    return packed


def _system_allocator(command: str) -> None:
    """Start this command again, once, with Python's allocator switched to the C library's.

    A long-running mock gives the memory of a reset back to the system only so: Python's own
    allocator keeps a whole 1 MiB arena for any object still alive in it, while freed pages of
    the C allocator go back with `malloc_trim` (what a reset calls). Skipped when PYTHONMALLOC
    is set, and when the command does not run as its own process (e.g. in a test runner).
    """
    if os.environ.get("PYTHONMALLOC") or sys.argv[1:2] != [command]:
        return
    if Path(sys.argv[0]).name not in ("xsolla-contract", "cli.py"):
        return
    env = {**os.environ, "PYTHONMALLOC": "malloc"}
    env.setdefault("MALLOC_ARENA_MAX", "2")  # fewer per-thread heaps to fragment
    try:
        os.execve(sys.executable, [sys.executable, "-m", "xsolla_contract.toolkit.cli", *sys.argv[1:]], env)
    except OSError:
        pass  # serve as we are


def _control_token_lines(token: str | None) -> list[str]:
    if not token:
        return []
    return [f"  control token: {token}   (send 'Authorization: Bearer <token>' to the control endpoints)"]


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
@click.option(
    "--cors/--no-cors",
    default=True,
    show_default=True,
    help="Answer browser pages of other origins (loopback ones and --cors-origin); --no-cors: none.",
)
@_exposure_options
@click.option(
    "--webhook-url", default=None, help="Send every project's order webhooks to this URL (the game's server)."
)
@click.option(
    "--webhook-secret",
    default=None,
    help="Sign webhooks with this key (or set XSOLLA_MOCK_WEBHOOK_SECRET; it is never written to a file).",
)
@click.option(
    "--webhook-mode",
    type=click.Choice(["combined", "separate"]),
    default="combined",
    show_default=True,
    help="combined: order_paid/order_canceled carry the payment; separate: payment/refund come first.",
)
@click.option(
    "--webhook-user-validation", is_flag=True, help="Ask the game's server to validate the user before a payment."
)
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
    exposure: dict,
    serving: dict,
    webhook_url: str | None,
    webhook_secret: str | None,
    webhook_mode: str,
    webhook_user_validation: bool,
) -> None:
    """Serve the stateful mock of both APIs.

    With --webhook-url, the mock notifies the game's server about its orders as Xsolla
    does: order_paid when an order is paid (or a free or virtual-currency purchase is
    made), order_canceled when a paid order is canceled, signed with --webhook-secret and
    retried on the mock's clock. GET /__mock__/webhooks lists every delivery.
    """
    import base64

    _system_allocator("mock")
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
        host=host,
        **exposure,
        webhook_url=webhook_url,
        webhook_secret=webhook_secret,
        webhook_mode=webhook_mode,
        webhook_user_validation=webhook_user_validation,
    )
    spec_obj = _load(spec_path)
    try:
        app = create_app(spec_obj, store=state, config=config)
    except (ValueError, OSError, ContractError) as exc:
        click.echo(f"cannot start the mock: {exc}", err=True)
        sys.exit(1)
    config = app.config["ENGINE"].config  # with the XSOLLA_MOCK_* variables applied
    server = _listen(app, "mock", host, port, serving, "xsolla-contract-mock")
    port = getattr(server, "effective_port", port)
    base = f"{_root(host, port)}/api"
    basic = base64.b64encode(f"{project_id}:{api_key or 'any-key'}".encode()).decode()
    token = mint_token("user-1", project=project_id, secret=jwt_secret, attributes={"tier": "gold", "level": 10})
    click.echo(f"Xsolla contract mock: {len(spec_obj.operations)} operations at {base}")
    click.echo(f"  state: {state}; data: {app.config['START_STATE']}")
    click.echo(f"  admin:  Authorization: Basic {basic}   (project {project_id})")
    click.echo(f"  user:   Authorization: Bearer {token}")
    if api_key is None:
        click.echo("  development mode: any non-empty API key is accepted (set --api-key to require one)")
    root = base.rsplit("/api", 1)[0]
    click.echo(f"  control: {root}/__mock__/  (reset, state, requests, clock, orders, token, faults, coverage, ...)")
    dashboard = f"{root}/__mock__/" + (f"#token={config.control_token}" if config.control_token else "")
    click.echo(f"  pages:   {dashboard}  (dashboard); {root}/paystation4/?token=TOKEN  (payment page)")
    for line in _control_token_lines(config.control_token):
        click.echo(line)
    if config.webhook_url:
        signed = "signed" if config.webhook_secret else "NOT signed: set --webhook-secret"
        click.echo(f"  webhooks: {config.webhook_url} ({config.webhook_mode}, {signed})")
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
@click.option(
    "--control-token",
    envvar="XSOLLA_MOCK_CONTROL_TOKEN",
    help="The mock's control token, when it has one (bound off loopback); env XSOLLA_MOCK_CONTROL_TOKEN.",
)
def coverage_cmd(
    url: str,
    scope: str | None,
    json_path: str | None,
    markdown_path: str | None,
    minimum: float | None,
    min_responses: float | None,
    control_token: str | None,
) -> None:
    """What the calls to a running mock exercised: per operation, the documented statuses
    answered and missing (the mock's GET /__mock__/coverage). Exit 1 below a minimum."""
    from pathlib import Path

    import requests

    from .coverage import shortfalls, table, write_reports

    base = url.rstrip("/").removesuffix("/api")
    try:
        answer = requests.get(
            f"{base}/__mock__/coverage",
            params={"scope": scope} if scope else None,
            headers={"Authorization": f"Bearer {control_token}"} if control_token else None,
            timeout=60,
        )
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


# ------------------------------------------------------------------- webhooks


@main.group()
def webhooks() -> None:
    """Test a game's webhook handler: a battery of signed deliveries, or one delivery."""


_SECRET_HELP = "The project's webhook secret key (env XSOLLA_WEBHOOK_SECRET)."


@webhooks.command("check")
@click.argument("url")
@click.option("--secret", required=True, envvar="XSOLLA_WEBHOOK_SECRET", help=_SECRET_HELP)
@click.option("--user", default="player-1", show_default=True, help="A user ID the game knows (user_validation).")
@click.option("--timeout", default=3.0, show_default=True, type=float, help="Seconds the handler has to answer.")
@click.option("--junit", "junit_path", type=click.Path(dir_okay=False), help="Also write a JUnit XML report here.")
def webhooks_check(url: str, secret: str, user: str, timeout: float, junit_path: str | None) -> None:
    """Run the battery against the handler at URL; exit 1 naming every failed case.

    Cases: a signed order_paid is accepted; a wrong and a missing signature are refused;
    the same order_paid twice gets the same answer; order_canceled after order_paid;
    user_validation for a known user (--user) and for a test_xsolla one (400
    INVALID_USER); a body that is not JSON gets 400; every answer within the timeout
    and as the spec describes it.
    """
    from .junit import write_junit
    from .webhooks import check_handler

    report = check_handler(url, secret, user=user, timeout=timeout)
    click.echo(report.text())
    if junit_path:
        cases = [(c.name, len(c.exchanges), c.failures) for c in report.cases]
        write_junit(junit_path, "xsolla-contract webhooks check", cases)
    sys.exit(0 if report.ok else 1)


@webhooks.command("send")
@click.argument("event")
@click.option("--url", required=True, help="The game's webhook URL.")
@click.option("--secret", required=True, envvar="XSOLLA_WEBHOOK_SECRET", help=_SECRET_HELP)
@click.option("--order", "order_id", type=int, help="Build the body from this order of a running mock.")
@click.option("--mock", "mock_url", default="http://127.0.0.1:8080", show_default=True, help="The mock (with --order).")
@click.option("--project-id", type=int, help="The order's project (with --order; default: the mock's).")
@click.option(
    "--mode", type=click.Choice(["combined", "separate"]), default="combined", show_default=True, help="Body format."
)
def webhooks_send(
    event: str, url: str, secret: str, order_id: int | None, mock_url: str, project_id: int | None, mode: str
) -> None:
    """Send one signed EVENT to the game's server: built from a mock order, or the spec's example.

    EVENT is user_validation, payment, order_paid, order_canceled, refund or partial_refund.
    Prints the answer; exit 0 on a success (200, 201, 204), 1 otherwise.
    """
    import json

    import requests

    from .webhooks import DeliveryPolicy, WebhookValidator, deliver, encode, example_body

    validator = WebhookValidator.bundled()
    if event not in validator.spec.webhooks:
        raise click.BadParameter(f"{event!r}: one of {', '.join(validator.spec.webhooks)}", param_hint="EVENT")

    if order_id is not None:
        params = {"mode": mode, **({"project_id": project_id} if project_id else {})}
        try:
            resp = requests.get(
                f"{mock_url.rstrip('/')}/__mock__/orders/{order_id}/webhooks/{event}", params=params, timeout=10
            )
        except requests.RequestException as exc:
            click.echo(f"cannot reach the mock at {mock_url}: {exc}", err=True)
            sys.exit(2)
        if resp.status_code != 200:
            click.echo(f"the mock cannot build {event} for order {order_id}: {resp.status_code} {resp.text}", err=True)
            sys.exit(2)
        payload = resp.json()
    else:
        payload = example_body(event)
    body = encode(payload)
    answer = deliver(url, body, secret=secret)
    result = validator.validate(
        {"method": "POST", "url": url, "headers": {"content-type": "application/json"}, "body": body},
        answer.as_response(),
        event=event,
    )
    click.echo(f"{event} -> {url}")
    click.echo(json.dumps(payload, indent=1, ensure_ascii=False))
    click.echo(f"answer: {answer.describe()} ({answer.duration_ms:g} ms)")
    for violation in result.violations:
        if violation.kind != "security":  # the request was signed; only the answer is the handler's
            click.echo(f"  - {violation}")
    sys.exit(0 if DeliveryPolicy.for_event(event).outcome(answer.status) == "success" else 1)


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
@click.option(
    "--har-keep-secrets",
    is_flag=True,
    help="Keep credentials (Authorization, cookies, API keys, payment tokens) in the HAR file; redacted by default.",
)
@click.option("--spec", "spec_path", type=click.Path(exists=True, dir_okay=False), help="Spec (default: bundled).")
@click.option("--cors/--no-cors", default=True, show_default=True, help="Answer browser pages of other origins.")
@_exposure_options
def proxy_cmd(
    upstream: str,
    host: str,
    port: int,
    strict: bool,
    har_path: str | None,
    har_keep_secrets: bool,
    spec_path: str | None,
    cors: bool,
    exposure: dict,
    serving: dict,
) -> None:
    """A validating reverse proxy; GET /__proxy__/report summarises violations per operation."""
    _system_allocator("proxy")
    from .exposure import ExposurePolicy
    from .proxy import CONTROL_PREFIX, ValidatingProxy
    from .validation import Validator

    try:
        policy = ExposurePolicy(bind_host=host, cors=cors, control_prefixes=(CONTROL_PREFIX,), **exposure)
        policy = policy.with_control_token()
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
    proxy = ValidatingProxy(
        Validator(_load(spec_path)),
        upstream,
        strict=strict,
        har_path=har_path,
        keep_secrets=har_keep_secrets,
        policy=policy,
    )
    server = _listen(proxy, "proxy", host, port, serving, "xsolla-contract-proxy")
    root = _root(host, getattr(server, "effective_port", port))
    mode = " (strict)" if strict else ""
    click.echo(f"validating proxy {root} -> {upstream}{mode}; report: {root}{CONTROL_PREFIX}/report")
    for line in _control_token_lines(policy.control_token):
        click.echo(line)
    try:
        _run(server)  # a polite stop (SIGTERM) flushes the HAR file too
    finally:
        proxy.flush()


# ---------------------------------------------------------------- serving


def _listen(app, what: str, host: str, port: int, serving: dict, ident: str):
    """A server bound to host:port (`serving.create_server`: waitress with our connection handling and
    errors in the API's format), or one clear line and exit 1 when it cannot listen there.

    SIGTERM stops the server cleanly (exit 0) from here on."""
    import errno
    import signal

    from .serving import create_server

    try:
        server = create_server(app, host=host, port=port, ident=ident, **serving)
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


def _root(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def _run(server) -> None:
    """Serve until Ctrl-C or SIGTERM."""
    server.run()


if __name__ == "__main__":  # pragma: no cover
    main()
