"""The landscape view's whole state, and its two spellings: the URL query and the exported JSON.

A link reproduces a view because every setting that shapes it is in the query::

    ?function=rosenbrock&optimizers=adam,sgd&lr=adam:0.03,sgd:0.003&momentum=sgd:0.9
     &beta1=adam:0.9&beta2=adam:0.999&start=-1.2,1&steps=1000&noise=0&seed=0&heat=adam

Values come from a browser, so none is trusted: :func:`parse` clamps a number outside its range to
the nearest bound and drops an unknown name, and says so in a message for the page, never raising.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, replace

from .. import landscape
from ..optim.registry import REGISTRY

LR_RANGE = (1e-8, 10.0)
MOMENTUM_RANGE = (0.0, 0.999)    # momentum and beta1: 1 would never forget a gradient
BETA2_RANGE = (0.0, 0.99999)
STEPS_RANGE = (1, 20000)
NOISE_RANGE = (0.0, 10.0)
SEED_RANGE = (0, 2**31 - 1)
MAX_OPTIMIZERS = 12              # beyond this the paths cannot be told apart, and a link could ask for work
DEFAULT_OPTIMIZERS = ("sgd", "momentum", "nesterov", "rmsprop", "adam", "lion")
HYPER_KEYS = ("momentum", "beta1", "beta2")


def first_order_names() -> list[str]:
    """The registry optimizers that step on a point (those built over a model, such as K-FAC, do not)."""
    return [name for name, e in REGISTRY.items() if not e.takes_model]


def optimizer_names() -> list[str]:
    """Every name the landscape tab offers: the first-order optimizers, then the second-order methods."""
    return first_order_names() + landscape.second_order_methods()


def is_second_order(name: str) -> bool:
    """Whether ``name`` is a second-order method (no learning rate: its line search chooses the steps)."""
    return name not in REGISTRY and name in landscape.second_order_methods()


@dataclass(frozen=True)
class Settings:
    """One optimizer's sliders: ``lr`` (None for a second-order method) and the momentum-like
    hyperparameters it has (None where it has none)."""

    lr: float | None = None
    momentum: float | None = None
    beta1: float | None = None
    beta2: float | None = None

    def hyper(self, name: str) -> dict:
        """The keyword arguments of :func:`fastopt.landscape.trajectory` these settings stand for."""
        out = {} if self.momentum is None else {"momentum": self.momentum}
        if self.beta1 is not None:
            betas = REGISTRY[name].hyperparameters()["betas"]
            out["betas"] = (self.beta1, self.beta2 if self.beta2 is not None else betas[1], *betas[2:])
        return out


def default_settings(function: str, name: str) -> Settings:
    """The settings ``name`` starts with on ``function``: its tabulated rate (else its own default) and
    its preset momentum and betas."""
    if is_second_order(name):
        return Settings()
    hyper = REGISTRY[name].hyperparameters()
    lr = landscape.default_lr(function, name) or hyper["lr"]
    betas = hyper.get("betas")
    return Settings(lr=float(lr), momentum=float(hyper["momentum"]) if "momentum" in hyper else None,
                    beta1=float(betas[0]) if betas else None, beta2=float(betas[1]) if betas else None)


@dataclass(frozen=True)
class State:
    """What the landscape tab shows: a function, optimizers with their settings, and the shared run settings.

    Parameters
    ----------
    function : str
        A built-in test function (2-D).
    optimizers : tuple of str
        Names of :func:`optimizer_names`, in drawing order.
    settings : dict
        name -> :class:`Settings`, one per optimizer.
    start : (float, float)
        The start point, inside the function's domain.
    steps, noise, seed
        As :func:`fastopt.landscape.trajectory` takes them.
    heat : str or None
        The optimizer whose (lr, momentum) heat map is shown.
    """

    function: str = "rosenbrock"
    optimizers: tuple = DEFAULT_OPTIMIZERS
    settings: dict = field(default_factory=dict)
    start: tuple = (-1.2, 1.0)
    steps: int = 1000
    noise: float = 0.0
    seed: int = 0
    heat: str | None = "momentum"

    def settings_of(self, name: str) -> Settings:
        """``name``'s settings, its defaults on this function where none were set."""
        return self.settings.get(name) or default_settings(self.function, name)

    def with_settings(self, name: str, **changes) -> "State":
        """A copy where ``name``'s settings have ``changes``."""
        return replace(self, settings={**self.settings, name: replace(self.settings_of(name), **changes)})


