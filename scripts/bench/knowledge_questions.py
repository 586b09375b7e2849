"""Writes the knowledge evaluation set (tests/data/knowledge_eval.yaml) and the separate
development set (tests/data/knowledge_dev.yaml): citizens' questions as a transcript hears them
(Sichuan dialect, fillers, speech-recognition slips) and as an agent summarises them, each with
the article that answers it. The names citizens use for a service (COLLOQUIAL) are written here
and are not in the articles; the ranking is tuned on the dev set only.

    python scripts/bench/knowledge_questions.py     # rewrites both files (seeded, stable)
"""

from __future__ import annotations

import random
from pathlib import Path

import yaml

from callcenter.knowledge.seeding import FACETS, sample_articles, services

OUT = Path(__file__).resolve().parents[2] / "tests" / "data"

#: how citizens name each service on the phone (not used by the articles)
COLLOQUIAL = {
    "公积金提取": ["取公积金", "把公积金取出来", "公积金提出来"], "公积金贷款": ["用公积金贷款买房", "公积金贷款买房子"],
    "公积金缴存基数调整": ["调公积金基数", "公积金基数调整"], "领取养老金": ["退休了领养老金", "领退休金"],
    "社保卡办理": ["办社保卡", "社保卡掉了补一张"], "失业保险金申领": ["领失业金", "失业了领补助"],
    "欠薪投诉": ["老板不给工资", "工资被拖欠"], "职业技能补贴": ["考了证领补贴", "技能证书补贴"],
    "医保报销": ["看病报销", "住院费报销"], "异地就医备案": ["在外地看病医保备案", "去外地住院备案"],
    "城乡居民医保缴费": ["交居民医保", "交城乡医保"], "身份证补办": ["身份证掉了补办", "补个身份证"],
    "居住证办理": ["办个居住证", "外地人办居住证"], "新生儿落户": ["娃儿上户口", "新生儿上户口"],
    "护照办理": ["办个护照", "出国办护照"], "驾驶证换证": ["驾照到期了换", "换驾照"],
    "交通违法处理": ["处理违章", "违章罚款"], "机动车年检": ["车子年审", "汽车年审"],
    "水费缴纳": ["交水费", "水费咋个交"], "停水查询": ["停水了啥时候来水", "小区停水"],
    "水表报装": ["装水表", "新房子装水表"], "电费缴纳": ["交电费", "电费咋个交"],
    "停电报修": ["屋头停电了", "家里跳闸没电"], "新装电表": ["装电表", "新房子装电表"],
    "燃气费缴纳": ["交天然气费", "交气费"], "燃气泄漏处置": ["闻到天然气味道", "屋头漏气了"],
    "燃气开户": ["天然气通气", "新房子开通天然气"], "小学入学报名": ["娃儿读小学报名", "孩子上一年级报名"],
    "幼儿园报名": ["娃儿上幼儿园", "公办幼儿园报名"], "学生资助申请": ["困难学生补助", "娃儿读书的助学金"],
    "结婚登记": ["扯结婚证", "领结婚证"], "最低生活保障申请": ["申请低保", "吃低保"],
    "高龄津贴": ["八十岁老人补贴", "老年人高龄补贴"], "殡葬服务": ["老人过世了火化", "办丧事火化"],
    "残疾证办理": ["办残疾证", "残疾人证"], "法律援助申请": ["免费请律师", "法律援助"],
    "公证办理": ["办个公证", "做遗嘱公证"], "个人所得税汇算": ["个税退税", "个税汇算"],
    "代开发票": ["个人开发票", "代开个发票"], "灵活就业社保缴费": ["自己交社保", "个体户交社保"],
    "物业服务投诉": ["物业不管事", "投诉物业公司"], "公租房申请": ["申请公租房", "租公家的房子"],
    "商品房预售查询": ["楼盘有没有预售证", "查预售许可证"], "不动产权证办理": ["办房产证", "房本咋个办"],
    "房屋抵押登记": ["房子办抵押", "抵押登记"], "消费投诉": ["买东西被坑了", "商家不退货"],
    "个体工商户注册": ["办营业执照", "开个店办执照"], "食品安全举报": ["饭馆不卫生", "吃了东西拉肚子"],
    "出租车投诉": ["出租车拒载", "的士绕路"], "公交线路查询": ["坐几路公交车", "公交车咋个坐"],
    "老年人乘车卡": ["老年卡办理", "老人坐公交免费卡"], "违章建筑举报": ["有人搭违建", "私搭乱建举报"],
    "养犬登记": ["办狗证", "养狗登记"], "路灯报修": ["路灯不亮", "路灯坏了"],
    "环境污染举报": ["工厂排污", "厂子冒黑烟"], "预防接种": ["娃儿打预防针", "孩子打疫苗"],
    "出生医学证明办理": ["办出生证", "出生证明"], "生育登记": ["生二孩登记", "生育登记"],
    "退役军人优待证": ["退役军人优待证", "当过兵的优待证"], "宽带报修": ["宽带没得网", "网断了"],
    "快递投诉": ["快递丢了", "快递不送上门"], "非法集资举报": ["高息理财骗钱", "非法集资"],
    "政务服务中心办事": ["政务大厅办事", "去办事大厅"], "耕地地力保护补贴": ["种地补贴", "种粮补贴"],
    "旅游投诉": ["旅行社坑人", "导游强制购物"], "东区居住证明开具": ["东区社区开居住证明", "在东区开个居住证明"],
    "米易县农村建房审批": ["米易农村修房子审批", "米易宅基地建房"],
}

