"""Sample reference registers for the demo: a few SYNTHETIC people per kind (valid ID checksums
from `ykt_kit.synthetic`, invented names, nobody real), as CSV files in this folder.

    python -m ykt_validation.seed           # rewrite the files from the generator below

Import them through the gateway as the platform administrator, e.g.

    curl -H "authorization: Bearer $TOKEN" --data-binary @残疾人名册-示例.csv \\
      "$GATEWAY/api/v1/registers/imports?kind=disabled&as_of=2026-06-30&source=区残联&filename=残疾人名册-示例.csv"
"""

from __future__ import annotations

import csv
import random
import sys
from dataclasses import dataclass
from datetime import date, timedelta
from importlib import resources
from pathlib import Path

from ykt_contracts.reference import DISTRICT_CODE, TOWNS
from ykt_kit import synthetic

from ..domain.registers import RegisterKind

AS_OF = date(2026, 6, 30)


@dataclass(frozen=True)
class Sample:
    """One sample register file: its kind, file name, as-of date and issuing body."""

    kind: RegisterKind
    filename: str
    source: str
    as_of: date = AS_OF

    def path(self) -> Path:
        return Path(str(resources.files(__package__).joinpath(self.filename)))

    def read_bytes(self) -> bytes:
        return self.path().read_bytes()


SAMPLES: tuple[Sample, ...] = (
    Sample(RegisterKind.DISABLED, "残疾人名册-示例.csv", "区残疾人联合会"),
    Sample(RegisterKind.STATE_SUPPORT, "特困供养人员名册-示例.csv", "区民政局"),
    Sample(RegisterKind.POVERTY, "建档立卡脱贫人口名册-示例.csv", "区乡村振兴局"),
    Sample(RegisterKind.DECEASED, "死亡人员名册-示例.csv", "区公安分局、区民政局（殡葬）"),
    Sample(RegisterKind.STATE_SALARIED, "财政供养人员名册-示例.csv", "区财政局（工资统发）"),
)

_HEADERS: dict[RegisterKind, tuple[str, ...]] = {
    RegisterKind.DISABLED: ("序号", "姓名", "身份证号码", "残疾类别", "残疾等级"),
    RegisterKind.STATE_SUPPORT: ("序号", "姓名", "身份证号码", "供养方式"),
    RegisterKind.POVERTY: ("序号", "姓名", "身份证号码", "人员类别", "脱贫年度"),
    RegisterKind.DECEASED: ("序号", "姓名", "身份证号码", "死亡日期"),
    RegisterKind.STATE_SALARIED: ("序号", "姓名", "身份证号码", "工作单位", "人员类别"),
}
_CATEGORIES = ("肢体残疾", "视力残疾", "智力残疾", "听力残疾", "精神残疾", "多重残疾")
_GRADES = ("一级", "二级", "三级", "四级")
_EMPLOYERS = ("区教育事业单位", "区卫生健康委下属医院", "八桥镇人民政府", "区财政局", "跳磴镇中心小学")


def people(n: int, *, seed: int) -> list[synthetic.Person]:
    """`n` synthetic people of the district (distinct ID numbers)."""
    towns = [(t.code, "") for t in TOWNS]
    return synthetic.population(n, seed=seed, area=DISTRICT_CODE, towns=towns, bank_codes=["CQRCB"])


def sample_rows(kind: RegisterKind) -> list[list[str]]:
    """The rows (without header) of the sample register of `kind`."""
    rng = random.Random(f"register-{kind.value}")
    pop = people(6, seed=20261031 + list(RegisterKind).index(kind))
    rows: list[list[str]] = []
    for i, p in enumerate(pop, start=1):
        base = [str(i), p.name, p.id_number]
        if kind is RegisterKind.DISABLED:
            rows.append([*base, _CATEGORIES[i % len(_CATEGORIES)], _GRADES[i % len(_GRADES)]])
        elif kind is RegisterKind.STATE_SUPPORT:
            rows.append([*base, "集中供养" if i % 3 == 0 else "分散供养"])
        elif kind is RegisterKind.POVERTY:
            rows.append([*base, "脱贫人口" if i % 4 else "防止返贫监测对象", str(2016 + i % 5)])
        elif kind is RegisterKind.DECEASED:
            died = AS_OF - timedelta(days=rng.randrange(1, 300))
            rows.append([*base, died.isoformat()])
        else:
            rows.append([*base, _EMPLOYERS[i % len(_EMPLOYERS)], "退休" if i % 4 == 0 else "在职"])
    return rows


def write_sample(sample: Sample, directory: Path) -> Path:
    """Write one sample as Excel writes CSV (UTF-8 with BOM)."""
    path = directory / sample.filename
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f)
        w.writerow(_HEADERS[sample.kind])
        w.writerows(sample_rows(sample.kind))
    return path


def main() -> None:
    here = Path(__file__).parent
    for s in SAMPLES:
        sys.stdout.write(f"{write_sample(s, here)}\n")


if __name__ == "__main__":
    main()
