"""Similar cases (issue 6, item 7): a new submission is compared with the open cases, and likely
duplicates are offered for merging.

How a case is compared
    Its text (product name and facts) is segmented into Chinese words with jieba (``segment``: precise
    mode, a small stop-word list, no single characters, punctuation or bare numbers) without the words
    that only say who the respondent is (``comparison_words``, below) and weighted by TF-IDF (sublinear term frequency × smoothed inverse document frequency,
    the weighting of scikit-learn's ``TfidfVectorizer``), each case vector of length 1. The score of a
    candidate is the cosine of the two vectors plus ``RESPONDENT_BOOST`` when the respondent is the
    same registry entity and ``PRODUCT_BOOST`` when the product is the same registry product. Reasons
    name what matched: "同一被投诉人", "同一产品", and the shared words with the largest weight.

Names are not evidence of the same facts
    Every complaint against a company names it, so two unrelated complaints about different products of
    one company would share its name's words and look alike. The words of the respondent's name and
    address and of the platform's name (``name_words``: jieba's precise and search-mode words of each,
    so "长春" of "长春市" goes too; ``case_names``) are dropped from a case's stored words
    (``terms_for``) and from a query's (``find_similar``); the names themselves are cut out of the text
    before it is segmented. The same respondent counts once, as the boost: the same registry entity, or
    — for a respondent typed by name, without an entity on one side — the same name (compared without
    spaces and punctuation) among the candidates the text found. The address is dropped with
    the name. Measured on 30,000 generated cases (the benchmark's texts, which name each respondent with
    its address; 400 pairs each, 2026-12-01): two complaints about different products of one respondent
    had a median text cosine of 0.78 with name and address counted and 0.02 without (95th percentile
    0.16; 1 pair in 400 reached ``DUPLICATE_MIN_TEXT``), while a reworded complaint about the same
    product and defects had 0.36 or more (median 0.66). The organisational-form words of enterprise names
    (``ORGANISATION_FORMS``: 有限公司, 公司, 股份, 集团, 经营部, 个体工商户 …; the last part of a name under
    《企业名称登记管理规定》(国务院令第734号, 2020) Art. 6 — 行政区划名称、字号、行业或者经营特点、组织形式) are
    never evidence and are dropped from every text. Words of a business's kind (超市, 商店, 专卖店 …) are
    dropped only as part of a name: "在超市买的" in the facts of a complaint against a manufacturer
    describes where the product was bought.

Likely duplicate
    A candidate is flagged "likely duplicate" only when its score is at least ``LIKELY_DUPLICATE`` *and*
    its text cosine alone (names excluded, no boosts) is at least ``DUPLICATE_MIN_TEXT``: the boosts for
    the same respondent and product rank candidates, but a duplicate needs the same facts told again.
    A complaint about another product of the same company is at most "similar".

The index (``SimilarityIndex``)
    An inverted index in process memory: the case vectors as a compressed sparse column matrix
    (one column per word, the cases that contain it as rows). A query reads only the posting lists of
    its own selective words and the rows of the same respondent or product (sorted arrays, found by
    binary search) to find candidates, then scores the best few hundred exactly, looking up its common
    words (those in more than ``COMMON_SHARE`` of the cases) in their sorted lists by binary search —
    never every case. That keeps a lookup among 1,000,000 cases to milliseconds
    (``bench/bench_similarity.py``); a case sharing only common words with the query is not offered. New cases are added to a small delta segment scanned
    directly; ``qualitygov complaints-index`` rebuilds the whole index from the open cases and writes a
    snapshot (``COMPLAINTS_SIMILARITY_INDEX_DIR``) that every process loads when it first needs the index.

Freshness and a cold start
    Before each lookup the index catches up with the cases created since it was built (one indexed
    query on the primary key; their words are segmented and stored in ``Case.terms`` when missing) and
    checks that its newest case still exists unchanged (a database restored or rolled back makes it
    rebuild). Candidates are re-read from the database, so a case closed or merged since the index was
    built is never offered. When no snapshot exists and there are more open cases than
    ``COMPLAINTS_SIMILARITY_COLD_BUILD_MAX`` (too many to index during a request), a lookup falls back to
    a candidate set read from the database — the open cases of the same respondent or product and the
    most recent open cases — scored the same way among themselves; older cases of other respondents
    are then missed until the index is built.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import shutil
import threading
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from scipy import sparse

from qualitygov.complaints.models import Case, CaseEvent
from qualitygov.core import audit
from qualitygov.core.roles import CHANGE, VIEW

__all__ = ["CLOSED_STATUSES", "DUPLICATE_MIN_TEXT", "LIKELY_DUPLICATE", "ORGANISATION_FORMS", "PRODUCT_BOOST",
           "PROGRESS", "RESPONDENT_BOOST", "MergeRefused", "Similar", "SimilarityIndex", "build_from_database",
           "case_names", "case_text", "comparison_words", "find_similar", "find_similar_to_case", "get_index",
           "is_likely_duplicate", "merge", "merge_order", "name_words", "progress", "refresh_terms",
           "reset_index", "segment", "terms_for"]

logger = logging.getLogger(__name__)

RESPONDENT_BOOST = 0.25
PRODUCT_BOOST = 0.15
LIKELY_DUPLICATE = 0.6
# The text cosine (names excluded, without boosts) a likely duplicate needs besides its score: the same
# respondent and product alone (0.4 of boosts) must not make two different stories a duplicate.
DUPLICATE_MIN_TEXT = 0.35
SHARED_WORDS_SHOWN = 5
CLOSED_STATUSES = (Case.Status.REJECTED, Case.Status.NOT_FILED, Case.Status.CLOSED, Case.Status.MERGED)
FALLBACK_RECENT = 2000      # recent open cases read when the index is cold
FALLBACK_SAME = 2000        # open cases of the same respondent / product read when the index is cold
# A word in more than this share of the cases is "common": read only to rescore candidates (``query``).
COMMON_SHARE = 0.01
COMMON_MIN = 1000
RESCORE = 200
# Above n / DENSE_FRACTION postings the candidates are accumulated in a dense array instead of sorted.
DENSE_FRACTION = 64
DELTA_MAX = 5000            # new cases kept in the delta segment before it is folded into the matrix

# Function words and complaint boilerplate that say nothing about which case a text is about.
STOP_WORDS = frozenset("""
的 了 和 是 在 我 你 他 她 它 我们 你们 他们 这 那 这个 那个 一个 有 没有 也 都 就 还 又 很 被 把 对 与 及 及其 或
或者 等 等等 但 但是 而且 并且 因为 所以 如果 虽然 然后 已经 现在 当时 之后 以后 之前 以前 其 其中 此 该 本人 本
自己 什么 怎么 如何 为什么 哪里 可以 可能 需要 进行 相关 问题 情况 要求 希望 请求 请 麻烦 谢谢 您好 你好 一下
一直 目前 时候 时间 今天 昨天 非常 比较 特别 各种 以及 通过 关于 对于 由于 按照 根据 一些 这些 那些 没 不 不是
到 从 向 给 让 使 将 为 以 于 上 下 中 里 后 前 时 年 月 日 号 元 个 次 件 位 家 称 说 称其 表示 发现 反映 投诉 举报
""".split())
# The organisational forms of enterprise and business names (《企业名称登记管理规定》, 国务院令第734号,
# Art. 6; 个体工商户 names under 《促进个体工商户发展条例》): who the respondent is, never what happened.
ORGANISATION_FORMS = frozenset("""
有限公司 有限责任公司 有限责任 股份有限公司 股份公司 股份 有限 公司 分公司 子公司 总公司 集团 集团公司 集团股份 控股
合伙 合伙企业 普通合伙 有限合伙 个人独资 独资 企业 个体 个体户 工商户 个体工商户 经营部 门市部 营业部 分店 分部 商行
""".split())
_WORD = re.compile(r"[\u3400-\u9fffA-Za-z]")

_jieba_lock = threading.Lock()
_tokenizer = None


def _get_tokenizer():
    """jieba's tokenizer, loaded once per process and quietly (its dictionary load logs at INFO)."""
    global _tokenizer
    if _tokenizer is None:
        with _jieba_lock:
            if _tokenizer is None:
                import jieba

                jieba.setLogLevel(logging.WARNING)
                tokenizer = jieba.Tokenizer()
                tokenizer.initialize()
                _tokenizer = tokenizer
    return _tokenizer


