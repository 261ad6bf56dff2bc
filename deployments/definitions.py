"""Every dueprocess deployment, defined once in Python: its flow, triggers and schedule.

`deployments/serve.py` serves them from one process (the embedded default, `dueprocess
up`); `python -m deployments.deploy` registers them on a process work pool (scale-out);
`deployments/prefect.yaml` says the same for `prefect deploy --all` and is checked
against this module by the tests.

Triggers are Prefect automations (DeploymentEventTrigger) on the `dueprocess.*` events
emitted by `dueprocess.orchestration.events` and on Prefect's own flow-run events. Parameters
are taken from the event with `.get(...)`, so an event that lacks a label renders None
and the flow logs and ignores it instead of failing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy
from prefect.deployments.runner import EntrypointType
from prefect.events import DeploymentEventTrigger
from prefect.utilities.importtools import import_object

from dueprocess.settings import get_notify_settings, get_ops_settings, get_transparency_settings

MAJOR_DECISION = "major-decision"
RESUME_CASE = "resume-case"
DEADLINE_WATCHDOG = "deadline-watchdog"
DELIVER_NOTICES = "deliver-notices"
NOTIFY_REVIEWERS = "notify-reviewers"
PUBLISH_DECISION = "publish-decision"
SIGN_HEADS = "sign-heads"
# Hidden in the Prefect UI by filtering runs on the tag `case` (README, "Finding a case's run")
SYSTEM_TAGS = ("dueprocess", "system")
CASE_RESOURCE = {"prefect.resource.id": "dueprocess.case.*"}
WAKE_AFTER_SECONDS = 5
DELIVER_AFTER_SECONDS = 10
DELIVER_ENTRYPOINT = "flows.deliver_notices.deliver_notices"
# resume-case is a safety net: a burst of them beyond this is cancelled, and the
# watchdog's next sweep recovers any case a cancelled one would have resumed.
RESUME_CASE_LIMIT = 4
CASE_ID_FROM_EVENT = "{{ event.resource.get('dueprocess.case.id') }}"


@dataclass(frozen=True)
class DeploymentSpec:
    name: str
    entrypoint: str  # module path of the flow function (installed on every worker host)
    description: str
    triggers: list[DeploymentEventTrigger] = field(default_factory=list)
    interval_seconds: int | None = None
    # At most this many active runs; a run started beyond it is cancelled, not queued
    # (issue 23: without a limit, 32 watchdog runs piled up on SQLite's write lock).
    limit: int | None = None
    tags: tuple[str, ...] = SYSTEM_TAGS  # the system's own runs; a case's run: ("dueprocess",)

    def load_flow(self) -> Any:
        return import_object(self.entrypoint)

    def deployment_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "name": self.name, "description": self.description, "tags": list(self.tags),
            "triggers": self.triggers,
        }
        if self.interval_seconds:
            kwargs["interval"] = timedelta(seconds=self.interval_seconds)
        if self.limit:
            kwargs["concurrency_limit"] = ConcurrencyLimitConfig(
                limit=self.limit, collision_strategy=ConcurrencyLimitStrategy.CANCEL_NEW)
        return kwargs


def on_case_event(name: str, *kinds: str, parameters: dict[str, Any],
                  **criteria: Any) -> DeploymentEventTrigger:
    return DeploymentEventTrigger(
        name=name, expect={f"dueprocess.{kind}" for kind in kinds}, match=CASE_RESOURCE,
        parameters=parameters, **criteria,
    )


def delivery_on(name: str, description: str, trigger: str, *kinds: str) -> DeploymentSpec:
    """The delivery flow, run on case events: off the path of the case's run continuing
    (DELIVER_AFTER_SECONDS later), one run at a time."""
    return DeploymentSpec(
        name, DELIVER_ENTRYPOINT, description,
        triggers=[on_case_event(trigger, *kinds, parameters={},
                                schedule_after=timedelta(seconds=DELIVER_AFTER_SECONDS))],
        limit=1,
    )


def specs() -> list[DeploymentSpec]:
    notify_interval = get_notify_settings().notify_delivery_interval_seconds
    watchdog_interval = get_ops_settings().watchdog_interval_seconds
    return [
        DeploymentSpec(
            MAJOR_DECISION, "flows.major_decision.major_decision",
            "Drive a decision case through its statutory stages.", tags=("dueprocess",),
        ),
        DeploymentSpec(
            RESUME_CASE, "flows.resume_case.resume_case",
            "Wake, restart or replace the flow run of a case: on evidence recorded through "
            "any channel, and when the case's run crashes or fails.",
            triggers=[
                # Not for evidence the run received through its own form: it goes on.
                on_case_event("resume-case-on-evidence-recorded", "evidence.recorded",
                              parameters={
                                  "case_id": CASE_ID_FROM_EVENT,
                                  "evidence_id": "{{ event.payload.get('evidence_id') }}",
                                  "reason": "evidence recorded",
                              },
                              match_related={
                                  "prefect.resource.role": "channel",
                                  "prefect.resource.id": "!dueprocess.channel.prefect-form",
                              },
                              # After the recorder's own resume (`dueprocess record`), not
                              # competing with it; soon enough for channels that do not.
                              schedule_after=timedelta(seconds=WAKE_AFTER_SECONDS)),
                DeploymentEventTrigger(
                    name="resume-case-on-run-crashed",
                    expect={"prefect.flow-run.Crashed", "prefect.flow-run.Failed"},
                    match_related={"prefect.resource.role": "flow",
                                   "prefect.resource.name": MAJOR_DECISION},
                    parameters={"case_id": "{{ flow_run.parameters.get('case_id') }}",
                                "reason": "run {{ event.event }}"},
                ),
            ],
            limit=RESUME_CASE_LIMIT,
        ),
        DeploymentSpec(
            DEADLINE_WATCHDOG, "flows.deadline_watchdog.deadline_watchdog",
            "Escalate open stages past their deadline (dueprocess.deadline.missed) and "
            "recover cases whose run stopped.",
            # one sweep at a time: under load, scheduled runs must not pile up (issue 23
            # saw 32 in flight, all waiting on SQLite's write lock)
            interval_seconds=watchdog_interval or None, limit=1,
        ),
        # Three deployments of one delivery flow: each outbox row is leased to one run, so
        # they may run side by side; each has one slot, and a run started while its slot
        # is taken is cancelled at once (a burst of events needs one run, not several).
        delivery_on(NOTIFY_REVIEWERS, "Notify the reviewers of a stage when it opens, and the "
                    "responsible official when a deadline is missed.",
                    "notify-reviewers-on-stage-opened", "stage.opened", "deadline.missed"),
        delivery_on(PUBLISH_DECISION, "Publish a decided case: the decision announcement, and "
                    "the publication notices when the case closes.",
                    "publish-decision-on-case-decided", "case.decided", "case.closed"),
        DeploymentSpec(
            DELIVER_NOTICES, DELIVER_ENTRYPOINT,
            "Deliver every due notice on a schedule: retries with back-off, reminders, "
            "subscription confirmations and whatever the triggered runs left.",
            interval_seconds=notify_interval or None, limit=1,
        ),
        DeploymentSpec(
            SIGN_HEADS, "flows.sign_heads.sign_heads",
            "Sign and publish a transparency-log tree head whenever the log has grown, so "
            "that no record waits longer than DUEPROCESS_MAX_UNSIGNED_SECONDS for one.",
            interval_seconds=get_transparency_settings().sign_heads_every_seconds,
            limit=1,
        ),
    ]


def served_deployments() -> list[Any]:
    """RunnerDeployments for `serve()` (flow runs start as subprocesses of the server)."""
    return [spec.load_flow().to_deployment(**spec.deployment_kwargs()) for spec in specs()]


def deploy_to_work_pool(work_pool: str) -> list[str]:
    """Register every deployment on a process work pool (what `prefect deploy --all
    --prefect-file deployments/prefect.yaml` does); return their full names."""
    names = []
    for spec in specs():
        flow = spec.load_flow()
        deployment = flow.to_deployment(
            **spec.deployment_kwargs(), work_pool_name=work_pool,
            entrypoint_type=EntrypointType.MODULE_PATH,
        )
        deployment.apply()
        names.append(f"{flow.name}/{spec.name}")
    return names
