"""The legality review submission package, assembled from the case record (Art. 26).

Art. 26: the draft goes to the legality review with its legal basis and an account of the
statutory procedures performed. Nobody writes that account: it is the case's own record of
every stage before the review, with the digest of each piece of evidence. A plain function
of the case snapshot, so the gate rule, the journal and the CLI show the same package.
"""

from __future__ import annotations

import hashlib

import rfc8785
from pydantic import BaseModel

from dueprocess.rules.facts import CaseFacts


class PackageEvidence(BaseModel):
    id: int
    recorded_by: str
    draft_version: int
    payload_sha256: str
    intact: bool


class PackageProcedure(BaseModel):
    stage_key: str
    title: str
    articles: str
    status: str
    evidence: list[PackageEvidence]


class PackageDraft(BaseModel):
    version: int
    sha256: str
    intact: bool


class LegalityPackage(BaseModel):
    case_id: str
    stage_key: str
    legal_basis: list[str]
    draft: PackageDraft | None
    procedures: list[PackageProcedure]

    @property
    def sha256(self) -> str:
        # rfc8785 directly: dueprocess.services.payloads needs the rule engine, which needs this.
        return hashlib.sha256(rfc8785.dumps(self.model_dump(mode="json"))).hexdigest()

    def problems(self) -> list[str]:
        """What makes the package incomplete (Art. 26: the review may send it back)."""
        problems = []
        if not [b for b in self.legal_basis if b.strip()]:
            problems.append("the package has no legal basis")
        if self.draft is None:
            problems.append("the package has no draft")
        elif not self.draft.intact:
            problems.append(f"draft v{self.draft.version} no longer matches its hash")
        for procedure in self.procedures:
            if procedure.status != "completed":
                problems.append(f"procedure '{procedure.stage_key}' is {procedure.status}")
            if not procedure.evidence:
                problems.append(f"procedure '{procedure.stage_key}' has no evidence")
            for item in procedure.evidence:
                if not item.intact:
                    problems.append(f"procedure '{procedure.stage_key}': evidence #{item.id} "
                                    "no longer matches its hash")
        return problems


def assemble_package(facts: CaseFacts, stage_key: str) -> LegalityPackage:
    upstream = facts.procedure.upstream(stage_key)
    draft = facts.current_draft
    return LegalityPackage(
        case_id=facts.case_id, stage_key=stage_key, legal_basis=list(facts.legal_basis),
        draft=PackageDraft(version=draft.version, sha256=draft.sha256, intact=draft.intact)
        if draft else None,
        procedures=[
            PackageProcedure(
                stage_key=stage.key, title=stage.title, articles=stage.articles,
                status=facts.status(stage.key).value,
                evidence=[PackageEvidence(
                    id=item.id, recorded_by=item.recorded_by, draft_version=item.draft_version,
                    payload_sha256=item.payload_sha256, intact=item.evidence is not None,
                ) for item in facts.current_evidence(stage.key)],
            )
            for stage in facts.procedure.stages if stage.key in upstream
        ],
    )
