"""Reading an analyst's transaction log (CSV: customer id, date, amount) for `yundian clv fit --from FILE.csv`.

Every way a file can be wrong is a ClvFileRefused with a translated message naming the file and, where there is
one, the line (counted as an editor counts them: the header is line 1)."""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from django.utils.translation import gettext_lazy as _

from yundian.core.errors import ValidationFailed


class ClvFileRefused(ValidationFailed):
    code = "clv_file_refused"


@dataclass
class TransactionLog:
    transactions: pd.DataFrame  # member_id (str), day (date), amount (float)
    rows: int
    skipped: int  # rows with an amount of 0 or less (refunds, free items): not purchases


def transactions_read(path: str | Path, *, customer_column: str = "customer_id", date_column: str = "date",
                      amount_column: str = "amount", date_format: str = "%Y-%m-%d", delimiter: str = ",",
                      encoding: str = "utf-8-sig") -> TransactionLog:
    """The file's purchases as member_id / day / amount; raises ClvFileRefused (nothing half-read) when it cannot."""
    name = str(path)
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, sep=delimiter, encoding=encoding,
                            skipinitialspace=True)
    except FileNotFoundError:
        raise ClvFileRefused(_("%(file)s: no such file.") % {"file": name}, code="file_not_found") from None
    except (IsADirectoryError, PermissionError):
        raise ClvFileRefused(_("%(file)s cannot be read as a file.") % {"file": name}, code="file_unreadable") from None
    except UnicodeDecodeError:
        raise ClvFileRefused(_("%(file)s is not text in the %(encoding)s encoding (choose another with --encoding).")
                             % {"file": name, "encoding": encoding}, code="file_encoding") from None
    except LookupError:
        raise ClvFileRefused(_("Unknown encoding %(encoding)s.") % {"encoding": encoding},
                             code="unknown_encoding") from None
    except pd.errors.EmptyDataError:
        raise ClvFileRefused(_("%(file)s is empty.") % {"file": name}, code="file_empty") from None
    except pd.errors.ParserError as exc:
        raise ClvFileRefused(_("%(file)s is not a CSV file this command can read (%(reason)s).")
                             % {"file": name, "reason": str(exc).strip()[:160]}, code="file_not_csv") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    missing = [c for c in (customer_column, date_column, amount_column) if c not in frame.columns]
    if missing:
        raise ClvFileRefused(
            _("%(file)s has no column %(column)s; its columns are: %(columns)s. Name yours with --customer-column, "
              "--date-column and --amount-column.")
            % {"file": name, "column": ", ".join(missing), "columns": ", ".join(frame.columns) or "–"},
            code="column_missing", details={"missing": missing})
    if frame.empty:
        raise ClvFileRefused(_("%(file)s has a header but no transactions.") % {"file": name}, code="no_rows")
    customers = frame[customer_column].str.strip()
    blank = customers == ""
    if blank.any():
        raise ClvFileRefused(_("%(file)s line %(line)d: the customer id is empty.")
                             % {"file": name, "line": _line(blank)}, code="customer_empty")
    raw_dates = frame[date_column].str.strip()
    days = pd.to_datetime(raw_dates, format=date_format, errors="coerce")
    bad = days.isna()
    if bad.any():
        line = _line(bad)
        raise ClvFileRefused(_("%(file)s line %(line)d: %(value)r is not a date in the format %(format)s (set it "
                               "with --date-format).")
                             % {"file": name, "line": line, "value": raw_dates[bad].iloc[0], "format": date_format},
                             code="date_invalid", details={"line": line})
    raw_amounts = frame[amount_column].str.strip()
    amounts = pd.to_numeric(raw_amounts, errors="coerce")
    bad = amounts.isna() | ~amounts.map(lambda v: math.isfinite(v) if v == v else False)
    if bad.any():
        line = _line(bad)
        raise ClvFileRefused(_("%(file)s line %(line)d: %(value)r is not an amount (a plain number such as 12.50).")
                             % {"file": name, "line": line, "value": raw_amounts[bad].iloc[0]},
                             code="amount_invalid", details={"line": line})
    transactions = pd.DataFrame({"member_id": customers, "day": days.dt.date, "amount": amounts.astype(float)})
    kept = transactions[transactions["amount"] > 0].reset_index(drop=True)
    if kept.empty:
        raise ClvFileRefused(_("%(file)s has no purchase with an amount above 0.") % {"file": name},
                             code="no_purchases")
    return TransactionLog(kept, rows=len(frame), skipped=len(frame) - len(kept))


def _line(mask: pd.Series) -> int:
    """The file line of the first true row of `mask` (the header is line 1)."""
    return int(mask.to_numpy().nonzero()[0][0]) + 2