def _keep(token: str) -> bool:
    return len(token) >= 2 and token not in STOP_WORDS and token not in ORGANISATION_FORMS and bool(_WORD.search(token))


def segment(text: str) -> list[str]:
    """The words of ``text`` for comparison: jieba precise mode, lower-cased, without stop words, the
    organisational-form words of names (``ORGANISATION_FORMS``), single characters, punctuation and bare
    numbers."""
    if not text:
        return []
    return [token for token in (t.strip().lower() for t in _get_tokenizer().lcut(text)) if _keep(token)]


def name_words(*names: str) -> frozenset[str]:
    """The words of respondent and platform names that are not evidence of the same facts: each name's
    words in jieba's precise mode and its search mode (the shorter words inside longer ones: "长春" of
    "长春市", "部件" of "零部件"), filtered like ``segment``."""
    tokenizer = _get_tokenizer()
    words: set[str] = set()
    for name in names:
        if name and name.strip():
            words.update(t.strip().lower() for t in tokenizer.lcut(name))
            words.update(t.strip().lower() for t in tokenizer.lcut_for_search(name))
    return frozenset(w for w in words if _keep(w))


def comparison_words(text: str, names: Iterable[str] = ()) -> list[str]:
    """The words of ``text`` that are compared: ``segment`` of the text with the ``names`` (respondent,
    platform) cut out, without the names' words (``name_words``) — a name written apart or only in
    part in the facts is dropped too."""
    names = sorted({n.strip() for n in names if n and n.strip()}, key=len, reverse=True)
    for name in names:  # longest first: a short name inside a longer one is cut after it
        text = text.replace(name, " ")
    drop = name_words(*names)
    return [w for w in segment(text) if w not in drop]


