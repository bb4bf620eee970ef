"""yundian clv fit --from FILE.csv [options]      fit BG/NBD + Gamma-Gamma to any transaction log and print the
                                               parameters, the fit diagnostics and a calibration/holdout check
yundian clv refit [--enterprise CODE]          refit an enterprise's CLV model on the warehouse now (all: every one)

fit reads a CSV with a customer id, a date and an amount per row (name the columns with --customer-column,
--date-column, --amount-column; --date-format as in strftime, e.g. %d/%m/%Y or "%Y-%m-%d %H:%M:%S"). The
observation ends at the last date in the file unless --observation-end says otherwise. With at least twice
--holdout-days of data, the model is also fitted on all but the last --holdout-days and its predicted purchases in
them are compared with the actual ones per number of repeat purchases. --output writes each customer's predictions.
"""
import unicodedata
from datetime import date

import ibis
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _, pgettext

from yundian.analytics import clv
from yundian.analytics.clv_files import ClvFileRefused, transactions_read

MODEL_OF = {"r": "BG/NBD", "alpha": "BG/NBD", "a": "BG/NBD", "b": "BG/NBD",
            "p": "Gamma-Gamma", "q": "Gamma-Gamma", "v": "Gamma-Gamma"}


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def table(headers: list[str], rows: list[list[str]], right: set[int] = frozenset()) -> list[str]:
    """Rows as aligned text columns (Chinese characters count two), numbers right-aligned."""
    cells = [headers, *rows]
    widths = [max(_width(row[i]) for row in cells) for i in range(len(headers))]

    def line(row: list[str]) -> str:
        parts = []
        for i, cell in enumerate(row):
            pad = " " * (widths[i] - _width(cell))
            parts.append(pad + cell if i in right else cell + pad)
        return "  ".join(parts).rstrip()

    return [line(headers), "  ".join("-" * w for w in widths), *(line(r) for r in rows)]


def _number(value: float | None, digits: int = 4) -> str:
    if value is None:
        return "–"
    return f"{value:,.{digits}f}"


