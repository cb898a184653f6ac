"""The README's conversation excerpts are what the bot says (issue #15: they showed options
and lines the bot no longer produced). Rewrite them with `python -m tests.readme_excerpts
--write`."""

from __future__ import annotations

from tests.readme_excerpts import README, SCRIPTS, excerpts, in_readme, written


async def test_the_readme_excerpts_are_what_the_bot_says():
    readme = README.read_text(encoding="utf-8")
    found = await excerpts()
    for language in SCRIPTS:
        assert in_readme(readme, language) == found[language], (
            f"The README's {language} excerpt differs from what the bot says: "
            "run `python -m tests.readme_excerpts --write`."
        )


def test_writing_replaces_only_the_excerpts():
    before = "intro\n<!-- excerpt:en -->\n```\nold\n```\n<!-- /excerpt:en -->\nafter\n"
    after = written(before, {"en": "new\nlines"})
    assert after == "intro\n<!-- excerpt:en -->\n```\nnew\nlines\n```\n<!-- /excerpt:en -->\nafter\n"
    assert in_readme(after, "en") == "new\nlines"
