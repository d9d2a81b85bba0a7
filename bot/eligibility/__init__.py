"""Eligibility screen: social-assistance rules as code (plain Python, no web imports).

Modelled on OpenFisca / PolicyEngine. Where things are:

* ``entities.py``: ``Person`` members of the household of 共同生活家庭成员, legal
  ``Supporter``s (法定义务人) for 特困, an ``Emergency``; every fact optional;
* ``parameters.py``: parameters from ``policy_kb/parameters/<concept>/*.yml``, read as of a
  date and per jurisdiction along ``bot.places.jurisdiction_path`` (the most specific place
  that sets a value wins; a null value ends it), layered with local overrides set by
  ``python -m bot.eligibility.admin``;
* ``programs/``: one module per program (``dibao.py``, ``dibao_edge.py``, ``tekun.py`` …),
  three-state results ``likely`` / ``unlikely`` / ``need_info`` with an explanation trace
  (``results.py``); ``conditions.py`` holds the tests several programs share;
* ``context.py``: one screen's situation, parameters, shared figures (``income.py``) and
  each program's result, decided when first asked for;
* ``explanations.py``: the Chinese sentences of the traces, templates in
  ``policy_kb/explanations/<program>.yml``;
* ``engine.py``: ``screen()`` — decides every program and shapes the answer.

Public interface::

    from bot.eligibility import screen
    answer = screen({"jurisdiction": "渠县", "as_of": "2026-09-01", "hukou": "rural",
                     "standards": {"dibao_monthly": 700},
                     "household": {"members": [{"relation": "self", "age": 45, "monthly_income": 600}],
                                   "other_monthly_income": 0, "property_ok": True}})

Answer: ``{ruleset_version, as_of, jurisdiction, jurisdiction_path, per_capita_income,
per_capita_income_range, results: [...], missing: [...], next_steps: [...], disclaimer}``.

Each result: ``{program, name, status, status_text, summary, explanation, missing, estimate,
ruleset_version, disclaimer}``.

* ``explanation``: ``[{test, passed (true/false/null), kind ("condition" decides the status,
  "info" does not), text (Chinese), citation, parameters}]``; ``citation`` is the knowledge
  base's shape ``{title, clause, issuer, date, jurisdiction, status, source, text}`` (``text``
  quotes the clause); ``parameters`` maps each parameter used to ``{value, unit, origin
  ("policy_kb" | "local_override" | "user" | "unset"), set_in, effective}``.
* ``missing``: ``[{fact, question, for}]``. ``fact`` is a path into the request
  (``household.members``, ``members[0].monthly_income``, ``household.property_ok``,
  ``hukou``, ``standards.dibao_monthly``, ``household.supporters[0].age`` …; the full list is
  in ``facts.py``); ``question`` is the Chinese question that asks for it; ``for`` is
  ``"status"`` (needed to decide) or ``"estimate"`` (only sharpens the amount).
  The top-level ``missing`` merges the status facts of all results, most-needed first,
  each with the ``programs`` that need it.
* ``estimate``: ``{amount, low, high, unit, formula}`` or null.

Local money figures no source gives (低保标准, minimum wage, disposable income) are unset
parameters: the engine uses the request's ``standards`` (e.g. ``{"dibao_monthly": 700}``)
or answers ``need_info`` with a conditional explanation. Officially set values win over a
user's figure.
"""

from bot.eligibility.engine import DISCLAIMER, STATUS_ZH, screen
from bot.eligibility.entities import STANDARD_KEYS, Emergency, Household, InputError, Person, Situation, Supporter
from bot.eligibility.parameters import ParameterSet, get_parameters

__all__ = [
    "screen",
    "DISCLAIMER",
    "STATUS_ZH",
    "InputError",
    "Person",
    "Supporter",
    "Emergency",
    "Household",
    "Situation",
    "STANDARD_KEYS",
    "ParameterSet",
    "get_parameters",
    "ruleset_version",
]


def ruleset_version() -> str:
    return get_parameters().version
