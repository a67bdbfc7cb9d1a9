"""EDM's sampler (Karras et al. 2022, Alg. 2) in every process: second order at S_churn = 0 with the exact mixture
denoiser, the energy-distance noise floor on the Karras grid with and without churn, and the same samples as an
independent implementation (k-diffusion's sample_heun + get_sigmas_karras) from the same noise."""
import importlib.util
import math
import sys
import types

import pytest
import torch

from _sampler_utils import K_ED, energy_ratio, one_torch_thread  # noqa: F401 (autouse fixture)
from explorer.distributions import get_dataset
from explorer.process import PROCESSES, get_process
from explorer.samplers import Grid, edm, sample
from explorer.samplers.grids import sigma_tilde
from explorer.scores import exact_score

PROCESS_NAMES = list(PROCESSES)


def gen(seed):
    return torch.Generator().manual_seed(seed)


# --- k-diffusion's sampling.py without the package's heavy imports -------------------------------------------------
@pytest.fixture(scope="module")
def k_sampling():
    """k_diffusion/sampling.py loaded on its own: its package __init__ imports torchvision (absent) and sampling.py
    imports torchdiffeq, torchsde and tqdm, none of which sample_heun / get_sigmas_karras use; stubs stand in for them
    while it loads, and sys.modules is restored afterwards."""
    spec = importlib.util.find_spec("k_diffusion")
    assert spec is not None and spec.submodule_search_locations, "pip install --no-deps k-diffusion==0.1.1.post1"
    path = f"{list(spec.submodule_search_locations)[0]}/sampling.py"
    names = ["k_diffusion", "k_diffusion.utils", "torchdiffeq", "torchsde", "tqdm", "tqdm.auto"]
    saved = {n: sys.modules.get(n) for n in names}
    pkg = types.ModuleType("k_diffusion")
    pkg.__path__ = []
    utils = types.ModuleType("k_diffusion.utils")
    utils.append_dims = lambda x, n: x[(...,) + (None,) * (n - x.ndim)]      # k-diffusion's own definition
    pkg.utils = utils
    stubs = {"k_diffusion": pkg, "k_diffusion.utils": utils, "torchdiffeq": types.ModuleType("torchdiffeq"),
             "torchsde": types.ModuleType("torchsde"), "tqdm": types.ModuleType("tqdm"),
             "tqdm.auto": types.ModuleType("tqdm.auto")}
    stubs["torchdiffeq"].odeint = None
    stubs["tqdm.auto"].trange = lambda n, disable=None: range(n)
    stubs["tqdm.auto"].tqdm = None
    try:
        sys.modules.update(stubs)
        mspec = importlib.util.spec_from_file_location("k_diffusion.sampling", path)
        module = importlib.util.module_from_spec(mspec)
        mspec.loader.exec_module(module)
    finally:
        for n, m in saved.items():
            if m is None:
                sys.modules.pop(n, None)
            else:
                sys.modules[n] = m
    return module


def ve_denoiser(mixture):
    """The exact denoiser of a diagonal Gaussian mixture seen as VE, written out here independently of explorer:
    D(x; s) = x + s^2 grad log sum_k w_k N(x; mu_k, diag(s_k^2) + s^2 I); x [N, D], s [N] -> [N, D]."""
    w, mu, sd = mixture.weights.double(), mixture.means.double(), mixture.stds.double()

    def model(x, s):
        var = sd[None] ** 2 + s.double()[:, None, None] ** 2                        # [N, K, D]
        diff = x.double()[:, None, :] - mu[None]
        logp = torch.log(w)[None] - 0.5 * ((diff ** 2 / var) + torch.log(2 * math.pi * var)).sum(-1)
        r = torch.softmax(logp, dim=1)                                              # [N, K]
        score = -(r[:, :, None] * diff / var).sum(1)
        return x + s.double()[:, None] ** 2 * score

    return model


