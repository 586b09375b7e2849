"""The classifier: features, training/prediction round trip, storage as data, the threshold."""

from __future__ import annotations

import numpy as np
import pytest

from callcenter.dispatch.model import (
    Example,
    LinearModel,
    ModelError,
    char_ngrams,
    choose_threshold,
    confidence_of,
    evaluate,
    features,
    tradeoff,
    train,
)

TRAIN = [Example(t, d, k) for d, k, texts in [
    ("water", "help", ["我们这边停水了，啥时候来水", "自来水管爆了，水冒起好高", "水压太小了，热水器打不燃", "水费这个月好高"]),
    ("power", "help", ["小区停电了，冰箱里的东西要坏了", "电线掉下来了好危险", "电压不稳，灯一闪一闪", "电费高得离谱"]),
    ("gas", "help", ["楼道里有煤气味，是不是漏气了", "天然气突然没得气了", "燃气表坏了不走字", "燃气开户要啥子资料"]),
] for t in texts]


@pytest.fixture(scope="module")
def model() -> LinearModel:
    return train(TRAIN, c=10.0)


def test_char_features_never_span_punctuation_and_carry_kind_and_district():
    assert sorted(char_ngrams("停水，ＡＢ")) == sorted(["^", "停", "水", "$", "^停", "停水", "水$",
                                                       "^", "a", "b", "$", "^a", "ab", "b$"])
    toks = features("停水", "help", "西区")
    assert "k:help" in toks and "d:西区" in toks
    with pytest.raises(ModelError):
        features("x", analyzer="morse")


def test_round_trip_predicts_the_unit_with_the_words_that_drove_it(model):
    p = model.predict("喂，我们楼停水了，到现在都没来水", "help")
    assert p.best.department == "water"
    assert any("水" in w for w in p.best.words)
    assert [c.department for c in p.candidates] == sorted({"water", "power", "gas"},
                                                          key=lambda d: -dict((c.department, c.probability)
                                                                              for c in p.candidates)[d])
    assert sum(c.probability for c in p.candidates) == pytest.approx(1.0, abs=1e-3)
    assert model.predict("又停电了", "help").best.department == "power"


def test_prediction_matches_scikit_learn(model):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    docs = [features(e.text, e.kind) for e in TRAIN]
    vec = TfidfVectorizer(analyzer=lambda d: d, sublinear_tf=True)
    clf = LogisticRegression(C=10.0, solver="saga", tol=1e-3, max_iter=2000, class_weight="balanced",
                             random_state=0).fit(vec.fit_transform(docs), [e.department for e in TRAIN])
    text = "燃气灶打不燃，闻到一股气味"
    want = clf.predict_proba(vec.transform([features(text, "help")]))[0]
    got = {c.department: c.probability for c in model.predict(text, "help", top=3).candidates}
    assert [got[c] for c in clf.classes_] == pytest.approx(list(want), abs=1e-3)


def test_confidence_is_the_margin_between_the_first_two_units(model):
    p = model.predict("燃气灶打不燃，闻到一股气味", "help", top=1)
    assert len(p.candidates) == 1 and model.confidence == "margin"
    full = model.predict("燃气灶打不燃，闻到一股气味", "help", top=3).candidates
    assert p.confidence == pytest.approx(full[0].probability - full[1].probability, abs=1e-3)
    assert p.auto is (p.confidence >= model.threshold)


def test_a_model_stored_before_the_margin_keeps_its_top_probability_confidence(model):
    import io
    import json

    with np.load(io.BytesIO(model.to_bytes())) as z:
        arrays = {k: z[k] for k in z.files}
    header = json.loads(arrays["header"].tobytes())
    del header["confidence"]
    arrays["header"] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    old = LinearModel.from_bytes(buf.getvalue())
    p = old.predict("停水了")
    assert old.confidence == "p1" and p.confidence == p.best.probability


def test_stored_model_is_data_and_loads_back(model):
    model.threshold, model.floor = 0.42, 0.15
    blob = model.to_bytes()
    back = LinearModel.from_bytes(blob)
    assert back.classes == model.classes and back.threshold == 0.42 and back.analyzer == "char"
    assert back.floor == 0.15
    np.testing.assert_allclose(back.coef, model.coef, rtol=1e-5)
    assert back.predict("停水了").candidates == model.predict("停水了").candidates or \
        back.predict("停水了").best.department == "water"
    with pytest.raises(ModelError):
        LinearModel.from_bytes(b"not a model")


def test_two_units_are_a_proper_two_class_model():
    two = train(TRAIN[:8], c=10.0)
    p = two.predict("停水了没来水")
    assert two.coef.shape[0] == 2 and p.best.department == "water"
    assert sum(c.probability for c in p.candidates) == pytest.approx(1.0, abs=1e-3)
    assert two.predict("又停电了").best.department == "power"


def test_training_needs_two_units():
    with pytest.raises(ModelError):
        train(TRAIN[:4])