def default_state(function: str = "rosenbrock", optimizers=DEFAULT_OPTIMIZERS) -> State:
    """The state a page opens with: ``function`` from its standard start, each optimizer at its default settings."""
    start = tuple(float(v) for v in landscape.get(function).start)
    settings = {n: default_settings(function, n) for n in optimizers}
    with_momentum = [n for n in optimizers if _has_momentum(settings[n])]
    # The heat map opens on the first optimizer whose momentum is in use (sgd's preset momentum is 0).
    heat = next((n for n in with_momentum if settings[n].momentum or settings[n].beta1), None) or \
        next(iter(with_momentum), None)
    return State(function, tuple(optimizers), settings, start, heat=heat)


def _has_momentum(s: Settings) -> bool:
    return s.momentum is not None or s.beta1 is not None


def heat_axis(settings: Settings) -> str | None:
    """The hyperparameter on the heat map's second axis: ``momentum``, else ``beta1``, else None."""
    return "momentum" if settings.momentum is not None else "beta1" if settings.beta1 is not None else None


# ---------------------------------------------------------------------------------------------- parsing
def _clamp(value: float, bounds, what: str, messages: list) -> float:
    low, high = bounds
    if not low <= value <= high:
        clamped = min(max(value, low), high)
        messages.append(f"{what}: {value:g} is outside [{low:g}, {high:g}]; using {clamped:g}")
        return clamped
    return value


def _number(text, what: str, messages: list) -> float | None:
    try:
        value = float(text)
    except (TypeError, ValueError):
        messages.append(f"{what}: {str(text)[:40]!r} is not a number; ignored")
        return None
    if not math.isfinite(value):
        messages.append(f"{what}: {text!r} is not finite; ignored")
        return None
    return value


def _pairs(text: str, what: str, messages: list) -> dict[str, str]:
    """``"adam:0.03,sgd:0.003"`` -> {"adam": "0.03", "sgd": "0.003"}; malformed items are reported."""
    out = {}
    for item in filter(None, str(text).split(",")):
        name, sep, value = item.partition(":")
        if not sep:
            messages.append(f"{what}: {item[:40]!r} is not name:value; ignored")
        else:
            out[name.strip().lower()] = value.strip()
    return out


def parse(query: dict) -> tuple[State, list[str]]:
    """The state a URL query (or an exported configuration) describes, and messages about what was changed.

    Parameters
    ----------
    query : dict
        str -> str (a single value; a list takes its first item; bytes are decoded): the keys of the
        module docstring.  Missing keys take their defaults.

    Returns
    -------
    tuple
        (:class:`State`, list of str): every value clamped into its range, unknown names dropped, each
        change described in a message.  Never raises on bad input.
    """
    q = {str(k): _text(v) for k, v in query.items()}
    messages: list[str] = []
    functions = landscape.functions()
    function = q.get("function", "rosenbrock").lower()
    if function not in functions:
        messages.append(f"function: unknown {function[:40]!r}; using rosenbrock")
        function = "rosenbrock"
    known = optimizer_names()
    optimizers = list(DEFAULT_OPTIMIZERS)
    if "optimizers" in q:
        asked = [n.strip().lower() for n in q["optimizers"].split(",") if n.strip()]
        unknown = [n for n in asked if n not in known]
        if unknown:
            messages.append(f"optimizers: unknown {', '.join(repr(n[:40]) for n in unknown[:5])}; ignored")
        optimizers = list(dict.fromkeys(n for n in asked if n in known))
        if len(optimizers) > MAX_OPTIMIZERS:
            messages.append(f"optimizers: at most {MAX_OPTIMIZERS}; kept the first {MAX_OPTIMIZERS}")
            optimizers = optimizers[:MAX_OPTIMIZERS]
    state = default_state(function, optimizers)
    settings = dict(state.settings)
    ranges = {"lr": LR_RANGE, "momentum": MOMENTUM_RANGE, "beta1": MOMENTUM_RANGE, "beta2": BETA2_RANGE}
    for key, bounds in ranges.items():
        for name, text in _pairs(q.get(key, ""), key, messages).items():
            if name not in settings:
                messages.append(f"{key}: {name[:40]!r} is not among the optimizers shown; ignored")
                continue
            if getattr(settings[name], key) is None:
                messages.append(f"{key}: {name} has no {key}; ignored")
                continue
            value = _number(text, f"{key} of {name}", messages)
            if value is not None:
                settings[name] = replace(settings[name], **{key: _clamp(value, bounds, f"{key} of {name}", messages)})
    start = state.start
    if "start" in q:
        parts = q["start"].split(",")
        values = [_number(p, "start", messages) for p in parts] if len(parts) == 2 else None
        if values is None:
            messages.append(f"start: expected x,y, got {q['start'][:40]!r}; using the standard start")
        elif None not in values:
            domain = landscape.get(function).domain
            start = tuple(_clamp(v, d, f"start {axis}", messages) for v, d, axis in zip(values, domain, "xy"))
    steps = _integer(q, "steps", STEPS_RANGE, state.steps, messages)
    seed = _integer(q, "seed", SEED_RANGE, state.seed, messages)
    noise = state.noise
    if "noise" in q and (value := _number(q["noise"], "noise", messages)) is not None:
        noise = _clamp(value, NOISE_RANGE, "noise", messages)
    heat = state.heat
    if "heat" in q:
        asked = q["heat"].lower()
        if asked in settings and _has_momentum(settings[asked]):
            heat = asked
        else:
            messages.append(f"heat: {asked[:40]!r} is not a shown optimizer with a momentum or beta1; "
                            f"using {heat}")
    return replace(state, settings=settings, start=start, steps=steps, noise=noise, seed=seed, heat=heat), messages


