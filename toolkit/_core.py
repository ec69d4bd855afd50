"""openapi-core, set up once per spec, with a fast hot path and its own semantics.

`core_for(spec)` builds one `openapi_core.OpenAPI` object per `Spec` (the spec
was validated when it loaded, so it is not validated again) and plugs three
things into openapi-core's own extension points:

- a schema validators factory that keeps each schema's validator once built,
  and asks a compiled `jsonschema_rs` check first: when it says "valid" the value
  is valid; otherwise openapi-core's validator runs and reports exactly what
  openapi-core reports. The compiled check is used only where it is at least as
  strict as openapi-core (no formats it does not check, no readOnly/writeOnly);
- a path finder backed by the spec's router (a dictionary of compiled templates)
  instead of a scan of every path per request;
- an HTTP security provider that also rejects a Basic credential that is not
  base64 of `id:key`;
- the parameters openapi-core validated are kept on the request's
  `parameters.validated` (the mock serves them as openapi-core cast them), and an
  accepted set of raw parameter values is remembered (the answer depends on them alone).

Everything else (parameter styles and casting, media types, security
alternatives, response lookup) is openapi-core's.
"""

from __future__ import annotations

import base64
import binascii
import threading
import weakref
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from jsonschema_path import SchemaPath
from openapi_core import Config, OpenAPI
from openapi_core.casting.schemas.factories import SchemaCastersFactory
from openapi_core.datatypes import Parameters
from openapi_core.security.exceptions import SecurityProviderError
from openapi_core.security.factories import SecurityProviderFactory
from openapi_core.security.providers import HttpProvider
from openapi_core.templating.datatypes import TemplateResult
from openapi_core.templating.paths.datatypes import PathOperationServer
from openapi_core.templating.paths.exceptions import OperationNotFound, PathNotFound
from openapi_core.validation.request.exceptions import (
    MissingRequestBody,
    ParametersError,
    RequestBodyValidationError,
)
from openapi_core.validation.schemas.factories import SchemaValidatorsFactory
from openapi_core.validation.schemas.validators import SchemaValidator

from ._json import copy_value, media_loads
from ._lru import Lru
from ._schema import to_json_schema
from .spec import Spec

try:  # shipped with schemathesis; without it every check takes openapi-core's path
    import jsonschema_rs
except ImportError:  # pragma: no cover
    jsonschema_rs = None

__all__ = ["compile_schema", "core_for", "security_providers"]

# Formats the compiled check verifies at least as strictly as openapi-core does. A schema
# using any other format (int32, byte, ...) is left to openapi-core alone.
_SAFE_FORMATS = frozenset({"date-time", "email", "uri", "ipv4", "ipv6", "password"})
_UNSAFE_KEYS = frozenset({"readOnly", "writeOnly", "discriminator", "$ref"})


def _compilable(schema: Any) -> bool:
    if isinstance(schema, list):
        return all(_compilable(s) for s in schema)
    if not isinstance(schema, Mapping):
        return True
    if _UNSAFE_KEYS & schema.keys():
        return False
    if "format" in schema and schema["format"] not in _SAFE_FORMATS:
        return False
    for key in ("properties", "patternProperties"):
        if isinstance(schema.get(key), Mapping) and not all(_compilable(s) for s in schema[key].values()):
            return False
    nested = ("items", "additionalProperties", "not", "allOf", "oneOf", "anyOf")
    return all(_compilable(schema[k]) for k in nested if k in schema)


def compile_schema(contents: Any) -> Any:
    """The compiled check of a schema, or None where it would not be at least as strict as openapi-core."""
    if jsonschema_rs is None or not _compilable(contents):
        return None
    try:
        return jsonschema_rs.Draft4Validator(to_json_schema(contents), validate_formats=True)
    except Exception:  # noqa: BLE001 - a schema the compiled check cannot take: openapi-core alone
        return None


class _CheckedFirst(SchemaValidator):
    """openapi-core's SchemaValidator, asking the compiled check first."""

    def __init__(self, schema: SchemaPath, validator: Any, compiled: Any):
        super().__init__(schema, validator)
        self._compiled = compiled

    def validate(self, value: Any) -> None:
        if self._compiled is not None and self._compiled.is_valid(value):
            return
        super().validate(value)

    def evolve(self, schema: SchemaPath) -> SchemaValidator:
        return SchemaValidator(self.schema, self.validator).evolve(schema)


