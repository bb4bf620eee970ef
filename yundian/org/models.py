"""Enterprise, the org tree (HQ -> region -> dealer -> store, any depth), staff, role assignments, API tokens."""
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from yundian.core.models import BaseModel

from .roles import NodeKind, Role


class Enterprise(BaseModel):
    name = models.CharField(_("name"), max_length=120)
    code = models.SlugField(_("code"), max_length=32, unique=True)
    currency = models.CharField(_("currency"), max_length=3, default="CNY")

    class Meta:
        verbose_name = _("enterprise")
        verbose_name_plural = _("enterprises")

    def __str__(self) -> str:
        return self.name


class OrgNode(BaseModel):
    """One node of the org tree. `path` is the chain of ids ("/1/4/9/"): a subtree is a prefix match."""

    enterprise = models.ForeignKey(Enterprise, on_delete=models.PROTECT, related_name="nodes",
                                   verbose_name=_("enterprise"))
    parent = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="children",
                               verbose_name=_("parent"))
    kind = models.CharField(_("kind"), max_length=16, choices=NodeKind.choices)
    name = models.CharField(_("name"), max_length=120)
    code = models.CharField(_("code"), max_length=32)
    path = models.CharField(_("path"), max_length=255, db_index=True, editable=False)
    depth = models.PositiveSmallIntegerField(_("depth"), default=0, editable=False)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("org node")
        verbose_name_plural = _("org nodes")
        ordering = ["path"]
        constraints = [
            models.UniqueConstraint(fields=["enterprise", "code"], name="org_node_code_unique"),
            models.UniqueConstraint(fields=["enterprise"], condition=Q(parent__isnull=True), name="org_single_root"),
            models.CheckConstraint(
                condition=(Q(parent__isnull=True, kind=NodeKind.HQ) | Q(parent__isnull=False) & ~Q(kind=NodeKind.HQ)),
                name="org_root_is_hq",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    def contains(self, other: "OrgNode") -> bool:
        return other.path.startswith(self.path)


class Staff(BaseModel):
    """A person working for the enterprise; signs in with a Django user. `home` is where they work."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="staff",
                                verbose_name=_("user"))
    enterprise = models.ForeignKey(Enterprise, on_delete=models.PROTECT, related_name="staff",
                                   verbose_name=_("enterprise"))
    home = models.ForeignKey(OrgNode, on_delete=models.PROTECT, related_name="home_staff", verbose_name=_("works at"))
    display_name = models.CharField(_("display name"), max_length=80)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    employee_no = models.CharField(_("employee number"), max_length=32, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("staff member")
        verbose_name_plural = _("staff")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.display_name


class RoleAssignment(BaseModel):
    staff = models.ForeignKey(Staff, on_delete=models.CASCADE, related_name="roles")
    role = models.CharField(_("role"), max_length=32, choices=Role.choices)
    node = models.ForeignKey(OrgNode, on_delete=models.PROTECT, related_name="role_assignments")

    class Meta:
        verbose_name = _("role assignment")
        verbose_name_plural = _("role assignments")
        constraints = [models.UniqueConstraint(fields=["staff", "role", "node"], name="role_assignment_unique")]

    def __str__(self) -> str:
        return f"{self.staff} · {self.get_role_display()} @ {self.node}"


class ApiToken(BaseModel):
    """A bearer token for integrators. Acts as its staff member; only a hash is stored; revocable."""

    staff = models.ForeignKey(Staff, on_delete=models.CASCADE, related_name="api_tokens", verbose_name=_("staff member"))
    name = models.CharField(_("name"), max_length=80)
    prefix = models.CharField(_("prefix"), max_length=12, unique=True)
    key_hash = models.CharField(_("key hash"), max_length=64)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")


class AuditDigest(BaseModel):
    """The nightly audit digest: counts of audited actions per enterprise and day (built by a task)."""

    enterprise = models.ForeignKey(Enterprise, on_delete=models.CASCADE, related_name="audit_digests",
                                   verbose_name=_("enterprise"))
    day = models.DateField(_("day"))
    total = models.PositiveIntegerField(_("audited actions"), default=0)
    by_action = models.JSONField(_("by action"), default=dict)
    by_actor = models.JSONField(_("by person"), default=dict)

    class Meta:
        verbose_name = _("audit digest")
        verbose_name_plural = _("audit digests")
        constraints = [models.UniqueConstraint(fields=["enterprise", "day"], name="audit_digest_unique_day")]
        ordering = ["-day"]
