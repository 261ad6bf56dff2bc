"""Case database tables (SQLModel), evidence schemas and procedure definitions.

Importing this package registers every table on `SQLModel.metadata`.
"""

from models.cases import CaseStatus, DecisionCase, DraftVersion
from models.clock import CaseClock  # noqa: F401
from models.decisions import Decision
from models.evidence import Document, EvidenceItem, GateWait, Refusal
from models.follow_up import EvaluationDue, EvaluationRequest, FollowUp, RequestCode  # noqa: F401
from models.hearings import Hearing  # noqa: F401
from models.implementation import (  # noqa: F401
    ImplementationItem,
    ItemComment,
    Milestone,
    ProgressUpdate,
    SupervisionRecord,
)
from models.inbox_tasks import SavedFilter, StageCandidate, TaskHolder  # noqa: F401
from models.ledger import ConsistencyProof, LogHead, LogLeaf, PublishedTreeHead  # noqa: F401
from models.notices import Comment, CommentWindow, Notice, NoticeDelivery, Subscriber  # noqa: F401
from models.one_time_codes import CodeGuesses  # noqa: F401
from models.people import Assignment, Person
from models.programme import Ballot, ProgrammeList, Proposal, ProposalMark, Vote, VoterCode  # noqa: F401
from models.residents import Resident, ResidentRegister  # noqa: F401
from models.stages import Stage, StageStatus

__all__ = [
    "Assignment",
    "CaseStatus",
    "Decision",
    "DecisionCase",
    "Document",
    "DraftVersion",
    "EvidenceItem",
    "GateWait",
    "Person",
    "Refusal",
    "Stage",
    "StageStatus",
]
