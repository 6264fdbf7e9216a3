"""Loading the committed reference data (regions, industries, product categories) into the database.

The files under ``core/data/`` name their sources; loading is idempotent (update or create by code)
and runs in one transaction, so a bad file changes nothing.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.db import transaction

from qualitygov.core.models import Industry, ProductCategory, Region

DATA_DIR = Path(__file__).resolve().parent / "data"


def _read(name: str) -> dict:
    with open(DATA_DIR / name, encoding="utf-8") as handle:
        return json.load(handle)


def _upsert(model, rows: list[dict], key: str = "code") -> int:
    """Insert or update ``rows`` parents first (rows are ordered so parents precede children)."""
    existing = set(model.objects.values_list(key, flat=True))
    new = [model(**row) for row in rows if row[key] not in existing]
    old = [model(**row) for row in rows if row[key] in existing]
    model.objects.bulk_create(new, batch_size=500)
    if old:
        fields = [f for f in rows[0] if f != key]
        model.objects.bulk_update(old, fields, batch_size=500)
    return len(rows)


@transaction.atomic
def load_reference_data() -> dict[str, int]:
    """Load regions, industries and product categories; returns the count of each."""
    regions = _read("regions.json")["regions"]
    region_rows = [{"code": r["code"], "name": r["name"], "name_en": r.get("name_en", ""), "level": r["level"],
                    "kind": r["kind"], "parent_id": r["parent"], "is_development_zone": r["is_development_zone"]}
                   for r in regions]
    region_rows.sort(key=lambda r: ({"province": 0, "city": 1, "county": 2}[r["level"]], r["code"]))
    industries = _read("industries.json")["industries"]
    industry_rows = [{"code": i["code"], "name": i["name"], "name_en": i.get("name_en", ""), "level": i["level"],
                      "parent_id": i["parent"]} for i in industries]
    industry_rows.sort(key=lambda r: (r["level"] != "section", r["code"]))
    categories = _read("product_categories.json")["categories"]
    category_rows = [{"code": c["code"], "name": c["name"], "name_en": c.get("name_en", ""), "parent_id": c["parent"],
                      "industry_id": c.get("industry"), "is_key": c.get("key", True)} for c in categories]
    category_rows.sort(key=lambda r: (r["parent_id"] is not None, r["code"]))
    return {
        "regions": _upsert(Region, region_rows),
        "industries": _upsert(Industry, industry_rows),
        "product_categories": _upsert(ProductCategory, category_rows),
    }
