"""One notation (issue #17): the glossary shown in the Lessons tab defines every symbol the UI text uses, each once,
and the known second meanings (the Langevin step as ε, "SNR" for the corrector's step ratio, an undefined s(x), γ
for EDM's churn) appear nowhere on screen."""
from __future__ import annotations

import re
from pathlib import Path

from explorer.lessons import LESSONS

ROOT = Path(__file__).resolve().parent.parent
UI = ROOT / "explorer" / "ui"
GLOSSARY = (UI / "text" / "glossary.md").read_text(encoding="utf-8")

GREEK = ("alpha beta gamma delta epsilon varepsilon zeta eta theta kappa lambda mu nu xi pi rho sigma tau phi varphi "
         "chi psi omega").split()
UNICODE = dict(zip("αβγδεζηθκλμνξπρστφχψω", "alpha beta gamma delta varepsilon zeta eta theta kappa lambda mu nu xi pi "
                                           "rho sigma tau phi chi psi omega".split()))
OPERATORS = set("ΣΔ")           # summation, increments: not symbols with a meaning of their own


def _rows() -> list[tuple[str, str]]:
    rows = []
    for line in GLOSSARY.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and len(cells) == 2 and cells[0] not in ("Symbol", "---"):
            rows.append((cells[0], cells[1]))
    return rows


def _ui_texts() -> dict[str, str]:
    texts = {p.name: p.read_text(encoding="utf-8") for p in sorted((UI / "text").glob("*.md"))}
    texts["lessons"] = " ".join(" ".join((x.title, x.text, x.look_for, x.question, x.answer)) for x in LESSONS)
    for p in sorted(UI.glob("*.py")):            # labels, titles and messages in the tab modules
        texts[p.name] = " ".join(re.findall(r"\"(?:[^\"\\]|\\.)*\"", p.read_text(encoding="utf-8")))
    texts["README.md"] = (ROOT / "README.md").read_text(encoding="utf-8")
    return texts


def _letters(text: str) -> set[str]:
    found = set(re.findall(r"\\(" + "|".join(GREEK) + r")(?![a-zA-Z])", text))
    found |= {UNICODE[ch] for ch in set(text) if ch in UNICODE}
    return found


def test_glossary_rows_are_unique_symbols():
    rows = _rows()
    assert len(rows) >= 30
    symbols = [s for s, _ in rows]
    assert len(set(symbols)) == len(symbols), "a symbol listed twice"
    tokens = {}
    for sym, _ in rows:
        for tok in re.findall(r"\$([^$]+)\$", sym):
            assert tok not in tokens, f"{tok!r} defined in two rows: {tokens[tok]!r} and {sym!r}"
            tokens[tok] = sym


def test_every_greek_symbol_on_screen_is_in_the_glossary():
    defined = _letters(" ".join(s for s, _ in _rows()))
    for name, text in _ui_texts().items():
        missing = _letters(text) - defined
        assert not missing, f"{name} uses {sorted(missing)}, which the glossary does not define"


FORBIDDEN = {
    r"\\epsilon(?![a-zA-Z])": "the Langevin step is τ; ε (\\varepsilon) is the Gaussian draw",
    r"step size ε": "the Langevin step is τ",
    r"(?i)corrector SNR": "SNR is α²/σ²; the corrector's step ratio is r",
    r"(?<![\w_])s\(x": "the score is ∇ₓ log p_t(x_t) or a network's s_θ(x_t, t); s(x) is undefined",
    r"1 \+ \\gamma\$": "γ is the guidance scale; EDM's churn is S_churn",
    r"D_w|D_\{\\text\{weak\}\}": "D is the data dimension; a denoiser is x̂₀",
    r"w\\,\(s_\\theta": "w is Brownian motion (and w_k a mixture weight); a guidance weight is γ",
}


def test_no_symbol_has_a_second_meaning_on_screen():
    for name, text in _ui_texts().items():
        for pattern, why in FORBIDDEN.items():
            hit = re.search(pattern, text)
            assert hit is None, f"{name}: {hit.group(0)!r} — {why}"


def test_the_glossary_is_shown_in_the_app():
    from explorer.ui import lessons_tab

    assert 'read_markdown("glossary")' in Path(lessons_tab.__file__).read_text(encoding="utf-8")
