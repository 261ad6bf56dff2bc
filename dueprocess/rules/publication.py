"""Publication, Decree 713 Art. 32."""

from __future__ import annotations

from collections.abc import Iterator

from dueprocess.rules.engine import RuleContext, evidence_rule
from models.evidence_schemas import PublicationEvidence

KIND = "publication"


@evidence_rule(id="PB-OFFICIAL-CHANNEL", kind=KIND, article="Art. 32",
               summary="Published through the gazette or the government website")
def official_channel(evidence: PublicationEvidence, ctx: RuleContext) -> Iterator[str]:
    if not {"gazette", "website"} & set(evidence.channels):
        yield "channels must include 'gazette' or 'website'"
