"""Scheduled mailed reports: create a schedule (checked, in the actor's scope) and mail what is due.

`schedules_mail_due(today)` mails every active schedule's last complete period once: it claims the period by
inserting ReportDelivery(schedule, period) under a unique constraint (a second worker or a rerun loses the insert and
does nothing), renders the report's export for each recipient's scope and sends it with Django's email (the
attachment is the same file the page exports). A send that fails removes the claim, so the next run tries again.

Recipients are the active staff with an email address who hold the schedule's role on a node inside its scope, or
above it; each gets the report for the deeper of their role's node and the schedule's node, so a store manager
on a chain-wide schedule receives their own store's figures and nothing else.
"""
from __future__ import annotations

from datetime import date, timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from yundian.core.errors import ValidationFailed
from yundian.core.exports import table_file
from yundian.core.warehouse import warehouse_read
from yundian.org.models import OrgNode, RoleAssignment, Staff
from yundian.org.roles import PERMISSIONS, Perm, Role
from yundian.org.selectors import has_perm

from .models import ExportFormat, Frequency, ReportDelivery, ReportSchedule
from .reports import REPORTS, Query, report_run


def report_schedule_create(*, actor: Staff, report: str, node_id: int, role: str, frequency: str,
                           format: str = ExportFormat.XLSX, category_id: int | None = None) -> ReportSchedule:
    """A schedule mailing `report` for the subtree of `node_id` (in the actor's analytics scope) to `role`."""
    if report not in REPORTS:
        raise ValidationFailed(_("Choose a report from the list."), code="invalid_report")
    if role not in Role.values or Perm.ANALYTICS_VIEW not in PERMISSIONS[role]:
        raise ValidationFailed(_("Choose a role that may read reports."), code="invalid_role")
    if frequency not in Frequency.values:
        raise ValidationFailed(_("Choose how often."), code="invalid_frequency")
    if format not in ExportFormat.values:
        raise ValidationFailed(_("Choose Excel or CSV."), code="invalid_format")
    node = OrgNode.objects.filter(pk=node_id, enterprise_id=actor.enterprise_id).first()
    if node is None or not has_perm(actor, Perm.ANALYTICS_VIEW, node):
        raise ValidationFailed(_("Choose a region or store in your part of the chain."), code="invalid_node")
    return ReportSchedule.objects.create(enterprise_id=actor.enterprise_id, report=report, node=node, role=role,
                                         frequency=frequency, format=format,
                                         filters={"category": category_id} if category_id else {},
                                         created_by=actor)


def last_period(frequency: str, today: date) -> tuple[date, date]:
    """The last complete day / Monday-to-Sunday week / month before `today`."""
    if frequency == Frequency.DAILY:
        day = today - timedelta(days=1)
        return day, day
    if frequency == Frequency.WEEKLY:
        monday = today - timedelta(days=today.weekday()) - timedelta(days=7)
        return monday, monday + timedelta(days=6)
    end = today.replace(day=1) - timedelta(days=1)
    return end.replace(day=1), end


def recipients(schedule: ReportSchedule) -> dict[str, list[Staff]]:
    """{subtree path: staff} of the people who get the schedule's mail, grouped by the scope they see."""
    scope = schedule.node.path
    groups: dict[str, list[Staff]] = {}
    held = (RoleAssignment.objects.filter(role=schedule.role, node__enterprise_id=schedule.enterprise_id,
                                          node__is_active=True, staff__is_active=True)
            .exclude(staff__user__email="").select_related("staff__user", "node").order_by("staff_id", "node__path"))
    for assignment in held:
        path = assignment.node.path
        if path.startswith(scope):
            seen = path
        elif scope.startswith(path):
            seen = scope
        else:
            continue
        people = groups.setdefault(seen, [])
        if assignment.staff not in people:
            people.append(assignment.staff)
    return groups


def _send(schedule: ReportSchedule, since: date, until: date) -> int:
    from .report_views import store_hours

    title = str(REPORTS[schedule.report][0])
    sent = 0
    currency = schedule.enterprise.currency
    for path, people in recipients(schedule).items():
        query = Query(enterprise_id=schedule.enterprise_id, paths=[path], since=since, until=until,
                      currency=currency, category_id=schedule.filters.get("category"),
                      store_hours=store_hours([path], schedule.enterprise_id))
        with warehouse_read() as wh:
            report = report_run(schedule.report, wh, query)
        content_type, body = table_file(report.columns, report.rows, schedule.format, sheet_name=schedule.report[:30])
        name = f"{schedule.report}-{since:%Y%m%d}-{until:%Y%m%d}.{schedule.format}"
        message = EmailMessage(
            subject=_("%(report)s, %(since)s to %(until)s") % {"report": title, "since": since, "until": until},
            body=_("Attached: %(report)s for %(since)s to %(until)s, %(rows)s rows.") % {
                "report": title, "since": since, "until": until, "rows": len(report.rows)},
            to=[person.user.email for person in people])
        message.attach(name, body, content_type.split(";")[0])
        message.send()
        sent += len(people)
    return sent


def schedules_mail_due(today: date | None = None) -> int:
    """Mail every active schedule's last complete period that is not mailed yet; the number of mails' recipients."""
    today = today or timezone.localdate()
    total = 0
    for schedule in ReportSchedule.objects.filter(is_active=True).select_related("node", "enterprise"):
        since, until = last_period(schedule.frequency, today)
        try:
            with transaction.atomic():
                delivery = ReportDelivery.objects.create(schedule=schedule, period_key=since.isoformat())
        except IntegrityError:
            continue  # this period is mailed (or being mailed) already
        try:
            with translation.override(settings.LANGUAGE_CODE):
                count = _send(schedule, since, until)
        except Exception:
            delivery.delete()
            raise
        ReportDelivery.objects.filter(pk=delivery.pk).update(recipients=count, sent_at=timezone.now())
        total += count
    return total
