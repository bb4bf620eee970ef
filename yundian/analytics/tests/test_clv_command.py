"""`yundian clv fit --from FILE.csv`: any transaction log fitted and explained; bad files refused in words."""
import csv
from datetime import date
from io import StringIO

import ibis
import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from yundian.analytics import clv
from yundian.analytics.clv_files import transactions_read

from .clv_data import simulate_transactions

pytestmark = pytest.mark.once  # reads a file and fits: no OLTP database involved


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture(scope="module")
def log_file(tmp_path_factory):
    """400 simulated customers over 2025 in yuan with two decimals, the day as dd/mm/yyyy, custom column names."""
    path = tmp_path_factory.mktemp("clv") / "log.csv"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(["客户", "when", "spent"])
        for customer, day, amount in simulate_transactions(400, seed=3):
            out.writerow([f"C{customer:04d}", day.strftime("%d/%m/%Y"), f"{amount / 100:.2f}"])
        out.writerow(["C9999", "02/01/2025", "-15.00"])  # a refund: left out, counted
    return path


def _run(*args) -> str:
    out = StringIO()
    call_command("clv", "fit", *args, stdout=out)
    return out.getvalue()


def test_a_transaction_log_is_fitted_and_its_parameters_diagnostics_and_holdout_check_printed(log_file, tmp_path):
    predictions = tmp_path / "predictions.csv"
    text = _run("--from", str(log_file), "--customer-column", "客户", "--date-column", "when", "--amount-column",
                "spent", "--date-format", "%d/%m/%Y", "--holdout-days", "90", "--output", str(predictions))
    log = transactions_read(log_file, customer_column="客户", date_column="when", amount_column="spent",
                            date_format="%d/%m/%Y")
    end = max(log.transactions["day"])
    summary = clv.rfm_summary(ibis.memtable(log.transactions), observation_end=end).to_pandas()
    model = clv.fit(summary)
    assert f"Read {log.rows:,} rows of {log_file}: {len(summary):,} customers" in text
    assert "1 rows with an amount of 0 or less were left out" in text
    for name, value in model.params.items():
        assert any(line.split()[:3] == [name, "Gamma-Gamma" if name in "pqv" else "BG/NBD", f"{value:,.4f}"]
                   for line in text.splitlines()), name
    assert f"{model.diagnostics['purchase_log_likelihood']:,.1f}" in text
    assert f"{model.diagnostics['spend_log_likelihood']:,.1f}" in text

    calibration_end = date.fromordinal(end.toordinal() - 90)
    _fitted, rows = clv.holdout_table(ibis.memtable(log.transactions), calibration_end=calibration_end,
                                      observation_end=end)
    assert f"Calibration until {calibration_end}, holdout 90 days to {end}" in text
    table = text.split("Calibration until", 1)[1].splitlines()[3:]
    printed = [line.split() for line in table if line.strip() and not line.startswith("Predictions")]
    assert printed == [[r.bucket, f"{r.customers:,}", f"{r.actual:,.3f}", f"{r.predicted:,.3f}",
                        f"{r.predicted - r.actual:,.3f}"] for r in rows]
    assert rows[-1].bucket == "all" and rows[-1].customers == sum(r.customers for r in rows[:-1])

    with open(predictions, encoding="utf-8") as fh:
        written = list(csv.DictReader(fh))
    assert len(written) == len(summary) and set(written[0]) == {
        "customer_id", "expected_90d", "p_alive", "expected_spend", "clv_12m", "band"}
    assert {row["band"] for row in written} == {"top", "high", "medium", "low"}


def test_a_short_log_is_fitted_without_a_holdout_and_says_why(log_file):
    text = _run("--from", str(log_file), "--customer-column", "客户", "--date-column", "when", "--amount-column",
                "spent", "--date-format", "%d/%m/%Y", "--holdout-days", "200")
    assert "No holdout check: the data span" in text and "less than twice --holdout-days (200)" in text
    assert "Calibration until" not in text


def _file(tmp_path, text: str | bytes, name: str = "bad.csv"):
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return str(path)


@pytest.mark.parametrize("content, args, message", [
    (None, [], "no such file."),
    ("", [], "is empty."),
    ("customer_id,date,amount\n", [], "has a header but no transactions."),
    ("customer,date,amount\nA,2025-01-01,10\n", [],
     "has no column customer_id; its columns are: customer, date, amount. Name yours with --customer-column"),
    ("customer_id,date,amount\nA,2025-01-01,10\nB,2025-13-01,10\n", [],
     "line 3: '2025-13-01' is not a date in the format %Y-%m-%d (set it with --date-format)."),
    ("customer_id,date,amount\nA,2025-01-01,10\nB,2025-01-02,¥10\n", [],
     "line 3: '¥10' is not an amount (a plain number such as 12.50)."),
    ("customer_id,date,amount\n,2025-01-01,10\n", [], "line 2: the customer id is empty."),
    ("customer_id,date,amount\nA,2025-01-01,0\nB,2025-01-02,-3\n", [], "has no purchase with an amount above 0."),
    (b"customer_id,date,amount\n\xff\xfe\x00A,2025-01-01,10\n", [], "is not text in the utf-8-sig encoding"),
    ("customer_id,date,amount\nA,2025-01-01,10\nA,2025-02-01,12\nB,2025-01-03,9\n", [],
     "At least 10 customers are needed to fit the model; there are 2."),
    ("customer_id,date,amount\n" + "".join(f"C{i},2025-01-{i + 1:02d},10\n" for i in range(12)), [],
     "Nobody bought twice: the model needs repeat purchases to learn from."),
    ("customer_id,date,amount\nA,2025-03-01,10\n", ["--observation-end", "2025-02-01"],
     "--observation-end 2025-02-01 is before the first purchase in the file (2025-03-01)."),
    ("customer_id,date,amount\nA,2025-03-01,10\n", ["--observation-end", "1 March"],
     "--observation-end '1 March' is not a date (YYYY-MM-DD)."),
])
def test_a_bad_file_is_refused_with_a_clear_message_and_no_traceback(tmp_path, content, args, message):
    path = str(tmp_path / "missing.csv") if content is None else _file(tmp_path, content)
    with pytest.raises(CommandError) as raised:
        _run("--from", path, *args)
    assert message in str(raised.value)


def test_the_refusal_speaks_chinese_in_a_chinese_console(tmp_path):
    path = _file(tmp_path, "customer_id,date,amount\nA,2025-01-01,10\nB,2025-13-01,10\n")
    with translation.override("zh-hans"), pytest.raises(CommandError) as raised:
        _run("--from", path)
    assert str(raised.value) == f"{path} 第 3 行：'2025-13-01' 不是格式为 %Y-%m-%d 的日期（可用 --date-format 指定）。"
