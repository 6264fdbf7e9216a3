"""EPCIS event hash ID (GS1 CBV 2.0 §8.9, "EPCIS event hash ID").

An EPCIS event is reduced to a *pre-hash string*: its fields in the canonical order that the algorithm
fixes, each written ``name=value`` (a structure writes its name, then its children), with

* identifiers in canonical form: EPC URNs (``urn:epc:id:…``, ``urn:epc:class:lgtin:…``,
  ``urn:epc:idpat:…``) and GS1 Digital Link URIs of any domain become
  ``https://id.gs1.org/<AI>/<value>…`` (numeric AIs, no query string, check digits computed);
* CBV words written as bare words, ``urn:epcglobal:cbv:…`` URNs or CURIEs expanded to their
  ``https://ref.gs1.org/cbv/…`` URIs, sensor words (type, exception, component) to ``https://gs1.org/voc/…``;
* timestamps in UTC, rounded to milliseconds (``2023-02-02T11:04:03.142Z``);
* the entries of every unordered list sorted (as their written strings), and user extensions (namespaced
  fields) written ``{namespace}localName=value`` after the standard fields of their structure, sorted;
* fields that do not describe what happened left out: ``eventID``, ``recordTime`` and the
  ``errorDeclaration`` (declaring an error later must not change the event's identity).

The hash ID is ``ni:///sha-256;<hex of SHA-256 of the UTF-8 pre-hash string>?ver=CBV2.0`` (RFC 6920 form).
Written from the standard's description and checked against the published test vectors of its
reference implementation (see ``tests/test_eventhash.py``). Pure functions, no Django.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from urllib.parse import quote, unquote, urlsplit

from biip.checksums import gs1_standard_check_digit

__all__ = [
    "canonical_identifier",
    "canonical_time",
    "event_hash",
    "hash_document",
    "prehash_string",
]

CBV = "https://ref.gs1.org/cbv/"
GS1_VOC = "https://gs1.org/voc/"
DL_ROOT = "https://id.gs1.org/"

# Prefixes understood without a document context (the EPCIS 2.0 context defines the first ones; cbvmda is
# the CBV master-data namespace that documents commonly declare).
DEFAULT_PREFIXES = {
    "gs1": GS1_VOC,
    "cbv": CBV,
    "epcis": "https://ref.gs1.org/epcis/",
    "cbvmda": "urn:epcglobal:cbv:mda:",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}

# CBV vocabularies: field → (URI infix, legacy URN namespace).
_BIZSTEP = ("BizStep-", "urn:epcglobal:cbv:bizstep:")
_DISP = ("Disp-", "urn:epcglobal:cbv:disp:")
_BTT = ("BTT-", "urn:epcglobal:cbv:btt:")
_SDT = ("SDT-", "urn:epcglobal:cbv:sdt:")

# Fields never part of the pre-hash (GS1 CBV 2.0 §8.9): identity and bookkeeping of the capture, and the
# error declaration, which may be added to an event after the fact.
EXCLUDED = frozenset({"eventID", "recordTime", "errorDeclaration", "type", "@context", "@id", "@type", "id"})


# --- identifiers --------------------------------------------------------------------------------------


def _check_digit(digits: str) -> str:
    """GS1 mod-10 check digit for the digits before it (biip's, GS1 General Specifications §7.9.1)."""
    return str(gs1_standard_check_digit(digits))


_DL_SAFE = "'"  # besides unreserved characters, left as they are when a path value is percent-encoded


def _dl_text(value: str) -> str:
    """A Digital Link path value from an EPC URN part: URN escapes undone, then percent-encoded once,
    uniformly."""
    return quote(unquote(value), safe=_DL_SAFE)


def _gtin(company_prefix: str, item_ref: str) -> str:
    """GTIN-14 from an EPC company prefix and an item reference whose first digit is the indicator."""
    body = item_ref[:1] + company_prefix + item_ref[1:]
    return body + _check_digit(body)


def _with_check(company_prefix: str, ref: str) -> str:
    body = company_prefix + ref
    return body + _check_digit(body)


def _epc_sgtin(p: list[str]) -> str:
    # Without a serial (an idpat class pattern) the key is the GTIN alone.
    return f"01/{_gtin(p[0], p[1])}" + (f"/21/{_dl_text(p[2])}" if len(p) > 2 else "")


def _epc_sscc(p: list[str]) -> str:
    return f"00/{_gtin(p[0], p[1])}"


def _epc_sgln(p: list[str]) -> str:
    # Extension "0" means "no extension" in the SGLN URN.
    gln = _with_check(p[0], p[1])
    return f"414/{gln}" if p[2] in ("", "0") else f"414/{gln}/254/{_dl_text(p[2])}"


def _epc_grai(p: list[str]) -> str:
    return f"8003/0{_with_check(p[0], p[1])}{_dl_text(p[2]) if len(p) > 2 else ''}"


def _epc_giai(p: list[str]) -> str:
    return f"8004/{p[0]}{_dl_text(p[1])}"


def _epc_gsrn(p: list[str]) -> str:
    return f"8018/{_with_check(p[0], p[1])}"


def _epc_gsrnp(p: list[str]) -> str:
    return f"8017/{_with_check(p[0], p[1])}"


def _epc_gdti(p: list[str]) -> str:
    return f"253/{_with_check(p[0], p[1])}{_dl_text(p[2]) if len(p) > 2 else ''}"


def _epc_sgcn(p: list[str]) -> str:
    return f"255/{_with_check(p[0], p[1])}{_dl_text(p[2]) if len(p) > 2 else ''}"


def _epc_cpi(p: list[str]) -> str:
    base = f"8010/{p[0]}{_dl_text(p[1])}"
    return base if len(p) < 3 else f"{base}/8011/{p[2]}"


def _epc_ginc(p: list[str]) -> str:
    return f"401/{p[0]}{_dl_text(p[1])}"


def _epc_gsin(p: list[str]) -> str:
    return f"402/{_with_check(p[0], p[1])}"


def _epc_itip(p: list[str]) -> str:
    base = f"8006/{_gtin(p[0], p[1])}{p[2]}{p[3]}"
    return base if len(p) < 5 else f"{base}/21/{_dl_text(p[4])}"


def _epc_upui(p: list[str]) -> str:
    return f"01/{_gtin(p[0], p[1])}/235/{_dl_text(p[2])}"


def _epc_pgln(p: list[str]) -> str:
    return f"417/{_with_check(p[0], p[1])}"


def _epc_lgtin(p: list[str]) -> str:
    return f"01/{_gtin(p[0], p[1])}/10/{_dl_text(p[2])}"


# scheme → (number of dot-separated components, converter)
_EPC_ID: dict[str, tuple[int, Callable[[list[str]], str]]] = {
    "sgtin": (3, _epc_sgtin),
    "sscc": (2, _epc_sscc),
    "sgln": (3, _epc_sgln),
    "grai": (3, _epc_grai),
    "giai": (2, _epc_giai),
    "gsrn": (2, _epc_gsrn),
    "gsrnp": (2, _epc_gsrnp),
    "gdti": (3, _epc_gdti),
    "cpi": (3, _epc_cpi),
    "sgcn": (3, _epc_sgcn),
    "ginc": (2, _epc_ginc),
    "gsin": (2, _epc_gsin),
    "itip": (5, _epc_itip),
    "upui": (3, _epc_upui),
    "pgln": (2, _epc_pgln),
}
# Class-level patterns (last component "*") that name a GS1 class key: the key without its serial.
_EPC_IDPAT = {"sgtin", "grai", "gdti", "sgcn", "cpi", "itip"}

# GS1 Digital Link: short names of AIs, primary keys and the fixed length of numeric keys.
_DL_SHORT = {
    "gtin": "01",
    "itip": "8006",
    "cpv": "22",
    "lot": "10",
    "ser": "21",
    "cpsn": "8011",
    "sscc": "00",
    "gln": "414",
    "glnx": "254",
    "party": "417",
    "grai": "8003",
    "giai": "8004",
    "gsrn": "8018",
    "gsrnp": "8017",
    "gdti": "253",
    "gcn": "255",
    "ginc": "401",
    "gsin": "402",
    "cpid": "8010",
    "gmn": "8013",
    "srin": "8019",
    "upui": "235",
    "tpx": "235",
}
_DL_PRIMARY = {
    "01",
    "00",
    "414",
    "417",
    "8003",
    "8004",
    "8018",
    "8017",
    "253",
    "255",
    "401",
    "402",
    "8010",
    "8006",
    "8013",
}
_DL_QUALIFIERS = {"22", "10", "21", "235", "254", "8011", "8019", "7040"}
_DL_NUMERIC = {
    "01": (8, 12, 13, 14),
    "00": (18,),
    "414": (13,),
    "417": (13,),
    "8018": (18,),
    "8017": (18,),
    "402": (17,),
}


def _canonical_epc_urn(value: str) -> str | None:
    match = re.fullmatch(r"urn:epc:(id|idpat|class):([a-z]+):(.*)", value)
    if not match:
        return None
    kind, scheme, rest = match.groups()
    parts = rest.split(".")
    if kind == "class":
        if scheme != "lgtin" or len(parts) != 3:
            return None
        return DL_ROOT + _epc_lgtin(parts)
    if scheme not in _EPC_ID or len(parts) != _EPC_ID[scheme][0]:
        return None
    if kind == "idpat":
        # Only "company.reference.…*" patterns identify a class; "*" in an earlier position names no key.
        if scheme not in _EPC_IDPAT or parts[-1] != "*" or "*" in parts[:-1]:
            return None
        parts = parts[:-1]
    try:
        return DL_ROOT + _EPC_ID[scheme][1](parts)
    except (IndexError, ValueError):
        return None


# A Digital Link on id.gs1.org whose path holds only numeric AIs and unreserved characters (letters,
# digits, "." and "-"), no query or fragment: what capture sees nearly always. For it, splitting the URI
# (urlsplit) gives exactly the "/"-separated path, and undoing and redoing the percent-encoding changes
# nothing (there is no "%" to undo, and quote() keeps these characters), so those steps are skipped;
# the checks of AIs, order and lengths are the same code. Tests compare both paths.
_PLAIN_DL = re.compile(r"https://id\.gs1\.org((?:/[0-9]+/[A-Za-z0-9.\-]+)+)\Z")


def _canonical_digital_link(value: str) -> str | None:
    plain = _PLAIN_DL.match(value)
    if plain is not None:
        return _canonical_dl_path(plain.group(1)[1:].split("/"), plain=True)
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return _canonical_dl_path([s for s in parts.path.split("/") if s], plain=False)


def _canonical_dl_path(segments: list[str], *, plain: bool) -> str | None:
    """The canonical Digital Link of a URI's path segments (``plain``: no percent-escapes to read)."""
    # A Digital Link may sit under a path prefix: the identifier starts at the first primary-key AI.
    start = next((i for i, s in enumerate(segments) if _DL_SHORT.get(s, s) in _DL_PRIMARY), None)
    if start is None:
        return None
    pairs = segments[start:]
    if len(pairs) % 2:
        return None
    out = []
    for i in range(0, len(pairs), 2):
        ai = _DL_SHORT.get(pairs[i], pairs[i])
        if i == 0 and ai not in _DL_PRIMARY or i > 0 and ai not in _DL_QUALIFIERS:
            return None
        key = pairs[i + 1] if plain else unquote(pairs[i + 1])
        if ai in _DL_NUMERIC:
            if not key.isdigit() or len(key) not in _DL_NUMERIC[ai]:
                return None
            if ai == "01":
                key = key.zfill(14)
        # The segment was percent-decoded once above: encode it once (decoding it again would read a
        # literal "%41" in a serial as "A", and the event would hash differently from its EPC URN form).
        out.append(f"{ai}/{key if plain else quote(key, safe=_DL_SAFE)}")
    return DL_ROOT + "/".join(out)


# A pure function of its string (module constants only, immutable result): the same locations, parties
# and class keys recur in thousands of events of a capture, so each is parsed once (bounded memory).
@lru_cache(maxsize=50_000)
def canonical_identifier(value: str) -> str:
    """The canonical form of an identifier for the pre-hash: EPC URNs and GS1 Digital Link URIs (any
    domain, short or numeric AI names, with or without query string) become ``https://id.gs1.org/…``;
    anything else (other URIs, ``geo:`` points, ``urn:epcglobal:cbv:bt:…`` transaction IDs) is unchanged."""
    if value.startswith("urn:epc:"):
        return _canonical_epc_urn(value) or value
    if value.startswith(("http://", "https://")):
        return _canonical_digital_link(value) or value
    return value


# --- vocabularies, times, numbers ---------------------------------------------------------------------


def _expand_curie(value: str, prefixes: dict[str, str]) -> str:
    prefix, sep, local = value.partition(":")
    if sep and prefix in prefixes and not local.startswith("//"):
        return prefixes[prefix] + local
    return value


def _cbv(value: str, vocab: tuple[str, str], prefixes: dict[str, str]) -> str:
    infix, urn = vocab
    if value.startswith(urn):
        return CBV + infix + value[len(urn) :]
    if ":" not in value:
        return CBV + infix + value
    return _expand_curie(value, prefixes)


def _gs1_word(value: str, prefixes: dict[str, str]) -> str:
    if ":" not in value:
        return GS1_VOC + value
    return _expand_curie(value, prefixes)


_TIME = re.compile(r"(\d{4}-\d{2}-\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})?")


def canonical_time(value: str) -> str:
    """An xsd:dateTime as UTC with exactly three fractional digits, rounded half up to the millisecond
    (``2023-02-02T11:04:03.1415Z`` → ``2023-02-02T11:04:03.142Z``). A time without offset is taken as UTC."""
    match = _TIME.fullmatch(value.strip())
    if not match:
        raise ValueError(f"不是有效的 EPCIS 时间戳：{value!r}")
    day, hour, minute, second, fraction, zone = match.groups()
    tz = UTC
    if zone and zone != "Z":
        sign = -1 if zone[0] == "-" else 1
        tz = timezone(sign * timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6])))
    base = datetime.fromisoformat(f"{day}T{hour}:{minute}:{second}").replace(tzinfo=tz)
    millis = int((Decimal(fraction or ".0") * 1000).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    utc = (base + timedelta(milliseconds=millis)).astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def _number(value) -> str:
    """Numbers as written in the vectors: integral values without a fraction (26, not 26.0)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


# --- the pre-hash -------------------------------------------------------------------------------------


def _is_extension(key: str) -> bool:
    return not key.startswith("@") and (":" in key)


def _ext_name(key: str, prefixes: dict[str, str]) -> str:
    """``prefix:local`` or a full IRI as ``{namespace}local``."""
    if "://" in key or key.startswith("urn:"):
        cut = max(key.rfind("/"), key.rfind("#"), key.rfind(":") if key.startswith("urn:") else -1)
        return "{" + key[: cut + 1] + "}" + key[cut + 1 :]
    prefix, _, local = key.partition(":")
    return "{" + prefixes.get(prefix, prefix + ":") + "}" + local


def _ext_value(value) -> str:
    if isinstance(value, str):
        return canonical_identifier(value)
    return _number(value)


def _extension(name: str, value, prefixes: dict[str, str]) -> list[str]:
    """One user extension field as sorted pre-hash pieces (a list repeats the field for each value)."""
    if isinstance(value, dict) and "@value" in value:
        value = value["@value"]
    if isinstance(value, list):
        return sorted(p for item in value for p in _extension(name, item, prefixes))
    if isinstance(value, dict):
        children = _extensions(value, prefixes, include_all=True)
        return [name + "".join(children)]
    return [f"{name}={_ext_value(value)}"]


def _extensions(obj: dict, prefixes: dict[str, str], include_all: bool = False) -> list[str]:
    """The user extensions of a structure, sorted; ``include_all`` takes every key (inside ILMD and
    inside an extension all fields belong to the user)."""
    pieces = []
    for key, value in obj.items():
        if include_all and not key.startswith("@") or _is_extension(key):
            pieces.extend(_extension(_ext_name(key, prefixes), value, prefixes))
    return sorted(pieces)


def _field(name: str, value, convert: Callable[[str], str] = canonical_identifier) -> str:
    return f"{name}={convert(value) if isinstance(value, str) else _number(value)}"


def _id_list(name: str, item: str, values: Iterable[str]) -> str:
    return name + "".join(sorted(f"{item}={canonical_identifier(v)}" for v in values))


def _quantity_list(name: str, elements: Iterable[dict]) -> str:
    pieces = []
    for element in elements:
        text = "quantityElement"
        if "epcClass" in element:
            text += _field("epcClass", element["epcClass"])
        for key in ("quantity", "uom"):
            if key in element:
                text += _field(key, element[key], str)
        pieces.append(text)
    return name + "".join(sorted(pieces))


def _typed_list(name: str, item: str, entries: Iterable[dict], vocab, prefixes) -> str:
    pieces = []
    for entry in entries:
        text = ""
        if "type" in entry:
            text += "type=" + _cbv(entry["type"], vocab, prefixes)
        if item in entry:
            text += _field(item, entry[item])
        pieces.append(text + "".join(_extensions(entry, prefixes)))
    return name + "".join(sorted(pieces))


def _location(name: str, value: dict, prefixes) -> str:
    text = name + (_field("id", value["id"]) if "id" in value else "")
    return text + "".join(_extensions(value, prefixes))


_METADATA_ORDER = (
    "time",
    "startTime",
    "endTime",
    "deviceID",
    "deviceMetadata",
    "rawData",
    "dataProcessingMethod",
    "bizRules",
)
_REPORT_ORDER = (
    "type",
    "exception",
    "deviceID",
    "deviceMetadata",
    "rawData",
    "dataProcessingMethod",
    "time",
    "microorganism",
    "chemicalSubstance",
    "value",
    "component",
    "stringValue",
    "booleanValue",
    "hexBinaryValue",
    "uriValue",
    "minValue",
    "maxValue",
    "meanValue",
    "sDev",
    "percRank",
    "percValue",
    "uom",
    "coordinateReferenceSystem",
)
_TIMES = {"time", "startTime", "endTime"}
_GS1_WORDS = {"type", "exception", "component"}
_IDENTIFIERS = {"deviceID", "deviceMetadata", "rawData", "dataProcessingMethod", "bizRules", "uriValue"}


def _sensor_part(name: str, obj: dict, order: tuple[str, ...], prefixes) -> str:
    text = name
    for key in order:
        if key not in obj:
            continue
        value = obj[key]
        if key in _TIMES:
            text += f"{key}={canonical_time(value)}"
        elif key in _GS1_WORDS:
            text += f"{key}={_gs1_word(value, prefixes)}"
        elif key in _IDENTIFIERS:
            text += _field(key, value)
        else:
            text += _field(key, value, str)
    return text + "".join(_extensions(obj, prefixes))


def _sensor_list(elements: Iterable[dict], prefixes) -> str:
    pieces = []
    for element in elements:
        text = "sensorElement"
        if "sensorMetadata" in element:
            text += _sensor_part("sensorMetadata", element["sensorMetadata"], _METADATA_ORDER, prefixes)
        reports = element.get("sensorReport") or []
        text += "".join(sorted(_sensor_part("sensorReport", r, _REPORT_ORDER, prefixes) for r in reports))
        pieces.append(text + "".join(_extensions(element, prefixes)))
    return "sensorElementList" + "".join(sorted(pieces))


def _persistent_disposition(value: dict, prefixes) -> str:
    text = "persistentDisposition"
    for key in ("set", "unset"):
        text += "".join(sorted(f"{key}={_cbv(v, _DISP, prefixes)}" for v in value.get(key) or []))
    return text


def _prefixes(context) -> dict[str, str]:
    """Namespace prefixes declared in a JSON-LD ``@context`` (a dict, a list of dicts and URLs, or None)."""
    found = dict(DEFAULT_PREFIXES)
    items = context if isinstance(context, list) else [context]
    for item in items:
        if isinstance(item, dict):
            found.update({k: v for k, v in item.items() if isinstance(v, str) and not k.startswith("@")})
    return found


def prehash_string(event: dict, context: dict | list | None = None) -> str:
    """The pre-hash string of one EPCIS 2.0 JSON-LD event (GS1 CBV 2.0 §8.9).

    ``context`` is the ``@context`` of the enclosing EPCISDocument (or just its prefix dict): it tells
    which namespace a user-extension prefix such as ``example:`` stands for. An ``@context`` on the event
    itself is honoured as well. Raises ``ValueError`` for an event without a ``type`` or with an invalid
    timestamp."""
    if not isinstance(event, dict) or not event.get("type"):
        raise ValueError("事件缺少类型（type）字段，无法计算事件哈希。")
    prefixes = _prefixes(context)
    if "@context" in event:
        prefixes.update(_prefixes(event["@context"]))
    e = event
    out = [f"eventType={e['type']}"]
    if "eventTime" in e:
        out.append(f"eventTime={canonical_time(e['eventTime'])}")
    if "eventTimeZoneOffset" in e:
        out.append(f"eventTimeZoneOffset={e['eventTimeZoneOffset']}")
    if "certificationInfo" in e:
        infos = e["certificationInfo"]
        infos = infos if isinstance(infos, list) else [infos]
        out.append("".join(sorted(_field("certificationInfo", v) for v in infos)))
    if "parentID" in e:
        out.append(_field("parentID", e["parentID"]))
    for name in (
        "epcList",
        "inputEPCList",
        "childEPCs",
        "quantityList",
        "childQuantityList",
        "inputQuantityList",
        "outputEPCList",
        "outputQuantityList",
    ):
        if name not in e:
            continue
        if name.endswith("QuantityList") or name == "quantityList":
            out.append(_quantity_list(name, e[name]))
        else:
            out.append(_id_list(name, "epc", e[name]))
    if "action" in e:
        out.append(f"action={e['action']}")
    if "transformationID" in e:
        out.append(_field("transformationID", e["transformationID"]))
    if "bizStep" in e:
        out.append("bizStep=" + _cbv(e["bizStep"], _BIZSTEP, prefixes))
    if "disposition" in e:
        out.append("disposition=" + _cbv(e["disposition"], _DISP, prefixes))
    if "persistentDisposition" in e:
        out.append(_persistent_disposition(e["persistentDisposition"], prefixes))
    for name in ("readPoint", "bizLocation"):
        if name in e:
            out.append(_location(name, e[name], prefixes))
    if "bizTransactionList" in e:
        out.append(
            _typed_list("bizTransactionList", "bizTransaction", e["bizTransactionList"], _BTT, prefixes)
        )
    # The published vectors place destinationList before sourceList.
    if "destinationList" in e:
        out.append(_typed_list("destinationList", "destination", e["destinationList"], _SDT, prefixes))
    if "sourceList" in e:
        out.append(_typed_list("sourceList", "source", e["sourceList"], _SDT, prefixes))
    if "sensorElementList" in e:
        out.append(_sensor_list(e["sensorElementList"], prefixes))
    if "ilmd" in e:
        out.append("ilmd" + "".join(_extensions(e["ilmd"], prefixes, include_all=True)))
    out.extend(_extensions({k: v for k, v in e.items() if k not in EXCLUDED}, prefixes))
    return "".join(out)


def _ni(prehash: str) -> str:
    return f"ni:///sha-256;{hashlib.sha256(prehash.encode('utf-8')).hexdigest()}?ver=CBV2.0"


def event_hash(event: dict, context: dict | list | None = None) -> str:
    """The EPCIS event hash ID of one event: ``ni:///sha-256;<hex>?ver=CBV2.0`` (GS1 CBV 2.0 §8.9)."""
    return _ni(prehash_string(event, context))


def _events(document: dict) -> list[dict]:
    body = document.get("epcisBody") or {}
    if "eventList" in body:
        return body["eventList"] or []
    # An EPCISQueryDocument carries its events under queryResults.resultsBody.
    return ((body.get("queryResults") or {}).get("resultsBody") or {}).get("eventList") or []


def hash_document(document: dict) -> list[str]:
    """The hash IDs of every event of an EPCISDocument (or EPCISQueryDocument), in document order."""
    context = document.get("@context")
    return [event_hash(event, context) for event in _events(document)]
