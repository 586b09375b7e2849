"""Training: the threshold is chosen by cross-validation of the training set (folds by
paraphrase group), never on the held-out split, whose figures are only measured."""

from __future__ import annotations

from callcenter.dispatch.catalogue import default_catalogue
from callcenter.dispatch.model import Example
from callcenter.dispatch.training import (
    FLOORS,
    OutOfFold,
    catalogue_examples,
    choose_floor,
    fit,
    fold_assignment,
    out_of_fold,
    out_of_fold_detail,
)

TEXTS = {
    "water": ["我们这边停水了，啥时候来水", "自来水管爆了，水冒起好高", "水压太小了，热水器打不燃", "水费这个月好高",
              "自来水黄黄的有沉淀", "水表走得飞快", "小区又停水了", "水管漏水没人修"],
    "power": ["小区停电了，冰箱里的东西要坏了", "电线掉下来了好危险", "电压不稳，灯一闪一闪", "电费高得离谱",
              "又断电了，啥时候来电", "电表是不是坏了", "变压器响了一晚上", "停电也不通知"],
    "gas": ["楼道里有煤气味，是不是漏气了", "天然气突然没得气了", "燃气表坏了不走字", "燃气开户要啥子资料",
            "燃气费咋个交", "天然气管道在漏气", "燃气灶打不燃火", "停气了，热水都没得"],
}
TRAIN = [Example(t, d, "help", group=f"{d}-{i // 2}") for d, texts in TEXTS.items() for i, t in enumerate(texts)]


def test_every_training_example_is_judged_by_a_model_that_never_saw_its_group():
    confs, right = out_of_fold(TRAIN, folds=4)
    assert len(confs) == len(right) == len(TRAIN)
    assert sum(right) >= len(TRAIN) * 2 // 3  # three well separated units: mostly right out of fold
    assert all(0.0 <= c <= 1.0 for c in confs)


def test_the_threshold_does_not_depend_on_the_heldout_split():
    good = [Example("停水两天了", "water", "help"), Example("停电了", "power", "help")]
    wrong = [Example("停水两天了", "power", "help"), Example("停电了", "gas", "help")]
    m1, met1 = fit(TRAIN, good, folds=4)
    m2, met2 = fit(TRAIN, wrong, folds=4)
    assert m1.threshold == m2.threshold == met1["threshold"]
    assert met1["cv_auto_share"] == met2["cv_auto_share"] and met1["threshold_from"] == "4-fold cross-validation"
    assert met1["top1"] == 1.0 and met2["top1"] == 0.0  # the held-out split is only measured


def test_hall_examples_without_a_group_are_each_their_own():
    hall = [Example(t, "water", "help") for t in ("水龙头不出水", "水管爆了")]
    confs, _ = out_of_fold([*TRAIN, *hall], folds=3)
    assert len(confs) == len(TRAIN) + 2


def test_folds_keep_each_paraphrase_group_together_and_deal_them_in_turn():
    folds = fold_assignment(TRAIN, 4)
    assert folds == fold_assignment(TRAIN, 4)  # deterministic
    by_group: dict[str, set[int]] = {}
    for e, f in zip(TRAIN, folds, strict=True):
        by_group.setdefault(e.group, set()).add(f)
    assert all(len(fs) == 1 for fs in by_group.values())
    assert sorted(set(folds)) == [0, 1, 2, 3]
    assert fold_assignment([Example("a", "water"), Example("b", "water")], 10) == [0, 1]  # no group: its own


def test_catalogue_names_are_pseudo_examples_only_of_the_units_trained():
    cat = default_catalogue()
    pseudo = catalogue_examples(cat, {"water", "power"}, repeat=2)
    assert {e.department for e in pseudo} == {"water", "power"}
    texts = [e.text for e in pseudo if e.department == "power"]
    assert set(texts) == {*cat.units["power"].categories, cat.name("power")}
    assert len(texts) == 2 * (len(cat.units["power"].categories) + 1)
    assert catalogue_examples(cat, {"no_such_unit"}) == []


