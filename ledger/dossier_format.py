"""On-disk format of a decision dossier: names, manifest schema, strict parsing.

Shared by the writer and the verifier so both agree byte for byte; the prose version
is ``docs/dossier-format.md``.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import PurePosixPath
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    StrictStr,
    ValidationError,
    model_validator,
)

from ledger.canonical import MAX_SAFE_INTEGER
from ledger.records import KIND_PATTERN
from ledger.signing import SignedTreeHead

__all__ = [
    "CHECKPOINT_NAME",
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "FORMAT_VERSIONS",
    "MANIFEST_NAME",
    "PUBLIC_KEY_NAME",
    "TREE_HEAD_NAME",
    "DossierError",
    "EarlierHead",
    "Manifest",
    "ManifestFile",
    "ManifestItem",
    "check_relative_path",
    "describe_validation_error",
    "loads_strict",
    "record_path",
]

FORMAT_NAME = "dueprocess-dossier"
FORMAT_VERSION = 2  # 2: may carry the cosigned checkpoint; version 1 dossiers still verify
FORMAT_VERSIONS = (1, 2)
MANIFEST_NAME = "manifest.json"
TREE_HEAD_NAME = "tree-head.json"
PUBLIC_KEY_NAME = "public-key.pem"
CHECKPOINT_NAME = "checkpoint"
RECORDS_DIR = "records"
FILES_DIR = "files"

_Index = Annotated[StrictInt, Field(ge=0, le=MAX_SAFE_INTEGER)]
_Sha256Hex = Annotated[StrictStr, Field(pattern=r"^[0-9a-f]{64}$")]
_B64 = StrictStr  # decoded (and length-checked) by the verifier, which names the item


class DossierError(Exception):
    """The dossier is malformed, incomplete, or does not verify. The message says where."""


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ManifestFile(_Strict):
    path: StrictStr
    sha256: _Sha256Hex
    size: _Index


class ManifestItem(_Strict):
    leaf_index: _Index
    kind: Annotated[StrictStr, Field(pattern=KIND_PATTERN)]
    record: StrictStr
    leaf_hash: _B64
    inclusion_proof: list[_B64]
    # Always present: null when the record covers no document (docs/dossier-format.md §3).
    file: ManifestFile | None


class EarlierHead(_Strict):
    tree_head: SignedTreeHead
    consistency_proof: list[_B64]


class Manifest(_Strict):
    format: Literal["dueprocess-dossier"]
    format_version: Literal[1, 2]
    case_id: Annotated[StrictStr, Field(min_length=1)]
    items: Annotated[list[ManifestItem], Field(min_length=1)]
    earlier_tree_heads: list[EarlierHead] = []
    # Version 2: the tree head as a C2SP checkpoint note with the witnesses' cosignatures
    # (the file's name), or null when the log held no checkpoint for it.
    checkpoint: Literal["checkpoint"] | None = None

    @model_validator(mode="after")
    def _checkpoint_needs_version_2(self) -> Manifest:
        if self.checkpoint is not None and self.format_version < 2:
            raise ValueError("checkpoint needs format_version 2")
        return self


def record_path(leaf_index: int) -> str:
    """Where the record of a leaf lives inside a dossier."""
    return f"{RECORDS_DIR}/{leaf_index:012d}.json"


# Portable names: no separators, no Windows-reserved punctuation, no control chars.
_BAD_SEGMENT_RE = re.compile(r'[\\:*?"<>|\x00-\x1f\x7f]')


def check_relative_path(text: str, *, under: str) -> PurePosixPath:
    """Validate a dossier-relative POSIX path inside directory *under* (``ValueError``)."""
    if not text or text.startswith("/"):
        raise ValueError(f"path {text!r} must be relative")
    parts = text.split("/")
    for part in parts:
        if part in ("", ".", "..") or _BAD_SEGMENT_RE.search(part) or part != part.strip():
            raise ValueError(f"path {text!r} has an unsafe or empty component {part!r}")
    if len(parts) < 2 or parts[0] != under:
        raise ValueError(f"path {text!r} must be inside {under}/")
    return PurePosixPath(text)


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            # Two parsers could each pick a different one of the values.
            raise ValueError(f"duplicate key {key!r}")
        result[key] = value
    return result


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):  # Python would quietly turn 1e400 into inf
        raise ValueError(f"number {text} is out of range")
    return value


def loads_strict(data: bytes, *, what: str) -> Any:
    """Parse UTF-8 JSON refusing duplicate keys and NaN/Infinity; ``DossierError`` if bad."""
    try:
        text = data.decode("utf-8")
        return json.loads(
            text,
            object_pairs_hook=_no_duplicate_keys,
            parse_constant=_no_constants,
            parse_float=_finite_float,
        )
    except UnicodeDecodeError:
        raise DossierError(f"{what}: not UTF-8 text") from None
    except ValueError as exc:  # includes json.JSONDecodeError
        raise DossierError(f"{what}: malformed JSON ({exc})") from None
    except RecursionError:
        raise DossierError(f"{what}: JSON nested too deeply") from None


def describe_validation_error(exc: ValidationError) -> str:
    """First pydantic error as ``field.path: message`` (enough to fix the file)."""
    first = exc.errors(include_url=False)[0]
    loc = ".".join(str(p) for p in first["loc"]) or "(top level)"
    extra = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return f"{loc}: {first['msg']}{extra}"