def _text(value) -> str:
    if isinstance(value, (list, tuple)):
        value = value[0] if value else ""
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return str(value)


def _integer(q: dict, key: str, bounds, default: int, messages: list) -> int:
    if key not in q:
        return default
    value = _number(q[key], key, messages)
    if value is None:
        return default
    if value != int(value):
        messages.append(f"{key}: {value:g} is not a whole number; using {int(value)}")
    return int(_clamp(int(value), bounds, key, messages))


# ---------------------------------------------------------------------------------------------- writing
def _number_text(value: float) -> str:
    return f"{value:.6g}"


def to_query(state: State) -> dict[str, str]:
    """The URL query of ``state`` (str -> str), which :func:`parse` reads back to the same state."""
    query = {"function": state.function, "optimizers": ",".join(state.optimizers)}
    for key in ("lr", *HYPER_KEYS):
        items = [f"{n}:{_number_text(v)}" for n in state.optimizers
                 if (v := getattr(state.settings_of(n), key)) is not None]
        if items:
            query[key] = ",".join(items)
    query.update(start=",".join(_number_text(v) for v in state.start), steps=str(state.steps),
                 noise=_number_text(state.noise), seed=str(state.seed))
    if state.heat is not None:
        query["heat"] = state.heat
    return query


def cli_command(state: State) -> list[str]:
    """The ``fastopt landscape`` command drawing these paths as a figure (it starts from the function's
    standard start and with each optimizer's preset momentum and betas; the dashboard's ``--config``
    takes the JSON of :func:`to_config` whole)."""
    command = ["fastopt", "landscape", "--function", state.function, "--optimizers", ",".join(state.optimizers),
               "--steps", str(state.steps), "--noise", _number_text(state.noise), "--seed", str(state.seed)]
    rates = [f"{n}={_number_text(state.settings_of(n).lr)}" for n in state.optimizers if not is_second_order(n)]
    return command + (["--lr", ",".join(rates)] if rates else [])


def to_config(state: State) -> dict:
    """The JSON configuration of ``state``: the query's fields, plus the equivalent ``fastopt landscape``
    command; ``fastopt dashboard --config FILE`` opens it."""
    return {"query": to_query(state), "command": cli_command(state)}


def from_config(text: str) -> tuple[State, list[str]]:
    """The state in an exported JSON configuration (:func:`to_config`), with :func:`parse`'s messages.

    Raises
    ------
    ValueError
        If ``text`` is not JSON holding a ``query`` object.
    """
    try:
        config = json.loads(text)
    except json.JSONDecodeError as e:
        raise ValueError(f"config: not JSON ({e})") from None
    if not isinstance(config, dict) or not isinstance(config.get("query"), dict):
        raise ValueError("config: expected a JSON object with a \"query\" object, as the dashboard's export writes")
    return parse(config["query"])