class Command(BaseCommand):
    help = "Fit the CLV model (BG/NBD + Gamma-Gamma) to a transaction log, or refit an enterprise's on the warehouse."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True)
        fit = actions.add_parser("fit", help="fit any transaction log (CSV) and print parameters and diagnostics")
        fit.add_argument("--from", dest="source", required=True, metavar="FILE.csv")
        fit.add_argument("--customer-column", default="customer_id")
        fit.add_argument("--date-column", default="date")
        fit.add_argument("--amount-column", default="amount")
        fit.add_argument("--date-format", default="%Y-%m-%d")
        fit.add_argument("--delimiter", default=",")
        fit.add_argument("--encoding", default="utf-8-sig")
        fit.add_argument("--observation-end", help="YYYY-MM-DD (default: the last date in the file)")
        fit.add_argument("--holdout-days", type=int, default=90)
        fit.add_argument("--output", help="write each customer's predictions to this CSV file")
        refit = actions.add_parser("refit", help="refit an enterprise's CLV model on the warehouse now")
        refit.add_argument("--enterprise", help="the enterprise code (default: every enterprise)")

    def handle(self, *args, action, **options):
        if action == "refit":
            return self.refit(options.get("enterprise"))
        return self.fit(**options)

    def refit(self, code: str | None) -> None:
        from yundian.analytics.clv_services import clv_refit
        from yundian.analytics.models import ClvModelStatus
        from yundian.org.models import Enterprise

        enterprises = Enterprise.objects.order_by("id")
        if code:
            enterprises = enterprises.filter(code=code)
            if not enterprises.exists():
                raise CommandError(_("No enterprise has the code %(code)r.") % {"code": code})
        for enterprise in enterprises:
            version = clv_refit(enterprise_id=enterprise.pk)
            if version.status == ClvModelStatus.FITTED:
                self.stdout.write(_("%(enterprise)s: CLV model v%(version)s fitted on %(members)s members in "
                                    "%(seconds)s s.") % {"enterprise": enterprise.code, "version": version.version,
                                                         "members": f"{version.members:,}",
                                                         "seconds": f"{version.seconds:.1f}"})
            else:
                self.stdout.write(_("%(enterprise)s: CLV model v%(version)s could not be fitted: %(reason)s") % {
                    "enterprise": enterprise.code, "version": version.version, "reason": version.error_message})

    def fit(self, *, source, customer_column, date_column, amount_column, date_format, delimiter, encoding,
            observation_end, holdout_days, output, **options) -> None:
        if holdout_days < 0:
            raise CommandError(_("--holdout-days is 0 (no holdout check) or more."))
        end = None
        if observation_end:
            try:
                end = date.fromisoformat(observation_end)
            except ValueError:
                raise CommandError(_("--observation-end %(value)r is not a date (YYYY-MM-DD).")
                                   % {"value": observation_end}) from None
        try:
            log = transactions_read(source, customer_column=customer_column, date_column=date_column,
                                    amount_column=amount_column, date_format=date_format, delimiter=delimiter,
                                    encoding=encoding)
        except ClvFileRefused as exc:
            raise CommandError(str(exc.message)) from None
        data = log.transactions
        first, last = min(data["day"]), max(data["day"])
        end = end or last
        if end < first:
            raise CommandError(_("--observation-end %(end)s is before the first purchase in the file (%(first)s).")
                               % {"end": end, "first": first})
        backend = ibis.duckdb.connect()
        transactions = ibis.memtable(data)
        summary = backend.execute(clv.rfm_summary(transactions, observation_end=end))
        try:
            model = clv.fit(summary)
        except clv.ClvFitFailed as exc:
            raise CommandError(_("%(file)s: %(reason)s") % {"file": source, "reason": exc.message}) from None
        out = self.stdout.write
        out(_("Read %(rows)s rows of %(file)s: %(customers)s customers, %(repeat)s of them bought on two days or "
              "more; %(skipped)s rows with an amount of 0 or less were left out.")
            % {"rows": f"{log.rows:,}", "file": source, "customers": f"{len(summary):,}",
               "repeat": f"{model.diagnostics['repeat_customers']:,}", "skipped": f"{log.skipped:,}"})
        out(_("Purchases from %(first)s to %(end)s (the observation end); time in days, amounts in the file's unit.")
            % {"first": first, "end": end})
        out("")
        out(_("Fitted parameters"))
        errors = model.diagnostics["standard_errors"]
        rows = [[name, MODEL_OF[name], _number(value), _number(errors.get(name))] for name, value in model.params.items()]
        for text in table([_("parameter"), _("model"), pgettext("clv", "value"), _("standard error")], rows,
                          right={2, 3}):
            out(text)
        out("")
        out(_("Fit diagnostics"))
        diagnostics = model.diagnostics
        correlation = diagnostics["frequency_spend_correlation"]
        rows = [
            [_("log-likelihood, BG/NBD"), _number(diagnostics["purchase_log_likelihood"], 1)],
            [_("log-likelihood, Gamma-Gamma"), _number(diagnostics["spend_log_likelihood"], 1)],
            [_("customers / distinct (frequency, recency, T)"),
             f"{diagnostics['customers']:,} / {diagnostics['patterns']:,}"],
            [_("mean repeat purchases"), _number(diagnostics["mean_frequency"], 3)],
            [_("correlation of frequency and spend (Gamma-Gamma assumes none)"), _number(correlation, 3)],
            [_("L2 penalty the fit needed (BG/NBD / Gamma-Gamma)"),
             f"{diagnostics['penalizer']['purchases']:g} / {diagnostics['penalizer']['spend']:g}"],
            [_("fit CPU seconds"), _number(diagnostics["fit_cpu_seconds"], 2)],
        ]
        for text in table([_("measure"), pgettext("clv", "value")], rows, right={1}):
            out(text)
        out("")
        calibration_end = clv.default_holdout_start(first, end, holdout_days) if holdout_days else None
        if holdout_days and calibration_end is None:
            out(_("No holdout check: the data span %(span)s days, less than twice --holdout-days (%(days)s).")
                % {"span": (end - first).days, "days": holdout_days})
        elif calibration_end is not None:
            try:
                _model, check = clv.holdout_table(transactions, calibration_end=calibration_end,
                                                  observation_end=end, backend=backend)
            except clv.ClvFitFailed as exc:
                out(_("No holdout check: the calibration period cannot be fitted (%(reason)s).")
                    % {"reason": exc.message})
            else:
                out(_("Calibration until %(cal)s, holdout %(days)s days to %(end)s: purchase days per customer in "
                      "the holdout, by repeat purchases in the calibration period")
                    % {"cal": calibration_end, "days": holdout_days, "end": end})
                rows = [[_("all") if r.bucket == "all" else r.bucket, f"{r.customers:,}", _number(r.actual, 3),
                         _number(r.predicted, 3), _number(r.predicted - r.actual, 3)] for r in check]
                for text in table([_("repeat purchases"), _("customers"), _("actual"), _("predicted"),
                                   _("difference")], rows, right={1, 2, 3, 4}):
                    out(text)
        if output:
            predictions = model.predict(summary)
            predictions["band"] = predictions["member_id"].map(clv.clv_bands(predictions))
            predictions = predictions.rename(columns={"member_id": "customer_id", "clv": "clv_12m"})
            predictions.to_csv(output, index=False)
            out(_("Predictions for %(n)s customers written to %(file)s.") % {"n": f"{len(predictions):,}",
                                                                             "file": output})