#: facet -> phrasings; {x} the colloquial name. Transcript style (dialect, fillers) and summaries
SAID = {
    "materials": ["喂你好，我想问一下{x}要带啥子材料", "{x}的话要准备些啥子东西嘛", "嗯那个{x}，手续有哪些哦",
                  "我想{x}，要拿啥子证件去"],
    "place": ["{x}到哪儿去办哦", "请问{x}在哪点办嘛", "{x}是去哪个地方办", "我想{x}，该去哪里"],
    "time": ["{x}好久能办下来", "{x}要等几天哦", "{x}大概要多长时间嘛", "{x}多久能好"],
    "fee": ["{x}要交钱不", "{x}要好多钱", "{x}收不收费哦", "办{x}花不花钱"],
    "who": ["我这种情况能不能{x}哦", "{x}有啥子条件", "哪些人可以{x}嘛", "{x}有没有啥子要求"],
}
SUMMARY = {"materials": "市民咨询{x}所需材料", "place": "市民咨询{x}的办理地点", "time": "市民咨询{x}办理时限",
           "fee": "市民咨询{x}是否收费", "who": "市民咨询{x}的申请条件"}
FILLERS = ["", "", "喂，", "你好，", "嗯，", "那个，"]
SLIPS = {"公积金": "公鸡金", "社保": "社宝", "身份证": "身分证"}  # what the recogniser sometimes writes


def questions(seed: int, count: int) -> list[dict[str, str]]:
    rng = random.Random(seed)
    by_key = {(a.title, a.unit): a.id for a in sample_articles()}
    targets = []
    for s in services():
        for facet, (title, _, _) in FACETS.items():
            if s.get(facet):
                targets.append((s, facet, by_key[(title.format(n=s["name"]), s["unit"])]))
    out = []
    for s, facet, ident in rng.sample(targets, count):
        x = rng.choice(COLLOQUIAL[s["name"]])
        if rng.random() < 0.3:
            text, style = SUMMARY[facet].format(x=x), "summary"
        else:
            text, style = rng.choice(FILLERS) + rng.choice(SAID[facet]).format(x=x), "transcript"
            for word, slip in SLIPS.items():
                if word in text and rng.random() < 0.3:
                    text = text.replace(word, slip)
        out.append({"q": text, "article": ident, "style": style})
    return out


def main() -> None:
    evaluation = questions(2026, 220)
    seen = {e["q"] for e in evaluation}
    dev = [d for d in questions(7, 160) if d["q"] not in seen][:100]
    head = "# written by scripts/bench/knowledge_questions.py ({}); question -> the article that answers it\n"
    (OUT / "knowledge_eval.yaml").write_text(head.format("evaluation: never used for tuning")
                                             + yaml.safe_dump({"questions": evaluation}, allow_unicode=True,
                                                              sort_keys=False), encoding="utf-8")
    (OUT / "knowledge_dev.yaml").write_text(head.format("development: tune on this one")
                                            + yaml.safe_dump({"questions": dev}, allow_unicode=True, sort_keys=False),
                                            encoding="utf-8")
    print(f"{len(evaluation)} evaluation and {len(dev)} development questions written to {OUT}")


if __name__ == "__main__":
    main()
