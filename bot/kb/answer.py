"""Short, warm, sourced answers built from the best provisions.

The answer is 2–4 plain sentences taken from the provisions (never a figure of
our own: every number in an answer appears in a quoted provision, apart from
the hotline numbers), followed by the quoted provisions with 《title》, clause,
issuer and date. Local figures we do not hold (a 低保标准 amount, a payment
day) are left to the local 民政 office; other cities get the national rule.
"""
from __future__ import annotations

import re

from bot.kb.knowledge_base import Hit, KnowledgeBase
from bot.places import NATIONAL, find_place_in_text, normalize_place

HOTLINE_NUMBERS = ("12345", "12349")
HOTLINE_SENTENCE = "如果还有不清楚的地方，可以到乡镇（街道）便民服务窗口问一问，也可以拨打12345政务服务便民热线或12349民政服务热线。"
FIGURE_SENTENCE = "具体{what}，由当地民政部门按标准核定，以当地民政部门公布的标准为准。"
OTHER_CITY_SENTENCE = "{city}的具体标准和办法由当地制定，我这里没有当地的文件，上面是国家层面的规定，具体以当地民政部门公布的为准。"
DRAFT_SENTENCE = "请注意，这条出自四川省的征求意见稿，还不是正式文件，仅供参考，以正式公布的规定为准。"
NOT_FOUND = ("这个问题我在现有的政策文件里没有找到明确的规定，不想给您说错。"
             "建议您直接问问乡镇（街道）社会救助窗口，或者拨打12345政务服务便民热线、12349民政服务热线。")
QUOTE_MAX = 220
KEY_MAX = 130

# Questions about a figure only the local office publishes.
_AMOUNT_Q = re.compile(r"(多少钱|多少元|标准是多少|标准多少|金额|能拿多少|能领多少|发多少|给多少|补多少|补助多少|每月多少|一个月多少|多少|几块)")
_DATE_Q = re.compile(r"(什么时候发|几号发|哪天发|发放时间|什么时候到账|几号到账|到账)")
# Places we do not serve (named cities, provinces, counties).
_BIG_PLACES = ("北京", "上海", "天津", "重庆", "广州", "深圳", "成都", "杭州", "武汉", "西安", "南京", "长沙", "郑州",
               "兰州", "绵阳", "南充", "广安", "宜宾", "泸州", "自贡", "乐山", "眉山", "遂宁", "内江", "资阳", "雅安",
               "广元", "攀枝花", "凉山", "新疆", "河北", "河南", "湖北", "湖南", "广东", "云南", "贵州", "陕西",
               "山东", "江苏", "浙江", "福建", "江西", "安徽", "山西", "辽宁", "吉林", "黑龙江", "青海", "宁夏",
               "西藏", "内蒙古", "广西", "海南", "天水", "定西", "平凉", "庆阳", "武威", "张掖", "酒泉", "陇南")
_PLACE_SUFFIX = re.compile(r"([\u4e00-\u9fa5]{2,4}?)(省|市|县|区|州)")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_RESP_UNIT = re.compile(r"[〔(（]\s*责任单位[^〕)）]*[〕)）]|[(（][^()（）]{0,30}负责[^()（）]{0,20}[)）]")
_SERVED_NAMES = ("全国", "四川", "达州", "渠县", "巴中", "甘肃", "白银", "会宁")


def other_city(question: str) -> str | None:
    """A place named in the question that we do not serve, e.g. '成都' or '某某县'."""
    for name in _BIG_PLACES:
        if name in question:
            return name
    for m in _PLACE_SUFFIX.finditer(question):
        name = m.group(0)
        if any(s in name for s in _SERVED_NAMES) or name.endswith(("地区", "社区")):
            continue
        if m.group(1) in ("城市", "城", "本", "外", "当地", "我们", "我", "这个", "那个", "哪个", "农村", "街", "小区"):
            continue
        return name
    return None


