"""Canonical evidence payloads: documents split out by digest, hashed as RFC 8785 JSON; and
the nesting limit every JSON or YAML input meets before it is parsed."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import rfc8785
import yaml
from pydantic import BaseModel

from dueprocess.errors import DueProcessError, Refused
from dueprocess.rules.engine import Unmet


@dataclass(frozen=True)
class DocumentBytes:
    sha256: str
    media_type: str
    content: bytes


def canonical_sha256(payload: Any) -> str:
    return hashlib.sha256(rfc8785.dumps(payload)).hexdigest()


def split_documents(
    evidence: BaseModel, *, max_document_bytes: int, max_evidence_bytes: int
) -> tuple[dict[str, Any], list[DocumentBytes]]:
    """The stored payload (documents replaced by digests) and the decoded documents."""
    path = too_deep_path(evidence)
    if path is not None:  # a schema with free-form fields: refused before anything recurses
        raise Refused([TooDeep("evidence", path, MAX_NESTING_DEPTH).as_unmet()])
    payload = evidence.model_dump(mode="json")
    documents: list[DocumentBytes] = []
    problems: list[Unmet] = []
    references = []
    for index, document in enumerate(payload.pop("documents", [])):
        field = f"documents.{index}.content_base64"
        try:
            content = base64.b64decode(document["content_base64"], validate=True)
        except (binascii.Error, ValueError):
            problems.append(Unmet("SCHEMA", "schema", f"{field}: not valid base64"))
            continue
        if len(content) > max_document_bytes:
            problems.append(Unmet(
                "DOCUMENT-SIZE", "DUEPROCESS_MAX_DOCUMENT_BYTES",
                f"{field}: document is {len(content)} bytes, over the limit of "
                f"{max_document_bytes}",
            ))
            continue
        digest = hashlib.sha256(content).hexdigest()
        documents.append(DocumentBytes(digest, document["media_type"], content))
        references.append({"filename": document["filename"], "media_type": document["media_type"],
                           "sha256": digest, "size": len(content)})
    payload["documents"] = references
    size = len(json.dumps(payload, ensure_ascii=False).encode())
    if size > max_evidence_bytes:
        problems.append(Unmet(
            "EVIDENCE-SIZE", "DUEPROCESS_MAX_EVIDENCE_BYTES",
            f"evidence: {size} bytes of JSON, over the limit of {max_evidence_bytes}",
        ))
    if problems:
        raise Refused(problems)
    return payload, documents


# Nesting depth: json, PyYAML's composer, pydantic and RFC 8785 all recurse, so a document
# nested 200,000 deep would end in a RecursionError (or worse) before any rule saw it. Every
# JSON or YAML input is measured before it is parsed, by scanners that do not recurse.
MAX_NESTING_DEPTH = 32
_JSON_TOKENS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|["{}\[\]:,]', re.DOTALL)
FieldPath = tuple[str | int, ...]
_SCALARS = frozenset({str, int, float, bool, type(None)})


class TooDeep(DueProcessError):
    """An input nested deeper than the limit; the message names where and the limit."""

    def __init__(self, field: str, path: FieldPath, limit: int) -> None:
        self.field, self.path, self.limit = field, path, limit
        super().__init__(
            f"{field}: {_shown(path)}: objects and lists nested deeper than {limit} levels are "
            f"refused (limit: {limit} levels)"
        )

    def as_unmet(self) -> Unmet:
        return Unmet("NESTING-DEPTH", "input limits", str(self))


def _shown(path: FieldPath) -> str:
    """The path to the first level over the limit, short enough for one line."""
    parts = [str(p) if len(str(p)) <= 24 else f"{str(p)[:21]}..." for p in path]
    if len(parts) > 8:
        parts = [*parts[:3], "…", *parts[-3:]]
    return ".".join(parts) or "(top level)"


def too_deep_path(value: Any, *, limit: int = MAX_NESTING_DEPTH) -> FieldPath | None:
    """Where `value` (models, dicts and lists) first goes deeper than `limit`, or None.

    Iterative; shared or cyclic containers (YAML aliases) are followed at most once per depth,
    so an alias chain can neither hide depth nor make the check slow.
    """
    deepest: dict[int, int] = {}
    stack: list[tuple[Any, int, FieldPath]] = [(value, 1, ())]
    while stack:
        node, depth, path = stack.pop()
        children: Iterable[tuple[Any, Any]]
        if isinstance(node, (list, tuple)):
            children = enumerate(node)
        elif isinstance(node, Mapping):
            children = node.items()
        elif isinstance(node, BaseModel):
            children = ((name, getattr(node, name, None)) for name in type(node).model_fields)
        else:
            continue
        if depth > limit:
            return path
        if deepest.get(id(node), 0) >= depth:
            continue
        deepest[id(node)] = depth
        for key, child in children:
            if type(child) in _SCALARS:  # most values: skip the slower ABC checks
                continue
            if isinstance(child, (dict, list, tuple, BaseModel, Mapping)):
                stack.append((child, depth + 1, (*path, key)))
    return None


def check_nesting(value: Any, *, field: str, limit: int = MAX_NESTING_DEPTH) -> None:
    path = too_deep_path(value, limit=limit)
    if path is not None:
        raise TooDeep(field, path, limit)


def json_too_deep_path(text: str, *, limit: int = MAX_NESTING_DEPTH) -> FieldPath | None:
    """Where JSON text first nests deeper than `limit`, found without parsing it.

    Malformed text gives None: the parser then names the syntax error.
    """
    # Each open container: [kind, key of the member being read or index of the element].
    open_: list[list[Any]] = []
    last_string = ""
    for match in _JSON_TOKENS.finditer(text):
        token = match.group()
        if token in "{[":
            if len(open_) >= limit:
                return tuple(frame[1] for frame in open_)
            open_.append([token, 0 if token == "[" else ""])
        elif token in "}]":
            if not open_:
                return None
            open_.pop()
        elif token == ":":
            if open_ and open_[-1][0] == "{":
                open_[-1][1] = last_string
        elif token == ",":
            if open_ and open_[-1][0] == "[":
                open_[-1][1] += 1
        elif token == '"':
            return None  # an unterminated string
        else:
            last_string = _json_string(token)
    return None


def _json_string(token: str) -> str:
    try:
        return str(json.loads(token))
    except ValueError:
        return token[1:-1]


def loads_json(text: str, *, field: str, limit: int = MAX_NESTING_DEPTH) -> Any:
    """`json.loads`, refusing nesting deeper than `limit` (TooDeep naming `field`).

    The C parser guards its own recursion (RecursionError, never a crash), so it runs first
    and the slower text scanner only finds where a document too deep for it goes too deep.
    """
    try:
        data = json.loads(text)
    except RecursionError:
        path = json_too_deep_path(text, limit=limit)
        raise TooDeep(field, path or ("(top level)",), limit) from None
    check_nesting(data, field=field, limit=limit)
    return data


def yaml_too_deep_path(text: str, *, limit: int = MAX_NESTING_DEPTH) -> FieldPath | None:
    """Where YAML text first nests deeper than `limit`, from PyYAML's event stream (its
    parser is a state machine; only the composer that builds objects recurses)."""
    # Each open collection: [kind, current key or index, whether a mapping awaits a key].
    open_: list[list[Any]] = []

    def node_done() -> None:
        if not open_:
            return
        frame = open_[-1]
        if frame[0] == "map":
            frame[2] = not frame[2]
        else:
            frame[1] += 1

    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            if open_ and open_[-1][0] == "map" and open_[-1][2]:
                open_[-1][1] = "?"  # a collection used as a key
            if len(open_) >= limit:
                return tuple(frame[1] for frame in open_)
            open_.append(["map", "", True] if isinstance(event, yaml.MappingStartEvent)
                         else ["seq", 0, False])
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            open_.pop()
            node_done()
        elif isinstance(event, (yaml.ScalarEvent, yaml.AliasEvent)):
            if open_ and open_[-1][0] == "map" and open_[-1][2]:
                open_[-1][1] = event.value if isinstance(event, yaml.ScalarEvent) else "*"
            node_done()
    return None


def load_yaml(text: str, *, field: str, limit: int = MAX_NESTING_DEPTH) -> Any:
    """`yaml.safe_load`, after refusing nesting deeper than `limit` in the text or through
    aliases (TooDeep naming `field`)."""
    path = yaml_too_deep_path(text, limit=limit)
    if path is not None:
        raise TooDeep(field, path, limit)
    data = yaml.safe_load(text)
    check_nesting(data, field=field, limit=limit)
    return data