def case_text(case: Case) -> str:
    """The text of a case that is compared: respondent, product and the facts (the respondent's and the
    platform's names are removed by ``comparison_words``)."""
    return " ".join(part for part in (case.respondent_name, case.product_name, case.facts) if part)


def case_names(case: Case) -> list[str]:
    """What says who a case is against: the respondent's name and address and the platform's name as
    entered, and the registered names (and the respondent's registered address) of the linked registry
    entities."""
    names = [case.respondent_name, case.respondent_address, case.platform_name]
    if case.respondent_entity_id and case.respondent_entity is not None:
        names += [case.respondent_entity.name, case.respondent_entity.address]
    if case.platform_entity_id and case.platform_entity is not None:
        names.append(case.platform_entity.name)
    return [name for name in names if name]


def terms_for(case: Case) -> str:
    """The value for ``Case.terms``: the compared words of the case's text (``comparison_words`` without
    its respondent's and platform's names), separated by spaces."""
    return " ".join(comparison_words(case_text(case), case_names(case)))


# --------------------------------------------------------------------------------------------------
# The index


def _member(sorted_values: np.ndarray, members: np.ndarray) -> np.ndarray:
    """Which of ``sorted_values`` are in ``members`` (binary search; both small or sorted)."""
    if not len(members):
        return np.zeros(len(sorted_values), dtype=bool)
    members = np.sort(members)
    pos = np.minimum(np.searchsorted(members, sorted_values), len(members) - 1)
    return members[pos] == sorted_values


