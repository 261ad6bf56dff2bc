"""Canonical evidence payloads: documents split out by digest, hashed as RFC 8785 JSON."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass
from typing import Any

import rfc8785
from pydantic import BaseModel

from dueprocess.errors import Refused
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