def _sentences(text: str) -> list[str]:
    text = _RESP_UNIT.sub("", text.replace("\n", ""))
    parts = re.findall(r"[^。；！？]+[。；！？]?", text)
    return [p.strip() for p in parts if p.strip()]


def _key_sentence(kb: KnowledgeBase, provision: dict, question_tokens: set[str], definition: bool,
                  amount: bool = False) -> str:
    sents = _sentences(provision["text"])
    if not sents:
        return ""
    if definition and provision["id"] in kb.vocab.topic_definitions.get((provision.get("topics") or [""])[0], []):
        best = 0
    else:
        def score(s: str) -> float:
            norm = kb.vocab.normalize(s)
            hits = sum(1 for t in question_tokens if t in norm)
            if amount and re.search(r"\d|倍|元|额度|比例", s):
                hits += 1.5
            return hits - (0.5 if len(s) < 12 else 0)
        best = max(range(len(sents)), key=lambda i: (score(sents[i]), -i))
    chosen = sents[best]
    if len(chosen) < 26 and best + 1 < len(sents):
        chosen += sents[best + 1]
    chosen = chosen.rstrip("；;，,")
    if len(chosen) > KEY_MAX:
        cut = max(chosen.rfind("，", 0, KEY_MAX), chosen.rfind("、", 0, KEY_MAX))
        chosen = chosen[: cut if cut > 40 else KEY_MAX] + "……"
    if not chosen.endswith(("。", "……", "！", "？")):
        chosen += "。"
    return chosen


def _place_phrase(p: dict, asker: str | None) -> str:
    place = p["jurisdiction"]
    if p["status"] == "draft":
        return "四川省的征求意见稿提出"
    if place == NATIONAL:
        return f"按照《{p['title']}》{p['clause']}的规定" if p["doc_id"] == "shjzf_2026" else "按照国家规定"
    if asker is None:
        return f"按照{place}的规定（这是{place}的文件，只适用于{place}）"
    return f"按照{place}的规定"


def _date_label(p: dict) -> str:
    if p.get("date"):
        return str(p["date"])
    if p.get("effective_from"):
        return f"{p['effective_from']}施行"
    return "日期不详"


def citation(p: dict) -> dict:
    return {
        "id": p["id"],
        "title": p["title"],
        "clause": p["clause"],
        "issuer": p["issuer"],
        "date": _date_label(p),
        "number": p.get("number"),
        "jurisdiction": p["jurisdiction"],
        "status": p["status"],
        "status_label": {"in_force": "现行有效", "draft": "征求意见稿（非正式文件）", "overridden": "已被新规定取代"}[p["status"]],
        "effective": _effective_label(p),
        "overridden_by": p.get("overridden_by"),
        "source": p.get("source"),
        "source_file": p.get("source_file"),
        "source_line": p.get("source_line"),
        "text": p["text"],
    }


def _effective_label(p: dict) -> str:
    if p.get("effective_note"):
        return str(p["effective_note"])
    if p.get("effective_from"):
        return f"{p['effective_from']}起施行"
    return ""


def _quote(c: dict) -> str:
    text = c["text"].replace("\n", "")
    if len(text) > QUOTE_MAX:
        cut = text.rfind("。", 0, QUOTE_MAX)
        text = text[: cut + 1 if cut > 60 else QUOTE_MAX] + "……"
    status = ""
    if c["status"] == "draft":
        status = "【征求意见稿，非正式文件】"
    elif c["status"] == "overridden":
        status = "【已被取代，仅供对照】"
    number = f"{c['number']}，" if c.get("number") else ""
    return f"{status}《{c['title']}》{c['clause']}（{c['issuer']}，{number}{c['date']}）：“{text}”"


def numbers_supported(text: str, citations: list[dict]) -> bool:
    """Every number in `text` appears in a cited provision (hotline numbers aside)."""
    pool = " ".join(c["text"] for c in citations)
    for n in _NUMBER.findall(text):
        if n in HOTLINE_NUMBERS:
            continue
        if n not in pool:
            return False
    return True


