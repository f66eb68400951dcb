"""The composition layer: Orchestrator, SkillContext, ask, configuration."""
