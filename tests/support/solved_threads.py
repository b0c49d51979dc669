"""A workshop's solved threads, made up: each on its own tool and task, answered by a helper."""

from __future__ import annotations

import json
from pathlib import Path

TOOLS = ["laser cutter", "bandsaw", "lathe", "resin printer", "kiln", "soldering station",
         "CNC router", "vinyl plotter", "sewing machine"]  # fmt: skip
TASKS = [
    ("clean", "wipe it with a lint-free cloth and isopropyl alcohol after every session"),
    ("book", "use the Bosun bot in the #bookings channel, two days ahead at most"),
    ("switch off", "press the red button at the back and wait for the fan to stop"),
    ("calibrate", "run the calibration job from the shared folder and note the offset"),
    ("report a fault with", "put a red tag on it and write in the fault book by the door"),
]


def solved_threads(folder: Path, count: int) -> Path:
    """A JSONL export of `count` solved threads, each on its own tool and task."""
    rows = []
    for n in range(count):
        tool = TOOLS[n % len(TOOLS)]
        task, how = TASKS[n // len(TOOLS) % len(TASKS)]
        rows.append(
            {
                "id": f"q{n}",
                "thread_id": f"t{n}",
                "author": f"asker{n % 4}",
                "created_at": 1_740_000_000 + n,
                "text": f"How do I {task} the {tool}?",
            }
        )
        rows.append({"id": f"a{n}", "thread_id": f"t{n}", "author": f"helper{n % 3}",
                     "created_at": 1_740_000_600 + n,
                     "text": f"To {task} the {tool}, {how}; it takes {n + 2} minutes."})  # fmt: skip
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "workshop.jsonl"
    path.write_text("\n".join(json.dumps(row) for row in rows) + "\n", encoding="utf-8")
    return path
