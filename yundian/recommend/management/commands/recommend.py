"""yundian recommend train [--enterprise CODE]       train the recommendation models on the warehouse now (a new
                                                 version each; the scheduler does it nightly)
yundian recommend evaluate [--enterprise CODE]    the time-based hold-out (train on all but the last --test-days,
                                                 test on them): recall, precision and NDCG at 10 and coverage of each
                                                 model against the popularity and item-kNN baselines
yundian recommend rescue [--enterprise CODE]      hand browse-abandoners to their guides now (hourly otherwise)
"""
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from yundian.core.progress import ProgressLine

STEPS = ("read", "evaluate", "fit", "copurchase", "sequence", "als", "popular", "save")


def _step_names() -> dict[str, str]:
    return {"read": _("reading the warehouse"), "evaluate": _("hold-out evaluation"), "fit": _("fitting"),
            "copurchase": _("co-purchase lift"), "sequence": _("life-stage sequences"), "als": _("ALS factors"),
            "popular": _("popularity per store and category"), "save": _("saving the version")}


def model_names() -> dict[str, str]:
    return {"popularity": _("popularity (baseline)"), "item_knn": _("item-kNN (baseline)"),
            "blend": _("blend (served)"), "als": _("ALS (implicit)"), "copurchase": _("co-purchase lift"),
            "sequence": _("life-stage sequences")}


class Command(BaseCommand):
    help = "Train, evaluate and act on the recommendation models."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True)
        for name in ("train", "evaluate", "rescue"):
            sub = actions.add_parser(name)
            sub.add_argument("--enterprise", help="the enterprise code (default: every enterprise)")
            if name == "evaluate":
                sub.add_argument("--test-days", type=int, default=28)
                sub.add_argument("--k", type=int, default=10)

    def _enterprises(self, code):
        from yundian.org.models import Enterprise

        enterprises = Enterprise.objects.order_by("id")
        if code:
            enterprises = enterprises.filter(code=code)
            if not enterprises.exists():
                raise CommandError(_("No enterprise with the code %(code)s.") % {"code": code})
        return list(enterprises)

    def handle(self, *args, action, **options):
        for enterprise in self._enterprises(options.get("enterprise")):
            getattr(self, action)(enterprise, options)

    def train(self, enterprise, options) -> None:
        from yundian.recommend.services import recommend_train

        line, names = ProgressLine(self.stdout), _step_names()
        done = []

        def progress(step: str) -> None:
            done.append(step)
            position = STEPS.index(step) + 1 if step in STEPS else len(done)
            line.show(f"{enterprise.code} [{ProgressLine.bar(position, len(STEPS))}] {names.get(step, step)}")

        version = recommend_train(enterprise_id=enterprise.pk, progress=progress)
        line.show(_("%(code)s: version %(version)s %(status)s in %(seconds).1f s (%(baskets)s orders, %(members)s "
                    "members, %(products)s products)") % {
            "code": enterprise.code, "version": version.version, "status": version.get_status_display(),
            "seconds": version.seconds, "baskets": version.baskets, "members": version.members,
            "products": version.products}, last=True)
        if version.error_message:
            self.stdout.write(version.error_message)

    def evaluate(self, enterprise, options) -> None:
        from yundian.analytics.management.commands.clv import table
        from yundian.recommend import evaluation
        from yundian.recommend.services import training_tables

        self.stdout.write(_("%(code)s: reading the warehouse…") % {"code": enterprise.code})
        tables, timed = training_tables(enterprise.pk, with_times=True)
        if tables.baskets.empty:
            raise CommandError(_("No purchases in the warehouse to evaluate on."))
        split = evaluation.holdout_split(tables, test_days=options["test_days"], interactions_at=timed)
        if not split.targets:
            raise CommandError(_("No member bought in the test weeks after buying or browsing before them."))
        from yundian.recommend import learn

        als = evaluation.tune_als(split.train, test_days=options["test_days"], k=options["k"],
                                  interactions_at=split.interactions_at)
        model = learn.fit(split.train, **als)
        rows = evaluation.evaluate(split, k=options["k"], model=model, validation_days=options["test_days"])
        k = options["k"]
        base = next(r.recall for r in rows if r.model == "popularity") or 1e-9
        names = model_names()
        self.stdout.write(_("Trained before %(cut)s, tested on %(members)s members' purchases since "
                            "(%(products)s products in the catalogue).") % {
            "cut": split.cutoff.date().isoformat(), "members": len(split.targets), "products": split.catalogue})
        headers = [_("model"), f"recall@{k}", f"precision@{k}", f"NDCG@{k}", _("coverage"), _("× popularity")]
        body = [[names.get(r.model, r.model), f"{r.recall:.4f}", f"{r.precision:.4f}", f"{r.ndcg:.4f}",
                 f"{r.coverage:.1%}", f"{r.recall / base:.2f}"] for r in rows]
        for text in table(headers, body, right={1, 2, 3, 4, 5}):
            self.stdout.write(text)
        self.stdout.write(_("Blend weights, chosen on up to %(windows)s spans of %(days)s days before the cut: "
                            "%(weights)s") % {
            "windows": evaluation.VALIDATION_WINDOWS, "days": options["test_days"],
            "weights": ", ".join(f"{name} {value:g}" for name, value in model.params["blend"].items())})
        self.stdout.write(_("ALS settings, chosen on the same weeks: %(params)s") % {
            "params": ", ".join(f"{name} {value:g}" for name, value in als.items())})

    def rescue(self, enterprise, options) -> None:
        from yundian.recommend.rescue import rescue_run

        made = rescue_run(enterprise_id=enterprise.pk)
        self.stdout.write(_("%(code)s: %(n)s browse-abandon rescues handed to guides.") % {
            "code": enterprise.code, "n": len(made)})
