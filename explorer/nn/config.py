"""What every network's configuration shares: the process it was made for, sigma_data, the dataset, checks and
serialisation (to_dict / from_dict) — one base class instead of a copy per network."""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

from ..process import PROCESSES, Process

C = TypeVar("C", bound="NetConfig")


@dataclass(frozen=True)
class NetConfig:
    """Base of every network config (subclasses add sizes): process name + non-default parameters, sigma_data, dataset."""

    process: str = "vp_linear"            # a name in explorer.process.PROCESSES
    process_params: tuple = ()            # non-default fields of that process, as (name, value) pairs
    dataset: str = ""                     # informational: the dataset it was trained on
    data_std: float = 1.0                 # sigma_data in c_in(t) = 1 / sqrt(alpha^2 sigma_data^2 + sigma^2)

    INTEGERS: ClassVar[tuple] = ()        # (field, minimum) pairs the subclass checks as integers

    def __post_init__(self):
        if self.process not in PROCESSES:
            raise ValueError(f"unknown process {self.process!r}; expected one of {sorted(PROCESSES)}")
        for name, lo in self.INTEGERS:
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < lo:
                raise ValueError(f"{name} must be an integer >= {lo}, got {v!r}")
        if not (isinstance(self.data_std, (int, float)) and math.isfinite(self.data_std) and self.data_std > 0):
            raise ValueError(f"data_std must be positive and finite, got {self.data_std!r}")
        object.__setattr__(self, "process_params", tuple((str(k), float(v)) for k, v in self.process_params))

    def make_sde(self) -> Process:
        """The forward process this network was made for."""
        return PROCESSES[self.process](**dict(self.process_params))

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["process_params"] = dict(self.process_params)
        return d

    @classmethod
    def from_dict(cls: type[C], d: dict[str, Any]) -> C:
        """Inverse of to_dict; unknown keys fail with the valid ones."""
        known = {f.name for f in dataclasses.fields(cls)}
        extra = set(d) - known
        if extra:
            raise ValueError(f"unknown config keys {sorted(extra)}; expected some of {sorted(known)}")
        d = dict(d)
        d["process_params"] = tuple(dict(d.get("process_params", {})).items())
        return cls(**d)


def process_fields(sde: Process) -> dict[str, Any]:
    """{"process": name, "process_params": non-default dataclass fields} of a forward process."""
    default = type(sde)()
    params = tuple((f.name, getattr(sde, f.name)) for f in dataclasses.fields(sde)
                   if getattr(sde, f.name) != getattr(default, f.name))
    return {"process": sde.name, "process_params": params}


def data_rms(dataset) -> float:
    """sigma_data = RMS of x under the dataset's exact distribution (mixture or empirical), 1 if it has none."""
    exact = getattr(dataset, "mixture", None) or getattr(dataset, "empirical", None)
    return float((exact.variance() + exact.mean() ** 2).mean().sqrt()) if exact is not None else 1.0


def for_data(cls: type[C], dataset, sde: Process, **fields) -> C:
    """A config of class cls for a dataset (its name and sigma_data) and a process, with the given fields."""
    return cls(**{"dataset": dataset.name, "data_std": data_rms(dataset), **process_fields(sde), **fields})
