"""Program (topic) ids from docs/GLOSSARY.md and their Chinese names."""

from __future__ import annotations

PROGRAMS: dict[str, str] = {
    "dibao": "最低生活保障（低保）",
    "dibao_single": "单人户（单独纳入低保）",
    "dibao_edge": "低保边缘家庭",
    "rigid_expense": "刚性支出困难家庭",
    "tekun": "特困人员救助供养",
    "temporary_assistance": "临时救助",
    "medical_assistance": "医疗救助",
    "education_assistance": "教育救助",
    "housing_assistance": "住房救助",
    "employment_assistance": "就业救助",
    "disability_subsidies": "残疾人两项补贴",
    "children": "孤儿和事实无人抚养儿童保障",
    "disaster_relief": "受灾人员救助",
    "vagrancy": "流浪乞讨人员救助",
    "application": "申请办理",
    "supervision": "监督举报",
    "hotline": "服务热线",
}

PROGRAM_IDS = tuple(PROGRAMS)


def program_name(program_id: str) -> str:
    return PROGRAMS[program_id]
