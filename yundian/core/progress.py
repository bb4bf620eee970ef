"""One progress line for long commands (warehouse sync, events import, the demo's history): redrawn in place on a
terminal, a plain line per update when the output is a file or a pipe (logs, CI)."""


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
