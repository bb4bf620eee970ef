"""Dynamic staffing records (org owns the staff; this context adds how they are planned and paid by the hour).

ServiceStandard   a store's service standards: customers per staff hour, minimum cover, cashiers, opening and
                  closing tasks (need.py turns a forecast into staff per hour with them)
StaffTerms        a person's hourly rate, skills (cashier, floor, stock), part-time or not, and whether they may be
                  planned at the other stores of their region (and what the trip costs a shift)
Availability      the hours a person can work on each weekday
TimeOff           days a person cannot work (leave, exams, a family matter): no shift is planned or accepted then
LaborRules        the enterprise's legal rule set (rules.py has China's defaults and where they come from)
ShiftPlan         one solved week for a store or a region: the plan's and the fixed schedule's cost and hours
NeedHour          the forecast and the need of one store-hour of a plan (the week view's heat strip)
Shift             one person's shift on one day (at most one a day): planned by the solver or edited by a manager
SignInEntry       a sign-in or sign-out on the phone or the till: insert-only, keyed by the client's reference
"""
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _, pgettext_lazy

from yundian.core.models import BaseModel


class Skill(models.TextChoices):
    CASHIER = "cashier", pgettext_lazy("skill", "Cashier")
    FLOOR = "floor", pgettext_lazy("skill", "Floor")
    STOCK = "stock", pgettext_lazy("skill", "Stock")


class ServiceStandard(BaseModel):
    store = models.OneToOneField("org.OrgNode", on_delete=models.PROTECT, related_name="service_standard",
                                 verbose_name=_("store"))
    customers_per_staff_hour = models.DecimalField(_("customers per staff hour"), max_digits=5, decimal_places=1,
                                                   default=6)
    min_cover = models.PositiveSmallIntegerField(_("minimum staff while open"), default=1)
    cashiers = models.PositiveSmallIntegerField(_("cashiers while open"), default=1)
    opening_staff = models.PositiveSmallIntegerField(_("staff before opening"), default=1)
    opening_hours = models.PositiveSmallIntegerField(_("hours before opening"), default=1)
    closing_staff = models.PositiveSmallIntegerField(_("staff after closing"), default=1)
    closing_hours = models.PositiveSmallIntegerField(_("hours after closing"), default=1)

    class Meta:
        verbose_name = _("service standard")
        verbose_name_plural = _("service standards")
        constraints = [models.CheckConstraint(condition=Q(customers_per_staff_hour__gt=0),
                                              name="staffing_standard_rate_positive")]


class StaffTerms(BaseModel):
    staff = models.OneToOneField("org.Staff", on_delete=models.CASCADE, related_name="staffing_terms",
                                 verbose_name=_("staff member"))
    hourly_rate = models.PositiveIntegerField(_("hourly rate (fen)"), default=2500)
    skills = models.JSONField(_("skills"), default=list, blank=True)
    is_part_time = models.BooleanField(_("part-time"), default=False)
    is_shared = models.BooleanField(_("may work at the region's other stores"), default=False)
    travel_cost = models.PositiveIntegerField(_("travel allowance a shift (fen)"), default=0)

    class Meta:
        verbose_name = _("staff terms")
        verbose_name_plural = _("staff terms")


class Availability(BaseModel):
    staff = models.ForeignKey("org.Staff", on_delete=models.CASCADE, related_name="availability",
                              verbose_name=_("staff member"))
    weekday = models.PositiveSmallIntegerField(_("weekday"))  # 0 = Monday
    start_hour = models.PositiveSmallIntegerField(_("from"))
    end_hour = models.PositiveSmallIntegerField(_("to"))

    class Meta:
        verbose_name = _("availability")
        verbose_name_plural = _("availability")
        constraints = [
            models.UniqueConstraint(fields=["staff", "weekday"], name="staffing_availability_day"),
            models.CheckConstraint(condition=Q(weekday__lte=6) & Q(end_hour__lte=24) & Q(start_hour__lt=models.F("end_hour")),
                                   name="staffing_availability_hours"),
        ]


class TimeOff(BaseModel):
    staff = models.ForeignKey("org.Staff", on_delete=models.CASCADE, related_name="time_off",
                              verbose_name=_("staff member"))
    first_day = models.DateField(_("from"))
    last_day = models.DateField(_("until"))
    note = models.CharField(_("note"), max_length=120, blank=True)

    class Meta:
        verbose_name = _("time off")
        verbose_name_plural = _("time off")
        ordering = ["first_day", "id"]
        constraints = [models.CheckConstraint(condition=Q(first_day__lte=models.F("last_day")),
                                              name="staffing_time_off_days")]
        indexes = [models.Index(fields=["staff", "last_day"])]


class LaborRules(BaseModel):
    enterprise = models.OneToOneField("org.Enterprise", on_delete=models.CASCADE, related_name="labor_rules",
                                      verbose_name=_("enterprise"))
    max_hours_day = models.PositiveSmallIntegerField(_("hours a day"), default=8)
    max_hours_week = models.PositiveSmallIntegerField(_("hours a week"), default=40)
    max_days_week = models.PositiveSmallIntegerField(_("days a week"), default=6)
    part_time_hours_day = models.PositiveSmallIntegerField(_("part-time hours a day"), default=4)
    part_time_hours_week = models.PositiveSmallIntegerField(_("part-time hours a week"), default=24)
    min_rest_hours = models.PositiveSmallIntegerField(_("rest between shifts (hours)"), default=11)
    break_after_hours = models.PositiveSmallIntegerField(_("a break in shifts longer than (hours)"), default=6)
    min_shift_hours = models.PositiveSmallIntegerField(_("shortest shift (hours)"), default=3)
    shortage_penalty = models.PositiveIntegerField(_("cost of an hour short (fen)"), default=20000)

    class Meta:
        verbose_name = _("labour rules")
        verbose_name_plural = _("labour rules")


