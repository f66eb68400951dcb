"""A Semantic Kernel app whose skills and models are dualtrack's.

The kernel's chat service is ``DualtrackChatCompletion``: every call the kernel makes is
routed by capability tags and sensitivity, with fallback and the usage ledger. The
document plugin's skills are kernel functions; SK's automatic function calling lets the
model call ``document-summarize`` on the sample report. The skill writes files (it can
save the summary), so the app asks you before it runs.
The model driving the conversation needs the ``tools`` tag: a partner model with its key
set, or a tool-calling model declared in ``dualtrack.toml`` (without one, the script says so).

Run: ``.venv/bin/python examples/sk_app.py [--out DIR]`` (needs ``pip install 'dualtrack[sk,document]'``).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import print_ledger, run_with_out_dir
from _sample_docs import make_sample_docx
from semantic_kernel import Kernel
from semantic_kernel.connectors.ai.function_choice_behavior import FunctionChoiceBehavior
from semantic_kernel.exceptions import KernelInvokeException
from semantic_kernel.functions import KernelArguments

from dualtrack import DualtrackError, Orchestrator, Skill
from dualtrack.hosts.semantic_kernel import DualtrackChatCompletion, DualtrackExecutionSettings, add_to_kernel


def ask_user(skill: Skill, arguments: dict[str, Any]) -> bool:
    """Ask on the terminal before a model-chosen skill changes files (no terminal: no)."""
    if not sys.stdin.isatty():
        print(f"  (not running {skill.full_name}: it changes files and nobody can confirm)")
        return False
    return input(f"Allow {skill.full_name}({arguments})? [y/N] ").strip().lower() == "y"


async def main(orc: Orchestrator | None = None, out: Path = Path("out"), confirm: Any = ask_user) -> int:
    report = make_sample_docx(out / "quarterly-report.docx")
    orc = orc or Orchestrator.from_config(roots=[out])
    kernel = Kernel()
    kernel.add_service(DualtrackChatCompletion(orc))
    add_to_kernel(kernel, orc, ["document"], confirm=confirm)
    settings = DualtrackExecutionSettings(
        function_choice_behavior=FunctionChoiceBehavior.Auto(filters={"included_plugins": ["document"]}),
        max_tokens=400,
    )
    assist = kernel.add_function(
        plugin_name="app", function_name="assist", prompt="{{$request}}", prompt_execution_settings=settings
    )
    request = f"Summarize the report at {report} as bullet points."
    print(f"> {request}")
    async with orc:
        try:
            result = await kernel.invoke(assist, KernelArguments(request=request))
        except KernelInvokeException as exc:  # SK wraps what a function or service raised
            cause: BaseException | None = exc
            while cause is not None and not isinstance(cause, DualtrackError):
                cause = cause.__cause__  # the dualtrack error under SK's wrappers, if any
            print(f"could not answer: {cause or exc}")
            return 1
    print(f"\n{result}\n")
    for message in result.metadata["messages"].messages:
        for item in message.items:
            skill_result = (item.metadata or {}).get("dualtrack.result")
            if skill_result is not None:
                print(f"Routing of {skill_result.skill}:\n{skill_result.explain()}\n")
    print_ledger(orc)
    return 0


if __name__ == "__main__":
    run_with_out_dir(main, __doc__)
