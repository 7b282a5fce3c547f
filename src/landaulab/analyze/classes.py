"""The table of universality classes, each value with its source.

Each :class:`UniversalityClass` holds the critical exponents α, β, γ, δ, ν, η where they are
known, the Binder crossing U* (with its boundary-condition caveat) where it is known for a
scalar order parameter, the spatial dimension d, the leading correction-to-scaling exponent
ω (used for the finite-size systematic term of :mod:`landaulab.analyze.universality`), the
one-standard-deviation uncertainty of every value that is known only numerically, and the
citation. Conventions: m ∝ |t|^β, χ ∝ |t|^(−γ), m ∝ h^(1/δ) at T_c, ξ ∝ |t|^(−ν),
G(r) ∝ r^(−(d − 2 + η)), C ∝ |t|^(−α); the Binder cumulant is U = 1 − ⟨m⁴⟩/(3⟨m²⟩²).

Sources
-------
* Mean field (Landau theory; any model above its upper critical dimension d_uc = 4, or
  with infinite-range interactions): α = 0 (a jump), β = 1/2, γ = 1, δ = 3, ν = 1/2, η = 0.
  U* = 1 − Γ(1/4)²/(12 Γ(3/4)²) ≈ 0.2705 for P(m) ∝ exp(−c m⁴) at T_c (Brézin &
  Zinn-Justin 1985, Nucl. Phys. B 257, 867). With the number of degrees of freedom N as
  size, FSS corrections go as N^(−1/2) (ω = 2 in L = N^(1/4)); finite-size scaling in N has
  ν_N = 2 (Botet, Jullien & Pfeuty 1982, PRL 49, 478).
* Tricritical mean field (Griffiths 1970, PRL 24, 715; Lawrie & Sarbach 1984, in Domb &
  Lebowitz vol. 9): α = 1/2, β = 1/4, γ = 1, δ = 5, ν = 1/2, η = 0, d_uc = 3.
  U* = 1/3 for P(m) ∝ exp(−c m⁶) (derived: ⟨m⁴⟩⟨m⁰⟩/⟨m²⟩² = Γ(5/6)Γ(1/6)/Γ(1/2)² = 2).
* 2D Ising, exact (Onsager 1944, Phys. Rev. 65, 117; Yang 1952, Phys. Rev. 85, 808):
  α = 0 (log), β = 1/8, γ = 7/4, δ = 15, ν = 1, η = 1/4; U* = 0.61069 on periodic square
  lattices (Kamieniarz & Blöte 1993, J. Phys. A 26, 201). Leading corrections: the analytic
  background of χ relative to L^(7/4), and irrelevant operators with ω = 2 (Caselle,
  Hasenbusch, Pelissetto & Vicari 2002, J. Phys. A 35, 4861, arXiv:cond-mat/0106372): ω = 7/4.
* 2D 3-state and 4-state Potts, exact (den Nijs 1979, J. Phys. A 12, 1857; Nienhuis 1984, in
  Domb & Lebowitz vol. 11; Wu 1982, Rev. Mod. Phys. 54, 235): q = 3: α = 1/3, β = 1/9,
  γ = 13/9, δ = 14, ν = 5/6, η = 4/15 (ω = 4/5 from the subleading thermal dimension 14/5);
  q = 4: α = 2/3, β = 1/12, γ = 7/6, δ = 15, ν = 2/3, η = 1/4, with multiplicative logarithmic
  corrections from a marginal operator (Cardy, Nauenberg & Scalapino 1980, PRB 22, 2560;
  Salas & Sokal 1997, J. Stat. Phys. 88, 567).
* 3D Ising from the conformal bootstrap (Kos, Poland, Simmons-Duffin & Vichi 2016, JHEP 08,
  036, arXiv:1603.04436): Δσ = 0.5181489(10), Δε = 1.412625(10), so ν = 1/(3 − Δε),
  η = 2Δσ − 1 and α, β, γ, δ by the scaling relations (hyperscaling in d = 3).
  U* = 1 − 1.6036/3 on periodic simple-cubic lattices (Hasenbusch 2010, PRB 82, 174433,
  arXiv:1004.4486), ω = 0.832(6) (same source).
* 3D XY = O(2) and 3D Heisenberg = O(3) (Pelissetto & Vicari 2002, Phys. Rep. 368, 549,
  arXiv:cond-mat/0012164, best values of their tables; the O(2) bootstrap island of Kos et
  al. 2016 agrees): XY α = −0.0146(8), β = 0.3485(2), γ = 1.3177(5), δ = 4.780(2),
  ν = 0.67155(27), η = 0.0380(4), ω = 0.79(2); Heisenberg α = −0.1336(15), β = 0.3689(3),
  γ = 1.3960(9), δ = 4.783(3), ν = 0.7112(5), η = 0.0375(5), ω = 0.78(2). No U*: the Binder
  cumulant of an n-component order parameter is normalised differently.
* 2D percolation, exact (den Nijs 1979; Nienhuis 1982, J. Phys. A 15, 199; Stauffer &
  Aharony 1994, "Introduction to Percolation Theory", table 2): α = −2/3, β = 5/36,
  γ = 43/18, δ = 91/5, ν = 4/3, η = 5/24.
* Directed percolation (Hinrichsen 2000, Adv. Phys. 49, 815, arXiv:cond-mat/0001070, table 2;
  1+1 values from Jensen 1999, J. Phys. A 32, 5233): 1+1: β = 0.276486(8),
  ν⊥ = 1.096854(4), ν∥ = 1.733847(6); 2+1: β = 0.584(4), ν⊥ = 0.734(4), ν∥ = 1.295(6).
  Here β is the exponent of the stationary density; the survival exponent β′ equals β in DP
  (rapidity reversal), ν is the spatial ν⊥ (finite-size scaling in a length), ν∥ is the
  temporal one. γ is the fluctuation exponent γ′ = dν⊥ − β − β′ of L^d·var(ρ), which is what
  a variance-based susceptibility measures (the response to a source has ν∥ + dν⊥ − β − β′
  instead; Lübeck 2004, Int. J. Mod. Phys. B 18, 3977, arXiv:cond-mat/0501259); δ is the
  field exponent σ/β with σ = ν∥ + dν⊥ − β′ (ρ ∝ h^(β/σ)), not Hinrichsen's survival δ = β′/ν∥.
* Deep linear network with one hidden layer and weight decay (Ziyin & Ueda 2022,
  arXiv:2205.12510): b* = max(a − γ, 0), so the order parameter vanishes linearly, β = 1
  (a deterministic minimum of a non-analytic loss: no fluctuations, no ν). The other exactly
  solvable learning problems the project ships (linear VAE / probabilistic PCA, Gaussian
  information bottleneck, deterministic annealing) switch on with exponent 1/2: mean field.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

#: The quantities a class may hold, in the order they are reported.
QUANTITIES = ("alpha", "beta", "gamma", "delta", "nu", "eta", "binder_crossing")

#: How each quantity is written in sentences.
SYMBOLS = {
    "alpha": "α",
    "beta": "β",
    "gamma": "γ",
    "delta": "δ",
    "nu": "ν",
    "eta": "η",
    "binder_crossing": "U*",
}


@dataclass(frozen=True)
class UniversalityClass:
    """Critical exponents, Binder crossing value and source of a universality class.

    The first four fields keep the historical positional form
    ``UniversalityClass(name, beta, gamma, binder_crossing)``. ``None`` means "not known" (or
    not defined for this class). ``uncertainties`` holds ``(quantity, one-σ)`` pairs for
    values known only numerically; exact values have none. ``dimension`` is the spatial
    dimension d (the upper critical dimension for a mean-field class); ``omega`` the leading
    correction-to-scaling exponent in a linear size L, ``log_corrections`` whether the
    leading corrections are logarithmic instead.
    """

    name: str
    beta: float | None
    gamma: float | None
    binder_crossing: float | None
    alpha: float | None = None
    delta: float | None = None
    nu: float | None = None
    eta: float | None = None
    dimension: int | None = None
    omega: float | None = None
    log_corrections: bool = False
    uncertainties: tuple[tuple[str, float], ...] = ()
    exact: bool = False
    binder_caveat: str = ""
    citation: str = ""
    notes: str = ""

    def value(self, quantity: str) -> float | None:
        """The class value of ``quantity`` (one of :data:`QUANTITIES`), or None."""
        if quantity not in QUANTITIES:
            return None
        value = getattr(self, quantity)
        return None if value is None else float(value)

    def uncertainty(self, quantity: str) -> float:
        """One-σ uncertainty of the table value (0 for exact values)."""
        return float(dict(self.uncertainties).get(quantity, 0.0))

    def size_nu(self, size_is_volume: bool) -> float | None:
        """ν in units of the size column: ν for a linear size L, d·ν when the size is a
        volume N = L^d (Botet, Jullien & Pfeuty 1982; for mean field d = d_uc = 4 gives 2)."""
        if self.nu is None:
            return None
        if not size_is_volume:
            return float(self.nu)
        return None if self.dimension is None else float(self.dimension * self.nu)

    def size_omega(self, size_is_volume: bool) -> float | None:
        """ω in units of the size column: ω for a linear size, ω/d for a volume."""
        if self.omega is None:
            return None
        if not size_is_volume:
            return float(self.omega)
        return None if self.dimension is None else float(self.omega / self.dimension)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe description of the class (values, uncertainties, source)."""
        return {
            "name": self.name,
            **{q: self.value(q) for q in QUANTITIES},
            "uncertainties": dict(self.uncertainties),
            "dimension": self.dimension,
            "omega": self.omega,
            "log_corrections": self.log_corrections,
            "exact": self.exact,
            "binder_caveat": self.binder_caveat,
            "citation": self.citation,
            "notes": self.notes,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> UniversalityClass:
        """The inverse of :meth:`to_dict`."""
        values = {q: data.get(q) for q in QUANTITIES}
        return cls(
            name=str(data["name"]),
            uncertainties=tuple(sorted((data.get("uncertainties") or {}).items())),
            dimension=data.get("dimension"),
            omega=data.get("omega"),
            log_corrections=bool(data.get("log_corrections", False)),
            exact=bool(data.get("exact", False)),
            binder_caveat=str(data.get("binder_caveat", "")),
            citation=str(data.get("citation", "")),
            notes=str(data.get("notes", "")),
            **values,
        )


_PERIODIC = "periodic boundary conditions and a square (cubic) shape; other boundaries or "
_PERIODIC += "aspect ratios give other U*"

MEAN_FIELD = UniversalityClass(
    "mean field",
    beta=0.5,
    gamma=1.0,
    binder_crossing=1.0 - math.gamma(0.25) ** 2 / (12.0 * math.gamma(0.75) ** 2),
    alpha=0.0,
    delta=3.0,
    nu=0.5,
    eta=0.0,
    dimension=4,
    omega=2.0,
    exact=True,
    binder_caveat="infinite-range (all-to-all) models, or periodic boxes above d = 4 "
    "(Brézin & Zinn-Justin 1985)",
    citation="Landau 1937; Brézin & Zinn-Justin 1985, Nucl. Phys. B 257, 867; Botet, "
    "Jullien & Pfeuty 1982, PRL 49, 478",
    notes="d is the upper critical dimension 4; α = 0 is a jump. Corrections in N^(−1/2).",
)

TRICRITICAL_MEAN_FIELD = UniversalityClass(
    "tricritical mean field",
    beta=0.25,
    gamma=1.0,
    binder_crossing=1.0 / 3.0,
    alpha=0.5,
    delta=5.0,
    nu=0.5,
    eta=0.0,
    dimension=3,
    exact=True,
    binder_caveat="infinite-range models at the tricritical point, P(m) ∝ exp(−c m⁶) (derived)",
    citation="Griffiths 1970, PRL 24, 715; Lawrie & Sarbach 1984, in Domb & Lebowitz, "
    "Phase Transitions and Critical Phenomena 9",
    notes="d is the upper critical dimension 3.",
)

ISING_2D = UniversalityClass(
    "2D Ising",
    beta=1.0 / 8.0,
    gamma=7.0 / 4.0,
    binder_crossing=0.61069,
    alpha=0.0,
    delta=15.0,
    nu=1.0,
    eta=0.25,
    dimension=2,
    omega=7.0 / 4.0,
    uncertainties=(("binder_crossing", 1e-5),),
    exact=True,
    binder_caveat="U* = 0.61069 for " + _PERIODIC + " (Kamieniarz & Blöte 1993)",
    citation="Onsager 1944, Phys. Rev. 65, 117; Yang 1952, Phys. Rev. 85, 808; Kamieniarz & "
    "Blöte 1993, J. Phys. A 26, 201; Caselle et al. 2002, arXiv:cond-mat/0106372",
    notes="α = 0 is a logarithm.",
)

POTTS3_2D = UniversalityClass(
    "2D 3-state Potts",
    beta=1.0 / 9.0,
    gamma=13.0 / 9.0,
    binder_crossing=None,
    alpha=1.0 / 3.0,
    delta=14.0,
    nu=5.0 / 6.0,
    eta=4.0 / 15.0,
    dimension=2,
    omega=4.0 / 5.0,
    exact=True,
    binder_caveat="no U* in the table: the cumulant of the complex Potts order parameter is "
    "normalised differently",
    citation="den Nijs 1979, J. Phys. A 12, 1857; Nienhuis 1984, in Domb & Lebowitz 11; "
    "Wu 1982, Rev. Mod. Phys. 54, 235",
)

POTTS4_2D = UniversalityClass(
    "2D 4-state Potts",
    beta=1.0 / 12.0,
    gamma=7.0 / 6.0,
    binder_crossing=None,
    alpha=2.0 / 3.0,
    delta=15.0,
    nu=2.0 / 3.0,
    eta=0.25,
    dimension=2,
    log_corrections=True,
    exact=True,
    binder_caveat="no U* in the table (vector order parameter)",
    citation="den Nijs 1979, J. Phys. A 12, 1857; Nienhuis 1984, in Domb & Lebowitz 11; "
    "Wu 1982, Rev. Mod. Phys. 54, 235; Cardy, Nauenberg & Scalapino 1980, PRB 22, 2560; "
    "Salas & Sokal 1997, J. Stat. Phys. 88, 567",
    notes="Multiplicative logarithmic corrections (marginal operator): effective exponents "
    "converge slowly.",
)

# 3D Ising from the bootstrap scaling dimensions (Kos, Poland, Simmons-Duffin & Vichi 2016).
_D_SIGMA, _D_EPSILON = 0.5181489, 1.412625
_NU_3D = 1.0 / (3.0 - _D_EPSILON)
_ETA_3D = 2.0 * _D_SIGMA - 1.0
ISING_3D = UniversalityClass(
    "3D Ising",
    beta=_NU_3D * (1.0 + _ETA_3D) / 2.0,
    gamma=_NU_3D * (2.0 - _ETA_3D),
    binder_crossing=1.0 - 1.6036 / 3.0,
    alpha=2.0 - 3.0 * _NU_3D,
    delta=(5.0 - _ETA_3D) / (1.0 + _ETA_3D),
    nu=_NU_3D,
    eta=_ETA_3D,
    dimension=3,
    omega=0.832,
    uncertainties=(
        ("alpha", 2e-5),
        ("beta", 1e-5),
        ("binder_crossing", 4e-5),
        ("delta", 1e-5),
        ("eta", 2e-6),
        ("gamma", 1e-5),
        ("nu", 5e-6),
    ),
    binder_caveat="U* = 1 − 1.6036/3 for " + _PERIODIC + " (Hasenbusch 2010)",
    citation="Kos, Poland, Simmons-Duffin & Vichi 2016, JHEP 08, 036, arXiv:1603.04436; "
    "Pelissetto & Vicari 2002, arXiv:cond-mat/0012164; Hasenbusch 2010, PRB 82, 174433, "
    "arXiv:1004.4486",
    notes="α, β, γ, δ from ν = 1/(3 − Δε) and η = 2Δσ − 1 by the scaling relations.",
)

XY_3D = UniversalityClass(
    "3D XY",
    beta=0.3485,
    gamma=1.3177,
    binder_crossing=None,
    alpha=-0.0146,
    delta=4.780,
    nu=0.67155,
    eta=0.0380,
    dimension=3,
    omega=0.79,
    uncertainties=(
        ("alpha", 8e-4),
        ("beta", 2e-4),
        ("delta", 2e-3),
        ("eta", 4e-4),
        ("gamma", 5e-4),
        ("nu", 2.7e-4),
    ),
    binder_caveat="no U* in the table (two-component order parameter)",
    citation="Pelissetto & Vicari 2002, Phys. Rep. 368, 549, arXiv:cond-mat/0012164; "
    "Kos, Poland, Simmons-Duffin & Vichi 2016, arXiv:1603.04436 (O(2) island)",
)

HEISENBERG_3D = UniversalityClass(
    "3D Heisenberg",
    beta=0.3689,
    gamma=1.3960,
    binder_crossing=None,
    alpha=-0.1336,
    delta=4.783,
    nu=0.7112,
    eta=0.0375,
    dimension=3,
    omega=0.78,
    uncertainties=(
        ("alpha", 1.5e-3),
        ("beta", 3e-4),
        ("delta", 3e-3),
        ("eta", 5e-4),
        ("gamma", 9e-4),
        ("nu", 5e-4),
    ),
    binder_caveat="no U* in the table (three-component order parameter)",
    citation="Pelissetto & Vicari 2002, Phys. Rep. 368, 549, arXiv:cond-mat/0012164",
)

PERCOLATION_2D = UniversalityClass(
    "2D percolation",
    beta=5.0 / 36.0,
    gamma=43.0 / 18.0,
    binder_crossing=None,
    alpha=-2.0 / 3.0,
    delta=91.0 / 5.0,
    nu=4.0 / 3.0,
    eta=5.0 / 24.0,
    dimension=2,
    exact=True,
    binder_caveat="no U* in the table (percolation has no thermal Binder cumulant)",
    citation="den Nijs 1979, J. Phys. A 12, 1857; Nienhuis 1982, J. Phys. A 15, 199; "
    "Stauffer & Aharony 1994, Introduction to Percolation Theory, table 2",
)


def _directed_percolation(
    name: str, d: int, beta: float, nu_perp: float, nu_par: float, errors: tuple[float, ...]
) -> UniversalityClass:
    """A DP class from β (= β′), ν⊥ and ν∥ (Hinrichsen 2000): γ′ = dν⊥ − 2β and
    δ = σ/β with σ = ν∥ + dν⊥ − β; uncertainties propagated linearly (upper bound)."""
    e_beta, e_perp, e_par = errors
    gamma = d * nu_perp - 2.0 * beta
    sigma = nu_par + d * nu_perp - beta
    delta = sigma / beta
    e_gamma = d * e_perp + 2.0 * e_beta
    e_sigma = e_par + d * e_perp + e_beta
    e_delta = delta * (e_sigma / sigma + e_beta / beta)
    return UniversalityClass(
        name,
        beta=beta,
        gamma=gamma,
        binder_crossing=None,
        delta=delta,
        nu=nu_perp,
        dimension=d,
        uncertainties=(
            ("beta", e_beta),
            ("delta", e_delta),
            ("gamma", e_gamma),
            ("nu", e_perp),
        ),
        binder_caveat="no U* in the table (an absorbing-state transition)",
        citation="Hinrichsen 2000, Adv. Phys. 49, 815, arXiv:cond-mat/0001070; Jensen 1999, "
        "J. Phys. A 32, 5233; Lübeck 2004, arXiv:cond-mat/0501259",
        notes=f"β = β′ (density and survival); ν = ν⊥, ν∥ = {nu_par}; γ is the fluctuation "
        "exponent dν⊥ − β − β′; δ is the field exponent σ/β, not the survival exponent β′/ν∥.",
    )


DIRECTED_PERCOLATION_1 = _directed_percolation(
    "directed percolation (1+1)", 1, 0.276486, 1.096854, 1.733847, (8e-6, 4e-6, 6e-6)
)
DIRECTED_PERCOLATION_2 = _directed_percolation(
    "directed percolation (2+1)", 2, 0.584, 0.734, 1.295, (4e-3, 4e-3, 6e-3)
)

DEEP_LINEAR = UniversalityClass(
    "deep linear network",
    beta=1.0,
    gamma=None,
    binder_crossing=None,
    exact=True,
    citation="Ziyin & Ueda 2022, arXiv:2205.12510",
    notes="One hidden layer with weight decay γ_wd: b* = max(a − γ_wd, 0), β = 1. A "
    "deterministic minimum of a non-analytic loss: no fluctuations, so no γ, ν or U*.",
)

#: Every class in the table, in the order they are listed.
CLASSES: tuple[UniversalityClass, ...] = (
    MEAN_FIELD,
    TRICRITICAL_MEAN_FIELD,
    ISING_2D,
    POTTS3_2D,
    POTTS4_2D,
    ISING_3D,
    XY_3D,
    HEISENBERG_3D,
    PERCOLATION_2D,
    DIRECTED_PERCOLATION_1,
    DIRECTED_PERCOLATION_2,
    DEEP_LINEAR,
)


def find_class(name: str) -> UniversalityClass:
    """The class of this name (as spelled in the table); KeyError naming the choices."""
    for cls in CLASSES:
        if cls.name == name:
            return cls
    raise KeyError(f"no universality class {name!r}; known: {', '.join(c.name for c in CLASSES)}")


__all__ = [
    "CLASSES",
    "DEEP_LINEAR",
    "DIRECTED_PERCOLATION_1",
    "DIRECTED_PERCOLATION_2",
    "HEISENBERG_3D",
    "ISING_2D",
    "ISING_3D",
    "MEAN_FIELD",
    "PERCOLATION_2D",
    "POTTS3_2D",
    "POTTS4_2D",
    "QUANTITIES",
    "SYMBOLS",
    "TRICRITICAL_MEAN_FIELD",
    "XY_3D",
    "UniversalityClass",
    "find_class",
]