def test_threshold_is_the_lowest_level_that_keeps_precision():
    conf = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4]
    ok = [True, True, True, False, True, False]
    assert choose_threshold(conf, ok, target=1.0) == 0.7
    assert choose_threshold(conf, ok, target=0.8) == 0.5  # 4 of 5 right down to 0.5
    assert choose_threshold(conf, [False] * 6, target=0.95) == 1.0  # never auto-dispatch
    # ties: the whole tied level is in or out together
    assert choose_threshold([0.9, 0.5, 0.5], [True, True, False], target=0.9) == 0.9
    curve = tradeoff(conf, ok, levels=[0.5, 0.9])
    assert curve == [(0.5, 5 / 6, 0.8), (0.9, 1 / 6, 1.0)]


def test_evaluation_reports_per_unit_and_confusions(model):
    held = [Example("停水两天了", "water", "help"), Example("燃气漏气了", "gas", "help"),
            Example("电线杆倒了", "water", "report")]  # the last is labelled wrongly on purpose
    ev = evaluate(model, held, threshold=0.0)
    assert ev.n == 3 and ev.auto_share == 1.0
    assert ev.per_department["water"]["n"] == 2
    assert ("water", "power", 1) in ev.confusions
    assert ev.top1 == pytest.approx(2 / 3)


def test_confidence_measures_from_the_first_two_probabilities():
    assert confidence_of(0.6, 0.3, "ratio") == pytest.approx(0.5)
    assert confidence_of(0.6, 0.3, "margin") == pytest.approx(0.3)
    assert confidence_of(0.6, 0.3, "p1") == 0.6
    assert confidence_of(0.0, 0.0, "ratio") == 0.0
    with pytest.raises(ModelError):
        confidence_of(0.6, 0.3, "vibes")


@pytest.fixture(scope="module")
def pair() -> LinearModel:
    return train(TRAIN, c=10.0, blend=0.5, nb_alpha=0.3, temperature=2.0, confidence="ratio")


def test_the_pair_averages_regression_and_naive_bayes_as_scikit_learn_does(pair):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.naive_bayes import ComplementNB

    docs = [features(e.text, e.kind) for e in TRAIN]
    y = [e.department for e in TRAIN]
    vec = TfidfVectorizer(analyzer=lambda d: d, sublinear_tf=True)
    x = vec.fit_transform(docs)
    lr = LogisticRegression(C=10.0, solver="saga", tol=1e-3, max_iter=2000, class_weight="balanced",
                            random_state=0).fit(x, y)
    nb = ComplementNB(alpha=0.3).fit((x > 0).astype(float), y)
    text = "燃气灶打不燃，闻到一股气味"
    xt = vec.transform([features(text, "help")])
    s = nb.predict_joint_log_proba((xt > 0).astype(float))[0] / 2.0
    want = 0.5 * lr.predict_proba(xt)[0] + 0.5 * np.exp(s - s.max()) / np.exp(s - s.max()).sum()
    p = pair.predict(text, "help", top=3)
    got = {c.department: c.probability for c in p.candidates}
    assert [got[c] for c in lr.classes_] == pytest.approx(list(want), abs=1e-3)
    first, second = sorted(want, reverse=True)[:2]
    assert pair.confidence == "ratio" and p.confidence == pytest.approx(1 - second / first, abs=1e-3)


def test_the_pair_is_stored_and_a_model_stored_before_it_predicts_as_the_regression_alone(pair):
    import io
    import json

    back = LinearModel.from_bytes(pair.to_bytes())
    assert back.blend == 0.5 and back.confidence == "ratio"
    assert back.predict("停水了").candidates == pair.predict("停水了").candidates
    with np.load(io.BytesIO(pair.to_bytes())) as z:
        arrays = {k: z[k] for k in z.files if k != "second"}
    header = json.loads(arrays["header"].tobytes())
    del header["blend"]
    header["confidence"] = "margin"
    arrays["header"] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    old = LinearModel.from_bytes(buf.getvalue())
    alone = train(TRAIN, c=10.0)  # the same regression, without the naive Bayes
    assert old.second is None and old.blend == 0.0
    got, want = old.predict("燃气灶打不燃", "help", top=3), alone.predict("燃气灶打不燃", "help", top=3)
    assert [c.department for c in got.candidates] == [c.department for c in want.candidates]
    assert [c.probability for c in got.candidates] == pytest.approx([c.probability for c in want.candidates], abs=1e-3)
    assert got.confidence == pytest.approx(want.confidence, abs=1e-3)


def test_a_stored_second_model_of_the_wrong_shape_is_refused(pair):
    import io

    with np.load(io.BytesIO(pair.to_bytes())) as z:
        arrays = {k: z[k] for k in z.files}
    arrays["second"] = arrays["second"][:, :5]
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    with pytest.raises(ModelError):
        LinearModel.from_bytes(buf.getvalue())
