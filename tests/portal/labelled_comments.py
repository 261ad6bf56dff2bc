"""A labelled synthetic set of Chinese public comments for measuring campaign clustering.

Campaign copies are templates with the small edits real mass-comment campaigns show: a
signature or address added, a few characters changed, inserted or dropped, punctuation or
full-width characters swapped, a sentence reordered. Unique comments are written from the
same vocabulary (the topic is the same, so they share many words with the templates and
with each other): precision is measured against look-alikes, not against noise.

`stance_set` adds stance pairs, a sentence and its opposite (同意/不同意, 赞成/反对,
支持/不支持, 没有, support/oppose, agree/do not agree), and short texts ("同意！"/"不同意。"),
each a campaign of its own: a clustering that puts a sentence with its opposite loses
precision there, and `opposites_together` names every such cluster.

`pair_scores` gives pairwise precision and recall: over all pairs of comments, a pair is
predicted together when both are in the same cluster, and truly together when both come
from the same campaign template.
"""

from __future__ import annotations

import random
import re
from collections import Counter, defaultdict
from collections.abc import Mapping

from portal.comments.clusters import STANCE_CLASSES

TEMPLATES = [
    "我坚决反对将A区高峰时段停车费提高到每小时10元。这会加重通勤居民的负担，请保留现行收费标准。",
    "建议保留十五分钟免费接送时段并延长到三十分钟，方便学校和医院周边的家长和病人家属接送。",
    "支持调整停车收费，但收入应当专款用于增加公共停车位和改善公交服务，并且每年向社会公开账目。",
    "夜间居民停车证的费率不应上涨。老旧小区没有地下车库，居民只能在路边停车，请考虑我们的实际困难。",
    "Please withdraw the fee increase: small shops on the high street depend on short visits.",
    "请在调价前先开通更多公交线路，并在地铁站周边建设换乘停车场，否则提高停车费只会增加拥堵。",
    "残疾人和老年人驾车就医应当免收停车费，建议在医院周边设置无障碍免费车位。",
    "我们小区居民联名反对本次调价方案，认为听证不充分，要求延长征求意见时间并召开听证会。",
]
SUBJECTS = ["停车收费", "公交线路", "学校周边", "医院门口", "夜间停车", "共享单车", "道路施工",
            "商户经营", "老旧小区", "地铁换乘", "交通安全", "绿化带", "充电桩", "快递车辆"]
OPINIONS = ["建议增加", "反对取消", "希望改善", "请尽快解决", "支持调整", "要求公开",
            "应当考虑", "不同意", "建议试点", "请重新评估"]
DETAILS = ["早高峰拥堵严重", "收费标准不透明", "残疾人停车困难", "周末游客太多", "缺少监控设备",
           "车位被长期占用", "路灯照明不足", "标志牌不清楚", "投诉没有回复", "收费时段太长",
           "临时停车没有地方", "人行道被占用", "噪音影响休息", "罚款标准过高"]
SIGNATURES = ["", "", "谢谢！", "——3号楼居民", "（海淀区居民）", "望采纳。", " 张先生", "此致敬礼"]
SWAPS = {"，": ",", "。": ".", "请": "恳请", "建议": "希望", "居民": "市民", "10": "十"}


def _edit(rng: random.Random, text: str) -> str:
    """A campaign copy: the template with a few small edits."""
    chars = list(text)
    for _ in range(rng.randint(0, 3)):  # a few characters changed, inserted or dropped
        i = rng.randrange(len(chars))
        action = rng.random()
        if action < 0.4:
            chars[i] = rng.choice("的了是在有我们和也都很")
        elif action < 0.7:
            chars.insert(i, rng.choice("的了呀啊也就"))
        elif len(chars) > 10:
            del chars[i]
    text = "".join(chars)
    for old, new in SWAPS.items():
        if old in text and rng.random() < 0.25:
            text = text.replace(old, new, 1)
    if rng.random() < 0.2 and "。" in text.rstrip("。"):  # sentences reordered
        first, _, rest = text.partition("。")
        text = f"{rest}{first}。"
    if rng.random() < 0.3:
        text = text.replace("，", " ， ")  # spacing and full-width noise
    return text + rng.choice(SIGNATURES)


def _unique(rng: random.Random) -> str:
    parts = []
    for _ in range(rng.randint(2, 4)):
        parts.append(f"{rng.choice(OPINIONS)}{rng.choice(SUBJECTS)}的管理，因为"
                     f"{rng.choice(DETAILS)}，{rng.choice(DETAILS)}")
    return "；".join(parts) + "。" + rng.choice(SIGNATURES)


def labelled_set(*, copies: Mapping[int, int] | None = None, unique: int = 300,
                 seed: int = 18) -> list[tuple[str, str]]:
    """(text, label) pairs in random order: label `t<i>` for a copy of template i, `u<n>`
    for a unique comment. *copies*: template index -> copies (default: sizes 3 to 200)."""
    rng = random.Random(seed)
    copies = copies or {0: 200, 1: 120, 2: 60, 3: 30, 4: 15, 5: 8, 6: 4, 7: 3}
    items = [(_edit(rng, TEMPLATES[t]), f"t{t}") for t, n in copies.items() for _ in range(n)]
    items += [(_unique(rng), f"u{n}") for n in range(unique)]
    rng.shuffle(items)
    return items