class ShiftPlan(BaseModel):
    enterprise = models.ForeignKey("org.Enterprise", on_delete=models.PROTECT, related_name="+",
                                   verbose_name=_("enterprise"))
    node = models.ForeignKey("org.OrgNode", on_delete=models.PROTECT, related_name="+", verbose_name=_("planned for"))
    week_start = models.DateField(_("week of"))
    solver_status = models.CharField(_("solver status"), max_length=16)
    solve_seconds = models.FloatField(_("solve time (s)"), default=0)
    forecast_package = models.CharField(_("forecast package"), max_length=40, blank=True)
    cost = models.BigIntegerField(_("cost (fen)"), default=0)
    hours_needed = models.PositiveIntegerField(_("hours needed"), default=0)
    hours_planned = models.PositiveIntegerField(_("hours planned"), default=0)
    hours_short = models.PositiveIntegerField(_("hours short"), default=0)
    hours_over = models.PositiveIntegerField(_("hours over"), default=0)
    fixed_cost = models.BigIntegerField(_("fixed schedule cost (fen)"), default=0)
    fixed_hours_short = models.PositiveIntegerField(_("fixed schedule hours short"), default=0)
    fixed_hours_over = models.PositiveIntegerField(_("fixed schedule hours over"), default=0)
    created_by = models.ForeignKey("org.Staff", on_delete=models.PROTECT, null=True, related_name="+",
                                   verbose_name=_("planned by"))

    class Meta:
        verbose_name = _("shift plan")
        verbose_name_plural = _("shift plans")
        constraints = [models.UniqueConstraint(fields=["node", "week_start"], name="staffing_plan_week")]


class NeedHour(models.Model):
    plan = models.ForeignKey(ShiftPlan, on_delete=models.CASCADE, related_name="need_hours")
    store = models.ForeignKey("org.OrgNode", on_delete=models.PROTECT, related_name="+")
    day = models.DateField()
    hour = models.PositiveSmallIntegerField()
    customers = models.FloatField(default=0)
    sales = models.BigIntegerField(default=0)  # fen
    need = models.PositiveSmallIntegerField(default=0)
    cashiers = models.PositiveSmallIntegerField(default=0)
    stock = models.PositiveSmallIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["plan", "store", "day", "hour"], name="staffing_need_hour")]


class Shift(BaseModel):
    plan = models.ForeignKey(ShiftPlan, on_delete=models.SET_NULL, null=True, blank=True, related_name="shifts")
    store = models.ForeignKey("org.OrgNode", on_delete=models.PROTECT, related_name="+", verbose_name=_("store"))
    staff = models.ForeignKey("org.Staff", on_delete=models.PROTECT, related_name="shifts",
                              verbose_name=_("staff member"))
    day = models.DateField(_("day"))
    start_hour = models.PositiveSmallIntegerField(_("from"))
    end_hour = models.PositiveSmallIntegerField(_("to"))
    break_hour = models.PositiveSmallIntegerField(_("break"), null=True, blank=True)
    is_manual = models.BooleanField(_("edited by a manager"), default=False)

    class Meta:
        verbose_name = _("shift")
        verbose_name_plural = _("shifts")
        ordering = ["day", "start_hour", "id"]
        constraints = [
            models.UniqueConstraint(fields=["staff", "day"], name="staffing_one_shift_a_day"),
            models.CheckConstraint(condition=Q(start_hour__lt=models.F("end_hour")) & Q(end_hour__lte=24),
                                   name="staffing_shift_hours"),
        ]
        indexes = [models.Index(fields=["store", "day"])]

    @property
    def paid_hours(self) -> int:
        return self.end_hour - self.start_hour - (1 if self.break_hour is not None else 0)


class SignKind(models.TextChoices):
    IN = "in", pgettext_lazy("sign", "Signed in")
    OUT = "out", pgettext_lazy("sign", "Signed out")


class SignSource(models.TextChoices):
    PHONE = "phone", _("Phone")
    TILL = "till", _("Till")


class SignInEntry(models.Model):
    """Insert-only: a correction is a new entry. (staff, client_ref) is unique, so a retried tap records once."""

    staff = models.ForeignKey("org.Staff", on_delete=models.PROTECT, related_name="sign_ins",
                              verbose_name=_("staff member"))
    store = models.ForeignKey("org.OrgNode", on_delete=models.PROTECT, related_name="+", verbose_name=_("store"))
    kind = models.CharField(_("kind"), max_length=3, choices=SignKind.choices)
    source = models.CharField(_("source"), max_length=5, choices=SignSource.choices, default=SignSource.PHONE)
    at = models.DateTimeField(_("at"), db_index=True)
    client_ref = models.CharField(_("client reference"), max_length=64)

    class Meta:
        verbose_name = _("sign-in")
        verbose_name_plural = _("sign-ins")
        ordering = ["at", "id"]
        constraints = [models.UniqueConstraint(fields=["staff", "client_ref"], name="staffing_sign_once")]