class SimilarityIndex:
    """TF-IDF vectors of many cases as an inverted index (CSC matrix) plus a small delta of new cases."""

    def __init__(self, case_ids, respondents, products, vocab: dict[str, int], idf, indptr, indices, data,
                 max_case_id: int = 0, max_created: str = ""):
        self.case_ids = np.asarray(case_ids, dtype=np.int64)
        self.respondents = np.asarray(respondents, dtype=np.int64)
        self.products = np.asarray(products, dtype=np.int64)
        self.vocab = vocab
        self.idf = np.asarray(idf, dtype=np.float64)
        self.indptr, self.indices, self.data = indptr, indices, data
        self._resp_order = np.argsort(self.respondents, kind="stable")
        self._resp_sorted = self.respondents[self._resp_order]
        self._prod_order = np.argsort(self.products, kind="stable")
        self._prod_sorted = self.products[self._prod_order]
        self.max_case_id, self.max_created = max_case_id, max_created
        # New cases since the build: (case id, respondent, product, {word: weight}); words the build did not
        # see get their IDF from their document frequency in the delta.
        self.delta: list[tuple[int, int, int, dict[str, float]]] = []
        self.delta_df: Counter = Counter()
        self.built_at = time.time()

    def __len__(self) -> int:
        return len(self.case_ids) + len(self.delta)

    @classmethod
    def from_documents(cls, case_ids: Sequence[int], documents: Iterable[Sequence[str]],
                       respondents: Sequence[int | None], products: Sequence[int | None],
                       **kwargs) -> SimilarityIndex:
        """Build from segmented documents (one list of words per case, in the order of ``case_ids``)."""
        vocab: dict[str, int] = {}
        lookup = vocab.setdefault
        cols: list[int] = []
        lengths: list[int] = []
        for words in documents:
            before = len(cols)
            cols.extend(lookup(w, len(vocab)) for w in words)
            lengths.append(len(cols) - before)
        n = len(lengths)
        rows = np.repeat(np.arange(n, dtype=np.int32), lengths)
        counts = sparse.csr_matrix((np.ones(len(cols), dtype=np.float32), (rows, np.asarray(cols, dtype=np.int32))),
                                   shape=(n, max(1, len(vocab))))
        counts.sum_duplicates()
        df = np.bincount(counts.indices, minlength=counts.shape[1])
        idf = np.log((1.0 + n) / (1.0 + df)) + 1.0
        counts.data = ((1.0 + np.log(counts.data)) * idf[counts.indices]).astype(np.float32)
        norms = np.sqrt(np.asarray(counts.multiply(counts).sum(axis=1)).ravel())
        norms[norms == 0] = 1.0
        counts = sparse.diags((1.0 / norms).astype(np.float32)) @ counts
        csc = counts.tocsc()
        csc.sort_indices()  # posting lists in row order: ``query`` binary-searches them
        return cls(case_ids, [-1 if r is None else r for r in respondents], [-1 if p is None else p for p in products],
                   vocab, idf, csc.indptr.astype(np.int64), csc.indices.astype(np.int32), csc.data.astype(np.float32),
                   **kwargs)

    def idf_for(self, word: str) -> float:
        """The word's IDF: from the build, or for a word new since then from its count in the delta."""
        col = self.vocab.get(word)
        if col is not None:
            return float(self.idf[col])
        return math.log((1.0 + len(self.case_ids)) / (1.0 + self.delta_df.get(word, 0))) + 1.0

    def vector(self, words: Sequence[str]) -> dict[str, float]:
        """Unit-length TF-IDF weights of a text's words (sublinear term frequency)."""
        weights = {w: (1.0 + math.log(tf)) * self.idf_for(w) for w, tf in Counter(words).items()}
        norm = math.sqrt(sum(v * v for v in weights.values()))
        return {w: v / norm for w, v in weights.items()} if norm else {}

    def _columns(self, qvec: dict[str, float]) -> tuple[np.ndarray, np.ndarray]:
        known = [(self.vocab[w], v) for w, v in qvec.items() if w in self.vocab]
        return (np.asarray([c for c, _ in known], dtype=np.int64), np.asarray([v for _, v in known], dtype=np.float64))

    def add(self, case_id: int, words: Sequence[str], respondent: int | None, product: int | None) -> None:
        """Add a new case to the delta segment (scanned directly by ``query``)."""
        self.delta_df.update(set(words))
        self.delta.append((case_id, -1 if respondent is None else respondent, -1 if product is None else product,
                           self.vector(words)))

    def _same(self, sorted_values, order, value) -> np.ndarray:
        if value is None or value < 0:
            return np.empty(0, dtype=np.int64)
        lo, hi = np.searchsorted(sorted_values, [value, value + 1])
        return order[lo:hi]

    def query(self, words: Sequence[str], *, respondent: int | None = None, product: int | None = None,
              limit: int = 20) -> list[tuple[int, float, float, bool, bool]]:
        """Top ``limit`` cases as (case id, score, text cosine, same respondent, same product), best first.

        Two phases, so that a lookup reads only short posting lists: candidates are the cases sharing a
        selective word of the query (one in at most ``COMMON_SHARE`` of the cases) or its respondent or
        product; the best ``RESCORE`` of them by that partial score are then scored exactly, the common
        words' weights found in their (sorted) posting lists by binary search. A case sharing only common
        words with the query is not a candidate — its cosine is small (low IDF) — unless the query has no
        selective word at all, when the common words' lists are read."""
        qvec = self.vector(words)
        cols, qvals = self._columns(qvec)
        n = len(self.case_ids)
        lengths = (self.indptr[cols + 1] - self.indptr[cols]) if len(cols) else np.empty(0, dtype=np.int64)
        common = lengths > max(COMMON_MIN, COMMON_SHARE * n)
        if not (~common).any() and respondent is None and product is None:
            common[:] = False  # only common words: read their lists
        parts_rows, parts_vals = [], []
        for col, weight in zip(cols[~common], qvals[~common], strict=True):
            start, end = self.indptr[col], self.indptr[col + 1]
            parts_rows.append(np.asarray(self.indices[start:end]))
            parts_vals.append(np.asarray(self.data[start:end]) * weight)
        same_resp = self._same(self._resp_sorted, self._resp_order, respondent)
        same_prod = self._same(self._prod_sorted, self._prod_order, product)
        rows = np.concatenate([*parts_rows, same_resp, same_prod]).astype(np.int64) if n else np.empty(0, np.int64)
        vals = np.concatenate([*parts_vals, np.zeros(len(same_resp) + len(same_prod))]) if n else np.empty(0)
        if len(rows) > n // DENSE_FRACTION:
            # Many postings: accumulate in a dense array (cheaper than sorting them).
            dense = np.bincount(rows, weights=vals, minlength=n)
            touched = np.zeros(n, dtype=bool)
            touched[rows] = True
            candidates = np.flatnonzero(touched)
            partial = dense[candidates]
        else:
            candidates, inverse = np.unique(rows, return_inverse=True)
            partial = np.bincount(inverse, weights=vals, minlength=len(candidates)) if len(candidates) else np.zeros(0)
        is_resp, is_prod = _member(candidates, same_resp), _member(candidates, same_prod)
        boost = RESPONDENT_BOOST * is_resp + PRODUCT_BOOST * is_prod
        keep = max(RESCORE, limit)
        if len(candidates) > keep:
            top = np.argpartition(-(partial + boost), keep - 1)[:keep]
            candidates, partial, boost = candidates[top], partial[top], boost[top]
            is_resp, is_prod = is_resp[top], is_prod[top]
        text = partial.copy()
        # Same dtype as the posting lists: a mixed-type search would copy each (long) list first.
        needles = candidates.astype(self.indices.dtype)
        for col, weight in zip(cols[common], qvals[common], strict=True):
            start, end = self.indptr[col], self.indptr[col + 1]
            posting = self.indices[start:end]
            pos = np.searchsorted(posting, needles)
            pos_ok = np.minimum(pos, len(posting) - 1)
            hit = (pos < len(posting)) & (np.asarray(posting[pos_ok]) == needles)
            text[hit] += np.asarray(self.data[start:end])[pos_ok[hit]] * weight
        score = text + boost
        order = np.argsort(-score, kind="stable")[:limit]
        found = [(int(self.case_ids[candidates[i]]), float(score[i]), float(text[i]), bool(is_resp[i]),
                  bool(is_prod[i])) for i in order.tolist() if score[i] > 0]
        # The delta segment: a direct scan of the few cases added since the build.
        for case_id, resp, prod, dvec in self.delta:
            cosine = sum(qvec.get(w, 0.0) * v for w, v in dvec.items())
            d_resp = respondent is not None and respondent >= 0 and resp == respondent
            d_prod = product is not None and product >= 0 and prod == product
            total = cosine + (RESPONDENT_BOOST if d_resp else 0.0) + (PRODUCT_BOOST if d_prod else 0.0)
            if total > 0:
                found.append((case_id, total, cosine, d_resp, d_prod))
        found.sort(key=lambda row: (-row[1], -row[0]))
        return found[:limit]

    def brute_force(self, words: Sequence[str], *, limit: int = 20) -> list[tuple[int, float]]:
        """Cosine against every case vector (the benchmark's baseline; not used by the platform)."""
        cols, qvals = self._columns(self.vector(words))
        q = np.zeros(len(self.idf), dtype=np.float32)
        q[cols] = qvals
        matrix = self._csr()
        scores = matrix @ q
        top = np.argpartition(-scores, limit - 1)[:limit]
        return sorted(((int(self.case_ids[r]), float(scores[r])) for r in top), key=lambda row: -row[1])

    def _csr(self):
        if getattr(self, "_csr_cache", None) is None:
            csc = sparse.csc_matrix((self.data, self.indices, self.indptr), shape=(len(self.case_ids), len(self.idf)))
            self._csr_cache = csc.tocsr()
        return self._csr_cache

    # Snapshot on disk: one .npy file per array (loaded memory-mapped) and the vocabulary as JSON.
    _ARRAYS = ("case_ids", "respondents", "products", "idf", "indptr", "indices", "data")

    def save(self, directory: Path) -> None:
        """Write a snapshot to ``directory`` atomically (a new folder renamed into place)."""
        directory = Path(directory)
        directory.parent.mkdir(parents=True, exist_ok=True)
        tmp = directory.with_name(f"{directory.name}.tmp-{os.getpid()}")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        for name in self._ARRAYS:
            np.save(tmp / f"{name}.npy", getattr(self, name))
        words = [""] * len(self.vocab)
        for word, col in self.vocab.items():
            words[col] = word
        (tmp / "meta.json").write_text(json.dumps({"words": words, "max_case_id": self.max_case_id,
                                                   "max_created": self.max_created}, ensure_ascii=False))
        old = directory.with_name(f"{directory.name}.old-{os.getpid()}")
        if directory.exists():
            directory.rename(old)
        tmp.rename(directory)
        shutil.rmtree(old, ignore_errors=True)

    @classmethod
    def load(cls, directory: Path) -> SimilarityIndex:
        directory = Path(directory)
        meta = json.loads((directory / "meta.json").read_text())
        arrays = {name: np.load(directory / f"{name}.npy", mmap_mode="r") for name in cls._ARRAYS}
        vocab = {word: col for col, word in enumerate(meta["words"])}
        return cls(arrays["case_ids"], arrays["respondents"], arrays["products"], vocab, arrays["idf"],
                   arrays["indptr"], arrays["indices"], arrays["data"], max_case_id=meta["max_case_id"],
                   max_created=meta["max_created"])


