"""Org step: the enterprise, its tree HQ -> 大区 (region) -> [经销商 (dealer) ->] 门店 (store), and its staff.

Shape at scale s (an integer >= 1; exact, not approximate):

    regions    R = min(7, 2 + floor(log2 s))       华东 华南 华北 华中 西南 西北 东北 大区, in that order
    dealers    D = 2 + s // 2                        each under one region
    stores     S = 5 s + 1                           grows linearly: s = 400 -> 2,001 stores
      franchised   F = max(D, 2 S // 5)              under a dealer; every dealer runs at least one
      direct       S - F                             directly under a region; every region runs at least one
    org nodes  1 + R + D + S                         (the HQ is the 1)
    staff      2 + R + D + 3 S                       HQ admin, one auditor at HQ, a manager per region, one
                                                     person per dealer, per store a manager and 2 guides
    (users and role assignments: one each per staff member)

    scale      1     5     20     100     400
    regions    2     4      6       7       7
    dealers    2     4     12      52     202
    stores     6    26    101     501   2,001
    staff     24    88    323   1,564   6,214

DESIGN.md's large chain (2,000 stores) is scale 400. Which region a dealer or direct store belongs to, and
which dealer runs a franchised store, are drawn from the step's random stream (weighted: 华东 is the
biggest region, a region's first cities the busiest), so the same seed always yields the same tree.

Usernames are "<enterprise code>-<role>" for the first holder of each role (the well-known demo logins:
demo-admin, demo-region, demo-dealer, demo-manager, demo-guide, demo-auditor) and "<code>-<role>-<n>" for the
others. The first franchised store's manager and guide work under the first dealer, which sits in the first
region, so the well-known logins see nested parts of one subtree.

The enterprise, its HQ and HQ administrator come from `org.services.enterprise_bootstrap`; everything else is
written with bulk_create (paths "/<hq id>/<region id>/.../<own id>/" computed level by level) and one password
hash shared by every generated user.
"""
import math
from collections import Counter

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yundian.core.audit import audit_record
from yundian.core.errors import Conflict
from yundian.org.models import OrgNode, RoleAssignment, Staff
from yundian.org.roles import NodeKind, Role
from yundian.org.services import enterprise_bootstrap

from . import SeedContext, Step

BATCH = 1000
GUIDES_PER_STORE = 2

# (name, code, weight, [(city, city code), ...]) — a region's first cities are its busiest
REGIONS = [
    ("华东大区", "R-HD", 30, [("上海", "SHA"), ("杭州", "HGH"), ("南京", "NKG"), ("苏州", "SZV"), ("宁波", "NGB"),
                            ("合肥", "HFE"), ("福州", "FOC"), ("厦门", "XMN"), ("济南", "TNA"), ("青岛", "TAO")]),
    ("华南大区", "R-HN", 20, [("广州", "CAN"), ("深圳", "SZX"), ("东莞", "DGG"), ("佛山", "FUO"), ("南宁", "NNG"),
                            ("海口", "HAK")]),
    ("华北大区", "R-HB", 18, [("北京", "PEK"), ("天津", "TSN"), ("石家庄", "SJW"), ("太原", "TYN"),
                            ("呼和浩特", "HET")]),
    ("华中大区", "R-HZ", 12, [("武汉", "WUH"), ("长沙", "CSX"), ("郑州", "CGO"), ("南昌", "KHN")]),
    ("西南大区", "R-XN", 10, [("成都", "CTU"), ("重庆", "CKG"), ("昆明", "KMG"), ("贵阳", "KWE")]),
    ("西北大区", "R-XB", 5, [("西安", "XIY"), ("兰州", "LHW"), ("乌鲁木齐", "URC"), ("银川", "INC")]),
    ("东北大区", "R-DB", 5, [("沈阳", "SHE"), ("大连", "DLC"), ("长春", "CGQ"), ("哈尔滨", "HRB")]),
]

