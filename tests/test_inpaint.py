"""Inpainting (RePaint replacement) and SDEdit with the shipped digits model."""
import pytest
import torch

from explorer.nn.digit_classifier import shipped_classifier
from explorer.digits import digits_split
from explorer.inpaint import INPAINT_SAMPLERS, box_mask, check_mask, inpaint, mask_from_drawing
from explorer.sdedit import sdedit, sdedit_grid
from explorer.nn.unet import shipped_digits_model

X = torch.zeros(2, 1, 8, 8)


@pytest.mark.parametrize("bad, match", [
    (torch.zeros(8, 8), "keeps no pixel"),
    (torch.ones(8, 8), "keeps every pixel"),
    (torch.full((8, 8), 0.5), "0 \\(fill in\\) or 1"),
    (torch.full((8, 8), float("nan")), "0 \\(fill in\\) or 1"),
    (torch.ones(5, 5), "does not fit"),
    (torch.stack([box_mask((8, 8), 0, 0, 4, 8), torch.ones(8, 8)])[:, None], "keeps every pixel"),   # one bad image
])
def test_bad_masks_fail_clearly(bad, match):
    with pytest.raises(ValueError, match=match):
        check_mask(bad, X)


def test_mask_helpers():
    m = box_mask((8, 8), 4, 0, 4, 8)
    assert m[:4].eq(1).all() and m[4:].eq(0).all()
    assert check_mask(m.bool(), X).shape == X.shape
    drawing = torch.zeros(64, 64, 3)
    drawing[:16, :16] = 255                          # painted top-left quarter of a 64x64 sketch -> 2x2 pixels filled
    dm = mask_from_drawing(drawing, 8)
    assert dm.shape == (8, 8) and dm[:2, :2].eq(0).all() and dm.sum() == 60


def test_inpainting_keeps_pixels_and_the_class():
    """A quadrant filled (top-left or bottom-right) by RePaint, DDIM 50 steps + 1 resample: kept pixels within
    sigma(t_min), the class kept >= 80% (40 held-out digits, fixed seed). A quadrant leaves the class identifiable:
    among the 10 training digits nearest on the kept pixels, 92% share the class; a half leaves only ~82%
    (benchmarks/RESULTS_digits.md measures half masks)."""
    model, clf = shipped_digits_model(), shipped_classifier()
    held = digits_split("heldout")
    g = torch.Generator().manual_seed(0)
    idx = torch.randperm(len(held), generator=g)[:40]
    x0, y = held.x[idx], held.y[idx]
    mask = torch.stack([box_mask((8, 8), 4, 4, 4, 4) if i % 2 else box_mask((8, 8), 0, 0, 4, 4) for i in range(40)])[:, None]
    res = inpaint(model.score_fn(), model.sde, x0, mask, sampler="ddim", n_steps=50, resample=2, generator=g)
    sigma_end = float(model.sde.std(torch.tensor(model.sde.t_min)))
    err = ((res.x - x0) * mask).abs().amax()
    assert err < sigma_end, (float(err), sigma_end)
    assert not torch.allclose(res.x * (1 - mask), x0 * (1 - mask), atol=0.1)    # the hole is really re-drawn
    acc = float((clf.predict(res.x.clamp(-1, 1)) == y).double().mean())
    assert acc >= 0.8, acc
    assert res.nfe == 100 and res.trajectory.shape == (51, 40, 1, 8, 8)


def test_reconstruction_guidance_keeps_pixels_and_pulls_towards_them():
    """With reconstruction guidance the filled half agrees better with the kept half than plain replacement does."""
    model = shipped_digits_model()
    x0 = digits_split("heldout").x[:16]
    mask = box_mask((8, 8), 4, 0, 4, 8)
    out = {}
    for w in (0.0, 10.0):
        g = torch.Generator().manual_seed(2)
        res = inpaint(model.score_fn(), model.sde, x0, mask, sampler="ddpm", n_steps=20, reconstruction=w, generator=g)
        assert ((res.x - x0) * mask).abs().amax() < 1e-3
        out[w] = res.x
    # the network's own estimate of the kept pixels, from the filled image noised to t = 0.3, is closer with guidance
    t = torch.full((16,), 0.3)
    err = {w: float(((model.x0_hat(model.sde.marginal_sample(x, t, generator=torch.Generator().manual_seed(3))[0], t)
                      - x0) * mask).pow(2).sum()) for w, x in out.items()}
    assert err[10.0] < err[0.0], err
    with pytest.raises(ValueError, match="reconstruction"):
        inpaint(model.score_fn(), model.sde, x0, mask, reconstruction=float("nan"))


@pytest.mark.parametrize("name", INPAINT_SAMPLERS)
def test_inpaint_every_one_step_sampler(name):
    model = shipped_digits_model()
    x0 = digits_split("heldout").x[:2]
    g = torch.Generator().manual_seed(1)
    res = inpaint(model.score_fn(), model.sde, x0, box_mask((8, 8), 2, 2, 4, 4), sampler=name, n_steps=3, generator=g)
    assert res.x.shape == x0.shape and torch.isfinite(res.x).all()


def test_inpaint_refuses_bad_options():
    model = shipped_digits_model()
    x0, m = digits_split("heldout").x[:1], box_mask((8, 8), 0, 0, 4, 4)
    with pytest.raises(ValueError, match="expected one of"):
        inpaint(model.score_fn(), model.sde, x0, m, sampler="dpm_solver_pp_2m")
    with pytest.raises(ValueError, match="unknown option"):
        inpaint(model.score_fn(), model.sde, x0, m, sampler="ddim", snr=0.1)
    with pytest.raises(ValueError, match="resample"):
        inpaint(model.score_fn(), model.sde, x0, m, resample=0)


def test_sdedit_grid_and_faithfulness():
    model = shipped_digits_model()
    sde = model.sde
    ts = sdedit_grid(sde, 0.4, 10)
    assert float(ts[0]) == pytest.approx(0.4) and float(ts[-1]) == pytest.approx(sde.t_min) and ts.numel() == 11
    x0 = digits_split("heldout").x[:8]
    g = torch.Generator().manual_seed(0)
    near = sdedit(model.score_fn(), sde, x0, 0.1, n_steps=10, generator=g).x
    far = sdedit(model.score_fn(), sde, x0, 1.0, n_steps=10, generator=g).x
    d_near, d_far = (near - x0).pow(2).mean().sqrt(), (far - x0).pow(2).mean().sqrt()
    assert d_near < 0.5 * d_far          # small t0 keeps the digit, t0 = T forgets it
    for bad in (0.0, 1.5, float("nan"), "a"):
        with pytest.raises(ValueError, match="t0"):
            sdedit(model.score_fn(), sde, x0, bad)
    with pytest.raises(ValueError, match="cannot start"):
        sdedit(model.score_fn(), sde, x0, 0.5, sampler="langevin")