# --------------------------------------------------------------------------------------------------
# The process's index, kept fresh against the database


_index: SimilarityIndex | None = None
_index_lock = threading.RLock()


def index_dir() -> Path:
    return Path(getattr(settings, "COMPLAINTS_SIMILARITY_INDEX_DIR", Path(settings.VAR_DIR) / "complaints-similarity"))


def reset_index() -> None:
    """Forget the process's index (the next lookup loads the snapshot or rebuilds)."""
    global _index
    with _index_lock:
        _index = None


def _open_cases():
    return Case.objects.exclude(status__in=CLOSED_STATUSES)


def _fill_terms(rows: list[dict], *, force: bool = False) -> int:
    """Segment and store the words of cases whose ``terms`` are empty (all of ``rows`` with ``force``);
    one read and one batched write per call. Returns how many stored words changed."""
    missing = rows if force else [row for row in rows if not row["terms"]]
    if not missing:
        return 0
    cases = Case.objects.select_related("respondent_entity", "platform_entity").in_bulk([row["id"] for row in missing])
    changed = []
    for row in missing:
        case = cases.get(row["id"])
        if case is not None:
            terms = terms_for(case)
            if terms != case.terms:
                case.terms = terms
                changed.append(case)
            row["terms"] = terms
    Case.objects.bulk_update(changed, ["terms"], batch_size=500)
    return len(changed)


