"""A small chain used across tests: HQ -> East (region) -> Dealer D1 -> Store A; HQ -> West (region) -> Store B.

Each role holder is created through the services, as a real chain would create them.
"""
from dataclasses import dataclass

from yundian.org import services
from yundian.org.models import OrgNode, Staff
from yundian.org.roles import NodeKind, Role

PASSWORD = "correct-horse-42"


@dataclass
class Chain:
    hq: OrgNode
    east: OrgNode
    west: OrgNode
    dealer: OrgNode
    store_a: OrgNode
    store_b: OrgNode
    admin: Staff
    east_manager: Staff
    west_manager: Staff
    dealer_staff: Staff
    manager_a: Staff
    manager_b: Staff
    guide_a: Staff
    guide_b: Staff
    auditor: Staff


def make_chain(code: str = "acme") -> Chain:
    _, admin = services.enterprise_bootstrap(
        name=f"{code.title()} Retail", code=code, hq_name="总部", hq_code=f"{code}-HQ",
        admin_username=f"{code}-admin", admin_password=PASSWORD, admin_display_name="HQ Admin",
    )
    hq = admin.home
    east = services.org_node_create(actor=admin, parent_id=hq.id, kind=NodeKind.REGION, name="华东", code=f"{code}-E")
    west = services.org_node_create(actor=admin, parent_id=hq.id, kind=NodeKind.REGION, name="华西", code=f"{code}-W")
    dealer = services.org_node_create(actor=admin, parent_id=east.id, kind=NodeKind.DEALER, name="D1", code=f"{code}-D1")
    store_a = services.org_node_create(actor=admin, parent_id=dealer.id, kind=NodeKind.STORE, name="Store A", code=f"{code}-A")
    store_b = services.org_node_create(actor=admin, parent_id=west.id, kind=NodeKind.STORE, name="Store B", code=f"{code}-B")

    def staff(username: str, node: OrgNode, role: str) -> Staff:
        return services.staff_create(actor=admin, home_id=node.id, username=f"{code}-{username}",
                                     display_name=username, password=PASSWORD, role=role)

    return Chain(
        hq=hq, east=east, west=west, dealer=dealer, store_a=store_a, store_b=store_b, admin=admin,
        east_manager=staff("east", east, Role.REGION_MANAGER),
        west_manager=staff("west", west, Role.REGION_MANAGER),
        dealer_staff=staff("dealer", dealer, Role.DEALER),
        manager_a=staff("manager-a", store_a, Role.STORE_MANAGER),
        manager_b=staff("manager-b", store_b, Role.STORE_MANAGER),
        guide_a=staff("guide-a", store_a, Role.GUIDE),
        guide_b=staff("guide-b", store_b, Role.GUIDE),
        auditor=staff("auditor", hq, Role.AUDITOR),
    )


def fresh(staff: Staff) -> Staff:
    """A re-read staff object (no cached roles), as a new request would see it."""
    return Staff.objects.select_related("enterprise", "home", "user").get(pk=staff.pk)
