"""The warehouse as Parquet files, one folder per table: how a chain that outgrows one machine hands its warehouse
to Spark (or Trino, ClickHouse): the same Ibis expressions then run there over `spark.read.parquet(folder)`."""
import os
from pathlib import Path

from yundian.core.warehouse import run, tables, warehouse_read


def warehouse_export(target: str | Path) -> dict[str, int]:
    """Write every warehouse table to `target/<table>/data.parquet`; rows per table. Each file is written beside
    its final name and renamed into place, so a reader never sees half a file."""
    target = Path(target)
    counts = {}
    with warehouse_read() as wh:
        for name in tables():
            if name.startswith("_"):
                continue
            folder = target / name
            folder.mkdir(parents=True, exist_ok=True)
            partial = folder / ".data.parquet.partial"
            run(wh.con, f"COPY \"{name}\" TO '{partial}' (FORMAT parquet)")
            os.replace(partial, folder / "data.parquet")
            counts[name] = run(wh.con, f'SELECT count(*) FROM "{name}"')[0][0]
    return counts