DISTRICTS = {
    "上海": ["徐汇", "静安", "浦东", "黄浦", "长宁", "闵行", "杨浦", "普陀", "虹口", "宝山"],
    "北京": ["朝阳", "海淀", "东城", "西城", "丰台", "通州", "昌平", "大兴"],
    "广州": ["天河", "越秀", "海珠", "番禺", "白云", "荔湾"],
    "深圳": ["南山", "福田", "罗湖", "宝安", "龙岗", "龙华"],
    "杭州": ["西湖", "上城", "拱墅", "滨江", "萧山", "余杭"],
    "南京": ["鼓楼", "玄武", "秦淮", "建邺", "江宁"],
    "成都": ["锦江", "武侯", "青羊", "金牛", "成华", "高新"],
    "武汉": ["江汉", "武昌", "洪山", "江岸", "汉阳"],
    "重庆": ["渝中", "江北", "南岸", "沙坪坝", "九龙坡"],
    "苏州": ["姑苏", "工业园区", "吴中", "相城"],
    "天津": ["和平", "河西", "南开", "滨海"],
    "西安": ["雁塔", "碑林", "未央", "曲江"],
}
MALLS = ["万象城", "大悦城", "银泰", "吾悦广场", "印象城", "龙湖天街", "来福士", "步行街", "火车站", "高新区",
         "开发区", "世纪城", "新天地", "中心广场", "奥体", "大学城", "滨江", "金融城", "人民路", "解放路", "中山路",
         "建设路", "新华路", "和平路", "长江路", "延安路", "胜利路", "青年路", "东风路", "城南", "城北", "城东", "城西",
         "新区", "南站", "东站", "机场", "湖滨", "老街"]
DEALER_WORDS = ["恒信", "鑫源", "嘉禾", "瑞丰", "宏达", "永盛", "汇通", "金桥", "联创", "天成", "广源", "盛世",
                "海川", "锦程", "润泽", "华美", "安和", "众诚", "佳和", "优品"]
DEALER_SUFFIXES = ["商贸有限公司", "贸易有限公司", "零售有限公司"]
BRANDS = ["悦享生活", "鲜丰优选", "每日优品", "锦鲤便利", "橙心超市", "禾木家居", "青禾母婴", "拾光服饰"]
SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁"
            "任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛郝龚邵万钱严武戴莫孔汤")
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红玲芬燕彬鹏辉浩宇晨阳欣怡涵轩诺桐远琪俊东建志梅丹婷雪"
CN_DIGITS = "零一二三四五六七八九"

LABELS = {
    "regions": _("regions"),
    "dealers": _("dealers"),
    "stores": _("stores"),
    "stores_franchised": _("franchised stores (under a dealer)"),
    "stores_direct": _("directly operated stores"),
    "org_nodes": _("org nodes (with HQ)"),
    "staff": _("staff"),
    "users": _("users"),
    "role_assignments": _("role assignments"),
}