def refresh_terms(batch: int = 5000) -> int:
    """Segment the words of every open case again and store those that changed (after a change of the
    comparison rules, e.g. names no longer counted); returns how many changed. Rebuild the index after
    it (``build_from_database(resegment=True)`` does both)."""
    changed, last_id = 0, 0
    while True:
        rows = list(_open_cases().filter(pk__gt=last_id).order_by("pk").values("id", "terms")[:batch])
        if not rows:
            return changed
        changed += _fill_terms(rows, force=True)
        last_id = rows[-1]["id"]


_ROW_FIELDS = ("id", "terms", "respondent_entity_id", "product_id", "created")


def build_from_database(batch: int = 20000, *, resegment: bool = False) -> SimilarityIndex:
    """A new index over the open cases (words segmented and stored for cases that have none; for every
    case with ``resegment``, as after a change of the comparison rules)."""
    ids, docs, resps, prods = [], [], [], []
    last_id, max_created = 0, ""
    while True:
        rows = list(_open_cases().filter(pk__gt=last_id).order_by("pk").values(*_ROW_FIELDS)[:batch])
        if not rows:
            break
        _fill_terms(rows, force=resegment)
        for row in rows:
            ids.append(row["id"])
            docs.append(row["terms"].split())
            resps.append(row["respondent_entity_id"])
            prods.append(row["product_id"])
        last_id = rows[-1]["id"]
    newest = Case.objects.order_by("-pk").values_list("pk", "created").first()
    if newest:
        last_id, max_created = newest[0], newest[1].isoformat()
    return SimilarityIndex.from_documents(ids, docs, resps, prods, max_case_id=last_id, max_created=max_created)


def _is_current(index: SimilarityIndex) -> bool:
    """The newest case the index knows still exists unchanged (not a rolled-back or restored database)."""
    if not index.max_case_id:
        return True  # built on an empty table: every case is newer and is caught up
    created = Case.objects.filter(pk=index.max_case_id).values_list("created", flat=True).first()
    return created is not None and created.isoformat() == index.max_created


def _catch_up(index: SimilarityIndex) -> None:
    rows = list(Case.objects.filter(pk__gt=index.max_case_id).order_by("pk").values(*_ROW_FIELDS, "status"))
    if not rows:
        return
    _fill_terms(rows)
    for row in rows:
        if row["status"] not in CLOSED_STATUSES:
            index.add(row["id"], row["terms"].split(), row["respondent_entity_id"], row["product_id"])
    index.max_case_id, index.max_created = rows[-1]["id"], rows[-1]["created"].isoformat()


def get_index(*, build: bool | None = None) -> SimilarityIndex | None:
    """The process's index, caught up with the newest cases; loaded from the snapshot or built when cold
    (built only when the open cases are few enough, or ``build=True``); None when it stays cold."""
    global _index
    with _index_lock:
        if _index is not None and not _is_current(_index):
            _index = None
        if _index is None:
            directory = index_dir()
            if (directory / "meta.json").exists():
                try:
                    loaded = SimilarityIndex.load(directory)
                except (OSError, ValueError) as error:
                    logger.warning("similar-case index snapshot unreadable: %s", error)
                else:
                    if _is_current(loaded):
                        _index = loaded
        if _index is None:
            limit = getattr(settings, "COMPLAINTS_SIMILARITY_COLD_BUILD_MAX", 20000)
            if build or (build is None and _open_cases().count() <= limit):
                _index = build_from_database()
        if _index is None:
            return None
        _catch_up(_index)
        if len(_index.delta) > DELTA_MAX:
            _index = build_from_database()
        return _index


def _fallback_index(respondent_entity_id, product_id) -> SimilarityIndex:
    """Cold start with many cases: an index over a candidate set read from the database (see module doc)."""
    same = Q(pk__in=[])
    if respondent_entity_id:
        same |= Q(respondent_entity_id=respondent_entity_id)
    if product_id:
        same |= Q(product_id=product_id)
    rows = {row["id"]: row for row in _open_cases().filter(same).order_by("-pk").values(*_ROW_FIELDS)[:FALLBACK_SAME]}
    rows.update({row["id"]: row for row in _open_cases().order_by("-pk").values(*_ROW_FIELDS)[:FALLBACK_RECENT]})
    rows_list = sorted(rows.values(), key=lambda row: row["id"])
    _fill_terms(rows_list)
    return SimilarityIndex.from_documents([r["id"] for r in rows_list], [r["terms"].split() for r in rows_list],
                                          [r["respondent_entity_id"] for r in rows_list],
                                          [r["product_id"] for r in rows_list])


def is_likely_duplicate(score: float, text_score: float) -> bool:
    """The "likely duplicate" rule (module docstring): the score with boosts reaches ``LIKELY_DUPLICATE``
    and the text alone (names excluded) reaches ``DUPLICATE_MIN_TEXT``."""
    return score >= LIKELY_DUPLICATE and text_score >= DUPLICATE_MIN_TEXT


