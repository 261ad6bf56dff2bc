"""The titles of the evidence schemas' fields and the words of their choices, as English
msgids that the catalogues translate where a form is shown (`dueprocess/i18n`).

The schemas take their `title` from `TITLES` (`field_title_generator`), so Prefect's form
and the inbox form read "Expert name", not "Expert Name" made from `expert_name`; a page
translates the title into the reader's language. A field of the same name means the same
thing in every schema, so one table serves them all.
"""

from __future__ import annotations

from pydantic.fields import ComputedFieldInfo, FieldInfo


def N_(message: str) -> str:
    """Mark a message for extraction (babel's `N_` keyword); translated where shown."""
    return message


TITLES: dict[str, str] = {
    # Attachments and opinion answers
    "filename": N_("File name"),
    "media_type": N_("Media type"),
    "content_base64": N_("Content"),
    "cluster": N_("Opinion or cluster"),
    "opinions": N_("Opinions answered"),
    "response": N_("Answer"),
    "reason": N_("Reason"),
    # Public participation and hearings
    "held_on": N_("Held on"),
    "selection_method_published_on": N_("Selection method published on"),
    "participants_published_on": N_("Participant list published on"),
    "materials_sent_on": N_("Materials received by the last participant on"),
    "participants": N_("Participants"),
    "record_signed_by": N_("Record signed by"),
    "call_published_on": N_("Call for comments published on"),
    "call_url": N_("Call for comments (address)"),
    "published_materials": N_("Materials published with the call"),
    "window_opens": N_("Comment window opens"),
    "window_closes": N_("Comment window closes"),
    "shortened_reason": N_("Reason for a shorter window"),
    "shortened_reason_published": N_("Reason published with the call"),
    "specific_groups_affected": N_("Specific groups affected"),
    "groups_consulted": N_("Groups consulted"),
    "hearing": N_("Hearing"),
    "opinions_received": N_("Opinions received"),
    "adoption_statement": N_("Adoption statement"),
    "responses": N_("Answers to the opinions"),
    "documents": N_("Documents"),
    # Expert review
    "expert_name": N_("Expert"),
    "affiliation": N_("Affiliation"),
    "field_of_expertise": N_("Field of expertise"),
    "direct_interest": N_("Direct interest in the matter"),
    "conclusion": N_("Conclusion"),
    "opinion": N_("Opinion"),
    "signed_on": N_("Signed on"),
    "signature_ed25519": N_("Electronic signature"),
    "sealed_scan_sha256": N_("Sealed scan (SHA-256)"),
    # Risk assessment
    "areas": N_("Areas assessed"),
    "risk_points": N_("Risk points"),
    "prevention_measures": N_("Prevention measures"),
    "response_plan": N_("Response plan"),
    "departments_consulted": N_("Departments consulted"),
    "controllable": N_("Risk controllable"),
    "level": N_("Risk level"),
    "assessed_on": N_("Assessed on"),
    # Legality review
    "received_on": N_("Package received on"),
    "issued_on": N_("Opinion issued on"),
    "outcome": N_("Outcome"),
    "review_covers": N_("Review covers"),
    "advisers_consulted": N_("Legal advisers consulted"),
    "legal_risk_statement": N_("Legal risk statement"),
    # Collective decision
    "speaker": N_("Speaker"),
    "position": N_("Position"),
    "text": N_("Statement"),
    "member": N_("Member"),
    "meeting_type": N_("Meeting type"),
    "members_present": N_("Members present"),
    "materials_received": N_("Materials before the meeting"),
    "expert_opinion_adoption": N_("How expert opinions were adopted"),
    "statements": N_("Statements"),
    "head": N_("Administrative head"),
    "head_decision": N_("Head's decision"),
    "decision_text": N_("Decision"),
    "dissent": N_("Dissent"),
    "reasons_against_majority": N_("Reasons for deciding against the majority"),
    # Publication and filing
    "published_on": N_("Published on"),
    "channels": N_("Channels"),
    "url": N_("Address"),
    "adoption_explanation": N_("How public opinions were adopted"),
    "expert_adoption_explanation": N_("How expert opinions were adopted"),
    "party_committee_consulted_on": N_("Party committee consulted on"),
    "party_committee_reference": N_("Party committee reference"),
    "filed_with": N_("Filed with"),
    "filed_on": N_("Filed on"),
    "filing_number": N_("Filing number"),
    # Recommendations and evaluation
    "department": N_("Department"),
    "responsible": N_("Responsible official"),
    "assigned_on": N_("Assigned on"),
    "instructions": N_("Instructions"),
    "replied_on": N_("Replied on"),
    "reply_text": N_("Reply"),
    "measures": N_("Measures"),
    "reasons": N_("Reasons"),
    "evaluated_by": N_("Evaluated by"),
    "third_party": N_("Third-party evaluator"),
    "method": N_("Method"),
    "public_opinions_heard": N_("Public opinions heard"),
    "findings": N_("Findings"),
    "concluded_on": N_("Concluded on"),
}

# The words of each choice an evidence field offers (the stored value is the key).
CHOICES: dict[str, str] = {
    "adopted": N_("Adopted"),
    "partly_adopted": N_("Partly adopted"),
    "not_adopted": N_("Not adopted"),
    "draft": N_("Draft"),
    "explanation": N_("Explanation of the draft"),
    "supports": N_("Supports"),
    "supports_with_changes": N_("Supports with changes"),
    "opposes": N_("Opposes"),
    "social_stability": N_("Social stability"),
    "public_safety": N_("Public safety"),
    "environment": N_("Environment"),
    "finance": N_("Finance"),
    "other": N_("Other"),
    "high": N_("High"),
    "medium": N_("Medium"),
    "low": N_("Low"),
    "lawful": N_("Lawful"),
    "revise": N_("To be revised"),
    "unlawful": N_("Unlawful"),
    "exploratory_reform": N_("Exploratory reform (legal risk stated)"),
    "authority": N_("Authority"),
    "procedure": N_("Procedure"),
    "content": N_("Content"),
    "for": N_("For"),
    "against": N_("Against"),
    "abstain": N_("Abstains"),
    "executive": N_("Executive meeting"),
    "plenary": N_("Plenary meeting"),
    "office": N_("Office meeting"),
    "public_opinion_adoption": N_("Adoption of public opinions"),
    "expert_opinion_adoption": N_("Adoption of expert opinions"),
    "risk_report": N_("Risk assessment report"),
    "legality_opinion": N_("Legality review opinion"),
    "approve": N_("Approve"),
    "reject": N_("Reject"),
    "defer": N_("Defer"),
    "gazette": N_("Government gazette"),
    "website": N_("Government website"),
    "media": N_("News media"),
    "deputies": N_("People's congress deputies"),
    "cppcc_members": N_("CPPCC members"),
    "people_organizations": N_("People's organisations"),
    "grassroots_organizations": N_("Grassroots organisations"),
    "social_organizations": N_("Social organisations"),
    "continue": N_("Continue"),
    "adjust": N_("Adjust"),
    "stop": N_("Stop"),
}


def field_title(name: str, info: FieldInfo | ComputedFieldInfo) -> str:
    """The schema title of a field: its entry in `TITLES`, else pydantic's default."""
    return TITLES.get(name, name.replace("_", " ").capitalize())