def test_pseudo_examples_are_trained_on_but_never_judged():
    pseudo = [Example("自来水", "water")] * 3
    confs, _ = out_of_fold(TRAIN, folds=4, pseudo=pseudo)
    assert len(confs) == len(TRAIN)
    model, metrics = fit(TRAIN, [Example("停水两天了", "water", "help")], folds=4, pseudo=pseudo)
    assert metrics["pseudo"] == 3 and metrics["train"] == len(TRAIN) and model.meta["examples"] == len(TRAIN) + 3
    assert model.blend > 0 and model.confidence == "ratio"


VAGUE = [Example(t, "hall", "help", group=f"vague-{i // 2}")
         for i, t in enumerate(("有个事情想反映一下", "麻烦你们来看一下", "咋个办嘛", "我想问一下", "请尽快处理", "帮帮忙嘛",
                                "喂 你好 听得到不", "我要投诉", "那个事情还没得回复", "市民来电反映相关问题"))]


def test_requests_that_name_no_unit_are_learned_as_the_halls_and_never_dispatched_by_themselves():
    model, metrics = fit(TRAIN, [Example("停水两天了", "water", "help")], folds=4, vague=VAGUE)
    assert metrics["vague"] == len(VAGUE) and metrics["train"] == len(TRAIN) and "hall" in model.classes
    assert model.floor == metrics["floor"] and model.floor in FLOORS
    for e in VAGUE:  # trained on: the hall is their best unit, so they are left to a person
        p = model.predict(e.text, e.kind)
        assert not p.auto and p.confidence == 0.0
        assert "hall" not in [c.department for c in p.candidates]  # the dispatcher is offered units only
    assert model.predict("小区停水两天了，啥时候来水", "help").auto  # a request that says what still goes
    # out of fold, a vague request is wrong whenever dispatched: the figure counts those that were
    oof = out_of_fold_detail([*TRAIN, *VAGUE], folds=4)
    assert not any(oof.correct[len(TRAIN):])
    confs = oof.floored(model.floor)[len(TRAIN):]
    assert metrics["vague_auto"] == sum(c >= model.threshold for c in confs)


def test_the_floor_is_the_one_that_dispatches_most_at_the_precision_target():
    # out of fold: 18 confident and right (p1 0.8); 3 thin ones (p1 0.2) of which 2 right
    oof = OutOfFold([0.9] * 18 + [0.95] * 3, [True] * 18 + [True, True, False], ["water"] * 21,
                    [0] * 21, [0.8] * 18 + [0.2] * 3)
    assert choose_floor(oof) == (0.0, 0.9)  # 20 of 21 right: 95.2 %, no floor needed
    # the thin ones are 1 right of 3 and sit above the confident ones: without a floor, only the
    # confident ones could go; a floor above 0.2 takes the thin ones out and lets all 18 go
    oof = OutOfFold([0.9] * 18 + [0.95] * 3, [True] * 18 + [True, False, False], ["water"] * 21,
                    [0] * 21, [0.8] * 18 + [0.2] * 3)
    floor, threshold = choose_floor(oof)
    assert floor == 0.25 and threshold == 0.9
    assert sum(c >= threshold for c in oof.floored(floor)) == 18


def test_a_floor_zeroes_thin_confidence():
    model, metrics = fit(TRAIN, [Example("停水两天了", "water", "help")], folds=4)
    assert metrics["vague_auto"] == 0 and "hall" not in model.classes
    p = model.predict("有个事情想反映一下", "help", top=2)
    model.floor = p.best.probability + 0.01
    assert model.predict("有个事情想反映一下", "help").confidence == 0.0
    oof = out_of_fold_detail(TRAIN, folds=4)
    assert oof.floored(0.0) == oof.confidences and len(oof.p1) == len(TRAIN)
    assert all(c == 0.0 for c, p1 in zip(oof.floored(0.5), oof.p1, strict=True) if p1 < 0.5)