class _CompiledValidatorsFactory(SchemaValidatorsFactory):
    """Wraps openapi-core's factory of a validator class: same validators, built once."""

    def __init__(self, base: SchemaValidatorsFactory):
        super().__init__(base.schema_validator_cls, base.format_checker)
        self._base = base
        self._built: dict[Any, SchemaValidator] = {}
        self._lock = threading.Lock()

    def get_validator_cls(self, spec: SchemaPath, schema: SchemaPath) -> Any:
        return self._base.get_validator_cls(spec, schema)

    def create(
        self,
        spec: SchemaPath,
        schema: SchemaPath,
        format_validators: Any = None,
        extra_format_validators: Any = None,
        forbid_unspecified_additional_properties: bool = False,
        enforce_properties_required: bool = False,
    ) -> SchemaValidator:
        key = (
            schema.parts,
            id(format_validators),
            id(extra_format_validators),
            forbid_unspecified_additional_properties,
            enforce_properties_required,
        )
        built = self._built.get(key)
        if built is not None:
            return built
        plain = self._base.create(
            spec,
            schema,
            format_validators=format_validators,
            extra_format_validators=extra_format_validators,
            forbid_unspecified_additional_properties=forbid_unspecified_additional_properties,
            enforce_properties_required=enforce_properties_required,
        )
        compiled = None
        if not (forbid_unspecified_additional_properties or enforce_properties_required or extra_format_validators):
            with schema.resolve() as resolved:
                compiled = compile_schema(resolved.contents)
        built = _CheckedFirst(plain.schema, plain.validator, compiled)
        with self._lock:
            self._built[key] = built
        return built


class _CachedCastersFactory(SchemaCastersFactory):
    """openapi-core's casters factory; each schema's caster (and its validator) built once."""

    def __init__(self, base: SchemaCastersFactory):
        super().__init__(_CompiledValidatorsFactory(base.schema_validators_factory), base.types_caster)
        self._built: dict[Any, Any] = {}

    def create(
        self, spec: SchemaPath, schema: SchemaPath, format_validators: Any = None, extra_format_validators: Any = None
    ) -> Any:
        key = (schema.parts, id(format_validators), id(extra_format_validators))
        built = self._built.get(key)
        if built is None:
            built = self._built[key] = super().create(spec, schema, format_validators, extra_format_validators)
        return built


def _router_path_finder(spec: Spec) -> type:
    class RouterPathFinder:
        """openapi-core's path finder contract, answered by the spec's router."""

        def __init__(self, spec_path: SchemaPath, base_url: str | None = None):
            self.paths = dict((spec_path / "paths").str_items())
            self._operations: dict[tuple[str, str], SchemaPath] = {}

        def find(self, method: str, name: str) -> PathOperationServer:
            path = urlsplit(name).path
            match = spec.find(method.upper(), path)
            if match is None:
                if spec.methods_for(path):
                    raise OperationNotFound(name, method)
                raise PathNotFound(name)
            template = match.operation.path
            path_item = self.paths[template]
            key = (template, method)
            operation = self._operations.get(key)
            if operation is None:
                operation = self._operations[key] = path_item / method
            return PathOperationServer(
                path_item, operation, None, TemplateResult(template, dict(match.path_params)), TemplateResult("/", {})
            )

    return RouterPathFinder


class _KeepsParameters:
    """Request validator mixin: keeps the validated parameters on `parameters.validated`, and
    remembers openapi-core's answer for raw parameter values it has already accepted.

    Deserializing, casting and validating parameters is a function of the operation and
    the raw values alone, so an accepted set of values is looked up the next time (the
    last `_MEMO_SIZE` sets); a rejected one always goes through openapi-core again.
    """

    _MEMO_SIZE = 4096

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._declared: dict[tuple[Any, ...], tuple[tuple[str, str], ...]] = {}
        self._accepted = Lru(self._MEMO_SIZE)

    def forget(self) -> None:
        """Drop the remembered parameter sets (the mock's reset gives their memory back)."""
        self._accepted.clear()

    def _raw_key(self, parameters: Any, operation: SchemaPath, path: SchemaPath) -> Any:
        declared = self._declared.get(operation.parts)
        if declared is None:
            params = [*operation.get("parameters", []), *path.get("parameters", [])]
            declared = tuple(((p / "in").read_str(), (p / "name").read_str()) for p in params)
            self._declared[operation.parts] = declared
        values = []
        for location, name in declared:
            if location == "path":
                values.append(parameters.path.get(name))
            elif location != "query":  # the whole query string is in the key (exploded objects)
                values.append(tuple(parameters[location].getlist(name)))
        return operation.parts, tuple(parameters.query.items(multi=True)), tuple(values)

    def _get_parameters(self, parameters: Any, operation: SchemaPath, path: SchemaPath) -> Any:
        key = self._raw_key(parameters, operation, path)
        accepted = self._accepted.get(key)
        if accepted is not None:
            parameters.validated = _copied(accepted)
            return parameters.validated
        try:
            validated = super()._get_parameters(parameters, operation, path)  # type: ignore[misc]
        except ParametersError as exc:
            parameters.validated = exc.parameters
            raise
        self._accepted.put(key, _copied(validated))
        parameters.validated = validated
        return validated


