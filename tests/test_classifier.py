"""The noise-conditional classifier p_phi(y | x_t, t): accuracy against the Bayes classifier, callback stop,
determinism, bad input, and its use for classifier guidance."""
import math

import pytest
import torch

from explorer.nn.classifier import (ClassifierConfig, classifier_accuracy, config_for, train_classifier)
from explorer.custom_data import dataset_from_points
from explorer.distributions import get_dataset
from explorer.guidance import classifier_gradient, classifier_guided_score
from explorer.samplers import sample
from explorer.scores import mixture_score
from explorer.process import get_process

SMALL = dict(steps=300, batch_size=256, width=64, report_every=50, device="cpu")


@pytest.fixture(scope="module")
def asym3_classifier():
    ds, sde = get_dataset("asym3"), get_process("vp_linear")
    return ds, sde, train_classifier(ds, sde, seed=0, **SMALL)


def bayes_accuracy(ds, sde, t: float, n: int, seed: int) -> float:
    """Accuracy of the exact classifier argmax p_t(y | x_t) on fresh noised data (the best any classifier can do)."""
    g = torch.Generator().manual_seed(seed)
    x0, y = ds.sample(n, generator=g, dtype=torch.float64)
    tt = torch.full((n,), t, dtype=torch.float64)
    x_t, _ = sde.marginal_sample(x0, tt, generator=g)
    return float((ds.mixture.class_log_posterior(x_t, tt, sde).argmax(1) == y).double().mean())


def test_accuracy_is_high_at_small_t_and_near_bayes(asym3_classifier):
    """Well-separated asym3: accuracy ~1 at t = 0.01; at every t within 4 binomial sds + 0.02 of the Bayes classifier."""
    ds, sde, clf = asym3_classifier
    n = 4000
    assert classifier_accuracy(clf, ds, 0.01, n=n, generator=torch.Generator().manual_seed(1)) > 0.98
    for t in (0.1, 0.3, 0.6):
        bayes = bayes_accuracy(ds, sde, t, n, seed=2)
        learned = classifier_accuracy(clf, ds, t, n=n, generator=torch.Generator().manual_seed(3))
        assert learned > bayes - 0.02 - 4 * math.sqrt(0.25 / n), (t, learned, bayes)
        assert learned < bayes + 4 * math.sqrt(0.25 / n), (t, learned, bayes)      # nobody beats Bayes


def test_reports_and_log_probs(asym3_classifier):
    ds, sde, clf = asym3_classifier
    assert len(clf.losses) == len(clf.accuracies) == SMALL["steps"] // SMALL["report_every"]
    assert clf.losses[-1] < clf.losses[0]
    x = torch.randn(50, 2, dtype=torch.float64)
    logp = clf.log_prob(x, 0.3)
    assert logp.shape == (50, 3) and logp.dtype == torch.float64
    torch.testing.assert_close(logp.exp().sum(1), torch.ones(50, dtype=torch.float64))


def test_trained_classifier_guides_samples(asym3_classifier):
    """Its gradient works inside the samplers' no_grad; guidance with it at gamma = 3 puts most samples in the class."""
    ds, sde, clf = asym3_classifier
    x = torch.randn(20, 2)
    g = classifier_gradient(clf.log_classifier(), 2, x, torch.full((20,), 0.5))
    assert g.shape == x.shape and torch.isfinite(g).all()
    x_init = sde.prior_sample((500, 2), generator=torch.Generator().manual_seed(0))
    guided = classifier_guided_score(mixture_score(ds.mixture, sde), clf.log_classifier(), 2, 3.0)
    out = sample("pf_heun", guided, sde, x_init, n_steps=20).x
    share = float((ds.mixture.class_log_posterior(out.double()).argmax(1) == 2).double().mean())
    assert share > 0.8                                        # p(y = 2) = 0.2 without guidance


def test_callback_stops_training_and_sees_progress():
    ds, sde = get_dataset("moons"), get_process("vp_linear")
    seen = []

    def cb(p):
        seen.append((p.step, p.steps, p.loss, p.accuracy))
        return False if p.step >= 20 else None

    clf = train_classifier(ds, sde, steps=1000, batch_size=64, width=32, report_every=10, seed=0, callback=cb,
                           device="cpu")
    assert [s[0] for s in seen] == [10, 20] and all(s[1] == 1000 for s in seen)
    assert clf.info["steps"] == 20 and len(clf.losses) == 2
    assert all(math.isfinite(s[2]) and 0.0 <= s[3] <= 1.0 for s in seen)
    assert not any(p.requires_grad for p in clf.net.parameters())


def test_deterministic_given_seed():
    ds, sde = get_dataset("moons"), get_process("vp_linear")
    kw = dict(steps=15, batch_size=64, width=16, report_every=5, device="cpu")
    a, b = train_classifier(ds, sde, seed=7, **kw), train_classifier(ds, sde, seed=7, **kw)
    c = train_classifier(ds, sde, seed=8, **kw)
    for pa, pb in zip(a.net.parameters(), b.net.parameters()):
        assert torch.equal(pa, pb)
    assert a.losses == b.losses
    assert not all(torch.equal(pa, pc) for pa, pc in zip(a.net.parameters(), c.net.parameters()))


def test_one_class_dataset_and_bad_arguments():
    pts = torch.randn(100, 2, generator=torch.Generator().manual_seed(0))
    one_class = dataset_from_points(pts)                      # no labels: one class "points"
    sde = get_process("vp_linear")
    with pytest.raises(ValueError, match="needs at least two classes"):
        train_classifier(one_class, sde, steps=5)
    with pytest.raises(ValueError, match="at least two classes"):
        ClassifierConfig(num_classes=1)
    ds = get_dataset("moons")
    for kw, msg in ((dict(steps=0), "steps"), (dict(lr=float("nan")), "lr"), (dict(batch_size=1.5), "batch_size")):
        with pytest.raises(ValueError, match=msg):
            train_classifier(ds, sde, **kw)
    two = dataset_from_points(pts, labels=(pts[:, 0] > 0).long())
    assert config_for(two, sde).num_classes == 2
