"""Customer care (客情维护): a guide's own customers and each one's contact log.

`my_customers`: the members bound to the guide (a store manager also gets their stores' members without a guide):
name, masked phone, birthday (and whether it falls within a week), last purchase, points, usable coupons, the
last contact and the open follow-up tasks. Tags and the next-best-action hint are added by the page that shows
them (cdp.guide_customer_views: tags live in cdp, above guides).
"""
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import Count, Max, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yundian.core.errors import Forbidden, NotFound
from yundian.members import selectors as member_selectors
from yundian.members.models import Member, MemberStatus, PointsBalance
from yundian.members.normalize import mask_phone
from yundian.org.models import Staff
from yundian.org.roles import Perm
from yundian.org.selectors import has_perm, scope_q
from yundian.promotions.models import Coupon, CouponStatus
from yundian.sales.models import Order

from .models import ContactLog, GuideTask, TaskKind, TaskStatus
from .task_follow_up import paid_orders

LIMIT = 300


@dataclass
class Customer:
    member: Member
    name: str
    phone: str
    birthday: date | None
    birthday_soon: bool
    last_purchase: datetime | None
    orders: int
    points: int
    coupons: int
    last_contact: ContactLog | None
    open_follow_ups: int
    tags: list = field(default_factory=list)  # filled by the page (cdp)
    hint: str = ""  # filled by the page (cdp)


def _mine(actor: Staff) -> Q:
    q = Q(guide=actor)
    if has_perm(actor, Perm.TASK_MANAGE):
        q |= Q(guide__isnull=True) & scope_q(actor, Perm.TASK_MANAGE, "home__path")
    return q


def _birthday_soon(birthday: date | None, today: date) -> bool:
    if birthday is None:
        return False
    for i in range(7):
        day = today + timedelta(days=i)
        if (birthday.month, birthday.day) == (day.month, day.day):
            return True
    return False


def my_customers(*, actor: Staff, search: str = "", member_id: int | None = None) -> list[Customer]:
    """The actor's customers, those with a birthday this week and the longest unseen first."""
    if not has_perm(actor, Perm.TASK_WORK):
        raise Forbidden()
    members = (Member.objects.filter(_mine(actor), enterprise_id=actor.enterprise_id, status=MemberStatus.ACTIVE)
               .select_related("home").prefetch_related("identities"))
    if member_id is not None:
        members = members.filter(pk=member_id)
    search = (search or "").strip()[:40]
    if search:
        members = members.filter(Q(name__icontains=search) | Q(identities__value__endswith=search)).distinct()
    members = list(members.order_by("pk")[:LIMIT])
    ids = [m.pk for m in members]
    orders = {r["member_id"]: r for r in Order.objects.filter(paid_orders(), member_id__in=ids)
              .values("member_id").annotate(last=Max("paid_at"), n=Count("id"))}
    points = dict(PointsBalance.objects.filter(member_id__in=ids).values_list("member_id", "points"))
    coupons = dict(Coupon.objects.filter(member_id__in=ids, status=CouponStatus.AVAILABLE)
                   .values("member_id").annotate(n=Count("id")).values_list("member_id", "n"))
    contacts: dict[int, ContactLog] = {}
    for log in ContactLog.objects.filter(member_id__in=ids).order_by("member_id", "-at", "-id"):
        contacts.setdefault(log.member_id, log)
    follow_ups = dict(GuideTask.objects.filter(member_id__in=ids, kind=TaskKind.FOLLOW_UP, status=TaskStatus.OPEN)
                      .values("member_id").annotate(n=Count("id")).values_list("member_id", "n"))
    today = timezone.localdate()
    out = []
    for m in members:
        may_see = member_selectors.may_see_personal_data(actor, m)
        phone = member_selectors.phone_of(m)
        row = orders.get(m.pk, {})
        out.append(Customer(m, m.name or str(_("Member %(id)s") % {"id": m.pk}),
                            phone if may_see else mask_phone(phone), m.birthday, _birthday_soon(m.birthday, today),
                            row.get("last"), row.get("n", 0), points.get(m.pk, 0), coupons.get(m.pk, 0),
                            contacts.get(m.pk), follow_ups.get(m.pk, 0)))
    far_past = timezone.now() - timedelta(days=100_000)
    out.sort(key=lambda c: (not c.birthday_soon, c.last_purchase or far_past, c.member.pk))
    return out


def customer_get(*, actor: Staff, member_id: int) -> tuple[Customer, list[ContactLog]]:
    """One of the actor's customers with their contact log (newest first); 404 for anyone else's."""
    rows = my_customers(actor=actor, member_id=member_id if isinstance(member_id, int) else 0)
    if not rows:
        raise NotFound(_("Member not found."), code="member_not_found")
    logs = list(ContactLog.objects.filter(member_id=member_id).select_related("guide")[:50])
    return rows[0], logs