def _pairs(counter: Counter[object]) -> int:
    return sum(n * (n - 1) // 2 for n in counter.values())


def pair_scores(labels: list[str], predicted: list[object]) -> tuple[float, float]:
    """Pairwise (precision, recall) of a predicted clustering against the labels; a
    predicted cluster of None is a singleton."""
    predicted = [p if p is not None else ("single", i) for i, p in enumerate(predicted)]
    truth = [lb if lb.startswith("t") else ("single", i) for i, lb in enumerate(labels)]
    together = _pairs(Counter(zip(truth, predicted, strict=True)))
    predicted_pairs, true_pairs = _pairs(Counter(predicted)), _pairs(Counter(truth))
    precision = together / predicted_pairs if predicted_pairs else 1.0
    recall = together / true_pairs if true_pairs else 1.0
    return precision, recall


# A sentence and its opposite; the pairs of the first two kinds were the ones that fell
# into one cluster (同意/不同意 at the start, 赞成/反对).
STANCE_PAIRS = [
    ("同意将A区高峰时段停车费提高到每小时10元，收入用于增加公共停车位和改善公交服务。",
     "不同意将A区高峰时段停车费提高到每小时10元，收入用于增加公共停车位和改善公交服务。"),
    ("赞成在学校周边设置十五分钟免费接送车位，方便家长在上下学时段接送孩子。",
     "反对在学校周边设置十五分钟免费接送车位，方便家长在上下学时段接送孩子。"),
    ("支持夜间居民停车证费率上涨，老旧小区的路边车位应当优先留给本小区居民。",
     "不支持夜间居民停车证费率上涨，老旧小区的路边车位应当优先留给本小区居民。"),
    ("这次调价方案充分征求了沿街商户和居民的意见，听证程序完整，可以按期实施。",
     "这次调价方案没有充分征求沿街商户和居民的意见，听证程序完整，可以按期实施。"),
    ("I support the parking fee increase on the high street, because it frees spaces "
     "for short visits to small shops.",
     "I oppose the parking fee increase on the high street, because it frees spaces "
     "for short visits to small shops."),
    ("We agree that the consultation period of thirty days was long enough for residents "
     "to comment.",
     "We do not agree that the consultation period of thirty days was long enough for "
     "residents to comment."),
]
# Short texts: one or two words and a mark, copied as they are (an edit of one character
# would be a different comment).
SHORT_PAIRS = [("同意！", "不同意。"), ("支持调价", "反对调价"), ("赞成。", "拒绝！"),
               ("I agree.", "I disagree.")]
_MARKER = re.compile("|".join(re.escape(m) for markers in STANCE_CLASSES.values()
                              for m in sorted(markers, key=len, reverse=True)))


def _protected(text: str) -> set[int]:
    """Indexes inside or just after a stance marker: a copy's edits leave its stance."""
    return {i for found in _MARKER.finditer(text)
            for i in range(found.start(), found.end() + 1)}


def _stance_copy(rng: random.Random, text: str) -> str:
    """A campaign copy of a stance sentence: `_edit`'s edits, none touching a marker."""
    while True:
        copy = _edit(rng, text)
        if _MARKER.findall(copy) == _MARKER.findall(text) and not (
                _protected(copy) - _protected(text) and copy.count("不") != text.count("不")):
            return copy


def _short_copy(rng: random.Random, text: str) -> str:
    """A short comment as copies vary it: its mark, width and spacing only."""
    bare = text.rstrip("！。!.")
    return rng.choice(["", " "]) + bare + rng.choice(["", "！", "。", "!", ".", "！！"])


def stance_set(*, copies: int = 12, short_copies: int = 20, unique: int = 300,
               seed: int = 18) -> list[tuple[str, str]]:
    """`labelled_set` plus campaigns of each stance pair's two sides (labels `ts<i>+`,
    `ts<i>-`) and of each short pair's (`tq<i>+`, `tq<i>-`), in random order."""
    rng = random.Random(seed + 1000)
    items = labelled_set(unique=unique, seed=seed)
    for i, pair in enumerate(STANCE_PAIRS):
        for side, text in zip("+-", pair, strict=True):
            items += [(_stance_copy(rng, text), f"ts{i}{side}") for _ in range(copies)]
    for i, pair in enumerate(SHORT_PAIRS):
        for side, text in zip("+-", pair, strict=True):
            items += [(_short_copy(rng, text), f"tq{i}{side}") for _ in range(short_copies)]
    rng.shuffle(items)
    return items


def opposites_together(labels: list[str], predicted: list[object]) -> list[set[str]]:
    """The predicted clusters holding both sides of a stance pair (their labels)."""
    clusters: dict[object, set[str]] = defaultdict(set)
    for label, cluster in zip(labels, predicted, strict=True):
        if cluster is not None:
            clusters[cluster].add(label)
    return [found for found in clusters.values()
            if any(label[:-1] + "+" in found and label[:-1] + "-" in found
                   for label in found if label.startswith(("ts", "tq")))]