class Similar(tuple):
    """One candidate: unpacks as (case, score, reasons); ``text_score`` is the text cosine alone (names
    excluded, no boosts) and ``likely_duplicate`` applies ``is_likely_duplicate``."""

    def __new__(cls, case: Case, score: float, reasons: list[str], text_score: float = 0.0):
        self = super().__new__(cls, (case, score, reasons))
        self.text_score = text_score
        return self

    def __getnewargs__(self):
        return (*self, self.text_score)

    @property
    def case(self) -> Case:
        return self[0]

    @property
    def score(self) -> float:
        return self[1]

    @property
    def reasons(self) -> list[str]:
        return self[2]

    @property
    def likely_duplicate(self) -> bool:
        return is_likely_duplicate(self.score, self.text_score)


def _entity_names(respondent_entity_id, platform_entity_id) -> list[str]:
    """The registered names (and the respondent's registered address) of the given registry entities."""
    from qualitygov.registry.models import MarketEntity

    ids = [pk for pk in (respondent_entity_id, platform_entity_id) if pk]
    names = []
    for pk, name, address in MarketEntity.objects.filter(pk__in=ids).values_list("pk", "name", "address"):
        names += [name, address] if pk == respondent_entity_id else [name]
    return names


def find_similar(*, text: str, respondent_entity_id: int | None = None, product_id: int | None = None,
                 exclude_case_ids: Iterable[int] = (), limit: int = 5, user=None, respondent_name: str = "",
                 respondent_address: str = "", platform_name: str = "",
                 platform_entity_id: int | None = None) -> list[Similar]:
    """Open cases most like ``text`` (plus the same respondent entity or product), best first, each with
    its score and reasons. With ``user``, only cases that user may see are returned.

    What says who the respondent is (``respondent_name``, ``respondent_address``, ``platform_name`` and
    the registered names and address of ``respondent_entity_id`` / ``platform_entity_id``) is not
    compared (module docstring); pass it when ``text`` contains it."""
    names = [respondent_name, respondent_address, platform_name,
             *_entity_names(respondent_entity_id, platform_entity_id)]
    words = comparison_words(text, names)
    exclude = {int(pk) for pk in exclude_case_ids}
    index = get_index()
    if index is None:
        index = _fallback_index(respondent_entity_id, product_id)
    # Ask for more than needed: some candidates may be closed, excluded or outside the user's scope.
    want = limit * 4 + len(exclude) + 10
    hits = index.query(words, respondent=respondent_entity_id, product=product_id, limit=want)
    hits = [hit for hit in hits if hit[0] not in exclude]
    if not hits:
        return []
    cases = _open_cases().filter(pk__in=[hit[0] for hit in hits]).select_related("handling_unit")
    if user is not None:
        cases = cases.restrict(user, VIEW)
    by_id = {case.pk: case for case in cases}
    query_words = Counter(words)
    query_name = _plain_name(respondent_name)
    out = []
    for case_id, score, cosine, same_resp, same_prod in hits:
        case = by_id.get(case_id)
        if case is None:
            continue
        if (not same_resp and query_name and _plain_name(case.respondent_name) == query_name
                and not (respondent_entity_id and case.respondent_entity_id
                         and case.respondent_entity_id != respondent_entity_id)):
            # The same respondent typed by name (no registry entity on one side): its name's words are not
            # compared, so the name itself counts, as the boost (among the candidates the text found).
            same_resp, score = True, score + RESPONDENT_BOOST
        reasons = []
        if same_resp:
            reasons.append(_("同一被投诉人"))
        if same_prod:
            reasons.append(_("同一产品"))
        shared = _shared_words(query_words, case.terms.split(), index)
        if shared:
            reasons.append(_("共同词语：%(words)s") % {"words": "、".join(shared)})
        out.append(Similar(case, round(score, 3), reasons, round(cosine, 3)))
    out.sort(key=lambda result: (-result.score, -result.case.pk))
    return out[:limit]


_NOT_IN_NAMES = re.compile(r"[\s\W_]+")


def _plain_name(name: str) -> str:
    """A respondent name for comparing typed names: lower case, without spaces and punctuation."""
    return _NOT_IN_NAMES.sub("", name or "").lower()


def find_similar_to_case(case: Case, *, user=None, limit: int = 5, exclude_case_ids: Iterable[int] = ()) -> list[Similar]:
    """``find_similar`` for an existing case: its text, names, respondent and product, itself excluded."""
    return find_similar(text=case_text(case), respondent_entity_id=case.respondent_entity_id,
                        product_id=case.product_id, exclude_case_ids={case.pk, *exclude_case_ids}, limit=limit,
                        user=user, respondent_name=case.respondent_name, respondent_address=case.respondent_address,
                        platform_name=case.platform_name, platform_entity_id=case.platform_entity_id)


def _shared_words(query: Counter, words: list[str], index: SimilarityIndex) -> list[str]:
    shared = set(query) & set(words)
    # Rarest first; among equally rare words the longer (more specific) first.
    ranked = sorted(shared, key=lambda w: (-round(index.idf_for(w), 6), -len(w), w))
    return ranked[:SHARED_WORDS_SHOWN]


# --------------------------------------------------------------------------------------------------
# Merging a duplicate