@pytest.mark.parametrize("process", PROCESS_NAMES)
@pytest.mark.parametrize("churn", [0.0, 20.0])
def test_same_samples_as_k_diffusion(k_sampling, process, churn):
    """Same grid, same noise, same exact denoiser: our EDM under any process (through x_tilde = x / alpha) and
    k-diffusion's VE sample_heun agree to 1e-9 (both float64; only the t <-> sigma_tilde maps round differently)."""
    ds, sde = get_dataset("asym3"), get_process(process)
    s_min, s_max, rho, n = 0.02, 8.0, 7.0, 24              # a range inside every process's sigma_tilde range
    grid = Grid("karras", sigma_min=s_min, sigma_max=s_max, rho=rho)
    ts = grid.times(sde, n)
    before = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)                 # its linspace follows the default dtype
    try:
        kd_sigmas = k_sampling.get_sigmas_karras(n + 1, s_min, s_max, rho)[:-1]           # drop the appended 0
    finally:
        torch.set_default_dtype(before)
    assert torch.allclose(sigma_tilde(sde, ts), kd_sigmas, rtol=1e-12, atol=0)
    z = torch.randn((300, 2), generator=gen(0), dtype=torch.float64)
    x_init = float(sde.std(ts[:1])) * z                      # x_t0 ~ N(0, sigma(t0)^2): x_tilde = sigma_tilde(t0) z
    opts = dict(s_churn=churn, s_tmin=0.05, s_tmax=5.0, s_noise=1.003)
    ours = edm(exact_score(ds, sde), sde, x_init, ts, generator=gen(7), **opts).x / float(sde.mean_coef(ts[-1:]))
    torch.manual_seed(7)                                   # k-diffusion draws from the global RNG, same stream
    theirs = k_sampling.sample_heun(ve_denoiser(ds.mixture), x_init / float(sde.mean_coef(ts[:1])), kd_sigmas,
                                    disable=True, **opts)
    assert (ours - theirs).abs().max() < 1e-9 * max(1.0, float(theirs.abs().max()))


@pytest.mark.parametrize("process", PROCESS_NAMES)
def test_second_order_without_churn(process):
    """S_churn = 0 is Heun in sigma_tilde: doubling the steps on the Karras grid cuts the error against a 1,024-step
    solve by ~4 (observed order > 1.7 between 16 and 32 steps, and > 1.5 from 8 to 16)."""
    ds, sde = get_dataset("ring8"), get_process(process)
    score = exact_score(ds, sde)
    x_init = sde.prior_sample((200, 2), generator=gen(1), dtype=torch.float64)
    ref = sample("edm", score, sde, x_init, n_steps=1024).x
    errs = [float((sample("edm", score, sde, x_init, n_steps=n).x - ref).norm(dim=1).mean()) for n in (8, 16, 32)]
    orders = [math.log2(errs[i] / errs[i + 1]) for i in range(2)]
    assert orders[1] > 1.7 and orders[0] > 1.5, (errs, orders)


@pytest.mark.parametrize("dataset", ["ring8", "asym3"])
@pytest.mark.parametrize("churn", [0.0, 10.0])
def test_reaches_the_noise_floor_on_the_karras_grid(dataset, churn):
    """32 steps (NFE 64) on the Karras grid, rho = 7, reach the energy-distance noise floor on the mixtures under
    vp_linear, with and without churn (the acceptance rule of _sampler_utils: ED < 6.63 x its null mean)."""
    ds, sde = get_dataset(dataset), get_process("vp_linear")
    x_init = sde.prior_sample((2000, 2), generator=gen(2))
    res = sample("edm", exact_score(ds, sde), sde, x_init, n_steps=32, generator=gen(3), s_churn=churn)
    assert res.nfe == 64
    assert energy_ratio(res.x, ds) < K_ED


def test_churn_is_stochastic_and_zero_churn_is_not():
    ds, sde = get_dataset("asym3"), get_process("vp_linear")
    score, x_init = exact_score(ds, sde), sde.prior_sample((64, 2), generator=gen(0))
    a, b = (sample("edm", score, sde, x_init, n_steps=10, generator=gen(s)).x for s in (1, 2))
    assert torch.equal(a, b)
    a, b = (sample("edm", score, sde, x_init, n_steps=10, generator=gen(s), s_churn=5.0).x for s in (1, 2))
    assert not torch.equal(a, b)


@pytest.mark.parametrize("opts, match", [({"s_churn": -1.0}, "S_churn"), ({"s_churn": float("nan")}, "S_churn"),
                                         ({"s_noise": -0.1}, "S_noise"), ({"s_tmin": 2.0, "s_tmax": 1.0}, "S_tmin"),
                                         ({"s_tmax": "big"}, "S_tmax")])
def test_bad_options_fail_clearly(opts, match):
    sde = get_process("ve")
    with pytest.raises(ValueError, match=match):
        sample("edm", lambda x, t: -x, sde, sde.prior_sample((4, 2)), n_steps=3, **opts)