def compose_answer(kb: KnowledgeBase, question: str, jurisdiction: str | None) -> dict:
    asker = normalize_place(jurisdiction) if jurisdiction else None
    normalized = kb.vocab.normalize(question)
    q_topics = kb.vocab.question_topics(normalized)
    city = other_city(question) if not find_place_in_text(question) else None
    search_place = NATIONAL if city else jurisdiction
    hits = kb.search(question, jurisdiction=search_place, limit=5)
    if not hits:
        return {"answer": NOT_FOUND, "short_answer": NOT_FOUND, "citations": [], "topics": q_topics[:3]}

    place = NATIONAL if city else kb.resolve_place(question, jurisdiction)
    primary = hits[0]
    chosen: list[Hit] = [primary]
    # Show the asked place's own rule too when the best hit is a higher level's.
    if place and place != NATIONAL and primary.provision["jurisdiction"] != place:
        local = next((h for h in hits[1:] if h.provision["jurisdiction"] == place and h.score >= 0.45 * primary.score), None)
        if local:
            chosen.append(local)
    # A local rule first: add the national rule that frames it when it is close.
    elif primary.provision["jurisdiction"] != NATIONAL:
        nat = next((h for h in hits[1:] if h.provision["jurisdiction"] == NATIONAL and h.score >= 0.6 * primary.score), None)
        if nat:
            chosen.append(nat)

    tokens = set(_question_tokens(kb, normalized))
    definition = bool(re.search(r"(是什么|什么是|什么叫|指什么|是啥|啥意思|什么意思)", normalized))
    sentences: list[str] = []
    for k, h in enumerate(chosen):
        key = _key_sentence(kb, h.provision, tokens, definition, amount=bool(_AMOUNT_Q.search(normalized)))
        lead = _place_phrase(h.provision, asker if place is None else place)
        sentences.append(("另外，" if k else "") + f"{lead}：{key}")

    superseded = [p for h in chosen for p in h.superseded]
    notes: list[str] = []
    if superseded:
        old = superseded[0]
        new = next(h.provision for h in chosen if old in h.superseded)
        notes.append(f"以前《{old['title']}》{old['clause']}的规定已被《{new['title']}》{new['clause']}取代，现在以新规定为准。")
    if any(h.provision["status"] == "draft" for h in chosen):
        notes.append(DRAFT_SENTENCE)
    if city:
        notes.append(OTHER_CITY_SENTENCE.format(city=city))
    elif _DATE_Q.search(normalized):
        notes.append(FIGURE_SENTENCE.format(what="哪天发放"))
    elif _AMOUNT_Q.search(normalized):
        notes.append(FIGURE_SENTENCE.format(what="能领多少"))
    else:
        expired = next((h.provision for h in chosen if _expired(h.provision)), None)
        if expired:
            notes.append(f"{expired['jurisdiction']}这份文件的实施期是{expired['effective_note'].split('实施期为')[-1]}，"
                         "现在是否继续执行请向当地民政部门确认。")

    citations = [citation(h.provision) for h in chosen] + [citation(p) for p in superseded]
    body = sentences[:2] + notes[:1]
    body = [s for s in body if numbers_supported(s, citations)] or [NOT_FOUND]
    short = "".join(body) + HOTLINE_SENTENCE
    quotes = "\n".join(_quote(c) for c in citations)
    topics = list(dict.fromkeys(q_topics + (primary.provision.get("topics") or [])[:1]))[:3]
    return {"answer": f"{short}\n\n政策依据：\n{quotes}", "short_answer": short, "citations": citations, "topics": topics}


def _question_tokens(kb: KnowledgeBase, normalized: str) -> list[str]:
    from bot.kb.vocab import tokenize

    return [t for t in tokenize(kb.vocab, normalized, normalized=True) if len(t) >= 2]


def _expired(p: dict) -> bool:
    from datetime import date

    end = p.get("effective_to")
    return bool(end and p.get("effective_note") and "实施期为" in p["effective_note"] and str(end) < date.today().isoformat())