# How far a case is in its workflow (Order 20: a complaint is accepted (Art. 14), mediated (Art. 16–21),
# its mediation ended; a tip-off is verified, then filed (Art. 30–31)). The case further along is the one
# kept when two are merged: its acceptance, notices to the respondent and mediation stand, and the other
# is closed as its duplicate. Closed, rejected, not filed and merged cases are never merged.
PROGRESS = {
    Case.Status.RECEIVED: 0,
    Case.Status.ACCEPTED: 1,
    Case.Status.VERIFYING: 1,
    Case.Status.MEDIATING: 2,
    Case.Status.FILED: 2,
    Case.Status.MEDIATION_ENDED: 3,
}


def progress(case: Case) -> int:
    """How far ``case`` is in its workflow (``PROGRESS``; closed cases rank after every open status)."""
    return PROGRESS.get(case.status, max(PROGRESS.values()) + 1)


def _merge_key(case: Case):
    # Further along first; at equal progress the earlier received (then the earlier registered) first.
    return (-progress(case), case.received_on, case.pk)


def merge_order(a: Case, b: Case) -> tuple[Case, Case]:
    """(duplicate, kept) for two cases to merge: the case further along in its workflow is kept; at equal
    progress the earlier received one (the first report, whose reporter may be rewarded) is kept."""
    return (b, a) if _merge_key(a) < _merge_key(b) else (a, b)


class MergeRefused(ValidationError):
    """A merge the rules do not allow; ``code`` names the rule."""

    def __init__(self, message, code: str):
        super().__init__(message, code=code)
        self.code = code


def merge(duplicate_case: Case, into_case: Case, user) -> Case:
    """Merge ``duplicate_case`` into ``into_case``: the duplicate is closed as MERGED pointing at the case
    it was merged into, both histories record it, in one transaction. Only two open cases of the same
    kind handled by the same unit, both within ``user``'s scope, may be merged, and only in the direction
    of ``merge_order``: the case further along in its workflow is kept (a request to fold it into a less
    advanced case is refused, code "further_along"); at equal progress the earlier received one is kept
    (code "later_case"). A refusal changes nothing."""
    if duplicate_case.pk == into_case.pk:
        raise MergeRefused(_("不能把案件合并到它自己。"), code="same_case")
    with transaction.atomic(), audit.attributed_to(user):
        locked = {c.pk: c for c in Case.objects.select_for_update().filter(pk__in=[duplicate_case.pk, into_case.pk])}
        duplicate, into = locked.get(duplicate_case.pk), locked.get(into_case.pk)
        allowed = set(Case.objects.restrict(user, CHANGE).filter(pk__in=locked).values_list("pk", flat=True))
        if duplicate is None or into is None or set(locked) - allowed:
            raise MergeRefused(_("您无权办理其中的案件。"), code="not_permitted")
        for case in (duplicate, into):
            if case.status in CLOSED_STATUSES:
                raise MergeRefused(_("案件 %(number)s 状态为“%(status)s”，只能合并未办结的案件。")
                                   % {"number": case.number, "status": case.get_status_display()}, code="not_open")
        if duplicate.kind != into.kind:
            raise MergeRefused(_("投诉和举报不能相互合并（两个案件类型不同）。"), code="different_kind")
        if duplicate.handling_unit_id != into.handling_unit_id:
            raise MergeRefused(_("两个案件的承办单位不同，不能合并；请先移送至同一承办单位。"), code="different_unit")
        # Checked on the locked rows: a case accepted meanwhile by a colleague changes the direction.
        if merge_order(duplicate, into)[0].pk != duplicate.pk:
            values = {"dup": duplicate.number, "dup_status": duplicate.get_status_display(),
                      "into": into.number, "into_status": into.get_status_display()}
            if progress(duplicate) > progress(into):
                raise MergeRefused(_("案件 %(dup)s 已处于“%(dup_status)s”阶段，办理进度超过 %(into)s（%(into_status)s），"
                                     "不能合并至办理进度较慢的案件；应将 %(into)s 合并至 %(dup)s。") % values,
                                   code="further_along")
            raise MergeRefused(_("两个案件的办理进度相同，应保留先收到的 %(dup)s：请将 %(into)s 合并至 %(dup)s。")
                               % values, code="later_case")
        duplicate.status, duplicate.merged_into = Case.Status.MERGED, into
        duplicate.save()
        # Cases merged earlier into the duplicate now point at the case that remains.
        Case.objects.filter(merged_into=duplicate).update(merged_into=into)
        now = timezone.now()
        CaseEvent.objects.bulk_create([
            CaseEvent(case=duplicate, at=now, kind=CaseEvent.Kind.MERGED, by=user,
                      text=_("作为重复案件合并至 %(number)s") % {"number": into.number}, data={"into": into.pk}),
            CaseEvent(case=into, at=now, kind=CaseEvent.Kind.MERGED, by=user,
                      text=_("案件 %(number)s 作为重复案件合并至本案") % {"number": duplicate.number},
                      data={"duplicate": duplicate.pk}),
        ])
    return duplicate
