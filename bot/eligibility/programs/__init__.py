"""The programs the screen decides, one module each, in the order the answer presents them.

Each is ``program(context) -> Result``. A program that builds on another's result asks
``context.status(other)`` or ``context.result(other)``, so this order is only the order of
presentation.
"""

from __future__ import annotations

from bot.eligibility.programs.children import children
from bot.eligibility.programs.dibao import dibao
from bot.eligibility.programs.dibao_edge import dibao_edge
from bot.eligibility.programs.dibao_single import dibao_single
from bot.eligibility.programs.disability_subsidies import disability_subsidies
from bot.eligibility.programs.referrals import (
    education_assistance,
    employment_assistance,
    housing_assistance,
    medical_assistance,
)
from bot.eligibility.programs.rigid_expense import rigid_expense
from bot.eligibility.programs.tekun import tekun
from bot.eligibility.programs.temporary_assistance import temporary_assistance

PROGRAMS = {
    "dibao": dibao,
    "dibao_single": dibao_single,
    "dibao_edge": dibao_edge,
    "rigid_expense": rigid_expense,
    "tekun": tekun,
    "temporary_assistance": temporary_assistance,
    "medical_assistance": medical_assistance,
    "education_assistance": education_assistance,
    "housing_assistance": housing_assistance,
    "employment_assistance": employment_assistance,
    "disability_subsidies": disability_subsidies,
    "children": children,
}
