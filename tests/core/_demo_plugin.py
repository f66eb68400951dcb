"""The "demo" plugin that core tests route their model calls through.

``Demo`` has one skill, ``demo.echo(text)``: one model call, its text returned. A test
that needs other generate arguments or more skills declares its own ``@plugin("demo")``
class on top of ``EchoSkill`` and sets ``GENERATE``.
"""

from typing import Any, ClassVar

from dualtrack import SkillContext, plugin, skill

__all__ = ["Demo", "EchoSkill"]


class EchoSkill:
    """The ``echo`` skill, generating with the keyword arguments in ``GENERATE``."""

    GENERATE: ClassVar[dict[str, Any]] = {}

    @skill
    async def echo(self, ctx: SkillContext, text: str) -> str:
        """Echo through a model.

        Args:
            text: The text.
        """
        return (await ctx.generate(text, **self.GENERATE)).text


@plugin("demo", description="d")
class Demo(EchoSkill):
    """``demo.echo`` with the model call's default settings."""
