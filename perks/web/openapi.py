"""The OpenAPI 3.1 document of /api/v1, generated with apispec.

The paths and their path parameters come from the app's URL map (apispec's Flask plugin finds
each API view's rule); each operation's summary and answers from the YAML after `---` in its
view's docstring; the schemas from the pydantic models in perks.web.api_shapes (the campaign's
is the one campaign schema) through pydantic's JSON Schema. tests/test_api.py checks the
document against the URL map both ways, and a bounded schemathesis run checks the answers.
"""

import re
from typing import Any

from apispec import APISpec, BasePlugin
from apispec_webframeworks.flask import FlaskPlugin
from flask import Flask
from pydantic.json_schema import models_json_schema
from werkzeug.routing import Rule

from perks.web.api_shapes import QUERIES, SHAPES

# Reusable error answers (components/responses), named in the views' docstrings.
ERRORS = {
    "BadQuery": "Bad query parameter",
    "Unauthorized": "Missing, unknown or revoked token",
    "Forbidden": "Your role may not do this",
    "NotFound": "Not found in your brand",
    "Conflict": "Someone decided first; `current` holds their decision",
    "TooLarge": "Body too large",
    "NotJson": "Body is not JSON",
    "Invalid": "Body not valid; `problems` names every invalid field",
}
# Flask's converters, as schemas: <int:x> takes 0, 1, 2 …; <x> any text without a slash.
CONVERTER_SCHEMAS = {"int": {"type": "integer", "minimum": 0},
                     "string": {"type": "string", "minLength": 1, "pattern": "^[^/]+$"}}
ARGUMENT = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")


class QueryPlugin(BasePlugin):
    """Expands an operation's `x-query: ModelName` into its query parameters, so a view's
    parameters are the pydantic model (api_shapes) the view reads its query string with."""

    models = {model.__name__: model for model in QUERIES}

    def operation_helper(self, path: Any = None, operations: Any = None, **_: Any) -> None:
        for operation in (operations or {}).values():
            name = operation.pop("x-query", None)
            if name is not None:
                operation.setdefault("parameters", []).extend(query_parameters(self.models[name]))


def query_parameters(model: Any) -> list[dict[str, Any]]:
    """A query model's fields as OpenAPI parameters (optional ones lose their `null`)."""
    out = []
    for name, schema in model.model_json_schema()["properties"].items():
        # An absent parameter is the absence, not a null value.
        schema = {k: v for k, v in schema.items()
                  if k != "title" and not (k == "default" and v is None)}
        options = [s for s in schema.pop("anyOf", []) if s.get("type") != "null"]
        if options:
            schema.update(options[0])
        description = schema.pop("description", None)
        out.append({"name": name, "in": "query", "schema": schema,
                    **({"description": description} if description else {})})
    return out


def document(app: Flask) -> dict[str, Any]:
    """The OpenAPI document of the app's /api/v1 routes, as a fresh dict."""
    spec = APISpec(
        title="perks API", version="1", openapi_version="3.1.0",
        plugins=[FlaskPlugin(), QueryPlugin()],
        info={"description": "Bearer tokens from Settings → API tokens or "
                             "`perks token create`. Another brand's objects are 404."},
        servers=[{"url": "/"}], security=[{"bearer": []}])
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    _, schemas = models_json_schema([(shape, "validation") for shape in SHAPES],
                                    ref_template="#/components/schemas/{model}")
    for name, schema in schemas["$defs"].items():
        spec.components.schema(name, schema)
    for name, description in ERRORS.items():
        spec.components.response(name, {"description": description, "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}})
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint)):
        if rule.endpoint.startswith("api."):
            spec.path(view=app.view_functions[rule.endpoint], app=app,
                      parameters=_path_parameters(rule))
    return spec.to_dict()


def _path_parameters(rule: Rule) -> list[dict[str, Any]]:
    return [{"name": name, "in": "path", "schema": dict(CONVERTER_SCHEMAS[converter or "string"])}
            for converter, name in ARGUMENT.findall(rule.rule)]