def counts_for(scale: int) -> dict[str, int]:
    """The exact shape at `scale` (see the module docstring)."""
    regions = min(len(REGIONS), 2 + int(math.log2(scale)))
    dealers = 2 + scale // 2
    stores = 5 * scale + 1
    franchised = max(dealers, 2 * stores // 5)
    staff = 2 + regions + dealers + (1 + GUIDES_PER_STORE) * stores
    return {
        "regions": regions, "dealers": dealers, "stores": stores,
        "stores_franchised": franchised, "stores_direct": stores - franchised,
        "org_nodes": 1 + regions + dealers + stores,
        "staff": staff, "users": staff, "role_assignments": staff,
    }


def chinese_number(n: int) -> str:
    """1..99 in Chinese numerals (二, 十一, 二十三) for "二店", "十一店"."""
    if n < 10:
        return CN_DIGITS[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else CN_DIGITS[tens]) + "十" + (CN_DIGITS[ones] if ones else "")


class _Names:
    """Unique, realistic names drawn from one random stream."""

    def __init__(self, rng):
        self.rng = rng
        self.used: Counter[str] = Counter()

    def store(self, city: str) -> str:
        spot = self.rng.choice(DISTRICTS.get(city, []) + MALLS)
        base = f"{city}{spot}"
        self.used[base] += 1
        n = self.used[base]
        return f"{base}店" if n == 1 else f"{base}{chinese_number(n) if n < 100 else n}店"

    def dealer(self, city: str) -> str:
        suffix = self.rng.choice(DEALER_SUFFIXES)
        name = f"{city}{self.rng.choice(DEALER_WORDS)}{suffix}"
        while self.used[name]:  # a clash: a two-word trade name (上海恒信嘉禾商贸有限公司), then a number
            words = self.rng.sample(DEALER_WORDS, 2)
            name = f"{city}{words[0]}{words[1]}{suffix}"
            if self.used[name]:
                name = f"{city}{words[0]}{self.used[name] + 1}{suffix}"
        self.used[name] += 1
        return name

    def person(self) -> str:
        given = "".join(self.rng.choice(GIVEN) for _ in range(self.rng.choice((1, 2, 2))))
        return self.rng.choice(SURNAMES) + given

    def phone(self) -> str:
        return "1" + self.rng.choice("3578") + "".join(self.rng.choice("0123456789") for _ in range(9))


def _weighted(rng, items: list, weights: list[int], k: int) -> list:
    return rng.choices(items, weights=weights, k=k) if k > 0 else []


def _insert_level(enterprise, parent_of: list[OrgNode], rows: list[dict]) -> list[OrgNode]:
    """Insert one level of nodes, then set each path to parent path + own id (ids exist only after the insert)."""
    nodes = [OrgNode(enterprise=enterprise, parent=parent, depth=parent.depth + 1, path="", **row)
             for parent, row in zip(parent_of, rows)]
    OrgNode.objects.bulk_create(nodes, batch_size=BATCH)
    for node, parent in zip(nodes, parent_of):
        node.path = f"{parent.path}{node.pk}/"
    OrgNode.objects.bulk_update(nodes, ["path"], batch_size=BATCH)
    return nodes


def run(ctx: SeedContext) -> None:
    rng, shape = ctx.rng, counts_for(ctx.scale)
    names = _Names(rng)
    code = ctx.code
    enterprise_name = ctx.enterprise_name or ("云店演示连锁" if code == "demo" else f"{rng.choice(BRANDS)}连锁")
    enterprise, admin = enterprise_bootstrap(
        name=enterprise_name, code=code, hq_name="总部", hq_code="HQ", admin_username=f"{code}-admin",
        admin_password=ctx.password, admin_display_name=names.person(),
    )
    admin.employee_no = "E000001"
    admin.phone = names.phone()
    admin.save(update_fields=["employee_no", "phone", "updated_at"])
    hq = admin.home
    ctx.enterprise = enterprise

    # regions
    region_specs = REGIONS[: shape["regions"]]
    regions = _insert_level(enterprise, [hq] * len(region_specs),
                            [{"kind": NodeKind.REGION, "name": name, "code": rcode} for name, rcode, _w, _c in region_specs])
    region_weights = [spec[2] for spec in region_specs]
    cities = {region.pk: spec[3] for region, spec in zip(regions, region_specs)}

    def city_in(region: OrgNode) -> tuple[str, str]:
        options = cities[region.pk]
        return rng.choices(options, weights=range(len(options), 0, -1))[0]

    # dealers: the first R go one per region (so dealer 1 is in region 1), the rest by region weight
    dealer_regions = regions[: shape["dealers"]] + _weighted(rng, regions, region_weights, shape["dealers"] - len(regions))
    dealer_cities = [city_in(region) for region in dealer_regions]
    dealers = _insert_level(enterprise, dealer_regions, [
        {"kind": NodeKind.DEALER, "name": names.dealer(city), "code": f"D{i:03d}"}
        for i, (city, _c) in enumerate(dealer_cities, start=1)
    ])
    dealer_city = {dealer.pk: city for dealer, city in zip(dealers, dealer_cities)}

    # stores: franchised first (one per dealer, then random dealers), then direct (one per region, then by weight)
    extra_dealers = rng.choices(dealers, k=shape["stores_franchised"] - len(dealers))
    franchised_parents = dealers + extra_dealers
    direct_parents = (regions[: shape["stores_direct"]]
                      + _weighted(rng, regions, region_weights, shape["stores_direct"] - len(regions)))
    store_parents = franchised_parents + direct_parents
    store_cities = [dealer_city[p.pk] for p in franchised_parents] + [city_in(p) for p in direct_parents]
    per_city: Counter[str] = Counter()
    store_rows = []
    for city, city_code in store_cities:
        per_city[city_code] += 1
        store_rows.append({"kind": NodeKind.STORE, "name": names.store(city), "code": f"{city_code}-{per_city[city_code]:03d}"})
    stores = _insert_level(enterprise, store_parents, store_rows)

    # staff: (local username, home, role); the first holder of each role gets the short, well-known name
    seen: Counter[str] = Counter()
    plan: list[tuple[str, OrgNode, str]] = []

    def add(local: str, home: OrgNode, role: str) -> None:
        seen[local] += 1
        plan.append((local if seen[local] == 1 else f"{local}-{seen[local]}", home, role))

    add("auditor", hq, Role.AUDITOR)
    for region in regions:
        add("region", region, Role.REGION_MANAGER)
    for dealer in dealers:
        add("dealer", dealer, Role.DEALER)
    for store in stores:
        add("manager", store, Role.STORE_MANAGER)
        for _g in range(GUIDES_PER_STORE):
            add("guide", store, Role.GUIDE)

    User = get_user_model()
    now = timezone.now()
    users = [User(username=f"{code}-{local}", password=ctx.password_hash, is_active=True, date_joined=now)
             for local, _h, _r in plan]
    try:
        with transaction.atomic():
            User.objects.bulk_create(users, batch_size=BATCH)
    except IntegrityError:
        raise Conflict(_("A generated username is already taken; choose another enterprise code."),
                       code="username_taken")
    staff = [Staff(user=user, enterprise=enterprise, home=home, display_name=names.person(), phone=names.phone(),
                   employee_no=f"E{i:06d}")
             for i, (user, (_l, home, _r)) in enumerate(zip(users, plan), start=2)]
    Staff.objects.bulk_create(staff, batch_size=BATCH)
    RoleAssignment.objects.bulk_create(
        [RoleAssignment(staff=member, role=role, node=home) for member, (_l, home, role) in zip(staff, plan)],
        batch_size=BATCH,
    )

    ctx.created.update({"hq": hq, "admin": admin, "regions": regions, "dealers": dealers, "stores": stores,
                        "staff": [admin, *staff]})
    written = {
        "regions": len(regions), "dealers": len(dealers), "stores": len(stores),
        "stores_franchised": len(franchised_parents), "stores_direct": len(direct_parents),
        "org_nodes": 1 + len(regions) + len(dealers) + len(stores),
        "staff": 1 + len(staff), "users": 1 + len(users), "role_assignments": 1 + len(staff),
    }
    ctx.counts.update(written)
    ctx.logins.append({"role": Role.HQ_ADMIN, "username": admin.user.username, "where": hq.name})
    short = {f"{code}-{local}" for local in ("auditor", "region", "dealer", "manager", "guide")}
    for user, (_l, home, role) in zip(users, plan):
        if user.username in short:
            ctx.logins.append({"role": role, "username": user.username, "where": home.name})
    audit_record(actor=None, enterprise=enterprise, action="demo.seed", target=enterprise, scope_path=hq.path,
                 after={"scale": ctx.scale, "seed": ctx.seed, "counts": written})


step = Step(name="org", shape=counts_for, run=run, labels=LABELS)
