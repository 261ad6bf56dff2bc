"""The decision archive, Decree 713 Art. 33: judged when the case closes."""

from __future__ import annotations

from collections.abc import Iterator

from dueprocess.rules.engine import CLOSING, RuleContext, gate_rule


@gate_rule(id="AR-DOSSIER-COMPLETE", kind=CLOSING, article="Art. 33",
           summary="The records and materials of every stage are filed completely")
def dossier_complete(ctx: RuleContext) -> Iterator[str]:
    facts = ctx.facts
    for stage in facts.procedure.stages:
        current = facts.current_evidence(stage.key)
        if not current:
            yield f"stage '{stage.key}' has no materials in the archive"
        for item in current:
            if item.evidence is None:
                yield f"stage '{stage.key}': evidence #{item.id} no longer matches its hash"
            missing = [d for d in item.documents if d not in facts.stored_documents]
            if missing:
                yield (f"stage '{stage.key}': evidence #{item.id} refers to documents not "
                       f"in the archive: {', '.join(d[:12] for d in missing)}")
    for draft in facts.drafts:
        if not draft.intact:
            yield f"draft v{draft.version} no longer matches its hash"
