"""Reference data every service may display: Annex 1's 18 programs with their departments, the
departments, and Dadukou's 8 towns/streets. Registry seeds its editable catalogue from here."""

from __future__ import annotations

from typing import NamedTuple


class Department(NamedTuple):
    code: str
    name: str


class ProgramRef(NamedTuple):
    code: str
    name: str
    department_code: str
    frequency: str  # monthly | quarterly | yearly | once


class Division(NamedTuple):
    code: str
    name: str
    kind: str  # 街道 | 镇


DISTRICT_CODE = "500104"
DISTRICT_NAME = "重庆市大渡口区"

DEPARTMENTS: tuple[Department, ...] = (
    Department("DEPT-AGRI", "区农业农村委"),
    Department("DEPT-FOREST", "区林业局"),
    Department("DEPT-HEALTH", "区卫生健康委"),
    Department("DEPT-CIVIL", "区民政局"),
    Department("DEPT-EMERG", "区应急局"),
    Department("DEPT-HOUSING", "区住房城乡建委"),
)

# Annex 1 of 渡财发〔2022〕32号, in its order. Items 5 and 6 carry the same name in the source.
PROGRAMS: tuple[ProgramRef, ...] = (
    ProgramRef("HM01", "耕地地力保护补贴资金", "DEPT-AGRI", "yearly"),
    ProgramRef("HM02", "农机购置补贴资金", "DEPT-AGRI", "once"),
    ProgramRef("HM03", "大中型水库移民后期扶持资金", "DEPT-AGRI", "quarterly"),
    ProgramRef("HM04", "实际种粮农民一次性补贴", "DEPT-AGRI", "once"),
    ProgramRef("HM05", "新一轮退耕还林直补退耕农户资金", "DEPT-FOREST", "yearly"),
    ProgramRef("HM06", "新一轮退耕还林直补退耕农户资金", "DEPT-FOREST", "yearly"),
    ProgramRef("HM07", "集体和个人所有森林生态效益补偿资金", "DEPT-FOREST", "yearly"),
    ProgramRef("HM08", "农村部分计划生育家庭奖励扶助资金", "DEPT-HEALTH", "yearly"),
    ProgramRef("HM09", "计划生育家庭特别扶助资金", "DEPT-HEALTH", "quarterly"),
    ProgramRef("HM10", "困难群众救助补助——城乡居民最低生活保障金", "DEPT-CIVIL", "monthly"),
    ProgramRef("HM11", "困难群众救助补助——特困人员救助供养保障金", "DEPT-CIVIL", "monthly"),
    ProgramRef("HM12", "困难群众救助补助——临时救助金", "DEPT-CIVIL", "once"),
    ProgramRef("HM13", "经济困难高龄失能养老服务补贴资金", "DEPT-CIVIL", "monthly"),
    ProgramRef("HM14", "残疾人两项补贴——重度残疾人护理补贴资金", "DEPT-CIVIL", "monthly"),
    ProgramRef("HM15", "残疾人两项补贴——困难残疾人生活补贴资金", "DEPT-CIVIL", "monthly"),
    ProgramRef("HM16", "困难群众救助补助资金——散居孤儿、事实无人抚养儿童补助", "DEPT-CIVIL", "monthly"),
    ProgramRef("HM17", "自然灾害生活补助资金", "DEPT-EMERG", "once"),
    ProgramRef("HM18", "农村危房改造补助资金", "DEPT-HOUSING", "once"),
)

TOWNS: tuple[Division, ...] = (
    Division("500104001000", "新山村街道", "街道"),
    Division("500104002000", "跃进村街道", "街道"),
    Division("500104003000", "九宫庙街道", "街道"),
    Division("500104004000", "茄子溪街道", "街道"),
    Division("500104005000", "春晖路街道", "街道"),
    Division("500104101000", "八桥镇", "镇"),
    Division("500104102000", "建胜镇", "镇"),
    Division("500104103000", "跳磴镇", "镇"),
)

PROGRAM_NAMES = {p.code: p.name for p in PROGRAMS}
TOWN_NAMES = {t.code: t.name for t in TOWNS}
DEPARTMENT_NAMES = {d.code: d.name for d in DEPARTMENTS}
