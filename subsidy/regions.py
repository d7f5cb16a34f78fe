"""Provinces and regencies (Kemendagri area codes), shipped in subsidy/data/wilayah/.

Administrative area data: idn-area-data 4.0.1, Open Database License (ODbL) 1.0.
"""

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data" / "wilayah"


@dataclass(frozen=True)
class Province:
    code: str
    name: str
    regencies: tuple[tuple[str, str], ...]


@cache
def provinces() -> dict[str, Province]:
    regencies: dict[str, list[tuple[str, str]]] = {}
    with (DATA_DIR / "regencies.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            regencies.setdefault(row["province_code"], []).append((row["code"], row["name"]))
    with (DATA_DIR / "provinces.csv").open(encoding="utf-8") as handle:
        return {
            row["code"]: Province(row["code"], row["name"], tuple(regencies.get(row["code"], ())))
            for row in csv.DictReader(handle)
        }


@cache
def regency_names() -> dict[str, str]:
    return {code: name for p in provinces().values() for code, name in p.regencies}


def province_name(code: str) -> str:
    province = provinces().get(code)
    return province.name if province else ""


def regency_name(code: str) -> str:
    return regency_names().get(code, "")


def regency_in_province(regency: str, province: str) -> bool:
    return regency in regency_names() and regency.split(".", 1)[0] == province