def _copied(parameters: Parameters) -> Parameters:
    """A copy of validated parameters that shares nothing a caller could change (`copy.deepcopy`, faster)."""
    return Parameters(
        query=copy_value(dict(parameters.query)),
        header=copy_value(dict(parameters.header)),
        cookie=copy_value(dict(parameters.cookie)),
        path=copy_value(dict(parameters.path)),
    )


class _SecurityOptional:
    """Request validator mixin: a request whose `check_security` is false has its parameters and
    body validated without its credentials (openapi-core checks nothing else when they fail)."""

    def _iter_errors(self, request: Any, operation: SchemaPath, path: SchemaPath) -> Any:
        if getattr(request, "check_security", True):
            yield from super()._iter_errors(request, operation, path)  # type: ignore[misc]
            return
        try:
            self._get_parameters(request.parameters, operation, path)  # type: ignore[attr-defined]
        except ParametersError as exc:
            yield from exc.errors
        try:
            self._get_body(request.body, request.content_type, operation)  # type: ignore[attr-defined]
        except MissingRequestBody:
            pass
        except RequestBodyValidationError as exc:
            yield exc


class BasicAwareHttpProvider(HttpProvider):
    """openapi-core's HTTP provider; a Basic credential must also be base64 of `id:key`."""

    def __call__(self, parameters: Any) -> Any:
        value = super().__call__(parameters)
        if (self.scheme / "scheme").read_str("").lower() == "basic":
            try:
                decoded = base64.b64decode(value.strip(), validate=True).decode()
            except (binascii.Error, UnicodeDecodeError):
                raise SecurityProviderError("Basic credential is not base64.") from None
            if ":" not in decoded:
                raise SecurityProviderError("Basic credential is not id:key.")
        elif not value.strip():
            raise SecurityProviderError("Empty credential.")
        return value


class _SecurityProviders(SecurityProviderFactory):
    PROVIDERS = {**SecurityProviderFactory.PROVIDERS, "http": BasicAwareHttpProvider}


security_providers = _SecurityProviders()

_built: weakref.WeakKeyDictionary[Spec, OpenAPI] = weakref.WeakKeyDictionary()
_build_lock = threading.Lock()


def _count_nodes(node: Any) -> int:
    if isinstance(node, Mapping):
        return 1 + sum(_count_nodes(v) for v in node.values())
    if isinstance(node, list):
        return 1 + sum(_count_nodes(v) for v in node)
    return 1


def _fast_factories(validator_cls: type) -> dict[str, Any]:
    return {
        "schema_validators_factory": _CompiledValidatorsFactory(validator_cls.schema_validators_factory),
        "schema_casters_factory": _CachedCastersFactory(validator_cls.schema_casters_factory),
    }


def core_for(spec: Spec) -> OpenAPI:
    """The one configured openapi-core object of a spec (built on first use)."""
    core = _built.get(spec)
    if core is not None:
        return core
    with _build_lock:
        core = _built.get(spec)
        if core is None:
            document = dict(spec.document)
            document["servers"] = [{"url": "/"}]  # paths are matched by the router, base paths stripped before
            defaults = OpenAPI.from_dict(document, config=Config(spec_validator_cls=None))
            request_cls, response_cls = defaults.request_validator_cls, defaults.response_validator_cls
            config = Config(
                spec_validator_cls=None,
                extra_media_type_deserializers={"application/json": media_loads},
                path_finder_cls=_router_path_finder(spec),
                security_provider_factory=security_providers,
                request_validator_cls=type(
                    "RequestValidator",
                    (_SecurityOptional, _KeepsParameters, request_cls),
                    _fast_factories(request_cls),
                ),
                response_validator_cls=type(
                    "ResponseValidator",
                    (response_cls,),
                    _fast_factories(response_cls),
                ),
            )
            # jsonschema_path resolves every read of the spec from the root unless it may keep
            # resolved nodes; a size covering the whole document makes repeated reads lookups
            nodes = _count_nodes(document)
            core = _built[spec] = OpenAPI(SchemaPath.from_dict(document, resolved_cache_maxsize=nodes), config=config)
    return core
