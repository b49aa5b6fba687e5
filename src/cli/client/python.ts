/** Generates a Python 3 client: dataclasses for the named types, urllib from the standard library. */
import { type JsonSchema, NamedTypes, type OpenApiDocument, operationsOf, snakeCase } from "./operations.ts";

const KEYWORDS = new Set([
  "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue", "def", "del", "elif",
  "else", "except", "finally", "for", "from", "global", "if", "import", "in", "is", "lambda", "nonlocal", "not", "or",
  "pass", "raise", "return", "try", "while", "with", "yield"
]);

/** A safe Python identifier for a JSON name. */
function ident(name: string): string {
  const base = snakeCase(name).replace(/[^A-Za-z0-9_]/g, "_");
  const safe = /^[0-9]/.test(base) ? `_${base}` : base;
  return KEYWORDS.has(safe) ? `${safe}_` : safe;
}

function hint(schema: JsonSchema | undefined, named: NamedTypes): string {
  if (!schema || Object.keys(schema).length === 0) return "Any";
  const name = named.nameFor(schema);
  if (name) return name; // \`from __future__ import annotations\` makes forward references fine
  const node = named.resolve(schema);
  const variants = (node.anyOf ?? node.oneOf) as JsonSchema[] | undefined;
  if (Array.isArray(variants)) return `Union[${[...new Set(variants.map((v) => hint(v, named)))].join(", ")}]`;
  switch (Array.isArray(node.type) ? node.type.find((t) => t !== "null") : node.type) {
    case "string":
      return "str";
    case "integer":
      return "int";
    case "number":
      return "float";
    case "boolean":
      return "bool";
    case "array":
      return `List[${hint(node.items as JsonSchema | undefined, named)}]`;
    case "object":
      return "Dict[str, Any]";
    default:
      return "Any";
  }
}

function dataclass(name: string, schema: JsonSchema, named: NamedTypes): string {
  const properties = Object.entries((schema.properties ?? {}) as Record<string, JsonSchema>);
  const required = new Set((schema.required ?? []) as string[]);
  const ordered = [...properties.filter(([p]) => required.has(p)), ...properties.filter(([p]) => !required.has(p))];
  const fields = ordered.map(([prop, s]) =>
    required.has(prop) ? `    ${ident(prop)}: ${hint(s, named)}` : `    ${ident(prop)}: Optional[${hint(s, named)}] = None`
  );
  const names = ordered.map(([prop]) => `${JSON.stringify(prop)}: ${JSON.stringify(ident(prop))}`);
  return `@dataclass
class ${name}:
${fields.length ? fields.join("\n") : "    pass"}
    extra: Dict[str, Any] = field(default_factory=dict)

    _names = {${names.join(", ")}}

    @classmethod
    def from_dict(cls, data: Dict[str, Any]) -> ${name}:
        known = {cls._names[k]: v for k, v in data.items() if k in cls._names}
        return cls(**known, extra={k: v for k, v in data.items() if k not in cls._names})

    def to_dict(self) -> Dict[str, Any]:
        out = {k: getattr(self, attr) for k, attr in self._names.items() if getattr(self, attr) is not None}
        out.update(self.extra)
        return out`;
}

function converter(schema: JsonSchema | undefined, named: NamedTypes): string {
  if (!schema) return "None";
  const name = named.nameFor(schema);
  if (name) return `${name}.from_dict(data)`;
  const node = named.resolve(schema);
  if (node.type === "array") {
    const item = named.nameFor((node.items ?? {}) as JsonSchema);
    if (item) return `[${item}.from_dict(row) for row in data]`;
  }
  return "data";
}

/** The client module's source: dataclasses, `ApiError` and a `Client` class with one method per operation. */
export function pythonClient(document: OpenApiDocument): string {
  const named = new NamedTypes(document);
  const methods: string[] = [];
  for (const op of operationsOf(document)) {
    const params = ["self", ...op.pathParams.map(ident)];
    if (op.body) params.push(`body: Union[${hint(op.body, named)}, Dict[str, Any]]`);
    if (op.rawBody) params.push("body: bytes", 'content_type: str = "application/octet-stream"');
    if (op.queryParams.length) params.push("query: Optional[Dict[str, Any]] = None");
    const path = op.path.replace(/\{([^}]+)\}/g, (_m, p: string) => `{_quote(${ident(p)})}`).replace(/"/g, '\\"');
    const send = op.body ? "json=_to_json(body)" : op.rawBody ? "raw=body, content_type=content_type" : "";
    const result = op.response ? hint(op.response, named) : "None";
    const query = op.queryParams.length ? "query" : "None";
    methods.push(`    def ${ident(op.name)}(${params.join(", ")}) -> ${result}:
        """${op.method} ${op.path}${op.summary ? `: ${op.summary}` : ""}"""
        data = self.request("${op.method}", f"${path}", ${query}${send ? `, ${send}` : ""})
        return ${op.response ? converter(op.response, named) : "None"}`);
  }
  const classes: string[] = [];
  for (let i = 0; i < named.types.size; i++) {
    const [name, schema] = [...named.types.entries()][i]!;
    classes.push(dataclass(name, schema, named));
  }
  return `"""Client of ${document.info?.title ?? "a chapkit service"} ${document.info?.version ?? ""}.

Generated by \`chapkit client --lang python\` from its OpenAPI document; Python 3.8+, standard
library only (urllib, json, dataclasses). Do not edit: regenerate when the service changes.
"""
from __future__ import annotations

import dataclasses
import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Union


class ApiError(Exception):
    """A non-2xx answer; \`problem\` is the RFC 9457 body when the service sent one."""

    def __init__(self, status: int, problem: Any):
        detail = problem.get("detail") if isinstance(problem, dict) else problem
        super().__init__(f"HTTP {status}: {detail}")
        self.status = status
        self.problem = problem


def _quote(value: Any) -> str:
    return urllib.parse.quote(str(value), safe="")


def _to_json(value: Any) -> Any:
    if hasattr(value, "to_dict"):
        return value.to_dict()
    if dataclasses.is_dataclass(value):
        return dataclasses.asdict(value)
    return value


${classes.join("\n\n\n")}


class Client:
    """One method per operation of the service."""

    def __init__(self, base_url: str, headers: Optional[Dict[str, str]] = None, timeout: float = 30.0):
        self.base_url = base_url.rstrip("/")
        self.headers = dict(headers or {})
        self.timeout = timeout

    def request(self, method: str, path: str, query: Optional[Dict[str, Any]] = None, json: Any = None,
                raw: Optional[bytes] = None, content_type: Optional[str] = None) -> Any:
        url = self.base_url + path
        if query:
            url += "?" + urllib.parse.urlencode({k: v for k, v in query.items() if v is not None})
        headers = {"Accept": "application/json", **self.headers}
        body = None
        if json is not None:
            headers["Content-Type"] = "application/json"
            body = _dumps(json)
        elif raw is not None:
            headers["Content-Type"] = content_type or "application/octet-stream"
            body = raw
        request = urllib.request.Request(url, data=body, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return _parse(response.read())
        except urllib.error.HTTPError as error:
            raise ApiError(error.code, _parse(error.read())) from None

${methods.join("\n\n")}


def _dumps(value: Any) -> bytes:
    return json.dumps(value).encode("utf-8")


def _parse(payload: bytes) -> Any:
    if not payload:
        return None
    try:
        return json.loads(payload)
    except ValueError:
        return payload.decode("utf-8", "replace")
`;
}
