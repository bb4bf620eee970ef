"""One progress line for long commands (warehouse sync, events import, the demo's history): redrawn in place on a
terminal, a plain line per update when the output is a file or a pipe (logs, CI); and the plain text table such
commands print their results in (`format_table`)."""


class ProgressLine:
    WIDTH = 30

    def __init__(self, out) -> None:
        self.out = out
        self.tty = bool(getattr(out, "isatty", lambda: False)())

    @classmethod
    def bar(cls, done: int, total: int) -> str:
        """`#####.....` for done of total (callers put it in brackets, or in a translated sentence)."""
        filled = min(cls.WIDTH, cls.WIDTH * done // max(total, 1))
        return "#" * filled + "." * (cls.WIDTH - filled)

    def show(self, line: str, *, last: bool = False) -> None:
        if self.tty:
            self.out.write("\r" + line, ending="\n" if last else "")
            self.out.flush()
        else:
            self.out.write(line)

    def done(self) -> None:
        """End the line on a terminal (after the last `show` that was not marked last)."""
        if self.tty:
            self.out.write("")


def format_table(header: list[str], rows: list[list[str]], align: str = "") -> str:
    """A plain text table; `align` is one letter per column, "l" or "r" (default: first left, the rest right)."""
    table = [header, *rows]
    widths = [max(_width(row[i]) for row in table) for i in range(len(header))]
    align = align or "l" + "r" * (len(header) - 1)

    def line(row: list[str]) -> str:
        cells = [_pad(cell, widths[i], left=(align[i] == "l")) for i, cell in enumerate(row)]
        return "  ".join(cells).rstrip()

    return "\n".join([line(header), "  ".join("-" * w for w in widths), *(line(r) for r in rows)])


def _width(text: str) -> int:
    # CJK characters take two terminal columns
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def _pad(text: str, width: int, left: bool) -> str:
    fill = " " * (width - _width(text))
    return text + fill if left else fill + text
