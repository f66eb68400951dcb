"""``@plugin`` and the plugin registry, validated at registration."""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from .._errors import PluginError, UnknownSkillError, UserError
from ._skills import Skill, build_skill, skill_options

__all__ = ["Plugin", "PluginRegistry", "plugin"]

T = TypeVar("T", bound=type)
_MARK = "__dualtrack_plugin__"
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def plugin(name: str, *, description: str | None = None) -> Callable[[T], T]:
    """Mark a class as a plugin: a named group of ``@skill`` methods.

    Args:
        name: The plugin name (lowercase snake_case), the prefix of its skills.
        description: What the plugin is for; defaults to the class docstring.

    Returns:
        A class decorator that records the name; validation happens at registration.
    """

    def mark(cls: T) -> T:
        setattr(cls, _MARK, (name, description))
        return cls

    return mark


@dataclass(slots=True)
class Plugin:
    """A registered plugin.

    Attributes:
        name: The plugin name.
        description: What it is for.
        skills: Skill name → skill.
        instance: The plugin object the skills are bound to.
    """

    name: str
    description: str
    skills: dict[str, Skill]
    instance: object

    @classmethod
    def from_object(cls, obj: object) -> Plugin:
        """Validate a plugin class or instance and build the registered plugin.

        Args:
            obj: A class decorated with ``@plugin`` (instantiated with no arguments)
                or an instance of one.

        Returns:
            The plugin with its skills.

        Raises:
            PluginError: Listing every problem found, each with its fix.
        """
        klass = obj if inspect.isclass(obj) else type(obj)
        mark = getattr(klass, _MARK, None)
        if mark is None:
            raise UserError(
                f"{klass.__qualname__} is not a plugin; decorate the class with "
                f"@plugin('name') from dualtrack"
            )
        name, description = mark
        problems: list[str] = []
        if not isinstance(name, str) or not _NAME.match(name):
            problems.append(f"plugin name {name!r} must be lowercase snake_case (e.g. 'document')")
        description = description or (inspect.getdoc(klass) or "").split("\n\n")[0].strip()
        if not description:
            problems.append("missing description; add a class docstring or @plugin(description=...)")
        instance = obj
        if inspect.isclass(obj):
            try:
                instance = obj()
            except TypeError as exc:
                raise PluginError(
                    str(name),
                    [f"cannot instantiate {klass.__qualname__}() ({exc}); register an instance instead"],
                ) from exc
        skills: dict[str, Skill] = {}
        seen: set[str] = set()
        for attr in sorted(_marked_attributes(klass)):
            method = getattr(instance, attr)
            opts = skill_options(method)
            skill_name = (opts.name if opts else None) or attr
            built = build_skill(str(name), attr, method, problems)
            if skill_name in seen:
                problems.append(
                    f"skill {name}.{skill_name} is defined twice; rename one with @skill(name=...)"
                )
            elif built is not None:
                skills[built.name] = built
            seen.add(skill_name)
        if not skills and not problems:
            problems.append("has no skills; mark methods with @skill")
        if problems:
            raise PluginError(str(name), problems)
        return cls(name, description, skills, instance)

    def manifest(self) -> dict[str, Any]:
        """Plain data describing the plugin and its skills."""
        return {
            "name": self.name,
            "description": self.description,
            "skills": [s.manifest() for s in self.skills.values()],
        }


def _marked_attributes(klass: type) -> Iterator[str]:
    for attr in dir(klass):
        if attr.startswith("__"):
            continue
        value = inspect.getattr_static(klass, attr, None)
        if isinstance(value, staticmethod | classmethod):
            value = value.__func__
        if skill_options(value) is not None:
            yield attr


class PluginRegistry:
    """The plugins an orchestrator knows, with skill lookup by full name."""

    def __init__(self) -> None:
        self._plugins: dict[str, Plugin] = {}
        self._skills: dict[str, Skill] = {}
        self._tools: dict[str, Skill] = {}

    def add(self, obj: object) -> Plugin:
        """Register a plugin class or instance.

        Args:
            obj: A ``@plugin`` class or instance.

        Returns:
            The registered plugin.

        Raises:
            PluginError: When it fails validation or its name is taken.
        """
        p = obj if isinstance(obj, Plugin) else Plugin.from_object(obj)
        if p.name in self._plugins:
            raise PluginError(p.name, ["a plugin with this name is already registered; rename one"])
        self._plugins[p.name] = p
        for s in p.skills.values():
            self._skills[s.full_name] = s
            self._tools[s.tool_name] = s
        return p

    def extend(self, objs: Iterable[object]) -> None:
        """Register several plugins."""
        for obj in objs:
            self.add(obj)

    def __iter__(self) -> Iterator[Plugin]:
        return iter(self._plugins.values())

    def __len__(self) -> int:
        return len(self._plugins)

    def __contains__(self, name: object) -> bool:
        return name in self._plugins

    def skills(self) -> list[Skill]:
        """Every skill, sorted by full name."""
        return [self._skills[k] for k in sorted(self._skills)]

    def get(self, name: str) -> Skill:
        """Find a skill by ``plugin.skill`` (or its tool name ``plugin-skill``).

        Raises:
            UnknownSkillError: With close matches when there are any.
        """
        found = self._skills.get(name) or self._tools.get(name)
        if found is not None:
            return found
        import difflib  # only for the suggestions of an unknown name

        close = difflib.get_close_matches(name, list(self._skills), n=3)
        hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        known = "" if close else " Run `dualtrack plugins` to list the skills."
        raise UnknownSkillError(f"no skill named {name!r}.{hint}{known}")
