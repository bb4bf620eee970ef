"""Guide tasks API: a guide's tasks, closing one, logging a contact; plans, their progress and splitting a target;
a guide's handover. Mounted under /api/v1/guides."""
from datetime import datetime

from django.http import HttpRequest
from ninja import Field, Router, Schema

from yundian.core.schemas import errors

from . import guide_tasks, handover, task_progress

router = Router(tags=["guide tasks"])


class TaskOut(Schema):
    id: int
    kind: str
    title: str
    note: str
    guide_id: int
    store_id: int
    member_id: int | None
    plan_id: int | None
    target: int
    progress: int
    converted: int
    status: str
    due_at: datetime
    done_at: datetime | None
    done_by: str
    done_note: str


class DoneIn(Schema):
    note: str = Field(..., max_length=500)


class ContactIn(Schema):
    member_id: int
    channel: str = Field(..., max_length=8, description="call, message or visit")
    outcome: str = Field(..., max_length=16, description="reached, no_answer, interested, not_interested, will_visit")
    note: str = Field("", max_length=255)
    task_id: int | None = None


class ContactOut(Schema):
    id: int
    member_id: int
    guide_id: int
    task_id: int | None
    channel: str
    outcome: str
    note: str
    at: datetime


class PlanIn(Schema):
    node_id: int
    kind: str = Field(..., max_length=12, description="follow_up, share, sell or recruit")
    title: str = Field(..., max_length=120)
    description: str = Field("", max_length=500)
    starts_at: datetime
    due_at: datetime
    target: int = 0
    sku_id: int | None = None
    material_id: int | None = None
    follow_up_list: str = Field("", max_length=16,
                                description="segment, dormant, points_expiring, birthdays, new_not_repeat")
    audience_id: int | None = None
    key: str = Field("", max_length=128)


class PlanOut(Schema):
    id: int
    node_id: int
    kind: str
    title: str
    target: int
    starts_at: datetime
    due_at: datetime


class LevelOut(Schema):
    label: str
    depth: int
    target: int
    achieved: int
    open: int
    done: int
    overdue: int
    node_id: int | None
    target_id: int | None


class ProgressOut(Schema):
    plan: PlanOut
    levels: list[LevelOut]


class PartIn(Schema):
    node_id: int | None = None
    guide_id: int | None = None
    target: int


class SplitIn(Schema):
    parts: list[PartIn]


class TargetOut(Schema):
    id: int
    node_id: int
    guide_id: int | None
    target: int
    achieved: int


class HandoverIn(Schema):
    guide_id: int
    to_guide_ids: list[int]
    reason: str = Field(..., max_length=255)


class HandoverOut(Schema):
    id: int
    guide_id: int
    moved: dict


@router.get("/tasks", response={200: list[TaskOut], **errors(403)})
def my_tasks(request: HttpRequest):
    """Your open tasks (by deadline) and those closed today."""
    return task_progress.my_tasks(actor=request.auth)


@router.get("/tasks/{task_id}", response={200: TaskOut, **errors(404)})
def task_get(request: HttpRequest, task_id: int):
    return task_progress.task_get(actor=request.auth, task_id=task_id)


@router.post("/tasks/{task_id}/done", response={200: TaskOut, **errors(404, 409)})
def task_done(request: HttpRequest, task_id: int, payload: DoneIn):
    """Close your task with a note saying how it went (where the system cannot see it done)."""
    return guide_tasks.task_done(actor=request.auth, task_id=task_id, note=payload.note)


@router.post("/contacts", response={201: ContactOut, **errors(404)})
def contact_create(request: HttpRequest, payload: ContactIn):
    """Log a call, message or visit with one of your customers; it is the follow-up of their open tasks."""
    return 201, guide_tasks.contact_record(actor=request.auth, **payload.dict())


@router.post("/task-plans", response={201: PlanOut, **errors(403, 404)})
def plan_create(request: HttpRequest, payload: PlanIn):
    """Set a task for the guides under a node (task.manage there); with `key`, a retry returns the first plan."""
    return 201, guide_tasks.task_plan_create(actor=request.auth, **payload.dict())


@router.get("/task-plans", response={200: list[PlanOut], **errors(403)})
def plan_list(request: HttpRequest):
    return task_progress.plan_list(actor=request.auth)


@router.get("/task-plans/{plan_id}", response={200: ProgressOut, **errors(404)})
def plan_progress(request: HttpRequest, plan_id: int):
    """A plan's progress at every level you manage: target, achieved, tasks open / done / overdue."""
    plan, rows = task_progress.plan_progress(actor=request.auth, plan_id=plan_id)
    return {"plan": plan, "levels": [r.__dict__ for r in rows]}


@router.post("/task-targets/{target_id}/split", response={200: list[TargetOut], **errors(403, 404, 409)})
def target_split(request: HttpRequest, target_id: int, payload: SplitIn):
    """Split a node's target over the nodes below it, or a store's over its guides; the parts add up exactly."""
    parts = [{k: v for k, v in p.dict().items() if v is not None} for p in payload.parts]
    return guide_tasks.task_target_split(actor=request.auth, target_id=target_id, parts=parts)


@router.post("/handovers", response={201: HandoverOut, **errors(403, 404, 409)})
def handover_create(request: HttpRequest, payload: HandoverIn):
    """Hand a leaving guide's customers, open orders, tasks and calls to other guides of the store (several:
    spread evenly) and switch their account off, in one audited action."""
    return 201, handover.guide_handover_all(actor=request.auth, **payload.dict())
